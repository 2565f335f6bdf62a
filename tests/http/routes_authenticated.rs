//! The route sweeps again in `authenticated` mode: every route without credentials is a 401;
//! a person who is a member of one company, and an agent of it, find nothing of another
//! company (404, or 403 for an agent on board-only routes); a revoked agent key is a 401.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::auth::{AUTHENTICATED, Browser};
use crate::common::*;
use crate::routes_table::{Access, Fixture, ROUTES, fill, method, placeholders};

/// An authenticated server whose helpers act as its first admin (through a board API key),
/// with the two-company fixture made by that admin.
async fn admin_server() -> Option<(TestServer, Fixture)> {
    let mut s = match TestServer::start_env(AUTHENTICATED).await {
        Some(s) => s,
        None => return None,
    };
    let key = {
        let mut admin = crate::access::first_admin(&s).await;
        board_key(&mut admin, "sweep admin").await
    };
    s.board_token = Some(key);
    let f = Fixture::new(&s).await;
    Some((s, f))
}

pub(crate) async fn board_key(person: &mut Browser<'_>, name: &str) -> String {
    let (st, _, key) = person
        .send(Method::POST, "/board-api-keys", Some(json!({"name": name})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{key}");
    key["token"].as_str().unwrap().to_string()
}

/// A request with exactly these credentials (none: no Authorization, no cookie).
async fn raw(
    s: &TestServer,
    m: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = s.client.request(method(m), format!("{}{path}", s.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn body_of(
    template: Option<&str>,
    ids: &std::collections::HashMap<&'static str, String>,
) -> Option<Value> {
    template.map(|t| serde_json::from_str(&fill(t, ids)).expect("a JSON body template"))
}

#[tokio::test]
async fn every_route_needs_credentials() {
    let Some((s, f)) = admin_server().await else {
        return;
    };
    let mut checked = 0;
    for route in ROUTES {
        if matches!(route.access, Access::Public | Access::Session) {
            continue;
        }
        let path = fill(route.path, &f.ids);
        let body = body_of(route.body, &f.ids);
        let (st, e) = raw(&s, route.method, &path, None, body).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{} {path}: {e}", route.method);
        assert_error(st, &e, StatusCode::UNAUTHORIZED);
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} routes checked");
    // Nothing changed on the way.
    let (st, c) = s.get(&format!("/companies/{}", f.ids["c"])).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "active");
    let (_, i) = s.get(&format!("/issues/{}", f.ids["i"])).await;
    assert_eq!(i["title"], "Work");
}

#[tokio::test]
async fn a_member_and_an_agent_of_one_company_find_nothing_of_another() {
    let Some((s, f)) = admin_server().await else {
        return;
    };
    // Dana joins Alpha as an operator, through an invite.
    let (st, invite) = s
        .post(
            &format!("/companies/{}/invites", f.ids["c"]),
            json!({"humanRole": "operator"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{invite}");
    let mut dana = Browser::new(&s);
    dana.sign_up("dana@example.com", "Dana").await;
    let (st, _, joined) = dana
        .send(
            Method::POST,
            &format!("/invites/{}/accept", invite["token"].as_str().unwrap()),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{joined}");
    let dana_key = board_key(&mut dana, "dana").await;

    // She sees her company only.
    let (st, list) = raw(&s, "GET", "/companies", Some(&dana_key), None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alpha Sweep"]);

    // Routes naming something a company owns (invites, claims, keys and CLI challenges belong
    // to people or the instance, and answer 404 to every stranger anyway).
    let owned = ["c", "a", "g", "p", "i", "k", "cm", "mem", "sec"];
    let mut checked = 0;
    for route in ROUTES {
        if !placeholders(route.path).iter().any(|p| owned.contains(p)) {
            continue;
        }
        let path = fill(route.path, &f.other);
        let body = body_of(route.body, &f.ids);
        // A person: every other company's object is missing, whatever the route.
        let (st, e) = raw(&s, route.method, &path, Some(&dana_key), body.clone()).await;
        assert_error(st, &e, StatusCode::NOT_FOUND);
        assert!(
            !e.to_string().contains("Beta Sweep"),
            "{} {path} leaked the other company: {e}",
            route.method
        );
        // An agent: the same, but board-only routes stop earlier with a 403.
        let (st, e) = raw(&s, route.method, &path, Some(&f.token), body).await;
        let expected = if route.access == Access::Board {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        };
        assert_error(st, &e, expected);
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} routes checked");
    // Beta is untouched.
    let (_, i) = s.get(&format!("/issues/{}", f.other["i"])).await;
    assert_eq!(i["title"], "Work");
    assert_eq!(i["status"], "todo");
    let (_, c) = s.get(&format!("/companies/{}", f.other["c"])).await;
    assert_eq!(c["status"], "active");
}

#[tokio::test]
async fn a_revoked_agent_key_is_refused() {
    let Some((s, f)) = admin_server().await else {
        return;
    };
    let (st, me) = raw(&s, "GET", "/agents/me", Some(&f.token), None).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/agents/{}/keys/{}", f.ids["a"], f.ids["k"]),
            None,
            None,
        )
        .await;
    assert!(st.is_success(), "{st}");
    for (m, path) in [
        ("GET", "/agents/me".to_string()),
        ("GET", format!("/issues/{}", f.ids["i"])),
        ("POST", format!("/issues/{}/comments", f.ids["i"])),
    ] {
        let (st, e) = raw(&s, m, &path, Some(&f.token), Some(json!({"body": "x"}))).await;
        assert_error(st, &e, StatusCode::UNAUTHORIZED);
    }
}

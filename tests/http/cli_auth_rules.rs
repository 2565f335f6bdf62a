//! CLI sign-in challenges: who may approve (a browser session, not a key; admin access only by
//! an instance admin), expiry, bad requests, and the rate limit on asking.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::access::first_admin;
use crate::auth::{AUTHENTICATED, Browser, auth_server};
use crate::cli_auth::{approve, challenge, field, poll};
use crate::common::*;

/// Moves a challenge's expiry into the past, behind the server's back.
async fn expire(s: &TestServer, id: &str) {
    match s.database_url() {
        Some(url) => {
            use sqlx::{Connection, Executor};
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let sql = format!(
                "UPDATE cli_auth_challenges SET expires_at = now() - interval '1 minute' WHERE id = '{id}'"
            );
            conn.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
            let _ = conn.close().await;
        }
        None => {
            let file = s.home.join("instances/default/db/paperclip.db");
            let conn = rusqlite::Connection::open(file).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .unwrap();
            let n = conn
                .execute(
                    "UPDATE cli_auth_challenges SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE id = ?1",
                    [id],
                )
                .unwrap();
            assert_eq!(n, 1);
        }
    }
}

#[tokio::test]
async fn only_a_signed_in_person_approves_and_admin_access_needs_an_admin() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let (_, _, company) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Acme"})))
        .await;
    let (st, _, key) = admin
        .send(Method::POST, "/board-api-keys", Some(json!({"name": "ci"})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{key}");
    let c = challenge(
        &s,
        json!({"command": "paperclip auth login", "requestedCompanyId": company["id"]}),
    )
    .await;
    // The requested company shows to someone who may see it, never to a stranger.
    let p = poll(&s, &c).await;
    assert!(p["requestedCompanyId"].is_null(), "{p}");
    assert!(p["requestedCompanyName"].is_null(), "{p}");
    let (st, _, p) = admin
        .send(
            Method::GET,
            &format!(
                "/cli-auth/challenges/{}?token={}",
                field(&c, "id"),
                field(&c, "token")
            ),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["requestedCompanyId"], company["id"]);
    assert_eq!(p["requestedCompanyName"], "Acme");

    // A board API key cannot approve another one, nor can a session without its Origin.
    let path = format!("/cli-auth/challenges/{}/approve", field(&c, "id"));
    let body = json!({"token": field(&c, "token")});
    let (st, e) = s
        .call(
            Method::POST,
            &path,
            Some(field(&key, "token")),
            Some(body.clone()),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    admin.origin = None;
    let (st, _, e) = admin.send(Method::POST, &path, Some(body)).await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    admin.origin = Some(s.base.trim_end_matches("/api").to_string());
    assert_eq!(poll(&s, &c).await["status"], "pending");

    // A person without the admin role approves for themself, but not admin access.
    let mut bob = Browser::new(&s);
    bob.sign_up("bob@example.com", "Bob").await;
    let (st, ok) = approve(&mut bob, &c).await;
    assert_eq!(st, StatusCode::OK, "{ok}");
    let (_, me) = s
        .call(
            Method::GET,
            "/cli-auth/me",
            Some(field(&c, "boardApiToken")),
            None,
        )
        .await;
    assert_eq!(me["user"]["email"], "bob@example.com");
    assert_eq!(me["isInstanceAdmin"], false);

    let c = challenge(
        &s,
        json!({"command": "paperclip auth login --instance-admin", "clientName": "ops",
            "requestedAccess": "instance_admin_required"}),
    )
    .await;
    let path = format!(
        "/cli-auth/challenges/{}?token={}",
        field(&c, "id"),
        field(&c, "token")
    );
    let (_, _, page) = bob.send(Method::GET, &path, None).await;
    assert_eq!(page["canApprove"], false, "{page}");
    assert_eq!(page["requiresSignIn"], false);
    let (st, e) = approve(&mut bob, &c).await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    assert_eq!(e["error"], "Instance admin required");
    assert_eq!(poll(&s, &c).await["status"], "pending");
    let (st, ok) = approve(&mut admin, &c).await;
    assert_eq!(ok["approved"], true, "{st} {ok}");
    let (_, _, keys) = admin.send(Method::GET, "/board-api-keys", None).await;
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "ops (instance admin)"),
        "{keys}"
    );
}

#[tokio::test]
async fn an_expired_challenge_is_not_approved_and_bad_requests_are_400() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let c = challenge(&s, json!({"command": "paperclip auth login"})).await;
    expire(&s, field(&c, "id")).await;
    assert_eq!(poll(&s, &c).await["status"], "expired");
    let (st, v) = approve(&mut admin, &c).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["approved"], false);
    assert_eq!(v["status"], "expired");
    assert!(v["keyId"].is_null());
    let (_, v) = s
        .post(
            &format!("/cli-auth/challenges/{}/cancel", field(&c, "id")),
            json!({"token": field(&c, "token")}),
        )
        .await;
    assert_eq!(v, json!({"status": "expired", "cancelled": false}));
    let (st, _) = s
        .call(
            Method::GET,
            "/cli-auth/me",
            Some(field(&c, "boardApiToken")),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // An approved challenge reads expired after its ten minutes; the key keeps working.
    let c = challenge(&s, json!({"command": "paperclip auth login"})).await;
    let (_, ok) = approve(&mut admin, &c).await;
    assert_eq!(ok["approved"], true, "{ok}");
    expire(&s, field(&c, "id")).await;
    assert_eq!(poll(&s, &c).await["status"], "expired");
    let (st, _) = s
        .call(
            Method::GET,
            "/cli-auth/me",
            Some(field(&c, "boardApiToken")),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    for (body, field_name) in [
        (json!({"command": ""}), "command"),
        (json!({"command": "x".repeat(241)}), "command"),
        (
            json!({"command": "c", "clientName": "n".repeat(121)}),
            "clientName",
        ),
        (
            json!({"command": "c", "requestedAccess": "root"}),
            "requestedAccess",
        ),
        (
            json!({"command": "c", "requestedCompanyId": "acme"}),
            "requestedCompanyId",
        ),
    ] {
        let (st, e) = s.post("/cli-auth/challenges", body.clone()).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field_name, "{body}: {e}");
    }
    // An unknown company is dropped, not refused: no answer tells which company ids exist.
    let (st, c) = s
        .post(
            "/cli-auth/challenges",
            json!({"command": "c", "requestedCompanyId": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    assert!(poll(&s, &c).await["requestedCompanyId"].is_null());
}

#[tokio::test]
async fn asking_for_challenges_is_rate_limited_per_client() {
    let s = auth_server!();
    let mut limited = None;
    for _ in 0..40 {
        let resp = s
            .client
            .post(format!("{}/cli-auth/challenges", s.base))
            .json(&json!({"command": "paperclip auth login"}))
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let resp = limited.expect("40 challenges a minute end in 429");
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["code"], "rate_limited");
}

//! Error sweeps over the whole route table (tests/http/routes_table.rs): a bad bearer, unknown
//! and malformed ids, another company's ids, board-only actions by an agent, bad bodies. Each
//! sweep also checks the refused request changed nothing where that could matter.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;
use crate::routes_table::{Access, Fixture, ROUTES, fill, method, placeholders, send_raw};

fn body_of(
    template: Option<&str>,
    ids: &std::collections::HashMap<&'static str, String>,
) -> Option<Value> {
    template.map(|t| serde_json::from_str(&fill(t, ids)).expect("table body is JSON"))
}

#[tokio::test]
async fn the_route_table_is_the_openapi_document() {
    let s = test_server!();
    let (st, doc) = s.get("/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    let norm = |p: &str| -> String {
        p.split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            documented.push(format!("{} {}", m.to_uppercase(), norm(path)));
        }
    }
    documented.sort();
    let mut table: Vec<String> = ROUTES
        .iter()
        .filter(|r| r.path != "/openapi.json")
        .map(|r| format!("{} /api{}", r.method, norm(r.path)))
        .collect();
    table.sort();
    assert_eq!(
        table, documented,
        "tests/http/routes_table.rs must list every route"
    );
}

#[tokio::test]
async fn every_route_answers_a_bad_bearer_with_401() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    for route in ROUTES {
        let path = fill(route.path, &f.ids);
        let body = body_of(route.body, &f.ids);
        for bad in ["paperclip_agent_notakey", "garbage"] {
            let (st, e) = s
                .call(method(route.method), &path, Some(bad), body.clone())
                .await;
            if route.access == Access::Public {
                assert_eq!(st, StatusCode::OK, "{} {path}: {e}", route.method);
                continue;
            }
            if route.access == Access::Session {
                assert_ne!(st, StatusCode::UNAUTHORIZED, "{} {path}: {e}", route.method);
                continue;
            }
            assert_error(st, &e, StatusCode::UNAUTHORIZED);
            assert_eq!(e["code"], "unauthorized", "{} {path}", route.method);
        }
    }
    // Nothing was done with the bad credentials.
    let (_, list) = s.get("/companies").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (_, a) = s.get(&format!("/agents/{}", f.ids["a"])).await;
    assert_not_paused_or_terminated(&a);
}

#[tokio::test]
async fn every_id_route_answers_404_for_unknown_and_malformed_ids() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    let mut checked = 0;
    for route in ROUTES {
        for hole in placeholders(route.path) {
            for wrong in [uuid::Uuid::new_v4().to_string(), "not-an-id".to_string()] {
                let mut ids = f.ids.clone();
                let name = [
                    "c", "a", "g", "p", "i", "k", "cm", "inv", "claim", "bk", "mem", "ch", "sec",
                    "run", "ap",
                ]
                .into_iter()
                .find(|n| *n == hole)
                .expect("known placeholder");
                ids.insert(name, wrong.clone());
                let path = fill(route.path, &ids);
                let body = body_of(route.body, &f.ids);
                let (st, e) = s.call(method(route.method), &path, None, body).await;
                assert_error(st, &e, StatusCode::NOT_FOUND);
                assert_eq!(e["code"], "not_found", "{} {path}: {e}", route.method);
                checked += 1;
            }
        }
    }
    assert!(checked >= 70, "only {checked} id checks");
    // Nothing was deleted or changed on the way.
    let (st, _) = s.get(&format!("/companies/{}", f.ids["c"])).await;
    assert_eq!(st, StatusCode::OK);
    let (_, i) = s.get(&format!("/issues/{}", f.ids["i"])).await;
    assert_eq!(i["title"], "Work");
}

#[tokio::test]
async fn an_agent_gets_404_for_another_companys_ids() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    for route in ROUTES {
        if placeholders(route.path).is_empty() {
            continue;
        }
        let path = fill(route.path, &f.other);
        // The body names the caller's own agent: only the path points elsewhere.
        let body = body_of(route.body, &f.ids);
        let (st, e) = s
            .call(method(route.method), &path, Some(&f.token), body)
            .await;
        let expected = if route.access == Access::Board {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        };
        assert_error(st, &e, expected);
        assert!(
            !e.to_string().contains("Beta Sweep"),
            "{} {path} leaked the other company: {e}",
            route.method
        );
    }
    let (st, c) = s.get(&format!("/companies/{}", f.other["c"])).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(c["status"], "active");
    let (_, i) = s.get(&format!("/issues/{}", f.other["i"])).await;
    assert_eq!(i["title"], "Work");
    assert_eq!(i["status"], "todo");
    let (_, goals) = s.get(&format!("/companies/{}/goals", f.other["c"])).await;
    assert_eq!(goals.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn board_only_actions_are_403_for_an_agent() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    let board_routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.access == Access::Board)
        .collect();
    assert_eq!(board_routes.len(), 25);
    for route in board_routes {
        let path = fill(route.path, &f.ids);
        let body = body_of(route.body, &f.ids);
        let (st, e) = s
            .call(method(route.method), &path, Some(&f.token), body)
            .await;
        assert_error(st, &e, StatusCode::FORBIDDEN);
        assert_eq!(e["code"], "forbidden", "{} {path}", route.method);
    }
    // Company settings and the lives of other agents are the board's, too.
    let c = &f.ids["c"];
    let a = &f.ids["a"];
    let a2 = &f.ids["a2"];
    let i = &f.ids["i"];
    let cases: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            format!("/companies/{c}"),
            Some(serde_json::json!({"name": "Mine now"})),
        ),
        ("POST", format!("/companies/{c}/archive"), None),
        ("DELETE", format!("/companies/{c}"), None),
        (
            "POST",
            format!("/companies/{c}/agents"),
            Some(serde_json::json!({"name": "Clone"})),
        ),
        (
            "PATCH",
            format!("/agents/{a2}"),
            Some(serde_json::json!({"title": "minion"})),
        ),
        (
            "PATCH",
            format!("/agents/{a}"),
            Some(serde_json::json!({"budgetMonthlyCents": 1})),
        ),
        (
            "PATCH",
            format!("/agents/{a}"),
            Some(serde_json::json!({"permissions": {"canCreateAgents": true}})),
        ),
        (
            "POST",
            format!("/issues/{i}/checkout"),
            Some(serde_json::json!({"agentId": a2, "expectedStatuses": ["todo"]})),
        ),
    ];
    for (m, path, body) in cases {
        let (st, e) = s.call(method(m), &path, Some(&f.token), body).await;
        assert_error(st, &e, StatusCode::FORBIDDEN);
        assert_eq!(e["code"], "forbidden", "{m} {path}");
    }
    let (_, company) = s.get(&format!("/companies/{c}")).await;
    assert_eq!(company["name"], "Alpha Sweep");
    assert_eq!(company["status"], "active");
    let (_, me) = s.get(&format!("/agents/{a}")).await;
    assert_not_paused_or_terminated(&me);
    assert_eq!(me["budgetMonthlyCents"], 0);
    assert_eq!(me["permissions"], serde_json::json!({}));
    let (_, keys) = s.get(&format!("/agents/{a}/keys")).await;
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert!(keys[0]["revokedAt"].is_null());
    let (_, agents) = s.get(&format!("/companies/{c}/agents")).await;
    assert_eq!(agents.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_board_gets_401_on_the_agents_own_routes() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    for route in ROUTES.iter().filter(|r| r.access == Access::AgentSelf) {
        let (st, e) = s.call(method(route.method), route.path, None, None).await;
        assert_error(st, &e, StatusCode::UNAUTHORIZED);
        let (st, ok) = s
            .call(method(route.method), route.path, Some(&f.token), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{} {}: {ok}", route.method, route.path);
    }
}

#[tokio::test]
async fn every_body_route_rejects_bad_json_wrong_types_and_missing_fields() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| r.body.is_some()) {
        let path = fill(route.path, &f.ids);
        for raw in ["{bad", "[1,2]", "\"text\"", "{\"a\":1} {}"] {
            let (st, e) = send_raw(&s, route.method, &path, None, raw).await;
            assert_error(st, &e, StatusCode::BAD_REQUEST);
            checked += 1;
        }
        let (wrong, field) = route.wrong.expect("body routes name a wrong body");
        let (st, e) = send_raw(&s, route.method, &path, None, &fill(wrong, &f.ids)).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field, "{} {path}: {e}", route.method);
        assert!(e["error"].as_str().unwrap().contains(field), "{e}");
        if let Some(field) = route.required {
            let (st, e) = send_raw(&s, route.method, &path, None, "{}").await;
            assert_error(st, &e, StatusCode::BAD_REQUEST);
            assert_eq!(e["details"]["field"], field, "{} {path}: {e}", route.method);
        }
    }
    assert!(checked >= 50, "only {checked} body checks");
    let (_, i) = s.get(&format!("/issues/{}", f.ids["i"])).await;
    assert_eq!(i["title"], "Work");
    assert_eq!(i["priority"], "medium");
    let (_, list) = s.get("/companies").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_body_route_refuses_a_body_over_the_limit_with_413() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    let huge = format!(
        "{{\"name\":\"{}\"}}",
        "x".repeat(paperclip_shared::limits::BODY_MAX_BYTES + 1)
    );
    for route in ROUTES.iter().filter(|r| r.body.is_some()) {
        let path = fill(route.path, &f.ids);
        let (st, e) = send_raw(&s, route.method, &path, None, &huge).await;
        assert_error(st, &e, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e["code"], "body_too_large", "{} {path}", route.method);
    }
    let (_, list) = s.get("/companies").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_route_with_a_caller_refuses_a_malformed_run_id_with_400() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    for route in ROUTES
        .iter()
        .filter(|r| !matches!(r.access, Access::Public | Access::Session))
    {
        let path = fill(route.path, &f.ids);
        let mut req = s
            .client
            .request(method(route.method), format!("{}{}", s.base, path))
            .header("x-paperclip-run-id", "run-42");
        if route.access == Access::AgentSelf {
            req = req.bearer_auth(&f.token);
        }
        if let Some(body) = body_of(route.body, &f.ids) {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let st = resp.status();
        let e: Value = resp.json().await.unwrap();
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(
            e["details"]["field"], "X-Paperclip-Run-Id",
            "{} {path}",
            route.method
        );
    }
    let (st, _) = s.get(&format!("/companies/{}", f.ids["c"])).await;
    assert_eq!(st, StatusCode::OK);
}

/// The sweeps wake the agent (its runs come and go), but nothing they send may pause or
/// terminate it.
fn assert_not_paused_or_terminated(agent: &serde_json::Value) {
    assert!(
        ["idle", "running", "error"].contains(&agent["status"].as_str().unwrap_or("")),
        "neither paused nor terminated: {agent}"
    );
}

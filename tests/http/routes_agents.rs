//! Agents, keys, the org tree and the agent's own views: each route's success with its fields,
//! and the rule errors (409 terminated, 422 references) the sweeps cannot know about.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn create_get_patch_answer_their_fields() {
    let s = test_server!();
    let c = s.company("Fields").await;
    let (st, a) = s
        .post(&format!("/companies/{c}/agents"), json!({"name": "Plain"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert_eq!(a["companyId"], c.as_str());
    assert_eq!(a["role"], "general");
    assert_eq!(a["status"], "idle");
    assert_eq!(a["adapterType"], "process");
    assert_eq!(a["adapterConfig"], json!({}));
    assert!(a["reportsTo"].is_null());
    let id = a["id"].as_str().unwrap();
    let (st, got) = s.get(&format!("/agents/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got["name"], "Plain");
    assert_eq!(got["chainOfCommand"], json!([]));

    let boss = s.agent(&c, "Boss", None).await;
    let (st, up) = s
        .patch(
            &format!("/agents/{id}"),
            json!({"title": "Lead", "role": "cto", "reportsTo": boss, "capabilities": "rust",
                   "runtimeConfig": {"heartbeat": {"enabled": true, "intervalSec": 60}},
                   "budgetMonthlyCents": 500}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{up}");
    assert_eq!(up["title"], "Lead");
    assert_eq!(up["role"], "cto");
    assert_eq!(up["reportsTo"], boss.as_str());
    assert_eq!(up["capabilities"], "rust");
    assert_eq!(up["runtimeConfig"]["heartbeat"]["intervalSec"], 60);
    assert_eq!(up["budgetMonthlyCents"], 500);
    let (_, got) = s.get(&format!("/agents/{id}")).await;
    assert_eq!(got["chainOfCommand"][0]["id"], boss.as_str());
    let (st, e) = s.patch(&format!("/agents/{id}"), json!({"name": ""})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "name");
    let (st, e) = s
        .patch(&format!("/agents/{id}"), json!({"budgetMonthlyCents": -5}))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "budgetMonthlyCents");
    let (st, e) = s
        .patch(
            &format!("/agents/{id}"),
            json!({"adapterType": "telepathy"}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "unknown_adapter_type");
    let (st, e) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Lost", "reportsTo": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);

    // An agent may change itself (not its budget: see routes_sweep.rs).
    let t = s.key(id).await;
    let (st, me) = s
        .call(
            Method::PATCH,
            &format!("/agents/{id}"),
            Some(&t),
            Some(json!({"title": "Self-made"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["title"], "Self-made");
}

#[tokio::test]
async fn a_ceo_agent_may_hire_and_an_engineer_may_not() {
    let s = test_server!();
    let c = s.company("Hiring").await;
    let (_, ceo) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Chief", "role": "ceo"}),
        )
        .await;
    let ceo = ceo["id"].as_str().unwrap().to_string();
    let t = s.key(&ceo).await;
    let (st, hire) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/agents"),
            Some(&t),
            Some(json!({"name": "Hire", "reportsTo": ceo})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{hire}");
    assert_eq!(hire["reportsTo"], ceo.as_str());
    let hire_t = s.key(hire["id"].as_str().unwrap()).await;
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/agents"),
            Some(&hire_t),
            Some(json!({"name": "Nope"})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (_, list) = s.get(&format!("/companies/{c}/agents")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn lifecycle_answers_and_terminated_is_409_everywhere() {
    let s = test_server!();
    let c = s.company("Life").await;
    let a = s.agent(&c, "Mortal", None).await;
    let (st, p) = s
        .post(
            &format!("/agents/{a}/pause"),
            json!({"reason": "budget review"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(p["status"], "paused");
    assert_eq!(p["pauseReason"], "budget review");
    assert!(p["pausedAt"].is_string());
    let (st, r) = s
        .call(Method::POST, &format!("/agents/{a}/resume"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["status"], "idle");
    assert!(r["pauseReason"].is_null() && r["pausedAt"].is_null());
    let (st, e) = s
        .post(
            &format!("/agents/{a}/pause"),
            json!({"reason": "r".repeat(1001)}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "reason");
    let (st, t) = s
        .call(Method::POST, &format!("/agents/{a}/terminate"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t["status"], "terminated");
    for (m, path, body) in [
        (Method::POST, format!("/agents/{a}/terminate"), None),
        (Method::POST, format!("/agents/{a}/pause"), Some(json!({}))),
        (Method::POST, format!("/agents/{a}/resume"), None),
        (
            Method::PATCH,
            format!("/agents/{a}"),
            Some(json!({"title": "ghost"})),
        ),
        (Method::POST, format!("/agents/{a}/keys"), Some(json!({}))),
        (
            Method::POST,
            format!("/companies/{c}/issues"),
            Some(json!({"title": "x", "assigneeAgentId": a})),
        ),
    ] {
        let (st, e) = s.call(m.clone(), &path, None, body).await;
        assert_error(st, &e, StatusCode::CONFLICT);
        assert_eq!(e["code"], "agent_terminated", "{m} {path}: {e}");
    }
    let (_, got) = s.get(&format!("/agents/{a}")).await;
    assert_eq!(got["status"], "terminated");
    assert!(got["title"].is_null());
}

#[tokio::test]
async fn keys_list_create_and_revoke_answer_their_fields() {
    let s = test_server!();
    let c = s.company("Keyring").await;
    let a = s.agent(&c, "Holder", None).await;
    let b = s.agent(&c, "Other", None).await;
    let (st, k) = s.post(&format!("/agents/{a}/keys"), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    assert_eq!(k["name"], "default");
    assert!(k["token"].as_str().unwrap().starts_with("paperclip_agent_"));
    assert!(k["id"].is_string() && k["createdAt"].is_string());
    let token = k["token"].as_str().unwrap().to_string();
    let (st, me) = s.call(Method::GET, "/agents/me", Some(&token), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["id"], a.as_str());
    let (st, e) = s
        .post(&format!("/agents/{a}/keys"), json!({"name": " "}))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "name");
    let (st, keys) = s.get(&format!("/agents/{a}/keys")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["id"], k["id"]);
    assert_eq!(keys[0]["agentId"], a.as_str());
    assert!(keys[0].get("token").is_none());
    let kid = k["id"].as_str().unwrap();
    // The key of `a` is not a key of `b`.
    let (st, e) = s
        .call(
            Method::DELETE,
            &format!("/agents/{b}/keys/{kid}"),
            None,
            None,
        )
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (st, ok) = s
        .call(
            Method::DELETE,
            &format!("/agents/{a}/keys/{kid}"),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ok, json!({"ok": true}));
    let (_, keys) = s.get(&format!("/agents/{a}/keys")).await;
    assert!(keys[0]["revokedAt"].is_string(), "{keys}");
    let (st, e) = s.call(Method::GET, "/agents/me", Some(&token), None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn org_me_and_inbox_lite_answer_their_fields() {
    let s = test_server!();
    let c = s.company("Orgs").await;
    let ceo = s.agent(&c, "Ceo", None).await;
    let dev = s.agent(&c, "Dev", Some(&ceo)).await;
    let gone = s.agent(&c, "Gone", Some(&ceo)).await;
    s.call(
        Method::POST,
        &format!("/agents/{gone}/terminate"),
        None,
        None,
    )
    .await;
    let (st, org) = s.get(&format!("/companies/{c}/org")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(org.as_array().unwrap().len(), 1, "{org}");
    assert_eq!(org[0]["name"], "Ceo");
    assert_eq!(org[0]["status"], "idle");
    let reports: Vec<&str> = org[0]["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(reports, vec!["Dev"], "terminated agents leave the tree");

    let t = s.key(&dev).await;
    let (st, me) = s.call(Method::GET, "/agents/me", Some(&t), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["id"], dev.as_str());
    assert_eq!(me["companyId"], c.as_str());
    assert_eq!(
        me["chainOfCommand"],
        json!([{"id": ceo, "name": "Ceo", "role": "engineer", "title": null}])
    );

    let blocker = s.issue(&c, json!({"title": "First"})).await;
    let todo = s
        .issue(&c, json!({"title": "Mine", "assigneeAgentId": dev, "priority": "high", "blockedByIssueIds": [blocker["id"]]}))
        .await;
    s.issue(
        &c,
        json!({"title": "Finished", "assigneeAgentId": dev, "status": "done"}),
    )
    .await;
    s.issue(&c, json!({"title": "Not mine", "assigneeAgentId": ceo}))
        .await;
    let (st, inbox) = s
        .call(Method::GET, "/agents/me/inbox-lite", Some(&t), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let items = inbox.as_array().unwrap();
    assert_eq!(items.len(), 1, "{inbox}");
    assert_eq!(items[0]["id"], todo["id"]);
    assert_eq!(items[0]["identifier"], todo["identifier"]);
    assert_eq!(items[0]["status"], "todo");
    assert_eq!(items[0]["priority"], "high");
    assert_eq!(items[0]["unresolvedBlockerCount"], 1);
    assert_eq!(
        items[0]["unresolvedBlockerIssueIds"],
        json!([blocker["id"]])
    );
    assert!(items[0]["activeRun"].is_null());
}

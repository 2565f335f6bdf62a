use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn org_tree_is_strict_and_cycles_are_rejected() {
    let s = test_server!();
    let c = s.company("Initech").await;
    let ceo = s.agent(&c, "Ceo", None).await;
    let cto = s.agent(&c, "Cto", Some(&ceo)).await;
    let dev = s.agent(&c, "Dev", Some(&cto)).await;
    let (st, e) = s
        .patch(&format!("/agents/{ceo}"), json!({"reportsTo": dev}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "org_cycle");
    let (st, e) = s
        .patch(&format!("/agents/{ceo}"), json!({"reportsTo": ceo}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let other = s.company("Other").await;
    let stranger = s.agent(&other, "Stranger", None).await;
    let (st, e) = s
        .patch(&format!("/agents/{dev}"), json!({"reportsTo": stranger}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, org) = s.get(&format!("/companies/{c}/org")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(org.as_array().unwrap().len(), 1);
    assert_eq!(org[0]["id"], ceo.as_str());
    assert_eq!(org[0]["reports"][0]["reports"][0]["id"], dev.as_str());
    let (st, got) = s.get(&format!("/agents/{dev}")).await;
    assert_eq!(st, StatusCode::OK);
    let chain: Vec<&str> = got["chainOfCommand"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(chain, vec![cto.as_str(), ceo.as_str()]);
    let (st, e) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "X", "adapterType": "quantum"}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "unknown_adapter_type");
    let (st, e) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "X", "role": "wizard"}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lifecycle_terminated_is_final_and_list_omits_it() {
    let s = test_server!();
    let c = s.company("Hooli").await;
    let a = s.agent(&c, "Gavin", None).await;
    let (st, p) = s.post(&format!("/agents/{a}/pause"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(p["status"], "paused");
    assert_eq!(p["pauseReason"], "manual");
    let (st, r) = s.post(&format!("/agents/{a}/resume"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["status"], "idle");
    let token = s.key(&a).await;
    let (st, t) = s.post(&format!("/agents/{a}/terminate"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t["status"], "terminated");
    let (st, e) = s.post(&format!("/agents/{a}/resume"), json!({})).await;
    assert_error(st, &e, StatusCode::CONFLICT);
    let (_, list) = s.get(&format!("/companies/{c}/agents")).await;
    assert!(list.as_array().unwrap().is_empty());
    let (st, e) = s.call(Method::GET, "/agents/me", Some(&token), None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn approval_required_companies_refuse_direct_creates() {
    let s = test_server!();
    let (_, c) = s
        .post(
            "/companies",
            json!({"name": "Strict", "requireBoardApprovalForNewAgents": true}),
        )
        .await;
    let cid = c["id"].as_str().unwrap();
    let (st, e) = s
        .post(&format!("/companies/{cid}/agents"), json!({"name": "A"}))
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert!(e["error"].as_str().unwrap().contains("agent-hires"));
}

#[tokio::test]
async fn keys_are_shown_once_revocable_and_bad_bearers_are_401() {
    let s = test_server!();
    let c = s.company("Keys Inc").await;
    let a = s.agent(&c, "Agent", None).await;
    let token = s.key(&a).await;
    assert!(token.starts_with("paperclip_agent_"));
    let (st, me) = s.call(Method::GET, "/agents/me", Some(&token), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["id"], a.as_str());
    let (st, keys) = s.get(&format!("/agents/{a}/keys")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !keys.to_string().contains(&token),
        "a key list must never show the token"
    );
    assert!(keys[0].get("keyHash").is_none());
    let key_id = keys[0]["id"].as_str().unwrap();
    // An agent may not manage keys.
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/agents/{a}/keys"),
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/agents/{a}/keys/{key_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    for bad in [
        token.as_str(),
        "garbage",
        "paperclip_agent_0000",
        "pcp_deadbeef",
    ] {
        let (st, e) = s.call(Method::GET, "/companies", Some(bad), None).await;
        assert_error(st, &e, StatusCode::UNAUTHORIZED);
    }
    let resp = s
        .client
        .get(format!("{}/companies", s.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (st, e) = s.call(Method::GET, "/agents/me", None, None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn agents_see_only_their_company() {
    let s = test_server!();
    let c1 = s.company("One").await;
    let c2 = s.company("Two").await;
    let a1 = s.agent(&c1, "A1", None).await;
    let a2 = s.agent(&c2, "A2", None).await;
    let t1 = s.key(&a1).await;
    let i2 = s.issue(&c2, json!({"title": "secret work"})).await;
    let paths = [
        format!("/companies/{c2}"),
        format!("/companies/{c2}/issues"),
        format!("/companies/{c2}/agents"),
        format!("/agents/{a2}"),
        format!("/issues/{}", i2["id"].as_str().unwrap()),
        format!("/issues/{}", i2["identifier"].as_str().unwrap()),
        format!("/issues/{}/comments", i2["id"].as_str().unwrap()),
    ];
    for p in &paths {
        let (st, e) = s.call(Method::GET, p, Some(&t1), None).await;
        assert_error(st, &e, StatusCode::NOT_FOUND);
    }
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("/issues/{}", i2["id"].as_str().unwrap()),
            Some(&t1),
            Some(json!({"title": "mine"})),
        )
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (st, list) = s.call(Method::GET, "/companies", Some(&t1), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

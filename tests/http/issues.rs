use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn create_defaults_identifiers_and_idempotency() {
    let s = test_server!();
    let c = s.company("Acme").await;
    let a = s.agent(&c, "Dev", None).await;
    let i1 = s.issue(&c, json!({"title": "One"})).await;
    assert_eq!(i1["status"], "backlog");
    assert_eq!(i1["priority"], "medium");
    assert_eq!(i1["identifier"], "ACM-1");
    let i2 = s
        .issue(&c, json!({"title": "Two", "assigneeAgentId": a}))
        .await;
    assert_eq!(i2["status"], "todo");
    assert_eq!(i2["identifier"], "ACM-2");
    let (st, d1) = s
        .post(
            &format!("/companies/{c}/issues"),
            json!({"title": "Idem", "idempotencyKey": "k1"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, d2) = s
        .post(
            &format!("/companies/{c}/issues"),
            json!({"title": "Idem again", "idempotencyKey": "k1"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d2["deduplicated"], true);
    assert_eq!(d1["id"], d2["id"]);
    let (st, e) = s
        .post(
            &format!("/companies/{c}/issues"),
            json!({"title": "x", "status": "in_progress"}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, e) = s
        .post(
            &format!("/companies/{c}/issues"),
            json!({"title": "x", "assigneeAgentId": a, "assigneeUserId": "u"}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, e) = s
        .post(
            &format!("/companies/{c}/issues"),
            json!({"title": "x", "priority": "urgent"}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "priority", "{e}");
    let (st, e) = s
        .post(
            &format!("/companies/{c}/issues"),
            json!({"title": "x", "assigneeAgentId": "nope"}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    // Numbers never repeat, even after deletion of the company's other data.
    let (st, _) = s
        .call(Method::DELETE, &format!("/companies/{c}"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let c2 = s.company("Acme").await;
    let n = s.issue(&c2, json!({"title": "After"})).await;
    assert_eq!(
        n["identifier"], "ACM-1",
        "a new company gets its own counter"
    );
    let (st, list) = s
        .get(&format!(
            "/companies/{c2}/issues?status=backlog,todo&limit=10"
        ))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (st, e) = s.get(&format!("/companies/{c2}/issues?limit=5000")).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, e) = s.get(&format!("/companies/{c2}/issues?status=nope")).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);

    // The creation is in the activity log, with the identifier the store gave it.
    let (_, first) = s.get(&format!("/companies/{c2}/issues?limit=1")).await;
    let first = &first[0];
    let (_, log) = s
        .get(&format!(
            "/companies/{c2}/activity?entityType=issue&entityId={}",
            first["id"].as_str().unwrap()
        ))
        .await;
    let created: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "issue.created")
        .collect();
    assert_eq!(created.len(), 1, "{log}");
    assert_eq!(created[0]["details"]["identifier"], first["identifier"]);
}

#[tokio::test]
async fn twenty_concurrent_checkouts_have_exactly_one_winner() {
    let s = Arc::new(test_server!());
    let c = s.company("Race").await;
    let issue = s.issue(&c, json!({"title": "Contested"})).await;
    let id = issue["id"].as_str().unwrap().to_string();
    let mut agents = Vec::new();
    for n in 0..20 {
        let a = s.agent(&c, &format!("Racer {n}"), None).await;
        let t = s.key(&a).await;
        agents.push((a, t));
    }
    let mut tasks = Vec::new();
    for (a, t) in agents {
        let s = s.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"agentId": a, "expectedStatuses": ["backlog", "todo"]});
            s.call(
                Method::POST,
                &format!("/issues/{id}/checkout"),
                Some(&t),
                Some(body),
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], "checkout_conflict");
                assert_eq!(body["details"]["issueId"], id.as_str());
                assert!(body["details"]["assigneeAgentId"].is_string());
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 19));
    // Only the winner's checkout is in the activity log.
    let (_, log) = s
        .get(&format!(
            "/companies/{c}/activity?entityType=issue&entityId={id}"
        ))
        .await;
    let checkouts = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "issue.checked_out")
        .count();
    assert_eq!(checkouts, 1, "{log}");
}

#[tokio::test]
async fn blockers_status_rules_release_and_force_release() {
    let s = test_server!();
    let c = s.company("Rules").await;
    let a = s.agent(&c, "Dev", None).await;
    let t = s.key(&a).await;
    let blocker = s.issue(&c, json!({"title": "Blocker"})).await;
    let bid = blocker["id"].as_str().unwrap();
    let work = s
        .issue(
            &c,
            json!({"title": "Work", "assigneeAgentId": a, "blockedByIssueIds": [bid]}),
        )
        .await;
    let wid = work["id"].as_str().unwrap();
    let (st, e) = s
        .patch(
            &format!("/issues/{bid}"),
            json!({"blockedByIssueIds": [wid]}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "blocker_cycle");
    let (st, e) = s
        .patch(
            &format!("/issues/{wid}"),
            json!({"blockedByIssueIds": [wid]}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let run = uuid::Uuid::new_v4().to_string();
    let checkout = json!({"agentId": a, "expectedStatuses": ["todo"]});
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/issues/{wid}/checkout"),
            Some(&t),
            Some(checkout.clone()),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["details"]["unresolvedBlockerIssueIds"][0], bid);
    let (st, detail) = s.get(&format!("/issues/{wid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(detail["blockedBy"][0]["id"], bid);
    let (_, bdetail) = s.get(&format!("/issues/{bid}")).await;
    assert_eq!(bdetail["blocks"][0]["id"], wid);
    let (st, _) = s
        .patch(&format!("/issues/{bid}"), json!({"status": "done"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let resp = s
        .client
        .post(format!("{}/issues/{wid}/checkout", s.base))
        .bearer_auth(&t)
        .header("x-paperclip-run-id", &run)
        .json(&checkout)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let held: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(held["status"], "in_progress");
    assert_eq!(held["checkoutRunId"], run.as_str());
    // Idempotent for its holder.
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/issues/{wid}/checkout"),
            Some(&t),
            Some(checkout.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // Another agent may not check out as someone else.
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/issues/{wid}/checkout"),
            Some(&t),
            Some(json!({"agentId": uuid::Uuid::new_v4(), "expectedStatuses": ["todo"]})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, rel) = s
        .call(
            Method::POST,
            &format!("/issues/{wid}/release"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{rel}");
    assert_eq!(rel["status"], "todo");
    assert!(
        rel["assigneeAgentId"].is_null()
            && rel["checkoutRunId"].is_null()
            && rel["executionRunId"].is_null()
    );
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/issues/{wid}/release"),
            Some(&t),
            None,
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/issues/{wid}/checkout"),
            Some(&t),
            Some(checkout.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/issues/{wid}/admin/force-release"),
            Some(&t),
            None,
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, fr) = s
        .post(
            &format!("/issues/{wid}/admin/force-release?clearAssignee=true"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(fr["issue"]["checkoutRunId"].is_null() && fr["issue"]["executionLockedAt"].is_null());
    assert!(fr["issue"]["assigneeAgentId"].is_null());
    // in_progress needs an assignee; done is left only by reopening.
    let (st, e) = s
        .patch(&format!("/issues/{wid}"), json!({"status": "in_progress"}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/issues/{wid}"),
            Some(&t),
            Some(json!({"assigneeAgentId": a, "status": "done"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("/issues/{wid}"),
            Some(&t),
            Some(json!({"status": "todo"})),
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    let (st, re) = s
        .call(
            Method::PATCH,
            &format!("/issues/{wid}"),
            Some(&t),
            Some(json!({"status": "todo", "reopen": true})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(re["completedAt"].is_null());
    let (st, e) = s.patch(&format!("/issues/{wid}"), json!({})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, e) = s
        .patch(&format!("/issues/{wid}"), json!({"unknownOnly": 1}))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn comments_order_after_and_heartbeat_context() {
    let s = test_server!();
    let c = s.company("Talk").await;
    let parent = s.issue(&c, json!({"title": "Parent"})).await;
    let child = s
        .issue(&c, json!({"title": "Child", "parentId": parent["id"]}))
        .await;
    let cid = child["identifier"].as_str().unwrap();
    let mut ids = Vec::new();
    for n in 0..3 {
        let (st, cm) = s
            .post(
                &format!("/issues/{cid}/comments"),
                json!({"body": format!("c{n}")}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        ids.push(cm["id"].as_str().unwrap().to_string());
    }
    let (_, desc) = s.get(&format!("/issues/{cid}/comments")).await;
    assert_eq!(desc[0]["body"], "c2");
    let (_, asc) = s
        .get(&format!(
            "/issues/{cid}/comments?order=asc&after={}",
            ids[0]
        ))
        .await;
    let bodies: Vec<&str> = asc
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["c1", "c2"]);
    let (st, one) = s.get(&format!("/issues/{cid}/comments/{}", ids[1])).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one["body"], "c1");
    let (st, e) = s
        .post(&format!("/issues/{cid}/comments"), json!({"body": "  "}))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, ctx) = s
        .get(&format!(
            "/issues/{cid}/heartbeat-context?wakeCommentId={}",
            ids[2]
        ))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ctx["commentCursor"]["totalComments"], 3);
    assert_eq!(ctx["commentCursor"]["latestCommentId"], ids[2].as_str());
    assert_eq!(ctx["wakeComment"]["body"], "c2");
    assert_eq!(ctx["ancestors"][0]["id"], parent["id"]);
    let (_, detail) = s.get(&format!("/issues/{cid}")).await;
    assert_eq!(detail["ancestors"][0]["identifier"], parent["identifier"]);
    // PATCH with Prefer: return=minimal
    let resp = s
        .client
        .patch(format!("{}/issues/{cid}", s.base))
        .header("prefer", "return=minimal")
        .json(&json!({"priority": "high", "comment": "bump"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get("preference-applied").unwrap(),
        "return=minimal"
    );
    let receipt: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(receipt["changes"]["priority"]["to"], "high");
    assert_eq!(receipt["comment"]["body"], "bump");
    assert!(receipt.get("title").is_none());
}

#[tokio::test]
async fn data_and_counters_survive_a_restart() {
    let s = test_server!();
    let c = s.company("Durable").await;
    for n in 0..3 {
        s.issue(&c, json!({"title": format!("i{n}")})).await;
    }
    let s = s.restart().await;
    let (st, list) = s.get(&format!("/companies/{c}/issues")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3);
    let next = s.issue(&c, json!({"title": "after restart"})).await;
    assert_eq!(next["identifier"], "DUR-4");
}

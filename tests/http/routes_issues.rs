//! Issues, checkout/release, comments and heartbeat context: each route's success with its
//! fields, and the rule errors (409/422, query 400s) the sweeps cannot know about.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn list_filters_pages_and_refuses_bad_queries() {
    let s = test_server!();
    let c = s.company("Lister").await;
    let a = s.agent(&c, "Dev", None).await;
    let (_, p) = s
        .post(&format!("/companies/{c}/projects"), json!({"name": "P"}))
        .await;
    let parent = s.issue(&c, json!({"title": "Parent"})).await;
    let mine = s
        .issue(
            &c,
            json!({"title": "Fix the login bug", "assigneeAgentId": a}),
        )
        .await;
    let child = s
        .issue(&c, json!({"title": "Child", "parentId": parent["id"], "projectId": p["id"], "status": "blocked"}))
        .await;
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list_url = format!("/companies/{c}/issues");
    let (st, all) = s.get(&list_url).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 3);
    for (q, expected) in [
        (format!("assigneeAgentId={a}"), &mine),
        (format!("projectId={}", p["id"].as_str().unwrap()), &child),
        (
            format!("parentId={}", parent["id"].as_str().unwrap()),
            &child,
        ),
        ("status=blocked".to_string(), &child),
        ("q=login".to_string(), &mine),
    ] {
        let (st, got) = s.get(&format!("{list_url}?{q}")).await;
        assert_eq!(st, StatusCode::OK, "{q}: {got}");
        assert_eq!(
            ids(&got),
            vec![expected["id"].as_str().unwrap().to_string()],
            "{q}"
        );
    }
    let (_, first) = s.get(&format!("{list_url}?limit=2")).await;
    let (_, rest) = s.get(&format!("{list_url}?limit=2&offset=2")).await;
    assert_eq!(first.as_array().unwrap().len(), 2);
    assert_eq!(rest.as_array().unwrap().len(), 1);
    let mut paged = ids(&first);
    paged.extend(ids(&rest));
    paged.sort();
    let mut every = ids(&all);
    every.sort();
    assert_eq!(paged, every);
    for (q, field) in [
        ("assigneeAgentId=someone", "assigneeAgentId"),
        ("projectId=1", "projectId"),
        ("parentId=x", "parentId"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("status=todo,sleeping", "status"),
    ] {
        let (st, e) = s.get(&format!("{list_url}?{q}")).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field, "{q}: {e}");
    }
}

#[tokio::test]
async fn create_and_get_answer_their_fields_and_reference_rules() {
    let s = test_server!();
    let c = s.company("Maker").await;
    let other = s.company("Elsewhere").await;
    let (_, goal) = s
        .post(&format!("/companies/{c}/goals"), json!({"title": "G"}))
        .await;
    let (_, p) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "P", "goalId": goal["id"]}),
        )
        .await;
    let foreign = s.issue(&other, json!({"title": "Theirs"})).await;
    let (_, foreign_p) = s
        .post(
            &format!("/companies/{other}/projects"),
            json!({"name": "FP"}),
        )
        .await;
    let parent = s.issue(&c, json!({"title": "Parent"})).await;
    let (st, i) = s
        .post(
            &format!("/companies/{c}/issues"),
            json!({"title": "Full", "description": "all fields", "priority": "critical", "projectId": p["id"],
                   "parentId": parent["id"], "billingCode": "B-1", "assigneeUserId": "local-board"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{i}");
    assert_eq!(i["status"], "todo", "a user assignee makes it todo");
    assert_eq!(i["priority"], "critical");
    assert_eq!(i["goalId"], goal["id"], "the project's goal");
    assert_eq!(i["billingCode"], "B-1");
    assert_eq!(i["createdByUserId"], "local-board");
    assert_eq!(i["requestDepth"], 1);
    assert!(i.get("deduplicated").is_none());
    let ident = i["identifier"].as_str().unwrap();
    let (st, d) = s.get(&format!("/issues/{}", ident.to_lowercase())).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["id"], i["id"]);
    assert_eq!(d["project"]["id"], p["id"]);
    assert_eq!(d["goal"]["id"], goal["id"]);
    assert_eq!(d["ancestors"][0]["id"], parent["id"]);
    assert_eq!(d["blockedBy"], json!([]));
    assert_eq!(d["blocks"], json!([]));
    let (st, e) = s.get("/issues/MAK-999").await;
    assert_error(st, &e, StatusCode::NOT_FOUND);

    for body in [
        json!({"title": "x", "parentId": foreign["id"]}),
        json!({"title": "x", "projectId": foreign_p["id"]}),
        json!({"title": "x", "blockedByIssueIds": [foreign["id"]]}),
        json!({"title": "x", "blockedByIssueIds": [uuid::Uuid::new_v4()]}),
        json!({"title": "x", "assigneeAgentId": uuid::Uuid::new_v4()}),
    ] {
        let (st, e) = s
            .post(&format!("/companies/{c}/issues"), body.clone())
            .await;
        assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["code"], "invalid_reference", "{body}: {e}");
    }
    for (body, field) in [
        (json!({"title": ""}), "title"),
        (json!({"title": "t".repeat(501)}), "title"),
        (json!({"title": "x", "status": "someday"}), "status"),
    ] {
        let (st, e) = s.post(&format!("/companies/{c}/issues"), body).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field, "{e}");
    }
    let (_, list) = s.get(&format!("/companies/{c}/issues")).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "no refused create left a row"
    );
}

#[tokio::test]
async fn patch_answers_changes_and_enforces_reference_rules() {
    let s = test_server!();
    let c = s.company("Patcher").await;
    let other = s.company("Elsewhere").await;
    let stranger = s.agent(&other, "Stranger", None).await;
    let a = s.agent(&c, "Dev", None).await;
    let i = s.issue(&c, json!({"title": "Old"})).await;
    let id = i["id"].as_str().unwrap();
    let (st, up) = s
        .patch(
            &format!("/issues/{id}"),
            json!({"title": "New", "assigneeAgentId": a, "status": "todo", "comment": "assigned"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{up}");
    assert_eq!(up["title"], "New");
    assert_eq!(up["changes"]["title"], json!({"from": "Old", "to": "New"}));
    assert_eq!(
        up["changes"]["status"],
        json!({"from": "backlog", "to": "todo"})
    );
    assert_eq!(up["comment"]["body"], "assigned");
    assert_eq!(up["comment"]["issueId"], id);
    let (_, comments) = s.get(&format!("/issues/{id}/comments")).await;
    assert_eq!(comments.as_array().unwrap().len(), 1);
    for body in [
        json!({"assigneeAgentId": stranger}),
        json!({"parentId": uuid::Uuid::new_v4()}),
    ] {
        let (st, e) = s.patch(&format!("/issues/{id}"), body).await;
        assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Both assignees in one body is a 422; one of them replaces the other.
    let (st, e) = s
        .patch(
            &format!("/issues/{id}"),
            json!({"assigneeUserId": "u1", "assigneeAgentId": a}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, swapped) = s
        .patch(&format!("/issues/{id}"), json!({"assigneeUserId": "u1"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(swapped["assigneeAgentId"].is_null());
    assert_eq!(swapped["assigneeUserId"], "u1");
    s.patch(&format!("/issues/{id}"), json!({"assigneeAgentId": a}))
        .await;
    // The board may leave `done` without `reopen`.
    s.patch(&format!("/issues/{id}"), json!({"status": "done"}))
        .await;
    let (st, back) = s
        .patch(&format!("/issues/{id}"), json!({"status": "todo"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{back}");
    assert_eq!(back["status"], "todo");
    assert!(back["completedAt"].is_null());
    let (_, now) = s.get(&format!("/issues/{id}")).await;
    assert_eq!(now["assigneeAgentId"], a.as_str());
}

#[tokio::test]
async fn checkout_and_release_outcomes() {
    let s = test_server!();
    let c = s.company("Checker").await;
    let other = s.company("Elsewhere").await;
    let stranger = s.agent(&other, "Stranger", None).await;
    let a = s.agent(&c, "Dev", None).await;
    let b = s.agent(&c, "Rival", None).await;
    let ta = s.key(&a).await;
    let tb = s.key(&b).await;
    let i = s.issue(&c, json!({"title": "Job", "status": "todo"})).await;
    let id = i["id"].as_str().unwrap();
    let checkout = |agent: &str, statuses: serde_json::Value| json!({"agentId": agent, "expectedStatuses": statuses});
    let path = format!("/issues/{id}/checkout");
    let (st, e) = s
        .call(
            Method::POST,
            &path,
            Some(&ta),
            Some(checkout(&a, json!([]))),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "expectedStatuses");
    let (st, e) = s
        .call(Method::POST, &path, Some(&ta), Some(json!({"agentId": a})))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "expectedStatuses");
    let (st, e) = s.post(&path, checkout(&stranger, json!(["todo"]))).await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "invalid_reference");
    let (st, e) = s
        .call(
            Method::POST,
            &path,
            Some(&ta),
            Some(checkout(&a, json!(["backlog"]))),
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert_eq!(e["code"], "checkout_conflict");
    assert_eq!(e["details"]["status"], "todo");
    assert!(e["details"]["assigneeAgentId"].is_null());

    let (st, held) = s
        .call(
            Method::POST,
            &path,
            Some(&ta),
            Some(checkout(&a, json!(["todo"]))),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{held}");
    assert_eq!(held["status"], "in_progress");
    assert_eq!(held["assigneeAgentId"], a.as_str());
    assert!(held["startedAt"].is_string());
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/issues/{id}/release"),
            Some(&tb),
            None,
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert_eq!(e["code"], "not_assignee");
    let (_, still) = s.get(&format!("/issues/{id}")).await;
    assert_eq!(still["assigneeAgentId"], a.as_str());
    // The board may release anyone's issue.
    let (st, rel) = s
        .call(Method::POST, &format!("/issues/{id}/release"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rel["status"], "todo");
    assert!(rel["assigneeAgentId"].is_null());

    // A terminated agent cannot take work, even through the board.
    s.call(Method::POST, &format!("/agents/{b}/terminate"), None, None)
        .await;
    let (st, e) = s.post(&path, checkout(&b, json!(["todo"]))).await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert_eq!(e["code"], "agent_inactive");
}

#[tokio::test]
async fn force_release_reports_the_previous_locks() {
    let s = test_server!();
    let c = s.company("Forcer").await;
    let a = s.agent(&c, "Dev", None).await;
    let t = s.key(&a).await;
    let i = s
        .issue(&c, json!({"title": "Stuck", "assigneeAgentId": a}))
        .await;
    let id = i["id"].as_str().unwrap();
    let run = uuid::Uuid::new_v4().to_string();
    let resp = s
        .client
        .post(format!("{}/issues/{id}/checkout", s.base))
        .bearer_auth(&t)
        .header("x-paperclip-run-id", &run)
        .json(&json!({"agentId": a, "expectedStatuses": ["todo"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (st, fr) = s
        .post(&format!("/issues/{id}/admin/force-release"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{fr}");
    assert_eq!(fr["previous"]["checkoutRunId"], run.as_str());
    assert!(fr["issue"]["checkoutRunId"].is_null());
    assert_eq!(
        fr["issue"]["assigneeAgentId"],
        a.as_str(),
        "kept without clearAssignee"
    );
    assert_eq!(fr["issue"]["status"], "in_progress");
    let (_, activity) = s
        .get(&format!(
            "/companies/{c}/activity?entityType=issue&entityId={id}"
        ))
        .await;
    assert_eq!(activity[0]["action"], "issue.admin_force_release");
    let (st, e) = s
        .post("/issues/FOR-99/admin/force-release", json!({}))
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (st, e) = s
        .get(&format!(
            "/issues/{id}/heartbeat-context?wakeCommentId=latest"
        ))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "wakeCommentId");
}

#[tokio::test]
async fn comments_read_write_and_bad_queries() {
    let s = test_server!();
    let c = s.company("Talker").await;
    let a = s.agent(&c, "Dev", None).await;
    let t = s.key(&a).await;
    let i = s
        .issue(&c, json!({"title": "Thread", "status": "done"}))
        .await;
    let j = s.issue(&c, json!({"title": "Other thread"})).await;
    let id = i["id"].as_str().unwrap();
    let (st, cm) = s
        .call(
            Method::POST,
            &format!("/issues/{id}/comments"),
            Some(&t),
            Some(json!({"body": "first"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{cm}");
    assert_eq!(cm["issueId"], id);
    assert_eq!(cm["authorAgentId"], a.as_str());
    assert!(cm["authorUserId"].is_null());
    assert_eq!(cm["body"], "first");
    let (_, still_done) = s.get(&format!("/issues/{id}")).await;
    assert_eq!(
        still_done["status"], "done",
        "a plain comment does not reopen"
    );
    let (st, again) = s
        .post(
            &format!("/issues/{id}/comments"),
            json!({"body": "second", "resume": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(again["authorUserId"], "local-board");
    let (_, reopened) = s.get(&format!("/issues/{id}")).await;
    assert_eq!(reopened["status"], "todo");
    let (st, e) = s
        .post(
            &format!("/issues/{id}/comments"),
            json!({"body": "x".repeat(100_001)}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "body");

    let (st, list) = s.get(&format!("/issues/{id}/comments?limit=1")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["body"], "second");
    let (_, after) = s
        .get(&format!(
            "/issues/{id}/comments?order=asc&afterCommentId={}",
            cm["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(after.as_array().unwrap().len(), 1);
    assert_eq!(after[0]["body"], "second");
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("after=first", "after"),
        ("afterCommentId=1", "afterCommentId"),
    ] {
        let (st, e) = s.get(&format!("/issues/{id}/comments?{q}")).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field, "{q}: {e}");
    }
    let cid = cm["id"].as_str().unwrap();
    let (st, one) = s
        .get(&format!(
            "/issues/{}/comments/{cid}",
            i["identifier"].as_str().unwrap()
        ))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one, cm);
    let (st, e) = s
        .get(&format!(
            "/issues/{}/comments/{cid}",
            j["id"].as_str().unwrap()
        ))
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    // heartbeat-context ignores a wake comment of another issue.
    let (st, ctx) = s
        .get(&format!(
            "/issues/{}/heartbeat-context?wakeCommentId={cid}",
            j["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(ctx["wakeComment"].is_null());
    assert_eq!(ctx["commentCursor"]["totalComments"], 0);
    assert!(ctx["commentCursor"]["latestCommentId"].is_null());
    assert_eq!(ctx["issue"]["id"], j["id"]);
}

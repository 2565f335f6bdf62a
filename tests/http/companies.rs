use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn health_answers_flat_fields_and_ignores_the_host_guard() {
    let s = test_server!();
    let (st, h) = s.get("/health").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["deploymentMode"], "local_trusted");
    assert_eq!(h["deployment"]["mode"], "local_trusted");
    assert_eq!(h["bootstrapStatus"], "ready");
    let resp = s
        .client
        .get(format!("{}/health", s.base))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = s
        .client
        .get(format!("{}/companies", s.base))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("paperclip allowed-hostname evil.example"),
        "{body}"
    );
}

#[tokio::test]
async fn company_lifecycle_prefix_goal_and_archive() {
    let s = test_server!();
    let (st, c) = s
        .post(
            "/companies",
            json!({"name": "Acme Notes", "goal": "Ship the best notes app", "extra": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    assert_eq!(c["issuePrefix"], "ACM");
    let id = c["id"].as_str().unwrap();
    let (_, c2) = s.post("/companies", json!({"name": "Acme Other"})).await;
    assert_eq!(c2["issuePrefix"], "ACMA");
    let (_, c3) = s.post("/companies", json!({"name": "Acme Third"})).await;
    assert_eq!(c3["issuePrefix"], "ACMAA");
    let (st, list) = s.get("/companies").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3);
    let (_, goals) = s.get(&format!("/companies/{id}/goals")).await;
    assert_eq!(goals[0]["title"], "Ship the best notes app");
    assert_eq!(goals[0]["level"], "company");
    let (st, up) = s
        .patch(
            &format!("/companies/{id}"),
            json!({"description": "notes", "budgetMonthlyCents": 5000}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(up["budgetMonthlyCents"], 5000);
    assert_eq!(up["issuePrefix"], "ACM");
    let (st, ar) = s.post(&format!("/companies/{id}/archive"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ar["status"], "archived");
    let (st, e) = s
        .patch(&format!("/companies/{id}"), json!({"status": "sleeping"}))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("status"), "{e}");
    let (st, e) = s
        .patch(
            &format!("/companies/{id}"),
            json!({"budgetMonthlyCents": -1}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, e) = s.post("/companies", json!({"name": ""})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, e) = s.post("/companies", json!({"name": "x".repeat(500)})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, e) = s.post("/companies", json!({"name": 42})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "name");
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/companies/{}", c3["id"].as_str().unwrap()),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s
        .get(&format!("/companies/{}", c3["id"].as_str().unwrap()))
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (st, e) = s.get("/companies/not-a-uuid").await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn malformed_json_is_a_400_never_a_500() {
    let s = test_server!();
    for body in [
        "{bad",
        "[1,2",
        "\"str\"",
        "{\"name\": \"a\"} trailing",
        "null",
    ] {
        let resp = s
            .client
            .post(format!("{}/companies", s.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_error(status, &v, StatusCode::BAD_REQUEST);
    }
    let (st, e) = s.get("/no/such/route").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(e["error"], "API route not found");
}

#[tokio::test]
async fn goals_and_projects_crud() {
    let s = test_server!();
    let c = s.company("Globex").await;
    let (st, g) = s
        .post(&format!("/companies/{c}/goals"), json!({"title": "Grow"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(g["level"], "task");
    assert_eq!(g["status"], "planned");
    let gid = g["id"].as_str().unwrap();
    let (st, child) = s
        .post(
            &format!("/companies/{c}/goals"),
            json!({"title": "Sub", "parentId": gid}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, e) = s
        .patch(&format!("/goals/{gid}"), json!({"parentId": child["id"]}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, g2) = s
        .patch(&format!("/goals/{gid}"), json!({"status": "active"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(g2["status"], "active");
    let (st, p) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "Web", "goalId": gid, "targetDate": "2027-01-31"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["status"], "backlog");
    let pid = p["id"].as_str().unwrap();
    let (st, p2) = s
        .patch(
            &format!("/projects/{pid}"),
            json!({"status": "in_progress", "env": {"A": "b"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(p2["env"]["A"], "b");
    let (st, e) = s
        .patch(
            &format!("/projects/{pid}"),
            json!({"targetDate": "tomorrow"}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (_, list) = s.get(&format!("/companies/{c}/projects")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/goals/{}", child["id"].as_str().unwrap()),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s
        .get(&format!("/goals/{}", child["id"].as_str().unwrap()))
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (_, activity) = s.get(&format!("/companies/{c}/activity")).await;
    let actions: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for a in [
        "company.created",
        "goal.created",
        "goal.updated",
        "project.created",
        "project.updated",
        "goal.deleted",
    ] {
        assert!(actions.contains(&a), "missing {a} in {actions:?}");
    }
    let (st, d) = s.get(&format!("/companies/{c}/dashboard")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["companyId"], c.as_str());
}

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let s = test_server!();
    let (st, doc) = s.get("/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/health",
        "/api/companies",
        "/api/companies/{companyId}",
        "/api/companies/{companyId}/issues",
        "/api/issues/{issueId}/checkout",
        "/api/issues/{issueId}/admin/force-release",
        "/api/agents/me/inbox-lite",
        "/api/issues/{issueId}/heartbeat-context",
        "/api/agents/{agentId}/keys/{keyId}",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn nul_characters_are_refused_by_name_on_every_backend() {
    // PostgreSQL cannot store U+0000 in text or jsonb; both backends refuse it alike.
    let s = test_server!();
    let (st, e) = s.post("/companies", json!({"name": "Ac\u{0}me"})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("name"), "{e}");
    let c = s.company("Clean").await;
    let (st, e) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Bot", "role": "engineer", "adapterConfig": {"env": {"K\u{0}": "v"}}}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, e) = s
        .get(&format!("/companies/{c}/activity?entityType=%3A%00x"))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("entityType"), "{e}");
    let (_, list) = s.get("/companies").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing half-written");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let s = test_server!();
    for (path, expect) in [
        ("/health", StatusCode::OK),
        ("/companies", StatusCode::OK),
        ("/issues/not-an-id", StatusCode::NOT_FOUND),
        ("/no-such-route", StatusCode::NOT_FOUND),
    ] {
        let resp = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), expect, "{path}");
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
    }
}

#[tokio::test]
async fn json_numbers_round_trip_within_the_limit_and_are_refused_beyond_it() {
    // PostgreSQL gives jsonb numbers back with every digit; near the f64 limit that no longer
    // parses, so both backends refuse numbers beyond ±1e300 up front.
    let s = test_server!();
    let c = s.company("Numbers").await;
    let (st, e) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Big", "role": "engineer", "metadata": {"x": 1.7976931348623157e308}}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("metadata.x"), "{e}");
    let (st, a) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Fine", "role": "engineer",
                   "metadata": {"big": 1e299, "small": -2.5e-300, "int": 123456789012345678u64, "f": 0.1}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let (st, back) = s
        .get(&format!("/agents/{}", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, StatusCode::OK, "{back}");
    assert_eq!(back["metadata"], a["metadata"]);
    assert_eq!(back["metadata"]["f"], 0.1);
    let (st, list) = s.get(&format!("/companies/{c}/agents")).await;
    assert_eq!(st, StatusCode::OK, "{list}");
}

/// An issue with no goal and no project gets the company goal: the oldest top-level goal of
/// level `company`, an active one before the others; never a sub-goal or another level.
#[tokio::test]
async fn a_new_issue_gets_the_company_goal_an_active_one_first() {
    let s = test_server!();
    let c = s.company("Goals").await;
    let goal = |body: serde_json::Value| {
        let s = &s;
        let c = c.clone();
        async move {
            let (st, g) = s.post(&format!("/companies/{c}/goals"), body).await;
            assert_eq!(st, StatusCode::CREATED, "{g}");
            g["id"].as_str().unwrap().to_string()
        }
    };
    let issue_goal = || async {
        let i = s.issue(&c, json!({"title": "Which goal?"})).await;
        i["goalId"].clone()
    };
    assert!(issue_goal().await.is_null(), "no goal yet");
    let task = goal(json!({"title": "A task goal", "status": "active"})).await;
    assert!(
        issue_goal().await.is_null(),
        "a task-level goal is not the company's"
    );
    let planned = goal(json!({"title": "Planned", "level": "company"})).await;
    let _sub = goal(
        json!({"title": "Sub", "level": "company", "parentId": planned,
        "status": "active"}),
    )
    .await;
    assert_eq!(
        issue_goal().await,
        json!(planned),
        "the only top-level company goal"
    );
    let active = goal(json!({"title": "Active", "level": "company", "status": "active"})).await;
    assert_eq!(issue_goal().await, json!(active), "an active one first");
    let older_active = planned.clone();
    let (st, _) = s
        .patch(
            &format!("/goals/{older_active}"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        issue_goal().await,
        json!(planned),
        "the oldest of the active ones"
    );
    // A goal given wins.
    let i = s.issue(&c, json!({"title": "Mine", "goalId": task})).await;
    assert_eq!(i["goalId"], json!(task));
}

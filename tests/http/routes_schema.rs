//! What schemathesis (tests/schemathesis.sh with ST_CHECKS=all) found: requests the server
//! accepted but should refuse, and limits the OpenAPI document did not state.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;
use crate::routes_table::{Fixture, ROUTES, fill, method};

#[tokio::test]
async fn a_patch_without_a_body_is_a_400_and_changes_nothing() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    // The PATCH routes whose object can be read back at the same path.
    let readable = |path: &str| ROUTES.iter().any(|r| r.method == "GET" && r.path == path);
    let patches: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.method == "PATCH" && readable(r.path))
        .collect();
    assert_eq!(patches.len(), 5);
    for route in patches {
        let path = fill(route.path, &f.ids);
        let (before_st, before) = s.get(&path).await;
        assert_eq!(before_st, StatusCode::OK);
        for body in ["", "  \n"] {
            let resp = s
                .client
                .request(method(route.method), format!("{}{}", s.base, path))
                .body(body)
                .send()
                .await
                .unwrap();
            let st = resp.status();
            let e: Value = resp.json().await.unwrap();
            assert_error(st, &e, StatusCode::BAD_REQUEST);
            assert_eq!(e["details"]["field"], "body", "PATCH {path}: {e}");
        }
        let (_, after) = s.get(&path).await;
        assert_eq!(
            after["updatedAt"], before["updatedAt"],
            "PATCH {path} changed it"
        );
    }
    // A body without known fields is still Paperclip's no-op for a company (an issue refuses it).
    let (st, c) = s
        .patch(&format!("/companies/{}", f.ids["c"]), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(c["name"], "Alpha Sweep");
    // A POST without a body still reads as `{}`.
    let (st, p) = s
        .call(
            Method::POST,
            &format!("/agents/{}/pause", f.ids["a2"]),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["pauseReason"], "manual");
}

#[tokio::test]
async fn clear_assignee_must_be_a_boolean() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    let i = &f.ids["i"];
    for bad in ["banana", "-1158", "yes", "TRUE"] {
        let (st, e) = s
            .post(
                &format!("/issues/{i}/admin/force-release?clearAssignee={bad}"),
                json!({}),
            )
            .await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], "clearAssignee", "{e}");
    }
    let (_, still) = s.get(&format!("/issues/{i}")).await;
    assert_eq!(still["assigneeAgentId"], f.ids["a"].as_str());
    for keep in ["false", "0", ""] {
        let (st, fr) = s
            .post(
                &format!("/issues/{i}/admin/force-release?clearAssignee={keep}"),
                json!({}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{keep}: {fr}");
        assert_eq!(
            fr["issue"]["assigneeAgentId"],
            f.ids["a"].as_str(),
            "{keep}"
        );
    }
    let (st, fr) = s
        .post(
            &format!("/issues/{i}/admin/force-release?clearAssignee=1"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(fr["issue"]["assigneeAgentId"].is_null());
}

#[tokio::test]
async fn comment_order_and_cursors_are_checked() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    let i = &f.ids["i"];
    let (_, second) = s
        .post(&format!("/issues/{i}/comments"), json!({"body": "second"}))
        .await;
    let (st, asc) = s.get(&format!("/issues/{i}/comments?order=ASC")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(asc[0]["body"], "note");
    let (_, desc) = s.get(&format!("/issues/{i}/comments?order=desc")).await;
    assert_eq!(desc[0]["id"], second["id"]);
    let (st, e) = s.get(&format!("/issues/{i}/comments?order=sideways")).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "order");
    let cm = &f.ids["cm"];
    let (st, e) = s
        .get(&format!(
            "/issues/{i}/comments?after={cm}&afterCommentId=garbage"
        ))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "afterCommentId");
}

#[tokio::test]
async fn checkout_requires_expected_statuses() {
    let s = test_server!();
    let f = Fixture::new(&s).await;
    let path = format!("/issues/{}/checkout", f.ids["i"]);
    for body in [
        json!({"agentId": f.ids["a"]}),
        json!({"agentId": f.ids["a"], "expectedStatuses": null}),
        json!({"agentId": f.ids["a"], "expectedStatuses": []}),
    ] {
        let (st, e) = s
            .call(Method::POST, &path, Some(&f.token), Some(body.clone()))
            .await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], "expectedStatuses", "{body}: {e}");
    }
    let (_, i) = s.get(&format!("/issues/{}", f.ids["i"])).await;
    assert_eq!(i["status"], "todo");
}

#[tokio::test]
async fn the_openapi_document_states_the_limits() {
    let s = test_server!();
    let (_, doc) = s.get("/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    let checkout = &schemas["CheckoutIssue"];
    assert_eq!(checkout["required"], json!(["agentId", "expectedStatuses"]));
    assert_eq!(checkout["properties"]["expectedStatuses"]["minItems"], 1);
    for (schema, field, max) in [
        ("CreateCompany", "name", 200),
        ("CreateGoal", "title", 500),
        ("CreateProject", "name", 200),
        ("CreateAgent", "name", 200),
        ("CreateIssue", "title", 500),
        ("CreateComment", "body", 100_000),
        ("CreateAgentKey", "name", 200),
    ] {
        let p = &schemas[schema]["properties"][field];
        assert_eq!(p["minLength"], 1, "{schema}.{field}");
        assert_eq!(p["maxLength"], max, "{schema}.{field}");
    }
    for (schema, field) in [
        ("CreateCompany", "brandColor"),
        ("UpdateCompany", "brandColor"),
        ("CreateProject", "color"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["pattern"], "^#[0-9a-fA-F]{6}$",
            "{schema}.{field}"
        );
    }
    for schema in [
        "CreateCompany",
        "UpdateCompany",
        "CreateAgent",
        "UpdateAgent",
    ] {
        assert_eq!(
            schemas[schema]["properties"]["budgetMonthlyCents"]["minimum"], 0,
            "{schema}"
        );
    }
    assert_eq!(
        schemas["CreateProject"]["properties"]["targetDate"]["format"],
        "date"
    );
    let paths = &doc["paths"];
    let limit = paths["/api/companies/{companyId}/issues"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 1000);
    for (path, m) in [
        ("/api/agents/{agentId}/keys", "post"),
        ("/api/agents/{agentId}/pause", "post"),
        ("/api/issues/{issueId}/admin/force-release", "post"),
        ("/api/companies/{companyId}", "patch"),
        ("/api/goals/{goalId}", "patch"),
    ] {
        assert!(
            paths[path][m]["responses"]["400"].is_object(),
            "{m} {path} must document its 400"
        );
    }
    // Every operation answers a bad bearer (but health) and an oversized body (if it takes one).
    let mut checked = 0;
    for (path, item) in paths.as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            assert_eq!(
                responses["401"].is_object(),
                path != "/api/health",
                "{m} {path}"
            );
            assert_eq!(
                responses["413"].is_object(),
                op.get("requestBody").is_some(),
                "{m} {path}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 95);
}

#[tokio::test]
async fn money_takes_whole_numbers_written_with_a_zero_fraction() {
    let s = test_server!();
    let (st, c) = s
        .post(
            "/companies",
            json!({"name": "Floaty", "budgetMonthlyCents": 1000.0}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    assert_eq!(c["budgetMonthlyCents"], 1000);
    let id = c["id"].as_str().unwrap();
    let a = s.agent(id, "Spender", None).await;
    let (st, up) = s
        .patch(
            &format!("/agents/{a}"),
            json!({"budgetMonthlyCents": 250.0}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{up}");
    assert_eq!(up["budgetMonthlyCents"], 250);
    for bad in [json!(10.5), json!(1e20), json!("10"), json!(-1.0)] {
        let (st, e) = s
            .patch(
                &format!("/companies/{id}"),
                json!({"budgetMonthlyCents": bad}),
            )
            .await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], "budgetMonthlyCents", "{bad}: {e}");
    }
    let (_, c) = s.get(&format!("/companies/{id}")).await;
    assert_eq!(c["budgetMonthlyCents"], 1000);
}

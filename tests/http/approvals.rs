//! Approvals over real HTTP: hires that wait for the board, the CEO's strategy, requests that
//! wake their requester with the decision, revisions, comments, and who may decide.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

async fn require_approval(s: &TestServer, c: &str) {
    let (st, v) = s
        .call(
            Method::PATCH,
            &format!("/companies/{c}"),
            None,
            Some(json!({"requireBoardApprovalForNewAgents": true})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

async fn decide(
    s: &TestServer,
    key: Option<&str>,
    approval: &Value,
    how: &str,
) -> (StatusCode, Value) {
    s.call(
        Method::POST,
        &format!("/approvals/{}/{how}", approval["id"].as_str().unwrap()),
        key,
        Some(json!({"decisionNote": format!("{how} by the test")})),
    )
    .await
}

async fn status_of(s: &TestServer, agent: &Value) -> Value {
    let (_, a) = s
        .get(&format!("/agents/{}", agent["id"].as_str().unwrap()))
        .await;
    a["status"].clone()
}

#[tokio::test]
async fn a_hire_waits_for_the_board_approval_activates_it_and_rejection_ends_it() {
    let s = test_server!();
    let c = s.company("Hiring").await;
    // Without the company's requirement, a hire is an agent at once.
    let (st, free) = s
        .post(
            &format!("/companies/{c}/agent-hires"),
            json!({"name": "Early", "role": "engineer"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{free}");
    assert_eq!(free["agent"]["status"], "idle");
    assert!(free["approval"].is_null(), "{free}");

    require_approval(&s, &c).await;
    let (st, hire) = s
        .post(
            &format!("/companies/{c}/agent-hires"),
            json!({"name": "Analyst", "role": "researcher", "budgetMonthlyCents": 5000,
                   "adapterConfig": {"command": "true", "env": {"OPENAI_API_KEY": "sk-live-secret"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{hire}");
    let (agent, approval) = (&hire["agent"], &hire["approval"]);
    assert_eq!(agent["status"], "pending_approval");
    assert_eq!(approval["type"], "hire_agent");
    assert_eq!(approval["status"], "pending");
    assert_eq!(approval["payload"]["agentId"], agent["id"]);
    assert_eq!(approval["payload"]["budgetMonthlyCents"], 5000);
    assert!(
        !approval.to_string().contains("sk-live-secret"),
        "no credential in the approval: {approval}"
    );
    // The direct route still refuses, and says where to go.
    let (st, e) = s
        .post(&format!("/companies/{c}/agents"), json!({"name": "Direct"}))
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    let (_, dash) = s.get(&format!("/companies/{c}/dashboard")).await;
    assert_eq!(dash["pendingApprovals"], 1, "{dash}");

    // Only the board decides.
    let key = s.key(free["agent"]["id"].as_str().unwrap()).await;
    let (st, e) = decide(&s, Some(&key), approval, "approve").await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&s, agent).await, "pending_approval");

    let (st, approved) = decide(&s, None, approval, "approve").await;
    assert_eq!(st, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decisionNote"], "approve by the test");
    assert!(approved["decidedAt"].is_string());
    assert_eq!(status_of(&s, agent).await, "idle");
    // Deciding again the same way is harmless; the other way is refused.
    let (st, again) = decide(&s, None, approval, "approve").await;
    assert_eq!(st, StatusCode::OK, "{again}");
    let (st, e) = decide(&s, None, approval, "reject").await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);

    // A rejected hire never becomes active.
    let (_, second) = s
        .post(
            &format!("/companies/{c}/agent-hires"),
            json!({"name": "Not needed"}),
        )
        .await;
    let (st, rejected) = decide(&s, None, &second["approval"], "reject").await;
    assert_eq!(st, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(status_of(&s, &second["agent"]).await, "terminated");

    let (_, list) = s.get(&format!("/companies/{c}/activity")).await;
    let actions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["approval.created", "approval.approved", "approval.rejected"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let (_, pending) = s
        .get(&format!("/companies/{c}/approvals?status=pending"))
        .await;
    assert_eq!(pending.as_array().unwrap().len(), 0, "{pending}");
    let (_, all) = s.get(&format!("/companies/{c}/approvals")).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let (st, e) = s
        .get(&format!("/companies/{c}/approvals?status=maybe"))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_board_decision_wakes_the_agent_that_asked_with_the_approval_in_its_env() {
    let s = test_server!();
    let c = s.company("Asking").await;
    let seen = s.home.join("approval-env.txt");
    let (st, agent) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Asker", "adapterType": "process",
                   "adapterConfig": {"command": "sh", "args": ["-c",
                       format!("echo \"$PAPERCLIP_APPROVAL_ID $PAPERCLIP_APPROVAL_STATUS $PAPERCLIP_WAKE_REASON $PAPERCLIP_LINKED_ISSUE_IDS\" >> '{}'", seen.display())]}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{agent}");
    let agent_id = agent["id"].as_str().unwrap().to_string();
    let key = s.key(&agent_id).await;
    let issue = s.issue(&c, json!({"title": "Needs a yes"})).await;
    let (st, asked) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/approvals"),
            Some(&key),
            Some(
                json!({"type": "request_board_approval", "payload": {"question": "Ship it?"},
                        "issueIds": [issue["id"]]}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{asked}");
    assert_eq!(asked["requestedByAgentId"], agent_id.as_str());
    let (_, linked) = s
        .get(&format!(
            "/approvals/{}/issues",
            asked["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(linked[0]["id"], issue["id"], "{linked}");

    let (st, _) = decide(&s, None, &asked, "reject").await;
    assert_eq!(st, StatusCode::OK);
    let line = wait_for_line(&seen, 1).await;
    let id = asked["id"].as_str().unwrap();
    let issue_id = issue["id"].as_str().unwrap();
    assert_eq!(
        line[0],
        format!("{id} rejected approval_rejected {issue_id}"),
        "the requester heard of the rejection"
    );
    // An agent asks only for itself, and about this company's issues.
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/approvals"),
            Some(&key),
            Some(json!({"type": "request_board_approval", "requestedByAgentId": issue["id"]})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let other = s.company("Elsewhere").await;
    let foreign = s.issue(&other, json!({"title": "Not theirs"})).await;
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/approvals"),
            Some(&key),
            Some(json!({"type": "request_board_approval", "issueIds": [foreign["id"]]})),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/approvals"),
            Some(&key),
            Some(json!({"type": "world_domination"})),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("type"), "{e}");
}

/// Lines of `file` once it has `n` of them (10 s at most).
async fn wait_for_line(file: &std::path::Path, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let lines: Vec<String> = std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never had {n} lines: {lines:?}",
            file.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn revisions_go_back_to_the_requester_and_comments_go_both_ways() {
    let s = test_server!();
    let c = s.company("Revising").await;
    let asker = s.agent(&c, "Asker", None).await;
    let other = s.agent(&c, "Other", None).await;
    let key = s.key(&asker).await;
    let other_key = s.key(&other).await;
    let (_, asked) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/approvals"),
            Some(&key),
            Some(json!({"type": "budget_override_required", "payload": {"amountCents": 5000}})),
        )
        .await;
    let id = asked["id"].as_str().unwrap();
    // Resubmitting what was not sent back is refused.
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/approvals/{id}/resubmit"),
            Some(&key),
            Some(json!({})),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, e) = decide(&s, Some(&key), &asked, "request-revision").await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, back) = decide(&s, None, &asked, "request-revision").await;
    assert_eq!(st, StatusCode::OK, "{back}");
    assert_eq!(back["status"], "revision_requested");
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/approvals/{id}/resubmit"),
            Some(&other_key),
            Some(json!({})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, again) = s
        .call(
            Method::POST,
            &format!("/approvals/{id}/resubmit"),
            Some(&key),
            Some(json!({"payload": {"amountCents": 3000}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "pending");
    assert_eq!(again["payload"]["amountCents"], 3000);
    assert!(again["decisionNote"].is_null());

    let (st, c1) = s
        .call(
            Method::POST,
            &format!("/approvals/{id}/comments"),
            Some(&key),
            Some(json!({"body": "Smaller now."})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c1}");
    assert_eq!(c1["authorAgentId"], asker.as_str());
    let (st, _) = s
        .post(
            &format!("/approvals/{id}/comments"),
            json!({"body": "Thanks."}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, e) = s
        .post(&format!("/approvals/{id}/comments"), json!({"body": "  "}))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (_, comments) = s.get(&format!("/approvals/{id}/comments")).await;
    let bodies: Vec<&str> = comments
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["Smaller now.", "Thanks."]);
    // Another company's board member or agent does not see it.
    let elsewhere = s.company("Elsewhere").await;
    let outsider = s.agent(&elsewhere, "Outsider", None).await;
    let outsider_key = s.key(&outsider).await;
    let (st, e) = s
        .call(
            Method::GET,
            &format!("/approvals/{id}"),
            Some(&outsider_key),
            None,
        )
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_ceos_issues_wait_in_todo_until_its_strategy_is_approved() {
    let s = test_server!();
    let c = s.company("Strategic").await;
    let (st, ceo) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Chief", "role": "ceo"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ceo}");
    let ceo = ceo["id"].as_str().unwrap().to_string();
    let key = s.key(&ceo).await;
    let (st, issue) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/issues"),
            Some(&key),
            Some(json!({"title": "Launch plan"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{issue}");
    let path = format!("/issues/{}", issue["id"].as_str().unwrap());
    let checkout = json!({"agentId": ceo, "expectedStatuses": ["todo", "backlog"]});
    let (st, e) = s
        .call(
            Method::POST,
            &format!("{path}/checkout"),
            Some(&key),
            Some(checkout.clone()),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "ceo_strategy_unapproved");
    let (st, e) = s
        .call(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    // Drafting stays possible.
    let (st, v) = s
        .call(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({"status": "backlog"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let (st, strategy) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/approvals"),
            Some(&key),
            Some(json!({"type": "approve_ceo_strategy", "payload": {"plan": "Ship weekly"}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{strategy}");
    let (st, _) = decide(&s, None, &strategy, "approve").await;
    assert_eq!(st, StatusCode::OK);
    let (st, taken) = s
        .call(
            Method::POST,
            &format!("{path}/checkout"),
            Some(&key),
            Some(checkout),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{taken}");
    assert_eq!(taken["status"], "in_progress");
}

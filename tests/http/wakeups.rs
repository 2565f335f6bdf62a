//! Event wake-ups over real HTTP: an assignment, a comment, an @-mention, the last blocker
//! done and the last child closed each wake the right agent once, with the reason in the
//! run's context; an agent's own comment or change wakes nobody.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// An agent whose runs succeed at once (`true`).
async fn quick_agent(s: &TestServer, company: &str, name: &str) -> String {
    let (st, a) = s
        .post(
            &format!("/companies/{company}/agents"),
            json!({"name": name, "role": "engineer", "adapterType": "process",
                   "adapterConfig": {"command": "true"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    a["id"].as_str().unwrap().to_string()
}

/// Every run of the agent, oldest first.
async fn runs_of(s: &TestServer, company: &str, agent: &str) -> Vec<Value> {
    let (st, runs) = s
        .get(&format!(
            "/companies/{company}/heartbeat-runs?agentId={agent}"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{runs}");
    let mut runs = runs.as_array().cloned().unwrap_or_default();
    runs.sort_by_key(|r| r["createdAt"].as_str().unwrap_or_default().to_string());
    runs
}

/// The agent's runs once none is queued or running (10 s at most).
async fn settled_runs(s: &TestServer, company: &str, agent: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let runs = runs_of(s, company, agent).await;
        let open = runs
            .iter()
            .any(|r| r["status"] == "queued" || r["status"] == "running");
        if !open {
            return runs;
        }
        assert!(Instant::now() < deadline, "runs did not settle: {runs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every wake reason the agent's runs carry (coalesced wakes keep theirs too).
fn reasons(runs: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r["contextSnapshot"]["wakeReasons"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn assignment_comment_and_mention_wake_the_right_agent_and_never_the_author() {
    let s = test_server!();
    let c = s.company("Wake Co").await;
    let eng = quick_agent(&s, &c, "Eng").await;
    let ceo = quick_agent(&s, &c, "CEO").await;
    let eng_key = s.key(&eng).await;

    // Created in backlog: nobody wakes. Assigned and ready: the assignee wakes.
    let backlog = s
        .issue(
            &c,
            json!({"title": "Later", "assigneeAgentId": eng, "status": "backlog"}),
        )
        .await;
    assert!(runs_of(&s, &c, &eng).await.is_empty());
    let issue = s
        .issue(&c, json!({"title": "Now", "assigneeAgentId": eng}))
        .await;
    let runs = settled_runs(&s, &c, &eng).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["invocationSource"], "assignment");
    assert_eq!(runs[0]["contextSnapshot"]["wakeReason"], "issue_assigned");
    assert_eq!(runs[0]["contextSnapshot"]["issueId"], issue["id"]);
    assert_eq!(runs[0]["status"], "succeeded", "{:?}", runs[0]);

    // Leaving backlog wakes the assignee.
    let (st, _) = s
        .patch(
            &format!("/issues/{}", backlog["id"].as_str().unwrap()),
            json!({"status": "todo"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let runs = settled_runs(&s, &c, &eng).await;
    assert_eq!(
        reasons(&runs),
        ["issue_assigned", "issue_status_changed"],
        "{runs:?}"
    );

    // The board's comment wakes the assignee, naming the comment.
    let id = issue["id"].as_str().unwrap();
    let (st, comment) = s
        .post(
            &format!("/issues/{id}/comments"),
            json!({"body": "Any news?"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{comment}");
    let runs = settled_runs(&s, &c, &eng).await;
    assert_eq!(runs.len(), 3, "{runs:?}");
    let last = &runs[2]["contextSnapshot"];
    assert_eq!(last["wakeReason"], "issue_commented");
    assert_eq!(last["wakeCommentId"], comment["id"]);
    assert_eq!(last["issueId"], issue["id"]);

    // The agent's own comment, even one naming itself, wakes nobody; its @-mention of the
    // CEO wakes the CEO.
    let (st, own) = s
        .call(
            Method::POST,
            &format!("/issues/{id}/comments"),
            Some(&eng_key),
            Some(json!({"body": "Working on it (@Eng). Asking @CEO for the budget."})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{own}");
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/issues/{id}"),
            Some(&eng_key),
            Some(json!({"comment": "Still on it", "priority": "high"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(settled_runs(&s, &c, &eng).await.len(), 3, "the author woke");
    let ceo_runs = settled_runs(&s, &c, &ceo).await;
    assert_eq!(ceo_runs.len(), 1, "{ceo_runs:?}");
    let ctx = &ceo_runs[0]["contextSnapshot"];
    assert_eq!(ctx["wakeReason"], "issue_comment_mentioned");
    assert_eq!(ctx["wakeCommentId"], own["id"]);
    assert_eq!(ctx["source"], "comment.mention");

    // A structured mention by the board wakes its agent once.
    let body = format!("[@CEO](agent://{ceo}) and again @ceo");
    let (st, _) = s
        .post(&format!("/issues/{id}/comments"), json!({"body": body}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let ceo_runs = settled_runs(&s, &c, &ceo).await;
    assert_eq!(ceo_runs.len(), 2, "{ceo_runs:?}");

    // Reassigning wakes the new assignee; a comment on a closed issue wakes nobody.
    let (st, _) = s
        .patch(&format!("/issues/{id}"), json!({"assigneeAgentId": ceo}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let ceo_runs = settled_runs(&s, &c, &ceo).await;
    assert_eq!(ceo_runs.len(), 3, "{ceo_runs:?}");
    assert_eq!(
        ceo_runs[2]["contextSnapshot"]["wakeReason"],
        "issue_assigned"
    );
    let (st, _) = s
        .patch(&format!("/issues/{id}"), json!({"status": "done"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .post(&format!("/issues/{id}/comments"), json!({"body": "Thanks"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(settled_runs(&s, &c, &ceo).await.len(), 3);
}

#[tokio::test]
async fn the_last_blocker_done_and_the_last_child_closed_wake_their_assignees() {
    let s = test_server!();
    let c = s.company("Deps Co").await;
    let eng = quick_agent(&s, &c, "Eng").await;
    let lead = quick_agent(&s, &c, "Lead").await;

    // Blockers and children assigned to a person: only the lead's issues wake anyone.
    let a = s
        .issue(&c, json!({"title": "A", "assigneeUserId": "someone"}))
        .await;
    let b = s
        .issue(&c, json!({"title": "B", "assigneeUserId": "someone"}))
        .await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let dependent = s
        .issue(
            &c,
            json!({"title": "After A and B", "assigneeAgentId": eng, "blockedByIssueIds": [a, b]}),
        )
        .await;
    let parent = s
        .issue(&c, json!({"title": "Parent", "assigneeAgentId": lead}))
        .await;
    let parent_id = parent["id"].as_str().unwrap();
    let child1 = s
        .issue(
            &c,
            json!({"title": "Child 1", "parentId": parent_id, "assigneeUserId": "someone"}),
        )
        .await;
    let child2 = s
        .issue(
            &c,
            json!({"title": "Child 2", "parentId": parent_id, "assigneeUserId": "someone"}),
        )
        .await;
    assert_eq!(
        reasons(&settled_runs(&s, &c, &eng).await),
        ["issue_assigned"]
    );
    assert_eq!(
        reasons(&settled_runs(&s, &c, &lead).await),
        ["issue_assigned"]
    );

    // One blocker done: still blocked, nobody wakes. The last one: the assignee wakes.
    let (st, _) = s
        .patch(&format!("/issues/{a}"), json!({"status": "done"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(settled_runs(&s, &c, &eng).await.len(), 1);
    let (st, _) = s
        .patch(&format!("/issues/{b}"), json!({"status": "done"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let runs = settled_runs(&s, &c, &eng).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    let ctx = &runs[1]["contextSnapshot"];
    assert_eq!(ctx["wakeReason"], "issue_blockers_resolved");
    assert_eq!(ctx["issueId"], dependent["id"]);
    assert_eq!(ctx["resolvedBlockerIssueId"], json!(b));

    // One child done: the parent waits. The other cancelled: the lead wakes.
    let (st, _) = s
        .patch(
            &format!("/issues/{}", child1["id"].as_str().unwrap()),
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(settled_runs(&s, &c, &lead).await.len(), 1);
    let (st, _) = s
        .patch(
            &format!("/issues/{}", child2["id"].as_str().unwrap()),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let runs = settled_runs(&s, &c, &lead).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    let ctx = &runs[1]["contextSnapshot"];
    assert_eq!(ctx["wakeReason"], "issue_children_completed");
    assert_eq!(ctx["issueId"], parent["id"]);
    assert_eq!(ctx["childIssueIds"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn the_timer_wakes_only_agents_whose_interval_elapsed() {
    let s = TestServer::start_env(&[("HEARTBEAT_SCHEDULER_INTERVAL_MS", "100")])
        .await
        .expect("a server");
    let c = s.company("Timer Co").await;
    let agent = async |name: &str, heartbeat: Value| -> String {
        let (st, a) = s
            .post(
                &format!("/companies/{c}/agents"),
                json!({"name": name, "adapterType": "process", "adapterConfig": {"command": "true"},
                       "runtimeConfig": {"heartbeat": heartbeat}}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{a}");
        a["id"].as_str().unwrap().to_string()
    };
    let due = agent("Due", json!({"enabled": true, "intervalSec": 1})).await;
    let later = agent("Later", json!({"enabled": true, "intervalSec": 3600})).await;
    let zero = agent("Zero", json!({"enabled": true, "intervalSec": 0})).await;
    let off = agent("Off", json!({"enabled": false, "intervalSec": 1})).await;
    let odd = agent("Odd", json!({"enabled": true, "intervalSec": "soon"})).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let runs = loop {
        let runs = settled_runs(&s, &c, &due).await;
        if !runs.is_empty() {
            break runs;
        }
        assert!(
            Instant::now() < deadline,
            "the timer never woke the due agent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(runs[0]["invocationSource"], "timer");
    assert_eq!(runs[0]["contextSnapshot"]["wakeReason"], "heartbeat_timer");
    let (_, woken) = s.get(&format!("/agents/{due}")).await;
    assert!(woken["lastHeartbeatAt"].is_string(), "{woken}");
    for quiet in [&later, &zero, &off, &odd] {
        assert!(runs_of(&s, &c, quiet).await.is_empty(), "{quiet} woke");
    }
}

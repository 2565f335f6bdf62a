//! An agent that follows Paperclip's `paperclip` skill (skills/paperclip/SKILL.md) step by step,
//! with only what the skill gives it: PAPERCLIP_API_URL (no /api), its key, its run id.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct SkillAgent {
    http: Client,
    api: String,
    key: String,
    run_id: String,
}

impl SkillAgent {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(
                method,
                format!("{}/api{}", self.api.trim_end_matches('/'), path),
            )
            .bearer_auth(&self.key);
        req = req.header("X-Paperclip-Run-Id", &self.run_id);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn an_agent_following_the_skill_does_its_heartbeat() {
    let s = test_server!();
    let c = s.company("Skillful").await;
    let ceo = s.agent(&c, "CEO", None).await;
    let me = s.agent(&c, "Engineer", Some(&ceo)).await;
    let other = s.agent(&c, "Other", Some(&ceo)).await;
    let issue = s
        .issue(
            &c,
            json!({"title": "Write the README", "assigneeAgentId": me, "priority": "high"}),
        )
        .await;
    let taken = s
        .issue(
            &c,
            json!({"title": "Someone else's", "assigneeAgentId": other}),
        )
        .await;
    let agent = SkillAgent {
        http: Client::new(),
        api: s.base.trim_end_matches("/api").to_string(),
        key: s.key(&me).await,
        run_id: uuid::Uuid::new_v4().to_string(),
    };
    use reqwest::Method;

    // Step 1: identity.
    let (st, who) = agent.call(Method::GET, "/agents/me", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(who["id"], me.as_str());
    assert_eq!(who["companyId"], c.as_str());
    assert_eq!(who["chainOfCommand"][0]["id"], ceo.as_str());
    assert!(who["budgetMonthlyCents"].is_number() && who["spentMonthlyCents"].is_number());

    // Step 3: assignments, the inbox first, then the documented fallback list.
    let (st, inbox) = agent.call(Method::GET, "/agents/me/inbox-lite", None).await;
    assert_eq!(st, StatusCode::OK);
    let items = inbox.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], issue["id"]);
    assert_eq!(items[0]["unresolvedBlockerCount"], 0);
    let (st, fallback) = agent
        .call(Method::GET, &format!("/companies/{c}/issues?assigneeAgentId={me}&status=todo,in_progress,in_review,blocked"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(fallback.as_array().unwrap().len(), 1);

    // Step 5: checkout with the skill's exact body.
    let iid = issue["id"].as_str().unwrap();
    let body =
        json!({"agentId": me, "expectedStatuses": ["todo", "backlog", "blocked", "in_review"]});
    let (st, held) = agent
        .call(
            Method::POST,
            &format!("/issues/{iid}/checkout"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{held}");
    assert_eq!(held["status"], "in_progress");
    assert_eq!(held["checkoutRunId"], agent.run_id.as_str());
    // Another agent's issue: 409, which the skill never retries.
    let (st, conflict) = agent
        .call(
            Method::POST,
            &format!("/issues/{}/checkout", taken["id"].as_str().unwrap()),
            Some(body),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{conflict}");

    // Step 6: context, then comments.
    let (st, ctx) = agent
        .call(
            Method::GET,
            &format!("/issues/{iid}/heartbeat-context"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ctx["issue"]["id"], iid);
    let (st, comments) = agent
        .call(Method::GET, &format!("/issues/{iid}/comments"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(comments.as_array().unwrap().is_empty());

    // Step 8: progress comment, then done with a comment.
    let (st, _) = agent
        .call(
            Method::PATCH,
            &format!("/issues/{iid}"),
            Some(json!({"comment": "Drafted the outline. Will finish next heartbeat."})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, done) = agent
        .call(
            Method::PATCH,
            &format!("/issues/{iid}"),
            Some(json!({"status": "done", "comment": "README written."})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "done");
    assert_eq!(done["changes"]["status"]["to"], "done");
    assert_eq!(done["comment"]["createdByRunId"], agent.run_id.as_str());
    assert!(done["checkoutRunId"].is_null(), "locks end with the work");

    // Step 9: delegate a subtask.
    let (st, sub) = agent
        .call(Method::POST, &format!("/companies/{c}/issues"), Some(json!({"title": "Proofread", "assigneeAgentId": other, "parentId": iid, "status": "todo", "priority": "medium"})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{sub}");
    assert_eq!(sub["createdByAgentId"], me.as_str());

    // The board sees every step in the activity log, with the run.
    let (_, activity) = s
        .get(&format!("/companies/{c}/activity?entityId={iid}"))
        .await;
    let entries = activity.as_array().unwrap();
    let checked_out = entries
        .iter()
        .find(|e| e["action"] == "issue.checked_out")
        .expect("checkout logged");
    assert_eq!(checked_out["runId"], agent.run_id.as_str());
    assert_eq!(checked_out["actorType"], "agent");
    assert!(entries.iter().any(|e| e["action"] == "issue.comment_added"));
    assert!(
        entries
            .iter()
            .filter(|e| e["action"] == "issue.updated")
            .count()
            >= 1
    );
    let (_, inbox) = agent.call(Method::GET, "/agents/me/inbox-lite", None).await;
    assert!(inbox.as_array().unwrap().is_empty());
}

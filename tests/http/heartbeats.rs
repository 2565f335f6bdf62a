//! Heartbeats end to end over real HTTP: an invoked agent runs through its adapter, calls the
//! API back as the paperclip skill says, and its run is visible (status, log, events); a
//! process tree that ignores SIGTERM is gone after a timeout, a cancel and a shutdown.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
        .canonicalize()
        .expect("fixture exists")
        .display()
        .to_string()
}

/// A company and one agent with the given adapter; (company id, agent id).
pub async fn company_with_agent(s: &TestServer, adapter: &str, config: Value) -> (String, String) {
    let (st, company) = s
        .call(
            Method::POST,
            "/companies",
            None,
            Some(json!({"name": "Heartbeat Co"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{company}");
    let company = company["id"].as_str().unwrap().to_string();
    let (st, agent) = s
        .call(
            Method::POST,
            &format!("/companies/{company}/agents"),
            None,
            Some(json!({"name": "Builder", "role": "engineer", "adapterType": adapter, "adapterConfig": config})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{agent}");
    (company, agent["id"].as_str().unwrap().to_string())
}

pub async fn invoke(s: &TestServer, agent: &str, body: Value) -> Value {
    let (st, run) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/heartbeat/invoke"),
            None,
            Some(body),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{run}");
    run
}

/// Processes (not zombies) whose environment names this run.
pub fn processes_of_run(run: &str) -> Vec<i32> {
    let wanted = format!("PAPERCLIP_RUN_ID={run}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next());
        if matches!(state, Some("Z") | Some("X") | None) {
            continue;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if environ.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

#[tokio::test]
async fn an_invoked_agent_works_its_issue_through_the_api_and_the_run_succeeds() {
    let s = test_server!();
    let (company, agent) =
        company_with_agent(&s, "process", json!({"command": fixture("skill-agent")})).await;
    // The agent files its own issue: its own change wakes nobody, the invoke does.
    let key = s.key(&agent).await;
    let (st, issue) = s
        .call(
            Method::POST,
            &format!("/companies/{company}/issues"),
            Some(&key),
            Some(json!({"title": "Write the plan", "assigneeAgentId": agent})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{issue}");
    let issue_id = issue["id"].as_str().unwrap();

    let queued = invoke(&s, &agent, json!({})).await;
    assert_eq!(queued["agentId"], agent.as_str());
    assert_eq!(queued["invocationSource"], "on_demand");
    let run_id = queued["id"].as_str().unwrap();
    let run = wait_for_run(&s, None, run_id, &["succeeded", "failed", "timed_out"]).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["exitCode"], 0);
    assert!(run["processPid"].as_i64().is_some(), "{run}");

    // The agent did the work: the issue is done, its comment carries the run.
    let (_, done) = s
        .call(Method::GET, &format!("/issues/{issue_id}"), None, None)
        .await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        done["checkoutRunId"],
        Value::Null,
        "the run's lock ended with it"
    );
    let (_, comments) = s
        .call(
            Method::GET,
            &format!("/issues/{issue_id}/comments"),
            None,
            None,
        )
        .await;
    let by_run: Vec<&Value> = comments
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["createdByRunId"] == run_id)
        .collect();
    assert_eq!(by_run.len(), 2, "{comments}");
    let (_, activity) = s
        .call(
            Method::GET,
            &format!("/companies/{company}/activity"),
            None,
            None,
        )
        .await;
    let actions: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["runId"] == run_id)
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"issue.checked_out"), "{actions:?}");
    assert!(actions.contains(&"heartbeat.invoked"), "{actions:?}");

    // The log is NDJSON of what the agent printed; the events tell the lifecycle.
    let (st, log) = s
        .call(
            Method::GET,
            &format!("/heartbeat-runs/{run_id}/log"),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let lines: Vec<Value> = log["content"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an NDJSON line"))
        .collect();
    let stdout: String = lines
        .iter()
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["chunk"].as_str().unwrap())
        .collect();
    assert!(stdout.contains("I am Builder"), "{stdout}");
    assert!(stdout.contains("working on"), "{stdout}");
    assert_eq!(log.get("nextOffset"), None, "the whole log was read: {log}");
    // A range read continues where the last one ended.
    let (_, head) = s
        .call(
            Method::GET,
            &format!("/heartbeat-runs/{run_id}/log?offset=0&limitBytes=10"),
            None,
            None,
        )
        .await;
    assert_eq!(head["content"].as_str().unwrap().len(), 10);
    assert_eq!(head["nextOffset"], 10);
    let (_, events) = s
        .call(
            Method::GET,
            &format!("/heartbeat-runs/{run_id}/events"),
            None,
            None,
        )
        .await;
    let messages: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(messages.first(), Some(&"run started"), "{events}");
    assert_eq!(messages.last(), Some(&"run succeeded"), "{events}");
    let invoke_event = &events.as_array().unwrap()[1];
    assert_eq!(invoke_event["eventType"], "adapter.invoke");
    assert!(
        !invoke_event.to_string().contains("eyJ"),
        "no token in the events: {invoke_event}"
    );

    let (_, runs) = s
        .call(
            Method::GET,
            &format!("/companies/{company}/heartbeat-runs"),
            None,
            None,
        )
        .await;
    assert_eq!(runs[0]["id"], run_id);
    let (_, me) = s
        .call(Method::GET, &format!("/agents/{agent}"), None, None)
        .await;
    assert_eq!(me["status"], "idle", "{me}");
    assert!(me["lastHeartbeatAt"].is_string(), "{me}");
}

/// A leader that starts grandchildren ignoring SIGTERM, then sleeps.
const STUBBORN: &str =
    "trap '' TERM; (trap '' TERM; sleep 300) & (trap '' TERM; sleep 300) & echo started; sleep 300";

#[tokio::test]
async fn a_process_tree_ignoring_sigterm_is_gone_after_a_timeout_and_after_a_cancel() {
    let s = test_server!();
    let (_, agent) = company_with_agent(
        &s,
        "process",
        json!({"command": "sh", "args": ["-c", STUBBORN], "timeoutSec": 1, "graceSec": 1}),
    )
    .await;
    let run = invoke(&s, &agent, json!({})).await;
    let run_id = run["id"].as_str().unwrap();
    let ended = wait_for_run(&s, None, run_id, &["timed_out", "succeeded", "failed"]).await;
    assert_eq!(ended["status"], "timed_out", "{ended}");
    assert_eq!(ended["errorCode"], "timeout");
    assert!(
        processes_of_run(run_id).is_empty(),
        "processes left after the timeout"
    );

    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/agents/{agent}"),
            None,
            Some(json!({"adapterConfig": {"command": "sh", "args": ["-c", STUBBORN], "graceSec": 1}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let run = invoke(&s, &agent, json!({})).await;
    let run_id = run["id"].as_str().unwrap().to_string();
    wait_for_run(&s, None, &run_id, &["running"]).await;
    // Wait for the tree to exist before stopping it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while processes_of_run(&run_id).len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(processes_of_run(&run_id).len() >= 3, "the tree started");
    let (st, cancelled) = s
        .call(
            Method::POST,
            &format!("/heartbeat-runs/{run_id}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(
        processes_of_run(&run_id).is_empty(),
        "processes left after the cancel"
    );
}

#[tokio::test]
async fn a_server_shutdown_ends_live_runs_interrupted_with_nothing_left_running() {
    let s = test_server!();
    let (_, agent) = company_with_agent(
        &s,
        "process",
        json!({"command": "sh", "args": ["-c", STUBBORN], "graceSec": 1}),
    )
    .await;
    let run = invoke(&s, &agent, json!({})).await;
    let run_id = run["id"].as_str().unwrap().to_string();
    wait_for_run(&s, None, &run_id, &["running"]).await;
    let s = s.restart().await;
    assert!(
        processes_of_run(&run_id).is_empty(),
        "processes left after shutdown"
    );
    let ended = wait_for_run(&s, None, &run_id, &["interrupted"]).await;
    assert_eq!(ended["errorCode"], "server_shutdown", "{ended}");
    s.stop().await;
}

#[tokio::test]
async fn waking_needs_the_board_or_the_agent_itself_and_a_paused_agent_is_skipped() {
    let s = test_server!();
    let (company, agent) = company_with_agent(&s, "process", json!({"command": "true"})).await;
    let (_, other) = s
        .call(
            Method::POST,
            &format!("/companies/{company}/agents"),
            None,
            Some(json!({"name": "Other", "adapterType": "process", "adapterConfig": {"command": "true"}})),
        )
        .await;
    let (_, key) = s
        .call(
            Method::POST,
            &format!("/agents/{}/keys", other["id"].as_str().unwrap()),
            None,
            Some(json!({"name": "k"})),
        )
        .await;
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/wakeup"),
            key["token"].as_str(),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["error"], "Agent can only invoke itself");

    let (st, _) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/pause"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let skipped = invoke(&s, &agent, json!({})).await;
    assert_eq!(skipped, json!({"status": "skipped"}));
    let (st, skipped) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/wakeup"),
            None,
            Some(json!({"reason": "ping"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(skipped["reason"], "agent.paused");

    let (st, e) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/wakeup"),
            None,
            Some(json!({"source": "sometimes"})),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_claude_session_is_resumed_and_an_unknown_one_is_replaced_by_a_fresh_one() {
    let s = test_server!();
    let record = s.home.join("fake-claude.jsonl");
    let config = |mode: &str| {
        json!({
            "command": fixture("fake-claude"),
            "env": {"FAKE_CLI_RECORD": record.display().to_string(), "FAKE_CLI_MODE": mode},
        })
    };
    let (company, agent) = company_with_agent(&s, "claude_local", config("ok")).await;
    let key = s.key(&agent).await; // its own issue: no assignment wake
    let (_, issue) = s
        .call(
            Method::POST,
            &format!("/companies/{company}/issues"),
            Some(&key),
            Some(json!({"title": "Think", "assigneeAgentId": agent})),
        )
        .await;
    let on_issue = json!({"payload": {"issueId": issue["id"]}});
    let run_to_end = async |body: Value| {
        let run = invoke(&s, &agent, body).await;
        wait_for_run(
            &s,
            None,
            run["id"].as_str().unwrap(),
            &["succeeded", "failed"],
        )
        .await
    };

    let first = run_to_end(on_issue.clone()).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let session = first["sessionIdAfter"]
        .as_str()
        .expect("a session")
        .to_string();
    assert!(
        first["usageJson"]["inputTokens"].as_i64().unwrap() > 0,
        "{first}"
    );
    assert_eq!(first["usageJson"]["provider"], "anthropic");

    let second = run_to_end(on_issue.clone()).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["sessionIdBefore"], session.as_str());
    let calls: Vec<Value> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let argv = |call: &Value| -> Vec<String> {
        call["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    assert!(!argv(&calls[0]).contains(&"--resume".to_string()));
    assert!(
        argv(&calls[1])
            .windows(2)
            .any(|w| w == ["--resume", session.as_str()])
    );
    assert!(
        calls.iter().all(|c| c["apiKeySet"] == true),
        "every run had its token"
    );
    assert!(
        calls.iter().all(|c| !c.to_string().contains("eyJ")),
        "no token in argv or the recorded environment"
    );

    // The CLI no longer knows the session: the run retries once, fresh, and succeeds.
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/agents/{agent}"),
            None,
            Some(json!({"adapterConfig": config("unknown_session")})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let third = run_to_end(on_issue).await;
    assert_eq!(third["status"], "succeeded", "{third}");
    assert_eq!(third["sessionIdBefore"], session.as_str());
    let fresh = third["sessionIdAfter"].as_str().unwrap();
    assert_ne!(fresh, session, "a fresh session replaced the unknown one");
    let calls: Vec<Value> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(calls.len(), 4, "one retry, not more: {calls:?}");
    assert!(argv(&calls[2]).contains(&"--resume".to_string()));
    assert!(!argv(&calls[3]).contains(&"--resume".to_string()));
    let (_, log) = s
        .call(
            Method::GET,
            &format!("/heartbeat-runs/{}/log", third["id"].as_str().unwrap()),
            None,
            None,
        )
        .await;
    assert!(
        log["content"]
            .as_str()
            .unwrap()
            .contains("retrying with a fresh session"),
        "{log}"
    );
}

#[tokio::test]
async fn a_run_gets_its_secrets_with_project_env_over_agent_env_and_paperclip_keys_last() {
    let s = test_server!();
    let script = "echo \"A=$API_TOKEN B=$SHARED C=$PAPERCLIP_AGENT_ID\"";
    let (company, agent) = company_with_agent(
        &s,
        "process",
        json!({"command": "sh", "args": ["-c", script]}),
    )
    .await;
    let (st, secret) = s
        .call(
            Method::POST,
            &format!("/companies/{company}/secrets"),
            None,
            Some(json!({"name": "api token", "value": "tok-secret-value-123"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{secret}");
    let env = json!({
        "API_TOKEN": {"type": "secret_ref", "secretId": secret["id"]},
        "SHARED": "from-agent",
        "PAPERCLIP_AGENT_ID": "forged",
    });
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/agents/{agent}"),
            None,
            Some(json!({"adapterConfig": {"command": "sh", "args": ["-c", script], "env": env}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, project) = s
        .call(
            Method::POST,
            &format!("/companies/{company}/projects"),
            None,
            Some(json!({"name": "P", "env": {"SHARED": "from-project"}})),
        )
        .await;
    let (_, issue) = s
        .call(
            Method::POST,
            &format!("/companies/{company}/issues"),
            None,
            Some(json!({"title": "T", "assigneeAgentId": agent, "projectId": project["id"]})),
        )
        .await;
    let run = invoke(&s, &agent, json!({"payload": {"issueId": issue["id"]}})).await;
    let run_id = run["id"].as_str().unwrap();
    let ended = wait_for_run(&s, None, run_id, &["succeeded", "failed"]).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let (_, log) = s
        .call(
            Method::GET,
            &format!("/heartbeat-runs/{run_id}/log"),
            None,
            None,
        )
        .await;
    let content = log["content"].as_str().unwrap();
    // The process had the value; the log masks it. The project won; PAPERCLIP_* was ours.
    assert!(content.contains("A=***REDACTED***"), "{content}");
    assert!(!content.contains("tok-secret-value-123"), "{content}");
    assert!(content.contains("B=from-project"), "{content}");
    assert!(content.contains(&format!("C={agent}")), "{content}");

    // An unknown reference fails the run, naming it, before any process starts.
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/secrets/{}", secret["id"].as_str().unwrap()),
            None,
            None,
        )
        .await;
    assert!(st.is_success(), "{st}");
    let run = invoke(&s, &agent, json!({})).await;
    let failed = wait_for_run(
        &s,
        None,
        run["id"].as_str().unwrap(),
        &["failed", "succeeded"],
    )
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("API_TOKEN"),
        "{failed}"
    );
    assert_eq!(
        failed["processPid"],
        Value::Null,
        "no process was started: {failed}"
    );
}

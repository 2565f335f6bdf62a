//! Breakers over real HTTP, with the fake `claude`: a usage limit pauses every agent on the
//! same credential until the reset it names (and the timer resumes them then, with no retry
//! storm in between); an agent that keeps running without changing any issue is paused with
//! `loop_detected` until the board resumes it.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;
use crate::costs::{agent_json, wait_agent};
use crate::heartbeats::fixture;
use crate::retries::runs_of;

async fn hire(
    s: &TestServer,
    company: &str,
    name: &str,
    config: Value,
    heartbeat: Value,
) -> String {
    let (st, a) = s
        .post(
            &format!("/companies/{company}/agents"),
            json!({"name": name, "role": "engineer", "adapterType": "claude_local",
                   "adapterConfig": config, "runtimeConfig": {"heartbeat": heartbeat}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    a["id"].as_str().unwrap().to_string()
}

async fn actions(s: &TestServer, company: &str, action: &str) -> Vec<Value> {
    let (st, list) = s.get(&format!("/companies/{company}/activity")).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_usage_limit_pauses_every_agent_on_the_credential_until_it_resets() {
    let Some(s) = TestServer::start_env(&[("HEARTBEAT_SCHEDULER_INTERVAL_MS", "200")]).await else {
        return;
    };
    let c = s.company("Limited Co").await;
    let reset = chrono::Utc::now().timestamp() + 6;
    let login = json!({"CLAUDE_CONFIG_DIR": "/srv/claude-team"});
    let limited = |mode: &str| {
        let mut env = login.clone();
        env["FAKE_CLI_MODE"] = json!(mode);
        env["FAKE_CLI_RESET_EPOCH"] = json!(reset.to_string());
        json!({"command": fixture("fake-claude"), "env": env})
    };
    // Two agents on one subscription login, woken by the timer every second; a third on an
    // API key of its own.
    let timer = json!({"enabled": true, "intervalSec": 1});
    let first = hire(&s, &c, "First", limited("usage_limit"), timer.clone()).await;
    let second = hire(&s, &c, "Second", limited("usage_limit"), timer.clone()).await;
    let own = json!({"command": fixture("fake-claude"),
                     "env": {"ANTHROPIC_API_KEY": "sk-ant-own-key", "FAKE_CLI_MODE": "ok"}});
    let other = hire(&s, &c, "Other", own, json!({"enabled": false})).await;

    let paused = wait_agent(&s, &first, |a| a["status"] == "paused").await;
    assert_eq!(paused["pauseReason"], "usage_limit", "{paused}");
    let second_state = wait_agent(&s, &second, |a| a["status"] == "paused").await;
    assert_eq!(second_state["pauseReason"], "usage_limit", "{second_state}");
    assert_eq!(agent_json(&s, &other).await["status"], "idle");

    // One entry for the company, naming the reset time and both agents.
    let tripped = actions(&s, &c, "breaker.usage_limit").await;
    assert_eq!(tripped.len(), 1, "{tripped:?}");
    let details = &tripped[0]["details"];
    assert_eq!(
        details["agentIds"].as_array().map(Vec::len),
        Some(2),
        "{details}"
    );
    let until = chrono::DateTime::parse_from_rfc3339(details["until"].as_str().unwrap()).unwrap();
    assert_eq!(until.timestamp(), reset, "{details}");

    // While paused, a wake says why and starts nothing.
    let (st, skipped) = s
        .call(
            Method::POST,
            &format!("/agents/{first}/wakeup"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(skipped["reason"], "breaker.usage_limit", "{skipped}");
    let (_, board) = s.get(&format!("/companies/{c}/dashboard")).await;
    let breakers = board["breakers"]
        .as_array()
        .expect("breakers on the dashboard");
    assert_eq!(breakers.len(), 2, "{board}");
    assert!(
        breakers
            .iter()
            .all(|b| b["reason"] == "usage_limit" && b["until"].is_string())
    );

    // At the reset the timer resumes them (and wakes them again: the fake still answers with
    // the limit, now with a reset in the past, so the configured hour's pause applies).
    let lifted = wait_for_action(&s, &c, "breaker.lifted").await;
    let lifted_at =
        chrono::DateTime::parse_from_rfc3339(lifted["createdAt"].as_str().unwrap()).unwrap();
    assert!(
        lifted_at.timestamp() >= reset,
        "lifted before the reset: {lifted}"
    );
    assert_eq!(
        lifted["details"]["agentIds"].as_array().map(Vec::len),
        Some(2),
        "{lifted}"
    );

    // No retry storm: from the first limit to the lift, each agent ran once; after the lift
    // at most once more (which trips the breaker again).
    for agent in [&first, &second] {
        let runs = runs_of(&s, &c, agent).await;
        assert!(
            (1..=2).contains(&runs.len()),
            "{} runs of {agent}: {runs:?}",
            runs.len()
        );
        assert!(
            runs.iter().all(|r| r["errorCode"] == "provider_quota"
                || r["status"] == "queued"
                || r["status"] == "running"),
            "{runs:?}"
        );
    }
}

async fn wait_for_action(s: &TestServer, company: &str, action: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = actions(s, company, action).await;
        if let Some(first) = found.into_iter().next() {
            return first;
        }
        assert!(Instant::now() < deadline, "no {action} entry in 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_agent_that_runs_without_changing_anything_is_paused_as_a_loop() {
    let Some(s) = TestServer::start_env(&[
        ("HEARTBEAT_SCHEDULER_INTERVAL_MS", "200"),
        ("HEARTBEAT_LOOP_MAX_RUNS", "3"),
        ("HEARTBEAT_LOOP_WINDOW_MIN", "10"),
    ])
    .await
    else {
        return;
    };
    let c = s.company("Loop Co").await;
    let idle = json!({"command": fixture("fake-claude"), "env": {"FAKE_CLI_MODE": "ok"}});
    let agent = hire(
        &s,
        &c,
        "Looper",
        idle,
        json!({"enabled": true, "intervalSec": 1}),
    )
    .await;

    let paused = wait_agent(&s, &agent, |a| a["status"] == "paused").await;
    assert_eq!(paused["pauseReason"], "loop_detected", "{paused}");
    let runs = runs_of(&s, &c, &agent).await;
    assert_eq!(runs.len(), 3, "paused at the third run: {runs:?}");
    let entry = wait_for_action(&s, &c, "breaker.loop_detected").await;
    assert_eq!(entry["details"]["runs"], 3, "{entry}");
    assert_eq!(entry["details"]["windowMinutes"], 10, "{entry}");
    let (st, skipped) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/wakeup"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(skipped["reason"], "breaker.loop_detected", "{skipped}");
    // It stays paused: the timer does not lift a loop.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(runs_of(&s, &c, &agent).await.len(), 3);
    let (_, board) = s.get(&format!("/companies/{c}/dashboard")).await;
    let paused_list = board["pausedAgents"].as_array().expect("pausedAgents");
    assert_eq!(paused_list.len(), 1, "{board}");
    assert_eq!(paused_list[0]["reason"], "loop_detected");
    assert!(
        paused_list[0]["lift"].as_str().unwrap().contains("resume"),
        "{board}"
    );

    // The board resumes it: the breaker is gone from the dashboard.
    let (st, a) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/resume"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    let (_, board) = s.get(&format!("/companies/{c}/dashboard")).await;
    assert_eq!(
        board["breakers"].as_array().map(Vec::len),
        Some(0),
        "{board}"
    );
}

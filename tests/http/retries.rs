//! Retries of failed runs over real HTTP: a run that fails gets a `scheduled_retry` run of
//! its own after a delay that grows each attempt, up to a cap on attempts; a timer run is not
//! retried (the timer comes again); a paused agent's retry is cancelled, not run.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const FAST_RETRIES: &[(&str, &str)] = &[
    ("HEARTBEAT_SCHEDULER_INTERVAL_MS", "100"),
    ("HEARTBEAT_RETRY_BASE_SEC", "1"),
    ("HEARTBEAT_RETRY_MAX_ATTEMPTS", "2"),
];

async fn hire(s: &TestServer, company: &str, name: &str, command: &str) -> String {
    let (st, a) = s
        .post(
            &format!("/companies/{company}/agents"),
            json!({"name": name, "role": "engineer", "adapterType": "process",
                   "adapterConfig": {"command": command}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    a["id"].as_str().unwrap().to_string()
}

async fn wake(s: &TestServer, agent: &str) -> Value {
    let (st, run) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/wakeup"),
            None,
            Some(json!({"reason": "try it"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{run}");
    run
}

/// The agent's runs, oldest first.
pub async fn runs_of(s: &TestServer, company: &str, agent: &str) -> Vec<Value> {
    let (st, runs) = s
        .get(&format!(
            "/companies/{company}/heartbeat-runs?agentId={agent}"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{runs}");
    let mut runs = runs.as_array().unwrap().clone();
    runs.sort_by(|a, b| a["createdAt"].as_str().cmp(&b["createdAt"].as_str()));
    runs
}

fn time(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("RFC 3339")
}

#[tokio::test]
async fn a_failed_run_is_retried_with_a_growing_delay_until_the_cap() {
    let Some(s) = TestServer::start_env(FAST_RETRIES).await else {
        return;
    };
    let c = s.company("Retry Co").await;
    let agent = hire(&s, &c, "Flaky", "false").await;
    let first = wake(&s, &agent).await;
    let first = wait_for_run(&s, None, first["id"].as_str().unwrap(), &["failed"]).await;
    assert_eq!(first["errorCode"], "adapter_failed", "{first}");

    // The retry waits in `scheduled_retry`, then runs; then a second; then no more.
    let deadline = Instant::now() + Duration::from_secs(30);
    let runs = loop {
        let runs = runs_of(&s, &c, &agent).await;
        let settled = runs.len() == 3 && runs.iter().all(|r| r["status"] == "failed");
        if settled || Instant::now() > deadline {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(runs.len(), 3, "{runs:#?}");
    for (n, pair) in runs.windows(2).enumerate() {
        let (before, retry) = (&pair[0], &pair[1]);
        assert_eq!(retry["retryOfRunId"], before["id"], "{retry}");
        assert_eq!(retry["scheduledRetryAttempt"], n as i64 + 1, "{retry}");
        assert_eq!(retry["scheduledRetryReason"], "transient_failure");
        assert_eq!(retry["contextSnapshot"]["retryAttempt"], n as i64 + 1);
        // Attempt 1 waits about a second, attempt 2 about four (±25%).
        let least = [750, 3000][n];
        let waited = time(&retry["startedAt"]) - time(&before["finishedAt"]);
        assert!(
            waited.num_milliseconds() >= least,
            "attempt {} started {waited} after the failure",
            n + 1
        );
        let due = time(&retry["scheduledRetryAt"]) - time(&before["finishedAt"]);
        assert!(due.num_milliseconds() <= [1250, 5000][n] + 200, "{retry}");
    }
    // No third retry, and the last run says so.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(runs_of(&s, &c, &agent).await.len(), 3);
    let last = runs[2]["id"].as_str().unwrap();
    let (_, events) = s.get(&format!("/heartbeat-runs/{last}/events")).await;
    assert!(
        events.as_array().unwrap().iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("Retries exhausted"))),
        "{events}"
    );
}

#[tokio::test]
async fn a_paused_agent_keeps_its_retry_from_running_and_success_needs_none() {
    let Some(s) = TestServer::start_env(FAST_RETRIES).await else {
        return;
    };
    let c = s.company("Pause Co").await;
    let agent = hire(&s, &c, "Flaky", "false").await;
    let first = wake(&s, &agent).await;
    wait_for_run(&s, None, first["id"].as_str().unwrap(), &["failed"]).await;
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/pause"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(15);
    let runs = loop {
        let runs = runs_of(&s, &c, &agent).await;
        if runs.len() == 2 && runs[1]["status"] != "scheduled_retry" || Instant::now() > deadline {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert_eq!(runs[1]["status"], "cancelled", "{:#}", runs[1]);
    assert!(
        runs[1]["error"].as_str().unwrap().contains("paused"),
        "{:#}",
        runs[1]
    );
    assert!(
        runs[1]["startedAt"].is_null(),
        "it never ran: {:#}",
        runs[1]
    );

    // A run that succeeds is not retried.
    let ok = hire(&s, &c, "Steady", "true").await;
    let run = wake(&s, &ok).await;
    wait_for_run(&s, None, run["id"].as_str().unwrap(), &["succeeded"]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(runs_of(&s, &c, &ok).await.len(), 1);
}

//! The `http` adapter against a real receiver on loopback: a 2xx answer ends the run, a 500
//! fails it, and a 202 leaves it running until the receiver reports the end through
//! `POST /heartbeat-runs/:id/callback` with the agent's own key (or the run times out).

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::routing::post;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// A webhook receiver that answers every call with `status` and keeps the bodies.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    _task: tokio::task::JoinHandle<()>,
}

async fn receiver(status: u16) -> Receiver {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let state = (bodies.clone(), AxumStatus::from_u16(status).unwrap());
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                async |State((bodies, status)): State<(Arc<Mutex<Vec<Value>>>, AxumStatus)>,
                       Json(body): Json<Value>| {
                    bodies.lock().unwrap().push(body);
                    status
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver {
        url,
        bodies,
        _task: task,
    }
}

/// An `http` agent calling `url`, with its own API key; (agent id, key).
async fn webhook_agent(
    s: &TestServer,
    company: &str,
    name: &str,
    config: Value,
) -> (String, String) {
    let (st, a) = s
        .post(
            &format!("/companies/{company}/agents"),
            json!({"name": name, "adapterType": "http", "adapterConfig": config}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let key = s.key(&id).await;
    (id, key)
}

async fn invoke(s: &TestServer, agent: &str) -> String {
    let (st, run) = s
        .post(&format!("/agents/{agent}/heartbeat/invoke"), json!({}))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{run}");
    run["id"].as_str().unwrap().to_string()
}

async fn report(s: &TestServer, run: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    s.call(
        Method::POST,
        &format!("/heartbeat-runs/{run}/callback"),
        key,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn an_accepted_webhook_run_ends_when_its_receiver_reports() {
    let s = test_server!();
    let c = s.company("Hooks").await;
    let hook = receiver(202).await;
    let (agent, key) = webhook_agent(
        &s,
        &c,
        "Hook",
        json!({"url": hook.url, "payloadTemplate": {"kind": "wake"}}),
    )
    .await;
    let (_, other_key) = webhook_agent(&s, &c, "Other", json!({"url": hook.url})).await;

    let run = invoke(&s, &agent).await;
    let running = wait_for_run(&s, None, &run, &["running"]).await;
    assert_eq!(running["status"], "running");
    // The receiver got the template merged with the run's ids and where to report.
    let body = loop {
        if let Some(b) = hook.bodies.lock().unwrap().first().cloned() {
            break b;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(body["kind"], "wake");
    assert_eq!(body["agentId"], agent.as_str());
    assert_eq!(body["runId"], run.as_str());
    assert!(body["context"].is_object(), "{body}");
    let callback = body["callbackUrl"].as_str().unwrap();
    assert!(
        callback.ends_with(&format!("/api/heartbeat-runs/{run}/callback")),
        "{callback}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, still) = s.get(&format!("/heartbeat-runs/{run}")).await;
    assert_eq!(still["status"], "running", "202 keeps the run open");

    // Only the run's own agent reports; the board and another agent may not.
    let done = json!({"status": "succeeded", "summary": "Shipped",
        "usage": {"inputTokens": 120, "outputTokens": 30, "costUsd": 0.25, "model": "m1", "provider": "acme"}});
    let (st, e) = report(&s, &run, None, done.clone()).await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, e) = report(&s, &run, Some(&other_key), done.clone()).await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, e) = report(
        &s,
        &run,
        Some(&key),
        json!({"status": "succeeded", "usage": {"inputTokens": -1}}),
    )
    .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("inputTokens"), "{e}");

    let (st, ended) = report(&s, &run, Some(&key), done.clone()).await;
    assert_eq!(st, StatusCode::OK, "{ended}");
    assert_eq!(ended["status"], "succeeded");
    assert_eq!(ended["resultJson"]["summary"], "Shipped");
    assert_eq!(ended["usageJson"]["inputTokens"], 120);
    assert_eq!(ended["usageJson"]["costUsd"], 0.25);
    assert_eq!(ended["usageJson"]["model"], "m1");
    let (_, agent_now) = s.get(&format!("/agents/{agent}")).await;
    assert_eq!(agent_now["status"], "idle", "{agent_now}");

    // The end is written once: a second report is a conflict, the run stays as reported.
    let (st, e) = report(&s, &run, Some(&key), json!({"status": "failed"})).await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert_eq!(e["code"], "run_not_running");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, last) = s.get(&format!("/heartbeat-runs/{run}")).await;
    assert_eq!(last["status"], "succeeded", "{last}");

    // A reported failure fails the run with the receiver's words.
    let run = invoke(&s, &agent).await;
    wait_for_run(&s, None, &run, &["running"]).await;
    let (st, ended) = report(
        &s,
        &run,
        Some(&key),
        json!({"status": "failed", "error": "deploy broke"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{ended}");
    assert_eq!(ended["status"], "failed");
    assert_eq!(ended["error"], "deploy broke");
}

#[tokio::test]
async fn a_webhook_answer_ends_the_run_and_a_silent_receiver_times_it_out() {
    let s = test_server!();
    let c = s.company("Hooks").await;
    let ok = receiver(200).await;
    let broken = receiver(500).await;
    let silent = receiver(202).await;
    let (ok_agent, ok_key) = webhook_agent(&s, &c, "Ok", json!({"url": ok.url})).await;
    let (broken_agent, _) = webhook_agent(&s, &c, "Broken", json!({"url": broken.url})).await;
    let (silent_agent, _) = webhook_agent(
        &s,
        &c,
        "Silent",
        json!({"url": silent.url, "timeoutSec": 1}),
    )
    .await;

    let run = invoke(&s, &ok_agent).await;
    let ended = wait_for_run(&s, None, &run, &["succeeded", "failed"]).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    // A run that is over takes no report.
    let (st, e) = report(&s, &run, Some(&ok_key), json!({"status": "succeeded"})).await;
    assert_error(st, &e, StatusCode::CONFLICT);

    let run = invoke(&s, &broken_agent).await;
    let ended = wait_for_run(&s, None, &run, &["succeeded", "failed"]).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["error"], "HTTP invoke failed with status 500");

    let run = invoke(&s, &silent_agent).await;
    let ended = wait_for_run(&s, None, &run, &["timed_out", "succeeded", "failed"]).await;
    assert_eq!(ended["status"], "timed_out", "{ended}");
    assert_eq!(ended["errorCode"], "timeout");
}

#[tokio::test]
async fn only_webhook_runs_take_a_report() {
    let s = test_server!();
    let c = s.company("Hooks").await;
    let (st, a) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Sleeper", "adapterType": "process",
                   "adapterConfig": {"command": "sleep", "args": ["30"]}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let agent = a["id"].as_str().unwrap();
    let key = s.key(agent).await;
    let run = invoke(&s, agent).await;
    wait_for_run(&s, None, &run, &["running"]).await;
    let (st, e) = report(&s, &run, Some(&key), json!({"status": "succeeded"})).await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert_eq!(e["code"], "not_a_webhook_run");
    let (st, _) = s
        .post(&format!("/heartbeat-runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn a_report_taken_by_another_replica_ends_the_run_where_it_waits() {
    let s = test_server!();
    if s.database_url().is_none() {
        return; // replicas share a PostgreSQL database
    }
    let other = s.replica().await;
    let c = s.company("Hooks").await;
    let hook = receiver(202).await;
    let (agent, key) = webhook_agent(&s, &c, "Hook", json!({"url": hook.url})).await;
    let run = invoke(&s, &agent).await;
    wait_for_run(&s, None, &run, &["running"]).await;
    let (st, ended) = report(&other, &run, Some(&key), json!({"status": "succeeded"})).await;
    assert_eq!(st, StatusCode::OK, "{ended}");
    assert_eq!(ended["status"], "succeeded");
    // The first server lets go of the run (its wait notices the end), so the agent's
    // next run starts there.
    let next = invoke(&s, &agent).await;
    let started = wait_for_run(&s, None, &next, &["running"]).await;
    assert_eq!(started["status"], "running");
    let (_, first) = s.get(&format!("/heartbeat-runs/{run}")).await;
    assert_eq!(first["status"], "succeeded", "{first}");
}

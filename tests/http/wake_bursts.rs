//! Wakes in bursts (both suites): twenty at once for one task coalesce without losing a
//! reason; wakes for many tasks at once never run an agent over its limit. Every run's process
//! writes its id with a start and an end time to a ledger file, so what really executed is
//! compared with what the API says. `replica_runs.rs` runs the same bursts over two replicas.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// Appends `<run id> start <ns>` and, `$RUN_SECONDS` (0.3) later, `<run id> end <ns>` to
/// `$RUN_LEDGER`.
pub const LEDGER_SCRIPT: &str = r#"echo "$PAPERCLIP_RUN_ID start $(date +%s%N)" >> "$RUN_LEDGER"
sleep "${RUN_SECONDS:-0.3}"
echo "$PAPERCLIP_RUN_ID end $(date +%s%N)" >> "$RUN_LEDGER""#;

/// An agent whose process writes to `ledger`, with this `runtimeConfig.heartbeat`.
pub async fn ledger_agent(
    s: &TestServer,
    company: &str,
    ledger: &Path,
    heartbeat: Value,
) -> String {
    named_ledger_agent(s, company, "Ledger", ledger, heartbeat, "0.3").await
}

pub async fn named_ledger_agent(
    s: &TestServer,
    company: &str,
    name: &str,
    ledger: &Path,
    heartbeat: Value,
    run_seconds: &str,
) -> String {
    let (st, agent) = s
        .post(
            &format!("/companies/{company}/agents"),
            json!({
                "name": name,
                "role": "engineer",
                "adapterType": "process",
                "adapterConfig": {
                    "command": "sh",
                    "args": ["-c", LEDGER_SCRIPT],
                    "env": {
                        "RUN_LEDGER": ledger.display().to_string(),
                        "RUN_SECONDS": run_seconds,
                    },
                },
                "runtimeConfig": {"heartbeat": heartbeat},
            }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{agent}");
    agent["id"].as_str().unwrap().to_string()
}

/// The ledger by run id: the start times and end times (ns) its process wrote.
#[derive(Default, Debug)]
pub struct Executions {
    pub starts: Vec<i128>,
    pub ends: Vec<i128>,
}

pub fn read_ledger(path: &Path) -> BTreeMap<String, Executions> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut by_run: BTreeMap<String, Executions> = BTreeMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        let [run, what, ns] = parts[..] else {
            panic!("a torn ledger line: {line:?}")
        };
        let ns: i128 = ns
            .parse()
            .unwrap_or_else(|_| panic!("a ledger time: {line:?}"));
        let entry = by_run.entry(run.to_string()).or_default();
        match what {
            "start" => entry.starts.push(ns),
            "end" => entry.ends.push(ns),
            other => panic!("ledger line {other:?}"),
        }
    }
    by_run
}

/// The agent's runs, newest first.
pub async fn runs_of(s: &TestServer, company: &str, agent: &str) -> Vec<Value> {
    let (st, runs) = s
        .get(&format!(
            "/companies/{company}/heartbeat-runs?agentId={agent}&limit=1000"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{runs}");
    runs.as_array().unwrap().clone()
}

pub fn is_open(run: &Value) -> bool {
    matches!(run["status"].as_str(), Some("queued" | "running"))
}

pub fn time_of(run: &Value, field: &str) -> chrono::DateTime<chrono::Utc> {
    run[field]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("{field} of {run}"))
        .to_utc()
}

/// Each ended run's process ran exactly once (one start, one end in the ledger), no process
/// ran for a run the API does not list, and no two runs of the agent overlapped: neither the
/// processes (ledger times) nor the runs (startedAt … finishedAt).
pub fn assert_once_each_and_one_at_a_time(
    ended: &[Value],
    listed: &[Value],
    executions: &BTreeMap<String, Executions>,
) {
    let listed_ids: BTreeSet<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for run in executions.keys() {
        assert!(
            listed_ids.contains(run.as_str()),
            "a process ran for {run}, which the API does not list"
        );
    }
    let mut intervals = Vec::new();
    for run in ended {
        let id = run["id"].as_str().unwrap();
        assert_eq!(run["status"], "succeeded", "{run}");
        let e = executions
            .get(id)
            .unwrap_or_else(|| panic!("run {id} succeeded without its process: {executions:?}"));
        assert_eq!(
            (e.starts.len(), e.ends.len()),
            (1, 1),
            "run {id} executed more than once: {e:?}"
        );
        intervals.push((e.starts[0], e.ends[0], id));
    }
    for (id, e) in executions {
        // A run still under way when the ledger was read has at most its start.
        if !ended.iter().any(|r| r["id"] == id.as_str()) {
            assert!(e.starts.len() <= 1 && e.ends.len() <= 1, "{id}: {e:?}");
            if let Some(start) = e.starts.first() {
                intervals.push((*start, e.ends.first().copied().unwrap_or(i128::MAX), id));
            }
        }
    }
    intervals.sort();
    for pair in intervals.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "the processes of runs {} and {} overlapped: {intervals:?}",
            pair[0].2,
            pair[1].2
        );
    }
    let mut spans: Vec<_> = ended
        .iter()
        .map(|r| {
            (
                time_of(r, "startedAt"),
                time_of(r, "finishedAt"),
                r["id"].clone(),
            )
        })
        .collect();
    spans.sort_by_key(|s| s.0);
    for pair in spans.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "runs {} and {} were running at once: {spans:?}",
            pair[0].2,
            pair[1].2
        );
    }
}

/// One row of `agent_wakeup_requests`.
#[derive(Debug)]
pub struct Wakeup {
    #[allow(dead_code)] // read by replica_runs.rs (PostgreSQL suite only)
    pub id: String,
    pub source: String,
    pub status: String,
    pub run_id: Option<String>,
    #[allow(dead_code)] // read by replica_runs.rs (PostgreSQL suite only)
    pub requested_at: chrono::DateTime<chrono::Utc>,
}

/// The agent's wake-up requests, oldest first (read from its database: no API lists them).
pub async fn wakeups_of(s: &TestServer, agent: &str) -> Vec<Wakeup> {
    let row = match crate::BACKEND {
        Backend::Postgres => {
            "json_build_array(id::text, source, status, run_id::text, requested_at)::text"
        }
        Backend::Sqlite => "json_array(id, source, status, run_id, requested_at)",
    };
    s.sql_texts(&format!(
        "SELECT {row} FROM agent_wakeup_requests WHERE agent_id = '{agent}'
         ORDER BY requested_at, id"
    ))
    .await
    .iter()
    .map(|row| {
        let v: Value = serde_json::from_str(row).unwrap();
        let text = |i: usize| v[i].as_str().unwrap_or_else(|| panic!("{row}")).to_string();
        Wakeup {
            id: text(0),
            source: text(1),
            status: text(2),
            run_id: v[3].as_str().map(str::to_string),
            requested_at: chrono::DateTime::parse_from_rfc3339(&text(4))
                .unwrap_or_else(|e| panic!("{row}: {e}"))
                .to_utc(),
        }
    })
    .collect()
}

/// Polls until none of the agent's runs is queued or running (25 s at most); its runs then.
pub async fn runs_when_all_ended(s: &TestServer, company: &str, agent: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let runs = runs_of(s, company, agent).await;
        if !runs.iter().any(is_open) {
            return runs;
        }
        assert!(
            Instant::now() < deadline,
            "runs still open after 25 s: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Twenty wakes of one agent for one task at once, spread over `servers`: they coalesce
/// into as few runs as the timing allows (one queued at a time), without losing a reason,
/// and each run's process runs once, one at a time.
pub async fn twenty_wakeups_of_one_task(servers: &[Arc<TestServer>]) {
    let a = &servers[0];
    let ledger = a.home.join("ledger");
    let company = a.company("Burst Co").await;
    let agent = ledger_agent(
        a,
        &company,
        &ledger,
        json!({"enabled": false, "maxConcurrentRuns": 1}),
    )
    .await;

    let sent = Instant::now();
    let mut calls = Vec::new();
    for n in 0..20 {
        let server = servers[n % servers.len()].clone();
        let agent = agent.clone();
        calls.push(tokio::spawn(async move {
            server
                .call(
                    Method::POST,
                    &format!("/agents/{agent}/wakeup"),
                    None,
                    Some(json!({"reason": format!("burst {n}")})),
                )
                .await
        }));
    }
    let mut answered = BTreeSet::new();
    for call in calls {
        let (st, run) = call.await.unwrap();
        assert_eq!(st, StatusCode::ACCEPTED, "{run}");
        assert_eq!(run["agentId"], agent.as_str(), "a run, not a skip: {run}");
        answered.insert(run["id"].as_str().unwrap().to_string());
    }
    let span = sent.elapsed();

    let listed = runs_when_all_ended(a, &company, &agent).await;
    let ids: BTreeSet<String> = listed
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, answered, "every run made was answered to a wake-up");
    assert_once_each_and_one_at_a_time(&listed, &listed, &read_ledger(&ledger));

    // Coalesced, not lost: each of the 20 reasons is in exactly one run, each wake-up names
    // a run, and the runs are exactly those the queued wake-ups made.
    let mut reasons: Vec<String> = listed
        .iter()
        .flat_map(|r| {
            r["contextSnapshot"]["wakeReasons"]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    reasons.sort();
    let mut expected: Vec<String> = (0..20).map(|n| format!("burst {n}")).collect();
    expected.sort();
    assert_eq!(reasons, expected, "{listed:?}");
    let wakeups = wakeups_of(a, &agent).await;
    assert_eq!(wakeups.len(), 20, "{wakeups:?}");
    let mut made = BTreeSet::new();
    for w in &wakeups {
        assert_eq!(w.source, "on_demand");
        let run = w.run_id.clone().expect("each wake-up names its run");
        assert!(ids.contains(&run), "{run} of {wakeups:?}");
        match w.status.as_str() {
            "queued" => assert!(made.insert(run), "two wake-ups queued one run"),
            "coalesced" => {}
            other => panic!("wake-up status {other}"),
        }
    }
    assert_eq!(made, ids);

    // Merged as far as the timing allows: a second run of the task is queued only once the
    // first has started, and runs start at least 0.3 s apart (each lasts that long), so wakes
    // handled within `span` make at most 2 + span / 0.3 s runs.
    let most = 2 + span.as_millis() as usize / 300;
    assert!(
        listed.len() <= most,
        "{} runs for 20 wakes answered within {span:?}: more than one queued at a time",
        listed.len()
    );
}

/// Wakes of six agents for ten tasks each, all at once, spread over `servers`, `rounds`
/// times: different tasks do not coalesce, so each wake queues a run and every server tries
/// to start the agent's queued runs at once; none may run two at a time (its limit is 1).
pub async fn wakes_for_many_tasks(servers: &[Arc<TestServer>], rounds: usize) {
    const AGENTS: usize = 6;
    const TASKS: usize = 10;
    let a = &servers[0];
    let company = a.company("Many Tasks Co").await;
    let mut agents = Vec::new();
    for n in 0..AGENTS {
        let ledger = a.home.join(format!("ledger-{n}"));
        let agent = named_ledger_agent(
            a,
            &company,
            &format!("Worker {n}"),
            &ledger,
            json!({"enabled": false, "maxConcurrentRuns": 1}),
            "0.1",
        )
        .await;
        let mut issues = Vec::new();
        for t in 0..TASKS {
            let issue = a
                .issue(&company, json!({"title": format!("Task {n}.{t}")}))
                .await;
            issues.push(issue["id"].as_str().unwrap().to_string());
        }
        agents.push((agent, ledger, issues));
    }

    // The race is in the first moments of a burst: a few bursts make it likely to be hit.
    for round in 1..=rounds {
        let mut calls = Vec::new();
        for (agent, _, issues) in &agents {
            for (t, issue) in issues.iter().enumerate() {
                let server = servers[t % servers.len()].clone();
                let path = format!("/agents/{agent}/wakeup");
                let body =
                    json!({"reason": format!("round {round}"), "payload": {"issueId": issue}});
                calls.push(tokio::spawn(async move {
                    server.call(Method::POST, &path, None, Some(body)).await
                }));
            }
        }
        for call in calls {
            let (st, run) = call.await.unwrap();
            assert_eq!(st, StatusCode::ACCEPTED, "{run}");
            assert_eq!(run["status"], "queued", "{run}");
        }
        for (agent, ledger, issues) in &agents {
            let listed = runs_when_all_ended(a, &company, agent).await;
            assert_eq!(listed.len(), TASKS * round, "one run per task: {listed:?}");
            let reason = format!("round {round}");
            let this_round: Vec<&Value> = listed
                .iter()
                .filter(|r| r["contextSnapshot"]["wakeReason"] == reason.as_str())
                .collect();
            let tasks: BTreeSet<&str> = this_round
                .iter()
                .map(|r| r["contextSnapshot"]["issueId"].as_str().unwrap())
                .collect();
            assert_eq!(tasks, issues.iter().map(String::as_str).collect());
            assert_once_each_and_one_at_a_time(&listed, &listed, &read_ledger(ledger));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_wakeups_of_one_task_at_once_keep_every_reason_and_run_each_run_once() {
    let s = Arc::new(test_server!());
    twenty_wakeups_of_one_task(std::slice::from_ref(&s)).await;
    Arc::into_inner(s).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wakes_for_many_tasks_at_once_never_run_an_agent_over_its_limit() {
    let s = Arc::new(test_server!());
    wakes_for_many_tasks(std::slice::from_ref(&s), 2).await;
    Arc::into_inner(s).unwrap().stop().await;
}

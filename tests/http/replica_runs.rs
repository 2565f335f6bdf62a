//! Heartbeats on two replicas of one PostgreSQL database (PostgreSQL suite only): a timer
//! wake makes one run and the runs follow one another; bursts of wakes spread over both
//! replicas run each run once and never run an agent over its limit (`wake_bursts.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;
use crate::wake_bursts::*;

/// A fast timer on every replica: each looks for due agents every 100 ms.
const FAST_TIMER: &[(&str, &str)] = &[("HEARTBEAT_SCHEDULER_INTERVAL_MS", "100")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_on_two_replicas_makes_one_run_per_wake_one_at_a_time() {
    // Several agents on the timer: a tick that wakes them one after the other lasts long
    // enough for the other replica's tick to fall inside it, were both to wake them.
    const AGENTS: usize = 4;
    let Some(a) = TestServer::start_env(FAST_TIMER).await else {
        return;
    };
    let b = a.replica_env(FAST_TIMER).await;
    let company = a.company("Timer Co").await;
    let mut agents = Vec::new();
    for n in 0..AGENTS {
        let ledger = a.home.join(format!("ledger-{n}"));
        let heartbeat = json!({"enabled": true, "intervalSec": 1, "maxConcurrentRuns": 1});
        let agent = named_ledger_agent(
            &a,
            &company,
            &format!("Timed {n}"),
            &ledger,
            heartbeat,
            "0.3",
        )
        .await;
        agents.push((agent, ledger));
    }

    // Three timer runs of each through (a run takes 0.3 s; the next wake is due 1 s after
    // the last one began or the last run ended).
    let deadline = Instant::now() + Duration::from_secs(20);
    for (agent, _) in &agents {
        loop {
            let runs = runs_of(&b, &company, agent).await;
            if runs.iter().filter(|r| !is_open(r)).count() >= 3 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no three timer runs in 20 s: {runs:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    for (agent, ledger) in &agents {
        // A consistent picture while the timer goes on: runs listed, ledger read, runs again
        // (a run that starts in between is in the second list).
        let listed = runs_of(&a, &company, agent).await;
        let ended: Vec<Value> = listed.iter().filter(|r| !is_open(r)).cloned().collect();
        let executions = read_ledger(ledger);
        let listed_after = runs_of(&b, &company, agent).await;
        let wakeups = wakeups_of(&a, agent).await;
        let listed_last = runs_of(&a, &company, agent).await;

        assert!(ended.len() >= 3, "{listed:?}");
        for run in &listed_after {
            assert_eq!(run["invocationSource"], "timer", "{run}");
            assert_eq!(run["triggerDetail"], "system", "{run}");
        }
        assert!(
            listed_after.iter().filter(|r| is_open(r)).count() <= 1,
            "at most one run open at a time: {listed_after:?}"
        );
        assert_once_each_and_one_at_a_time(&ended, &listed_after, &executions);

        // One wake per interval: the replicas do not both wake the agent when it is due.
        for pair in wakeups.windows(2) {
            let gap = pair[1].requested_at - pair[0].requested_at;
            assert!(
                gap >= chrono::Duration::milliseconds(900),
                "two timer wakes {gap} apart: {pair:?}"
            );
        }
        // One run per timer wake: every run was queued by exactly one timer wake-up, and
        // every timer wake-up that queued a run queued its own.
        let mut queued_by: HashMap<String, Vec<String>> = HashMap::new();
        for w in &wakeups {
            assert_eq!(w.source, "timer", "only the timer woke: {wakeups:?}");
            match w.status.as_str() {
                "queued" => queued_by
                    .entry(w.run_id.clone().expect("a queued wake-up names its run"))
                    .or_default()
                    .push(w.id.clone()),
                "coalesced" | "skipped" => {}
                other => panic!("wake-up status {other}: {wakeups:?}"),
            }
        }
        for run in &listed {
            let id = run["id"].as_str().unwrap();
            let wakes = queued_by.get(id).cloned().unwrap_or_default();
            assert_eq!(wakes.len(), 1, "run {id} queued by {wakes:?}");
            assert_eq!(run["wakeupRequestId"], wakes[0].as_str(), "{run}");
        }
        for run in queued_by.keys() {
            assert!(
                listed_last.iter().any(|r| r["id"] == run.as_str()),
                "a timer wake-up queued {run}, which does not exist"
            );
        }
    }

    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_wakeups_across_two_replicas_run_each_run_once_and_one_at_a_time() {
    let a = test_server!();
    let b = a.replica().await;
    let servers = [Arc::new(a), Arc::new(b)];
    twenty_wakeups_of_one_task(&servers).await;
    for s in servers {
        Arc::into_inner(s).unwrap().stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wakes_for_many_tasks_across_two_replicas_never_run_an_agent_over_its_limit() {
    let a = test_server!();
    let b = a.replica().await;
    let servers = [Arc::new(a), Arc::new(b)];
    wakes_for_many_tasks(&servers, 3).await;
    for s in servers {
        Arc::into_inner(s).unwrap().stop().await;
    }
}

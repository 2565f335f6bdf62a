//! The supervisor against real processes: `sh` scripts that fork, ignore SIGTERM and go quiet.

use std::time::Duration;

use tokio::sync::watch;

use super::procs::live_group_members;
use super::supervisor::*;

fn sh(script: &str) -> Launch {
    Launch {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        cwd: None,
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        stdin: None,
    }
}

fn limits(timeout_ms: u64, idle_ms: Option<u64>) -> Limits {
    Limits {
        timeout: Duration::from_millis(timeout_ms),
        idle_timeout: idle_ms.map(Duration::from_millis),
        grace: Duration::from_millis(300),
    }
}

/// Runs `launch` to its end, returning how it ended, its stdout, and its group id.
async fn run(
    launch: Launch,
    limits: Limits,
    stop_after: Option<Duration>,
) -> (Ending, String, i32) {
    let running = spawn(&launch).expect("spawn");
    let pgid = running.pid as i32;
    let (stop_tx, stop_rx) = watch::channel(None);
    if let Some(after) = stop_after {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = stop_tx.send(Some(StopReason::Cancelled));
        });
    } else {
        std::mem::forget(stop_tx);
    }
    let mut out = String::new();
    let mut supervised = running.supervise(limits, stop_rx);
    let mut ending = None;
    while let Some(step) = supervised.next().await {
        match step {
            Step::Output(Stream::Stdout, bytes) => out.push_str(&String::from_utf8_lossy(&bytes)),
            Step::Output(Stream::Stderr, _) => {}
            Step::Ended(e) => ending = Some(e),
        }
    }
    let ending = ending.expect("an end");
    (ending, out, pgid)
}

/// A leader that starts two grandchildren ignoring SIGTERM, prints their pids, and sleeps.
const STUBBORN: &str = r#"
trap '' TERM
(trap '' TERM; sleep 60) &
(trap '' TERM; (trap '' TERM; sleep 60) & wait) &
echo started
sleep 60
"#;

fn assert_group_gone(pgid: i32) {
    let left = live_group_members(pgid).unwrap_or_default();
    assert!(left.is_empty(), "processes left in group {pgid}: {left:?}");
}

#[tokio::test]
async fn a_timeout_kills_the_whole_group_even_when_it_ignores_sigterm() {
    super::supervisor::become_subreaper();
    let (ending, out, pgid) = run(sh(STUBBORN), limits(800, None), None).await;
    assert_eq!(ending, Ending::TimedOut);
    assert!(out.contains("started"), "output was {out:?}");
    assert_group_gone(pgid);
}

#[tokio::test]
async fn a_cancel_stops_the_group_at_once() {
    super::supervisor::become_subreaper();
    let started = std::time::Instant::now();
    let (ending, _, pgid) = run(
        sh(STUBBORN),
        limits(60_000, None),
        Some(Duration::from_millis(300)),
    )
    .await;
    assert_eq!(ending, Ending::Stopped(StopReason::Cancelled));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_group_gone(pgid);
}

#[tokio::test]
async fn silence_ends_the_run_with_the_idle_timeout() {
    let (ending, out, pgid) = run(sh("echo one; sleep 30"), limits(60_000, Some(400)), None).await;
    assert_eq!(ending, Ending::IdleTimedOut);
    assert_eq!(out, "one\n");
    assert_group_gone(pgid);
}

#[tokio::test]
async fn an_exit_reports_its_code_and_takes_background_children_along() {
    super::supervisor::become_subreaper();
    let (ending, out, pgid) = run(
        sh("(trap '' TERM; sleep 60) & echo done; exit 3"),
        limits(60_000, None),
        None,
    )
    .await;
    assert_eq!(
        ending,
        Ending::Exited {
            code: Some(3),
            signal: None
        }
    );
    assert_eq!(out, "done\n");
    assert_group_gone(pgid);
}

#[tokio::test]
async fn stdin_reaches_the_process_and_the_environment_is_only_what_was_given() {
    let mut launch = sh("cat; echo \"[$HOME][$RUN]\"");
    launch.stdin = Some(b"prompt text\n".to_vec());
    launch.env.push(("RUN".into(), "r1".into()));
    let (ending, out, _) = run(launch, limits(10_000, None), None).await;
    assert!(matches!(ending, Ending::Exited { code: Some(0), .. }));
    assert_eq!(out, "prompt text\n[][r1]\n");
}

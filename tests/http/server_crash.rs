//! The `paperclip` binary killed with SIGKILL in the middle of a run, then started again on
//! the same home and database: the run's orphaned process tree (which ignores SIGTERM) is
//! killed, the run ends `interrupted` (`process_lost`), the issue lock it held is free and
//! the agent runs again. Same test on SQLite and PostgreSQL.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestDb};
use crate::heartbeats::processes_of_run;

/// The run's script: checks its issue out (so the run holds the lock), then leaves a tree that
/// ignores SIGTERM: itself, a subshell with a child of its own, and another subshell, each
/// ending as `sleep`. `ready` once everything is started.
const CHECKOUT_THEN_HANG: &str = r#"trap '' TERM
curl -sS -f -X POST "$PAPERCLIP_API_URL/api/issues/$PAPERCLIP_TASK_ID/checkout" \
  -H "Authorization: Bearer $PAPERCLIP_API_KEY" -H "X-Paperclip-Run-Id: $PAPERCLIP_RUN_ID" \
  -H 'Content-Type: application/json' \
  -d "{\"agentId\":\"$PAPERCLIP_AGENT_ID\",\"expectedStatuses\":[\"backlog\",\"todo\"]}" || exit 3
echo
(trap '' TERM; sleep 300 & exec sleep 300) &
(trap '' TERM; exec sleep 300) &
echo ready
exec sleep 300"#;

/// A later run's script: checks the same issue out and prints the answer.
const CHECKOUT_ONLY: &str = r#"curl -sS -f -X POST "$PAPERCLIP_API_URL/api/issues/$PAPERCLIP_TASK_ID/checkout" \
  -H "Authorization: Bearer $PAPERCLIP_API_KEY" -H "X-Paperclip-Run-Id: $PAPERCLIP_RUN_ID" \
  -H 'Content-Type: application/json' \
  -d "{\"agentId\":\"$PAPERCLIP_AGENT_ID\",\"expectedStatuses\":[\"in_progress\"]}""#;

/// `paperclip run --port 0` on a home (and PostgreSQL database): killed with SIGKILL on drop.
struct Binary {
    child: Child,
    base: String,
    client: reqwest::Client,
    /// Kept open: the server may still print.
    _stdout: BufReader<ChildStdout>,
}

impl Binary {
    fn start(home: &Path, db_url: Option<&str>) -> Binary {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.join("server.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperclip"));
        cmd.env_clear()
            .env("PAPERCLIP_HOME", home)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HEARTBEAT_SCHEDULER_ENABLED", "false")
            .args(["run", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(log);
        if let Some(url) = db_url {
            cmd.env("DATABASE_URL", url);
        }
        let mut child = cmd.spawn().expect("start paperclip");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(home.join("server.log")).unwrap_or_default();
            panic!("no start-up line ({line:?}); log:\n{log}");
        };
        let expected_db = match crate::BACKEND {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert!(line.contains(expected_db), "start-up line: {line}");
        Binary {
            base: format!("{url}/api"),
            child,
            client: reqwest::Client::new(),
            _stdout: stdout,
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> Value {
        let (st, v) = self.call(Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "GET {path}: {v}");
        v
    }

    async fn post(&self, path: &str, body: Value, expected: StatusCode) -> Value {
        let (st, v) = self.call(Method::POST, path, Some(body)).await;
        assert_eq!(st, expected, "POST {path}: {v}");
        v
    }

    /// Polls the run until `done` says yes of it (20 s at most).
    async fn wait_run(&self, run: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.get(&format!("/heartbeat-runs/{run}")).await;
            if done(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "run {run} never {what}: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL to the server process alone; returns once it is reaped.
    fn kill_9(&mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    }

    /// SIGTERM and a clean exit (runs interrupted, database closed).
    async fn stop(mut self) {
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whatever the test fails on, the run's processes do not outlive it.
struct KillOnDrop {
    run_id: String,
    pids: Vec<i32>,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for pid in processes_of_run(&self.run_id) {
            // SAFETY: a process whose environment names our run.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        for pid in &self.pids {
            reap(*pid, Duration::from_secs(2));
        }
    }
}

/// `(state, parent pid)` of a process from `/proc/<pid>/stat`; None once it is gone.
fn stat(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = text[text.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// The command name of a process.
fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Waits for a child of ours to end (it is ours: this process is a subreaper), reaps it and
/// returns how it ended; None if it is not ours or did not end in time.
fn reap(pid: i32, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on one pid, without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(status);
        }
        if r < 0 || Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_a_run_ends_it_at_restart_with_its_tree_and_lock_gone() {
    let home = tempfile::tempdir().unwrap();
    let db = match crate::BACKEND {
        Backend::Sqlite => None,
        Backend::Postgres => match TestDb::create().await {
            Some(db) => Some(db),
            None => return,
        },
    };
    let db_url = db.as_ref().map(|d| d.url.clone());
    // Orphans of the killed server are re-parented to this process, so the test sees how they
    // end and leaves no zombie behind.
    // SAFETY: a prctl flag on this process.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };

    let mut first = Binary::start(home.path(), db_url.as_deref());
    let company = first
        .post(
            "/companies",
            json!({"name": "Crash Co"}),
            StatusCode::CREATED,
        )
        .await;
    let company = company["id"].as_str().unwrap().to_string();
    let agent = first
        .post(
            &format!("/companies/{company}/agents"),
            json!({"name": "Worker", "role": "engineer", "adapterType": "process",
                   "adapterConfig": {"command": "sh", "args": ["-c", CHECKOUT_THEN_HANG]}}),
            StatusCode::CREATED,
        )
        .await;
    let agent = agent["id"].as_str().unwrap().to_string();
    let issue = first
        .post(
            &format!("/companies/{company}/issues"),
            json!({"title": "Survive a crash", "status": "todo"}),
            StatusCode::CREATED,
        )
        .await;
    let issue = issue["id"].as_str().unwrap().to_string();
    let run = first
        .post(
            &format!("/agents/{agent}/heartbeat/invoke"),
            json!({"payload": {"issueId": issue}}),
            StatusCode::ACCEPTED,
        )
        .await;
    let run_id = run["id"].as_str().unwrap().to_string();
    let mut guard = KillOnDrop {
        run_id: run_id.clone(),
        pids: Vec::new(),
    };

    // The run is under way: it holds the issue, and its whole tree has started.
    let running = first
        .wait_run(&run_id, "ran with a process group", |r| {
            r["status"] == "running" && r["processGroupId"].is_i64()
        })
        .await;
    let pgid = running["processGroupId"].as_i64().unwrap() as i32;
    let deadline = Instant::now() + Duration::from_secs(20);
    let pids = loop {
        let issue_now = first.get(&format!("/issues/{issue}")).await;
        let pids = processes_of_run(&run_id);
        let settled = pids.len() >= 4 && pids.iter().all(|p| comm(*p) == "sleep");
        if issue_now["checkoutRunId"] == run_id.as_str() && settled {
            assert_eq!(issue_now["executionRunId"], run_id.as_str(), "{issue_now}");
            assert_eq!(issue_now["status"], "in_progress", "{issue_now}");
            assert_eq!(issue_now["assigneeAgentId"], agent.as_str(), "{issue_now}");
            break pids;
        }
        let run_now = first.get(&format!("/heartbeat-runs/{run_id}")).await;
        assert_eq!(
            run_now["status"], "running",
            "the run ended early: {run_now}"
        );
        assert!(
            Instant::now() < deadline,
            "the run never checked out and settled: {issue_now} {pids:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    guard.pids = pids.clone();
    assert_eq!(
        pids.len(),
        4,
        "leader, two subshells, one grandchild: {pids:?}"
    );
    for pid in &pids {
        // SAFETY: getpgid has no preconditions.
        assert_eq!(
            unsafe { libc::getpgid(*pid) },
            pgid,
            "pid {pid} in the run's group"
        );
    }

    // kill -9 the server alone: the tree is orphaned, alive, now a child of this process.
    let dead_server = first.pid();
    first.kill_9();
    drop(first);
    for pid in &pids {
        let (state, parent) =
            stat(*pid).unwrap_or_else(|| panic!("pid {pid} died with the server"));
        assert!(
            !matches!(state, 'Z' | 'X'),
            "pid {pid} died with the server"
        );
        assert_ne!(
            parent, dead_server,
            "pid {pid} still a child of a dead server"
        );
    }
    assert_eq!(processes_of_run(&run_id).len(), 4, "the orphans are alive");

    // Restart on the same home and database: by the time it listens, the orphans are dead.
    let second = Binary::start(home.path(), db_url.as_deref());
    let me = std::process::id() as i32;
    for pid in &pids {
        let (_, parent) = stat(*pid).unwrap_or((' ', 0));
        // Not ours (only if another subreaper stood between): it must still be gone.
        if parent != me {
            assert!(
                !stat(*pid).is_some_and(|(s, _)| !matches!(s, 'Z' | 'X')),
                "pid {pid} alive after the restart"
            );
            continue;
        }
        let status = reap(*pid, Duration::from_secs(5))
            .unwrap_or_else(|| panic!("pid {pid} still alive after the restart: {:?}", stat(*pid)));
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
            "pid {pid} ended by SIGKILL, not {status:#x}"
        );
        assert_eq!(stat(*pid), None, "pid {pid} is gone, not a zombie");
    }
    assert!(processes_of_run(&run_id).is_empty());

    // The run ended `interrupted`, saying what happened.
    let ended = second.get(&format!("/heartbeat-runs/{run_id}")).await;
    assert_eq!(ended["status"], "interrupted", "{ended}");
    assert_eq!(ended["errorCode"], "process_lost", "{ended}");
    assert_eq!(
        ended["error"],
        "The server stopped during the run; at restart its process group (4 processes left) was ended",
        "{ended}"
    );
    assert!(ended["finishedAt"].is_string(), "{ended}");
    let events = second
        .get(&format!("/heartbeat-runs/{run_id}/events"))
        .await;
    let last = events
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["level"], "error", "{events}");
    assert_eq!(last["payload"]["status"], "interrupted", "{events}");

    // What it held is free: the issue keeps its assignee, not the dead run's locks.
    let freed = second.get(&format!("/issues/{issue}")).await;
    assert_eq!(freed["checkoutRunId"], Value::Null, "{freed}");
    assert_eq!(freed["executionRunId"], Value::Null, "{freed}");
    assert_eq!(freed["assigneeAgentId"], agent.as_str(), "{freed}");
    let worker = second.get(&format!("/agents/{agent}")).await;
    assert_eq!(worker["status"], "idle", "not stuck running: {worker}");

    // The agent works again: a new run starts (no stale `running` row holds its one slot) and
    // takes the issue's lock for itself.
    let (st, patched) = second
        .call(
            Method::PATCH,
            &format!("/agents/{agent}"),
            Some(json!({"adapterConfig": {"command": "sh", "args": ["-c", CHECKOUT_ONLY]}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{patched}");
    let next = second
        .post(
            &format!("/agents/{agent}/heartbeat/invoke"),
            json!({"payload": {"issueId": issue}}),
            StatusCode::ACCEPTED,
        )
        .await;
    let next_id = next["id"].as_str().unwrap().to_string();
    let done = second
        .wait_run(&next_id, "ended", |r| {
            matches!(
                r["status"].as_str(),
                Some("succeeded" | "failed" | "timed_out")
            )
        })
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let log = second.get(&format!("/heartbeat-runs/{next_id}/log")).await;
    let stdout: String = log["content"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["chunk"].as_str().unwrap().to_string())
        .collect();
    let answer: Value = serde_json::from_str(stdout.trim()).expect("the checkout's answer");
    assert_eq!(answer["checkoutRunId"], next_id.as_str(), "{answer}");
    assert_eq!(answer["executionRunId"], next_id.as_str(), "{answer}");
    let after = second.get(&format!("/issues/{issue}")).await;
    assert_eq!(after["checkoutRunId"], Value::Null, "{after}");

    second.stop().await;
    drop(guard);
}

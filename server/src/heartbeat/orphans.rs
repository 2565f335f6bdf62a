//! At start: runs this machine was executing when its server died. Their process groups are
//! killed (only processes that carry the run's id in their environment, so a reused group id
//! is never hit), and each run ends `interrupted` with its locks released.

use paperclip_shared::*;
use serde_json::json;

use super::Heartbeats;
use super::procs;
use super::supervisor::{Signal, signal_group};
use crate::domain::{DomainResult, now};
use crate::store::{RunEventDraft, RunFinish, SessionChange};

impl Heartbeats {
    pub(super) async fn reap_orphans(&self) -> DomainResult<()> {
        let me = std::process::id() as i64;
        for run in self.inner.store.open_runs().await? {
            if run.status != RunStatus::Running
                || run.runner_host.as_deref() != Some(&self.inner.host)
            {
                continue;
            }
            // A live server process on this machine still owns it (another instance on one
            // PostgreSQL): not an orphan.
            if let Some(pid) = run.runner_pid
                && pid != me
                && procs::process_alive(pid as i32)
            {
                continue;
            }
            let killed = match run.process_group_id {
                // Waits for the processes to go: off the async runtime.
                Some(pgid) => {
                    let id = run.id.to_string();
                    tokio::task::spawn_blocking(move || end_group(pgid as i32, &id))
                        .await
                        .ok()
                }
                None => None,
            };
            let error = match killed {
                Some(n) if n > 0 => format!(
                    "The server stopped during the run; at restart its process group ({n} processes left) was ended"
                ),
                _ => "The server stopped during the run; it was found unfinished at restart"
                    .to_string(),
            };
            tracing::warn!(run_id = %run.id, "{error}");
            let at = now();
            let finish = RunFinish {
                run_id: run.id,
                agent_id: run.agent_id,
                status: RunStatus::Interrupted,
                finished_at: at,
                error: Some(error.clone()),
                error_code: Some("process_lost".into()),
                exit_code: None,
                signal: None,
                usage_json: None,
                result_json: None,
                session_id_after: None,
                agent_status: AgentStatus::Idle,
                session: SessionChange::Keep,
                cost: None,
                event: Some(RunEventDraft {
                    company_id: run.company_id,
                    run_id: run.id,
                    agent_id: run.agent_id,
                    seq: 11,
                    event_type: "lifecycle".into(),
                    stream: Some("system".into()),
                    level: Some("error".into()),
                    message: Some(error),
                    payload: Some(json!({"status": "interrupted"})),
                    created_at: at,
                }),
                activity: Vec::new(),
            };
            if let Some(ended) = self.inner.store.finish_run(finish).await? {
                self.publish_status(&ended);
            }
        }
        Ok(())
    }
}

/// Kills what is left of a dead server's run group; returns how many processes it found.
fn end_group(pgid: i32, run_id: &str) -> usize {
    match procs::live_group_members(pgid) {
        Some(members) => {
            let ours: Vec<i32> = members
                .into_iter()
                .filter(|pid| procs::belongs_to_run(*pid, run_id) == Some(true))
                .collect();
            for pid in &ours {
                // SAFETY: a plain kill of a process we just identified as the run's.
                #[cfg(unix)]
                unsafe {
                    libc::kill(*pid, libc::SIGKILL);
                }
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while ours.iter().any(|p| procs::process_alive(*p))
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            ours.len()
        }
        None => {
            // No process table to check against: the group as recorded.
            signal_group(pgid, Signal::Kill);
            0
        }
    }
}

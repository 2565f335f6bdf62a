//! Retries of failed runs: a run that failed for a reason that may pass (the CLI crashed, a
//! timeout, the process was lost) and that someone asked for (not the timer, which comes
//! again by itself) gets a retry of its own in `scheduled_retry`, after a delay that grows
//! four times per attempt with ±25% jitter, capped, for at most `retry_max_attempts`. The
//! scheduler queues each when due, unless the agent cannot run by then (paused, terminated,
//! over budget: the retry is cancelled) or the same task is already queued.

use std::time::Duration;

use paperclip_shared::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Heartbeats;
use crate::domain::now;
use crate::store::RunEventDraft;

/// Paperclip's name for the reason of these retries.
pub const TRANSIENT_FAILURE: &str = "transient_failure";

/// Failures worth another try. A usage limit waits for its reset (the breakers), a login or a
/// configuration fault fails the same way again, a cancel was meant.
fn retryable(run: &HeartbeatRun) -> bool {
    matches!(run.status, RunStatus::Failed | RunStatus::TimedOut)
        && matches!(
            run.error_code.as_deref(),
            Some("adapter_failed" | "timeout" | "idle_timeout" | "process_lost")
        )
        && run.invocation_source != InvocationSource::Timer
}

/// The delay before retry `attempt` (1-based): `base × 4^(attempt-1)`, at most `cap`, times
/// `jitter` (0.75 to 1.25), at least a second.
pub fn retry_delay(base: Duration, cap: Duration, attempt: u32, jitter: f64) -> Duration {
    let grown = base.saturating_mul(4u32.saturating_pow(attempt.saturating_sub(1)));
    let capped = grown.min(cap);
    capped
        .mul_f64(jitter.clamp(0.75, 1.25))
        .max(Duration::from_secs(1))
}

/// A jitter factor from 0.75 to 1.25, from a fresh random UUID's bytes.
fn jitter() -> f64 {
    let b = Uuid::new_v4().into_bytes();
    let sample = u16::from_le_bytes([b[0], b[1]]) as f64 / u16::MAX as f64;
    0.75 + sample * 0.5
}

impl Heartbeats {
    /// After a run's end is written: its retry, when it failed in a way that may pass.
    pub(super) async fn schedule_retry_of(&self, run: &HeartbeatRun) {
        if let Err(e) = self.try_schedule_retry(run).await {
            tracing::error!(run_id = %run.id, error = %e, "could not schedule the run's retry");
        }
    }

    async fn try_schedule_retry(&self, run: &HeartbeatRun) -> crate::store::StoreResult<()> {
        let config = &self.inner.config;
        if config.retry_max_attempts == 0 || !retryable(run) {
            return Ok(());
        }
        let attempt = run.scheduled_retry_attempt + 1;
        let max = i64::from(config.retry_max_attempts);
        let at = now();
        let event = |message: String, payload: Value| RunEventDraft {
            company_id: run.company_id,
            run_id: run.id,
            agent_id: run.agent_id,
            seq: 11,
            event_type: "lifecycle".into(),
            stream: Some("system".into()),
            level: Some("warn".into()),
            message: Some(message),
            payload: Some(payload),
            created_at: at,
        };
        if attempt > max {
            let message = format!(
                "Retries exhausted after {} attempts; no further automatic retry",
                run.scheduled_retry_attempt
            );
            return self
                .inner
                .store
                .insert_run_event(event(
                    message,
                    json!({"retryReason": TRANSIENT_FAILURE, "scheduledRetryAttempt": run.scheduled_retry_attempt, "maxAttempts": max}),
                ))
                .await;
        }
        let delay = retry_delay(
            config.retry_base,
            config.retry_max_delay,
            attempt as u32,
            jitter(),
        );
        let due = at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(2));
        let mut context = run.context_snapshot.clone();
        if let Value::Object(map) = &mut context {
            map.insert("retryOfRunId".into(), json!(run.id));
            map.insert("retryReason".into(), json!(TRANSIENT_FAILURE));
            map.insert("retryAttempt".into(), json!(attempt));
        }
        let mut retry = HeartbeatRun::not_started(
            (run.company_id, run.agent_id),
            run.invocation_source,
            Some(TriggerDetail::System),
            RunStatus::ScheduledRetry,
            context,
            at,
        );
        retry.session_id_before = run.session_id_before.clone();
        retry.log_store = run.log_store.clone();
        retry.retry_of_run_id = Some(run.id);
        retry.scheduled_retry_at = Some(due);
        retry.scheduled_retry_attempt = attempt;
        retry.scheduled_retry_reason = Some(TRANSIENT_FAILURE.into());
        let message = format!(
            "Retry {attempt} of {max} scheduled for {} (in {}s)",
            due.to_rfc3339(),
            delay.as_secs()
        );
        let payload = json!({"retryRunId": retry.id, "scheduledRetryAt": due, "scheduledRetryAttempt": attempt, "maxAttempts": max});
        let retry_id = retry.id;
        self.inner
            .store
            .schedule_retry(retry, event(message, payload))
            .await?;
        tracing::info!(run_id = %run.id, %retry_id, attempt, delay_secs = delay.as_secs(), "failed run's retry scheduled");
        Ok(())
    }

    /// On each tick: queues the retries that are due, or cancels those that can no longer
    /// run; how many were queued.
    pub(super) async fn promote_due_retries(&self) -> crate::domain::DomainResult<usize> {
        let store = self.inner.store.clone();
        let mut queued = 0;
        for retry in store.due_retries(now()).await? {
            let Some(agent) = store.get_agent(retry.agent_id).await? else {
                continue;
            };
            let why_not = match agent.status {
                AgentStatus::Paused => Some(format!(
                    "Retry not run: the agent is paused ({})",
                    agent.pause_reason.as_deref().unwrap_or("manual")
                )),
                AgentStatus::Terminated | AgentStatus::PendingApproval => {
                    Some(format!("Retry not run: the agent is {}", agent.status))
                }
                _ => None,
            };
            let task = retry.context_snapshot.get("taskKey");
            let duplicate = store
                .open_runs_of_agent(agent.id)
                .await?
                .into_iter()
                .find(|r| {
                    r.status == RunStatus::Queued && r.context_snapshot.get("taskKey") == task
                });
            let why_not = why_not.or_else(|| {
                duplicate.map(|r| format!("Retry not run: run {} of the same task is queued", r.id))
            });
            if let Some(reason) = why_not {
                self.cancel_run(retry, reason, Vec::new()).await?;
                continue;
            }
            if store.promote_retry(retry.id, now()).await? {
                queued += 1;
                let mut promoted = retry.clone();
                promoted.status = RunStatus::Queued;
                self.publish_status(&promoted);
                self.start_ready_for(agent.id).await;
            }
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_four_times_per_attempt_up_to_the_cap() {
        let (base, cap) = (Duration::from_secs(120), Duration::from_secs(7200));
        let at = |n| retry_delay(base, cap, n, 1.0).as_secs();
        assert_eq!(
            [at(1), at(2), at(3), at(4), at(9)],
            [120, 480, 1920, 7200, 7200]
        );
        assert_eq!(retry_delay(base, cap, 1, 0.75).as_secs(), 90);
        assert_eq!(retry_delay(base, cap, 1, 9.0).as_secs(), 150);
        assert_eq!(retry_delay(base, cap, 40, 1.0), cap);
        for _ in 0..100 {
            assert!((0.75..=1.25).contains(&jitter()));
        }
    }
}

//! The end of a webhook run that answered 202: its receiver reports it through
//! `POST /api/heartbeat-runs/:id/callback`. Whichever server takes the report writes the end
//! (the same transaction as every run's end: locks released, agent status, cost event), then
//! stops the run's wait if it runs here; a run waiting on another replica notices the end
//! there within seconds.

use paperclip_shared::*;
use serde_json::Value;

use super::Heartbeats;
use super::execute::Ran;
use super::supervisor::{Ending, StopReason};
use crate::adapters::{Outcome, Usage};
use crate::domain::{DomainError, DomainResult};

/// A report as an adapter outcome.
fn outcome_of(report: RunCallback) -> Outcome {
    let failed = report.status == CallbackStatus::Failed;
    let usage = report.usage.unwrap_or_default();
    let counted = usage.input_tokens.is_some()
        || usage.cached_input_tokens.is_some()
        || usage.output_tokens.is_some();
    Outcome {
        error: failed.then(|| {
            report
                .error
                .clone()
                .unwrap_or_else(|| "The webhook reported a failure".into())
        }),
        error_code: failed.then(|| "adapter_failed".to_string()),
        usage: counted.then(|| Usage {
            input_tokens: usage.input_tokens.unwrap_or(0),
            cached_input_tokens: usage.cached_input_tokens.unwrap_or(0),
            output_tokens: usage.output_tokens.unwrap_or(0),
        }),
        model: usage.model,
        provider: usage.provider,
        billing_type: None,
        cost_usd: usage.cost_usd,
        summary: report.summary,
        result_json: report.result.map(Value::Object),
        ..Outcome::default()
    }
}

impl Heartbeats {
    pub(super) async fn complete_run(
        &self,
        run: HeartbeatRun,
        agent: Agent,
        report: RunCallback,
    ) -> DomainResult<HeartbeatRun> {
        let failed = report.status == CallbackStatus::Failed;
        let ran = Ran {
            ending: Ending::Exited {
                code: Some(if failed { 1 } else { 0 }),
                signal: None,
            },
            outcome: outcome_of(report),
            limits: None,
            session_used: None,
        };
        let mut finish = self.finish_of(&run, &agent, ran, None);
        self.cost_project(&mut finish).await;
        let cost = finish.cost.clone();
        let Some(ended) = self.write_finish(finish).await else {
            let now = self.inner.store.get_run(run.id).await?;
            let status = now.map(|r| r.status.to_string()).unwrap_or_default();
            return Err(DomainError::conflict(
                "run_not_running",
                format!("Run is {status}; only a running run can be reported"),
            ));
        };
        self.publish_status(&ended);
        self.after_cost(&agent, cost).await;
        self.check_breakers(&ended, &agent).await;
        self.schedule_retry_of(&ended).await;
        self.publish_agent_status(ended.agent_id).await;
        // Its end is written: the wait here (if it runs here) stops without writing again.
        if let Some(stop) = self.live().get(&run.id).cloned() {
            let _ = stop.send(Some(StopReason::Cancelled));
        }
        Ok(ended)
    }
}

//! Heartbeat runs as the API sees them: who may wake an agent, read a run, its log and its
//! events, or stop it. What a wake does is the heartbeat service's business: the domain
//! reaches it through `RunControl`, which the server plugs in at start.

use std::sync::Arc;

use async_trait::async_trait;
use paperclip_shared::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Domain, DomainError, DomainResult};
use crate::auth::RequestActor;

/// A wake-up to consider, already authorized.
#[derive(Debug, Clone)]
pub struct WakeRequest {
    pub agent: Agent,
    pub source: InvocationSource,
    pub trigger_detail: Option<TriggerDetail>,
    /// Why (`issue_assigned`, `issue_comment_mentioned`, `heartbeat_timer`, …).
    pub reason: Option<String>,
    pub payload: Option<Map<String, Value>>,
    pub idempotency_key: Option<String>,
    /// (actor type, actor id) of who asked: user, agent or system.
    pub requested_by: (ActorType, String),
    /// Starting context of the run: issueId, taskId, wakeReason, wakeCommentId, …
    pub context: Map<String, Value>,
    /// The activity entry of the request (invoke and wakeup record one).
    pub activity: Option<ActivityEntry>,
}

/// What became of a wake-up.
#[derive(Debug, Clone)]
pub enum WakeOutcome {
    Queued(HeartbeatRun),
    /// Merged into a run that was already waiting.
    Coalesced(HeartbeatRun),
    Skipped {
        reason: String,
        message: String,
    },
}

/// The heartbeat service, as the domain calls it.
#[async_trait]
pub trait RunControl: Send + Sync {
    async fn wake(&self, request: WakeRequest) -> DomainResult<WakeOutcome>;
    /// Stops a run (queued or running) and ends it `cancelled`.
    /// `activity` is written with the run's end.
    async fn cancel(
        &self,
        run: HeartbeatRun,
        reason: String,
        activity: Vec<ActivityEntry>,
    ) -> DomainResult<HeartbeatRun>;
    /// Ends a running webhook run as its receiver reports (any replica may take the report).
    async fn complete(
        &self,
        run: HeartbeatRun,
        agent: Agent,
        report: RunCallback,
    ) -> DomainResult<HeartbeatRun>;
}

/// Longest log range one read returns.
pub const LOG_READ_MAX: i64 = 1_048_576;
const LOG_READ_DEFAULT: i64 = 256_000;

impl Domain {
    /// Plugs in the heartbeat service (once, at start).
    pub fn set_run_control(&self, control: Arc<dyn RunControl>) {
        let _ = self.run_control.set(control);
    }

    fn run_control(&self) -> DomainResult<&Arc<dyn RunControl>> {
        self.run_control
            .get()
            .ok_or_else(|| DomainError::Unavailable("heartbeats are not running".into()))
    }

    /// `POST /agents/:id/wakeup` and `/heartbeat/invoke`: the board, or the agent itself.
    pub async fn wake_agent(
        &self,
        who: &RequestActor,
        agent_id: Uuid,
        input: WakeAgent,
        legacy_invoke: bool,
    ) -> DomainResult<WakeOutcome> {
        let agent = self.get_agent(who, agent_id).await?;
        let scope = who.company(agent.company_id, "Agent not found")?;
        if let Some(me) = who.agent_id()
            && me != agent.id
        {
            return Err(DomainError::Forbidden(
                "Agent can only invoke itself".into(),
            ));
        }
        if matches!(
            agent.status,
            AgentStatus::Terminated | AgentStatus::PendingApproval
        ) {
            return Err(DomainError::conflict(
                "agent_not_invokable",
                format!("Agent is {} and cannot be invoked", agent.status),
            ));
        }
        let reason = super::validate::optional_text("reason", input.reason.as_deref(), 2000)?;
        let key = super::validate::optional_text(
            "idempotencyKey",
            input.idempotency_key.as_deref(),
            500,
        )?;
        let (actor_type, actor_id) = match scope.user_id() {
            Some(user) => (ActorType::User, user.to_string()),
            None => (ActorType::Agent, agent.id.to_string()),
        };
        let mut context = Map::new();
        context.insert(
            "triggeredBy".into(),
            json!(if actor_type == ActorType::User {
                "board"
            } else {
                "agent"
            }),
        );
        context.insert("actorId".into(), json!(actor_id));
        if input.force_fresh_session == Some(true) {
            context.insert("forceFreshSession".into(), json!(true));
        }
        let payload = input.payload.filter(|p| !p.is_empty());
        if let Some(issue) = payload
            .as_ref()
            .and_then(|p| p.get("issueId").or_else(|| p.get("taskId")))
            .and_then(Value::as_str)
        {
            let issue = Uuid::parse_str(issue)
                .map_err(|_| DomainError::invalid("payload.issueId", "must be an issue id"))?;
            self.store
                .get_issue(issue)
                .await?
                .filter(|i| i.company_id == agent.company_id)
                .ok_or_else(|| {
                    DomainError::rule("invalid_reference", "payload.issueId: issue not found")
                })?;
            context.insert("issueId".into(), json!(issue));
            context.insert("taskId".into(), json!(issue));
        }
        let source = if legacy_invoke {
            InvocationSource::OnDemand
        } else {
            input.source.unwrap_or(InvocationSource::OnDemand)
        };
        let activity = scope.activity(
            "heartbeat.invoked",
            "heartbeat_run",
            agent.id,
            json!({"agentId": agent.id, "source": source}),
        );
        self.run_control()?
            .wake(WakeRequest {
                agent,
                source,
                trigger_detail: Some(input.trigger_detail.unwrap_or(TriggerDetail::Manual)),
                reason,
                payload,
                idempotency_key: key,
                requested_by: (actor_type, actor_id),
                context,
                activity: Some(activity),
            })
            .await
    }

    /// The run if the caller may see it (its company's board or agents).
    pub async fn get_run(&self, who: &RequestActor, id: Uuid) -> DomainResult<HeartbeatRun> {
        let run = self
            .store
            .get_run(id)
            .await?
            .ok_or(DomainError::NotFound("Heartbeat run not found"))?;
        who.company(run.company_id, "Heartbeat run not found")?;
        Ok(run)
    }

    pub async fn list_runs(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        agent_id: Option<Uuid>,
        limit: Option<i64>,
    ) -> DomainResult<Vec<HeartbeatRun>> {
        self.get_company(who, company_id).await?;
        let limit = limit.unwrap_or(200).clamp(1, 1000);
        Ok(self.store.list_runs(company_id, agent_id, limit).await?)
    }

    /// Bytes `[offset, offset + limit)` of the run's NDJSON log.
    pub async fn run_log(
        &self,
        who: &RequestActor,
        id: Uuid,
        offset: Option<i64>,
        limit: Option<i64>,
    ) -> DomainResult<RunLog> {
        let run = self.get_run(who, id).await?;
        let offset = offset.unwrap_or(0).max(0);
        let limit = limit.unwrap_or(LOG_READ_DEFAULT).clamp(1, LOG_READ_MAX);
        let lines = self.store.run_log(run.id, offset, limit).await?;
        let (content, next) = byte_range(&lines, offset, limit, run.log_bytes);
        Ok(RunLog {
            run_id: run.id,
            store: "database".into(),
            log_ref: run.id.to_string(),
            content,
            next_offset: next,
        })
    }

    pub async fn run_events(
        &self,
        who: &RequestActor,
        id: Uuid,
        after_seq: Option<i64>,
        limit: Option<i64>,
    ) -> DomainResult<Vec<RunEvent>> {
        let run = self.get_run(who, id).await?;
        let limit = limit.unwrap_or(200).clamp(1, 1000);
        Ok(self
            .store
            .run_events(run.id, after_seq.unwrap_or(0).max(0), limit)
            .await?)
    }

    /// Board only: stops the run; a run already over is answered as it is.
    pub async fn cancel_run(&self, who: &RequestActor, id: Uuid) -> DomainResult<HeartbeatRun> {
        let board = who.board()?;
        let run = self.get_run(who, id).await?;
        if run.status.is_terminal() {
            return Ok(run);
        }
        let scope = who.company(run.company_id, "Heartbeat run not found")?;
        let act = scope.activity(
            "heartbeat.cancelled",
            "heartbeat_run",
            run.id,
            json!({"agentId": run.agent_id}),
        );
        let reason = format!("Cancelled by a board operator ({})", board.user_id());
        let cancelled = self.run_control()?.cancel(run, reason, vec![act]).await?;
        Ok(cancelled)
    }
}

impl Domain {
    /// `POST /heartbeat-runs/:id/callback`: the run's own agent (the webhook's receiver,
    /// with that agent's key) reports how a webhook run it accepted ended.
    pub async fn report_run(
        &self,
        who: &RequestActor,
        id: Uuid,
        report: RunCallback,
    ) -> DomainResult<HeartbeatRun> {
        let run = self.get_run(who, id).await?;
        if who.agent_id() != Some(run.agent_id) {
            return Err(DomainError::Forbidden(
                "Only the run's own agent can report how it ended".into(),
            ));
        }
        super::validate::optional_text("summary", report.summary.as_deref(), 10_000)?;
        super::validate::optional_text("error", report.error.as_deref(), 10_000)?;
        if let Some(u) = &report.usage {
            for (field, n) in [
                ("usage.inputTokens", u.input_tokens),
                ("usage.cachedInputTokens", u.cached_input_tokens),
                ("usage.outputTokens", u.output_tokens),
            ] {
                if n.is_some_and(|n| n < 0) {
                    return Err(DomainError::invalid(
                        field,
                        format!("{field} must not be negative"),
                    ));
                }
            }
            if u.cost_usd.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
                return Err(DomainError::invalid(
                    "usage.costUsd",
                    "usage.costUsd must be a non-negative number",
                ));
            }
            super::validate::optional_text("usage.model", u.model.as_deref(), 200)?;
            super::validate::optional_text("usage.provider", u.provider.as_deref(), 200)?;
        }
        let agent = self
            .store
            .get_agent(run.agent_id)
            .await?
            .ok_or(DomainError::NotFound("Agent not found"))?;
        if agent.adapter_type != "http" {
            return Err(DomainError::conflict(
                "not_a_webhook_run",
                format!(
                    "Only runs of http agents report through the callback; this agent uses {:?}",
                    agent.adapter_type
                ),
            ));
        }
        if run.status != RunStatus::Running {
            return Err(DomainError::conflict(
                "run_not_running",
                format!("Run is {}; only a running run can be reported", run.status),
            ));
        }
        self.run_control()?.complete(run, agent, report).await
    }
}

/// The bytes of the log from `offset`, at most `limit`, cut from whole lines; the next offset
/// when more has been written.
fn byte_range(
    lines: &[crate::store::LogLine],
    offset: i64,
    limit: i64,
    total: i64,
) -> (String, Option<i64>) {
    let mut bytes: Vec<u8> = Vec::new();
    let start = lines.first().map(|l| l.start_offset).unwrap_or(offset);
    for l in lines {
        bytes.extend_from_slice(l.line.as_bytes());
    }
    let from = (offset - start).clamp(0, bytes.len() as i64) as usize;
    let to = (from as i64 + limit).min(bytes.len() as i64) as usize;
    let slice = &bytes[from..to];
    let end = offset + slice.len() as i64;
    let content = String::from_utf8_lossy(slice).into_owned();
    (content, (end < total).then_some(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LogLine;

    fn lines(texts: &[&str]) -> Vec<LogLine> {
        let mut at = 0;
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let l = LogLine {
                    seq: i as i64 + 1,
                    start_offset: at,
                    line: t.to_string(),
                };
                at += t.len() as i64;
                l
            })
            .collect()
    }

    #[test]
    fn a_range_starts_inside_a_line_and_says_where_to_go_on() {
        let all = lines(&["aaaa\n", "bbbb\n", "cccc\n"]);
        assert_eq!(
            byte_range(&all, 0, 100, 15),
            ("aaaa\nbbbb\ncccc\n".into(), None)
        );
        assert_eq!(byte_range(&all[1..], 7, 5, 15), ("bb\ncc".into(), Some(12)));
        assert_eq!(byte_range(&[], 15, 10, 15), (String::new(), None));
    }
}

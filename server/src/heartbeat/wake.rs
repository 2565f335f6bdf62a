//! Wake-ups: whether an agent wakes (its policy, its state), coalescing a burst into one
//! queued run with every reason kept, starting queued runs within the agent's and the
//! server's limits, and cancelling.

use paperclip_shared::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Heartbeats;
use super::supervisor::StopReason;
use crate::domain::runs::{WakeOutcome, WakeRequest};
use crate::domain::{DomainError, DomainResult, now};
use crate::store::{RunClaim, RunFinish, SessionChange, WakeupRecord};

/// The task key of timer wakes without a task.
pub const HEARTBEAT_TASK: &str = "__heartbeat__";

/// How many times a wake tries again to merge or queue while other wakes of the same task
/// keep getting there first.
const WAKE_ATTEMPTS: usize = 32;

/// `runtimeConfig.heartbeat` of an agent.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub enabled: bool,
    pub interval_sec: u64,
    pub wake_on_demand: bool,
    pub max_concurrent_runs: usize,
}

impl Policy {
    pub fn of(agent: &Agent) -> Policy {
        let hb = &agent.runtime_config["heartbeat"];
        Policy {
            enabled: hb["enabled"].as_bool().unwrap_or(false),
            interval_sec: hb["intervalSec"].as_f64().unwrap_or(0.0).max(0.0) as u64,
            wake_on_demand: hb["wakeOnDemand"].as_bool().unwrap_or(true),
            max_concurrent_runs: hb["maxConcurrentRuns"].as_u64().unwrap_or(1).clamp(1, 50)
                as usize,
        }
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Fills in what the context can take from the request: wake reason, issue, comment, source.
fn enrich(r: &WakeRequest) -> Map<String, Value> {
    let mut c = r.context.clone();
    let payload = r.payload.clone().unwrap_or_default();
    if let Some(reason) = &r.reason {
        c.entry("wakeReason").or_insert_with(|| json!(reason));
    }
    if let Some(issue) = text(payload.get("issueId")).or_else(|| text(payload.get("taskId"))) {
        c.entry("issueId").or_insert_with(|| json!(issue));
        c.entry("taskId").or_insert_with(|| json!(issue));
    }
    if let Some(comment) = text(payload.get("commentId")) {
        c.entry("commentId").or_insert_with(|| json!(comment));
        c.entry("wakeCommentId").or_insert_with(|| json!(comment));
    }
    for key in ["approvalId", "approvalStatus", "issueIds"] {
        if let Some(v) = payload.get(key) {
            c.entry(key).or_insert_with(|| v.clone());
        }
    }
    c.insert("wakeSource".into(), json!(r.source));
    if let Some(t) = r.trigger_detail {
        c.insert("wakeTriggerDetail".into(), json!(t));
    }
    let key = text(c.get("taskKey"))
        .or_else(|| text(c.get("taskId")))
        .or_else(|| text(c.get("issueId")))
        .or_else(|| (r.source == InvocationSource::Timer).then(|| HEARTBEAT_TASK.to_string()));
    if let Some(key) = key {
        c.insert("taskKey".into(), json!(key));
    }
    let reasons = r.reason.iter().map(|s| json!(s)).collect::<Vec<_>>();
    c.insert("wakeReasons".into(), Value::Array(reasons));
    c
}

/// A queued run's context after another wake merged into it: newer values win, reasons and
/// comments accumulate, a fresh session asked once stays asked.
fn merge(old: &Value, new: &Map<String, Value>) -> Value {
    let mut out = old.as_object().cloned().unwrap_or_default();
    let fresh = old["forceFreshSession"] == json!(true)
        || new.get("forceFreshSession") == Some(&json!(true));
    let mut reasons: Vec<Value> = old["wakeReasons"].as_array().cloned().unwrap_or_default();
    let mut comments: Vec<Value> = old["wakeCommentIds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (k, v) in new {
        if k != "wakeReasons" {
            out.insert(k.clone(), v.clone());
        }
    }
    for r in new
        .get("wakeReasons")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !reasons.contains(r) {
            reasons.push(r.clone());
        }
    }
    if let Some(c) = new.get("wakeCommentId").filter(|c| !comments.contains(c)) {
        comments.push(c.clone());
    }
    out.insert("wakeReasons".into(), Value::Array(reasons));
    if !comments.is_empty() {
        out.insert("wakeCommentIds".into(), Value::Array(comments));
    }
    if fresh {
        out.insert("forceFreshSession".into(), json!(true));
    }
    Value::Object(out)
}

impl Heartbeats {
    pub(super) async fn enqueue(&self, r: WakeRequest) -> DomainResult<WakeOutcome> {
        let store = &self.inner.store;
        let agent = &r.agent;
        let policy = Policy::of(agent);
        let at = now();
        let context = enrich(&r);
        let wakeup = WakeupRecord {
            id: Uuid::new_v4(),
            company_id: agent.company_id,
            agent_id: agent.id,
            source: r.source,
            trigger_detail: r.trigger_detail,
            reason: r.reason.clone(),
            payload: r.payload.clone().map(Value::Object),
            status: "queued".into(),
            coalesced_count: 0,
            requested_by_actor_type: Some(r.requested_by.0.as_str().to_string()),
            requested_by_actor_id: Some(r.requested_by.1.clone()),
            idempotency_key: r.idempotency_key.clone(),
            run_id: None,
            error: None,
            requested_at: at,
        };
        let base = wakeup.clone();
        let skip = |reason: &str, message: &str| {
            let mut w = base.clone();
            w.status = "skipped".into();
            w.error = Some(reason.to_string());
            (w, reason.to_string(), message.to_string())
        };
        let company_active = store
            .get_company(agent.company_id)
            .await?
            .is_some_and(|c| c.status == CompanyStatus::Active);
        let skipped = if agent.status == AgentStatus::Paused
            && agent.pause_reason.as_deref() == Some(crate::domain::budgets::BUDGET_PAUSE)
        {
            Some(skip(
                "budget.exceeded",
                "Agent is paused by a monthly budget; raise the budget or resume the agent.",
            ))
        } else if agent.status == AgentStatus::Paused
            && agent.pause_reason.as_deref() == Some(super::breakers::USAGE_LIMIT)
        {
            Some(skip(
                "breaker.usage_limit",
                "Agent is paused until its provider's usage limit resets; resume it to wake it sooner.",
            ))
        } else if agent.status == AgentStatus::Paused
            && agent.pause_reason.as_deref() == Some(super::breakers::LOOP_DETECTED)
        {
            Some(skip(
                "breaker.loop_detected",
                "Agent is paused: it kept running without changing any issue; resume it once that is fixed.",
            ))
        } else if agent.status == AgentStatus::Paused {
            Some(skip(
                "agent.paused",
                "Agent is paused; resume it to wake it.",
            ))
        } else if !company_active {
            Some(skip("company.inactive", "The company is not active."))
        } else if r.source == InvocationSource::Timer && !policy.enabled {
            Some(skip(
                "heartbeat.disabled",
                "The agent's heartbeat timer is off.",
            ))
        } else if r.source != InvocationSource::Timer && !policy.wake_on_demand {
            Some(skip(
                "heartbeat.wakeOnDemand.disabled",
                "The agent does not wake on demand (runtimeConfig.heartbeat.wakeOnDemand is false).",
            ))
        } else {
            None
        };
        if let Some((w, reason, message)) = skipped {
            store.insert_wakeup(w).await?;
            return Ok(WakeOutcome::Skipped { reason, message });
        }

        let key = context.get("taskKey").cloned();
        // One queued run per task: the wake merges into the agent's queued run of its task,
        // or queues one when there is none. Both writes are conditional (the merge on the
        // context it was computed from, the queueing on there being no queued run of the
        // task), so concurrent wakes (two requests, two replicas) neither lose a reason nor
        // queue two runs: the one that loses reads again. After many collisions the wake
        // queues a run of its own rather than fail.
        let mut queueing: Option<(HeartbeatRun, WakeupRecord, Vec<ActivityEntry>)> = None;
        for attempt in 0..=WAKE_ATTEMPTS {
            let last = attempt == WAKE_ATTEMPTS;
            let open = store.open_runs_of_agent(agent.id).await?;
            let queued_same_task = open.iter().find(|run| {
                run.status == RunStatus::Queued
                    && run.context_snapshot.get("taskKey") == key.as_ref()
            });
            if let Some(run) = queued_same_task.filter(|_| !last) {
                let merged = merge(&run.context_snapshot, &context);
                let mut coalesced = wakeup.clone();
                coalesced.status = "coalesced".into();
                coalesced.coalesced_count = 1;
                coalesced.run_id = Some(run.id);
                let expected = run.context_snapshot.clone();
                if store
                    .coalesce_into_run(run.id, expected, merged.clone(), coalesced)
                    .await?
                {
                    let mut run = run.clone();
                    run.context_snapshot = merged;
                    return Ok(WakeOutcome::Coalesced(run));
                }
                continue;
            }
            if r.source == InvocationSource::Timer && !open.is_empty() {
                let (w, reason, message) = skip(
                    "heartbeat.timer.run_open",
                    "The agent already has a run under way; the timer wakes it next time.",
                );
                store.insert_wakeup(w).await?;
                return Ok(WakeOutcome::Skipped { reason, message });
            }
            if queueing.is_none() {
                queueing = Some(self.new_run(&r, &context, &wakeup, at).await?);
            }
            let (run, wakeup, activity) = queueing.clone().expect("prepared above");
            if store
                .queue_run(run.clone(), wakeup, activity, !last)
                .await?
            {
                return Ok(self.queued(run));
            }
        }
        unreachable!("the last attempt queues unconditionally")
    }

    /// The run a wake queues, with its wake-up record and activity.
    async fn new_run(
        &self,
        r: &WakeRequest,
        context: &Map<String, Value>,
        wakeup: &WakeupRecord,
        at: Timestamp,
    ) -> DomainResult<(HeartbeatRun, WakeupRecord, Vec<ActivityEntry>)> {
        let store = &self.inner.store;
        let agent = &r.agent;
        let task_key = context
            .get("taskKey")
            .and_then(Value::as_str)
            .map(str::to_string);
        let fresh = context.get("forceFreshSession") == Some(&json!(true))
            || context.get("wakeReason") == Some(&json!("issue_assigned"));
        let session_before = match (&task_key, fresh) {
            (Some(task), false) => store
                .task_session(agent.id, agent.adapter_type.clone(), task.clone())
                .await?
                .and_then(|s| s.session_display_id),
            _ => None,
        };
        let mut run = HeartbeatRun::not_started(
            (agent.company_id, agent.id),
            r.source,
            r.trigger_detail,
            RunStatus::Queued,
            Value::Object(context.clone()),
            at,
        );
        run.wakeup_request_id = Some(wakeup.id);
        run.session_id_before = session_before;
        let mut wakeup = wakeup.clone();
        wakeup.run_id = Some(run.id);
        let mut activity = Vec::new();
        if let Some(mut act) = r.activity.clone() {
            // Paperclip records the invoke on the run it made.
            act.entity_type = "heartbeat_run".into();
            act.entity_id = run.id.to_string();
            act.run_id = Some(run.id);
            activity.push(act);
        }
        Ok((run, wakeup, activity))
    }

    /// Announces a queued run.
    fn queued(&self, run: HeartbeatRun) -> WakeOutcome {
        self.publish(
            run.company_id,
            "heartbeat.run.queued",
            json!({
                "runId": run.id,
                "agentId": run.agent_id,
                "invocationSource": run.invocation_source,
                "triggerDetail": run.trigger_detail,
                "wakeupRequestId": run.wakeup_request_id,
            }),
        );
        WakeOutcome::Queued(run)
    }

    /// Starts what can start now, for every agent with queued runs. (Boxed: a run's end
    /// calls it, and it starts runs.)
    pub(super) fn start_ready(&self) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(async move {
            let Ok(open) = self.inner.store.open_runs().await else {
                return;
            };
            let mut agents: Vec<Uuid> = open
                .iter()
                .filter(|r| r.status == RunStatus::Queued)
                .map(|r| r.agent_id)
                .collect();
            agents.dedup();
            for agent in agents {
                self.start_ready_for(agent).await;
            }
        })
    }

    /// Starts the agent's oldest queued runs while it is below its run limit and the server
    /// has a free slot.
    pub(super) async fn start_ready_for(&self, agent_id: Uuid) {
        if let Err(e) = self.try_start_ready_for(agent_id).await {
            tracing::warn!(%agent_id, error = %e, "could not start queued runs");
        }
    }

    async fn try_start_ready_for(&self, agent_id: Uuid) -> DomainResult<()> {
        let store = self.inner.store.clone();
        while !self.stopping() {
            let Some(agent) = store.get_agent(agent_id).await? else {
                return Ok(());
            };
            if !matches!(
                agent.status,
                AgentStatus::Active | AgentStatus::Idle | AgentStatus::Running | AgentStatus::Error
            ) {
                return Ok(());
            }
            let open = store.open_runs_of_agent(agent_id).await?;
            let running = open
                .iter()
                .filter(|r| r.status == RunStatus::Running)
                .count();
            let Some(next) = open.iter().find(|r| r.status == RunStatus::Queued) else {
                return Ok(());
            };
            let max_running = Policy::of(&agent).max_concurrent_runs;
            if running >= max_running {
                return Ok(());
            }
            let Ok(permit) = self.inner.slots.clone().try_acquire_owned() else {
                return Ok(());
            };
            let issue_id = next.context_snapshot["issueId"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok());
            let claim = RunClaim {
                run_id: next.id,
                agent_id,
                runner_host: self.inner.host.clone(),
                runner_pid: std::process::id() as i64,
                now: now(),
                issue_id,
                agent_name_key: agent.name.trim().to_lowercase(),
                max_running: max_running as i64,
            };
            let Some(run) = store.claim_run(claim).await? else {
                continue;
            };
            let me = self.clone();
            self.spawn(async move { me.execute(run, agent, permit).await })
                .await;
        }
        Ok(())
    }

    pub(super) async fn cancel_run(
        &self,
        run: HeartbeatRun,
        reason: String,
        activity: Vec<ActivityEntry>,
    ) -> DomainResult<HeartbeatRun> {
        let stop = self.live().get(&run.id).cloned();
        if let Some(stop) = stop {
            // Running here: the run's own task ends it once its process group is gone.
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.pending_cancels().insert(
                run.id,
                super::execute::Cancel {
                    reason,
                    activity,
                    done: tx,
                },
            );
            let _ = stop.send(Some(StopReason::Cancelled));
            return match rx.await {
                Ok(run) => Ok(run),
                Err(_) => self
                    .inner
                    .store
                    .get_run(run.id)
                    .await?
                    .ok_or(DomainError::NotFound("Heartbeat run not found")),
            };
        }
        // Queued, or running in another server process (which notices and stops it).
        let finish = RunFinish {
            run_id: run.id,
            agent_id: run.agent_id,
            status: RunStatus::Cancelled,
            finished_at: now(),
            error: Some(reason),
            error_code: Some("cancelled".into()),
            exit_code: None,
            signal: None,
            usage_json: None,
            result_json: None,
            session_id_after: None,
            agent_status: AgentStatus::Idle,
            session: SessionChange::Keep,
            cost: None,
            event: None,
            activity,
        };
        let ended = self.inner.store.finish_run(finish).await?;
        let current = match ended {
            Some(run) => {
                self.publish_status(&run);
                self.publish_agent_status(run.agent_id).await;
                run
            }
            None => self
                .inner
                .store
                .get_run(run.id)
                .await?
                .ok_or(DomainError::NotFound("Heartbeat run not found"))?,
        };
        Ok(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_keeps_every_reason_and_the_fresh_session_asked_once() {
        let old =
            json!({"wakeReasons": ["issue_assigned"], "forceFreshSession": true, "issueId": "a"});
        let mut new = Map::new();
        new.insert("wakeReasons".into(), json!(["issue_comment_mentioned"]));
        new.insert("wakeCommentId".into(), json!("c1"));
        new.insert("wakeReason".into(), json!("issue_comment_mentioned"));
        let merged = merge(&old, &new);
        assert_eq!(
            merged["wakeReasons"],
            json!(["issue_assigned", "issue_comment_mentioned"])
        );
        assert_eq!(merged["forceFreshSession"], json!(true));
        assert_eq!(merged["wakeCommentIds"], json!(["c1"]));
        assert_eq!(merged["issueId"], json!("a"));
    }
}

//! One run, from claim to end: environment and prompt, the adapter's plan, the process under
//! the supervisor (or the HTTP call), a retry with a fresh session when the resumed one is
//! unknown, and the end written in one transaction with everything the run held.

use std::time::Duration;

use paperclip_shared::*;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, oneshot, watch};
use uuid::Uuid;

use super::Heartbeats;
use super::env::Refused;
use super::log::RunLog;
use super::supervisor::{self, Ending, Step, StopReason};
use crate::adapters::{self, Outcome, Plan, RunInput};
use crate::domain::now;
use crate::store::{CostEventRecord, RunEventDraft, RunFinish, SessionChange, TaskSessionRecord};

/// A board's cancel of a run executing here: the run's task ends it with this reason and
/// activity, then answers.
pub(super) struct Cancel {
    pub reason: String,
    pub activity: Vec<ActivityEntry>,
    pub done: oneshot::Sender<HeartbeatRun>,
}

/// How the adapter part of a run went.
pub(super) struct Ran {
    pub ending: Ending,
    pub outcome: Outcome,
    pub limits: Option<supervisor::Limits>,
    pub session_used: Option<String>,
}

impl Ran {
    fn refused(r: Refused) -> Ran {
        Ran {
            ending: Ending::Exited {
                code: None,
                signal: None,
            },
            outcome: Outcome {
                error: Some(r.message),
                error_code: Some(r.code),
                ..Outcome::default()
            },
            limits: None,
            session_used: None,
        }
    }
}

/// How often a run checks whether it was ended elsewhere (a cancel on another replica).
const ENDED_ELSEWHERE_POLL: Duration = Duration::from_secs(3);

impl Heartbeats {
    pub(super) fn pending_cancels(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<Uuid, Cancel>> {
        self.inner.cancels.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) async fn execute(
        self,
        run: HeartbeatRun,
        agent: Agent,
        permit: OwnedSemaphorePermit,
    ) {
        let (stop_tx, stop_rx) = watch::channel(None);
        self.live().insert(run.id, stop_tx.clone());
        self.publish_status(&run);
        let watcher = tokio::spawn(watch_for_end_elsewhere(self.clone(), run.id, stop_tx));
        // The claim made the agent `running`; said without a read, in order with the run's
        // later events.
        self.publish(
            run.company_id,
            "agent.status",
            json!({"agentId": agent.id, "status": AgentStatus::Running, "outcome": "running"}),
        );
        // Recorded beside the start, not before it: the process starts meanwhile.
        let me = self.clone();
        let started = run.clone();
        self.spawn(async move {
            me.event(&started, 1, "lifecycle", "info", "run started", None)
                .await;
        })
        .await;

        let mut log = RunLog::new(&self, &run, Vec::new());
        let ran = self.run_adapter(&run, &agent, stop_rx, &mut log).await;
        watcher.abort();
        self.live().remove(&run.id);
        let cancel = self.pending_cancels().remove(&run.id);
        let mut finish = self.finish_of(&run, &agent, ran, cancel.as_ref());
        self.cost_project(&mut finish).await;
        let cost = finish.cost.clone();
        let ended = self.write_finish(finish).await;
        let current = match ended {
            Some(run) => {
                self.publish_status(&run);
                self.after_cost(&agent, cost).await;
                self.check_breakers(&run, &agent).await;
                self.schedule_retry_of(&run).await;
                self.publish_agent_status(run.agent_id).await;
                Some(run)
            }
            None => self.inner.store.get_run(run.id).await.ok().flatten(),
        };
        if let (Some(c), Some(run)) = (cancel, current) {
            let _ = c.done.send(run);
        }
        drop(permit);
        // A slot is free: this agent's next run, or another agent's.
        let me = self.clone();
        tokio::spawn(async move { me.start_ready().await });
    }

    async fn run_adapter(
        &self,
        run: &HeartbeatRun,
        agent: &Agent,
        stop: watch::Receiver<Option<StopReason>>,
        log: &mut RunLog,
    ) -> Ran {
        let Some(adapter) = adapters::for_type(&agent.adapter_type) else {
            return Ran::refused(Refused {
                code: "unknown_adapter_type".into(),
                message: format!(
                    "adapter type {:?} is not supported here",
                    agent.adapter_type
                ),
            });
        };
        let env = match self.run_env(run, agent, adapter).await {
            Ok(env) => env,
            Err(refused) => {
                log.system(&format!("[paperclip] run not started: {}", refused.message))
                    .await;
                return Ran::refused(refused);
            }
        };
        log.set_secrets(env.secret_values.clone());
        let config = agent
            .adapter_config
            .as_object()
            .cloned()
            .unwrap_or_default();
        let prompt = super::prompt::for_run(agent, run);
        let mut session = run.session_id_before.clone();
        for attempt in 0..2 {
            let input = RunInput {
                run_id: run.id,
                agent_id: agent.id,
                company_id: agent.company_id,
                config: &config,
                env: env.vars.clone(),
                session_id: session.clone(),
                prompt: prompt.clone(),
                context: &run.context_snapshot,
                data_dir: self.inner.settings.data_dir.clone(),
            };
            let plan = match adapter.plan(&input) {
                Ok(plan) => plan,
                Err(e) => {
                    log.system(&format!("[paperclip] run not started: {e}"))
                        .await;
                    return Ran::refused(Refused {
                        code: e.code().into(),
                        message: e.to_string(),
                    });
                }
            };
            match plan {
                Plan::Process {
                    launch,
                    limits,
                    mut parser,
                } => {
                    let invoked = json!({
                        "adapterType": agent.adapter_type,
                        "command": launch.program,
                        "commandArgs": launch.args,
                        "cwd": launch.cwd,
                        "envKeys": launch.env.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                        "resumedSession": session,
                    });
                    let running = match supervisor::spawn(&launch) {
                        Ok(r) => r,
                        Err(e) => {
                            log.system(&format!("[paperclip] {e}")).await;
                            return Ran::refused(Refused {
                                code: "adapter_spawn_failed".into(),
                                message: e.to_string(),
                            });
                        }
                    };
                    let pid = running.pid as i64;
                    let (recorded, _) = tokio::join!(
                        self.inner.store.set_run_process(run.id, pid, pid, now()),
                        self.event(
                            run,
                            2 + attempt,
                            "adapter.invoke",
                            "info",
                            "adapter invocation",
                            Some(invoked),
                        ),
                    );
                    if let Err(e) = recorded {
                        tracing::warn!(run_id = %run.id, error = %e, "could not record the run's process");
                    }
                    let mut supervised = running.supervise(limits, stop.clone());
                    let mut ending = Ending::Exited {
                        code: None,
                        signal: None,
                    };
                    while let Some(step) = supervised.next().await {
                        match step {
                            Step::Output(stream, bytes) => {
                                parser.feed(stream, &bytes);
                                log.output(stream, &bytes).await;
                            }
                            Step::Ended(e) => ending = e,
                        }
                    }
                    let outcome = parser.finish(&ending);
                    let exited = matches!(ending, Ending::Exited { .. });
                    if outcome.session_invalid
                        && exited
                        && attempt == 0
                        && let Some(old) = &session
                    {
                        log.system(&format!(
                            "[paperclip] resume session \"{old}\" is unavailable; retrying with a fresh session."
                        ))
                        .await;
                        session = None;
                        continue;
                    }
                    return Ran {
                        ending,
                        outcome,
                        limits: Some(limits),
                        session_used: session,
                    };
                }
                Plan::Http(call) => {
                    let (ending, outcome, limit) = super::http::call(call, stop.clone(), log).await;
                    return Ran {
                        ending,
                        outcome,
                        limits: Some(supervisor::Limits {
                            timeout: limit,
                            idle_timeout: None,
                            grace: Duration::ZERO,
                        }),
                        session_used: None,
                    };
                }
            }
        }
        unreachable!("the second attempt always returns")
    }

    pub(super) fn finish_of(
        &self,
        run: &HeartbeatRun,
        agent: &Agent,
        ran: Ran,
        cancel: Option<&Cancel>,
    ) -> RunFinish {
        let Ran {
            ending,
            outcome,
            limits,
            session_used,
        } = ran;
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64()).unwrap_or_default();
        let (status, error, code) = match &ending {
            Ending::TimedOut => (
                RunStatus::TimedOut,
                Some(format!(
                    "Timed out after {}s",
                    secs(limits.map(|l| l.timeout))
                )),
                Some("timeout".to_string()),
            ),
            Ending::IdleTimedOut => (
                RunStatus::TimedOut,
                Some(format!(
                    "No output for {}s",
                    secs(limits.and_then(|l| l.idle_timeout))
                )),
                Some("idle_timeout".to_string()),
            ),
            Ending::Stopped(StopReason::Cancelled) => (
                RunStatus::Cancelled,
                Some(
                    cancel
                        .map(|c| c.reason.clone())
                        .unwrap_or_else(|| "Cancelled".into()),
                ),
                Some("cancelled".to_string()),
            ),
            Ending::Stopped(StopReason::ShuttingDown) => (
                RunStatus::Interrupted,
                Some("The server shut down during the run".to_string()),
                Some("server_shutdown".to_string()),
            ),
            Ending::Exited { .. } => match &outcome.error {
                None => (RunStatus::Succeeded, None, None),
                Some(e) => (
                    RunStatus::Failed,
                    Some(e.clone()),
                    Some(
                        outcome
                            .error_code
                            .clone()
                            .unwrap_or_else(|| "adapter_failed".into()),
                    ),
                ),
            },
        };
        let (exit_code, signal) = match &ending {
            Ending::Exited { code, signal } => (code.map(i64::from), signal.map(|s| s.to_string())),
            _ => (None, None),
        };
        let at = now();
        let task_key = run.context_snapshot["taskKey"].as_str().map(str::to_string);
        let session = match (&task_key, status) {
            (Some(task), RunStatus::Succeeded) if outcome.session_id.is_some() => {
                SessionChange::Save(TaskSessionRecord {
                    id: Uuid::new_v4(),
                    company_id: run.company_id,
                    agent_id: run.agent_id,
                    adapter_type: agent.adapter_type.clone(),
                    task_key: task.clone(),
                    session_params_json: Some(json!({"sessionId": outcome.session_id})),
                    session_display_id: outcome.session_id.clone(),
                    last_run_id: Some(run.id),
                    last_error: None,
                    created_at: at,
                    updated_at: at,
                })
            }
            (Some(task), _) if outcome.session_invalid => SessionChange::Clear {
                agent_id: run.agent_id,
                adapter_type: agent.adapter_type.clone(),
                task_key: task.clone(),
            },
            _ => SessionChange::Keep,
        };
        let usage_json = usage_json(&outcome);
        let cost = cost_event(&self.inner.domain, run, &outcome, at);
        let agent_status = match status {
            RunStatus::Failed | RunStatus::TimedOut => AgentStatus::Error,
            _ => AgentStatus::Idle,
        };
        let level = if status == RunStatus::Succeeded {
            "info"
        } else {
            "error"
        };
        let event = RunEventDraft {
            company_id: run.company_id,
            run_id: run.id,
            agent_id: run.agent_id,
            seq: 10,
            event_type: "lifecycle".into(),
            stream: Some("system".into()),
            level: Some(level.into()),
            message: Some(format!("run {status}")),
            payload: Some(json!({"status": status, "exitCode": exit_code})),
            created_at: at,
        };
        let mut result_json = outcome.result_json.clone();
        if let (Some(summary), Some(Value::Object(map))) = (&outcome.summary, result_json.as_mut())
        {
            map.entry("summary").or_insert_with(|| json!(summary));
        } else if let (Some(summary), None) = (&outcome.summary, &result_json) {
            result_json = Some(json!({"summary": summary}));
        }
        RunFinish {
            run_id: run.id,
            agent_id: run.agent_id,
            status,
            finished_at: at,
            error,
            error_code: code,
            exit_code,
            signal,
            usage_json,
            result_json,
            session_id_after: outcome.session_id.clone().or(session_used),
            agent_status,
            session,
            cost,
            event: Some(event),
            activity: cancel.map(|c| c.activity.clone()).unwrap_or_default(),
        }
    }

    /// The project of the run's issue, on its cost event, so spend rolls up by project.
    pub(super) async fn cost_project(&self, finish: &mut RunFinish) {
        let Some(cost) = finish.cost.as_mut() else {
            return;
        };
        if let (None, Some(issue)) = (cost.project_id, cost.issue_id)
            && let Ok(Some(issue)) = self.inner.store.get_issue(issue).await
            && issue.company_id == cost.company_id
        {
            cost.project_id = issue.project_id;
        }
    }

    /// A written cost counts against the agent's and the company's budgets.
    pub(super) async fn after_cost(&self, agent: &Agent, cost: Option<CostEventRecord>) {
        let Some(cost) = cost else { return };
        if let Err(e) = self.inner.domain.check_budgets(agent, &cost).await {
            tracing::error!(agent_id = %agent.id, error = %e, "could not check the budgets");
        }
    }

    /// Writes a run's end, retrying while the database is briefly unavailable.
    pub(super) async fn write_finish(&self, finish: RunFinish) -> Option<HeartbeatRun> {
        for attempt in 0..5u64 {
            match self.inner.store.finish_run(finish.clone()).await {
                Ok(run) => return run,
                Err(e) => {
                    tracing::error!(run_id = %finish.run_id, error = %e, "could not write the run's end");
                    tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                }
            }
        }
        None
    }

    pub(super) async fn event(
        &self,
        run: &HeartbeatRun,
        seq: i64,
        kind: &str,
        level: &str,
        message: &str,
        payload: Option<Value>,
    ) {
        let draft = RunEventDraft {
            company_id: run.company_id,
            run_id: run.id,
            agent_id: run.agent_id,
            seq,
            event_type: kind.into(),
            stream: Some("system".into()),
            level: Some(level.into()),
            message: Some(message.into()),
            payload,
            created_at: now(),
        };
        if let Err(e) = self.inner.store.insert_run_event(draft).await {
            tracing::warn!(run_id = %run.id, error = %e, "could not store a run event");
        }
    }
}

fn usage_json(outcome: &Outcome) -> Option<Value> {
    if outcome.usage.is_none() && outcome.cost_usd.is_none() && outcome.model.is_none() {
        return None;
    }
    let usage = outcome.usage.clone().unwrap_or_default();
    Some(json!({
        "inputTokens": usage.input_tokens,
        "cachedInputTokens": usage.cached_input_tokens,
        "outputTokens": usage.output_tokens,
        "provider": outcome.provider,
        "model": outcome.model,
        "billingType": outcome.billing_type,
        "costUsd": outcome.cost_usd,
    }))
}

fn cost_event(
    domain: &crate::domain::Domain,
    run: &HeartbeatRun,
    outcome: &Outcome,
    at: Timestamp,
) -> Option<CostEventRecord> {
    let usage = outcome.usage.clone();
    if usage.is_none() && outcome.cost_usd.is_none() {
        return None;
    }
    let usage = usage.unwrap_or_default();
    let provider = outcome.provider.clone().unwrap_or_else(|| "unknown".into());
    let billing_type = outcome.billing_type.clone().unwrap_or_else(|| "api".into());
    let priced = domain.price_usage(
        &billing_type,
        &provider,
        outcome.model.as_deref(),
        (
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens,
        ),
        outcome.cost_usd.map(|usd| (usd * 100.0).round() as i64),
    );
    Some(CostEventRecord {
        id: Uuid::new_v4(),
        company_id: run.company_id,
        agent_id: run.agent_id,
        issue_id: run.context_snapshot["issueId"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok()),
        project_id: None,
        heartbeat_run_id: Some(run.id),
        provider,
        biller: outcome.provider.clone(),
        billing_type,
        model: outcome.model.clone(),
        input_tokens: usage.input_tokens,
        cached_input_tokens: usage.cached_input_tokens,
        output_tokens: usage.output_tokens,
        cost_cents: priced.cost_cents,
        cost_status: priced.cost_status.into(),
        estimated_cost_cents: priced.estimated_cost_cents,
        price_source: priced.price_source,
        occurred_at: at,
    })
}

/// Stops the run's process when its row was ended by another server (a cancel on another
/// replica, or an operator's repair).
async fn watch_for_end_elsewhere(
    hb: Heartbeats,
    run_id: Uuid,
    stop: watch::Sender<Option<StopReason>>,
) {
    loop {
        tokio::time::sleep(ENDED_ELSEWHERE_POLL).await;
        if let Ok(Some(run)) = hb.inner.store.get_run(run_id).await
            && run.status.is_terminal()
        {
            let _ = stop.send(Some(StopReason::Cancelled));
            return;
        }
    }
}

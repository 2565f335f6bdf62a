//! Heartbeats: the scheduler that decides when an agent wakes, the runs that carry each wake
//! through an adapter, and the supervisor that decides how a run's process lives and dies.
//!
//! `Heartbeats` is the service: the domain reaches it through `RunControl` (wake, cancel);
//! the server starts it after binding (orphans reaped, queued runs resumed, timer started)
//! and shuts it down before closing the database (every live run ends `interrupted`).

pub mod breakers;
mod callback;
mod env;
mod execute;
mod http;
mod log;
mod orphans;
pub mod procs;
mod prompt;
mod retries;
mod scheduler;
pub mod supervisor;
mod wake;

#[cfg(test)]
mod supervisor_tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use paperclip_shared::*;
use serde_json::json;
use tokio::sync::{Semaphore, watch};
use uuid::Uuid;

use crate::config::heartbeat::HeartbeatConfig;
use crate::domain::runs::{RunControl, WakeOutcome, WakeRequest};
use crate::domain::{Domain, DomainError, DomainResult};
use crate::realtime::EventBus;
use crate::store::Store;
use supervisor::StopReason;

/// Where runs reach the API, and where adapters keep their files.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// `PAPERCLIP_API_URL`: this server's base URL as seen from this machine, without `/api`.
    pub api_url: String,
    /// `<instance>/data/adapters`.
    pub data_dir: PathBuf,
}

#[derive(Clone)]
pub struct Heartbeats {
    inner: Arc<Inner>,
}

struct Inner {
    domain: Domain,
    store: Arc<dyn Store>,
    bus: EventBus,
    config: HeartbeatConfig,
    settings: RunSettings,
    /// This machine's name, recorded on the runs this process executes.
    host: String,
    /// Stop switches of the runs executing in this process.
    live: Mutex<HashMap<Uuid, watch::Sender<Option<StopReason>>>>,
    /// The global cap on concurrent runs.
    slots: Arc<Semaphore>,
    stopping: AtomicBool,
    /// Cancels asked of runs executing here, taken by the run's task when it ends.
    cancels: Mutex<HashMap<Uuid, execute::Cancel>>,
    tasks: tokio::sync::Mutex<tokio::task::JoinSet<()>>,
    /// Ends the scheduler loop.
    scheduler_stop: watch::Sender<bool>,
}

impl Heartbeats {
    pub fn new(
        domain: Domain,
        bus: EventBus,
        config: HeartbeatConfig,
        settings: RunSettings,
    ) -> Heartbeats {
        supervisor::become_subreaper();
        let slots = Arc::new(Semaphore::new(config.max_concurrent_runs));
        let (scheduler_stop, _) = watch::channel(false);
        Heartbeats {
            inner: Arc::new(Inner {
                store: domain.store().clone(),
                domain,
                bus,
                config,
                settings,
                host: host_name(),
                live: Mutex::default(),
                slots,
                stopping: AtomicBool::new(false),
                cancels: Mutex::default(),
                tasks: tokio::sync::Mutex::new(tokio::task::JoinSet::new()),
                scheduler_stop,
            }),
        }
    }

    /// Reaps what a dead server left, resumes queued runs and starts the timer.
    pub async fn start(&self) -> DomainResult<()> {
        self.reap_orphans().await?;
        self.start_ready().await;
        let me = self.clone();
        let stop = self.inner.scheduler_stop.subscribe();
        self.spawn(async move { me.scheduler_loop(stop).await })
            .await;
        Ok(())
    }

    /// Stops the timer, ends every live run `interrupted` (process groups terminated) and
    /// waits for their ends to be written.
    pub async fn shutdown(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        let _ = self.inner.scheduler_stop.send(true);
        for stop in self.live().values() {
            let _ = stop.send(Some(StopReason::ShuttingDown));
        }
        // Joined outside the lock: a run that is ending spawns tasks of its own (its events),
        // and would wait forever for a lock held while waiting for it. Tasks spawned meanwhile
        // land in a fresh set, joined in the next round.
        loop {
            let mut tasks = std::mem::take(&mut *self.inner.tasks.lock().await);
            if tasks.is_empty() {
                break;
            }
            while tasks.join_next().await.is_some() {}
        }
        let _ = self.inner.store.resign(scheduler::LEADER_LOCK).await;
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, watch::Sender<Option<StopReason>>>> {
        self.inner.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    async fn spawn<F>(&self, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.inner.tasks.lock().await;
        // Finished tasks are collected as new ones come, so the set stays small.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(work);
    }

    /// Publishes a live event of `company_id`.
    fn publish(&self, company_id: Uuid, kind: &str, payload: serde_json::Value) {
        self.inner.bus.publish(company_id, kind, payload);
    }

    fn publish_status(&self, run: &HeartbeatRun) {
        self.publish(
            run.company_id,
            "heartbeat.run.status",
            json!({
                "runId": run.id,
                "agentId": run.agent_id,
                "status": run.status,
                "invocationSource": run.invocation_source,
                "triggerDetail": run.trigger_detail,
                "error": run.error,
                "errorCode": run.error_code,
                "startedAt": run.started_at,
                "finishedAt": run.finished_at,
            }),
        );
    }

    async fn publish_agent_status(&self, agent_id: Uuid) {
        if let Ok(Some(agent)) = self.inner.store.get_agent(agent_id).await {
            self.publish(
                agent.company_id,
                "agent.status",
                json!({
                    "agentId": agent.id,
                    "status": agent.status,
                    "lastHeartbeatAt": agent.last_heartbeat_at,
                }),
            );
        }
    }
}

#[async_trait]
impl RunControl for Heartbeats {
    async fn wake(&self, request: WakeRequest) -> DomainResult<WakeOutcome> {
        if self.stopping() {
            return Err(DomainError::Unavailable(
                "the server is shutting down; try again when it is back".into(),
            ));
        }
        let outcome = self.enqueue(request).await?;
        if let WakeOutcome::Queued(run) = &outcome {
            let agent = run.agent_id;
            let me = self.clone();
            // Started off the request: the answer is the queued run.
            tokio::spawn(async move { me.start_ready_for(agent).await });
        }
        Ok(outcome)
    }

    async fn cancel(
        &self,
        run: HeartbeatRun,
        reason: String,
        activity: Vec<ActivityEntry>,
    ) -> DomainResult<HeartbeatRun> {
        self.cancel_run(run, reason, activity).await
    }

    async fn complete(
        &self,
        run: HeartbeatRun,
        agent: Agent,
        report: RunCallback,
    ) -> DomainResult<HeartbeatRun> {
        self.complete_run(run, agent, report).await
    }
}

/// This machine's host name (for the runner columns); "localhost" when unknown.
fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            if let Ok(name) = std::str::from_utf8(&buf[..end])
                && !name.is_empty()
            {
                return name.to_string();
            }
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".into())
}

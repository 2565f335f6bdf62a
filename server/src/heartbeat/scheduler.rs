//! The timer: every `HEARTBEAT_SCHEDULER_INTERVAL_MS`, agents whose `runtimeConfig.heartbeat`
//! is enabled with an `intervalSec` that has elapsed since their last heartbeat are woken.
//! With several servers on one PostgreSQL only the leader ticks; each due agent is also
//! claimed with one conditional update, so a tick never wakes an agent twice.

use chrono::Duration as ChronoDuration;
use paperclip_shared::*;
use serde_json::{Map, json};
use tokio::sync::watch;

use super::Heartbeats;
use super::wake::Policy;
use crate::domain::runs::WakeRequest;
use crate::domain::{DomainResult, now};

/// The leader lock the timer runs under.
pub const LEADER_LOCK: &str = "heartbeat-scheduler";

impl Heartbeats {
    pub(super) async fn scheduler_loop(&self, mut stop: watch::Receiver<bool>) {
        if !self.inner.config.scheduler_enabled {
            return;
        }
        let mut ticker = tokio::time::interval(self.inner.config.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.changed() => return,
            }
            match self.inner.store.try_lead(LEADER_LOCK).await {
                Ok(true) => {
                    if let Err(e) = self.tick().await {
                        tracing::warn!(error = %e, "heartbeat tick failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot ask for the scheduler's leadership"),
            }
        }
    }

    /// One pass over the timer's agents; returns how many were woken.
    pub async fn tick(&self) -> DomainResult<usize> {
        self.inner.domain.roll_spend_month().await?;
        self.lift_due_breakers().await?;
        self.promote_due_retries().await?;
        let mut woken = 0;
        for agent in self.inner.store.due_timer_agents(now()).await? {
            let policy = Policy::of(&agent);
            if policy.interval_sec == 0 {
                continue;
            }
            // The time of this agent's claim, not of the tick's start: a tick that takes a
            // while (many agents, a loaded machine) would otherwise record a heartbeat earlier
            // than the wake it makes, and the next one would come early.
            let at = now();
            let since = agent.last_heartbeat_at.unwrap_or(agent.created_at);
            if at - since < ChronoDuration::seconds(policy.interval_sec as i64) {
                continue;
            }
            if !self
                .inner
                .store
                .claim_timer_heartbeat(agent.id, agent.last_heartbeat_at, at)
                .await?
            {
                continue;
            }
            let mut context = Map::new();
            context.insert("source".into(), json!("scheduler"));
            context.insert("reason".into(), json!("interval_elapsed"));
            let request = WakeRequest {
                agent,
                source: InvocationSource::Timer,
                trigger_detail: Some(TriggerDetail::System),
                reason: Some("heartbeat_timer".into()),
                payload: None,
                idempotency_key: None,
                requested_by: (ActorType::System, "heartbeat_scheduler".into()),
                context,
                activity: None,
            };
            use crate::domain::runs::RunControl;
            if let Ok(crate::domain::runs::WakeOutcome::Queued(_)) = self.wake(request).await {
                woken += 1;
            }
        }
        Ok(woken)
    }
}

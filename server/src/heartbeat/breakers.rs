//! Breakers against token burn. A run that ends on a provider's usage limit pauses every
//! agent spending the same credential until the limit resets (one activity entry per company,
//! no retry), and the scheduler resumes them then. A Claude or Codex agent that ran
//! `loop_max_runs` times in `loop_window` without changing any issue is paused with
//! `loop_detected` until the board resumes it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use paperclip_shared::env::plain_value;
use paperclip_shared::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Heartbeats;
use crate::domain::now;
use crate::store::BreakerRecord;

pub use crate::domain::budgets::{LOOP_PAUSE as LOOP_DETECTED, USAGE_LIMIT_PAUSE as USAGE_LIMIT};

/// The error code adapters give a run that hit a provider's usage or rate limit.
const PROVIDER_QUOTA: &str = "provider_quota";

/// The adapter's API-key variable and the variable naming its login's home.
fn credential_vars(adapter_type: &str) -> Option<(&'static str, &'static str)> {
    match adapter_type {
        "claude_local" => Some(("ANTHROPIC_API_KEY", "CLAUDE_CONFIG_DIR")),
        "codex_local" => Some(("OPENAI_API_KEY", "CODEX_HOME")),
        _ => None,
    }
}

fn digest(value: &str) -> String {
    hex::encode(&Sha256::digest(value.as_bytes())[..8])
}

/// How an agent's `env` binds `var`: a digest of a plain value, the secret it references,
/// or (not bound) a digest of the server's own value; never the value itself.
fn binding_of(agent: &Agent, var: &str) -> Option<String> {
    match agent.adapter_config["env"].get(var) {
        Some(b) => match plain_value(b) {
            Some(v) => match v.strip_prefix("$secret:") {
                Some(name) => Some(format!("secret:{}:{}", agent.company_id, name.trim())),
                None => Some(format!("value:{}", digest(v))),
            },
            None => b["secretId"].as_str().map(|id| format!("secret:{id}")),
        },
        None => std::env::var(var)
            .ok()
            .map(|v| format!("value:{}", digest(&v))),
    }
}

/// Which credential an agent's runs spend: its adapter with the API key it is given, or,
/// without one, the CLI's own login (a subscription), told apart by its config home. `None`
/// for adapters that spend no provider credential of ours (process, http).
pub fn credential_of(agent: &Agent) -> Option<String> {
    let (key_var, home_var) = credential_vars(&agent.adapter_type)?;
    let spent = match binding_of(agent, key_var) {
        Some(key) => format!("key:{key}"),
        None => format!(
            "login:{}",
            binding_of(agent, home_var).unwrap_or_else(|| "default".into())
        ),
    };
    Some(format!("{}:{spent}", agent.adapter_type))
}

/// When a usage limit lifts: the time the provider named, else the configured pause.
fn reset_of(run: &HeartbeatRun, fallback: std::time::Duration) -> DateTime<Utc> {
    let at = now();
    let fallback = chrono::Duration::from_std(fallback).unwrap_or(chrono::Duration::hours(1));
    run.result_json
        .as_ref()
        .and_then(|r| r["retryNotBefore"].as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t > at)
        .unwrap_or(at + fallback)
}

fn breaker_activity(
    company_id: Uuid,
    action: &str,
    entity: Uuid,
    agent_id: Option<Uuid>,
    details: Value,
) -> ActivityEntry {
    ActivityEntry {
        id: Uuid::new_v4(),
        company_id,
        actor_type: ActorType::System,
        actor_id: "breaker".into(),
        action: action.into(),
        entity_type: "agent".into(),
        entity_id: entity.to_string(),
        agent_id,
        run_id: None,
        details,
        created_at: now(),
    }
}

impl Heartbeats {
    /// After a run's end is written: the usage-limit breaker, else the loop detector.
    pub(super) async fn check_breakers(&self, run: &HeartbeatRun, agent: &Agent) {
        let result = if run.error_code.as_deref() == Some(PROVIDER_QUOTA) {
            self.trip_usage_limit(run, agent).await
        } else {
            self.check_loop(agent).await
        };
        if let Err(e) = result {
            tracing::error!(agent_id = %agent.id, error = %e, "could not check the breakers");
        }
    }

    /// Pauses every agent that spends the credential `run` hit the limit of, until it resets.
    async fn trip_usage_limit(
        &self,
        run: &HeartbeatRun,
        agent: &Agent,
    ) -> crate::store::StoreResult<()> {
        let until = reset_of(run, self.inner.config.usage_limit_pause);
        let credential = credential_of(agent);
        let mut sharing = vec![agent.clone()];
        if let Some(c) = &credential {
            for other in self
                .inner
                .store
                .agents_of_adapter(agent.adapter_type.clone())
                .await?
            {
                if other.id != agent.id && credential_of(&other).as_ref() == Some(c) {
                    sharing.push(other);
                }
            }
        }
        let at = now();
        let mut by_company: BTreeMap<Uuid, Vec<&Agent>> = BTreeMap::new();
        for a in &sharing {
            by_company.entry(a.company_id).or_default().push(a);
        }
        let mut paused = Vec::new();
        for (company_id, agents) in by_company {
            let details = json!({
                "reason": USAGE_LIMIT,
                "runId": run.id,
                "until": until,
                "agentIds": agents.iter().map(|a| a.id).collect::<Vec<_>>(),
                "error": run.error,
                "lift": "Resumes by itself at the reset time, or resume the agents now.",
            });
            let breakers = agents
                .iter()
                .map(|a| BreakerRecord {
                    agent_id: a.id,
                    company_id,
                    reason: USAGE_LIMIT.into(),
                    credential: credential.clone(),
                    until: Some(until),
                    details: json!({"runId": run.id, "error": run.error}),
                    created_at: at,
                })
                .collect();
            let act = breaker_activity(
                company_id,
                "breaker.usage_limit",
                agent.id,
                (company_id == agent.company_id).then_some(agent.id),
                details,
            );
            paused.extend(self.inner.store.trip_breakers(breakers, vec![act]).await?);
        }
        if !paused.is_empty() {
            tracing::warn!(agents = paused.len(), %until, "a usage limit paused agents until it resets");
        }
        for id in paused {
            self.publish_agent_status(id).await;
        }
        Ok(())
    }

    /// Pauses an agent that keeps running without changing any issue. Only agents that spend
    /// a provider's tokens (Claude, Codex) are watched: a shell command or a webhook on a
    /// short timer that never calls the API is not burning anything.
    async fn check_loop(&self, agent: &Agent) -> crate::store::StoreResult<()> {
        let config = &self.inner.config;
        if config.loop_max_runs == 0 || credential_vars(&agent.adapter_type).is_none() {
            return Ok(());
        }
        let window =
            chrono::Duration::from_std(config.loop_window).unwrap_or(chrono::Duration::hours(1));
        let since = now() - window;
        let (runs, changes) = self
            .inner
            .store
            .runs_and_issue_changes_since(agent.id, since)
            .await?;
        if runs < config.loop_max_runs as i64 || changes > 0 {
            return Ok(());
        }
        let minutes = config.loop_window.as_secs() / 60;
        let details = json!({
            "reason": LOOP_DETECTED,
            "runs": runs,
            "windowMinutes": minutes,
            "lift": "Resume the agent (POST /api/agents/:id/resume) once its instructions or wake-ups are fixed.",
        });
        let breaker = BreakerRecord {
            agent_id: agent.id,
            company_id: agent.company_id,
            reason: LOOP_DETECTED.into(),
            credential: None,
            until: None,
            details: details.clone(),
            created_at: now(),
        };
        let act = breaker_activity(
            agent.company_id,
            "breaker.loop_detected",
            agent.id,
            Some(agent.id),
            details,
        );
        if !self
            .inner
            .store
            .trip_breakers(vec![breaker], vec![act])
            .await?
            .is_empty()
        {
            tracing::warn!(agent_id = %agent.id, runs, minutes, "an agent that changed nothing was paused as a loop");
            self.publish_agent_status(agent.id).await;
        }
        Ok(())
    }

    /// On each tick: resumes the agents whose usage limit has reset.
    pub(super) async fn lift_due_breakers(&self) -> crate::store::StoreResult<usize> {
        let at = now();
        let mut by_company: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        for b in self.inner.store.due_breakers(at).await? {
            by_company.entry(b.company_id).or_default().push(b.agent_id);
        }
        let mut lifted = 0;
        for (company_id, ids) in by_company {
            let act = breaker_activity(
                company_id,
                "breaker.lifted",
                ids[0],
                None,
                json!({"reason": USAGE_LIMIT, "agentIds": ids}),
            );
            let resumed = self
                .inner
                .store
                .clear_breakers(ids, USAGE_LIMIT.into(), at, vec![act])
                .await?;
            lifted += resumed.len();
            for id in resumed {
                self.publish_agent_status(id).await;
            }
        }
        Ok(lifted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(adapter: &str, env: Value) -> Agent {
        let mut a: Agent = serde_json::from_value(json!({
            "id": Uuid::new_v4(), "companyId": Uuid::nil(), "name": "A", "role": "engineer",
            "status": "idle", "adapterType": adapter, "adapterConfig": {"env": env},
            "runtimeConfig": {}, "budgetMonthlyCents": 0, "spentMonthlyCents": 0,
            "permissions": {}, "metadata": {},
            "createdAt": "2026-12-01T00:00:00Z", "updatedAt": "2026-12-01T00:00:00Z"
        }))
        .expect("an agent");
        a.company_id = Uuid::nil();
        a
    }

    #[test]
    fn agents_on_one_key_or_one_login_share_a_credential() {
        let key = json!({"ANTHROPIC_API_KEY": "sk-ant-one"});
        let a = credential_of(&agent("claude_local", key.clone())).unwrap();
        let b = credential_of(&agent("claude_local", key)).unwrap();
        assert_eq!(a, b);
        assert!(!a.contains("sk-ant-one"), "{a}");
        let other = credential_of(&agent(
            "claude_local",
            json!({"ANTHROPIC_API_KEY": {"type": "plain", "value": "sk-ant-two"}}),
        ))
        .unwrap();
        assert_ne!(a, other);
        let home = json!({"CLAUDE_CONFIG_DIR": "/home/me/.claude-work"});
        let login = credential_of(&agent("claude_local", home.clone())).unwrap();
        if std::env::var_os("ANTHROPIC_API_KEY").is_none() {
            assert!(login.starts_with("claude_local:login:"), "{login}");
        }
        assert_eq!(login, credential_of(&agent("claude_local", home)).unwrap());
        let secret = json!({"OPENAI_API_KEY": {"type": "secret_ref", "secretId": Uuid::nil()}});
        let codex = credential_of(&agent("codex_local", secret)).unwrap();
        assert_eq!(codex, format!("codex_local:key:secret:{}", Uuid::nil()));
        assert_eq!(credential_of(&agent("process", json!({}))), None);
    }
}

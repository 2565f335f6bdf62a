//! `paperclip secrets migrate-inline-env`: credentials written inline into agents' env (a
//! plain value under a credential-shaped key) moved into company secrets, the env then
//! referring to them. A dry run lists the moves; applying them is one transaction.

use std::collections::HashSet;

use paperclip_shared::env::{REDACTED, is_sensitive_key, plain_value};
use paperclip_shared::{Agent, SecretStatus};
use serde_json::{Value, json};
use uuid::Uuid;

use super::people::person_activity;
use super::secrets::{PROVIDER, normalize_key};
use super::{Domain, DomainResult};
use crate::auth::LOCAL_BOARD_USER_ID;
use crate::store::{SecretRecord, SecretVersionRecord};

/// One inline value and the secret it becomes.
#[derive(Debug, Clone)]
pub struct InlineMove {
    pub company_id: Uuid,
    pub agent_id: Uuid,
    pub agent_name: String,
    pub env_key: String,
    pub secret_name: String,
}

fn inline_keys(agent: &Agent) -> Vec<String> {
    let Some(env) = agent.adapter_config.get("env").and_then(Value::as_object) else {
        return Vec::new();
    };
    env.iter()
        .filter(|(key, binding)| {
            is_sensitive_key(key)
                && plain_value(binding).is_some_and(|v| !v.trim().is_empty() && v != REDACTED)
        })
        .map(|(key, _)| key.clone())
        .collect()
}

impl Domain {
    /// Every inline credential in every agent's env, with the secret name it would get
    /// (`agent_<first 8 of the agent id>_<key>`, numbered when taken).
    pub async fn inline_env_plan(&self) -> DomainResult<Vec<(InlineMove, Agent)>> {
        let mut plan = Vec::new();
        for company in self.store.list_companies().await? {
            let mut taken: HashSet<String> = self
                .store
                .list_secrets(company.id)
                .await?
                .into_iter()
                .flat_map(|(s, _)| [s.name, s.key])
                .collect();
            for agent in self.store.list_agents(company.id).await? {
                for env_key in inline_keys(&agent) {
                    let base = format!(
                        "agent_{}_{}",
                        &agent.id.simple().to_string()[..8],
                        env_key.to_lowercase()
                    );
                    let mut name = base.clone();
                    let mut n = 2;
                    while taken.contains(&name) || taken.contains(&normalize_key(&name)) {
                        name = format!("{base}_{n}");
                        n += 1;
                    }
                    taken.insert(name.clone());
                    taken.insert(normalize_key(&name));
                    plan.push((
                        InlineMove {
                            company_id: company.id,
                            agent_id: agent.id,
                            agent_name: agent.name.clone(),
                            env_key,
                            secret_name: name,
                        },
                        agent.clone(),
                    ));
                }
            }
        }
        Ok(plan)
    }

    /// Moves every inline credential into a secret, in one transaction; answers the moves.
    pub async fn migrate_inline_env(&self) -> DomainResult<Vec<InlineMove>> {
        let plan = self.inline_env_plan().await?;
        let now = crate::domain::now();
        let mut secrets = Vec::new();
        let mut agents: Vec<Agent> = Vec::new();
        let mut activity = Vec::new();
        for (m, original) in &plan {
            let agent = match agents.iter_mut().find(|a| a.id == m.agent_id) {
                Some(a) => a,
                None => {
                    agents.push(original.clone());
                    agents.last_mut().expect("just pushed")
                }
            };
            let value = plain_value(&agent.adapter_config["env"][&m.env_key])
                .unwrap_or_default()
                .to_string();
            let value = zeroize::Zeroizing::new(value);
            let id = Uuid::new_v4();
            let secret = SecretRecord {
                id,
                company_id: m.company_id,
                key: normalize_key(&m.secret_name),
                name: m.secret_name.clone(),
                provider: PROVIDER.into(),
                status: SecretStatus::Active,
                managed_mode: "paperclip_managed".into(),
                external_ref: None,
                provider_metadata: None,
                latest_version: 1,
                description: Some(format!(
                    "Moved from {}'s {} env value",
                    m.agent_name, m.env_key
                )),
                last_resolved_at: None,
                last_rotated_at: Some(now),
                created_by_agent_id: None,
                created_by_user_id: Some(LOCAL_BOARD_USER_ID.into()),
                created_at: now,
                updated_at: now,
            };
            let first = SecretVersionRecord {
                id: Uuid::new_v4(),
                secret_id: id,
                version: 1,
                ciphertext: self.seal_value(m.company_id, id, &value).await?,
                created_by_agent_id: None,
                created_by_user_id: Some(LOCAL_BOARD_USER_ID.into()),
                created_at: now,
            };
            agent.adapter_config["env"][&m.env_key] =
                json!({"type": "secret_ref", "secretId": id, "version": "latest"});
            agent.updated_at = crate::domain::next_time(agent.updated_at);
            activity.push(person_activity(
                m.company_id,
                LOCAL_BOARD_USER_ID,
                "secret.created",
                ("secret", id.to_string()),
                json!({"name": m.secret_name, "provider": PROVIDER,
                       "movedFrom": {"agentId": m.agent_id, "envKey": m.env_key}}),
                now,
            ));
            secrets.push((secret, first));
        }
        for agent in &agents {
            activity.push(person_activity(
                agent.company_id,
                LOCAL_BOARD_USER_ID,
                "agent.updated",
                ("agent", agent.id.to_string()),
                json!({"name": agent.name, "envMovedToSecrets": true}),
                now,
            ));
        }
        if !secrets.is_empty() {
            self.store
                .apply_env_migration(secrets, agents, activity)
                .await?;
        }
        Ok(plan.into_iter().map(|(m, _)| m).collect())
    }
}

//! Agents' credentials: API keys (shown once, SHA-256 at rest, revocable) and the run tokens a
//! heartbeat hands its run, and how a bearer token resolves to an agent.

use paperclip_shared::limits::NAME_MAX;
use paperclip_shared::*;
use serde_json::json;
use uuid::Uuid;

use super::validate::required_text;
use super::{Domain, DomainError, DomainResult};
use crate::auth::jwt::RunClaims;
use crate::auth::{Actor, AgentCredential, RequestActor, keys};
use crate::store::AgentKeyRecord;

impl Domain {
    pub async fn create_agent_key(
        &self,
        who: &RequestActor,
        agent_id: Uuid,
        input: CreateAgentKey,
    ) -> DomainResult<CreatedAgentKey> {
        who.board()?;
        let agent = self.get_agent(who, agent_id).await?;
        let scope = who.company(agent.company_id, "Agent not found")?;
        match agent.status {
            AgentStatus::Terminated => {
                return Err(DomainError::conflict(
                    "agent_terminated",
                    "Cannot create keys for terminated agents",
                ));
            }
            AgentStatus::PendingApproval => {
                return Err(DomainError::conflict(
                    "agent_pending_approval",
                    "Cannot create keys for pending approval agents",
                ));
            }
            _ => {}
        }
        let name = match input.name.as_deref() {
            Some(n) => required_text("name", n, NAME_MAX)?,
            None => "default".to_string(),
        };
        let token = keys::new_agent_token();
        let record = AgentKeyRecord {
            id: Uuid::new_v4(),
            agent_id,
            company_id: agent.company_id,
            name: name.clone(),
            key_hash: keys::hash_token(&token),
            last_used_at: None,
            revoked_at: None,
            created_at: crate::domain::now(),
        };
        let act = scope.activity(
            "agent.key_created",
            "agent",
            agent_id,
            json!({"keyId": record.id, "name": name}),
        );
        self.store
            .insert_agent_key(record.clone(), vec![act])
            .await?;
        Ok(CreatedAgentKey {
            id: record.id,
            name,
            token,
            created_at: record.created_at,
        })
    }

    pub async fn list_agent_keys(
        &self,
        who: &RequestActor,
        agent_id: Uuid,
    ) -> DomainResult<Vec<AgentKey>> {
        who.board()?;
        self.get_agent(who, agent_id).await?;
        Ok(self
            .store
            .list_agent_keys(agent_id)
            .await?
            .iter()
            .map(AgentKeyRecord::to_api)
            .collect())
    }

    pub async fn revoke_agent_key(
        &self,
        who: &RequestActor,
        agent_id: Uuid,
        key_id: Uuid,
    ) -> DomainResult<()> {
        who.board()?;
        let agent = self.get_agent(who, agent_id).await?;
        let scope = who.company(agent.company_id, "Agent not found")?;
        let keys = self.store.list_agent_keys(agent_id).await?;
        let key = keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or(DomainError::NotFound("Key not found"))?;
        let act = scope.activity(
            "agent.key_revoked",
            "agent",
            agent_id,
            json!({"keyId": key_id, "name": key.name}),
        );
        self.store
            .revoke_agent_key(key_id, crate::domain::now(), vec![act])
            .await?;
        Ok(())
    }

    /// Resolves a bearer token to an agent. Any failure is a 401: never a fall-through.
    pub async fn authenticate_agent_key(&self, token: &str) -> DomainResult<Actor> {
        let unauthorized = || DomainError::Unauthorized("Invalid or revoked API key".into());
        if !keys::looks_like_agent_key(token) {
            return Err(unauthorized());
        }
        let hash = keys::hash_token(token);
        let (key, agent) = self
            .store
            .agent_key_with_agent(hash.clone())
            .await?
            .ok_or_else(unauthorized)?;
        if key.revoked_at.is_some() || !keys::hashes_match(&key.key_hash, &hash) {
            return Err(unauthorized());
        }
        if !agent.status.can_authenticate() {
            return Err(DomainError::Unauthorized(format!(
                "Agent is {} and cannot authenticate",
                agent.status
            )));
        }
        let now = crate::domain::now();
        if key
            .last_used_at
            .is_none_or(|t| now - t > chrono::Duration::seconds(60))
        {
            // Recording use is bookkeeping: a request must not wait for it or fail with it.
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_agent_key(key.id, now).await {
                    tracing::warn!(error = %e, "could not record key use");
                }
            });
        }
        Ok(Actor::Agent {
            agent_id: agent.id,
            company_id: agent.company_id,
            credential: AgentCredential::Key(key.id),
        })
    }

    /// The agent of a run token this instance signed: the agent must still exist in the
    /// token's company and be allowed to authenticate, and the token's run must still be
    /// queued or running (a token ends with its run, whatever its `exp`).
    pub async fn authenticate_run_token(&self, token: &str) -> DomainResult<Actor> {
        let claims = self
            .run_tokens
            .verify(token)
            .map_err(|e| DomainError::Unauthorized(e.to_string()))?;
        let unauthorized = || DomainError::Unauthorized("Run token is not valid".into());
        let agent = self
            .store
            .get_agent(claims.agent_id)
            .await?
            .filter(|a| a.company_id == claims.company_id)
            .ok_or_else(unauthorized)?;
        if !agent.status.can_authenticate() {
            return Err(DomainError::Unauthorized(format!(
                "Agent is {} and cannot authenticate",
                agent.status
            )));
        }
        // A run token lives exactly as long as its run.
        match self.store.get_run(claims.run_id).await? {
            Some(run) if run.agent_id == agent.id && !run.status.is_terminal() => {}
            Some(_) => {
                return Err(DomainError::Unauthorized(
                    "Run token is not valid: its run has ended".into(),
                ));
            }
            None => return Err(unauthorized()),
        }
        Ok(Actor::Agent {
            agent_id: agent.id,
            company_id: agent.company_id,
            credential: AgentCredential::RunToken {
                run_id: claims.run_id,
            },
        })
    }

    /// A run token for `agent`'s run `run_id` (heartbeats hand it to the agent as
    /// `PAPERCLIP_API_KEY`).
    pub fn mint_run_token(&self, agent: &Agent, run_id: Uuid) -> String {
        self.run_tokens.mint(
            &RunClaims {
                agent_id: agent.id,
                company_id: agent.company_id,
                run_id,
                adapter_type: agent.adapter_type.clone(),
            },
            chrono::Utc::now().timestamp(),
        )
    }
}

//! Agents and their API keys.

use paperclip_shared::*;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows;
use crate::store::AgentKeyRecord;

type R<T> = Result<T, sqlx::Error>;

pub async fn list_agents(c: &mut PgConnection, company_id: Uuid) -> R<Vec<Agent>> {
    sqlx::query("SELECT * FROM agents WHERE company_id = $1 ORDER BY created_at, id")
        .bind(company_id)
        .try_map(|r| rows::agent(&r))
        .fetch_all(&mut *c)
        .await
}

pub async fn get_agent(c: &mut PgConnection, id: Uuid) -> R<Option<Agent>> {
    sqlx::query("SELECT * FROM agents WHERE id = $1")
        .bind(id)
        .try_map(|r| rows::agent(&r))
        .fetch_optional(&mut *c)
        .await
}

pub async fn save_agent(c: &mut PgConnection, a: &Agent) -> R<()> {
    sqlx::query(
        "INSERT INTO agents (id, company_id, name, role, title, icon, status, reports_to,
            capabilities, adapter_type, adapter_config, runtime_config, budget_monthly_cents,
            spent_monthly_cents, pause_reason, paused_at, permissions, last_heartbeat_at, metadata,
            created_at, updated_at, budget_monthly_tokens, spent_monthly_tokens)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
            title = excluded.title, icon = excluded.icon, status = excluded.status,
            reports_to = excluded.reports_to, capabilities = excluded.capabilities,
            adapter_type = excluded.adapter_type, adapter_config = excluded.adapter_config,
            runtime_config = excluded.runtime_config,
            budget_monthly_cents = excluded.budget_monthly_cents,
            budget_monthly_tokens = excluded.budget_monthly_tokens,
            pause_reason = excluded.pause_reason,
            paused_at = excluded.paused_at, permissions = excluded.permissions,
            last_heartbeat_at = excluded.last_heartbeat_at, metadata = excluded.metadata,
            updated_at = excluded.updated_at",
    )
    .bind(a.id)
    .bind(a.company_id)
    .bind(&a.name)
    .bind(a.role.as_str())
    .bind(&a.title)
    .bind(&a.icon)
    .bind(a.status.as_str())
    .bind(a.reports_to)
    .bind(&a.capabilities)
    .bind(&a.adapter_type)
    .bind(&a.adapter_config)
    .bind(&a.runtime_config)
    .bind(a.budget_monthly_cents)
    .bind(a.spent_monthly_cents)
    .bind(&a.pause_reason)
    .bind(a.paused_at)
    .bind(&a.permissions)
    .bind(a.last_heartbeat_at)
    .bind(&a.metadata)
    .bind(a.created_at)
    .bind(a.updated_at)
    .bind(a.budget_monthly_tokens)
    .bind(a.spent_monthly_tokens)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn insert_key(c: &mut PgConnection, k: &AgentKeyRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO agent_api_keys (id, agent_id, company_id, name, key_hash, last_used_at,
            revoked_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(k.id)
    .bind(k.agent_id)
    .bind(k.company_id)
    .bind(&k.name)
    .bind(&k.key_hash)
    .bind(k.last_used_at)
    .bind(k.revoked_at)
    .bind(k.created_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn list_keys(c: &mut PgConnection, agent_id: Uuid) -> R<Vec<AgentKeyRecord>> {
    sqlx::query("SELECT * FROM agent_api_keys WHERE agent_id = $1 ORDER BY created_at, id")
        .bind(agent_id)
        .try_map(|r| rows::agent_key(&r))
        .fetch_all(&mut *c)
        .await
}

pub async fn find_key_by_hash(c: &mut PgConnection, hash: &str) -> R<Option<AgentKeyRecord>> {
    sqlx::query("SELECT * FROM agent_api_keys WHERE key_hash = $1")
        .bind(hash)
        .try_map(|r| rows::agent_key(&r))
        .fetch_optional(&mut *c)
        .await
}

pub async fn revoke_key(c: &mut PgConnection, id: Uuid, at: Timestamp) -> R<bool> {
    let done = sqlx::query(
        "UPDATE agent_api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn touch_key(c: &mut PgConnection, id: Uuid, at: Timestamp) -> R<()> {
    sqlx::query("UPDATE agent_api_keys SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(&mut *c)
        .await?;
    Ok(())
}

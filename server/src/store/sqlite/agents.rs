//! Agents and their API keys.

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::store::AgentKeyRecord;

pub(super) fn agent_from_row(row: &Row) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        name: row.get("name")?,
        role: get_enum(row, "role", AgentRole::parse)?,
        title: row.get("title")?,
        icon: row.get("icon")?,
        status: get_enum(row, "status", AgentStatus::parse)?,
        reports_to: get_opt_uuid(row, "reports_to")?,
        capabilities: row.get("capabilities")?,
        adapter_type: row.get("adapter_type")?,
        adapter_config: get_json(row, "adapter_config")?,
        runtime_config: get_json(row, "runtime_config")?,
        budget_monthly_cents: row.get("budget_monthly_cents")?,
        spent_monthly_cents: row.get("spent_monthly_cents")?,
        budget_monthly_tokens: row.get("budget_monthly_tokens")?,
        spent_monthly_tokens: row.get("spent_monthly_tokens")?,
        pause_reason: row.get("pause_reason")?,
        paused_at: get_opt_ts(row, "paused_at")?,
        permissions: get_json(row, "permissions")?,
        last_heartbeat_at: get_opt_ts(row, "last_heartbeat_at")?,
        metadata: get_json(row, "metadata")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn list_agents(conn: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<Agent>> {
    let mut stmt =
        conn.prepare_cached("SELECT * FROM agents WHERE company_id = ?1 ORDER BY created_at, id")?;
    let rows = stmt.query_map(params![id(company_id)], agent_from_row)?;
    rows.collect()
}

pub fn get_agent(conn: &Connection, agent_id: Uuid) -> rusqlite::Result<Option<Agent>> {
    conn.prepare_cached("SELECT * FROM agents WHERE id = ?1")?
        .query_row(params![id(agent_id)], agent_from_row)
        .optional()
}

pub fn save_agent(conn: &Connection, a: &Agent) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO agents (id, company_id, name, role, title, icon, status, reports_to,
            capabilities, adapter_type, adapter_config, runtime_config, budget_monthly_cents,
            spent_monthly_cents, pause_reason, paused_at, permissions, last_heartbeat_at, metadata,
            created_at, updated_at, budget_monthly_tokens, spent_monthly_tokens)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23)
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
    )?
    .execute(params![
        id(a.id),
        id(a.company_id),
        a.name,
        a.role.as_str(),
        a.title,
        a.icon,
        a.status.as_str(),
        opt_id(a.reports_to),
        a.capabilities,
        a.adapter_type,
        json(&a.adapter_config),
        json(&a.runtime_config),
        a.budget_monthly_cents,
        a.spent_monthly_cents,
        a.pause_reason,
        opt_ts(a.paused_at),
        json(&a.permissions),
        opt_ts(a.last_heartbeat_at),
        json(&a.metadata),
        ts(a.created_at),
        ts(a.updated_at),
        a.budget_monthly_tokens,
        a.spent_monthly_tokens,
    ])?;
    Ok(())
}

fn key_from_row(row: &Row) -> rusqlite::Result<AgentKeyRecord> {
    Ok(AgentKeyRecord {
        id: get_uuid(row, "id")?,
        agent_id: get_uuid(row, "agent_id")?,
        company_id: get_uuid(row, "company_id")?,
        name: row.get("name")?,
        key_hash: row.get("key_hash")?,
        last_used_at: get_opt_ts(row, "last_used_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub fn insert_key(conn: &Connection, k: &AgentKeyRecord) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO agent_api_keys (id, agent_id, company_id, name, key_hash, last_used_at,
            revoked_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id(k.id),
            id(k.agent_id),
            id(k.company_id),
            k.name,
            k.key_hash,
            opt_ts(k.last_used_at),
            opt_ts(k.revoked_at),
            ts(k.created_at),
        ],
    )?;
    Ok(())
}

pub fn list_keys(conn: &Connection, agent_id: Uuid) -> rusqlite::Result<Vec<AgentKeyRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM agent_api_keys WHERE agent_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map(params![id(agent_id)], key_from_row)?;
    rows.collect()
}

pub fn find_key_by_hash(conn: &Connection, hash: &str) -> rusqlite::Result<Option<AgentKeyRecord>> {
    conn.prepare_cached("SELECT * FROM agent_api_keys WHERE key_hash = ?1")?
        .query_row(params![hash], key_from_row)
        .optional()
}

pub fn revoke_key(conn: &Connection, key_id: Uuid, at: Timestamp) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE agent_api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id(key_id), ts(at)],
    )?;
    Ok(n == 1)
}

pub fn touch_key(conn: &Connection, key_id: Uuid, at: Timestamp) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE agent_api_keys SET last_used_at = ?2 WHERE id = ?1",
        params![id(key_id), ts(at)],
    )?;
    Ok(())
}

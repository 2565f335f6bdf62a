//! Breakers: agents paused by a usage limit or a loop (SQLite).

use async_trait::async_trait;
use paperclip_shared::*;
use rusqlite::{Row, params};
use uuid::Uuid;

use super::codec::*;
use super::{SqliteStore, activity};
use crate::store::*;

fn breaker_from(r: &Row) -> rusqlite::Result<BreakerRecord> {
    Ok(BreakerRecord {
        agent_id: get_uuid(r, "agent_id")?,
        company_id: get_uuid(r, "company_id")?,
        reason: r.get("reason")?,
        credential: r.get("credential")?,
        until: get_opt_ts(r, "until")?,
        details: get_json(r, "details")?,
        created_at: get_ts(r, "created_at")?,
    })
}

#[async_trait]
impl BreakerStore for SqliteStore {
    async fn trip_breakers(
        &self,
        breakers: Vec<BreakerRecord>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        self.write(move |tx| {
            let mut paused = Vec::new();
            for b in &breakers {
                let n = tx
                    .prepare_cached(
                        "UPDATE agents SET status = 'paused', pause_reason = ?2, paused_at = ?3,
                            updated_at = ?3
                         WHERE id = ?1
                           AND status NOT IN ('paused', 'terminated', 'pending_approval')",
                    )?
                    .execute(params![id(b.agent_id), b.reason, ts(b.created_at)])?;
                if n == 0 {
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO agent_breakers (agent_id, company_id, reason, credential, until,
                        details, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (agent_id) DO UPDATE SET company_id = excluded.company_id,
                        reason = excluded.reason, credential = excluded.credential,
                        until = excluded.until, details = excluded.details,
                        created_at = excluded.created_at",
                )?
                .execute(params![
                    id(b.agent_id),
                    id(b.company_id),
                    b.reason,
                    b.credential,
                    opt_ts(b.until),
                    json(&b.details),
                    ts(b.created_at),
                ])?;
                paused.push(b.agent_id);
            }
            if !paused.is_empty() {
                activity::insert(tx, &act)?;
            }
            Ok(paused)
        })
        .await
    }

    async fn due_breakers(&self, now: Timestamp) -> StoreResult<Vec<BreakerRecord>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT * FROM agent_breakers WHERE until IS NOT NULL AND until <= ?1",
            )?
            .query_map(params![ts(now)], breaker_from)?
            .collect()
        })
        .await
    }

    async fn clear_breakers(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        self.write(move |tx| {
            let mut resumed = Vec::new();
            for agent in agent_ids {
                tx.prepare_cached(
                    "DELETE FROM agent_breakers WHERE agent_id = ?1 AND reason = ?2",
                )?
                .execute(params![id(agent), reason])?;
                let n = tx
                    .prepare_cached(
                        "UPDATE agents SET status = 'idle', pause_reason = NULL, paused_at = NULL,
                            updated_at = ?3
                         WHERE id = ?1 AND status = 'paused' AND pause_reason = ?2",
                    )?
                    .execute(params![id(agent), reason, ts(at)])?;
                if n > 0 {
                    resumed.push(agent);
                }
            }
            if !resumed.is_empty() {
                activity::insert(tx, &act)?;
            }
            Ok(resumed)
        })
        .await
    }

    async fn list_breakers(&self, company_id: Uuid) -> StoreResult<Vec<BreakerRecord>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT * FROM agent_breakers WHERE company_id = ?1 ORDER BY created_at",
            )?
            .query_map(params![id(company_id)], breaker_from)?
            .collect()
        })
        .await
    }

    async fn agents_of_adapter(&self, adapter_type: String) -> StoreResult<Vec<Agent>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT * FROM agents WHERE adapter_type = ?1 AND status <> 'terminated'
                 ORDER BY created_at, id",
            )?
            .query_map(params![adapter_type], super::agents::agent_from_row)?
            .collect()
        })
        .await
    }

    async fn runs_and_issue_changes_since(
        &self,
        agent_id: Uuid,
        since: Timestamp,
    ) -> StoreResult<(i64, i64)> {
        self.read(move |c| {
            let runs: i64 = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM heartbeat_runs WHERE agent_id = ?1 AND finished_at >= ?2",
                )?
                .query_row(params![id(agent_id), ts(since)], |r| r.get(0))?;
            let changes: i64 = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM activity_log
                     WHERE agent_id = ?1 AND created_at >= ?2 AND entity_type = 'issue'",
                )?
                .query_row(params![id(agent_id), ts(since)], |r| r.get(0))?;
            Ok((runs, changes))
        })
        .await
    }
}

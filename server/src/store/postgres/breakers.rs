//! Breakers: agents paused by a usage limit or a loop (PostgreSQL).

use async_trait::async_trait;
use paperclip_shared::*;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::{PgStore, activity};
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

fn breaker_from(r: &PgRow) -> R<BreakerRecord> {
    Ok(BreakerRecord {
        agent_id: r.try_get("agent_id")?,
        company_id: r.try_get("company_id")?,
        reason: r.try_get("reason")?,
        credential: r.try_get("credential")?,
        until: r.try_get("until")?,
        details: r.try_get("details")?,
        created_at: r.try_get("created_at")?,
    })
}

#[async_trait]
impl BreakerStore for PgStore {
    async fn trip_breakers(
        &self,
        breakers: Vec<BreakerRecord>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        let mut tx = self.tx().await?;
        let mut paused = Vec::new();
        for b in &breakers {
            let n = sqlx::query(
                "UPDATE agents SET status = 'paused', pause_reason = $2, paused_at = $3,
                    updated_at = $3
                 WHERE id = $1 AND status NOT IN ('paused', 'terminated', 'pending_approval')",
            )
            .bind(b.agent_id)
            .bind(&b.reason)
            .bind(b.created_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO agent_breakers (agent_id, company_id, reason, credential, until,
                    details, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (agent_id) DO UPDATE SET company_id = excluded.company_id,
                    reason = excluded.reason, credential = excluded.credential,
                    until = excluded.until, details = excluded.details,
                    created_at = excluded.created_at",
            )
            .bind(b.agent_id)
            .bind(b.company_id)
            .bind(&b.reason)
            .bind(&b.credential)
            .bind(b.until)
            .bind(&b.details)
            .bind(b.created_at)
            .execute(&mut *tx)
            .await?;
            paused.push(b.agent_id);
        }
        if !paused.is_empty() {
            activity::insert(&mut tx, &act).await?;
        }
        tx.commit().await?;
        Ok(paused)
    }

    async fn due_breakers(&self, now: Timestamp) -> StoreResult<Vec<BreakerRecord>> {
        let found =
            sqlx::query("SELECT * FROM agent_breakers WHERE until IS NOT NULL AND until <= $1")
                .bind(now)
                .fetch_all(&mut *self.conn().await?)
                .await?;
        Ok(found.iter().map(breaker_from).collect::<R<_>>()?)
    }

    async fn clear_breakers(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        let mut tx = self.tx().await?;
        sqlx::query("DELETE FROM agent_breakers WHERE agent_id = ANY($1) AND reason = $2")
            .bind(&agent_ids)
            .bind(&reason)
            .execute(&mut *tx)
            .await?;
        let resumed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE agents SET status = 'idle', pause_reason = NULL, paused_at = NULL,
                updated_at = $3
             WHERE id = ANY($1) AND status = 'paused' AND pause_reason = $2
             RETURNING id",
        )
        .bind(&agent_ids)
        .bind(&reason)
        .bind(at)
        .fetch_all(&mut *tx)
        .await?;
        if !resumed.is_empty() {
            activity::insert(&mut tx, &act).await?;
        }
        tx.commit().await?;
        Ok(resumed)
    }

    async fn list_breakers(&self, company_id: Uuid) -> StoreResult<Vec<BreakerRecord>> {
        let found =
            sqlx::query("SELECT * FROM agent_breakers WHERE company_id = $1 ORDER BY created_at")
                .bind(company_id)
                .fetch_all(&mut *self.conn().await?)
                .await?;
        Ok(found.iter().map(breaker_from).collect::<R<_>>()?)
    }

    async fn agents_of_adapter(&self, adapter_type: String) -> StoreResult<Vec<Agent>> {
        Ok(sqlx::query(
            "SELECT * FROM agents WHERE adapter_type = $1 AND status <> 'terminated'
             ORDER BY created_at, id",
        )
        .bind(adapter_type)
        .try_map(|r| super::rows::agent(&r))
        .fetch_all(&mut *self.conn().await?)
        .await?)
    }

    async fn runs_and_issue_changes_since(
        &self,
        agent_id: Uuid,
        since: Timestamp,
    ) -> StoreResult<(i64, i64)> {
        let mut c = self.conn().await?;
        let runs: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM heartbeat_runs WHERE agent_id = $1 AND finished_at >= $2",
        )
        .bind(agent_id)
        .bind(since)
        .fetch_one(&mut *c)
        .await?;
        let changes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM activity_log
             WHERE agent_id = $1 AND created_at >= $2 AND entity_type = 'issue'",
        )
        .bind(agent_id)
        .bind(since)
        .fetch_one(&mut *c)
        .await?;
        Ok((runs, changes))
    }
}

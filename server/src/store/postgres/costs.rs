//! Cost events, their monthly rollups and the month spend of agents and companies
//! (PostgreSQL). Each sum is one `x = x + n` statement, which holds with many servers writing.

use async_trait::async_trait;
use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use uuid::Uuid;

use super::{PgStore, activity};
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

/// The sums every grouped read selects, in `CostTotals` order.
const SUMS: &str = "cost_cents, estimated_cost_cents, input_tokens, cached_input_tokens,
    output_tokens, subscription_input_tokens, subscription_cached_input_tokens,
    subscription_output_tokens, api_events, subscription_events, unpriced_events";

fn row_totals(r: &PgRow) -> R<CostRollupRow> {
    Ok(CostRollupRow {
        agent_id: r.try_get("agent_id")?,
        project_key: r.try_get("project_key")?,
        totals: CostTotals {
            cost_cents: r.try_get("cost_cents")?,
            estimated_cost_cents: r.try_get("estimated_cost_cents")?,
            input_tokens: r.try_get("input_tokens")?,
            cached_input_tokens: r.try_get("cached_input_tokens")?,
            output_tokens: r.try_get("output_tokens")?,
            subscription_input_tokens: r.try_get("subscription_input_tokens")?,
            subscription_cached_input_tokens: r.try_get("subscription_cached_input_tokens")?,
            subscription_output_tokens: r.try_get("subscription_output_tokens")?,
            api_events: r.try_get("api_events")?,
            subscription_events: r.try_get("subscription_events")?,
            unpriced_events: r.try_get("unpriced_events")?,
        },
    })
}

async fn insert_event(c: &mut PgConnection, e: &CostEventRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO cost_events (id, company_id, agent_id, issue_id, project_id,
            heartbeat_run_id, provider, biller, billing_type, model, input_tokens,
            cached_input_tokens, output_tokens, cost_cents, cost_status, estimated_cost_cents,
            price_source, occurred_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, now())",
    )
    .bind(e.id)
    .bind(e.company_id)
    .bind(e.agent_id)
    .bind(e.issue_id)
    .bind(e.project_id)
    .bind(e.heartbeat_run_id)
    .bind(&e.provider)
    .bind(&e.biller)
    .bind(&e.billing_type)
    .bind(&e.model)
    .bind(e.input_tokens)
    .bind(e.cached_input_tokens)
    .bind(e.output_tokens)
    .bind(e.cost_cents)
    .bind(&e.cost_status)
    .bind(e.estimated_cost_cents)
    .bind(&e.price_source)
    .bind(e.occurred_at)
    .execute(c)
    .await?;
    Ok(())
}

/// The event, its rollup, and the month spend when its month is `current_month`.
pub async fn record(c: &mut PgConnection, e: &CostEventRecord, current_month: &str) -> R<()> {
    insert_event(&mut *c, e).await?;
    let month = month_of(e.occurred_at);
    let t = CostTotals::of_event(e);
    sqlx::query(
        "INSERT INTO cost_rollups AS r (company_id, month, agent_id, project_key, cost_cents,
            estimated_cost_cents, input_tokens, cached_input_tokens, output_tokens,
            subscription_input_tokens, subscription_cached_input_tokens,
            subscription_output_tokens, api_events, subscription_events, unpriced_events)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (company_id, month, agent_id, project_key) DO UPDATE SET
            cost_cents = r.cost_cents + excluded.cost_cents,
            estimated_cost_cents = r.estimated_cost_cents + excluded.estimated_cost_cents,
            input_tokens = r.input_tokens + excluded.input_tokens,
            cached_input_tokens = r.cached_input_tokens + excluded.cached_input_tokens,
            output_tokens = r.output_tokens + excluded.output_tokens,
            subscription_input_tokens =
                r.subscription_input_tokens + excluded.subscription_input_tokens,
            subscription_cached_input_tokens =
                r.subscription_cached_input_tokens + excluded.subscription_cached_input_tokens,
            subscription_output_tokens =
                r.subscription_output_tokens + excluded.subscription_output_tokens,
            api_events = r.api_events + excluded.api_events,
            subscription_events = r.subscription_events + excluded.subscription_events,
            unpriced_events = r.unpriced_events + excluded.unpriced_events",
    )
    .bind(e.company_id)
    .bind(&month)
    .bind(e.agent_id)
    .bind(e.project_id.map(|p| p.to_string()).unwrap_or_default())
    .bind(t.cost_cents)
    .bind(t.estimated_cost_cents)
    .bind(t.input_tokens)
    .bind(t.cached_input_tokens)
    .bind(t.output_tokens)
    .bind(t.subscription_input_tokens)
    .bind(t.subscription_cached_input_tokens)
    .bind(t.subscription_output_tokens)
    .bind(t.api_events)
    .bind(t.subscription_events)
    .bind(t.unpriced_events)
    .execute(&mut *c)
    .await?;
    if month == current_month {
        // The agent's row first: the order a run's finish locks them in.
        for (table, key) in [("agents", e.agent_id), ("companies", e.company_id)] {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET spent_monthly_cents = CASE WHEN spent_month = $2
                    THEN spent_monthly_cents + $3 ELSE $3 END,
                    spent_monthly_tokens = CASE WHEN spent_month = $2
                    THEN spent_monthly_tokens + $4 ELSE $4 END, spent_month = $2 WHERE id = $1"
            )))
            .bind(key)
            .bind(&month)
            .bind(t.spend_cents())
            .bind(t.tokens())
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

#[async_trait]
impl CostStore for PgStore {
    async fn record_cost(
        &self,
        event: CostEventRecord,
        current_month: String,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        record(&mut tx, &event, &current_month).await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cost_rollups(
        &self,
        company_id: Uuid,
        month: String,
    ) -> StoreResult<Vec<CostRollupRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT agent_id, project_key, {SUMS} FROM cost_rollups
             WHERE company_id = $1 AND month = $2"
        )))
        .bind(company_id)
        .bind(month)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        Ok(rows.iter().map(row_totals).collect::<R<_>>()?)
    }

    async fn cost_totals_between(
        &self,
        company_id: Uuid,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> StoreResult<Vec<CostRollupRow>> {
        let sub = "billing_type LIKE 'subscription%'";
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT agent_id, COALESCE(project_id::text, '') AS project_key,
                COALESCE(SUM(cost_cents), 0)::bigint AS cost_cents,
                SUM(estimated_cost_cents)::bigint AS estimated_cost_cents,
                SUM(input_tokens)::bigint AS input_tokens,
                SUM(cached_input_tokens)::bigint AS cached_input_tokens,
                SUM(output_tokens)::bigint AS output_tokens,
                SUM(CASE WHEN {sub} THEN input_tokens ELSE 0 END)::bigint
                    AS subscription_input_tokens,
                SUM(CASE WHEN {sub} THEN cached_input_tokens ELSE 0 END)::bigint
                    AS subscription_cached_input_tokens,
                SUM(CASE WHEN {sub} THEN output_tokens ELSE 0 END)::bigint
                    AS subscription_output_tokens,
                SUM(CASE WHEN {sub} THEN 0 ELSE 1 END)::bigint AS api_events,
                SUM(CASE WHEN {sub} THEN 1 ELSE 0 END)::bigint AS subscription_events,
                SUM(CASE WHEN cost_status = 'unpriced' THEN 1 ELSE 0 END)::bigint
                    AS unpriced_events
             FROM cost_events
             WHERE company_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2)
               AND ($3::timestamptz IS NULL OR occurred_at <= $3)
             GROUP BY agent_id, COALESCE(project_id::text, '')"
        )))
        .bind(company_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        Ok(rows.iter().map(row_totals).collect::<R<_>>()?)
    }

    async fn roll_spend_month(&self, month: String) -> StoreResult<u64> {
        let mut tx = self.tx().await?;
        let mut changed = 0;
        for (table, key) in [("agents", "agent_id"), ("companies", "company_id")] {
            changed += sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET spent_month = $1, spent_monthly_cents = COALESCE(
                    (SELECT SUM(r.cost_cents + r.estimated_cost_cents) FROM cost_rollups r
                     WHERE r.{key} = {table}.id AND r.month = $1), 0),
                    spent_monthly_tokens = COALESCE((SELECT
                        SUM(r.input_tokens + r.cached_input_tokens + r.output_tokens)
                     FROM cost_rollups r WHERE r.{key} = {table}.id AND r.month = $1), 0)
                 WHERE spent_month <> $1"
            )))
            .bind(&month)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn pause_agents(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        let mut tx = self.tx().await?;
        let changed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE agents SET status = 'paused', pause_reason = $2, paused_at = $3,
                updated_at = $3
             WHERE id = ANY($1)
               AND status NOT IN ('paused', 'terminated', 'pending_approval')
             RETURNING id",
        )
        .bind(&agent_ids)
        .bind(&reason)
        .bind(at)
        .fetch_all(&mut *tx)
        .await?;
        if !changed.is_empty() {
            activity::insert(&mut tx, &act).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn resume_paused(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        let mut tx = self.tx().await?;
        let changed: Vec<Uuid> = sqlx::query_scalar(
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
        if !changed.is_empty() {
            activity::insert(&mut tx, &act).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn insert_activity(&self, act: Vec<ActivityEntry>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }
}

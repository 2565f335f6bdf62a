//! Cost events, their monthly rollups and the month spend of agents and companies (SQLite).

use async_trait::async_trait;
use paperclip_shared::*;
use rusqlite::{Connection, Row, params};
use uuid::Uuid;

use super::codec::*;
use super::{SqliteStore, activity};
use crate::store::*;

/// The sums every grouped read selects, in `CostTotals` order.
const SUMS: &str = "cost_cents, estimated_cost_cents, input_tokens, cached_input_tokens,
    output_tokens, subscription_input_tokens, subscription_cached_input_tokens,
    subscription_output_tokens, api_events, subscription_events, unpriced_events";

fn row_totals(r: &Row) -> rusqlite::Result<CostRollupRow> {
    Ok(CostRollupRow {
        agent_id: get_uuid(r, "agent_id")?,
        project_key: r.get("project_key")?,
        totals: CostTotals {
            cost_cents: r.get("cost_cents")?,
            estimated_cost_cents: r.get("estimated_cost_cents")?,
            input_tokens: r.get("input_tokens")?,
            cached_input_tokens: r.get("cached_input_tokens")?,
            output_tokens: r.get("output_tokens")?,
            subscription_input_tokens: r.get("subscription_input_tokens")?,
            subscription_cached_input_tokens: r.get("subscription_cached_input_tokens")?,
            subscription_output_tokens: r.get("subscription_output_tokens")?,
            api_events: r.get("api_events")?,
            subscription_events: r.get("subscription_events")?,
            unpriced_events: r.get("unpriced_events")?,
        },
    })
}

fn insert_event(c: &Connection, e: &CostEventRecord) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO cost_events (id, company_id, agent_id, issue_id, project_id,
            heartbeat_run_id, provider, biller, billing_type, model, input_tokens,
            cached_input_tokens, output_tokens, cost_cents, cost_status, estimated_cost_cents,
            price_source, occurred_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19)",
    )?
    .execute(params![
        id(e.id),
        id(e.company_id),
        id(e.agent_id),
        opt_id(e.issue_id),
        opt_id(e.project_id),
        opt_id(e.heartbeat_run_id),
        e.provider,
        e.biller,
        e.billing_type,
        e.model,
        e.input_tokens,
        e.cached_input_tokens,
        e.output_tokens,
        e.cost_cents,
        e.cost_status,
        e.estimated_cost_cents,
        e.price_source,
        ts(e.occurred_at),
        ts(chrono::Utc::now()),
    ])?;
    Ok(())
}

/// The event, its rollup, and the month spend when its month is `current_month`.
pub fn record(c: &Connection, e: &CostEventRecord, current_month: &str) -> rusqlite::Result<()> {
    insert_event(c, e)?;
    let month = month_of(e.occurred_at);
    let t = CostTotals::of_event(e);
    c.prepare_cached(
        "INSERT INTO cost_rollups (company_id, month, agent_id, project_key, cost_cents,
            estimated_cost_cents, input_tokens, cached_input_tokens, output_tokens,
            subscription_input_tokens, subscription_cached_input_tokens,
            subscription_output_tokens, api_events, subscription_events, unpriced_events)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (company_id, month, agent_id, project_key) DO UPDATE SET
            cost_cents = cost_cents + excluded.cost_cents,
            estimated_cost_cents = estimated_cost_cents + excluded.estimated_cost_cents,
            input_tokens = input_tokens + excluded.input_tokens,
            cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens,
            output_tokens = output_tokens + excluded.output_tokens,
            subscription_input_tokens =
                subscription_input_tokens + excluded.subscription_input_tokens,
            subscription_cached_input_tokens =
                subscription_cached_input_tokens + excluded.subscription_cached_input_tokens,
            subscription_output_tokens =
                subscription_output_tokens + excluded.subscription_output_tokens,
            api_events = api_events + excluded.api_events,
            subscription_events = subscription_events + excluded.subscription_events,
            unpriced_events = unpriced_events + excluded.unpriced_events",
    )?
    .execute(params![
        id(e.company_id),
        month,
        id(e.agent_id),
        e.project_id.map(|p| p.to_string()).unwrap_or_default(),
        t.cost_cents,
        t.estimated_cost_cents,
        t.input_tokens,
        t.cached_input_tokens,
        t.output_tokens,
        t.subscription_input_tokens,
        t.subscription_cached_input_tokens,
        t.subscription_output_tokens,
        t.api_events,
        t.subscription_events,
        t.unpriced_events,
    ])?;
    if month == current_month {
        let spend = t.spend_cents();
        for table in ["agents", "companies"] {
            let key = if table == "agents" {
                e.agent_id
            } else {
                e.company_id
            };
            c.prepare_cached(&format!(
                "UPDATE {table} SET spent_monthly_cents = CASE WHEN spent_month = ?2
                    THEN spent_monthly_cents + ?3 ELSE ?3 END,
                    spent_monthly_tokens = CASE WHEN spent_month = ?2
                    THEN spent_monthly_tokens + ?4 ELSE ?4 END, spent_month = ?2 WHERE id = ?1"
            ))?
            .execute(params![id(key), month, spend, t.tokens()])?;
        }
    }
    Ok(())
}

fn rollups(c: &Connection, company: Uuid, month: &str) -> rusqlite::Result<Vec<CostRollupRow>> {
    c.prepare_cached(&format!(
        "SELECT agent_id, project_key, {SUMS} FROM cost_rollups
         WHERE company_id = ?1 AND month = ?2"
    ))?
    .query_map(params![id(company), month], row_totals)?
    .collect()
}

fn totals_between(
    c: &Connection,
    company: Uuid,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> rusqlite::Result<Vec<CostRollupRow>> {
    let sub = "billing_type LIKE 'subscription%'";
    c.prepare_cached(&format!(
        "SELECT agent_id, COALESCE(project_id, '') AS project_key,
            SUM(COALESCE(cost_cents, 0)) AS cost_cents,
            SUM(estimated_cost_cents) AS estimated_cost_cents,
            SUM(input_tokens) AS input_tokens, SUM(cached_input_tokens) AS cached_input_tokens,
            SUM(output_tokens) AS output_tokens,
            SUM(CASE WHEN {sub} THEN input_tokens ELSE 0 END) AS subscription_input_tokens,
            SUM(CASE WHEN {sub} THEN cached_input_tokens ELSE 0 END)
                AS subscription_cached_input_tokens,
            SUM(CASE WHEN {sub} THEN output_tokens ELSE 0 END) AS subscription_output_tokens,
            SUM(CASE WHEN {sub} THEN 0 ELSE 1 END) AS api_events,
            SUM(CASE WHEN {sub} THEN 1 ELSE 0 END) AS subscription_events,
            SUM(CASE WHEN cost_status = 'unpriced' THEN 1 ELSE 0 END) AS unpriced_events
         FROM cost_events
         WHERE company_id = ?1 AND (?2 IS NULL OR occurred_at >= ?2)
           AND (?3 IS NULL OR occurred_at <= ?3)
         GROUP BY agent_id, COALESCE(project_id, '')"
    ))?
    .query_map(params![id(company), opt_ts(from), opt_ts(to)], row_totals)?
    .collect()
}

fn roll_month(c: &Connection, month: &str) -> rusqlite::Result<u64> {
    let mut changed = 0;
    for (table, key) in [("agents", "agent_id"), ("companies", "company_id")] {
        changed += c.execute(
            &format!(
                "UPDATE {table} SET spent_month = ?1, spent_monthly_cents = COALESCE(
                    (SELECT SUM(r.cost_cents + r.estimated_cost_cents) FROM cost_rollups r
                     WHERE r.{key} = {table}.id AND r.month = ?1), 0),
                    spent_monthly_tokens = COALESCE((SELECT
                        SUM(r.input_tokens + r.cached_input_tokens + r.output_tokens)
                     FROM cost_rollups r WHERE r.{key} = {table}.id AND r.month = ?1), 0)
                 WHERE spent_month <> ?1"
            ),
            params![month],
        )? as u64;
    }
    Ok(changed)
}

#[async_trait]
impl CostStore for SqliteStore {
    async fn record_cost(
        &self,
        event: CostEventRecord,
        current_month: String,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            record(tx, &event, &current_month)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn cost_rollups(
        &self,
        company_id: Uuid,
        month: String,
    ) -> StoreResult<Vec<CostRollupRow>> {
        self.read(move |c| rollups(c, company_id, &month)).await
    }

    async fn cost_totals_between(
        &self,
        company_id: Uuid,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> StoreResult<Vec<CostRollupRow>> {
        self.read(move |c| totals_between(c, company_id, from, to))
            .await
    }

    async fn roll_spend_month(&self, month: String) -> StoreResult<u64> {
        self.write(move |tx| roll_month(tx, &month)).await
    }

    async fn pause_agents(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        self.write(move |tx| {
            let mut changed = Vec::new();
            for agent in agent_ids {
                let n = tx
                    .prepare_cached(
                        "UPDATE agents SET status = 'paused', pause_reason = ?2, paused_at = ?3,
                            updated_at = ?3
                         WHERE id = ?1
                           AND status NOT IN ('paused', 'terminated', 'pending_approval')",
                    )?
                    .execute(params![id(agent), reason, ts(at)])?;
                if n > 0 {
                    changed.push(agent);
                }
            }
            if !changed.is_empty() {
                activity::insert(tx, &act)?;
            }
            Ok(changed)
        })
        .await
    }

    async fn resume_paused(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>> {
        self.write(move |tx| {
            let mut changed = Vec::new();
            for agent in agent_ids {
                let n = tx
                    .prepare_cached(
                        "UPDATE agents SET status = 'idle', pause_reason = NULL, paused_at = NULL,
                            updated_at = ?3
                         WHERE id = ?1 AND status = 'paused' AND pause_reason = ?2",
                    )?
                    .execute(params![id(agent), reason, ts(at)])?;
                if n > 0 {
                    changed.push(agent);
                }
            }
            if !changed.is_empty() {
                activity::insert(tx, &act)?;
            }
            Ok(changed)
        })
        .await
    }

    async fn insert_activity(&self, act: Vec<ActivityEntry>) -> StoreResult<()> {
        self.write(move |tx| activity::insert(tx, &act)).await
    }
}

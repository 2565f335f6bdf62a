//! The cost ledger as stored: cost events, and a monthly rollup per (company, agent, project)
//! written in the same transaction as each event, so summaries read a handful of rows however
//! long the ledger grows. Agents' and companies' `spent_monthly_cents` count the current UTC
//! month (`spent_month`), reported and estimated dollars together.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::{CostEventRecord, StoreResult};

/// Sums over cost events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CostTotals {
    /// Dollars the provider or agent reported.
    pub cost_cents: i64,
    /// Dollars estimated for usage with no reported price (subscriptions, unpriced adapters).
    pub estimated_cost_cents: i64,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub subscription_input_tokens: i64,
    pub subscription_cached_input_tokens: i64,
    pub subscription_output_tokens: i64,
    pub api_events: i64,
    pub subscription_events: i64,
    pub unpriced_events: i64,
}

impl CostTotals {
    pub fn add(&mut self, o: &CostTotals) {
        self.cost_cents += o.cost_cents;
        self.estimated_cost_cents += o.estimated_cost_cents;
        self.input_tokens += o.input_tokens;
        self.cached_input_tokens += o.cached_input_tokens;
        self.output_tokens += o.output_tokens;
        self.subscription_input_tokens += o.subscription_input_tokens;
        self.subscription_cached_input_tokens += o.subscription_cached_input_tokens;
        self.subscription_output_tokens += o.subscription_output_tokens;
        self.api_events += o.api_events;
        self.subscription_events += o.subscription_events;
        self.unpriced_events += o.unpriced_events;
    }

    /// Reported and estimated dollars: what budgets count.
    pub fn spend_cents(&self) -> i64 {
        self.cost_cents + self.estimated_cost_cents
    }

    /// The tokens a token budget counts: input, cached input and output together.
    pub fn tokens(&self) -> i64 {
        self.input_tokens + self.cached_input_tokens + self.output_tokens
    }

    /// What one event adds.
    pub fn of_event(e: &CostEventRecord) -> CostTotals {
        let sub = is_subscription(&e.billing_type);
        let on_sub = |n: i64| if sub { n } else { 0 };
        CostTotals {
            cost_cents: e.cost_cents.unwrap_or(0),
            estimated_cost_cents: e.estimated_cost_cents,
            input_tokens: e.input_tokens,
            cached_input_tokens: e.cached_input_tokens,
            output_tokens: e.output_tokens,
            subscription_input_tokens: on_sub(e.input_tokens),
            subscription_cached_input_tokens: on_sub(e.cached_input_tokens),
            subscription_output_tokens: on_sub(e.output_tokens),
            api_events: i64::from(!sub),
            subscription_events: i64::from(sub),
            unpriced_events: i64::from(e.cost_status == "unpriced"),
        }
    }
}

/// One rollup row: the totals of one agent and project (`project_key` "" for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostRollupRow {
    pub agent_id: Uuid,
    pub project_key: String,
    pub totals: CostTotals,
}

/// `subscription`, `subscription_included`, `subscription_overage`.
pub fn is_subscription(billing_type: &str) -> bool {
    billing_type.starts_with("subscription")
}

/// The UTC month of a time, as the rollups key it: `2026-12`.
pub fn month_of(at: Timestamp) -> String {
    at.format("%Y-%m").to_string()
}

#[async_trait]
pub trait CostStore {
    /// Writes the event, adds it to its month's rollup and, when that month is
    /// `current_month`, to the agent's and the company's month spend, with the activity, in
    /// one transaction.
    async fn record_cost(
        &self,
        event: CostEventRecord,
        current_month: String,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    /// The rollup rows of one company and month.
    async fn cost_rollups(
        &self,
        company_id: Uuid,
        month: String,
    ) -> StoreResult<Vec<CostRollupRow>>;
    /// The same totals read from the ledger for events in `[from, to]` (either end open).
    async fn cost_totals_between(
        &self,
        company_id: Uuid,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> StoreResult<Vec<CostRollupRow>>;
    /// Starts the month spend of every agent and company that still counts an older month
    /// (the first of a month, or a server that slept through it); how many rows changed.
    async fn roll_spend_month(&self, month: String) -> StoreResult<u64>;

    /// Pauses those of `agent_ids` that are not paused, terminated or waiting for approval,
    /// with `reason`, and writes the activity when one was paused; the ids paused.
    async fn pause_agents(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>>;
    /// Makes `idle` again those of `agent_ids` paused with `reason`, and writes the activity
    /// when one was; the ids resumed.
    async fn resume_paused(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>>;
    /// Activity that comes with no other write (a budget's soft alert).
    async fn insert_activity(&self, activity: Vec<ActivityEntry>) -> StoreResult<()>;
}

//! The cost ledger: cost events from runs and from `POST /companies/:id/cost-events`, priced
//! or estimated, and the month's rollups by agent, project and company. Usage with no
//! reported dollars (a subscription, an adapter that prints none) is recorded with its tokens
//! and an estimate from the price table: shown as `unpriced` with `estimatedCostCents`,
//! counted against budgets, never a silent $0.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use paperclip_shared::patch::whole_number;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::validate::{optional_text, required_text};
use super::{Domain, DomainError, DomainResult};
use crate::auth::RequestActor;
use crate::store::{CostEventRecord, CostRollupRow, CostTotals, is_subscription, month_of};

const NAME_MAX: usize = 200;

/// Paperclip's billing types, and the two short names API.md uses.
const BILLING_TYPES: &[&str] = &[
    "api",
    "subscription",
    "metered_api",
    "subscription_included",
    "subscription_overage",
    "credits",
    "fixed",
    "unknown",
];

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCostEvent {
    /// The agent whose usage this is (an agent reports only its own).
    pub agent_id: Option<Uuid>,
    pub issue_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    /// Accepted for Paperclip's clients; not stored.
    pub goal_id: Option<Uuid>,
    pub heartbeat_run_id: Option<Uuid>,
    /// Accepted for Paperclip's clients; not stored.
    pub billing_code: Option<String>,
    pub provider: Option<String>,
    /// Who bills it; defaults to the provider.
    pub biller: Option<String>,
    /// `api`, `subscription`, or Paperclip's `metered_api`, `subscription_included`,
    /// `subscription_overage`, `credits`, `fixed`, `unknown` (the default).
    pub billing_type: Option<String>,
    /// Ignored: the server decides `reported` or `unpriced`.
    pub cost_status: Option<String>,
    pub model: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub input_tokens: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub cached_input_tokens: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub output_tokens: Option<i64>,
    /// Dollars in cents; absent (or 0 with tokens) means unpriced: estimated from the table.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub cost_cents: Option<i64>,
    /// RFC 3339; defaults to now.
    pub occurred_at: Option<String>,
}

/// How an event's dollars are known.
pub struct Priced {
    pub cost_cents: Option<i64>,
    pub cost_status: &'static str,
    pub estimated_cost_cents: i64,
    pub price_source: Option<String>,
}

/// What a month of a company cost, by agent and by project.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostSummary {
    pub company_id: Uuid,
    /// `2026-12`, or None for a `from`/`to` range.
    pub month: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Reported and estimated together: what the budget counts.
    pub spend_cents: i64,
    pub reported_cents: i64,
    pub estimated_cents: i64,
    pub budget_cents: i64,
    pub utilization_percent: f64,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub events: i64,
    pub unpriced_events: i64,
    pub price_table: String,
}

/// One agent's or one project's line of the month.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostLine {
    pub spend_cents: i64,
    /// Reported dollars only (Paperclip's `costCents`).
    pub cost_cents: i64,
    pub estimated_cost_cents: i64,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub api_run_count: i64,
    pub subscription_run_count: i64,
    pub subscription_input_tokens: i64,
    pub subscription_cached_input_tokens: i64,
    pub subscription_output_tokens: i64,
    pub unpriced_count: i64,
}

impl From<&CostTotals> for CostLine {
    fn from(t: &CostTotals) -> Self {
        CostLine {
            spend_cents: t.spend_cents(),
            cost_cents: t.cost_cents,
            estimated_cost_cents: t.estimated_cost_cents,
            input_tokens: t.input_tokens,
            cached_input_tokens: t.cached_input_tokens,
            output_tokens: t.output_tokens,
            api_run_count: t.api_events,
            subscription_run_count: t.subscription_events,
            subscription_input_tokens: t.subscription_input_tokens,
            subscription_cached_input_tokens: t.subscription_cached_input_tokens,
            subscription_output_tokens: t.subscription_output_tokens,
            unpriced_count: t.unpriced_events,
        }
    }
}

/// Which events a read covers: one UTC month (from the rollups), or a range (the ledger).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct CostPeriod {
    /// `YYYY-MM` (UTC); the current month by default.
    pub month: Option<String>,
    /// RFC 3339: events at or after.
    pub from: Option<String>,
    /// RFC 3339: events at or before.
    pub to: Option<String>,
}

fn time_field(field: &str, text: Option<&str>) -> DomainResult<Option<DateTime<Utc>>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|d| Some(super::truncate_micros(d.with_timezone(&Utc))))
            .map_err(|_| {
                DomainError::invalid(
                    field,
                    format!("{field} must be an RFC 3339 time like 2026-12-01T00:00:00Z"),
                )
            }),
    }
}

/// A count or amount (absent: 0): zero or more, and at most `validate::MAX_AMOUNT`.
pub fn non_negative(field: &str, value: Option<i64>) -> DomainResult<i64> {
    super::validate::cents(field, value.unwrap_or(0))
}

/// The current UTC month, as the rollups key it.
pub fn current_month() -> String {
    month_of(super::now())
}

impl Domain {
    /// Prices one usage: reported dollars stand (a subscription's own figure is an estimate:
    /// nobody is billed it); anything else is estimated from the price table.
    pub fn price_usage(
        &self,
        billing_type: &str,
        provider: &str,
        model: Option<&str>,
        tokens: (i64, i64, i64),
        cost_cents: Option<i64>,
    ) -> Priced {
        let (input, cached, output) = tokens;
        let any_tokens = input + cached + output > 0;
        let from_table = || {
            let estimate = self
                .prices
                .estimate_cents(provider, model, input, cached, output);
            Priced {
                cost_cents: None,
                cost_status: "unpriced",
                estimated_cost_cents: estimate.unwrap_or(0),
                price_source: estimate.map(|_| self.prices.label()),
            }
        };
        match cost_cents {
            Some(c) if is_subscription(billing_type) && c > 0 => Priced {
                cost_cents: None,
                cost_status: "unpriced",
                estimated_cost_cents: c,
                price_source: Some("adapter".into()),
            },
            _ if is_subscription(billing_type) => from_table(),
            Some(c) if c > 0 || !any_tokens => Priced {
                cost_cents: Some(c),
                cost_status: "reported",
                estimated_cost_cents: 0,
                price_source: None,
            },
            _ => from_table(),
        }
    }

    /// Starts the month spend of agents and companies that still count an older month (at
    /// start, and on each scheduler tick: a no-op until the UTC month changes).
    pub async fn roll_spend_month(&self) -> DomainResult<()> {
        let month = current_month();
        if *self.rolled_month.lock().unwrap_or_else(|p| p.into_inner()) == month {
            return Ok(());
        }
        let changed = self.store.roll_spend_month(month.clone()).await?;
        if changed > 0 {
            tracing::info!(%month, rows = changed, "month spend started for a new month");
        }
        *self.rolled_month.lock().unwrap_or_else(|p| p.into_inner()) = month;
        Ok(())
    }

    /// `POST /companies/:id/cost-events`: an agent reports its own usage; the board anyone's.
    pub async fn create_cost_event(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateCostEvent,
    ) -> DomainResult<CostEventRecord> {
        let scope = who.company(company_id, "Company not found")?;
        self.get_company(who, company_id).await?;
        let agent_id = input
            .agent_id
            .ok_or_else(|| DomainError::invalid("agentId", "agentId is required"))?;
        if let Some(me) = who.agent_id()
            && me != agent_id
        {
            return Err(DomainError::Forbidden(
                "Agent can only report its own costs".into(),
            ));
        }
        let provider = required_text(
            "provider",
            input.provider.as_deref().unwrap_or(""),
            NAME_MAX,
        )?;
        let model = required_text("model", input.model.as_deref().unwrap_or(""), NAME_MAX)?;
        let biller = optional_text("biller", input.biller.as_deref(), NAME_MAX)?
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| provider.clone());
        let billing_type = input
            .billing_type
            .as_deref()
            .map(str::trim)
            .unwrap_or("unknown")
            .to_string();
        if !BILLING_TYPES.contains(&billing_type.as_str()) {
            return Err(DomainError::invalid(
                "billingType",
                format!("billingType must be one of {}", BILLING_TYPES.join(", ")),
            ));
        }
        let input_tokens = non_negative("inputTokens", input.input_tokens)?;
        let cached = non_negative("cachedInputTokens", input.cached_input_tokens)?;
        let output = non_negative("outputTokens", input.output_tokens)?;
        if let Some(c) = input.cost_cents {
            non_negative("costCents", Some(c))?;
        }
        let occurred_at =
            time_field("occurredAt", input.occurred_at.as_deref())?.unwrap_or_else(super::now);

        let agent = self
            .store
            .get_agent(agent_id)
            .await?
            .filter(|a| a.company_id == company_id)
            .ok_or_else(|| {
                DomainError::rule(
                    "invalid_reference",
                    "agentId: agent not found in this company",
                )
            })?;
        let mut project_id = input.project_id;
        if let Some(issue_id) = input.issue_id {
            let issue = self
                .store
                .get_issue(issue_id)
                .await?
                .filter(|i| i.company_id == company_id)
                .ok_or_else(|| {
                    DomainError::rule(
                        "invalid_reference",
                        "issueId: issue not found in this company",
                    )
                })?;
            project_id = project_id.or(issue.project_id);
        }
        if let Some(p) = project_id
            && self
                .store
                .get_project(p)
                .await?
                .is_none_or(|p| p.company_id != company_id)
        {
            return Err(DomainError::rule(
                "invalid_reference",
                "projectId: project not found in this company",
            ));
        }
        if let Some(run_id) = input.heartbeat_run_id
            && !self
                .store
                .get_run(run_id)
                .await?
                .is_some_and(|r| r.company_id == company_id && r.agent_id == agent_id)
        {
            return Err(DomainError::rule(
                "invalid_reference",
                "heartbeatRunId: no run of this agent has that id",
            ));
        }
        let priced = self.price_usage(
            &billing_type,
            &provider,
            Some(&model),
            (input_tokens, cached, output),
            input.cost_cents,
        );
        let event = CostEventRecord {
            id: Uuid::new_v4(),
            company_id,
            agent_id,
            issue_id: input.issue_id,
            project_id,
            heartbeat_run_id: input.heartbeat_run_id,
            provider,
            biller: Some(biller),
            billing_type,
            model: Some(model.clone()),
            input_tokens,
            cached_input_tokens: cached,
            output_tokens: output,
            cost_cents: priced.cost_cents,
            cost_status: priced.cost_status.into(),
            estimated_cost_cents: priced.estimated_cost_cents,
            price_source: priced.price_source,
            occurred_at,
        };
        let act = scope.activity(
            "cost.reported",
            "cost_event",
            event.id,
            json!({"costCents": event.cost_cents, "estimatedCostCents": event.estimated_cost_cents,
                   "costStatus": event.cost_status, "model": model, "agentId": agent_id}),
        );
        self.store
            .record_cost(event.clone(), current_month(), vec![act])
            .await?;
        self.check_budgets(&agent, &event).await?;
        Ok(event)
    }

    async fn period_rows(
        &self,
        company_id: Uuid,
        period: &CostPeriod,
    ) -> DomainResult<(Vec<CostRollupRow>, Option<String>)> {
        let from = time_field("from", period.from.as_deref())?;
        let to = time_field("to", period.to.as_deref())?;
        if from.is_some() || to.is_some() {
            if period.month.is_some() {
                return Err(DomainError::invalid(
                    "month",
                    "give either month or from/to, not both",
                ));
            }
            let rows = self.store.cost_totals_between(company_id, from, to).await?;
            return Ok((rows, None));
        }
        let month = match period.month.as_deref().map(str::trim) {
            None | Some("") => current_month(),
            Some(m) => {
                chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(
                    |_| DomainError::invalid("month", "month must be a UTC month like 2026-12"),
                )?;
                m.to_string()
            }
        };
        let rows = self.store.cost_rollups(company_id, month.clone()).await?;
        Ok((rows, Some(month)))
    }

    /// `GET /companies/:id/costs/summary`.
    pub async fn cost_summary(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        period: CostPeriod,
    ) -> DomainResult<CostSummary> {
        let company = self.get_company(who, company_id).await?;
        let (rows, month) = self.period_rows(company_id, &period).await?;
        let mut t = CostTotals::default();
        for r in &rows {
            t.add(&r.totals);
        }
        let spend = t.spend_cents();
        let budget = company.budget_monthly_cents;
        Ok(CostSummary {
            company_id,
            from: time_field("from", period.from.as_deref())?,
            to: time_field("to", period.to.as_deref())?,
            month,
            spend_cents: spend,
            reported_cents: t.cost_cents,
            estimated_cents: t.estimated_cost_cents,
            budget_cents: budget,
            utilization_percent: percent(spend, budget),
            input_tokens: t.input_tokens,
            cached_input_tokens: t.cached_input_tokens,
            output_tokens: t.output_tokens,
            events: t.api_events + t.subscription_events,
            unpriced_events: t.unpriced_events,
            price_table: self.prices.label(),
        })
    }

    /// `GET /companies/:id/costs/by-agent`: every agent with spend, most first.
    pub async fn costs_by_agent(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        period: CostPeriod,
    ) -> DomainResult<Vec<serde_json::Value>> {
        self.get_company(who, company_id).await?;
        let (rows, _) = self.period_rows(company_id, &period).await?;
        let mut by: BTreeMap<Uuid, CostTotals> = BTreeMap::new();
        for r in &rows {
            by.entry(r.agent_id).or_default().add(&r.totals);
        }
        let agents = self.store.list_agents(company_id).await?;
        let mut lines: Vec<(i64, serde_json::Value)> = by
            .iter()
            .map(|(agent_id, t)| {
                let agent = agents.iter().find(|a| a.id == *agent_id);
                let mut v = serde_json::to_value(CostLine::from(t)).unwrap_or_default();
                v["agentId"] = json!(agent_id);
                v["agentName"] = json!(agent.map(|a| a.name.clone()));
                v["agentStatus"] = json!(agent.map(|a| a.status));
                v["budgetMonthlyCents"] = json!(agent.map(|a| a.budget_monthly_cents));
                (t.spend_cents(), v)
            })
            .collect();
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        Ok(lines.into_iter().map(|(_, v)| v).collect())
    }

    /// `GET /companies/:id/costs/by-project`: spend of each project (costs of no project are
    /// left out, as Paperclip does), most first.
    pub async fn costs_by_project(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        period: CostPeriod,
    ) -> DomainResult<Vec<serde_json::Value>> {
        self.get_company(who, company_id).await?;
        let (rows, _) = self.period_rows(company_id, &period).await?;
        let mut by: BTreeMap<String, CostTotals> = BTreeMap::new();
        for r in rows.iter().filter(|r| !r.project_key.is_empty()) {
            by.entry(r.project_key.clone()).or_default().add(&r.totals);
        }
        let projects = self.store.list_projects(company_id).await?;
        let mut lines: Vec<(i64, serde_json::Value)> = by
            .iter()
            .map(|(key, t)| {
                let project = projects.iter().find(|p| p.id.to_string() == *key);
                let mut v = serde_json::to_value(CostLine::from(t)).unwrap_or_default();
                v["projectId"] = json!(key);
                v["projectName"] = json!(project.map(|p| p.name.clone()));
                (t.spend_cents(), v)
            })
            .collect();
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        Ok(lines.into_iter().map(|(_, v)| v).collect())
    }
}

/// `part` of `whole` in percent, two decimals; 0 without a whole.
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    ((part as f64 / whole as f64) * 10_000.0).round() / 100.0
}

/// A cost event as the API shows it (Paperclip's shape, with `costStatus`,
/// `estimatedCostCents` and `priceSource`; `costCents` is null when unpriced).
pub fn cost_event_json(e: &CostEventRecord) -> serde_json::Value {
    json!({
        "id": e.id, "companyId": e.company_id, "agentId": e.agent_id, "issueId": e.issue_id,
        "projectId": e.project_id, "goalId": null, "heartbeatRunId": e.heartbeat_run_id,
        "billingCode": null, "provider": e.provider,
        "biller": e.biller.clone().unwrap_or_else(|| e.provider.clone()),
        "billingType": e.billing_type, "costStatus": e.cost_status, "model": e.model,
        "inputTokens": e.input_tokens, "cachedInputTokens": e.cached_input_tokens,
        "outputTokens": e.output_tokens, "costCents": e.cost_cents,
        "estimatedCostCents": e.estimated_cost_cents, "priceSource": e.price_source,
        "occurredAt": e.occurred_at, "createdAt": e.occurred_at,
    })
}

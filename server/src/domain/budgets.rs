//! Monthly budgets for a company and for each agent, in cents and in tokens (0 means none),
//! counted over the current UTC month: cents with reported and estimated dollars together,
//! tokens as input, cached input and output together. At 80% of either a soft alert
//! (`budget.soft_threshold_crossed`); at 100% the agent (or, for the company's budget, every
//! agent of the company) is paused with reason `budget` (`budget.hard_threshold_crossed`, high
//! priority): the scheduler skips it and its checkout answers 422. Raising the budget (or
//! resuming the agent) lifts it.

use paperclip_shared::patch::whole_number;
use paperclip_shared::*;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::costs::current_month;
use super::{Domain, DomainError, DomainResult, next_time, now};
use crate::auth::RequestActor;
use crate::store::{CostEventRecord, CostTotals, month_of};

/// The pause reason of a budget's hard stop.
pub const BUDGET_PAUSE: &str = "budget";
/// The pause reason of the breakers (`heartbeat::breakers`): a provider's usage limit, until
/// it resets; an agent that kept running without changing any issue.
pub const USAGE_LIMIT_PAUSE: &str = "usage_limit";
pub const LOOP_PAUSE: &str = "loop_detected";

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBudget {
    /// The monthly budget in cents (0: no budget).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_cents: Option<i64>,
    /// The monthly budget in tokens: input, cached input and output together (0: no budget).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_tokens: Option<i64>,
}

/// The budgets a request sets: at least one of the two.
fn budgets_of(input: &UpdateBudget) -> DomainResult<(Option<i64>, Option<i64>)> {
    if input.budget_monthly_cents.is_none() && input.budget_monthly_tokens.is_none() {
        return Err(DomainError::invalid(
            "budgetMonthlyCents",
            "budgetMonthlyCents or budgetMonthlyTokens is required",
        ));
    }
    let check =
        |field: &str, v: Option<i64>| v.map(|v| super::validate::cents(field, v)).transpose();
    Ok((
        check("budgetMonthlyCents", input.budget_monthly_cents)?,
        check("budgetMonthlyTokens", input.budget_monthly_tokens)?,
    ))
}

/// What a budget counts.
#[derive(Clone, Copy)]
enum Metric {
    Cents,
    Tokens,
}

const METRICS: [Metric; 2] = [Metric::Cents, Metric::Tokens];

impl Metric {
    /// (spent, budget) of an agent.
    fn of_agent(self, a: &Agent) -> (i64, i64) {
        match self {
            Metric::Cents => (a.spent_monthly_cents, a.budget_monthly_cents),
            Metric::Tokens => (a.spent_monthly_tokens, a.budget_monthly_tokens),
        }
    }

    /// (spent, budget) of a company.
    fn of_company(self, c: &Company) -> (i64, i64) {
        match self {
            Metric::Cents => (c.spent_monthly_cents, c.budget_monthly_cents),
            Metric::Tokens => (c.spent_monthly_tokens, c.budget_monthly_tokens),
        }
    }

    fn of_delta(self, d: &Delta) -> i64 {
        match self {
            Metric::Cents => d.cents,
            Metric::Tokens => d.tokens,
        }
    }

    /// The entry's details: `spentCents`/`budgetCents` or `spentTokens`/`budgetTokens`.
    fn details(self, spent: i64, budget: i64) -> serde_json::Value {
        match self {
            Metric::Cents => json!({"metric": "cents", "spentCents": spent, "budgetCents": budget}),
            Metric::Tokens => {
                json!({"metric": "tokens", "spentTokens": spent, "budgetTokens": budget})
            }
        }
    }
}

/// What a cost event added, in each metric.
#[derive(Default)]
struct Delta {
    cents: i64,
    tokens: i64,
}

/// An entry the budget guard writes itself (no person or agent did it).
fn guard_activity(
    company_id: Uuid,
    action: &str,
    entity: (&str, Uuid),
    agent_id: Option<Uuid>,
    details: serde_json::Value,
) -> ActivityEntry {
    ActivityEntry {
        id: Uuid::new_v4(),
        company_id,
        actor_type: ActorType::System,
        actor_id: "budget".into(),
        action: action.into(),
        entity_type: entity.0.into(),
        entity_id: entity.1.to_string(),
        agent_id,
        run_id: None,
        details,
        created_at: now(),
    }
}

/// Spend went from under 80% of the budget to 80% or more.
fn crossed_soft(before: i64, after: i64, budget: i64) -> bool {
    let (before, after, budget) = (before as i128, after as i128, budget as i128);
    budget > 0 && before * 5 < budget * 4 && after * 5 >= budget * 4
}

fn spent_all((spent, budget): (i64, i64)) -> bool {
    budget > 0 && spent >= budget
}

/// Whether an agent is inside every budget of its own and of its company.
fn within(agent: &Agent, company: &Company) -> bool {
    METRICS
        .iter()
        .all(|m| !spent_all(m.of_agent(agent)) && !spent_all(m.of_company(company)))
}

/// Whose budget: an agent's or its company's.
enum Holder<'a> {
    Agent(&'a Agent),
    Company(&'a Company),
}

/// The guard's entries for one holder: a soft alert per metric that crossed 80%, and, when a
/// metric is spent, the high-priority hard stop (the first metric spent names it).
fn budget_entries(holder: &Holder, delta: &Delta) -> (Vec<ActivityEntry>, Option<ActivityEntry>) {
    let (company_id, entity, agent_id, lift) = match holder {
        Holder::Agent(a) => (
            a.company_id,
            ("agent", a.id),
            Some(a.id),
            "Raise the agent's budget (PATCH /api/agents/:id/budgets) or resume it",
        ),
        Holder::Company(c) => (
            c.id,
            ("company", c.id),
            None,
            "Raise the company's budget (PATCH /api/companies/:id/budgets)",
        ),
    };
    let mut soft = Vec::new();
    let mut hard = None;
    for m in METRICS {
        let (spent, budget) = match holder {
            Holder::Agent(a) => m.of_agent(a),
            Holder::Company(c) => m.of_company(c),
        };
        let mut d = m.details(spent, budget);
        d["month"] = json!(current_month());
        match holder {
            Holder::Agent(a) => {
                d["scope"] = json!("agent");
                d["agentId"] = json!(a.id);
                d["agentName"] = json!(a.name);
            }
            Holder::Company(_) => d["scope"] = json!("company"),
        }
        if crossed_soft(spent - m.of_delta(delta), spent, budget) {
            let mut d = d.clone();
            d["thresholdPercent"] = json!(80);
            soft.push(guard_activity(
                company_id,
                "budget.soft_threshold_crossed",
                entity,
                agent_id,
                d,
            ));
        }
        if hard.is_none() && spent_all((spent, budget)) {
            d["priority"] = json!("high");
            d["thresholdPercent"] = json!(100);
            d["lift"] = json!(lift);
            hard = Some(guard_activity(
                company_id,
                "budget.hard_threshold_crossed",
                entity,
                agent_id,
                d,
            ));
        }
    }
    (soft, hard)
}

impl Domain {
    /// After `event` was recorded for `agent`: alerts at 80% and stops at 100% of the agent's
    /// and the company's budgets. Costs of an earlier month count for nothing.
    pub(crate) async fn check_budgets(
        &self,
        agent: &Agent,
        event: &CostEventRecord,
    ) -> DomainResult<()> {
        if month_of(event.occurred_at) != current_month() {
            return Ok(());
        }
        let t = CostTotals::of_event(event);
        let delta = Delta {
            cents: t.spend_cents(),
            tokens: t.tokens(),
        };
        self.enforce_budgets(agent.company_id, Some(agent.id), delta)
            .await
    }

    async fn enforce_budgets(
        &self,
        company_id: Uuid,
        agent_id: Option<Uuid>,
        delta: Delta,
    ) -> DomainResult<()> {
        let at = now();
        if let Some(agent) = match agent_id {
            Some(id) => self.store.get_agent(id).await?,
            None => None,
        } {
            let (soft, hard) = budget_entries(&Holder::Agent(&agent), &delta);
            if !soft.is_empty() {
                self.store.insert_activity(soft).await?;
            }
            if let Some(act) = hard {
                self.store
                    .pause_agents(vec![agent.id], BUDGET_PAUSE.into(), at, vec![act])
                    .await?;
            }
        }
        let Some(company) = self.store.get_company(company_id).await? else {
            return Ok(());
        };
        let (soft, hard) = budget_entries(&Holder::Company(&company), &delta);
        if !soft.is_empty() {
            self.store.insert_activity(soft).await?;
        }
        if let Some(act) = hard {
            let ids: Vec<Uuid> = self
                .store
                .list_agents(company_id)
                .await?
                .iter()
                .map(|a| a.id)
                .collect();
            self.store
                .pause_agents(ids, BUDGET_PAUSE.into(), at, vec![act])
                .await?;
        }
        Ok(())
    }

    /// After a budget changed: resumes the company's agents it now allows, and stops the ones
    /// (or the company) it no longer does.
    pub(super) async fn budgets_changed(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        agent_id: Option<Uuid>,
    ) -> DomainResult<()> {
        self.lift_budget_pauses(company_id, who).await?;
        self.enforce_budgets(company_id, agent_id, Delta::default())
            .await
    }

    /// Resumes the company's agents paused by a budget that now allows them.
    async fn lift_budget_pauses(&self, company_id: Uuid, who: &RequestActor) -> DomainResult<()> {
        let Some(company) = self.store.get_company(company_id).await? else {
            return Ok(());
        };
        let agents = self.store.list_agents(company_id).await?;
        let lift: Vec<Uuid> = agents
            .iter()
            .filter(|a| {
                a.status == AgentStatus::Paused
                    && a.pause_reason.as_deref() == Some(BUDGET_PAUSE)
                    && within(a, &company)
            })
            .map(|a| a.id)
            .collect();
        if lift.is_empty() {
            return Ok(());
        }
        let scope = who.company(company_id, "Company not found")?;
        let act = scope.activity(
            "budget.pause_lifted",
            "company",
            company_id,
            json!({"agentIds": lift}),
        );
        self.store
            .resume_paused(lift, BUDGET_PAUSE.into(), now(), vec![act])
            .await?;
        Ok(())
    }

    /// `PATCH /companies/:id/budgets` (board).
    pub async fn update_company_budget(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: UpdateBudget,
    ) -> DomainResult<Company> {
        who.board()?;
        let scope = who.company(company_id, "Company not found")?;
        let (cents, tokens) = budgets_of(&input)?;
        let mut company = self.get_company(who, company_id).await?;
        company.budget_monthly_cents = cents.unwrap_or(company.budget_monthly_cents);
        company.budget_monthly_tokens = tokens.unwrap_or(company.budget_monthly_tokens);
        company.updated_at = next_time(company.updated_at);
        let act = scope.activity(
            "company.budget_updated",
            "company",
            company_id,
            json!({"budgetMonthlyCents": company.budget_monthly_cents,
                "budgetMonthlyTokens": company.budget_monthly_tokens}),
        );
        self.store.update_company(company, vec![act]).await?;
        self.budgets_changed(who, company_id, None).await?;
        self.get_company(who, company_id).await
    }

    /// `PATCH /agents/:id/budgets` (board).
    pub async fn update_agent_budget(
        &self,
        who: &RequestActor,
        agent_id: Uuid,
        input: UpdateBudget,
    ) -> DomainResult<Agent> {
        who.board()?;
        let (cents, tokens) = budgets_of(&input)?;
        let mut agent = self.get_agent(who, agent_id).await?;
        let scope = who.company(agent.company_id, "Agent not found")?;
        agent.budget_monthly_cents = cents.unwrap_or(agent.budget_monthly_cents);
        agent.budget_monthly_tokens = tokens.unwrap_or(agent.budget_monthly_tokens);
        agent.updated_at = next_time(agent.updated_at);
        let act = scope.activity(
            "agent.budget_updated",
            "agent",
            agent.id,
            json!({"budgetMonthlyCents": agent.budget_monthly_cents,
                "budgetMonthlyTokens": agent.budget_monthly_tokens}),
        );
        self.store.save_agent(agent.clone(), vec![act]).await?;
        self.budgets_changed(who, agent.company_id, Some(agent.id))
            .await?;
        self.get_agent(who, agent_id).await
    }
}

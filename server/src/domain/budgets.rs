//! Monthly budgets in cents, for a company and for each agent (0 means none), counted over
//! the current UTC month with reported and estimated dollars together. At 80% a soft alert
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
use crate::store::month_of;

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
}

fn budget_of(input: &UpdateBudget) -> DomainResult<i64> {
    match input.budget_monthly_cents {
        None => Err(DomainError::invalid(
            "budgetMonthlyCents",
            "budgetMonthlyCents is required",
        )),
        c => super::costs::non_negative("budgetMonthlyCents", c),
    }
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

/// Whether an agent is inside its own and its company's budget.
fn within(agent: &Agent, company: &Company) -> bool {
    let ok = |spent: i64, budget: i64| budget == 0 || spent < budget;
    ok(agent.spent_monthly_cents, agent.budget_monthly_cents)
        && ok(company.spent_monthly_cents, company.budget_monthly_cents)
}

impl Domain {
    /// After a cost of `delta` cents was recorded for `agent`: alerts at 80% and stops at 100%
    /// of the agent's and the company's budgets. Costs of an earlier month count for nothing.
    pub(crate) async fn check_budgets(
        &self,
        agent: &Agent,
        delta: i64,
        occurred_at: Timestamp,
    ) -> DomainResult<()> {
        if month_of(occurred_at) != current_month() {
            return Ok(());
        }
        self.enforce_budgets(agent.company_id, Some(agent.id), delta)
            .await
    }

    async fn enforce_budgets(
        &self,
        company_id: Uuid,
        agent_id: Option<Uuid>,
        delta: i64,
    ) -> DomainResult<()> {
        let at = now();
        if let Some(agent) = match agent_id {
            Some(id) => self.store.get_agent(id).await?,
            None => None,
        } {
            let (spent, budget) = (agent.spent_monthly_cents, agent.budget_monthly_cents);
            let details = json!({"scope": "agent", "agentId": agent.id, "agentName": agent.name,
                "spentCents": spent, "budgetCents": budget, "month": current_month()});
            if crossed_soft(spent - delta, spent, budget) {
                let mut d = details.clone();
                d["thresholdPercent"] = json!(80);
                let act = guard_activity(
                    company_id,
                    "budget.soft_threshold_crossed",
                    ("agent", agent.id),
                    Some(agent.id),
                    d,
                );
                self.store.insert_activity(vec![act]).await?;
            }
            if budget > 0 && spent >= budget {
                let mut d = details;
                d["priority"] = json!("high");
                d["thresholdPercent"] = json!(100);
                d["lift"] =
                    json!("Raise the agent's budget (PATCH /api/agents/:id/budgets) or resume it");
                let act = guard_activity(
                    company_id,
                    "budget.hard_threshold_crossed",
                    ("agent", agent.id),
                    Some(agent.id),
                    d,
                );
                self.store
                    .pause_agents(vec![agent.id], BUDGET_PAUSE.into(), at, vec![act])
                    .await?;
            }
        }
        let Some(company) = self.store.get_company(company_id).await? else {
            return Ok(());
        };
        let (spent, budget) = (company.spent_monthly_cents, company.budget_monthly_cents);
        let details = json!({"scope": "company", "spentCents": spent, "budgetCents": budget,
            "month": current_month()});
        if crossed_soft(spent - delta, spent, budget) {
            let mut d = details.clone();
            d["thresholdPercent"] = json!(80);
            let act = guard_activity(
                company_id,
                "budget.soft_threshold_crossed",
                ("company", company_id),
                None,
                d,
            );
            self.store.insert_activity(vec![act]).await?;
        }
        if budget > 0 && spent >= budget {
            let ids: Vec<Uuid> = self
                .store
                .list_agents(company_id)
                .await?
                .iter()
                .map(|a| a.id)
                .collect();
            let mut d = details;
            d["priority"] = json!("high");
            d["thresholdPercent"] = json!(100);
            d["lift"] = json!("Raise the company's budget (PATCH /api/companies/:id/budgets)");
            let act = guard_activity(
                company_id,
                "budget.hard_threshold_crossed",
                ("company", company_id),
                None,
                d,
            );
            self.store
                .pause_agents(ids, BUDGET_PAUSE.into(), at, vec![act])
                .await?;
        }
        Ok(())
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
        let budget = budget_of(&input)?;
        let mut company = self.get_company(who, company_id).await?;
        company.budget_monthly_cents = budget;
        company.updated_at = next_time(company.updated_at);
        let act = scope.activity(
            "company.budget_updated",
            "company",
            company_id,
            json!({"budgetMonthlyCents": budget}),
        );
        self.store.update_company(company, vec![act]).await?;
        self.lift_budget_pauses(company_id, who).await?;
        self.enforce_budgets(company_id, None, 0).await?;
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
        let budget = budget_of(&input)?;
        let mut agent = self.get_agent(who, agent_id).await?;
        let scope = who.company(agent.company_id, "Agent not found")?;
        agent.budget_monthly_cents = budget;
        agent.updated_at = next_time(agent.updated_at);
        let act = scope.activity(
            "agent.budget_updated",
            "agent",
            agent.id,
            json!({"budgetMonthlyCents": budget}),
        );
        self.store.save_agent(agent.clone(), vec![act]).await?;
        self.lift_budget_pauses(agent.company_id, who).await?;
        self.enforce_budgets(agent.company_id, Some(agent.id), 0)
            .await?;
        self.get_agent(who, agent_id).await
    }
}

//! The board's dashboard of one company: agents and issues by status, the month's spend
//! (reported and estimated) against its budget, pending approvals, and every paused agent
//! with the reason and the way to lift it.

use paperclip_shared::*;
use uuid::Uuid;

use super::{Domain, DomainResult};
use crate::auth::RequestActor;

impl Domain {
    pub async fn dashboard(&self, who: &RequestActor, company_id: Uuid) -> DomainResult<Dashboard> {
        let company = self.get_company(who, company_id).await?;
        let stale_before = crate::domain::now() - chrono::Duration::hours(24);
        let counts = self
            .store
            .dashboard_counts(company_id, stale_before)
            .await?;
        let agent = |s: AgentStatus| {
            counts
                .agents_by_status
                .iter()
                .filter(|(k, _)| *k == s)
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        let issue = |s: IssueStatus| {
            counts
                .issues_by_status
                .iter()
                .filter(|(k, _)| *k == s)
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        let open: i64 = counts
            .issues_by_status
            .iter()
            .filter(|(s, _)| !s.is_closed())
            .map(|(_, n)| n)
            .sum();
        let spend = company.spent_monthly_cents;
        let budget = company.budget_monthly_cents;
        let month = self
            .cost_summary(who, company_id, Default::default())
            .await?;
        let breakers: Vec<DashboardBreaker> = self
            .store
            .list_breakers(company_id)
            .await?
            .into_iter()
            .map(|b| DashboardBreaker {
                agent_id: b.agent_id,
                reason: b.reason,
                until: b.until,
                details: b.details,
                created_at: b.created_at,
            })
            .collect();
        let paused_agents = self
            .store
            .list_agents(company_id)
            .await?
            .into_iter()
            .filter(|a| a.status == AgentStatus::Paused)
            .map(|a| {
                let reason = a.pause_reason.clone().unwrap_or_else(|| "manual".into());
                let until = breakers
                    .iter()
                    .find(|b| b.agent_id == a.id && b.reason == reason)
                    .and_then(|b| b.until);
                DashboardPausedAgent {
                    agent_id: a.id,
                    name: a.name,
                    lift: how_to_lift(&reason, until),
                    reason,
                    paused_at: a.paused_at,
                    until,
                }
            })
            .collect();
        Ok(Dashboard {
            company_id,
            agents: DashboardAgents {
                active: agent(AgentStatus::Active) + agent(AgentStatus::Idle),
                running: agent(AgentStatus::Running),
                paused: agent(AgentStatus::Paused),
                error: agent(AgentStatus::Error),
            },
            tasks: DashboardTasks {
                open,
                in_progress: issue(IssueStatus::InProgress),
                blocked: issue(IssueStatus::Blocked),
                done: issue(IssueStatus::Done),
            },
            costs: DashboardCosts {
                month_spend_cents: spend,
                month_budget_cents: budget,
                month_utilization_percent: super::costs::percent(spend, budget),
                month_reported_cents: month.reported_cents,
                month_estimated_cents: month.estimated_cents,
                month_tokens: company.spent_monthly_tokens,
                month_budget_tokens: company.budget_monthly_tokens,
                month_token_utilization_percent: super::costs::percent(
                    company.spent_monthly_tokens,
                    company.budget_monthly_tokens,
                ),
            },
            pending_approvals: self
                .store
                .list_approvals(company_id, Some("pending".into()))
                .await?
                .len() as i64,
            stale_tasks: counts.stale_in_progress,
            agents_by_status: counts
                .agents_by_status
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect(),
            issues_by_status: counts
                .issues_by_status
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect(),
            paused_agents,
            breakers,
        })
    }
}

/// What lifts a pause, for the dashboard.
fn how_to_lift(reason: &str, until: Option<chrono::DateTime<chrono::Utc>>) -> String {
    use crate::domain::budgets;
    match reason {
        budgets::BUDGET_PAUSE => "Raise the agent's or the company's monthly budget \
            (PATCH /api/agents/:id/budgets or /api/companies/:id/budgets), or resume the agent."
            .into(),
        budgets::USAGE_LIMIT_PAUSE => match until {
            Some(t) => format!(
                "Resumes by itself when the provider's usage limit resets at {}; or resume the agent now.",
                t.to_rfc3339()
            ),
            None => {
                "The provider's usage limit was hit; resume the agent when it has reset.".into()
            }
        },
        budgets::LOOP_PAUSE => {
            "It kept running without changing any issue: fix its instructions or \
            wake-ups, then resume the agent (POST /api/agents/:id/resume)."
                .into()
        }
        _ => "Resume the agent (POST /api/agents/:id/resume).".into(),
    }
}

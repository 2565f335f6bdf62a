//! Checkout, release and force-release: who holds an issue, and the locks that go with it.

use paperclip_shared::*;
use serde_json::json;
use uuid::Uuid;

use super::super::{Domain, DomainError, DomainResult, next_time};
use super::update::{clear_locks, diff};
use crate::auth::RequestActor;
use crate::store::{CheckoutWrite, IssueWrite};

/// The answer to a force-release: the issue and the locks it had.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForceReleased {
    pub issue: Issue,
    pub previous: PreviousLocks,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviousLocks {
    pub checkout_run_id: Option<Uuid>,
    pub execution_run_id: Option<Uuid>,
}

impl Domain {
    pub async fn checkout_issue(
        &self,
        who: &RequestActor,
        key: &str,
        input: CheckoutIssue,
    ) -> DomainResult<Issue> {
        let (issue, scope) = self.find_issue(who, key).await?;
        if let Some(me) = who.agent_id()
            && me != input.agent_id
        {
            return Err(DomainError::Forbidden(
                "Agent can only checkout as itself".into(),
            ));
        }
        let expected = input.expected_statuses;
        if expected.is_empty() {
            return Err(DomainError::invalid(
                "expectedStatuses",
                "expectedStatuses must list at least one status",
            ));
        }
        let agent = self
            .store
            .get_agent(input.agent_id)
            .await?
            .filter(|a| a.company_id == issue.company_id);
        if let Some(a) = &agent
            && a.status == AgentStatus::Paused
            && a.pause_reason.as_deref() == Some(crate::domain::budgets::BUDGET_PAUSE)
        {
            return Err(DomainError::Rule {
                code: "budget_exceeded",
                message: "Agent is paused: its monthly budget (or its company's) is spent. \
                          Raise the budget or resume the agent."
                    .into(),
                details: Some(
                    json!({"agentId": a.id, "spentMonthlyCents": a.spent_monthly_cents,
                    "budgetMonthlyCents": a.budget_monthly_cents,
                    "spentMonthlyTokens": a.spent_monthly_tokens,
                    "budgetMonthlyTokens": a.budget_monthly_tokens}),
                ),
            });
        }
        match agent.map(|a| a.status) {
            None => {
                return Err(DomainError::rule(
                    "invalid_reference",
                    "agentId: agent not found in this company",
                ));
            }
            Some(AgentStatus::Terminated | AgentStatus::PendingApproval) => {
                return Err(DomainError::conflict(
                    "agent_inactive",
                    "Agent cannot take work in its current state",
                ));
            }
            Some(_) => {}
        }
        if issue.status != IssueStatus::InProgress {
            self.check_ceo_strategy(who, &issue, IssueStatus::InProgress)
                .await?;
        }
        let unresolved = self.unresolved_blockers(issue.id).await?;
        if !unresolved.is_empty() {
            return Err(DomainError::Rule {
                code: "unresolved_blockers",
                message: "Issue is blocked by unresolved blockers".into(),
                details: Some(json!({"unresolvedBlockerIssueIds": unresolved})),
            });
        }
        let now = next_time(issue.updated_at);
        let activity = vec![scope.activity(
            "issue.checked_out",
            "issue",
            issue.id,
            json!({"agentId": input.agent_id, "identifier": issue.identifier}),
        )];
        let checkout = CheckoutWrite {
            issue_id: issue.id,
            agent_id: input.agent_id,
            run_id: scope.run_id(),
            expected_statuses: expected,
            now,
            activity,
        };
        let taken = self.store.checkout_issue(checkout).await?;
        let current = self
            .store
            .get_issue(issue.id)
            .await?
            .ok_or(DomainError::NotFound("Issue not found"))?;
        if taken {
            return Ok(current);
        }
        let unresolved = self.unresolved_blockers(issue.id).await?;
        if !unresolved.is_empty() {
            return Err(DomainError::Rule {
                code: "unresolved_blockers",
                message: "Issue is blocked by unresolved blockers".into(),
                details: Some(json!({"unresolvedBlockerIssueIds": unresolved})),
            });
        }
        Err(DomainError::Conflict {
            code: "checkout_conflict",
            message: "Issue checkout conflict".into(),
            details: Some(json!({
                "issueId": current.id,
                "status": current.status,
                "assigneeAgentId": current.assignee_agent_id,
                "checkoutRunId": current.checkout_run_id,
                "executionRunId": current.execution_run_id,
            })),
        })
    }

    /// The holder gives the issue back: no assignee, no locks, `in_progress` → `todo`.
    pub async fn release_issue(&self, who: &RequestActor, key: &str) -> DomainResult<Issue> {
        for _attempt in 0..5 {
            let (before, scope) = self.find_issue(who, key).await?;
            if let Some(me) = who.agent_id()
                && before.assignee_agent_id != Some(me)
            {
                return Err(DomainError::conflict(
                    "not_assignee",
                    "Only assignee can release issue",
                ));
            }
            let mut issue = before.clone();
            issue.assignee_agent_id = None;
            clear_locks(&mut issue);
            if issue.status == IssueStatus::InProgress {
                issue.status = IssueStatus::Todo;
            }
            issue.updated_at = next_time(before.updated_at);
            let changes = diff(&before, &issue);
            let act = scope.activity(
                "issue.released",
                "issue",
                issue.id,
                json!({"identifier": issue.identifier, "changes": changes}),
            );
            let write = IssueWrite {
                issue: issue.clone(),
                expected_updated_at: before.updated_at,
                blockers: None,
                comment: None,
                activity: vec![act],
            };
            if self.store.update_issue(write).await? {
                return Ok(issue);
            }
        }
        Err(DomainError::conflict(
            "concurrent_update",
            "The issue changed while it was being released; try again",
        ))
    }

    /// Board only: clears every lock (and the assignee when asked), whoever holds them.
    pub async fn force_release_issue(
        &self,
        who: &RequestActor,
        key: &str,
        clear_assignee: bool,
    ) -> DomainResult<ForceReleased> {
        let board = who.board()?;
        for _attempt in 0..5 {
            let (before, scope) = self.find_issue(who, key).await?;
            let mut issue = before.clone();
            clear_locks(&mut issue);
            if clear_assignee {
                issue.assignee_agent_id = None;
                if issue.status == IssueStatus::InProgress {
                    issue.status = IssueStatus::Todo;
                }
            }
            issue.updated_at = next_time(before.updated_at);
            let previous = PreviousLocks {
                checkout_run_id: before.checkout_run_id,
                execution_run_id: before.execution_run_id,
            };
            let act = scope.activity(
                "issue.admin_force_release",
                "issue",
                issue.id,
                json!({
                    "issueId": issue.id,
                    "actorUserId": board.user_id(),
                    "prevCheckoutRunId": previous.checkout_run_id,
                    "prevExecutionRunId": previous.execution_run_id,
                    "clearAssignee": clear_assignee,
                }),
            );
            let write = IssueWrite {
                issue: issue.clone(),
                expected_updated_at: before.updated_at,
                blockers: None,
                comment: None,
                activity: vec![act],
            };
            if self.store.update_issue(write).await? {
                return Ok(ForceReleased { issue, previous });
            }
        }
        Err(DomainError::conflict(
            "concurrent_update",
            "The issue changed while it was being released; try again",
        ))
    }
}

//! The CEO's strategy gate: issues a CEO agent creates stay in `backlog`/`todo` until the
//! board approves an `approve_ceo_strategy` request.

use paperclip_shared::*;
use serde_json::json;

use super::super::{Domain, DomainError, DomainResult};
use crate::auth::RequestActor;

impl Domain {
    /// The CEO's strategy rule: until the company has an approved `approve_ceo_strategy`, an
    /// agent may not move an issue a CEO agent created out of `backlog`/`todo` (cancelling
    /// it is allowed; the board may do anything).
    pub(crate) async fn check_ceo_strategy(
        &self,
        who: &RequestActor,
        issue: &Issue,
        to: IssueStatus,
    ) -> DomainResult<()> {
        if who.agent_id().is_none()
            || matches!(
                to,
                IssueStatus::Backlog | IssueStatus::Todo | IssueStatus::Cancelled
            )
        {
            return Ok(());
        }
        let Some(creator) = issue.created_by_agent_id else {
            return Ok(());
        };
        let is_ceo = self
            .store
            .get_agent(creator)
            .await?
            .is_some_and(|a| a.role == AgentRole::Ceo);
        if !is_ceo
            || self
                .store
                .has_approval(
                    issue.company_id,
                    "approve_ceo_strategy".into(),
                    "approved".into(),
                )
                .await?
        {
            return Ok(());
        }
        Err(DomainError::Rule {
            code: "ceo_strategy_unapproved",
            message: "The CEO's strategy is not approved yet: issues the CEO created stay in backlog or todo until the board approves an approve_ceo_strategy request".into(),
            details: Some(json!({"issueId": issue.id, "status": to})),
        })
    }
}

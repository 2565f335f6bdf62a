//! Hiring through approvals: `agent-hires` creates the agent (waiting in `pending_approval`
//! where the company requires it) beside its `hire_agent` approval; an approved `hire_agent`
//! made without a waiting agent hires the one its payload describes.

use paperclip_shared::*;
use serde_json::json;
use uuid::Uuid;

use super::super::{Domain, DomainError, DomainResult, now};
use crate::auth::RequestActor;
use crate::store::ApprovalRecord;

impl Domain {
    /// `POST /companies/:id/agent-hires`: where the company requires approval, the agent
    /// waits in `pending_approval` beside a `hire_agent` approval; otherwise it is hired.
    pub async fn hire_agent(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateAgent,
    ) -> DomainResult<(Agent, Option<ApprovalRecord>)> {
        let company = self.get_company(who, company_id).await?;
        self.check_can_create_agents(who).await?;
        let needs_approval = company.require_board_approval_for_new_agents;
        let status = if needs_approval {
            AgentStatus::PendingApproval
        } else {
            AgentStatus::Idle
        };
        let (agent, scope) = self.new_agent(who, company_id, input, status).await?;
        let created = scope.activity(
            "agent.created",
            "agent",
            agent.id,
            json!({"name": agent.name, "role": agent.role, "status": agent.status}),
        );
        if !needs_approval {
            self.store.save_agent(agent.clone(), vec![created]).await?;
            return Ok((agent, None));
        }
        // The agent as the API shows it: credentials in its env already read as redacted.
        let shown = serde_json::to_value(&agent).unwrap_or_default();
        let at = now();
        let approval = ApprovalRecord {
            id: Uuid::new_v4(),
            company_id,
            approval_type: "hire_agent".into(),
            requested_by_agent_id: who.agent_id(),
            requested_by_user_id: scope.user_id().map(str::to_string),
            status: "pending".into(),
            payload: json!({
                "agentId": agent.id, "name": agent.name, "role": agent.role, "title": agent.title,
                "icon": agent.icon, "reportsTo": agent.reports_to,
                "capabilities": agent.capabilities, "adapterType": agent.adapter_type,
                "adapterConfig": shown["adapterConfig"], "runtimeConfig": agent.runtime_config,
                "budgetMonthlyCents": agent.budget_monthly_cents,
                "budgetMonthlyTokens": agent.budget_monthly_tokens, "metadata": agent.metadata,
                "requestedByAgentId": who.agent_id(),
            }),
            decision_note: None,
            decided_by_user_id: None,
            decided_at: None,
            created_at: at,
            updated_at: at,
        };
        let asked = scope.activity(
            "approval.created",
            "approval",
            approval.id,
            json!({"type": "hire_agent", "agentId": agent.id, "issueIds": []}),
        );
        self.store
            .insert_approval(
                approval.clone(),
                Vec::new(),
                Some(agent.clone()),
                vec![created, asked],
            )
            .await?;
        Ok((agent, Some(approval)))
    }

    /// An approved `hire_agent` made through `POST /approvals` (no agent waiting): the agent
    /// its payload describes.
    pub(super) async fn hire_from_payload(
        &self,
        who: &RequestActor,
        approval: &ApprovalRecord,
    ) -> DomainResult<()> {
        let input: CreateAgent = serde_json::from_value(approval.payload.clone()).map_err(|e| {
            DomainError::rule(
                "invalid_hire_payload",
                format!("The approval's payload does not describe an agent: {e}"),
            )
        })?;
        let (agent, scope) = self
            .new_agent(who, approval.company_id, input, AgentStatus::Idle)
            .await?;
        let act = scope.activity(
            "agent.created",
            "agent",
            agent.id,
            json!({"name": agent.name, "role": agent.role, "approvalId": approval.id}),
        );
        self.store.save_agent(agent, vec![act]).await?;
        Ok(())
    }
}

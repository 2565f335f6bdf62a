//! Agents: a strict org tree inside one company, lifecycle (pause, resume, terminate — final),
//! and the agent's own view (`me`, chain of command). Their credentials are in `agent_keys`.

use std::collections::HashMap;

use paperclip_shared::limits::*;
use paperclip_shared::*;
use serde_json::json;
use uuid::Uuid;

use super::validate::*;
use super::{Domain, DomainError, DomainResult, next_time};
use crate::auth::RequestActor;

fn check_adapter_type(adapter_type: &str) -> DomainResult<String> {
    let t = adapter_type.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(
            "adapterType",
            "adapterType must not be empty",
        ));
    }
    if !SUPPORTED_ADAPTER_TYPES.contains(&t) {
        return Err(DomainError::Rule {
            code: "unknown_adapter_type",
            message: format!("Unknown adapter type: {t}"),
            details: Some(json!({"field": "adapterType", "supported": SUPPORTED_ADAPTER_TYPES})),
        });
    }
    Ok(t.to_string())
}

impl Domain {
    pub async fn list_agents(
        &self,
        who: &RequestActor,
        company_id: Uuid,
    ) -> DomainResult<Vec<Agent>> {
        self.get_company(who, company_id).await?;
        let agents = self.store.list_agents(company_id).await?;
        Ok(agents
            .into_iter()
            .filter(|a| a.status != AgentStatus::Terminated)
            .collect())
    }

    pub async fn get_agent(&self, who: &RequestActor, id: Uuid) -> DomainResult<Agent> {
        let agent = self
            .store
            .get_agent(id)
            .await?
            .ok_or(DomainError::NotFound("Agent not found"))?;
        who.company(agent.company_id, "Agent not found")?;
        Ok(agent)
    }

    /// Managers above the agent, nearest first, the agent itself excluded.
    pub async fn chain_of_command(&self, agent: &Agent) -> DomainResult<Vec<ChainLink>> {
        let all: HashMap<Uuid, Agent> = self
            .store
            .list_agents(agent.company_id)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut chain = Vec::new();
        let mut cursor = agent.reports_to;
        while let Some(id) = cursor {
            let Some(m) = all.get(&id) else { break };
            if m.id == agent.id || chain.len() >= 50 {
                break;
            }
            chain.push(ChainLink {
                id: m.id,
                name: m.name.clone(),
                role: m.role,
                title: m.title.clone(),
            });
            cursor = m.reports_to;
        }
        Ok(chain)
    }

    pub async fn agent_me(&self, who: &RequestActor) -> DomainResult<AgentMe> {
        let Some(agent_id) = who.agent_id() else {
            return Err(DomainError::Unauthorized(
                "Agent authentication required".into(),
            ));
        };
        let agent = self.get_agent(who, agent_id).await?;
        let chain_of_command = self.chain_of_command(&agent).await?;
        Ok(AgentMe {
            agent,
            chain_of_command,
        })
    }

    pub async fn org_tree(
        &self,
        who: &RequestActor,
        company_id: Uuid,
    ) -> DomainResult<Vec<OrgNode>> {
        let agents = self.list_agents(who, company_id).await?;
        let ids: std::collections::HashSet<Uuid> = agents.iter().map(|a| a.id).collect();
        let mut children: HashMap<Option<Uuid>, Vec<&Agent>> = HashMap::new();
        for a in &agents {
            let parent = a.reports_to.filter(|p| ids.contains(p));
            children.entry(parent).or_default().push(a);
        }
        fn build(
            parent: Option<Uuid>,
            children: &HashMap<Option<Uuid>, Vec<&Agent>>,
            depth: usize,
        ) -> Vec<OrgNode> {
            if depth > 100 {
                return Vec::new();
            }
            children
                .get(&parent)
                .map(|list| {
                    list.iter()
                        .map(|a| OrgNode {
                            id: a.id,
                            name: a.name.clone(),
                            role: a.role,
                            title: a.title.clone(),
                            status: a.status,
                            reports: build(Some(a.id), children, depth + 1),
                        })
                        .collect()
                })
                .unwrap_or_default()
        }
        Ok(build(None, &children, 0))
    }

    /// A manager must be a live agent of the same company, and never the agent or one of its
    /// reports (the tree stays a tree).
    async fn check_manager(
        &self,
        company_id: Uuid,
        agent_id: Uuid,
        manager: Option<Uuid>,
    ) -> DomainResult<()> {
        let Some(manager_id) = manager else {
            return Ok(());
        };
        if manager_id == agent_id {
            return Err(DomainError::rule(
                "org_cycle",
                "An agent cannot report to itself",
            ));
        }
        let all: HashMap<Uuid, Agent> = self
            .store
            .list_agents(company_id)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let Some(m) = all.get(&manager_id) else {
            return Err(DomainError::rule(
                "invalid_manager",
                "reportsTo: manager must be an agent of the same company",
            ));
        };
        if m.status == AgentStatus::Terminated {
            return Err(DomainError::rule(
                "invalid_manager",
                "reportsTo: a terminated agent cannot be a manager",
            ));
        }
        let mut cursor = Some(manager_id);
        let mut hops = 0;
        while let Some(id) = cursor {
            if id == agent_id || hops > all.len() {
                return Err(DomainError::rule(
                    "org_cycle",
                    "reportsTo would create a cycle in the org tree",
                ));
            }
            hops += 1;
            cursor = all.get(&id).and_then(|a| a.reports_to);
        }
        Ok(())
    }

    pub async fn create_agent(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateAgent,
    ) -> DomainResult<Agent> {
        let company = self.get_company(who, company_id).await?;
        self.check_can_create_agents(who).await?;
        if company.require_board_approval_for_new_agents {
            return Err(DomainError::Conflict {
                code: "approval_required",
                message: format!(
                    "Direct agent creation requires board approval. Use POST /api/companies/{company_id}/agent-hires to create a pending hire approval."
                ),
                details: Some(
                    json!({"hirePath": format!("/api/companies/{company_id}/agent-hires")}),
                ),
            });
        }
        let (agent, scope) = self
            .new_agent(who, company_id, input, AgentStatus::Idle)
            .await?;
        let act = scope.activity(
            "agent.created",
            "agent",
            agent.id,
            json!({"name": agent.name, "role": agent.role}),
        );
        self.store.save_agent(agent.clone(), vec![act]).await?;
        Ok(agent)
    }

    /// An agent caller needs `canCreateAgents` (a CEO has it unless told otherwise).
    pub(crate) async fn check_can_create_agents(&self, who: &RequestActor) -> DomainResult<()> {
        if let Some(agent_id) = who.agent_id() {
            let me = self.get_agent(who, agent_id).await?;
            let can = me
                .permissions
                .get("canCreateAgents")
                .and_then(|v| v.as_bool())
                .unwrap_or(me.role == AgentRole::Ceo);
            if !can {
                return Err(DomainError::Forbidden(
                    "Missing permission: can create agents".into(),
                ));
            }
        }
        Ok(())
    }

    /// A new agent of `input`, checked, not yet written.
    pub(crate) async fn new_agent(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateAgent,
        status: AgentStatus,
    ) -> DomainResult<(Agent, crate::auth::CompanyScope)> {
        let scope = who.company(company_id, "Company not found")?;
        let now = crate::domain::now();
        let id = Uuid::new_v4();
        self.check_manager(company_id, id, input.reports_to).await?;
        let mut agent = Agent {
            id,
            company_id,
            name: required_text("name", &input.name, NAME_MAX)?,
            role: input.role.unwrap_or(AgentRole::General),
            title: optional_text("title", input.title.as_deref(), NAME_MAX)?,
            icon: optional_text("icon", input.icon.as_deref(), NAME_MAX)?,
            status,
            reports_to: input.reports_to,
            capabilities: optional_text(
                "capabilities",
                input.capabilities.as_deref(),
                DESCRIPTION_MAX,
            )?,
            adapter_type: check_adapter_type(input.adapter_type.as_deref().unwrap_or("process"))?,
            adapter_config: json_object("adapterConfig", input.adapter_config)?
                .unwrap_or_else(|| json!({})),
            runtime_config: json_object("runtimeConfig", input.runtime_config)?
                .unwrap_or_else(|| json!({})),
            budget_monthly_cents: cents(
                "budgetMonthlyCents",
                input.budget_monthly_cents.unwrap_or(0),
            )?,
            spent_monthly_cents: 0,
            budget_monthly_tokens: cents(
                "budgetMonthlyTokens",
                input.budget_monthly_tokens.unwrap_or(0),
            )?,
            spent_monthly_tokens: 0,
            pause_reason: None,
            paused_at: None,
            permissions: json_object("permissions", input.permissions)?
                .unwrap_or_else(|| json!({})),
            last_heartbeat_at: None,
            metadata: json_object("metadata", input.metadata)?.unwrap_or_else(|| json!({})),
            created_at: now,
            updated_at: now,
        };
        self.check_env(company_id, &mut agent.adapter_config)
            .await?;
        Ok((agent, scope))
    }

    pub async fn update_agent(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: UpdateAgent,
    ) -> DomainResult<Agent> {
        let mut a = self.get_agent(who, id).await?;
        let scope = who.company(a.company_id, "Agent not found")?;
        if who.agent_id().is_some() && who.agent_id() != Some(id) {
            return Err(DomainError::Forbidden(
                "An agent may update only itself".into(),
            ));
        }
        if a.status == AgentStatus::Terminated {
            return Err(DomainError::conflict(
                "agent_terminated",
                "Terminated agents cannot be changed",
            ));
        }
        if let Some(n) = &input.name {
            a.name = required_text("name", n, NAME_MAX)?;
        }
        a.role = input.role.unwrap_or(a.role);
        if let Some(t) = input.title {
            a.title = optional_text("title", t.as_deref(), NAME_MAX)?;
        }
        if let Some(i) = input.icon {
            a.icon = optional_text("icon", i.as_deref(), NAME_MAX)?;
        }
        if let Some(c) = input.capabilities {
            a.capabilities = optional_text("capabilities", c.as_deref(), DESCRIPTION_MAX)?;
        }
        if let Some(r) = input.reports_to {
            self.check_manager(a.company_id, a.id, r).await?;
            a.reports_to = r;
        }
        if let Some(t) = &input.adapter_type {
            a.adapter_type = check_adapter_type(t)?;
        }
        if let Some(mut c) = json_object("adapterConfig", input.adapter_config)? {
            self.check_env(a.company_id, &mut c).await?;
            a.adapter_config = c;
        }
        if let Some(c) = json_object("runtimeConfig", input.runtime_config)? {
            a.runtime_config = c;
        }
        let rebudget =
            input.budget_monthly_cents.is_some() || input.budget_monthly_tokens.is_some();
        if let Some(b) = input.budget_monthly_cents {
            who.board()?;
            a.budget_monthly_cents = cents("budgetMonthlyCents", b)?;
        }
        if let Some(b) = input.budget_monthly_tokens {
            who.board()?;
            a.budget_monthly_tokens = cents("budgetMonthlyTokens", b)?;
        }
        if let Some(p) = json_object("permissions", input.permissions)? {
            who.board()?;
            a.permissions = p;
        }
        if let Some(m) = json_object("metadata", input.metadata)? {
            a.metadata = m;
        }
        a.updated_at = next_time(a.updated_at);
        let act = scope.activity("agent.updated", "agent", a.id, json!({"name": a.name}));
        self.store.save_agent(a.clone(), vec![act]).await?;
        if rebudget {
            self.budgets_changed(who, a.company_id, Some(a.id)).await?;
            return self.get_agent(who, a.id).await;
        }
        Ok(a)
    }

    /// pause, resume, terminate: board decisions about an agent's life.
    pub async fn set_agent_lifecycle(
        &self,
        who: &RequestActor,
        id: Uuid,
        to: AgentStatus,
        reason: Option<String>,
    ) -> DomainResult<Agent> {
        who.board()?;
        let mut a = self.get_agent(who, id).await?;
        let scope = who.company(a.company_id, "Agent not found")?;
        if a.status == AgentStatus::Terminated {
            return Err(DomainError::conflict(
                "agent_terminated",
                "Terminated agents cannot be changed",
            ));
        }
        if a.status == AgentStatus::PendingApproval && to != AgentStatus::Terminated {
            return Err(DomainError::conflict(
                "agent_pending_approval",
                "Pending approval agents cannot be paused or resumed",
            ));
        }
        let now = crate::domain::now();
        let was_paused_for = a.pause_reason.clone();
        let action = match to {
            AgentStatus::Paused => {
                a.pause_reason = Some(
                    optional_text("reason", reason.as_deref(), SHORT_TEXT_MAX)?
                        .unwrap_or_else(|| "manual".into()),
                );
                a.paused_at = Some(now);
                "agent.paused"
            }
            AgentStatus::Terminated => {
                a.pause_reason = None;
                a.paused_at = None;
                "agent.terminated"
            }
            _ => {
                a.pause_reason = None;
                a.paused_at = None;
                "agent.resumed"
            }
        };
        a.status = to;
        a.updated_at = next_time(a.updated_at);
        let act = scope.activity(action, "agent", a.id, json!({"name": a.name}));
        self.store.save_agent(a.clone(), vec![act]).await?;
        if let (Some(reason), false) = (was_paused_for, to == AgentStatus::Paused) {
            // A breaker lifted by hand is gone: no scheduled lift, not on the dashboard.
            self.store
                .clear_breakers(vec![a.id], reason, now, Vec::new())
                .await?;
        }
        if to == AgentStatus::Terminated {
            // Nothing of a terminated agent keeps running.
            if let Some(control) = self.run_control.get() {
                for run in self.store.open_runs_of_agent(a.id).await? {
                    control
                        .cancel(run, "The agent was terminated".into(), Vec::new())
                        .await?;
                }
            }
            for key in self.store.list_agent_keys(a.id).await? {
                if key.revoked_at.is_none() {
                    let act = scope.activity(
                        "agent.key_revoked",
                        "agent",
                        a.id,
                        json!({"keyId": key.id, "name": key.name}),
                    );
                    self.store.revoke_agent_key(key.id, now, vec![act]).await?;
                }
            }
        }
        Ok(a)
    }
}

//! Companies (with their issue prefix), goals, projects and the activity log.

use paperclip_shared::limits::*;
use paperclip_shared::*;
use serde_json::json;
use uuid::Uuid;

use super::validate::*;
use super::{Domain, DomainError, DomainResult, next_time};
use crate::auth::RequestActor;
use crate::store::{ActivityFilter, StoreError};

/// First three letters A–Z of the name, upper case ("Acme Notes" → "ACM"); "CMP" when none.
pub fn issue_prefix_base(name: &str) -> String {
    let letters: String = name
        .to_uppercase()
        .chars()
        .filter(|c| c.is_ascii_uppercase())
        .take(3)
        .collect();
    if letters.is_empty() {
        "CMP".to_string()
    } else {
        letters
    }
}

impl Domain {
    pub async fn list_companies(&self, who: &RequestActor) -> DomainResult<Vec<Company>> {
        let companies = self.store.list_companies().await?;
        Ok(companies
            .into_iter()
            .filter(|c| who.company(c.id, "Company not found").is_ok())
            .collect())
    }

    pub async fn get_company(&self, who: &RequestActor, id: Uuid) -> DomainResult<Company> {
        who.company(id, "Company not found")?;
        self.store
            .get_company(id)
            .await?
            .ok_or(DomainError::NotFound("Company not found"))
    }

    pub async fn create_company(
        &self,
        who: &RequestActor,
        input: CreateCompany,
    ) -> DomainResult<Company> {
        let board = who.board()?;
        board.require_instance_admin()?;
        // The creator owns the company (the implicit local board needs no membership).
        let owner = (board.user_id() != crate::auth::LOCAL_BOARD_USER_ID)
            .then(|| board.user_id().to_string());
        let name = required_text("name", &input.name, NAME_MAX)?;
        let now = crate::domain::now();
        let mut company = Company {
            id: Uuid::new_v4(),
            name: name.clone(),
            description: optional_text(
                "description",
                input.description.as_deref(),
                DESCRIPTION_MAX,
            )?,
            status: CompanyStatus::Active,
            issue_prefix: issue_prefix_base(&name),
            issue_counter: 0,
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
            require_board_approval_for_new_agents: input
                .require_board_approval_for_new_agents
                .unwrap_or(false),
            brand_color: color("brandColor", input.brand_color.as_deref())?,
            archived_at: None,
            created_at: now,
            updated_at: now,
        };
        let goal_title = optional_text("goal", input.goal.as_deref().map(str::trim), TITLE_MAX)?
            .filter(|g| !g.is_empty());
        let goal = goal_title.map(|title| Goal {
            id: Uuid::new_v4(),
            company_id: company.id,
            title,
            description: None,
            level: GoalLevel::Company,
            status: GoalStatus::Active,
            parent_id: None,
            owner_agent_id: None,
            created_at: now,
            updated_at: now,
        });
        let base = company.issue_prefix.clone();
        for attempt in 0..10_000 {
            company.issue_prefix = format!("{base}{}", "A".repeat(attempt));
            let scope = who.company(company.id, "Company not found")?;
            let mut activity = vec![scope.activity(
                "company.created",
                "company",
                company.id,
                json!({"name": company.name}),
            )];
            if let Some(g) = &goal {
                activity.push(scope.activity(
                    "goal.created",
                    "goal",
                    g.id,
                    json!({"title": g.title}),
                ));
            }
            match self
                .store
                .insert_company(company.clone(), goal.clone(), owner.clone(), activity)
                .await
            {
                Ok(()) => return Ok(company),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::conflict(
            "issue_prefix_exhausted",
            "No free issue prefix for this company name",
        ))
    }

    pub async fn update_company(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: UpdateCompany,
    ) -> DomainResult<Company> {
        let scope = who.company(id, "Company not found")?;
        who.board()?;
        let mut c = self.get_company(who, id).await?;
        if let Some(name) = &input.name {
            c.name = required_text("name", name, NAME_MAX)?;
        }
        if let Some(d) = input.description {
            c.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        let rebudget =
            input.budget_monthly_cents.is_some() || input.budget_monthly_tokens.is_some();
        if let Some(b) = input.budget_monthly_cents {
            c.budget_monthly_cents = cents("budgetMonthlyCents", b)?;
        }
        if let Some(b) = input.budget_monthly_tokens {
            c.budget_monthly_tokens = cents("budgetMonthlyTokens", b)?;
        }
        if let Some(r) = input.require_board_approval_for_new_agents {
            c.require_board_approval_for_new_agents = r;
        }
        if let Some(b) = input.brand_color {
            c.brand_color = color("brandColor", b.as_deref())?;
        }
        let mut action = "company.updated";
        if let Some(status) = input.status
            && status != c.status
        {
            action = match status {
                CompanyStatus::Archived => "company.archived",
                _ if c.status == CompanyStatus::Archived => "company.reactivated",
                _ => "company.updated",
            };
            c.archived_at = (status == CompanyStatus::Archived).then(crate::domain::now);
            c.status = status;
        }
        c.updated_at = next_time(c.updated_at);
        let act = scope.activity(
            action,
            "company",
            id,
            json!({"name": c.name, "status": c.status}),
        );
        self.store.update_company(c.clone(), vec![act]).await?;
        if rebudget {
            self.budgets_changed(who, id, None).await?;
            return self.get_company(who, id).await;
        }
        Ok(c)
    }

    pub async fn archive_company(&self, who: &RequestActor, id: Uuid) -> DomainResult<Company> {
        let update = UpdateCompany {
            status: Some(CompanyStatus::Archived),
            ..Default::default()
        };
        self.update_company(who, id, update).await
    }

    pub async fn delete_company(&self, who: &RequestActor, id: Uuid) -> DomainResult<()> {
        who.company(id, "Company not found")?;
        who.board()?;
        if !self.company_deletion_enabled {
            return Err(DomainError::Forbidden(
                "Company deletion is disabled on this instance (set PAPERCLIP_ENABLE_COMPANY_DELETION=true)".into(),
            ));
        }
        self.get_company(who, id).await?;
        self.store.delete_company(id).await?;
        Ok(())
    }

    pub async fn list_goals(
        &self,
        who: &RequestActor,
        company_id: Uuid,
    ) -> DomainResult<Vec<Goal>> {
        self.get_company(who, company_id).await?;
        Ok(self.store.list_goals(company_id).await?)
    }

    pub async fn get_goal(&self, who: &RequestActor, id: Uuid) -> DomainResult<Goal> {
        let goal = self
            .store
            .get_goal(id)
            .await?
            .ok_or(DomainError::NotFound("Goal not found"))?;
        who.company(goal.company_id, "Goal not found")?;
        Ok(goal)
    }

    /// A parent goal or owner agent must live in the same company.
    async fn check_goal_links(
        &self,
        company_id: Uuid,
        goal_id: Option<Uuid>,
        parent: Option<Uuid>,
        owner: Option<Uuid>,
    ) -> DomainResult<()> {
        if let Some(p) = parent {
            if Some(p) == goal_id {
                return Err(DomainError::rule(
                    "goal_cycle",
                    "A goal cannot be its own parent",
                ));
            }
            let mut cursor = self.store.get_goal(p).await?;
            let mut hops = 0;
            if cursor.as_ref().map(|g| g.company_id) != Some(company_id) {
                return Err(DomainError::rule(
                    "invalid_reference",
                    "parentId: goal not found in this company",
                ));
            }
            while let Some(g) = cursor {
                if Some(g.id) == goal_id || hops > 1000 {
                    return Err(DomainError::rule(
                        "goal_cycle",
                        "parentId would create a cycle of goals",
                    ));
                }
                hops += 1;
                cursor = match g.parent_id {
                    Some(next) => self.store.get_goal(next).await?,
                    None => None,
                };
            }
        }
        self.check_agent_ref(company_id, "ownerAgentId", owner)
            .await
    }

    pub(crate) async fn check_agent_ref(
        &self,
        company_id: Uuid,
        field: &str,
        agent_id: Option<Uuid>,
    ) -> DomainResult<()> {
        if let Some(a) = agent_id {
            let agent = self.store.get_agent(a).await?;
            if agent.map(|a| a.company_id) != Some(company_id) {
                return Err(DomainError::rule(
                    "invalid_reference",
                    format!("{field}: agent not found in this company"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) async fn check_goal_ref(
        &self,
        company_id: Uuid,
        goal_id: Option<Uuid>,
    ) -> DomainResult<()> {
        if let Some(g) = goal_id
            && self.store.get_goal(g).await?.map(|g| g.company_id) != Some(company_id)
        {
            return Err(DomainError::rule(
                "invalid_reference",
                "goalId: goal not found in this company",
            ));
        }
        Ok(())
    }

    pub(crate) async fn check_project_ref(
        &self,
        company_id: Uuid,
        project_id: Option<Uuid>,
    ) -> DomainResult<()> {
        if let Some(p) = project_id
            && self.store.get_project(p).await?.map(|p| p.company_id) != Some(company_id)
        {
            return Err(DomainError::rule(
                "invalid_reference",
                "projectId: project not found in this company",
            ));
        }
        Ok(())
    }

    pub async fn create_goal(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateGoal,
    ) -> DomainResult<Goal> {
        let scope = who.company(company_id, "Company not found")?;
        self.get_company(who, company_id).await?;
        self.check_goal_links(company_id, None, input.parent_id, input.owner_agent_id)
            .await?;
        let now = crate::domain::now();
        let goal = Goal {
            id: Uuid::new_v4(),
            company_id,
            title: required_text("title", &input.title, TITLE_MAX)?,
            description: optional_text(
                "description",
                input.description.as_deref(),
                DESCRIPTION_MAX,
            )?,
            level: input.level.unwrap_or(GoalLevel::Task),
            status: input.status.unwrap_or(GoalStatus::Planned),
            parent_id: input.parent_id,
            owner_agent_id: input.owner_agent_id,
            created_at: now,
            updated_at: now,
        };
        let act = scope.activity(
            "goal.created",
            "goal",
            goal.id,
            json!({"title": goal.title}),
        );
        self.store.save_goal(goal.clone(), vec![act]).await?;
        Ok(goal)
    }

    pub async fn update_goal(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: UpdateGoal,
    ) -> DomainResult<Goal> {
        let mut goal = self.get_goal(who, id).await?;
        let scope = who.company(goal.company_id, "Goal not found")?;
        if let Some(t) = &input.title {
            goal.title = required_text("title", t, TITLE_MAX)?;
        }
        if let Some(d) = input.description {
            goal.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        goal.level = input.level.unwrap_or(goal.level);
        goal.status = input.status.unwrap_or(goal.status);
        if let Some(p) = input.parent_id {
            goal.parent_id = p;
        }
        if let Some(o) = input.owner_agent_id {
            goal.owner_agent_id = o;
        }
        self.check_goal_links(
            goal.company_id,
            Some(goal.id),
            goal.parent_id,
            goal.owner_agent_id,
        )
        .await?;
        goal.updated_at = next_time(goal.updated_at);
        let act = scope.activity(
            "goal.updated",
            "goal",
            goal.id,
            json!({"title": goal.title, "status": goal.status}),
        );
        self.store.save_goal(goal.clone(), vec![act]).await?;
        Ok(goal)
    }

    pub async fn delete_goal(&self, who: &RequestActor, id: Uuid) -> DomainResult<Goal> {
        let goal = self.get_goal(who, id).await?;
        let scope = who.company(goal.company_id, "Goal not found")?;
        let act = scope.activity(
            "goal.deleted",
            "goal",
            goal.id,
            json!({"title": goal.title}),
        );
        self.store.delete_goal(id, vec![act]).await?;
        Ok(goal)
    }

    pub async fn list_projects(
        &self,
        who: &RequestActor,
        company_id: Uuid,
    ) -> DomainResult<Vec<Project>> {
        self.get_company(who, company_id).await?;
        Ok(self.store.list_projects(company_id).await?)
    }

    pub async fn get_project(&self, who: &RequestActor, id: Uuid) -> DomainResult<Project> {
        let p = self
            .store
            .get_project(id)
            .await?
            .ok_or(DomainError::NotFound("Project not found"))?;
        who.company(p.company_id, "Project not found")?;
        Ok(p)
    }

    pub async fn create_project(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateProject,
    ) -> DomainResult<Project> {
        let scope = who.company(company_id, "Company not found")?;
        self.get_company(who, company_id).await?;
        self.check_goal_ref(company_id, input.goal_id).await?;
        self.check_agent_ref(company_id, "leadAgentId", input.lead_agent_id)
            .await?;
        let now = crate::domain::now();
        let mut project = Project {
            id: Uuid::new_v4(),
            company_id,
            goal_id: input.goal_id,
            name: required_text("name", &input.name, NAME_MAX)?,
            description: optional_text(
                "description",
                input.description.as_deref(),
                DESCRIPTION_MAX,
            )?,
            status: input.status.unwrap_or(ProjectStatus::Backlog),
            lead_agent_id: input.lead_agent_id,
            target_date: date("targetDate", input.target_date.as_deref())?,
            color: color("color", input.color.as_deref())?,
            env: json_object("env", input.env)?.unwrap_or_else(|| json!({})),
            archived_at: None,
            created_at: now,
            updated_at: now,
        };
        self.check_project_env(company_id, &mut project.env).await?;
        let env_keys: Vec<&String> = project
            .env
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let act = scope.activity(
            "project.created",
            "project",
            project.id,
            json!({"name": project.name, "envKeys": env_keys}),
        );
        self.store.save_project(project.clone(), vec![act]).await?;
        Ok(project)
    }

    pub async fn update_project(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: UpdateProject,
    ) -> DomainResult<Project> {
        let mut p = self.get_project(who, id).await?;
        let scope = who.company(p.company_id, "Project not found")?;
        if let Some(n) = &input.name {
            p.name = required_text("name", n, NAME_MAX)?;
        }
        if let Some(d) = input.description {
            p.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        p.status = input.status.unwrap_or(p.status);
        if let Some(g) = input.goal_id {
            self.check_goal_ref(p.company_id, g).await?;
            p.goal_id = g;
        }
        if let Some(l) = input.lead_agent_id {
            self.check_agent_ref(p.company_id, "leadAgentId", l).await?;
            p.lead_agent_id = l;
        }
        if let Some(t) = input.target_date {
            p.target_date = date("targetDate", t.as_deref())?;
        }
        if let Some(c) = input.color {
            p.color = color("color", c.as_deref())?;
        }
        if let Some(mut env) = json_object("env", input.env)? {
            self.check_project_env(p.company_id, &mut env).await?;
            p.env = env;
        }
        p.updated_at = next_time(p.updated_at);
        let act = scope.activity(
            "project.updated",
            "project",
            p.id,
            json!({"name": p.name, "status": p.status}),
        );
        self.store.save_project(p.clone(), vec![act]).await?;
        Ok(p)
    }

    pub async fn list_activity(
        &self,
        who: &RequestActor,
        mut filter: ActivityFilter,
    ) -> DomainResult<Vec<ActivityEntry>> {
        self.get_company(who, filter.company_id).await?;
        filter.limit = filter.limit.clamp(1, ACTIVITY_PAGE_MAX);
        filter.offset = filter.offset.max(0);
        Ok(self.store.list_activity(filter).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::issue_prefix_base;

    #[test]
    fn prefix_takes_three_letters() {
        assert_eq!(issue_prefix_base("Acme Notes"), "ACM");
        assert_eq!(issue_prefix_base("a1 b2 c3 d"), "ABC");
        assert_eq!(issue_prefix_base("42"), "CMP");
        assert_eq!(issue_prefix_base("Xy"), "XY");
    }
}

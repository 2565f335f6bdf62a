//! PostgreSQL rows into our types. Columns are read by name (sqlx keeps a name index per
//! statement), except issues, read by position from `ISSUE_COLUMNS`; wire enums are stored
//! as text and parsed here.

use paperclip_shared::*;
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::store::AgentKeyRecord;

type R<T> = Result<T, sqlx::Error>;

pub(super) fn enumeration<E>(row: &PgRow, col: &str, parse: fn(&str) -> Option<E>) -> R<E> {
    let text: &str = row.try_get(col)?;
    parse(text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: format!("unknown value {text:?} in column {col}").into(),
    })
}

fn enumeration_at<E>(row: &PgRow, index: usize, parse: fn(&str) -> Option<E>) -> R<E> {
    let text: &str = row.try_get(index)?;
    parse(text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: format!("unknown value {text:?} in column {index}").into(),
    })
}

pub fn company(r: &PgRow) -> R<Company> {
    Ok(Company {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        status: enumeration(r, "status", CompanyStatus::parse)?,
        issue_prefix: r.try_get("issue_prefix")?,
        issue_counter: r.try_get("issue_counter")?,
        budget_monthly_cents: r.try_get("budget_monthly_cents")?,
        spent_monthly_cents: r.try_get("spent_monthly_cents")?,
        budget_monthly_tokens: r.try_get("budget_monthly_tokens")?,
        spent_monthly_tokens: r.try_get("spent_monthly_tokens")?,
        require_board_approval_for_new_agents: r
            .try_get("require_board_approval_for_new_agents")?,
        brand_color: r.try_get("brand_color")?,
        archived_at: r.try_get("archived_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub fn goal(r: &PgRow) -> R<Goal> {
    Ok(Goal {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        level: enumeration(r, "level", GoalLevel::parse)?,
        status: enumeration(r, "status", GoalStatus::parse)?,
        parent_id: r.try_get("parent_id")?,
        owner_agent_id: r.try_get("owner_agent_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub fn project(r: &PgRow) -> R<Project> {
    Ok(Project {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        goal_id: r.try_get("goal_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        status: enumeration(r, "status", ProjectStatus::parse)?,
        lead_agent_id: r.try_get("lead_agent_id")?,
        target_date: r.try_get("target_date")?,
        color: r.try_get("color")?,
        env: r.try_get("env")?,
        archived_at: r.try_get("archived_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub fn agent(r: &PgRow) -> R<Agent> {
    Ok(Agent {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        name: r.try_get("name")?,
        role: enumeration(r, "role", AgentRole::parse)?,
        title: r.try_get("title")?,
        icon: r.try_get("icon")?,
        status: enumeration(r, "status", AgentStatus::parse)?,
        reports_to: r.try_get("reports_to")?,
        capabilities: r.try_get("capabilities")?,
        adapter_type: r.try_get("adapter_type")?,
        adapter_config: r.try_get("adapter_config")?,
        runtime_config: r.try_get("runtime_config")?,
        budget_monthly_cents: r.try_get("budget_monthly_cents")?,
        spent_monthly_cents: r.try_get("spent_monthly_cents")?,
        budget_monthly_tokens: r.try_get("budget_monthly_tokens")?,
        spent_monthly_tokens: r.try_get("spent_monthly_tokens")?,
        pause_reason: r.try_get("pause_reason")?,
        paused_at: r.try_get("paused_at")?,
        permissions: r.try_get("permissions")?,
        last_heartbeat_at: r.try_get("last_heartbeat_at")?,
        metadata: r.try_get("metadata")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub fn agent_key(r: &PgRow) -> R<AgentKeyRecord> {
    Ok(AgentKeyRecord {
        id: r.try_get("id")?,
        agent_id: r.try_get("agent_id")?,
        company_id: r.try_get("company_id")?,
        name: r.try_get("name")?,
        key_hash: r.try_get("key_hash")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The columns `issue` reads, by position (the hottest rows: a list page has fifty, and a
/// lookup by name per column was a tenth of the work of serving it). A macro, so that a query
/// can `concat!` them into constant SQL.
macro_rules! issue_columns {
    () => {
        "id, company_id, project_id, goal_id, parent_id, title, description, status, priority, assignee_agent_id, assignee_user_id, checkout_run_id, execution_run_id, execution_agent_name_key, execution_locked_at, created_by_agent_id, created_by_user_id, issue_number, identifier, request_depth, billing_code, started_at, completed_at, cancelled_at, created_at, updated_at"
    };
}
pub(super) use issue_columns;

pub const ISSUE_COLUMNS: &str = issue_columns!();

/// `ISSUE_COLUMNS` qualified by a table alias, for a join.
pub fn issue_columns_of(alias: &str) -> String {
    ISSUE_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn issue(r: &PgRow) -> R<Issue> {
    Ok(Issue {
        id: r.try_get(0)?,
        company_id: r.try_get(1)?,
        project_id: r.try_get(2)?,
        goal_id: r.try_get(3)?,
        parent_id: r.try_get(4)?,
        title: r.try_get(5)?,
        description: r.try_get(6)?,
        status: enumeration_at(r, 7, IssueStatus::parse)?,
        priority: enumeration_at(r, 8, IssuePriority::parse)?,
        assignee_agent_id: r.try_get(9)?,
        assignee_user_id: r.try_get(10)?,
        checkout_run_id: r.try_get(11)?,
        execution_run_id: r.try_get(12)?,
        execution_agent_name_key: r.try_get(13)?,
        execution_locked_at: r.try_get(14)?,
        created_by_agent_id: r.try_get(15)?,
        created_by_user_id: r.try_get(16)?,
        issue_number: r.try_get(17)?,
        identifier: r.try_get(18)?,
        request_depth: r.try_get(19)?,
        billing_code: r.try_get(20)?,
        started_at: r.try_get(21)?,
        completed_at: r.try_get(22)?,
        cancelled_at: r.try_get(23)?,
        created_at: r.try_get(24)?,
        updated_at: r.try_get(25)?,
    })
}

pub fn issue_ref(r: &PgRow) -> R<IssueRef> {
    Ok(IssueRef {
        id: r.try_get("id")?,
        identifier: r.try_get("identifier")?,
        title: r.try_get("title")?,
        status: enumeration(r, "status", IssueStatus::parse)?,
        priority: enumeration(r, "priority", IssuePriority::parse)?,
        assignee_agent_id: r.try_get("assignee_agent_id")?,
        parent_id: r.try_get("parent_id")?,
        project_id: r.try_get("project_id")?,
        goal_id: r.try_get("goal_id")?,
    })
}

pub fn comment(r: &PgRow) -> R<IssueComment> {
    Ok(IssueComment {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        issue_id: r.try_get("issue_id")?,
        author_agent_id: r.try_get("author_agent_id")?,
        author_user_id: r.try_get("author_user_id")?,
        body: r.try_get("body")?,
        created_by_run_id: r.try_get("created_by_run_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub fn activity(r: &PgRow) -> R<ActivityEntry> {
    Ok(ActivityEntry {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        actor_type: enumeration(r, "actor_type", ActorType::parse)?,
        actor_id: r.try_get("actor_id")?,
        action: r.try_get("action")?,
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        agent_id: r.try_get("agent_id")?,
        run_id: r.try_get("run_id")?,
        details: r.try_get("details")?,
        created_at: r.try_get("created_at")?,
    })
}

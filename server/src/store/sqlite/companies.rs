//! Users, companies, goals and projects.

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::store::{COMPANY_GOAL, UserRecord};

pub fn ensure_user(
    conn: &Connection,
    user: &UserRecord,
    instance_admin: bool,
) -> rusqlite::Result<()> {
    let created = ts(user.created_at);
    conn.execute(
        "INSERT INTO users (id, name, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (id) DO NOTHING",
        params![user.id, user.name, user.email, created],
    )?;
    if instance_admin {
        super::access::grant_admin(conn, &user.id, user.created_at)?;
    }
    Ok(())
}

pub fn is_instance_admin(conn: &Connection, user_id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM instance_user_roles WHERE user_id = ?1 AND role = 'instance_admin'",
    )?
    .exists(params![user_id])
}

fn company_from_row(row: &Row) -> rusqlite::Result<Company> {
    Ok(Company {
        id: get_uuid(row, "id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        status: get_enum(row, "status", CompanyStatus::parse)?,
        issue_prefix: row.get("issue_prefix")?,
        issue_counter: row.get("issue_counter")?,
        budget_monthly_cents: row.get("budget_monthly_cents")?,
        spent_monthly_cents: row.get("spent_monthly_cents")?,
        budget_monthly_tokens: row.get("budget_monthly_tokens")?,
        spent_monthly_tokens: row.get("spent_monthly_tokens")?,
        require_board_approval_for_new_agents: row.get("require_board_approval_for_new_agents")?,
        brand_color: row.get("brand_color")?,
        archived_at: get_opt_ts(row, "archived_at")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn list_companies(conn: &Connection) -> rusqlite::Result<Vec<Company>> {
    let mut stmt = conn.prepare_cached("SELECT * FROM companies ORDER BY created_at, id")?;
    let rows = stmt.query_map([], company_from_row)?;
    rows.collect()
}

pub fn get_company(conn: &Connection, company_id: Uuid) -> rusqlite::Result<Option<Company>> {
    conn.prepare_cached("SELECT * FROM companies WHERE id = ?1")?
        .query_row(params![id(company_id)], company_from_row)
        .optional()
}

pub fn insert_company(conn: &Connection, c: &Company) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO companies (id, name, description, status, issue_prefix, issue_counter,
            budget_monthly_cents, spent_monthly_cents, require_board_approval_for_new_agents,
            brand_color, archived_at, created_at, updated_at, budget_monthly_tokens,
            spent_monthly_tokens)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            id(c.id),
            c.name,
            c.description,
            c.status.as_str(),
            c.issue_prefix,
            c.issue_counter,
            c.budget_monthly_cents,
            c.spent_monthly_cents,
            c.require_board_approval_for_new_agents,
            c.brand_color,
            opt_ts(c.archived_at),
            ts(c.created_at),
            ts(c.updated_at),
            c.budget_monthly_tokens,
            c.spent_monthly_tokens,
        ],
    )?;
    Ok(())
}

/// Writes the editable fields; the issue counter belongs to issue creation and the month
/// spend to the cost ledger, and are left alone.
pub fn update_company(conn: &Connection, c: &Company) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE companies SET name = ?2, description = ?3, status = ?4, budget_monthly_cents = ?5,
            require_board_approval_for_new_agents = ?6, brand_color = ?7,
            archived_at = ?8, updated_at = ?9, budget_monthly_tokens = ?10
         WHERE id = ?1",
        params![
            id(c.id),
            c.name,
            c.description,
            c.status.as_str(),
            c.budget_monthly_cents,
            c.require_board_approval_for_new_agents,
            c.brand_color,
            opt_ts(c.archived_at),
            ts(c.updated_at),
            c.budget_monthly_tokens,
        ],
    )?;
    Ok(())
}

pub fn delete_company(conn: &Connection, company_id: Uuid) -> rusqlite::Result<()> {
    // Agents and issues refer to each other; clear those links first so the cascade can run.
    let cid = id(company_id);
    conn.execute(
        "UPDATE issues SET assignee_agent_id = NULL, parent_id = NULL WHERE company_id = ?1",
        params![cid],
    )?;
    conn.execute(
        "UPDATE agents SET reports_to = NULL WHERE company_id = ?1",
        params![cid],
    )?;
    conn.execute("DELETE FROM companies WHERE id = ?1", params![cid])?;
    Ok(())
}

fn goal_from_row(row: &Row) -> rusqlite::Result<Goal> {
    Ok(Goal {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        title: row.get("title")?,
        description: row.get("description")?,
        level: get_enum(row, "level", GoalLevel::parse)?,
        status: get_enum(row, "status", GoalStatus::parse)?,
        parent_id: get_opt_uuid(row, "parent_id")?,
        owner_agent_id: get_opt_uuid(row, "owner_agent_id")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn company_exists(conn: &Connection, company_id: Uuid) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM companies WHERE id = ?1")?
        .exists(params![id(company_id)])
}

pub fn company_with_goal(
    conn: &Connection,
    company_id: Uuid,
) -> rusqlite::Result<Option<(Company, Option<Uuid>)>> {
    conn.prepare_cached(&format!(
        "SELECT c.*, {COMPANY_GOAL} AS company_goal_id FROM companies c WHERE c.id = ?1"
    ))?
    .query_row(params![id(company_id)], |row| {
        Ok((
            company_from_row(row)?,
            get_opt_uuid(row, "company_goal_id")?,
        ))
    })
    .optional()
}

pub fn list_goals(conn: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<Goal>> {
    let mut stmt =
        conn.prepare_cached("SELECT * FROM goals WHERE company_id = ?1 ORDER BY created_at, id")?;
    let rows = stmt.query_map(params![id(company_id)], goal_from_row)?;
    rows.collect()
}

pub fn get_goal(conn: &Connection, goal_id: Uuid) -> rusqlite::Result<Option<Goal>> {
    conn.prepare_cached("SELECT * FROM goals WHERE id = ?1")?
        .query_row(params![id(goal_id)], goal_from_row)
        .optional()
}

pub fn save_goal(conn: &Connection, g: &Goal) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO goals (id, company_id, title, description, level, status, parent_id,
            owner_agent_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
            level = excluded.level, status = excluded.status, parent_id = excluded.parent_id,
            owner_agent_id = excluded.owner_agent_id, updated_at = excluded.updated_at",
        params![
            id(g.id),
            id(g.company_id),
            g.title,
            g.description,
            g.level.as_str(),
            g.status.as_str(),
            opt_id(g.parent_id),
            opt_id(g.owner_agent_id),
            ts(g.created_at),
            ts(g.updated_at),
        ],
    )?;
    Ok(())
}

pub fn delete_goal(conn: &Connection, goal_id: Uuid) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM goals WHERE id = ?1", params![id(goal_id)])?;
    Ok(())
}

fn project_from_row(row: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        goal_id: get_opt_uuid(row, "goal_id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        status: get_enum(row, "status", ProjectStatus::parse)?,
        lead_agent_id: get_opt_uuid(row, "lead_agent_id")?,
        target_date: row.get("target_date")?,
        color: row.get("color")?,
        env: get_json(row, "env")?,
        archived_at: get_opt_ts(row, "archived_at")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn list_projects(conn: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<Project>> {
    let mut stmt = conn
        .prepare_cached("SELECT * FROM projects WHERE company_id = ?1 ORDER BY created_at, id")?;
    let rows = stmt.query_map(params![id(company_id)], project_from_row)?;
    rows.collect()
}

pub fn get_project(conn: &Connection, project_id: Uuid) -> rusqlite::Result<Option<Project>> {
    conn.prepare_cached("SELECT * FROM projects WHERE id = ?1")?
        .query_row(params![id(project_id)], project_from_row)
        .optional()
}

pub fn save_project(conn: &Connection, p: &Project) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO projects (id, company_id, goal_id, name, description, status, lead_agent_id,
            target_date, color, env, archived_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (id) DO UPDATE SET goal_id = excluded.goal_id, name = excluded.name,
            description = excluded.description, status = excluded.status,
            lead_agent_id = excluded.lead_agent_id, target_date = excluded.target_date,
            color = excluded.color, env = excluded.env, archived_at = excluded.archived_at,
            updated_at = excluded.updated_at",
        params![
            id(p.id),
            id(p.company_id),
            opt_id(p.goal_id),
            p.name,
            p.description,
            p.status.as_str(),
            opt_id(p.lead_agent_id),
            p.target_date,
            p.color,
            json(&p.env),
            opt_ts(p.archived_at),
            ts(p.created_at),
            ts(p.updated_at),
        ],
    )?;
    Ok(())
}

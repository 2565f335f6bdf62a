//! Users, companies, goals and projects.

use paperclip_shared::*;
use sqlx::{AssertSqlSafe, PgConnection, Row as _};
use uuid::Uuid;

use super::rows;
use crate::store::{COMPANY_GOAL, UserRecord};

type R<T> = Result<T, sqlx::Error>;

pub async fn ensure_user(c: &mut PgConnection, user: &UserRecord, admin: bool) -> R<()> {
    sqlx::query(
        "INSERT INTO users (id, name, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&user.id)
    .bind(&user.name)
    .bind(&user.email)
    .bind(user.created_at)
    .execute(&mut *c)
    .await?;
    if admin {
        super::access::grant_admin(c, &user.id, user.created_at).await?;
    }
    Ok(())
}

pub async fn is_instance_admin(c: &mut PgConnection, user_id: &str) -> R<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM instance_user_roles WHERE user_id = $1 AND role = 'instance_admin')",
    )
    .bind(user_id)
    .fetch_one(&mut *c)
    .await
}

pub async fn list_companies(c: &mut PgConnection) -> R<Vec<Company>> {
    sqlx::query("SELECT * FROM companies ORDER BY created_at, id")
        .try_map(|r| rows::company(&r))
        .fetch_all(&mut *c)
        .await
}

pub async fn get_company(c: &mut PgConnection, id: Uuid) -> R<Option<Company>> {
    sqlx::query("SELECT * FROM companies WHERE id = $1")
        .bind(id)
        .try_map(|r| rows::company(&r))
        .fetch_optional(&mut *c)
        .await
}

pub async fn insert_company(c: &mut PgConnection, co: &Company) -> R<()> {
    sqlx::query(
        "INSERT INTO companies (id, name, description, status, issue_prefix, issue_counter,
            budget_monthly_cents, spent_monthly_cents, require_board_approval_for_new_agents,
            brand_color, archived_at, created_at, updated_at, budget_monthly_tokens,
            spent_monthly_tokens)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(co.id)
    .bind(&co.name)
    .bind(&co.description)
    .bind(co.status.as_str())
    .bind(&co.issue_prefix)
    .bind(co.issue_counter)
    .bind(co.budget_monthly_cents)
    .bind(co.spent_monthly_cents)
    .bind(co.require_board_approval_for_new_agents)
    .bind(&co.brand_color)
    .bind(co.archived_at)
    .bind(co.created_at)
    .bind(co.updated_at)
    .bind(co.budget_monthly_tokens)
    .bind(co.spent_monthly_tokens)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Writes the editable fields; the issue counter belongs to issue creation and the month
/// spend to the cost ledger, and are left alone.
pub async fn update_company(c: &mut PgConnection, co: &Company) -> R<()> {
    sqlx::query(
        "UPDATE companies SET name = $2, description = $3, status = $4, budget_monthly_cents = $5,
            require_board_approval_for_new_agents = $6, brand_color = $7,
            archived_at = $8, updated_at = $9, budget_monthly_tokens = $10
         WHERE id = $1",
    )
    .bind(co.id)
    .bind(&co.name)
    .bind(&co.description)
    .bind(co.status.as_str())
    .bind(co.budget_monthly_cents)
    .bind(co.require_board_approval_for_new_agents)
    .bind(&co.brand_color)
    .bind(co.archived_at)
    .bind(co.updated_at)
    .bind(co.budget_monthly_tokens)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete_company(c: &mut PgConnection, id: Uuid) -> R<()> {
    // Agents and issues refer to each other; clear those links first so the cascade can run.
    // Agents before issues: the order a run's claim and finish lock them in.
    sqlx::query("UPDATE agents SET reports_to = NULL WHERE company_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE issues SET assignee_agent_id = NULL, parent_id = NULL WHERE company_id = $1",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM companies WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn company_with_goal(
    c: &mut PgConnection,
    id: Uuid,
) -> R<Option<(Company, Option<Uuid>)>> {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT c.*, {COMPANY_GOAL} AS company_goal_id FROM companies c WHERE c.id = $1"
    )))
    .bind(id)
    .try_map(|r| Ok((rows::company(&r)?, r.try_get("company_goal_id")?)))
    .fetch_optional(&mut *c)
    .await
}

pub async fn list_goals(c: &mut PgConnection, company_id: Uuid) -> R<Vec<Goal>> {
    sqlx::query("SELECT * FROM goals WHERE company_id = $1 ORDER BY created_at, id")
        .bind(company_id)
        .try_map(|r| rows::goal(&r))
        .fetch_all(&mut *c)
        .await
}

pub async fn get_goal(c: &mut PgConnection, id: Uuid) -> R<Option<Goal>> {
    sqlx::query("SELECT * FROM goals WHERE id = $1")
        .bind(id)
        .try_map(|r| rows::goal(&r))
        .fetch_optional(&mut *c)
        .await
}

pub async fn save_goal(c: &mut PgConnection, g: &Goal) -> R<()> {
    sqlx::query(
        "INSERT INTO goals (id, company_id, title, description, level, status, parent_id,
            owner_agent_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
            level = excluded.level, status = excluded.status, parent_id = excluded.parent_id,
            owner_agent_id = excluded.owner_agent_id, updated_at = excluded.updated_at",
    )
    .bind(g.id)
    .bind(g.company_id)
    .bind(&g.title)
    .bind(&g.description)
    .bind(g.level.as_str())
    .bind(g.status.as_str())
    .bind(g.parent_id)
    .bind(g.owner_agent_id)
    .bind(g.created_at)
    .bind(g.updated_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete_goal(c: &mut PgConnection, id: Uuid) -> R<()> {
    sqlx::query("DELETE FROM goals WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn list_projects(c: &mut PgConnection, company_id: Uuid) -> R<Vec<Project>> {
    sqlx::query("SELECT * FROM projects WHERE company_id = $1 ORDER BY created_at, id")
        .bind(company_id)
        .try_map(|r| rows::project(&r))
        .fetch_all(&mut *c)
        .await
}

pub async fn get_project(c: &mut PgConnection, id: Uuid) -> R<Option<Project>> {
    sqlx::query("SELECT * FROM projects WHERE id = $1")
        .bind(id)
        .try_map(|r| rows::project(&r))
        .fetch_optional(&mut *c)
        .await
}

pub async fn save_project(c: &mut PgConnection, p: &Project) -> R<()> {
    sqlx::query(
        "INSERT INTO projects (id, company_id, goal_id, name, description, status, lead_agent_id,
            target_date, color, env, archived_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO UPDATE SET goal_id = excluded.goal_id, name = excluded.name,
            description = excluded.description, status = excluded.status,
            lead_agent_id = excluded.lead_agent_id, target_date = excluded.target_date,
            color = excluded.color, env = excluded.env, archived_at = excluded.archived_at,
            updated_at = excluded.updated_at",
    )
    .bind(p.id)
    .bind(p.company_id)
    .bind(p.goal_id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.status.as_str())
    .bind(p.lead_agent_id)
    .bind(&p.target_date)
    .bind(&p.color)
    .bind(&p.env)
    .bind(p.archived_at)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

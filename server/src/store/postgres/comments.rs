//! Issue comments.

use paperclip_shared::*;
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use super::rows;
use crate::store::CommentQuery;

type R<T> = Result<T, sqlx::Error>;

pub async fn insert_comment(c: &mut PgConnection, m: &IssueComment) -> R<()> {
    sqlx::query(
        "INSERT INTO issue_comments (id, company_id, issue_id, author_agent_id, author_user_id, body,
            created_by_run_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(m.id)
    .bind(m.company_id)
    .bind(m.issue_id)
    .bind(m.author_agent_id)
    .bind(&m.author_user_id)
    .bind(&m.body)
    .bind(m.created_by_run_id)
    .bind(m.created_at)
    .bind(m.updated_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A comment moves its issue's `updated_at` forward (never back).
pub async fn touch_for_comment(c: &mut PgConnection, m: &IssueComment) -> R<()> {
    sqlx::query("UPDATE issues SET updated_at = $2 WHERE id = $1 AND updated_at < $2")
        .bind(m.issue_id)
        .bind(m.created_at)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn list_comments(c: &mut PgConnection, q: &CommentQuery) -> R<Vec<IssueComment>> {
    let order = if q.ascending { "ASC" } else { "DESC" };
    let (after_ts, after_id) = match q.after {
        Some((t, i)) => (Some(t), Some(i)),
        None => (None, None),
    };
    sqlx::query(AssertSqlSafe(format!(
        "SELECT * FROM issue_comments WHERE issue_id = $1
           AND ($2::timestamptz IS NULL OR created_at > $2 OR (created_at = $2 AND id > $3))
         ORDER BY created_at {order}, id {order} LIMIT $4"
    )))
    .bind(q.issue_id)
    .bind(after_ts)
    .bind(after_id)
    .bind(q.limit)
    .try_map(|r| rows::comment(&r))
    .fetch_all(&mut *c)
    .await
}

pub async fn get_comment(c: &mut PgConnection, id: Uuid) -> R<Option<IssueComment>> {
    sqlx::query("SELECT * FROM issue_comments WHERE id = $1")
        .bind(id)
        .try_map(|r| rows::comment(&r))
        .fetch_optional(&mut *c)
        .await
}

pub async fn comment_cursor(c: &mut PgConnection, issue_id: Uuid) -> R<CommentCursor> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM issue_comments WHERE issue_id = $1")
        .bind(issue_id)
        .fetch_one(&mut *c)
        .await?;
    let latest: Option<(Uuid, Timestamp)> = sqlx::query_as(
        "SELECT id, created_at FROM issue_comments WHERE issue_id = $1
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(issue_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(CommentCursor {
        total_comments: total,
        latest_comment_id: latest.map(|l| l.0),
        latest_comment_at: latest.map(|l| l.1),
    })
}

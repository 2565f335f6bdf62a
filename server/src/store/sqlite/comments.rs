//! Issue comments.

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::store::CommentQuery;

fn comment_from_row(row: &Row) -> rusqlite::Result<IssueComment> {
    Ok(IssueComment {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        issue_id: get_uuid(row, "issue_id")?,
        author_agent_id: get_opt_uuid(row, "author_agent_id")?,
        author_user_id: row.get("author_user_id")?,
        body: row.get("body")?,
        created_by_run_id: get_opt_uuid(row, "created_by_run_id")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn insert_comment(conn: &Connection, c: &IssueComment) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO issue_comments (id, company_id, issue_id, author_agent_id, author_user_id, body,
            created_by_run_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id(c.id),
        id(c.company_id),
        id(c.issue_id),
        opt_id(c.author_agent_id),
        c.author_user_id,
        c.body,
        opt_id(c.created_by_run_id),
        ts(c.created_at),
        ts(c.updated_at),
    ])?;
    Ok(())
}

pub fn list_comments(conn: &Connection, q: &CommentQuery) -> rusqlite::Result<Vec<IssueComment>> {
    let order = if q.ascending { "ASC" } else { "DESC" };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT * FROM issue_comments WHERE issue_id = ?1
           AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3))
         ORDER BY created_at {order}, id {order} LIMIT ?4"
    ))?;
    let (after_ts, after_id) = match q.after {
        Some((t, i)) => (Some(ts(t)), Some(id(i))),
        None => (None, None),
    };
    let rows = stmt.query_map(
        params![id(q.issue_id), after_ts, after_id, q.limit],
        comment_from_row,
    )?;
    rows.collect()
}

pub fn get_comment(conn: &Connection, comment_id: Uuid) -> rusqlite::Result<Option<IssueComment>> {
    conn.prepare_cached("SELECT * FROM issue_comments WHERE id = ?1")?
        .query_row(params![id(comment_id)], comment_from_row)
        .optional()
}

pub fn comment_cursor(conn: &Connection, issue_id: Uuid) -> rusqlite::Result<CommentCursor> {
    let total: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM issue_comments WHERE issue_id = ?1")?
        .query_row(params![id(issue_id)], |r| r.get(0))?;
    let latest = conn
        .prepare_cached(
            "SELECT id, created_at FROM issue_comments WHERE issue_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![id(issue_id)], |r| Ok((get_uuid(r, "id")?, get_ts(r, "created_at")?)))
        .optional()?;
    Ok(CommentCursor {
        total_comments: total,
        latest_comment_id: latest.map(|l| l.0),
        latest_comment_at: latest.map(|l| l.1),
    })
}

/// A comment moves its issue's `updated_at` forward (never back).
pub fn touch_for_comment(conn: &Connection, c: &IssueComment) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE issues SET updated_at = ?2 WHERE id = ?1 AND updated_at < ?2")?
        .execute(params![id(c.issue_id), ts(c.created_at)])?;
    Ok(())
}

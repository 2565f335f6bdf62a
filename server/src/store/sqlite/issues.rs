//! Issues, blockers and comments.

use paperclip_shared::*;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use uuid::Uuid;

use super::codec::*;
use crate::store::{CheckoutWrite, CommentQuery, IssueDraft, IssueFilter, IssueWrite};

fn issue_from_row(row: &Row) -> rusqlite::Result<Issue> {
    Ok(Issue {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        project_id: get_opt_uuid(row, "project_id")?,
        goal_id: get_opt_uuid(row, "goal_id")?,
        parent_id: get_opt_uuid(row, "parent_id")?,
        title: row.get("title")?,
        description: row.get("description")?,
        status: get_enum(row, "status", IssueStatus::parse)?,
        priority: get_enum(row, "priority", IssuePriority::parse)?,
        assignee_agent_id: get_opt_uuid(row, "assignee_agent_id")?,
        assignee_user_id: row.get("assignee_user_id")?,
        checkout_run_id: get_opt_uuid(row, "checkout_run_id")?,
        execution_run_id: get_opt_uuid(row, "execution_run_id")?,
        execution_agent_name_key: row.get("execution_agent_name_key")?,
        execution_locked_at: get_opt_ts(row, "execution_locked_at")?,
        created_by_agent_id: get_opt_uuid(row, "created_by_agent_id")?,
        created_by_user_id: row.get("created_by_user_id")?,
        issue_number: row.get("issue_number")?,
        identifier: row.get("identifier")?,
        request_depth: row.get("request_depth")?,
        billing_code: row.get("billing_code")?,
        started_at: get_opt_ts(row, "started_at")?,
        completed_at: get_opt_ts(row, "completed_at")?,
        cancelled_at: get_opt_ts(row, "cancelled_at")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn ref_from_row(row: &Row) -> rusqlite::Result<IssueRef> {
    Ok(IssueRef {
        id: get_uuid(row, "id")?,
        identifier: row.get("identifier")?,
        title: row.get("title")?,
        status: get_enum(row, "status", IssueStatus::parse)?,
        priority: get_enum(row, "priority", IssuePriority::parse)?,
        assignee_agent_id: get_opt_uuid(row, "assignee_agent_id")?,
        parent_id: get_opt_uuid(row, "parent_id")?,
        project_id: get_opt_uuid(row, "project_id")?,
        goal_id: get_opt_uuid(row, "goal_id")?,
    })
}

const REF_COLUMNS: &str = "i.id, i.identifier, i.title, i.status, i.priority, i.assignee_agent_id, i.parent_id, i.project_id, i.goal_id";

pub fn create(conn: &Connection, draft: &IssueDraft, blockers: &[Uuid]) -> rusqlite::Result<Issue> {
    let mut issue = draft.issue.clone();
    let (number, prefix): (i64, String) = conn
        .prepare_cached(
            "UPDATE companies SET issue_counter = issue_counter + 1 WHERE id = ?1
             RETURNING issue_counter, issue_prefix",
        )?
        .query_row(params![id(issue.company_id)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    issue.issue_number = number;
    issue.identifier = format!("{prefix}-{number}");
    conn.prepare_cached(
        "INSERT INTO issues (id, company_id, project_id, goal_id, parent_id, title, description,
            status, priority, assignee_agent_id, assignee_user_id, checkout_run_id, execution_run_id,
            execution_agent_name_key, execution_locked_at, created_by_agent_id, created_by_user_id,
            issue_number, identifier, request_depth, billing_code, idempotency_key, started_at,
            completed_at, cancelled_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)",
    )?
    .execute(params![
        id(issue.id),
        id(issue.company_id),
        opt_id(issue.project_id),
        opt_id(issue.goal_id),
        opt_id(issue.parent_id),
        issue.title,
        issue.description,
        issue.status.as_str(),
        issue.priority.as_str(),
        opt_id(issue.assignee_agent_id),
        issue.assignee_user_id,
        opt_id(issue.checkout_run_id),
        opt_id(issue.execution_run_id),
        issue.execution_agent_name_key,
        opt_ts(issue.execution_locked_at),
        opt_id(issue.created_by_agent_id),
        issue.created_by_user_id,
        issue.issue_number,
        issue.identifier,
        issue.request_depth,
        issue.billing_code,
        draft.idempotency_key,
        opt_ts(issue.started_at),
        opt_ts(issue.completed_at),
        opt_ts(issue.cancelled_at),
        ts(issue.created_at),
        ts(issue.updated_at),
    ])?;
    replace_blockers(conn, issue.id, issue.company_id, blockers, issue.created_at)?;
    Ok(issue)
}

fn replace_blockers(
    conn: &Connection,
    issue_id: Uuid,
    company_id: Uuid,
    blockers: &[Uuid],
    at: Timestamp,
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM issue_blockers WHERE issue_id = ?1",
        params![id(issue_id)],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO issue_blockers (issue_id, blocker_issue_id, company_id, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
    )?;
    for b in blockers {
        stmt.execute(params![id(issue_id), id(*b), id(company_id), ts(at)])?;
    }
    Ok(())
}

pub fn by_idempotency_key(
    conn: &Connection,
    company_id: Uuid,
    key: &str,
) -> rusqlite::Result<Option<Issue>> {
    conn.prepare_cached("SELECT * FROM issues WHERE company_id = ?1 AND idempotency_key = ?2")?
        .query_row(params![id(company_id), key], issue_from_row)
        .optional()
}

pub fn get(conn: &Connection, issue_id: Uuid) -> rusqlite::Result<Option<Issue>> {
    conn.prepare_cached("SELECT * FROM issues WHERE id = ?1")?
        .query_row(params![id(issue_id)], issue_from_row)
        .optional()
}

pub fn get_by_identifier(conn: &Connection, identifier: &str) -> rusqlite::Result<Option<Issue>> {
    conn.prepare_cached("SELECT * FROM issues WHERE identifier = ?1")?
        .query_row(params![identifier], issue_from_row)
        .optional()
}

fn filter_sql(f: &IssueFilter, select: &str) -> (String, Vec<Value>) {
    let mut sql = format!("SELECT {select} FROM issues WHERE company_id = ?");
    let mut args: Vec<Value> = vec![Value::Text(id(f.company_id))];
    if !f.statuses.is_empty() {
        sql.push_str(" AND status IN (");
        for (i, s) in f.statuses.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push(Value::Text(s.as_str().to_string()));
        }
        sql.push(')');
    }
    let mut eq = |col: &str, v: Option<String>| {
        if let Some(v) = v {
            sql.push_str(&format!(" AND {col} = ?"));
            args.push(Value::Text(v));
        }
    };
    eq("assignee_agent_id", opt_id(f.assignee_agent_id));
    eq("assignee_user_id", f.assignee_user_id.clone());
    eq("project_id", opt_id(f.project_id));
    eq("parent_id", opt_id(f.parent_id));
    if let Some(q) = &f.query {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        sql.push_str(
            " AND (title LIKE ? ESCAPE '\\' OR identifier LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')",
        );
        let pattern = Value::Text(format!("%{escaped}%"));
        args.extend([pattern.clone(), pattern.clone(), pattern]);
    }
    (sql, args)
}

pub fn list(conn: &Connection, f: &IssueFilter) -> rusqlite::Result<Vec<Issue>> {
    let (mut sql, mut args) = filter_sql(f, "*");
    sql.push_str(" ORDER BY created_at DESC, id LIMIT ? OFFSET ?");
    args.push(Value::Integer(f.limit));
    args.push(Value::Integer(f.offset));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), issue_from_row)?;
    rows.collect()
}

pub fn count(conn: &Connection, f: &IssueFilter) -> rusqlite::Result<i64> {
    let (sql, args) = filter_sql(f, "COUNT(*)");
    conn.prepare_cached(&sql)?
        .query_row(params_from_iter(args), |r| r.get(0))
}

pub fn update(conn: &Connection, w: &IssueWrite) -> rusqlite::Result<bool> {
    let i = &w.issue;
    let n = conn
        .prepare_cached(
            "UPDATE issues SET project_id = ?3, goal_id = ?4, parent_id = ?5, title = ?6,
                description = ?7, status = ?8, priority = ?9, assignee_agent_id = ?10,
                assignee_user_id = ?11, checkout_run_id = ?12, execution_run_id = ?13,
                execution_agent_name_key = ?14, execution_locked_at = ?15, billing_code = ?16,
                started_at = ?17, completed_at = ?18, cancelled_at = ?19, updated_at = ?20
             WHERE id = ?1 AND updated_at = ?2",
        )?
        .execute(params![
            id(i.id),
            ts(w.expected_updated_at),
            opt_id(i.project_id),
            opt_id(i.goal_id),
            opt_id(i.parent_id),
            i.title,
            i.description,
            i.status.as_str(),
            i.priority.as_str(),
            opt_id(i.assignee_agent_id),
            i.assignee_user_id,
            opt_id(i.checkout_run_id),
            opt_id(i.execution_run_id),
            i.execution_agent_name_key,
            opt_ts(i.execution_locked_at),
            i.billing_code,
            opt_ts(i.started_at),
            opt_ts(i.completed_at),
            opt_ts(i.cancelled_at),
            ts(i.updated_at),
        ])?;
    if n == 0 {
        return Ok(false);
    }
    if let Some(blockers) = &w.blockers {
        replace_blockers(conn, i.id, i.company_id, blockers, i.updated_at)?;
    }
    if let Some(c) = &w.comment {
        insert_comment(conn, c)?;
    }
    Ok(true)
}

/// One conditional UPDATE: the issue moves to `in_progress` for this agent only if its status
/// is expected, nobody else holds it, and no blocker is unresolved.
pub fn checkout(conn: &Connection, c: &CheckoutWrite) -> rusqlite::Result<bool> {
    let mut sql = String::from(
        "UPDATE issues SET status = 'in_progress', assignee_agent_id = ?1, assignee_user_id = NULL,
            checkout_run_id = ?2, execution_run_id = ?2, execution_locked_at = ?3,
            started_at = COALESCE(started_at, ?3), completed_at = NULL, cancelled_at = NULL,
            updated_at = ?3
         WHERE id = ?4
           AND (assignee_agent_id IS NULL OR assignee_agent_id = ?1)
           AND (status IN (",
    );
    let mut args: Vec<Value> = vec![
        Value::Text(id(c.agent_id)),
        match c.run_id {
            Some(r) => Value::Text(id(r)),
            None => Value::Null,
        },
        Value::Text(ts(c.now)),
        Value::Text(id(c.issue_id)),
    ];
    for (n, s) in c.expected_statuses.iter().enumerate() {
        sql.push_str(&format!(
            "{}?{}",
            if n == 0 { "" } else { ", " },
            args.len() + 1
        ));
        args.push(Value::Text(s.as_str().to_string()));
    }
    sql.push_str(
        ") OR (status = 'in_progress' AND assignee_agent_id = ?1))
           AND NOT EXISTS (SELECT 1 FROM issue_blockers b JOIN issues bi ON bi.id = b.blocker_issue_id
                           WHERE b.issue_id = issues.id AND bi.status NOT IN ('done', 'cancelled'))",
    );
    let n = conn.prepare_cached(&sql)?.execute(params_from_iter(args))?;
    Ok(n == 1)
}

pub fn refs(conn: &Connection, ids: &[Uuid]) -> rusqlite::Result<Vec<IssueRef>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REF_COLUMNS} FROM issues i WHERE i.id = ?1"
    ))?;
    let mut out = Vec::with_capacity(ids.len());
    for issue_id in ids {
        if let Some(r) = stmt
            .query_row(params![id(*issue_id)], ref_from_row)
            .optional()?
        {
            out.push(r);
        }
    }
    Ok(out)
}

pub fn ancestors(conn: &Connection, issue_id: Uuid) -> rusqlite::Result<Vec<IssueRef>> {
    let mut stmt = conn.prepare_cached(&format!(
        "WITH RECURSIVE chain(id, depth) AS (
            SELECT parent_id, 1 FROM issues WHERE id = ?1 AND parent_id IS NOT NULL
            UNION ALL
            SELECT p.parent_id, chain.depth + 1 FROM issues p JOIN chain ON p.id = chain.id
            WHERE p.parent_id IS NOT NULL AND chain.depth < 100)
         SELECT {REF_COLUMNS} FROM chain JOIN issues i ON i.id = chain.id ORDER BY chain.depth"
    ))?;
    let rows = stmt.query_map(params![id(issue_id)], ref_from_row)?;
    rows.collect()
}

pub fn blockers_of(conn: &Connection, issue_id: Uuid) -> rusqlite::Result<Vec<IssueRef>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REF_COLUMNS} FROM issue_blockers b JOIN issues i ON i.id = b.blocker_issue_id
         WHERE b.issue_id = ?1 ORDER BY i.issue_number"
    ))?;
    let rows = stmt.query_map(params![id(issue_id)], ref_from_row)?;
    rows.collect()
}

pub fn blocked_by(conn: &Connection, issue_id: Uuid) -> rusqlite::Result<Vec<IssueRef>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REF_COLUMNS} FROM issue_blockers b JOIN issues i ON i.id = b.issue_id
         WHERE b.blocker_issue_id = ?1 ORDER BY i.issue_number"
    ))?;
    let rows = stmt.query_map(params![id(issue_id)], ref_from_row)?;
    rows.collect()
}

pub fn blocker_edges(conn: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<(Uuid, Uuid)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT issue_id, blocker_issue_id FROM issue_blockers WHERE company_id = ?1",
    )?;
    let rows = stmt.query_map(params![id(company_id)], |r| {
        Ok((get_uuid(r, "issue_id")?, get_uuid(r, "blocker_issue_id")?))
    })?;
    rows.collect()
}

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

pub fn inbox(conn: &Connection, agent_id: Uuid) -> rusqlite::Result<Vec<(Issue, Vec<Uuid>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM issues WHERE assignee_agent_id = ?1 AND status IN ('todo', 'in_progress', 'blocked')
         ORDER BY CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                  updated_at DESC",
    )?;
    let issues: Vec<Issue> = stmt
        .query_map(params![id(agent_id)], issue_from_row)?
        .collect::<Result<_, _>>()?;
    let mut blockers = conn.prepare_cached(
        "SELECT b.blocker_issue_id FROM issue_blockers b JOIN issues bi ON bi.id = b.blocker_issue_id
         WHERE b.issue_id = ?1 AND bi.status NOT IN ('done', 'cancelled')",
    )?;
    let mut out = Vec::with_capacity(issues.len());
    for issue in issues {
        let ids = blockers
            .query_map(params![id(issue.id)], |r| get_uuid(r, "blocker_issue_id"))?
            .collect::<Result<Vec<_>, _>>()?;
        out.push((issue, ids));
    }
    Ok(out)
}

pub fn counts_by_status(
    conn: &Connection,
    table: &str,
    company_id: Uuid,
) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT status, COUNT(*) FROM {table} WHERE company_id = ?1 GROUP BY status"
    ))?;
    let rows = stmt.query_map(params![id(company_id)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

pub fn stale_in_progress(
    conn: &Connection,
    company_id: Uuid,
    before: Timestamp,
) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM issues WHERE company_id = ?1 AND status = 'in_progress' AND updated_at < ?2")?
        .query_row(params![id(company_id), ts(before)], |r| r.get(0))
}

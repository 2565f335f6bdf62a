//! Issues and blockers (comments: `comments.rs`; creation: `issue_insert.rs`). The rules that
//! must hold across several servers are single statements: the identifier comes from a counter
//! row updated by the inserting statement (its row lock serialises creators), the checkout and
//! every PATCH are conditional UPDATEs.

use paperclip_shared::*;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder, Row as _};
use uuid::Uuid;

use super::rows::{ISSUE_COLUMNS, issue_columns};
use super::{activity, rows};
use crate::store::{CheckoutWrite, IssueFilter, IssueWrite};

type R<T> = Result<T, sqlx::Error>;

const REF_COLUMNS: &str = "i.id, i.identifier, i.title, i.status, i.priority, i.assignee_agent_id, i.parent_id, i.project_id, i.goal_id";

/// Sets a new issue's blockers (inside the creating transaction).
pub async fn add_blockers(c: &mut PgConnection, issue: &Issue, blockers: &[Uuid]) -> R<()> {
    replace_blockers(c, issue.id, issue.company_id, blockers, issue.created_at).await
}

async fn replace_blockers(
    c: &mut PgConnection,
    issue_id: Uuid,
    company_id: Uuid,
    blockers: &[Uuid],
    at: Timestamp,
) -> R<()> {
    sqlx::query("DELETE FROM issue_blockers WHERE issue_id = $1")
        .bind(issue_id)
        .execute(&mut *c)
        .await?;
    if blockers.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO issue_blockers (issue_id, blocker_issue_id, company_id, created_at)
         SELECT $1, b, $3, $4 FROM UNNEST($2::uuid[]) AS b
         ON CONFLICT DO NOTHING",
    )
    .bind(issue_id)
    .bind(blockers)
    .bind(company_id)
    .bind(at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn by_idempotency_key(
    c: &mut PgConnection,
    company: Uuid,
    key: &str,
) -> R<Option<Issue>> {
    sqlx::query(concat!(
        "SELECT ",
        issue_columns!(),
        " FROM issues WHERE company_id = $1 AND idempotency_key = $2"
    ))
    .bind(company)
    .bind(key)
    .try_map(|r| rows::issue(&r))
    .fetch_optional(&mut *c)
    .await
}

pub async fn get(c: &mut PgConnection, id: Uuid) -> R<Option<Issue>> {
    sqlx::query(concat!(
        "SELECT ",
        issue_columns!(),
        " FROM issues WHERE id = $1"
    ))
    .bind(id)
    .try_map(|r| rows::issue(&r))
    .fetch_optional(&mut *c)
    .await
}

pub async fn get_by_identifier(c: &mut PgConnection, identifier: &str) -> R<Option<Issue>> {
    sqlx::query(concat!(
        "SELECT ",
        issue_columns!(),
        " FROM issues WHERE identifier = $1"
    ))
    .bind(identifier)
    .try_map(|r| rows::issue(&r))
    .fetch_optional(&mut *c)
    .await
}

fn push_filter(q: &mut QueryBuilder<Postgres>, f: &IssueFilter) {
    q.push(" WHERE company_id = ").push_bind(f.company_id);
    if !f.statuses.is_empty() {
        let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
        q.push(" AND status = ANY(").push_bind(statuses).push(")");
    }
    if let Some(a) = f.assignee_agent_id {
        q.push(" AND assignee_agent_id = ").push_bind(a);
    }
    if let Some(u) = &f.assignee_user_id {
        q.push(" AND assignee_user_id = ").push_bind(u.clone());
    }
    if let Some(p) = f.project_id {
        q.push(" AND project_id = ").push_bind(p);
    }
    if let Some(p) = f.parent_id {
        q.push(" AND parent_id = ").push_bind(p);
    }
    if let Some(text) = &f.query {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        q.push(" AND (title ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR identifier ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR description ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
}

/// One page, newest first (the issue number is the creation order), or None when the company
/// does not exist: the company row is joined to the page, so one statement answers both. While
/// the company's numbers have no gap (`issue_count` = `issue_counter`), an unfiltered page
/// seeks by number instead of stepping over `offset` rows.
pub async fn list(c: &mut PgConnection, f: &IssueFilter) -> R<Option<Vec<Issue>>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT i.* FROM companies c LEFT JOIN LATERAL (");
    if f.is_whole_company() {
        q.push(format_args!("SELECT {ISSUE_COLUMNS} FROM issues"))
            .push(
                " WHERE company_id = c.id
               AND issue_number <= CASE WHEN c.issue_counter = c.issue_count
                   THEN c.issue_counter - ",
            )
            .push_bind(f.offset)
            // The limit is written as a literal (an i64: nothing to escape) so that PostgreSQL
            // settles on one generic plan for this statement; with `LIMIT $n` it can never cost
            // the generic plan and plans the query afresh on every call (half its work here).
            .push(format_args!(
                " ELSE c.issue_counter END ORDER BY issue_number DESC LIMIT {}",
                f.limit
            ))
            .push(" OFFSET CASE WHEN c.issue_counter = c.issue_count THEN 0 ELSE ")
            .push_bind(f.offset)
            .push(" END");
    } else {
        // Filtered lists keep a bound limit: a plan made for the values at hand (which
        // status is rare, whose issues are few) is worth planning each call.
        q.push(format_args!("SELECT {ISSUE_COLUMNS} FROM issues"));
        push_filter(&mut q, f);
        q.push(" ORDER BY issue_number DESC LIMIT ")
            .push_bind(f.limit)
            .push(" OFFSET ")
            .push_bind(f.offset);
    }
    q.push(") i ON true WHERE c.id = ").push_bind(f.company_id);
    let rows = q.build().fetch_all(&mut *c).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut page = Vec::with_capacity(rows.len());
    for r in &rows {
        // The company's row alone (no issue on the page) has every issue column NULL.
        if r.try_get::<Option<Uuid>, _>(0)?.is_some() {
            page.push(rows::issue(r)?);
        }
    }
    Ok(Some(page))
}

pub async fn update(c: &mut PgConnection, w: &IssueWrite) -> R<bool> {
    let i = &w.issue;
    let done = sqlx::query(
        "UPDATE issues SET project_id = $3, goal_id = $4, parent_id = $5, title = $6,
            description = $7, status = $8, priority = $9, assignee_agent_id = $10,
            assignee_user_id = $11, checkout_run_id = $12, execution_run_id = $13,
            execution_agent_name_key = $14, execution_locked_at = $15, billing_code = $16,
            started_at = $17, completed_at = $18, cancelled_at = $19, updated_at = $20
         WHERE id = $1 AND updated_at = $2",
    )
    .bind(i.id)
    .bind(w.expected_updated_at)
    .bind(i.project_id)
    .bind(i.goal_id)
    .bind(i.parent_id)
    .bind(&i.title)
    .bind(&i.description)
    .bind(i.status.as_str())
    .bind(i.priority.as_str())
    .bind(i.assignee_agent_id)
    .bind(&i.assignee_user_id)
    .bind(i.checkout_run_id)
    .bind(i.execution_run_id)
    .bind(&i.execution_agent_name_key)
    .bind(i.execution_locked_at)
    .bind(&i.billing_code)
    .bind(i.started_at)
    .bind(i.completed_at)
    .bind(i.cancelled_at)
    .bind(i.updated_at)
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if let Some(blockers) = &w.blockers {
        replace_blockers(c, i.id, i.company_id, blockers, i.updated_at).await?;
    }
    if let Some(comment) = &w.comment {
        super::comments::insert_comment(c, comment).await?;
    }
    Ok(true)
}

/// One conditional UPDATE: the issue moves to `in_progress` for this agent only if its status
/// is expected, nobody else holds it, and no blocker is unresolved. Concurrent checkouts of one
/// row queue on its lock and re-check the conditions, so exactly one wins. The activity entries
/// go in with it, in the same statement, only when it took.
pub async fn checkout(c: &mut PgConnection, w: &CheckoutWrite) -> R<bool> {
    let expected: Vec<&str> = w.expected_statuses.iter().map(|s| s.as_str()).collect();
    let sql = format!(
        "WITH u AS (
            UPDATE issues SET status = 'in_progress', assignee_agent_id = $1,
                assignee_user_id = NULL, checkout_run_id = $2, execution_run_id = $2,
                execution_locked_at = $3, started_at = COALESCE(started_at, $3),
                completed_at = NULL, cancelled_at = NULL, updated_at = $3
            WHERE id = $4
              AND (assignee_agent_id IS NULL OR assignee_agent_id = $1)
              AND (status = ANY($5) OR (status = 'in_progress' AND assignee_agent_id = $1))
              AND NOT EXISTS (SELECT 1 FROM issue_blockers b
                              JOIN issues bi ON bi.id = b.blocker_issue_id
                              WHERE b.issue_id = issues.id AND bi.status NOT IN ('done', 'cancelled'))
            RETURNING 1),
         act AS (
            INSERT INTO activity_log ({cols}) SELECT {cols} FROM {unnest}
            WHERE EXISTS (SELECT 1 FROM u))
         SELECT COUNT(*) FROM u",
        cols = activity::COLUMNS,
        unnest = activity::unnest(6),
    );
    let q = sqlx::query(AssertSqlSafe(sql))
        .bind(w.agent_id)
        .bind(w.run_id)
        .bind(w.now)
        .bind(w.issue_id)
        .bind(expected);
    let taken: i64 = activity::bind(q, &w.activity)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    Ok(taken == 1)
}

pub async fn refs(c: &mut PgConnection, ids: &[Uuid]) -> R<Vec<IssueRef>> {
    let found: Vec<IssueRef> = sqlx::query(AssertSqlSafe(format!(
        "SELECT {REF_COLUMNS} FROM issues i WHERE i.id = ANY($1)"
    )))
    .bind(ids)
    .try_map(|r| rows::issue_ref(&r))
    .fetch_all(&mut *c)
    .await?;
    // In the order asked for.
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|r| r.id == *id).cloned())
        .collect())
}

/// Parents from the nearest up; stops at 100 levels or a repeated id, so bad data cannot loop.
pub async fn ancestors(c: &mut PgConnection, parent_id: Option<Uuid>) -> R<Vec<IssueRef>> {
    let Some(parent) = parent_id else {
        return Ok(Vec::new());
    };
    let chain: Vec<IssueRef> = sqlx::query(AssertSqlSafe(format!(
        "WITH RECURSIVE chain(id, depth, path) AS (
            SELECT $1::uuid, 1, ARRAY[$1::uuid]
            UNION ALL
            SELECT p.parent_id, chain.depth + 1, chain.path || p.parent_id
            FROM chain JOIN issues p ON p.id = chain.id
            WHERE p.parent_id IS NOT NULL AND chain.depth < 100
              AND NOT (p.parent_id = ANY(chain.path)))
         SELECT {REF_COLUMNS} FROM chain JOIN issues i ON i.id = chain.id ORDER BY chain.depth"
    )))
    .bind(parent)
    .try_map(|r| rows::issue_ref(&r))
    .fetch_all(&mut *c)
    .await?;
    Ok(chain)
}

/// Both sides of an issue's blocker links in one query: (blocking it, blocked by it).
pub async fn blocker_links(
    c: &mut PgConnection,
    issue_id: Uuid,
) -> R<(Vec<IssueRef>, Vec<IssueRef>)> {
    let rows: Vec<(bool, IssueRef)> = sqlx::query(AssertSqlSafe(format!(
        "SELECT TRUE AS blocking, {REF_COLUMNS}, i.issue_number FROM issue_blockers b
           JOIN issues i ON i.id = b.blocker_issue_id WHERE b.issue_id = $1
         UNION ALL
         SELECT FALSE, {REF_COLUMNS}, i.issue_number FROM issue_blockers b
           JOIN issues i ON i.id = b.issue_id WHERE b.blocker_issue_id = $1
         ORDER BY issue_number"
    )))
    .bind(issue_id)
    .try_map(|r| Ok((r.try_get("blocking")?, rows::issue_ref(&r)?)))
    .fetch_all(&mut *c)
    .await?;
    let (blocking, blocked): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(b, _)| *b);
    Ok((
        blocking.into_iter().map(|(_, r)| r).collect(),
        blocked.into_iter().map(|(_, r)| r).collect(),
    ))
}

pub async fn blockers_of(c: &mut PgConnection, issue_id: Uuid) -> R<Vec<IssueRef>> {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT {REF_COLUMNS} FROM issue_blockers b JOIN issues i ON i.id = b.blocker_issue_id
         WHERE b.issue_id = $1 ORDER BY i.issue_number"
    )))
    .bind(issue_id)
    .try_map(|r| rows::issue_ref(&r))
    .fetch_all(&mut *c)
    .await
}

pub async fn blocker_edges(c: &mut PgConnection, company_id: Uuid) -> R<Vec<(Uuid, Uuid)>> {
    sqlx::query_as("SELECT issue_id, blocker_issue_id FROM issue_blockers WHERE company_id = $1")
        .bind(company_id)
        .fetch_all(&mut *c)
        .await
}

pub async fn inbox(c: &mut PgConnection, agent_id: Uuid) -> R<Vec<(Issue, Vec<Uuid>)>> {
    let issues: Vec<Issue> = sqlx::query(concat!(
        "SELECT ",
        issue_columns!(),
        " FROM issues
         WHERE assignee_agent_id = $1 AND status IN ('todo', 'in_progress', 'blocked')
         ORDER BY CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                  updated_at DESC"
    ))
    .bind(agent_id)
    .try_map(|r| rows::issue(&r))
    .fetch_all(&mut *c)
    .await?;
    let ids: Vec<Uuid> = issues.iter().map(|i| i.id).collect();
    let edges: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT b.issue_id, b.blocker_issue_id FROM issue_blockers b
         JOIN issues bi ON bi.id = b.blocker_issue_id
         WHERE b.issue_id = ANY($1) AND bi.status NOT IN ('done', 'cancelled')",
    )
    .bind(&ids)
    .fetch_all(&mut *c)
    .await?;
    Ok(issues
        .into_iter()
        .map(|issue| {
            let open = edges
                .iter()
                .filter(|(i, _)| *i == issue.id)
                .map(|(_, b)| *b)
                .collect();
            (issue, open)
        })
        .collect())
}

pub async fn counts_by_status(
    c: &mut PgConnection,
    table: &str,
    company_id: Uuid,
) -> R<Vec<(String, i64)>> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT status, COUNT(*) FROM {table} WHERE company_id = $1 GROUP BY status"
    )))
    .bind(company_id)
    .fetch_all(&mut *c)
    .await
}

pub async fn stale_in_progress(
    c: &mut PgConnection,
    company_id: Uuid,
    before: Timestamp,
) -> R<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM issues WHERE company_id = $1 AND status = 'in_progress' AND updated_at < $2",
    )
    .bind(company_id)
    .bind(before)
    .fetch_one(&mut *c)
    .await
}

//! Issues and blockers (comments: `comments.rs`).

use paperclip_shared::*;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use uuid::Uuid;

use super::codec::*;
use crate::store::{CheckoutWrite, IssueDraft, IssueFilter, IssueWrite};

/// Every column of an issue row, in the order `issue_from_row` reads them.
const ISSUE_COLUMNS: &str = "i.id, i.company_id, i.project_id, i.goal_id, i.parent_id, i.title,
    i.description, i.status, i.priority, i.assignee_agent_id, i.assignee_user_id, i.checkout_run_id,
    i.execution_run_id, i.execution_agent_name_key, i.execution_locked_at, i.created_by_agent_id,
    i.created_by_user_id, i.issue_number, i.identifier, i.request_depth, i.billing_code,
    i.started_at, i.completed_at, i.cancelled_at, i.created_at, i.updated_at";

fn issue_from_row(row: &Row) -> rusqlite::Result<Issue> {
    let mut c = Cols::new(row);
    Ok(Issue {
        id: c.uuid("id")?,
        company_id: c.uuid("company_id")?,
        project_id: c.opt_uuid("project_id")?,
        goal_id: c.opt_uuid("goal_id")?,
        parent_id: c.opt_uuid("parent_id")?,
        title: c.get("title")?,
        description: c.get("description")?,
        status: c.enumeration("status", IssueStatus::parse)?,
        priority: c.enumeration("priority", IssuePriority::parse)?,
        assignee_agent_id: c.opt_uuid("assignee_agent_id")?,
        assignee_user_id: c.get("assignee_user_id")?,
        checkout_run_id: c.opt_uuid("checkout_run_id")?,
        execution_run_id: c.opt_uuid("execution_run_id")?,
        execution_agent_name_key: c.get("execution_agent_name_key")?,
        execution_locked_at: c.opt_ts("execution_locked_at")?,
        created_by_agent_id: c.opt_uuid("created_by_agent_id")?,
        created_by_user_id: c.get("created_by_user_id")?,
        issue_number: c.get("issue_number")?,
        identifier: c.get("identifier")?,
        request_depth: c.get("request_depth")?,
        billing_code: c.get("billing_code")?,
        started_at: c.opt_ts("started_at")?,
        completed_at: c.opt_ts("completed_at")?,
        cancelled_at: c.opt_ts("cancelled_at")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
    })
}

/// The columns of an `IssueRef`, in the order `ref_from_row` reads them.
const REF_COLUMNS: &str = "i.id, i.identifier, i.title, i.status, i.priority, i.assignee_agent_id, i.parent_id, i.project_id, i.goal_id";

fn ref_from_row(row: &Row) -> rusqlite::Result<IssueRef> {
    let mut c = Cols::new(row);
    Ok(IssueRef {
        id: c.uuid("id")?,
        identifier: c.get("identifier")?,
        title: c.get("title")?,
        status: c.enumeration("status", IssueStatus::parse)?,
        priority: c.enumeration("priority", IssuePriority::parse)?,
        assignee_agent_id: c.opt_uuid("assignee_agent_id")?,
        parent_id: c.opt_uuid("parent_id")?,
        project_id: c.opt_uuid("project_id")?,
        goal_id: c.opt_uuid("goal_id")?,
    })
}

pub fn create(conn: &Connection, draft: &IssueDraft, blockers: &[Uuid]) -> rusqlite::Result<Issue> {
    let mut issue = draft.issue.clone();
    let (number, prefix): (i64, String) = conn
        .prepare_cached(
            "UPDATE companies SET issue_counter = issue_counter + 1, issue_count = issue_count + 1
             WHERE id = ?1 RETURNING issue_counter, issue_prefix",
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
    conn.prepare_cached(&format!(
        "SELECT {ISSUE_COLUMNS} FROM issues i WHERE i.company_id = ?1 AND i.idempotency_key = ?2"
    ))?
    .query_row(params![id(company_id), key], issue_from_row)
    .optional()
}

pub fn get(conn: &Connection, issue_id: Uuid) -> rusqlite::Result<Option<Issue>> {
    conn.prepare_cached(&format!(
        "SELECT {ISSUE_COLUMNS} FROM issues i WHERE i.id = ?1"
    ))?
    .query_row(params![id(issue_id)], issue_from_row)
    .optional()
}

pub fn get_by_identifier(conn: &Connection, identifier: &str) -> rusqlite::Result<Option<Issue>> {
    conn.prepare_cached(&format!(
        "SELECT {ISSUE_COLUMNS} FROM issues i WHERE i.identifier = ?1"
    ))?
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

/// One page, newest first (the issue number is the creation order: the counter is taken in
/// the inserting transaction).
pub fn list(conn: &Connection, f: &IssueFilter) -> rusqlite::Result<Vec<Issue>> {
    if let Some(top) = dense_top(conn, f)? {
        // Numbers are exactly 1..counter: the page starts at number `counter - offset`.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ISSUE_COLUMNS} FROM issues i WHERE i.company_id = ?1 AND i.issue_number <= ?2
             ORDER BY i.issue_number DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![id(f.company_id), top - f.offset, f.limit],
            issue_from_row,
        )?;
        return rows.collect();
    }
    // The page's rowids come from the `(company_id, issue_number)` index alone, so skipping
    // `offset` rows never reads the rows themselves.
    let (inner, mut args) = filter_sql(f, "rowid AS r");
    let sql = format!(
        "SELECT {ISSUE_COLUMNS} FROM ({inner} ORDER BY issue_number DESC LIMIT ? OFFSET ?) page
         CROSS JOIN issues i ON i.rowid = page.r ORDER BY i.issue_number DESC"
    );
    args.push(Value::Integer(f.limit));
    args.push(Value::Integer(f.offset));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), issue_from_row)?;
    rows.collect()
}

/// For an unfiltered list of a company whose issue numbers have no gap (`issue_count`, kept
/// by triggers, equals the counter), the highest number; otherwise None.
fn dense_top(conn: &Connection, f: &IssueFilter) -> rusqlite::Result<Option<i64>> {
    let unfiltered = f.is_whole_company();
    if !unfiltered {
        return Ok(None);
    }
    let counts: Option<(i64, i64)> = conn
        .prepare_cached("SELECT issue_counter, issue_count FROM companies WHERE id = ?1")?
        .query_row(params![id(f.company_id)], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(counts.and_then(|(counter, count)| (counter == count).then_some(counter)))
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
        super::comments::insert_comment(conn, c)?;
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

/// Walks up from `parent_id` one primary-key lookup at a time (a recursive CTE here makes
/// SQLite build a Bloom filter over the whole table on every call). Stops at 100 levels or
/// at a repeated id, so bad data cannot loop.
pub fn ancestors(conn: &Connection, parent_id: Option<Uuid>) -> rusqlite::Result<Vec<IssueRef>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REF_COLUMNS} FROM issues i WHERE i.id = ?1"
    ))?;
    let mut out: Vec<IssueRef> = Vec::new();
    let mut next = parent_id;
    while let Some(parent) = next {
        if out.len() >= 100 || out.iter().any(|a| a.id == parent) {
            break;
        }
        let Some(r) = stmt
            .query_row(params![id(parent)], ref_from_row)
            .optional()?
        else {
            break;
        };
        next = r.parent_id;
        out.push(r);
    }
    Ok(out)
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

pub fn inbox(conn: &Connection, agent_id: Uuid) -> rusqlite::Result<Vec<(Issue, Vec<Uuid>)>> {
    let mut stmt = conn.prepare_cached(
        &format!("SELECT {ISSUE_COLUMNS} FROM issues i
         WHERE i.assignee_agent_id = ?1 AND i.status IN ('todo', 'in_progress', 'blocked')
         ORDER BY CASE i.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                  i.updated_at DESC"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn db_with_issues(n: i64) -> (Connection, Uuid) {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::apply_migrations(&mut conn).unwrap();
        let company = Uuid::new_v4();
        conn.execute(
            "INSERT INTO companies (id, name, status, issue_prefix, created_at, updated_at)
             VALUES (?1, 'Acme', 'active', 'ACM', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
            params![id(company)],
        )
        .unwrap();
        for number in 1..=n {
            conn.execute(
                "UPDATE companies SET issue_counter = issue_counter + 1, issue_count = issue_count + 1 WHERE id = ?1",
                params![id(company)],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO issues (id, company_id, title, status, priority, issue_number, identifier,
                    created_at, updated_at)
                 VALUES (?1, ?2, 't', ?3, 'medium', ?4, ?5, '2026-01-01T00:00:00.000000Z',
                    '2026-01-01T00:00:00.000000Z')",
                params![
                    id(Uuid::new_v4()),
                    id(company),
                    if number % 3 == 0 { "todo" } else { "backlog" },
                    number,
                    format!("ACM-{number}")
                ],
            )
            .unwrap();
        }
        (conn, company)
    }

    fn page(conn: &Connection, f: &IssueFilter) -> Vec<i64> {
        list(conn, f)
            .unwrap()
            .iter()
            .map(|i| i.issue_number)
            .collect()
    }

    fn expected(numbers: &[i64], offset: i64, limit: i64) -> Vec<i64> {
        let mut newest_first = numbers.to_vec();
        newest_first.sort_unstable_by(|a, b| b.cmp(a));
        newest_first
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect()
    }

    #[test]
    fn pages_are_the_same_with_and_without_gaps_in_numbers() {
        let (conn, company) = db_with_issues(40);
        let mut numbers: Vec<i64> = (1..=40).collect();
        let filter = |offset, limit| IssueFilter {
            company_id: company,
            limit,
            offset,
            ..Default::default()
        };
        assert!(dense_top(&conn, &filter(0, 10)).unwrap() == Some(40));
        for (offset, limit) in [(0, 10), (5, 10), (35, 10), (39, 1), (40, 5), (100, 5)] {
            assert_eq!(
                page(&conn, &filter(offset, limit)),
                expected(&numbers, offset, limit)
            );
        }

        // A gap (as a deleted issue would leave) switches to stepping over the index.
        conn.execute(
            "DELETE FROM issues WHERE company_id = ?1 AND issue_number = 7",
            params![id(company)],
        )
        .unwrap();
        numbers.retain(|n| *n != 7);
        assert_eq!(dense_top(&conn, &filter(0, 10)).unwrap(), None);
        for (offset, limit) in [(0, 10), (30, 10), (33, 10), (39, 5)] {
            assert_eq!(
                page(&conn, &filter(offset, limit)),
                expected(&numbers, offset, limit)
            );
        }

        // A filtered list never takes the shortcut.
        let todo = IssueFilter {
            statuses: vec![IssueStatus::Todo],
            ..filter(2, 5)
        };
        let todo_numbers: Vec<i64> = numbers.iter().copied().filter(|n| n % 3 == 0).collect();
        assert_eq!(page(&conn, &todo), expected(&todo_numbers, 2, 5));
    }
}

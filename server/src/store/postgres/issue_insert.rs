//! Issue creation: one statement writes one issue or a whole batch (`issue_batch.rs`), with
//! the numbers and the activity entries.

use std::collections::HashMap;

use paperclip_shared::{ActivityEntry, Issue, Timestamp};
use sqlx::{AssertSqlSafe, PgConnection, Row as _};
use uuid::Uuid;

use super::activity;
use crate::store::IssueDraft;

type R<T> = Result<T, sqlx::Error>;

/// One issue (the blockers of a new issue, if any, follow in the caller's transaction).
pub async fn create(c: &mut PgConnection, draft: &IssueDraft, act: &[ActivityEntry]) -> R<Issue> {
    let mut created = create_many(c, &[(draft, act)]).await?;
    created.pop().ok_or(sqlx::Error::RowNotFound)
}

/// Issues of one company and their activity entries as one statement (atomic on its own):
/// the company's counter moves by their number once, each issue takes the next number in
/// order, and each one's entries are completed with its identifier. The company row's lock
/// (which serialises creators, so numbers never repeat) is held only while it runs, or until
/// the caller's transaction ends. A company that is gone inserts nothing: RowNotFound.
pub async fn create_many(
    c: &mut PgConnection,
    items: &[(&IssueDraft, &[ActivityEntry])],
) -> R<Vec<Issue>> {
    let Some((first, _)) = items.first() else {
        return Ok(Vec::new());
    };
    let company = first.issue.company_id;
    debug_assert!(items.iter().all(|(d, _)| d.issue.company_id == company));
    let sql = format!(
        "WITH n AS (
            UPDATE companies SET issue_counter = issue_counter + $2, issue_count = issue_count + $2
            WHERE id = $1 RETURNING issue_counter - $2 AS base, issue_prefix),
         d AS (
            SELECT * FROM UNNEST($3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::uuid[], $12::text[], $13::uuid[],
                $14::uuid[], $15::text[], $16::timestamptz[], $17::uuid[], $18::text[],
                $19::int8[], $20::text[], $21::text[], $22::timestamptz[], $23::timestamptz[],
                $24::timestamptz[], $25::timestamptz[], $26::timestamptz[])
            WITH ORDINALITY AS d({DRAFT_COLUMNS}, ord)),
         i AS (
            INSERT INTO issues (id, company_id, project_id, goal_id, parent_id, title, description,
                status, priority, assignee_agent_id, assignee_user_id, checkout_run_id,
                execution_run_id, execution_agent_name_key, execution_locked_at,
                created_by_agent_id, created_by_user_id, issue_number, identifier, request_depth,
                billing_code, idempotency_key, started_at, completed_at, cancelled_at, created_at,
                updated_at)
            SELECT d.id, $1, d.project_id, d.goal_id, d.parent_id, d.title, d.description,
                d.status, d.priority, d.assignee_agent_id, d.assignee_user_id, d.checkout_run_id,
                d.execution_run_id, d.execution_agent_name_key, d.execution_locked_at,
                d.created_by_agent_id, d.created_by_user_id, n.base + d.ord,
                n.issue_prefix || '-' || (n.base + d.ord), d.request_depth, d.billing_code,
                d.idempotency_key, d.started_at, d.completed_at, d.cancelled_at, d.created_at,
                d.updated_at
            FROM n, d ORDER BY d.ord
            RETURNING id, issue_number, identifier),
         act AS (
            INSERT INTO activity_log ({cols})
            SELECT a.id, a.company_id, a.actor_type, a.actor_id, a.action, a.entity_type,
                a.entity_id, a.agent_id, a.run_id,
                CASE WHEN jsonb_typeof(a.details) = 'object'
                     THEN a.details || jsonb_build_object('identifier', i.identifier)
                     ELSE a.details END,
                a.created_at
            FROM {unnest} JOIN i ON i.id = a.tag ORDER BY a.ord)
         SELECT id, issue_number, identifier FROM i",
        cols = activity::COLUMNS,
        unnest = activity::unnest_tagged(27),
    );
    let issues: Vec<&Issue> = items.iter().map(|(d, _)| &d.issue).collect();
    let ids = |f: fn(&Issue) -> Option<Uuid>| issues.iter().map(|i| f(i)).collect::<Vec<_>>();
    let text = |f: fn(&Issue) -> Option<String>| issues.iter().map(|i| f(i)).collect::<Vec<_>>();
    let time = |f: fn(&Issue) -> Option<Timestamp>| issues.iter().map(|i| f(i)).collect::<Vec<_>>();
    let q = sqlx::query(AssertSqlSafe(sql))
        .bind(company)
        .bind(items.len() as i64)
        .bind(ids(|i| Some(i.id)))
        .bind(ids(|i| i.project_id))
        .bind(ids(|i| i.goal_id))
        .bind(ids(|i| i.parent_id))
        .bind(text(|i| Some(i.title.clone())))
        .bind(text(|i| i.description.clone()))
        .bind(text(|i| Some(i.status.as_str().to_string())))
        .bind(text(|i| Some(i.priority.as_str().to_string())))
        .bind(ids(|i| i.assignee_agent_id))
        .bind(text(|i| i.assignee_user_id.clone()))
        .bind(ids(|i| i.checkout_run_id))
        .bind(ids(|i| i.execution_run_id))
        .bind(text(|i| i.execution_agent_name_key.clone()))
        .bind(time(|i| i.execution_locked_at))
        .bind(ids(|i| i.created_by_agent_id))
        .bind(text(|i| i.created_by_user_id.clone()))
        .bind(issues.iter().map(|i| i.request_depth).collect::<Vec<_>>())
        .bind(text(|i| i.billing_code.clone()))
        .bind(
            items
                .iter()
                .map(|(d, _)| d.idempotency_key.clone())
                .collect::<Vec<_>>(),
        )
        .bind(time(|i| i.started_at))
        .bind(time(|i| i.completed_at))
        .bind(time(|i| i.cancelled_at))
        .bind(time(|i| Some(i.created_at)))
        .bind(time(|i| Some(i.updated_at)));
    let entries: Vec<ActivityEntry> = items.iter().flat_map(|(_, a)| a.to_vec()).collect();
    let tags: Vec<Uuid> = items
        .iter()
        .flat_map(|(d, a)| std::iter::repeat_n(d.issue.id, a.len()))
        .collect();
    let rows = activity::bind(q, &entries)
        .bind(tags)
        .fetch_all(&mut *c)
        .await?;
    let mut numbered: HashMap<Uuid, (i64, String)> = HashMap::with_capacity(rows.len());
    for r in &rows {
        numbered.insert(
            r.try_get("id")?,
            (r.try_get("issue_number")?, r.try_get("identifier")?),
        );
    }
    // No row for an issue: the company is gone (the statement inserted nothing).
    items
        .iter()
        .map(|(d, _)| {
            let (number, identifier) = numbered
                .remove(&d.issue.id)
                .ok_or(sqlx::Error::RowNotFound)?;
            let mut issue = d.issue.clone();
            issue.issue_number = number;
            issue.identifier = identifier;
            Ok(issue)
        })
        .collect()
}

/// The columns of `create_many`'s `d`, in the order of its arrays.
const DRAFT_COLUMNS: &str = "id, project_id, goal_id, parent_id, title, description, status,
    priority, assignee_agent_id, assignee_user_id, checkout_run_id, execution_run_id,
    execution_agent_name_key, execution_locked_at, created_by_agent_id, created_by_user_id,
    request_depth, billing_code, idempotency_key, started_at, completed_at, cancelled_at,
    created_at, updated_at";

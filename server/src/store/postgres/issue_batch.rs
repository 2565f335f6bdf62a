//! Issue creation in batches: a group commit per company. The company row's lock serialises
//! creators (so numbers never repeat), and it is held until the commit is on disk; one commit
//! per issue would cap a company at one create per disk flush. Instead, creations that arrive
//! while a company's batch is being written queue up, and the next transaction writes all of
//! them (up to `MAX_BATCH`) in one statement, under one lock and one flush. A lone creation is still the single
//! statement of `issues::create`, so nothing waits for company.
//!
//! Each creation's answer is its own: when a batch fails (a missing reference, an idempotency
//! key taken), it is rolled back whole and its creations are written one by one, so only the
//! faulty one fails. A batch runs in a task of its own: a caller that goes away does not stop
//! the others' writes.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;

use paperclip_shared::{ActivityEntry, Issue, Timestamp};
use sqlx::{AssertSqlSafe, PgConnection, Row as _};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{PgStore, activity, issues};
use crate::store::{IssueDraft, StoreError, StoreResult};

/// The most creations one transaction writes.
const MAX_BATCH: usize = 64;

struct Pending {
    draft: IssueDraft,
    act: Vec<ActivityEntry>,
    reply: oneshot::Sender<StoreResult<Issue>>,
}

/// The creations waiting, by company; a company is here while its writer task runs.
#[derive(Default)]
pub struct IssueBatches {
    queues: Mutex<HashMap<Uuid, Vec<Pending>>>,
}

impl IssueBatches {
    /// Queues a creation; true when no writer runs for the company yet (the caller starts one).
    fn push(&self, company: Uuid, pending: Pending) -> bool {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        match queues.entry(company) {
            Entry::Occupied(mut q) => {
                q.get_mut().push(pending);
                false
            }
            Entry::Vacant(q) => {
                q.insert(vec![pending]);
                true
            }
        }
    }

    /// The next batch of a company, or none (and the company leaves the map) when it is done.
    fn take(&self, company: Uuid) -> Option<Vec<Pending>> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let q = queues.get_mut(&company)?;
        if q.is_empty() {
            queues.remove(&company);
            return None;
        }
        let n = q.len().min(MAX_BATCH);
        Some(q.drain(..n).collect())
    }
}

impl PgStore {
    /// Creates an issue without blockers, in the company's next batch.
    pub(super) async fn create_issue_batched(
        &self,
        draft: IssueDraft,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Issue> {
        let company = draft.issue.company_id;
        let (reply, answer) = oneshot::channel();
        let pending = Pending { draft, act, reply };
        if self.batches.push(company, pending) {
            let store = self.clone();
            tokio::spawn(async move {
                while let Some(batch) = store.batches.take(company) {
                    store.write_batch(batch).await;
                }
            });
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the issue's write was interrupted".into(),
            ))
        })
    }

    async fn write_batch(&self, batch: Vec<Pending>) {
        if batch.len() > 1 {
            match self.write_together(&batch).await {
                Ok(created) => {
                    for (p, issue) in batch.into_iter().zip(created) {
                        let _ = p.reply.send(Ok(issue));
                    }
                    return;
                }
                // Whether the commit happened is unknown: writing again could double them.
                Err(e @ StoreError::Unavailable(_)) => {
                    for p in batch {
                        let _ = p.reply.send(Err(e.clone()));
                    }
                    return;
                }
                Err(e) => {
                    tracing::debug!(size = batch.len(), error = %e, "issue batch rolled back; writing its creations one by one");
                }
            }
        }
        for p in batch {
            let result = self.write_one(&p.draft, &p.act).await;
            let _ = p.reply.send(result);
        }
    }

    async fn write_one(&self, draft: &IssueDraft, act: &[ActivityEntry]) -> StoreResult<Issue> {
        let mut c = self.conn().await?;
        Ok(issues::create(&mut c, draft, act).await?)
    }

    async fn write_together(&self, batch: &[Pending]) -> StoreResult<Vec<Issue>> {
        let mut c = self.conn().await?;
        Ok(insert_all(&mut c, batch).await?)
    }
}

/// The issues of one company as one statement (atomic on its own): the company's counter
/// moves by the batch's size once, each issue takes the next number in queue order, and each
/// issue's activity entries are completed with its identifier. One round trip and one commit
/// for the whole batch.
async fn insert_all(c: &mut PgConnection, batch: &[Pending]) -> Result<Vec<Issue>, sqlx::Error> {
    let company = batch[0].draft.issue.company_id;
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
    let issues: Vec<&Issue> = batch.iter().map(|p| &p.draft.issue).collect();
    let ids = |f: fn(&Issue) -> Option<Uuid>| issues.iter().map(|i| f(i)).collect::<Vec<_>>();
    let text = |f: fn(&Issue) -> Option<String>| issues.iter().map(|i| f(i)).collect::<Vec<_>>();
    let time = |f: fn(&Issue) -> Option<Timestamp>| issues.iter().map(|i| f(i)).collect::<Vec<_>>();
    let q = sqlx::query(AssertSqlSafe(sql))
        .bind(company)
        .bind(batch.len() as i64)
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
            batch
                .iter()
                .map(|p| p.draft.idempotency_key.clone())
                .collect::<Vec<_>>(),
        )
        .bind(time(|i| i.started_at))
        .bind(time(|i| i.completed_at))
        .bind(time(|i| i.cancelled_at))
        .bind(time(|i| Some(i.created_at)))
        .bind(time(|i| Some(i.updated_at)));
    let entries: Vec<ActivityEntry> = batch.iter().flat_map(|p| p.act.clone()).collect();
    let tags: Vec<Uuid> = batch
        .iter()
        .flat_map(|p| std::iter::repeat_n(p.draft.issue.id, p.act.len()))
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
    batch
        .iter()
        .map(|p| {
            let (number, identifier) = numbered
                .remove(&p.draft.issue.id)
                .ok_or(sqlx::Error::RowNotFound)?;
            let mut issue = p.draft.issue.clone();
            issue.issue_number = number;
            issue.identifier = identifier;
            Ok(issue)
        })
        .collect()
}

/// The columns of `insert_all`'s `d`, in the order of its arrays.
const DRAFT_COLUMNS: &str = "id, project_id, goal_id, parent_id, title, description, status,
    priority, assignee_agent_id, assignee_user_id, checkout_run_id, execution_run_id,
    execution_agent_name_key, execution_locked_at, created_by_agent_id, created_by_user_id,
    request_depth, billing_code, idempotency_key, started_at, completed_at, cancelled_at,
    created_at, updated_at";

//! Issue creation in batches: a group commit per company. The company row's lock serialises
//! creators (so numbers never repeat), and it is held until the commit is on disk; one commit
//! per issue would cap a company at one create per disk flush. Instead, creations that arrive
//! while a company's batch is being written queue up, and the next statement writes all of
//! them (up to `MAX_BATCH`) under one lock and one flush. A lone creation is a batch of one,
//! so nothing waits for company.
//!
//! Each creation's answer is its own: when a batch fails (a missing reference, an idempotency
//! key taken), it is rolled back whole and written again in halves, down to the faulty creation
//! alone, so only that one fails and the rest are still written together. A batch runs in a task of its own: a caller that goes away does not stop
//! the others' writes.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;

use futures_util::future::BoxFuture;
use paperclip_shared::{ActivityEntry, Issue};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{PgStore, issue_insert};
use crate::store::{IssueDraft, StoreError, StoreResult};

/// The most creations one statement writes.
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

    /// Writes a batch in one statement. When it is refused for one of its creations, it is
    /// halved and each half written the same way, so a faulty creation costs its batch a few
    /// refused statements (about two per halving) instead of writing every other one alone.
    fn write_batch(&self, batch: Vec<Pending>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if batch.len() == 1 {
                let p = batch.into_iter().next().expect("a batch of one");
                let result = self.write_one(&p.draft, &p.act).await;
                let _ = p.reply.send(result);
                return;
            }
            match self.write_together(&batch).await {
                Ok(created) => {
                    for (p, issue) in batch.into_iter().zip(created) {
                        let _ = p.reply.send(Ok(issue));
                    }
                }
                // Whether the commit happened is unknown: writing again could double them.
                Err(e @ StoreError::Unavailable(_)) => {
                    for p in batch {
                        let _ = p.reply.send(Err(e.clone()));
                    }
                }
                Err(e) => {
                    tracing::debug!(size = batch.len(), error = %e, "issue batch rolled back; writing it in halves");
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    self.write_batch(first).await;
                    self.write_batch(second).await;
                }
            }
        })
    }

    async fn write_one(&self, draft: &IssueDraft, act: &[ActivityEntry]) -> StoreResult<Issue> {
        let mut c = self.conn().await?;
        Ok(issue_insert::create(&mut c, draft, act).await?)
    }

    async fn write_together(&self, batch: &[Pending]) -> StoreResult<Vec<Issue>> {
        let mut c = self.conn().await?;
        let items: Vec<(&IssueDraft, &[ActivityEntry])> =
            batch.iter().map(|p| (&p.draft, p.act.as_slice())).collect();
        Ok(issue_insert::create_many(&mut c, &items).await?)
    }
}

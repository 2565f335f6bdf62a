//! `Store` for `PgStore`: reads on a pooled connection, writes in one transaction with their
//! activity entries.

use std::sync::Arc;

use async_trait::async_trait;
use paperclip_shared::*;
use sqlx::PgConnection;
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::leader::LeaderLock;
use super::{PgStore, activity, agents, comments, companies, issue_insert, issues};
use crate::store::*;

impl PgStore {
    pub(super) async fn conn(&self) -> StoreResult<PoolConnection<Postgres>> {
        Ok(self.pool.acquire().await?)
    }

    /// A transaction on a pooled connection. sqlx 0.9.0's `begin` is not cancel-safe on
    /// PostgreSQL (transact-rs/sqlx#4393): a caller dropped while its BEGIN is in flight (a
    /// client that went away) leaves the connection inside a transaction nothing ends, and the
    /// next borrower's writes run in it. The BEGIN runs in a task of its own, so it always
    /// completes, and a transaction nobody takes is dropped there and rolled back.
    pub(super) async fn tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let pool = self.pool.clone();
        match tokio::spawn(async move { pool.begin().await }).await {
            Ok(tx) => Ok(tx?),
            Err(e) => Err(StoreError::Unavailable(format!(
                "could not begin a transaction: {e}"
            ))),
        }
    }
}

/// Writes `entries` and commits.
async fn finish(
    mut tx: Transaction<'static, Postgres>,
    entries: &[ActivityEntry],
) -> StoreResult<()> {
    activity::insert(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(())
}

fn conn(c: &mut PoolConnection<Postgres>) -> &mut PgConnection {
    c
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        for task in self
            .live_tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
        self.pool.close().await;
    }

    async fn start_live_feed(&self, sink: Arc<dyn LiveSink>) -> Option<LiveRelay> {
        match super::live::start(self.pool.clone(), &self.target, sink).await {
            Ok((relay, tasks)) => {
                self.live_tasks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(tasks);
                Some(relay)
            }
            Err(e) => {
                tracing::warn!(error = %e, "live events from other servers are off: cannot LISTEN");
                None
            }
        }
    }

    async fn try_lead(&self, name: &str) -> StoreResult<bool> {
        let mut leaders = self.leaders.lock().await;
        let lock = leaders
            .entry(name.to_string())
            .or_insert_with(|| LeaderLock::new(name));
        lock.try_acquire(&self.target).await
    }

    async fn resign(&self, name: &str) -> StoreResult<()> {
        match self.leaders.lock().await.get_mut(name) {
            Some(lock) => lock.release().await,
            None => Ok(()),
        }
    }

    fn describe(&self) -> String {
        self.target.describe()
    }

    async fn ensure_user(&self, user: UserRecord, instance_admin: bool) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        companies::ensure_user(&mut tx, &user, instance_admin).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn is_instance_admin(&self, user_id: &str) -> StoreResult<bool> {
        Ok(companies::is_instance_admin(conn(&mut self.conn().await?), user_id).await?)
    }

    async fn list_companies(&self) -> StoreResult<Vec<Company>> {
        Ok(companies::list_companies(conn(&mut self.conn().await?)).await?)
    }

    async fn get_company(&self, id: Uuid) -> StoreResult<Option<Company>> {
        Ok(companies::get_company(conn(&mut self.conn().await?), id).await?)
    }

    async fn company_with_goal(&self, id: Uuid) -> StoreResult<Option<(Company, Option<Uuid>)>> {
        Ok(companies::company_with_goal(conn(&mut self.conn().await?), id).await?)
    }

    async fn insert_company(
        &self,
        company: Company,
        goal: Option<Goal>,
        owner: Option<String>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        companies::insert_company(&mut tx, &company).await?;
        if let Some(goal) = &goal {
            companies::save_goal(&mut tx, goal).await?;
        }
        if let Some(user) = &owner {
            let (role, status) = (MemberRole::Owner, MembershipStatus::Active);
            super::access::save_membership(
                &mut tx,
                company.id,
                user,
                role,
                status,
                company.created_at,
            )
            .await?;
        }
        finish(tx, &act).await
    }

    async fn update_company(&self, company: Company, act: Vec<ActivityEntry>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        companies::update_company(&mut tx, &company).await?;
        finish(tx, &act).await
    }

    async fn delete_company(&self, id: Uuid) -> StoreResult<()> {
        // The cascade touches every row of the company while its agents may still be at work:
        // a deadlock with one of their writes is retried, the transaction having rolled back.
        let mut attempt = 1;
        loop {
            let mut tx = self.tx().await?;
            match companies::delete_company(&mut tx, id).await {
                Ok(()) => return finish(tx, &[]).await,
                Err(e) if attempt < 4 && super::is_transient(&e) => {
                    drop(tx);
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn list_goals(&self, company_id: Uuid) -> StoreResult<Vec<Goal>> {
        Ok(companies::list_goals(conn(&mut self.conn().await?), company_id).await?)
    }

    async fn get_goal(&self, id: Uuid) -> StoreResult<Option<Goal>> {
        Ok(companies::get_goal(conn(&mut self.conn().await?), id).await?)
    }

    async fn save_goal(&self, goal: Goal, act: Vec<ActivityEntry>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        companies::save_goal(&mut tx, &goal).await?;
        finish(tx, &act).await
    }

    async fn delete_goal(&self, id: Uuid, act: Vec<ActivityEntry>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        companies::delete_goal(&mut tx, id).await?;
        finish(tx, &act).await
    }

    async fn list_projects(&self, company_id: Uuid) -> StoreResult<Vec<Project>> {
        Ok(companies::list_projects(conn(&mut self.conn().await?), company_id).await?)
    }

    async fn get_project(&self, id: Uuid) -> StoreResult<Option<Project>> {
        Ok(companies::get_project(conn(&mut self.conn().await?), id).await?)
    }

    async fn save_project(&self, project: Project, act: Vec<ActivityEntry>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        companies::save_project(&mut tx, &project).await?;
        finish(tx, &act).await
    }

    async fn list_agents(&self, company_id: Uuid) -> StoreResult<Vec<Agent>> {
        Ok(agents::list_agents(conn(&mut self.conn().await?), company_id).await?)
    }

    async fn get_agent(&self, id: Uuid) -> StoreResult<Option<Agent>> {
        Ok(agents::get_agent(conn(&mut self.conn().await?), id).await?)
    }

    async fn save_agent(&self, agent: Agent, act: Vec<ActivityEntry>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        agents::save_agent(&mut tx, &agent).await?;
        finish(tx, &act).await
    }

    async fn insert_agent_key(
        &self,
        key: AgentKeyRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        agents::insert_key(&mut tx, &key).await?;
        finish(tx, &act).await
    }

    async fn list_agent_keys(&self, agent_id: Uuid) -> StoreResult<Vec<AgentKeyRecord>> {
        Ok(agents::list_keys(conn(&mut self.conn().await?), agent_id).await?)
    }

    async fn agent_key_with_agent(
        &self,
        key_hash: String,
    ) -> StoreResult<Option<(AgentKeyRecord, Agent)>> {
        let mut pooled = self.conn().await?;
        let c = conn(&mut pooled);
        let Some(key) = agents::find_key_by_hash(&mut *c, &key_hash).await? else {
            return Ok(None);
        };
        Ok(agents::get_agent(c, key.agent_id)
            .await?
            .map(|agent| (key, agent)))
    }

    async fn revoke_agent_key(
        &self,
        key_id: Uuid,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let revoked = agents::revoke_key(&mut tx, key_id, at).await?;
        finish(tx, if revoked { &act } else { &[] }).await?;
        Ok(revoked)
    }

    async fn touch_agent_key(&self, key_id: Uuid, at: Timestamp) -> StoreResult<()> {
        Ok(agents::touch_key(conn(&mut self.conn().await?), key_id, at).await?)
    }

    async fn create_issue(
        &self,
        draft: IssueDraft,
        blockers: Vec<Uuid>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Issue> {
        if blockers.is_empty() {
            // One statement, atomic on its own, written with the company's other creations.
            return self.create_issue_batched(draft, act).await;
        }
        let mut tx = self.tx().await?;
        let issue = issue_insert::create(&mut tx, &draft, &act).await?;
        issues::add_blockers(&mut tx, &issue, &blockers).await?;
        tx.commit().await?;
        Ok(issue)
    }

    async fn find_issue_by_idempotency_key(
        &self,
        company_id: Uuid,
        key: String,
    ) -> StoreResult<Option<Issue>> {
        Ok(issues::by_idempotency_key(conn(&mut self.conn().await?), company_id, &key).await?)
    }

    async fn get_issue(&self, id: Uuid) -> StoreResult<Option<Issue>> {
        Ok(issues::get(conn(&mut self.conn().await?), id).await?)
    }

    async fn get_issue_by_identifier(&self, identifier: String) -> StoreResult<Option<Issue>> {
        Ok(issues::get_by_identifier(conn(&mut self.conn().await?), &identifier).await?)
    }

    async fn list_issues(&self, filter: IssueFilter) -> StoreResult<Option<Vec<Issue>>> {
        Ok(issues::list(conn(&mut self.conn().await?), &filter).await?)
    }

    async fn update_issue(&self, write: IssueWrite) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let written = issues::update(&mut tx, &write).await?;
        if !written {
            tx.rollback().await?;
            return Ok(false);
        }
        finish(tx, &write.activity).await?;
        Ok(true)
    }

    async fn checkout_issue(&self, checkout: CheckoutWrite) -> StoreResult<bool> {
        // One statement (the UPDATE and its activity), atomic on its own.
        Ok(issues::checkout(conn(&mut self.conn().await?), &checkout).await?)
    }

    async fn issue_refs(&self, ids: Vec<Uuid>) -> StoreResult<Vec<IssueRef>> {
        Ok(issues::refs(conn(&mut self.conn().await?), &ids).await?)
    }

    async fn issue_relations(&self, query: IssueRelationsQuery) -> StoreResult<IssueRelations> {
        let mut c = self.conn().await?;
        let c = conn(&mut c);
        let (blocked_by, blocks) = issues::blocker_links(c, query.issue_id).await?;
        Ok(IssueRelations {
            ancestors: issues::ancestors(c, query.parent_id).await?,
            project: match query.project_id {
                Some(p) => companies::get_project(c, p).await?,
                None => None,
            },
            goal: match query.goal_id {
                Some(g) => companies::get_goal(c, g).await?,
                None => None,
            },
            blocked_by,
            blocks,
        })
    }

    async fn blockers_of(&self, issue_id: Uuid) -> StoreResult<Vec<IssueRef>> {
        Ok(issues::blockers_of(conn(&mut self.conn().await?), issue_id).await?)
    }

    async fn blocker_edges(&self, company_id: Uuid) -> StoreResult<Vec<(Uuid, Uuid)>> {
        Ok(issues::blocker_edges(conn(&mut self.conn().await?), company_id).await?)
    }

    async fn list_comments(&self, query: CommentQuery) -> StoreResult<Vec<IssueComment>> {
        Ok(comments::list_comments(conn(&mut self.conn().await?), &query).await?)
    }

    async fn get_comment(&self, id: Uuid) -> StoreResult<Option<IssueComment>> {
        Ok(comments::get_comment(conn(&mut self.conn().await?), id).await?)
    }

    async fn insert_comment(
        &self,
        comment: IssueComment,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        comments::insert_comment(&mut tx, &comment).await?;
        comments::touch_for_comment(&mut tx, &comment).await?;
        finish(tx, &act).await
    }

    async fn comment_cursor(&self, issue_id: Uuid) -> StoreResult<CommentCursor> {
        Ok(comments::comment_cursor(conn(&mut self.conn().await?), issue_id).await?)
    }

    async fn list_activity(&self, filter: ActivityFilter) -> StoreResult<Vec<ActivityEntry>> {
        Ok(activity::list(conn(&mut self.conn().await?), filter).await?)
    }

    async fn dashboard_counts(
        &self,
        company_id: Uuid,
        stale_before: Timestamp,
    ) -> StoreResult<DashboardCounts> {
        let mut c = self.conn().await?;
        let c = conn(&mut c);
        let agents_by_status = issues::counts_by_status(c, "agents", company_id)
            .await?
            .into_iter()
            .filter_map(|(s, n)| AgentStatus::parse(&s).map(|s| (s, n)))
            .collect();
        let issues_by_status = issues::counts_by_status(c, "issues", company_id)
            .await?
            .into_iter()
            .filter_map(|(s, n)| IssueStatus::parse(&s).map(|s| (s, n)))
            .collect();
        let stale_in_progress = issues::stale_in_progress(c, company_id, stale_before).await?;
        Ok(DashboardCounts {
            agents_by_status,
            issues_by_status,
            stale_in_progress,
        })
    }

    async fn inbox(&self, agent_id: Uuid) -> StoreResult<Vec<(Issue, Vec<Uuid>)>> {
        Ok(issues::inbox(conn(&mut self.conn().await?), agent_id).await?)
    }
}

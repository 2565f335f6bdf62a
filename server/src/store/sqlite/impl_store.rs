//! `Store` for `SqliteStore`: each method hands its SQL (in the sibling modules) to a reader
//! or the writer, with the activity entries written in the same transaction.

use std::sync::Arc;

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::{SqliteStore, activity, agents, comments, companies, issues};
use crate::store::*;

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    async fn close(&self) {
        let _ = self
            .on_writer(|c| c.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);"))
            .await;
    }

    async fn try_lead(&self, _name: &str) -> StoreResult<bool> {
        Ok(true)
    }

    async fn resign(&self, _name: &str) -> StoreResult<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.path.display())
    }

    async fn start_live_feed(&self, sink: Arc<dyn LiveSink>) -> Option<LiveRelay> {
        self.set_live_sink(sink);
        None
    }

    async fn ensure_user(&self, user: UserRecord, instance_admin: bool) -> StoreResult<()> {
        self.write(move |tx| companies::ensure_user(tx, &user, instance_admin))
            .await
    }

    async fn is_instance_admin(&self, user_id: &str) -> StoreResult<bool> {
        let user_id = user_id.to_string();
        self.read(move |c| companies::is_instance_admin(c, &user_id))
            .await
    }

    async fn list_companies(&self) -> StoreResult<Vec<Company>> {
        self.read(companies::list_companies).await
    }

    async fn get_company(&self, id: Uuid) -> StoreResult<Option<Company>> {
        self.read(move |c| companies::get_company(c, id)).await
    }

    async fn company_with_goal(&self, id: Uuid) -> StoreResult<Option<(Company, Option<Uuid>)>> {
        self.read(move |c| companies::company_with_goal(c, id))
            .await
    }

    async fn insert_company(
        &self,
        company: Company,
        goal: Option<Goal>,
        owner: Option<String>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            companies::insert_company(tx, &company)?;
            if let Some(goal) = &goal {
                companies::save_goal(tx, goal)?;
            }
            if let Some(user) = &owner {
                let (role, status) = (MemberRole::Owner, MembershipStatus::Active);
                super::access::save_membership(
                    tx,
                    company.id,
                    user,
                    role,
                    status,
                    company.created_at,
                )?;
            }
            activity::insert(tx, &act)
        })
        .await
    }

    async fn update_company(&self, company: Company, act: Vec<ActivityEntry>) -> StoreResult<()> {
        self.write(move |tx| {
            companies::update_company(tx, &company)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn delete_company(&self, id: Uuid) -> StoreResult<()> {
        self.write(move |tx| companies::delete_company(tx, id))
            .await
    }

    async fn list_goals(&self, company_id: Uuid) -> StoreResult<Vec<Goal>> {
        self.read(move |c| companies::list_goals(c, company_id))
            .await
    }

    async fn get_goal(&self, id: Uuid) -> StoreResult<Option<Goal>> {
        self.read(move |c| companies::get_goal(c, id)).await
    }

    async fn save_goal(&self, goal: Goal, act: Vec<ActivityEntry>) -> StoreResult<()> {
        self.write(move |tx| {
            companies::save_goal(tx, &goal)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn delete_goal(&self, id: Uuid, act: Vec<ActivityEntry>) -> StoreResult<()> {
        self.write(move |tx| {
            companies::delete_goal(tx, id)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn list_projects(&self, company_id: Uuid) -> StoreResult<Vec<Project>> {
        self.read(move |c| companies::list_projects(c, company_id))
            .await
    }

    async fn get_project(&self, id: Uuid) -> StoreResult<Option<Project>> {
        self.read(move |c| companies::get_project(c, id)).await
    }

    async fn save_project(&self, project: Project, act: Vec<ActivityEntry>) -> StoreResult<()> {
        self.write(move |tx| {
            companies::save_project(tx, &project)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn list_agents(&self, company_id: Uuid) -> StoreResult<Vec<Agent>> {
        self.read(move |c| agents::list_agents(c, company_id)).await
    }

    async fn get_agent(&self, id: Uuid) -> StoreResult<Option<Agent>> {
        self.read(move |c| agents::get_agent(c, id)).await
    }

    async fn save_agent(&self, agent: Agent, act: Vec<ActivityEntry>) -> StoreResult<()> {
        self.write(move |tx| {
            agents::save_agent(tx, &agent)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn insert_agent_key(
        &self,
        key: AgentKeyRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            agents::insert_key(tx, &key)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn list_agent_keys(&self, agent_id: Uuid) -> StoreResult<Vec<AgentKeyRecord>> {
        self.read(move |c| agents::list_keys(c, agent_id)).await
    }

    async fn agent_key_with_agent(
        &self,
        key_hash: String,
    ) -> StoreResult<Option<(AgentKeyRecord, Agent)>> {
        self.read(move |c| {
            let Some(key) = agents::find_key_by_hash(c, &key_hash)? else {
                return Ok(None);
            };
            Ok(agents::get_agent(c, key.agent_id)?.map(|agent| (key, agent)))
        })
        .await
    }

    async fn revoke_agent_key(
        &self,
        key_id: Uuid,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let revoked = agents::revoke_key(tx, key_id, at)?;
            if revoked {
                activity::insert(tx, &act)?;
            }
            Ok(revoked)
        })
        .await
    }

    async fn touch_agent_key(&self, key_id: Uuid, at: Timestamp) -> StoreResult<()> {
        self.write(move |tx| agents::touch_key(tx, key_id, at))
            .await
    }

    async fn create_issue(
        &self,
        draft: IssueDraft,
        blockers: Vec<Uuid>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<Issue> {
        self.write(move |tx| {
            let issue = issues::create(tx, &draft, &blockers)?;
            // The identifier is only known now; the activity entry carries it.
            let act = with_identifier(act, &issue.identifier);
            activity::insert(tx, &act)?;
            Ok(issue)
        })
        .await
    }

    async fn find_issue_by_idempotency_key(
        &self,
        company_id: Uuid,
        key: String,
    ) -> StoreResult<Option<Issue>> {
        self.read(move |c| issues::by_idempotency_key(c, company_id, &key))
            .await
    }

    async fn get_issue(&self, id: Uuid) -> StoreResult<Option<Issue>> {
        self.read(move |c| issues::get(c, id)).await
    }

    async fn get_issue_by_identifier(&self, identifier: String) -> StoreResult<Option<Issue>> {
        self.read(move |c| issues::get_by_identifier(c, &identifier))
            .await
    }

    async fn list_issues(&self, filter: IssueFilter) -> StoreResult<Option<Vec<Issue>>> {
        self.read(move |c| {
            if !companies::company_exists(c, filter.company_id)? {
                return Ok(None);
            }
            issues::list(c, &filter).map(Some)
        })
        .await
    }

    async fn update_issue(&self, write: IssueWrite) -> StoreResult<bool> {
        self.write(move |tx| {
            let written = issues::update(tx, &write)?;
            if written {
                activity::insert(tx, &write.activity)?;
            }
            Ok(written)
        })
        .await
    }

    async fn checkout_issue(&self, checkout: CheckoutWrite) -> StoreResult<bool> {
        self.write(move |tx| {
            let taken = issues::checkout(tx, &checkout)?;
            if taken {
                activity::insert(tx, &checkout.activity)?;
            }
            Ok(taken)
        })
        .await
    }

    async fn issue_refs(&self, ids: Vec<Uuid>) -> StoreResult<Vec<IssueRef>> {
        self.read(move |c| issues::refs(c, &ids)).await
    }

    async fn issue_relations(&self, query: IssueRelationsQuery) -> StoreResult<IssueRelations> {
        self.read(move |c| {
            Ok(IssueRelations {
                ancestors: issues::ancestors(c, query.parent_id)?,
                project: match query.project_id {
                    Some(p) => companies::get_project(c, p)?,
                    None => None,
                },
                goal: match query.goal_id {
                    Some(g) => companies::get_goal(c, g)?,
                    None => None,
                },
                blocked_by: issues::blockers_of(c, query.issue_id)?,
                blocks: issues::blocked_by(c, query.issue_id)?,
            })
        })
        .await
    }

    async fn blockers_of(&self, issue_id: Uuid) -> StoreResult<Vec<IssueRef>> {
        self.read(move |c| issues::blockers_of(c, issue_id)).await
    }

    async fn blocker_edges(&self, company_id: Uuid) -> StoreResult<Vec<(Uuid, Uuid)>> {
        self.read(move |c| issues::blocker_edges(c, company_id))
            .await
    }

    async fn list_comments(&self, query: CommentQuery) -> StoreResult<Vec<IssueComment>> {
        self.read(move |c| comments::list_comments(c, &query)).await
    }

    async fn get_comment(&self, id: Uuid) -> StoreResult<Option<IssueComment>> {
        self.read(move |c| comments::get_comment(c, id)).await
    }

    async fn insert_comment(
        &self,
        comment: IssueComment,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            comments::insert_comment(tx, &comment)?;
            comments::touch_for_comment(tx, &comment)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn comment_cursor(&self, issue_id: Uuid) -> StoreResult<CommentCursor> {
        self.read(move |c| comments::comment_cursor(c, issue_id))
            .await
    }

    async fn list_activity(&self, filter: ActivityFilter) -> StoreResult<Vec<ActivityEntry>> {
        self.read(move |c| activity::list(c, filter)).await
    }

    async fn dashboard_counts(
        &self,
        company_id: Uuid,
        stale_before: Timestamp,
    ) -> StoreResult<DashboardCounts> {
        self.read(move |c| {
            let agents_by_status = issues::counts_by_status(c, "agents", company_id)?
                .into_iter()
                .filter_map(|(s, n)| AgentStatus::parse(&s).map(|s| (s, n)))
                .collect();
            let issues_by_status = issues::counts_by_status(c, "issues", company_id)?
                .into_iter()
                .filter_map(|(s, n)| IssueStatus::parse(&s).map(|s| (s, n)))
                .collect();
            let stale_in_progress = issues::stale_in_progress(c, company_id, stale_before)?;
            Ok(DashboardCounts {
                agents_by_status,
                issues_by_status,
                stale_in_progress,
            })
        })
        .await
    }

    async fn inbox(&self, agent_id: Uuid) -> StoreResult<Vec<(Issue, Vec<Uuid>)>> {
        self.read(move |c| issues::inbox(c, agent_id)).await
    }
}

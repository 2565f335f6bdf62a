//! Persistence: the `Store` trait the domain talks to, and its backends. The store holds no
//! rules: the domain decides what to write; the store writes it atomically, activity included.

mod access;
mod approvals;
mod breakers;
pub mod copy;
mod costs;
mod error;
mod live;
pub mod migrations;
pub mod postgres;
mod records;
mod runs;
mod secrets;
pub mod sqlite;

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

pub use access::*;
pub use approvals::*;
pub use breakers::*;
pub use costs::*;
pub use error::{StoreError, StoreResult};
pub use live::*;
pub use records::*;
pub use runs::*;
pub use secrets::*;

/// The company goal of the company row `c`, as a scalar subquery (the same in both dialects).
pub const COMPANY_GOAL: &str = "(SELECT g.id FROM goals g WHERE g.company_id = c.id
    AND g.level = 'company' AND g.parent_id IS NULL
    ORDER BY g.status <> 'active', g.created_at, g.id LIMIT 1)";

#[async_trait]
pub trait Store:
    AccessStore
    + SecretStore
    + RunStore
    + CostStore
    + ApprovalStore
    + BreakerStore
    + Send
    + Sync
    + 'static
{
    /// A cheap round trip, for health checks.
    async fn ping(&self) -> StoreResult<()>;
    /// Flush and close cleanly (checkpoint the WAL on SQLite).
    async fn close(&self);
    /// A short human name of the backend and where it lives, for the start-up line.
    fn describe(&self) -> String;

    /// Starts telling `sink` of committed activity and of other servers' live events. On
    /// PostgreSQL it returns the relay that sends this server's events to the others; SQLite
    /// has one server per database and returns None.
    async fn start_live_feed(&self, sink: std::sync::Arc<dyn LiveSink>) -> Option<LiveRelay>;

    /// Leadership of work that must run once across servers sharing this database (the
    /// heartbeat scheduler, backups): true while this process leads `name`. Call it before each
    /// round of that work; it also notices a lost leadership. SQLite has one server per
    /// database (the instance lock), which always leads; PostgreSQL uses an advisory lock.
    async fn try_lead(&self, name: &str) -> StoreResult<bool>;
    /// Gives leadership of `name` up (at shutdown; a dead process loses it by itself).
    async fn resign(&self, name: &str) -> StoreResult<()>;

    async fn ensure_user(&self, user: UserRecord, instance_admin: bool) -> StoreResult<()>;
    async fn is_instance_admin(&self, user_id: &str) -> StoreResult<bool>;

    async fn list_companies(&self) -> StoreResult<Vec<Company>>;
    async fn get_company(&self, id: Uuid) -> StoreResult<Option<Company>>;
    /// The company and its company goal, in one read: the oldest top-level goal of level
    /// `company`, an active one first (what a new issue with no goal and no project gets).
    async fn company_with_goal(&self, id: Uuid) -> StoreResult<Option<(Company, Option<Uuid>)>>;
    /// Fails with `StoreError::Conflict` when the issue prefix is taken. `owner`, when given,
    /// becomes the company's active owner member in the same transaction.
    async fn insert_company(
        &self,
        company: Company,
        goal: Option<Goal>,
        owner: Option<String>,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    async fn update_company(
        &self,
        company: Company,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    async fn delete_company(&self, id: Uuid) -> StoreResult<()>;

    async fn list_goals(&self, company_id: Uuid) -> StoreResult<Vec<Goal>>;
    async fn get_goal(&self, id: Uuid) -> StoreResult<Option<Goal>>;
    async fn save_goal(&self, goal: Goal, activity: Vec<ActivityEntry>) -> StoreResult<()>;
    async fn delete_goal(&self, id: Uuid, activity: Vec<ActivityEntry>) -> StoreResult<()>;

    async fn list_projects(&self, company_id: Uuid) -> StoreResult<Vec<Project>>;
    async fn get_project(&self, id: Uuid) -> StoreResult<Option<Project>>;
    async fn save_project(&self, project: Project, activity: Vec<ActivityEntry>)
    -> StoreResult<()>;

    async fn list_agents(&self, company_id: Uuid) -> StoreResult<Vec<Agent>>;
    async fn get_agent(&self, id: Uuid) -> StoreResult<Option<Agent>>;
    async fn save_agent(&self, agent: Agent, activity: Vec<ActivityEntry>) -> StoreResult<()>;

    async fn insert_agent_key(
        &self,
        key: AgentKeyRecord,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    async fn list_agent_keys(&self, agent_id: Uuid) -> StoreResult<Vec<AgentKeyRecord>>;
    /// The key with this hash and its agent, in one read (every agent request asks).
    async fn agent_key_with_agent(
        &self,
        key_hash: String,
    ) -> StoreResult<Option<(AgentKeyRecord, Agent)>>;
    /// Marks the key revoked; false when it was not found or already revoked.
    async fn revoke_agent_key(
        &self,
        key_id: Uuid,
        at: Timestamp,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<bool>;
    async fn touch_agent_key(&self, key_id: Uuid, at: Timestamp) -> StoreResult<()>;

    /// Takes the next number from the company's counter and inserts the issue with it.
    async fn create_issue(
        &self,
        draft: IssueDraft,
        blockers: Vec<Uuid>,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<Issue>;
    async fn find_issue_by_idempotency_key(
        &self,
        company_id: Uuid,
        key: String,
    ) -> StoreResult<Option<Issue>>;
    async fn get_issue(&self, id: Uuid) -> StoreResult<Option<Issue>>;
    async fn get_issue_by_identifier(&self, identifier: String) -> StoreResult<Option<Issue>>;
    /// One page of a company's issues; None when there is no such company.
    async fn list_issues(&self, filter: IssueFilter) -> StoreResult<Option<Vec<Issue>>>;
    /// Writes the issue if its `updated_at` is still `expected_updated_at`; false when another
    /// write came first (the domain re-reads and decides again).
    async fn update_issue(&self, write: IssueWrite) -> StoreResult<bool>;
    /// The atomic checkout: one conditional UPDATE. False when the conditions did not hold.
    async fn checkout_issue(&self, checkout: CheckoutWrite) -> StoreResult<bool>;
    async fn issue_refs(&self, ids: Vec<Uuid>) -> StoreResult<Vec<IssueRef>>;
    /// Ancestors, project, goal and blocker links of one issue, read together.
    async fn issue_relations(&self, query: IssueRelationsQuery) -> StoreResult<IssueRelations>;
    /// Issues blocking this one.
    async fn blockers_of(&self, issue_id: Uuid) -> StoreResult<Vec<IssueRef>>;
    /// Every blocker edge `(issue, blocker)` of a company, for cycle checks.
    async fn blocker_edges(&self, company_id: Uuid) -> StoreResult<Vec<(Uuid, Uuid)>>;

    async fn list_comments(&self, query: CommentQuery) -> StoreResult<Vec<IssueComment>>;
    async fn get_comment(&self, id: Uuid) -> StoreResult<Option<IssueComment>>;
    async fn insert_comment(
        &self,
        comment: IssueComment,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    async fn comment_cursor(&self, issue_id: Uuid) -> StoreResult<CommentCursor>;

    async fn list_activity(&self, filter: ActivityFilter) -> StoreResult<Vec<ActivityEntry>>;
    async fn dashboard_counts(
        &self,
        company_id: Uuid,
        stale_before: Timestamp,
    ) -> StoreResult<DashboardCounts>;
    /// The agent's open work (`todo`, `in_progress`, `blocked`) with unresolved blockers.
    async fn inbox(&self, agent_id: Uuid) -> StoreResult<Vec<(Issue, Vec<Uuid>)>>;
}

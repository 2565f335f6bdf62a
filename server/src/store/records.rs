//! What the store reads and writes beyond the API shapes: inputs of writes, filters, counts.

use paperclip_shared::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub created_at: Timestamp,
}

/// An agent API key as stored: the SHA-256 of the token, never the token.
#[derive(Debug, Clone)]
pub struct AgentKeyRecord {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub key_hash: String,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl AgentKeyRecord {
    pub fn to_api(&self) -> AgentKey {
        AgentKey {
            id: self.id,
            agent_id: self.agent_id,
            name: self.name.clone(),
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
            created_at: self.created_at,
        }
    }
}

/// An issue before it has a number: `issue_number` and `identifier` are filled by the store.
#[derive(Debug, Clone)]
pub struct IssueDraft {
    pub issue: Issue,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IssueWrite {
    pub issue: Issue,
    pub expected_updated_at: Timestamp,
    /// Replaces the blocker set when given.
    pub blockers: Option<Vec<Uuid>>,
    pub comment: Option<IssueComment>,
    pub activity: Vec<ActivityEntry>,
}

#[derive(Debug, Clone)]
pub struct CheckoutWrite {
    pub issue_id: Uuid,
    pub agent_id: Uuid,
    pub run_id: Option<Uuid>,
    pub expected_statuses: Vec<IssueStatus>,
    pub now: Timestamp,
    pub activity: Vec<ActivityEntry>,
}

#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    pub company_id: Uuid,
    pub statuses: Vec<IssueStatus>,
    pub assignee_agent_id: Option<Uuid>,
    pub assignee_user_id: Option<String>,
    pub project_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub query: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl IssueFilter {
    /// Every issue of the company (only paging): such a list may seek by number.
    pub fn is_whole_company(&self) -> bool {
        self.statuses.is_empty()
            && self.assignee_agent_id.is_none()
            && self.assignee_user_id.is_none()
            && self.project_id.is_none()
            && self.parent_id.is_none()
            && self.query.is_none()
    }
}

/// Activity entries of an issue creation, completed with the identifier the store gave it.
pub fn with_identifier(entries: Vec<ActivityEntry>, identifier: &str) -> Vec<ActivityEntry> {
    entries
        .into_iter()
        .map(|mut e| {
            if let Some(obj) = e.details.as_object_mut() {
                obj.insert("identifier".into(), identifier.into());
            }
            e
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct CommentQuery {
    pub issue_id: Uuid,
    /// Only comments after this one (in time order).
    pub after: Option<(Timestamp, Uuid)>,
    pub ascending: bool,
    pub limit: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub company_id: Uuid,
    pub agent_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DashboardCounts {
    pub agents_by_status: Vec<(AgentStatus, i64)>,
    pub issues_by_status: Vec<(IssueStatus, i64)>,
    pub stale_in_progress: i64,
}

/// What an issue's detail shows besides the issue: read together, in one round trip.
#[derive(Debug, Clone)]
pub struct IssueRelationsQuery {
    pub issue_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default)]
pub struct IssueRelations {
    /// Parents from the nearest up.
    pub ancestors: Vec<IssueRef>,
    pub project: Option<Project>,
    pub goal: Option<Goal>,
    /// Issues blocking this one.
    pub blocked_by: Vec<IssueRef>,
    /// Issues this one blocks.
    pub blocks: Vec<IssueRef>,
}

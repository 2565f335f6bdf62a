//! Approvals as stored: the approval, its comments and the issues it concerns. A decision is
//! one conditional write (only from the statuses it may leave), with what it does to a hired
//! agent and its activity, in one transaction.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::StoreResult;

#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRecord {
    pub id: Uuid,
    pub company_id: Uuid,
    pub approval_type: String,
    pub requested_by_agent_id: Option<Uuid>,
    pub requested_by_user_id: Option<String>,
    pub status: String,
    pub payload: serde_json::Value,
    pub decision_note: Option<String>,
    pub decided_by_user_id: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalCommentRecord {
    pub id: Uuid,
    pub company_id: Uuid,
    pub approval_id: Uuid,
    pub author_agent_id: Option<Uuid>,
    pub author_user_id: Option<String>,
    pub body: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a decision does to the agent a hire approval names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HireOutcome {
    /// `pending_approval` → `idle`.
    Activate(Uuid),
    /// `pending_approval` → `terminated`.
    Terminate(Uuid),
}

/// A decision: the approval as it becomes, written only while its status is one of `from`.
#[derive(Debug, Clone)]
pub struct ApprovalDecision {
    pub approval: ApprovalRecord,
    pub from: Vec<String>,
    pub hire: Option<HireOutcome>,
    pub activity: Vec<ActivityEntry>,
}

#[async_trait]
pub trait ApprovalStore {
    /// The approval, its issue links and (for a hire) the agent waiting for it, at once.
    async fn insert_approval(
        &self,
        approval: ApprovalRecord,
        issue_ids: Vec<Uuid>,
        hired: Option<Agent>,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    async fn get_approval(&self, id: Uuid) -> StoreResult<Option<ApprovalRecord>>;
    /// Newest first; only `status` when given.
    async fn list_approvals(
        &self,
        company_id: Uuid,
        status: Option<String>,
    ) -> StoreResult<Vec<ApprovalRecord>>;
    /// False when the approval's status was no longer one of `decision.from`.
    async fn decide_approval(&self, decision: ApprovalDecision) -> StoreResult<bool>;
    /// The issues linked to an approval, oldest link first.
    async fn approval_issues(&self, approval_id: Uuid) -> StoreResult<Vec<Issue>>;
    async fn insert_approval_comment(
        &self,
        comment: ApprovalCommentRecord,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    async fn list_approval_comments(
        &self,
        approval_id: Uuid,
    ) -> StoreResult<Vec<ApprovalCommentRecord>>;
    /// Whether the company has an approval of `approval_type` with `status`.
    async fn has_approval(
        &self,
        company_id: Uuid,
        approval_type: String,
        status: String,
    ) -> StoreResult<bool>;
}

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Goal, Project};
use crate::enums::{IssuePriority, IssueStatus};
use crate::patch::{Patch, nullable};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub id: Uuid,
    pub company_id: Uuid,
    pub project_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub title: String,
    pub description: Option<String>,
    pub status: IssueStatus,
    pub priority: IssuePriority,
    pub assignee_agent_id: Option<Uuid>,
    pub assignee_user_id: Option<String>,
    pub checkout_run_id: Option<Uuid>,
    pub execution_run_id: Option<Uuid>,
    pub execution_agent_name_key: Option<String>,
    pub execution_locked_at: Option<DateTime<Utc>>,
    pub created_by_agent_id: Option<Uuid>,
    pub created_by_user_id: Option<String>,
    pub issue_number: i64,
    pub identifier: String,
    pub request_depth: i64,
    pub billing_code: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A short reference to another issue (ancestors, blockers).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueRef {
    pub id: Uuid,
    pub identifier: String,
    pub title: String,
    pub status: IssueStatus,
    pub priority: IssuePriority,
    pub assignee_agent_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
}

/// `GET /api/issues/:id`: the issue with its context.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueDetail {
    #[serde(flatten)]
    pub issue: Issue,
    pub ancestors: Vec<IssueRef>,
    pub project: Option<Project>,
    pub goal: Option<Goal>,
    pub blocked_by: Vec<IssueRef>,
    pub blocks: Vec<IssueRef>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateIssue {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 100000)]
    pub description: Option<String>,
    pub status: Option<IssueStatus>,
    pub priority: Option<IssuePriority>,
    pub assignee_agent_id: Option<Uuid>,
    #[schema(max_length = 200)]
    pub assignee_user_id: Option<String>,
    pub project_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    #[schema(max_length = 200)]
    pub billing_code: Option<String>,
    /// At most 100 distinct issues.
    pub blocked_by_issue_ids: Option<Vec<Uuid>>,
    #[schema(max_length = 255)]
    pub idempotency_key: Option<String>,
}

/// The answer to a create: the issue, and `deduplicated: true` when an `idempotencyKey`
/// matched an earlier create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedIssue {
    #[serde(flatten)]
    pub issue: Issue,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub deduplicated: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIssue {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100000)]
    pub description: Patch<String>,
    pub status: Option<IssueStatus>,
    pub priority: Option<IssuePriority>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_agent_id: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub assignee_user_id: Patch<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub project_id: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub goal_id: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub billing_code: Patch<String>,
    /// Replaces the set; at most 100 distinct issues.
    pub blocked_by_issue_ids: Option<Vec<Uuid>>,
    /// A comment posted in the same transaction as the change.
    #[schema(min_length = 1, max_length = 100000, pattern = r"\S")]
    pub comment: Option<String>,
    /// Leave `done`/`cancelled` for an open status.
    pub reopen: Option<bool>,
}

/// One changed field of a PATCH: `{from, to}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    #[schema(value_type = Value)]
    pub from: serde_json::Value,
    #[schema(value_type = Value)]
    pub to: serde_json::Value,
}

/// The answer to a PATCH: the issue, what changed, and the comment it posted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedIssue {
    #[serde(flatten)]
    pub issue: Issue,
    pub changes: std::collections::BTreeMap<String, FieldChange>,
    pub comment: Option<IssueComment>,
}

/// The answer to a PATCH with `Prefer: return=minimal`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueReceipt {
    pub id: Uuid,
    pub identifier: String,
    pub status: IssueStatus,
    pub updated_at: DateTime<Utc>,
    pub changed_fields: Vec<String>,
    pub comment_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutIssue {
    pub agent_id: Uuid,
    /// The statuses the caller expects the issue to be in; at least one.
    #[schema(min_items = 1)]
    pub expected_statuses: Vec<IssueStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueComment {
    pub id: Uuid,
    pub company_id: Uuid,
    pub issue_id: Uuid,
    pub author_agent_id: Option<Uuid>,
    pub author_user_id: Option<String>,
    pub body: String,
    pub created_by_run_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateComment {
    #[schema(min_length = 1, max_length = 100000, pattern = r"\S")]
    pub body: String,
    /// Reopen a closed issue with this comment.
    pub resume: Option<bool>,
    pub reopen: Option<bool>,
}

/// The run holding an issue, as `inbox-lite` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveRun {
    pub id: Uuid,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxItem {
    pub id: Uuid,
    pub identifier: String,
    pub title: String,
    pub status: IssueStatus,
    pub priority: IssuePriority,
    pub project_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    pub active_run: Option<ActiveRun>,
    pub unresolved_blocker_count: i64,
    pub unresolved_blocker_issue_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentCursor {
    pub total_comments: i64,
    pub latest_comment_id: Option<Uuid>,
    pub latest_comment_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatContext {
    pub issue: Issue,
    pub ancestors: Vec<IssueRef>,
    pub project: Option<Project>,
    pub goal: Option<Goal>,
    pub comment_cursor: CommentCursor,
    pub wake_comment: Option<IssueComment>,
}

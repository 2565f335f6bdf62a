use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::ActorType;
use chrono::{DateTime, Utc};

/// One entry of the activity log: every mutation writes one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub id: Uuid,
    pub company_id: Uuid,
    pub actor_type: ActorType,
    pub actor_id: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub agent_id: Option<Uuid>,
    pub run_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardAgents {
    pub active: i64,
    pub running: i64,
    pub paused: i64,
    pub error: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardTasks {
    pub open: i64,
    pub in_progress: i64,
    pub blocked: i64,
    pub done: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardCosts {
    /// Reported and estimated together: what the budget counts.
    pub month_spend_cents: i64,
    pub month_budget_cents: i64,
    pub month_utilization_percent: f64,
    /// Of the month's spend, what providers reported in dollars.
    pub month_reported_cents: i64,
    /// Of the month's spend, what the price table estimated (subscriptions, unpriced usage).
    pub month_estimated_cents: i64,
    /// Tokens of the month (input, cached input and output) against the token budget (0: none).
    pub month_tokens: i64,
    pub month_budget_tokens: i64,
    pub month_token_utilization_percent: f64,
}

/// A paused agent on the dashboard: why, since when, until when, and how to lift it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardPausedAgent {
    pub agent_id: Uuid,
    pub name: String,
    /// `manual`, `budget`, `usage_limit`, `loop_detected`, or the board's own words.
    pub reason: String,
    pub paused_at: Option<DateTime<Utc>>,
    /// When it resumes by itself (a usage limit's reset), if it does.
    pub until: Option<DateTime<Utc>>,
    /// What lifts the pause, in words.
    pub lift: String,
}

/// A breaker that has paused an agent: a usage limit (with its reset) or a loop.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardBreaker {
    pub agent_id: Uuid,
    /// `usage_limit` or `loop_detected`.
    pub reason: String,
    pub until: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// The board's overview of one company.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub company_id: Uuid,
    pub agents: DashboardAgents,
    pub tasks: DashboardTasks,
    pub costs: DashboardCosts,
    pub pending_approvals: i64,
    pub stale_tasks: i64,
    /// Every agent status with its count (statuses with none left out).
    pub agents_by_status: std::collections::BTreeMap<String, i64>,
    /// Every issue status with its count (statuses with none left out).
    pub issues_by_status: std::collections::BTreeMap<String, i64>,
    pub paused_agents: Vec<DashboardPausedAgent>,
    pub breakers: Vec<DashboardBreaker>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInfo {
    pub mode: String,
    pub exposure: String,
    pub auth_ready: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthFeatures {
    pub company_deletion_enabled: bool,
}

/// `GET /api/health`: flat fields as Paperclip's UI and CLI read them, plus `deployment`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
/// An anonymous caller in `authenticated` mode gets only the mode and the bootstrap state (no
/// version, features or internals).
pub struct Health {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub deployment_mode: String,
    pub deployment_exposure: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_ready: Option<bool>,
    pub bootstrap_status: String,
    pub bootstrap_invite_active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<HealthFeatures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentInfo>,
}

/// An error answer: `error` is a human sentence, `code` a stable snake_case word.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

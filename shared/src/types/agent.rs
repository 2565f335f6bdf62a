use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::{AgentRole, AgentStatus};
use crate::patch::{Patch, nullable, whole_number};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub role: AgentRole,
    pub title: Option<String>,
    pub icon: Option<String>,
    pub status: AgentStatus,
    pub reports_to: Option<Uuid>,
    pub capabilities: Option<String>,
    pub adapter_type: String,
    /// Sensitive plain values in `env` read as `***REDACTED***` (see `crate::env`).
    #[schema(value_type = Object)]
    #[serde(serialize_with = "crate::env::serialize_redacted")]
    pub adapter_config: serde_json::Value,
    #[schema(value_type = Object)]
    pub runtime_config: serde_json::Value,
    pub budget_monthly_cents: i64,
    pub spent_monthly_cents: i64,
    /// The monthly budget in tokens (input, cached input and output together; 0: none).
    #[serde(default)]
    pub budget_monthly_tokens: i64,
    /// Tokens spent in the current UTC month.
    #[serde(default)]
    pub spent_monthly_tokens: i64,
    pub pause_reason: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub permissions: serde_json::Value,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgent {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    pub role: Option<AgentRole>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 200)]
    pub icon: Option<String>,
    pub reports_to: Option<Uuid>,
    #[schema(max_length = 100000)]
    pub capabilities: Option<String>,
    /// A supported adapter type (process, …); another one is a 422 `unknown_adapter_type`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub adapter_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub adapter_config: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(value_type = Option<Object>)]
    pub runtime_config: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_cents: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_tokens: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub permissions: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAgent {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    pub role: Option<AgentRole>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub title: Patch<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub icon: Patch<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub reports_to: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100000)]
    pub capabilities: Patch<String>,
    /// A supported adapter type (process, …); another one is a 422 `unknown_adapter_type`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub adapter_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub adapter_config: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(value_type = Option<Object>)]
    pub runtime_config: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_cents: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_tokens: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub permissions: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One link of `chainOfCommand`: a manager above the agent, nearest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainLink {
    pub id: Uuid,
    pub name: String,
    pub role: AgentRole,
    pub title: Option<String>,
}

/// `GET /api/agents/me`: the agent plus its chain of command.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentMe {
    #[serde(flatten)]
    pub agent: Agent,
    pub chain_of_command: Vec<ChainLink>,
}

/// A node of `GET /api/companies/:id/org`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgNode {
    pub id: Uuid,
    pub name: String,
    pub role: AgentRole,
    pub title: Option<String>,
    pub status: AgentStatus,
    #[schema(no_recursion)]
    pub reports: Vec<OrgNode>,
}

/// An agent API key as listed: never the token or its hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentKey {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub name: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The answer to creating a key: the plaintext `token`, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAgentKey {
    pub id: Uuid,
    pub name: String,
    pub token: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgentKey {
    /// Default `default`.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PauseAgent {
    /// Default `manual`.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::ProjectStatus;
use crate::patch::{Patch, nullable};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: Uuid,
    pub company_id: Uuid,
    pub goal_id: Option<Uuid>,
    pub name: String,
    pub description: Option<String>,
    pub status: ProjectStatus,
    pub lead_agent_id: Option<Uuid>,
    /// A calendar date, `YYYY-MM-DD`.
    pub target_date: Option<String>,
    pub color: Option<String>,
    /// Environment bindings for runs in this project (values or secret references); sensitive
    /// plain values read as `***REDACTED***` (see `crate::env`).
    #[schema(value_type = Object)]
    #[serde(serialize_with = "crate::env::serialize_redacted_env")]
    pub env: serde_json::Value,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateProject {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[schema(max_length = 100000)]
    pub description: Option<String>,
    pub status: Option<ProjectStatus>,
    pub goal_id: Option<Uuid>,
    pub lead_agent_id: Option<Uuid>,
    #[schema(format = Date)]
    pub target_date: Option<String>,
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub env: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProject {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100000)]
    pub description: Patch<String>,
    pub status: Option<ProjectStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub goal_id: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub lead_agent_id: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    pub target_date: Patch<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: Patch<String>,
    #[schema(value_type = Option<Object>)]
    pub env: Option<serde_json::Map<String, serde_json::Value>>,
}

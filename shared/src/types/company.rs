use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::{CompanyStatus, GoalLevel, GoalStatus};
use crate::patch::{Patch, nullable, whole_number};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub status: CompanyStatus,
    pub issue_prefix: String,
    pub issue_counter: i64,
    pub budget_monthly_cents: i64,
    pub spent_monthly_cents: i64,
    /// The monthly budget in tokens (input, cached input and output together; 0: none).
    #[serde(default)]
    pub budget_monthly_tokens: i64,
    /// Tokens spent in the current UTC month.
    #[serde(default)]
    pub spent_monthly_tokens: i64,
    pub require_board_approval_for_new_agents: bool,
    pub brand_color: Option<String>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCompany {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[schema(max_length = 100000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_cents: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_tokens: Option<i64>,
    pub require_board_approval_for_new_agents: Option<bool>,
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub brand_color: Option<String>,
    /// A company goal created with the company, as the onboarding flow does.
    #[schema(max_length = 500)]
    pub goal: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCompany {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100000)]
    pub description: Patch<String>,
    pub status: Option<CompanyStatus>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_cents: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_monthly_tokens: Option<i64>,
    pub require_board_approval_for_new_agents: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^#[0-9a-fA-F]{6}$")]
    pub brand_color: Patch<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Goal {
    pub id: Uuid,
    pub company_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub level: GoalLevel,
    pub status: GoalStatus,
    pub parent_id: Option<Uuid>,
    pub owner_agent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateGoal {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 100000)]
    pub description: Option<String>,
    pub level: Option<GoalLevel>,
    pub status: Option<GoalStatus>,
    pub parent_id: Option<Uuid>,
    pub owner_agent_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateGoal {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100000)]
    pub description: Patch<String>,
    pub level: Option<GoalLevel>,
    pub status: Option<GoalStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Patch<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_agent_id: Patch<Uuid>,
}

//! Every table of an instance, in dependency order (a row's references come before it), with
//! the logical type of each column. Both schemas must match this list; a unit test and the
//! copy itself check it, so a migration that adds a column cannot be silently left behind.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Uuid,
    Int,
    Bool,
    Time,
    Json,
}

pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// A column referring to the same table (a parent): written NULL first and set once every
    /// row is in, so rows can arrive in any order.
    pub self_ref: Option<&'static str>,
    /// The primary key columns (the self reference is set by them).
    pub key: &'static [&'static str],
}

use Kind::*;

pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        self_ref: None,
        key: &["id"],
        columns: &[
            ("id", Text),
            ("name", Text),
            ("email", Text),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "instance_user_roles",
        self_ref: None,
        key: &["user_id", "role"],
        columns: &[("user_id", Text), ("role", Text), ("created_at", Time)],
    },
    Table {
        name: "companies",
        self_ref: None,
        key: &["id"],
        columns: &[
            ("id", Uuid),
            ("name", Text),
            ("description", Text),
            ("status", Text),
            ("issue_prefix", Text),
            ("issue_counter", Int),
            ("issue_count", Int),
            ("budget_monthly_cents", Int),
            ("spent_monthly_cents", Int),
            ("require_board_approval_for_new_agents", Bool),
            ("brand_color", Text),
            ("archived_at", Time),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "agents",
        self_ref: Some("reports_to"),
        key: &["id"],
        columns: &[
            ("id", Uuid),
            ("company_id", Uuid),
            ("name", Text),
            ("role", Text),
            ("title", Text),
            ("icon", Text),
            ("status", Text),
            ("reports_to", Uuid),
            ("capabilities", Text),
            ("adapter_type", Text),
            ("adapter_config", Json),
            ("runtime_config", Json),
            ("budget_monthly_cents", Int),
            ("spent_monthly_cents", Int),
            ("pause_reason", Text),
            ("paused_at", Time),
            ("permissions", Json),
            ("last_heartbeat_at", Time),
            ("metadata", Json),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "agent_api_keys",
        self_ref: None,
        key: &["id"],
        columns: &[
            ("id", Uuid),
            ("agent_id", Uuid),
            ("company_id", Uuid),
            ("name", Text),
            ("key_hash", Text),
            ("last_used_at", Time),
            ("revoked_at", Time),
            ("created_at", Time),
        ],
    },
    Table {
        name: "goals",
        self_ref: Some("parent_id"),
        key: &["id"],
        columns: &[
            ("id", Uuid),
            ("company_id", Uuid),
            ("title", Text),
            ("description", Text),
            ("level", Text),
            ("status", Text),
            ("parent_id", Uuid),
            ("owner_agent_id", Uuid),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "projects",
        self_ref: None,
        key: &["id"],
        columns: &[
            ("id", Uuid),
            ("company_id", Uuid),
            ("goal_id", Uuid),
            ("name", Text),
            ("description", Text),
            ("status", Text),
            ("lead_agent_id", Uuid),
            ("target_date", Text),
            ("color", Text),
            ("env", Json),
            ("archived_at", Time),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "issues",
        self_ref: Some("parent_id"),
        key: &["id"],
        columns: &[
            ("id", Uuid),
            ("company_id", Uuid),
            ("project_id", Uuid),
            ("goal_id", Uuid),
            ("parent_id", Uuid),
            ("title", Text),
            ("description", Text),
            ("status", Text),
            ("priority", Text),
            ("assignee_agent_id", Uuid),
            ("assignee_user_id", Text),
            ("checkout_run_id", Uuid),
            ("execution_run_id", Uuid),
            ("execution_agent_name_key", Text),
            ("execution_locked_at", Time),
            ("created_by_agent_id", Uuid),
            ("created_by_user_id", Text),
            ("issue_number", Int),
            ("identifier", Text),
            ("request_depth", Int),
            ("billing_code", Text),
            ("idempotency_key", Text),
            ("started_at", Time),
            ("completed_at", Time),
            ("cancelled_at", Time),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "issue_blockers",
        self_ref: None,
        key: &["issue_id", "blocker_issue_id"],
        columns: &[
            ("issue_id", Uuid),
            ("blocker_issue_id", Uuid),
            ("company_id", Uuid),
            ("created_at", Time),
        ],
    },
    Table {
        name: "issue_comments",
        self_ref: None,
        key: &["id"],
        columns: &[
            ("id", Uuid),
            ("company_id", Uuid),
            ("issue_id", Uuid),
            ("author_agent_id", Uuid),
            ("author_user_id", Text),
            ("body", Text),
            ("created_by_run_id", Uuid),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "activity_log",
        self_ref: None,
        key: &["seq"],
        columns: &[
            ("seq", Int),
            ("id", Uuid),
            ("company_id", Uuid),
            ("actor_type", Text),
            ("actor_id", Text),
            ("action", Text),
            ("entity_type", Text),
            ("entity_id", Text),
            ("agent_id", Uuid),
            ("run_id", Uuid),
            ("details", Json),
            ("created_at", Time),
        ],
    },
];

impl Table {
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

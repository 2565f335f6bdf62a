//! Every enum of the wire contract, with Paperclip's exact values.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(CompanyStatus { Active = "active", Paused = "paused", Archived = "archived" });

wire_enum!(GoalLevel { Company = "company", Team = "team", Agent = "agent", Task = "task" });

wire_enum!(GoalStatus {
    Planned = "planned",
    Active = "active",
    Achieved = "achieved",
    Cancelled = "cancelled",
});

wire_enum!(ProjectStatus {
    Backlog = "backlog",
    Planned = "planned",
    InProgress = "in_progress",
    Completed = "completed",
    Cancelled = "cancelled",
});

wire_enum!(AgentRole {
    Ceo = "ceo",
    Cto = "cto",
    Cmo = "cmo",
    Cfo = "cfo",
    Security = "security",
    Engineer = "engineer",
    Designer = "designer",
    Pm = "pm",
    Qa = "qa",
    Devops = "devops",
    Researcher = "researcher",
    General = "general",
});

wire_enum!(AgentStatus {
    Active = "active",
    Paused = "paused",
    Idle = "idle",
    Running = "running",
    Error = "error",
    PendingApproval = "pending_approval",
    Terminated = "terminated",
});

impl AgentStatus {
    /// Agents in these states may not authenticate: their keys answer 401.
    pub fn can_authenticate(self) -> bool {
        !matches!(self, AgentStatus::Terminated | AgentStatus::PendingApproval)
    }
}

wire_enum!(IssueStatus {
    Backlog = "backlog",
    Todo = "todo",
    InProgress = "in_progress",
    InReview = "in_review",
    Done = "done",
    Blocked = "blocked",
    Cancelled = "cancelled",
});

impl IssueStatus {
    /// `done` and `cancelled` are closed: left only by reopening.
    pub fn is_closed(self) -> bool {
        matches!(self, IssueStatus::Done | IssueStatus::Cancelled)
    }
}

wire_enum!(IssuePriority { Critical = "critical", High = "high", Medium = "medium", Low = "low" });

wire_enum!(ActorType { Agent = "agent", User = "user", System = "system" });

/// Adapter types this server can run. Paperclip knows more; an agent created with one of
/// those is refused with `unknown_adapter_type` rather than stored and never run.
pub const SUPPORTED_ADAPTER_TYPES: &[&str] = &["process", "http", "claude_local", "codex_local"];

wire_enum!(
    /// A person's role in a company. Paperclip's legacy `member` reads as `operator`.
    MemberRole { Owner = "owner", Admin = "admin", Operator = "operator", Viewer = "viewer" }
);

impl MemberRole {
    /// Reads a stored or requested role, accepting Paperclip's legacy `member`.
    pub fn parse_lenient(text: &str) -> Option<Self> {
        match text {
            "member" => Some(MemberRole::Operator),
            other => Self::parse(other),
        }
    }

    /// May invite people and manage invites (Paperclip's `users:invite`).
    pub fn can_invite(self) -> bool {
        matches!(self, MemberRole::Owner | MemberRole::Admin)
    }

    /// May see and change members (Paperclip's `users:manage_permissions`).
    pub fn can_manage_members(self) -> bool {
        matches!(self, MemberRole::Owner)
    }
}

wire_enum!(MembershipStatus {
    Pending = "pending",
    Active = "active",
    Suspended = "suspended",
    Archived = "archived"
});

wire_enum!(SecretStatus { Active = "active", Disabled = "disabled", Archived = "archived" });

wire_enum!(InviteType { CompanyJoin = "company_join", BootstrapCeo = "bootstrap_ceo" });

wire_enum!(JoinTypes { Human = "human", Agent = "agent", Both = "both" });

wire_enum!(RunStatus {
    Queued = "queued",
    Running = "running",
    Succeeded = "succeeded",
    Failed = "failed",
    Cancelled = "cancelled",
    TimedOut = "timed_out",
    ScheduledRetry = "scheduled_retry",
    Interrupted = "interrupted",
});

impl RunStatus {
    /// A run in one of these states is over; nothing changes it again.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            RunStatus::Queued | RunStatus::Running | RunStatus::ScheduledRetry
        )
    }
}

wire_enum!(InvocationSource {
    Timer = "timer",
    Assignment = "assignment",
    OnDemand = "on_demand",
    Automation = "automation",
});

wire_enum!(
    /// How a webhook run ended, as its receiver reports it.
    CallbackStatus { Succeeded = "succeeded", Failed = "failed" }
);

wire_enum!(TriggerDetail { Manual = "manual", Ping = "ping", Callback = "callback", System = "system" });

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::{CallbackStatus, InvocationSource, RunStatus, TriggerDetail};
use chrono::{DateTime, Utc};

/// One heartbeat run: an agent woken once, through its adapter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatRun {
    pub id: Uuid,
    pub company_id: Uuid,
    pub agent_id: Uuid,
    pub invocation_source: InvocationSource,
    pub trigger_detail: Option<TriggerDetail>,
    pub status: RunStatus,
    pub wakeup_request_id: Option<Uuid>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub exit_code: Option<i64>,
    pub signal: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub usage_json: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub result_json: Option<serde_json::Value>,
    pub session_id_before: Option<String>,
    pub session_id_after: Option<String>,
    /// Where the log lives: always `database` here (any replica can read it).
    pub log_store: String,
    pub log_bytes: i64,
    pub last_output_at: Option<DateTime<Utc>>,
    pub last_output_seq: i64,
    pub process_pid: Option<i64>,
    pub process_group_id: Option<i64>,
    pub process_started_at: Option<DateTime<Utc>>,
    pub retry_of_run_id: Option<Uuid>,
    /// A run in `scheduled_retry` is queued at this time (a failed run's automatic retry).
    #[serde(default)]
    pub scheduled_retry_at: Option<DateTime<Utc>>,
    /// Which retry of the original run this is (0: not a retry).
    #[serde(default)]
    pub scheduled_retry_attempt: i64,
    /// Why it is retried: `transient_failure`.
    #[serde(default)]
    pub scheduled_retry_reason: Option<String>,
    #[schema(value_type = Object)]
    pub context_snapshot: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The server process executing the run (host name), for orphan reaping; not on the wire.
    #[serde(skip)]
    pub runner_host: Option<String>,
    #[serde(skip)]
    pub runner_pid: Option<i64>,
}

impl HeartbeatRun {
    /// A run not started yet, in `status`: nothing ran, nothing is logged, no retry of anything.
    pub fn not_started(
        agent: (Uuid, Uuid),
        invocation_source: InvocationSource,
        trigger_detail: Option<TriggerDetail>,
        status: RunStatus,
        context_snapshot: serde_json::Value,
        at: DateTime<Utc>,
    ) -> HeartbeatRun {
        let (company_id, agent_id) = agent;
        HeartbeatRun {
            id: Uuid::new_v4(),
            company_id,
            agent_id,
            invocation_source,
            trigger_detail,
            status,
            wakeup_request_id: None,
            started_at: None,
            finished_at: None,
            error: None,
            error_code: None,
            exit_code: None,
            signal: None,
            usage_json: None,
            result_json: None,
            session_id_before: None,
            session_id_after: None,
            log_store: "database".into(),
            log_bytes: 0,
            last_output_at: None,
            last_output_seq: 0,
            process_pid: None,
            process_group_id: None,
            process_started_at: None,
            retry_of_run_id: None,
            scheduled_retry_at: None,
            scheduled_retry_attempt: 0,
            scheduled_retry_reason: None,
            context_snapshot,
            created_at: at,
            updated_at: at,
            runner_host: None,
            runner_pid: None,
        }
    }
}

/// A range of a run's log: NDJSON lines `{"ts","stream","chunk","seq"}` from byte `offset`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunLog {
    pub run_id: Uuid,
    pub store: String,
    pub log_ref: String,
    pub content: String,
    /// Where the next read starts; absent at the end of what is written so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<i64>,
}

/// One lifecycle or adapter event of a run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    pub id: i64,
    pub company_id: Uuid,
    pub run_id: Uuid,
    pub agent_id: Uuid,
    pub seq: i64,
    pub event_type: String,
    pub stream: Option<String>,
    pub level: Option<String>,
    pub message: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// `POST /agents/:id/wakeup` (and the legacy invoke's body).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WakeAgent {
    pub source: Option<InvocationSource>,
    pub trigger_detail: Option<TriggerDetail>,
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(max_length = 500)]
    pub idempotency_key: Option<String>,
    pub force_fresh_session: Option<bool>,
}

/// The answer to a wake that started no run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WakeSkipped {
    pub status: SkippedStatus,
    /// Why (`agent.paused`, `budget.exceeded`, …); `/heartbeat/invoke` leaves it out, as
    /// Paperclip's does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The status of a wake that started no run: always `skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkippedStatus {
    Skipped,
}

/// The 202 answer to a wake: the run it queued (or joined), or why it started none.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum WakeAccepted {
    Run(Box<HeartbeatRun>),
    Skipped(WakeSkipped),
}

/// `POST /heartbeat-runs/:id/callback`: the receiver of a webhook run that answered 202
/// reports how the run ended.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunCallback {
    pub status: CallbackStatus,
    /// What was done, for the run's result (`resultJson.summary`).
    #[schema(max_length = 10000)]
    pub summary: Option<String>,
    /// Why it failed (with `status: failed`).
    #[schema(max_length = 10000)]
    pub error: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Map<String, serde_json::Value>>,
    pub usage: Option<CallbackUsage>,
}

/// Tokens and cost a webhook run reports; stored on the run and as a cost event.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackUsage {
    #[schema(minimum = 0)]
    pub input_tokens: Option<i64>,
    #[schema(minimum = 0)]
    pub cached_input_tokens: Option<i64>,
    #[schema(minimum = 0)]
    pub output_tokens: Option<i64>,
    #[schema(minimum = 0)]
    pub cost_usd: Option<f64>,
    #[schema(max_length = 200)]
    pub model: Option<String>,
    #[schema(max_length = 200)]
    pub provider: Option<String>,
}

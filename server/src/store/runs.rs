//! Heartbeat runs as stored: the run row, its log lines and events, the wake-ups that asked
//! for it, the adapter session it resumes, and the cost event of its usage. A run's end is one
//! transaction: its status, the issue locks it held, the agent's status, its session and its
//! cost event change together.

use async_trait::async_trait;
use paperclip_shared::*;
use serde_json::Value;
use uuid::Uuid;

use super::StoreResult;

/// A wake-up request, kept with what became of it.
#[derive(Debug, Clone)]
pub struct WakeupRecord {
    pub id: Uuid,
    pub company_id: Uuid,
    pub agent_id: Uuid,
    pub source: InvocationSource,
    pub trigger_detail: Option<TriggerDetail>,
    pub reason: Option<String>,
    pub payload: Option<Value>,
    /// queued, coalesced or skipped.
    pub status: String,
    pub coalesced_count: i64,
    pub requested_by_actor_type: Option<String>,
    pub requested_by_actor_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub run_id: Option<Uuid>,
    pub error: Option<String>,
    pub requested_at: Timestamp,
}

/// One NDJSON line of a run's log and where it starts in the whole log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub seq: i64,
    pub start_offset: i64,
    pub line: String,
}

/// A run's lifecycle or adapter event, to insert (its `id` is assigned by the database).
#[derive(Debug, Clone)]
pub struct RunEventDraft {
    pub company_id: Uuid,
    pub run_id: Uuid,
    pub agent_id: Uuid,
    pub seq: i64,
    pub event_type: String,
    pub stream: Option<String>,
    pub level: Option<String>,
    pub message: Option<String>,
    pub payload: Option<Value>,
    pub created_at: Timestamp,
}

/// The session an agent resumes for one task with one adapter.
#[derive(Debug, Clone)]
pub struct TaskSessionRecord {
    pub id: Uuid,
    pub company_id: Uuid,
    pub agent_id: Uuid,
    pub adapter_type: String,
    pub task_key: String,
    pub session_params_json: Option<Value>,
    pub session_display_id: Option<String>,
    pub last_run_id: Option<Uuid>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a run's end does to the task session.
#[derive(Debug, Clone)]
pub enum SessionChange {
    Keep,
    /// Upserted by (company, agent, adapter, task key).
    Save(TaskSessionRecord),
    Clear {
        agent_id: Uuid,
        adapter_type: String,
        task_key: String,
    },
}

#[derive(Debug, Clone)]
pub struct CostEventRecord {
    pub id: Uuid,
    pub company_id: Uuid,
    pub agent_id: Uuid,
    pub issue_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub heartbeat_run_id: Option<Uuid>,
    pub provider: String,
    pub biller: Option<String>,
    pub billing_type: String,
    pub model: Option<String>,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    /// Reported dollars; None when unpriced (then `estimated_cost_cents` says what it is).
    pub cost_cents: Option<i64>,
    /// `reported` or `unpriced`.
    pub cost_status: String,
    pub estimated_cost_cents: i64,
    /// Where the estimate came from: `price_table:<version>` or `adapter`.
    pub price_source: Option<String>,
    pub occurred_at: Timestamp,
}

/// A run's end, written at once.
#[derive(Debug, Clone)]
pub struct RunFinish {
    pub run_id: Uuid,
    pub agent_id: Uuid,
    pub status: RunStatus,
    pub finished_at: Timestamp,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub exit_code: Option<i64>,
    pub signal: Option<String>,
    pub usage_json: Option<Value>,
    pub result_json: Option<Value>,
    pub session_id_after: Option<String>,
    /// The agent's status when no other run of it is still running (and it is not paused
    /// or terminated): idle after success, error after a failure.
    pub agent_status: AgentStatus,
    pub session: SessionChange,
    pub cost: Option<CostEventRecord>,
    pub event: Option<RunEventDraft>,
    pub activity: Vec<ActivityEntry>,
}

/// Claiming a queued run for this server process.
#[derive(Debug, Clone)]
pub struct RunClaim {
    pub run_id: Uuid,
    pub agent_id: Uuid,
    pub runner_host: String,
    pub runner_pid: i64,
    pub now: Timestamp,
    /// The issue whose execution lock the run takes (when its agent is the assignee).
    pub issue_id: Option<Uuid>,
    pub agent_name_key: String,
    /// The agent's limit of runs at once (`maxConcurrentRuns`): the claim fails while that
    /// many of its runs are running. Checked in the claim's transaction, so two servers (or
    /// two tasks of one) cannot both take the last place.
    pub max_running: i64,
}

#[async_trait]
pub trait RunStore: Send + Sync + 'static {
    /// Inserts a queued run with the wake-up that asked for it. With `alone`, only if the
    /// agent has no queued run of the same task (`taskKey` of the context, absent alike):
    /// false then, and the wake should merge into that run instead.
    async fn queue_run(
        &self,
        run: HeartbeatRun,
        wakeup: WakeupRecord,
        activity: Vec<ActivityEntry>,
        alone: bool,
    ) -> StoreResult<bool>;
    /// A wake-up that started no run of its own (skipped, or coalesced into `wakeup.run_id`).
    async fn insert_wakeup(&self, wakeup: WakeupRecord) -> StoreResult<()>;
    /// Merges a wake into a run still queued: its context becomes `context` if it still is
    /// `expected` (a compare-and-set, so concurrent merges cannot overwrite each other).
    /// False when the run is no longer queued or its context changed.
    async fn coalesce_into_run(
        &self,
        run_id: Uuid,
        expected: Value,
        context: Value,
        wakeup: WakeupRecord,
    ) -> StoreResult<bool>;
    /// Inserts a failed run's retry (status `scheduled_retry`) with `event` on the failed run.
    async fn schedule_retry(&self, retry: HeartbeatRun, event: RunEventDraft) -> StoreResult<()>;
    /// Retries whose time has come, oldest first.
    async fn due_retries(&self, now: Timestamp) -> StoreResult<Vec<HeartbeatRun>>;
    /// scheduled_retry → queued; false when it was no longer waiting (cancelled meanwhile).
    async fn promote_retry(&self, run_id: Uuid, now: Timestamp) -> StoreResult<bool>;
    /// The agent's queued and running runs, oldest first.
    async fn open_runs_of_agent(&self, agent_id: Uuid) -> StoreResult<Vec<HeartbeatRun>>;
    /// Every queued or running run of the instance, oldest first.
    async fn open_runs(&self) -> StoreResult<Vec<HeartbeatRun>>;
    /// queued → running for this process; the agent becomes `running` and the issue's
    /// execution lock is stamped. None when the run was no longer queued, or when the agent
    /// already has `max_running` runs running.
    async fn claim_run(&self, claim: RunClaim) -> StoreResult<Option<HeartbeatRun>>;
    async fn set_run_process(
        &self,
        run_id: Uuid,
        pid: i64,
        pgid: i64,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Appends log lines; `log_bytes` is the log's new total length.
    async fn append_run_log(
        &self,
        run_id: Uuid,
        lines: Vec<LogLine>,
        log_bytes: i64,
        last_output_at: Timestamp,
    ) -> StoreResult<()>;
    async fn insert_run_event(&self, event: RunEventDraft) -> StoreResult<()>;
    /// Ends a run still queued or running, releasing every issue lock it holds, in one
    /// transaction. None when it had already ended (its first end stands).
    async fn finish_run(&self, finish: RunFinish) -> StoreResult<Option<HeartbeatRun>>;
    async fn get_run(&self, id: Uuid) -> StoreResult<Option<HeartbeatRun>>;
    /// Newest first.
    async fn list_runs(
        &self,
        company_id: Uuid,
        agent_id: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<HeartbeatRun>>;
    /// The lines overlapping bytes `[offset, offset + limit)`, in order.
    async fn run_log(&self, run_id: Uuid, offset: i64, limit: i64) -> StoreResult<Vec<LogLine>>;
    async fn run_events(
        &self,
        run_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<RunEvent>>;
    async fn task_session(
        &self,
        agent_id: Uuid,
        adapter_type: String,
        task_key: String,
    ) -> StoreResult<Option<TaskSessionRecord>>;
    /// The timer's claim on an agent's heartbeat: sets `last_heartbeat_at` to `now` if it is
    /// still `previous`. False when another tick (or replica) took it first.
    async fn claim_timer_heartbeat(
        &self,
        agent_id: Uuid,
        previous: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Agents of active companies whose timer is on (`runtimeConfig.heartbeat.enabled`, an
    /// `intervalSec` above 0) and due at `at`: `intervalSec` since their last heartbeat (or
    /// their creation). Filtered in the database, so a tick over many agents stays cheap.
    async fn due_timer_agents(&self, at: Timestamp) -> StoreResult<Vec<Agent>>;
}

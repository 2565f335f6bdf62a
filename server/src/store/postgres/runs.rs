//! Heartbeat runs, their log lines and events, wake-ups, task sessions and cost events
//! (PostgreSQL). Every rule that must hold across replicas is one conditional statement:
//! a claim moves a run from `queued` only once, a finish ends it only once.

use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::rows::enumeration;
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

fn run_from(r: &PgRow) -> R<HeartbeatRun> {
    let trigger: Option<String> = r.try_get("trigger_detail")?;
    Ok(HeartbeatRun {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        agent_id: r.try_get("agent_id")?,
        invocation_source: enumeration(r, "invocation_source", InvocationSource::parse)?,
        trigger_detail: trigger.as_deref().and_then(TriggerDetail::parse),
        status: enumeration(r, "status", RunStatus::parse)?,
        wakeup_request_id: r.try_get("wakeup_request_id")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        error: r.try_get("error")?,
        error_code: r.try_get("error_code")?,
        exit_code: r.try_get("exit_code")?,
        signal: r.try_get("signal")?,
        usage_json: r.try_get("usage_json")?,
        result_json: r.try_get("result_json")?,
        session_id_before: r.try_get("session_id_before")?,
        session_id_after: r.try_get("session_id_after")?,
        log_store: "database".into(),
        log_bytes: r.try_get("log_bytes")?,
        last_output_at: r.try_get("last_output_at")?,
        last_output_seq: r.try_get("last_output_seq")?,
        process_pid: r.try_get("process_pid")?,
        process_group_id: r.try_get("process_group_id")?,
        process_started_at: r.try_get("process_started_at")?,
        retry_of_run_id: r.try_get("retry_of_run_id")?,
        scheduled_retry_at: r.try_get("scheduled_retry_at")?,
        scheduled_retry_attempt: r.try_get("scheduled_retry_attempt")?,
        scheduled_retry_reason: r.try_get("scheduled_retry_reason")?,
        context_snapshot: r.try_get("context_snapshot")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        runner_host: r.try_get("runner_host")?,
        runner_pid: r.try_get("runner_pid")?,
    })
}

pub async fn insert_run(c: &mut PgConnection, r: &HeartbeatRun) -> R<()> {
    sqlx::query(
        "INSERT INTO heartbeat_runs (id, company_id, agent_id, invocation_source, trigger_detail,
            status, wakeup_request_id, session_id_before, retry_of_run_id, context_snapshot,
            created_at, updated_at, scheduled_retry_at, scheduled_retry_attempt,
            scheduled_retry_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(r.id)
    .bind(r.company_id)
    .bind(r.agent_id)
    .bind(r.invocation_source.as_str())
    .bind(r.trigger_detail.map(|t| t.as_str()))
    .bind(r.status.as_str())
    .bind(r.wakeup_request_id)
    .bind(&r.session_id_before)
    .bind(r.retry_of_run_id)
    .bind(&r.context_snapshot)
    .bind(r.created_at)
    .bind(r.updated_at)
    .bind(r.scheduled_retry_at)
    .bind(r.scheduled_retry_attempt)
    .bind(&r.scheduled_retry_reason)
    .execute(c)
    .await?;
    Ok(())
}

/// Whether the run's agent has a queued run of the same task (`taskKey`, absent alike). Takes
/// the agent's row lock first, so two wakes of one task cannot both find none and queue two.
pub async fn queued_task_exists(c: &mut PgConnection, run: &HeartbeatRun) -> R<bool> {
    sqlx::query("SELECT 1 FROM agents WHERE id = $1 FOR NO KEY UPDATE")
        .bind(run.agent_id)
        .execute(&mut *c)
        .await?;
    let queued: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT context_snapshot FROM heartbeat_runs WHERE agent_id = $1 AND status = 'queued'",
    )
    .bind(run.agent_id)
    .fetch_all(&mut *c)
    .await?;
    let key = run.context_snapshot.get("taskKey");
    Ok(queued.iter().any(|context| context.get("taskKey") == key))
}

pub async fn insert_wakeup(c: &mut PgConnection, w: &WakeupRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO agent_wakeup_requests (id, company_id, agent_id, source, trigger_detail,
            reason, payload, status, coalesced_count, requested_by_actor_type,
            requested_by_actor_id, idempotency_key, run_id, error, requested_at, created_at,
            updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $15)",
    )
    .bind(w.id)
    .bind(w.company_id)
    .bind(w.agent_id)
    .bind(w.source.as_str())
    .bind(w.trigger_detail.map(|t| t.as_str()))
    .bind(&w.reason)
    .bind(&w.payload)
    .bind(&w.status)
    .bind(w.coalesced_count)
    .bind(&w.requested_by_actor_type)
    .bind(&w.requested_by_actor_id)
    .bind(&w.idempotency_key)
    .bind(w.run_id)
    .bind(&w.error)
    .bind(w.requested_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn coalesce(
    c: &mut PgConnection,
    run_id: Uuid,
    expected: &serde_json::Value,
    context: &serde_json::Value,
    at: Timestamp,
) -> R<bool> {
    let n = sqlx::query(
        "UPDATE heartbeat_runs SET context_snapshot = $2, updated_at = $3
         WHERE id = $1 AND status = 'queued' AND context_snapshot = $4",
    )
    .bind(run_id)
    .bind(context)
    .bind(at)
    .bind(expected)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn open_runs(c: &mut PgConnection, agent: Option<Uuid>) -> R<Vec<HeartbeatRun>> {
    sqlx::query(
        "SELECT * FROM heartbeat_runs WHERE status IN ('queued', 'running')
           AND ($1::uuid IS NULL OR agent_id = $1)
         ORDER BY created_at, id",
    )
    .bind(agent)
    .try_map(|r: PgRow| run_from(&r))
    .fetch_all(c)
    .await
}

pub async fn due_retries(c: &mut PgConnection, now: Timestamp) -> R<Vec<HeartbeatRun>> {
    sqlx::query(
        "SELECT * FROM heartbeat_runs
         WHERE status = 'scheduled_retry' AND scheduled_retry_at <= $1
         ORDER BY scheduled_retry_at, id",
    )
    .bind(now)
    .try_map(|r: PgRow| run_from(&r))
    .fetch_all(c)
    .await
}

pub async fn promote_retry(c: &mut PgConnection, run: Uuid, now: Timestamp) -> R<bool> {
    let n = sqlx::query(
        "UPDATE heartbeat_runs SET status = 'queued', updated_at = $2
         WHERE id = $1 AND status = 'scheduled_retry'",
    )
    .bind(run)
    .bind(now)
    .execute(c)
    .await?;
    Ok(n.rows_affected() > 0)
}

pub async fn get_run(c: &mut PgConnection, run: Uuid) -> R<Option<HeartbeatRun>> {
    sqlx::query("SELECT * FROM heartbeat_runs WHERE id = $1")
        .bind(run)
        .try_map(|r: PgRow| run_from(&r))
        .fetch_optional(c)
        .await
}

pub async fn list_runs(
    c: &mut PgConnection,
    company: Uuid,
    agent: Option<Uuid>,
    limit: i64,
) -> R<Vec<HeartbeatRun>> {
    sqlx::query(
        "SELECT * FROM heartbeat_runs WHERE company_id = $1 AND ($2::uuid IS NULL OR agent_id = $2)
         ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(company)
    .bind(agent)
    .bind(limit)
    .try_map(|r: PgRow| run_from(&r))
    .fetch_all(c)
    .await
}

pub async fn claim(c: &mut PgConnection, claim: &RunClaim) -> R<Option<HeartbeatRun>> {
    // The agent's row lock serialises its claims (on every replica): the count of its running
    // runs below is then the truth until this transaction ends. NO KEY UPDATE, the lock an
    // UPDATE of the row takes: it does not wait for (or block) the key-share locks that
    // inserting a wake-up or a log line referencing the agent takes.
    sqlx::query("SELECT 1 FROM agents WHERE id = $1 FOR NO KEY UPDATE")
        .bind(claim.agent_id)
        .execute(&mut *c)
        .await?;
    let running: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM heartbeat_runs WHERE agent_id = $1 AND status = 'running'",
    )
    .bind(claim.agent_id)
    .fetch_one(&mut *c)
    .await?;
    if running >= claim.max_running {
        return Ok(None);
    }
    let n = sqlx::query(
        "UPDATE heartbeat_runs SET status = 'running', started_at = COALESCE(started_at, $2),
            runner_host = $3, runner_pid = $4, updated_at = $2
         WHERE id = $1 AND status = 'queued'",
    )
    .bind(claim.run_id)
    .bind(claim.now)
    .bind(&claim.runner_host)
    .bind(claim.runner_pid)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE agents SET status = 'running', updated_at = $2
         WHERE id = $1 AND status IN ('active', 'idle', 'error', 'running')",
    )
    .bind(claim.agent_id)
    .bind(claim.now)
    .execute(&mut *c)
    .await?;
    if let Some(issue) = claim.issue_id {
        sqlx::query(
            "UPDATE issues SET execution_run_id = $2, execution_agent_name_key = $3,
                execution_locked_at = $4
             WHERE id = $1 AND assignee_agent_id = $5
               AND (execution_run_id IS NULL OR execution_run_id = $2)",
        )
        .bind(issue)
        .bind(claim.run_id)
        .bind(&claim.agent_name_key)
        .bind(claim.now)
        .bind(claim.agent_id)
        .execute(&mut *c)
        .await?;
    }
    get_run(c, claim.run_id).await
}

pub async fn set_process(
    c: &mut PgConnection,
    run: Uuid,
    pid: i64,
    pgid: i64,
    at: Timestamp,
) -> R<()> {
    sqlx::query(
        "UPDATE heartbeat_runs SET process_pid = $2, process_group_id = $3,
            process_started_at = $4, updated_at = $4 WHERE id = $1",
    )
    .bind(run)
    .bind(pid)
    .bind(pgid)
    .bind(at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn append_log(
    c: &mut PgConnection,
    run: Uuid,
    lines: &[LogLine],
    log_bytes: i64,
    at: Timestamp,
) -> R<()> {
    if !lines.is_empty() {
        sqlx::query(
            "INSERT INTO heartbeat_run_log (run_id, seq, start_offset, line)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::text[])",
        )
        .bind(run)
        .bind(lines.iter().map(|l| l.seq).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.start_offset).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.line.clone()).collect::<Vec<_>>())
        .execute(&mut *c)
        .await?;
    }
    sqlx::query(
        "UPDATE heartbeat_runs SET log_bytes = $2, last_output_at = $3,
            last_output_seq = COALESCE($4, last_output_seq) WHERE id = $1",
    )
    .bind(run)
    .bind(log_bytes)
    .bind(at)
    .bind(lines.last().map(|l| l.seq))
    .execute(c)
    .await?;
    Ok(())
}

pub async fn read_log(c: &mut PgConnection, run: Uuid, offset: i64, limit: i64) -> R<Vec<LogLine>> {
    sqlx::query(
        "SELECT seq, start_offset, line FROM heartbeat_run_log
         WHERE run_id = $1
           AND start_offset >= COALESCE((SELECT MAX(start_offset) FROM heartbeat_run_log
                                         WHERE run_id = $1 AND start_offset <= $2), 0)
           AND start_offset < $2 + $3
         ORDER BY seq",
    )
    .bind(run)
    .bind(offset)
    .bind(limit)
    .try_map(|r: PgRow| {
        Ok(LogLine {
            seq: r.try_get(0)?,
            start_offset: r.try_get(1)?,
            line: r.try_get(2)?,
        })
    })
    .fetch_all(c)
    .await
}

pub async fn insert_event(c: &mut PgConnection, e: &RunEventDraft) -> R<()> {
    sqlx::query(
        "INSERT INTO heartbeat_run_events (company_id, run_id, agent_id, seq, event_type, stream,
            level, message, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.company_id)
    .bind(e.run_id)
    .bind(e.agent_id)
    .bind(e.seq)
    .bind(&e.event_type)
    .bind(&e.stream)
    .bind(&e.level)
    .bind(&e.message)
    .bind(&e.payload)
    .bind(e.created_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn events(c: &mut PgConnection, run: Uuid, after: i64, limit: i64) -> R<Vec<RunEvent>> {
    sqlx::query(
        "SELECT * FROM heartbeat_run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(run)
    .bind(after)
    .bind(limit)
    .try_map(|r: PgRow| {
        Ok(RunEvent {
            id: r.try_get("id")?,
            company_id: r.try_get("company_id")?,
            run_id: r.try_get("run_id")?,
            agent_id: r.try_get("agent_id")?,
            seq: r.try_get("seq")?,
            event_type: r.try_get("event_type")?,
            stream: r.try_get("stream")?,
            level: r.try_get("level")?,
            message: r.try_get("message")?,
            payload: r.try_get("payload")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .fetch_all(c)
    .await
}

/// Ends the run if it is still open and releases what it held; false when it had ended.
pub async fn finish(c: &mut PgConnection, f: &RunFinish) -> R<bool> {
    // Locks in the claim's order (agent, run, issues), so a claim and a finish of the same
    // agent wait for each other instead of deadlocking.
    sqlx::query("SELECT 1 FROM agents WHERE id = $1 FOR NO KEY UPDATE")
        .bind(f.agent_id)
        .execute(&mut *c)
        .await?;
    let n = sqlx::query(
        "UPDATE heartbeat_runs SET status = $2, finished_at = $3, error = $4, error_code = $5,
            exit_code = $6, signal = $7, usage_json = $8, result_json = $9,
            session_id_after = $10, updated_at = $3
         WHERE id = $1 AND status IN ('queued', 'running', 'scheduled_retry')",
    )
    .bind(f.run_id)
    .bind(f.status.as_str())
    .bind(f.finished_at)
    .bind(&f.error)
    .bind(&f.error_code)
    .bind(f.exit_code)
    .bind(&f.signal)
    .bind(&f.usage_json)
    .bind(&f.result_json)
    .bind(&f.session_id_after)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE issues SET execution_run_id = NULL, execution_agent_name_key = NULL,
            execution_locked_at = NULL WHERE execution_run_id = $1",
    )
    .bind(f.run_id)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE issues SET checkout_run_id = NULL WHERE checkout_run_id = $1")
        .bind(f.run_id)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE agents SET
            status = CASE
                WHEN status IN ('paused', 'terminated', 'pending_approval') THEN status
                WHEN EXISTS (SELECT 1 FROM heartbeat_runs r WHERE r.agent_id = agents.id
                             AND r.status = 'running') THEN 'running'
                ELSE $2 END,
            last_heartbeat_at = $3, updated_at = $3
         WHERE id = $1",
    )
    .bind(f.agent_id)
    .bind(f.agent_status.as_str())
    .bind(f.finished_at)
    .execute(&mut *c)
    .await?;
    match &f.session {
        SessionChange::Keep => {}
        SessionChange::Save(s) => save_session(c, s).await?,
        SessionChange::Clear {
            agent_id,
            adapter_type,
            task_key,
        } => {
            sqlx::query(
                "DELETE FROM agent_task_sessions
                 WHERE agent_id = $1 AND adapter_type = $2 AND task_key = $3",
            )
            .bind(agent_id)
            .bind(adapter_type)
            .bind(task_key)
            .execute(&mut *c)
            .await?;
        }
    }
    if let Some(cost) = &f.cost {
        super::costs::record(c, cost, &month_of(f.finished_at)).await?;
    }
    if let Some(event) = &f.event {
        insert_event(c, event).await?;
    }
    Ok(true)
}

async fn save_session(c: &mut PgConnection, s: &TaskSessionRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO agent_task_sessions (id, company_id, agent_id, adapter_type, task_key,
            session_params_json, session_display_id, last_run_id, last_error, created_at,
            updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (company_id, agent_id, adapter_type, task_key) DO UPDATE SET
            session_params_json = excluded.session_params_json,
            session_display_id = excluded.session_display_id,
            last_run_id = excluded.last_run_id, last_error = excluded.last_error,
            updated_at = excluded.updated_at",
    )
    .bind(s.id)
    .bind(s.company_id)
    .bind(s.agent_id)
    .bind(&s.adapter_type)
    .bind(&s.task_key)
    .bind(&s.session_params_json)
    .bind(&s.session_display_id)
    .bind(s.last_run_id)
    .bind(&s.last_error)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn task_session(
    c: &mut PgConnection,
    agent: Uuid,
    adapter: &str,
    task_key: &str,
) -> R<Option<TaskSessionRecord>> {
    sqlx::query(
        "SELECT * FROM agent_task_sessions WHERE agent_id = $1 AND adapter_type = $2 AND task_key = $3",
    )
    .bind(agent)
    .bind(adapter)
    .bind(task_key)
    .try_map(|r: PgRow| {
        Ok(TaskSessionRecord {
            id: r.try_get("id")?,
            company_id: r.try_get("company_id")?,
            agent_id: r.try_get("agent_id")?,
            adapter_type: r.try_get("adapter_type")?,
            task_key: r.try_get("task_key")?,
            session_params_json: r.try_get("session_params_json")?,
            session_display_id: r.try_get("session_display_id")?,
            last_run_id: r.try_get("last_run_id")?,
            last_error: r.try_get("last_error")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .fetch_optional(c)
    .await
}

pub async fn claim_timer(
    c: &mut PgConnection,
    agent: Uuid,
    previous: Option<Timestamp>,
    now: Timestamp,
) -> R<bool> {
    let n = sqlx::query(
        "UPDATE agents SET last_heartbeat_at = $3
         WHERE id = $1 AND last_heartbeat_at IS NOT DISTINCT FROM $2",
    )
    .bind(agent)
    .bind(previous)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn due_timer_agents(c: &mut PgConnection, at: Timestamp) -> R<Vec<Agent>> {
    // A non-numeric intervalSec counts as 0 (off), as the service reads it.
    sqlx::query(
        "SELECT a.* FROM (
             SELECT a.*, CASE WHEN jsonb_typeof(a.runtime_config -> 'heartbeat' -> 'intervalSec') = 'number'
                              THEN (a.runtime_config -> 'heartbeat' ->> 'intervalSec')::float8
                              ELSE 0 END AS interval_sec
             FROM agents a JOIN companies co ON co.id = a.company_id
             WHERE co.status = 'active'
               AND a.status IN ('active', 'idle', 'running', 'error')
               AND a.runtime_config -> 'heartbeat' ->> 'enabled' = 'true'
         ) a
         WHERE a.interval_sec > 0
           AND COALESCE(a.last_heartbeat_at, a.created_at) + make_interval(secs => a.interval_sec) <= $1",
    )
    .bind(at)
    .try_map(|r: PgRow| super::rows::agent(&r))
    .fetch_all(c)
    .await
}

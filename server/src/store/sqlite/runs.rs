//! Heartbeat runs, their log lines and events, wake-ups, task sessions and cost events
//! (SQLite).

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::store::*;

fn opt_json(row: &Row, col: &str) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<String> = row.get(col)?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

fn run_from_row(row: &Row) -> rusqlite::Result<HeartbeatRun> {
    let trigger: Option<String> = row.get("trigger_detail")?;
    Ok(HeartbeatRun {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        agent_id: get_uuid(row, "agent_id")?,
        invocation_source: get_enum(row, "invocation_source", InvocationSource::parse)?,
        trigger_detail: trigger.as_deref().and_then(TriggerDetail::parse),
        status: get_enum(row, "status", RunStatus::parse)?,
        wakeup_request_id: get_opt_uuid(row, "wakeup_request_id")?,
        started_at: get_opt_ts(row, "started_at")?,
        finished_at: get_opt_ts(row, "finished_at")?,
        error: row.get("error")?,
        error_code: row.get("error_code")?,
        exit_code: row.get("exit_code")?,
        signal: row.get("signal")?,
        usage_json: opt_json(row, "usage_json")?,
        result_json: opt_json(row, "result_json")?,
        session_id_before: row.get("session_id_before")?,
        session_id_after: row.get("session_id_after")?,
        log_store: "database".into(),
        log_bytes: row.get("log_bytes")?,
        last_output_at: get_opt_ts(row, "last_output_at")?,
        last_output_seq: row.get("last_output_seq")?,
        process_pid: row.get("process_pid")?,
        process_group_id: row.get("process_group_id")?,
        process_started_at: get_opt_ts(row, "process_started_at")?,
        retry_of_run_id: get_opt_uuid(row, "retry_of_run_id")?,
        scheduled_retry_at: get_opt_ts(row, "scheduled_retry_at")?,
        scheduled_retry_attempt: row.get("scheduled_retry_attempt")?,
        scheduled_retry_reason: row.get("scheduled_retry_reason")?,
        context_snapshot: get_json(row, "context_snapshot")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
        runner_host: row.get("runner_host")?,
        runner_pid: row.get("runner_pid")?,
    })
}

pub fn insert_run(c: &Connection, r: &HeartbeatRun) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO heartbeat_runs (id, company_id, agent_id, invocation_source, trigger_detail,
            status, wakeup_request_id, session_id_before, retry_of_run_id, context_snapshot,
            created_at, updated_at, scheduled_retry_at, scheduled_retry_attempt,
            scheduled_retry_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        id(r.id),
        id(r.company_id),
        id(r.agent_id),
        r.invocation_source.as_str(),
        r.trigger_detail.map(|t| t.as_str()),
        r.status.as_str(),
        opt_id(r.wakeup_request_id),
        r.session_id_before,
        opt_id(r.retry_of_run_id),
        json(&r.context_snapshot),
        ts(r.created_at),
        ts(r.updated_at),
        opt_ts(r.scheduled_retry_at),
        r.scheduled_retry_attempt,
        r.scheduled_retry_reason,
    ])?;
    Ok(())
}

/// Whether the run's agent has a queued run of the same task (`taskKey`, absent alike). In
/// the one write transaction: no other wake can queue one meanwhile.
pub fn queued_task_exists(c: &Connection, run: &HeartbeatRun) -> rusqlite::Result<bool> {
    let mut stmt = c.prepare_cached(
        "SELECT context_snapshot FROM heartbeat_runs WHERE agent_id = ?1 AND status = 'queued'",
    )?;
    let texts = stmt
        .query_map(params![id(run.agent_id)], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let key = run.context_snapshot.get("taskKey");
    Ok(texts.iter().any(|text| {
        serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|context| context.get("taskKey") == key)
    }))
}

pub fn insert_wakeup(c: &Connection, w: &WakeupRecord) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO agent_wakeup_requests (id, company_id, agent_id, source, trigger_detail,
            reason, payload, status, coalesced_count, requested_by_actor_type,
            requested_by_actor_id, idempotency_key, run_id, error, requested_at, created_at,
            updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?15)",
    )?
    .execute(params![
        id(w.id),
        id(w.company_id),
        id(w.agent_id),
        w.source.as_str(),
        w.trigger_detail.map(|t| t.as_str()),
        w.reason,
        w.payload.as_ref().map(json),
        w.status,
        w.coalesced_count,
        w.requested_by_actor_type,
        w.requested_by_actor_id,
        w.idempotency_key,
        opt_id(w.run_id),
        w.error,
        ts(w.requested_at),
    ])?;
    Ok(())
}

pub fn coalesce(
    c: &Connection,
    run_id: Uuid,
    expected: &serde_json::Value,
    context: &serde_json::Value,
    at: Timestamp,
) -> rusqlite::Result<bool> {
    // Read and written in the one write transaction: compared as values, not as text.
    let current: Option<String> = c
        .prepare_cached(
            "SELECT context_snapshot FROM heartbeat_runs WHERE id = ?1 AND status = 'queued'",
        )?
        .query_row(params![id(run_id)], |r| r.get(0))
        .optional()?;
    let unchanged = current
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|v| &v == expected);
    if !unchanged {
        return Ok(false);
    }
    let n = c
        .prepare_cached(
            "UPDATE heartbeat_runs SET context_snapshot = ?2, updated_at = ?3
             WHERE id = ?1 AND status = 'queued'",
        )?
        .execute(params![id(run_id), json(context), ts(at)])?;
    Ok(n == 1)
}

pub fn open_runs(c: &Connection, agent: Option<Uuid>) -> rusqlite::Result<Vec<HeartbeatRun>> {
    let mut stmt = c.prepare_cached(
        "SELECT * FROM heartbeat_runs WHERE status IN ('queued', 'running')
           AND (?1 IS NULL OR agent_id = ?1)
         ORDER BY created_at, id",
    )?;
    stmt.query_map(params![opt_id(agent)], run_from_row)?
        .collect()
}

pub fn get_run(c: &Connection, run: Uuid) -> rusqlite::Result<Option<HeartbeatRun>> {
    c.prepare_cached("SELECT * FROM heartbeat_runs WHERE id = ?1")?
        .query_row(params![id(run)], run_from_row)
        .optional()
}

pub fn list_runs(
    c: &Connection,
    company: Uuid,
    agent: Option<Uuid>,
    limit: i64,
) -> rusqlite::Result<Vec<HeartbeatRun>> {
    let mut stmt = c.prepare_cached(
        "SELECT * FROM heartbeat_runs WHERE company_id = ?1 AND (?2 IS NULL OR agent_id = ?2)
         ORDER BY created_at DESC, id DESC LIMIT ?3",
    )?;
    stmt.query_map(params![id(company), opt_id(agent), limit], run_from_row)?
        .collect()
}

pub fn claim(c: &Connection, claim: &RunClaim) -> rusqlite::Result<Option<HeartbeatRun>> {
    // In the one write transaction: no other claim can start a run of this agent meanwhile.
    let running: i64 = c
        .prepare_cached(
            "SELECT COUNT(*) FROM heartbeat_runs WHERE agent_id = ?1 AND status = 'running'",
        )?
        .query_row(params![id(claim.agent_id)], |r| r.get(0))?;
    if running >= claim.max_running {
        return Ok(None);
    }
    let n = c
        .prepare_cached(
            "UPDATE heartbeat_runs SET status = 'running', started_at = COALESCE(started_at, ?2),
                runner_host = ?3, runner_pid = ?4, updated_at = ?2
             WHERE id = ?1 AND status = 'queued'",
        )?
        .execute(params![
            id(claim.run_id),
            ts(claim.now),
            claim.runner_host,
            claim.runner_pid
        ])?;
    if n == 0 {
        return Ok(None);
    }
    c.prepare_cached(
        "UPDATE agents SET status = 'running', updated_at = ?2
         WHERE id = ?1 AND status IN ('active', 'idle', 'error', 'running')",
    )?
    .execute(params![id(claim.agent_id), ts(claim.now)])?;
    if let Some(issue) = claim.issue_id {
        c.prepare_cached(
            "UPDATE issues SET execution_run_id = ?2, execution_agent_name_key = ?3,
                execution_locked_at = ?4
             WHERE id = ?1 AND assignee_agent_id = ?5
               AND (execution_run_id IS NULL OR execution_run_id = ?2)",
        )?
        .execute(params![
            id(issue),
            id(claim.run_id),
            claim.agent_name_key,
            ts(claim.now),
            id(claim.agent_id)
        ])?;
    }
    get_run(c, claim.run_id)
}

pub fn set_process(
    c: &Connection,
    run: Uuid,
    pid: i64,
    pgid: i64,
    at: Timestamp,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE heartbeat_runs SET process_pid = ?2, process_group_id = ?3,
            process_started_at = ?4, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id(run), pid, pgid, ts(at)])?;
    Ok(())
}

pub fn append_log(
    c: &Connection,
    run: Uuid,
    lines: &[LogLine],
    log_bytes: i64,
    at: Timestamp,
) -> rusqlite::Result<()> {
    let mut insert = c.prepare_cached(
        "INSERT INTO heartbeat_run_log (run_id, seq, start_offset, line) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut last_seq = None;
    for l in lines {
        insert.execute(params![id(run), l.seq, l.start_offset, l.line])?;
        last_seq = Some(l.seq);
    }
    c.prepare_cached(
        "UPDATE heartbeat_runs SET log_bytes = ?2, last_output_at = ?3,
            last_output_seq = COALESCE(?4, last_output_seq) WHERE id = ?1",
    )?
    .execute(params![id(run), log_bytes, ts(at), last_seq])?;
    Ok(())
}

pub fn read_log(
    c: &Connection,
    run: Uuid,
    offset: i64,
    limit: i64,
) -> rusqlite::Result<Vec<LogLine>> {
    // The line holding `offset` is the last one starting at or before it.
    let mut stmt = c.prepare_cached(
        "SELECT seq, start_offset, line FROM heartbeat_run_log
         WHERE run_id = ?1
           AND start_offset >= COALESCE((SELECT MAX(start_offset) FROM heartbeat_run_log
                                         WHERE run_id = ?1 AND start_offset <= ?2), 0)
           AND start_offset < ?2 + ?3
         ORDER BY seq",
    )?;
    stmt.query_map(params![id(run), offset, limit], |r| {
        Ok(LogLine {
            seq: r.get(0)?,
            start_offset: r.get(1)?,
            line: r.get(2)?,
        })
    })?
    .collect()
}

pub fn due_retries(c: &Connection, now: Timestamp) -> rusqlite::Result<Vec<HeartbeatRun>> {
    c.prepare_cached(
        "SELECT * FROM heartbeat_runs
         WHERE status = 'scheduled_retry' AND scheduled_retry_at <= ?1
         ORDER BY scheduled_retry_at, id",
    )?
    .query_map(params![ts(now)], run_from_row)?
    .collect()
}

pub fn promote_retry(c: &Connection, run: Uuid, now: Timestamp) -> rusqlite::Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE heartbeat_runs SET status = 'queued', updated_at = ?2
             WHERE id = ?1 AND status = 'scheduled_retry'",
        )?
        .execute(params![id(run), ts(now)])?;
    Ok(n > 0)
}

pub fn insert_event(c: &Connection, e: &RunEventDraft) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO heartbeat_run_events (company_id, run_id, agent_id, seq, event_type, stream,
            level, message, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id(e.company_id),
        id(e.run_id),
        id(e.agent_id),
        e.seq,
        e.event_type,
        e.stream,
        e.level,
        e.message,
        e.payload.as_ref().map(json),
        ts(e.created_at),
    ])?;
    Ok(())
}

pub fn events(
    c: &Connection,
    run: Uuid,
    after: i64,
    limit: i64,
) -> rusqlite::Result<Vec<RunEvent>> {
    let mut stmt = c.prepare_cached(
        "SELECT * FROM heartbeat_run_events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    stmt.query_map(params![id(run), after, limit], |r| {
        Ok(RunEvent {
            id: r.get("id")?,
            company_id: get_uuid(r, "company_id")?,
            run_id: get_uuid(r, "run_id")?,
            agent_id: get_uuid(r, "agent_id")?,
            seq: r.get("seq")?,
            event_type: r.get("event_type")?,
            stream: r.get("stream")?,
            level: r.get("level")?,
            message: r.get("message")?,
            payload: opt_json(r, "payload")?,
            created_at: get_ts(r, "created_at")?,
        })
    })?
    .collect()
}

/// Ends the run if it is still open and releases what it held; false when it had ended.
pub fn finish(c: &Connection, f: &RunFinish) -> rusqlite::Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE heartbeat_runs SET status = ?2, finished_at = ?3, error = ?4, error_code = ?5,
                exit_code = ?6, signal = ?7, usage_json = ?8, result_json = ?9,
                session_id_after = ?10, updated_at = ?3
             WHERE id = ?1 AND status IN ('queued', 'running', 'scheduled_retry')",
        )?
        .execute(params![
            id(f.run_id),
            f.status.as_str(),
            ts(f.finished_at),
            f.error,
            f.error_code,
            f.exit_code,
            f.signal,
            f.usage_json.as_ref().map(json),
            f.result_json.as_ref().map(json),
            f.session_id_after,
        ])?;
    if n == 0 {
        return Ok(false);
    }
    let run = id(f.run_id);
    c.prepare_cached(
        "UPDATE issues SET execution_run_id = NULL, execution_agent_name_key = NULL,
            execution_locked_at = NULL WHERE execution_run_id = ?1",
    )?
    .execute(params![run])?;
    c.prepare_cached("UPDATE issues SET checkout_run_id = NULL WHERE checkout_run_id = ?1")?
        .execute(params![run])?;
    c.prepare_cached(
        "UPDATE agents SET
            status = CASE
                WHEN status IN ('paused', 'terminated', 'pending_approval') THEN status
                WHEN EXISTS (SELECT 1 FROM heartbeat_runs r WHERE r.agent_id = agents.id
                             AND r.status = 'running') THEN 'running'
                ELSE ?2 END,
            last_heartbeat_at = ?3, updated_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![
        id(f.agent_id),
        f.agent_status.as_str(),
        ts(f.finished_at)
    ])?;
    match &f.session {
        SessionChange::Keep => {}
        SessionChange::Save(s) => save_session(c, s)?,
        SessionChange::Clear {
            agent_id,
            adapter_type,
            task_key,
        } => {
            c.prepare_cached(
                "DELETE FROM agent_task_sessions
                 WHERE agent_id = ?1 AND adapter_type = ?2 AND task_key = ?3",
            )?
            .execute(params![id(*agent_id), adapter_type, task_key])?;
        }
    }
    if let Some(cost) = &f.cost {
        super::costs::record(c, cost, &month_of(f.finished_at))?;
    }
    if let Some(event) = &f.event {
        insert_event(c, event)?;
    }
    Ok(true)
}

fn save_session(c: &Connection, s: &TaskSessionRecord) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO agent_task_sessions (id, company_id, agent_id, adapter_type, task_key,
            session_params_json, session_display_id, last_run_id, last_error, created_at,
            updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (company_id, agent_id, adapter_type, task_key) DO UPDATE SET
            session_params_json = excluded.session_params_json,
            session_display_id = excluded.session_display_id,
            last_run_id = excluded.last_run_id, last_error = excluded.last_error,
            updated_at = excluded.updated_at",
    )?
    .execute(params![
        id(s.id),
        id(s.company_id),
        id(s.agent_id),
        s.adapter_type,
        s.task_key,
        s.session_params_json.as_ref().map(json),
        s.session_display_id,
        opt_id(s.last_run_id),
        s.last_error,
        ts(s.created_at),
        ts(s.updated_at),
    ])?;
    Ok(())
}

pub fn task_session(
    c: &Connection,
    agent: Uuid,
    adapter: &str,
    task_key: &str,
) -> rusqlite::Result<Option<TaskSessionRecord>> {
    c.prepare_cached(
        "SELECT * FROM agent_task_sessions WHERE agent_id = ?1 AND adapter_type = ?2 AND task_key = ?3",
    )?
    .query_row(params![id(agent), adapter, task_key], |r| {
        Ok(TaskSessionRecord {
            id: get_uuid(r, "id")?,
            company_id: get_uuid(r, "company_id")?,
            agent_id: get_uuid(r, "agent_id")?,
            adapter_type: r.get("adapter_type")?,
            task_key: r.get("task_key")?,
            session_params_json: opt_json(r, "session_params_json")?,
            session_display_id: r.get("session_display_id")?,
            last_run_id: get_opt_uuid(r, "last_run_id")?,
            last_error: r.get("last_error")?,
            created_at: get_ts(r, "created_at")?,
            updated_at: get_ts(r, "updated_at")?,
        })
    })
    .optional()
}

pub fn claim_timer(
    c: &Connection,
    agent: Uuid,
    previous: Option<Timestamp>,
    now: Timestamp,
) -> rusqlite::Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE agents SET last_heartbeat_at = ?3
             WHERE id = ?1 AND last_heartbeat_at IS ?2",
        )?
        .execute(params![id(agent), opt_ts(previous), ts(now)])?;
    Ok(n == 1)
}

pub fn due_timer_agents(c: &Connection, at: Timestamp) -> rusqlite::Result<Vec<Agent>> {
    // Seconds since the epoch from stored RFC 3339 text: (julianday - 2440587.5) * 86400.
    let mut stmt = c.prepare_cached(
        "SELECT a.* FROM agents a JOIN companies co ON co.id = a.company_id
         WHERE co.status = 'active'
           AND a.status IN ('active', 'idle', 'running', 'error')
           AND json_extract(a.runtime_config, '$.heartbeat.enabled') = 1
           AND CAST(json_extract(a.runtime_config, '$.heartbeat.intervalSec') AS REAL) > 0
           AND (julianday(COALESCE(a.last_heartbeat_at, a.created_at)) - 2440587.5) * 86400.0
               + CAST(json_extract(a.runtime_config, '$.heartbeat.intervalSec') AS REAL)
               <= ?1",
    )?;
    let now = at.timestamp_micros() as f64 / 1e6;
    stmt.query_map([now], super::agents::agent_from_row)?
        .collect()
}

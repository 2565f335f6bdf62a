-- Heartbeat runs (SQLite). Means the same as migrations/postgres/0005_heartbeats.sql.
-- A run is a state machine: queued -> running -> succeeded|failed|cancelled|timed_out|interrupted.
-- runner_host/runner_pid name the server process that executes it, so a server starting on the
-- same machine after a crash can find the groups its predecessor left and end them.
CREATE TABLE heartbeat_runs (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    invocation_source TEXT NOT NULL,
    trigger_detail TEXT,
    status TEXT NOT NULL,
    wakeup_request_id TEXT,
    started_at TEXT,
    finished_at TEXT,
    error TEXT,
    error_code TEXT,
    exit_code INTEGER,
    signal TEXT,
    usage_json TEXT,
    result_json TEXT,
    session_id_before TEXT,
    session_id_after TEXT,
    log_bytes INTEGER NOT NULL DEFAULT 0,
    last_output_at TEXT,
    last_output_seq INTEGER NOT NULL DEFAULT 0,
    process_pid INTEGER,
    process_group_id INTEGER,
    process_started_at TEXT,
    runner_host TEXT,
    runner_pid INTEGER,
    retry_of_run_id TEXT,
    context_snapshot TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX heartbeat_runs_company_created ON heartbeat_runs(company_id, created_at);
CREATE INDEX heartbeat_runs_agent_status ON heartbeat_runs(agent_id, status);
CREATE INDEX heartbeat_runs_status ON heartbeat_runs(status);

-- The run's output as NDJSON lines {"ts","stream","chunk","seq"}; start_offset is the byte
-- offset of the line in the whole log, so a byte-range read finds its lines by index.
CREATE TABLE heartbeat_run_log (
    run_id TEXT NOT NULL REFERENCES heartbeat_runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    start_offset INTEGER NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE heartbeat_run_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    run_id TEXT NOT NULL REFERENCES heartbeat_runs(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    stream TEXT,
    level TEXT,
    message TEXT,
    payload TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, seq)
);

-- Every wake-up asked for, kept with what became of it (queued, coalesced into a run, skipped).
CREATE TABLE agent_wakeup_requests (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    trigger_detail TEXT,
    reason TEXT,
    payload TEXT,
    status TEXT NOT NULL,
    coalesced_count INTEGER NOT NULL DEFAULT 0,
    requested_by_actor_type TEXT,
    requested_by_actor_id TEXT,
    idempotency_key TEXT,
    run_id TEXT,
    requested_at TEXT NOT NULL,
    claimed_at TEXT,
    finished_at TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX agent_wakeup_requests_agent ON agent_wakeup_requests(agent_id, status);

-- An adapter session to resume, per agent, adapter and task (the issue, or __heartbeat__).
CREATE TABLE agent_task_sessions (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    adapter_type TEXT NOT NULL,
    task_key TEXT NOT NULL,
    session_params_json TEXT,
    session_display_id TEXT,
    last_run_id TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (company_id, agent_id, adapter_type, task_key)
);

-- Usage reported by runs (and later by agents): raw tokens per model and billing type.
CREATE TABLE cost_events (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    issue_id TEXT,
    project_id TEXT,
    heartbeat_run_id TEXT,
    provider TEXT NOT NULL,
    biller TEXT,
    billing_type TEXT NOT NULL,
    model TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_cents INTEGER,
    occurred_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX cost_events_company_occurred ON cost_events(company_id, occurred_at);
CREATE INDEX cost_events_agent_occurred ON cost_events(agent_id, occurred_at);

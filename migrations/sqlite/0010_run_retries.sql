-- Retries of failed runs (SQLite). Means the same as migrations/postgres/0010_run_retries.sql.
-- A retry is a run of its own in `scheduled_retry` until `scheduled_retry_at`, when the
-- scheduler queues it; `retry_of_run_id` names the run it repeats.
ALTER TABLE heartbeat_runs ADD COLUMN scheduled_retry_at TEXT;
ALTER TABLE heartbeat_runs ADD COLUMN scheduled_retry_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE heartbeat_runs ADD COLUMN scheduled_retry_reason TEXT;
CREATE INDEX heartbeat_runs_retry_due ON heartbeat_runs(scheduled_retry_at)
    WHERE status = 'scheduled_retry';

//! `RunStore` for `SqliteStore`: reads on the reader threads, each write one IMMEDIATE
//! transaction on the writer.

use async_trait::async_trait;
use paperclip_shared::*;
use serde_json::Value;
use uuid::Uuid;

use super::{SqliteStore, activity, runs};
use crate::store::*;

#[async_trait]
impl RunStore for SqliteStore {
    async fn queue_run(
        &self,
        run: HeartbeatRun,
        wakeup: WakeupRecord,
        act: Vec<ActivityEntry>,
        alone: bool,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            if alone && runs::queued_task_exists(tx, &run)? {
                return Ok(false);
            }
            runs::insert_wakeup(tx, &wakeup)?;
            runs::insert_run(tx, &run)?;
            activity::insert(tx, &act)?;
            Ok(true)
        })
        .await
    }

    async fn insert_wakeup(&self, wakeup: WakeupRecord) -> StoreResult<()> {
        self.write(move |tx| runs::insert_wakeup(tx, &wakeup)).await
    }

    async fn coalesce_into_run(
        &self,
        run_id: Uuid,
        expected: Value,
        context: Value,
        wakeup: WakeupRecord,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let merged = runs::coalesce(tx, run_id, &expected, &context, wakeup.requested_at)?;
            if merged {
                runs::insert_wakeup(tx, &wakeup)?;
            }
            Ok(merged)
        })
        .await
    }

    async fn schedule_retry(&self, retry: HeartbeatRun, event: RunEventDraft) -> StoreResult<()> {
        self.write(move |tx| {
            runs::insert_run(tx, &retry)?;
            runs::insert_event(tx, &event)
        })
        .await
    }

    async fn due_retries(&self, now: Timestamp) -> StoreResult<Vec<HeartbeatRun>> {
        self.read(move |c| runs::due_retries(c, now)).await
    }

    async fn promote_retry(&self, run_id: Uuid, now: Timestamp) -> StoreResult<bool> {
        self.write(move |tx| runs::promote_retry(tx, run_id, now))
            .await
    }

    async fn open_runs_of_agent(&self, agent_id: Uuid) -> StoreResult<Vec<HeartbeatRun>> {
        self.read(move |c| runs::open_runs(c, Some(agent_id))).await
    }

    async fn open_runs(&self) -> StoreResult<Vec<HeartbeatRun>> {
        self.read(move |c| runs::open_runs(c, None)).await
    }

    async fn claim_run(&self, claim: RunClaim) -> StoreResult<Option<HeartbeatRun>> {
        self.write(move |tx| runs::claim(tx, &claim)).await
    }

    async fn set_run_process(
        &self,
        run_id: Uuid,
        pid: i64,
        pgid: i64,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.write(move |tx| runs::set_process(tx, run_id, pid, pgid, at))
            .await
    }

    async fn append_run_log(
        &self,
        run_id: Uuid,
        lines: Vec<LogLine>,
        log_bytes: i64,
        last_output_at: Timestamp,
    ) -> StoreResult<()> {
        self.write(move |tx| runs::append_log(tx, run_id, &lines, log_bytes, last_output_at))
            .await
    }

    async fn insert_run_event(&self, event: RunEventDraft) -> StoreResult<()> {
        self.write(move |tx| runs::insert_event(tx, &event)).await
    }

    async fn finish_run(&self, finish: RunFinish) -> StoreResult<Option<HeartbeatRun>> {
        self.write(move |tx| {
            if !runs::finish(tx, &finish)? {
                return Ok(None);
            }
            activity::insert(tx, &finish.activity)?;
            runs::get_run(tx, finish.run_id)
        })
        .await
    }

    async fn get_run(&self, id: Uuid) -> StoreResult<Option<HeartbeatRun>> {
        self.read(move |c| runs::get_run(c, id)).await
    }

    async fn list_runs(
        &self,
        company_id: Uuid,
        agent_id: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<HeartbeatRun>> {
        self.read(move |c| runs::list_runs(c, company_id, agent_id, limit))
            .await
    }

    async fn run_log(&self, run_id: Uuid, offset: i64, limit: i64) -> StoreResult<Vec<LogLine>> {
        self.read(move |c| runs::read_log(c, run_id, offset, limit))
            .await
    }

    async fn run_events(
        &self,
        run_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<RunEvent>> {
        self.read(move |c| runs::events(c, run_id, after_seq, limit))
            .await
    }

    async fn task_session(
        &self,
        agent_id: Uuid,
        adapter_type: String,
        task_key: String,
    ) -> StoreResult<Option<TaskSessionRecord>> {
        self.read(move |c| runs::task_session(c, agent_id, &adapter_type, &task_key))
            .await
    }

    async fn claim_timer_heartbeat(
        &self,
        agent_id: Uuid,
        previous: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.write(move |tx| runs::claim_timer(tx, agent_id, previous, now))
            .await
    }

    async fn due_timer_agents(&self, at: Timestamp) -> StoreResult<Vec<Agent>> {
        self.read(move |c| runs::due_timer_agents(c, at)).await
    }
}

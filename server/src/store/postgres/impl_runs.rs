//! `RunStore` for `PgStore`: reads on a pooled connection, each write one transaction.

use async_trait::async_trait;
use paperclip_shared::*;
use serde_json::Value;
use uuid::Uuid;

use super::{PgStore, activity, runs};
use crate::store::*;

#[async_trait]
impl RunStore for PgStore {
    async fn queue_run(
        &self,
        run: HeartbeatRun,
        wakeup: WakeupRecord,
        act: Vec<ActivityEntry>,
        alone: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        if alone && runs::queued_task_exists(&mut tx, &run).await? {
            return Ok(false);
        }
        runs::insert_wakeup(&mut tx, &wakeup).await?;
        runs::insert_run(&mut tx, &run).await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_wakeup(&self, wakeup: WakeupRecord) -> StoreResult<()> {
        Ok(runs::insert_wakeup(&mut *self.conn().await?, &wakeup).await?)
    }

    async fn coalesce_into_run(
        &self,
        run_id: Uuid,
        expected: Value,
        context: Value,
        wakeup: WakeupRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let merged =
            runs::coalesce(&mut tx, run_id, &expected, &context, wakeup.requested_at).await?;
        if merged {
            runs::insert_wakeup(&mut tx, &wakeup).await?;
            tx.commit().await?;
        }
        Ok(merged)
    }

    async fn schedule_retry(&self, retry: HeartbeatRun, event: RunEventDraft) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        runs::insert_run(&mut tx, &retry).await?;
        runs::insert_event(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn due_retries(&self, now: Timestamp) -> StoreResult<Vec<HeartbeatRun>> {
        Ok(runs::due_retries(&mut *self.conn().await?, now).await?)
    }

    async fn promote_retry(&self, run_id: Uuid, now: Timestamp) -> StoreResult<bool> {
        Ok(runs::promote_retry(&mut *self.conn().await?, run_id, now).await?)
    }

    async fn open_runs_of_agent(&self, agent_id: Uuid) -> StoreResult<Vec<HeartbeatRun>> {
        Ok(runs::open_runs(&mut *self.conn().await?, Some(agent_id)).await?)
    }

    async fn open_runs(&self) -> StoreResult<Vec<HeartbeatRun>> {
        Ok(runs::open_runs(&mut *self.conn().await?, None).await?)
    }

    async fn claim_run(&self, claim: RunClaim) -> StoreResult<Option<HeartbeatRun>> {
        let mut tx = self.tx().await?;
        let run = runs::claim(&mut tx, &claim).await?;
        if run.is_some() {
            tx.commit().await?;
        }
        Ok(run)
    }

    async fn set_run_process(
        &self,
        run_id: Uuid,
        pid: i64,
        pgid: i64,
        at: Timestamp,
    ) -> StoreResult<()> {
        Ok(runs::set_process(&mut *self.conn().await?, run_id, pid, pgid, at).await?)
    }

    async fn append_run_log(
        &self,
        run_id: Uuid,
        lines: Vec<LogLine>,
        log_bytes: i64,
        last_output_at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        runs::append_log(&mut tx, run_id, &lines, log_bytes, last_output_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_run_event(&self, event: RunEventDraft) -> StoreResult<()> {
        Ok(runs::insert_event(&mut *self.conn().await?, &event).await?)
    }

    async fn finish_run(&self, finish: RunFinish) -> StoreResult<Option<HeartbeatRun>> {
        let mut tx = self.tx().await?;
        if !runs::finish(&mut tx, &finish).await? {
            return Ok(None);
        }
        activity::insert(&mut tx, &finish.activity).await?;
        let run = runs::get_run(&mut tx, finish.run_id).await?;
        tx.commit().await?;
        Ok(run)
    }

    async fn get_run(&self, id: Uuid) -> StoreResult<Option<HeartbeatRun>> {
        Ok(runs::get_run(&mut *self.conn().await?, id).await?)
    }

    async fn list_runs(
        &self,
        company_id: Uuid,
        agent_id: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<HeartbeatRun>> {
        Ok(runs::list_runs(&mut *self.conn().await?, company_id, agent_id, limit).await?)
    }

    async fn run_log(&self, run_id: Uuid, offset: i64, limit: i64) -> StoreResult<Vec<LogLine>> {
        Ok(runs::read_log(&mut *self.conn().await?, run_id, offset, limit).await?)
    }

    async fn run_events(
        &self,
        run_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<RunEvent>> {
        Ok(runs::events(&mut *self.conn().await?, run_id, after_seq, limit).await?)
    }

    async fn task_session(
        &self,
        agent_id: Uuid,
        adapter_type: String,
        task_key: String,
    ) -> StoreResult<Option<TaskSessionRecord>> {
        Ok(
            runs::task_session(&mut *self.conn().await?, agent_id, &adapter_type, &task_key)
                .await?,
        )
    }

    async fn claim_timer_heartbeat(
        &self,
        agent_id: Uuid,
        previous: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        Ok(runs::claim_timer(&mut *self.conn().await?, agent_id, previous, now).await?)
    }

    async fn due_timer_agents(&self, at: Timestamp) -> StoreResult<Vec<Agent>> {
        Ok(runs::due_timer_agents(&mut *self.conn().await?, at).await?)
    }
}

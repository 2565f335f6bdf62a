//! Breakers as stored: an agent paused by a usage limit or a loop, with what tripped it and,
//! for a usage limit, when it lifts. Tripping and lifting are conditional writes on the agent
//! (only an agent still running free is paused; only one paused for that reason is resumed).

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::StoreResult;

#[derive(Debug, Clone, PartialEq)]
pub struct BreakerRecord {
    pub agent_id: Uuid,
    pub company_id: Uuid,
    /// The pause reason: `usage_limit` or `loop_detected`.
    pub reason: String,
    /// Which credential a usage limit hit (a fingerprint, never the secret).
    pub credential: Option<String>,
    pub until: Option<Timestamp>,
    pub details: serde_json::Value,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait BreakerStore {
    /// Pauses those agents of `breakers` that are not paused, terminated or waiting for
    /// approval, records their breakers, and writes `activity` when one was paused; the ids
    /// paused.
    async fn trip_breakers(
        &self,
        breakers: Vec<BreakerRecord>,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>>;
    /// Breakers whose `until` has passed.
    async fn due_breakers(&self, now: Timestamp) -> StoreResult<Vec<BreakerRecord>>;
    /// Removes the breakers of `agent_ids` with `reason`, makes those agents still paused for
    /// it `idle`, and writes `activity` when one was resumed; the ids resumed.
    async fn clear_breakers(
        &self,
        agent_ids: Vec<Uuid>,
        reason: String,
        at: Timestamp,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<Vec<Uuid>>;
    async fn list_breakers(&self, company_id: Uuid) -> StoreResult<Vec<BreakerRecord>>;
    /// Every agent of any company with this adapter that is not terminated (those that may
    /// share a credential that hit a usage limit).
    async fn agents_of_adapter(&self, adapter_type: String) -> StoreResult<Vec<Agent>>;
    /// Of the agent's runs ended since `since`: how many, and how many activity entries on
    /// issues the agent wrote in that time.
    async fn runs_and_issue_changes_since(
        &self,
        agent_id: Uuid,
        since: Timestamp,
    ) -> StoreResult<(i64, i64)>;
}

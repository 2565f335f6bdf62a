//! What the store tells the live-event bus: activity once its transaction has committed (on
//! PostgreSQL, committed by any server of the database), and the live events other servers
//! published. The store knows nothing of the bus: the server wires a `LiveSink` to it.

use paperclip_shared::ActivityEntry;
use serde_json::Value;
use uuid::Uuid;

/// An event published on another server of the same database.
#[derive(Debug, Clone)]
pub struct RemoteEvent {
    pub company_id: Uuid,
    pub kind: String,
    pub payload: Value,
}

/// Receives what the store hears. Called from the store's own tasks and threads: it must
/// not block.
pub trait LiveSink: Send + Sync + 'static {
    /// Activity entries, in the order they were written, after their transaction committed.
    fn activity(&self, entries: Vec<ActivityEntry>);
    /// An event another server published.
    fn remote(&self, event: RemoteEvent);
}

/// Hands an event published on this server to the others (PostgreSQL only).
pub type LiveRelay = tokio::sync::mpsc::UnboundedSender<RemoteEvent>;

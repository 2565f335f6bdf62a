//! The in-process event bus: every live event gets the next id, is kept in a bounded ring for
//! replay, and is broadcast to subscribers. A subscriber that falls behind the broadcast
//! channel catches up from the ring, so a slow reader loses nothing the ring still holds.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

/// One live event: `{id, companyId, type, createdAt, payload}` on the wire.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveEvent {
    pub id: u64,
    pub company_id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    /// The event as JSON text, made once however many subscribers send it.
    #[serde(skip)]
    wire: OnceLock<axum::extract::ws::Utf8Bytes>,
}

impl LiveEvent {
    /// The event as JSON text for a WebSocket frame (serialized on first use, then shared).
    pub fn wire_text(&self) -> axum::extract::ws::Utf8Bytes {
        self.wire
            .get_or_init(|| serde_json::to_string(self).unwrap_or_default().into())
            .clone()
    }
}

/// How many past events are kept for replay after a reconnect.
pub const REPLAY_CAPACITY: usize = 20_000;
/// Broadcast slots; a reader this far behind continues from the ring instead.
const CHANNEL_CAPACITY: usize = 4_096;

#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    tx: broadcast::Sender<Arc<LiveEvent>>,
    /// Hands each event published here to the other servers of the database (PostgreSQL).
    relay: OnceLock<Relay>,
}

/// Called with each event published on this server (not with events that came from others).
pub type Relay = Box<dyn Fn(&LiveEvent) + Send + Sync>;

struct State {
    last_id: u64,
    ring: VecDeque<Arc<LiveEvent>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus").finish_non_exhaustive()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        EventBus {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    last_id: 0,
                    ring: VecDeque::with_capacity(1024),
                }),
                tx,
                relay: OnceLock::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends every event published from now on to other servers too (set once, at start).
    pub fn set_relay(&self, relay: Relay) {
        let _ = self.inner.relay.set(relay);
    }

    /// Publishes an event of `company_id` to this server's readers and, through the relay,
    /// to the other servers'; returns its id.
    pub fn publish(&self, company_id: Uuid, kind: &str, payload: serde_json::Value) -> u64 {
        let event = self.publish_inner(company_id, kind, payload);
        if let Some(relay) = self.inner.relay.get() {
            relay(&event);
        }
        event.id
    }

    /// Publishes an event to this server's readers only: one that came from another server,
    /// or committed activity, which every server hears from the database itself.
    pub fn publish_local(&self, company_id: Uuid, kind: &str, payload: serde_json::Value) -> u64 {
        self.publish_inner(company_id, kind, payload).id
    }

    fn publish_inner(
        &self,
        company_id: Uuid,
        kind: &str,
        payload: serde_json::Value,
    ) -> Arc<LiveEvent> {
        let mut state = self.state();
        state.last_id += 1;
        let event = Arc::new(LiveEvent {
            id: state.last_id,
            company_id,
            kind: kind.to_string(),
            created_at: crate::domain::now(),
            payload,
            wire: OnceLock::new(),
        });
        if state.ring.len() == REPLAY_CAPACITY {
            state.ring.pop_front();
        }
        state.ring.push_back(event.clone());
        // Sent under the lock, so ids reach the channel in order.
        let _ = self.inner.tx.send(event.clone());
        event
    }

    /// The id of the newest event (0 before the first).
    pub fn last_id(&self) -> u64 {
        self.state().last_id
    }

    /// A subscription to one company's events, starting after `after` (events still in the
    /// ring are replayed first) or from now.
    pub fn subscribe(&self, company_id: Uuid, after: Option<u64>) -> Subscription {
        let state = self.state();
        let rx = self.inner.tx.subscribe();
        let cursor = after.unwrap_or(state.last_id).min(state.last_id);
        Subscription {
            bus: self.clone(),
            company_id,
            rx,
            cursor,
            backlog: VecDeque::new(),
            needs_ring: true,
        }
    }

    /// Events after `cursor` still in the ring, for one company, oldest first.
    fn since(&self, company_id: Uuid, cursor: u64) -> VecDeque<Arc<LiveEvent>> {
        self.state()
            .ring
            .iter()
            .filter(|e| e.id > cursor && e.company_id == company_id)
            .cloned()
            .collect()
    }
}

/// One reader's position in the event stream.
pub struct Subscription {
    bus: EventBus,
    company_id: Uuid,
    rx: broadcast::Receiver<Arc<LiveEvent>>,
    /// The id of the last event handed out (or skipped as another company's).
    cursor: u64,
    backlog: VecDeque<Arc<LiveEvent>>,
    /// Read the ring before the channel (at start, and after falling behind).
    needs_ring: bool,
}

impl Subscription {
    /// The next event of this company, in id order, without gaps the ring can fill.
    pub async fn next(&mut self) -> Option<Arc<LiveEvent>> {
        loop {
            if self.needs_ring {
                self.backlog = self.bus.since(self.company_id, self.cursor);
                self.needs_ring = false;
            }
            if let Some(event) = self.backlog.pop_front() {
                self.cursor = event.id;
                return Some(event);
            }
            match self.rx.recv().await {
                Ok(event) => {
                    if event.id <= self.cursor {
                        continue;
                    }
                    self.cursor = event.id;
                    if event.company_id == self.company_id {
                        return Some(event);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.needs_ring = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn replay_after_a_reconnect_then_live_events_in_order() {
        let bus = EventBus::new();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let first = bus.publish(a, "activity.logged", json!({"n": 1}));
        bus.publish(b, "activity.logged", json!({"n": 2}));
        bus.publish(a, "activity.logged", json!({"n": 3}));
        let mut sub = bus.subscribe(a, Some(first));
        bus.publish(a, "agent.status", json!({"n": 4}));
        let got: Vec<_> = [sub.next().await.unwrap(), sub.next().await.unwrap()]
            .iter()
            .map(|e| e.payload["n"].as_i64().unwrap())
            .collect();
        assert_eq!(got, vec![3, 4]);
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_the_channel_catches_up_from_the_ring() {
        let bus = EventBus::new();
        let company = Uuid::new_v4();
        let mut sub = bus.subscribe(company, None);
        let total = CHANNEL_CAPACITY as i64 * 2;
        for n in 0..total {
            bus.publish(company, "heartbeat.run.log", json!({"n": n}));
        }
        for n in 0..total {
            let event = sub.next().await.unwrap();
            assert_eq!(event.payload["n"], n, "event {n} missing or out of order");
        }
    }

    #[tokio::test]
    async fn a_subscription_from_now_sees_no_past_events() {
        let bus = EventBus::new();
        let company = Uuid::new_v4();
        bus.publish(company, "activity.logged", json!({"old": true}));
        let mut sub = bus.subscribe(company, None);
        bus.publish(company, "activity.logged", json!({"old": false}));
        assert_eq!(sub.next().await.unwrap().payload["old"], false);
    }
}

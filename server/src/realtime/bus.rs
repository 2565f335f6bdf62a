//! The in-process event bus: every live event gets the next id, is kept in a ring for replay
//! (bounded in events and in bytes), and is broadcast to subscribers. A subscriber that falls
//! behind the broadcast channel catches up from the ring, so a slow reader loses nothing the
//! ring still holds.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

/// One live event, kept as its wire text `{id, companyId, type, createdAt, payload}`: made
/// once however many subscribers send it, and a fraction of the payload's size as a
/// `serde_json::Value` (the ring holds many).
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub id: u64,
    pub company_id: Uuid,
    wire: axum::extract::ws::Utf8Bytes,
}

/// What `LiveEvent::wire` holds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    id: u64,
    company_id: Uuid,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: DateTime<Utc>,
    payload: &'a serde_json::Value,
}

impl LiveEvent {
    /// The event as JSON text for a WebSocket frame.
    pub fn wire_text(&self) -> axum::extract::ws::Utf8Bytes {
        self.wire.clone()
    }

    /// The event's payload, read back from its text.
    pub fn payload(&self) -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(self.wire.as_str())
            .map(|mut v| v["payload"].take())
            .unwrap_or_default()
    }
}

/// How many past events are kept for replay after a reconnect, and how much of their text.
pub const REPLAY_CAPACITY: usize = 20_000;
const REPLAY_BYTES: usize = 8 << 20;
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

/// Called with each event published on this server (not with events that came from others):
/// its company, type and payload.
pub type Relay = Box<dyn Fn(Uuid, &str, &serde_json::Value) + Send + Sync>;

struct State {
    last_id: u64,
    ring: VecDeque<Arc<LiveEvent>>,
    /// The wire text the ring holds, in bytes.
    ring_bytes: usize,
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
                    ring_bytes: 0,
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
        if let Some(relay) = self.inner.relay.get() {
            relay(company_id, kind, &payload);
        }
        self.publish_inner(company_id, kind, payload).id
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
        let wire = Wire {
            id: state.last_id,
            company_id,
            kind,
            created_at: crate::domain::now(),
            payload: &payload,
        };
        let event = Arc::new(LiveEvent {
            id: state.last_id,
            company_id,
            wire: serde_json::to_string(&wire).unwrap_or_default().into(),
        });
        let size = event.wire.len();
        while state.ring.len() >= REPLAY_CAPACITY
            || (state.ring_bytes + size > REPLAY_BYTES && !state.ring.is_empty())
        {
            let old = state.ring.pop_front().map_or(0, |e| e.wire.len());
            state.ring_bytes -= old;
        }
        state.ring_bytes += size;
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
            .map(|e| e.payload()["n"].as_i64().unwrap())
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
            assert_eq!(event.payload()["n"], n, "event {n} missing or out of order");
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_events_within_its_byte_bound() {
        let bus = EventBus::new();
        let company = Uuid::new_v4();
        let big = "x".repeat(100_000);
        for n in 0..200 {
            bus.publish(company, "heartbeat.run.log", json!({"n": n, "chunk": big}));
        }
        let kept = bus.since(company, 0);
        let bytes: usize = kept.iter().map(|e| e.wire.len()).sum();
        assert!(bytes <= REPLAY_BYTES, "{bytes} bytes kept");
        assert!(kept.len() >= 80 && kept.len() < 200, "{} kept", kept.len());
        assert_eq!(
            kept.back().unwrap().payload()["n"],
            199,
            "the newest is kept"
        );
        let ids: Vec<u64> = kept.iter().map(|e| e.id).collect();
        assert!(
            ids.windows(2).all(|w| w[1] == w[0] + 1),
            "no gap inside the ring"
        );
    }

    #[tokio::test]
    async fn a_subscription_from_now_sees_no_past_events() {
        let bus = EventBus::new();
        let company = Uuid::new_v4();
        bus.publish(company, "activity.logged", json!({"old": true}));
        let mut sub = bus.subscribe(company, None);
        bus.publish(company, "activity.logged", json!({"old": false}));
        assert_eq!(sub.next().await.unwrap().payload()["old"], false);
    }
}

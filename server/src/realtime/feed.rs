//! The bus as the store's live sink: committed activity becomes `activity.logged` events,
//! other servers' events are published here as they were there, and this server's events go
//! to the store's relay (PostgreSQL) for the others.

use std::sync::Arc;

use paperclip_shared::ActivityEntry;

use super::EventBus;
use crate::store::{LiveRelay, LiveSink, RemoteEvent, Store};

struct BusFeed(EventBus);

impl LiveSink for BusFeed {
    fn activity(&self, entries: Vec<ActivityEntry>) {
        for entry in entries {
            let company_id = entry.company_id;
            let payload = serde_json::to_value(&entry).unwrap_or_default();
            self.0.publish_local(company_id, "activity.logged", payload);
        }
    }

    fn remote(&self, event: RemoteEvent) {
        self.0
            .publish_local(event.company_id, &event.kind, event.payload);
    }
}

/// Connects `bus` and `store` both ways.
pub async fn connect(bus: &EventBus, store: &Arc<dyn Store>) {
    let relay: Option<LiveRelay> = store.start_live_feed(Arc::new(BusFeed(bus.clone()))).await;
    if let Some(relay) = relay {
        bus.set_relay(Box::new(move |company_id, kind, payload| {
            let _ = relay.send(RemoteEvent {
                company_id,
                kind: kind.to_string(),
                payload: payload.clone(),
            });
        }));
    }
}

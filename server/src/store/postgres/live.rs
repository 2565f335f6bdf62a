//! Live events between the servers of one database, over LISTEN/NOTIFY. Two channels:
//!
//! - `paperclip_activity`: a trigger announces each committed activity row by its `seq`
//!   (migration 0006). Every server, the writer included, reads the rows and tells its sink,
//!   so activity reaches WebSocket readers on every server, in commit order per server.
//! - `paperclip_events`: each server relays the events it publishes (run status, log chunks,
//!   agent status) as `{origin, companyId, type, payload}`; the others tell their sinks, and
//!   the sender skips its own (it published them already).
//!
//! The listener has a connection of its own, outside the pool. Behind a transaction-mode
//! pooler LISTEN does not work; the README says to point such servers at a session port.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgNotification, PgPoolOptions};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use uuid::Uuid;

use super::{PgTarget, rows};
use crate::store::{LiveRelay, LiveSink, RemoteEvent};

const ACTIVITY: &str = "paperclip_activity";
const EVENTS: &str = "paperclip_events";
/// PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more.
const PAYLOAD_MAX: usize = 7_900;

/// Starts the listener and the relay; their tasks, to abort when the store closes.
pub async fn start(
    pool: PgPool,
    target: &PgTarget,
    sink: Arc<dyn LiveSink>,
) -> Result<(LiveRelay, Vec<AbortHandle>), sqlx::Error> {
    let origin = Uuid::new_v4();
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(target.options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&own).await?;
    listener.listen_all([ACTIVITY, EVENTS]).await?;
    let listening = tokio::spawn(listen(listener, own, pool.clone(), origin, sink));
    let (relay, queue) = mpsc::unbounded_channel();
    let relaying = tokio::spawn(send_all(pool, origin, queue));
    Ok((
        relay,
        vec![listening.abort_handle(), relaying.abort_handle()],
    ))
}

async fn listen(
    mut listener: PgListener,
    _own: PgPool,
    pool: PgPool,
    origin: Uuid,
    sink: Arc<dyn LiveSink>,
) {
    loop {
        let first = match listener.try_recv().await {
            Ok(Some(n)) => n,
            Ok(None) => {
                // sqlx reconnects and listens again; what was sent meanwhile is lost.
                tracing::warn!("live events: the LISTEN connection was lost and is back");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "live events: cannot listen; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Whatever else has arrived already goes in the same read.
        let mut batch = vec![first];
        while batch.len() < 500 {
            match listener.next_buffered() {
                Some(n) => batch.push(n),
                None => break,
            }
        }
        let mut seqs = Vec::new();
        for n in batch {
            match n.channel() {
                ACTIVITY => seqs.extend(n.payload().parse::<i64>().ok()),
                _ => {
                    deliver_activity(&pool, &mut seqs, sink.as_ref()).await;
                    if let Some(event) = remote_event(&n, origin) {
                        sink.remote(event);
                    }
                }
            }
        }
        deliver_activity(&pool, &mut seqs, sink.as_ref()).await;
    }
}

/// Reads the announced activity rows and tells the sink, in seq order.
async fn deliver_activity(pool: &PgPool, seqs: &mut Vec<i64>, sink: &dyn LiveSink) {
    if seqs.is_empty() {
        return;
    }
    let wanted = std::mem::take(seqs);
    let read = sqlx::query("SELECT * FROM activity_log WHERE seq = ANY($1) ORDER BY seq")
        .bind(&wanted)
        .try_map(|r| rows::activity(&r))
        .fetch_all(pool)
        .await;
    match read {
        Ok(entries) if !entries.is_empty() => sink.activity(entries),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, n = wanted.len(), "live events: cannot read activity"),
    }
}

fn remote_event(n: &PgNotification, origin: Uuid) -> Option<RemoteEvent> {
    let v: Value = serde_json::from_str(n.payload()).ok()?;
    if v["origin"].as_str() == Some(origin.to_string().as_str()) {
        return None;
    }
    Some(RemoteEvent {
        company_id: v["companyId"].as_str()?.parse().ok()?,
        kind: v["type"].as_str()?.to_string(),
        payload: v.get("payload").cloned().unwrap_or(Value::Null),
    })
}

async fn send_all(pool: PgPool, origin: Uuid, mut queue: mpsc::UnboundedReceiver<RemoteEvent>) {
    while let Some(event) = queue.recv().await {
        let Some(text) = notification(origin, event) else {
            continue;
        };
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(EVENTS)
            .bind(text)
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "live events: cannot relay an event to other servers");
        }
    }
}

/// The NOTIFY payload of an event, within PostgreSQL's limit: a log chunk too long for it
/// keeps its tail and says it was cut; any other event that large is not relayed.
fn notification(origin: Uuid, mut event: RemoteEvent) -> Option<String> {
    let text = |e: &RemoteEvent| {
        json!({"origin": origin, "companyId": e.company_id, "type": e.kind, "payload": e.payload})
            .to_string()
    };
    let first = text(&event);
    if first.len() < PAYLOAD_MAX {
        return Some(first);
    }
    let chunk = event
        .payload
        .get("chunk")
        .and_then(Value::as_str)?
        .to_string();
    // JSON escaping can make a character up to six bytes: cut by the escaped overflow.
    let over = first.len() - PAYLOAD_MAX + 64;
    let mut keep = chunk.len().saturating_sub(over);
    while keep > 0 {
        let mut start = chunk.len() - keep;
        while !chunk.is_char_boundary(start) {
            start += 1;
        }
        event.payload["chunk"] = Value::String(chunk[start..].to_string());
        event.payload["truncated"] = Value::Bool(true);
        let cut = text(&event);
        if cut.len() < PAYLOAD_MAX {
            return Some(cut);
        }
        keep /= 2;
    }
    tracing::debug!(kind = %event.kind, "live events: an event too large to relay");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_log_chunk_is_cut_to_fit_a_notification() {
        let event = RemoteEvent {
            company_id: Uuid::new_v4(),
            kind: "heartbeat.run.log".into(),
            payload: json!({"runId": Uuid::new_v4(), "chunk": "é\"x".repeat(4_000)}),
        };
        let text = notification(Uuid::new_v4(), event).unwrap();
        assert!(text.len() < PAYLOAD_MAX, "{}", text.len());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["payload"]["truncated"], true);
        assert!(v["payload"]["chunk"].as_str().unwrap().ends_with("é\"x"));
    }

    #[test]
    fn a_large_event_without_a_chunk_is_not_relayed() {
        let event = RemoteEvent {
            company_id: Uuid::new_v4(),
            kind: "activity.logged".into(),
            payload: json!({"details": "y".repeat(9_000)}),
        };
        assert!(notification(Uuid::new_v4(), event).is_none());
    }
}

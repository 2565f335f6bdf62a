//! Live-event fan-out on a real server (SQLite, or PostgreSQL with
//! `BENCH_DATABASE_URL=postgres://…/dbname`, an empty database) over real HTTP and real
//! WebSockets on loopback:
//!
//! - 100 subscribers on `GET /api/companies/:id/events/ws`;
//! - issues created at 1,000 a second for 10 s, each one `activity.logged` event as it commits;
//! - every subscriber must receive every issue's event, ids increasing, nothing dropped
//!   (goal: 1,000 events/s to 100 subscribers without drops); the figures are the rate
//!   reached, and the delay from the event's publication to its arrival at a subscriber.
//!
//!     cargo bench -p paperclip-server --bench live_events
//!
//! `BENCH_SUBSCRIBERS`, `BENCH_RATE` (events a second) and `BENCH_SECONDS` change the sizes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use paperclip_server::Server;
use paperclip_server::config::{Config, Overrides};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What one subscriber saw: the issue ids of the `activity.logged` events it received, whether
/// their event ids always increased, and each one's delay after publication (ms).
struct Seen {
    issues: HashSet<String>,
    increasing: bool,
    delays_ms: Vec<f64>,
}

/// Reads one socket until `expected` issue events have arrived or `quiet` passes without one.
async fn subscriber(url: String, expected: usize, quiet: Duration) -> Seen {
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect the WebSocket");
    let mut seen = Seen {
        issues: HashSet::new(),
        increasing: true,
        delays_ms: Vec::with_capacity(expected),
    };
    let mut last_id = 0u64;
    while seen.issues.len() < expected {
        let Ok(Some(Ok(message))) = tokio::time::timeout(quiet, socket.next()).await else {
            break;
        };
        let Message::Text(text) = message else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).expect("an event is JSON");
        let id = event["id"].as_u64().unwrap_or(0);
        seen.increasing &= id > last_id;
        last_id = id;
        if event["type"] != "activity.logged" || event["payload"]["entityType"] != "issue" {
            continue;
        }
        if let Some(published) = event["createdAt"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            let delay = chrono::Utc::now().signed_duration_since(published);
            seen.delays_ms
                .push(delay.num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
        if let Some(issue) = event["payload"]["entityId"].as_str() {
            seen.issues.insert(issue.to_string());
        }
    }
    let _ = socket.close(None).await;
    seen
}

#[tokio::main]
async fn main() {
    let subscribers = env_usize("BENCH_SUBSCRIBERS", 100);
    let rate = env_usize("BENCH_RATE", 1_000).max(1);
    let seconds = env_usize("BENCH_SECONDS", 10).max(1);
    let total = rate * seconds;
    let home = tempfile::tempdir().expect("a temporary home");
    let home_text = home.path().display().to_string();
    let db = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if db.is_some() { "postgres" } else { "sqlite" };
    let env = move |k: &str| match k {
        "PAPERCLIP_HOME" => Some(home_text.clone()),
        "DATABASE_URL" => db.clone(),
        "HEARTBEAT_SCHEDULER_ENABLED" => Some("false".into()),
        _ => None,
    };
    let config = Config::load_with(
        &Overrides {
            port: Some(0),
            ..Default::default()
        },
        &env,
    )
    .expect("config");
    let bound = Server::bind(config).await.expect("server");
    let addr = bound.local_addr();
    let base = format!("http://{addr}/api");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let company: Value = http
        .post(format!("{base}/companies"))
        .json(&json!({"name": "Fan-out"}))
        .send()
        .await
        .expect("create the company")
        .json()
        .await
        .expect("a company");
    let company = company["id"].as_str().expect("company id").to_string();
    println!(
        "live events bench on {backend}: {subscribers} subscribers, {rate} events/s for {seconds} s"
    );

    let url = format!("ws://{addr}/api/companies/{company}/events/ws");
    let readers: Vec<_> = (0..subscribers)
        .map(|_| tokio::spawn(subscriber(url.clone(), total, Duration::from_secs(10))))
        .collect();
    // Every socket is open (subscribed at the upgrade) before the first event.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Producers: 16 at once, each taking the next slot of a schedule of `rate` a second.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let producers: Vec<_> = (0..16)
        .map(|_| {
            let (http, base, company, next) =
                (http.clone(), base.clone(), company.clone(), next.clone());
            tokio::spawn(async move {
                let mut made = Vec::new();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= total {
                        return made;
                    }
                    let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
                    tokio::time::sleep_until(due.into()).await;
                    let resp = http
                        .post(format!("{base}/companies/{company}/issues"))
                        .json(&json!({"title": format!("Event {n}")}))
                        .send()
                        .await
                        .expect("create an issue");
                    assert!(resp.status().is_success(), "{}", resp.status());
                    let issue: Value = resp.json().await.expect("an issue");
                    made.push(issue["id"].as_str().unwrap_or_default().to_string());
                }
            })
        })
        .collect();
    let mut created = HashSet::new();
    for p in producers {
        created.extend(p.await.expect("a producer"));
    }
    let produced_in = started.elapsed().as_secs_f64();

    let mut delays = Vec::new();
    let (mut complete, mut in_order) = (0, 0);
    let mut fewest = usize::MAX;
    for r in readers {
        let seen = r.await.expect("a subscriber");
        let got = seen.issues.intersection(&created).count();
        fewest = fewest.min(got);
        complete += usize::from(got == created.len());
        in_order += usize::from(seen.increasing);
        delays.extend(seen.delays_ms);
    }
    let delivered_in = started.elapsed().as_secs_f64();
    delays.sort_by(f64::total_cmp);
    println!(
        "  produced {} events in {produced_in:.2} s ({:.0}/s); all delivered after {delivered_in:.2} s",
        created.len(),
        created.len() as f64 / produced_in
    );
    println!(
        "  subscribers with every event: {complete}/{subscribers} (fewest received {fewest}); ids increasing: {in_order}/{subscribers}"
    );
    println!(
        "  publication to arrival over {} deliveries: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        delays.len(),
        percentile(&delays, 0.5),
        percentile(&delays, 0.99),
        delays.last().copied().unwrap_or(f64::NAN)
    );
    let ok = complete == subscribers && in_order == subscribers && created.len() == total;
    println!(
        "  {} (goal: {rate} events/s to {subscribers} subscribers without drops)",
        if ok { "no drops" } else { "DROPS" }
    );

    let _ = stop.send(());
    let _ = server.await;
    if !ok {
        std::process::exit(1);
    }
}

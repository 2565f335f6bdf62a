//! What the heartbeat service costs, on a real server (SQLite, or PostgreSQL with
//! `BENCH_DATABASE_URL=postgres://…/dbname`, an empty database) over real HTTP:
//!
//! - a scheduler tick over 10,000 timer agents, none due (goal: under 50 ms);
//! - wake-up to child process started, from the run's queueing to its `processStartedAt`
//!   (goal: under 20 ms);
//! - the server's resident memory across 1,000 runs that each print output (goal: flat).
//!
//!     cargo bench -p paperclip-server --bench heartbeats
//!
//! `BENCH_AGENTS` and `BENCH_RUNS` change the sizes.

use std::time::{Duration, Instant};

use paperclip_server::Server;
use paperclip_server::config::{Config, Overrides};
use serde_json::{Value, json};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's resident memory (the server runs in it), in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }
    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await
    }
}

#[tokio::main]
async fn main() {
    let agents = env_usize("BENCH_AGENTS", 10_000);
    let runs = env_usize("BENCH_RUNS", 1_000);
    let home = tempfile::tempdir().expect("a temporary home");
    let home_text = home.path().display().to_string();
    let db = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if db.is_some() { "postgres" } else { "sqlite" };
    let env = move |k: &str| match k {
        "PAPERCLIP_HOME" => Some(home_text.clone()),
        "DATABASE_URL" => db.clone(),
        // The bench ticks by itself.
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
    let heartbeats = bound.heartbeats().clone();
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://{}/api", bound.local_addr()),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve(async {
        let _ = stopped.await;
    }));
    println!("heartbeats bench on {backend}");

    // 1. A tick over many timer agents, none due.
    let company = api.post("/companies", json!({"name": "Bench"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let made = Instant::now();
    for n in 0..agents {
        api.post(
            &format!("/companies/{company}/agents"),
            json!({"name": format!("Timer {n}"), "adapterType": "process",
                   "adapterConfig": {"command": "true"},
                   "runtimeConfig": {"heartbeat": {"enabled": true, "intervalSec": 86400}}}),
        )
        .await;
    }
    println!(
        "  made {agents} timer agents in {:.1} s",
        made.elapsed().as_secs_f64()
    );
    let mut ticks = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let woken = heartbeats.tick().await.expect("tick");
        ticks.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(woken, 0, "no agent was due");
    }
    ticks.sort_by(f64::total_cmp);
    println!(
        "  tick over {agents} agents, none due: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal < 50 ms)",
        percentile(&ticks, 0.5),
        percentile(&ticks, 0.99),
        ticks.last().copied().unwrap_or(f64::NAN)
    );

    // 2. Wake-up to process started, one run at a time.
    let worker = api
        .post(
            &format!("/companies/{company}/agents"),
            json!({"name": "Worker", "adapterType": "process",
                   "adapterConfig": {"command": "sh", "args": ["-c", "seq 1 200"]}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run_once = async || -> Value {
        let run = api
            .post(&format!("/agents/{worker}/heartbeat/invoke"), json!({}))
            .await;
        let id = run["id"].as_str().unwrap().to_string();
        loop {
            let now = api.get(&format!("/heartbeat-runs/{id}")).await;
            if now["status"] != "queued" && now["status"] != "running" {
                assert_eq!(now["status"], "succeeded", "{now}");
                return now;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let ms_between = |run: &Value, from: &str, to: &str| -> f64 {
        let at = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(run[k].as_str().unwrap_or_default())
                .map(|t| t.timestamp_micros())
                .unwrap_or(0)
        };
        (at(to) - at(from)) as f64 / 1000.0
    };
    for _ in 0..20 {
        run_once().await; // warm-up
    }
    let mut spawn = Vec::new();
    for _ in 0..200 {
        let run = run_once().await;
        spawn.push(ms_between(&run, "createdAt", "processStartedAt"));
    }
    spawn.sort_by(f64::total_cmp);
    println!(
        "  wake-up to process started (200 runs): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal < 20 ms)",
        percentile(&spawn, 0.5),
        percentile(&spawn, 0.99),
        spawn.last().copied().unwrap_or(f64::NAN)
    );

    // 3. Memory across many runs (each prints 200 lines, logged and stored).
    let before = rss_mib();
    let started = Instant::now();
    let mut marks = Vec::new();
    for n in 1..=runs {
        run_once().await;
        if n % (runs / 5).max(1) == 0 {
            marks.push((n, rss_mib()));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let line: Vec<String> = marks
        .iter()
        .map(|(n, mib)| format!("{n}: {mib:.1}"))
        .collect();
    println!(
        "  RSS across {runs} runs ({:.1} runs/s): before {before:.1} MiB; after runs {} MiB",
        runs as f64 / elapsed,
        line.join(", ")
    );

    let _ = stop.send(());
    let _ = server.await;
}

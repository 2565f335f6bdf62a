//! What resolving a run's secret references costs: 20 references (each its own secret) in one
//! env, resolved against a real SQLite instance with its key file, as a run start does.
//! Prints the mean and percentiles; the goal is under 1 ms for all 20.
//!
//!     cargo bench -p paperclip-server --bench secrets_resolve

use std::time::{Duration, Instant};

use paperclip_server::Server;
use paperclip_server::config::{Config, Overrides};
use serde_json::{Map, Value, json};

const REFERENCES: usize = 20;
const ROUNDS: usize = 2_000;

#[tokio::main]
async fn main() {
    let home = tempfile::tempdir().expect("a temporary home");
    let home_text = home.path().display().to_string();
    let env = move |k: &str| (k == "PAPERCLIP_HOME").then(|| home_text.clone());
    let load = || {
        Config::load_with(
            &Overrides {
                port: Some(0),
                ..Default::default()
            },
            &env,
        )
        .expect("config")
    };
    let bound = Server::bind(load()).await.expect("server");
    let base = format!("http://{}/api", bound.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve(async {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let post = async |path: &str, body: Value| -> Value {
        let resp = http
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    };
    let company = post("/companies", json!({"name": "Bench"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut refs = Map::new();
    for n in 0..REFERENCES {
        let secret = post(
            &format!("/companies/{company}/secrets"),
            json!({"name": format!("S{n}"), "value": format!("value-{n}-{}", "x".repeat(40))}),
        )
        .await;
        refs.insert(
            format!("KEY_{n}"),
            json!({"type": "secret_ref", "secretId": secret["id"], "version": "latest"}),
        );
    }
    let refs = Value::Object(refs);

    let config = load();
    let store = paperclip_server::server::open_store(&config).await.unwrap();
    let secret = paperclip_server::server::instance_secret(&config).unwrap();
    let domain = paperclip_server::server::domain_for(&config, store, &secret);
    let company_id = company.parse().unwrap();
    let check = domain
        .resolve_env(company_id, &refs)
        .await
        .expect("resolves");
    assert_eq!(check.len(), REFERENCES);

    let mut times: Vec<Duration> = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let resolved = domain.resolve_env(company_id, &refs).await.unwrap();
        times.push(t.elapsed());
        assert_eq!(resolved.len(), REFERENCES);
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / ROUNDS as u32;
    let pct = |p: f64| times[((ROUNDS as f64 * p) as usize).min(ROUNDS - 1)];
    println!(
        "resolve {REFERENCES} secret references (SQLite, {ROUNDS} rounds): mean {:?}, p50 {:?}, p99 {:?}, max {:?}",
        mean,
        pct(0.50),
        pct(0.99),
        times[ROUNDS - 1]
    );
    let _ = stop.send(());
    let _ = server.await;
}

//! Cost rollups on a real server over real HTTP, with a ledger of 1,000,000 cost events
//! (SQLite, or PostgreSQL with `BENCH_DATABASE_URL=postgres://…/dbname`, an empty database):
//!
//! - `GET /costs/summary`, `/costs/by-agent` and `/costs/by-project` for the month
//!   (goal: under 50 ms, read from the rollups, not a scan of the ledger);
//! - the same summary over a `from`/`to` range, which does read the ledger (for contrast);
//! - `POST /cost-events` one at a time, each one its event, rollup and month spend.
//!
//!     cargo bench -p paperclip-server --bench costs
//!
//! The ledger is written straight into the database (an HTTP request per event would take
//! minutes), rollups included, the way the server writes them. `BENCH_EVENTS` changes its size.

use std::time::Instant;

use paperclip_server::Server;
use paperclip_server::config::{Config, Overrides};
use serde_json::{Value, json};

const AGENTS: usize = 20;
const PROJECTS: usize = 5;

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

/// Rebuilds the rollups from the ledger, as migration 0007 does.
const ROLLUP_SQLITE: &str = "INSERT INTO cost_rollups
    SELECT company_id, substr(occurred_at, 1, 7), agent_id, COALESCE(project_id, ''),
        SUM(COALESCE(cost_cents, 0)), SUM(estimated_cost_cents),
        SUM(input_tokens), SUM(cached_input_tokens), SUM(output_tokens), 0, 0, 0,
        COUNT(*), 0, SUM(CASE WHEN cost_status = 'unpriced' THEN 1 ELSE 0 END)
    FROM cost_events GROUP BY 1, 2, 3, 4";

fn seed_sqlite(
    db: &std::path::Path,
    company: &str,
    agents: &[String],
    projects: &[String],
    n: usize,
) {
    let mut c = rusqlite::Connection::open(db).expect("open the database");
    c.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    let tx = c.transaction().expect("a transaction");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO cost_events (id, company_id, agent_id, project_id, provider, biller,
                    billing_type, model, input_tokens, cached_input_tokens, output_tokens,
                    cost_cents, cost_status, estimated_cost_cents, occurred_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'anthropic', 'anthropic', 'api', 'claude-sonnet-4-5',
                    1200, 4000, 300, ?5, ?6, ?7, ?8, ?8)",
            )
            .unwrap();
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        for i in 0..n {
            let priced = i % 4 != 0;
            let at = format!("{month}-01T00:{:02}:{:02}.000000Z", (i / 60) % 60, i % 60);
            insert
                .execute(rusqlite::params![
                    uuid::Uuid::new_v4().to_string(),
                    company,
                    agents[i % agents.len()],
                    projects[i % projects.len()],
                    priced.then_some(3i64),
                    if priced { "reported" } else { "unpriced" },
                    if priced { 0 } else { 2 },
                    at,
                ])
                .unwrap();
        }
    }
    tx.execute("DELETE FROM cost_rollups", []).unwrap();
    tx.execute(ROLLUP_SQLITE, []).unwrap();
    tx.commit().unwrap();
}

async fn seed_postgres(url: &str, company: &str, agents: &[String], projects: &[String], n: usize) {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let agents: Vec<uuid::Uuid> = agents.iter().map(|a| a.parse().unwrap()).collect();
    let projects: Vec<uuid::Uuid> = projects.iter().map(|p| p.parse().unwrap()).collect();
    let company: uuid::Uuid = company.parse().unwrap();
    sqlx::query(
        "INSERT INTO cost_events (id, company_id, agent_id, project_id, provider, biller,
            billing_type, model, input_tokens, cached_input_tokens, output_tokens, cost_cents,
            cost_status, estimated_cost_cents, occurred_at, created_at)
         SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + i % array_length($2, 1)],
            ($3::uuid[])[1 + i % array_length($3, 1)], 'anthropic', 'anthropic', 'api',
            'claude-sonnet-4-5', 1200, 4000, 300,
            CASE WHEN i % 4 = 0 THEN NULL ELSE 3 END,
            CASE WHEN i % 4 = 0 THEN 'unpriced' ELSE 'reported' END,
            CASE WHEN i % 4 = 0 THEN 2 ELSE 0 END,
            date_trunc('month', now()) + (i % 3600) * interval '1 second', now()
         FROM generate_series(0, $4 - 1) AS i",
    )
    .bind(company)
    .bind(&agents)
    .bind(&projects)
    .bind(n as i64)
    .execute(&pool)
    .await
    .expect("seed the ledger");
    sqlx::query("DELETE FROM cost_rollups")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO cost_rollups
         SELECT company_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM'), agent_id,
            COALESCE(project_id::text, ''), SUM(COALESCE(cost_cents, 0)), SUM(estimated_cost_cents),
            SUM(input_tokens), SUM(cached_input_tokens), SUM(output_tokens), 0, 0, 0, COUNT(*), 0,
            SUM(CASE WHEN cost_status = 'unpriced' THEN 1 ELSE 0 END)
         FROM cost_events GROUP BY 1, 2, 3, 4",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
}

#[tokio::main]
async fn main() {
    let events = env_usize("BENCH_EVENTS", 1_000_000);
    let home = tempfile::tempdir().expect("a temporary home");
    let home_text = home.path().display().to_string();
    let db = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if db.is_some() { "postgres" } else { "sqlite" };
    let db_env = db.clone();
    let env = move |k: &str| match k {
        "PAPERCLIP_HOME" => Some(home_text.clone()),
        "DATABASE_URL" => db_env.clone(),
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
    let sqlite_file = match &config.database {
        paperclip_server::config::DatabaseConfig::Sqlite(path) => Some(path.clone()),
        _ => None,
    };
    let bound = Server::bind(config).await.expect("server");
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
            .expect("request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("json")
    };
    let id = |v: &Value| v["id"].as_str().expect("id").to_string();
    let company = id(&post("/companies", json!({"name": "Ledger"})).await);
    let mut agents = Vec::new();
    for n in 0..AGENTS {
        agents.push(id(&post(
            &format!("/companies/{company}/agents"),
            json!({"name": format!("Agent {n}")}),
        )
        .await));
    }
    let mut projects = Vec::new();
    for n in 0..PROJECTS {
        projects.push(id(&post(
            &format!("/companies/{company}/projects"),
            json!({"name": format!("Project {n}")}),
        )
        .await));
    }
    println!(
        "costs bench on {backend}: a ledger of {events} cost events, {AGENTS} agents, {PROJECTS} projects"
    );
    let seeded = Instant::now();
    match (&db, &sqlite_file) {
        (Some(url), _) => seed_postgres(url, &company, &agents, &projects, events).await,
        (None, Some(file)) => seed_sqlite(file, &company, &agents, &projects, events),
        (None, None) => panic!("no database to seed"),
    }
    println!("  seeded in {:.1} s", seeded.elapsed().as_secs_f64());

    let time_get = async |path: String, rounds: usize| -> (Vec<f64>, Value) {
        let mut ms = Vec::new();
        let mut last = Value::Null;
        for _ in 0..rounds {
            let t = Instant::now();
            let resp = http.get(format!("{base}{path}")).send().await.expect("get");
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            last = resp.json().await.expect("json");
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        (ms, last)
    };
    for what in ["summary", "by-agent", "by-project"] {
        let (ms, last) = time_get(format!("/companies/{company}/costs/{what}"), 200).await;
        if what == "summary" {
            let counted = last["events"].as_i64().unwrap_or(0);
            assert_eq!(
                counted, events as i64,
                "the summary counts every event: {last}"
            );
        }
        println!(
            "  GET costs/{what} (month, rollups): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (goal < 50 ms)",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            ms.last().copied().unwrap_or(f64::NAN)
        );
    }
    let from = chrono::Utc::now().format("%Y-%m-01T00:00:00Z");
    let (ms, _) = time_get(format!("/companies/{company}/costs/summary?from={from}"), 5).await;
    println!(
        "  GET costs/summary?from= (a range: reads the ledger): p50 {:.0} ms",
        percentile(&ms, 0.5)
    );

    let writes = 1_000;
    let started = Instant::now();
    for n in 0..writes {
        post(
            &format!("/companies/{company}/cost-events"),
            json!({"agentId": agents[n % AGENTS], "provider": "openai", "model": "gpt-5",
                   "inputTokens": 1000, "outputTokens": 100, "costCents": 1}),
        )
        .await;
    }
    println!(
        "  POST cost-events, one at a time: {:.0} events/s",
        writes as f64 / started.elapsed().as_secs_f64()
    );

    let _ = stop.send(());
    let _ = server.await;
}

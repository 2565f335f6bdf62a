use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use paperclip_server::config::{Config, Overrides};
use paperclip_server::{Bound, Server, StartError};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

/// The database a test binary runs its servers on (`crate::BACKEND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A server on a fresh home and database, or `return` from the test when its backend is not
/// available here (PostgreSQL without `PAPERCLIP_TEST_DATABASE_URL`; on CI that is a failure).
#[macro_export]
macro_rules! test_server {
    () => {
        match $crate::common::TestServer::start().await {
            Some(server) => server,
            None => return,
        }
    };
}

/// A fresh PostgreSQL database on the server of `PAPERCLIP_TEST_DATABASE_URL`, dropped when
/// the last server using it is gone.
pub struct TestDb {
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDb {
    pub async fn create() -> Option<TestDb> {
        let admin_url = match std::env::var("PAPERCLIP_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!(
                        "CI=true but PAPERCLIP_TEST_DATABASE_URL is not set: the PostgreSQL suite must run on CI \
                         (.ci/run gets a server with ../shared/ci/ensure-postgres.sh)"
                    );
                }
                static SAID: Once = Once::new();
                SAID.call_once(|| {
                    // Straight to the terminal: libtest captures eprintln! of passing tests.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nPostgreSQL suite SKIPPED: set PAPERCLIP_TEST_DATABASE_URL=postgres://user:pass@host:5432/postgres to run it\n"
                    );
                });
                return None;
            }
        };
        let name = format!("paperclip_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to PAPERCLIP_TEST_DATABASE_URL");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("PAPERCLIP_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(TestDb {
            url: url.to_string(),
            name,
            admin_url,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; the cleanup gets its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A running server on a temporary home; stops (and closes its database) on drop.
pub struct TestServer {
    pub base: String,
    pub client: Client,
    #[allow(dead_code)]
    pub home: PathBuf,
    /// What the server printed at start (bootstrap invite, board claim).
    #[allow(dead_code)]
    pub notices: Vec<String>,
    /// The bearer the helpers (`get`, `post`, `company`, …) send when a call names none: a
    /// board API key in authenticated mode; None in local_trusted (the implicit board).
    pub board_token: Option<String>,
    _tmp: Option<Arc<tempfile::TempDir>>,
    db: Option<Arc<TestDb>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn config_for(home: &Path, db: Option<&TestDb>) -> Config {
    config_with_url(home, db.map(|d| d.url.as_str()))
}

/// The configuration of a server on `home` with `DATABASE_URL` set to `db_url` when given.
pub fn config_with_url(home: &Path, db_url: Option<&str>) -> Config {
    config_with_env(home, db_url, &[]).expect("config")
}

/// The configuration of a server on `home` (and `db_url`), with more environment variables.
pub fn config_with_env(
    home: &Path,
    db_url: Option<&str>,
    extra: &[(&str, &str)],
) -> Result<Config, String> {
    let home = home.display().to_string();
    let db_url = db_url.map(str::to_string);
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = move |k: &str| match k {
        "PAPERCLIP_HOME" => Some(home.clone()),
        "DATABASE_URL" => db_url.clone(),
        other => extra
            .iter()
            .find(|(n, _)| n == other)
            .map(|(_, v)| v.clone()),
    };
    Config::load_with(
        &Overrides {
            port: Some(0),
            ..Default::default()
        },
        &env,
    )
    .map_err(|e| e.to_string())
}

/// Binds a server. A restarted server's lock file can stay locked for a moment after the
/// stopped one closed it: a child another test's server is forking in this same process
/// holds a copy of every descriptor until its exec. Only that error is waited out (2 s).
async fn bind_once_the_lock_is_free(config: Config) -> Result<Bound, StartError> {
    let mut tries = 0;
    loop {
        match Server::bind(config.clone()).await {
            Err(e) if e.to_string().contains("already running") && tries < 20 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

impl TestServer {
    /// A server of this binary's backend (`crate::BACKEND`) on a fresh home and database;
    /// None when that backend is not available (see `test_server!`).
    pub async fn start() -> Option<TestServer> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let db = match crate::BACKEND {
            Backend::Sqlite => None,
            Backend::Postgres => Some(Arc::new(TestDb::create().await?)),
        };
        let mut s = Self::launch(tmp.path(), db).await;
        s._tmp = Some(Arc::new(tmp));
        Some(s)
    }

    /// Like `start`, with more environment variables (`PAPERCLIP_DEPLOYMENT_MODE`, …).
    #[allow(dead_code)]
    pub async fn start_env(extra: &[(&str, &str)]) -> Option<TestServer> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let db = match crate::BACKEND {
            Backend::Sqlite => None,
            Backend::Postgres => Some(Arc::new(TestDb::create().await?)),
        };
        let config = config_with_env(tmp.path(), db.as_ref().map(|d| d.url.as_str()), extra)
            .expect("config");
        let mut s = Self::launch_config(config).await;
        s.home = tmp.path().to_path_buf();
        s.db = db;
        s._tmp = Some(Arc::new(tmp));
        Some(s)
    }

    /// Stops this server and starts it again on the same home and database with `extra`
    /// environment (for example, switching the instance to authenticated mode).
    #[allow(dead_code)]
    pub async fn restart_env(mut self, extra: &[(&str, &str)]) -> TestServer {
        let tmp = self._tmp.take();
        let db = self.db.take();
        let home = self.home.clone();
        self.stop().await;
        let config =
            config_with_env(&home, db.as_ref().map(|d| d.url.as_str()), extra).expect("config");
        let mut s = Self::launch_config(config).await;
        s.home = home;
        s.db = db;
        s._tmp = tmp;
        s
    }

    /// Another server on the same database with its own home: a second replica.
    #[allow(dead_code)]
    pub async fn replica(&self) -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut s = Self::launch(tmp.path(), self.db.clone()).await;
        s._tmp = Some(Arc::new(tmp));
        s
    }

    /// Like `replica`, with more environment variables (`HEARTBEAT_SCHEDULER_INTERVAL_MS`, …).
    #[allow(dead_code)]
    pub async fn replica_env(&self, extra: &[(&str, &str)]) -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        let url = self.db.as_ref().map(|d| d.url.as_str());
        let config = config_with_env(tmp.path(), url, extra).expect("config");
        let mut s = Self::launch_config(config).await;
        s.home = tmp.path().to_path_buf();
        s.db = self.db.clone();
        s._tmp = Some(Arc::new(tmp));
        s
    }

    /// This server's PostgreSQL database, kept alive as long as the handle is (None on SQLite).
    #[allow(dead_code)]
    pub fn database(&self) -> Option<Arc<TestDb>> {
        self.db.clone()
    }

    /// The PostgreSQL URL of this server's database (None on SQLite).
    #[allow(dead_code)]
    pub fn database_url(&self) -> Option<String> {
        self.db.as_ref().map(|d| d.url.clone())
    }

    /// Stops this server, runs `before` on its home and database URL, and tries to start
    /// again on them; the error is the start-up failure's message.
    #[allow(dead_code)]
    pub async fn restart_after(
        mut self,
        before: impl AsyncFnOnce(&Path, Option<&str>),
    ) -> Result<TestServer, String> {
        let tmp = self._tmp.take();
        let db = self.db.take();
        let home = self.home.clone();
        self.stop().await;
        before(&home, db.as_ref().map(|d| d.url.as_str())).await;
        let bound = bind_once_the_lock_is_free(config_for(&home, db.as_deref()))
            .await
            .map_err(|e| e.to_string())?;
        drop(bound);
        let mut s = Self::launch(&home, db).await;
        s._tmp = tmp;
        Ok(s)
    }

    /// Stops this server and starts a new one on the same home and database.
    #[allow(dead_code)]
    pub async fn restart(mut self) -> TestServer {
        let tmp = self._tmp.take();
        let db = self.db.take();
        let home = self.home.clone();
        self.stop().await;
        let mut s = Self::launch(&home, db).await;
        s._tmp = tmp;
        s
    }

    /// A server on `home` with `db` (None: the SQLite file under the home).
    pub async fn launch(home: &Path, db: Option<Arc<TestDb>>) -> TestServer {
        let config = config_for(home, db.as_deref());
        let mut s = Self::launch_config(config).await;
        s.home = home.to_path_buf();
        s.db = db;
        s
    }

    /// A server from a ready configuration. It runs on a runtime of its own in its own
    /// thread, as in production: dropping it (even while the test's runtime is blocked,
    /// say, dropping a PostgreSQL database) still shuts it down cleanly.
    pub async fn launch_config(config: Config) -> TestServer {
        let home = config.paths.home.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the server");
            rt.block_on(async move {
                let bound = bind_once_the_lock_is_free(config)
                    .await
                    .expect("server binds");
                let base = format!("http://{}/api", bound.local_addr());
                let _ = ready_tx.send((base, bound.notices().to_vec()));
                bound
                    .serve(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let Ok((base, notices)) = ready_rx.await else {
            // The thread ended before it was ready: show its panic.
            match thread.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => panic!("the server thread ended before it bound"),
            }
        };
        TestServer {
            base,
            client: Client::new(),
            home,
            notices,
            board_token: None,
            _tmp: None,
            db: None,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// Runs one SQL statement on this server's database behind its back (SQLite file or
    /// PostgreSQL database), for states the API cannot make, such as an expired row.
    #[allow(dead_code)]
    pub async fn sql(&self, statement: &str) {
        match &self.db {
            Some(db) => {
                let mut conn = PgConnection::connect(&db.url).await.expect("connect");
                // sqlx wants the text to outlive the connection's borrow; a test can spare it.
                let text: &'static str = Box::leak(statement.to_string().into_boxed_str());
                conn.execute(sqlx::raw_sql(text)).await.expect(text);
            }
            None => {
                let path = self.home.join("instances/default/db/paperclip.db");
                let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
                conn.busy_timeout(std::time::Duration::from_secs(5))
                    .unwrap();
                conn.execute_batch(statement).expect(statement);
            }
        }
    }

    /// The first column of a query's rows, as text (the query casts what is not text).
    #[allow(dead_code)]
    pub async fn sql_texts(&self, query: &str) -> Vec<String> {
        match &self.db {
            Some(db) => {
                let mut conn = PgConnection::connect(&db.url).await.expect("connect");
                let text: &'static str = Box::leak(query.to_string().into_boxed_str());
                sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(text))
                    .fetch_all(&mut conn)
                    .await
                    .expect(text)
            }
            None => {
                let path = self.home.join("instances/default/db/paperclip.db");
                let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
                let mut stmt = conn.prepare(query).expect(query);
                stmt.query_map([], |r| r.get::<_, String>(0))
                    .expect(query)
                    .map(|r| r.expect("a text column"))
                    .collect()
            }
        }
    }

    /// Stops the server and waits until it has closed its database and lock.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || thread.join())
                .await
                .expect("join the server thread");
            if let Err(panic) = joined {
                std::panic::resume_unwind(panic);
            }
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token.or(self.board_token.as_deref()) {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, None, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, None, Some(body)).await
    }

    pub async fn company(&self, name: &str) -> String {
        let (s, c) = self.post("/companies", json!({"name": name})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        c["id"].as_str().unwrap().to_string()
    }

    pub async fn agent(&self, company: &str, name: &str, reports_to: Option<&str>) -> String {
        let (s, a) = self
            .post(
                &format!("/companies/{company}/agents"),
                json!({"name": name, "role": "engineer", "reportsTo": reports_to}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        a["id"].as_str().unwrap().to_string()
    }

    pub async fn key(&self, agent: &str) -> String {
        let (s, k) = self
            .post(&format!("/agents/{agent}/keys"), json!({"name": "test"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        k["token"].as_str().unwrap().to_string()
    }

    pub async fn issue(&self, company: &str, body: Value) -> Value {
        let (s, i) = self
            .post(&format!("/companies/{company}/issues"), body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{i}");
        i
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Waits for a clean shutdown (runs ended, database closed) before the
            // home and database go; a server's panic is the test's failure.
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("the server thread panicked");
            }
        }
    }
}

/// Polls a heartbeat run until its status is one of `statuses` (20 s at most); its last
/// state when it gets there.
pub async fn wait_for_run(
    s: &TestServer,
    key: Option<&str>,
    run: impl std::fmt::Display,
    statuses: &[&str],
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (st, v) = s
            .call(
                reqwest::Method::GET,
                &format!("/heartbeat-runs/{run}"),
                key,
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        if statuses.iter().any(|want| v["status"] == *want) {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {run} never reached {statuses:?}: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Asserts the error shape of API.md: a string `error` and a snake_case `code`.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(body["error"].is_string(), "error must be a string: {body}");
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "code missing: {body}"
    );
}

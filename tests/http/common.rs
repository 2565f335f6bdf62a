use std::path::{Path, PathBuf};

use paperclip_server::Server;
use paperclip_server::config::{Config, Overrides};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// A running server on a temporary home; stops (and closes its database) on drop.
pub struct TestServer {
    pub base: String,
    pub client: Client,
    #[allow(dead_code)]
    pub home: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub fn config_for(home: &Path) -> Config {
    let home = home.display().to_string();
    let env = move |k: &str| {
        if k == "PAPERCLIP_HOME" {
            Some(home.clone())
        } else {
            None
        }
    };
    Config::load_with(
        &Overrides {
            port: Some(0),
            ..Default::default()
        },
        &env,
    )
    .expect("config")
}

impl TestServer {
    pub async fn start() -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().to_path_buf();
        let mut s = Self::start_on(&home).await;
        s._tmp = Some(tmp);
        s
    }

    pub async fn start_on(home: &Path) -> TestServer {
        let bound = Server::bind(config_for(home)).await.expect("server binds");
        let base = format!("http://{}/api", bound.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            bound
                .serve(async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
        });
        TestServer {
            base,
            client: Client::new(),
            home: home.to_path_buf(),
            _tmp: None,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Stops the server and waits until it has closed its database and lock.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
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
        if let Some(t) = token {
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

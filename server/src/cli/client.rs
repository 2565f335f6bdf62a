//! How the CLI talks to a Paperclip server: JSON over HTTP(S) with the server's own Origin,
//! a bearer key or a session cookie, and errors as the server words them.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::credentials::{CredentialFile, normalize_base};
use crate::config::{Config, Overrides};

pub(super) enum Auth<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
}

/// One answer: status, `Set-Cookie` values, and the JSON body (null when empty or not JSON).
pub(super) struct Answer {
    pub status: StatusCode,
    pub cookies: Vec<String>,
    pub body: Value,
}

impl Answer {
    /// The server's `error`, else the status.
    pub fn message(&self) -> String {
        match self.body.get("error").and_then(Value::as_str) {
            Some(m) => m.to_string(),
            None => format!("Request failed: {}", self.status),
        }
    }

    pub fn ok(self) -> anyhow::Result<Value> {
        if self.status.is_success() {
            Ok(self.body)
        } else {
            Err(anyhow!(self.message()))
        }
    }
}

/// A Paperclip server as the CLI calls it: every request sends the server's own Origin, as its
/// board UI would (cookie-authenticated mutations need it).
pub(super) struct Server {
    pub base: String,
    origin: String,
    http: reqwest::Client,
}

impl Server {
    pub fn new(base: &str) -> anyhow::Result<Server> {
        let url = url::Url::parse(base)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("paperclip-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Server {
            base: base.to_string(),
            origin: url.origin().ascii_serialization(),
            http,
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("origin", &self.origin)
            .header("accept", "application/json");
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => req = req.bearer_auth(token),
            Auth::Cookie(cookie) => req = req.header("cookie", cookie),
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("could not reach {}", self.base))?;
        let status = resp.status();
        let cookies = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            cookies,
            body,
        })
    }
}

/// An `http(s)://host[:port]` base; a trailing `/` or `/api` is dropped.
pub(super) fn parse_base(raw: &str) -> anyhow::Result<String> {
    let base = normalize_base(raw);
    let base = normalize_base(base.strip_suffix("/api").unwrap_or(&base));
    let valid = url::Url::parse(&base)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !valid {
        bail!(
            "{raw:?} is not a server address: use http:// or https://, e.g. http://localhost:3100"
        );
    }
    Ok(base)
}

/// `--base-url`, else the only server with a stored credential (whoami, logout), else this
/// instance's address from its configuration, else `http://localhost:3100`.
pub(super) fn resolve_base(
    arg: Option<String>,
    store: Option<&CredentialFile>,
) -> anyhow::Result<String> {
    if let Some(base) = arg {
        return parse_base(&base);
    }
    if let Some(base) = store.and_then(CredentialFile::only_base) {
        return parse_base(base);
    }
    let base = Config::load(&Overrides::default())
        .map(|c| crate::server::public_base(&c, &c.host, c.port))
        .unwrap_or_else(|_| "http://localhost:3100".to_string());
    parse_base(&base)
}

pub(super) fn block_on<T>(
    f: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(f)
}

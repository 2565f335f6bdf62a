//! `http`: a webhook. Config as Paperclip's: `url` (required), `method` (POST), `headers`,
//! `timeoutMs`, `payloadTemplate`. The body is the template merged with `agentId`, `runId` and
//! `context`. A 2xx answer is accepted: 202 means the receiver works on and finishes the run
//! through the callback route; any other 2xx finishes it at once.

use std::time::Duration;

use serde_json::{Map, Value};

use super::*;

pub struct HttpAdapter;

/// One request to make for a run.
#[derive(Debug, Clone)]
pub struct HttpCall {
    pub url: url::Url,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub timeout: Duration,
    /// How long an accepted (202) run may wait for its callback.
    pub callback_timeout: Duration,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

impl Adapter for HttpAdapter {
    fn kind(&self) -> &'static str {
        "http"
    }

    fn gets_run_token(&self) -> bool {
        false
    }

    fn plan(&self, input: &RunInput<'_>) -> Result<Plan, AdapterError> {
        let raw = string_field(input.config, "url")
            .ok_or_else(|| AdapterError::Config("HTTP adapter missing url".into()))?;
        let url = url::Url::parse(&raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| AdapterError::Config(format!("url {raw:?} is not an http(s) URL")))?;
        let method = string_field(input.config, "method")
            .unwrap_or_else(|| "POST".into())
            .to_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(AdapterError::Config(format!(
                "method {method:?} is not one of {}",
                METHODS.join(", ")
            )));
        }
        let headers = match input.config.get("headers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(AdapterError::Config(format!(
                        "headers.{k} must be a string"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(AdapterError::Config("headers must be an object".into())),
        };
        let timeout_ms = match input.config.get("timeoutMs") {
            None | Some(Value::Null) => 30_000.0,
            Some(v) => v
                .as_f64()
                .filter(|n| *n > 0.0 && n.is_finite())
                .ok_or_else(|| {
                    AdapterError::Config("timeoutMs must be a number of milliseconds".into())
                })?,
        };
        let mut body = match input.config.get("payloadTemplate") {
            Some(Value::Object(map)) => map.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                return Err(AdapterError::Config(
                    "payloadTemplate must be an object".into(),
                ));
            }
        };
        body.insert("agentId".into(), input.agent_id.to_string().into());
        body.insert("runId".into(), input.run_id.to_string().into());
        body.insert("context".into(), input.context.clone());
        // Where a receiver that answers 202 reports the end (with the agent's own key).
        if let Some(api) = env_value(&input.env, "PAPERCLIP_API_URL") {
            let callback = format!("{api}/api/heartbeat-runs/{}/callback", input.run_id);
            body.insert("callbackUrl".into(), callback.into());
        }
        let callback_timeout = limits_from(input.config, 1.0)?.timeout;
        Ok(Plan::Http(HttpCall {
            url,
            method,
            headers,
            body: Value::Object(body),
            timeout: Duration::from_secs_f64(timeout_ms / 1000.0),
            callback_timeout,
        }))
    }
}

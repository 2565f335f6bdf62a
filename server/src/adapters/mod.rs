//! Adapters translate between a run and what executes it: given the agent's configuration,
//! the run's environment and prompt, each says what to start (a process, or an HTTP call),
//! and reads what came back (session id, usage, cost, errors). They start nothing themselves:
//! the heartbeat supervisor owns every process.

pub mod claude_local;
#[cfg(test)]
mod cli_testing;
pub mod codex_local;
pub mod http;
mod lines;
mod local_cli;
pub mod process;
pub mod which;

use std::path::PathBuf;

use serde_json::{Map, Value};
use uuid::Uuid;

pub use lines::LineBuffer;

use crate::heartbeat::supervisor::{Ending, Launch, Limits, Stream};

/// What a run gives its adapter.
pub struct RunInput<'a> {
    pub run_id: Uuid,
    pub agent_id: Uuid,
    pub company_id: Uuid,
    /// The agent's `adapterConfig` (its `env` already resolved into `env` below).
    pub config: &'a Map<String, Value>,
    /// The whole environment of the process: inherited basics, the resolved config env and
    /// the run's `PAPERCLIP_*` variables.
    pub env: Vec<(String, String)>,
    /// The session to resume, if any (what the adapter returned as `session_id` last time).
    pub session_id: Option<String>,
    /// The rendered prompt (local CLI adapters write it on stdin).
    pub prompt: String,
    /// The run's context snapshot (http sends it).
    pub context: &'a Value,
    /// Where the instance keeps adapter files (skill bundles): `<instance>/data/adapters`.
    pub data_dir: PathBuf,
}

/// What to execute.
pub enum Plan {
    /// A process under the supervisor; its output goes through `parser`.
    Process {
        launch: Launch,
        limits: Limits,
        parser: Box<dyn OutputParser>,
    },
    /// One HTTP request (the `http` adapter).
    Http(http::HttpCall),
}

/// Reads a run's output as it streams, then says how the run went.
pub trait OutputParser: Send {
    fn feed(&mut self, stream: Stream, bytes: &[u8]);
    fn finish(&mut self, ending: &Ending) -> Outcome;
}

/// Token usage of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
}

/// How a run went, as far as its adapter can tell.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// None: success.
    pub error: Option<String>,
    pub error_code: Option<String>,
    /// The session to resume next time (None keeps none).
    pub session_id: Option<String>,
    /// The resumed session was unknown or unusable: retry once with a fresh one.
    pub session_invalid: bool,
    pub usage: Option<Usage>,
    pub model: Option<String>,
    pub provider: Option<String>,
    /// `api` or `subscription`.
    pub billing_type: Option<String>,
    pub cost_usd: Option<f64>,
    pub summary: Option<String>,
    pub result_json: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// The configuration cannot run (a missing command, a bad field): the run fails with it.
    #[error("{0}")]
    Config(String),
    /// The program is not installed where it was looked for.
    #[error("{0}")]
    MissingProgram(String),
}

impl AdapterError {
    pub fn code(&self) -> &'static str {
        match self {
            AdapterError::Config(_) => "adapter_config_invalid",
            AdapterError::MissingProgram(_) => "adapter_command_not_found",
        }
    }
}

pub trait Adapter: Send + Sync {
    fn kind(&self) -> &'static str;
    /// Whether runs get a run JWT as `PAPERCLIP_API_KEY` (local adapters: yes).
    fn gets_run_token(&self) -> bool {
        true
    }
    fn plan(&self, input: &RunInput<'_>) -> Result<Plan, AdapterError>;
}

/// The adapter of an agent's `adapterType`.
pub fn for_type(kind: &str) -> Option<&'static dyn Adapter> {
    match kind {
        "process" => Some(&process::ProcessAdapter),
        "http" => Some(&http::HttpAdapter),
        "claude_local" => Some(&claude_local::ClaudeLocal),
        "codex_local" => Some(&codex_local::CodexLocal),
        _ => None,
    }
}

/// Reads a string field.
pub(crate) fn string_field(config: &Map<String, Value>, key: &str) -> Option<String> {
    config
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Reads a list of strings (`args`, `extraArgs`); anything else in it is a config error.
pub(crate) fn string_list(
    config: &Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, AdapterError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| AdapterError::Config(format!("{key} must be a list of strings")))
            })
            .collect(),
        Some(_) => Err(AdapterError::Config(format!(
            "{key} must be a list of strings"
        ))),
    }
}

/// Seconds from a numeric field: None when absent; a negative or non-number is a config error.
pub(crate) fn seconds_field(
    config: &Map<String, Value>,
    key: &str,
) -> Result<Option<f64>, AdapterError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n >= 0.0 && n.is_finite() => Ok(Some(n)),
            _ => Err(AdapterError::Config(format!(
                "{key} must be a number of seconds, 0 or more"
            ))),
        },
    }
}

/// Default wall-clock limit of a run (30 minutes).
pub const DEFAULT_TIMEOUT_SECS: f64 = 30.0 * 60.0;

/// The limits of a local run from `timeoutSec`, `idleTimeoutSec` and `graceSec`. A
/// `timeoutSec` of 0 is refused rather than meaning "forever".
pub(crate) fn limits_from(
    config: &Map<String, Value>,
    default_grace: f64,
) -> Result<Limits, AdapterError> {
    let timeout = seconds_field(config, "timeoutSec")?.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if timeout == 0.0 {
        return Err(AdapterError::Config(
            "timeoutSec must be more than 0 (a run without a time limit is not allowed)".into(),
        ));
    }
    let idle = seconds_field(config, "idleTimeoutSec")?.filter(|s| *s > 0.0);
    let grace = seconds_field(config, "graceSec")?
        .unwrap_or(default_grace)
        .max(1.0);
    Ok(Limits {
        timeout: std::time::Duration::from_secs_f64(timeout),
        idle_timeout: idle.map(std::time::Duration::from_secs_f64),
        grace: std::time::Duration::from_secs_f64(grace),
    })
}

/// The working directory from `cwd`: it must exist.
pub(crate) fn cwd_field(config: &Map<String, Value>) -> Result<Option<PathBuf>, AdapterError> {
    let Some(dir) = string_field(config, "cwd") else {
        return Ok(None);
    };
    let path = PathBuf::from(&dir);
    if !path.is_dir() {
        return Err(AdapterError::Config(format!(
            "cwd {dir:?} is not a directory on this machine"
        )));
    }
    Ok(Some(path))
}

/// The value of a variable in a run's environment.
pub(crate) fn env_value<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

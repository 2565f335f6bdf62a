//! `codex exec --json`: one JSON event a line. `thread.started` names the session,
//! `item.completed` agent messages carry the answer, `turn.completed` the usage (each one
//! replaces the last), `turn.failed` and `error` the failure. Rules and messages are
//! Paperclip's.

use serde_json::{Map, Value, json};

use super::super::local_cli::{self, Tail, normalize};
use super::super::{LineBuffer, Outcome, OutputParser, Usage};
use crate::heartbeat::supervisor::{Ending, Stream};

/// How much of stderr, and of stdout lines that are not JSON, is kept for messages.
const TAIL: usize = 16 * 1024;

pub struct CodexParser {
    lines: LineBuffer,
    resumed: Option<String>,
    billing_type: &'static str,
    model: Option<String>,
    session_id: Option<String>,
    summary: Option<String>,
    error_message: Option<String>,
    /// Every `error`/`turn.failed` message, for pattern matching.
    errors: Vec<String>,
    usage: Option<Usage>,
    loose: Tail,
    stderr: Tail,
}

impl CodexParser {
    /// `resumed`: the session the run asked to resume, if any.
    pub fn new(resumed: Option<String>, billing_type: &'static str, model: Option<String>) -> Self {
        CodexParser {
            lines: LineBuffer::default(),
            resumed,
            billing_type,
            model,
            session_id: None,
            summary: None,
            error_message: None,
            errors: Vec::new(),
            usage: None,
            loose: Tail::new(TAIL),
            stderr: Tail::new(TAIL),
        }
    }

    fn line(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let Ok(Value::Object(event)) = serde_json::from_str::<Value>(line) else {
            self.loose.push(line.as_bytes());
            self.loose.push(b"\n");
            return;
        };
        match str_of(&event, "type") {
            "thread.started" => {
                if let Some(id) = non_empty(&event, "thread_id") {
                    self.session_id = Some(id);
                }
            }
            "item.completed" => {
                if let Some(Value::Object(item)) = event.get("item")
                    && str_of(item, "type") == "agent_message"
                    && let Some(text) = item.get("text").and_then(Value::as_str)
                    && !text.is_empty()
                {
                    self.summary = Some(text.trim().to_string());
                }
            }
            "turn.completed" => {
                let usage = event.get("usage");
                let previous = self.usage.clone().unwrap_or_default();
                let field = |k: &str, old: i64| {
                    usage
                        .and_then(|u| u.get(k))
                        .and_then(Value::as_f64)
                        .map_or(old, |n| n as i64)
                };
                self.usage = Some(Usage {
                    input_tokens: field("input_tokens", previous.input_tokens),
                    cached_input_tokens: field("cached_input_tokens", previous.cached_input_tokens),
                    output_tokens: field("output_tokens", previous.output_tokens),
                });
            }
            "turn.failed" => {
                if let Some(Value::Object(err)) = event.get("error") {
                    self.take_error(non_empty(err, "message"));
                }
            }
            "error" => self.take_error(non_empty(&event, "message")),
            _ => {}
        }
    }

    fn take_error(&mut self, message: Option<String>) {
        if let Some(msg) = message {
            if self.errors.len() < 32 {
                self.errors.push(msg.clone());
            }
            self.error_message = Some(msg);
        }
    }
}

fn str_of<'a>(event: &'a Map<String, Value>, key: &str) -> &'a str {
    event.get(key).and_then(Value::as_str).unwrap_or("")
}

fn non_empty(event: &Map<String, Value>, key: &str) -> Option<String> {
    Some(str_of(event, key).trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Paperclip's unknown-session pattern for Codex, on one normalized line.
pub(crate) fn is_unknown_session(line: &str) -> bool {
    [
        "unknown session",
        "unknown thread",
        "missing rollout path for thread",
        "state db missing rollout path",
        "state db returned stale rollout path",
        "no rollout found for thread id",
    ]
    .iter()
    .any(|p| line.contains(p))
        || ["session ", "thread ", "conversation "]
            .iter()
            .any(|a| local_cli::followed_by(line, a, " not found"))
}

/// Paperclip's provider-quota pattern for Codex, on one normalized line.
pub(crate) fn is_quota(line: &str) -> bool {
    [
        "usage limit",
        "model at capacity",
        "model is at capacity",
        "at capacity for this model",
        "capacity limit",
    ]
    .iter()
    .any(|p| line.contains(p))
}

/// `You've hit your usage limit for …. Switch to another model now, or try again at 5:30 PM
/// (UTC).`: that moment.
pub(crate) fn reset_time(line: &str, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let start = line.find("you've hit your usage limit for ")?;
    let after = &line[start..];
    let at = after.find("try again at ")?;
    let (hour, minute, rest) = local_cli::parse_clock(&after[at + "try again at ".len()..])?;
    let rest = rest.trim_start();
    let tz = match rest.strip_prefix('(') {
        Some(r) => r.split_once(')').map(|(tz, _)| tz),
        None => rest
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .filter(|w| (2..=5).contains(&w.len())),
    };
    local_cli::next_clock_time(now, hour, minute, tz).map(|t| t.to_rfc3339())
}

impl OutputParser for CodexParser {
    fn feed(&mut self, stream: Stream, bytes: &[u8]) {
        match stream {
            Stream::Stdout => {
                for line in self.lines.push(bytes) {
                    self.line(&line);
                }
            }
            Stream::Stderr => self.stderr.push(bytes),
        }
    }

    fn finish(&mut self, ending: &Ending) -> Outcome {
        if let Some(line) = self.lines.flush() {
            self.line(&line);
        }
        let stderr = self.stderr.text();
        let mut outcome = Outcome {
            session_id: self.session_id.clone().or_else(|| self.resumed.clone()),
            usage: self.usage.clone(),
            model: self.model.clone(),
            provider: Some("openai".into()),
            billing_type: Some(self.billing_type.into()),
            cost_usd: None,
            summary: self.summary.clone(),
            ..Outcome::default()
        };
        let mut result = json!({ "summary": self.summary.clone().unwrap_or_default() });
        // Timeouts and stops are named by the run; only an exit is judged here.
        let (code, signal) = match ending {
            Ending::Exited { code, signal } => (*code, *signal),
            _ => {
                outcome.result_json = Some(result);
                return outcome;
            }
        };
        if code == Some(0) {
            outcome.result_json = Some(result);
            return outcome;
        }
        let error = self
            .error_message
            .clone()
            .or_else(|| local_cli::first_line(&stderr).map(str::to_string))
            .unwrap_or_else(|| match (code, signal) {
                (Some(c), _) => format!("Codex exited with code {c}"),
                (None, Some(s)) => format!("Codex was killed by signal {s}"),
                (None, None) => "Codex ended without an exit code".into(),
            });
        let mut texts = self.errors.clone();
        texts.extend([error.clone(), self.loose.text(), stderr.clone()]);
        let lines: Vec<String> = texts
            .iter()
            .flat_map(|t| t.lines())
            .map(normalize)
            .filter(|l| !l.is_empty())
            .collect();
        if self.resumed.is_some() && lines.iter().any(|l| is_unknown_session(l)) {
            outcome.session_invalid = true;
            outcome.session_id = None;
        }
        let quota = lines.iter().any(|l| is_quota(l));
        outcome.error_code = Some(
            if quota {
                "provider_quota"
            } else {
                "adapter_failed"
            }
            .into(),
        );
        if let Some(obj) = result.as_object_mut() {
            obj.insert("errorMessage".into(), Value::String(error.clone()));
            if !stderr.trim().is_empty() {
                obj.insert("stderr".into(), Value::String(stderr));
            }
            let now = chrono::Utc::now();
            if quota && let Some(at) = lines.iter().find_map(|l| reset_time(l, now)) {
                obj.insert("retryNotBefore".into(), Value::String(at));
            }
        }
        outcome.error = Some(error);
        outcome.result_json = Some(result);
        outcome
    }
}

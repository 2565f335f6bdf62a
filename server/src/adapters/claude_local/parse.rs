//! Claude's `--output-format stream-json`: one JSON event a line. `system/init` names the
//! session and model, `assistant` messages carry text, and the final `result` carries the
//! outcome, cost and usage. Failure rules and messages are Paperclip's.

use serde_json::{Map, Value, json};

use super::super::local_cli::{self, Tail, normalize};
use super::super::{LineBuffer, Outcome, OutputParser, Usage};
use crate::heartbeat::supervisor::{Ending, Stream};

/// How much of stderr, and of stdout lines that are not JSON, is kept for messages.
const TAIL: usize = 16 * 1024;
/// How much assistant text is kept for a summary when there is no result event.
const TEXT_CAP: usize = 64 * 1024;

pub struct ClaudeParser {
    lines: LineBuffer,
    resumed: Option<String>,
    billing_type: &'static str,
    configured_model: Option<String>,
    session_id: Option<String>,
    model: Option<String>,
    texts: Vec<String>,
    text_len: usize,
    result: Option<Map<String, Value>>,
    loose: Tail,
    stderr: Tail,
}

impl ClaudeParser {
    /// `resumed`: the session the run asked to resume, if any.
    pub fn new(
        resumed: Option<String>,
        billing_type: &'static str,
        configured_model: Option<String>,
    ) -> Self {
        ClaudeParser {
            lines: LineBuffer::default(),
            resumed,
            billing_type,
            configured_model,
            session_id: None,
            model: None,
            texts: Vec::new(),
            text_len: 0,
            result: None,
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
        let kind = str_of(&event, "type");
        if kind == "system" && str_of(&event, "subtype") == "init" {
            self.take_session(&event);
            if let Some(model) = non_empty(&event, "model") {
                self.model = Some(model);
            }
        } else if kind == "assistant" {
            self.take_session(&event);
            let blocks = event
                .get("message")
                .and_then(|m| m.get("content"))
                .and_then(Value::as_array);
            for block in blocks.into_iter().flatten() {
                if block.get("type").and_then(Value::as_str) == Some("text")
                    && let Some(text) = block.get("text").and_then(Value::as_str)
                    && !text.is_empty()
                {
                    self.push_text(text);
                }
            }
        } else if kind == "result" {
            self.take_session(&event);
            self.result = Some(event);
        }
    }

    fn take_session(&mut self, event: &Map<String, Value>) {
        if let Some(id) = non_empty(event, "session_id") {
            self.session_id = Some(id);
        }
    }

    fn push_text(&mut self, text: &str) {
        self.text_len += text.len();
        self.texts.push(text.to_string());
        while self.text_len > TEXT_CAP && self.texts.len() > 1 {
            let dropped = self.texts.remove(0);
            self.text_len -= dropped.len();
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

/// The messages of a result's `errors` (strings, or objects with message/error/code).
pub(crate) fn error_messages(result: &Map<String, Value>) -> Vec<String> {
    let Some(items) = result.get("errors").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Object(obj) => ["message", "error", "code"]
                .iter()
                .find_map(|k| non_empty(obj, k))
                .or_else(|| Some(item.to_string())),
            _ => None,
        })
        .collect()
}

/// `Claude run failed: subtype=<s>: <result or errors[0]>`.
fn describe_failure(result: &Map<String, Value>) -> Option<String> {
    let mut parts = vec!["Claude run failed".to_string()];
    if let Some(subtype) = non_empty(result, "subtype") {
        parts.push(format!("subtype={subtype}"));
    }
    let detail = non_empty(result, "result").or_else(|| error_messages(result).into_iter().next());
    parts.extend(detail);
    (parts.len() > 1).then(|| parts.join(": "))
}

/// Usage from `modelUsage` (every model of the run, cache writes counted as input) when it
/// has an entry, else from `usage`.
pub(crate) fn usage_of(result: &Map<String, Value>) -> Usage {
    let num = |v: Option<&Value>| v.and_then(Value::as_f64).unwrap_or(0.0) as i64;
    if let Some(by_model) = result.get("modelUsage").and_then(Value::as_object) {
        let entries: Vec<&Map<String, Value>> = by_model
            .values()
            .filter_map(Value::as_object)
            .filter(|e| !e.is_empty())
            .collect();
        if !entries.is_empty() {
            let mut usage = Usage::default();
            for e in entries {
                usage.input_tokens +=
                    num(e.get("inputTokens")) + num(e.get("cacheCreationInputTokens"));
                usage.output_tokens += num(e.get("outputTokens"));
                usage.cached_input_tokens += num(e.get("cacheReadInputTokens"));
            }
            return usage;
        }
    }
    let usage = result.get("usage");
    let field = |k: &str| num(usage.and_then(|u| u.get(k)));
    Usage {
        input_tokens: field("input_tokens"),
        cached_input_tokens: field("cache_read_input_tokens"),
        output_tokens: field("output_tokens"),
    }
}

/// Whether the result says the turn limit ran out.
fn is_max_turns(result: &Map<String, Value>) -> bool {
    if str_of(result, "subtype")
        .trim()
        .eq_ignore_ascii_case("error_max_turns")
    {
        return true;
    }
    ["stop_reason", "stopReason", "error_code", "errorCode"]
        .iter()
        .map(|k| str_of(result, k).trim().to_ascii_lowercase())
        .any(|r| {
            matches!(
                r.as_str(),
                "max_turns" | "max_turns_exhausted" | "turn_limit" | "turn_limit_exhausted"
            )
        })
}

/// Paperclip's unknown-session pattern, on one normalized line.
pub(crate) fn is_unknown_session(line: &str) -> bool {
    [
        "no conversation found with session id",
        "unknown session",
        "not a valid uuid",
        "--resume requires a valid session",
        "is not a uuid",
        "does not match any session title",
    ]
    .iter()
    .any(|p| line.contains(p))
        || local_cli::followed_by(line, "session ", " not found")
}

/// Paperclip's "log in first" pattern, on one normalized line.
pub(crate) fn is_login_required(line: &str) -> bool {
    [
        "not logged in",
        "please log in",
        "please run claude login",
        "please run `claude login",
        "please run /login",
        "login required",
        "requires login",
        "unauthorized",
        "authentication required",
    ]
    .iter()
    .any(|p| line.contains(p))
        || line.match_indices("invalid api key").any(|(i, p)| {
            let after = &line[i + p.len()..];
            let window: String = after.chars().take(140).collect();
            ["/login", "claude login", "log in"]
                .iter()
                .any(|w| window.contains(w))
        })
}

/// Paperclip's provider-quota pattern, on one normalized line: the end of the first match.
pub(crate) fn quota_match(line: &str) -> Option<usize> {
    let plain = [
        "you've hit your session limit",
        "session limit reached",
        "session limit exceeded",
        "usage limit reached",
        "5-hour limit reached",
        "5 hour limit reached",
        "5hour limit reached",
        "weekly limit reached",
        "usage cap reached",
        "servicequotaexceededexception",
    ];
    let mut found = plain
        .iter()
        .filter_map(|p| line.find(p).map(|i| i + p.len()))
        .min();
    if local_cli::has_word(line, "extra usage") {
        let end = line.find("extra usage").map(|i| i + "extra usage".len());
        found = found.into_iter().chain(end).min();
    }
    found
}

/// When a usage limit says it resets (`… resets [at] 5pm (UTC)`, or the older
/// `Claude AI usage limit reached|<unix seconds>`), that moment.
pub(crate) fn reset_time(line: &str, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let start = quota_match(line)?;
    if let Some(rest) = line[start..].strip_prefix('|') {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return digits
            .parse::<i64>()
            .ok()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .map(|t| t.to_rfc3339());
    }
    let window: String = line[start..].chars().take(160).collect();
    let at = window.find("reset")?;
    let rest = window[at + "reset".len()..]
        .trim_start_matches('s')
        .trim_start();
    let rest = rest.strip_prefix("at ").unwrap_or(rest);
    let (hour, minute, rest) = local_cli::parse_clock(rest)?;
    let rest = rest.trim_start();
    let tz = rest
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(tz, _)| tz);
    local_cli::next_clock_time(now, hour, minute, tz).map(|t| t.to_rfc3339())
}

impl OutputParser for ClaudeParser {
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
        // Timeouts and stops are named by the run; an exit is judged here.
        let exit = match ending {
            Ending::Exited { code, signal } => Some((*code, *signal)),
            _ => None,
        };
        let nonzero =
            matches!(exit, Some((Some(c), _)) if c != 0) || matches!(exit, Some((None, Some(_))));
        let assistant_text = self.texts.join("\n\n").trim().to_string();
        let mut outcome = Outcome {
            session_id: self.session_id.clone().or_else(|| self.resumed.clone()),
            model: self
                .model
                .clone()
                .or_else(|| self.result.as_ref().and_then(|r| non_empty(r, "model")))
                .or_else(|| self.configured_model.clone()),
            provider: Some("anthropic".into()),
            billing_type: Some(self.billing_type.into()),
            ..Outcome::default()
        };

        // The texts error patterns are looked for in.
        let mut messages: Vec<String> = Vec::new();
        let Some(result) = self.result.clone() else {
            outcome.summary = Some(assistant_text.clone()).filter(|s| !s.is_empty());
            outcome.result_json = Some(json!({ "summary": assistant_text }));
            let Some((code, signal)) = exit else {
                return outcome;
            };
            let first = local_cli::first_line(&stderr);
            outcome.error = Some(match (code, signal, first) {
                (Some(0), _, _) => "Failed to parse claude JSON output".into(),
                (Some(c), _, Some(line)) => format!("Claude exited with code {c}: {line}"),
                (Some(c), _, None) => format!("Claude exited with code {c}"),
                (None, Some(s), _) => format!("Claude was killed by signal {s}"),
                (None, None, _) => "Claude ended without an exit code".into(),
            });
            if !stderr.trim().is_empty()
                && let Some(obj) = outcome.result_json.as_mut().and_then(Value::as_object_mut)
            {
                obj.insert("stderr".into(), Value::String(stderr.clone()));
            }
            messages.extend([self.loose.text(), stderr]);
            classify(&mut outcome, &messages, nonzero);
            return outcome;
        };

        let is_error = result
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let subtype = str_of(&result, "subtype").trim().to_ascii_lowercase();
        let succeeded = subtype == "success" && !is_error;
        let failed = exit.is_some() && !succeeded && (nonzero || is_error);
        outcome.usage = Some(usage_of(&result));
        outcome.cost_usd = result
            .get("total_cost_usd")
            .and_then(Value::as_f64)
            .filter(|c| c.is_finite());
        let summary = non_empty(&result, "result").unwrap_or(assistant_text);
        outcome.summary = Some(summary).filter(|s| !s.is_empty());
        if failed {
            outcome.error = Some(describe_failure(&result).unwrap_or_else(|| match exit {
                Some((Some(c), _)) => format!("Claude exited with code {c}"),
                _ => "Claude run failed".into(),
            }));
        }
        outcome.result_json = Some(Value::Object(result.clone()));
        messages.extend(non_empty(&result, "result"));
        messages.extend(error_messages(&result));
        let session_messages = messages.clone();
        messages.extend([self.loose.text(), stderr]);
        if failed && is_max_turns(&result) {
            outcome.error_code = Some("max_turns_exhausted".into());
            outcome.session_id = None;
            set_field(&mut outcome, "stopReason", "max_turns_exhausted".into());
        }
        // An unknown session shows in the result's own messages (or in stderr).
        if failed && nonzero && self.resumed.is_some() {
            let mut candidates = session_messages;
            candidates.push(self.stderr.text());
            if lines_of(&candidates).any(|l| is_unknown_session(&l)) {
                outcome.session_invalid = true;
                outcome.session_id = None;
            }
        }
        classify(&mut outcome, &messages, true);
        outcome
    }
}

/// The error code of a failed run: login needed, turn limit (already set), usage limit
/// (`quota`: only looked for when the CLI exited with an error), else `adapter_failed`.
fn classify(outcome: &mut Outcome, messages: &[String], quota: bool) {
    if outcome.error.is_none() {
        return;
    }
    if lines_of(messages).any(|l| is_login_required(&l)) {
        outcome.error_code = Some("claude_auth_required".into());
        return;
    }
    if outcome.error_code.is_some() {
        return;
    }
    if quota && lines_of(messages).any(|l| quota_match(&l).is_some()) {
        outcome.error_code = Some("provider_quota".into());
        let now = chrono::Utc::now();
        if let Some(at) = lines_of(messages).find_map(|l| reset_time(&l, now)) {
            set_field(outcome, "retryNotBefore", Value::String(at));
        }
        return;
    }
    outcome.error_code = Some("adapter_failed".into());
}

/// Every non-blank line of the texts, normalized.
fn lines_of(texts: &[String]) -> impl Iterator<Item = String> + '_ {
    texts
        .iter()
        .flat_map(|t| t.lines())
        .map(normalize)
        .filter(|l| !l.is_empty())
}

fn set_field(outcome: &mut Outcome, key: &str, value: Value) {
    let json = outcome.result_json.get_or_insert_with(|| json!({}));
    if let Some(obj) = json.as_object_mut() {
        obj.insert(key.into(), value);
    }
}

//! Environment bindings in agent configurations (`adapterConfig.env`): Paperclip's shapes,
//! which keys count as sensitive, and the redaction every API read applies.
//!
//! A binding is a bare string (legacy plain text), `{"type":"plain","value"}`, or
//! `{"type":"secret_ref","secretId","version":"latest"|n}`. A plain value under a sensitive key
//! is never shown: reads carry `***REDACTED***` in its place; references are shown as they are.

use serde::Serializer;
use serde_json::{Map, Value, json};

/// What a read shows instead of a sensitive plain value (and what a write refuses to store).
pub const REDACTED: &str = "***REDACTED***";

/// Keys whose plain values are credentials: `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD`,
/// and anything naming `AUTHORIZATION`, `BEARER` or `JWT` (case does not matter).
pub fn is_sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    let suffix = |s: &str| key == s || key.ends_with(&format!("_{s}"));
    suffix("API_KEY")
        || suffix("APIKEY")
        || suffix("TOKEN")
        || suffix("SECRET")
        || suffix("PASSWORD")
        || key.contains("AUTHORIZATION")
        || key.contains("BEARER")
        || key.contains("JWT")
}

/// The prefix of the by-name shorthand for a reference: `"$secret:<name>"`.
pub const SECRET_BY_NAME: &str = "$secret:";

/// The secret name of a `"$secret:<name>"` binding (a reference by name, not a value).
pub fn secret_name(binding: &Value) -> Option<&str> {
    binding
        .as_str()
        .and_then(|s| s.strip_prefix(SECRET_BY_NAME))
        .map(str::trim)
}

/// The plain text of a binding, if it is one (a bare string or `{"type":"plain"}`).
pub fn plain_value(binding: &Value) -> Option<&str> {
    match binding {
        Value::String(s) if !s.starts_with(SECRET_BY_NAME) => Some(s),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("plain") => {
            o.get("value").and_then(Value::as_str)
        }
        _ => None,
    }
}

/// Whether `env` holds a plain value under a sensitive key (something to hide).
fn env_has_secrets(env: &Value) -> bool {
    env.as_object().is_some_and(|env| {
        env.iter()
            .any(|(key, binding)| is_sensitive_key(key) && plain_value(binding).is_some())
    })
}

/// `config` with each sensitive plain value in its `env` replaced by [`REDACTED`].
pub fn redact_config(config: &Value) -> Value {
    let Some(env) = config.get("env").and_then(Value::as_object) else {
        return config.clone();
    };
    let mut out = config.clone();
    out["env"] = Value::Object(redact_env(env));
    out
}

/// An env with each sensitive plain value replaced by [`REDACTED`]; references stay.
fn redact_env(env: &Map<String, Value>) -> Map<String, Value> {
    env.iter()
        .map(|(key, binding)| {
            let hidden = is_sensitive_key(key) && plain_value(binding).is_some();
            let shown = match (hidden, binding) {
                (false, _) => binding.clone(),
                (true, Value::String(_)) => Value::String(REDACTED.into()),
                (true, _) => json!({"type": "plain", "value": REDACTED}),
            };
            (key.clone(), shown)
        })
        .collect()
}

/// Serializes an adapter configuration redacted (for `#[serde(serialize_with)]`).
/// Most configurations hold nothing to hide and are written as they are, without a copy.
pub fn serialize_redacted<S: Serializer>(config: &Value, s: S) -> Result<S::Ok, S::Error> {
    if config.get("env").is_some_and(env_has_secrets) {
        serde::Serialize::serialize(&redact_config(config), s)
    } else {
        serde::Serialize::serialize(config, s)
    }
}

/// Serializes an env object itself redacted (a project's `env`).
pub fn serialize_redacted_env<S: Serializer>(env: &Value, s: S) -> Result<S::Ok, S::Error> {
    match env.as_object() {
        Some(map) if env_has_secrets(env) => serde::Serialize::serialize(&redact_env(map), s),
        _ => serde::Serialize::serialize(env, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_keys_are_the_credential_shaped_ones() {
        for key in [
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "token",
            "DB_PASSWORD",
            "CLIENT_SECRET",
            "HTTP_AUTHORIZATION",
            "BEARER",
            "MY_JWT",
        ] {
            assert!(is_sensitive_key(key), "{key}");
        }
        for key in ["PATH", "HOME", "AUTHOR_NAME", "TOKENIZER_MODE", "LOG_LEVEL"] {
            assert!(!is_sensitive_key(key), "{key}");
        }
    }

    #[test]
    fn reads_hide_sensitive_plain_values_and_keep_references() {
        let config = json!({"model": "x", "env": {
            "OPENAI_API_KEY": "sk-1",
            "GITHUB_TOKEN": {"type": "plain", "value": "ghp-2"},
            "ANTHROPIC_API_KEY": {"type": "secret_ref", "secretId": "s", "version": "latest"},
            "LOG_LEVEL": "debug"
        }});
        let shown = redact_config(&config);
        assert_eq!(shown["env"]["OPENAI_API_KEY"], REDACTED);
        assert_eq!(shown["env"]["GITHUB_TOKEN"]["value"], REDACTED);
        assert_eq!(
            shown["env"]["ANTHROPIC_API_KEY"],
            config["env"]["ANTHROPIC_API_KEY"]
        );
        assert_eq!(shown["env"]["LOG_LEVEL"], "debug");
        assert_eq!(shown["model"], "x");
        assert!(!shown.to_string().contains("sk-1") && !shown.to_string().contains("ghp-2"));
        assert_eq!(redact_config(&json!({"no": "env"})), json!({"no": "env"}));
    }
}

//! Checks on the `env` of an agent's configuration before it is stored: names a shell can
//! use, bindings of Paperclip's shapes, references to this company's secrets, no redacted
//! placeholder written back, and in strict mode no plain value under a sensitive key.

use paperclip_shared::env::{REDACTED, is_sensitive_key, plain_value};
use serde_json::Value;
use uuid::Uuid;

use super::{Domain, DomainError, DomainResult};

fn env_rule(code: &'static str, message: String) -> DomainError {
    DomainError::rule(code, message)
}

fn valid_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A `secret_ref`'s secret id, or why the binding is not one of Paperclip's shapes.
fn reference(binding: &Value) -> Result<Option<Uuid>, ()> {
    let Value::Object(o) = binding else {
        return if binding.is_string() {
            Ok(None)
        } else {
            Err(())
        };
    };
    match o.get("type").and_then(Value::as_str) {
        Some("plain") if o.get("value").is_some_and(Value::is_string) => Ok(None),
        Some("secret_ref") => {
            let id = o
                .get("secretId")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or(())?;
            match o.get("version") {
                None | Some(Value::Null) => Ok(Some(id)),
                Some(Value::String(v)) if v == "latest" => Ok(Some(id)),
                Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n >= 1) => Ok(Some(id)),
                _ => Err(()),
            }
        }
        _ => Err(()),
    }
}

impl Domain {
    /// Checks `config.env` for an agent of `company_id` (nothing to check without one).
    pub(crate) async fn check_env(&self, company_id: Uuid, config: &Value) -> DomainResult<()> {
        let env = match config.get("env") {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Object(env)) => env,
            Some(_) => {
                return Err(DomainError::invalid(
                    "adapterConfig.env",
                    "adapterConfig.env must be an object of variable names to bindings",
                ));
            }
        };
        for (key, binding) in env {
            if !valid_name(key) {
                return Err(env_rule(
                    "invalid_env_name",
                    format!("Invalid environment variable name: {key}"),
                ));
            }
            let Ok(secret) = reference(binding) else {
                return Err(env_rule(
                    "invalid_env_binding",
                    format!("Invalid environment binding for key: {key}"),
                ));
            };
            if let Some(secret) = secret {
                let found = self.store.get_secret(secret).await?;
                if found.is_none_or(|s| s.company_id != company_id) {
                    return Err(DomainError::NotFound("Secret not found"));
                }
                continue;
            }
            let value = plain_value(binding).unwrap_or_default();
            if value == REDACTED {
                return Err(env_rule(
                    "redacted_placeholder",
                    format!("Refusing to persist redacted placeholder for key: {key}"),
                ));
            }
            if self.strict_secrets && is_sensitive_key(key) && !value.trim().is_empty() {
                return Err(env_rule(
                    "strict_secret_mode",
                    format!(
                        "Strict secret mode requires secret references for sensitive key: {key}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

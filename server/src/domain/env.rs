//! Checks on an `env` (an agent's `adapterConfig.env`, a project's `env`) before it is stored:
//! names a shell can use, bindings of Paperclip's shapes, references to this company's secrets
//! (a `"$secret:<name>"` shorthand is stored as the reference it names), no redacted
//! placeholder written back, and in strict mode no plain value under a sensitive key.

use paperclip_shared::env::{REDACTED, is_sensitive_key, plain_value, secret_name};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Domain, DomainError, DomainResult};
use crate::secrets::crypto;
use paperclip_shared::SecretStatus;
use zeroize::Zeroizing;

/// An environment ready for a process: names and plain values (wiped when dropped).
pub type ResolvedEnv = Vec<(String, Zeroizing<String>)>;

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

/// The keys of `env` bound to a secret (their resolved values are credentials to mask).
pub fn secret_bound_keys(env: &Value) -> Vec<String> {
    env.as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, binding)| {
                    secret_name(binding).is_some() || matches!(reference(binding), Ok(Some(_)))
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

impl Domain {
    /// The plain environment `env` stands for in `company_id`, every reference opened, in one
    /// read of the store. A reference that cannot be honoured fails the whole resolution,
    /// naming the variable, so no process starts with half its credentials.
    pub async fn resolve_env(&self, company_id: Uuid, env: &Value) -> DomainResult<ResolvedEnv> {
        let Some(env) = env.as_object() else {
            return Ok(Vec::new());
        };
        let mut wanted: Vec<(String, Uuid, Option<i64>)> = Vec::new();
        let mut out: ResolvedEnv = Vec::with_capacity(env.len());
        // `"$secret:<name>"` left as written (stored before writes turned names into ids).
        let named = self.secret_ids_by_name(company_id, env).await?;
        for (key, binding) in env {
            if let Some(name) = secret_name(binding) {
                let id = named.get(name).copied().ok_or_else(|| {
                    env_rule(
                        "secret_not_found",
                        format!("{key} references secret {name:?}, which does not exist"),
                    )
                })?;
                wanted.push((key.clone(), id, None));
                continue;
            }
            match reference(binding) {
                Ok(Some(id)) => wanted.push((key.clone(), id, binding["version"].as_i64())),
                Ok(None) => {
                    let value = plain_value(binding).unwrap_or_default();
                    out.push((key.clone(), Zeroizing::new(value.to_string())));
                }
                Err(()) => {
                    return Err(env_rule(
                        "invalid_env_binding",
                        format!("Invalid environment binding for key: {key}"),
                    ));
                }
            }
        }
        if !wanted.is_empty() {
            let ids: Vec<Uuid> = wanted.iter().map(|(_, id, _)| *id).collect();
            let found = self.store.secrets_with_versions(ids).await?;
            let key = self.master_key().await?;
            for (name, id, pinned) in wanted {
                let missing = || {
                    env_rule(
                        "secret_not_found",
                        format!("{name} references secret {id}, which does not exist"),
                    )
                };
                let (secret, versions) = found
                    .iter()
                    .find(|(s, _)| s.id == id && s.company_id == company_id)
                    .ok_or_else(missing)?;
                if secret.status != SecretStatus::Active {
                    return Err(env_rule(
                        "secret_inactive",
                        format!(
                            "{name} references secret {}, which is {}",
                            secret.name, secret.status
                        ),
                    ));
                }
                let number = pinned.unwrap_or(secret.latest_version);
                let version = versions
                    .iter()
                    .find(|v| v.version == number)
                    .ok_or_else(|| {
                        env_rule(
                            "version_missing",
                            format!("{name} references version {number} of secret {}, which does not exist", secret.name),
                        )
                    })?;
                let plain = crypto::open_stored(&key, company_id, id, &version.ciphertext)
                    .map_err(|e| {
                        DomainError::rule(
                            "secret_unreadable",
                            format!("{name}: secret {}: {e}", secret.name),
                        )
                    })?;
                let text = String::from_utf8(plain.to_vec()).map_err(|_| {
                    DomainError::rule(
                        "secret_unreadable",
                        format!("{name}: secret {} is not text", secret.name),
                    )
                })?;
                out.push((name, Zeroizing::new(text)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The ids of this company's secrets named by `"$secret:<name>"` bindings in `env` (one
    /// read, and none when no binding names one).
    async fn secret_ids_by_name(
        &self,
        company_id: Uuid,
        env: &Map<String, Value>,
    ) -> DomainResult<std::collections::HashMap<String, Uuid>> {
        if !env.values().any(|b| secret_name(b).is_some()) {
            return Ok(Default::default());
        }
        let secrets = self.store.list_secrets(company_id).await?;
        Ok(secrets.into_iter().map(|(s, _)| (s.name, s.id)).collect())
    }

    /// Checks `config.env` for an agent of `company_id` (nothing to check without one), and
    /// stores each `"$secret:<name>"` as the reference it names.
    pub(crate) async fn check_env(&self, company_id: Uuid, config: &mut Value) -> DomainResult<()> {
        match config.get_mut("env") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Object(env)) => self.check_env_bindings(company_id, env).await,
            Some(_) => Err(DomainError::invalid(
                "adapterConfig.env",
                "adapterConfig.env must be an object of variable names to bindings",
            )),
        }
    }

    /// The same checks for a project's `env`.
    pub(crate) async fn check_project_env(
        &self,
        company_id: Uuid,
        env: &mut Value,
    ) -> DomainResult<()> {
        match env {
            Value::Object(env) => self.check_env_bindings(company_id, env).await,
            _ => Err(DomainError::invalid(
                "env",
                "env must be an object of variable names to bindings",
            )),
        }
    }

    async fn check_env_bindings(
        &self,
        company_id: Uuid,
        env: &mut Map<String, Value>,
    ) -> DomainResult<()> {
        let named = self.secret_ids_by_name(company_id, env).await?;
        for (key, binding) in env.iter_mut() {
            if !valid_name(key) {
                return Err(env_rule(
                    "invalid_env_name",
                    format!("Invalid environment variable name: {key}"),
                ));
            }
            if let Some(name) = secret_name(binding) {
                let Some(id) = named.get(name) else {
                    return Err(env_rule(
                        "secret_not_found",
                        format!(
                            "{key} references secret {name:?}, which does not exist in this company"
                        ),
                    ));
                };
                // Found in this company's own list: nothing more to check.
                *binding = json!({"type": "secret_ref", "secretId": id, "version": "latest"});
                continue;
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

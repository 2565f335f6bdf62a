//! Company secrets, as Paperclip's board manages them: create (version 1), change the name,
//! key, status or description, rotate (a new version), delete. Board only (an agent gets 403);
//! another company's secret is 404. Values go in and never come out: they are sealed here
//! (`secrets::crypto`) before the store sees them, and no answer or activity entry holds one.

use paperclip_shared::SecretStatus;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::validate::{optional_text, required_text};
use super::{Domain, DomainError, DomainResult};
use crate::auth::{CompanyScope, RequestActor};
use crate::secrets::crypto;
use crate::store::{SecretRecord, SecretVersionRecord, StoreError};

const NOT_FOUND: &str = "Secret not found";
pub const PROVIDER: &str = "local_encrypted";
const MANAGED: &str = "paperclip_managed";
const NAME_MAX: usize = 200;
const KEY_MAX: usize = 120;
const DESCRIPTION_MAX: usize = 2_000;
/// A value larger than this is not a credential.
pub const VALUE_MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSecret {
    pub name: String,
    /// Defaults to the name, lower-cased, other characters than `a-z0-9_.-` as `-`.
    pub key: Option<String>,
    /// The value: write-only, never returned.
    pub value: Option<String>,
    pub description: Option<String>,
    /// Only `local_encrypted` in this build.
    pub provider: Option<String>,
    /// Only `paperclip_managed` in this build.
    pub managed_mode: Option<String>,
    pub external_ref: Option<String>,
    pub provider_metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSecret {
    pub name: Option<String>,
    pub key: Option<String>,
    /// `active`, `disabled` or `archived` (deleting is `DELETE /secrets/:id`).
    pub status: Option<String>,
    pub description: Option<String>,
    pub external_ref: Option<String>,
    pub provider_metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotateSecret {
    /// The new value: write-only, never returned.
    pub value: Option<String>,
    pub external_ref: Option<String>,
}

/// Paperclip's key normalisation: trimmed, lower-case, runs of other characters than
/// `a-z0-9_.-` as one `-`, no `-` at either end, at most 120 characters.
pub fn normalize_key(text: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
            out.push(c);
            dash = false;
        } else if !dash {
            out.push('-');
            dash = true;
        }
    }
    let trimmed = out.trim_matches('-');
    trimmed.chars().take(KEY_MAX).collect()
}

fn value_of(value: Option<String>) -> DomainResult<zeroize::Zeroizing<String>> {
    let value = zeroize::Zeroizing::new(value.unwrap_or_default());
    if value.trim().is_empty() {
        return Err(DomainError::invalid(
            "value",
            "Managed secrets require value",
        ));
    }
    if value.len() > VALUE_MAX_BYTES {
        return Err(DomainError::invalid(
            "value",
            format!("value is larger than {VALUE_MAX_BYTES} bytes"),
        ));
    }
    Ok(value)
}

fn key_of(field: &str, text: &str) -> DomainResult<String> {
    let key = normalize_key(text);
    if key.is_empty() {
        return Err(DomainError::rule(
            "invalid_secret_key",
            format!("Secret key is required: {field} has no letters or digits to make one"),
        ));
    }
    Ok(key)
}

fn name_taken(name: &str) -> DomainError {
    DomainError::conflict("secret_exists", format!("Secret already exists: {name}"))
}

fn key_taken(key: &str) -> DomainError {
    DomainError::conflict(
        "secret_key_exists",
        format!("Secret key already exists: {key}"),
    )
}

/// A unique constraint that refused the write (a race `check_unique` could not see), named.
fn conflict(e: StoreError, name: &str, key: &str) -> DomainError {
    match e {
        StoreError::Conflict(what) if what.contains("key") => key_taken(key),
        StoreError::Conflict(_) => name_taken(name),
        other => other.into(),
    }
}

impl Domain {
    /// Names and keys are unique per company: say which one is taken (the database's
    /// constraints still decide a race).
    async fn check_unique(
        &self,
        company_id: Uuid,
        name: &str,
        key: &str,
        except: Option<Uuid>,
    ) -> DomainResult<()> {
        let others = self.store.list_secrets(company_id).await?;
        let others = others
            .iter()
            .map(|(s, _)| s)
            .filter(|s| Some(s.id) != except);
        for other in others {
            if other.name == name {
                return Err(name_taken(name));
            }
            if other.key == key {
                return Err(key_taken(key));
            }
        }
        Ok(())
    }

    /// A board caller's scope over the company of secret `id` (404 for anyone else's).
    async fn secret_in_scope(
        &self,
        who: &RequestActor,
        id: Uuid,
    ) -> DomainResult<(CompanyScope, SecretRecord)> {
        who.board()?;
        let secret = self
            .store
            .get_secret(id)
            .await?
            .ok_or(DomainError::NotFound(NOT_FOUND))?;
        let scope = who.company(secret.company_id, NOT_FOUND)?;
        Ok((scope, secret))
    }

    /// The master key, loaded (or made) on first use, off the async runtime (a keychain may
    /// block); 503 when it cannot be had.
    pub(crate) async fn master_key(&self) -> DomainResult<crypto::MasterKey> {
        self.secret_keys.get_blocking().await.map_err(|e| {
            tracing::error!(error = %e, "secrets master key unavailable");
            DomainError::Unavailable(format!("The secrets master key is unavailable: {e}"))
        })
    }

    pub(crate) async fn seal_value(
        &self,
        company_id: Uuid,
        secret_id: Uuid,
        value: &str,
    ) -> DomainResult<String> {
        let key = self.master_key().await?;
        Ok(crypto::seal_stored(
            &key,
            company_id,
            secret_id,
            value.as_bytes(),
        ))
    }

    pub async fn list_secrets(
        &self,
        who: &RequestActor,
        company_id: Uuid,
    ) -> DomainResult<Vec<(SecretRecord, i64)>> {
        who.board()?;
        self.get_company(who, company_id).await?;
        Ok(self.store.list_secrets(company_id).await?)
    }

    pub async fn create_secret(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateSecret,
    ) -> DomainResult<SecretRecord> {
        let board = who.board()?;
        let scope = who.company(company_id, "Company not found")?;
        self.get_company(who, company_id).await?;
        let name = required_text("name", &input.name, NAME_MAX)?;
        let key = key_of("name", input.key.as_deref().unwrap_or(&name))?;
        let provider = input.provider.unwrap_or_else(|| PROVIDER.into());
        if provider != PROVIDER {
            return Err(DomainError::rule(
                "unsupported_secret_provider",
                format!(
                    "Unsupported secret provider: {provider} (this server keeps secrets as {PROVIDER})"
                ),
            ));
        }
        if input.managed_mode.as_deref().is_some_and(|m| m != MANAGED) {
            return Err(DomainError::invalid(
                "managedMode",
                "local_encrypted does not support external reference secrets",
            ));
        }
        if input
            .external_ref
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty())
        {
            return Err(DomainError::invalid(
                "externalRef",
                "Managed secrets cannot set externalRef",
            ));
        }
        let value = value_of(input.value)?;
        self.check_unique(company_id, &name, &key, None).await?;
        let description =
            optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?;
        let metadata = super::validate::json_object("providerMetadata", input.provider_metadata)?;
        let now = crate::domain::now();
        let secret = SecretRecord {
            id: Uuid::new_v4(),
            company_id,
            key: key.clone(),
            name: name.clone(),
            provider: provider.clone(),
            status: SecretStatus::Active,
            managed_mode: MANAGED.into(),
            external_ref: None,
            provider_metadata: metadata,
            latest_version: 1,
            description,
            last_resolved_at: None,
            last_rotated_at: Some(now),
            created_by_agent_id: None,
            created_by_user_id: Some(board.user_id().to_string()),
            created_at: now,
            updated_at: now,
        };
        let first = SecretVersionRecord {
            id: Uuid::new_v4(),
            secret_id: secret.id,
            version: 1,
            ciphertext: self.seal_value(company_id, secret.id, &value).await?,
            created_by_agent_id: None,
            created_by_user_id: Some(board.user_id().to_string()),
            created_at: now,
        };
        let activity = scope.activity(
            "secret.created",
            "secret",
            secret.id,
            json!({"name": name, "provider": provider}),
        );
        self.store
            .insert_secret(secret.clone(), first, vec![activity])
            .await
            .map_err(|e| conflict(e, &name, &key))?;
        Ok(secret)
    }

    pub async fn update_secret(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: UpdateSecret,
    ) -> DomainResult<SecretRecord> {
        let (scope, mut secret) = self.secret_in_scope(who, id).await?;
        if input
            .external_ref
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty())
        {
            return Err(DomainError::rule(
                "managed_secret",
                "Managed secrets cannot override externalRef",
            ));
        }
        if let Some(status) = &input.status {
            secret.status = match status.as_str() {
                "deleted" => {
                    return Err(DomainError::rule(
                        "managed_secret",
                        "Managed secrets must be deleted through DELETE /secrets/:id",
                    ));
                }
                other => SecretStatus::parse(other).ok_or_else(|| {
                    DomainError::invalid(
                        "status",
                        format!("status must be active, disabled or archived, not {other:?}"),
                    )
                })?,
            };
        }
        if let Some(name) = &input.name {
            secret.name = required_text("name", name, NAME_MAX)?;
        }
        if let Some(key) = &input.key {
            secret.key = key_of("key", key)?;
        }
        if input.description.is_some() {
            secret.description =
                optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?;
        }
        if input.provider_metadata.is_some() {
            secret.provider_metadata =
                super::validate::json_object("providerMetadata", input.provider_metadata)?;
        }
        self.check_unique(
            secret.company_id,
            &secret.name,
            &secret.key,
            Some(secret.id),
        )
        .await?;
        secret.updated_at = crate::domain::next_time(secret.updated_at);
        let activity = scope.activity(
            "secret.updated",
            "secret",
            secret.id,
            json!({"name": secret.name}),
        );
        let (name, key) = (secret.name.clone(), secret.key.clone());
        let found = self
            .store
            .update_secret(secret.clone(), vec![activity])
            .await
            .map_err(|e| conflict(e, &name, &key))?;
        if !found {
            return Err(DomainError::NotFound(NOT_FOUND));
        }
        Ok(secret)
    }

    pub async fn rotate_secret(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: RotateSecret,
    ) -> DomainResult<SecretRecord> {
        let (scope, secret) = self.secret_in_scope(who, id).await?;
        if input
            .external_ref
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty())
        {
            return Err(DomainError::rule(
                "managed_secret",
                "Managed secrets cannot override externalRef",
            ));
        }
        if input.value.is_none() {
            return Err(DomainError::invalid(
                "value",
                "Secret rotation requires value",
            ));
        }
        let value = value_of(input.value)?;
        if secret.status != SecretStatus::Active {
            return Err(inactive());
        }
        let board = who.board()?;
        let now = crate::domain::now();
        let version = SecretVersionRecord {
            id: Uuid::new_v4(),
            secret_id: secret.id,
            version: 0,
            ciphertext: self
                .seal_value(secret.company_id, secret.id, &value)
                .await?,
            created_by_agent_id: None,
            created_by_user_id: Some(board.user_id().to_string()),
            created_at: now,
        };
        // The store writes the version number it takes into `version`.
        let activity = scope.activity("secret.rotated", "secret", secret.id, json!({}));
        match self.store.rotate_secret(version, vec![activity]).await? {
            Some(rotated) => Ok(rotated),
            None => match self.store.get_secret(id).await? {
                Some(_) => Err(inactive()),
                None => Err(DomainError::NotFound(NOT_FOUND)),
            },
        }
    }

    pub async fn delete_secret(&self, who: &RequestActor, id: Uuid) -> DomainResult<()> {
        let (scope, secret) = self.secret_in_scope(who, id).await?;
        let activity = scope.activity(
            "secret.deleted",
            "secret",
            secret.id,
            json!({"name": secret.name}),
        );
        if !self.store.delete_secret(id, vec![activity]).await? {
            return Err(DomainError::NotFound(NOT_FOUND));
        }
        Ok(())
    }
}

fn inactive() -> DomainError {
    DomainError::rule("secret_inactive", "Cannot rotate a non-active secret")
}

#[cfg(test)]
mod tests {
    use super::normalize_key;

    #[test]
    fn keys_are_normalised_as_paperclip_does() {
        assert_eq!(normalize_key("  OpenAI API Key "), "openai-api-key");
        assert_eq!(normalize_key("GITHUB_TOKEN"), "github_token");
        assert_eq!(normalize_key("a//b..c"), "a-b..c");
        assert_eq!(normalize_key("***"), "");
        assert_eq!(normalize_key(&"x".repeat(300)).len(), 120);
    }
}

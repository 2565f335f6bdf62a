//! Company secrets as stored: the secret's row and its sealed versions. The store never sees a
//! plaintext value: the domain seals before writing and opens after reading.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::StoreResult;

#[derive(Debug, Clone)]
pub struct SecretRecord {
    pub id: Uuid,
    pub company_id: Uuid,
    pub key: String,
    pub name: String,
    pub provider: String,
    pub status: SecretStatus,
    pub managed_mode: String,
    pub external_ref: Option<String>,
    pub provider_metadata: Option<serde_json::Value>,
    pub latest_version: i64,
    pub description: Option<String>,
    pub last_resolved_at: Option<Timestamp>,
    pub last_rotated_at: Option<Timestamp>,
    pub created_by_agent_id: Option<Uuid>,
    pub created_by_user_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One sealed version (`ciphertext` is base64 of `secrets::crypto::seal`'s bytes).
#[derive(Clone)]
pub struct SecretVersionRecord {
    pub id: Uuid,
    pub secret_id: Uuid,
    pub version: i64,
    pub ciphertext: String,
    pub created_by_agent_id: Option<Uuid>,
    pub created_by_user_id: Option<String>,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SecretVersionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretVersionRecord")
            .field("secret_id", &self.secret_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Each secret with its own versions (what both backends read for `secrets_with_versions`).
pub fn group_versions(
    secrets: Vec<SecretRecord>,
    versions: Vec<SecretVersionRecord>,
) -> Vec<(SecretRecord, Vec<SecretVersionRecord>)> {
    secrets
        .into_iter()
        .map(|s| {
            let own = versions
                .iter()
                .filter(|v| v.secret_id == s.id)
                .cloned()
                .collect();
            (s, own)
        })
        .collect()
}

/// Writes the version number a rotation took into its activity entries' details.
pub fn stamp_version(activity: &mut [ActivityEntry], number: i64) {
    for entry in activity {
        if let Some(details) = entry.details.as_object_mut() {
            details.insert("version".into(), number.into());
        }
    }
}

#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// The company's secrets, newest first, each with how many agents' configurations name it.
    async fn list_secrets(&self, company_id: Uuid) -> StoreResult<Vec<(SecretRecord, i64)>>;
    async fn get_secret(&self, id: Uuid) -> StoreResult<Option<SecretRecord>>;
    /// The secret and its version 1, with activity; a name or key taken in the company is a
    /// `Conflict` naming the constraint.
    async fn insert_secret(
        &self,
        secret: SecretRecord,
        first: SecretVersionRecord,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    /// Writes name, key, status, description and provider metadata (`Conflict` as above);
    /// false when the secret is gone.
    async fn update_secret(
        &self,
        secret: SecretRecord,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<bool>;
    /// Appends a version numbered latest + 1 (the number is taken in the write, and written
    /// into each activity entry's details as `version`) if the secret is still active. None
    /// when it is gone or no longer active.
    async fn rotate_secret(
        &self,
        version: SecretVersionRecord,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<Option<SecretRecord>>;
    /// Deletes the secret and its versions; false when it was gone.
    async fn delete_secret(&self, id: Uuid, activity: Vec<ActivityEntry>) -> StoreResult<bool>;
    /// One version of a secret, or its latest with None.
    async fn secret_version(
        &self,
        secret_id: Uuid,
        version: Option<i64>,
    ) -> StoreResult<Option<SecretVersionRecord>>;
    /// These secrets with every stored version of each, in one read (a run start resolves
    /// all its references at once).
    async fn secrets_with_versions(
        &self,
        ids: Vec<Uuid>,
    ) -> StoreResult<Vec<(SecretRecord, Vec<SecretVersionRecord>)>>;
    /// Every stored version with its company (master-key rotation re-seals them all).
    async fn all_secret_versions(&self) -> StoreResult<Vec<(Uuid, SecretVersionRecord)>>;
    /// New ciphertexts for versions, all in one transaction (a crash leaves all or none).
    async fn reseal_secret_versions(&self, sealed: Vec<(Uuid, String)>) -> StoreResult<()>;
    /// Moving inline env values into secrets: the new secrets with their first versions and
    /// the agents now referring to them, in one transaction.
    async fn apply_env_migration(
        &self,
        secrets: Vec<(SecretRecord, SecretVersionRecord)>,
        agents: Vec<Agent>,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    /// One stored version and its company, to check at start that the master key opens it.
    async fn sample_secret_version(&self) -> StoreResult<Option<(Uuid, SecretVersionRecord)>>;
    /// How many secret versions the instance holds (a start without a master key must refuse
    /// when there are any).
    async fn count_secret_versions(&self) -> StoreResult<i64>;
}

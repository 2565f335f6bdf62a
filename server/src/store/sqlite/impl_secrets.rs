//! `SecretStore` for `SqliteStore`: reads on a reader, writes in one transaction with their
//! activity entries.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::{SqliteStore, activity, secrets};
use crate::store::*;

#[async_trait]
impl SecretStore for SqliteStore {
    async fn list_secrets(&self, company_id: Uuid) -> StoreResult<Vec<(SecretRecord, i64)>> {
        self.read(move |c| secrets::list(c, company_id)).await
    }

    async fn get_secret(&self, id: Uuid) -> StoreResult<Option<SecretRecord>> {
        self.read(move |c| secrets::get(c, id)).await
    }

    async fn insert_secret(
        &self,
        secret: SecretRecord,
        first: SecretVersionRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            secrets::insert(tx, &secret)?;
            secrets::insert_version(tx, &first, "current")?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn update_secret(
        &self,
        secret: SecretRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let found = secrets::update(tx, &secret)?;
            if found {
                activity::insert(tx, &act)?;
            }
            Ok(found)
        })
        .await
    }

    async fn rotate_secret(
        &self,
        version: SecretVersionRecord,
        mut act: Vec<ActivityEntry>,
    ) -> StoreResult<Option<SecretRecord>> {
        self.write(move |tx| {
            let Some(number) = secrets::bump_version(tx, version.secret_id, version.created_at)?
            else {
                return Ok(None);
            };
            secrets::retire_versions(tx, version.secret_id)?;
            let version = SecretVersionRecord {
                version: number,
                ..version
            };
            secrets::insert_version(tx, &version, "current")?;
            stamp_version(&mut act, number);
            activity::insert(tx, &act)?;
            secrets::get(tx, version.secret_id)
        })
        .await
    }

    async fn delete_secret(&self, id: Uuid, act: Vec<ActivityEntry>) -> StoreResult<bool> {
        self.write(move |tx| {
            let found = secrets::delete(tx, id)?;
            if found {
                activity::insert(tx, &act)?;
            }
            Ok(found)
        })
        .await
    }

    async fn secret_version(
        &self,
        secret_id: Uuid,
        version: Option<i64>,
    ) -> StoreResult<Option<SecretVersionRecord>> {
        self.read(move |c| secrets::version(c, secret_id, version))
            .await
    }

    async fn secrets_with_versions(
        &self,
        ids: Vec<Uuid>,
    ) -> StoreResult<Vec<(SecretRecord, Vec<SecretVersionRecord>)>> {
        self.read(move |c| secrets::with_versions(c, &ids)).await
    }

    async fn all_secret_versions(&self) -> StoreResult<Vec<(Uuid, SecretVersionRecord)>> {
        self.read(secrets::all_versions).await
    }

    async fn reseal_secret_versions(&self, sealed: Vec<(Uuid, String)>) -> StoreResult<()> {
        self.write(move |tx| secrets::reseal(tx, &sealed)).await
    }

    async fn apply_env_migration(
        &self,
        moved: Vec<(SecretRecord, SecretVersionRecord)>,
        agents: Vec<Agent>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            for (secret, first) in &moved {
                secrets::insert(tx, secret)?;
                secrets::insert_version(tx, first, "current")?;
            }
            for agent in &agents {
                super::agents::save_agent(tx, agent)?;
            }
            activity::insert(tx, &act)
        })
        .await
    }

    async fn sample_secret_version(&self) -> StoreResult<Option<(Uuid, SecretVersionRecord)>> {
        self.read(secrets::sample).await
    }

    async fn count_secret_versions(&self) -> StoreResult<i64> {
        self.read(secrets::count_versions).await
    }
}

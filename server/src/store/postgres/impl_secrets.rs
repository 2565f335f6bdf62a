//! `SecretStore` for `PgStore`: reads on a pooled connection, writes in one transaction with
//! their activity entries.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::{PgStore, activity, secrets};
use crate::store::*;

#[async_trait]
impl SecretStore for PgStore {
    async fn list_secrets(&self, company_id: Uuid) -> StoreResult<Vec<(SecretRecord, i64)>> {
        Ok(secrets::list(&mut *self.conn().await?, company_id).await?)
    }

    async fn get_secret(&self, id: Uuid) -> StoreResult<Option<SecretRecord>> {
        Ok(secrets::get(&mut *self.conn().await?, id).await?)
    }

    async fn insert_secret(
        &self,
        secret: SecretRecord,
        first: SecretVersionRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        secrets::insert(&mut tx, &secret).await?;
        secrets::insert_version(&mut tx, &first, "current").await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_secret(
        &self,
        secret: SecretRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        if !secrets::update(&mut tx, &secret).await? {
            return Ok(false);
        }
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn rotate_secret(
        &self,
        version: SecretVersionRecord,
        mut act: Vec<ActivityEntry>,
    ) -> StoreResult<Option<SecretRecord>> {
        let mut tx = self.tx().await?;
        let Some(number) =
            secrets::bump_version(&mut tx, version.secret_id, version.created_at).await?
        else {
            return Ok(None);
        };
        secrets::retire_versions(&mut tx, version.secret_id).await?;
        let version = SecretVersionRecord {
            version: number,
            ..version
        };
        secrets::insert_version(&mut tx, &version, "current").await?;
        stamp_version(&mut act, number);
        activity::insert(&mut tx, &act).await?;
        let secret = secrets::get(&mut tx, version.secret_id).await?;
        tx.commit().await?;
        Ok(secret)
    }

    async fn delete_secret(&self, id: Uuid, act: Vec<ActivityEntry>) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        if !secrets::delete(&mut tx, id).await? {
            return Ok(false);
        }
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn secret_version(
        &self,
        secret_id: Uuid,
        version: Option<i64>,
    ) -> StoreResult<Option<SecretVersionRecord>> {
        Ok(secrets::version(&mut *self.conn().await?, secret_id, version).await?)
    }

    async fn secrets_with_versions(
        &self,
        ids: Vec<Uuid>,
    ) -> StoreResult<Vec<(SecretRecord, Vec<SecretVersionRecord>)>> {
        Ok(secrets::with_versions(&mut *self.conn().await?, &ids).await?)
    }

    async fn all_secret_versions(&self) -> StoreResult<Vec<(Uuid, SecretVersionRecord)>> {
        Ok(secrets::all_versions(&mut *self.conn().await?).await?)
    }

    async fn reseal_secret_versions(&self, sealed: Vec<(Uuid, String)>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        secrets::reseal(&mut tx, &sealed).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn apply_env_migration(
        &self,
        moved: Vec<(SecretRecord, SecretVersionRecord)>,
        agents: Vec<Agent>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        for (secret, first) in &moved {
            secrets::insert(&mut tx, secret).await?;
            secrets::insert_version(&mut tx, first, "current").await?;
        }
        for agent in &agents {
            super::agents::save_agent(&mut tx, agent).await?;
        }
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sample_secret_version(&self) -> StoreResult<Option<(Uuid, SecretVersionRecord)>> {
        Ok(secrets::sample(&mut *self.conn().await?).await?)
    }

    async fn count_secret_versions(&self) -> StoreResult<i64> {
        Ok(secrets::count_versions(&mut *self.conn().await?).await?)
    }
}

//! Rotating the master key, crash-safe, wherever the key lives. The new key is put aside first
//! (`master.key.next`, or keychain account `master-key:<id>:next`), every version is re-sealed
//! under it in one database transaction, the old key is kept (`master.key.previous`, or
//! `master-key:<id>:previous`: backups made before today need it), and only then does the new
//! key become the current one (an atomic rename for the file). Interrupted anywhere, every
//! secret opens with one of the keys kept, and running the rotation again finishes the job.
//! A key from the environment is not rotated here: whoever sets the variable sets the new one.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::crypto::{self, MasterKey};
use super::keychain::{Keychain, Slot};
use super::master_key::{self, MasterKeyError};
use crate::store::{Store, StoreError};

#[derive(Debug, Error)]
pub enum RotationError {
    #[error(transparent)]
    Key(#[from] MasterKeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "secret version {version} of secret {secret} opens with neither the current nor the next key; nothing was changed"
    )]
    Unopenable { secret: uuid::Uuid, version: i64 },
    #[error("cannot update the key files: {0}")]
    Files(std::io::Error),
}

#[derive(Debug)]
pub struct Rotated {
    pub versions: usize,
    /// A rotation that had been interrupted was finished.
    pub resumed: bool,
    /// Where the old key is kept, for messages.
    pub previous: String,
}

pub fn next_file(key_file: &Path) -> PathBuf {
    key_file.with_extension("key.next")
}

pub fn previous_file(key_file: &Path) -> PathBuf {
    key_file.with_extension("key.previous")
}

/// Where a rotation keeps the current, next and previous keys.
trait KeyHome {
    fn describe(&self, slot: Slot) -> String;
    fn current(&self) -> Result<MasterKey, RotationError>;
    fn next(&self) -> Result<Option<MasterKey>, RotationError>;
    fn put_next(&self, key: &MasterKey) -> Result<(), RotationError>;
    /// Keeps `current` as the previous key, then makes `next` the current one.
    fn install(&self, current: &MasterKey, next: &MasterKey) -> Result<(), RotationError>;
    /// Forgets the next key once it is the current one.
    fn drop_next(&self) -> Result<(), RotationError>;
}

struct KeyFile<'a>(&'a Path);

impl KeyHome for KeyFile<'_> {
    fn describe(&self, slot: Slot) -> String {
        let path = match slot {
            Slot::Current => self.0.to_path_buf(),
            Slot::Next => next_file(self.0),
            Slot::Previous => previous_file(self.0),
        };
        path.display().to_string()
    }

    fn current(&self) -> Result<MasterKey, RotationError> {
        Ok(master_key::from_key_file(self.0, false)?)
    }

    fn next(&self) -> Result<Option<MasterKey>, RotationError> {
        let path = next_file(self.0);
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(master_key::from_key_file(&path, false)?))
    }

    fn put_next(&self, key: &MasterKey) -> Result<(), RotationError> {
        master_key::write_new_key_file(&next_file(self.0), key).map_err(RotationError::Files)
    }

    fn install(&self, current: &MasterKey, _next: &MasterKey) -> Result<(), RotationError> {
        let previous = previous_file(self.0);
        if previous.exists() {
            std::fs::remove_file(&previous).map_err(RotationError::Files)?;
        }
        master_key::write_new_key_file(&previous, current).map_err(RotationError::Files)?;
        std::fs::rename(next_file(self.0), self.0).map_err(RotationError::Files)
    }

    fn drop_next(&self) -> Result<(), RotationError> {
        match std::fs::remove_file(next_file(self.0)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(RotationError::Files(e)),
            _ => Ok(()),
        }
    }
}

impl KeyHome for &Keychain {
    fn describe(&self, slot: Slot) -> String {
        Keychain::describe(self, slot)
    }

    fn current(&self) -> Result<MasterKey, RotationError> {
        self.read(Slot::Current)?.ok_or_else(|| {
            RotationError::Key(MasterKeyError::NotInKeychain {
                place: Keychain::describe(self, Slot::Current),
            })
        })
    }

    fn next(&self) -> Result<Option<MasterKey>, RotationError> {
        Ok(self.read(Slot::Next)?)
    }

    fn put_next(&self, key: &MasterKey) -> Result<(), RotationError> {
        Ok(self.write(Slot::Next, key)?)
    }

    /// Three writes, not one rename: a crash between them leaves `next` equal to `current`,
    /// which a run again sees and finishes with `drop_next`.
    fn install(&self, current: &MasterKey, next: &MasterKey) -> Result<(), RotationError> {
        self.write(Slot::Previous, current)?;
        self.write(Slot::Current, next)?;
        self.drop_next()
    }

    fn drop_next(&self) -> Result<(), RotationError> {
        Ok(self.delete(Slot::Next)?)
    }
}

/// Re-seals every secret version under a new key and installs it in place of `key_file`.
/// `say` hears each step. The servers using this database must be stopped.
pub async fn rotate(
    store: &dyn Store,
    key_file: &Path,
    say: impl FnMut(String),
) -> Result<Rotated, RotationError> {
    rotate_in(store, &KeyFile(key_file), say).await
}

/// The same with the key in the OS keychain: the next key waits under `master-key:<id>:next`
/// and the old one stays under `master-key:<id>:previous`. Keychain calls block; this runs in
/// the CLI, with the server stopped.
pub async fn rotate_in_keychain(
    store: &dyn Store,
    keychain: &Keychain,
    say: impl FnMut(String),
) -> Result<Rotated, RotationError> {
    rotate_in(store, &keychain, say).await
}

async fn rotate_in(
    store: &dyn Store,
    home: &impl KeyHome,
    mut say: impl FnMut(String),
) -> Result<Rotated, RotationError> {
    let current = home.current()?;
    let (next, resumed) = match home.next()? {
        Some(next) if next.expose() == current.expose() => {
            // Interrupted after the new key became current: only the leftover remains.
            home.drop_next()?;
            say(format!(
                "finished: {} already holds the new key",
                home.describe(Slot::Current)
            ));
            let versions = store.all_secret_versions().await?.len();
            return Ok(Rotated {
                versions,
                resumed: true,
                previous: home.describe(Slot::Previous),
            });
        }
        Some(next) => {
            say(format!(
                "resuming: using the new key already in {}",
                home.describe(Slot::Next)
            ));
            (next, true)
        }
        None => {
            let next = MasterKey::generate();
            home.put_next(&next)?;
            say(format!("new key written to {}", home.describe(Slot::Next)));
            (next, false)
        }
    };

    let versions = store.all_secret_versions().await?;
    let mut resealed = Vec::with_capacity(versions.len());
    for (company, v) in &versions {
        if crypto::open_stored(&next, *company, v.secret_id, &v.ciphertext).is_ok() {
            continue;
        }
        let plain =
            crypto::open_stored(&current, *company, v.secret_id, &v.ciphertext).map_err(|_| {
                RotationError::Unopenable {
                    secret: v.secret_id,
                    version: v.version,
                }
            })?;
        resealed.push((
            v.id,
            crypto::seal_stored(&next, *company, v.secret_id, &plain),
        ));
    }
    let count = resealed.len();
    if count > 0 {
        store.reseal_secret_versions(resealed).await?;
    }
    say(format!(
        "re-sealed {count} of {} secret versions in one transaction",
        versions.len()
    ));

    home.install(&current, &next)?;
    say(format!(
        "{} now holds the new key; the old one is in {}",
        home.describe(Slot::Current),
        home.describe(Slot::Previous)
    ));
    Ok(Rotated {
        versions: versions.len(),
        resumed,
        previous: home.describe(Slot::Previous),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::auth::{Actor, RequestActor};
    use crate::domain::Domain;
    use crate::secrets::keys::{KeySource, SecretKeys};
    use crate::store::sqlite::SqliteStore;

    /// The rules over `store` with the master key in `keychain`'s store.
    fn domain(store: &Arc<dyn Store>, keychain: Keychain, dir: &Path) -> Domain {
        let secret = crate::auth::secret::InstanceSecret::load(Some("s".repeat(32)), dir).unwrap();
        let tokens = crate::auth::jwt::RunTokens::new(
            &secret,
            "default",
            std::time::Duration::from_secs(60),
        );
        let keys = SecretKeys::new(KeySource::Keychain(keychain));
        Domain::new(store.clone(), false, tokens, keys, false)
    }

    async fn resolve(domain: &Domain, company: uuid::Uuid, secret: uuid::Uuid) -> String {
        let env = json!({"A": {"type": "secret_ref", "secretId": secret}});
        let resolved = domain.resolve_env(company, &env).await.unwrap();
        resolved[0].1.to_string()
    }

    #[tokio::test]
    async fn a_keychain_rotation_reseals_keeps_the_old_key_and_survives_interruptions() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("paperclip.db")).unwrap());
        let mock: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
        let keychain = || Keychain::in_store(mock.clone(), "default");
        let board = RequestActor::new(Actor::local_board(), None, true);
        let first = domain(&store, keychain(), dir.path());
        let company = first
            .create_company(
                &board,
                paperclip_shared::types::CreateCompany {
                    name: "Keyed".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let secret = first
            .create_secret(
                &board,
                company,
                crate::domain::secrets::CreateSecret {
                    name: "A".into(),
                    value: Some("value-a".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let k = keychain();
        let original = k
            .read(Slot::Current)
            .unwrap()
            .expect("made with the secret");

        let done = rotate_in_keychain(store.as_ref(), &k, |_| {})
            .await
            .unwrap();
        assert!(!done.resumed);
        assert!(
            done.previous
                .ends_with("account master-key:default:previous")
        );
        let rotated = k.read(Slot::Current).unwrap().unwrap();
        assert_ne!(rotated.expose(), original.expose());
        let kept = k.read(Slot::Previous).unwrap().unwrap();
        assert_eq!(kept.expose(), original.expose());
        assert!(k.read(Slot::Next).unwrap().is_none());
        assert_eq!(
            resolve(&domain(&store, keychain(), dir.path()), company, secret).await,
            "value-a"
        );

        // Interrupted after the new key became current, before the next one was removed: a
        // run again only tidies up, and the previous key stays the one before.
        k.write(Slot::Next, &rotated).unwrap();
        let done = rotate_in_keychain(store.as_ref(), &k, |_| {})
            .await
            .unwrap();
        assert!(done.resumed);
        assert!(k.read(Slot::Next).unwrap().is_none());
        assert_eq!(
            k.read(Slot::Previous).unwrap().unwrap().expose(),
            original.expose()
        );
        assert_eq!(
            k.read(Slot::Current).unwrap().unwrap().expose(),
            rotated.expose()
        );

        // Interrupted before the commit: the planned key waits as next, and is the one used.
        let planned = MasterKey::generate();
        k.write(Slot::Next, &planned).unwrap();
        let done = rotate_in_keychain(store.as_ref(), &k, |_| {})
            .await
            .unwrap();
        assert!(done.resumed);
        assert_eq!(
            k.read(Slot::Current).unwrap().unwrap().expose(),
            planned.expose()
        );
        assert_eq!(
            resolve(&domain(&store, keychain(), dir.path()), company, secret).await,
            "value-a"
        );

        // No key in the keychain: nothing to rotate, said by name.
        k.delete(Slot::Current).unwrap();
        let e = rotate_in_keychain(store.as_ref(), &k, |_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no secrets master key in the OS keychain, service paperclip"),
            "{e}"
        );
        store.close().await;
    }
}

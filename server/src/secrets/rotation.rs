//! Rotating the master key, crash-safe. The new key is written first (`master.key.next`),
//! every version is re-sealed under it in one database transaction, the old key is kept as
//! `master.key.previous` (backups made before today need it), and only then does the new
//! key replace `master.key` by an atomic rename. Interrupted anywhere, every secret opens with
//! one of the two keys on disk, and running the rotation again finishes the job.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::crypto::{self, MasterKey};
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
    pub previous_key_file: PathBuf,
}

pub fn next_file(key_file: &Path) -> PathBuf {
    key_file.with_extension("key.next")
}

pub fn previous_file(key_file: &Path) -> PathBuf {
    key_file.with_extension("key.previous")
}

/// Re-seals every secret version under a new key and installs it in place of `key_file`.
/// `say` hears each step. The servers using this database must be stopped.
pub async fn rotate(
    store: &dyn Store,
    key_file: &Path,
    mut say: impl FnMut(String),
) -> Result<Rotated, RotationError> {
    let current = master_key::from_key_file(key_file, false)?;
    let next_path = next_file(key_file);
    let resumed = next_path.exists();
    let next = if resumed {
        say(format!(
            "resuming: using the new key already in {}",
            next_path.display()
        ));
        master_key::from_key_file(&next_path, false)?
    } else {
        let next = MasterKey::generate();
        master_key::write_new_key_file(&next_path, &next).map_err(RotationError::Files)?;
        say(format!("new key written to {}", next_path.display()));
        next
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

    let previous = previous_file(key_file);
    if previous.exists() {
        std::fs::remove_file(&previous).map_err(RotationError::Files)?;
    }
    master_key::write_new_key_file(&previous, &current).map_err(RotationError::Files)?;
    std::fs::rename(&next_path, key_file).map_err(RotationError::Files)?;
    say(format!(
        "{} now holds the new key; the old one is in {}",
        key_file.display(),
        previous.display()
    ));
    Ok(Rotated {
        versions: versions.len(),
        resumed,
        previous_key_file: previous,
    })
}

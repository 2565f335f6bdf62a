//! The running server's master key: from `PAPERCLIP_SECRETS_MASTER_KEY`, else the key file,
//! loaded once when first needed (and the file made then, as Paperclip does), so an instance
//! that never stores a secret never writes a key.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::crypto::MasterKey;
use super::master_key::{self, MasterKeyError};

pub struct SecretKeys {
    env_value: Option<Zeroizing<String>>,
    file: PathBuf,
    loaded: Mutex<Option<MasterKey>>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys")
            .field("from_env", &self.env_value.is_some())
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl SecretKeys {
    pub fn new(env_value: Option<String>, file: PathBuf) -> SecretKeys {
        SecretKeys {
            env_value: env_value
                .filter(|v| !v.trim().is_empty())
                .map(Zeroizing::new),
            file,
            loaded: Mutex::new(None),
        }
    }

    /// This instance's key: `PAPERCLIP_SECRETS_MASTER_KEY` from the process environment, else
    /// the configured key file.
    pub fn for_config(config: &crate::config::Config) -> SecretKeys {
        SecretKeys::new(
            std::env::var(master_key::ENV_VAR).ok(),
            config.secrets_key_file.clone(),
        )
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where the key is looked for, for messages.
    pub fn describe(&self) -> String {
        match &self.env_value {
            Some(_) => format!("{} (environment)", master_key::ENV_VAR),
            None => self.file.display().to_string(),
        }
    }

    /// The key, loading it (or making the key file) on first use.
    pub fn get(&self) -> Result<MasterKey, MasterKeyError> {
        self.load(true)?.ok_or_else(|| MasterKeyError::Missing {
            path: self.file.display().to_string(),
        })
    }

    /// The key if one exists already (None: no environment value and no key file).
    pub fn existing(&self) -> Result<Option<MasterKey>, MasterKeyError> {
        self.load(false)
    }

    fn load(&self, create: bool) -> Result<Option<MasterKey>, MasterKeyError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = loaded.as_ref() {
            return Ok(Some(key.clone()));
        }
        let key = match &self.env_value {
            Some(value) => master_key::from_env_value(value)?,
            None => match master_key::from_key_file(&self.file, create) {
                Ok(key) => key,
                Err(MasterKeyError::Missing { .. }) if !create => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        *loaded = Some(key.clone());
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_and_the_file_is_made_only_when_needed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets/master.key");
        let keys = SecretKeys::new(None, file.clone());
        assert!(keys.existing().unwrap().is_none());
        assert!(!file.exists());
        let made = keys.get().unwrap();
        assert!(file.exists());
        assert_eq!(keys.existing().unwrap().unwrap().expose(), made.expose());

        let env = SecretKeys::new(Some(hex::encode([9u8; 32])), file);
        assert_eq!(env.get().unwrap().expose(), &[9u8; 32]);
        assert!(env.describe().contains(master_key::ENV_VAR));
    }
}

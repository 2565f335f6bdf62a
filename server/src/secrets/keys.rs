//! The running server's master key, from the provider the configuration chose
//! (`secrets.provider`): the OS keychain, a key file, or `PAPERCLIP_SECRETS_MASTER_KEY`. It is
//! loaded once, when first needed, and made then (in the keychain or the file, as Paperclip
//! does), so an instance that never stores a secret never writes a key.

use std::sync::{Arc, Mutex};

use super::crypto::MasterKey;
use super::keychain::{Keychain, Slot};
use super::master_key::{self, MasterKeyError};
use crate::config::SecretsProvider;
use crate::config::secrets::MasterKeyText;

/// Where one instance's master key lives.
#[derive(Debug)]
pub enum KeySource {
    /// `PAPERCLIP_SECRETS_MASTER_KEY` (None: the variable is not set).
    Env(Option<MasterKeyText>),
    /// A key file.
    File(std::path::PathBuf),
    /// The OS keychain (or another credential store).
    Keychain(Keychain),
}

#[derive(Debug)]
pub struct SecretKeys {
    source: KeySource,
    loaded: Mutex<Option<MasterKey>>,
}

impl SecretKeys {
    pub fn new(source: KeySource) -> SecretKeys {
        SecretKeys {
            source,
            loaded: Mutex::new(None),
        }
    }

    /// This instance's key, from the configured provider.
    pub fn for_config(config: &crate::config::Config) -> SecretKeys {
        let secrets = &config.secrets;
        SecretKeys::new(match secrets.provider {
            SecretsProvider::Env => KeySource::Env(secrets.env_key.clone()),
            SecretsProvider::LocalEncrypted => KeySource::File(secrets.key_file.clone()),
            SecretsProvider::Keychain => {
                KeySource::Keychain(Keychain::os(&config.paths.instance_id))
            }
        })
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    pub fn provider(&self) -> SecretsProvider {
        match &self.source {
            KeySource::Env(_) => SecretsProvider::Env,
            KeySource::File(_) => SecretsProvider::LocalEncrypted,
            KeySource::Keychain(_) => SecretsProvider::Keychain,
        }
    }

    /// Where the key is, for messages: "key file /…/master.key", "OS keychain, service
    /// paperclip, account master-key:default", "PAPERCLIP_SECRETS_MASTER_KEY (environment)".
    pub fn describe(&self) -> String {
        match &self.source {
            KeySource::Env(_) => format!("{} (environment)", master_key::ENV_VAR),
            KeySource::File(path) => format!("key file {}", path.display()),
            KeySource::Keychain(k) => k.describe(Slot::Current),
        }
    }

    /// Which provider looked where, for a key that is not there.
    pub fn looked_where(&self) -> String {
        let provider = self.provider().as_str();
        match &self.source {
            KeySource::Env(_) => format!(
                "the secrets provider {provider} reads {}, which is not set",
                master_key::ENV_VAR
            ),
            KeySource::File(path) => format!(
                "the secrets provider {provider} looked for the key file {} (it does not exist) and \
                 {} (not set)",
                path.display(),
                master_key::ENV_VAR
            ),
            KeySource::Keychain(k) => format!(
                "the secrets provider {provider} looked in the {} and found no entry",
                k.describe(Slot::Current)
            ),
        }
    }

    /// How to put the key back, for the same messages.
    pub fn restore_hint(&self) -> &'static str {
        match &self.source {
            KeySource::Env(_) => "Set the variable to the key the secrets were sealed with",
            KeySource::File(_) => {
                "Restore the key file (or set PAPERCLIP_SECRETS_MASTER_KEY) from a backup"
            }
            KeySource::Keychain(_) => {
                "Put the key back in the keychain, or start with PAPERCLIP_SECRETS_PROVIDER=local_encrypted \
                 and PAPERCLIP_SECRETS_MASTER_KEY_FILE naming a backup of the key"
            }
        }
    }

    /// The key, loading it (or making it, in the keychain or the key file) on first use.
    pub fn get(&self) -> Result<MasterKey, MasterKeyError> {
        match self.load(true)? {
            Some(key) => Ok(key),
            None => Err(match &self.source {
                KeySource::Env(_) => MasterKeyError::EnvUnset,
                KeySource::File(path) => MasterKeyError::Missing {
                    path: path.display().to_string(),
                },
                KeySource::Keychain(k) => MasterKeyError::NotInKeychain {
                    place: k.describe(Slot::Current),
                },
            }),
        }
    }

    /// The key if one exists already (None: nothing in the environment, file or keychain).
    pub fn existing(&self) -> Result<Option<MasterKey>, MasterKeyError> {
        self.load(false)
    }

    /// The key once it has been loaded (no IO).
    pub fn loaded(&self) -> Option<MasterKey> {
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `get`, with the keychain or file access on a blocking thread.
    pub async fn get_blocking(self: &Arc<Self>) -> Result<MasterKey, MasterKeyError> {
        if let Some(key) = self.loaded() {
            return Ok(key);
        }
        let keys = self.clone();
        off_runtime(move || keys.get()).await
    }

    /// `existing`, with the keychain or file access on a blocking thread.
    pub async fn existing_blocking(self: &Arc<Self>) -> Result<Option<MasterKey>, MasterKeyError> {
        if let Some(key) = self.loaded() {
            return Ok(Some(key));
        }
        let keys = self.clone();
        off_runtime(move || keys.existing()).await
    }

    /// Whether the provider can be asked at all, without making a key: the variable is set
    /// for `env`, the keychain can be opened for `keychain` (a key file is always possible).
    pub async fn reachable(self: &Arc<Self>) -> Result<(), MasterKeyError> {
        match &self.source {
            KeySource::Env(None) => Err(MasterKeyError::EnvUnset),
            KeySource::Env(Some(_)) | KeySource::File(_) => Ok(()),
            KeySource::Keychain(_) => {
                let keys = self.clone();
                off_runtime(move || match &keys.source {
                    KeySource::Keychain(k) => k.reachable(),
                    _ => Ok(()),
                })
                .await
            }
        }
    }

    fn load(&self, create: bool) -> Result<Option<MasterKey>, MasterKeyError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = loaded.as_ref() {
            return Ok(Some(key.clone()));
        }
        let key = match &self.source {
            KeySource::Env(None) => None,
            KeySource::Env(Some(text)) => Some(master_key::from_env_value(text.expose())?),
            KeySource::File(path) => match master_key::from_key_file(path, create) {
                Ok(key) => Some(key),
                Err(MasterKeyError::Missing { .. }) if !create => None,
                Err(e) => return Err(e),
            },
            KeySource::Keychain(k) => match k.read(Slot::Current)? {
                Some(key) => Some(key),
                None if create => {
                    let key = MasterKey::generate();
                    k.write(Slot::Current, &key)?;
                    tracing::info!(place = %k.describe(Slot::Current), "made the secrets master key");
                    Some(key)
                }
                None => None,
            },
        };
        if let Some(key) = &key {
            *loaded = Some(key.clone());
        }
        Ok(key)
    }
}

/// Runs keychain or file access on tokio's blocking threads (a D-Bus round trip, a keychain
/// prompt); a panic there is re-raised here.
async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, MasterKeyError> + Send + 'static,
) -> Result<T, MasterKeyError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(MasterKeyError::Keychain {
            place: "OS keychain".into(),
            action: "answer",
            cause: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock_keychain() -> Keychain {
        Keychain::in_store(keyring_core::mock::Store::new().unwrap(), "default")
    }

    #[test]
    fn a_key_file_is_made_only_when_needed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets/master.key");
        let keys = SecretKeys::new(KeySource::File(file.clone()));
        assert!(keys.existing().unwrap().is_none());
        assert!(!file.exists());
        let made = keys.get().unwrap();
        assert!(file.exists());
        assert_eq!(keys.existing().unwrap().unwrap().expose(), made.expose());
        assert!(keys.describe().contains(&file.display().to_string()));
    }

    #[test]
    fn the_env_provider_reads_the_variable_only() {
        let text = MasterKeyText::new(hex::encode([9u8; 32]));
        let env = SecretKeys::new(KeySource::Env(Some(text)));
        assert_eq!(env.get().unwrap().expose(), &[9u8; 32]);
        assert!(env.describe().contains(master_key::ENV_VAR));
        let unset = SecretKeys::new(KeySource::Env(None));
        assert!(unset.existing().unwrap().is_none());
        let e = unset.get().unwrap_err().to_string();
        assert!(e.contains(master_key::ENV_VAR) && e.contains("env"), "{e}");
    }

    #[test]
    fn the_keychain_provider_makes_the_key_once_and_keeps_it() {
        let keychain = mock_keychain();
        let keys = SecretKeys::new(KeySource::Keychain(keychain));
        assert!(keys.existing().unwrap().is_none());
        assert!(keys.looked_where().contains("account master-key:default"));
        let made = keys.get().unwrap();
        let KeySource::Keychain(k) = keys.source() else {
            panic!("a keychain source")
        };
        assert_eq!(
            k.read(Slot::Current).unwrap().unwrap().expose(),
            made.expose()
        );
        assert_eq!(keys.get().unwrap().expose(), made.expose());
        assert_eq!(
            keys.describe(),
            "OS keychain, service paperclip, account master-key:default"
        );
        assert_eq!(keys.provider(), SecretsProvider::Keychain);
    }

    #[tokio::test]
    async fn a_keychain_that_cannot_be_opened_says_how_to_use_a_file_instead() {
        let keys = Arc::new(SecretKeys::new(KeySource::Keychain(Keychain::with_opener(
            "default",
            || {
                Err(MasterKeyError::NoSecretService {
                    cause: "no D-Bus session".into(),
                })
            },
        ))));
        let e = keys.reachable().await.unwrap_err().to_string();
        assert!(e.starts_with("no Secret Service is running on this machine (no D-Bus session)"));
        assert!(
            e.contains("set secrets.provider to local_encrypted (PAPERCLIP_SECRETS_PROVIDER=local_encrypted)"),
            "{e}"
        );
        let e = keys.get_blocking().await.unwrap_err();
        assert!(matches!(e, MasterKeyError::NoSecretService { .. }), "{e}");
    }
}

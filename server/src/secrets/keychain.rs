//! The `keychain` master-key provider: the key lives in the OS keychain (macOS Keychain,
//! Windows Credential Manager, the Secret Service on Linux) under service `paperclip`, account
//! `master-key:<instanceId>`, as base64 text (KWallet stores text only). A rotation parks the
//! next key under `master-key:<id>:next` and keeps the old one under `…:previous`.
//!
//! Every call may block (D-Bus, a keychain prompt): callers keep it off the async runtime.
//! Errors name the service and account, never the key.

use std::sync::{Arc, Mutex};

use base64::Engine;
use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use zeroize::Zeroizing;

use super::crypto::MasterKey;
use super::master_key::{MasterKeyError, parse_key};

/// The keychain service every Paperclip instance files its keys under.
pub const SERVICE: &str = "paperclip";

/// One of the keys an instance may have in the keychain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The key in use.
    Current,
    /// A rotation's new key, until it becomes current.
    Next,
    /// The key before the last rotation (backups made before it need it).
    Previous,
}

/// An instance's keys in a credential store: the OS's own, opened on first use (and again
/// after a failure, so a keychain that comes up later is found), or one given (tests use
/// keyring-core's mock store).
pub struct Keychain {
    instance_id: String,
    store: Mutex<Option<Arc<CredentialStore>>>,
    open: fn() -> Result<Arc<CredentialStore>, MasterKeyError>,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keychain")
            .field("service", &SERVICE)
            .field("account", &self.account(Slot::Current))
            .finish_non_exhaustive()
    }
}

impl Keychain {
    /// The instance's keys in this machine's keychain.
    pub fn os(instance_id: &str) -> Keychain {
        Keychain::with_opener(instance_id, open_os_store)
    }

    /// The instance's keys in `store`.
    pub fn in_store(store: Arc<CredentialStore>, instance_id: &str) -> Keychain {
        Keychain {
            instance_id: instance_id.to_string(),
            store: Mutex::new(Some(store)),
            open: || {
                Err(MasterKeyError::NoKeychain {
                    cause: "the given credential store is gone".into(),
                })
            },
        }
    }

    /// The instance's keys in the store `open` gives (tried again after each failure).
    pub fn with_opener(
        instance_id: &str,
        open: fn() -> Result<Arc<CredentialStore>, MasterKeyError>,
    ) -> Keychain {
        Keychain {
            instance_id: instance_id.to_string(),
            store: Mutex::new(None),
            open,
        }
    }

    pub fn account(&self, slot: Slot) -> String {
        let base = format!("master-key:{}", self.instance_id);
        match slot {
            Slot::Current => base,
            Slot::Next => format!("{base}:next"),
            Slot::Previous => format!("{base}:previous"),
        }
    }

    /// "OS keychain, service paperclip, account master-key:default", for messages.
    pub fn describe(&self, slot: Slot) -> String {
        format!(
            "OS keychain, service {SERVICE}, account {}",
            self.account(slot)
        )
    }

    /// Opens the store (on Linux: connects to the Secret Service) without reading a key.
    pub fn reachable(&self) -> Result<(), MasterKeyError> {
        self.store().map(|_| ())
    }

    /// The key in `slot`, None when there is no entry.
    pub fn read(&self, slot: Slot) -> Result<Option<MasterKey>, MasterKeyError> {
        let entry = self.entry(slot)?;
        match entry.get_password() {
            Ok(text) => {
                let text = Zeroizing::new(text);
                parse_key(&text, &self.describe(slot)).map(Some)
            }
            Err(KeyringError::NoEntry) => Ok(None),
            Err(KeyringError::BadEncoding(_)) => Err(MasterKeyError::Malformed {
                source_name: self.describe(slot),
            }),
            Err(e) => Err(self.failure(slot, "read the key", e)),
        }
    }

    /// Stores `key` in `slot` (replacing what was there).
    pub fn write(&self, slot: Slot, key: &MasterKey) -> Result<(), MasterKeyError> {
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.expose()));
        self.entry(slot)?
            .set_password(&text)
            .map_err(|e| self.failure(slot, "store the key", e))
    }

    /// Removes the entry of `slot` (nothing to do when there is none).
    pub fn delete(&self, slot: Slot) -> Result<(), MasterKeyError> {
        match self.entry(slot)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(self.failure(slot, "remove the key", e)),
        }
    }

    fn entry(&self, slot: Slot) -> Result<Entry, MasterKeyError> {
        let store = self.store()?;
        Entry::new_in_store(&store, SERVICE, &self.account(slot))
            .map_err(|e| self.failure(slot, "name the entry", e))
    }

    fn store(&self) -> Result<Arc<CredentialStore>, MasterKeyError> {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = store.as_ref() {
            return Ok(s.clone());
        }
        let opened = (self.open)()?;
        *store = Some(opened.clone());
        Ok(opened)
    }

    /// A keyring error as ours. Only `Display` of the error is used: `BadEncoding` carries
    /// the stored bytes in its fields.
    fn failure(&self, slot: Slot, action: &'static str, e: KeyringError) -> MasterKeyError {
        let place = self.describe(slot);
        match e {
            KeyringError::NoStorageAccess(cause) => MasterKeyError::KeychainLocked {
                place,
                cause: cause.to_string(),
            },
            KeyringError::Ambiguous(found) => MasterKeyError::Keychain {
                place,
                action,
                cause: format!(
                    "{} entries match; remove all but one with the keychain's own tool",
                    found.len()
                ),
            },
            other => MasterKeyError::Keychain {
                place,
                action,
                cause: other.to_string(),
            },
        }
    }
}

/// Linux and the BSDs: the Secret Service on the session bus (gnome-keyring, KWallet).
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn open_os_store() -> Result<Arc<CredentialStore>, MasterKeyError> {
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => Ok(store),
        Err(e) => Err(MasterKeyError::NoSecretService {
            cause: no_secret_service_cause(&e),
        }),
    }
}

/// Why the Secret Service could not be reached, in words a person can act on.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn no_secret_service_cause(e: &KeyringError) -> String {
    let text = e.to_string();
    let no_address = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none();
    // Without the variable, zbus tries the usual socket, `$XDG_RUNTIME_DIR/bus`.
    let usual = std::env::var_os("XDG_RUNTIME_DIR").map(|d| std::path::Path::new(&d).join("bus"));
    if no_address && usual.is_none() {
        "no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set, nor XDG_RUNTIME_DIR".into()
    } else if let Some(usual) = usual.filter(|u| no_address && !u.exists()) {
        format!(
            "no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set and {} does not exist",
            usual.display()
        )
    } else if text.contains("ServiceUnknown") || text.contains("org.freedesktop.secrets") {
        format!("the D-Bus session has no org.freedesktop.secrets provider; {text}")
    } else {
        text
    }
}

#[cfg(target_os = "macos")]
fn open_os_store() -> Result<Arc<CredentialStore>, MasterKeyError> {
    match apple_native_keyring_store::keychain::Store::new() {
        Ok(store) => Ok(store),
        Err(e) => Err(MasterKeyError::NoKeychain {
            cause: e.to_string(),
        }),
    }
}

#[cfg(target_os = "windows")]
fn open_os_store() -> Result<Arc<CredentialStore>, MasterKeyError> {
    match windows_native_keyring_store::Store::new() {
        Ok(store) => Ok(store),
        Err(e) => Err(MasterKeyError::NoKeychain {
            cause: e.to_string(),
        }),
    }
}

#[cfg(not(any(unix, target_os = "windows")))]
fn open_os_store() -> Result<Arc<CredentialStore>, MasterKeyError> {
    Err(MasterKeyError::NoKeychain {
        cause: "this platform has no OS keychain Paperclip can use".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock() -> Keychain {
        Keychain::in_store(keyring_core::mock::Store::new().unwrap(), "default")
    }

    #[test]
    fn keys_round_trip_per_slot_as_base64_text() {
        let k = mock();
        assert!(k.read(Slot::Current).unwrap().is_none());
        let key = MasterKey::generate();
        k.write(Slot::Current, &key).unwrap();
        assert_eq!(
            k.read(Slot::Current).unwrap().unwrap().expose(),
            key.expose()
        );
        assert!(k.read(Slot::Next).unwrap().is_none());
        let entry = k.entry(Slot::Current).unwrap();
        let text = entry.get_password().unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap(),
            key.expose()
        );
        k.delete(Slot::Current).unwrap();
        k.delete(Slot::Current).unwrap();
        assert!(k.read(Slot::Current).unwrap().is_none());
    }

    #[test]
    fn accounts_and_descriptions_name_the_instance() {
        let k = mock();
        assert_eq!(k.account(Slot::Next), "master-key:default:next");
        assert_eq!(
            k.describe(Slot::Current),
            "OS keychain, service paperclip, account master-key:default"
        );
    }

    #[test]
    fn keychain_failures_name_the_place_and_never_the_value() {
        let k = mock();
        let entry = k.entry(Slot::Current).unwrap();
        entry.set_password("not-a-key-but-secret").unwrap();
        let e = k.read(Slot::Current).unwrap_err().to_string();
        assert!(e.contains("account master-key:default"), "{e}");
        assert!(!e.contains("not-a-key-but-secret"), "{e}");

        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(KeyringError::NoStorageAccess("locked".into()));
        let e = k.read(Slot::Current).unwrap_err();
        assert!(matches!(e, MasterKeyError::KeychainLocked { .. }), "{e}");
        cred.set_error(KeyringError::PlatformFailure("bus gone".into()));
        let e = k.write(Slot::Current, &MasterKey::generate()).unwrap_err();
        assert!(e.to_string().contains("store the key") && e.to_string().contains("bus gone"));
    }
}

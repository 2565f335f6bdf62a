//! The master key's text form and its file: a key file (`local_encrypted`, created on first
//! use with mode 0600 and refused when others may read it) or the environment
//! (`PAPERCLIP_SECRETS_MASTER_KEY`, 32 bytes as base64 or hex). The OS keychain provider is
//! [`super::keychain`]; [`super::keys`] picks the provider.
//!
//! Every error names where it looked and what to do; none contains key material.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use thiserror::Error;
use zeroize::Zeroizing;

use super::crypto::MasterKey;

pub const ENV_VAR: &str = crate::config::secrets::MASTER_KEY_ENV;

/// How to leave the keychain, in every message that says it cannot be used.
const USE_A_FILE: &str = "set secrets.provider to local_encrypted \
    (PAPERCLIP_SECRETS_PROVIDER=local_encrypted) to keep the master key in a file";

#[derive(Debug, Error)]
pub enum MasterKeyError {
    #[error(
        "the secrets master key file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TooOpen { path: String, mode: u32 },
    #[error(
        "the secrets master key in {source_name} is not a key: expected 32 bytes as base64 (44 characters) or hex (64 characters)"
    )]
    Malformed { source_name: String },
    #[error("no secrets master key file at {path}")]
    Missing { path: String },
    #[error("cannot use the secrets master key file {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error(
        "PAPERCLIP_SECRETS_MASTER_KEY is not set, and the secrets provider is env, which reads the \
         master key from it only: set it to 32 bytes as base64 or hex (`openssl rand -base64 32`)"
    )]
    EnvUnset,
    #[error("no secrets master key in the {place}")]
    NotInKeychain { place: String },
    #[error("no Secret Service is running on this machine ({cause}); {USE_A_FILE}")]
    NoSecretService { cause: String },
    #[error("the OS keychain cannot be opened ({cause}); {USE_A_FILE}")]
    NoKeychain { cause: String },
    #[error(
        "the {place} is locked or refused access ({cause}); unlock the keychain and try again, \
         or {USE_A_FILE}"
    )]
    KeychainLocked { place: String, cause: String },
    #[error("the {place} could not {action}: {cause}")]
    Keychain {
        place: String,
        action: &'static str,
        cause: String,
    },
}

/// 32 bytes from base64 (standard or URL-safe, padded or not) or hex text.
pub fn parse_key(text: &str, source_name: &str) -> Result<MasterKey, MasterKeyError> {
    let text = text.trim();
    let malformed = || MasterKeyError::Malformed {
        source_name: source_name.to_string(),
    };
    let bytes: Zeroizing<Vec<u8>> =
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Zeroizing::new(hex::decode(text).map_err(|_| malformed())?)
        } else {
            use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
            let unpadded = text.trim_end_matches('=');
            let decoded = STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
                .map_err(|_| malformed())?;
            Zeroizing::new(decoded)
        };
    MasterKey::from_bytes(&bytes).ok_or_else(malformed)
}

/// The key from `PAPERCLIP_SECRETS_MASTER_KEY`'s value.
pub fn from_env_value(value: &str) -> Result<MasterKey, MasterKeyError> {
    parse_key(value, ENV_VAR)
}

/// The key in `path`; with `create`, a missing file is made with a new key (mode 0600, in a
/// folder of mode 0700).
pub fn from_key_file(path: &Path, create: bool) -> Result<MasterKey, MasterKeyError> {
    let io = |cause: std::io::Error| MasterKeyError::Io {
        path: path.display().to_string(),
        cause,
    };
    match std::fs::metadata(path) {
        Ok(meta) => {
            check_private(path, &meta)?;
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
            parse_key(&text, &path.display().to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let key = MasterKey::generate();
            write_new_key_file(path, &key).map_err(io)?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(MasterKeyError::Missing {
            path: path.display().to_string(),
        }),
        Err(e) => Err(io(e)),
    }
}

/// The default key file of an instance.
pub fn default_key_file(instance_dir: &Path) -> PathBuf {
    instance_dir.join("secrets").join("master.key")
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), MasterKeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(MasterKeyError::TooOpen {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), MasterKeyError> {
    Ok(())
}

/// Base64 text and a newline, in a file created exclusively with mode 0600 (its folder 0700
/// when made here).
pub fn write_new_key_file(path: &Path, key: &MasterKey) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let text =
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.expose()) + "\n");
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_key_file(dir.path());
        assert!(matches!(
            from_key_file(&path, false),
            Err(MasterKeyError::Missing { .. })
        ));
        let made = from_key_file(&path, true).unwrap();
        let again = from_key_file(&path, true).unwrap();
        assert_eq!(made.expose(), again.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = from_key_file(&path, true).unwrap_err();
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
    }

    #[test]
    fn a_malformed_key_file_is_named_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, "not-a-key-at-all").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = from_key_file(&path, false).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(!e.contains("not-a-key-at-all"), "{e}");
    }

    #[test]
    fn the_environment_takes_base64_or_hex_of_32_bytes() {
        let bytes = [0xabu8; 32];
        let hex_text = hex::encode(bytes);
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        for text in [hex_text.as_str(), b64.as_str(), url.as_str()] {
            assert_eq!(from_env_value(text).unwrap().expose(), &bytes, "{text}");
        }
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        let e = from_env_value(&short).unwrap_err().to_string();
        assert!(e.contains(ENV_VAR) && e.contains("32 bytes"), "{e}");
    }
}

//! The instance's signing secret: 32 random bytes made at first start and kept with the
//! instance (`secrets/auth.key`, mode 0600, beside the master key), or given by
//! `PAPERCLIP_AUTH_SECRET` (Paperclip's `PAPERCLIP_AGENT_JWT_SECRET` and `BETTER_AUTH_SECRET`
//! are read too) — replicas sharing one database must share it. Never a built-in value.
//!
//! It signs run JWTs and derives the one-time bootstrap and claim URLs from their ids, so a
//! restart (or another replica) prints the same URL while the database keeps only its hash.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub struct InstanceSecret(Vec<u8>);

impl std::fmt::Debug for InstanceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstanceSecret(…)")
    }
}

pub const ENV_VARS: [&str; 3] = [
    "PAPERCLIP_AUTH_SECRET",
    "PAPERCLIP_AGENT_JWT_SECRET",
    "BETTER_AUTH_SECRET",
];

pub fn file_path(instance_dir: &Path) -> PathBuf {
    instance_dir.join("secrets").join("auth.key")
}

impl InstanceSecret {
    /// From the environment value when given (at least 32 characters), else the key file,
    /// created on first use.
    pub fn load(from_env: Option<String>, instance_dir: &Path) -> Result<Self, String> {
        if let Some(value) = from_env {
            let value = value.trim().to_string();
            if value.len() < 32 {
                return Err(format!(
                    "{} must be at least 32 characters (use e.g. `openssl rand -hex 32`)",
                    ENV_VARS[0]
                ));
            }
            return Ok(InstanceSecret(value.into_bytes()));
        }
        let path = file_path(instance_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|_| {
                    format!(
                        "{} is not a hex key; delete it to make a new one (signed-in sessions stay, run tokens and open claim URLs change)",
                        path.display()
                    )
                })?;
                if bytes.len() < 32 {
                    return Err(format!("{} is too short to be a key", path.display()));
                }
                Ok(InstanceSecret(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(&path),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    fn create(path: &Path) -> Result<Self, String> {
        let mut bytes = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(hex::encode(&bytes).as_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(InstanceSecret(bytes))
            }
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load(None, path.parent().and_then(Path::parent).unwrap_or(path))
            }
            Err(e) => Err(format!("cannot create {}: {e}", path.display())),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A token derived from this secret for `purpose` (hex of HMAC-SHA256).
    pub fn derive(&self, purpose: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_kept_private_and_derives_stably() {
        let dir = tempfile::tempdir().unwrap();
        let a = InstanceSecret::load(None, dir.path()).unwrap();
        let b = InstanceSecret::load(None, dir.path()).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        assert_eq!(a.derive("x"), b.derive("x"));
        assert_ne!(a.derive("x"), a.derive("y"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        assert!(InstanceSecret::load(Some("short".into()), dir.path()).is_err());
        let env = InstanceSecret::load(Some("x".repeat(40)), dir.path()).unwrap();
        assert_ne!(env.bytes(), a.bytes());
        assert!(!format!("{env:?}").contains("xxxx"));
    }
}

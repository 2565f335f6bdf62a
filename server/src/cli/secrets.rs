//! `paperclip secrets …`: the master key's safety.

use std::path::Path;

use anyhow::{Context, bail};

use super::client::block_on;
use crate::config::{Config, Overrides};
use crate::secrets::keys::{KeySource, SecretKeys};
use crate::secrets::master_key::{self, ENV_VAR};
use crate::secrets::rotation;

/// Writes the instance's master key to `file` (0600), refusing to replace a file unless told.
/// Works for every provider: the key is read from the keychain, the key file or the variable.
pub fn backup_master_key(file: &Path, force: bool) -> anyhow::Result<()> {
    let config = Config::load(&Overrides::default())?;
    let keys = SecretKeys::for_config(&config);
    let Some(key) = keys.existing()? else {
        bail!(
            "there is no secrets master key yet ({}); one is made when the first secret is stored",
            keys.looked_where()
        );
    };
    if file.exists() {
        if !force {
            bail!("{} exists; pass --force to replace it", file.display());
        }
        std::fs::remove_file(file).with_context(|| format!("cannot replace {}", file.display()))?;
    }
    master_key::write_new_key_file(file, &key)
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!(
        "Wrote the secrets master key (from {}) to {}.",
        keys.describe(),
        file.display()
    );
    println!(
        "Keep it somewhere safe and apart from this machine's backups: anyone with it and a copy \
         of the database can read every secret, and without it no secret can be read."
    );
    Ok(())
}

/// Re-seals every secret version under a new master key (the server must be stopped), in the
/// key file or the keychain; a key from the environment is the caller's to change.
pub fn rotate_master_key() -> anyhow::Result<()> {
    let config = Config::load(&Overrides::default())?;
    let keys = SecretKeys::for_config(&config);
    if let KeySource::Env(_) = keys.source() {
        bail!(
            "the master key comes from {ENV_VAR} (secrets provider env), which this command cannot \
             change: set the new key yourself. To rotate here, keep the key in a file \
             (PAPERCLIP_SECRETS_PROVIDER=local_encrypted, {ENV_VAR} unset) or in the OS keychain \
             (PAPERCLIP_SECRETS_PROVIDER=keychain)."
        );
    }
    let _lock = crate::server::take_instance_lock(&config)
        .context("stop the server of this instance before rotating its master key")?;
    block_on(async {
        let store = crate::server::open_store(&config).await?;
        let say = |m: String| println!("{m}");
        let done = match keys.source() {
            KeySource::Keychain(keychain) => {
                rotation::rotate_in_keychain(store.as_ref(), keychain, say).await
            }
            _ => rotation::rotate(store.as_ref(), &config.secrets.key_file, say).await,
        };
        store.close().await;
        let done = done?;
        if done.resumed {
            println!("finished a rotation that had been interrupted");
        }
        println!(
            "Rotated: {} secret versions sealed under the new key. Keep the old key ({}) as long \
             as you keep database backups from before now; back up the new key with \
             `paperclip secrets backup-master-key`.",
            done.versions, done.previous
        );
        Ok(())
    })
}

/// Lists (or, with `apply`, makes) the moves of inline env credentials into secrets.
pub fn migrate_inline_env(apply: bool) -> anyhow::Result<()> {
    let config = Config::load(&Overrides::default())?;
    let _lock = if apply {
        Some(
            crate::server::take_instance_lock(&config)
                .context("stop the server of this instance before moving env values")?,
        )
    } else {
        None
    };
    block_on(async {
        let store = crate::server::open_store(&config).await?;
        let secret = crate::server::instance_secret(&config)?;
        let domain = crate::server::domain_for(&config, store.clone(), &secret);
        let moves = if apply {
            domain.migrate_inline_env().await
        } else {
            domain
                .inline_env_plan()
                .await
                .map(|plan| plan.into_iter().map(|(m, _)| m).collect())
        };
        store.close().await;
        let moves = moves.map_err(|e| anyhow::anyhow!("{e}"))?;
        if moves.is_empty() {
            println!("No inline credentials in any agent's env: nothing to move.");
            return Ok(());
        }
        for m in &moves {
            println!(
                "{} {} (agent {}): {} -> secret {}",
                if apply { "moved" } else { "would move" },
                m.agent_name,
                m.agent_id,
                m.env_key,
                m.secret_name
            );
        }
        if apply {
            println!(
                "Moved {} values into secrets, in one transaction.",
                moves.len()
            );
        } else {
            println!(
                "{} values would move. Run again with --apply to move them (stop the server first).",
                moves.len()
            );
        }
        Ok(())
    })
}

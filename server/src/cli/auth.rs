//! `paperclip auth …`: the first instance admin of an authenticated instance.

use anyhow::{Context, bail};

use crate::config::{Config, DeploymentMode, Overrides};

use crate::server::{domain_for, instance_secret, open_store, public_base};

/// Prints a one-time invite URL that makes the first instance admin (revoking older ones).
pub fn bootstrap_ceo(base_url: Option<String>, force: bool, hours: i64) -> anyhow::Result<()> {
    let config = Config::load(&Overrides::default())?;
    if config.deployment_mode != DeploymentMode::Authenticated {
        println!(
            "Deployment mode is local_trusted. A bootstrap CEO invite is only needed in authenticated mode \
             (set server.deploymentMode \"authenticated\" or PAPERCLIP_DEPLOYMENT_MODE=authenticated)."
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = open_store(&config).await?;
        let admins = store.instance_admins().await?;
        if !admins.is_empty() && !force {
            bail!("Instance already has an admin user. Use --force to generate a new bootstrap invite.");
        }
        let secret = instance_secret(&config)?;
        let domain = domain_for(&config, store.clone(), &secret);
        let (path, expires) = domain
            .new_bootstrap_invite(&secret, hours)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let base = base_url
            .map(|b| b.trim_end_matches('/').to_string())
            .unwrap_or_else(|| public_base(&config, &config.host, config.port));
        println!("Created bootstrap CEO invite.");
        println!("Invite URL: {base}{path}");
        println!("Expires: {}", expires.to_rfc3339());
        store.close().await;
        Ok(())
    })
}

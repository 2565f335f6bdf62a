use anyhow::{Context, bail};

use crate::config::{InstancePaths, file};

pub fn onboard(yes: bool, force: bool) -> anyhow::Result<()> {
    if !yes {
        bail!(
            "onboard writes a default config; run `paperclip onboard --yes` to accept the defaults"
        );
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let paths = InstancePaths::resolve(&env)?;
    if paths.config_file.exists() && !force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            paths.config_file.display()
        );
    }
    for folder in paths.folders() {
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        println!("created   {}", folder.display());
    }
    if let Some(dir) = paths.config_file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&file::default_document())? + "\n";
    std::fs::write(&paths.config_file, text)
        .with_context(|| format!("cannot write {}", paths.config_file.display()))?;
    println!("wrote     {}", paths.config_file.display());
    println!(
        "mode      local_trusted (loopback only, no login), SQLite at {}",
        paths.default_database().display()
    );
    println!("next      paperclip run");
    Ok(())
}

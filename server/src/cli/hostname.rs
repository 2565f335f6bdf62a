//! `paperclip allowed-hostname <host> [--remove]`: edit `server.allowedHostnames` in config.json.
//! A running server re-reads the list when it sees an unknown host, so no restart is needed.

use anyhow::{Context, bail};
use serde_json::Value;

use crate::auth::hostname::check_hostname;
use crate::config::{InstancePaths, file};

pub fn allowed_hostname(host: String, remove: bool) -> anyhow::Result<()> {
    let host = check_hostname(&host).map_err(anyhow::Error::msg)?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let paths = InstancePaths::resolve(&env)?;
    let path = &paths.config_file;
    let mut doc: Value = if path.exists() {
        // Refuse to edit a file the server could not read: say what is wrong first.
        file::read(path)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)?
    } else {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        println!(
            "no config yet: starting from the defaults ({})",
            path.display()
        );
        file::default_document()
    };
    let Some(server) = doc
        .as_object_mut()
        .map(|root| {
            root.entry("server")
                .or_insert_with(|| serde_json::json!({}))
        })
        .and_then(Value::as_object_mut)
    else {
        bail!("{}: `server` must be an object", path.display());
    };
    let list = server
        .entry("allowedHostnames")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(items) = list.as_array_mut() else {
        bail!("{}: server.allowedHostnames must be a list", path.display());
    };
    let present = items.iter().any(|v| v.as_str() == Some(host.as_str()));
    match (remove, present) {
        (false, true) => {
            println!("{host} is already allowed ({})", path.display());
            return Ok(());
        }
        (true, false) => {
            println!("{host} was not in the list ({})", path.display());
            return Ok(());
        }
        (false, false) => items.push(Value::String(host.clone())),
        (true, true) => items.retain(|v| v.as_str() != Some(host.as_str())),
    }
    // Write beside the file, check that it reads back as a valid config, then replace: a
    // crash or a mistake never leaves a half-written config.json.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    if let Err(e) = file::read(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    println!(
        "{} {host} {} server.allowedHostnames in {}; a running server picks it up at once",
        if remove { "removed" } else { "allowed" },
        if remove { "from" } else { "in" },
        path.display()
    );
    if env("PAPERCLIP_ALLOWED_HOSTNAMES").is_some() {
        println!(
            "note: PAPERCLIP_ALLOWED_HOSTNAMES is set in this shell; a server started with it uses that list instead"
        );
    }
    Ok(())
}

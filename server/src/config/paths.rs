//! Where an instance lives: `$PAPERCLIP_HOME` (default `~/.paperclip`) `/instances/<id>/`.

use std::path::PathBuf;

use super::ConfigError;

#[derive(Debug, Clone)]
pub struct InstancePaths {
    pub home: PathBuf,
    pub instance_id: String,
    pub instance_dir: PathBuf,
    pub config_file: PathBuf,
}

impl InstancePaths {
    pub fn resolve(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let home = match env("PAPERCLIP_HOME") {
            Some(h) => expand_tilde(&h),
            None => directories::BaseDirs::new()
                .map(|d| d.home_dir().join(".paperclip"))
                .ok_or_else(|| ConfigError::Env {
                    var: "PAPERCLIP_HOME".into(),
                    message: "no home directory found; set PAPERCLIP_HOME to a folder for Paperclip's data".into(),
                })?,
        };
        let instance_id = env("PAPERCLIP_INSTANCE_ID").unwrap_or_else(|| "default".into());
        if instance_id.is_empty()
            || !instance_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(ConfigError::Env {
                var: "PAPERCLIP_INSTANCE_ID".into(),
                message: format!("{instance_id:?} may contain only letters, digits, '_' and '-'"),
            });
        }
        let instance_dir = home.join("instances").join(&instance_id);
        let config_file = env("PAPERCLIP_CONFIG")
            .map(|p| expand_tilde(&p))
            .unwrap_or_else(|| instance_dir.join("config.json"));
        Ok(InstancePaths {
            home,
            instance_id,
            instance_dir,
            config_file,
        })
    }

    pub fn default_database(&self) -> PathBuf {
        self.instance_dir.join("db").join("paperclip.db")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.instance_dir.join("server.lock")
    }

    pub fn server_info_file(&self) -> PathBuf {
        self.instance_dir.join("server.json")
    }

    /// The folders `onboard` creates.
    pub fn folders(&self) -> Vec<PathBuf> {
        ["db", "logs", "data/storage", "data/backups", "secrets"]
            .iter()
            .map(|f| self.instance_dir.join(f))
            .collect()
    }
}

pub fn expand_tilde(path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(dirs) = directories::BaseDirs::new()
    {
        return dirs.home_dir().join(rest);
    }
    PathBuf::from(path)
}

//! Configuration: `config.json` (Paperclip's sections and names), then environment overrides,
//! then command-line flags — validated once at start, with messages that name the file, the
//! field and the fix. Nothing is silently ignored.

mod error;
pub mod file;
mod paths;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::store::postgres::{PgTarget, parse_bool, parse_pool_size, parse_url};

pub use error::ConfigError;
pub use paths::InstancePaths;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentMode {
    LocalTrusted,
    Authenticated,
}

impl DeploymentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentMode::LocalTrusted => "local_trusted",
            DeploymentMode::Authenticated => "authenticated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    Private,
    Public,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Private => "private",
            Exposure::Public => "public",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BindMode {
    /// 127.0.0.1 only (the default; the only choice in local_trusted mode)
    Loopback,
    /// every interface (0.0.0.0)
    Lan,
    /// the machine's Tailscale address
    Tailnet,
    /// the address given with --host
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which database, parsed and checked at start. `PgTarget` prints without its password.
#[derive(Clone, Debug)]
pub enum DatabaseConfig {
    Sqlite(PathBuf),
    Postgres {
        target: Box<PgTarget>,
        /// How long start-up keeps retrying an unreachable server.
        connect_wait: Duration,
    },
}

/// Flags from the command line; they win over the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub bind: Option<BindMode>,
    pub host: Option<String>,
    pub port: Option<u16>,
}

/// The validated configuration a server starts from.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: InstancePaths,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    pub deployment_mode: DeploymentMode,
    pub exposure: Exposure,
    pub bind: BindMode,
    pub host: String,
    pub port: u16,
    pub allowed_hostnames: Vec<String>,
    /// True when `PAPERCLIP_ALLOWED_HOSTNAMES` decides the list (config.json is then not
    /// followed for changes).
    pub allowed_hostnames_from_env: bool,
    pub database: DatabaseConfig,
    pub log_format: LogFormat,
    pub company_deletion_enabled: bool,
}

impl Config {
    /// Reads the environment, the config file it points to, and the flags.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self::load_with(overrides, &env)
    }

    pub fn load_with(
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let paths = InstancePaths::resolve(env)?;
        let file_path = paths.config_file.clone();
        let file = if file_path.exists() {
            Some(file::read(&file_path)?)
        } else {
            None
        };
        let settings = file.clone().unwrap_or_default();
        let env_error = |var: &str, message: String| ConfigError::Env {
            var: var.to_string(),
            message,
        };

        let mode_text = env("PAPERCLIP_DEPLOYMENT_MODE").or(settings.deployment_mode.clone());
        let deployment_mode = match mode_text.as_deref() {
            None | Some("local_trusted") => DeploymentMode::LocalTrusted,
            Some("authenticated") => DeploymentMode::Authenticated,
            Some(other) => {
                return Err(env_error(
                    "PAPERCLIP_DEPLOYMENT_MODE / server.deploymentMode",
                    format!(
                        "unknown deployment mode {other:?}; use \"local_trusted\" or \"authenticated\""
                    ),
                ));
            }
        };
        let exposure = match env("PAPERCLIP_DEPLOYMENT_EXPOSURE")
            .or(settings.exposure.clone())
            .as_deref()
        {
            None | Some("private") => Exposure::Private,
            Some("public") => Exposure::Public,
            Some(other) => {
                return Err(env_error(
                    "PAPERCLIP_DEPLOYMENT_EXPOSURE / server.exposure",
                    format!("unknown exposure {other:?}; use \"private\" or \"public\""),
                ));
            }
        };
        let port = match (overrides.port, env("PORT")) {
            (Some(p), _) => p,
            (None, Some(p)) => {
                p.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| {
                        env_error("PORT", format!("{p:?} is not a port number (1-65535)"))
                    })?
            }
            (None, None) => settings.port.unwrap_or(3100),
        };
        let bind = overrides
            .bind
            .or(settings.bind)
            .unwrap_or(BindMode::Loopback);
        let host = overrides
            .host
            .clone()
            .or(env("HOST"))
            .or(settings
                .custom_bind_host
                .clone()
                .filter(|_| bind == BindMode::Custom))
            .or(settings.host.clone())
            .unwrap_or_else(|| match bind {
                BindMode::Lan => "0.0.0.0".into(),
                _ => "127.0.0.1".into(),
            });
        let mut allowed_hostnames = settings.allowed_hostnames.clone();
        let allowed_hostnames_from_env = env("PAPERCLIP_ALLOWED_HOSTNAMES").is_some();
        if let Some(list) = env("PAPERCLIP_ALLOWED_HOSTNAMES") {
            allowed_hostnames = list
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect();
        }
        let database = match env("DATABASE_URL").or(settings.connection_string.clone()) {
            Some(url)
                if settings.database_mode.as_deref() != Some("sqlite")
                    || env("DATABASE_URL").is_some() =>
            {
                if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                    postgres_config(&url, env)?
                } else if let Some(path) = url
                    .strip_prefix("sqlite://")
                    .or(url.strip_prefix("sqlite:"))
                {
                    DatabaseConfig::Sqlite(PathBuf::from(path))
                } else {
                    return Err(env_error(
                        "DATABASE_URL / database.connectionString",
                        "the URL must start with postgres:// or sqlite: (the scheme was not recognised)".into(),
                    ));
                }
            }
            _ => DatabaseConfig::Sqlite(
                settings
                    .sqlite_path
                    .clone()
                    .unwrap_or_else(|| paths.default_database()),
            ),
        };
        let log_format = match env("PAPERCLIP_LOG_FORMAT")
            .or(settings.log_format.clone())
            .as_deref()
        {
            None | Some("text") | Some("pretty") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(env_error(
                    "PAPERCLIP_LOG_FORMAT",
                    format!("unknown log format {other:?}; use \"text\" or \"json\""),
                ));
            }
        };
        let company_deletion_enabled = match env("PAPERCLIP_ENABLE_COMPANY_DELETION").as_deref() {
            Some(v) => v == "true" || v == "1",
            None => deployment_mode == DeploymentMode::LocalTrusted,
        };
        let config = Config {
            paths,
            config_file: file.map(|_| file_path),
            deployment_mode,
            exposure,
            bind,
            host,
            port,
            allowed_hostnames,
            allowed_hostnames_from_env,
            database,
            log_format,
            company_deletion_enabled,
        };
        config.check_start_rules()?;
        Ok(config)
    }

    /// The deployment rules of DESIGN.md that this build enforces at start.
    fn check_start_rules(&self) -> Result<(), ConfigError> {
        if self.deployment_mode == DeploymentMode::LocalTrusted {
            let loopback = self.host == "localhost"
                || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if self.bind != BindMode::Loopback && self.bind != BindMode::Custom || !loopback {
                return Err(ConfigError::Rule(format!(
                    "local_trusted mode serves this machine only, so it must bind to loopback, but the bind is {:?} on {}. \
                     Use --bind loopback (the default), or switch to server.deploymentMode \"authenticated\" to serve other machines.",
                    self.bind, self.host
                )));
            }
        }
        if self.deployment_mode == DeploymentMode::Authenticated {
            return Err(ConfigError::Rule(
                "authenticated mode (sign-in, sessions, LAN/tailnet/public exposure) is not available in this build yet; \
                 run with server.deploymentMode \"local_trusted\" (the default)"
                    .into(),
            ));
        }
        Ok(())
    }

    pub fn base_url(&self, port: u16) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("http://{host}:{port}")
    }
}

/// A PostgreSQL URL plus the environment knobs that go with it: `PAPERCLIP_DB_PREPARE=false`
/// (transaction-mode poolers; same as `?prepare=false`), `PAPERCLIP_DB_POOL_SIZE`, and
/// `PAPERCLIP_DB_CONNECT_WAIT_SEC` (default 30).
fn postgres_config(
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DatabaseConfig, ConfigError> {
    let field = "DATABASE_URL / database.connectionString";
    let mut target = parse_url(url).map_err(|e| ConfigError::Env {
        var: field.into(),
        message: e.to_string(),
    })?;
    if let Some(v) = env("PAPERCLIP_DB_PREPARE") {
        let prepare = parse_bool(&v).ok_or_else(|| ConfigError::Env {
            var: "PAPERCLIP_DB_PREPARE".into(),
            message: format!("{v:?} is not true or false"),
        })?;
        target = target.with_prepare(prepare);
    }
    if let Some(v) = env("PAPERCLIP_DB_POOL_SIZE") {
        target.max_connections = parse_pool_size(&v).ok_or_else(|| ConfigError::Env {
            var: "PAPERCLIP_DB_POOL_SIZE".into(),
            message: format!("{v:?} is not a number from 1 to 1000"),
        })?;
    }
    let connect_wait = match env("PAPERCLIP_DB_CONNECT_WAIT_SEC") {
        None => Duration::from_secs(30),
        Some(v) => Duration::from_secs(v.parse::<u64>().map_err(|_| ConfigError::Env {
            var: "PAPERCLIP_DB_CONNECT_WAIT_SEC".into(),
            message: format!("{v:?} is not a whole number of seconds"),
        })?),
    };
    Ok(DatabaseConfig::Postgres {
        target: Box::new(target),
        connect_wait,
    })
}

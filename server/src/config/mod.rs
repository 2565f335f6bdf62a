//! Configuration: `config.json` (Paperclip's sections and names), then environment overrides,
//! then command-line flags — validated once at start, with messages that name the file, the
//! field and the fix. Nothing is silently ignored.

mod error;
pub mod file;
pub mod heartbeat;
mod paths;
pub mod prices;
pub mod secrets;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::net::proxies::TrustedProxies;
use crate::store::postgres::{PgTarget, parse_bool, parse_pool_size, parse_url};

pub use error::ConfigError;
pub use paths::InstancePaths;
pub use secrets::{SecretsConfig, SecretsProvider};

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
    /// every interface (0.0.0.0 and ::); authenticated mode only
    Lan,
    /// this machine's Tailscale addresses, asked of tailscaled; authenticated mode only
    Tailnet,
    /// the address given with --host
    Custom,
}

impl BindMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BindMode::Loopback => "loopback",
            BindMode::Lan => "lan",
            BindMode::Tailnet => "tailnet",
            BindMode::Custom => "custom",
        }
    }

    pub fn parse(text: &str) -> Option<BindMode> {
        match text.trim() {
            "loopback" => Some(BindMode::Loopback),
            "lan" => Some(BindMode::Lan),
            "tailnet" => Some(BindMode::Tailnet),
            "custom" => Some(BindMode::Custom),
            _ => None,
        }
    }
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
    /// The secrets provider when neither `PAPERCLIP_SECRETS_PROVIDER` nor `secrets.provider`
    /// names one: unset (`local_encrypted`) for the headless server, `Keychain` for the
    /// desktop app. Unlike the fields above, a default: the file and the environment win.
    pub default_secrets_provider: Option<SecretsProvider>,
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
    /// `auth.publicBaseUrl`: the address people use (required for public exposure).
    pub public_base_url: Option<url::Url>,
    pub disable_sign_up: bool,
    /// `server.serveUi` / `SERVE_UI`: whether `/` serves the board UI (default true).
    pub serve_ui: bool,
    /// Rate limits on sign-in, sign-up and claim (`PAPERCLIP_AUTH_RATE_LIMIT_ENABLED=false`
    /// turns them off, for tests and benchmarks).
    pub auth_rate_limit: bool,
    /// `server.trustedProxies` / `PAPERCLIP_TRUSTED_PROXIES`: whose X-Forwarded-* headers count.
    pub trusted_proxies: TrustedProxies,
    /// tailscaled's LocalAPI socket, asked for this machine's addresses under `--bind tailnet`
    /// (`PAPERCLIP_TAILSCALE_SOCKET`, else the platform's default).
    pub tailscale_socket: PathBuf,
    /// `PAPERCLIP_TAILNET_BIND_HOST`: the Tailscale address to listen on under `--bind
    /// tailnet`, for machines where tailscaled's socket is out of reach (a container).
    pub tailnet_bind_host: Option<IpAddr>,
    /// How long a run token lives (`PAPERCLIP_AGENT_JWT_TTL_SECONDS`, default an hour).
    pub run_token_ttl: Duration,
    /// Where the secrets master key lives (`secrets.provider` and what that provider needs).
    pub secrets: SecretsConfig,
    /// `secrets.strictMode` / `PAPERCLIP_SECRETS_STRICT_MODE`: a plain value under a
    /// sensitive env key (`*_API_KEY`, `*_TOKEN`, …) is refused; a secret reference is needed.
    pub secrets_strict_mode: bool,
    /// The heartbeat scheduler (`HEARTBEAT_SCHEDULER_*`, `HEARTBEAT_MAX_CONCURRENT_RUNS`).
    pub heartbeat: heartbeat::HeartbeatConfig,
    /// The price table for estimates (`prices.json` in the instance folder, or built in).
    pub prices: prices::PriceTable,
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
        let bind_env = match env("PAPERCLIP_BIND") {
            None => None,
            Some(text) => Some(BindMode::parse(&text).ok_or_else(|| {
                env_error(
                    "PAPERCLIP_BIND",
                    format!("unknown bind {text:?}; use loopback, lan, tailnet or custom"),
                )
            })?),
        };
        let bind = overrides
            .bind
            .or(bind_env)
            .or(settings.bind)
            .unwrap_or(BindMode::Loopback);
        let host = overrides
            .host
            .clone()
            .or(env("HOST"))
            .or(env("PAPERCLIP_BIND_HOST").filter(|_| bind == BindMode::Custom))
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
        let public_base_url = match env("PAPERCLIP_AUTH_PUBLIC_BASE_URL")
            .or(env("PAPERCLIP_PUBLIC_URL"))
            .or(env("BETTER_AUTH_URL"))
            .or(settings.public_base_url.clone())
        {
            None => None,
            Some(text) => Some(parse_public_url(&text).map_err(|message| {
                env_error(
                    "PAPERCLIP_AUTH_PUBLIC_BASE_URL / auth.publicBaseUrl",
                    message,
                )
            })?),
        };
        if let Some(host) = public_base_url.as_ref().and_then(|u| u.host_str()) {
            let host = host
                .trim_matches(|c| c == '[' || c == ']')
                .to_ascii_lowercase();
            if !allowed_hostnames.contains(&host) {
                allowed_hostnames.push(host);
            }
        }
        let flag = |var: &str, default: bool| -> Result<bool, ConfigError> {
            match env(var) {
                None => Ok(default),
                Some(v) => parse_bool(&v)
                    .ok_or_else(|| env_error(var, format!("{v:?} is not true or false"))),
            }
        };
        let disable_sign_up = flag(
            "PAPERCLIP_AUTH_DISABLE_SIGN_UP",
            settings.disable_sign_up.unwrap_or(false),
        )?;
        let auth_rate_limit = flag("PAPERCLIP_AUTH_RATE_LIMIT_ENABLED", true)?;
        let serve_ui = flag("SERVE_UI", settings.serve_ui.unwrap_or(true))?;
        let trusted_proxies = match env("PAPERCLIP_TRUSTED_PROXIES") {
            Some(list) => {
                let entries: Vec<String> = list.split(',').map(|p| p.trim().to_string()).collect();
                TrustedProxies::parse(&entries)
                    .map_err(|m| env_error("PAPERCLIP_TRUSTED_PROXIES", m))?
            }
            None => TrustedProxies::parse(&settings.trusted_proxies)
                .map_err(|m| env_error("server.trustedProxies", m))?,
        };
        let tailscale_socket = env("PAPERCLIP_TAILSCALE_SOCKET")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(crate::net::tailscale::DEFAULT_SOCKET));
        let tailnet_bind_host = match env("PAPERCLIP_TAILNET_BIND_HOST") {
            None => None,
            Some(text) => Some(text.trim().parse::<IpAddr>().map_err(|_| {
                env_error(
                    "PAPERCLIP_TAILNET_BIND_HOST",
                    format!("{text:?} is not an IP address (e.g. 100.64.0.8)"),
                )
            })?),
        };
        let run_token_ttl = match env("PAPERCLIP_AGENT_JWT_TTL_SECONDS") {
            None => crate::auth::jwt::DEFAULT_TTL,
            Some(text) => Duration::from_secs(
                text.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| (60..=7 * 24 * 3600).contains(s))
                    .ok_or_else(|| {
                        env_error(
                            "PAPERCLIP_AGENT_JWT_TTL_SECONDS",
                            format!("{text:?} is not a number of seconds from 60 to 604800"),
                        )
                    })?,
            ),
        };
        let secrets_key_file = env(secrets::KEY_FILE_ENV)
            .map(|p| PathBuf::from(p.trim()))
            .or(settings.secrets_key_file.clone())
            .unwrap_or_else(|| crate::secrets::master_key::default_key_file(&paths.instance_dir));
        let secrets = secrets::resolve(
            env,
            &settings,
            overrides.default_secrets_provider,
            secrets_key_file,
        )?;
        let secrets_strict_mode = flag(
            "PAPERCLIP_SECRETS_STRICT_MODE",
            settings.secrets_strict_mode.unwrap_or(false),
        )?;
        let heartbeat = heartbeat::HeartbeatConfig::from_env(env)?;
        let prices = prices::PriceTable::load(&paths.instance_dir, env)?;
        let config = Config {
            heartbeat,
            prices,
            secrets_strict_mode,
            secrets,
            run_token_ttl,
            tailscale_socket,
            tailnet_bind_host,
            public_base_url,
            disable_sign_up,
            serve_ui,
            auth_rate_limit,
            trusted_proxies,
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
                    "local_trusted mode serves this machine only, so it must bind to loopback, but the bind is {} on {}. \
                     Use --bind loopback (the default), or switch to server.deploymentMode \"authenticated\" to serve other machines.",
                    self.bind.as_str(),
                    self.host
                )));
            }
        }
        if self.deployment_mode == DeploymentMode::LocalTrusted && self.exposure == Exposure::Public
        {
            return Err(ConfigError::Rule(
                "local_trusted mode only supports private exposure: it has no sign-in. \
                 Set server.deploymentMode \"authenticated\" to expose this server publicly."
                    .into(),
            ));
        }
        if self.deployment_mode == DeploymentMode::Authenticated
            && self.exposure == Exposure::Public
            && self.public_base_url.is_none()
        {
            return Err(ConfigError::Rule(
                "authenticated public exposure requires an explicit public base URL: set auth.publicBaseUrl \
                 (or PAPERCLIP_AUTH_PUBLIC_BASE_URL) to the address people use, e.g. https://paperclip.example.com"
                    .into(),
            ));
        }
        if self.bind == BindMode::Custom && self.host.trim().is_empty() {
            return Err(ConfigError::Rule(
                "server.bind=custom needs an address: pass --host or set server.customBindHost"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// `auth.publicBaseUrl`: an absolute http(s) URL with a host (a trailing path is kept).
fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| {
        format!("{text:?} is not a URL ({e}); use e.g. https://paperclip.example.com")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{text:?} must be an http:// or https:// URL with a host, e.g. https://paperclip.example.com"
        ));
    }
    Ok(url)
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

//! The one way to start Paperclip: `Server::bind(config)` gives a bound server (its address
//! known), `Bound::serve(shutdown)` runs it until the shutdown future completes. The CLI and
//! the desktop shell both use exactly this.

use std::fs::File;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::state::{AppState, AuthSettings};
use crate::api::{self};
use crate::auth::hostname::HostnameGuard;
use crate::auth::jwt::RunTokens;
use crate::auth::limits::AuthLimits;
use crate::auth::secret::{self, InstanceSecret};
use crate::auth::{LOCAL_BOARD_USER_ID, session};
use crate::config::{Config, DatabaseConfig};
use crate::domain::Domain;
use crate::heartbeat::{Heartbeats, RunSettings};
use crate::net::listen::{self, ListenError};
use crate::realtime::EventBus;
use crate::secrets::keys::SecretKeys;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError, UserRecord};

#[derive(Debug, Error)]
pub enum StartError {
    #[error(
        "another Paperclip server is already running on this instance ({home}): {owner}. Stop it first, or use another PAPERCLIP_INSTANCE_ID / PAPERCLIP_HOME."
    )]
    AlreadyRunning { home: String, owner: String },
    #[error("cannot prepare the instance folder {path}: {message}")]
    Instance { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error("{0}")]
    Config(String),
}

pub struct Server;

/// How long a shutdown waits for in-flight requests.
const DRAIN_SECS: u64 = 30;

/// A server that holds its instance lock and its listening socket, ready to serve.
pub struct Bound {
    /// At least one; the first is the main address.
    listeners: Vec<TcpListener>,
    router: axum::Router,
    store: Arc<dyn Store>,
    addr: SocketAddr,
    /// The host printed in URLs (the tailnet's MagicDNS name, else the bind address).
    display_host: String,
    config: Config,
    notices: Vec<String>,
    heartbeats: Heartbeats,
    _lock: File,
}

impl Server {
    pub async fn bind(config: Config) -> Result<Bound, StartError> {
        let dir = &config.paths.instance_dir;
        std::fs::create_dir_all(dir).map_err(|e| StartError::Instance {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let lock = take_instance_lock(&config)?;

        let store = open_store(&config).await?;
        let local_board = UserRecord {
            id: LOCAL_BOARD_USER_ID.into(),
            name: "Board".into(),
            email: None,
            created_at: chrono::Utc::now(),
        };
        // The implicit board is an instance admin only while the instance runs local_trusted;
        // in authenticated mode it stays a row (history names it) that nobody can sign in as.
        let local_mode = config.deployment_mode == crate::config::DeploymentMode::LocalTrusted;
        store.ensure_user(local_board, local_mode).await?;

        let listening = listen::listen(&config).await?;
        let addr = listening.listeners[0]
            .local_addr()
            .map_err(|e| ListenError::Bind {
                addr: format!("{}:{}", config.host, config.port),
                message: e.to_string(),
            })?;
        let mut bound_hosts = listening.hostnames.clone();
        bound_hosts.push(config.host.clone());

        let secret = instance_secret(&config)?;
        let domain = domain_for(&config, store.clone(), &secret);
        let bus = EventBus::new();
        crate::realtime::feed::connect(&bus, &store).await;
        let heartbeats = Heartbeats::new(
            domain.clone(),
            bus.clone(),
            config.heartbeat.clone(),
            RunSettings {
                api_url: runtime_api_url(addr),
                data_dir: config.paths.instance_dir.join("data").join("adapters"),
            },
        );
        domain.set_run_control(Arc::new(heartbeats.clone()));
        domain
            .roll_spend_month()
            .await
            .map_err(|e| StartError::Config(format!("cannot start the month spend: {e}")))?;
        let state = AppState {
            domain,
            bus,
            mode: config.deployment_mode,
            exposure: config.exposure,
            guard: HostnameGuard::new(
                &bound_hosts,
                &config.allowed_hostnames,
                (!config.allowed_hostnames_from_env).then(|| config.paths.config_file.clone()),
            ),
            auth: Arc::new(AuthSettings {
                cookie_name: session::cookie_name(&config.paths.instance_id),
                public_base_url: config.public_base_url.clone(),
                disable_sign_up: config.disable_sign_up,
                limits: AuthLimits::new(config.auth_rate_limit),
                trusted_proxies: config.trusted_proxies.clone(),
            }),
            serve_ui: config.serve_ui,
        };
        check_secrets_key(&store, state.domain.secret_keys()).await?;
        heartbeats
            .start()
            .await
            .map_err(|e| StartError::Config(format!("cannot start heartbeats: {e}")))?;
        let notices = if config.deployment_mode == crate::config::DeploymentMode::Authenticated {
            let base = public_base(&config, &listening.display_host, addr.port());
            start_notices(&state.domain, &secret, &base).await?
        } else {
            Vec::new()
        };
        for notice in &notices {
            tracing::warn!("{notice}");
        }
        let url = url_of(&listening.display_host, addr.port());
        let info = serde_json::json!({"pid": std::process::id(), "url": url, "startedAt": chrono::Utc::now()});
        let _ = std::fs::write(config.paths.server_info_file(), info.to_string());
        Ok(Bound {
            listeners: listening.listeners,
            router: api::router(state),
            store,
            addr,
            display_host: listening.display_host,
            config,
            notices,
            heartbeats,
            _lock: lock,
        })
    }
}

impl Bound {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The main address, as people would type it.
    pub fn url(&self) -> String {
        url_of(&self.display_host, self.addr.port())
    }

    /// Every address the server listens on (lan: IPv4 and IPv6; tailnet: each Tailscale IP).
    pub fn listening_on(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// What a person must do now, printed at start (the bootstrap invite or the board claim
    /// URL while one is open).
    /// The heartbeat service (benchmarks call its scheduler's tick directly).
    pub fn heartbeats(&self) -> &Heartbeats {
        &self.heartbeats
    }

    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    pub fn describe_database(&self) -> String {
        self.store.describe()
    }

    /// Serves until `shutdown` completes; in-flight requests finish, then the database closes.
    /// Every listener serves the same router and stops on the same signal.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let mut servers = tokio::task::JoinSet::new();
        for listener in self.listeners {
            let app = self
                .router
                .clone()
                .into_make_service_with_connect_info::<SocketAddr>();
            let mut stopped = stopped.clone();
            servers.spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await
            });
        }
        tokio::pin!(shutdown);
        let mut result = Ok(());
        // Once stopping, in-flight requests get DRAIN_SECS to finish, then are cut off.
        let drain = tokio::time::sleep(std::time::Duration::MAX / 4);
        tokio::pin!(drain);
        let (mut draining, mut aborted) = (false, false);
        loop {
            if *stop.borrow() && !draining {
                draining = true;
                let deadline =
                    tokio::time::Instant::now() + std::time::Duration::from_secs(DRAIN_SECS);
                drain.as_mut().reset(deadline);
            }
            tokio::select! {
                () = &mut shutdown, if !*stop.borrow() => {
                    let _ = stop.send(true);
                }
                () = &mut drain, if draining && !aborted => {
                    tracing::warn!("requests still running after {DRAIN_SECS} s; closing them");
                    servers.abort_all();
                    aborted = true;
                }
                done = servers.join_next() => match done {
                    None => break,
                    Some(Ok(Ok(()))) => {}
                    Some(Err(join)) if join.is_cancelled() => {}
                    Some(Ok(Err(e))) => {
                        // One listener failing stops the others: a half-served server is worse.
                        let _ = stop.send(true);
                        result = Err(e);
                    }
                    Some(Err(join)) => {
                        let _ = stop.send(true);
                        result = Err(std::io::Error::other(join.to_string()));
                    }
                },
            }
        }
        // Live runs end `interrupted` (their process groups gone) before the database closes.
        self.heartbeats.shutdown().await;
        self.store.close().await;
        let _ = std::fs::remove_file(self.config.paths.server_info_file());
        result
    }
}

/// `PAPERCLIP_API_URL` for runs: this server as reached from this machine (a wildcard bind
/// is reached on loopback), unless `PAPERCLIP_RUNTIME_API_URL` names another address.
fn runtime_api_url(addr: SocketAddr) -> String {
    if let Ok(url) = std::env::var("PAPERCLIP_RUNTIME_API_URL")
        && !url.trim().is_empty()
    {
        return url.trim().trim_end_matches('/').to_string();
    }
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// The configured database, opened and migrated.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let store: Arc<dyn Store> = match &config.database {
        DatabaseConfig::Sqlite(path) => {
            let path = path.clone();
            Arc::new(
                tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                    .await
                    .map_err(|e| StartError::Config(e.to_string()))??,
            )
        }
        DatabaseConfig::Postgres {
            target,
            connect_wait,
        } => Arc::new(PgStore::open((**target).clone(), *connect_wait).await?),
    };
    Ok(store)
}

/// The rules, over `store`, with this instance's run-token keys.
pub fn domain_for(config: &Config, store: Arc<dyn Store>, secret: &InstanceSecret) -> Domain {
    let tokens = RunTokens::new(secret, &config.paths.instance_id, config.run_token_ttl);
    let keys = SecretKeys::for_config(config);
    Domain::new(
        store,
        config.company_deletion_enabled,
        tokens,
        keys,
        config.secrets_strict_mode,
    )
    .with_prices(config.prices.clone())
}

/// Secrets stored and no master key to open them: refuse to start, saying which provider
/// looked where. With nothing stored yet, a provider that cannot be asked at all (no Secret
/// Service, `env` without its variable) is named now; the keychain one only as a warning, as
/// routes that need the key answer 503 with the same words.
async fn check_secrets_key(
    store: &Arc<dyn Store>,
    keys: &Arc<SecretKeys>,
) -> Result<(), StartError> {
    let versions = store.count_secret_versions().await?;
    if versions == 0 {
        return match keys.reachable().await {
            Ok(()) => Ok(()),
            Err(e @ crate::secrets::master_key::MasterKeyError::EnvUnset) => {
                Err(StartError::Config(e.to_string()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the secrets master key cannot be had; storing a secret will fail");
                Ok(())
            }
        };
    }
    match keys.existing_blocking().await {
        Ok(Some(key)) => {
            // The key must open what is stored: a wrong one is named now, not at the first run.
            let Some((company, version)) = store.sample_secret_version().await? else {
                return Ok(());
            };
            let opened = crate::secrets::crypto::open_stored(
                &key,
                company,
                version.secret_id,
                &version.ciphertext,
            );
            if opened.is_ok() {
                Ok(())
            } else {
                Err(StartError::Config(format!(
                    "cannot decrypt secrets with this master key ({}, secrets provider {}): it is not \
                     the key the stored secrets were sealed with. {} and start again.",
                    keys.describe(),
                    keys.provider().as_str(),
                    keys.restore_hint()
                )))
            }
        }
        Ok(None) => Err(StartError::Config(format!(
            "{versions} secret versions are stored, but there is no secrets master key to open them: \
             {}. {} and start again.",
            keys.looked_where(),
            keys.restore_hint()
        ))),
        Err(e) => Err(StartError::Config(format!(
            "{versions} secret versions are stored, but the secrets master key cannot be read: {e}"
        ))),
    }
}

/// The instance's signing secret (the environment's, or `secrets/auth.key`, made once).
pub fn instance_secret(config: &Config) -> Result<InstanceSecret, StartError> {
    let from_env = secret::ENV_VARS
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()));
    InstanceSecret::load(from_env, &config.paths.instance_dir).map_err(StartError::Config)
}

/// The address people use: the public base URL, else this server's.
pub fn public_base(config: &Config, host: &str, port: u16) -> String {
    match &config.public_base_url {
        Some(url) => url.as_str().trim_end_matches('/').to_string(),
        None => url_of(host, port),
    }
}

/// `http://host:port`, with an IPv6 address bracketed and "every interface" read as localhost.
pub fn url_of(host: &str, port: u16) -> String {
    let host = match host {
        "0.0.0.0" | "::" | "[::]" | "" => "localhost".to_string(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_string(),
    };
    format!("http://{host}:{port}")
}

/// While no real admin exists: the one-time URL that makes one.
async fn start_notices(
    domain: &Domain,
    secret: &InstanceSecret,
    base: &str,
) -> Result<Vec<String>, StartError> {
    let failed = |e: crate::domain::DomainError| StartError::Config(e.to_string());
    if let Some((path, expires)) = domain.ensure_board_claim(secret).await.map_err(failed)? {
        return Ok(vec![format!(
            "BOARD CLAIM REQUIRED: this instance ran local_trusted and local-board is still its only admin. \
             Sign in (or sign up) as yourself, then open this one-time URL to take ownership: {base}{path} \
             (valid until {}).",
            expires.to_rfc3339()
        )]);
    }
    if let Some((path, expires)) = domain
        .ensure_bootstrap_invite(secret)
        .await
        .map_err(failed)?
    {
        return Ok(vec![format!(
            "NO ADMIN YET: open this one-time invite URL to become the first instance admin: {base}{path} \
             (valid until {}; `paperclip auth bootstrap-ceo` makes a new one).",
            expires.to_rfc3339()
        )]);
    }
    Ok(Vec::new())
}

/// "pid N serving URL" from a running server's `server.json`, when it can be read.
pub fn lock_owner(server_info: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(server_info).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(format!(
        "pid {} serving {}",
        v["pid"],
        v["url"].as_str().unwrap_or("?")
    ))
}

/// One server per instance home: an exclusive lock on `server.lock` held for the server's life.
pub(crate) fn take_instance_lock(config: &Config) -> Result<File, StartError> {
    let path = config.paths.lock_file();
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StartError::Instance {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            let owner = lock_owner(&config.paths.server_info_file())
                .unwrap_or_else(|| "a process holds the instance lock".into());
            Err(StartError::AlreadyRunning {
                home: config.paths.instance_dir.display().to_string(),
                owner,
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(StartError::Instance {
            path: path.display().to_string(),
            message: e.to_string(),
        }),
    }
}

//! `config.json`: Paperclip's sections and key names. Unknown keys are refused with a
//! suggestion; keys Paperclip knows but this server does not use are accepted and logged.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::paths::expand_tilde;
use super::{BindMode, ConfigError, SecretsProvider};

/// What the file says, before environment and flags are layered on.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub deployment_mode: Option<String>,
    pub exposure: Option<String>,
    pub bind: Option<BindMode>,
    pub custom_bind_host: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub allowed_hostnames: Vec<String>,
    pub database_mode: Option<String>,
    pub connection_string: Option<String>,
    pub sqlite_path: Option<PathBuf>,
    pub log_format: Option<String>,
    pub public_base_url: Option<String>,
    pub disable_sign_up: Option<bool>,
    pub trusted_proxies: Vec<String>,
    /// `server.serveUi`.
    pub serve_ui: Option<bool>,
    /// `secrets.provider`.
    pub secrets_provider: Option<SecretsProvider>,
    /// `secrets.localEncrypted.keyFilePath`.
    pub secrets_key_file: Option<PathBuf>,
    /// `secrets.strictMode`.
    pub secrets_strict_mode: Option<bool>,
}

/// Keys we read, per section.
const USED: &[(&str, &[&str])] = &[
    ("$meta", &["version", "updatedAt", "source"]),
    ("database", &["mode", "connectionString", "sqlitePath"]),
    ("logging", &["mode", "logDir", "format"]),
    (
        "server",
        &[
            "deploymentMode",
            "exposure",
            "bind",
            "customBindHost",
            "host",
            "port",
            "allowedHostnames",
            "trustedProxies",
            "serveUi",
        ],
    ),
    ("auth", &["baseUrlMode", "publicBaseUrl", "disableSignUp"]),
    ("storage", &["provider", "localDisk", "s3"]),
    ("secrets", &["provider", "strictMode", "localEncrypted"]),
];

/// Keys of Paperclip's schema that this server accepts but does not act on (yet).
const KNOWN_UNUSED: &[(&str, &[&str])] = &[
    (
        "database",
        &["embeddedPostgresDataDir", "embeddedPostgresPort", "backup"],
    ),
    ("", &["llm", "telemetry", "updates"]),
];

/// Common misspellings with the key that was meant.
const ALIASES: &[(&str, &str)] = &[
    ("url", "connectionString"),
    ("databaseUrl", "connectionString"),
    ("mode", "deploymentMode"),
];

fn err(path: &Path, field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        path: path.to_path_buf(),
        field: field.to_string(),
        message: message.into(),
    }
}

fn suggest(key: &str, candidates: &[&str]) -> Option<String> {
    if let Some((_, meant)) = ALIASES
        .iter()
        .find(|(alias, meant)| *alias == key && candidates.contains(meant))
    {
        return Some(meant.to_string());
    }
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&key.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

fn check_keys(
    path: &Path,
    section: &str,
    obj: &Map<String, Value>,
    used: &[&str],
    unused: &[&str],
) -> Result<(), ConfigError> {
    for key in obj.keys() {
        if used.contains(&key.as_str()) {
            continue;
        }
        let field = if section.is_empty() {
            key.clone()
        } else {
            format!("{section}.{key}")
        };
        if unused.contains(&key.as_str()) {
            tracing::info!(
                field,
                "config key is Paperclip's and is not used by this server"
            );
            continue;
        }
        let hint = match suggest(key, used) {
            Some(s) => format!("unknown key; did you mean `{s}`?"),
            None => format!(
                "unknown key; the keys of this section are: {}",
                used.join(", ")
            ),
        };
        return Err(err(path, &field, hint));
    }
    Ok(())
}

/// A true/false key (absent or null: not set).
fn boolean(
    path: &Path,
    obj: &Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<Option<bool>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(err(
            path,
            &format!("{section}.{key}"),
            format!("must be true or false, found {other}"),
        )),
    }
}

fn string(
    path: &Path,
    obj: &Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(err(
            path,
            &format!("{section}.{key}"),
            format!("must be a string, found {other}"),
        )),
    }
}

pub fn read(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let root: Value = serde_json::from_str(&text).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        message: format!("not valid JSON ({e}); fix the file or run `paperclip onboard --yes --force` to write a new one"),
    })?;
    let Value::Object(root) = root else {
        return Err(ConfigError::File {
            path: path.to_path_buf(),
            message: "the file must hold a JSON object".into(),
        });
    };
    let top: Vec<&str> = USED.iter().map(|(s, _)| *s).collect();
    check_keys(
        path,
        "",
        &root,
        &top,
        KNOWN_UNUSED
            .iter()
            .find(|(s, _)| s.is_empty())
            .map(|(_, k)| *k)
            .unwrap_or(&[]),
    )?;
    let Some(meta) = root.get("$meta") else {
        return Err(err(
            path,
            "$meta",
            "missing: the file needs {\"$meta\": {\"version\": 1, \"updatedAt\": \"…\", \"source\": \"onboard\"}} (or run `paperclip onboard --yes --force`)",
        ));
    };
    match meta.get("version") {
        Some(Value::Number(n)) if n.as_i64() == Some(1) => {}
        Some(other) => {
            return Err(err(
                path,
                "$meta.version",
                format!("this server reads version 1, found {other}"),
            ));
        }
        None => return Err(err(path, "$meta.version", "missing: set it to 1")),
    }
    for (section, used) in USED {
        let Some(value) = root.get(*section) else {
            continue;
        };
        let Value::Object(obj) = value else {
            return Err(err(path, section, "must be an object"));
        };
        let unused = KNOWN_UNUSED
            .iter()
            .find(|(s, _)| s == section)
            .map(|(_, k)| *k)
            .unwrap_or(&[]);
        check_keys(path, section, obj, used, unused)?;
    }
    let empty = Map::new();
    let section = |name: &str| root.get(name).and_then(Value::as_object).unwrap_or(&empty);
    let (server, database, logging) = (section("server"), section("database"), section("logging"));
    let auth = section("auth");

    let mut s = Settings {
        deployment_mode: string(path, server, "server", "deploymentMode")?,
        exposure: string(path, server, "server", "exposure")?,
        custom_bind_host: string(path, server, "server", "customBindHost")?,
        host: string(path, server, "server", "host")?,
        database_mode: string(path, database, "database", "mode")?,
        connection_string: string(path, database, "database", "connectionString")?,
        sqlite_path: string(path, database, "database", "sqlitePath")?.map(|p| expand_tilde(&p)),
        log_format: string(path, logging, "logging", "format")?,
        public_base_url: string(path, auth, "auth", "publicBaseUrl")?,
        ..Default::default()
    };
    s.disable_sign_up = boolean(path, auth, "auth", "disableSignUp")?;
    s.serve_ui = boolean(path, server, "server", "serveUi")?;
    s.trusted_proxies = string_list(path, server, "server.trustedProxies", "trustedProxies")?;
    s.secrets_strict_mode = boolean(path, section("secrets"), "secrets", "strictMode")?;
    if let Some(text) = string(path, section("secrets"), "secrets", "provider")? {
        s.secrets_provider = Some(
            SecretsProvider::parse(&text)
                .ok_or_else(|| err(path, "secrets.provider", SecretsProvider::unknown(&text)))?,
        );
    }
    if let Some(local) = section("secrets").get("localEncrypted") {
        let Value::Object(local) = local else {
            return Err(err(path, "secrets.localEncrypted", "must be an object"));
        };
        s.secrets_key_file =
            string(path, local, "secrets.localEncrypted", "keyFilePath")?.map(|p| expand_tilde(&p));
    }
    if let Some(mode) = &s.database_mode
        && !["sqlite", "postgres", "embedded-postgres"].contains(&mode.as_str())
    {
        return Err(err(
            path,
            "database.mode",
            format!("unknown mode {mode:?}; use \"sqlite\" (embedded) or \"postgres\""),
        ));
    }
    if let Some(bind) = string(path, server, "server", "bind")? {
        s.bind = Some(BindMode::parse(&bind).ok_or_else(|| {
            err(
                path,
                "server.bind",
                format!("unknown bind {bind:?}; use loopback, lan, tailnet or custom"),
            )
        })?);
    }
    match server.get("port") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => {
            let port = n.as_u64().filter(|p| (1..=65535).contains(p));
            s.port = Some(port.ok_or_else(|| {
                err(
                    path,
                    "server.port",
                    format!("{n} is not a port number (1-65535)"),
                )
            })? as u16);
        }
        Some(other) => {
            return Err(err(
                path,
                "server.port",
                format!("must be a number, found {other}"),
            ));
        }
    }
    s.allowed_hostnames = string_list(path, server, "server.allowedHostnames", "allowedHostnames")?
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    Ok(s)
}

/// A list of strings (trimmed, empty ones dropped).
fn string_list(
    path: &Path,
    obj: &Map<String, Value>,
    field: &str,
    key: &str,
) -> Result<Vec<String>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|t| t.trim().to_string())
                    .ok_or_else(|| err(path, field, "must be a list of strings"))
            })
            .filter(|r| r.as_ref().map_or(true, |t| !t.is_empty()))
            .collect(),
        Some(_) => Err(err(path, field, "must be a list of strings")),
    }
}

/// The default config `onboard` writes.
pub fn default_document() -> Value {
    serde_json::json!({
        "$meta": {"version": 1, "updatedAt": chrono::Utc::now().to_rfc3339(), "source": "onboard"},
        "database": {"mode": "sqlite"},
        "logging": {"mode": "file", "format": "text"},
        "server": {"deploymentMode": "local_trusted", "exposure": "private", "bind": "loopback",
                   "host": "127.0.0.1", "port": 3100, "allowedHostnames": [], "serveUi": true},
        "auth": {"baseUrlMode": "auto", "disableSignUp": false},
        "storage": {"provider": "local_disk"},
        "secrets": {"provider": "local_encrypted", "strictMode": false}
    })
}

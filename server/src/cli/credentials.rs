//! The CLI's stored board API keys, one per server: `$PAPERCLIP_AUTH_STORE`, else
//! `$PAPERCLIP_HOME/auth.json` (default `~/.paperclip/auth.json`), readable by its owner only.
//! The format is Paperclip's, so either CLI can read what the other wrote:
//! `{"version":1,"credentials":{"<apiBase>":{apiBase, token, createdAt, updatedAt, userId}}}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::InstancePaths;

/// One server's credential. No `Debug`: the token must not end up in a log line.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub api_base: String,
    pub token: String,
    pub created_at: String,
    pub updated_at: String,
    pub user_id: Option<String>,
}

#[derive(Serialize)]
struct AuthFile<'a> {
    version: u32,
    credentials: &'a BTreeMap<String, Credential>,
}

pub struct CredentialFile {
    path: PathBuf,
    credentials: BTreeMap<String, Credential>,
}

/// `http://host:3100/` and `http://host:3100` are the same server.
pub fn normalize_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_string()
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl CredentialFile {
    /// Where the credentials live (see the module comment).
    pub fn location() -> anyhow::Result<PathBuf> {
        if let Ok(path) = std::env::var("PAPERCLIP_AUTH_STORE")
            && !path.trim().is_empty()
        {
            return Ok(PathBuf::from(path.trim()));
        }
        let paths = InstancePaths::resolve(&|k| std::env::var(k).ok())?;
        Ok(paths.home.join("auth.json"))
    }

    /// Reads the file (none yet: no credentials). Entries missing a field are skipped, as
    /// Paperclip does.
    pub fn load() -> anyhow::Result<CredentialFile> {
        let path = Self::location()?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut credentials = BTreeMap::new();
        if !text.trim().is_empty() {
            let raw: Value = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not valid JSON; fix it or delete it and sign in again",
                    path.display()
                )
            })?;
            if let Some(entries) = raw.get("credentials").and_then(Value::as_object) {
                for (base, entry) in entries {
                    let Ok(c) = serde_json::from_value::<Credential>(entry.clone()) else {
                        continue;
                    };
                    if !c.token.trim().is_empty() {
                        credentials.insert(normalize_base(base), c);
                    }
                }
            }
        }
        Ok(CredentialFile { path, credentials })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, base: &str) -> Option<&Credential> {
        self.credentials.get(&normalize_base(base))
    }

    /// The server of the only stored credential, if exactly one is stored.
    pub fn only_base(&self) -> Option<&str> {
        match self.credentials.len() {
            1 => self.credentials.keys().next().map(String::as_str),
            _ => None,
        }
    }

    /// Stores (or replaces) the credential of `base` and writes the file.
    pub fn set(&mut self, base: &str, token: &str, user_id: Option<String>) -> anyhow::Result<()> {
        let base = normalize_base(base);
        let now = now_iso();
        let existing = self.credentials.get(&base);
        let credential = Credential {
            api_base: base.clone(),
            token: token.trim().to_string(),
            created_at: existing.map_or_else(|| now.clone(), |c| c.created_at.clone()),
            updated_at: now,
            user_id: user_id.or_else(|| existing.and_then(|c| c.user_id.clone())),
        };
        self.credentials.insert(base, credential);
        self.write()
    }

    /// Forgets the credential of `base`; false when there was none.
    pub fn remove(&mut self, base: &str) -> anyhow::Result<bool> {
        if self.credentials.remove(&normalize_base(base)).is_none() {
            return Ok(false);
        }
        self.write()?;
        Ok(true)
    }

    /// Pretty JSON and a newline, written to a file of mode 0600 beside the target and renamed
    /// over it, so a crash never leaves half a file and the keys are never world-readable.
    fn write(&self) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(&AuthFile {
            version: 1,
            credentials: &self.credentials,
        })? + "\n";
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // A fresh name, created exclusively: a link planted at a guessable name in a shared
        // folder cannot redirect the keys.
        let tmp = self.path.with_extension(format!(
            "json.tmp-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        write_private(&tmp, text.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .with_context(|| format!("cannot write {}", self.path.display()))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

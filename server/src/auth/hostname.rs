//! The hostname guard: a request whose `Host` is not one we serve is refused. It runs in every
//! mode, because a loopback server is otherwise open to DNS rebinding from any web page.
//!
//! The allowed list is loopback, the bind host, and `server.allowedHostnames` from config.json
//! (or `PAPERCLIP_ALLOWED_HOSTNAMES`, which replaces it). At most every 250 ms a request looks
//! at config.json's modification time and reads the list again when it changed, so
//! `paperclip allowed-hostname <host> [--remove]` takes effect on a running server without a
//! restart. The check between those times is one atomic load.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use crate::config::file;

#[derive(Clone, Debug)]
pub struct HostnameGuard {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Loopback names and the bind host: always allowed.
    fixed: HashSet<String>,
    /// From config.json or the environment.
    listed: RwLock<HashSet<String>>,
    /// The config file to follow (None when the environment decides the list).
    follow: Option<PathBuf>,
    /// The file's modification time when last read.
    seen: Mutex<Option<SystemTime>>,
    /// When the file was last looked at, in milliseconds since `born`.
    checked_ms: AtomicU64,
    born: Instant,
}

const CHECK_EVERY_MS: u64 = 250;

fn normalise(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl HostnameGuard {
    /// `bound`: the hosts the server listens as (the bind address, a tailnet's name and
    /// addresses). `follow`: the config file whose `server.allowedHostnames` a running server
    /// picks up.
    pub fn new(bound: &[String], listed: &[String], follow: Option<PathBuf>) -> Self {
        let mut fixed: HashSet<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        fixed.extend(bound.iter().map(|h| normalise(h)));
        let seen = follow
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .and_then(|m| m.modified().ok());
        HostnameGuard {
            inner: Arc::new(Inner {
                fixed,
                listed: RwLock::new(listed.iter().map(|h| normalise(h)).collect()),
                follow,
                seen: Mutex::new(seen),
                checked_ms: AtomicU64::new(0),
                born: Instant::now(),
            }),
        }
    }

    /// `host_header` is the raw `Host` value, with or without a port.
    pub fn permits(&self, host_header: &str) -> bool {
        let host = normalise(strip_port(host_header.trim()));
        if host.ends_with(".localhost") || host.starts_with("127.") {
            return true;
        }
        self.reload_if_changed();
        self.listed_or_fixed(&host)
    }

    fn listed_or_fixed(&self, host: &str) -> bool {
        self.inner.fixed.contains(host)
            || self
                .inner
                .listed
                .read()
                .map(|set| set.contains(host))
                .unwrap_or(false)
    }

    /// Re-reads the followed config file when its modification time changed, looking at most
    /// every 250 ms (a flood of requests costs one atomic load each).
    fn reload_if_changed(&self) {
        let Some(path) = &self.inner.follow else {
            return;
        };
        // Offset by one period so the very first request (at `born`, `checked_ms` = 0) looks too.
        let now = self.inner.born.elapsed().as_millis() as u64 + CHECK_EVERY_MS;
        let last = self.inner.checked_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < CHECK_EVERY_MS
            || self
                .inner
                .checked_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return; // looked at recently, or another request is looking right now
        }
        let Ok(mut seen) = self.inner.seen.try_lock() else {
            return;
        };
        let modified = std::fs::metadata(path).ok().and_then(|m| m.modified().ok());
        if modified == *seen {
            return;
        }
        *seen = modified;
        let list: HashSet<String> = match file::read(path) {
            Ok(settings) => settings
                .allowed_hostnames
                .iter()
                .map(|h| normalise(h))
                .collect(),
            // The file was removed: nothing listed any more.
            Err(_) if modified.is_none() => HashSet::new(),
            Err(e) => {
                tracing::warn!("config changed but cannot be read, allowed hostnames kept: {e}");
                return;
            }
        };
        tracing::info!(hosts = ?list, "allowed hostnames reloaded from {}", path.display());
        if let Ok(mut set) = self.inner.listed.write() {
            *set = list;
        }
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.find(']') {
            Some(end) => &host[..end + 2],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// A hostname as `paperclip allowed-hostname` accepts it: a DNS name or an IP address, without
/// scheme, port or path.
pub fn check_hostname(host: &str) -> Result<String, String> {
    let h = normalise(host);
    if h.is_empty() {
        return Err("the hostname is empty".into());
    }
    if h.contains("://") || h.contains('/') {
        return Err(format!(
            "{host:?} looks like a URL; give only the host name, e.g. paperclip.example.com"
        ));
    }
    let bare = h.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Ok(h);
    }
    if h.contains(':') {
        return Err(format!(
            "{host:?} has a port; give the host name without it"
        ));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if h.len() > 253 || !h.split('.').all(label_ok) {
        return Err(format!(
            "{host:?} is not a valid host name (letters, digits, '-' and '.' only)"
        ));
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_and_strangers_do_not() {
        let guard = HostnameGuard::new(
            &["127.0.0.1".into()],
            &["paperclip.example.com".into()],
            None,
        );
        for ok in [
            "localhost:3100",
            "127.0.0.1:3100",
            "[::1]:3100",
            "PAPERCLIP.example.com",
            "paperclip.example.com.",
            "app.localhost",
        ] {
            assert!(guard.permits(ok), "{ok} should pass");
        }
        for bad in ["evil.example.com", "evil.example.com:3100", "10.0.0.5"] {
            assert!(!guard.permits(bad), "{bad} should be refused");
        }
        assert!(!guard.permits("box.tailnet.ts.net:3100"));
        let bound_there = HostnameGuard::new(&["box.tailnet.ts.net".into()], &[], None);
        assert!(
            bound_there.permits("box.tailnet.ts.net:3100"),
            "the bind host passes"
        );
    }

    #[test]
    fn hostnames_are_checked() {
        assert_eq!(
            check_hostname(" Box.Example.COM ").unwrap(),
            "box.example.com"
        );
        assert!(check_hostname("10.1.2.3").is_ok());
        assert!(check_hostname("[fd7a:115c::1]").is_ok());
        for bad in [
            "",
            "https://x.example",
            "x.example:3100",
            "bad host",
            "-x.example",
            "a/b",
        ] {
            assert!(check_hostname(bad).is_err(), "{bad:?}");
        }
    }
}

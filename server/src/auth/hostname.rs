//! The hostname guard: a request whose `Host` is not one we serve is refused. It runs in every
//! mode, because a loopback server is otherwise open to DNS rebinding from any web page.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

#[derive(Clone, Debug)]
pub struct HostnameGuard {
    allowed: Arc<RwLock<HashSet<String>>>,
}

impl HostnameGuard {
    pub fn new(bind_host: &str, extra: &[String]) -> Self {
        let mut allowed: HashSet<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        allowed.insert(bind_host.to_ascii_lowercase());
        for host in extra {
            allowed.insert(host.trim().to_ascii_lowercase());
        }
        HostnameGuard {
            allowed: Arc::new(RwLock::new(allowed)),
        }
    }

    /// Adds a hostname while the server runs.
    pub fn allow(&self, host: &str) {
        if let Ok(mut set) = self.allowed.write() {
            set.insert(host.trim().to_ascii_lowercase());
        }
    }

    /// `host_header` is the raw `Host` value, with or without a port.
    pub fn permits(&self, host_header: &str) -> bool {
        let host = strip_port(host_header.trim()).to_ascii_lowercase();
        if host.ends_with(".localhost") || host.starts_with("127.") {
            return true;
        }
        self.allowed
            .read()
            .map(|set| set.contains(&host))
            .unwrap_or(false)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_and_strangers_do_not() {
        let guard = HostnameGuard::new("127.0.0.1", &["paperclip.example.com".into()]);
        for ok in [
            "localhost:3100",
            "127.0.0.1:3100",
            "[::1]:3100",
            "PAPERCLIP.example.com",
            "app.localhost",
        ] {
            assert!(guard.permits(ok), "{ok} should pass");
        }
        for bad in ["evil.example.com", "evil.example.com:3100", "10.0.0.5"] {
            assert!(!guard.permits(bad), "{bad} should be refused");
        }
        guard.allow("box.tailnet.ts.net");
        assert!(guard.permits("box.tailnet.ts.net:3100"));
    }
}

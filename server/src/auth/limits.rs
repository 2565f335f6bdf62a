//! Rate limits on sign-in, sign-up, the board claim and new CLI sign-in challenges: fixed
//! windows per key (an IP, or an account), kept in memory per server process. Over the limit
//! the caller learns how long to wait (`Retry-After`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Limiter {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit for `key`; `Err(wait)` when the key is over its limit.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 10_000 {
            hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err(self.window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Whether `key` is over its limit, without counting a hit.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        match hits.get(key) {
            Some((start, n)) if now.duration_since(*start) < self.window && *n >= self.limit => {
                Err(self.window.saturating_sub(now.duration_since(*start)))
            }
            _ => Ok(()),
        }
    }

    /// Forgets `key` (a successful sign-in clears the account's failures).
    pub fn clear(&self, key: &str) {
        self.hits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The limits of the auth routes.
pub struct AuthLimits {
    /// Sign-in, sign-up, claim and CLI challenge attempts per client IP.
    pub per_ip: Limiter,
    /// Failed sign-ins per account (email).
    pub per_account: Limiter,
}

impl AuthLimits {
    pub fn new(enabled: bool) -> Self {
        let (ip, account) = if enabled {
            (30, 10)
        } else {
            (u32::MAX, u32::MAX)
        };
        AuthLimits {
            per_ip: Limiter::new(ip, Duration::from_secs(60)),
            per_account: Limiter::new(account, Duration::from_secs(15 * 60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_resets() {
        let l = Limiter::new(2, Duration::from_secs(60));
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_ok());
        let wait = l.hit("a").unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(l.check("a").is_err());
        assert!(l.hit("b").is_ok());
        l.clear("a");
        assert!(l.hit("a").is_ok());
        let short = Limiter::new(1, Duration::from_millis(20));
        assert!(short.hit("k").is_ok());
        assert!(short.hit("k").is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(short.hit("k").is_ok());
    }
}

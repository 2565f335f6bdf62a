//! The heartbeat scheduler's settings: `HEARTBEAT_SCHEDULER_ENABLED`,
//! `HEARTBEAT_SCHEDULER_INTERVAL_MS` and `HEARTBEAT_MAX_CONCURRENT_RUNS` (Paperclip's names),
//! the loop breaker's `HEARTBEAT_LOOP_MAX_RUNS` within `HEARTBEAT_LOOP_WINDOW_MIN`, and the
//! retries of failed runs (`HEARTBEAT_RETRY_MAX_ATTEMPTS`, `HEARTBEAT_RETRY_BASE_SEC`,
//! `HEARTBEAT_RETRY_MAX_DELAY_SEC`).

use std::time::Duration;

use super::ConfigError;

#[derive(Debug, Clone)]
pub struct HeartbeatConfig {
    /// The timer (invokes and event wake-ups run either way).
    pub scheduler_enabled: bool,
    pub interval: Duration,
    /// Runs executing at once on this server; the rest wait queued.
    pub max_concurrent_runs: usize,
    /// An agent that ends this many runs within `loop_window` without changing any issue is
    /// paused with reason `loop_detected` (0 turns the breaker off).
    pub loop_max_runs: usize,
    pub loop_window: Duration,
    /// How long a usage limit pauses its agents when the provider names no reset time.
    pub usage_limit_pause: Duration,
    /// A failed run is retried at most this many times (0: never), after `retry_base`,
    /// then four times longer each time, never longer than `retry_max_delay` (±25% jitter).
    pub retry_max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max_delay: Duration,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            scheduler_enabled: true,
            interval: Duration::from_secs(30),
            max_concurrent_runs: 16,
            loop_max_runs: 20,
            loop_window: Duration::from_secs(60 * 60),
            usage_limit_pause: Duration::from_secs(60 * 60),
            // Paperclip's schedule: 2 min, then about 10, 30 and 120.
            retry_max_attempts: 4,
            retry_base: Duration::from_secs(120),
            retry_max_delay: Duration::from_secs(2 * 60 * 60),
        }
    }
}

fn number(
    env: &dyn Fn(&str) -> Option<String>,
    var: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ConfigError> {
    let Some(text) = env(var) else {
        return Ok(None);
    };
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .map(Some)
        .ok_or_else(|| ConfigError::Env {
            var: var.to_string(),
            message: format!(
                "{text:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        })
}

impl HeartbeatConfig {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = HeartbeatConfig::default();
        if let Some(text) = env("HEARTBEAT_SCHEDULER_ENABLED") {
            config.scheduler_enabled =
                super::parse_bool(&text).ok_or_else(|| ConfigError::Env {
                    var: "HEARTBEAT_SCHEDULER_ENABLED".into(),
                    message: format!("{text:?} is not true or false"),
                })?;
        }
        if let Some(ms) = number(env, "HEARTBEAT_SCHEDULER_INTERVAL_MS", 100..=86_400_000)? {
            config.interval = Duration::from_millis(ms);
        }
        if let Some(n) = number(env, "HEARTBEAT_MAX_CONCURRENT_RUNS", 1..=1000)? {
            config.max_concurrent_runs = n as usize;
        }
        if let Some(n) = number(env, "HEARTBEAT_LOOP_MAX_RUNS", 0..=100_000)? {
            config.loop_max_runs = n as usize;
        }
        if let Some(m) = number(env, "HEARTBEAT_LOOP_WINDOW_MIN", 1..=10_080)? {
            config.loop_window = Duration::from_secs(m * 60);
        }
        if let Some(m) = number(env, "HEARTBEAT_USAGE_LIMIT_PAUSE_MIN", 1..=10_080)? {
            config.usage_limit_pause = Duration::from_secs(m * 60);
        }
        if let Some(n) = number(env, "HEARTBEAT_RETRY_MAX_ATTEMPTS", 0..=20)? {
            config.retry_max_attempts = n as u32;
        }
        if let Some(s) = number(env, "HEARTBEAT_RETRY_BASE_SEC", 1..=86_400)? {
            config.retry_base = Duration::from_secs(s);
        }
        if let Some(s) = number(env, "HEARTBEAT_RETRY_MAX_DELAY_SEC", 1..=604_800)? {
            config.retry_max_delay = Duration::from_secs(s);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_named() {
        let none = |_: &str| None;
        let d = HeartbeatConfig::from_env(&none).unwrap();
        assert!(d.scheduler_enabled);
        assert_eq!(d.interval, Duration::from_secs(30));
        let set = |k: &str| match k {
            "HEARTBEAT_SCHEDULER_ENABLED" => Some("false".to_string()),
            "HEARTBEAT_SCHEDULER_INTERVAL_MS" => Some("250".to_string()),
            "HEARTBEAT_MAX_CONCURRENT_RUNS" => Some("3".to_string()),
            _ => None,
        };
        let c = HeartbeatConfig::from_env(&set).unwrap();
        assert!(!c.scheduler_enabled);
        assert_eq!(c.interval, Duration::from_millis(250));
        assert_eq!(c.max_concurrent_runs, 3);
        let bad = |k: &str| (k == "HEARTBEAT_MAX_CONCURRENT_RUNS").then(|| "0".to_string());
        let err = HeartbeatConfig::from_env(&bad).unwrap_err().to_string();
        assert!(err.contains("HEARTBEAT_MAX_CONCURRENT_RUNS"), "{err}");
    }
}

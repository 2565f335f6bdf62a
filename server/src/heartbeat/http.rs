//! Executes the `http` adapter's call: one request with the run's payload. A 2xx answer is
//! success, except 202 Accepted: then the receiver works on and reports the end through
//! `POST /api/heartbeat-runs/:id/callback` (see `callback.rs`), and the run waits for it up
//! to its `timeoutSec`. Anything else, or no answer in `timeoutMs`, is a failure. A stop
//! aborts the request or the wait.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::watch;

use super::log::RunLog;
use super::supervisor::{Ending, StopReason};
use crate::adapters::Outcome;
use crate::adapters::http::HttpCall;

/// How the call ended, its outcome, and the time limit that applied (for a timeout's message).
pub(super) async fn call(
    call: HttpCall,
    mut stop: watch::Receiver<Option<StopReason>>,
    log: &mut RunLog,
) -> (Ending, Outcome, Duration) {
    let exited = |ok: bool| Ending::Exited {
        code: Some(if ok { 0 } else { 1 }),
        signal: None,
    };
    let limit = call.timeout;
    let client = match reqwest::Client::builder().timeout(call.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            let why = format!("cannot make an HTTP client: {e}");
            return (exited(false), failed(why, "adapter_failed"), limit);
        }
    };
    let method =
        reqwest::Method::from_bytes(call.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut request = client
        .request(method.clone(), call.url.clone())
        .json(&call.body);
    for (name, value) in &call.headers {
        request = request.header(name, value);
    }
    log.system(&format!("[paperclip] {method} {}", call.url))
        .await;
    let sent = tokio::select! {
        r = request.send() => r,
        reason = stop.wait_for(Option::is_some) => {
            let reason = reason.ok().and_then(|r| *r).unwrap_or(StopReason::Cancelled);
            return (Ending::Stopped(reason), Outcome::default(), limit);
        }
    };
    let done = Outcome {
        summary: Some(format!("HTTP {method} {}", call.url)),
        ..Outcome::default()
    };
    match sent {
        Ok(response) if response.status() == StatusCode::ACCEPTED => {
            let wait = call.callback_timeout;
            log.system(&format!(
                "[paperclip] accepted (202); waiting up to {}s for the callback",
                wait.as_secs()
            ))
            .await;
            // The callback ends the run in the database, then stops this wait.
            tokio::select! {
                reason = stop.wait_for(Option::is_some) => {
                    let reason = reason.ok().and_then(|r| *r).unwrap_or(StopReason::Cancelled);
                    (Ending::Stopped(reason), Outcome::default(), wait)
                }
                _ = tokio::time::sleep(wait) => (Ending::TimedOut, Outcome::default(), wait),
            }
        }
        Ok(response) if response.status().is_success() => {
            log.system(&format!("[paperclip] answered {}", response.status()))
                .await;
            (exited(true), done, limit)
        }
        Ok(response) => {
            let status = response.status().as_u16();
            let why = format!("HTTP invoke failed with status {status}");
            (exited(false), failed(why, "adapter_failed"), limit)
        }
        Err(e) if e.is_timeout() => (Ending::TimedOut, Outcome::default(), limit),
        Err(e) => {
            let why = format!("HTTP invoke failed: {e}");
            (exited(false), failed(why, "adapter_failed"), limit)
        }
    }
}

fn failed(message: String, code: &str) -> Outcome {
    Outcome {
        error: Some(message),
        error_code: Some(code.to_string()),
        ..Outcome::default()
    }
}

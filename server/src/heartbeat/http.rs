//! Executes the `http` adapter's call: one request with the run's payload; a 2xx answer is
//! success, anything else (or no answer in `timeoutMs`) a failure. A stop aborts it.

use tokio::sync::watch;

use super::log::RunLog;
use super::supervisor::{Ending, StopReason};
use crate::adapters::Outcome;
use crate::adapters::http::HttpCall;

pub(super) async fn call(
    call: HttpCall,
    mut stop: watch::Receiver<Option<StopReason>>,
    log: &mut RunLog,
) -> (Ending, Outcome) {
    let exited = |ok: bool| Ending::Exited {
        code: Some(if ok { 0 } else { 1 }),
        signal: None,
    };
    let client = match reqwest::Client::builder().timeout(call.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            return (
                exited(false),
                failed(format!("cannot make an HTTP client: {e}"), "adapter_failed"),
            );
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
            return (Ending::Stopped(reason), Outcome::default());
        }
    };
    match sent {
        Ok(response) if response.status().is_success() => {
            log.system(&format!("[paperclip] answered {}", response.status()))
                .await;
            (
                exited(true),
                Outcome {
                    summary: Some(format!("HTTP {method} {}", call.url)),
                    ..Outcome::default()
                },
            )
        }
        Ok(response) => {
            let status = response.status().as_u16();
            (
                exited(false),
                failed(
                    format!("HTTP invoke failed with status {status}"),
                    "adapter_failed",
                ),
            )
        }
        Err(e) if e.is_timeout() => (Ending::TimedOut, Outcome::default()),
        Err(e) => (
            exited(false),
            failed(format!("HTTP invoke failed: {e}"), "adapter_failed"),
        ),
    }
}

fn failed(message: String, code: &str) -> Outcome {
    Outcome {
        error: Some(message),
        error_code: Some(code.to_string()),
        ..Outcome::default()
    }
}

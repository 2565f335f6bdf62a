//! No secret value reaches a log line: every log record of this test binary, at every level
//! and from every target (request traces included), goes to a buffer while a full secrets
//! scenario runs, and the buffer must not contain the values it used.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The binary-wide log buffer (installed once; other tests' records land there too, which
/// only makes the check stricter).
fn captured() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let installed = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .try_init();
        assert!(
            installed.is_ok(),
            "another test installed a log subscriber first"
        );
        logs
    })
}

#[tokio::test]
async fn no_secret_value_reaches_a_log_line() {
    let logs = captured();
    let s = test_server!();
    let first = format!("sk-log-probe-{}", uuid::Uuid::new_v4().simple());
    let second = format!("sk-log-probe-{}", uuid::Uuid::new_v4().simple());
    let inline = format!("inline-probe-{}", uuid::Uuid::new_v4().simple());
    let c = s.company("Logs Co").await;
    let (st, secret) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "P", "value": first}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = secret["id"].as_str().unwrap();
    let (st, _) = s
        .post(&format!("/secrets/{id}/rotate"), json!({"value": second}))
        .await;
    assert_eq!(st, StatusCode::OK);
    // Refused writes too: a duplicate, and an inline credential written as an agent's env.
    let (st, _) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "P", "value": first}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Ada", "adapterConfig": {"env": {
                "OPENAI_API_KEY": inline, "GH": {"type": "secret_ref", "secretId": id}}}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s.get(&format!("/companies/{c}/agents")).await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(
        !text.is_empty(),
        "the capture works: the server logged something"
    );
    for value in [&first, &second, &inline] {
        assert!(!text.contains(value.as_str()), "{value} was logged");
    }
}

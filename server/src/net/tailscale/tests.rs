use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::fake_tailscaled::{spawn, spawn_raw};
use super::{TailnetNode, TailscaleError, fetch, status, status_request, status_within};

const FIXTURE: &str = include_str!("../../../../tests/fixtures/tailscaled-status.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

fn socket() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("tailscaled.sock");
    (dir, path)
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an IP")
}

async fn status_of(body: Value) -> Result<TailnetNode, TailscaleError> {
    let (_dir, path) = socket();
    let fake = spawn(&path, body).await;
    let result = status(&path).await;
    assert_eq!(fake.requests(), 1);
    result
}

#[tokio::test]
async fn a_running_node_gives_its_ips_v4_first_and_its_name() {
    let node = status_of(fixture()).await.expect("a running node");
    assert_eq!(node.backend_state, "Running");
    assert_eq!(node.ips, [ip("100.101.102.103"), ip("fd7a:115c:a1e0::1")]);
    assert_eq!(node.dns_name.as_deref(), Some("box.tail1234.ts.net"));
}

#[tokio::test]
async fn ips_are_sorted_v4_first_and_the_name_lower_cased() {
    let mut body = fixture();
    body["Self"]["TailscaleIPs"] = json!(["fd7a:115c:a1e0::1", "100.101.102.103"]);
    body["Self"]["DNSName"] = json!("Box.Tail1234.ts.net.");
    let node = status_of(body).await.expect("a running node");
    assert_eq!(node.ips, [ip("100.101.102.103"), ip("fd7a:115c:a1e0::1")]);
    assert_eq!(node.dns_name.as_deref(), Some("box.tail1234.ts.net"));
}

#[tokio::test]
async fn without_ips_of_its_own_the_top_level_ones_are_used() {
    let mut body = fixture();
    body["Self"]["TailscaleIPs"] = Value::Null;
    body["TailscaleIPs"] = json!(["fd7a:115c:a1e0::9", "100.64.0.9"]);
    let node = status_of(body).await.expect("a running node");
    assert_eq!(node.ips, [ip("100.64.0.9"), ip("fd7a:115c:a1e0::9")]);
}

#[tokio::test]
async fn an_empty_dns_name_is_none() {
    let mut body = fixture();
    body["Self"]["DNSName"] = json!("");
    let node = status_of(body).await.expect("a running node");
    assert_eq!(node.dns_name, None);
}

#[tokio::test]
async fn a_node_that_needs_login_is_not_connected() {
    let mut body = fixture();
    body["BackendState"] = json!("NeedsLogin");
    let err = status_of(body).await.expect_err("not running");
    assert!(matches!(err, TailscaleError::NotRunning { ref state } if state == "NeedsLogin"));
    assert_eq!(
        err.to_string(),
        "Tailscale is not connected (state: NeedsLogin); run `tailscale up`"
    );
}

#[tokio::test]
async fn a_running_node_without_any_ip_is_refused() {
    let mut body = fixture();
    body["Self"]["TailscaleIPs"] = json!([]);
    body["TailscaleIPs"] = json!([]);
    let err = status_of(body).await.expect_err("no IP");
    assert!(matches!(err, TailscaleError::NoAddress), "{err:?}");
}

#[tokio::test]
async fn a_missing_socket_says_tailscaled_is_not_running_and_where_it_looked() {
    let (_dir, path) = socket();
    let err = status(&path).await.expect_err("no socket");
    assert!(matches!(err, TailscaleError::NoSocket { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("PAPERCLIP_TAILSCALE_SOCKET"), "{message}");
}

#[tokio::test]
async fn a_socket_nobody_listens_on_is_a_connect_error() {
    let (_dir, path) = socket();
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
    let err = status(&path).await.expect_err("refused");
    assert!(matches!(err, TailscaleError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[tokio::test]
async fn a_refusal_is_a_status_error_with_its_code() {
    let (_dir, path) = socket();
    let _fake = spawn_raw(&path, 403, "invalid localapi request\n").await;
    let err = status(&path).await.expect_err("403");
    assert!(
        matches!(err, TailscaleError::Status { status: 403, ref detail } if detail == "invalid localapi request"),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTTP 403"));
}

#[tokio::test]
async fn a_body_that_is_not_the_status_json_is_a_parse_error() {
    let (_dir, path) = socket();
    let _fake = spawn_raw(&path, 200, "<html>hello</html>").await;
    let err = status(&path).await.expect_err("garbage");
    assert!(matches!(err, TailscaleError::Parse { .. }), "{err:?}");
}

#[tokio::test]
async fn a_daemon_that_never_answers_times_out() {
    let (_dir, path) = socket();
    let listener = tokio::net::UnixListener::bind(&path).expect("bind");
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let err = status_within(&path, Duration::from_millis(200))
        .await
        .expect_err("timeout");
    silent.abort();
    assert!(matches!(err, TailscaleError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[tokio::test]
async fn an_oversized_answer_is_refused() {
    let (_dir, path) = socket();
    let _fake = spawn_raw(&path, 200, &" ".repeat(5 * 1024 * 1024)).await;
    let err = status(&path).await.expect_err("too large");
    assert!(matches!(err, TailscaleError::TooLarge), "{err:?}");
}

/// The fake keeps the real daemon's rules, so a client that breaks them fails the tests.
#[tokio::test]
async fn the_fake_refuses_what_tailscaled_refuses() {
    let (_dir, path) = socket();
    let fake = spawn(&path, fixture()).await;
    let answer = |edit: fn(&mut hyper::Request<http_body_util::Empty<hyper::body::Bytes>>)| {
        let mut request = status_request();
        edit(&mut request);
        fetch(&path, request)
    };
    let (code, _) = answer(|_| {}).await.expect("answered");
    assert_eq!(code, 200);
    let (code, body) = answer(|r| {
        r.headers_mut()
            .insert("origin", "http://evil.example".parse().expect("value"));
    })
    .await
    .expect("answered");
    assert_eq!(
        (code.as_u16(), &body[..]),
        (403, &b"invalid localapi request\n"[..])
    );
    let (code, _) = answer(|r| {
        r.headers_mut()
            .insert("referer", "http://evil.example/".parse().expect("value"));
    })
    .await
    .expect("answered");
    assert_eq!(code, 403);
    let (code, _) = answer(|r| {
        r.headers_mut()
            .insert("host", "localhost".parse().expect("value"));
    })
    .await
    .expect("answered");
    assert_eq!(code, 403);
    let (code, _) = answer(|r| *r.uri_mut() = "/localapi/v0/prefs".parse().expect("uri"))
        .await
        .expect("answered");
    assert_eq!(code, 404);
    assert_eq!(fake.requests(), 5);
}

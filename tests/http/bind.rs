//! Bind modes over real sockets: `tailnet` listens on the addresses a (fake) tailscaled gives
//! and allows its MagicDNS name, refuses to start without tailscaled, and `lan` listens on
//! every interface in both families; `local_trusted` refuses anything but loopback.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::auth::AUTHENTICATED;
use crate::common::*;

#[path = "../fixtures/fake_tailscaled.rs"]
mod fake_tailscaled;

/// tailscaled's status for a node whose Tailscale address is 127.0.0.2 (a loopback address
/// this machine has, so the test can connect to it).
fn status(ip: &str) -> serde_json::Value {
    json!({
        "Version": "1.84.0",
        "BackendState": "Running",
        "TailscaleIPs": [ip],
        "Self": {
            "ID": "n1",
            "HostName": "box",
            "DNSName": "box.tail1234.ts.net.",
            "TailscaleIPs": [ip],
            "Online": true
        }
    })
}

async fn get_with_host(url: &str, host: &str) -> reqwest::Result<StatusCode> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    Ok(client.get(url).header("host", host).send().await?.status())
}

#[tokio::test]
async fn tailnet_listens_on_the_tailscale_address_and_allows_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("tailscaled.sock");
    let fake = fake_tailscaled::spawn(&socket, status("127.0.0.2")).await;
    let socket_text = socket.display().to_string();
    let mut env: Vec<(&str, &str)> = AUTHENTICATED.to_vec();
    env.push(("PAPERCLIP_BIND", "tailnet"));
    env.push(("PAPERCLIP_TAILSCALE_SOCKET", &socket_text));
    let Some(s) = TestServer::start_env(&env).await else {
        return;
    };
    assert!(fake.requests() >= 1, "tailscaled was asked");
    assert!(s.base.starts_with("http://127.0.0.2:"), "{}", s.base);
    let port = s.base.rsplit(':').next().unwrap().trim_end_matches("/api");

    // The MagicDNS name passes the hostname guard (401: the guard let it reach auth).
    let session = format!("{}/auth/get-session", s.base);
    let named = get_with_host(&session, &format!("box.tail1234.ts.net:{port}")).await;
    assert_eq!(named.unwrap(), StatusCode::UNAUTHORIZED);
    let by_ip = get_with_host(&session, &format!("127.0.0.2:{port}")).await;
    assert_eq!(by_ip.unwrap(), StatusCode::UNAUTHORIZED);
    let other = get_with_host(&session, &format!("evil.example:{port}")).await;
    assert_eq!(other.unwrap(), StatusCode::FORBIDDEN);

    // Not on 127.0.0.1: only the tailnet address is served.
    let loopback = get_with_host(
        &format!("http://127.0.0.1:{port}/api/health"),
        &format!("127.0.0.1:{port}"),
    )
    .await;
    assert!(loopback.is_err(), "127.0.0.1 answered: {loopback:?}");

    // The printed first-admin URL uses the MagicDNS name.
    assert!(
        s.notices
            .iter()
            .any(|n| n.contains(&format!("http://box.tail1234.ts.net:{port}/invite/"))),
        "{:?}",
        s.notices
    );
    s.stop().await;
}

#[tokio::test]
async fn tailnet_without_tailscaled_refuses_to_start_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("no-tailscaled.sock");
    let missing_text = missing.display().to_string();
    let mut env: Vec<(&str, &str)> = AUTHENTICATED.to_vec();
    env.push(("PAPERCLIP_BIND", "tailnet"));
    env.push(("PAPERCLIP_TAILSCALE_SOCKET", &missing_text));
    let config = config_with_env(home.path(), None, &env).expect("config is valid");
    let Err(e) = paperclip_server::server::Server::bind(config).await else {
        panic!("started on a tailnet without tailscaled");
    };
    let text = e.to_string();
    assert!(text.contains("tailscaled is not running"), "{text}");
    assert!(text.contains(&missing_text), "{text}");

    // A node that is logged out is refused too, with its state named.
    let socket = home.path().join("stopped.sock");
    let mut stopped = status("127.0.0.2");
    stopped["BackendState"] = json!("NeedsLogin");
    let _fake = fake_tailscaled::spawn(&socket, stopped).await;
    let socket_text = socket.display().to_string();
    let mut env: Vec<(&str, &str)> = AUTHENTICATED.to_vec();
    env.push(("PAPERCLIP_BIND", "tailnet"));
    env.push(("PAPERCLIP_TAILSCALE_SOCKET", &socket_text));
    let config = config_with_env(home.path(), None, &env).expect("config is valid");
    let Err(e) = paperclip_server::server::Server::bind(config).await else {
        panic!("started on a tailnet that is not connected");
    };
    assert!(e.to_string().contains("NeedsLogin"), "{e}");
}

#[tokio::test]
async fn lan_listens_on_every_interface() {
    let mut env: Vec<(&str, &str)> = AUTHENTICATED.to_vec();
    env.push(("PAPERCLIP_BIND", "lan"));
    env.push(("PAPERCLIP_ALLOWED_HOSTNAMES", "127.0.0.3"));
    let Some(s) = TestServer::start_env(&env).await else {
        return;
    };
    let port = s.base.rsplit(':').next().unwrap().trim_end_matches("/api");
    // Any local address reaches it (0.0.0.0 covers 127.0.0.3), and the guard still decides.
    let allowed = get_with_host(
        &format!("http://127.0.0.3:{port}/api/auth/get-session"),
        &format!("127.0.0.3:{port}"),
    )
    .await;
    assert_eq!(allowed.unwrap(), StatusCode::UNAUTHORIZED);
    let refused = get_with_host(
        &format!("http://127.0.0.3:{port}/api/auth/get-session"),
        "evil.example",
    )
    .await;
    assert_eq!(refused.unwrap(), StatusCode::FORBIDDEN);
    // IPv6 too, where this machine has it.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let v6 = get_with_host(&format!("http://[::1]:{port}/api/health"), "[::1]").await;
        assert_eq!(v6.unwrap(), StatusCode::OK);
    }
    s.stop().await;
}

#[test]
fn local_trusted_refuses_every_bind_but_loopback() {
    let home = tempfile::tempdir().unwrap();
    for bind in ["lan", "tailnet"] {
        let e = config_with_env(home.path(), None, &[("PAPERCLIP_BIND", bind)]).unwrap_err();
        assert!(e.contains("must bind to loopback"), "{bind}: {e}");
        assert!(e.contains(bind), "{bind}: {e}");
    }
    let e = config_with_env(home.path(), None, &[("PAPERCLIP_BIND", "everywhere")]).unwrap_err();
    assert!(e.contains("PAPERCLIP_BIND"), "{e}");
}

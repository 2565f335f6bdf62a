//! `paperclip auth login | whoami | logout`: the real binary against a server in authenticated
//! mode, with its credential file in a temporary folder (`PAPERCLIP_AUTH_STORE`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::access::first_admin;
use crate::auth::{AUTHENTICATED, auth_server};
use crate::common::*;

/// Kills and reaps the child if the test ends early.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn paperclip(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperclip"));
    cmd.env_clear()
        .env("PAPERCLIP_HOME", dir.join("home"))
        .env("PAPERCLIP_AUTH_STORE", store_path(dir))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    cmd
}

fn store_path(dir: &Path) -> PathBuf {
    dir.join("cli/auth.json")
}

fn stored(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(store_path(dir)).unwrap()).unwrap()
}

/// Runs the command off the test's runtime (which serves the server meanwhile), feeding
/// `input` on stdin; answers success and stdout + stderr.
async fn run(mut cmd: Command, input: Option<&str>) -> (bool, String) {
    let input = input.map(str::to_string);
    let out: Output = tokio::task::spawn_blocking(move || {
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = input {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn login_with_a_password_then_whoami_and_logout() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let (_, _, session) = admin.send(Method::GET, "/auth/get-session", None).await;
    let user_id = session["user"]["id"].as_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = s.base.trim_end_matches("/api").to_string();

    let mut cmd = paperclip(dir);
    cmd.args([
        "auth",
        "login",
        "--base-url",
        &base,
        "--email",
        "root@example.com",
    ])
    .arg("--password-stdin");
    let (ok, text) = run(cmd, Some("not the password\n")).await;
    assert!(!ok && text.contains("Invalid email or password"), "{text}");
    assert!(!store_path(dir).exists());

    let mut cmd = paperclip(dir);
    cmd.args([
        "auth",
        "login",
        "--base-url",
        &format!("{base}/"),
        "--email",
    ])
    .args(["root@example.com", "--password-stdin"]);
    let (ok, text) = run(cmd, Some("correct horse battery\n")).await;
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("Signed in to {base} as Root <root@example.com>")),
        "{text}"
    );
    assert!(text.contains("expires at"), "{text}");
    assert!(
        !text.contains("correct horse") && !text.contains("pcp_board_"),
        "{text}"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store_path(dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let file = stored(dir);
    assert_eq!(file["version"], 1);
    let creds = file["credentials"].as_object().unwrap();
    assert_eq!(creds.len(), 1, "{file}");
    let cred = &creds[&base];
    assert_eq!(cred["apiBase"], base.as_str());
    assert_eq!(cred["userId"], user_id.as_str());
    assert!(
        cred["createdAt"].is_string() && cred["updatedAt"].is_string(),
        "{cred}"
    );
    let token = cred["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pcp_board_"));
    let (st, me) = s
        .call(Method::GET, "/cli-auth/me", Some(&token), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{me}");
    let (_, _, keys) = admin.send(Method::GET, "/board-api-keys", None).await;
    assert_eq!(keys[0]["name"], "paperclip cli (board)");
    assert!(keys[0]["expiresAt"].is_string(), "{keys}");

    // whoami finds the only stored server by itself.
    let mut cmd = paperclip(dir);
    cmd.args(["auth", "whoami"]);
    let (ok, text) = run(cmd, None).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("Root <root@example.com>") && text.contains("Instance admin: yes"),
        "{text}"
    );
    let expiry = keys[0]["expiresAt"].as_str().unwrap();
    assert!(
        text.contains(&format!("Expires: {expiry}")),
        "whoami shows the key's expiry {expiry}: {text}"
    );
    let mut cmd = paperclip(dir);
    cmd.args(["auth", "whoami", "--json", "--base-url", &base]);
    let (ok, text) = run(cmd, None).await;
    assert!(ok, "{text}");
    let me: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(me["source"], "board_key");
    assert_eq!(me["userId"], user_id.as_str());

    let mut cmd = paperclip(dir);
    cmd.args(["auth", "logout", "--base-url", &base]);
    let (ok, text) = run(cmd, None).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("Revoked board API key") && text.contains("Removed"),
        "{text}"
    );
    assert_eq!(stored(dir)["credentials"], json!({}));
    let (st, _) = s
        .call(Method::GET, "/cli-auth/me", Some(&token), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let mut cmd = paperclip(dir);
    cmd.args(["auth", "whoami", "--base-url", &base]);
    let (ok, text) = run(cmd, None).await;
    assert!(
        !ok && text.contains("no stored credential") && text.contains("auth login"),
        "{text}"
    );
    let mut cmd = paperclip(dir);
    cmd.args(["auth", "logout", "--base-url", &base]);
    let (ok, text) = run(cmd, None).await;
    assert!(ok && text.contains("nothing to do"), "{text}");
}

/// Starts `auth login` without `--email` and answers the approval URL it prints.
async fn login_in_browser(
    dir: &Path,
    base: &str,
) -> (Running, std::sync::mpsc::Receiver<String>, String) {
    let mut child = paperclip(dir)
        .args(["auth", "login", "--no-browser", "--base-url", base])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let running = Running(child);
    let (rx, url) = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        loop {
            let line = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no approval URL: {seen:?}"));
            if line.contains("/cli-auth/") {
                assert!(
                    seen.iter().any(|l: &String| l.contains("Open this URL")),
                    "{seen:?}"
                );
                return (rx, line.trim().to_string());
            }
            seen.push(line);
        }
    })
    .await
    .unwrap();
    (running, rx, url)
}

/// `(id, token)` from `…/cli-auth/<id>?token=<token>`.
fn parts(url: &str) -> (String, String) {
    let path = &url[url.find("/cli-auth/").unwrap() + "/cli-auth/".len()..];
    let (id, token) = path.split_once("?token=").unwrap();
    (id.to_string(), token.to_string())
}

/// Waits for the CLI to end: success, its stdout, and the rest of its stderr.
async fn finish(
    mut running: Running,
    rx: std::sync::mpsc::Receiver<String>,
) -> (bool, String, Vec<String>) {
    tokio::task::spawn_blocking(move || {
        let status = running.0.wait().unwrap();
        let mut out = String::new();
        if let Some(mut stdout) = running.0.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        }
        // The reader thread ends at EOF, now that the CLI has exited.
        (status.success(), out, rx.iter().collect())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn login_in_the_browser_waits_for_approval_or_cancellation() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = s.base.trim_end_matches("/api").to_string();

    let (running, rx, url) = login_in_browser(dir, &base).await;
    assert!(url.starts_with(&base), "{url}");
    let (id, token) = parts(&url);
    let (st, _, ok) = admin
        .send(
            Method::POST,
            &format!("/cli-auth/challenges/{id}/approve"),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ok}");
    let (success, out, rest) = finish(running, rx).await;
    assert!(success, "{out} {rest:?}");
    assert!(
        out.contains("Signed in to") && out.contains("root@example.com"),
        "{out}"
    );
    let cred = &stored(dir)["credentials"][&base];
    assert_eq!(cred["userId"], ok["userId"]);
    let token = cred["token"].as_str().unwrap();
    let (st, me) = s.call(Method::GET, "/cli-auth/me", Some(token), None).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["keyId"], ok["keyId"]);

    // Cancelled from the approval page: the CLI says so and stores nothing new.
    let other = tempfile::tempdir().unwrap();
    let (running, rx, url) = login_in_browser(other.path(), &base).await;
    let (id, token) = parts(&url);
    let (st, v) = s
        .post(
            &format!("/cli-auth/challenges/{id}/cancel"),
            json!({"token": token}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (success, _, rest) = finish(running, rx).await;
    assert!(!success);
    assert!(
        rest.iter()
            .any(|l| l.contains("CLI auth challenge was cancelled.")),
        "{rest:?}"
    );
    assert!(!store_path(other.path()).exists());
}

#[test]
fn logout_forgets_the_key_even_when_the_server_is_unreachable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Nothing listens on a port we just had and dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    std::fs::create_dir_all(store_path(dir).parent().unwrap()).unwrap();
    let entry = |api: &str, token: &str| {
        json!({"apiBase": api, "token": token, "createdAt": "2025-01-01T00:00:00.000Z",
            "updatedAt": "2025-01-01T00:00:00.000Z", "userId": null})
    };
    let mut credentials = serde_json::Map::new();
    credentials.insert(base.clone(), entry(&base, "pcp_board_gone"));
    credentials.insert(
        "https://kept.example".into(),
        entry("https://kept.example", "pcp_board_kept"),
    );
    let file = json!({"version": 1, "credentials": credentials});
    std::fs::write(store_path(dir), file.to_string()).unwrap();

    let out = paperclip(dir)
        .args(["auth", "logout", "--base-url", &base])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("NOT revoked") && text.contains("Removed"),
        "{text}"
    );
    let left = stored(dir);
    assert!(left["credentials"].get(&base).is_none(), "{left}");
    assert_eq!(
        left["credentials"]["https://kept.example"]["token"],
        "pcp_board_kept"
    );

    // A base URL that is not http(s) is refused with an example.
    let out = paperclip(dir)
        .args(["auth", "whoami", "--base-url", "ftp://x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http://"));
}

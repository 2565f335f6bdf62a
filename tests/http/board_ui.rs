//! The board UI, served by the server and driven in a real browser (Debian's Chromium through
//! playwright-core, `tests/e2e/board.mjs`): in both modes, and, without a browser, what the
//! server answers for its pages, files and unknown paths.
//!
//! It needs the built UI (`npm ci && npm run build:ui`), node with `playwright-core`
//! installed, and `/usr/bin/chromium`; without them it says it was skipped, and with
//! `CI=true` that is a failure (`.ci/run` installs and builds them).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::auth::AUTHENTICATED;
use crate::common::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether the built UI, node's playwright-core and Chromium are here; on CI they must be.
fn ui_ready(with_browser: bool) -> bool {
    let root = repo();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut missing = Vec::new();
    if !root.join("frontend/dist/index.html").is_file() {
        missing.push("frontend/dist (npm ci && npm run build:ui)".to_string());
    }
    if with_browser {
        if !root.join("node_modules/playwright-core").is_dir() {
            missing.push("node_modules/playwright-core (npm ci)".to_string());
        }
        if !Path::new(&chromium).is_file() {
            missing.push(format!("{chromium} (apt-get install chromium)"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but {missing:?} missing: the board UI tests must run on CI");
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nboard UI tests SKIPPED: {missing:?} missing\n"
        );
    });
    false
}

/// The server's address without `/api`.
fn origin(s: &TestServer) -> String {
    s.base.trim_end_matches("/api").to_string()
}

/// The URL the server printed at start whose path begins with `marker`, on this test's origin.
fn printed_url(s: &TestServer, marker: &str) -> String {
    let path = s
        .notices
        .iter()
        .find_map(|n| {
            let word = n.split_whitespace().find(|w| w.contains(marker))?;
            Some(word[word.find(marker)?..].to_string())
        })
        .unwrap_or_else(|| panic!("a URL with {marker} is printed at start: {:?}", s.notices));
    format!("{}{path}", origin(s))
}

/// How long one browser scenario may take (they take 5-15 s here).
const SCENARIO_LIMIT: Duration = Duration::from_secs(180);

/// Runs the browser scenario for `mode` against `s`, with the scenario's own variables.
fn run_scenario(s: &TestServer, mode: &str, vars: &[(&str, String)]) {
    let artifacts = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new("node");
    cmd.arg("tests/e2e/board.mjs")
        .current_dir(repo())
        .env("PAPERCLIP_UI_URL", origin(s))
        .env("PAPERCLIP_UI_MODE", mode)
        .env("PAPERCLIP_UI_ARTIFACTS", artifacts.path());
    for (name, value) in vars {
        cmd.env(name, value);
    }
    // One browser at a time: three Chromiums and their servers on two cores make steps time out.
    static ONE_BROWSER: Mutex<()> = Mutex::new(());
    let _turn = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    // Output to files (a full pipe would stall the browser) and a deadline (a stuck Chromium
    // must fail this test, not hang the suite).
    let stdout_file = artifacts.path().join("stdout.txt");
    let stderr_file = artifacts.path().join("stderr.txt");
    cmd.stdout(std::fs::File::create(&stdout_file).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_file).expect("stderr file"));
    let mut child = cmd.spawn().expect("node runs");
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&stdout_file).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_file).unwrap_or_default();
    if !status.is_some_and(|s| s.success()) {
        // Keep the screenshots of a failure where a person can look at them.
        let kept = artifacts.keep();
        let how = status.map_or(format!("killed after {SCENARIO_LIMIT:?}"), |s| {
            s.to_string()
        });
        panic!(
            "the {mode} browser scenario failed ({how}); screenshots in {}\n{stdout}\n{stderr}",
            kept.display()
        );
    }
    let summary = stdout
        .lines()
        .find(|l| l.ends_with(" failed") && l.contains(" passed, "))
        .unwrap_or("");
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 "),
        "the scenario ran no step: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_in_local_trusted_mode_runs_its_company_and_keys_in_the_browser() {
    if !ui_ready(true) {
        return;
    }
    let s = test_server!();
    let s = tokio::task::spawn_blocking(move || {
        run_scenario(&s, "local_trusted", &[]);
        s
    })
    .await
    .unwrap();
    let (_, keys) = s.get("/board-api-keys?includeInactive=true").await;
    assert!(
        keys.as_array().is_some_and(|k| !k.is_empty()),
        "the scenario made a key through the UI: {keys}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_in_authenticated_mode_signs_up_by_invite_and_manages_keys_in_the_browser() {
    if !ui_ready(true) {
        return;
    }
    let Some(s) = TestServer::start_env(AUTHENTICATED).await else {
        return;
    };
    let invite = printed_url(&s, "/invite/");
    let s = tokio::task::spawn_blocking(move || {
        run_scenario(&s, "authenticated", &[("PAPERCLIP_UI_INVITE_URL", invite)]);
        s
    })
    .await
    .unwrap();
    // The person the browser made signs in over the API and finds what the UI made.
    let mut person = crate::auth::Browser::new(&s);
    let (st, body) = person
        .sign_in("rosa@example.com", "correct horse battery")
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, _, companies) = person.send(reqwest::Method::GET, "/companies", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        companies
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["name"] == "Acme Notes")),
        "the admin made a company through the UI: {companies}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_instance_switched_to_authenticated_is_claimed_in_the_browser() {
    if !ui_ready(true) {
        return;
    }
    let Some(s) = TestServer::start_env(&[]).await else {
        return;
    };
    s.company("Garage Works").await;
    let s = s.restart_env(AUTHENTICATED).await;
    let claim = printed_url(&s, "/board-claim/");
    let s = tokio::task::spawn_blocking(move || {
        run_scenario(
            &s,
            "claim",
            &[
                ("PAPERCLIP_UI_CLAIM_URL", claim),
                ("PAPERCLIP_UI_CLAIM_COMPANY", "Garage Works".into()),
            ],
        );
        s
    })
    .await
    .unwrap();
    // The claim moved ownership in the database: a restart prints no claim any more.
    let s = s.restart_env(AUTHENTICATED).await;
    assert!(
        !s.notices.iter().any(|n| n.contains("/board-claim/")),
        "claimed in the browser, so no claim is printed: {:?}",
        s.notices
    );
}

#[tokio::test]
async fn the_ui_is_served_with_its_files_cached_and_unknown_paths_answer_json() {
    if !ui_ready(false) {
        return;
    }
    let s = test_server!();
    let client = reqwest::Client::new();
    let base = origin(&s);
    for path in ["/", "/companies/x/issues", "/settings/api-keys"] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let headers = r.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}: {headers:?}"
        );
        assert_eq!(headers["cache-control"], "no-cache", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let page = r.text().await.unwrap();
        assert!(page.contains("<div id=\"root\">"), "{page}");
    }
    // A built asset named in the page: served with its type and cached for good.
    let page = client
        .get(&base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script = page
        .split('"')
        .find(|p| p.starts_with("/assets/") && p.ends_with(".js"))
        .expect("the page names its script");
    let r = client.get(format!("{base}{script}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    for (method, path, status, code) in [
        ("GET", "/assets/gone-1234.js", 404, "not_found"),
        ("GET", "/api/no-such-route", 404, "route_not_found"),
        ("POST", "/companies", 405, "method_not_allowed"),
    ] {
        let r = client
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{method} {path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], code, "{method} {path}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // Paths that climb out of frontend/dist, sent as written (a client library would tidy
    // them): never a file from outside it.
    let addr = base.trim_start_matches("http://").to_string();
    for path in [
        "/../Cargo.toml",
        "/assets/../../server/Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/..%2fCargo.toml",
        "/assets/..%2f..%2fserver%2fCargo.toml",
    ] {
        let answer = raw_get(&addr, path).await;
        assert!(
            !answer.contains("[package]") && !answer.contains("[workspace]"),
            "{path} reached a file outside the UI: {answer}"
        );
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 404"),
            "{path}: {answer}"
        );
    }
    let r = client.head(&base).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "HEAD / answers like GET");
    let r = client.get(format!("{base}/api")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "/api is the API's, not the UI's"
    );

    // Turned off, the UI is not served and the answer says why.
    let off = TestServer::start_env(&[("SERVE_UI", "false")])
        .await
        .unwrap();
    let r = client.get(origin(&off)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("SERVE_UI"),
        "{body}"
    );
    let (st, _) = off.get("/companies").await;
    assert_eq!(st, StatusCode::OK, "the API still answers");
}

/// The raw answer (status line, headers, body) to a GET of `path` exactly as written.
async fn raw_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

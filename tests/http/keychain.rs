//! The `keychain` master-key provider, on the real `paperclip` binary. Against a real Secret
//! Service: Debian's gnome-keyring, unlocked, on a D-Bus session bus of the test's own (its
//! keyring files in a temporary home), stopped and started again between server runs as a
//! login would. Without gnome-keyring, dbus-daemon, dbus-send or secret-tool that test says it
//! was skipped; with `CI=true` it fails (`.ci/run` installs them). Without any Secret Service,
//! the server names the machine's problem and the way out (`local_encrypted`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::config_with_env;

const DBUS_DAEMON: &str = "/usr/bin/dbus-daemon";
const DBUS_SEND: &str = "/usr/bin/dbus-send";
const GNOME_KEYRING: &str = "/usr/bin/gnome-keyring-daemon";
const SECRET_TOOL: &str = "/usr/bin/secret-tool";
/// The login keyring's password in the test's home (made on the first unlock).
const KEYRING_PASSWORD: &str = "paperclip-test";
const NO_SECRET_SERVICE: &str = "no Secret Service is running on this machine";
const USE_A_FILE: &str = "set secrets.provider to local_encrypted (PAPERCLIP_SECRETS_PROVIDER=local_encrypted) to keep the master key in a file";

/// The programs the real Secret Service test needs; None (skipped) when one is missing here,
/// a failure on CI.
fn secret_service_tools() -> Option<()> {
    let missing: Vec<&str> = [DBUS_DAEMON, DBUS_SEND, GNOME_KEYRING, SECRET_TOOL]
        .into_iter()
        .filter(|p| !Path::new(p).is_file())
        .collect();
    if missing.is_empty() {
        return Some(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but {missing:?} missing: the keychain test must run on CI \
             (.ci/run installs Debian's gnome-keyring, libsecret-tools and dbus)"
        );
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        // Straight to the terminal: libtest captures eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "\nkeychain test SKIPPED: {missing:?} missing (apt-get install gnome-keyring libsecret-tools dbus)\n"
        );
    });
    None
}

/// A session bus with an unlocked gnome-keyring on it; both stop on drop.
struct SecretService {
    bus: Child,
    keyring: Child,
    address: String,
    runtime_dir: PathBuf,
}

impl SecretService {
    /// Starts one whose keyring files live in `home` (the same home finds the same keys).
    fn start(home: &Path, runtime_dir: &Path) -> SecretService {
        let mut bus = Command::new(DBUS_DAEMON)
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!(
                "--address=unix:path={}",
                runtime_dir.join("bus").display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("dbus-daemon's stdout"))
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        let address = address.trim().to_string();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        let mut keyring = Command::new(GNOME_KEYRING)
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("HOME", home)
            .env("XDG_RUNTIME_DIR", runtime_dir)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        {
            let mut stdin = keyring.stdin.take().expect("gnome-keyring's stdin");
            stdin.write_all(KEYRING_PASSWORD.as_bytes()).unwrap();
        }
        let service = SecretService {
            bus,
            keyring,
            address,
            runtime_dir: runtime_dir.to_path_buf(),
        };
        service.wait_until_on_the_bus();
        service
    }

    /// The secrets name is owned before anyone asks for it (else D-Bus would start a second,
    /// locked, gnome-keyring by activation).
    fn wait_until_on_the_bus(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new(DBUS_SEND)
                .env_clear()
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus"])
                .args(["/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner"])
                .arg("string:org.freedesktop.secrets")
                .output()
                .expect("dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring did not take org.freedesktop.secrets on the bus"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `secret-tool lookup service paperclip username <account>` (None: no such item).
    fn lookup(&self, account: &str) -> Option<String> {
        let out = Command::new(SECRET_TOOL)
            .env_clear()
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .args(["lookup", "service", "paperclip", "username", account])
            .output()
            .expect("secret-tool");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    /// The environment a paperclip process on this bus gets.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS", self.address.clone()),
            ("XDG_RUNTIME_DIR", self.runtime_dir.display().to_string()),
        ]
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `paperclip` on `home` with the keychain provider and only the environment given.
fn paperclip(home: &Path, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperclip"));
    cmd.env_clear()
        .env("PAPERCLIP_HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAPERCLIP_SECRETS_PROVIDER", "keychain");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// No session bus: a runtime folder without a bus socket, and no address.
fn no_bus(runtime_dir: &Path) -> Vec<(&'static str, String)> {
    vec![("XDG_RUNTIME_DIR", runtime_dir.display().to_string())]
}

/// A running `paperclip run`, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `paperclip run --port 0`: the process and its API base URL.
fn start(mut cmd: Command, log: &Path) -> (Running, String) {
    let mut child = cmd
        .args(["run", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("no start-up line ({line:?}); log:\n{log}")
        })
        .to_string();
    (running, format!("{url}/api"))
}

/// `paperclip run` that must refuse to start: its output.
fn refused_start(mut cmd: Command) -> String {
    let mut child = cmd
        .args(["run", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started where it had to refuse");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A `paperclip` command's success and output.
fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn post(base: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A company with one secret holding `value`: (company, secret).
async fn company_with_secret(base: &str, value: &str) -> (String, String) {
    let (st, c) = post(base, "/companies", json!({"name": "Keychain Co"})).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let company = c["id"].as_str().unwrap().to_string();
    let (st, s) = post(
        base,
        &format!("/companies/{company}/secrets"),
        json!({"name": "OpenAI", "value": value}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{s}");
    (company, s["id"].as_str().unwrap().to_string())
}

/// The secret's value as a run would get it, opened with the key in `key_file` (a backup of
/// the keychain's key), in this process.
async fn resolve_with_key_file(
    home: &Path,
    key_file: &Path,
    company: &str,
    secret: &str,
) -> String {
    let key = key_file.display().to_string();
    let config = config_with_env(
        home,
        None,
        &[
            ("PAPERCLIP_SECRETS_PROVIDER", "local_encrypted"),
            ("PAPERCLIP_SECRETS_MASTER_KEY_FILE", &key),
        ],
    )
    .unwrap();
    let store = paperclip_server::server::open_store(&config).await.unwrap();
    let instance = paperclip_server::server::instance_secret(&config).unwrap();
    let domain = paperclip_server::server::domain_for(&config, store.clone(), &instance);
    let env = json!({"OPENAI_API_KEY": {"type": "secret_ref", "secretId": secret}});
    let resolved = domain
        .resolve_env(company.parse().unwrap(), &env)
        .await
        .unwrap();
    store.close().await;
    resolved[0].1.to_string()
}

#[tokio::test]
async fn the_master_key_lives_in_a_real_secret_service_across_restarts_and_rotation() {
    if secret_service_tools().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (home, login, runtime) = (
        tmp.path().join("paperclip"),
        tmp.path().join("login"),
        tmp.path().join("run"),
    );
    for dir in [&home, &login, &runtime] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let log = tmp.path().join("server.log");

    // First session: the first secret makes the key, in the keychain and nowhere else.
    let service = SecretService::start(&login, &runtime);
    let (server, base) = start(paperclip(&home, &service.env()), &log);
    let (company, secret) = company_with_secret(&base, "sk-in-the-keychain").await;
    drop(server);
    let stored = service
        .lookup("master-key:default")
        .expect("the key is in the keychain");
    assert_eq!(stored.len(), 44, "base64 of 32 bytes");
    assert!(!home.join("instances/default/secrets/master.key").exists());
    drop(service);

    // A new session on the same keyring (a new login): the server starts, its key opening the
    // stored secret, and a backup of the key is the keychain's key and opens the secret.
    let service = SecretService::start(&login, &runtime);
    let (server, _) = start(paperclip(&home, &service.env()), &log);
    drop(server);
    let backup = tmp.path().join("backup.key");
    let (ok, out) = output(
        paperclip(&home, &service.env())
            .args(["secrets", "backup-master-key"])
            .arg(&backup),
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("OS keychain, service paperclip, account master-key:default"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&backup).unwrap().trim(), stored);
    assert_eq!(
        resolve_with_key_file(&home, &backup, &company, &secret).await,
        "sk-in-the-keychain"
    );

    // Rotation in the keychain: a new current key, the old one kept as previous, no leftover.
    let (ok, out) = output(paperclip(&home, &service.env()).args(["secrets", "rotate-master-key"]));
    assert!(ok, "{out}");
    assert!(out.contains("re-sealed 1 of 1"), "{out}");
    let rotated = service.lookup("master-key:default").unwrap();
    assert_ne!(rotated, stored);
    assert_eq!(
        service.lookup("master-key:default:previous").as_deref(),
        Some(stored.as_str())
    );
    assert_eq!(service.lookup("master-key:default:next"), None);
    let (server, _) = start(paperclip(&home, &service.env()), &log);
    drop(server);
    let rotated_file = tmp.path().join("rotated.key");
    std::fs::write(&rotated_file, format!("{rotated}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rotated_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert_eq!(
        resolve_with_key_file(&home, &rotated_file, &company, &secret).await,
        "sk-in-the-keychain"
    );
    drop(service);

    // No Secret Service at all, with secrets stored: the start is refused, saying why and
    // what to do instead.
    let empty = tmp.path().join("no-bus");
    std::fs::create_dir_all(&empty).unwrap();
    let out = refused_start(paperclip(&home, &no_bus(&empty)));
    assert!(out.contains("secret versions are stored"), "{out}");
    assert!(
        out.contains(NO_SECRET_SERVICE) && out.contains(USE_A_FILE),
        "{out}"
    );
}

#[tokio::test]
async fn without_a_secret_service_storing_a_secret_says_to_use_a_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, runtime) = (tmp.path().join("paperclip"), tmp.path().join("run"));
    std::fs::create_dir_all(&runtime).unwrap();
    let log = tmp.path().join("server.log");
    let (_server, base) = start(paperclip(&home, &no_bus(&runtime)), &log);
    let (st, c) = post(&base, "/companies", json!({"name": "No Keychain Co"})).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let company = c["id"].as_str().unwrap();
    let (st, e) = post(
        &base,
        &format!("/companies/{company}/secrets"),
        json!({"name": "OpenAI", "value": "sk-nowhere"}),
    )
    .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert_eq!(e["code"], "unavailable", "{e}");
    let message = e["error"].as_str().unwrap();
    assert!(message.contains(NO_SECRET_SERVICE), "{message}");
    assert!(
        message.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
        "{message}"
    );
    assert!(message.contains(USE_A_FILE), "{message}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains(NO_SECRET_SERVICE), "the start warned: {log}");
    assert!(!log.contains("sk-nowhere"), "{log}");
}

#[test]
fn provider_choices_are_checked_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    // An unknown provider names the three there are.
    let out = refused_start({
        let mut cmd = paperclip(home, &[]);
        cmd.env("PAPERCLIP_SECRETS_PROVIDER", "vault");
        cmd
    });
    assert!(
        out.contains("PAPERCLIP_SECRETS_PROVIDER") && out.contains("\"vault\""),
        "{out}"
    );
    assert!(
        out.contains("\"keychain\", \"local_encrypted\" or \"env\""),
        "{out}"
    );
    // The keychain never reads PAPERCLIP_SECRETS_MASTER_KEY: both at once are refused.
    let key = "a".repeat(64);
    let out = refused_start({
        let mut cmd = paperclip(home, &[]);
        cmd.env("PAPERCLIP_SECRETS_MASTER_KEY", &key);
        cmd
    });
    assert!(out.contains("PAPERCLIP_SECRETS_MASTER_KEY is set"), "{out}");
    // The env provider without its variable cannot work: said at start.
    let out = refused_start({
        let mut cmd = paperclip(home, &[]);
        cmd.env("PAPERCLIP_SECRETS_PROVIDER", "env");
        cmd
    });
    assert!(
        out.contains("PAPERCLIP_SECRETS_MASTER_KEY is not set"),
        "{out}"
    );
    // A key from the environment is not this command's to rotate.
    let (ok, out) = output(
        paperclip(home, &[])
            .env("PAPERCLIP_SECRETS_PROVIDER", "env")
            .env("PAPERCLIP_SECRETS_MASTER_KEY", &key)
            .args(["secrets", "rotate-master-key"]),
    );
    assert!(!ok && out.contains("set the new key yourself"), "{out}");
}

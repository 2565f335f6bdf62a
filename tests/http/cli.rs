//! The `paperclip` binary: start-up line, one server per home, config messages, onboard.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn paperclip(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperclip"));
    cmd.env_clear()
        .env("PAPERCLIP_HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

/// Starts `paperclip run --port 0` and returns it with the URL from its start-up line.
fn start(home: &Path) -> (Running, String) {
    let mut child = paperclip(home)
        .args(["run", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(
        line.contains("mode local_trusted") && line.contains("sqlite"),
        "start-up line: {line}"
    );
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    (running, url)
}

fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_second_server_on_the_same_home_is_refused_and_names_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let (_first, url) = start(tmp.path());
    let deadline = Instant::now() + Duration::from_secs(10);
    let (ok, text) = loop {
        let r = output(paperclip(tmp.path()).args(["run", "--port", "0"]));
        if !r.0 || Instant::now() > deadline {
            break r;
        }
    };
    assert!(!ok, "second server must not start");
    assert!(
        text.contains("already running") && text.contains(&url),
        "{text}"
    );
}

#[test]
fn config_errors_name_the_file_the_field_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("instances/default/config.json");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();

    std::fs::write(
        &cfg,
        r#"{"$meta":{"version":1},"database":{"url":"postgres://x"}}"#,
    )
    .unwrap();
    let (ok, text) = output(paperclip(tmp.path()).arg("run"));
    assert!(!ok);
    assert!(
        text.contains("config.json")
            && text.contains("database.url")
            && text.contains("did you mean `connectionString`"),
        "{text}"
    );

    std::fs::write(&cfg, r#"{"server":{"port":3100}}"#).unwrap();
    let (ok, text) = output(paperclip(tmp.path()).arg("run"));
    assert!(!ok);
    assert!(text.contains("$meta") && text.contains("missing"), "{text}");

    std::fs::write(&cfg, r#"{"$meta":{"version":1},"server":{"prot":3100}}"#).unwrap();
    let (ok, text) = output(paperclip(tmp.path()).arg("run"));
    assert!(!ok);
    assert!(
        text.contains("server.prot") && text.contains("`port`"),
        "{text}"
    );

    std::fs::write(&cfg, "{not json").unwrap();
    let (ok, text) = output(paperclip(tmp.path()).arg("run"));
    assert!(!ok && text.contains("not valid JSON"), "{text}");

    std::fs::remove_file(&cfg).unwrap();
    let (ok, text) = output(paperclip(tmp.path()).args(["run", "--bind", "lan"]));
    assert!(!ok && text.contains("loopback"), "{text}");
    let (ok, text) = output(paperclip(tmp.path()).args(["run"]).env("PORT", "abc"));
    assert!(!ok && text.contains("PORT"), "{text}");
}

#[test]
fn onboard_writes_a_config_that_run_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, text) = output(paperclip(tmp.path()).args(["onboard", "--yes"]));
    assert!(ok, "{text}");
    assert!(text.contains("config.json"), "{text}");
    assert!(tmp.path().join("instances/default/config.json").exists());
    let (ok, text) = output(paperclip(tmp.path()).args(["onboard", "--yes"]));
    assert!(!ok && text.contains("--force"), "{text}");
    let (_server, url) = start(tmp.path());
    assert!(url.starts_with("http://127.0.0.1:"));
    let (ok, text) = output(paperclip(tmp.path()).arg("--version"));
    assert!(ok && text.contains("paperclip"), "{text}");
}

#[test]
fn an_unreachable_postgres_is_retried_then_named_without_its_password() {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (ok, out) = output(
        paperclip(home.path())
            .args(["run", "--port", "0"])
            .env(
                "DATABASE_URL",
                "postgres://paperclip:hunter2secret@127.0.0.1:1/acme",
            )
            .env("PAPERCLIP_DB_CONNECT_WAIT_SEC", "2"),
    );
    assert!(!ok, "{out}");
    assert!(out.contains("127.0.0.1:1") && out.contains("acme"), "{out}");
    assert!(out.contains("retrying"), "the wait is visible: {out}");
    assert!(!out.contains("hunter2secret"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_database_url_with_a_bad_scheme_or_option_is_refused_by_name() {
    let home = tempfile::tempdir().unwrap();
    for (url, says) in [
        ("mysql://u:pw@h/db", "the URL must start with postgres://"),
        (
            "postgres://u:topsecret@127.0.0.1/db?prepare=sometimes",
            "prepare must be true or false",
        ),
    ] {
        let (ok, out) = output(
            paperclip(home.path())
                .args(["run", "--port", "0"])
                .env("DATABASE_URL", url),
        );
        assert!(!ok, "{url}: {out}");
        assert!(out.contains(says), "{url}: {out}");
        assert!(!out.contains("topsecret"), "{out}");
    }
}

#[test]
fn db_status_and_migrate_describe_the_instance_database() {
    let home = tempfile::tempdir().unwrap();
    let (ok, out) = output(paperclip(home.path()).args(["db", "status"]));
    assert!(ok, "{out}");
    assert!(out.contains("none yet"), "{out}");
    let (ok, out) = output(paperclip(home.path()).args(["db", "migrate"]));
    assert!(ok, "{out}");
    let latest = paperclip_server::store::migrations::latest();
    assert!(
        out.contains(&format!("schema version 0 -> {latest}")),
        "{out}"
    );
    let (ok, out) = output(paperclip(home.path()).args(["db", "status"]));
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "version {latest}, this binary knows {latest} (up to date)"
        )),
        "{out}"
    );
    assert!(out.contains("issues") && out.contains("0 rows"), "{out}");
    let (ok, out) = output(paperclip(home.path()).args(["db", "copy", "--to", "mysql://x/y"]));
    assert!(
        !ok && out.contains("neither a postgres:// URL nor a SQLite file path"),
        "{out}"
    );
}

#[tokio::test]
async fn allowed_hostname_takes_effect_on_a_running_server() {
    let home = tempfile::tempdir().unwrap();
    let (_server, url) = start(home.path());
    let client = reqwest::Client::new();
    let status_for = |host: &'static str| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .get(format!("{url}/api/companies"))
                .header("Host", host)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Retries for a second: the server checks config.json at most every 250 ms.
    let settles_to = |host: &'static str, want: u16| async move {
        for _ in 0..20 {
            if status_for(host).await.as_u16() == want {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    assert_eq!(status_for("box.example.com").await.as_u16(), 403);

    let (ok, out) = output(paperclip(home.path()).args(["allowed-hostname", "Box.Example.com"]));
    assert!(ok && out.contains("allowed box.example.com"), "{out}");
    assert!(
        settles_to("box.example.com:3100", 200).await,
        "no restart needed"
    );
    assert_eq!(status_for("other.example.com").await.as_u16(), 403);

    let (ok, out) = output(paperclip(home.path()).args(["allowed-hostname", "box.example.com"]));
    assert!(ok && out.contains("already allowed"), "{out}");
    let (ok, out) =
        output(paperclip(home.path()).args(["allowed-hostname", "--remove", "box.example.com"]));
    assert!(ok && out.contains("removed"), "{out}");
    assert!(settles_to("box.example.com", 403).await);

    for bad in [
        "https://box.example.com",
        "box.example.com:3100",
        "bad host",
    ] {
        let (ok, out) = output(paperclip(home.path()).args(["allowed-hostname", bad]));
        assert!(!ok, "{bad}: {out}");
    }
    let config =
        std::fs::read_to_string(home.path().join("instances/default/config.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(doc["server"]["allowedHostnames"], serde_json::json!([]));
}

#[test]
fn db_copy_will_not_write_under_a_running_server() {
    let home = tempfile::tempdir().unwrap();
    let (_server, _url) = start(home.path());
    let source = tempfile::tempdir().unwrap();
    let source_db = source.path().join("source.db");
    let (ok, out) = output(paperclip(home.path()).args([
        "db",
        "migrate",
        "--url",
        source_db.to_str().unwrap(),
    ]));
    assert!(ok, "{out}");
    let target = home.path().join("instances/default/db/paperclip.db");
    let (ok, out) = output(paperclip(home.path()).args([
        "db",
        "copy",
        "--from",
        source_db.to_str().unwrap(),
        "--to",
        target.to_str().unwrap(),
        "--force",
    ]));
    assert!(!ok, "{out}");
    assert!(
        out.contains("a Paperclip server is running") && out.contains("pid"),
        "{out}"
    );
}

#[test]
fn auth_bootstrap_ceo_prints_a_one_time_invite_url() {
    let home = tempfile::tempdir().unwrap();
    let (ok, out) = output(paperclip(home.path()).args(["auth", "bootstrap-ceo"]));
    assert!(ok, "{out}");
    assert!(out.contains("only needed in authenticated mode"), "{out}");
    let auth = |cmd: &mut Command| {
        cmd.env("PAPERCLIP_DEPLOYMENT_MODE", "authenticated");
    };
    let mut cmd = paperclip(home.path());
    auth(&mut cmd);
    let (ok, out) = output(cmd.args([
        "auth",
        "bootstrap-ceo",
        "--base-url",
        "https://pc.example.com/",
    ]));
    assert!(ok, "{out}");
    let url = out
        .lines()
        .find_map(|l| l.strip_prefix("Invite URL: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        url.starts_with("https://pc.example.com/invite/pcp_bootstrap_"),
        "{url}"
    );
    assert!(out.contains("Expires: "), "{out}");
    // A second one replaces the first.
    let mut cmd = paperclip(home.path());
    auth(&mut cmd);
    let (ok, out2) = output(cmd.args(["auth", "bootstrap-ceo"]));
    assert!(ok, "{out2}");
    assert!(
        out2.contains("http://127.0.0.1:3100/invite/pcp_bootstrap_"),
        "{out2}"
    );
    assert!(
        !out2.contains(url.trim_start_matches("https://pc.example.com")),
        "{out2}"
    );
    // The signing secret was made once, private to its owner.
    let key = home.path().join("instances/default/secrets/auth.key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o077,
            0
        );
    }
}

#[test]
fn backup_master_key_copies_the_key_privately_and_never_overwrites_by_surprise() {
    use paperclip_server::secrets::master_key;
    let home = tempfile::tempdir().unwrap();
    let copy = home.path().join("backup.key");
    let (ok, out) = output(
        paperclip(home.path())
            .args(["secrets", "backup-master-key"])
            .arg(&copy),
    );
    assert!(!ok && out.contains("no secrets master key yet"), "{out}");

    let key_file = master_key::default_key_file(&home.path().join("instances/default"));
    let key = master_key::from_key_file(&key_file, true).unwrap();
    let (ok, out) = output(
        paperclip(home.path())
            .args(["secrets", "backup-master-key"])
            .arg(&copy),
    );
    assert!(ok, "{out}");
    assert!(out.contains("Keep it somewhere safe"), "{out}");
    assert_eq!(
        master_key::from_key_file(&copy, false).unwrap().expose(),
        key.expose()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (ok, out) = output(
        paperclip(home.path())
            .args(["secrets", "backup-master-key"])
            .arg(&copy),
    );
    assert!(!ok && out.contains("--force"), "{out}");
    let (ok, out) = output(
        paperclip(home.path())
            .args(["secrets", "backup-master-key", "--force"])
            .arg(&copy),
    );
    assert!(ok, "{out}");
}

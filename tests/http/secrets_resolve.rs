//! Resolving an agent's env for a run, against the server's own database: references open to
//! the version they name (latest or pinned), plain values pass through, and a reference that
//! cannot be honoured fails the whole resolution naming the variable.

use paperclip_server::domain::Domain;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

/// The rules over this test server's database and keys (what a run start will use).
async fn domain_of(s: &TestServer) -> Domain {
    domain_on(&config_with_url(&s.home, s.database_url().as_deref())).await
}

/// The rules over the database and keys `config` names.
async fn domain_on(config: &paperclip_server::config::Config) -> Domain {
    let store = paperclip_server::server::open_store(config).await.unwrap();
    let secret = paperclip_server::server::instance_secret(config).unwrap();
    paperclip_server::server::domain_for(config, store, &secret)
}

async fn secret(s: &TestServer, company: &str, name: &str, value: &str) -> String {
    let (st, v) = s
        .post(
            &format!("/companies/{company}/secrets"),
            json!({"name": name, "value": value}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn reference(id: &str, version: Value) -> Value {
    json!({"type": "secret_ref", "secretId": id, "version": version})
}

#[tokio::test]
async fn references_resolve_to_their_versions_and_failures_name_the_variable() {
    let s = test_server!();
    let c = s.company("Runs Co").await;
    let other = s.company("Elsewhere").await;
    let openai = secret(&s, &c, "OpenAI", "sk-one").await;
    let (st, _) = s
        .post(
            &format!("/secrets/{openai}/rotate"),
            json!({"value": "sk-two"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let github = secret(&s, &c, "GitHub", "ghp-1").await;
    let theirs = secret(&s, &other, "Theirs", "x").await;
    let domain = domain_of(&s).await;
    let company: uuid::Uuid = c.parse().unwrap();

    let env = json!({
        "OPENAI_API_KEY": reference(&openai, json!("latest")),
        "OPENAI_OLD": reference(&openai, json!(1)),
        "GITHUB_TOKEN": {"type": "secret_ref", "secretId": github},
        "LOG_LEVEL": "debug",
        "MODE": {"type": "plain", "value": "fast"}
    });
    let resolved = domain.resolve_env(company, &env).await.unwrap();
    let pairs: Vec<(&str, &str)> = resolved
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("GITHUB_TOKEN", "ghp-1"),
            ("LOG_LEVEL", "debug"),
            ("MODE", "fast"),
            ("OPENAI_API_KEY", "sk-two"),
            ("OPENAI_OLD", "sk-one"),
        ]
    );

    // A by-name shorthand stored as written (before writes turned names into ids) still opens.
    let by_name = domain
        .resolve_env(company, &json!({"GH": "$secret:GitHub"}))
        .await
        .unwrap();
    assert_eq!(by_name[0].1.as_str(), "ghp-1");

    let failures = [
        (json!({"N": "$secret:NoSuchName"}), "secret_not_found"),
        (
            json!({"A": reference(&uuid::Uuid::new_v4().to_string(), json!("latest"))}),
            "secret_not_found",
        ),
        (
            json!({"B": reference(&theirs, json!("latest"))}),
            "secret_not_found",
        ),
        (
            json!({"C": reference(&openai, json!(9))}),
            "version_missing",
        ),
    ];
    for (env, code) in failures {
        let name = env.as_object().unwrap().keys().next().unwrap().clone();
        let e = domain.resolve_env(company, &env).await.unwrap_err();
        assert!(
            matches!(&e, paperclip_server::domain::DomainError::Rule { code: c, .. } if *c == code),
            "{e:?}"
        );
        assert!(e.to_string().starts_with(&name), "{e}");
    }
    let (st, _) = s
        .patch(&format!("/secrets/{github}"), json!({"status": "disabled"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let e = domain
        .resolve_env(company, &json!({"D": reference(&github, json!("latest"))}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("disabled"), "{e}");
}

#[tokio::test]
async fn a_tampered_version_fails_only_the_reference_to_it() {
    let s = test_server!();
    let c = s.company("Tamper Co").await;
    let good = secret(&s, &c, "Good", "value-good").await;
    let bad = secret(&s, &c, "Bad", "value-bad").await;
    // Flip one character of the sealed text (base64), as a disk fault or an attacker would.
    let sealed = s
        .sql_texts(&format!(
            "SELECT ciphertext FROM company_secret_versions WHERE secret_id = '{bad}'"
        ))
        .await;
    let mut chars: Vec<char> = sealed[0].chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let altered: String = chars.into_iter().collect();
    s.sql(&format!(
        "UPDATE company_secret_versions SET ciphertext = '{altered}' WHERE secret_id = '{bad}'"
    ))
    .await;
    let domain = domain_of(&s).await;
    let company: uuid::Uuid = c.parse().unwrap();

    let e = domain
        .resolve_env(
            company,
            &json!({"GOOD_TOKEN": reference(&good, json!("latest")),
                    "BAD_TOKEN": reference(&bad, json!("latest"))}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, paperclip_server::domain::DomainError::Rule { code, .. } if *code == "secret_unreadable"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("BAD_TOKEN: secret Bad") && text.contains("altered"),
        "the error names the variable, the secret and why: {text}"
    );
    assert!(!text.contains("value-"), "no value in the error: {text}");
    let resolved = domain
        .resolve_env(
            company,
            &json!({"GOOD_TOKEN": reference(&good, json!("latest"))}),
        )
        .await
        .unwrap();
    assert_eq!(
        resolved[0].1.as_str(),
        "value-good",
        "the other secret still opens"
    );
}

/// Values of these references, as a run would get them.
async fn values(s: &TestServer, company: &str, ids: &[&str]) -> Vec<String> {
    let env: serde_json::Map<String, Value> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| (format!("K{n}"), reference(id, json!("latest"))))
        .collect();
    let resolved = domain_of(s)
        .await
        .resolve_env(company.parse().unwrap(), &Value::Object(env))
        .await
        .unwrap();
    resolved.iter().map(|(_, v)| v.to_string()).collect()
}

fn key_file(home: &std::path::Path) -> std::path::PathBuf {
    paperclip_server::secrets::master_key::default_key_file(&home.join("instances/default"))
}

#[tokio::test]
async fn rotating_the_master_key_with_the_cli_keeps_every_secret() {
    let s = test_server!();
    let c = s.company("Rotate Co").await;
    let a = secret(&s, &c, "A", "value-a").await;
    let b = secret(&s, &c, "B", "value-b1").await;
    let (st, _) = s
        .post(
            &format!("/secrets/{b}/rotate"),
            json!({"value": "value-b2"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let old_key = std::fs::read_to_string(key_file(&s.home)).unwrap();

    let mut cli_out = String::new();
    let s = s
        .restart_after(async |home, db_url| {
            let (ok, out) = secrets_cli(home, db_url, &["rotate-master-key"]);
            cli_out = out;
            assert!(ok, "{cli_out}");
        })
        .await
        .expect("the server starts with the new key");
    assert!(cli_out.contains("re-sealed 3 of 3"), "{cli_out}");
    let new_key = std::fs::read_to_string(key_file(&s.home)).unwrap();
    assert_ne!(new_key, old_key);
    let previous = paperclip_server::secrets::rotation::previous_file(&key_file(&s.home));
    assert_eq!(std::fs::read_to_string(previous).unwrap(), old_key);
    assert_eq!(values(&s, &c, &[&a, &b]).await, ["value-a", "value-b2"]);
}

#[tokio::test]
async fn an_interrupted_rotation_is_finished_by_running_it_again() {
    use paperclip_server::secrets::rotation;
    let s = test_server!();
    let c = s.company("Crash Co").await;
    let a = secret(&s, &c, "A", "value-a").await;
    let s = s
        .restart_after(async |home, db_url| {
            let file = key_file(home);
            let config = config_with_url(home, db_url);
            let store = paperclip_server::server::open_store(&config).await.unwrap();
            // Crashed before the commit: a new key is on disk, nothing re-sealed. A run picks
            // that key up.
            let planned = paperclip_server::secrets::crypto::MasterKey::generate();
            paperclip_server::secrets::master_key::write_new_key_file(
                &rotation::next_file(&file),
                &planned,
            )
            .unwrap();
            let done = rotation::rotate(store.as_ref(), &file, |_| {})
                .await
                .unwrap();
            assert!(done.resumed);
            let installed = paperclip_server::secrets::master_key::from_key_file(&file, false);
            assert_eq!(installed.unwrap().expose(), planned.expose());

            // Crashed after the commit, before the new key replaced the old: the database is
            // sealed under the next key while master.key still holds the old one.
            std::fs::rename(&file, rotation::next_file(&file)).unwrap();
            std::fs::copy(rotation::previous_file(&file), &file).unwrap();
            let done = rotation::rotate(store.as_ref(), &file, |_| {})
                .await
                .unwrap();
            assert!(done.resumed);
            let installed = paperclip_server::secrets::master_key::from_key_file(&file, false);
            assert_eq!(installed.unwrap().expose(), planned.expose());
            store.close().await;
        })
        .await
        .expect("the server starts after the finished rotation");
    assert_eq!(values(&s, &c, &[&a]).await, ["value-a"]);
}

/// `paperclip secrets …` on this instance's home (and database), its output and success.
fn secrets_cli(home: &std::path::Path, db_url: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut all = vec!["secrets"];
    all.extend_from_slice(args);
    paperclip(home, db_url, &all)
}

/// The `paperclip` binary on this instance's home (and database): success and output.
fn paperclip(
    home: &std::path::Path,
    db_url: Option<&str>,
    args: &[impl AsRef<std::ffi::OsStr>],
) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_paperclip"));
    cmd.env_clear()
        .env("PAPERCLIP_HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args);
    if let Some(url) = db_url {
        cmd.env("DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn inline_credentials_move_into_secrets_and_still_resolve() {
    let s = test_server!();
    let c = s.company("Inline Co").await;
    let kept = secret(&s, &c, "Kept", "ghp-kept").await;
    let (st, ada) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Ada", "adapterConfig": {"env": {
                "OPENAI_API_KEY": "sk-inline-a",
                "DB_PASSWORD": {"type": "plain", "value": "pw-inline-b"},
                "GITHUB_TOKEN": reference(&kept, json!("latest")),
                "LOG_LEVEL": "debug"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ada}");
    let ada = ada["id"].as_str().unwrap().to_string();

    let mut outputs = Vec::new();
    let s = s
        .restart_after(async |home, db_url| {
            let dry = secrets_cli(home, db_url, &["migrate-inline-env"]);
            let apply = secrets_cli(home, db_url, &["migrate-inline-env", "--apply"]);
            let again = secrets_cli(home, db_url, &["migrate-inline-env", "--apply"]);
            outputs = vec![dry, apply, again];
        })
        .await
        .expect("the server starts after the move");
    let [(ok1, dry), (ok2, apply), (ok3, again)] = &outputs[..] else {
        panic!("three runs")
    };
    assert!(*ok1 && *ok2 && *ok3, "{dry}\n{apply}\n{again}");
    assert!(
        dry.contains("would move") && dry.contains("2 values would move"),
        "{dry}"
    );
    assert!(apply.contains("Moved 2 values"), "{apply}");
    assert!(again.contains("nothing to move"), "{again}");
    for out in [dry, apply, again] {
        assert!(
            !out.contains("sk-inline-a") && !out.contains("pw-inline-b"),
            "{out}"
        );
    }

    // The env now refers to secrets, and a run still gets the same values.
    let (_, agent) = s.get(&format!("/agents/{ada}")).await;
    let env = agent["adapterConfig"]["env"].clone();
    assert_eq!(env["OPENAI_API_KEY"]["type"], "secret_ref", "{env}");
    assert_eq!(env["DB_PASSWORD"]["type"], "secret_ref", "{env}");
    assert_eq!(env["GITHUB_TOKEN"]["secretId"], kept.as_str());
    assert_eq!(env["LOG_LEVEL"], "debug");
    let resolved = domain_of(&s)
        .await
        .resolve_env(c.parse().unwrap(), &env)
        .await
        .unwrap();
    let pairs: Vec<(&str, &str)> = resolved
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("DB_PASSWORD", "pw-inline-b"),
            ("GITHUB_TOKEN", "ghp-kept"),
            ("LOG_LEVEL", "debug"),
            ("OPENAI_API_KEY", "sk-inline-a"),
        ]
    );
    let (_, list) = s.get(&format!("/companies/{c}/secrets")).await;
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
}

#[tokio::test]
async fn db_copy_can_reseal_secrets_under_the_targets_key() {
    let s = test_server!();
    let c = s.company("Moving Co").await;
    let a = secret(&s, &c, "A", "value-a").await;
    let b = secret(&s, &c, "B", "value-b1").await;
    let (st, _) = s
        .post(
            &format!("/secrets/{b}/rotate"),
            json!({"value": "value-b2"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let target_dir = tempfile::tempdir().unwrap();
    let target_db = target_dir.path().join("server.db");
    let target_key = target_dir.path().join("server.key");

    let db = s.database_url();
    let copy_args = |to: &std::path::Path| -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> =
            vec!["db".into(), "copy".into(), "--to".into(), to.into()];
        args.extend(["--target-master-key-file".into(), target_key.clone().into()]);
        args
    };
    let (ok, text) = paperclip(&s.home, db.as_deref(), &copy_args(&target_db));
    assert!(ok, "{text}");
    assert!(
        text.contains("re-sealed under the target's master key"),
        "{text}"
    );
    assert!(
        !text.contains("value-a") && !text.contains("value-b"),
        "{text}"
    );
    // The copy is an export of the instance: its files hold the values sealed, never in clear
    // (while the company's name, stored in clear, is found by the same search).
    let mut seen_name = false;
    for file in std::fs::read_dir(target_dir.path()).unwrap() {
        let path = file.unwrap().path();
        if path.to_string_lossy().contains("server.db") {
            let bytes = std::fs::read(&path).unwrap();
            let has = |text: &str| bytes.windows(text.len()).any(|w| w == text.as_bytes());
            seen_name |= has("Moving Co");
            for value in ["value-a", "value-b1", "value-b2"] {
                assert!(!has(value), "{value} in clear in {}", path.display());
            }
        }
    }
    assert!(seen_name, "the copy's files were searched");
    let source_key = std::fs::read_to_string(key_file(&s.home)).unwrap();
    assert_ne!(std::fs::read_to_string(&target_key).unwrap(), source_key);

    // The wrong source key stops the copy before anything is written.
    let wrong = target_dir.path().join("wrong.key");
    paperclip_server::secrets::master_key::from_key_file(&wrong, true).unwrap();
    let mut args = copy_args(&target_dir.path().join("other.db"));
    args.extend(["--source-master-key-file".into(), wrong.clone().into()]);
    let (ok, text) = paperclip(&s.home, db.as_deref(), &args);
    assert!(!ok, "{text}");
    assert!(text.contains("cannot decrypt secret"), "{text}");

    // A server on the copy, with the target's key only, starts (its key opens what is stored)
    // and resolves the same values.
    let target_home = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite:{}", target_db.display());
    let key_text = target_key.display().to_string();
    let config = config_with_env(
        target_home.path(),
        Some(&db_url),
        &[("PAPERCLIP_SECRETS_MASTER_KEY_FILE", &key_text)],
    )
    .unwrap();
    let copy = TestServer::launch_config(config.clone()).await;
    let domain = domain_on(&config).await;
    let env = json!({"A": reference(&a, json!("latest")), "B1": reference(&b, json!(1)),
                     "B": reference(&b, json!("latest"))});
    let resolved = domain.resolve_env(c.parse().unwrap(), &env).await.unwrap();
    let values: Vec<&str> = resolved.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["value-a", "value-b2", "value-b1"]);
    copy.stop().await;
}

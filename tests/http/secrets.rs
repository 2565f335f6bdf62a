//! Company secrets over real HTTP, on both databases: values go in and never come out (not in
//! answers, lists, activity or the database in clear), rotation appends versions, names and
//! keys are unique per company, only the board touches them, and a server holding secrets
//! refuses to start without the master key that opens them.

use base64::Engine;
use paperclip_server::secrets::crypto;
use paperclip_server::secrets::master_key;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const VALUE: &str = "sk-live-abc123-very-secret";
const NEXT: &str = "sk-live-def456-rotated";

fn key_file(s: &TestServer) -> std::path::PathBuf {
    master_key::default_key_file(&s.home.join("instances").join("default"))
}

/// The sealed versions of `secret` as stored, oldest first: (version, ciphertext).
async fn stored_versions(s: &TestServer, secret: &str) -> Vec<(String, String)> {
    let rows = s
        .sql_texts(&format!(
            "SELECT CAST(version AS TEXT) || ' ' || ciphertext FROM company_secret_versions
             WHERE secret_id = '{secret}' ORDER BY version"
        ))
        .await;
    rows.into_iter()
        .map(|r| {
            let (v, c) = r.split_once(' ').unwrap();
            (v.to_string(), c.to_string())
        })
        .collect()
}

#[tokio::test]
async fn secrets_are_write_only_sealed_and_versioned() {
    let s = test_server!();
    let c = s.company("Vault Co").await;
    assert!(!key_file(&s).exists(), "no key before the first secret");

    let (st, secret) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "OpenAI API Key", "value": VALUE, "description": "for Ada"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{secret}");
    let id = secret["id"].as_str().unwrap().to_string();
    assert_eq!(secret["key"], "openai-api-key");
    assert_eq!(secret["latestVersion"], 1);
    assert_eq!(secret["status"], "active");
    assert_eq!(secret["provider"], "local_encrypted");
    assert!(secret.get("value").is_none() && !secret.to_string().contains(VALUE));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_file(&s))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // An agent naming it counts as a reference; the list never shows a value.
    let (st, _) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Ada", "role": "engineer", "adapterConfig": {"env": {
                "OPENAI_API_KEY": {"type": "secret_ref", "secretId": id, "version": "latest"}}}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, list) = s.get(&format!("/companies/{c}/secrets")).await;
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["referenceCount"], 1, "{list}");
    assert!(!list.to_string().contains(VALUE));

    // Same name, or a name giving the same key: 409. No value, or a blank one: 400.
    let (st, e) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "OpenAI API Key", "value": "x"}),
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("Secret already exists"),
        "{e}"
    );
    let (st, e) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "openai api key", "value": "x"}),
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert!(
        e["error"].as_str().unwrap().contains("key already exists"),
        "{e}"
    );
    for body in [
        json!({"name": "Empty"}),
        json!({"name": "Blank", "value": "  "}),
    ] {
        let (st, e) = s.post(&format!("/companies/{c}/secrets"), body).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], "value", "{e}");
    }

    // Rotation appends version 2; both are sealed, and open with the instance's key only for
    // this company and secret.
    let (st, rotated) = s
        .post(&format!("/secrets/{id}/rotate"), json!({"value": NEXT}))
        .await;
    assert_eq!(st, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["latestVersion"], 2);
    let versions = stored_versions(&s, &id).await;
    assert_eq!(versions.len(), 2);
    let key = master_key::from_key_file(&key_file(&s), false).unwrap();
    for ((number, sealed), plain) in versions.iter().zip([VALUE, NEXT]) {
        assert!(!sealed.contains(plain), "version {number} stored in clear");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .unwrap();
        let opened = crypto::open(&key, c.parse().unwrap(), id.parse().unwrap(), &bytes).unwrap();
        assert_eq!(opened.as_slice(), plain.as_bytes());
        assert!(crypto::open(&key, uuid::Uuid::new_v4(), id.parse().unwrap(), &bytes).is_err());
    }

    // Disabled: no rotation. Deleting through PATCH is refused; DELETE removes every version.
    let (st, d) = s
        .patch(&format!("/secrets/{id}"), json!({"status": "disabled"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (st, e) = s
        .post(&format!("/secrets/{id}/rotate"), json!({"value": "x"}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "secret_inactive");
    let (st, e) = s
        .patch(&format!("/secrets/{id}"), json!({"status": "deleted"}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, ok) = s
        .call(Method::DELETE, &format!("/secrets/{id}"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ok, json!({"ok": true}));
    assert!(stored_versions(&s, &id).await.is_empty());
    let (st, e) = s
        .post(&format!("/secrets/{id}/rotate"), json!({"value": "x"}))
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);

    // The activity log tells what happened, and never a value.
    let (_, log) = s.get(&format!("/companies/{c}/activity")).await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .filter(|a| a.starts_with("secret."))
        .collect();
    for wanted in [
        "secret.created",
        "secret.rotated",
        "secret.updated",
        "secret.deleted",
    ] {
        assert!(actions.contains(&wanted), "{actions:?}");
    }
    let rotated_entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "secret.rotated")
        .unwrap();
    assert_eq!(rotated_entry["details"]["version"], 2);
    let text = log.to_string();
    assert!(!text.contains(VALUE) && !text.contains(NEXT));
}

#[tokio::test]
async fn only_the_board_of_the_company_touches_secrets() {
    let s = test_server!();
    let c = s.company("Mine").await;
    let other = s.company("Theirs").await;
    let agent = s.agent(&c, "Bot", None).await;
    let token = s.key(&agent).await;
    let (_, theirs) = s
        .post(
            &format!("/companies/{other}/secrets"),
            json!({"name": "T", "value": "v"}),
        )
        .await;
    let theirs = theirs["id"].as_str().unwrap().to_string();
    let agent_calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/companies/{c}/secrets"), None),
        (
            Method::POST,
            format!("/companies/{c}/secrets"),
            Some(json!({"name": "A", "value": "v"})),
        ),
        (
            Method::POST,
            format!("/secrets/{theirs}/rotate"),
            Some(json!({"value": "v"})),
        ),
    ];
    for (m, path, body) in agent_calls {
        let (st, e) = s.call(m, &path, Some(&token), body).await;
        assert_error(st, &e, StatusCode::FORBIDDEN);
    }
    let (st, e) = s
        .get("/companies/00000000-0000-0000-0000-000000000000/secrets")
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
}

/// Stores one secret; answers the key file that now exists.
async fn store_one_secret(s: &TestServer) -> std::path::PathBuf {
    let c = s.company("Keyed").await;
    let (st, _) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "K", "value": VALUE}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    key_file(s)
}

#[tokio::test]
async fn a_server_holding_secrets_will_not_start_without_their_key() {
    let s = test_server!();
    let file = store_one_secret(&s).await;
    let moved = file.with_extension("key.moved");
    let err = s
        .restart_after(async |_, _| std::fs::rename(&file, &moved).unwrap())
        .await
        .err()
        .expect("a start without the master key");
    assert!(err.contains("secret versions are stored"), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("PAPERCLIP_SECRETS_MASTER_KEY"), "{err}");
}

#[tokio::test]
async fn a_wrong_master_key_is_named_at_start() {
    let s = test_server!();
    let file = store_one_secret(&s).await;
    let err = s
        .restart_after(async |_, _| {
            // Another valid key, in place of the right one.
            let other = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
            std::fs::write(&file, other).unwrap();
        })
        .await
        .err()
        .expect("a start with the wrong master key");
    assert!(
        err.contains("cannot decrypt secrets with this master key"),
        "{err}"
    );
    assert!(err.contains(&file.display().to_string()), "{err}");
}

#[tokio::test]
async fn agent_env_hides_credentials_and_references_must_be_this_companys() {
    let s = test_server!();
    let c = s.company("Env Co").await;
    let other = s.company("Other Co").await;
    let (_, mine) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "Gh", "value": VALUE}),
        )
        .await;
    let (_, theirs) = s
        .post(
            &format!("/companies/{other}/secrets"),
            json!({"name": "Gh", "value": VALUE}),
        )
        .await;
    let env = json!({
        "OPENAI_API_KEY": "sk-inline-1",
        "DB_PASSWORD": {"type": "plain", "value": "hunter2-inline"},
        "GITHUB_TOKEN": {"type": "secret_ref", "secretId": mine["id"], "version": "latest"},
        "LOG_LEVEL": "debug"
    });
    let (st, agent) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Ada", "adapterConfig": {"env": env}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{agent}");
    let id = agent["id"].as_str().unwrap().to_string();
    // Every read: the answer to create, the agent, the list, the org chart.
    let (_, one) = s.get(&format!("/agents/{id}")).await;
    let (_, list) = s.get(&format!("/companies/{c}/agents")).await;
    let (_, org) = s.get(&format!("/companies/{c}/org")).await;
    for read in [&agent, &one, &list, &org] {
        let text = read.to_string();
        assert!(
            !text.contains("sk-inline-1") && !text.contains("hunter2-inline"),
            "{text}"
        );
    }
    assert_eq!(
        one["adapterConfig"]["env"]["OPENAI_API_KEY"],
        "***REDACTED***"
    );
    assert_eq!(
        one["adapterConfig"]["env"]["DB_PASSWORD"]["value"],
        "***REDACTED***"
    );
    assert_eq!(
        one["adapterConfig"]["env"]["GITHUB_TOKEN"]["secretId"],
        mine["id"]
    );
    assert_eq!(one["adapterConfig"]["env"]["LOG_LEVEL"], "debug");

    // Writing the redacted read back is refused; bad names and shapes too; another company's
    // secret is not found.
    let cases = [
        (
            json!({"env": one["adapterConfig"]["env"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"env": {"1BAD": "x"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"env": {"X": {"type": "magic"}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"env": {"T": {"type": "secret_ref", "secretId": theirs["id"]}}}),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (config, expected) in cases {
        let (st, e) = s
            .patch(&format!("/agents/{id}"), json!({"adapterConfig": config}))
            .await;
        assert_error(st, &e, expected);
    }
}

#[tokio::test]
async fn strict_mode_wants_references_for_credentials() {
    let Some(s) = TestServer::start_env(&[("PAPERCLIP_SECRETS_STRICT_MODE", "true")]).await else {
        return;
    };
    let c = s.company("Strict Co").await;
    let (st, e) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Ada", "adapterConfig": {"env": {"OPENAI_API_KEY": "sk-inline"}}}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "strict_secret_mode");
    assert!(
        e["error"].as_str().unwrap().contains("OPENAI_API_KEY"),
        "{e}"
    );
    let (_, secret) = s
        .post(
            &format!("/companies/{c}/secrets"),
            json!({"name": "OpenAI", "value": VALUE}),
        )
        .await;
    let (st, a) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Ada", "adapterConfig": {"env": {
                "OPENAI_API_KEY": {"type": "secret_ref", "secretId": secret["id"]},
                "LOG_LEVEL": "info"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
}

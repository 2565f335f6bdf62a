//! Resolving an agent's env for a run, against the server's own database: references open to
//! the version they name (latest or pinned), plain values pass through, and a reference that
//! cannot be honoured fails the whole resolution naming the variable.

use paperclip_server::domain::Domain;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

/// The rules over this test server's database and keys (what a run start will use).
async fn domain_of(s: &TestServer) -> Domain {
    let config = config_with_url(&s.home, s.database_url().as_deref());
    let store = paperclip_server::server::open_store(&config).await.unwrap();
    let secret = paperclip_server::server::instance_secret(&config).unwrap();
    paperclip_server::server::domain_for(&config, store, &secret)
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

    let failures = [
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

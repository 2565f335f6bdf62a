//! Secret references by name (`"$secret:<name>"`, API.md's shorthand) in agents' and projects'
//! env, and a project's env held to the same rules as an agent's: checked on write, redacted
//! on every read, resolved for runs.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

const VALUE: &str = "sk-live-by-name-0123456789";

async fn secret(s: &TestServer, company: &str, name: &str) -> Value {
    let (st, v) = s
        .post(
            &format!("/companies/{company}/secrets"),
            json!({"name": name, "value": VALUE}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn a_reference_by_name_is_stored_as_the_secret_it_names() {
    let s = test_server!();
    let c = s.company("Names Co").await;
    let other = s.company("Names Elsewhere").await;
    let openai = secret(&s, &c, "OpenAI").await;
    secret(&s, &other, "Theirs").await;

    let (st, agent) = s
        .post(
            &format!("/companies/{c}/agents"),
            json!({"name": "Ada", "adapterConfig": {"env": {
                "OPENAI_API_KEY": "$secret:OpenAI", "LOG_LEVEL": "info"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{agent}");
    let binding = &agent["adapterConfig"]["env"]["OPENAI_API_KEY"];
    assert_eq!(binding["type"], "secret_ref", "{agent}");
    assert_eq!(binding["secretId"], openai["id"]);
    assert_eq!(binding["version"], "latest");
    // The secret list counts the agent as a user of it.
    let (_, list) = s.get(&format!("/companies/{c}/secrets")).await;
    assert_eq!(list[0]["referenceCount"], 1, "{list}");

    // A name this company has no secret under (another company's included) is refused,
    // naming the variable and the name; nothing is stored.
    for name in ["Nope", "Theirs"] {
        let (st, e) = s
            .post(
                &format!("/companies/{c}/agents"),
                json!({"name": format!("Bob {name}"), "adapterConfig": {"env": {
                    "GITHUB_TOKEN": format!("$secret:{name}")}}}),
            )
            .await;
        assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["code"], "secret_not_found");
        let text = e["error"].as_str().unwrap();
        assert!(text.contains("GITHUB_TOKEN") && text.contains(name), "{e}");
    }
    let (_, agents) = s.get(&format!("/companies/{c}/agents")).await;
    assert_eq!(agents.as_array().unwrap().len(), 1, "{agents}");
}

#[tokio::test]
async fn a_projects_env_is_checked_redacted_and_takes_names() {
    let s = test_server!();
    let c = s.company("Project Env Co").await;
    let gh = secret(&s, &c, "GitHub").await;
    let (st, project) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "Site", "env": {
                "DEPLOY_TOKEN": "tok-inline-123",
                "GITHUB_TOKEN": "$secret:GitHub",
                "REGION": "eu"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{project}");
    let id = project["id"].as_str().unwrap().to_string();
    let (_, one) = s.get(&format!("/projects/{id}")).await;
    let (_, list) = s.get(&format!("/companies/{c}/projects")).await;
    for read in [&project, &one, &list] {
        assert!(
            !read.to_string().contains("tok-inline-123"),
            "a project read shows an inline credential: {read}"
        );
    }
    assert_eq!(one["env"]["DEPLOY_TOKEN"], "***REDACTED***");
    assert_eq!(one["env"]["REGION"], "eu");
    assert_eq!(one["env"]["GITHUB_TOKEN"]["secretId"], gh["id"]);

    // The same write rules as an agent's env.
    for (env, code) in [
        (json!({"1BAD": "x"}), "invalid_env_name"),
        (json!({"X": {"type": "magic"}}), "invalid_env_binding"),
        (json!({"T": "$secret:Missing"}), "secret_not_found"),
        (json!({"1BAD": "$secret:GitHub"}), "invalid_env_name"),
        (one["env"].clone(), "redacted_placeholder"),
    ] {
        let (st, e) = s
            .patch(&format!("/projects/{id}"), json!({"env": env}))
            .await;
        assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["code"], code, "{e}");
    }
    let (_, again) = s.get(&format!("/projects/{id}")).await;
    assert_eq!(again["env"], one["env"], "a refused change stored nothing");
}

#[tokio::test]
async fn strict_mode_holds_for_projects_too() {
    let Some(s) = TestServer::start_env(&[("PAPERCLIP_SECRETS_STRICT_MODE", "true")]).await else {
        return;
    };
    let c = s.company("Strict Projects").await;
    let (st, e) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "Site", "env": {"NPM_TOKEN": "npm-inline"}}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "strict_secret_mode");
    secret(&s, &c, "Npm").await;
    let (st, p) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "Site", "env": {"NPM_TOKEN": "$secret:Npm"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
}

#[tokio::test]
async fn a_name_stored_as_written_still_opens_for_a_run_and_stays_masked_in_its_log() {
    use crate::heartbeats::{company_with_agent, invoke};
    let s = test_server!();
    let script = "echo \"A=$API_TOKEN\"";
    let config = json!({"command": "sh", "args": ["-c", script]});
    let (company, agent) = company_with_agent(&s, "process", config.clone()).await;
    secret(&s, &company, "Legacy").await;
    // A row written before names were turned into ids on write (or copied from such a server).
    let mut legacy = config;
    legacy["env"] = json!({"API_TOKEN": "$secret:Legacy"});
    let text = legacy.to_string().replace('\'', "''");
    let sql = match s.database_url() {
        Some(_) => {
            format!("UPDATE agents SET adapter_config = '{text}'::jsonb WHERE id = '{agent}'")
        }
        None => format!("UPDATE agents SET adapter_config = '{text}' WHERE id = '{agent}'"),
    };
    s.sql(&sql).await;

    let run = invoke(&s, &agent, json!({})).await;
    let run_id = run["id"].as_str().unwrap();
    let ended = wait_for_run(&s, None, run_id, &["succeeded", "failed"]).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let (_, log) = s.get(&format!("/heartbeat-runs/{run_id}/log")).await;
    let content = log["content"].as_str().unwrap();
    assert!(
        content.contains("A=***REDACTED***"),
        "the value reached the process, masked: {content}"
    );
    assert!(!content.contains(VALUE), "{content}");
}

#[tokio::test]
async fn references_from_projects_count_and_hire_requests_read_redacted() {
    let s = test_server!();
    let c = s.company("Counts Co").await;
    let npm = secret(&s, &c, "Npm").await;
    let (st, _) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "Site", "env": {"NPM_TOKEN": "$secret:Npm"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, list) = s.get(&format!("/companies/{c}/secrets")).await;
    assert_eq!(list[0]["id"], npm["id"]);
    assert_eq!(
        list[0]["referenceCount"], 1,
        "a project's reference counts: {list}"
    );

    // A hire asked for directly, with an inline credential in its payload: every read of the
    // approval hides it.
    let (st, approval) = s
        .post(
            &format!("/companies/{c}/approvals"),
            json!({"type": "hire_agent", "payload": {"name": "Eve", "adapterType": "process",
                "adapterConfig": {"env": {"OPENAI_API_KEY": "sk-inline-in-payload"}}}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{approval}");
    let id = approval["id"].as_str().unwrap();
    let (_, one) = s.get(&format!("/approvals/{id}")).await;
    let (_, all) = s
        .get(&format!("/companies/{c}/approvals?status=pending"))
        .await;
    for read in [&approval, &one, &all] {
        assert!(!read.to_string().contains("sk-inline-in-payload"), "{read}");
    }
    assert_eq!(
        one["payload"]["adapterConfig"]["env"]["OPENAI_API_KEY"],
        "***REDACTED***"
    );
}

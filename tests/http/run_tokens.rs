//! Run tokens (agent JWTs) over real HTTP, in both modes: a token minted with the instance's
//! key acts as its agent and its run; a contradicting `X-Paperclip-Run-Id` is a 422; expired,
//! tampered, foreign and terminated-agent tokens are 401; another company's objects are 404.

use std::time::Duration;

use paperclip_server::auth::jwt::{RunClaims, RunTokens};
use paperclip_server::auth::secret::InstanceSecret;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{AUTHENTICATED, auth_server};
use crate::common::*;

/// The instance's run-token minter, from the key file the server made at start.
fn minter(s: &TestServer, ttl: Duration) -> RunTokens {
    let dir = s.home.join("instances").join("default");
    let secret = InstanceSecret::load(None, &dir).expect("the server made its key");
    RunTokens::new(&secret, "default", ttl)
}

fn claims(agent: &str, company: &str, run: Uuid) -> RunClaims {
    RunClaims {
        agent_id: agent.parse().unwrap(),
        company_id: company.parse().unwrap(),
        run_id: run,
        adapter_type: "process".into(),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn call_run(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    run_header: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = s
        .client
        .request(method, format!("{}{path}", s.base))
        .bearer_auth(token);
    if let Some(run) = run_header {
        req = req.header("x-paperclip-run-id", run);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A company with an agent, an issue for it, and a live run of the agent (a `sleep`).
struct Setup {
    company: String,
    agent: String,
    issue: String,
    run: Uuid,
}

async fn setup(s: &TestServer, key: Option<&str>) -> Setup {
    let call = async |method: Method, path: &str, body: Value| {
        let (st, v) = s.call(method, path, key, Some(body)).await;
        assert!(st.is_success(), "{path}: {st} {v}");
        v
    };
    let company = call(Method::POST, "/companies", json!({"name": "Runs"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let agent = call(
        Method::POST,
        &format!("/companies/{company}/agents"),
        json!({"name": "Worker", "role": "engineer", "adapterType": "process",
               "adapterConfig": {"command": "sleep", "args": ["120"]}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let issue = call(
        Method::POST,
        &format!("/companies/{company}/issues"),
        // Unassigned: the run takes it by checkout (an assignment would wake a second run).
        json!({"title": "Do it", "status": "todo"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = call(
        Method::POST,
        &format!("/agents/{agent}/heartbeat/invoke"),
        json!({}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    wait_for_run(s, key, run, &["running"]).await;
    Setup {
        company,
        agent,
        issue,
        run,
    }
}

async fn exercise(s: &TestServer, board_key: Option<&str>) {
    let Setup {
        company,
        agent,
        issue,
        run,
    } = setup(s, board_key).await;
    let tokens = minter(s, Duration::from_secs(3600));
    // A run that does not exist gives no identity, whatever the signature.
    let (st, e) = call_run(
        s,
        Method::GET,
        "/agents/me",
        &tokens.mint(&claims(&agent, &company, Uuid::new_v4()), now()),
        None,
        None,
    )
    .await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    let token = tokens.mint(&claims(&agent, &company, run), now());

    // It is its agent.
    let (st, me) = call_run(s, Method::GET, "/agents/me", &token, None, None).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["id"], agent.as_str());

    // Without the header the token's run is the request's run; the same header is fine.
    let checkout = json!({"agentId": agent, "expectedStatuses": ["todo"]});
    let (st, held) = call_run(
        s,
        Method::POST,
        &format!("/issues/{issue}/checkout"),
        &token,
        None,
        Some(checkout.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{held}");
    assert_eq!(held["checkoutRunId"], run.to_string());
    let (st, _) = call_run(
        s,
        Method::GET,
        &format!("/issues/{issue}"),
        &token,
        Some(&run.to_string()),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    // A contradicting header is a 422 naming both runs.
    let other = Uuid::new_v4().to_string();
    let (st, e) = call_run(
        s,
        Method::GET,
        &format!("/issues/{issue}"),
        &token,
        Some(&other),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "agent_jwt_run_id_mismatch");
    assert_eq!(e["details"]["claimRunId"], run.to_string());
    assert_eq!(e["details"]["headerRunId"], other);

    // Expired, tampered and foreign tokens are 401 with a JSON error.
    let expired = tokens.mint(&claims(&agent, &company, run), now() - 7200);
    let (st, e) = call_run(s, Method::GET, "/agents/me", &expired, None, None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    assert!(e["error"].as_str().unwrap().contains("expired"), "{e}");
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (st, e) = call_run(s, Method::GET, "/agents/me", &tampered, None, None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    let foreign_secret =
        InstanceSecret::load(Some("x".repeat(40)), std::path::Path::new("/nonexistent")).unwrap();
    let foreign = RunTokens::new(&foreign_secret, "default", Duration::from_secs(3600))
        .mint(&claims(&agent, &company, run), now());
    let (st, e) = call_run(s, Method::GET, "/agents/me", &foreign, None, None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    // A token naming another company than its agent's is not valid either.
    let wrong_company = tokens.mint(&claims(&agent, &Uuid::new_v4().to_string(), run), now());
    let (st, e) = call_run(s, Method::GET, "/agents/me", &wrong_company, None, None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);

    // Another company's objects do not exist for it.
    let theirs = setup(s, board_key).await;
    let (st, e) = call_run(
        s,
        Method::GET,
        &format!("/issues/{}", theirs.issue),
        &token,
        None,
        None,
    )
    .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (st, e) = call_run(
        s,
        Method::GET,
        &format!("/companies/{}/agents", theirs.company),
        &token,
        None,
        None,
    )
    .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);

    // The token ends with its run: cancelled, it is refused, and the checkout lock it held
    // is gone with it.
    let (st, ended) = s
        .call(
            Method::POST,
            &format!("/heartbeat-runs/{run}/cancel"),
            board_key,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ended}");
    assert_eq!(ended["status"], "cancelled");
    let (st, e) = call_run(s, Method::GET, "/agents/me", &token, None, None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    assert!(e["error"].as_str().unwrap().contains("ended"), "{e}");
    let (_, issue_now) = s
        .call(Method::GET, &format!("/issues/{issue}"), board_key, None)
        .await;
    assert_eq!(issue_now["checkoutRunId"], Value::Null, "{issue_now}");

    // A terminated agent's token stops working at once (and its run is ended).
    let their_token = tokens.mint(&claims(&theirs.agent, &theirs.company, theirs.run), now());
    let (st, _) = call_run(s, Method::GET, "/agents/me", &their_token, None, None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/agents/{}/terminate", theirs.agent),
            board_key,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = call_run(s, Method::GET, "/agents/me", &their_token, None, None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    let ended = wait_for_run(s, board_key, theirs.run, &["cancelled"]).await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
}

#[tokio::test]
async fn run_tokens_in_local_trusted_mode() {
    let s = test_server!();
    exercise(&s, None).await;
}

#[tokio::test]
async fn run_tokens_in_authenticated_mode() {
    let s = auth_server!();
    let mut admin = crate::access::first_admin(&s).await;
    let (st, _, key) = admin
        .send(
            Method::POST,
            "/board-api-keys",
            Some(json!({"name": "runs"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{key}");
    exercise(&s, key["token"].as_str()).await;
}

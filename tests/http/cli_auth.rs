//! CLI sign-in challenges over real HTTP in authenticated mode: the CLI asks, a signed-in
//! person approves in the browser, the CLI's key works until `revoke-current`; wrong secrets
//! and cancelling. Who may approve, expiry and bad requests: `cli_auth_rules.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::access::first_admin;
use crate::auth::{AUTHENTICATED, Browser, auth_server};
use crate::common::*;

/// A new challenge, asked for anonymously.
pub async fn challenge(s: &TestServer, body: Value) -> Value {
    let (st, c) = s.post("/cli-auth/challenges", body).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    c
}

pub fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// `b` approves the challenge with its secret.
pub async fn approve(b: &mut Browser<'_>, c: &Value) -> (StatusCode, Value) {
    let (st, _, body) = b
        .send(
            Method::POST,
            &format!("/cli-auth/challenges/{}/approve", field(c, "id")),
            Some(json!({"token": field(c, "token")})),
        )
        .await;
    (st, body)
}

/// The challenge as the polling CLI sees it.
pub async fn poll(s: &TestServer, c: &Value) -> Value {
    let (st, v) = s
        .get(&format!(
            "/cli-auth/challenges/{}?token={}",
            field(c, "id"),
            field(c, "token")
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn a_challenge_approved_in_the_browser_gives_the_cli_a_working_key() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let c = challenge(
        &s,
        json!({"command": "paperclip auth login", "clientName": "laptop"}),
    )
    .await;
    let (id, token, key) = (
        field(&c, "id"),
        field(&c, "token"),
        field(&c, "boardApiToken"),
    );
    assert!(
        token.starts_with("pcp_cli_auth_") && token.len() == 13 + 48,
        "{c}"
    );
    assert!(key.starts_with("pcp_board_") && key.len() == 10 + 48, "{c}");
    assert_eq!(c["approvalPath"], format!("/cli-auth/{id}?token={token}"));
    let origin = s.base.trim_end_matches("/api");
    assert_eq!(
        c["approvalUrl"],
        format!("{origin}/cli-auth/{id}?token={token}")
    );
    assert_eq!(c["pollPath"], format!("/cli-auth/challenges/{id}"));
    assert_eq!(c["suggestedPollIntervalMs"], 1000);
    let expires: chrono::DateTime<chrono::Utc> = field(&c, "expiresAt").parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(9) && left <= chrono::Duration::minutes(10));

    // Not approved yet: the key does not work, and the poll shows no secret.
    let (st, _) = s.call(Method::GET, "/cli-auth/me", Some(key), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let p = poll(&s, &c).await;
    assert_eq!(p["status"], "pending");
    assert_eq!(p["command"], "paperclip auth login");
    assert_eq!(p["clientName"], "laptop");
    assert_eq!(p["requestedAccess"], "board");
    assert_eq!(p["requiresSignIn"], true);
    assert_eq!(p["canApprove"], false);
    assert!(
        p["currentUserId"].is_null() && p["approvedByUser"].is_null(),
        "{p}"
    );
    assert!(!p.to_string().contains(token) && !p.to_string().contains(key));

    // The approval page, signed in: the person may approve.
    let path = format!("/cli-auth/challenges/{id}?token={token}");
    let (_, _, page) = admin.send(Method::GET, &path, None).await;
    assert_eq!(page["requiresSignIn"], false, "{page}");
    assert_eq!(page["canApprove"], true);
    let admin_id = page["currentUserId"].as_str().unwrap().to_string();

    let (st, e) = s
        .post(
            &format!("/cli-auth/challenges/{id}/approve"),
            json!({"token": token}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    let (st, ok) = approve(&mut admin, &c).await;
    assert_eq!(st, StatusCode::OK, "{ok}");
    assert_eq!(ok["approved"], true);
    assert_eq!(ok["status"], "approved");
    assert_eq!(ok["userId"], admin_id.as_str());
    assert_eq!(ok["expiresAt"], c["expiresAt"]);
    let key_id = field(&ok, "keyId").to_string();
    let p = poll(&s, &c).await;
    assert_eq!(p["status"], "approved");
    assert_eq!(p["approvedByUser"]["email"], "root@example.com");
    assert!(p["approvedAt"].is_string());

    // The CLI's key now stands for the approver.
    let (st, me) = s.call(Method::GET, "/cli-auth/me", Some(key), None).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["source"], "board_key");
    assert_eq!(me["keyId"], key_id.as_str());
    assert_eq!(me["userId"], admin_id.as_str());
    assert_eq!(me["isInstanceAdmin"], true);
    assert_eq!(me["user"]["email"], "root@example.com");
    assert_eq!(me["companyIds"], json!([]));
    let (_, _, keys) = admin.send(Method::GET, "/board-api-keys", None).await;
    assert_eq!(keys[0]["id"], key_id.as_str());
    assert_eq!(keys[0]["name"], "laptop (board)");
    let key_expiry: chrono::DateTime<chrono::Utc> = field(&keys[0], "expiresAt").parse().unwrap();
    assert!(key_expiry - chrono::Utc::now() > chrono::Duration::days(29));

    // Approving again keeps the same key.
    let (st, again) = approve(&mut admin, &c).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["keyId"], key_id.as_str());
    let (_, _, keys) = admin.send(Method::GET, "/board-api-keys", None).await;
    assert_eq!(keys.as_array().unwrap().len(), 1);

    // Signed in with a session, `me` says so; revoke-current needs a key.
    let (_, _, me) = admin.send(Method::GET, "/cli-auth/me", None).await;
    assert_eq!(me["source"], "session");
    assert!(me["keyId"].is_null());
    let (st, _, e) = admin
        .send(Method::POST, "/cli-auth/revoke-current", None)
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "Current board API key context is required");

    let (st, done) = s
        .call(Method::POST, "/cli-auth/revoke-current", Some(key), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done, json!({"revoked": true, "keyId": key_id}));
    let (st, e) = s.call(Method::GET, "/cli-auth/me", Some(key), None).await;
    assert_error(st, &e, StatusCode::UNAUTHORIZED);
    let (st, _) = s
        .call(Method::POST, "/cli-auth/revoke-current", Some(key), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_secrets_are_404_and_cancelling_ends_a_challenge() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let c = challenge(&s, json!({"command": "paperclip auth login"})).await;
    let other = challenge(&s, json!({"command": "other"})).await;
    let id = field(&c, "id");
    for path in [
        format!("/cli-auth/challenges/{id}?token={}", field(&other, "token")),
        format!("/cli-auth/challenges/{id}"),
        format!("/cli-auth/challenges/{id}?token="),
        format!(
            "/cli-auth/challenges/{}?token={}",
            uuid::Uuid::new_v4(),
            field(&c, "token")
        ),
        format!(
            "/cli-auth/challenges/not-an-id?token={}",
            field(&c, "token")
        ),
    ] {
        let (st, e) = s.get(&path).await;
        assert_error(st, &e, StatusCode::NOT_FOUND);
        assert_eq!(e["error"], "CLI auth challenge not found", "{path}");
    }
    let wrong = json!({"token": field(&other, "token")});
    for action in ["cancel", "approve"] {
        let (st, _, e) = admin
            .send(
                Method::POST,
                &format!("/cli-auth/challenges/{id}/{action}"),
                Some(wrong.clone()),
            )
            .await;
        assert_error(st, &e, StatusCode::NOT_FOUND);
    }
    let (st, e) = s
        .post(
            &format!("/cli-auth/challenges/{id}/cancel"),
            json!({"token": "short"}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(poll(&s, &c).await["status"], "pending");

    // Whoever holds the secret cancels; approving afterwards changes nothing.
    let cancel = json!({"token": field(&c, "token")});
    let path = format!("/cli-auth/challenges/{id}/cancel");
    let (st, v) = s.post(&path, cancel.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"status": "cancelled", "cancelled": true}));
    let (_, v) = s.post(&path, cancel).await;
    assert_eq!(v, json!({"status": "cancelled", "cancelled": true}));
    let (st, v) = approve(&mut admin, &c).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["approved"], false);
    assert_eq!(v["status"], "cancelled");
    assert!(v["keyId"].is_null());
    let p = poll(&s, &c).await;
    assert_eq!(p["status"], "cancelled");
    assert!(p["cancelledAt"].is_string());
    let (st, _) = s
        .call(
            Method::GET,
            "/cli-auth/me",
            Some(field(&c, "boardApiToken")),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // An approved challenge cannot be cancelled.
    let (st, _) = approve(&mut admin, &other).await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = s
        .post(
            &format!("/cli-auth/challenges/{}/cancel", field(&other, "id")),
            json!({"token": field(&other, "token")}),
        )
        .await;
    assert_eq!(v, json!({"status": "approved", "cancelled": false}));
}

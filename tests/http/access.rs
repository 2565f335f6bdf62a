//! Invites, members and the board claim over real HTTP: the first admin through the bootstrap
//! invite, a member who sees only their company (and reads only, as a viewer), and an instance
//! that ran local_trusted taken over through the one-time claim URL.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::auth::{AUTHENTICATED, Browser, auth_server};
use crate::common::*;

/// The path after the server's address in a printed URL (`…/invite/<token>`).
fn printed_path(notices: &[String], marker: &str) -> String {
    let line = notices
        .iter()
        .find(|n| n.contains(marker))
        .unwrap_or_else(|| panic!("a notice with {marker}: {notices:?}"));
    let start = line.find(marker).unwrap();
    line[start..].split_whitespace().next().unwrap().to_string()
}

/// A browser signed up as a fresh person who became the first admin.
pub async fn first_admin(s: &TestServer) -> Browser<'_> {
    let invite = printed_path(&s.notices, "/invite/");
    let token = invite.trim_start_matches("/invite/");
    let mut admin = Browser::new(s);
    admin.sign_up("root@example.com", "Root").await;
    let (st, _, body) = admin
        .send(
            Method::POST,
            &format!("/invites/{token}/accept"),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{body}");
    admin
}

#[tokio::test]
async fn the_bootstrap_invite_makes_the_first_admin_once() {
    let s = auth_server!();
    let (_, h) = s.get("/health").await;
    assert_eq!(h["bootstrapStatus"], "bootstrap_pending", "{h}");
    assert_eq!(h["bootstrapInviteActive"], true);
    let invite = printed_path(&s.notices, "/invite/");
    let token = invite.trim_start_matches("/invite/").to_string();
    assert!(token.starts_with("pcp_bootstrap_"), "{token}");

    // Without a session, accepting is a 401; the invite is readable by its holder.
    let (st, e) = s.post(&format!("/invites/{token}/accept"), json!({})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    let (st, inv) = s.get(&format!("/invites/{token}")).await;
    assert_eq!(st, StatusCode::OK, "{inv}");
    assert_eq!(inv["inviteType"], "bootstrap_ceo");

    let mut admin = Browser::new(&s);
    admin.sign_up("root@example.com", "Root").await;
    let (st, _, e) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Acme"})))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not admin yet: {e}");
    let (st, _, body) = admin
        .send(
            Method::POST,
            &format!("/invites/{token}/accept"),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["bootstrapAccepted"], true);
    let (st, _, c) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Acme"})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let (_, h) = s.get("/health").await;
    assert_eq!(h["bootstrapStatus"], "ready");

    // Single use: a second person gets 404, and a restart prints no invite any more.
    let mut other = Browser::new(&s);
    other.sign_up("late@example.com", "Late").await;
    let (st, _, _) = other
        .send(
            Method::POST,
            &format!("/invites/{token}/accept"),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    drop(admin);
    drop(other);
    let s = s.restart_env(AUTHENTICATED).await;
    assert!(s.notices.is_empty(), "{:?}", s.notices);
}

#[tokio::test]
async fn a_member_sees_only_their_company_and_a_viewer_only_reads() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let (_, _, a) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Alpha"})))
        .await;
    let (_, _, b) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Beta"})))
        .await;
    let (a, b) = (
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
    );
    let (_, _, agent_b) = admin
        .send(
            Method::POST,
            &format!("/companies/{b}/agents"),
            Some(json!({"name": "B-bot", "role": "engineer"})),
        )
        .await;

    let (st, _, inv) = admin
        .send(
            Method::POST,
            &format!("/companies/{a}/invites"),
            Some(json!({"humanRole": "viewer"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inv}");
    let token = inv["token"].as_str().unwrap().to_string();
    assert!(
        inv["inviteUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/invite/{token}"))
    );
    let (st, _, list) = admin
        .send(Method::GET, &format!("/companies/{a}/invites"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(
        list[0].get("token").is_none(),
        "the token is shown once: {list}"
    );

    let mut bob = Browser::new(&s);
    bob.sign_up("bob@example.com", "Bob").await;
    let (st, _, joined) = bob
        .send(
            Method::POST,
            &format!("/invites/{token}/accept"),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{joined}");
    assert_eq!(joined["companyId"], a.as_str());

    let (_, _, companies) = bob.send(Method::GET, "/companies", None).await;
    let names: Vec<&str> = companies
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alpha"]);
    for path in [
        format!("/companies/{b}"),
        format!("/companies/{b}/issues"),
        format!("/agents/{}", agent_b["id"].as_str().unwrap()),
    ] {
        let (st, _, e) = bob.send(Method::GET, &path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {e}");
        assert!(!e.to_string().contains("Beta"), "{e}");
    }
    let (st, _, _) = bob
        .send(Method::GET, &format!("/companies/{a}/issues"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, e) = bob
        .send(
            Method::POST,
            &format!("/companies/{a}/issues"),
            Some(json!({"title": "Nope"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (st, _, e) = bob
        .send(Method::GET, &format!("/companies/{a}/members"), None)
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "viewers do not manage members: {e}"
    );

    // The admin sees Bob among the members; the used invite is gone.
    let (st, _, members) = admin
        .send(Method::GET, &format!("/companies/{a}/members"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{members}");
    let bob_row = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["email"] == "bob@example.com")
        .expect("bob is a member");
    assert_eq!(bob_row["membershipRole"], "viewer");
    assert_eq!(bob_row["status"], "active");
    let (st, _, _) = bob
        .send(Method::GET, &format!("/invites/{token}"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // A revoked invite cannot be used.
    let (_, _, inv2) = admin
        .send(
            Method::POST,
            &format!("/companies/{a}/invites"),
            Some(json!({})),
        )
        .await;
    let (st, _, revoked) = admin
        .send(
            Method::POST,
            &format!("/invites/{}/revoke", inv2["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["state"], "revoked");
    let (st, _, _) = bob
        .send(
            Method::POST,
            &format!("/invites/{}/accept", inv2["token"].as_str().unwrap()),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_local_instance_is_claimed_through_the_one_time_url() {
    let Some(s) = TestServer::start_env(&[]).await else {
        return;
    };
    let company = s.company("Garage").await;
    assert!(s.notices.is_empty());
    let s = s.restart_env(AUTHENTICATED).await;
    let url = printed_path(&s.notices, "/board-claim/");
    let (path, code) = url.split_once("?code=").unwrap();
    let token = path.trim_start_matches("/board-claim/").to_string();
    let code = code.to_string();

    let (st, status) = s.get(&format!("/board-claim/{token}?code={code}")).await;
    assert_eq!(st, StatusCode::OK, "{status}");
    assert_eq!(status["status"], "available");
    assert_eq!(status["requiresSignIn"], true);
    let (st, _) = s.get(&format!("/board-claim/{token}?code=wrong")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The same URL survives a restart (it is stored, not kept in memory).
    let s = s.restart_env(AUTHENTICATED).await;
    assert_eq!(printed_path(&s.notices, "/board-claim/"), url);

    let (st, e) = s
        .post(
            &format!("/board-claim/{token}/claim"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    let mut carol = Browser::new(&s);
    carol.sign_up("carol@example.com", "Carol").await;
    let (st, _, e) = carol
        .send(
            Method::POST,
            &format!("/board-claim/{token}/claim"),
            Some(json!({"code": "0000"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let (st, _, done) = carol
        .send(
            Method::POST,
            &format!("/board-claim/{token}/claim"),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["claimed"], true);
    let (st, _, again) = carol
        .send(
            Method::POST,
            &format!("/board-claim/{token}/claim"),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{again}");

    // Carol owns the company and is instance admin; the claim is in the activity log.
    let (st, _, members) = carol
        .send(Method::GET, &format!("/companies/{company}/members"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{members}");
    assert_eq!(members[0]["membershipRole"], "owner");
    let (st, _, c) = carol
        .send(Method::POST, "/companies", Some(json!({"name": "New"})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let (_, _, activity) = carol
        .send(Method::GET, &format!("/companies/{company}/activity"), None)
        .await;
    assert!(
        activity
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "instance.board_claimed"),
        "{activity}"
    );
    let (_, status) = s.get(&format!("/board-claim/{token}?code={code}")).await;
    assert_eq!(status["status"], "claimed");
    drop(carol);
    let s = s.restart_env(AUTHENTICATED).await;
    assert!(s.notices.is_empty(), "claimed: {:?}", s.notices);
    let _: Value = Value::Null;
}

#[tokio::test]
async fn board_api_keys_work_until_revoked_or_expired() {
    let s = auth_server!();
    let mut admin = first_admin(&s).await;
    let (_, _, c) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Keyed"})))
        .await;
    let (st, _, key) = admin
        .send(
            Method::POST,
            "/board-api-keys",
            Some(json!({"name": "laptop"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{key}");
    let token = key["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pcp_board_"), "{token}");
    assert!(key["expiresAt"].is_null(), "no expiry by default: {key}");

    // The key stands for its person, with no cookie and no Origin.
    let (st, me) = s
        .call(Method::GET, "/auth/get-session", Some(&token), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert!(
        me["session"]["id"]
            .as_str()
            .unwrap()
            .starts_with("paperclip:board_key:")
    );
    let (st, list) = s.call(Method::GET, "/companies", Some(&token), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list[0]["id"], c["id"]);
    let (st, created) = s
        .call(
            Method::POST,
            "/companies",
            Some(&token),
            Some(json!({"name": "ByKey"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let (_, _, keys) = admin.send(Method::GET, "/board-api-keys", None).await;
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert!(keys[0].get("token").is_none());

    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let (st, _, short) = admin
        .send(
            Method::POST,
            "/board-api-keys",
            Some(json!({"name": "short", "expiresAt": soon})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{short}");
    let (st, _, e) = admin
        .send(
            Method::POST,
            "/board-api-keys",
            Some(json!({"expiresAt": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");

    let (st, _, done) = admin
        .send(
            Method::DELETE,
            &format!("/board-api-keys/{}", key["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    let (st, e) = s.call(Method::GET, "/companies", Some(&token), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "revoked: {e}");
    let (st, _, _) = admin
        .send(
            Method::DELETE,
            &format!("/board-api-keys/{}", key["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let short_token = short["token"].as_str().unwrap();
    let (st, _) = s
        .call(Method::GET, "/companies", Some(short_token), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    let (st, e) = s
        .call(Method::GET, "/companies", Some(short_token), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "expired: {e}");
    assert!(e["error"].as_str().unwrap().contains("expired"), "{e}");
    // A tampered key is refused too.
    let tampered = format!("{}0", &token[..token.len() - 1]);
    let (st, _) = s
        .call(Method::GET, "/companies", Some(&tampered), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

//! Members after they joined, over real HTTP in authenticated mode: roles and statuses change
//! what a person may do at once; nobody changes their own membership; a company always keeps
//! an active owner (also when two owners demote each other at the same moment); archiving
//! removes a person and hands their open issues on.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::auth::{AUTHENTICATED, Browser, auth_server};
use crate::common::*;

/// A person invited into `company` with `role`, signed in.
async fn join<'a>(
    s: &'a TestServer,
    owner: &mut Browser<'_>,
    company: &str,
    email: &str,
    role: &str,
) -> (Browser<'a>, String) {
    let (st, _, invite) = owner
        .send(
            Method::POST,
            &format!("/companies/{company}/invites"),
            Some(json!({"humanRole": role})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{invite}");
    let mut person = Browser::new(s);
    let me = person.sign_up(email, email).await;
    let (st, _, e) = person
        .send(
            Method::POST,
            &format!("/invites/{}/accept", invite["token"].as_str().unwrap()),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{e}");
    let id = me["user"]["id"]
        .as_str()
        .expect("sign-up answers the user")
        .to_string();
    (person, id)
}

async fn patch_member(
    b: &mut Browser<'_>,
    company: &str,
    member: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (st, _, v) = b
        .send(
            Method::PATCH,
            &format!("/companies/{company}/members/{member}"),
            Some(body),
        )
        .await;
    (st, v)
}

#[tokio::test]
async fn roles_and_statuses_change_access_and_the_last_owner_stays() {
    let s = auth_server!();
    let mut admin = crate::access::first_admin(&s).await;
    let (_, _, c) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Crew"})))
        .await;
    let company = c["id"].as_str().unwrap().to_string();
    let (_, _, members) = admin
        .send(Method::GET, &format!("/companies/{company}/members"), None)
        .await;
    let admin_id = members[0]["principalId"].as_str().unwrap().to_string();
    let (mut bob, bob_id) = join(&s, &mut admin, &company, "bob@example.com", "operator").await;

    // The list's id works as memberId, and so does the bare user id.
    let (_, _, members) = admin
        .send(Method::GET, &format!("/companies/{company}/members"), None)
        .await;
    let bob_member = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["principalId"] == bob_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, m) = patch_member(
        &mut admin,
        &company,
        &bob_member,
        json!({"membershipRole": "viewer"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert_eq!(m["membershipRole"], "viewer");
    let (st, _, e) = bob
        .send(
            Method::POST,
            &format!("/companies/{company}/issues"),
            Some(json!({"title": "x"})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);

    // Suspended: the company is gone for him; active again: back.
    let (st, m) = patch_member(
        &mut admin,
        &company,
        &bob_id,
        json!({"status": "suspended"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let (st, _, e) = bob
        .send(Method::GET, &format!("/companies/{company}"), None)
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (st, m) = patch_member(
        &mut admin,
        &company,
        &bob_id,
        json!({"status": "active", "membershipRole": "owner"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let (st, _, _) = bob
        .send(Method::GET, &format!("/companies/{company}"), None)
        .await;
    assert_eq!(st, StatusCode::OK);

    // Nobody changes their own membership; bad bodies are 400 and name the field.
    let (st, e) = patch_member(
        &mut bob,
        &company,
        &bob_id,
        json!({"membershipRole": "viewer"}),
    )
    .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, e) = patch_member(&mut bob, &company, &admin_id, json!({})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, e) = patch_member(
        &mut bob,
        &company,
        &admin_id,
        json!({"membershipRole": "wizard"}),
    )
    .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "membershipRole", "{e}");
    let (st, e) = patch_member(
        &mut bob,
        &company,
        "someone-else",
        json!({"status": "active"}),
    )
    .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);

    // Bob demotes the admin: Bob is now the only owner, and stays one.
    let (st, m) = patch_member(
        &mut bob,
        &company,
        &admin_id,
        json!({"membershipRole": "operator"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let (st, e) = patch_member(
        &mut admin,
        &company,
        &bob_id,
        json!({"membershipRole": "admin"}),
    )
    .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert_eq!(e["code"], "last_owner");
    let (st, _, e) = admin
        .send(
            Method::POST,
            &format!("/companies/{company}/members/{bob_id}/archive"),
            Some(json!({})),
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    let (_, _, members) = bob
        .send(Method::GET, &format!("/companies/{company}/members"), None)
        .await;
    let roles: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["membershipRole"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles.iter().filter(|r| **r == "owner").count(),
        1,
        "{members}"
    );

    // Two owners demoting each other at once: exactly one wins.
    let (st, _) = patch_member(
        &mut bob,
        &company,
        &admin_id,
        json!({"membershipRole": "owner"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let mut bob2 = bob.clone();
    let mut admin2 = admin.clone();
    let (a, b) = tokio::join!(
        patch_member(
            &mut bob2,
            &company,
            &admin_id,
            json!({"membershipRole": "viewer"})
        ),
        patch_member(
            &mut admin2,
            &company,
            &bob_id,
            json!({"membershipRole": "viewer"})
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        a.1,
        b.1
    );
    // The admin reads the list whatever happened: an instance admin reaches every company.
    let (_, _, members) = admin
        .send(Method::GET, &format!("/companies/{company}/members"), None)
        .await;
    let owners = members
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["membershipRole"] == "owner" && m["status"] == "active")
        .count();
    assert_eq!(owners, 1, "{members}");
}

#[tokio::test]
async fn archiving_removes_a_person_and_hands_their_issues_on() {
    let s = auth_server!();
    let mut admin = crate::access::first_admin(&s).await;
    let (_, _, c) = admin
        .send(Method::POST, "/companies", Some(json!({"name": "Shop"})))
        .await;
    let company = c["id"].as_str().unwrap().to_string();
    let (mut carol, carol_id) =
        join(&s, &mut admin, &company, "carol@example.com", "operator").await;
    let (_, _, agent) = admin
        .send(
            Method::POST,
            &format!("/companies/{company}/agents"),
            Some(json!({"name": "Heir", "role": "engineer"})),
        )
        .await;
    let agent_id = agent["id"].as_str().unwrap().to_string();
    let mut issues = Vec::new();
    for (title, status) in [
        ("open", "todo"),
        ("finished", "done"),
        ("working", "in_progress"),
    ] {
        let (st, _, i) = admin
            .send(
                Method::POST,
                &format!("/companies/{company}/issues"),
                Some(json!({"title": title, "status": status, "assigneeUserId": carol_id})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{i}");
        issues.push(i["id"].as_str().unwrap().to_string());
    }

    let archive = format!("/companies/{company}/members/{carol_id}/archive");
    let (st, _, e) = admin
        .send(
            Method::POST,
            &archive,
            Some(
                json!({"reassignment": {"assigneeAgentId": agent_id, "assigneeUserId": carol_id}}),
            ),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let (st, _, e) = admin
        .send(
            Method::POST,
            &archive,
            Some(json!({"reassignment": {"assigneeUserId": carol_id}})),
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);

    let (st, _, done) = admin
        .send(
            Method::POST,
            &archive,
            Some(json!({"reassignment": {"assigneeAgentId": agent_id}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["reassignedIssueCount"], 2);
    assert_eq!(done["member"]["status"], "archived");
    let (_, _, open) = admin
        .send(Method::GET, &format!("/issues/{}", issues[0]), None)
        .await;
    assert_eq!(open["assigneeAgentId"], agent_id.as_str(), "{open}");
    assert!(open["assigneeUserId"].is_null(), "{open}");
    let (_, _, finished) = admin
        .send(Method::GET, &format!("/issues/{}", issues[1]), None)
        .await;
    assert_eq!(
        finished["assigneeUserId"],
        carol_id.as_str(),
        "done issues stay: {finished}"
    );

    // Gone from the list and from the company; archiving again changes nothing.
    let (_, _, members) = admin
        .send(Method::GET, &format!("/companies/{company}/members"), None)
        .await;
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["principalId"] != carol_id.as_str()),
        "{members}"
    );
    let (st, _, e) = carol
        .send(Method::GET, &format!("/companies/{company}"), None)
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (st, _, again) = admin.send(Method::POST, &archive, Some(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["reassignedIssueCount"], 0);
    let (st, e) = patch_member(&mut admin, &company, &carol_id, json!({"status": "active"})).await;
    assert_error(st, &e, StatusCode::CONFLICT);

    // The activity log says who did it.
    let (_, _, log) = admin
        .send(Method::GET, &format!("/companies/{company}/activity"), None)
        .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "company_member.archived"),
        "{log}"
    );
    // Only owners manage members.
    let (mut dave, dave_id) = join(&s, &mut admin, &company, "dave@example.com", "admin").await;
    let (st, e) = patch_member(&mut dave, &company, &carol_id, json!({"status": "active"})).await;
    assert_error(st, &e, StatusCode::FORBIDDEN);

    // Suspending Dave revokes the invite he made, and no invite lifts his suspension.
    let (st, _, his) = dave
        .send(
            Method::POST,
            &format!("/companies/{company}/invites"),
            Some(json!({"humanRole": "admin"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{his}");
    let (st, m) = patch_member(
        &mut admin,
        &company,
        &dave_id,
        json!({"status": "suspended"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let (st, _, e) = dave
        .send(
            Method::POST,
            &format!("/invites/{}/accept", his["token"].as_str().unwrap()),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (_, _, fresh) = admin
        .send(
            Method::POST,
            &format!("/companies/{company}/invites"),
            Some(json!({"humanRole": "viewer"})),
        )
        .await;
    let (st, _, e) = dave
        .send(
            Method::POST,
            &format!("/invites/{}/accept", fresh["token"].as_str().unwrap()),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_error(st, &e, StatusCode::CONFLICT);
    assert_eq!(e["code"], "member_suspended");
    let (st, _, e) = dave
        .send(Method::GET, &format!("/companies/{company}"), None)
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);

    // Carol, archived, comes back only through a new invite.
    let (st, _, e) = carol
        .send(
            Method::POST,
            &format!("/invites/{}/accept", fresh["token"].as_str().unwrap()),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{e}");
    let (st, _, _) = carol
        .send(Method::GET, &format!("/companies/{company}"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
}

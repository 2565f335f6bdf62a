//! Companies, goals, projects, dashboard and activity: each route's success with its fields,
//! and the errors the sweeps (routes_sweep.rs) cannot know about: rules, references, options.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn company_get_patch_archive_and_delete_answer_their_fields() {
    let s = test_server!();
    let c = s.company("Umbrella Corp").await;
    let (st, got) = s.get(&format!("/companies/{c}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got["id"], c.as_str());
    assert_eq!(got["name"], "Umbrella Corp");
    assert_eq!(got["issuePrefix"], "UMB");
    assert_eq!(got["status"], "active");
    assert_eq!(got["budgetMonthlyCents"], 0);
    assert_eq!(got["spentMonthlyCents"], 0);
    assert_eq!(got["requireBoardApprovalForNewAgents"], false);
    assert!(got["archivedAt"].is_null());

    let (st, up) = s
        .patch(
            &format!("/companies/{c}"),
            json!({"name": "Umbrella", "brandColor": "#12abEF", "description": "bio",
                   "requireBoardApprovalForNewAgents": true, "status": "paused"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{up}");
    assert_eq!(up["name"], "Umbrella");
    assert_eq!(up["brandColor"], "#12abEF");
    assert_eq!(up["requireBoardApprovalForNewAgents"], true);
    assert_eq!(up["status"], "paused");
    assert_eq!(up["issuePrefix"], "UMB", "the prefix never changes");
    let (_, cleared) = s
        .patch(
            &format!("/companies/{c}"),
            json!({"description": null, "brandColor": null}),
        )
        .await;
    assert!(
        cleared["description"].is_null() && cleared["brandColor"].is_null(),
        "{cleared}"
    );
    for (body, field) in [
        (json!({"brandColor": "red"}), "brandColor"),
        (json!({"brandColor": "#12345G"}), "brandColor"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "n".repeat(201)}), "name"),
        (
            json!({"requireBoardApprovalForNewAgents": "yes"}),
            "requireBoardApprovalForNewAgents",
        ),
    ] {
        let (st, e) = s.patch(&format!("/companies/{c}"), body).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field, "{e}");
    }
    let (st, e) = s
        .post(
            "/companies",
            json!({"name": "Colour", "brandColor": "blue"}),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "brandColor");

    let (st, ar) = s.post(&format!("/companies/{c}/archive"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ar["status"], "archived");
    assert!(ar["archivedAt"].is_string(), "{ar}");
    let (st, again) = s.post(&format!("/companies/{c}/archive"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "archiving twice is harmless");
    assert_eq!(again["status"], "archived");

    let (st, ok) = s
        .call(Method::DELETE, &format!("/companies/{c}"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ok, json!({"ok": true}));
    let (st, e) = s
        .call(Method::DELETE, &format!("/companies/{c}"), None, None)
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
    let (_, list) = s.get("/companies").await;
    assert!(list.as_array().unwrap().is_empty());
}

/// A server whose instance has company deletion switched off.
async fn start_without_deletion() -> (tempfile::TempDir, String, tokio::sync::oneshot::Sender<()>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config_for(tmp.path(), None);
    config.company_deletion_enabled = false;
    let bound = paperclip_server::Server::bind(config).await.unwrap();
    let base = format!("http://{}/api", bound.local_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = bound
            .serve(async {
                let _ = rx.await;
            })
            .await;
    });
    (tmp, base, tx)
}

#[tokio::test]
async fn delete_is_403_when_the_instance_disables_it() {
    let (_tmp, base, _stop) = start_without_deletion().await;
    let http = Client::new();
    let (_, health): (_, Value) = {
        let r = http.get(format!("{base}/health")).send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    };
    assert_eq!(health["features"]["companyDeletionEnabled"], false);
    let r = http
        .post(format!("{base}/companies"))
        .json(&json!({"name": "Keep"}))
        .send()
        .await
        .unwrap();
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_str().unwrap();
    let r = http
        .delete(format!("{base}/companies/{id}"))
        .send()
        .await
        .unwrap();
    let st = r.status();
    let e: Value = r.json().await.unwrap();
    assert_error(st, &e, StatusCode::FORBIDDEN);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("PAPERCLIP_ENABLE_COMPANY_DELETION"),
        "{e}"
    );
    let r = http
        .get(format!("{base}/companies/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn dashboard_counts_and_activity_filters() {
    let s = test_server!();
    let c = s.company("Counted").await;
    let a = s.agent(&c, "Worker", None).await;
    let t = s.key(&a).await;
    let b = s.agent(&c, "Napper", None).await;
    s.post(&format!("/agents/{b}/pause"), json!({})).await;
    s.patch(
        &format!("/companies/{c}"),
        json!({"budgetMonthlyCents": 1000}),
    )
    .await;
    // Filed by the worker itself, so no assignment wake-up runs (and fails) meanwhile.
    let (st, i1) = s
        .call(
            Method::POST,
            &format!("/companies/{c}/issues"),
            Some(&t),
            Some(json!({"title": "one", "assigneeAgentId": a})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{i1}");
    s.issue(&c, json!({"title": "two", "status": "blocked"}))
        .await;
    s.issue(&c, json!({"title": "three", "status": "done"}))
        .await;
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/issues/{}/checkout", i1["id"].as_str().unwrap()),
            Some(&t),
            Some(json!({"agentId": a, "expectedStatuses": ["todo"]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, d) = s.get(&format!("/companies/{c}/dashboard")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["companyId"], c.as_str());
    assert_eq!(d["agents"]["active"], 1, "{d}");
    assert_eq!(d["agents"]["paused"], 1, "{d}");
    assert_eq!(d["tasks"]["open"], 2, "{d}");
    assert_eq!(d["tasks"]["inProgress"], 1, "{d}");
    assert_eq!(d["tasks"]["blocked"], 1, "{d}");
    assert_eq!(d["tasks"]["done"], 1, "{d}");
    assert_eq!(d["costs"]["monthBudgetCents"], 1000, "{d}");

    let (st, all) = s.get(&format!("/companies/{c}/activity")).await;
    assert_eq!(st, StatusCode::OK);
    let all = all.as_array().unwrap().clone();
    assert!(all.len() >= 8, "{all:?}");
    let (_, mine) = s.get(&format!("/companies/{c}/activity?agentId={a}")).await;
    let mine = mine.as_array().unwrap();
    let actions: Vec<&str> = mine.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["issue.checked_out", "issue.created"], "{mine:?}");
    assert!(mine.iter().all(|e| e["actorType"] == "agent"), "{mine:?}");
    let (_, agents) = s
        .get(&format!(
            "/companies/{c}/activity?entityType=agent&entityId={b}"
        ))
        .await;
    let actions: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(actions.contains(&"agent.paused") && actions.contains(&"agent.created"));
    let (_, page) = s
        .get(&format!("/companies/{c}/activity?limit=2&offset=1"))
        .await;
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["id"], all[1]["id"]);
    for (q, field) in [
        ("agentId=bob", "agentId"),
        ("limit=ten", "limit"),
        ("offset=1.5", "offset"),
    ] {
        let (st, e) = s.get(&format!("/companies/{c}/activity?{q}")).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field, "{e}");
    }
}

#[tokio::test]
async fn goals_read_write_and_their_reference_rules() {
    let s = test_server!();
    let c = s.company("Goalie").await;
    let other = s.company("Elsewhere").await;
    let stranger = s.agent(&other, "Stranger", None).await;
    let owner = s.agent(&c, "Owner", None).await;
    let (_, foreign) = s
        .post(
            &format!("/companies/{other}/goals"),
            json!({"title": "Theirs"}),
        )
        .await;
    let (st, g) = s
        .post(
            &format!("/companies/{c}/goals"),
            json!({"title": "Win", "description": "big", "level": "team", "status": "active", "ownerAgentId": owner}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    assert_eq!(g["companyId"], c.as_str());
    assert_eq!(g["level"], "team");
    assert_eq!(g["status"], "active");
    assert_eq!(g["ownerAgentId"], owner.as_str());
    let gid = g["id"].as_str().unwrap();
    let (st, got) = s.get(&format!("/goals/{gid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got, g);
    let (_, list) = s.get(&format!("/companies/{c}/goals")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], gid);

    for body in [
        json!({"title": "x", "parentId": foreign["id"]}),
        json!({"title": "x", "ownerAgentId": stranger}),
        json!({"title": "x", "parentId": uuid::Uuid::new_v4()}),
    ] {
        let (st, e) = s.post(&format!("/companies/{c}/goals"), body).await;
        assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["code"], "invalid_reference", "{e}");
    }
    let (st, e) = s
        .post(&format!("/companies/{c}/goals"), json!({"title": " "}))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert_eq!(e["details"]["field"], "title");
    let (st, e) = s
        .patch(&format!("/goals/{gid}"), json!({"parentId": gid}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "goal_cycle");
    let (st, e) = s
        .patch(&format!("/goals/{gid}"), json!({"ownerAgentId": stranger}))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, up) = s
        .patch(
            &format!("/goals/{gid}"),
            json!({"ownerAgentId": null, "status": "achieved", "description": null}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(up["ownerAgentId"].is_null() && up["description"].is_null());
    assert_eq!(up["status"], "achieved");
    assert_eq!(up["title"], "Win");

    let (st, del) = s
        .call(Method::DELETE, &format!("/goals/{gid}"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(del["id"], gid);
    assert_eq!(del["title"], "Win");
    let (st, e) = s
        .call(Method::DELETE, &format!("/goals/{gid}"), None, None)
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn projects_read_write_and_their_reference_rules() {
    let s = test_server!();
    let c = s.company("Projector").await;
    let other = s.company("Elsewhere").await;
    let stranger = s.agent(&other, "Stranger", None).await;
    let lead = s.agent(&c, "Lead", None).await;
    let (_, goal) = s
        .post(&format!("/companies/{c}/goals"), json!({"title": "G"}))
        .await;
    let (_, foreign) = s
        .post(
            &format!("/companies/{other}/goals"),
            json!({"title": "Theirs"}),
        )
        .await;
    let (st, p) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "Site", "description": "d", "status": "planned", "goalId": goal["id"],
                   "leadAgentId": lead, "targetDate": "2027-02-28", "color": "#00ff00", "env": {"K": "v"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["companyId"], c.as_str());
    assert_eq!(p["status"], "planned");
    assert_eq!(p["goalId"], goal["id"]);
    assert_eq!(p["leadAgentId"], lead.as_str());
    assert_eq!(p["targetDate"], "2027-02-28");
    assert_eq!(p["color"], "#00ff00");
    assert_eq!(p["env"], json!({"K": "v"}));
    let pid = p["id"].as_str().unwrap();
    let (st, got) = s.get(&format!("/projects/{pid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got, p);

    for (body, code) in [
        (
            json!({"name": "x", "goalId": foreign["id"]}),
            "invalid_reference",
        ),
        (
            json!({"name": "x", "leadAgentId": stranger}),
            "invalid_reference",
        ),
    ] {
        let (st, e) = s.post(&format!("/companies/{c}/projects"), body).await;
        assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["code"], code);
    }
    for (body, field) in [
        (
            json!({"name": "x", "targetDate": "2027-02-30"}),
            "targetDate",
        ),
        (json!({"name": "x", "color": "green"}), "color"),
        (json!({"name": "x", "env": "K=v"}), "env"),
        (json!({"name": ""}), "name"),
    ] {
        let (st, e) = s.post(&format!("/companies/{c}/projects"), body).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert_eq!(e["details"]["field"], field, "{e}");
    }
    let (st, e) = s
        .patch(
            &format!("/projects/{pid}"),
            json!({"leadAgentId": stranger}),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, up) = s
        .patch(
            &format!("/projects/{pid}"),
            json!({"goalId": null, "targetDate": null, "status": "completed"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(up["goalId"].is_null() && up["targetDate"].is_null(), "{up}");
    assert_eq!(up["status"], "completed");
    assert_eq!(up["leadAgentId"], lead.as_str());
    let (_, list) = s.get(&format!("/companies/{c}/projects")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["status"], "completed");
}

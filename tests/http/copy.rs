//! `paperclip db copy` both ways between PostgreSQL and SQLite (in the PostgreSQL suite): what
//! the API shows survives the trip, a non-empty target needs --force, and a copy that fails
//! halfway leaves the target unchanged.

use std::process::Command;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

use crate::common::{TestDb, TestServer};

fn db(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_paperclip"))
        .arg("db")
        .args(args)
        .env("PAPERCLIP_HOME", "/nonexistent-paperclip-home")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Everything the API shows about a company, to compare two databases by.
async fn view(s: &TestServer, c: &str) -> Value {
    let mut out = serde_json::Map::new();
    for path in [
        format!("/companies/{c}"),
        format!("/companies/{c}/agents"),
        format!("/companies/{c}/goals"),
        format!("/companies/{c}/projects"),
        format!("/companies/{c}/issues"),
        format!("/companies/{c}/activity"),
        format!("/companies/{c}/org"),
    ] {
        let (st, body) = s.get(&path).await;
        assert_eq!(st, StatusCode::OK, "{path}: {body}");
        out.insert(path, body);
    }
    let (_, issues) = s.get(&format!("/companies/{c}/issues")).await;
    for issue in issues.as_array().unwrap() {
        let id = issue["id"].as_str().unwrap();
        for path in [format!("/issues/{id}"), format!("/issues/{id}/comments")] {
            let (st, body) = s.get(&path).await;
            assert_eq!(st, StatusCode::OK, "{path}: {body}");
            out.insert(path, body);
        }
    }
    Value::Object(out)
}

/// A company with an org tree whose manager joined after its report, issues whose parent was
/// created after the child, blockers, comments, a project and an agent key.
async fn seed(s: &TestServer) -> (String, String) {
    let c = s.company("Copied").await;
    let worker = s.agent(&c, "Worker", None).await;
    let boss = s.agent(&c, "Boss", None).await;
    let (st, _) = s
        .patch(&format!("/agents/{worker}"), json!({"reportsTo": boss}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let token = s.key(&worker).await;
    let (st, project) = s
        .post(
            &format!("/companies/{c}/projects"),
            json!({"name": "Launch", "env": {"MODE": "fast"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{project}");
    let child = s
        .issue(&c, json!({"title": "child", "projectId": project["id"]}))
        .await;
    let parent = s.issue(&c, json!({"title": "parent"})).await;
    let (st, _) = s
        .patch(
            &format!("/issues/{}", child["id"].as_str().unwrap()),
            json!({"parentId": parent["id"], "blockedByIssueIds": [parent["id"]], "comment": "moved"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/issues/{}/comments", parent["id"].as_str().unwrap()),
            Some(&token),
            Some(json!({"body": "on it"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    (c, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_there_and_back_shows_the_same_company() {
    let pg = test_server!();
    let (c, token) = seed(&pg).await;
    let before = view(&pg, &c).await;
    let source = pg.database().unwrap();
    let pg_url = source.url.clone();
    pg.stop().await;

    // PostgreSQL -> a SQLite file where a fresh home keeps its database.
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("instances/default/db/paperclip.db");
    let (ok, out) = db(&["copy", "--from", &pg_url, "--to", file.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("issues") && out.contains("verified"), "{out}");
    let lite = TestServer::launch(home.path(), None).await;
    assert_eq!(view(&lite, &c).await, before);
    // The copied key still works.
    let (st, me) = lite
        .call(Method::GET, "/agents/me", Some(&token), None)
        .await;
    assert_eq!((st, me["name"].as_str()), (StatusCode::OK, Some("Worker")));
    lite.stop().await;

    // SQLite -> a fresh PostgreSQL database.
    let target = Arc::new(TestDb::create().await.unwrap());
    let (ok, out) = db(&[
        "copy",
        "--from",
        file.to_str().unwrap(),
        "--to",
        &target.url,
    ]);
    assert!(ok, "{out}");
    let home2 = tempfile::tempdir().unwrap();
    let again = TestServer::launch(home2.path(), Some(target.clone())).await;
    assert_eq!(view(&again, &c).await, before);
    // Numbering goes on where it was.
    let next = again.issue(&c, json!({"title": "after the move"})).await;
    assert_eq!(next["identifier"], "COP-3");
    again.stop().await;

    // The target now holds data: refused without --force, replaced with it.
    let (ok, out) = db(&[
        "copy",
        "--from",
        file.to_str().unwrap(),
        "--to",
        &target.url,
    ]);
    assert!(!ok && out.contains("--force"), "{out}");
    let (ok, out) = db(&[
        "copy",
        "--from",
        file.to_str().unwrap(),
        "--to",
        &target.url,
        "--force",
    ]);
    assert!(ok, "{out}");
    let again = TestServer::launch(home2.path(), Some(target.clone())).await;
    assert_eq!(
        view(&again, &c).await,
        before,
        "--force replaced the target"
    );
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_fails_halfway_leaves_the_target_unchanged() {
    let pg = test_server!();
    seed(&pg).await;
    let source_db = pg.database().unwrap();
    let source = source_db.url.clone();
    pg.stop().await;
    let target = TestDb::create().await.unwrap();
    let (ok, out) = db(&["migrate", "--url", &target.url]);
    assert!(ok, "{out}");
    // The last table refuses its rows, after every other table went in.
    let mut conn = PgConnection::connect(&target.url).await.unwrap();
    conn.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON activity_log FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .await
    .unwrap();
    let (ok, out) = db(&["copy", "--from", &source, "--to", &target.url]);
    assert!(!ok, "{out}");
    assert!(out.contains("disk full"), "{out}");
    for table in ["companies", "agents", "issues", "issue_comments"] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(n, 0, "{table} must be untouched");
    }
    let _ = conn.close().await;
}

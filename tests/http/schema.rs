//! A database written by a newer Paperclip is refused at start, untouched (both backends).

use std::path::Path;

use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};

#[tokio::test]
async fn a_database_from_a_newer_paperclip_is_refused() {
    let s = test_server!();
    let c = s.company("Future").await;
    s.issue(&c, json!({"title": "kept"})).await;
    let bump = async |home: &Path, db_url: Option<&str>| match db_url {
        None => {
            let db = home.join("instances/default/db/paperclip.db");
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.pragma_update(None, "user_version", 999).unwrap();
        }
        Some(url) => {
            let mut conn = PgConnection::connect(url).await.unwrap();
            conn.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (999, 'from the future', true, '\\x00', 0)",
            )
            .await
            .unwrap();
        }
    };
    let err = match s.restart_after(bump).await {
        Ok(_) => panic!("a newer schema must be refused"),
        Err(e) => e,
    };
    assert!(
        err.contains("999") && err.contains("newer than this binary"),
        "{err}"
    );
}

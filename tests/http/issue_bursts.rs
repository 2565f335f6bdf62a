//! Many issues created at once in one company, as a team of agents does: each gets a number of
//! its own with none skipped, creations sharing an idempotency key give one issue, and one
//! creation that fails does not take the others of its burst with it (on PostgreSQL they are
//! written together in batches, `store/postgres/issue_batch.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_creations_numbers_every_issue_once_and_keeps_idempotency() {
    let s = Arc::new(test_server!());
    let c = s.company("Burst").await;
    for query in ["", "?status=todo", "?offset=5"] {
        let (st, list) = s.get(&format!("/companies/{c}/issues{query}")).await;
        assert_eq!(st, StatusCode::OK, "{list}");
        assert_eq!(
            list,
            json!([]),
            "a company without issues lists none ({query})"
        );
    }
    let mut tasks = Vec::new();
    for n in 0..120 {
        let (s, c) = (s.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            // Every tenth shares one idempotency key; every fifteenth names a parent that
            // does not exist.
            let mut body = json!({"title": format!("burst {n}"), "description": "x".repeat(n),
                                  "priority": PRIORITIES[n % 4], "billingCode": format!("code-{n}"),
                                  "status": if n.is_multiple_of(2) { "todo" } else { "backlog" }});
            if n % 10 == 3 {
                body["idempotencyKey"] = json!("same-one");
            }
            if n % 15 == 7 {
                body["parentId"] = json!(uuid::Uuid::new_v4());
            }
            let (st, v) = s.post(&format!("/companies/{c}/issues"), body).await;
            (n, st, v)
        }));
    }
    let mut numbers = HashSet::new();
    let mut keyed: Vec<Value> = Vec::new();
    let mut refused = 0;
    let mut by_title = HashMap::new();
    for t in tasks {
        let (n, st, v) = t.await.unwrap();
        if n % 15 == 7 {
            assert_error(st, &v, StatusCode::UNPROCESSABLE_ENTITY);
            refused += 1;
            continue;
        }
        if n % 10 == 3 {
            assert!(
                st == StatusCode::CREATED || st == StatusCode::OK,
                "{st} {v}"
            );
            keyed.push(v);
            continue;
        }
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["description"], "x".repeat(n), "{v}");
        assert!(numbers.insert(v["issueNumber"].as_i64().unwrap()), "{v}");
        by_title.insert(
            v["title"].as_str().unwrap().to_string(),
            v["identifier"].clone(),
        );
    }
    assert_eq!(refused, 8);
    assert_eq!(keyed.len(), 12);
    let first = &keyed[0]["id"];
    assert!(keyed.iter().all(|v| &v["id"] == first), "{keyed:#?}");
    assert_eq!(
        keyed.iter().filter(|v| v["deduplicated"] != true).count(),
        1
    );
    numbers.insert(keyed[0]["issueNumber"].as_i64().unwrap());
    // 100 plain creations and the keyed one: numbers 1 to 101, none given twice or skipped.
    assert_eq!(numbers, (1..=101).collect::<HashSet<i64>>());
    let (_, company) = s.get(&format!("/companies/{c}")).await;
    assert_eq!(company["issueCounter"], 101, "{company}");
    let (_, list) = s.get(&format!("/companies/{c}/issues?limit=200")).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 101);
    let mut identifiers = HashMap::new();
    for issue in list {
        // What was stored, read back: every field of every creation of a batch in its row.
        let title = issue["title"].as_str().unwrap();
        let n: usize = title.trim_start_matches("burst ").parse().unwrap();
        if let Some(identifier) = by_title.get(title) {
            assert_eq!(&issue["identifier"], identifier);
        }
        assert_eq!(issue["description"], "x".repeat(n), "{issue}");
        assert_eq!(issue["priority"], PRIORITIES[n % 4], "{issue}");
        assert_eq!(issue["billingCode"], format!("code-{n}"), "{issue}");
        let status = if n.is_multiple_of(2) {
            "todo"
        } else {
            "backlog"
        };
        assert_eq!(issue["status"], status, "{issue}");
        let number = issue["issueNumber"].as_i64().unwrap();
        assert_eq!(
            issue["identifier"],
            format!("{}-{number}", &company["issuePrefix"].as_str().unwrap())
        );
        identifiers.insert(
            issue["id"].as_str().unwrap().to_string(),
            issue["identifier"].clone(),
        );
    }
    // Each creation left its own activity entry, naming its own issue's identifier.
    let (_, activity) = s.get(&format!("/companies/{c}/activity?limit=500")).await;
    let created: Vec<&Value> = activity
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "issue.created")
        .collect();
    assert_eq!(created.len(), 101);
    for entry in created {
        let issue = entry["entityId"].as_str().unwrap();
        assert_eq!(
            entry["details"]["identifier"], identifiers[issue],
            "{entry}"
        );
    }
    // On PostgreSQL the burst was written in batches: rows of one batch share the transaction
    // that inserted them (xmin). A batch refused for one faulty creation (19 of the 120 are) is
    // written again in halves, so the good ones stay together: 7 to 12 transactions here; when
    // every refused batch was written one by one, 38 to 101.
    if let Some(url) = s.database_url() {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let (transactions,): (i64,) = sqlx::query_as(
            "SELECT COUNT(DISTINCT xmin::text) FROM issues WHERE company_id = $1::uuid",
        )
        .bind(&c)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        let _ = conn.close().await;
        assert!(
            transactions < 30,
            "101 issues in {transactions} transactions: batches were not written together"
        );
    }
}

const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];

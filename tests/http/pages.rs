//! Issue list pages are the same whether a company's numbers are dense (pages seek by number)
//! or have a gap (pages step over `offset`), on both backends.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

async fn page(s: &crate::common::TestServer, c: &str, offset: usize, limit: usize) -> Vec<i64> {
    let (st, list) = s
        .get(&format!(
            "/companies/{c}/issues?offset={offset}&limit={limit}"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|i: &Value| i["issueNumber"].as_i64().unwrap())
        .collect()
}

fn expected(numbers: &[i64], offset: usize, limit: usize) -> Vec<i64> {
    let mut newest_first = numbers.to_vec();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    newest_first.into_iter().skip(offset).take(limit).collect()
}

#[tokio::test]
async fn pages_are_right_with_and_without_gaps() {
    let s = test_server!();
    let c = s.company("Pages").await;
    let mut numbers = Vec::new();
    for n in 0..30 {
        numbers.push(
            s.issue(&c, json!({"title": format!("i{n}")})).await["issueNumber"]
                .as_i64()
                .unwrap(),
        );
    }
    for (offset, limit) in [(0, 10), (7, 10), (25, 10), (29, 1), (30, 5), (99, 5)] {
        assert_eq!(
            page(&s, &c, offset, limit).await,
            expected(&numbers, offset, limit)
        );
    }
    // Make a gap (as deleting an issue would) behind the server's back.
    let sql = "DELETE FROM issues WHERE identifier = 'PAG-12'";
    match s.database_url() {
        Some(url) => {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            conn.execute(sql).await.unwrap();
            let _ = conn.close().await;
        }
        None => {
            let file = s.home.join("instances/default/db/paperclip.db");
            let conn = rusqlite::Connection::open(file).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .unwrap();
            conn.execute(sql, []).unwrap();
        }
    }
    numbers.retain(|n| *n != 12);
    for (offset, limit) in [(0, 10), (15, 10), (18, 3), (28, 5)] {
        assert_eq!(
            page(&s, &c, offset, limit).await,
            expected(&numbers, offset, limit)
        );
    }
}

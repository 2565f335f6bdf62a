//! Several servers on one PostgreSQL database (in the PostgreSQL suite only): the rules that
//! must hold across replicas, and the leader lock.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use paperclip_server::store::Store;
use paperclip_server::store::postgres::leader::LeaderLock;
use paperclip_server::store::postgres::{PgStore, parse_url};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_checkouts_across_two_replicas_have_one_winner() {
    let a = test_server!();
    let b = a.replica().await;
    let c = a.company("Race").await;
    let issue = a.issue(&c, json!({"title": "Contested"})).await;
    let id = issue["id"].as_str().unwrap().to_string();
    let mut agents = Vec::new();
    for n in 0..20 {
        let agent = a.agent(&c, &format!("Racer {n}"), None).await;
        let token = b.key(&agent).await;
        agents.push((agent, token));
    }
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for (n, (agent, token)) in agents.into_iter().enumerate() {
        let server = if n % 2 == 0 { a.clone() } else { b.clone() };
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"agentId": agent, "expectedStatuses": ["backlog", "todo"]});
            let path = format!("/issues/{id}/checkout");
            server
                .call(Method::POST, &path, Some(&token), Some(body))
                .await
        }));
    }
    let (mut ok, mut conflicts) = (0, 0);
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], "checkout_conflict");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 19));
    // Both replicas see the one holder.
    let (_, seen_a) = a.get(&format!("/issues/{id}")).await;
    let (_, seen_b) = b.get(&format!("/issues/{id}")).await;
    assert_eq!(seen_a["status"], "in_progress");
    assert_eq!(seen_a["assigneeAgentId"], seen_b["assigneeAgentId"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_creations_across_two_replicas_never_repeat_an_identifier() {
    let a = test_server!();
    let b = a.replica().await;
    let c = a.company("Counter").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for n in 0..200 {
        let server = if n % 2 == 0 { a.clone() } else { b.clone() };
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let (st, issue) = server
                .post(
                    &format!("/companies/{c}/issues"),
                    json!({"title": format!("n{n}")}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{issue}");
            issue["issueNumber"].as_i64().unwrap()
        }));
    }
    let mut numbers = HashSet::new();
    for t in tasks {
        assert!(numbers.insert(t.await.unwrap()), "a number was given twice");
    }
    assert_eq!(numbers, (1..=200).collect::<HashSet<i64>>());
    let (_, company) = b.get(&format!("/companies/{c}")).await;
    assert_eq!(company["issueCounter"], 200);
}

#[tokio::test]
async fn the_leader_lock_has_one_holder_and_passes_on_when_it_dies() {
    let s = test_server!();
    let target = parse_url(&s.database_url().unwrap()).unwrap();
    // Not the scheduler's lock: the test server's own scheduler takes that one.
    let mut first = LeaderLock::new("test-leader");
    let mut second = LeaderLock::new("test-leader");
    let mut other_work = LeaderLock::new("test-backups");
    assert!(first.try_acquire(&target).await.unwrap());
    assert!(
        first.try_acquire(&target).await.unwrap(),
        "a holder keeps it"
    );
    assert!(!second.try_acquire(&target).await.unwrap());
    assert!(
        other_work.try_acquire(&target).await.unwrap(),
        "names are separate"
    );

    first.release().await.unwrap();
    assert!(second.try_acquire(&target).await.unwrap());

    // The holder "dies": its connection goes away without unlocking.
    drop(second);
    let mut third = LeaderLock::new("test-leader");
    let mut taken = false;
    for _ in 0..50 {
        if third.try_acquire(&target).await.unwrap() {
            taken = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(taken, "the lock of a dead holder is freed");
}

#[tokio::test]
async fn a_transaction_mode_pooler_setting_works_end_to_end() {
    // prepare=false: no named prepared statements (PgBouncer / Supabase port 6543).
    let s = test_server!();
    let url = format!("{}?prepare=false", s.database_url().unwrap());
    let home = tempfile::tempdir().unwrap();
    let lean = crate::common::TestServer::launch_config(crate::common::config_with_url(
        home.path(),
        Some(&url),
    ))
    .await;
    let c = lean.company("Pooled").await;
    for n in 0..3 {
        lean.issue(&c, json!({"title": format!("p{n}")})).await;
    }
    let (st, list) = lean.get(&format!("/companies/{c}/issues")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3);
    // The other replica (prepared statements on) sees the same data.
    let (_, seen) = s.get(&format!("/companies/{c}/issues")).await;
    assert_eq!(seen, list);
    lean.stop().await;
}

#[tokio::test]
async fn the_store_leads_through_one_interface_on_both_backends() {
    use paperclip_server::store::Store;
    use paperclip_server::store::postgres::PgStore;
    use paperclip_server::store::sqlite::SqliteStore;

    let s = test_server!();
    let url = s.database_url().unwrap();
    let open = || async {
        PgStore::open(parse_url(&url).unwrap(), Duration::from_secs(5))
            .await
            .unwrap()
    };
    let (a, b) = (open().await, open().await);
    assert!(a.try_lead("scheduler").await.unwrap());
    assert!(!b.try_lead("scheduler").await.unwrap());
    assert!(b.try_lead("backups").await.unwrap());
    a.resign("scheduler").await.unwrap();
    assert!(b.try_lead("scheduler").await.unwrap());
    assert!(!a.try_lead("scheduler").await.unwrap());

    // SQLite: one server per database file, which always leads.
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(&dir.path().join("x.db")).unwrap();
    assert!(lite.try_lead("scheduler").await.unwrap());
}

/// A request cancelled while its transaction begins (a client that went away) must not leave
/// its pooled connection inside that transaction for the next borrower's writes (sqlx
/// 0.9.0's `begin` alone would: transact-rs/sqlx#4393).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_transaction_never_leaves_a_pooled_connection_inside_it() {
    let s = test_server!();
    let url = s.database_url().unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let target = parse_url(&format!("{url}{sep}pool_size=1")).unwrap();
    let store = PgStore::open(target, Duration::from_secs(10))
        .await
        .unwrap();
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut cancelled = 0;
    for n in 0..150u64 {
        // Dropped at a different moment each time: acquiring, in BEGIN, in the statements.
        let mut call = Box::pin(store.delete_company(uuid::Uuid::new_v4()));
        let mut done = false;
        for _ in 0..(n % 6) {
            let poll = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(call.as_mut().poll(cx).is_ready())
            });
            if poll.await {
                done = true;
                break;
            }
            std::thread::sleep(Duration::from_micros(20 * (n / 6)));
        }
        drop(call);
        if !done {
            cancelled += 1;
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
                .bind(pid)
                .fetch_optional(&mut admin)
                .await
                .unwrap();
        assert_ne!(
            state.as_deref(),
            Some("idle in transaction"),
            "after call {n}, cancelled, the connection is still in a transaction"
        );
    }
    assert!(cancelled > 20, "only {cancelled} calls were cancelled");
    store.pool().close().await;
}

//! Live events across two replicas of one PostgreSQL database (PostgreSQL suite only): a
//! client of one server sees activity written through the other and the other's runs, by
//! LISTEN/NOTIFY.

use serde_json::json;

use crate::live_events::{activity_then_run, connect, echo_agent, ids_increase, ws_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_one_replica_sees_the_other_replicas_activity_and_runs() {
    let a = test_server!();
    let b = a.replica().await;
    let (company, agent) = echo_agent(&a).await;
    let mut on_b = connect(&ws_url(&b.base, &company, ""), None).await.unwrap();
    // Written through A, run on A: heard on B.
    let seen = activity_then_run(&a, &mut on_b, &company, &agent).await;
    ids_increase(&seen);
    let activity = seen
        .iter()
        .filter(|e| e["type"] == "activity.logged")
        .count();
    assert!(activity >= 1, "{seen:#?}");
    // Heard once, not twice (B's own relay does not echo A's events back to A's readers).
    let mut on_a = connect(&ws_url(&a.base, &company, ""), None).await.unwrap();
    let issue = b.issue(&company, json!({"title": "Through B"})).await;
    let got =
        crate::live_events::read_until(&mut on_a, |e| e["payload"]["entityId"] == issue["id"])
            .await;
    assert_eq!(
        got.iter()
            .filter(|e| e["payload"]["entityId"] == issue["id"])
            .count(),
        1,
        "{got:#?}"
    );
    a.stop().await;
    b.stop().await;
}

//! Live events over the WebSocket (`/api/companies/:id/events/ws`): activity and run events
//! reach a client as they happen, in increasing id order and only for its company; a client
//! that reconnects with the last id it saw gets what it missed; credentials are checked on
//! the upgrade (`?token=` for browsers). Through a real nginx configured as the README says,
//! and (PostgreSQL) from one replica to a client of another.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::auth::AUTHENTICATED;
use crate::common::*;
use crate::heartbeats::{company_with_agent, invoke};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `ws://…/api/companies/<company>/events/ws?<query>` of a server at `base` (`http://…/api`).
pub fn ws_url(base: &str, company: &str, query: &str) -> String {
    format!(
        "{}/companies/{company}/events/ws?{query}",
        base.replacen("http://", "ws://", 1)
    )
}

/// Connects, with `bearer` as the Authorization when given; the HTTP status on a refusal.
pub async fn connect(url: &str, bearer: Option<&str>) -> Result<Socket, StatusCode> {
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = bearer {
        req.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            Err(StatusCode::from_u16(resp.status().as_u16()).unwrap())
        }
        Err(e) => panic!("connect {url}: {e}"),
    }
}

/// Reads events until `want` says yes of one (10 s at most); every event read, in order.
pub async fn read_until(socket: &mut Socket, want: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = tokio::time::timeout(left, socket.next()).await;
        let Ok(Some(Ok(message))) = next else {
            panic!("the event never came ({next:?}); saw {seen:#?}");
        };
        let Message::Text(text) = message else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).unwrap();
        let done = want(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn is(event: &Value, kind: &str) -> bool {
    event["type"] == kind
}

pub fn ids_increase(events: &[Value]) {
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[1] > w[0]),
        "ids not increasing: {ids:?}"
    );
}

/// An agent whose run prints a line and succeeds.
pub async fn echo_agent(s: &TestServer) -> (String, String) {
    company_with_agent(
        s,
        "process",
        json!({"command": "sh", "args": ["-c", "echo live-line-from-run"]}),
    )
    .await
}

/// Activity, then a run (queued, running, a log line, succeeded) on `socket`, caused on
/// `actor`; returns the events read.
pub async fn activity_then_run(
    actor: &TestServer,
    socket: &mut Socket,
    company: &str,
    agent: &str,
) -> Vec<Value> {
    let issue = actor.issue(company, json!({"title": "Watched live"})).await;
    let mut seen = read_until(socket, |e| {
        is(e, "activity.logged")
            && e["payload"]["action"] == "issue.created"
            && e["payload"]["entityId"] == issue["id"]
    })
    .await;
    let run = invoke(actor, agent, json!({})).await;
    let run_id = run["id"].as_str().unwrap().to_string();
    seen.extend(
        read_until(socket, |e| {
            is(e, "heartbeat.run.status")
                && e["payload"]["runId"] == run_id.as_str()
                && e["payload"]["status"] == "succeeded"
        })
        .await,
    );
    let of_run: Vec<&Value> = seen
        .iter()
        .filter(|e| e["payload"]["runId"] == run_id.as_str())
        .collect();
    assert!(
        of_run
            .iter()
            .any(|e| is(e, "heartbeat.run.status") && e["payload"]["status"] == "running"),
        "{of_run:#?}"
    );
    assert!(
        of_run.iter().any(|e| is(e, "heartbeat.run.log")
            && e["payload"]["chunk"]
                .as_str()
                .unwrap_or("")
                .contains("live-line-from-run")),
        "the run's log line came live: {of_run:#?}"
    );
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_and_runs_arrive_live_for_one_company_and_replay_after_a_reconnect() {
    let s = test_server!();
    let (company, agent) = echo_agent(&s).await;
    let other = s.company("Other Co").await;

    let mut socket = connect(&ws_url(&s.base, &company, ""), None).await.unwrap();
    // Another company's activity, while this one's reader listens: it must not see it.
    s.issue(&other, json!({"title": "Not yours"})).await;
    let seen = activity_then_run(&s, &mut socket, &company, &agent).await;
    ids_increase(&seen);
    for event in &seen {
        assert_eq!(event["companyId"], company.as_str(), "{event}");
        for field in ["id", "type", "createdAt", "payload"] {
            assert!(!event[field].is_null(), "{field} in {event}");
        }
    }
    let queued = seen.iter().find(|e| is(e, "heartbeat.run.queued"));
    assert!(queued.is_some(), "{seen:#?}");

    // Gone for a while; meanwhile more happens. Back with the last id: nothing missed.
    let last = seen.last().unwrap()["id"].as_u64().unwrap();
    drop(socket);
    let missed = s.issue(&company, json!({"title": "While away"})).await;
    let mut again = connect(&ws_url(&s.base, &company, &format!("after={last}")), None)
        .await
        .unwrap();
    let replayed = read_until(&mut again, |e| e["payload"]["entityId"] == missed["id"]).await;
    assert!(replayed[0]["id"].as_u64().unwrap() > last, "{replayed:#?}");
    ids_increase(&replayed);

    // Bad input on the upgrade is a 400, not a socket.
    assert_eq!(
        connect(&ws_url(&s.base, &company, "after=yesterday"), None)
            .await
            .err(),
        Some(StatusCode::BAD_REQUEST)
    );
    // A plain GET (no upgrade) is told what the route is.
    let (st, body) = s.get(&format!("/companies/{company}/events/ws")).await;
    assert_error(st, &body, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_checks_credentials_and_company_in_authenticated_mode() {
    let Some(mut s) = TestServer::start_env(AUTHENTICATED).await else {
        return;
    };
    let mut admin = crate::access::first_admin(&s).await;
    let board = crate::routes_authenticated::board_key(&mut admin, "live events").await;
    drop(admin);
    s.board_token = Some(board.clone());
    let company = s.company("Private Co").await;
    let other = s.company("Someone Else").await;
    let agent = s.agent(&company, "Watcher", None).await;
    let key = s.key(&agent).await;

    let url = ws_url(&s.base, &company, "");
    assert_eq!(connect(&url, None).await.err(), Some(StatusCode::FORBIDDEN));
    assert_eq!(
        connect(&url, Some("paperclip_agent_not-a-real-key"))
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(
        connect(&ws_url(&s.base, &other, ""), Some(&key))
            .await
            .err(),
        Some(StatusCode::FORBIDDEN),
        "an agent reads only its own company's events"
    );
    // A browser's way: the credential in the query.
    let mut socket = connect(&ws_url(&s.base, &company, &format!("token={key}")), None)
        .await
        .unwrap();
    let issue = s
        .issue(&company, json!({"title": "Seen by the agent"}))
        .await;
    read_until(&mut socket, |e| e["payload"]["entityId"] == issue["id"]).await;
    // The board key, as a header.
    connect(&url, Some(&board)).await.unwrap();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_pass_through_nginx_configured_as_the_readme_says() {
    let Some(nginx_bin) = crate::nginx::nginx_binary() else {
        return;
    };
    let s = test_server!();
    let (company, agent) = echo_agent(&s).await;
    let upstream = s
        .base
        .trim_end_matches("/api")
        .trim_start_matches("http://")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    // The `location /` block is the README's ("Live events"), word for word.
    let proxy = crate::nginx::Nginx::run(&nginx_bin, dir.path(), |port| {
        format!(
            r#"    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
        }}
    }}
"#
        )
    });

    let base = format!("http://127.0.0.1:{}/api", proxy.port);
    let mut socket = connect(&ws_url(&base, &company, ""), None).await.unwrap();
    let seen = activity_then_run(&s, &mut socket, &company, &agent).await;
    ids_increase(&seen);
    // nginx logs an upgraded request when its connection ends, so close it and wait.
    socket.close(None).await.unwrap();
    drop(socket);
    let deadline = Instant::now() + Duration::from_secs(10);
    let access = loop {
        let access = std::fs::read_to_string(dir.path().join("access.log")).unwrap_or_default();
        if access.contains("events/ws") || Instant::now() > deadline {
            break access;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        access.contains("events/ws") && access.contains(" 101 "),
        "the socket went through nginx as an upgrade: {access}"
    );
    drop(proxy);
    s.stop().await;
}

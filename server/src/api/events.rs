//! `GET /api/companies/:companyId/events/ws`: a company's live events over a WebSocket.
//! Credentials as for any route (session cookie, Bearer), or `?token=` for browsers, which
//! cannot set headers on a WebSocket; a refusal is a 403 on the upgrade. `?after=<id>` (the
//! last id a client saw) replays what it missed while the server still holds it.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{QueryPairs, Who, path_id};
use super::state::AppState;
use crate::realtime::Subscription;

/// A ping this often keeps proxies (nginx closes an idle upstream after 60 s) from cutting
/// a quiet connection, and finds dead clients.
const PING_EVERY: Duration = Duration::from_secs(25);

pub async fn live(State(s): State<AppState>, Path(id): Path<String>, req: Request) -> Response {
    match upgrade(&s, &id, req).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn upgrade(s: &AppState, id: &str, req: Request) -> Result<Response, ApiError> {
    let (mut parts, _) = req.into_parts();
    let query = QueryPairs::from_request_parts(&mut parts, s).await?;
    if let Some(token) = query.get("token").filter(|t| !t.is_empty())
        && !parts.headers.contains_key(header::AUTHORIZATION)
    {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ApiError::bad_request("token", "token is not a valid credential"))?;
        parts.headers.insert(header::AUTHORIZATION, value);
    }
    let after = match query.get("after").or_else(|| query.get("lastEventId")) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            ApiError::bad_request("after", "after must be the id of an event (a whole number)")
        })?),
    };
    let company_id = path_id(id, "Company not found")?;
    let refused = |e: ApiError| {
        let status = e.status;
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND) {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.message)
        } else {
            e
        }
    };
    let Who(who) = Who::from_request_parts(&mut parts, s)
        .await
        .map_err(refused)?;
    s.domain
        .get_company(&who, company_id)
        .await
        .map_err(|e| refused(e.into()))?;
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, s)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "websocket_required",
                format!("This route speaks WebSocket only: {e}"),
            )
        })?;
    // Subscribed before the upgrade completes: nothing published from here on is missed.
    let subscription = s.bus.subscribe(company_id, after);
    Ok(ws.on_upgrade(move |socket| stream(socket, subscription)))
}

async fn stream(mut socket: WebSocket, mut events: Subscription) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { break };
                if socket.send(Message::Text(event.wire_text())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                // What a client sends is not read (pongs, pings answered by the library).
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
}

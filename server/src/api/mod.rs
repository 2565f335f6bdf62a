//! HTTP: the route table, the layers every request passes (hostname guard, tracing, body
//! limit, panic guard), and the OpenAPI document generated from the handlers.

mod access;
mod agents;
mod approvals;
mod auth;
mod board_keys;
mod cli_auth;
mod companies;
mod costs;
pub mod error;
mod events;
mod extract;
mod health;
mod issues;
mod members;
mod runs;
mod secrets;
pub mod state;
pub mod ui;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use paperclip_shared::limits::BODY_MAX_BYTES;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use error::ApiError;
use state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Paperclip",
        description = "Control plane for companies run by AI agents. Errors are {\"error\", \"code\", \"details\"?}."
    ),
    components(schemas(paperclip_shared::ErrorBody))
)]
struct ApiDoc;

/// Every route, in one table.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(auth::sign_up))
        .routes(routes!(auth::sign_in))
        .routes(routes!(auth::sign_out))
        .routes(routes!(auth::get_session))
        .routes(routes!(access::create_invite, access::list_invites))
        .routes(routes!(access::get_invite))
        .routes(routes!(access::accept_invite))
        .routes(routes!(access::revoke_invite))
        .routes(routes!(members::list_members))
        .routes(routes!(members::update_member))
        .routes(routes!(members::archive_member))
        .routes(routes!(access::claim_status))
        .routes(routes!(access::claim))
        .routes(routes!(board_keys::list, board_keys::create))
        .routes(routes!(board_keys::revoke))
        .routes(routes!(cli_auth::create_challenge))
        .routes(routes!(cli_auth::get_challenge))
        .routes(routes!(cli_auth::approve_challenge))
        .routes(routes!(cli_auth::cancel_challenge))
        .routes(routes!(cli_auth::me))
        .routes(routes!(cli_auth::revoke_current))
        .routes(routes!(secrets::list, secrets::create))
        .routes(routes!(secrets::update, secrets::delete))
        .routes(routes!(secrets::rotate))
        .routes(routes!(companies::list, companies::create))
        .routes(routes!(
            companies::get,
            companies::update,
            companies::delete
        ))
        .routes(routes!(companies::archive))
        .routes(routes!(companies::dashboard))
        .routes(routes!(approvals::list, approvals::create))
        .routes(routes!(approvals::hire))
        .routes(routes!(approvals::get))
        .routes(routes!(approvals::issues))
        .routes(routes!(approvals::approve))
        .routes(routes!(approvals::reject))
        .routes(routes!(approvals::request_revision))
        .routes(routes!(approvals::resubmit))
        .routes(routes!(approvals::list_comments, approvals::add_comment))
        .routes(routes!(costs::create_event))
        .routes(routes!(costs::summary))
        .routes(routes!(costs::by_agent))
        .routes(routes!(costs::by_project))
        .routes(routes!(costs::company_budget))
        .routes(routes!(costs::agent_budget))
        .routes(routes!(companies::activity))
        .routes(routes!(companies::list_goals, companies::create_goal))
        .routes(routes!(
            companies::get_goal,
            companies::update_goal,
            companies::delete_goal
        ))
        .routes(routes!(companies::list_projects, companies::create_project))
        .routes(routes!(companies::get_project, companies::update_project))
        .routes(routes!(agents::list, agents::create))
        .routes(routes!(agents::org))
        .routes(routes!(agents::me))
        .routes(routes!(agents::inbox_lite))
        .routes(routes!(agents::get, agents::update))
        .routes(routes!(agents::pause))
        .routes(routes!(agents::resume))
        .routes(routes!(agents::terminate))
        .routes(routes!(agents::list_keys, agents::create_key))
        .routes(routes!(agents::revoke_key))
        .routes(routes!(runs::invoke))
        .routes(routes!(runs::wakeup))
        .routes(routes!(runs::list))
        .routes(routes!(runs::get))
        .routes(routes!(runs::log))
        .routes(routes!(runs::events))
        .routes(routes!(runs::cancel))
        .routes(routes!(runs::callback))
        .routes(routes!(issues::list, issues::create))
        .routes(routes!(issues::get, issues::update))
        .routes(routes!(issues::checkout))
        .routes(routes!(issues::release))
        .routes(routes!(issues::force_release))
        .routes(routes!(issues::list_comments, issues::add_comment))
        .routes(routes!(issues::get_comment))
        .routes(routes!(issues::heartbeat_context))
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes().split_for_parts().1;
    document_common_errors(&mut doc);
    doc
}

/// The answers every operation may give whatever its handler says: 400 for a malformed
/// `X-Paperclip-Run-Id`, 401 for a bad `Authorization` (all but health), 413 for a body over
/// the limit (operations that take one).
fn document_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        if path == "/api/health" {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in operations.into_iter().flatten() {
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code.to_string())
                    .or_insert_with(|| error(description).into());
            };
            add(
                "400",
                "invalid input (a malformed X-Paperclip-Run-Id header at least)",
            );
            add("401", "invalid, revoked or unknown credentials");
            if op.request_body.is_some() {
                add("413", "the body is larger than the limit");
            }
        }
    }
}

pub fn router(state: AppState) -> Router {
    let (router, mut doc) = routes().split_for_parts();
    document_common_errors(&mut doc);
    let doc_json = std::sync::Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    router
        // A WebSocket, outside the OpenAPI document (it describes JSON request/response routes).
        .route(
            "/api/companies/{companyId}/events/ws",
            axum::routing::get(events::live),
        )
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = doc_json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        (*doc).clone(),
                    )
                }
            }),
        )
        .fallback(ui::serve)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            hostname_guard,
        ))
        .layer(DefaultBodyLimit::max(BODY_MAX_BYTES))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            tracing::debug_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
        }))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("a request handler panicked");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Internal server error",
                )
                .into_response()
            },
        ))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

/// Headers every response carries (errors and panics included): no sniffing, no framing, no
/// referrer, no caching of private data, and a CSP that lets a JSON response load nothing.
async fn security_headers(mut response: Response) -> Response {
    use axum::http::header::{self, HeaderValue};
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// A request path for the log: no query (CLI challenge secrets travel there) and no token
/// segments (invite and claim URLs carry theirs in the path).
fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with("pcp_") || seg.starts_with("paperclip_") || seg.len() > 40 {
                "…"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Refuses requests for hosts we do not serve (DNS rebinding). `/api/health` is exempt.
async fn hostname_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/api/health" {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    // A trusted proxy names the host the client asked for; anyone else's header is ignored.
    let forwarded_host = peer.and_then(|peer| {
        crate::net::proxies::resolve(peer, req.headers(), &state.auth.trusted_proxies).host
    });
    let host = forwarded_host.or_else(|| {
        req.headers()
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().host())
            .map(str::to_string)
    });
    match host {
        Some(h) if !state.guard.permits(&h) => ApiError {
            details: Some(serde_json::json!({"host": h})),
            ..ApiError::new(
                StatusCode::FORBIDDEN,
                "hostname_not_allowed",
                format!(
                    "Host {h:?} is not allowed. To serve it, run `paperclip allowed-hostname {}` (a running server picks it up at once), or add it to PAPERCLIP_ALLOWED_HOSTNAMES and restart.",
                    h.split(':').next().unwrap_or(&h)
                ),
            )
        }
        .into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn logged_paths_carry_no_tokens() {
        assert_eq!(
            super::loggable_path("/api/invites/pcp_invite_abc123/accept"),
            "/api/invites/…/accept"
        );
        assert_eq!(
            super::loggable_path(&format!("/api/board-claim/{}", "a".repeat(48))),
            "/api/board-claim/…"
        );
        let id = "0f14460a-ee6f-4f23-81cc-1454c366bfbc";
        assert_eq!(
            super::loggable_path(&format!("/api/issues/{id}")),
            format!("/api/issues/{id}")
        );
    }
}

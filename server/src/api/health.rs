use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use paperclip_shared::{DeploymentInfo, Health, HealthFeatures};
use serde_json::json;

use super::extract::Who;
use super::state::AppState;
use crate::config::DeploymentMode;

/// Always answers, whatever the Host: load balancers and the CLI rely on it. In
/// `authenticated` mode an anonymous caller learns the mode and the bootstrap state only.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, description = "database unreachable")))]
pub async fn health(State(state): State<AppState>, mut parts: Parts) -> Response {
    if state.domain.store().ping().await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unhealthy", "error": "database_unreachable"})),
        )
            .into_response();
    }
    let mode = state.mode.as_str().to_string();
    let exposure = state.exposure.as_str().to_string();
    let authenticated = state.mode == DeploymentMode::Authenticated;
    let (bootstrap_pending, invite_active) = if authenticated {
        state
            .domain
            .bootstrap_state()
            .await
            .unwrap_or((false, false))
    } else {
        (false, false)
    };
    let known = !authenticated || Who::from_request_parts(&mut parts, &state).await.is_ok();
    Json(Health {
        status: "ok".into(),
        version: known.then(|| env!("CARGO_PKG_VERSION").into()),
        deployment_mode: mode.clone(),
        deployment_exposure: exposure.clone(),
        auth_ready: known.then_some(true),
        bootstrap_status: if bootstrap_pending {
            "bootstrap_pending"
        } else {
            "ready"
        }
        .into(),
        bootstrap_invite_active: invite_active,
        features: known.then(|| HealthFeatures {
            company_deletion_enabled: state.domain.company_deletion_enabled(),
        }),
        deployment: known.then_some(DeploymentInfo {
            mode,
            exposure,
            auth_ready: true,
        }),
    })
    .into_response()
}

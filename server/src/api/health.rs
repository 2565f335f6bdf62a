use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paperclip_shared::{DeploymentInfo, Health, HealthFeatures};
use serde_json::json;

use super::state::AppState;

/// Always answers, whatever the Host: load balancers and the CLI rely on it.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, description = "database unreachable")))]
pub async fn health(State(state): State<AppState>) -> Response {
    if state.domain.store().ping().await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unhealthy", "error": "database_unreachable"})),
        )
            .into_response();
    }
    let mode = state.mode.as_str().to_string();
    let exposure = state.exposure.as_str().to_string();
    Json(Health {
        status: "ok".into(),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        deployment_mode: mode.clone(),
        deployment_exposure: exposure.clone(),
        auth_ready: true,
        bootstrap_status: "ready".into(),
        bootstrap_invite_active: false,
        features: HealthFeatures {
            company_deletion_enabled: state.domain.company_deletion_enabled(),
        },
        deployment: DeploymentInfo {
            mode,
            exposure,
            auth_ready: true,
        },
    })
    .into_response()
}

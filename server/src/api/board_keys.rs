//! `/api/board-api-keys`: a person's keys for the CLI and scripts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paperclip_shared::ErrorBody;
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{Body, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::domain::board_keys::CreateBoardKey;
use crate::store::BoardKeyRecord;

fn key_json(k: &BoardKeyRecord) -> Value {
    json!({"id": k.id, "name": k.name, "createdAt": k.created_at, "lastUsedAt": k.last_used_at,
        "revokedAt": k.revoked_at, "expiresAt": k.expires_at})
}

/// The caller's keys (active ones; `?includeInactive=true` adds revoked and expired), no tokens.
#[utoipa::path(get, path = "/api/board-api-keys", tag = "access",
    params(("includeInactive" = Option<bool>, Query)),
    responses((status = 200, description = "bare array of keys"), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Who(who): Who,
    query: QueryPairs,
) -> ApiResult<Json<Vec<Value>>> {
    let all = query.bool("includeInactive")?.unwrap_or(false);
    let keys = state.domain.list_board_keys(&who, all).await?;
    Ok(Json(keys.iter().map(key_json).collect()))
}

/// A new key for the caller: `token` is in this answer only.
#[utoipa::path(post, path = "/api/board-api-keys", tag = "access", request_body = CreateBoardKey,
    responses((status = 201, description = "the key with its token"), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Who(who): Who,
    Body(input): Body<CreateBoardKey>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (key, token) = state.domain.create_board_key(&who, input).await?;
    let mut body = key_json(&key);
    body["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(body)))
}

/// Revoke one of the caller's keys; it answers 401 from then on.
#[utoipa::path(delete, path = "/api/board-api-keys/{keyId}", tag = "access",
    params(("keyId" = String, Path)),
    responses((status = 200, description = "{ok: true, keyId}"), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Who(who): Who,
    Path(key_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&key_id, "Board API key not found")?;
    state.domain.revoke_board_key(&who, id).await?;
    Ok(Json(json!({"ok": true, "keyId": id})))
}

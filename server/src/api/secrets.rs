//! Company secrets (board only): list, create, change, rotate, delete. No answer carries a
//! value; the shape is Paperclip's secret row.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paperclip_shared::ErrorBody;
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{Body, Who, path_id};
use super::state::AppState;
use crate::domain::secrets::{CreateSecret, RotateSecret, UpdateSecret};
use crate::store::SecretRecord;

const NOT_FOUND: &str = "Secret not found";

fn secret_json(s: &SecretRecord) -> Value {
    json!({
        "id": s.id, "companyId": s.company_id, "scope": "company", "ownerUserId": null,
        "userSecretDefinitionId": null, "key": s.key, "name": s.name, "provider": s.provider,
        "status": s.status, "managedMode": s.managed_mode, "externalRef": s.external_ref,
        "providerConfigId": null, "providerMetadata": s.provider_metadata,
        "latestVersion": s.latest_version, "description": s.description,
        "lastResolvedAt": s.last_resolved_at, "lastRotatedAt": s.last_rotated_at,
        "deletedAt": null, "createdByAgentId": s.created_by_agent_id,
        "createdByUserId": s.created_by_user_id, "createdAt": s.created_at,
        "updatedAt": s.updated_at,
    })
}

/// The company's secrets, newest first, with `referenceCount` (agents naming each). Never a
/// value.
#[utoipa::path(get, path = "/api/companies/{companyId}/secrets", tag = "secrets",
    params(("companyId" = String, Path)),
    responses((status = 200, description = "bare array of secrets"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Who(who): Who,
    Path(company_id): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    let company_id = path_id(&company_id, "Company not found")?;
    let secrets = state.domain.list_secrets(&who, company_id).await?;
    Ok(Json(
        secrets
            .iter()
            .map(|(s, refs)| {
                let mut v = secret_json(s);
                v["referenceCount"] = json!(refs);
                v
            })
            .collect(),
    ))
}

/// Store a secret (version 1). The value is sealed at once and never shown again.
#[utoipa::path(post, path = "/api/companies/{companyId}/secrets", tag = "secrets",
    params(("companyId" = String, Path)), request_body = CreateSecret,
    responses((status = 201, description = "the secret, without its value"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Who(who): Who,
    Path(company_id): Path<String>,
    Body(input): Body<CreateSecret>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let company_id = path_id(&company_id, "Company not found")?;
    let secret = state.domain.create_secret(&who, company_id, input).await?;
    Ok((StatusCode::CREATED, Json(secret_json(&secret))))
}

/// Change a secret's name, key, status (`active`, `disabled`, `archived`) or description.
#[utoipa::path(patch, path = "/api/secrets/{secretId}", tag = "secrets",
    params(("secretId" = String, Path)), request_body = UpdateSecret,
    responses((status = 200, description = "the secret"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<UpdateSecret>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, NOT_FOUND)?;
    let secret = state.domain.update_secret(&who, id, input).await?;
    Ok(Json(secret_json(&secret)))
}

/// A new value: version `latestVersion + 1` becomes current.
#[utoipa::path(post, path = "/api/secrets/{secretId}/rotate", tag = "secrets",
    params(("secretId" = String, Path)), request_body = RotateSecret,
    responses((status = 200, description = "the secret"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<RotateSecret>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, NOT_FOUND)?;
    let secret = state.domain.rotate_secret(&who, id, input).await?;
    Ok(Json(secret_json(&secret)))
}

/// Delete a secret and every version of it.
#[utoipa::path(delete, path = "/api/secrets/{secretId}", tag = "secrets",
    params(("secretId" = String, Path)),
    responses((status = 200, description = "{ok: true}"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, NOT_FOUND)?;
    state.domain.delete_secret(&who, id).await?;
    Ok(Json(json!({"ok": true})))
}

//! `/api/cli-auth/*` on Paperclip's paths: the CLI asks for access with a challenge, a person
//! approves it in the browser, and the CLI's board API key starts to work; `me` and
//! `revoke-current` serve `paperclip auth whoami` and `logout`.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use paperclip_shared::ErrorBody;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{Body, Client, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::auth::{Actor, BoardSource, RequestActor};
use crate::domain::cli_auth::{ChallengeView, CreateChallenge, RequestedAccess};

const NOT_FOUND: &str = "CLI auth challenge not found";

/// The caller if the request names one that resolves, else nobody: the approval page reads
/// the challenge before anyone signs in, and a bad credential only means "not signed in".
pub struct MaybeWho(Option<RequestActor>);

impl FromRequestParts<AppState> for MaybeWho {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeWho(
            Who::from_request_parts(parts, state)
                .await
                .ok()
                .map(|w| w.0),
        ))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChallengeToken {
    /// The challenge secret (`pcp_cli_auth_…`) from the approval URL.
    pub token: String,
}

/// A person approving in the browser (or the local board), not a key or an agent.
fn signed_in_person(who: Option<&RequestActor>) -> Option<(&str, bool, BoardSource)> {
    match who?.actor() {
        Actor::Board {
            user_id,
            instance_admin,
            source: source @ (BoardSource::Session | BoardSource::LocalImplicit),
            ..
        } => Some((user_id.as_str(), *instance_admin, *source)),
        _ => None,
    }
}

fn view_json(v: &ChallengeView, who: Option<&RequestActor>) -> Value {
    let c = &v.challenge;
    let person = signed_in_person(who);
    let access = RequestedAccess::from_stored(&c.requested_access);
    let can_approve = person.is_some_and(|(_, admin, source)| {
        access == RequestedAccess::Board || admin || source == BoardSource::LocalImplicit
    });
    let current_user = who.and_then(|w| match w.actor() {
        Actor::Board { user_id, .. } => Some(user_id.clone()),
        Actor::Agent { .. } => None,
    });
    json!({
        "id": c.id, "status": v.status, "command": c.command, "clientName": c.client_name,
        "requestedAccess": access, "requestedCompanyId": c.requested_company_id,
        "requestedCompanyName": v.company_name, "approvedAt": c.approved_at,
        "cancelledAt": c.cancelled_at, "expiresAt": c.expires_at,
        "approvedByUser": v.approved_by.as_ref()
            .map(|u| json!({"id": u.id, "name": u.name, "email": u.email})),
        "requiresSignIn": person.is_none(), "canApprove": can_approve,
        "currentUserId": current_user,
    })
}

/// Ask for CLI access (no sign-in needed). `token` (the challenge secret) and `boardApiToken`
/// (the key that works once approved) are in this answer only; a person opens `approvalUrl`.
#[utoipa::path(post, path = "/api/cli-auth/challenges", tag = "access", request_body = CreateChallenge,
    responses((status = 201, description = "{id, token, boardApiToken, approvalPath, approvalUrl, pollPath, expiresAt, suggestedPollIntervalMs}"),
        (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_challenge(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Body(input): Body<CreateChallenge>,
) -> ApiResult<Response> {
    if let Err(wait) = state.auth.limits.per_ip.hit(&client.ip.to_string()) {
        return Ok(super::auth::too_many(wait));
    }
    let created = state.domain.create_cli_challenge(input).await?;
    let id = created.challenge.id;
    let secret: String = url::form_urlencoded::byte_serialize(created.secret.as_bytes()).collect();
    let approval_path = format!("/cli-auth/{id}?token={secret}");
    let base = super::access::base_url(&state, &client, &headers);
    let body = json!({
        "id": id, "token": created.secret, "boardApiToken": created.board_token,
        "approvalUrl": format!("{base}{approval_path}"), "approvalPath": approval_path,
        "pollPath": format!("/cli-auth/challenges/{id}"),
        "expiresAt": created.challenge.expires_at, "suggestedPollIntervalMs": 1000,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A challenge's state, for the polling CLI and the approval page (`?token=` the secret):
/// a wrong id or secret is 404. It never contains a token.
#[utoipa::path(get, path = "/api/cli-auth/challenges/{id}", tag = "access",
    params(("id" = String, Path), ("token" = String, Query, description = "the challenge secret")),
    responses((status = 200, description = "status pending|approved|cancelled|expired, with requiresSignIn and canApprove"),
        (status = 404, body = ErrorBody)))]
pub async fn get_challenge(
    State(state): State<AppState>,
    MaybeWho(who): MaybeWho,
    Path(id): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, NOT_FOUND)?;
    let token = query.get("token").unwrap_or("");
    let view = state.domain.cli_challenge(id, token, who.as_ref()).await?;
    Ok(Json(view_json(&view, who.as_ref())))
}

/// Approve as the signed-in person (a browser session, or the local board; instance admins
/// only when the CLI asked for that): the CLI's key starts to work as theirs for 30 days.
/// A cancelled or expired challenge answers `approved: false`.
#[utoipa::path(post, path = "/api/cli-auth/challenges/{id}/approve", tag = "access",
    params(("id" = String, Path)), request_body = ChallengeToken,
    responses((status = 200, description = "{approved, status, userId, keyId, expiresAt}"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn approve_challenge(
    State(state): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<ChallengeToken>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, NOT_FOUND)?;
    let done = state
        .domain
        .approve_cli_challenge(&who, id, &input.token)
        .await?;
    Ok(Json(json!({
        "approved": done.status == crate::domain::cli_auth::ChallengeStatus::Approved,
        "status": done.status, "userId": done.user_id,
        "keyId": done.challenge.board_api_key_id, "expiresAt": done.challenge.expires_at,
    })))
}

/// Cancel a pending challenge (whoever holds the secret); any other state is answered as it is.
#[utoipa::path(post, path = "/api/cli-auth/challenges/{id}/cancel", tag = "access",
    params(("id" = String, Path)), request_body = ChallengeToken,
    responses((status = 200, description = "{status, cancelled}"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn cancel_challenge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(input): Body<ChallengeToken>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, NOT_FOUND)?;
    let status = state.domain.cancel_cli_challenge(id, &input.token).await?;
    Ok(Json(json!({
        "status": status,
        "cancelled": status == crate::domain::cli_auth::ChallengeStatus::Cancelled,
    })))
}

/// The board user this request stands for (`paperclip auth whoami`): `keyId` names the board
/// API key when one was used.
#[utoipa::path(get, path = "/api/cli-auth/me", tag = "access",
    responses((status = 200, description = "{user, userId, isInstanceAdmin, companyIds, memberships, source, keyId}"),
        (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Who(who): Who) -> ApiResult<Json<Value>> {
    let me = state.domain.cli_identity(&who).await?;
    let p = &me.principal;
    let key_id = match me.source {
        BoardSource::BoardKey(id) => Some(id),
        _ => None,
    };
    Ok(Json(json!({
        "user": {"id": p.user.id, "name": p.user.name, "email": p.user.email},
        "userId": p.user.id, "isInstanceAdmin": p.instance_admin,
        "companyIds": p.memberships.iter().map(|(c, _)| c).collect::<Vec<_>>(),
        "memberships": p.memberships.iter()
            .map(|(c, r)| json!({"companyId": c, "membershipRole": r, "status": "active"}))
            .collect::<Vec<_>>(),
        "source": me.source.as_str(), "keyId": key_id,
    })))
}

/// Revoke the board API key this request is made with (`paperclip auth logout`); 400 for
/// any other caller.
#[utoipa::path(post, path = "/api/cli-auth/revoke-current", tag = "access",
    responses((status = 200, description = "{revoked: true, keyId}"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_current(
    State(state): State<AppState>,
    Who(who): Who,
) -> ApiResult<Json<Value>> {
    let key_id = state.domain.revoke_current_board_key(&who).await?;
    Ok(Json(json!({"revoked": true, "keyId": key_id})))
}

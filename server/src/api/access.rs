//! Who may use an instance: company invites, the bootstrap invite (accepted on the same
//! path), and the board claim. Members once they joined: `members.rs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use paperclip_shared::ErrorBody;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{Body, Client, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::domain::claim::ClaimStatus;
use crate::domain::invites::{AcceptInvite, CreateInvite};
use crate::store::InviteRecord;

/// The address people use to reach this server: the public base URL, else the host asked for
/// (a trusted proxy's `X-Forwarded-Host`, else `Host`).
pub(super) fn base_url(state: &AppState, client: &Client, headers: &HeaderMap) -> String {
    if let Some(url) = &state.auth.public_base_url {
        return url.as_str().trim_end_matches('/').to_string();
    }
    let host = client.host.as_deref().unwrap_or_else(|| {
        headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
    });
    let scheme = if client.https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

fn invite_json(i: &InviteRecord) -> Value {
    let now = crate::domain::now();
    let state = if i.revoked_at.is_some() {
        "revoked"
    } else if i.accepted_at.is_some() {
        "accepted"
    } else if i.expires_at <= now {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": i.id, "companyId": i.company_id, "inviteType": i.invite_type,
        "allowedJoinTypes": i.allowed_join_types, "humanRole": i.human_role,
        "invitedByUserId": i.invited_by_user_id, "expiresAt": i.expires_at,
        "revokedAt": i.revoked_at, "acceptedAt": i.accepted_at, "state": state,
        "createdAt": i.created_at, "updatedAt": i.updated_at,
    })
}

/// Invite a person to the company (owners and admins). The token is in this answer only.
#[utoipa::path(post, path = "/api/companies/{companyId}/invites", tag = "access",
    params(("companyId" = String, Path)), request_body = CreateInvite,
    responses((status = 201, description = "the invite with `token` and `inviteUrl`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_invite(
    State(state): State<AppState>,
    Who(who): Who,
    client: Client,
    headers: HeaderMap,
    Path(company_id): Path<String>,
    Body(input): Body<CreateInvite>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let company_id = path_id(&company_id, "Company not found")?;
    let (invite, token) = state.domain.create_invite(&who, company_id, input).await?;
    let path = format!("/invite/{token}");
    let mut body = invite_json(&invite);
    body["token"] = json!(token);
    body["invitePath"] = json!(path);
    body["inviteUrl"] = json!(format!("{}{path}", base_url(&state, &client, &headers)));
    Ok((StatusCode::CREATED, Json(body)))
}

/// The company's invites, newest first (owners and admins).
#[utoipa::path(get, path = "/api/companies/{companyId}/invites", tag = "access",
    params(("companyId" = String, Path)),
    responses((status = 200, description = "bare array of invites"), (status = 404, body = ErrorBody)))]
pub async fn list_invites(
    State(state): State<AppState>,
    Who(who): Who,
    Path(company_id): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    let company_id = path_id(&company_id, "Company not found")?;
    let invites = state.domain.list_invites(&who, company_id).await?;
    Ok(Json(invites.iter().map(invite_json).collect()))
}

/// An open invite by its token (anyone holding the token): 404 when unknown, used, revoked or
/// expired.
#[utoipa::path(get, path = "/api/invites/{invite}", tag = "access",
    params(("invite" = String, Path, description = "the invite token")),
    responses((status = 200, description = "the invite"), (status = 404, body = ErrorBody)))]
pub async fn get_invite(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<Value>> {
    let (invite, company) = state.domain.open_invite(&token).await?;
    let mut body = invite_json(&invite);
    body["companyName"] = json!(company.map(|c| c.name));
    Ok(Json(body))
}

/// Accept an invite as the signed-in person: a company invite makes a member, the bootstrap
/// invite the first instance admin.
#[utoipa::path(post, path = "/api/invites/{invite}/accept", tag = "access",
    params(("invite" = String, Path, description = "the invite token")), request_body = AcceptInvite,
    responses((status = 202, description = "accepted"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_invite(
    State(state): State<AppState>,
    Who(who): Who,
    Path(token): Path<String>,
    Body(input): Body<AcceptInvite>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (invite, user_id) = state.domain.accept_invite(&who, &token, input).await?;
    let body = match invite.company_id {
        None => json!({"inviteId": invite.id, "inviteType": "bootstrap_ceo",
            "bootstrapAccepted": true, "userId": user_id}),
        Some(company_id) => json!({"inviteId": invite.id, "companyId": company_id,
            "requestType": "human", "status": "approved", "requestingUserId": user_id,
            "membershipRole": invite.human_role}),
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

/// Revoke an invite by its id (company invites: owners and admins; the bootstrap invite:
/// instance admins).
#[utoipa::path(post, path = "/api/invites/{invite}/revoke", tag = "access",
    params(("invite" = String, Path, description = "the invite id")),
    responses((status = 200, description = "the revoked invite"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    Who(who): Who,
    Path(invite): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&invite, "Invite not found")?;
    let invite = state.domain.revoke_invite(&who, id).await?;
    Ok(Json(invite_json(&invite)))
}

/// The board claim's state (`?code=` from the printed URL): 404 when token or code is wrong.
#[utoipa::path(get, path = "/api/board-claim/{token}", tag = "access",
    params(("token" = String, Path), ("code" = String, Query)),
    responses((status = 200, body = ClaimStatus), (status = 404, body = ErrorBody)))]
pub async fn claim_status(
    State(state): State<AppState>,
    Path(token): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<ClaimStatus>> {
    let code = query.get("code").unwrap_or("");
    Ok(Json(state.domain.board_claim_status(&token, code).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ClaimBody {
    pub code: String,
}

/// Take ownership of the instance (signed in with a browser session): wrong code 404, used or
/// expired 409.
#[utoipa::path(post, path = "/api/board-claim/{token}/claim", tag = "access",
    params(("token" = String, Path)), request_body = ClaimBody,
    responses((status = 200, description = "{claimed: true, userId}"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    Who(who): Who,
    client: Client,
    Path(token): Path<String>,
    Body(input): Body<ClaimBody>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    if let Err(wait) = state.auth.limits.per_ip.hit(&client.ip.to_string()) {
        return Ok(super::auth::too_many(wait));
    }
    let user_id = state.domain.claim_board(&who, &token, &input.code).await?;
    Ok(Json(json!({"claimed": true, "userId": user_id})).into_response())
}

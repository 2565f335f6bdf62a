//! `/api/auth/*` on Paperclip's paths: sign-up, sign-in, sign-out and the current session.
//! Sign-in and sign-up are rate limited per client IP, failed sign-ins also per account.

use axum::Json;
use axum::extract::State;
use axum::http::header::{SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paperclip_shared::ErrorBody;
use serde::Serialize;
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::extract::{Body, Client, Who};
use super::state::AppState;
use crate::auth::{Actor, session};
use crate::domain::people::{ClientInfo, OpenedSession, SignIn, SignUp};
use crate::store::UserRecord;

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthUser {
    pub id: String,
    pub email: Option<String>,
    pub name: String,
    pub image: Option<String>,
}

impl From<&UserRecord> for AuthUser {
    fn from(u: &UserRecord) -> Self {
        AuthUser {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            image: None,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// `paperclip:<source>:<userId>`, source `session`, `board_key` or `local_implicit`.
    pub id: String,
    pub user_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CurrentSession {
    pub session: SessionInfo,
    pub user: AuthUser,
}

pub(super) fn too_many(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("Too many attempts; try again in {secs} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert("retry-after", v);
    }
    response
}

fn client_info(client: &Client, headers: &HeaderMap) -> ClientInfo {
    ClientInfo {
        ip: Some(client.ip.to_string()),
        user_agent: headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// The answer of a sign-in or sign-up: the user, and the cookie that carries the session.
fn signed_in(state: &AppState, client: &Client, opened: OpenedSession, sign_in: bool) -> Response {
    let cookie = session::set_cookie(&state.auth.cookie_name, &opened.token, client.https);
    let user = AuthUser::from(&opened.user);
    let body = if sign_in {
        json!({"redirect": false, "token": null, "user": user})
    } else {
        json!({"token": null, "user": user})
    };
    let mut response = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

/// Create an account (refused when `auth.disableSignUp`, unless `inviteToken` names an open
/// invite) and sign it in.
#[utoipa::path(post, path = "/api/auth/sign-up/email", tag = "auth", request_body = SignUp,
    responses((status = 200, description = "signed up and in; the session is in the cookie"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody, description = "sign-up disabled"),
        (status = 422, body = ErrorBody, description = "email taken"),
        (status = 429, body = ErrorBody)))]
pub async fn sign_up(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Body(input): Body<SignUp>,
) -> ApiResult<Response> {
    if let Err(wait) = state.auth.limits.per_ip.hit(&client.ip.to_string()) {
        return Ok(too_many(wait));
    }
    let opened = state
        .domain
        .sign_up(
            input,
            !state.auth.disable_sign_up,
            client_info(&client, &headers),
        )
        .await?;
    Ok(signed_in(&state, &client, opened, false))
}

/// Sign in with email and password. Wrong email and wrong password answer alike.
#[utoipa::path(post, path = "/api/auth/sign-in/email", tag = "auth", request_body = SignIn,
    responses((status = 200, description = "signed in; the session is in the cookie"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Body(input): Body<SignIn>,
) -> ApiResult<Response> {
    let limits = &state.auth.limits;
    let account = input.email.trim().to_lowercase();
    if let Err(wait) = limits.per_account.check(&account) {
        return Ok(too_many(wait));
    }
    if let Err(wait) = limits.per_ip.hit(&client.ip.to_string()) {
        return Ok(too_many(wait));
    }
    match state
        .domain
        .sign_in(input, client_info(&client, &headers))
        .await
    {
        Ok(opened) => {
            limits.per_account.clear(&account);
            Ok(signed_in(&state, &client, opened, true))
        }
        Err(e) => {
            let _ = limits.per_account.hit(&account);
            Err(e.into())
        }
    }
}

/// End the session of the cookie (if any) and clear the cookie.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth",
    responses((status = 200, description = "{\"success\": true}")))]
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = session::token_from(&headers, &state.auth.cookie_name) {
        state.domain.sign_out(&token).await?;
    }
    let mut response = Json(json!({"success": true})).into_response();
    for cookie in session::clear_cookies(&state.auth.cookie_name) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    Ok(response)
}

/// The signed-in board user (session cookie, board API key, or `local-board` in
/// `local_trusted`); 401 when signed out.
#[utoipa::path(get, path = "/api/auth/get-session", tag = "auth",
    responses((status = 200, body = CurrentSession), (status = 401, body = ErrorBody)))]
pub async fn get_session(
    State(state): State<AppState>,
    Who(who): Who,
) -> ApiResult<Json<CurrentSession>> {
    let Actor::Board {
        user_id, source, ..
    } = who.actor()
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Board authentication required",
        ));
    };
    let user = state.domain.board_user(user_id).await?;
    Ok(Json(CurrentSession {
        session: SessionInfo {
            id: format!("paperclip:{}:{}", source.as_str(), user.id),
            user_id: user.id.clone(),
        },
        user: AuthUser::from(&user),
    }))
}

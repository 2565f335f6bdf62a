//! Extractors: the request's actor, JSON bodies with precise errors, ids from the path, and
//! query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use super::state::AppState;
use crate::auth::{Actor, LOCAL_BOARD_USER_ID, RequestActor};
use crate::config::DeploymentMode;

/// The authenticated actor of the request. A presented `Authorization` that does not resolve
/// is a 401 in every mode: never a fall-through to the board.
pub struct Who(pub RequestActor);

impl FromRequestParts<AppState> for Who {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let run_id = match parts.headers.get("x-paperclip-run-id") {
            None => None,
            Some(v) => {
                let text = v.to_str().unwrap_or("").trim();
                Some(Uuid::parse_str(text).map_err(|_| {
                    ApiError::bad_request(
                        "X-Paperclip-Run-Id",
                        "X-Paperclip-Run-Id must be a run UUID",
                    )
                })?)
            }
        };
        if let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let text = auth.to_str().unwrap_or("");
            let token = text
                .strip_prefix("Bearer ")
                .or_else(|| text.strip_prefix("bearer "))
                .map(str::trim);
            let Some(token) = token.filter(|t| !t.is_empty()) else {
                tracing::info!(
                    reason = "malformed authorization header",
                    "rejected credentials"
                );
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Authorization must be `Bearer <token>`",
                ));
            };
            return match state.domain.authenticate_agent_key(token).await {
                Ok(actor) => Ok(Who(RequestActor::new(actor, run_id))),
                Err(e) => {
                    tracing::info!(reason = %e, "rejected credentials");
                    Err(e.into())
                }
            };
        }
        match state.mode {
            DeploymentMode::LocalTrusted => Ok(Who(RequestActor::new(
                Actor::Board {
                    user_id: LOCAL_BOARD_USER_ID.to_string(),
                    instance_admin: true,
                },
                run_id,
            ))),
            DeploymentMode::Authenticated => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in or send an API key",
            )),
        }
    }
}

/// A JSON body. Malformed JSON is a 400 (never a 500); a wrong type or unknown enum value is a
/// 400 that names the field; unknown fields are ignored. No body reads as `{}`, but for a PATCH,
/// where it is a 400.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_patch = req.method() == axum::http::Method::PATCH;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "The request body is too large",
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    format!("Could not read the request body: {e}"),
                )
            }
        })?;
        let empty = bytes.iter().all(|b| b.is_ascii_whitespace());
        if empty && is_patch {
            // A PATCH without a body changes nothing: a mistake, as in Paperclip (400).
            return Err(ApiError::bad_request(
                "body",
                "A PATCH needs a JSON object with the fields to change",
            ));
        }
        let text: &[u8] = if empty { b"{}" } else { &bytes };
        check_json_values(text)?;
        let mut de = serde_json::Deserializer::from_slice(text);
        let parsed = serde_path_to_error::deserialize(&mut de);
        if let (Ok(_), Err(trailing)) = (&parsed, de.end()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("Malformed JSON: {trailing}"),
            ));
        }
        match parsed {
            Ok(v) => Ok(Body(v)),
            Err(err) => {
                let field = err.path().to_string();
                let inner = err.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_json",
                        format!("Malformed JSON: {inner}"),
                    ))
                } else if field == "." || field.is_empty() {
                    let message = format!("Invalid body: {inner}");
                    let field = message.split('`').nth(1).unwrap_or("body").to_string();
                    Err(ApiError::bad_request(&field, message))
                } else {
                    Err(ApiError::bad_request(&field, format!("{field}: {inner}")))
                }
            }
        }
    }
}

/// Text may not contain NUL (U+0000): PostgreSQL cannot store it in text or jsonb, so it is
/// refused on every backend alike, with the field named.
fn nul_error(field: &str) -> ApiError {
    let field = if field.contains('\0') { "query" } else { field };
    ApiError::bad_request(
        field,
        format!("{field}: text must not contain NUL (\\u0000) characters"),
    )
}

/// Numbers in bodies must lie within ±1e300: PostgreSQL keeps JSON numbers as exact decimals
/// and gives them back with every digit, which near the f64 limit no longer parses.
const NUMBER_LIMIT: f64 = 1e300;

/// Refuses what some backend could not store or give back: NUL in any string or key, and
/// numbers beyond ±1e300. The body is parsed as a tree only when its raw text could hold
/// either (an escaped NUL, or a digit followed by an exponent).
fn check_json_values(text: &[u8]) -> Result<(), ApiError> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<(String, &'static str)> {
        let at = |p: &str| {
            if p.is_empty() {
                "body".to_string()
            } else {
                p.to_string()
            }
        };
        match v {
            serde_json::Value::String(s) if s.contains('\0') => Some((at(path), "nul")),
            serde_json::Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() > NUMBER_LIMIT) => {
                Some((at(path), "number"))
            }
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, item)| {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k.contains('\0') {
                    Some((at(path), "nul"))
                } else {
                    walk(item, &here)
                }
            }),
            _ => None,
        }
    }
    let nul = text.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"));
    let exponent = text
        .windows(2)
        .any(|w| w[0].is_ascii_digit() && (w[1] == b'e' || w[1] == b'E'));
    if !nul && !exponent {
        return Ok(());
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(text) else {
        return Ok(()); // malformed JSON is reported by the typed parse that follows
    };
    match walk(&v, "") {
        Some((field, "nul")) => Err(nul_error(&field)),
        Some((field, _)) => Err(ApiError::bad_request(
            &field,
            format!("{field}: numbers must lie between -1e300 and 1e300"),
        )),
        None => Ok(()),
    }
}

/// A UUID from the path, with a 404 that names the resource when it does not parse (a string
/// that is not an id cannot name an existing object).
pub fn path_id(text: &str, not_found: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text.trim())
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", not_found))
}

/// The query string as ordered pairs (keys may repeat: `status=a&status=b`).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
            .map_err(|e| ApiError::bad_request("query", format!("Invalid query string: {e}")))?;
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_error(k));
        }
        Ok(QueryPairs(pairs))
    }
}

impl QueryPairs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn uuid(&self, key: &str) -> Result<Option<Uuid>, ApiError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => Uuid::parse_str(v)
                .map(Some)
                .map_err(|_| ApiError::bad_request(key, format!("{key} must be a UUID"))),
        }
    }

    /// `true`/`1`, `false`/`0`, or absent (also when empty); anything else is a 400.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(_) => Err(ApiError::bad_request(
                key,
                format!("{key} must be true or false"),
            )),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(key, format!("{key} must be an integer"))),
        }
    }
}

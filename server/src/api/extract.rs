//! Extractors: the request's actor, JSON bodies with precise errors, ids from the path, and
//! query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use super::state::AppState;
use crate::auth::{Actor, AgentCredential, RequestActor, jwt, keys, session};
use crate::config::DeploymentMode;
use crate::net::proxies::resolve;

/// The authenticated actor of the request. A presented `Authorization` that does not resolve
/// is a 401 in every mode: never a fall-through to the board. In `authenticated` mode a session
/// cookie stands for its person, and a mutation it authenticates must come from an allowed
/// Origin.
pub struct Who(pub RequestActor);

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

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
        let mutation = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
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
                return Err(unauthorized("Authorization must be `Bearer <token>`"));
            };
            let resolved = if token.starts_with(keys::BOARD_KEY_PREFIX) {
                state.domain.authenticate_board_key(token).await
            } else if jwt::looks_like_jwt(token) {
                state.domain.authenticate_run_token(token).await
            } else {
                state.domain.authenticate_agent_key(token).await
            };
            let actor = resolved.map_err(|e| {
                tracing::info!(reason = %e, "rejected credentials");
                ApiError::from(e)
            })?;
            // A run token names its run: the header may repeat it, never contradict it.
            let run_id = match (&actor, run_id) {
                (
                    Actor::Agent {
                        credential: AgentCredential::RunToken { run_id: signed },
                        agent_id,
                        ..
                    },
                    header,
                ) => match header {
                    Some(header) if header != *signed => {
                        tracing::warn!(%agent_id, claim_run_id = %signed, header_run_id = %header, "run id header contradicts the run token");
                        return Err(ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "agent_jwt_run_id_mismatch",
                            "X-Paperclip-Run-Id does not match signed agent JWT run_id",
                        )
                        .with_details(serde_json::json!({
                            "claimRunId": signed,
                            "headerRunId": header,
                        })));
                    }
                    _ => Some(*signed),
                },
                _ => run_id,
            };
            return Ok(Who(RequestActor::new(actor, run_id, mutation)));
        }
        match state.mode {
            DeploymentMode::LocalTrusted => Ok(Who(RequestActor::new(
                Actor::local_board(),
                run_id,
                mutation,
            ))),
            DeploymentMode::Authenticated => {
                let Some(token) = session::token_from(&parts.headers, &state.auth.cookie_name)
                else {
                    return Err(unauthorized("Sign in or send an API key"));
                };
                let Some(actor) = state.domain.authenticate_session(&token).await? else {
                    return Err(unauthorized(
                        "Your session has ended or is not valid; sign in again",
                    ));
                };
                if mutation && !origin_allowed(parts, state) {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "untrusted_origin",
                        "Board mutation requires trusted browser origin (the Origin header must be this server's address)",
                    ));
                }
                Ok(Who(RequestActor::new(actor, run_id, mutation)))
            }
        }
    }
}

/// Whether the `Origin` (or else the `Referer`'s origin) is this server: the public base URL,
/// or the address the request was sent to — as a trusted proxy names it (`X-Forwarded-Host`,
/// and `X-Forwarded-Proto`, which the scheme must then match), else the `Host` header.
pub fn origin_allowed(parts: &Parts, state: &AppState) -> bool {
    let headers = &parts.headers;
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .or_else(|| headers.get(axum::http::header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok());
    let Some(origin) = origin else {
        return false;
    };
    if let Some(public) = &state.auth.public_base_url
        && public.origin() == origin.origin()
    {
        return true;
    }
    // Only a trusted proxy's word counts (an unknown peer: nobody's).
    let forwarded = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| resolve(c.0.ip(), headers, &state.auth.trusted_proxies));
    let (proto, forwarded_host) = forwarded.map(|f| (f.proto, f.host)).unwrap_or_default();
    let host = forwarded_host.or_else(|| {
        headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(|h| h.trim().to_string())
    });
    // A bare `host[:port]` only: no user info or path to move the host elsewhere.
    let host = host.filter(|h| !h.contains(['@', '/', '\\', '?', '#']));
    let scheme = proto.as_deref().unwrap_or(origin.scheme());
    // `Url::origin` compares scheme, host and port, with default ports filled in.
    host.and_then(|h| url::Url::parse(&format!("{scheme}://{h}")).ok())
        .is_some_and(|asked| asked.origin() == origin.origin())
}

/// Where the request comes from: the client's address and whether it reached us over https,
/// as the peer says, or as a trusted proxy's `X-Forwarded-*` headers say (only those).
pub struct Client {
    pub ip: IpAddr,
    pub https: bool,
    /// The `host[:port]` the client asked for, when a trusted proxy says so.
    pub host: Option<String>,
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let forwarded = resolve(peer, &parts.headers, &state.auth.trusted_proxies);
        let https = forwarded.proto.as_deref() == Some("https")
            || state
                .auth
                .public_base_url
                .as_ref()
                .is_some_and(|u| u.scheme() == "https");
        Ok(Client {
            ip: forwarded.client_ip,
            https,
            host: forwarded.host,
        })
    }
}

/// A JSON body, an object. Malformed JSON or another kind of value is a 400 (never a 500); a
/// wrong type or unknown enum value is a 400 that names the field; unknown fields are ignored.
/// No body reads as `{}`, but for a PATCH, where it is a 400.
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
        // Every body is an object: serde would otherwise read a struct from an array, `[1,2]`
        // for a body of two numbers.
        if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::bad_request(
                "body",
                "The body must be a JSON object, not an array",
            ));
        }
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

//! The one place where errors become HTTP: status + `{"error", "code", "details"?}`. The
//! user-facing message is kept apart from the logged cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paperclip_shared::ErrorBody;
use serde_json::{Value, json};

use crate::domain::DomainError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            details: Some(json!({"field": field})),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
        }
    }

    pub fn not_found_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "route_not_found",
            "API route not found",
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, "not_found", what),
            DomainError::Invalid { field, message } => ApiError::bad_request(&field, message),
            DomainError::Unauthorized(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
            }
            DomainError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            DomainError::Conflict {
                code,
                message,
                details,
            } => ApiError {
                status: StatusCode::CONFLICT,
                code,
                message,
                details,
            },
            DomainError::Rule {
                code,
                message,
                details,
            } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code,
                message,
                details,
            },
            DomainError::Unavailable(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m)
            }
            DomainError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "The change conflicts with existing data",
            ),
            StoreError::MissingReference => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_reference",
                "A referenced record does not exist",
            ),
            StoreError::Invalid(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
            }
            StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unreachable",
                    "The database is unavailable; try again",
                )
            }
            other => {
                tracing::error!(cause = %other, "store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Internal server error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut details = self.details;
        if let Some(Value::Object(map)) = &mut details {
            map.entry("code").or_insert_with(|| json!(self.code));
        }
        let body = ErrorBody {
            error: self.message,
            code: Some(self.code.to_string()),
            details,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

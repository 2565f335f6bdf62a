use serde_json::Value;
use thiserror::Error;

use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum DomainError {
    /// 404: missing, or another company's (we do not reveal which).
    #[error("{0}")]
    NotFound(&'static str),
    /// 400: a field's value is wrong.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// 401
    #[error("{0}")]
    Unauthorized(String),
    /// 403
    #[error("{0}")]
    Forbidden(String),
    /// 409: the state of the object forbids it.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// 422: a rule of the domain forbids it.
    #[error("{message}")]
    Rule {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// 503: something the operation needs is missing on this server (the secrets master key).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Rule {
            code,
            message: message.into(),
            details: None,
        }
    }
}

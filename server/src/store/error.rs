use thiserror::Error;

#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// A unique constraint refused the write (names the constraint when known).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced row does not exist (foreign key).
    #[error("a referenced record does not exist")]
    MissingReference,
    /// The database settings are wrong (found at start, before any connection).
    #[error("{0}")]
    Invalid(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(
        "database schema is version {found}, newer than this binary knows ({known}); upgrade Paperclip"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("database error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

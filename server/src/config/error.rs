use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("invalid config {}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("invalid config {}: `{field}`: {message}", path.display())]
    Field {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("invalid environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{0}")]
    Rule(String),
}

//! The PostgreSQL backend (15 or newer): sqlx `PgPool`, rustls, schema from
//! `migrations/postgres/`. Several servers may share one database: every rule that must hold
//! across them is a single conditional statement or a row lock in one transaction, and work
//! that must happen once takes the leader lock (`leader.rs`).

mod access;
mod activity;
mod agents;
mod approvals;
mod board_keys;
mod breakers;
mod comments;
mod companies;
mod connect;
mod costs;
mod impl_access;
mod impl_runs;
mod impl_secrets;
mod impl_store;
mod invites;
mod issue_batch;
mod issue_insert;
mod issues;
pub mod leader;
mod live;
mod members;
mod rows;
mod runs;
mod secrets;

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::PgPool;

pub use connect::{
    PgTarget, connect_with_retry, migrate, parse_bool, parse_pool_size, parse_url, schema_version,
};

use super::{StoreError, StoreResult};

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    target: PgTarget,
    /// Leader locks taken through `Store::try_lead`, by name.
    leaders: Arc<tokio::sync::Mutex<HashMap<String, leader::LeaderLock>>>,
    /// The live-event listener and relay (`live.rs`), stopped when the store closes.
    live_tasks: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    /// Issue creations waiting for their company's next batch (`issue_batch.rs`).
    batches: Arc<issue_batch::IssueBatches>,
}

impl PgStore {
    /// Connects (retrying with backoff while the server is unreachable, up to `wait`), applies
    /// pending migrations and refuses a schema newer than this binary.
    pub async fn open(target: PgTarget, wait: std::time::Duration) -> StoreResult<Self> {
        let pool = connect::connect_with_retry(&target, wait).await?;
        connect::migrate(&pool).await?;
        Ok(PgStore {
            pool,
            target,
            leaders: Arc::default(),
            live_tasks: Arc::default(),
            batches: Arc::default(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn target(&self) -> &PgTarget {
        &self.target
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        map_err(err)
    }
}

/// A deadlock or serialization failure: the transaction rolled back and may be tried again.
pub(crate) fn is_transient(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("23503") => StoreError::MissingReference,
            Some("23505") => StoreError::Conflict(
                db.constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| db.message().to_string()),
            ),
            // Data exceptions (a value the column cannot hold) and a value too big for an index
            // (54000): bad input, not a server fault.
            Some(code) if code.starts_with("22") || code == "54000" => {
                StoreError::Invalid(format!("the database refused a value: {}", db.message()))
            }
            // Serialization failure, deadlock, too many connections, admin shutdown.
            Some("40001" | "40P01" | "53300" | "57P01") => {
                StoreError::Unavailable(db.message().to_string())
            }
            _ => StoreError::Internal(db.message().to_string()),
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Internal(err.to_string()),
    }
}

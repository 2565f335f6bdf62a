//! The SQLite backend: rusqlite (bundled), WAL, foreign keys on, one writer connection and a
//! few read-only connections, each owned by its own thread (`threads.rs`); nothing runs on the
//! async runtime.

mod access;
mod activity;
mod agents;
mod approvals;
mod board_keys;
mod breakers;
pub(crate) mod codec;
mod comments;
mod companies;
mod costs;
mod impl_access;
mod impl_runs;
mod impl_secrets;
mod impl_store;
mod invites;
mod issues;
mod members;
mod runs;
mod secrets;
mod threads;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use super::migrations;
use super::{LiveSink, StoreError, StoreResult};
use threads::ConnectionThreads;

#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: ConnectionThreads,
    readers: ConnectionThreads,
    /// Told of each write's activity once it has committed (`Store::start_live_feed`).
    live: Arc<OnceLock<Arc<dyn LiveSink>>>,
}

/// Read-only connections: enough that a slow read does not hold up the others, few enough
/// that their page caches stay small.
fn reader_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(4, 8)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // Every statement we run fits, so none is parsed twice (the default keeps 16).
    conn.set_prepared_statement_cache_capacity(256);
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;",
    )
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, applies pending migrations, and refuses a
    /// schema newer than this binary.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut writer = Connection::open(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(map_err)?;
        configure(&writer).map_err(map_err)?;
        apply_migrations(&mut writer)?;

        let readers = (0..reader_count())
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn)?;
                Ok(conn)
            })
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| StoreError::Unavailable(format!("cannot open readers: {e}")))?;
        let spawn_failed = |e: std::io::Error| {
            StoreError::Unavailable(format!("cannot start a database thread: {e}"))
        };
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: ConnectionThreads::spawn("sqlite-writer", vec![writer])
                .map_err(spawn_failed)?,
            readers: ConnectionThreads::spawn("sqlite-reader", readers).map_err(spawn_failed)?,
            live: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on one of the read-only connections.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.readers.run(move |conn| f(conn).map_err(map_err)).await
    }

    /// Runs a write in one IMMEDIATE transaction on the writer connection.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> rusqlite::Result<T> + Send + 'static,
    {
        let live = self.live.clone();
        self.writer
            .run(move |conn| {
                activity::take_written();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(map_err)?;
                let value = f(&tx).map_err(map_err)?;
                tx.commit().map_err(map_err)?;
                // On the writer thread, so the sink hears the activity in commit order.
                let written = activity::take_written();
                if let Some(sink) = live.get().filter(|_| !written.is_empty()) {
                    sink.activity(written);
                }
                Ok(value)
            })
            .await
    }

    pub(super) fn set_live_sink(&self, sink: Arc<dyn LiveSink>) {
        let _ = self.live.set(sink);
    }

    /// Runs `f` on the writer connection outside any transaction (pragmas, checkpoints).
    async fn on_writer<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer.run(move |conn| f(conn).map_err(map_err)).await
    }
}

pub(crate) fn map_err(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(e, msg) => match e.code {
            ErrorCode::ConstraintViolation if e.extended_code == 787 => {
                StoreError::MissingReference
            }
            ErrorCode::ConstraintViolation => {
                StoreError::Conflict(msg.clone().unwrap_or_else(|| "constraint".into()))
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Internal(err.to_string()),
        },
        _ => StoreError::Internal(err.to_string()),
    }
}

/// Applies pending migrations; a database newer than this binary is refused, untouched.
pub(crate) fn apply_migrations(conn: &mut Connection) -> StoreResult<()> {
    use rusqlite_migration::{Error, MigrationDefinitionError};
    match migrations::sqlite().to_latest(conn) {
        Ok(()) => Ok(()),
        Err(Error::MigrationDefinition(MigrationDefinitionError::DatabaseTooFarAhead)) => {
            let found = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap_or(-1);
            Err(StoreError::SchemaTooNew {
                found,
                known: migrations::latest(),
            })
        }
        Err(e) => Err(StoreError::Unavailable(format!(
            "migrating the database: {e}"
        ))),
    }
}

/// The schema version recorded in a SQLite database (0 when none).
pub fn schema_version(conn: &Connection) -> StoreResult<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(map_err)
}

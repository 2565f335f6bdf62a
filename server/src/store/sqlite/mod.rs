//! The SQLite backend: rusqlite (bundled), WAL, foreign keys on, one writer connection and a
//! pool of readers; every call runs on the blocking pool, never on the async runtime.

mod activity;
mod agents;
mod codec;
mod companies;
mod impl_store;
mod issues;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

use super::migrations::{self, Migration};
use super::{StoreError, StoreResult};

#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
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
        apply_migrations(&mut writer, migrations::SQLITE)?;

        let manager = SqliteConnectionManager::file(path)
            .with_flags(
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .with_init(|conn: &mut Connection| configure(conn));
        let readers = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(manager)
            .map_err(|e| StoreError::Unavailable(format!("cannot open readers: {e}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Arc::new(Mutex::new(writer)),
            readers,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on a pooled read-only connection, off the async runtime.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        run_blocking(move || {
            let conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            f(&conn).map_err(map_err)
        })
        .await
    }

    /// Runs a write in one IMMEDIATE transaction on the single writer connection.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> rusqlite::Result<T> + Send + 'static,
    {
        let writer = self.writer.clone();
        run_blocking(move || {
            let mut conn = writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(map_err)?;
            let value = f(&tx).map_err(map_err)?;
            tx.commit().map_err(map_err)?;
            Ok(value)
        })
        .await
    }
}

/// `spawn_blocking` that re-raises a panic of the closure instead of hiding it.
async fn run_blocking<T, F>(f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(StoreError::Unavailable(format!(
            "database task cancelled: {err}"
        ))),
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

fn apply_migrations(conn: &mut Connection, list: &[Migration]) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _paperclip_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .map_err(map_err)?;
    let current: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM _paperclip_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(map_err)?;
    let known = migrations::latest(list);
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for m in list.iter().filter(|m| m.version > current) {
        let tx = conn.transaction().map_err(map_err)?;
        tx.execute_batch(m.sql).map_err(map_err)?;
        tx.execute(
            "INSERT INTO _paperclip_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.name, codec::ts(chrono::Utc::now())],
        )
        .map_err(map_err)?;
        tx.commit().map_err(map_err)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

//! `paperclip db copy`: every table of an instance from one database to another (SQLite or
//! PostgreSQL, either way), in dependency order, inside one transaction on the target. A reader
//! streams batches from a consistent snapshot of the source; the writer inserts them, then
//! reads every table back and compares row counts and checksums before it commits. Any failure
//! (or an interrupted copy) rolls back: the target is left as it was.

mod postgres;
pub mod reseal;
pub mod schema;
mod sqlite;
pub mod tables;

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::postgres::{PgTarget, parse_url};
use super::{StoreError, StoreResult, migrations};
use schema::{Kind, Table};
use tables::TABLES;

/// One end of a copy.
#[derive(Debug, Clone)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(Box<PgTarget>),
}

impl Location {
    /// `postgres://…` / `postgresql://…` is PostgreSQL; `sqlite:<path>` or a plain path is a
    /// SQLite file.
    pub fn parse(text: &str) -> StoreResult<Location> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Location::Postgres(Box::new(parse_url(text)?)));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or(text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        if path.is_empty() || path.contains("://") {
            return Err(StoreError::Invalid(format!(
                "{text:?} is neither a postgres:// URL nor a SQLite file path"
            )));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(p) => format!("sqlite {}", p.display()),
            Location::Postgres(t) => t.describe(),
        }
    }
}

/// A column value, typed the same way for both dialects.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Text(String),
    Uuid(Uuid),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    Json(serde_json::Value),
}

pub type Row = Vec<Val>;

/// Order-independent fingerprint of a table: the row count and the wrapping sum of each row's
/// SHA-256 (first 8 bytes) over a canonical text form, so both dialects agree whatever order
/// they return rows in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub rows: u64,
    pub sum: u64,
}

impl Fingerprint {
    pub fn add(&mut self, row: &Row) {
        let mut h = Sha256::new();
        for v in row {
            match v {
                Val::Null => h.update(b"\x00"),
                Val::Text(t) => h.update(t.as_bytes()),
                Val::Uuid(u) => h.update(u.to_string().as_bytes()),
                Val::Int(i) => h.update(i.to_string().as_bytes()),
                Val::Bool(b) => h.update(if *b { b"true" as &[u8] } else { b"false" }),
                Val::Time(t) => h.update(t.to_rfc3339_opts(SecondsFormat::Micros, true).as_bytes()),
                // serde_json's map is sorted, so this text is canonical.
                Val::Json(j) => h.update(j.to_string().as_bytes()),
            }
            h.update(b"\x1f");
        }
        let digest = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u64::from_le_bytes(first));
    }

    pub fn short(&self) -> String {
        format!("{:016x}", self.sum)
    }
}

/// What the reader sends the writer, table by table in `TABLES` order.
pub enum Msg {
    Batch(usize, Vec<Row>),
    /// The table is fully read; its source fingerprint.
    Done(usize, Fingerprint),
}

pub const BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct TableReport {
    pub table: &'static str,
    pub rows: u64,
    pub checksum: String,
}

/// Copies `from` into `to`. Refuses a target that holds data (anything beyond the built-in
/// board user a server creates at start) unless `force`, which replaces it. `progress` gets
/// one line per table and one per 10,000 rows of a large one.
/// With `reseal`, secret versions are opened with the source's master key and sealed again
/// with the target's on the way.
pub async fn copy(
    from: &Location,
    to: &Location,
    force: bool,
    reseal: Option<reseal::Reseal>,
    progress: &(dyn Fn(String) + Sync),
) -> StoreResult<Vec<TableReport>> {
    if from.describe() == to.describe() {
        return Err(StoreError::Invalid(
            "--from and --to are the same database".into(),
        ));
    }
    let (tx, rx) = mpsc::channel::<Msg>(8);
    // Re-sealing sits between reader and writer when asked for.
    let (tx, rx, resealer) = match reseal {
        None => (tx, rx, None),
        Some(keys) => {
            let (mid_tx, mid_rx) = mpsc::channel::<Msg>(8);
            let stage = tokio::spawn(reseal::run(keys, rx, mid_tx));
            (tx, mid_rx, Some(stage))
        }
    };
    let reader = match from {
        Location::Sqlite(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || sqlite::read_all(&path, tx))
        }
        Location::Postgres(target) => {
            let target = (**target).clone();
            tokio::spawn(async move { postgres::read_all(&target, tx).await })
        }
    };
    let written = match to {
        Location::Sqlite(path) => {
            let path = path.clone();
            // The SQLite writer is synchronous: it runs on its own thread and reports through
            // a channel so `progress` stays on this task.
            let (ptx, mut prx) = mpsc::unbounded_channel::<String>();
            let writer =
                tokio::task::spawn_blocking(move || sqlite::write_all(&path, rx, force, &ptx));
            while let Some(line) = prx.recv().await {
                progress(line);
            }
            writer
                .await
                .map_err(|e| StoreError::Internal(format!("copy writer: {e}")))?
        }
        Location::Postgres(target) => postgres::write_all(target, rx, force, progress).await,
    };
    // A writer that failed stops reading, and the reader ends on its closed channel; a reader
    // that failed closes the channel early, and the writer rolls back. The reader's error is
    // the cause when there is one.
    // A re-sealing failure is the cause of whatever the reader and writer then saw.
    if let Some(stage) = resealer {
        stage
            .await
            .map_err(|e| StoreError::Internal(format!("copy re-sealing: {e}")))??;
    }
    reader
        .await
        .map_err(|e| StoreError::Internal(format!("copy reader: {e}")))??;
    written
}

/// The writer's bookkeeping: what the source said about each table.
struct Received {
    source: Vec<Option<Fingerprint>>,
    rows: Vec<u64>,
}

impl Received {
    fn new() -> Self {
        Received {
            source: vec![None; TABLES.len()],
            rows: vec![0; TABLES.len()],
        }
    }

    /// Counts a batch; a progress line at each 10,000 rows of a table.
    fn batch(&mut self, table: usize, n: usize, progress: &dyn Fn(String)) {
        let before = self.rows[table] / 10_000;
        self.rows[table] += n as u64;
        if self.rows[table] / 10_000 > before {
            progress(format!(
                "  {:<22} {:>9} rows…",
                TABLES[table].name, self.rows[table]
            ));
        }
    }

    fn done(&mut self, table: usize, fp: Fingerprint, progress: &dyn Fn(String)) {
        self.source[table] = Some(fp);
        progress(format!(
            "  {:<22} {:>9} rows copied",
            TABLES[table].name, fp.rows
        ));
    }

    /// Every table's source fingerprint, or an error when the source stopped early.
    fn complete(&self) -> StoreResult<Vec<Fingerprint>> {
        self.source
            .iter()
            .enumerate()
            .map(|(i, fp)| {
                fp.ok_or_else(|| {
                    StoreError::Unavailable(format!(
                        "the source stopped before {} was read; nothing was written",
                        TABLES[i].name
                    ))
                })
            })
            .collect()
    }
}

/// Compares the target's fingerprint of a table with the source's.
fn verify(table: usize, source: Fingerprint, target: Fingerprint) -> StoreResult<TableReport> {
    let name = TABLES[table].name;
    if source != target {
        return Err(StoreError::Internal(format!(
            "verification failed for {name}: source {} rows (checksum {}), target {} rows (checksum {}); nothing was written",
            source.rows,
            source.short(),
            target.rows,
            target.short()
        )));
    }
    Ok(TableReport {
        table: name,
        rows: target.rows,
        checksum: target.short(),
    })
}

fn kinds(table: usize) -> impl Iterator<Item = Kind> {
    TABLES[table].columns.iter().map(|(_, k)| *k)
}

/// The source must be at this binary's schema version (the copy knows its columns only).
fn source_at_latest(source: &str, version: i64) -> StoreResult<()> {
    if version == migrations::latest() {
        return Ok(());
    }
    Err(StoreError::Invalid(format!(
        "the source {source} has schema version {version}, this binary copies version {}; start this \
         Paperclip on it once (or `paperclip db migrate` with it configured) first",
        migrations::latest()
    )))
}

/// A database's columns of `table` must be exactly the ones `TABLES` lists.
fn same_columns(table: &Table, found: std::collections::HashSet<String>) -> StoreResult<()> {
    let listed: std::collections::HashSet<String> =
        table.columns.iter().map(|(c, _)| c.to_string()).collect();
    if found != listed {
        return Err(StoreError::Internal(format!(
            "table {} has columns {found:?}, the copy knows {listed:?}",
            table.name
        )));
    }
    Ok(())
}

/// Counts a table's rows that are data, not what every server creates at start (the built-in
/// board user and its role).
fn data_rows_sql(table: &str) -> String {
    let filter = match table {
        "users" => " WHERE id <> 'local-board'",
        "instance_user_roles" => " WHERE user_id <> 'local-board'",
        _ => "",
    };
    format!("SELECT COUNT(*) FROM {table}{filter}")
}

/// The message for a target that already holds data.
fn not_empty(what: &str, rows: i64) -> StoreError {
    StoreError::Invalid(format!(
        "the target already holds data ({rows} rows in {what}); pass --force to replace everything in it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_row_order_and_see_any_change() {
        let rows: Vec<Row> = (0..50)
            .map(|n| {
                vec![
                    Val::Int(n),
                    Val::Text(format!("row {n}")),
                    Val::Null,
                    Val::Json(serde_json::json!({"b": n, "a": [1, 2]})),
                ]
            })
            .collect();
        let mut forward = Fingerprint::default();
        rows.iter().for_each(|r| forward.add(r));
        let mut backward = Fingerprint::default();
        rows.iter().rev().for_each(|r| backward.add(r));
        assert_eq!(forward, backward);
        assert_eq!(forward.rows, 50);

        let mut changed = rows.clone();
        changed[7][1] = Val::Text("row 7 ".into());
        let mut other = Fingerprint::default();
        changed.iter().for_each(|r| other.add(r));
        assert_ne!(forward, other);
        // NULL and empty text differ.
        let (mut a, mut b) = (Fingerprint::default(), Fingerprint::default());
        a.add(&vec![Val::Null]);
        b.add(&vec![Val::Text(String::new())]);
        assert_ne!(a, b);
    }

    #[test]
    fn locations_parse_and_describe_without_passwords() {
        assert!(
            matches!(Location::parse("sqlite:/tmp/x.db").unwrap(), Location::Sqlite(p) if p.ends_with("x.db"))
        );
        assert!(matches!(
            Location::parse("./x.db").unwrap(),
            Location::Sqlite(_)
        ));
        let pg = Location::parse("postgres://u:hunter2@h:5433/db").unwrap();
        assert_eq!(pg.describe(), "postgres u@h:5433/db");
        assert!(Location::parse("mysql://h/db").is_err());
        assert!(Location::parse("").is_err());
    }
}

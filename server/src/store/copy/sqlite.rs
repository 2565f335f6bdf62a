//! The SQLite end of a copy: read a snapshot, or write everything in one transaction.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params_from_iter};
use tokio::sync::mpsc;

use super::schema::Kind;
use super::tables::TABLES;
use super::{
    BATCH, Fingerprint, Msg, Received, Row, TableReport, Val, data_rows_sql, kinds, not_empty,
    same_columns, source_at_latest, verify,
};
use crate::store::sqlite::{apply_migrations, map_err, schema_version};
use crate::store::{StoreError, StoreResult};

type R<T> = rusqlite::Result<T>;

fn bad(col: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, what.into())
}

fn read_row(r: &rusqlite::Row, table: usize) -> R<Row> {
    kinds(table)
        .enumerate()
        .map(|(i, kind)| {
            let text = |r: &rusqlite::Row| r.get::<_, Option<String>>(i);
            Ok(match kind {
                Kind::Text => text(r)?.map_or(Val::Null, Val::Text),
                Kind::Int => r.get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::Int),
                Kind::Bool => r
                    .get::<_, Option<i64>>(i)?
                    .map_or(Val::Null, |b| Val::Bool(b != 0)),
                Kind::Uuid => match text(r)? {
                    None => Val::Null,
                    Some(t) => Val::Uuid(t.parse().map_err(|e| bad(i, format!("{t:?}: {e}")))?),
                },
                Kind::Time => match text(r)? {
                    None => Val::Null,
                    Some(t) => Val::Time(
                        DateTime::parse_from_rfc3339(&t)
                            .map_err(|e| bad(i, format!("{t:?}: {e}")))?
                            .with_timezone(&Utc),
                    ),
                },
                Kind::Json => match text(r)? {
                    None => Val::Null,
                    Some(t) => {
                        Val::Json(serde_json::from_str(&t).map_err(|e| bad(i, format!("{e}")))?)
                    }
                },
            })
        })
        .collect()
}

fn to_sql(v: &Val) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(match v {
        Val::Null => Value::Null,
        Val::Text(t) => Value::Text(t.clone()),
        Val::Uuid(u) => Value::Text(u.to_string()),
        Val::Int(i) => Value::Integer(*i),
        Val::Bool(b) => Value::Integer(i64::from(*b)),
        Val::Time(t) => Value::Text(crate::store::sqlite::codec::ts(*t)),
        Val::Json(j) => Value::Text(j.to_string()),
    })
}

/// The database's columns must be exactly the ones `TABLES` lists.
fn check_columns(conn: &Connection) -> StoreResult<()> {
    for t in TABLES {
        let mut stmt = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{}')", t.name))
            .map_err(map_err)?;
        let found: HashSet<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(map_err)?
            .collect::<R<_>>()
            .map_err(map_err)?;
        same_columns(t, found)?;
    }
    Ok(())
}

/// Streams every table from one read transaction (a consistent snapshot).
pub fn read_all(path: &Path, tx: mpsc::Sender<Msg>) -> StoreResult<()> {
    if !path.is_file() {
        return Err(StoreError::Invalid(format!(
            "no SQLite database at {}",
            path.display()
        )));
    }
    let mut conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(map_err)?;
    let version = schema_version(&conn)?;
    source_at_latest(&path.display().to_string(), version)?;
    check_columns(&conn)?;
    let snapshot = conn.transaction().map_err(map_err)?;
    for (i, table) in TABLES.iter().enumerate() {
        let mut stmt = snapshot
            .prepare(&format!(
                "SELECT {} FROM {}",
                table.column_list(),
                table.name
            ))
            .map_err(map_err)?;
        let mut rows = stmt.query([]).map_err(map_err)?;
        let mut fp = Fingerprint::default();
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(r) = rows.next().map_err(map_err)? {
            let row = read_row(r, i).map_err(map_err)?;
            fp.add(&row);
            batch.push(row);
            if batch.len() == BATCH
                && tx
                    .blocking_send(Msg::Batch(i, std::mem::take(&mut batch)))
                    .is_err()
            {
                return Ok(()); // the writer gave up; its error is the one to report
            }
        }
        if !batch.is_empty() && tx.blocking_send(Msg::Batch(i, batch)).is_err() {
            return Ok(());
        }
        if tx.blocking_send(Msg::Done(i, fp)).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Rows that are not just what every server creates at start (the built-in board user).
fn data_rows(conn: &Connection) -> R<Option<(&'static str, i64)>> {
    for t in TABLES {
        let n: i64 = conn.query_row(&data_rows_sql(t.name), [], |r| r.get(0))?;
        if n > 0 {
            return Ok(Some((t.name, n)));
        }
    }
    Ok(None)
}

/// Creates (or opens) the target, migrates it, and writes everything in one transaction that
/// commits only when every table reads back identical to the source.
pub fn write_all(
    path: &Path,
    mut rx: mpsc::Receiver<Msg>,
    force: bool,
    progress: &mpsc::UnboundedSender<String>,
) -> StoreResult<Vec<TableReport>> {
    let say = |line: String| {
        let _ = progress.send(line);
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    let mut conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(map_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(map_err)?;
    apply_migrations(&mut conn)?;
    check_columns(&conn)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    // References are checked at commit, so parents may arrive after their children.
    tx.execute_batch("PRAGMA defer_foreign_keys = ON")
        .map_err(map_err)?;
    if let Some((table, n)) = data_rows(&tx).map_err(map_err)? {
        if !force {
            return Err(not_empty(table, n));
        }
        say(format!(
            "  --force: replacing {n}+ rows already in the target"
        ));
    }
    for t in TABLES.iter().rev() {
        tx.execute(&format!("DELETE FROM {}", t.name), [])
            .map_err(map_err)?;
    }
    let mut got = Received::new();
    let report = |line: String| say(line);
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Batch(i, rows) => {
                let t = &TABLES[i];
                let marks = vec!["?"; t.columns.len()].join(", ");
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "INSERT INTO {} ({}) VALUES ({marks})",
                        t.name,
                        t.column_list()
                    ))
                    .map_err(map_err)?;
                for row in &rows {
                    stmt.execute(params_from_iter(row.iter().map(to_sql)))
                        .map_err(map_err)?;
                }
                got.batch(i, rows.len(), &report);
            }
            Msg::Done(i, fp) => got.done(i, fp, &report),
        }
    }
    let sources = got.complete()?;
    // issue_count is recounted from the copied rows (cheap, and right whatever the source held).
    tx.execute(
        "UPDATE companies SET issue_count = (SELECT COUNT(*) FROM issues WHERE issues.company_id = companies.id)",
        [],
    )
    .map_err(map_err)?;
    let mut reports = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        let t = &TABLES[i];
        let mut stmt = tx
            .prepare(&format!("SELECT {} FROM {}", t.column_list(), t.name))
            .map_err(map_err)?;
        let mut rows = stmt.query([]).map_err(map_err)?;
        let mut fp = Fingerprint::default();
        while let Some(r) = rows.next().map_err(map_err)? {
            fp.add(&read_row(r, i).map_err(map_err)?);
        }
        reports.push(verify(i, source, fp)?);
    }
    tx.commit().map_err(map_err)?;
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_schema_has_exactly_the_columns_the_copy_knows() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply_migrations(&mut conn).unwrap();
        check_columns(&conn).unwrap();
    }
}

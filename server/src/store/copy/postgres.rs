//! The PostgreSQL end of a copy: read a REPEATABLE READ snapshot, or write everything in one
//! transaction with multi-row INSERTs.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder, Row as _};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::schema::Kind;
use super::tables::TABLES;
use super::{
    BATCH, Fingerprint, Msg, Received, Row, TableReport, Val, data_rows_sql, kinds, not_empty,
    same_columns, source_at_latest, verify,
};
use crate::store::StoreResult;
use crate::store::postgres::{PgTarget, schema_version};

type R<T> = Result<T, sqlx::Error>;

fn read_row(r: &PgRow, table: usize) -> R<Row> {
    kinds(table)
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Text => r
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Val::Null, Val::Text),
                Kind::Uuid => r
                    .try_get::<Option<Uuid>, _>(i)?
                    .map_or(Val::Null, Val::Uuid),
                Kind::Int => r.try_get::<Option<i64>, _>(i)?.map_or(Val::Null, Val::Int),
                Kind::Bool => r
                    .try_get::<Option<bool>, _>(i)?
                    .map_or(Val::Null, Val::Bool),
                Kind::Time => r
                    .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i)?
                    .map_or(Val::Null, Val::Time),
                Kind::Json => r
                    .try_get::<Option<serde_json::Value>, _>(i)?
                    .map_or(Val::Null, Val::Json),
            })
        })
        .collect()
}

/// Binds one value as its column's type (a NULL is typed too).
fn push_val(b: &mut Separated<'_, Postgres, &str>, kind: Kind, v: &Val) {
    match (kind, v) {
        (_, Val::Text(t)) => b.push_bind(t.clone()),
        (_, Val::Uuid(u)) => b.push_bind(*u),
        (_, Val::Int(i)) => b.push_bind(*i),
        (_, Val::Bool(x)) => b.push_bind(*x),
        (_, Val::Time(t)) => b.push_bind(*t),
        (_, Val::Json(j)) => b.push_bind(j.clone()),
        (Kind::Text, Val::Null) => b.push_bind(None::<String>),
        (Kind::Uuid, Val::Null) => b.push_bind(None::<Uuid>),
        (Kind::Int, Val::Null) => b.push_bind(None::<i64>),
        (Kind::Bool, Val::Null) => b.push_bind(None::<bool>),
        (Kind::Time, Val::Null) => b.push_bind(None::<chrono::DateTime<chrono::Utc>>),
        (Kind::Json, Val::Null) => b.push_bind(None::<serde_json::Value>),
    };
}

async fn check_columns(c: &mut PgConnection) -> StoreResult<()> {
    for t in TABLES {
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(t.name)
        .fetch_all(&mut *c)
        .await?;
        let found: HashSet<String> = found.into_iter().collect();
        same_columns(t, found)?;
    }
    Ok(())
}

/// Streams every table from one REPEATABLE READ, READ ONLY transaction (a consistent snapshot).
pub async fn read_all(target: &PgTarget, tx: mpsc::Sender<Msg>) -> StoreResult<()> {
    let pool = crate::store::postgres::connect_with_retry(target, Duration::from_secs(10)).await?;
    let version = schema_version(&pool).await?;
    source_at_latest(&target.describe(), version)?;
    let mut c = pool.acquire().await?;
    check_columns(&mut c).await?;
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *c)
        .await?;
    for (i, table) in TABLES.iter().enumerate() {
        let sql = format!("SELECT {} FROM {}", table.column_list(), table.name);
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *c);
        let mut fp = Fingerprint::default();
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(r) = rows.try_next().await? {
            let row = read_row(&r, i)?;
            fp.add(&row);
            batch.push(row);
            if batch.len() == BATCH
                && tx
                    .send(Msg::Batch(i, std::mem::take(&mut batch)))
                    .await
                    .is_err()
            {
                return Ok(()); // the writer gave up; its error is the one to report
            }
        }
        drop(rows);
        if !batch.is_empty() && tx.send(Msg::Batch(i, batch)).await.is_err() {
            return Ok(());
        }
        if tx.send(Msg::Done(i, fp)).await.is_err() {
            return Ok(());
        }
    }
    sqlx::query("COMMIT").execute(&mut *c).await?;
    Ok(())
}

/// Rows that are not just what every server creates at start (the built-in board user).
async fn data_rows(c: &mut PgConnection) -> R<Option<(&'static str, i64)>> {
    for t in TABLES {
        let sql = data_rows_sql(t.name);
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&mut *c)
            .await?;
        if n > 0 {
            return Ok(Some((t.name, n)));
        }
    }
    Ok(None)
}

async fn insert_batch(c: &mut PgConnection, table: usize, rows: &[Row]) -> R<Vec<(Uuid, Uuid)>> {
    let t = &TABLES[table];
    let self_ref = t
        .self_ref
        .and_then(|col| t.columns.iter().position(|(c, _)| *c == col));
    let mut later = Vec::new();
    let mut q =
        QueryBuilder::<Postgres>::new(format!("INSERT INTO {} ({}) ", t.name, t.column_list()));
    q.push_values(rows, |mut b, row| {
        for (n, (kind, v)) in kinds(table).zip(row).enumerate() {
            if Some(n) == self_ref {
                if let (Val::Uuid(id), Val::Uuid(parent)) = (&row[0], v) {
                    later.push((*id, *parent));
                }
                push_val(&mut b, kind, &Val::Null);
            } else {
                push_val(&mut b, kind, v);
            }
        }
    });
    q.build().execute(&mut *c).await?;
    Ok(later)
}

/// Sets the self references held back while the table's rows went in.
async fn link(c: &mut PgConnection, table: usize, pairs: &[(Uuid, Uuid)]) -> R<()> {
    let t = &TABLES[table];
    let (Some(col), false) = (t.self_ref, pairs.is_empty()) else {
        return Ok(());
    };
    let (ids, parents): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    let sql = format!(
        "UPDATE {0} SET {col} = v.parent FROM UNNEST($1::uuid[], $2::uuid[]) AS v(id, parent)
         WHERE {0}.{1} = v.id",
        t.name, t.key[0]
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(ids)
        .bind(parents)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Migrates the target and writes everything in one transaction that commits only when every
/// table reads back identical to the source.
pub async fn write_all(
    target: &PgTarget,
    mut rx: mpsc::Receiver<Msg>,
    force: bool,
    progress: &(dyn Fn(String) + Sync),
) -> StoreResult<Vec<TableReport>> {
    let pool = crate::store::postgres::connect_with_retry(target, Duration::from_secs(10)).await?;
    crate::store::postgres::migrate(&pool).await?;
    let mut tx = pool.begin().await?;
    // Copied history is not news: the activity trigger announces nothing for this transaction.
    sqlx::query("SET LOCAL paperclip.quiet_activity = 'on'")
        .execute(&mut *tx)
        .await?;
    check_columns(&mut tx).await?;
    if let Some((table, n)) = data_rows(&mut tx).await? {
        if !force {
            return Err(not_empty(table, n));
        }
        progress(format!(
            "  --force: replacing {n}+ rows already in the target"
        ));
    }
    let all: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    sqlx::query(AssertSqlSafe(format!(
        "TRUNCATE {} RESTART IDENTITY",
        all.join(", ")
    )))
    .execute(&mut *tx)
    .await?;
    let mut got = Received::new();
    let mut held_back: Vec<(Uuid, Uuid)> = Vec::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Batch(i, rows) => {
                held_back.extend(insert_batch(&mut tx, i, &rows).await?);
                got.batch(i, rows.len(), progress);
            }
            Msg::Done(i, fp) => {
                link(&mut tx, i, &held_back).await?;
                held_back.clear();
                got.done(i, fp, progress);
            }
        }
    }
    let sources = got.complete()?;
    // issue_count is recounted from the copied rows (cheap, and right whatever the source held),
    // and the identity sequences must continue after the copied numbers.
    sqlx::query(
        "UPDATE companies SET issue_count = (SELECT COUNT(*) FROM issues WHERE issues.company_id = companies.id)",
    )
    .execute(&mut *tx)
    .await?;
    for (table, column) in [("activity_log", "seq"), ("heartbeat_run_events", "id")] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false)
             FROM {table}"
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    let mut reports = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        let t = &TABLES[i];
        let sql = format!("SELECT {} FROM {}", t.column_list(), t.name);
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *tx);
        let mut fp = Fingerprint::default();
        while let Some(r) = rows.try_next().await? {
            fp.add(&read_row(&r, i)?);
        }
        drop(rows);
        reports.push(verify(i, source, fp)?);
    }
    tx.commit().await?;
    pool.close().await;
    Ok(reports)
}

//! The activity log: appended in the transaction of the change it records.

use paperclip_shared::ActivityEntry;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgConnection, Postgres};

use super::rows;
use crate::store::ActivityFilter;

type R<T> = Result<T, sqlx::Error>;

/// The activity columns, in the order `unnest` and `bind` use.
pub const COLUMNS: &str = "id, company_id, actor_type, actor_id, action, entity_type, entity_id, agent_id, run_id, details, created_at";

/// `UNNEST(...) AS a(COLUMNS)` over eleven array parameters starting at `$first`: entries as
/// rows, for an INSERT ... SELECT inside a larger statement.
pub fn unnest(first: usize) -> String {
    format!("UNNEST({}) AS a({COLUMNS})", arrays(first))
}

/// `unnest` with one more array, `$(first + 11)::uuid[]`, naming the row each entry belongs
/// to (`tag`), and the entries' order (`ord`, from 1).
pub fn unnest_tagged(first: usize) -> String {
    format!(
        "UNNEST({}, ${}::uuid[]) WITH ORDINALITY AS a({COLUMNS}, tag, ord)",
        arrays(first),
        first + 11
    )
}

fn arrays(first: usize) -> String {
    let types = [
        "uuid",
        "uuid",
        "text",
        "text",
        "text",
        "text",
        "text",
        "uuid",
        "uuid",
        "jsonb",
        "timestamptz",
    ];
    let arrays: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(n, t)| format!("${}::{t}[]", first + n))
        .collect();
    arrays.join(", ")
}

/// Binds the eleven arrays of `unnest`.
pub fn bind<'q>(
    q: Query<'q, Postgres, PgArguments>,
    entries: &[ActivityEntry],
) -> Query<'q, Postgres, PgArguments> {
    let text = |f: fn(&ActivityEntry) -> String| entries.iter().map(f).collect::<Vec<_>>();
    q.bind(entries.iter().map(|e| e.id).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.company_id).collect::<Vec<_>>())
        .bind(text(|e| e.actor_type.as_str().to_string()))
        .bind(text(|e| e.actor_id.clone()))
        .bind(text(|e| e.action.clone()))
        .bind(text(|e| e.entity_type.clone()))
        .bind(text(|e| e.entity_id.clone()))
        .bind(entries.iter().map(|e| e.agent_id).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.run_id).collect::<Vec<_>>())
        .bind(
            entries
                .iter()
                .map(|e| e.details.clone())
                .collect::<Vec<_>>(),
        )
        .bind(entries.iter().map(|e| e.created_at).collect::<Vec<_>>())
}

/// All entries in one statement (one round trip, however many there are).
pub async fn insert(c: &mut PgConnection, entries: &[ActivityEntry]) -> R<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO activity_log ({COLUMNS}) SELECT {COLUMNS} FROM {}",
        unnest(1)
    );
    bind(sqlx::query(AssertSqlSafe(sql)), entries)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn list(c: &mut PgConnection, f: ActivityFilter) -> R<Vec<ActivityEntry>> {
    sqlx::query(
        "SELECT * FROM activity_log WHERE company_id = $1
           AND ($2::uuid IS NULL OR agent_id = $2)
           AND ($3::text IS NULL OR entity_type = $3)
           AND ($4::text IS NULL OR entity_id = $4)
         ORDER BY seq DESC LIMIT $5 OFFSET $6",
    )
    .bind(f.company_id)
    .bind(f.agent_id)
    .bind(f.entity_type)
    .bind(f.entity_id)
    .bind(f.limit)
    .bind(f.offset)
    .try_map(|r| rows::activity(&r))
    .fetch_all(&mut *c)
    .await
}

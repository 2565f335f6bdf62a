//! The activity log: appended in the transaction of the change it records.

use paperclip_shared::ActivityEntry;
use sqlx::PgConnection;

use super::rows;
use crate::store::ActivityFilter;

type R<T> = Result<T, sqlx::Error>;

/// All entries in one statement (one round trip, however many there are).
pub async fn insert(c: &mut PgConnection, entries: &[ActivityEntry]) -> R<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&ActivityEntry) -> String| entries.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO activity_log (id, company_id, actor_type, actor_id, action, entity_type,
            entity_id, agent_id, run_id, details, created_at)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::uuid[], $9::uuid[], $10::jsonb[], $11::timestamptz[])",
    )
    .bind(entries.iter().map(|e| e.id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.company_id).collect::<Vec<_>>())
    .bind(col(|e| e.actor_type.as_str().to_string()))
    .bind(col(|e| e.actor_id.clone()))
    .bind(col(|e| e.action.clone()))
    .bind(col(|e| e.entity_type.clone()))
    .bind(col(|e| e.entity_id.clone()))
    .bind(entries.iter().map(|e| e.agent_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.run_id).collect::<Vec<_>>())
    .bind(
        entries
            .iter()
            .map(|e| e.details.clone())
            .collect::<Vec<_>>(),
    )
    .bind(entries.iter().map(|e| e.created_at).collect::<Vec<_>>())
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

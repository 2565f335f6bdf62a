//! The activity log: appended in the transaction of the change it records.

use paperclip_shared::ActivityEntry;
use sqlx::PgConnection;

use super::rows;
use crate::store::ActivityFilter;

type R<T> = Result<T, sqlx::Error>;

pub async fn insert(c: &mut PgConnection, entries: &[ActivityEntry]) -> R<()> {
    for e in entries {
        sqlx::query(
            "INSERT INTO activity_log (id, company_id, actor_type, actor_id, action, entity_type,
                entity_id, agent_id, run_id, details, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.id)
        .bind(e.company_id)
        .bind(e.actor_type.as_str())
        .bind(&e.actor_id)
        .bind(&e.action)
        .bind(&e.entity_type)
        .bind(&e.entity_id)
        .bind(e.agent_id)
        .bind(e.run_id)
        .bind(&e.details)
        .bind(e.created_at)
        .execute(&mut *c)
        .await?;
    }
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

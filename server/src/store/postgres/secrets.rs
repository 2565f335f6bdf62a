//! Company secrets and their sealed versions (PostgreSQL).

use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::rows::enumeration;
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

fn secret_from(r: &PgRow) -> R<SecretRecord> {
    Ok(SecretRecord {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        key: r.try_get("key")?,
        name: r.try_get("name")?,
        provider: r.try_get("provider")?,
        status: enumeration(r, "status", SecretStatus::parse)?,
        managed_mode: r.try_get("managed_mode")?,
        external_ref: r.try_get("external_ref")?,
        provider_metadata: r.try_get("provider_metadata")?,
        latest_version: r.try_get("latest_version")?,
        description: r.try_get("description")?,
        last_resolved_at: r.try_get("last_resolved_at")?,
        last_rotated_at: r.try_get("last_rotated_at")?,
        created_by_agent_id: r.try_get("created_by_agent_id")?,
        created_by_user_id: r.try_get("created_by_user_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn version_from(r: &PgRow) -> R<SecretVersionRecord> {
    Ok(SecretVersionRecord {
        id: r.try_get("id")?,
        secret_id: r.try_get("secret_id")?,
        version: r.try_get("version")?,
        ciphertext: r.try_get("ciphertext")?,
        created_by_agent_id: r.try_get("created_by_agent_id")?,
        created_by_user_id: r.try_get("created_by_user_id")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Newest first; the count is of the company's agents and projects whose configuration names
/// the secret's id (a UUID inside `adapter_config` or a project's `env` is a reference).
pub async fn list(c: &mut PgConnection, company_id: Uuid) -> R<Vec<(SecretRecord, i64)>> {
    sqlx::query(
        "SELECT s.*, (SELECT COUNT(*) FROM agents a
                      WHERE a.company_id = s.company_id
                        AND strpos(a.adapter_config::text, s.id::text) > 0)
                   + (SELECT COUNT(*) FROM projects p
                      WHERE p.company_id = s.company_id
                        AND strpos(p.env::text, s.id::text) > 0) AS reference_count
         FROM company_secrets s WHERE s.company_id = $1 ORDER BY s.created_at DESC, s.id",
    )
    .bind(company_id)
    .try_map(|r: PgRow| Ok((secret_from(&r)?, r.try_get("reference_count")?)))
    .fetch_all(c)
    .await
}

pub async fn get(c: &mut PgConnection, secret: Uuid) -> R<Option<SecretRecord>> {
    sqlx::query("SELECT * FROM company_secrets WHERE id = $1")
        .bind(secret)
        .try_map(|r: PgRow| secret_from(&r))
        .fetch_optional(c)
        .await
}

pub async fn insert(c: &mut PgConnection, s: &SecretRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO company_secrets (id, company_id, key, name, provider, status, managed_mode,
            external_ref, provider_metadata, latest_version, description, last_resolved_at,
            last_rotated_at, created_by_agent_id, created_by_user_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(s.id)
    .bind(s.company_id)
    .bind(&s.key)
    .bind(&s.name)
    .bind(&s.provider)
    .bind(s.status.as_str())
    .bind(&s.managed_mode)
    .bind(&s.external_ref)
    .bind(&s.provider_metadata)
    .bind(s.latest_version)
    .bind(&s.description)
    .bind(s.last_resolved_at)
    .bind(s.last_rotated_at)
    .bind(s.created_by_agent_id)
    .bind(&s.created_by_user_id)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn insert_version(c: &mut PgConnection, v: &SecretVersionRecord, status: &str) -> R<()> {
    sqlx::query(
        "INSERT INTO company_secret_versions (id, secret_id, version, ciphertext, status,
            created_by_agent_id, created_by_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(v.id)
    .bind(v.secret_id)
    .bind(v.version)
    .bind(&v.ciphertext)
    .bind(status)
    .bind(v.created_by_agent_id)
    .bind(&v.created_by_user_id)
    .bind(v.created_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn update(c: &mut PgConnection, s: &SecretRecord) -> R<bool> {
    let done = sqlx::query(
        "UPDATE company_secrets SET name = $2, key = $3, status = $4, description = $5,
            provider_metadata = $6, updated_at = $7 WHERE id = $1",
    )
    .bind(s.id)
    .bind(&s.name)
    .bind(&s.key)
    .bind(s.status.as_str())
    .bind(&s.description)
    .bind(&s.provider_metadata)
    .bind(s.updated_at)
    .execute(c)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The next version number when the secret is active (None otherwise), taken by the UPDATE
/// (its row lock orders concurrent rotations).
pub async fn bump_version(c: &mut PgConnection, secret: Uuid, at: Timestamp) -> R<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE company_secrets SET latest_version = latest_version + 1, last_rotated_at = $2,
            updated_at = $2 WHERE id = $1 AND status = 'active' RETURNING latest_version",
    )
    .bind(secret)
    .bind(at)
    .fetch_optional(c)
    .await
}

pub async fn retire_versions(c: &mut PgConnection, secret: Uuid) -> R<()> {
    sqlx::query(
        "UPDATE company_secret_versions SET status = 'previous'
         WHERE secret_id = $1 AND status = 'current'",
    )
    .bind(secret)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut PgConnection, secret: Uuid) -> R<bool> {
    let done = sqlx::query("DELETE FROM company_secrets WHERE id = $1")
        .bind(secret)
        .execute(c)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn version(
    c: &mut PgConnection,
    secret: Uuid,
    version: Option<i64>,
) -> R<Option<SecretVersionRecord>> {
    sqlx::query(
        "SELECT v.* FROM company_secret_versions v JOIN company_secrets s ON s.id = v.secret_id
         WHERE v.secret_id = $1 AND v.version = COALESCE($2, s.latest_version)",
    )
    .bind(secret)
    .bind(version)
    .try_map(|r: PgRow| version_from(&r))
    .fetch_optional(c)
    .await
}

pub async fn count_versions(c: &mut PgConnection) -> R<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM company_secret_versions")
        .fetch_one(c)
        .await
}

pub async fn sample(c: &mut PgConnection) -> R<Option<(Uuid, SecretVersionRecord)>> {
    sqlx::query(
        "SELECT s.company_id AS owner, v.* FROM company_secret_versions v
         JOIN company_secrets s ON s.id = v.secret_id ORDER BY v.created_at LIMIT 1",
    )
    .try_map(|r: PgRow| Ok((r.try_get("owner")?, version_from(&r)?)))
    .fetch_optional(c)
    .await
}

/// The secrets among `ids` with their versions (two statements on one connection).
pub async fn with_versions(
    c: &mut PgConnection,
    ids: &[Uuid],
) -> R<Vec<(SecretRecord, Vec<SecretVersionRecord>)>> {
    let secrets: Vec<SecretRecord> =
        sqlx::query("SELECT * FROM company_secrets WHERE id = ANY($1)")
            .bind(ids)
            .try_map(|r: PgRow| secret_from(&r))
            .fetch_all(&mut *c)
            .await?;
    let versions: Vec<SecretVersionRecord> = sqlx::query(
        "SELECT * FROM company_secret_versions WHERE secret_id = ANY($1) ORDER BY version",
    )
    .bind(ids)
    .try_map(|r: PgRow| version_from(&r))
    .fetch_all(&mut *c)
    .await?;
    Ok(group_versions(secrets, versions))
}

pub async fn all_versions(c: &mut PgConnection) -> R<Vec<(Uuid, SecretVersionRecord)>> {
    sqlx::query(
        "SELECT s.company_id AS owner, v.* FROM company_secret_versions v
         JOIN company_secrets s ON s.id = v.secret_id ORDER BY v.created_at, v.id",
    )
    .try_map(|r: PgRow| Ok((r.try_get("owner")?, version_from(&r)?)))
    .fetch_all(c)
    .await
}

pub async fn reseal(c: &mut PgConnection, sealed: &[(Uuid, String)]) -> R<()> {
    let ids: Vec<Uuid> = sealed.iter().map(|(id, _)| *id).collect();
    let texts: Vec<&str> = sealed.iter().map(|(_, t)| t.as_str()).collect();
    sqlx::query(
        "UPDATE company_secret_versions v SET ciphertext = n.ciphertext
         FROM UNNEST($1::uuid[], $2::text[]) AS n(id, ciphertext) WHERE v.id = n.id",
    )
    .bind(&ids)
    .bind(&texts)
    .execute(c)
    .await?;
    Ok(())
}

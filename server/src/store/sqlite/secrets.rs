//! Company secrets and their sealed versions (SQLite).

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::store::*;

fn secret_from_row(row: &Row) -> rusqlite::Result<SecretRecord> {
    let metadata: Option<String> = row.get("provider_metadata")?;
    Ok(SecretRecord {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        key: row.get("key")?,
        name: row.get("name")?,
        provider: row.get("provider")?,
        status: get_enum(row, "status", SecretStatus::parse)?,
        managed_mode: row.get("managed_mode")?,
        external_ref: row.get("external_ref")?,
        provider_metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
        latest_version: row.get("latest_version")?,
        description: row.get("description")?,
        last_resolved_at: get_opt_ts(row, "last_resolved_at")?,
        last_rotated_at: get_opt_ts(row, "last_rotated_at")?,
        created_by_agent_id: get_opt_uuid(row, "created_by_agent_id")?,
        created_by_user_id: row.get("created_by_user_id")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn version_from_row(row: &Row) -> rusqlite::Result<SecretVersionRecord> {
    Ok(SecretVersionRecord {
        id: get_uuid(row, "id")?,
        secret_id: get_uuid(row, "secret_id")?,
        version: row.get("version")?,
        ciphertext: row.get("ciphertext")?,
        created_by_agent_id: get_opt_uuid(row, "created_by_agent_id")?,
        created_by_user_id: row.get("created_by_user_id")?,
        created_at: get_ts(row, "created_at")?,
    })
}

/// Newest first; the count is of the company's agents and projects whose configuration names
/// the secret's id (a UUID inside `adapter_config` or a project's `env` is a reference).
pub fn list(c: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<(SecretRecord, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT s.*, (SELECT COUNT(*) FROM agents a
                      WHERE a.company_id = s.company_id AND instr(a.adapter_config, s.id) > 0)
                   + (SELECT COUNT(*) FROM projects p
                      WHERE p.company_id = s.company_id AND instr(p.env, s.id) > 0)
                     AS reference_count
         FROM company_secrets s WHERE s.company_id = ?1 ORDER BY s.created_at DESC, s.id",
    )?;
    stmt.query_map(params![id(company_id)], |r| {
        Ok((secret_from_row(r)?, r.get("reference_count")?))
    })?
    .collect()
}

pub fn get(c: &Connection, secret: Uuid) -> rusqlite::Result<Option<SecretRecord>> {
    c.prepare_cached("SELECT * FROM company_secrets WHERE id = ?1")?
        .query_row(params![id(secret)], secret_from_row)
        .optional()
}

pub fn insert(c: &Connection, s: &SecretRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO company_secrets (id, company_id, key, name, provider, status, managed_mode,
            external_ref, provider_metadata, latest_version, description, last_resolved_at,
            last_rotated_at, created_by_agent_id, created_by_user_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            id(s.id),
            id(s.company_id),
            s.key,
            s.name,
            s.provider,
            s.status.as_str(),
            s.managed_mode,
            s.external_ref,
            s.provider_metadata.as_ref().map(json),
            s.latest_version,
            s.description,
            opt_ts(s.last_resolved_at),
            opt_ts(s.last_rotated_at),
            opt_id(s.created_by_agent_id),
            s.created_by_user_id,
            ts(s.created_at),
            ts(s.updated_at)
        ],
    )?;
    Ok(())
}

pub fn insert_version(
    c: &Connection,
    v: &SecretVersionRecord,
    status: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO company_secret_versions (id, secret_id, version, ciphertext, status,
            created_by_agent_id, created_by_user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id(v.id),
            id(v.secret_id),
            v.version,
            v.ciphertext,
            status,
            opt_id(v.created_by_agent_id),
            v.created_by_user_id,
            ts(v.created_at)
        ],
    )?;
    Ok(())
}

pub fn update(c: &Connection, s: &SecretRecord) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "UPDATE company_secrets SET name = ?2, key = ?3, status = ?4, description = ?5,
            provider_metadata = ?6, updated_at = ?7 WHERE id = ?1",
        params![
            id(s.id),
            s.name,
            s.key,
            s.status.as_str(),
            s.description,
            s.provider_metadata.as_ref().map(json),
            ts(s.updated_at)
        ],
    )? > 0)
}

/// The next version number when the secret is active (None otherwise), taken by the UPDATE.
pub fn bump_version(c: &Connection, secret: Uuid, at: Timestamp) -> rusqlite::Result<Option<i64>> {
    c.prepare_cached(
        "UPDATE company_secrets SET latest_version = latest_version + 1, last_rotated_at = ?2,
            updated_at = ?2 WHERE id = ?1 AND status = 'active' RETURNING latest_version",
    )?
    .query_row(params![id(secret), ts(at)], |r| r.get(0))
    .optional()
}

pub fn retire_versions(c: &Connection, secret: Uuid) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE company_secret_versions SET status = 'previous'
         WHERE secret_id = ?1 AND status = 'current'",
        params![id(secret)],
    )?;
    Ok(())
}

pub fn delete(c: &Connection, secret: Uuid) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "DELETE FROM company_secrets WHERE id = ?1",
        params![id(secret)],
    )? > 0)
}

pub fn version(
    c: &Connection,
    secret: Uuid,
    version: Option<i64>,
) -> rusqlite::Result<Option<SecretVersionRecord>> {
    c.prepare_cached(
        "SELECT v.* FROM company_secret_versions v JOIN company_secrets s ON s.id = v.secret_id
         WHERE v.secret_id = ?1 AND v.version = COALESCE(?2, s.latest_version)",
    )?
    .query_row(params![id(secret), version], version_from_row)
    .optional()
}

pub fn count_versions(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT COUNT(*) FROM company_secret_versions", [], |r| {
        r.get(0)
    })
}

pub fn sample(c: &Connection) -> rusqlite::Result<Option<(Uuid, SecretVersionRecord)>> {
    c.query_row(
        "SELECT s.company_id AS owner, v.* FROM company_secret_versions v
         JOIN company_secrets s ON s.id = v.secret_id ORDER BY v.created_at LIMIT 1",
        [],
        |r| Ok((get_uuid(r, "owner")?, version_from_row(r)?)),
    )
    .optional()
}

/// The secrets among `ids` with their versions (two statements on one connection).
pub fn with_versions(
    c: &Connection,
    ids: &[Uuid],
) -> rusqlite::Result<Vec<(SecretRecord, Vec<SecretVersionRecord>)>> {
    let list = serde_json::Value::from(ids.iter().map(|i| id(*i)).collect::<Vec<_>>()).to_string();
    let secrets: Vec<SecretRecord> = c
        .prepare_cached(
            "SELECT * FROM company_secrets WHERE id IN (SELECT value FROM json_each(?1))",
        )?
        .query_map(params![list], secret_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let versions: Vec<SecretVersionRecord> = c
        .prepare_cached(
            "SELECT * FROM company_secret_versions
             WHERE secret_id IN (SELECT value FROM json_each(?1)) ORDER BY version",
        )?
        .query_map(params![list], version_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(group_versions(secrets, versions))
}

pub fn all_versions(c: &Connection) -> rusqlite::Result<Vec<(Uuid, SecretVersionRecord)>> {
    let mut stmt = c.prepare_cached(
        "SELECT s.company_id AS owner, v.* FROM company_secret_versions v
         JOIN company_secrets s ON s.id = v.secret_id ORDER BY v.created_at, v.id",
    )?;
    stmt.query_map([], |r| Ok((get_uuid(r, "owner")?, version_from_row(r)?)))?
        .collect()
}

pub fn reseal(c: &Connection, sealed: &[(Uuid, String)]) -> rusqlite::Result<()> {
    let mut stmt =
        c.prepare_cached("UPDATE company_secret_versions SET ciphertext = ?2 WHERE id = ?1")?;
    for (version, ciphertext) in sealed {
        stmt.execute(params![id(*version), ciphertext])?;
    }
    Ok(())
}

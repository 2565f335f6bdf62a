//! People, sessions and memberships (invites and the claim: `invites.rs`; board keys and CLI
//! challenges: `board_keys.rs`).
//! A request's person (roles and memberships included) is read in one round trip.

use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::rows::enumeration;
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

fn decode_error(col: &str, message: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: message.into(),
    }
}

/// The person columns every principal query selects (users as `u`), for `principal_from`.
/// A macro, so each query is one `&'static str` built at compile time, not per request.
macro_rules! principal_columns {
    () => {
        "u.id AS u_id, u.name AS u_name, u.email AS u_email, u.created_at AS u_created_at,
         EXISTS (SELECT 1 FROM instance_user_roles r
                 WHERE r.user_id = u.id AND r.role = 'instance_admin') AS u_admin,
         COALESCE((SELECT json_agg(json_build_array(m.company_id, m.role))
                   FROM company_memberships m WHERE m.user_id = u.id AND m.status = 'active'),
                  '[]'::json) AS u_memberships"
    };
}
pub(super) use principal_columns;

fn user_from(r: &PgRow, prefix: &str) -> R<UserRecord> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(UserRecord {
        id: r.try_get(col("id").as_str())?,
        name: r.try_get(col("name").as_str())?,
        email: r.try_get(col("email").as_str())?,
        created_at: r.try_get(col("created_at").as_str())?,
    })
}

pub(super) fn principal_from(r: &PgRow) -> R<Principal> {
    let raw: serde_json::Value = r.try_get("u_memberships")?;
    let pairs: Vec<(Uuid, String)> =
        serde_json::from_value(raw).map_err(|e| decode_error("u_memberships", e.to_string()))?;
    let memberships = pairs
        .into_iter()
        .map(|(company, role)| {
            MemberRole::parse_lenient(&role)
                .map(|role| (company, role))
                .ok_or_else(|| decode_error("u_memberships", format!("unknown role {role:?}")))
        })
        .collect::<R<Vec<_>>>()?;
    Ok(Principal {
        user: user_from(r, "u_")?,
        instance_admin: r.try_get("u_admin")?,
        memberships,
    })
}

pub async fn insert_user(c: &mut PgConnection, u: &UserRecord, password_hash: &str) -> R<()> {
    sqlx::query(
        "INSERT INTO users (id, name, email, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&u.id)
    .bind(&u.name)
    .bind(&u.email)
    .bind(password_hash)
    .bind(u.created_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn find_login(
    c: &mut PgConnection,
    email: &str,
) -> R<Option<(UserRecord, Option<String>)>> {
    sqlx::query("SELECT * FROM users WHERE email = $1")
        .bind(email)
        .try_map(|r: PgRow| Ok((user_from(&r, "")?, r.try_get("password_hash")?)))
        .fetch_optional(c)
        .await
}

pub async fn principal(c: &mut PgConnection, user_id: &str) -> R<Option<Principal>> {
    sqlx::query(concat!(
        "SELECT ",
        principal_columns!(),
        " FROM users u WHERE u.id = $1"
    ))
    .bind(user_id)
    .try_map(|r: PgRow| principal_from(&r))
    .fetch_optional(c)
    .await
}

pub async fn instance_admins(c: &mut PgConnection) -> R<Vec<String>> {
    sqlx::query_scalar(
        "SELECT user_id FROM instance_user_roles WHERE role = 'instance_admin' ORDER BY user_id",
    )
    .fetch_all(c)
    .await
}

fn session_from(r: &PgRow) -> R<SessionRecord> {
    Ok(SessionRecord {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        token_hash: r.try_get("token_hash")?,
        ip_address: r.try_get("ip_address")?,
        user_agent: r.try_get("user_agent")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

pub async fn insert_session(c: &mut PgConnection, s: &SessionRecord) -> R<()> {
    sqlx::query(
        "WITH expired AS (DELETE FROM sessions WHERE expires_at <= $6)
         INSERT INTO sessions (id, user_id, token_hash, ip_address, user_agent, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.id)
    .bind(&s.user_id)
    .bind(&s.token_hash)
    .bind(&s.ip_address)
    .bind(&s.user_agent)
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn session_principal(
    c: &mut PgConnection,
    token_hash: &str,
    now: Timestamp,
) -> R<Option<(SessionRecord, Principal)>> {
    sqlx::query(concat!(
        "SELECT s.*, ",
        principal_columns!(),
        " FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now)
    .try_map(|r: PgRow| Ok((session_from(&r)?, principal_from(&r)?)))
    .fetch_optional(c)
    .await
}

pub async fn extend_session(c: &mut PgConnection, id: Uuid, expires_at: Timestamp) -> R<()> {
    sqlx::query("UPDATE sessions SET expires_at = $2 WHERE id = $1")
        .bind(id)
        .bind(expires_at)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete_session(c: &mut PgConnection, token_hash: &str) -> R<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(c)
        .await?;
    Ok(())
}

/// The select of `member_from`; a macro so each query is one `&'static str`.
macro_rules! member_select {
    () => {
        "SELECT m.*, u.id AS u_id, u.name AS u_name, u.email AS u_email, u.created_at AS u_created_at
         FROM company_memberships m JOIN users u ON u.id = m.user_id"
    };
}

fn member_from(r: PgRow) -> R<MembershipRecord> {
    Ok(MembershipRecord {
        company_id: r.try_get("company_id")?,
        user: user_from(&r, "u_")?,
        role: enumeration(&r, "role", MemberRole::parse_lenient)?,
        status: enumeration(&r, "status", MembershipStatus::parse)?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The company's people, archived ones left out.
pub async fn list_members(c: &mut PgConnection, company_id: Uuid) -> R<Vec<MembershipRecord>> {
    sqlx::query(concat!(
        member_select!(),
        " WHERE m.company_id = $1 AND m.status <> 'archived' ORDER BY m.created_at, u.id"
    ))
    .bind(company_id)
    .try_map(member_from)
    .fetch_all(c)
    .await
}

pub async fn get_member(
    c: &mut PgConnection,
    company_id: Uuid,
    user_id: &str,
) -> R<Option<MembershipRecord>> {
    sqlx::query(concat!(
        member_select!(),
        " WHERE m.company_id = $1 AND m.user_id = $2"
    ))
    .bind(company_id)
    .bind(user_id)
    .try_map(member_from)
    .fetch_optional(c)
    .await
}

pub async fn save_membership(
    c: &mut PgConnection,
    company_id: Uuid,
    user_id: &str,
    role: MemberRole,
    status: MembershipStatus,
    at: Timestamp,
) -> R<()> {
    sqlx::query(
        "INSERT INTO company_memberships (company_id, user_id, role, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (company_id, user_id)
         DO UPDATE SET role = excluded.role, status = excluded.status, updated_at = excluded.updated_at",
    )
    .bind(company_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(status.as_str())
    .bind(at)
    .execute(c)
    .await?;
    Ok(())
}

/// Gives `user_id` the instance admin role (kept if it has it).
pub async fn grant_admin(c: &mut PgConnection, user_id: &str, at: Timestamp) -> R<()> {
    sqlx::query(
        "INSERT INTO instance_user_roles (user_id, role, created_at) VALUES ($1, 'instance_admin', $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(at)
    .execute(c)
    .await?;
    Ok(())
}

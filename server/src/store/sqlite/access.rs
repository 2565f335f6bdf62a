//! People, sessions and memberships (invites and the claim: `invites.rs`; board keys and CLI
//! challenges: `board_keys.rs`).

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::store::*;

fn user_from_row(row: &Row) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row.get("id")?,
        name: row.get("name")?,
        email: row.get("email")?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub fn insert_user(c: &Connection, u: &UserRecord, password_hash: &str) -> rusqlite::Result<()> {
    let at = ts(u.created_at);
    c.execute(
        "INSERT INTO users (id, name, email, password_hash, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![u.id, u.name, u.email, password_hash, at],
    )?;
    Ok(())
}

pub fn find_login(
    c: &Connection,
    email: &str,
) -> rusqlite::Result<Option<(UserRecord, Option<String>)>> {
    c.prepare_cached("SELECT * FROM users WHERE email = ?1")?
        .query_row(params![email], |r| {
            Ok((user_from_row(r)?, r.get("password_hash")?))
        })
        .optional()
}

pub fn principal(c: &Connection, user_id: &str) -> rusqlite::Result<Option<Principal>> {
    let Some(user) = c
        .prepare_cached("SELECT * FROM users WHERE id = ?1")?
        .query_row(params![user_id], user_from_row)
        .optional()?
    else {
        return Ok(None);
    };
    let instance_admin = super::companies::is_instance_admin(c, user_id)?;
    let mut stmt = c.prepare_cached(
        "SELECT company_id, role FROM company_memberships WHERE user_id = ?1 AND status = 'active'",
    )?;
    let memberships = stmt
        .query_map(params![user_id], |r| {
            Ok((
                get_uuid(r, "company_id")?,
                get_enum(r, "role", MemberRole::parse_lenient)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Principal {
        user,
        instance_admin,
        memberships,
    }))
}

pub fn instance_admins(c: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT user_id FROM instance_user_roles WHERE role = 'instance_admin' ORDER BY user_id",
    )?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

fn session_from_row(row: &Row) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: get_uuid(row, "id")?,
        user_id: row.get("user_id")?,
        token_hash: row.get("token_hash")?,
        ip_address: row.get("ip_address")?,
        user_agent: row.get("user_agent")?,
        created_at: get_ts(row, "created_at")?,
        expires_at: get_ts(row, "expires_at")?,
    })
}

pub fn insert_session(c: &Connection, s: &SessionRecord) -> rusqlite::Result<()> {
    // Expired sessions of anyone go when a new one starts: the table stays small.
    c.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
        .execute(params![ts(s.created_at)])?;
    c.prepare_cached(
        "INSERT INTO sessions (id, user_id, token_hash, ip_address, user_agent, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id(s.id),
        s.user_id,
        s.token_hash,
        s.ip_address,
        s.user_agent,
        ts(s.created_at),
        ts(s.expires_at)
    ])?;
    Ok(())
}

pub fn find_session(
    c: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> rusqlite::Result<Option<SessionRecord>> {
    c.prepare_cached("SELECT * FROM sessions WHERE token_hash = ?1 AND expires_at > ?2")?
        .query_row(params![token_hash, ts(now)], session_from_row)
        .optional()
}

pub fn extend_session(
    c: &Connection,
    session: Uuid,
    expires_at: Timestamp,
) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE sessions SET expires_at = ?2 WHERE id = ?1")?
        .execute(params![id(session), ts(expires_at)])?;
    Ok(())
}

pub fn delete_session(c: &Connection, token_hash: &str) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
        .execute(params![token_hash])?;
    Ok(())
}

/// The select of `member_from_row`; a macro so each query is one `&'static str`.
macro_rules! member_select {
    () => {
        "SELECT m.company_id, m.role, m.status, m.created_at AS m_created,
                m.updated_at AS m_updated, u.id, u.name, u.email, u.created_at
         FROM company_memberships m JOIN users u ON u.id = m.user_id"
    };
}

fn member_from_row(r: &Row) -> rusqlite::Result<MembershipRecord> {
    Ok(MembershipRecord {
        company_id: get_uuid(r, "company_id")?,
        user: user_from_row(r)?,
        role: get_enum(r, "role", MemberRole::parse_lenient)?,
        status: get_enum(r, "status", MembershipStatus::parse)?,
        created_at: get_ts(r, "m_created")?,
        updated_at: get_ts(r, "m_updated")?,
    })
}

/// The company's people, archived ones left out.
pub fn list_members(c: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<MembershipRecord>> {
    let mut stmt = c.prepare_cached(concat!(
        member_select!(),
        " WHERE m.company_id = ?1 AND m.status <> 'archived' ORDER BY m.created_at, u.id"
    ))?;
    stmt.query_map(params![id(company_id)], member_from_row)?
        .collect()
}

pub fn get_member(
    c: &Connection,
    company_id: Uuid,
    user_id: &str,
) -> rusqlite::Result<Option<MembershipRecord>> {
    let mut stmt = c.prepare_cached(concat!(
        member_select!(),
        " WHERE m.company_id = ?1 AND m.user_id = ?2"
    ))?;
    stmt.query_row(params![id(company_id), user_id], member_from_row)
        .optional()
}

pub fn save_membership(
    c: &Connection,
    company_id: Uuid,
    user_id: &str,
    role: MemberRole,
    status: MembershipStatus,
    at: Timestamp,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO company_memberships (company_id, user_id, role, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (company_id, user_id)
         DO UPDATE SET role = excluded.role, status = excluded.status, updated_at = excluded.updated_at",
        params![id(company_id), user_id, role.as_str(), status.as_str(), ts(at)],
    )?;
    Ok(())
}

/// Gives `user_id` the instance admin role (kept if it has it).
pub fn grant_admin(c: &Connection, user_id: &str, at: Timestamp) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO instance_user_roles (user_id, role, created_at) VALUES (?1, 'instance_admin', ?2)
         ON CONFLICT DO NOTHING",
        params![user_id, ts(at)],
    )?;
    Ok(())
}

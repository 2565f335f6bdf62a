//! People, sessions, memberships, invites, the board claim, board keys and CLI challenges.

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::auth::LOCAL_BOARD_USER_ID;
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

pub fn list_members(c: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<MembershipRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT m.company_id, m.role, m.status, m.created_at AS m_created, m.updated_at AS m_updated,
                u.id, u.name, u.email, u.created_at
         FROM company_memberships m JOIN users u ON u.id = m.user_id
         WHERE m.company_id = ?1 ORDER BY m.created_at, u.id",
    )?;
    stmt.query_map(params![id(company_id)], |r| {
        Ok(MembershipRecord {
            company_id: get_uuid(r, "company_id")?,
            user: user_from_row(r)?,
            role: get_enum(r, "role", MemberRole::parse_lenient)?,
            status: get_enum(r, "status", MembershipStatus::parse)?,
            created_at: get_ts(r, "m_created")?,
            updated_at: get_ts(r, "m_updated")?,
        })
    })?
    .collect()
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

pub fn remove_membership(
    c: &Connection,
    company_id: Uuid,
    user_id: &str,
) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "DELETE FROM company_memberships WHERE company_id = ?1 AND user_id = ?2",
        params![id(company_id), user_id],
    )? > 0)
}

fn invite_from_row(row: &Row) -> rusqlite::Result<InviteRecord> {
    Ok(InviteRecord {
        id: get_uuid(row, "id")?,
        company_id: get_opt_uuid(row, "company_id")?,
        invite_type: get_enum(row, "invite_type", InviteType::parse)?,
        token_hash: row.get("token_hash")?,
        allowed_join_types: get_enum(row, "allowed_join_types", JoinTypes::parse)?,
        human_role: row
            .get::<_, Option<String>>("human_role")?
            .and_then(|r| MemberRole::parse_lenient(&r)),
        invited_by_user_id: row.get("invited_by_user_id")?,
        expires_at: get_ts(row, "expires_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
        accepted_at: get_opt_ts(row, "accepted_at")?,
        accepted_by_user_id: row.get("accepted_by_user_id")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn insert_invite(c: &Connection, i: &InviteRecord) -> rusqlite::Result<()> {
    if i.invite_type == InviteType::BootstrapCeo {
        c.execute(
            "UPDATE invites SET revoked_at = ?1, updated_at = ?1
             WHERE invite_type = 'bootstrap_ceo' AND revoked_at IS NULL AND accepted_at IS NULL",
            params![ts(i.created_at)],
        )?;
    }
    c.execute(
        "INSERT INTO invites (id, company_id, invite_type, token_hash, allowed_join_types,
            human_role, invited_by_user_id, expires_at, revoked_at, accepted_at,
            accepted_by_user_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            id(i.id),
            opt_id(i.company_id),
            i.invite_type.as_str(),
            i.token_hash,
            i.allowed_join_types.as_str(),
            i.human_role.map(|r| r.as_str()),
            i.invited_by_user_id,
            ts(i.expires_at),
            opt_ts(i.revoked_at),
            opt_ts(i.accepted_at),
            i.accepted_by_user_id,
            ts(i.created_at),
            ts(i.updated_at)
        ],
    )?;
    Ok(())
}

pub fn find_invite(c: &Connection, token_hash: &str) -> rusqlite::Result<Option<InviteRecord>> {
    c.prepare_cached("SELECT * FROM invites WHERE token_hash = ?1")?
        .query_row(params![token_hash], invite_from_row)
        .optional()
}

pub fn get_invite(c: &Connection, invite: Uuid) -> rusqlite::Result<Option<InviteRecord>> {
    c.prepare_cached("SELECT * FROM invites WHERE id = ?1")?
        .query_row(params![id(invite)], invite_from_row)
        .optional()
}

pub fn list_invites(c: &Connection, company_id: Uuid) -> rusqlite::Result<Vec<InviteRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT * FROM invites WHERE company_id = ?1 ORDER BY created_at DESC, id",
    )?;
    stmt.query_map(params![id(company_id)], invite_from_row)?
        .collect()
}

pub fn open_bootstrap_invite(
    c: &Connection,
    now: Timestamp,
) -> rusqlite::Result<Option<InviteRecord>> {
    c.prepare_cached(
        "SELECT * FROM invites WHERE invite_type = 'bootstrap_ceo' AND revoked_at IS NULL
           AND accepted_at IS NULL AND expires_at > ?1 ORDER BY created_at DESC LIMIT 1",
    )?
    .query_row(params![ts(now)], invite_from_row)
    .optional()
}

pub fn revoke_invite(c: &Connection, invite: Uuid, at: Timestamp) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "UPDATE invites SET revoked_at = ?2, updated_at = ?2
         WHERE id = ?1 AND revoked_at IS NULL AND accepted_at IS NULL",
        params![id(invite), ts(at)],
    )? > 0)
}

pub fn accept_invite(
    c: &Connection,
    invite: Uuid,
    user_id: &str,
    effect: &InviteEffect,
    at: Timestamp,
) -> rusqlite::Result<AcceptOutcome> {
    match effect {
        InviteEffect::InstanceAdmin => {
            if !instance_admins(c)?.is_empty() {
                return Ok(AcceptOutcome::AdminExists);
            }
        }
        InviteEffect::Join { company_id, .. } => {
            let member = c
                .prepare_cached(
                    "SELECT 1 FROM company_memberships
                     WHERE company_id = ?1 AND user_id = ?2 AND status = 'active'",
                )?
                .exists(params![id(*company_id), user_id])?;
            if member {
                return Ok(AcceptOutcome::AlreadyMember);
            }
        }
    }
    let marked = c.execute(
        "UPDATE invites SET accepted_at = ?2, accepted_by_user_id = ?3, updated_at = ?2
         WHERE id = ?1 AND revoked_at IS NULL AND accepted_at IS NULL AND expires_at > ?2",
        params![id(invite), ts(at), user_id],
    )?;
    if marked == 0 {
        return Ok(AcceptOutcome::Gone);
    }
    match effect {
        InviteEffect::InstanceAdmin => grant_admin(c, user_id, at)?,
        InviteEffect::Join { company_id, role } => {
            save_membership(c, *company_id, user_id, *role, MembershipStatus::Active, at)?
        }
    }
    Ok(AcceptOutcome::Accepted)
}

fn grant_admin(c: &Connection, user_id: &str, at: Timestamp) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO instance_user_roles (user_id, role, created_at) VALUES (?1, 'instance_admin', ?2)
         ON CONFLICT DO NOTHING",
        params![user_id, ts(at)],
    )?;
    Ok(())
}

fn claim_from_row(row: &Row) -> rusqlite::Result<BoardClaimRecord> {
    Ok(BoardClaimRecord {
        id: get_uuid(row, "id")?,
        token_hash: row.get("token_hash")?,
        code_hash: row.get("code_hash")?,
        expires_at: get_ts(row, "expires_at")?,
        claimed_at: get_opt_ts(row, "claimed_at")?,
        claimed_by_user_id: row.get("claimed_by_user_id")?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub fn insert_board_claim(c: &Connection, b: &BoardClaimRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO board_claims (id, token_hash, code_hash, expires_at, claimed_at,
            claimed_by_user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id(b.id),
            b.token_hash,
            b.code_hash,
            ts(b.expires_at),
            opt_ts(b.claimed_at),
            b.claimed_by_user_id,
            ts(b.created_at)
        ],
    )?;
    Ok(())
}

pub fn open_board_claim(
    c: &Connection,
    now: Timestamp,
) -> rusqlite::Result<Option<BoardClaimRecord>> {
    c.prepare_cached(
        "SELECT * FROM board_claims WHERE claimed_at IS NULL AND expires_at > ?1
         ORDER BY created_at DESC LIMIT 1",
    )?
    .query_row(params![ts(now)], claim_from_row)
    .optional()
}

pub fn find_board_claim(
    c: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<BoardClaimRecord>> {
    c.prepare_cached("SELECT * FROM board_claims WHERE token_hash = ?1")?
        .query_row(params![token_hash], claim_from_row)
        .optional()
}

pub fn claim_board(
    c: &Connection,
    claim: Uuid,
    user_id: &str,
    at: Timestamp,
) -> rusqlite::Result<ClaimOutcome> {
    let marked = c.execute(
        "UPDATE board_claims SET claimed_at = ?2, claimed_by_user_id = ?3
         WHERE id = ?1 AND claimed_at IS NULL AND expires_at > ?2",
        params![id(claim), ts(at), user_id],
    )?;
    if marked == 0 {
        return Ok(ClaimOutcome::Gone);
    }
    grant_admin(c, user_id, at)?;
    c.execute(
        "DELETE FROM instance_user_roles WHERE user_id = ?1 AND role = 'instance_admin'",
        params![LOCAL_BOARD_USER_ID],
    )?;
    c.execute(
        "INSERT INTO company_memberships (company_id, user_id, role, status, created_at, updated_at)
         SELECT id, ?1, 'owner', 'active', ?2, ?2 FROM companies WHERE true
         ON CONFLICT (company_id, user_id) DO UPDATE SET
            role = CASE WHEN company_memberships.status = 'active' THEN company_memberships.role ELSE 'owner' END,
            status = 'active', updated_at = excluded.updated_at",
        params![user_id, ts(at)],
    )?;
    Ok(ClaimOutcome::Claimed)
}

fn board_key_from_row(row: &Row) -> rusqlite::Result<BoardKeyRecord> {
    Ok(BoardKeyRecord {
        id: get_uuid(row, "id")?,
        user_id: row.get("user_id")?,
        name: row.get("name")?,
        key_hash: row.get("key_hash")?,
        expires_at: get_opt_ts(row, "expires_at")?,
        last_used_at: get_opt_ts(row, "last_used_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub fn insert_board_key(c: &Connection, k: &BoardKeyRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO board_api_keys (id, user_id, name, key_hash, expires_at, last_used_at,
            revoked_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id(k.id),
            k.user_id,
            k.name,
            k.key_hash,
            opt_ts(k.expires_at),
            opt_ts(k.last_used_at),
            opt_ts(k.revoked_at),
            ts(k.created_at)
        ],
    )?;
    Ok(())
}

pub fn list_board_keys(c: &Connection, user_id: &str) -> rusqlite::Result<Vec<BoardKeyRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT * FROM board_api_keys WHERE user_id = ?1 ORDER BY created_at DESC, id",
    )?;
    stmt.query_map(params![user_id], board_key_from_row)?
        .collect()
}

pub fn revoke_board_key(
    c: &Connection,
    user_id: &str,
    key: Uuid,
    at: Timestamp,
) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "UPDATE board_api_keys SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
        params![id(key), user_id, ts(at)],
    )? > 0)
}

pub fn find_board_key(c: &Connection, key_hash: &str) -> rusqlite::Result<Option<BoardKeyRecord>> {
    c.prepare_cached("SELECT * FROM board_api_keys WHERE key_hash = ?1")?
        .query_row(params![key_hash], board_key_from_row)
        .optional()
}

pub fn touch_board_key(c: &Connection, key: Uuid, at: Timestamp) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE board_api_keys SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id(key), ts(at)])?;
    Ok(())
}

fn challenge_from_row(row: &Row) -> rusqlite::Result<CliChallengeRecord> {
    Ok(CliChallengeRecord {
        id: get_uuid(row, "id")?,
        secret_hash: row.get("secret_hash")?,
        command: row.get("command")?,
        client_name: row.get("client_name")?,
        requested_access: row.get("requested_access")?,
        pending_key_hash: row.get("pending_key_hash")?,
        pending_key_name: row.get("pending_key_name")?,
        approved_by_user_id: row.get("approved_by_user_id")?,
        board_api_key_id: get_opt_uuid(row, "board_api_key_id")?,
        approved_at: get_opt_ts(row, "approved_at")?,
        cancelled_at: get_opt_ts(row, "cancelled_at")?,
        expires_at: get_ts(row, "expires_at")?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub fn insert_cli_challenge(c: &Connection, ch: &CliChallengeRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO cli_auth_challenges (id, secret_hash, command, client_name, requested_access,
            pending_key_hash, pending_key_name, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id(ch.id),
            ch.secret_hash,
            ch.command,
            ch.client_name,
            ch.requested_access,
            ch.pending_key_hash,
            ch.pending_key_name,
            ts(ch.expires_at),
            ts(ch.created_at)
        ],
    )?;
    Ok(())
}

pub fn get_cli_challenge(c: &Connection, ch: Uuid) -> rusqlite::Result<Option<CliChallengeRecord>> {
    c.prepare_cached("SELECT * FROM cli_auth_challenges WHERE id = ?1")?
        .query_row(params![id(ch)], challenge_from_row)
        .optional()
}

const PENDING: &str = "approved_at IS NULL AND cancelled_at IS NULL AND expires_at > ?2";

pub fn approve_cli_challenge(
    c: &Connection,
    ch: Uuid,
    key: &BoardKeyRecord,
    at: Timestamp,
) -> rusqlite::Result<bool> {
    // The key first (the challenge refers to it); taken back when the challenge is not pending.
    insert_board_key(c, key)?;
    let marked = c.execute(
        &format!(
            "UPDATE cli_auth_challenges SET approved_at = ?2, approved_by_user_id = ?3,
                board_api_key_id = ?4 WHERE id = ?1 AND {PENDING}"
        ),
        params![id(ch), ts(at), key.user_id, id(key.id)],
    )?;
    if marked == 0 {
        c.execute(
            "DELETE FROM board_api_keys WHERE id = ?1",
            params![id(key.id)],
        )?;
    }
    Ok(marked > 0)
}

pub fn cancel_cli_challenge(c: &Connection, ch: Uuid, at: Timestamp) -> rusqlite::Result<bool> {
    Ok(c.execute(
        &format!("UPDATE cli_auth_challenges SET cancelled_at = ?2 WHERE id = ?1 AND {PENDING}"),
        params![id(ch), ts(at)],
    )? > 0)
}

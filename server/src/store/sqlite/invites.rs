//! Invites and the board claim: single-use rows whose acceptance is one conditional UPDATE,
//! with its effect (a membership, the instance admin role) in the same transaction.

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::access::{grant_admin, instance_admins, save_membership};
use super::codec::*;
use crate::auth::LOCAL_BOARD_USER_ID;
use crate::store::*;

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
            let status: Option<String> = c
                .prepare_cached(
                    "SELECT status FROM company_memberships WHERE company_id = ?1 AND user_id = ?2",
                )?
                .query_row(params![id(*company_id), user_id], |r| r.get(0))
                .optional()?;
            match status.as_deref() {
                Some("active") => return Ok(AcceptOutcome::AlreadyMember),
                Some("suspended") => return Ok(AcceptOutcome::Suspended),
                _ => {}
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

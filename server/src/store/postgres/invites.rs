//! Invites and the board claim: single-use rows whose acceptance is one conditional UPDATE,
//! with its effect (a membership, the instance admin role) in the same transaction.

use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::access::{grant_admin, instance_admins, save_membership};
use super::rows::enumeration;
use crate::auth::LOCAL_BOARD_USER_ID;
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

fn invite_from(r: &PgRow) -> R<InviteRecord> {
    let human_role: Option<String> = r.try_get("human_role")?;
    Ok(InviteRecord {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        invite_type: enumeration(r, "invite_type", InviteType::parse)?,
        token_hash: r.try_get("token_hash")?,
        allowed_join_types: enumeration(r, "allowed_join_types", JoinTypes::parse)?,
        human_role: human_role.and_then(|h| MemberRole::parse_lenient(&h)),
        invited_by_user_id: r.try_get("invited_by_user_id")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        accepted_at: r.try_get("accepted_at")?,
        accepted_by_user_id: r.try_get("accepted_by_user_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert_invite(c: &mut PgConnection, i: &InviteRecord) -> R<()> {
    if i.invite_type == InviteType::BootstrapCeo {
        sqlx::query(
            "UPDATE invites SET revoked_at = $1, updated_at = $1
             WHERE invite_type = 'bootstrap_ceo' AND revoked_at IS NULL AND accepted_at IS NULL",
        )
        .bind(i.created_at)
        .execute(&mut *c)
        .await?;
    }
    sqlx::query(
        "INSERT INTO invites (id, company_id, invite_type, token_hash, allowed_join_types,
            human_role, invited_by_user_id, expires_at, revoked_at, accepted_at,
            accepted_by_user_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(i.id)
    .bind(i.company_id)
    .bind(i.invite_type.as_str())
    .bind(&i.token_hash)
    .bind(i.allowed_join_types.as_str())
    .bind(i.human_role.map(|r| r.as_str()))
    .bind(&i.invited_by_user_id)
    .bind(i.expires_at)
    .bind(i.revoked_at)
    .bind(i.accepted_at)
    .bind(&i.accepted_by_user_id)
    .bind(i.created_at)
    .bind(i.updated_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn find_invite(c: &mut PgConnection, token_hash: &str) -> R<Option<InviteRecord>> {
    sqlx::query("SELECT * FROM invites WHERE token_hash = $1")
        .bind(token_hash)
        .try_map(|r: PgRow| invite_from(&r))
        .fetch_optional(c)
        .await
}

pub async fn get_invite(c: &mut PgConnection, id: Uuid) -> R<Option<InviteRecord>> {
    sqlx::query("SELECT * FROM invites WHERE id = $1")
        .bind(id)
        .try_map(|r: PgRow| invite_from(&r))
        .fetch_optional(c)
        .await
}

pub async fn list_invites(c: &mut PgConnection, company_id: Uuid) -> R<Vec<InviteRecord>> {
    sqlx::query("SELECT * FROM invites WHERE company_id = $1 ORDER BY created_at DESC, id")
        .bind(company_id)
        .try_map(|r: PgRow| invite_from(&r))
        .fetch_all(c)
        .await
}

pub async fn open_bootstrap_invite(
    c: &mut PgConnection,
    now: Timestamp,
) -> R<Option<InviteRecord>> {
    sqlx::query(
        "SELECT * FROM invites WHERE invite_type = 'bootstrap_ceo' AND revoked_at IS NULL
           AND accepted_at IS NULL AND expires_at > $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(now)
    .try_map(|r: PgRow| invite_from(&r))
    .fetch_optional(c)
    .await
}

pub async fn revoke_invite(c: &mut PgConnection, id: Uuid, at: Timestamp) -> R<bool> {
    let done = sqlx::query(
        "UPDATE invites SET revoked_at = $2, updated_at = $2
         WHERE id = $1 AND revoked_at IS NULL AND accepted_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(c)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Runs inside the caller's transaction. Instance-admin grants are serialized by a
/// transaction-scoped advisory lock, so two replicas cannot both make a first admin.
pub async fn accept_invite(
    c: &mut PgConnection,
    invite: Uuid,
    user_id: &str,
    effect: &InviteEffect,
    at: Timestamp,
) -> R<AcceptOutcome> {
    match effect {
        InviteEffect::InstanceAdmin => {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('paperclip:instance_admin'))")
                .execute(&mut *c)
                .await?;
            if !instance_admins(&mut *c).await?.is_empty() {
                return Ok(AcceptOutcome::AdminExists);
            }
        }
        InviteEffect::Join { company_id, .. } => {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT status FROM company_memberships WHERE company_id = $1 AND user_id = $2",
            )
            .bind(company_id)
            .bind(user_id)
            .fetch_optional(&mut *c)
            .await?;
            match status.as_deref() {
                Some("active") => return Ok(AcceptOutcome::AlreadyMember),
                Some("suspended") => return Ok(AcceptOutcome::Suspended),
                _ => {}
            }
        }
    }
    let marked = sqlx::query(
        "UPDATE invites SET accepted_at = $2, accepted_by_user_id = $3, updated_at = $2
         WHERE id = $1 AND revoked_at IS NULL AND accepted_at IS NULL AND expires_at > $2",
    )
    .bind(invite)
    .bind(at)
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    if marked.rows_affected() == 0 {
        return Ok(AcceptOutcome::Gone);
    }
    match effect {
        InviteEffect::InstanceAdmin => grant_admin(c, user_id, at).await?,
        InviteEffect::Join { company_id, role } => {
            save_membership(c, *company_id, user_id, *role, MembershipStatus::Active, at).await?
        }
    }
    Ok(AcceptOutcome::Accepted)
}

fn claim_from(r: &PgRow) -> R<BoardClaimRecord> {
    Ok(BoardClaimRecord {
        id: r.try_get("id")?,
        token_hash: r.try_get("token_hash")?,
        code_hash: r.try_get("code_hash")?,
        expires_at: r.try_get("expires_at")?,
        claimed_at: r.try_get("claimed_at")?,
        claimed_by_user_id: r.try_get("claimed_by_user_id")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_board_claim(c: &mut PgConnection, b: &BoardClaimRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO board_claims (id, token_hash, code_hash, expires_at, claimed_at,
            claimed_by_user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(b.id)
    .bind(&b.token_hash)
    .bind(&b.code_hash)
    .bind(b.expires_at)
    .bind(b.claimed_at)
    .bind(&b.claimed_by_user_id)
    .bind(b.created_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn open_board_claim(c: &mut PgConnection, now: Timestamp) -> R<Option<BoardClaimRecord>> {
    sqlx::query(
        "SELECT * FROM board_claims WHERE claimed_at IS NULL AND expires_at > $1
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(now)
    .try_map(|r: PgRow| claim_from(&r))
    .fetch_optional(c)
    .await
}

pub async fn find_board_claim(
    c: &mut PgConnection,
    token_hash: &str,
) -> R<Option<BoardClaimRecord>> {
    sqlx::query("SELECT * FROM board_claims WHERE token_hash = $1")
        .bind(token_hash)
        .try_map(|r: PgRow| claim_from(&r))
        .fetch_optional(c)
        .await
}

pub async fn claim_board(
    c: &mut PgConnection,
    claim: Uuid,
    user_id: &str,
    at: Timestamp,
) -> R<ClaimOutcome> {
    let marked = sqlx::query(
        "UPDATE board_claims SET claimed_at = $2, claimed_by_user_id = $3
         WHERE id = $1 AND claimed_at IS NULL AND expires_at > $2",
    )
    .bind(claim)
    .bind(at)
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    if marked.rows_affected() == 0 {
        return Ok(ClaimOutcome::Gone);
    }
    grant_admin(&mut *c, user_id, at).await?;
    sqlx::query("DELETE FROM instance_user_roles WHERE user_id = $1 AND role = 'instance_admin'")
        .bind(LOCAL_BOARD_USER_ID)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO company_memberships (company_id, user_id, role, status, created_at, updated_at)
         SELECT id, $1, 'owner', 'active', $2, $2 FROM companies
         ON CONFLICT (company_id, user_id) DO UPDATE SET
            role = CASE WHEN company_memberships.status = 'active' THEN company_memberships.role ELSE 'owner' END,
            status = 'active', updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(at)
    .execute(c)
    .await?;
    Ok(ClaimOutcome::Claimed)
}

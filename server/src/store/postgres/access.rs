//! People, sessions, memberships, invites, the board claim, board keys and CLI challenges.
//! A request's person (roles and memberships included) is read in one round trip.

use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use uuid::Uuid;

use crate::auth::LOCAL_BOARD_USER_ID;
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

fn decode_error(col: &str, message: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: message.into(),
    }
}

fn enumeration<E>(row: &PgRow, col: &str, parse: fn(&str) -> Option<E>) -> R<E> {
    let text: &str = row.try_get(col)?;
    parse(text).ok_or_else(|| decode_error(col, format!("unknown value {text:?}")))
}

/// The person columns every principal query selects, for `principal_from`.
const PRINCIPAL: &str = "u.id AS u_id, u.name AS u_name, u.email AS u_email,
    u.created_at AS u_created_at,
    EXISTS (SELECT 1 FROM instance_user_roles r
            WHERE r.user_id = u.id AND r.role = 'instance_admin') AS u_admin,
    COALESCE((SELECT json_agg(json_build_array(m.company_id, m.role))
              FROM company_memberships m WHERE m.user_id = u.id AND m.status = 'active'),
             '[]'::json) AS u_memberships";

fn user_from(r: &PgRow, prefix: &str) -> R<UserRecord> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(UserRecord {
        id: r.try_get(col("id").as_str())?,
        name: r.try_get(col("name").as_str())?,
        email: r.try_get(col("email").as_str())?,
        created_at: r.try_get(col("created_at").as_str())?,
    })
}

fn principal_from(r: &PgRow) -> R<Principal> {
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
    sqlx::query(AssertSqlSafe(format!(
        "SELECT {PRINCIPAL} FROM users u WHERE u.id = $1"
    )))
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
    sqlx::query(AssertSqlSafe(format!(
        "SELECT s.*, {PRINCIPAL} FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    )))
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

pub async fn list_members(c: &mut PgConnection, company_id: Uuid) -> R<Vec<MembershipRecord>> {
    sqlx::query(
        "SELECT m.*, u.id AS u_id, u.name AS u_name, u.email AS u_email, u.created_at AS u_created_at
         FROM company_memberships m JOIN users u ON u.id = m.user_id
         WHERE m.company_id = $1 ORDER BY m.created_at, u.id",
    )
    .bind(company_id)
    .try_map(|r: PgRow| {
        Ok(MembershipRecord {
            company_id: r.try_get("company_id")?,
            user: user_from(&r, "u_")?,
            role: enumeration(&r, "role", MemberRole::parse_lenient)?,
            status: enumeration(&r, "status", MembershipStatus::parse)?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .fetch_all(c)
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

pub async fn remove_membership(c: &mut PgConnection, company_id: Uuid, user_id: &str) -> R<bool> {
    let done =
        sqlx::query("DELETE FROM company_memberships WHERE company_id = $1 AND user_id = $2")
            .bind(company_id)
            .bind(user_id)
            .execute(c)
            .await?;
    Ok(done.rows_affected() > 0)
}

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

async fn grant_admin(c: &mut PgConnection, user_id: &str, at: Timestamp) -> R<()> {
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
            let member: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM company_memberships
                 WHERE company_id = $1 AND user_id = $2 AND status = 'active')",
            )
            .bind(company_id)
            .bind(user_id)
            .fetch_one(&mut *c)
            .await?;
            if member {
                return Ok(AcceptOutcome::AlreadyMember);
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

fn board_key_from(r: &PgRow) -> R<BoardKeyRecord> {
    Ok(BoardKeyRecord {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        key_hash: r.try_get("key_hash")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_board_key(c: &mut PgConnection, k: &BoardKeyRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO board_api_keys (id, user_id, name, key_hash, expires_at, last_used_at,
            revoked_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(k.id)
    .bind(&k.user_id)
    .bind(&k.name)
    .bind(&k.key_hash)
    .bind(k.expires_at)
    .bind(k.last_used_at)
    .bind(k.revoked_at)
    .bind(k.created_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn list_board_keys(c: &mut PgConnection, user_id: &str) -> R<Vec<BoardKeyRecord>> {
    sqlx::query("SELECT * FROM board_api_keys WHERE user_id = $1 ORDER BY created_at DESC, id")
        .bind(user_id)
        .try_map(|r: PgRow| board_key_from(&r))
        .fetch_all(c)
        .await
}

pub async fn revoke_board_key(
    c: &mut PgConnection,
    user_id: &str,
    id: Uuid,
    at: Timestamp,
) -> R<bool> {
    let done = sqlx::query(
        "UPDATE board_api_keys SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .bind(at)
    .execute(c)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn board_key_principal(
    c: &mut PgConnection,
    key_hash: &str,
) -> R<Option<(BoardKeyRecord, Principal)>> {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT k.*, {PRINCIPAL} FROM board_api_keys k JOIN users u ON u.id = k.user_id
         WHERE k.key_hash = $1"
    )))
    .bind(key_hash)
    .try_map(|r: PgRow| Ok((board_key_from(&r)?, principal_from(&r)?)))
    .fetch_optional(c)
    .await
}

pub async fn touch_board_key(c: &mut PgConnection, id: Uuid, at: Timestamp) -> R<()> {
    sqlx::query("UPDATE board_api_keys SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(c)
        .await?;
    Ok(())
}

fn challenge_from(r: &PgRow) -> R<CliChallengeRecord> {
    Ok(CliChallengeRecord {
        id: r.try_get("id")?,
        secret_hash: r.try_get("secret_hash")?,
        command: r.try_get("command")?,
        client_name: r.try_get("client_name")?,
        requested_access: r.try_get("requested_access")?,
        pending_key_hash: r.try_get("pending_key_hash")?,
        pending_key_name: r.try_get("pending_key_name")?,
        approved_by_user_id: r.try_get("approved_by_user_id")?,
        board_api_key_id: r.try_get("board_api_key_id")?,
        approved_at: r.try_get("approved_at")?,
        cancelled_at: r.try_get("cancelled_at")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_cli_challenge(c: &mut PgConnection, ch: &CliChallengeRecord) -> R<()> {
    sqlx::query(
        "INSERT INTO cli_auth_challenges (id, secret_hash, command, client_name, requested_access,
            pending_key_hash, pending_key_name, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(ch.id)
    .bind(&ch.secret_hash)
    .bind(&ch.command)
    .bind(&ch.client_name)
    .bind(&ch.requested_access)
    .bind(&ch.pending_key_hash)
    .bind(&ch.pending_key_name)
    .bind(ch.expires_at)
    .bind(ch.created_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn get_cli_challenge(c: &mut PgConnection, id: Uuid) -> R<Option<CliChallengeRecord>> {
    sqlx::query("SELECT * FROM cli_auth_challenges WHERE id = $1")
        .bind(id)
        .try_map(|r: PgRow| challenge_from(&r))
        .fetch_optional(c)
        .await
}

/// Runs inside the caller's transaction: the key exists only if the challenge is marked.
pub async fn approve_cli_challenge(
    c: &mut PgConnection,
    id: Uuid,
    key: &BoardKeyRecord,
    at: Timestamp,
) -> R<bool> {
    // The key first: the challenge refers to it.
    insert_board_key(&mut *c, key).await?;
    let marked = sqlx::query(
        "UPDATE cli_auth_challenges SET approved_at = $2, approved_by_user_id = $3,
            board_api_key_id = $4
         WHERE id = $1 AND approved_at IS NULL AND cancelled_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(at)
    .bind(&key.user_id)
    .bind(key.id)
    .execute(c)
    .await?;
    Ok(marked.rows_affected() > 0)
}

pub async fn cancel_cli_challenge(c: &mut PgConnection, id: Uuid, at: Timestamp) -> R<bool> {
    let done = sqlx::query(
        "UPDATE cli_auth_challenges SET cancelled_at = $2
         WHERE id = $1 AND approved_at IS NULL AND cancelled_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(at)
    .execute(c)
    .await?;
    Ok(done.rows_affected() > 0)
}

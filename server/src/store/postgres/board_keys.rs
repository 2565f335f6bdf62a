//! Board API keys and the CLI sign-in challenges that mint them.

use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::access::{principal_columns, principal_from};
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

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
    sqlx::query(concat!(
        "SELECT k.*, ",
        principal_columns!(),
        " FROM board_api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1"
    ))
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
        requested_company_id: r.try_get("requested_company_id")?,
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
            requested_company_id, pending_key_hash, pending_key_name, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(ch.id)
    .bind(&ch.secret_hash)
    .bind(&ch.command)
    .bind(&ch.client_name)
    .bind(&ch.requested_access)
    .bind(ch.requested_company_id)
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

/// Runs inside the caller's transaction, with the challenge row locked until it commits, so
/// two approvals at once cannot both insert a key.
pub async fn approve_cli_challenge(
    c: &mut PgConnection,
    id: Uuid,
    key: &BoardKeyRecord,
    at: Timestamp,
) -> R<Option<CliChallengeRecord>> {
    let current = sqlx::query("SELECT * FROM cli_auth_challenges WHERE id = $1 FOR UPDATE")
        .bind(id)
        .try_map(|r: PgRow| challenge_from(&r))
        .fetch_optional(&mut *c)
        .await?;
    let Some(current) = current else {
        return Ok(None);
    };
    if current.cancelled_at.is_some() || current.expires_at <= at {
        return Ok(Some(current));
    }
    // Approved already: the first approver's key and name stay.
    if current.board_api_key_id.is_some() {
        return Ok(Some(current));
    }
    insert_board_key(&mut *c, key).await?;
    sqlx::query(
        "UPDATE cli_auth_challenges SET approved_at = $2, approved_by_user_id = $3,
            board_api_key_id = $4
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(at)
    .bind(&key.user_id)
    .bind(key.id)
    .try_map(|r: PgRow| challenge_from(&r))
    .fetch_optional(c)
    .await
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

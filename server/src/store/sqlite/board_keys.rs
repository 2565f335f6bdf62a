//! Board API keys and the CLI sign-in challenges that mint them.

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use crate::store::*;

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
        requested_company_id: get_opt_uuid(row, "requested_company_id")?,
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
            requested_company_id, pending_key_hash, pending_key_name, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id(ch.id),
            ch.secret_hash,
            ch.command,
            ch.client_name,
            ch.requested_access,
            ch.requested_company_id.map(id),
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

/// Runs in the writer's IMMEDIATE transaction, so nothing changes the row meanwhile.
pub fn approve_cli_challenge(
    c: &Connection,
    ch: Uuid,
    key: &BoardKeyRecord,
    at: Timestamp,
) -> rusqlite::Result<Option<CliChallengeRecord>> {
    let Some(current) = get_cli_challenge(c, ch)? else {
        return Ok(None);
    };
    if current.cancelled_at.is_some() || current.expires_at <= at {
        return Ok(Some(current));
    }
    // Approved already: the first approver's key and name stay.
    if current.board_api_key_id.is_some() {
        return Ok(Some(current));
    }
    insert_board_key(c, key)?;
    c.execute(
        "UPDATE cli_auth_challenges SET approved_at = ?2, approved_by_user_id = ?3,
            board_api_key_id = ?4 WHERE id = ?1",
        params![id(ch), ts(at), key.user_id, id(key.id)],
    )?;
    get_cli_challenge(c, ch)
}

pub fn cancel_cli_challenge(c: &Connection, ch: Uuid, at: Timestamp) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "UPDATE cli_auth_challenges SET cancelled_at = ?2 WHERE id = ?1
            AND approved_at IS NULL AND cancelled_at IS NULL AND expires_at > ?2",
        params![id(ch), ts(at)],
    )? > 0)
}

//! Changing a membership: role and status under the last-owner rule, and an archive that
//! hands the member's open issues on. The company's active owner rows are locked first, so
//! two owners demoting each other at once are serialised and the second sees the first.

use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::rows::enumeration;

use super::access::get_member;
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

/// Hands the open issues of an archived member on; in-progress ones go back to `todo` with
/// their locks cleared (CASE reads the old status).
const HAND_ON: &str = "UPDATE issues SET assignee_agent_id = $3, assignee_user_id = $4, updated_at = $5,
        started_at = CASE WHEN status = 'in_progress' THEN NULL ELSE started_at END,
        checkout_run_id = CASE WHEN status = 'in_progress' THEN NULL ELSE checkout_run_id END,
        execution_run_id = CASE WHEN status = 'in_progress' THEN NULL ELSE execution_run_id END,
        execution_agent_name_key =
            CASE WHEN status = 'in_progress' THEN NULL ELSE execution_agent_name_key END,
        execution_locked_at = CASE WHEN status = 'in_progress' THEN NULL ELSE execution_locked_at END,
        status = CASE WHEN status = 'in_progress' THEN 'todo' ELSE status END
     WHERE company_id = $1 AND assignee_user_id = $2 AND status NOT IN ('done', 'cancelled')";

/// An archived or suspended member's open invites stop working with them.
const REVOKE_INVITES: &str = "UPDATE invites SET revoked_at = $3, updated_at = $3
     WHERE company_id = $1 AND invited_by_user_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL";

pub async fn change_membership(c: &mut PgConnection, ch: &MembershipChange) -> R<ChangeOutcome> {
    // Owner rows first, in one order, so concurrent changes queue instead of deadlocking.
    let owners: Vec<String> = sqlx::query(
        "SELECT user_id FROM company_memberships
         WHERE company_id = $1 AND role = 'owner' AND status = 'active'
         ORDER BY user_id FOR UPDATE",
    )
    .bind(ch.company_id)
    .try_map(|r: PgRow| r.try_get::<String, _>("user_id"))
    .fetch_all(&mut *c)
    .await?;
    let current = sqlx::query(
        "SELECT role, status FROM company_memberships
         WHERE company_id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(ch.company_id)
    .bind(&ch.user_id)
    .try_map(|r: PgRow| {
        Ok((
            enumeration(&r, "role", MemberRole::parse_lenient)?,
            enumeration(&r, "status", MembershipStatus::parse)?,
        ))
    })
    .fetch_optional(&mut *c)
    .await?;
    let Some(before) = current else {
        return Ok(ChangeOutcome::Missing);
    };
    let after = match ch.apply_to(before.0, before.1) {
        Ok(after) => after,
        Err(StillArchived) => return Ok(ChangeOutcome::Archived),
    };
    if gives_up_ownership(before, after) && owners.iter().all(|o| *o == ch.user_id) {
        return Ok(ChangeOutcome::LastOwner);
    }
    sqlx::query(
        "UPDATE company_memberships SET role = $3, status = $4, updated_at = $5
         WHERE company_id = $1 AND user_id = $2",
    )
    .bind(ch.company_id)
    .bind(&ch.user_id)
    .bind(after.0.as_str())
    .bind(after.1.as_str())
    .bind(ch.at)
    .execute(&mut *c)
    .await?;
    if after.1 != MembershipStatus::Active {
        sqlx::query(REVOKE_INVITES)
            .bind(ch.company_id)
            .bind(&ch.user_id)
            .bind(ch.at)
            .execute(&mut *c)
            .await?;
    }
    let mut reassigned = 0;
    if after.1 == MembershipStatus::Archived && before.1 != MembershipStatus::Archived {
        reassigned = sqlx::query(HAND_ON)
            .bind(ch.company_id)
            .bind(&ch.user_id)
            .bind(ch.reassign_agent)
            .bind(&ch.reassign_user)
            .bind(ch.at)
            .execute(&mut *c)
            .await?
            .rows_affected();
    }
    let member = get_member(c, ch.company_id, &ch.user_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(ChangeOutcome::Changed {
        member,
        reassigned_issues: reassigned,
    })
}

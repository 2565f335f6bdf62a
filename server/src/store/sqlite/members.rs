//! Changing a membership: role and status under the last-owner rule, and an archive that
//! hands the member's open issues on. One write transaction (SQLite has one writer at a time,
//! so the owner count cannot change underneath).

use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, params};

use super::access::get_member;
use super::codec::*;
use crate::store::*;

/// Hands the open issues of an archived member on; in-progress ones go back to `todo` with
/// their locks cleared (CASE reads the old status).
const HAND_ON: &str = "UPDATE issues SET assignee_agent_id = ?3, assignee_user_id = ?4, updated_at = ?5,
        started_at = CASE WHEN status = 'in_progress' THEN NULL ELSE started_at END,
        checkout_run_id = CASE WHEN status = 'in_progress' THEN NULL ELSE checkout_run_id END,
        execution_run_id = CASE WHEN status = 'in_progress' THEN NULL ELSE execution_run_id END,
        execution_agent_name_key =
            CASE WHEN status = 'in_progress' THEN NULL ELSE execution_agent_name_key END,
        execution_locked_at = CASE WHEN status = 'in_progress' THEN NULL ELSE execution_locked_at END,
        status = CASE WHEN status = 'in_progress' THEN 'todo' ELSE status END
     WHERE company_id = ?1 AND assignee_user_id = ?2 AND status NOT IN ('done', 'cancelled')";

/// An archived or suspended member's open invites stop working with them.
const REVOKE_INVITES: &str = "UPDATE invites SET revoked_at = ?3, updated_at = ?3
     WHERE company_id = ?1 AND invited_by_user_id = ?2 AND accepted_at IS NULL AND revoked_at IS NULL";

pub fn change_membership(c: &Connection, ch: &MembershipChange) -> rusqlite::Result<ChangeOutcome> {
    let company = id(ch.company_id);
    let current: Option<(MemberRole, MembershipStatus)> = c
        .query_row(
            "SELECT role, status FROM company_memberships WHERE company_id = ?1 AND user_id = ?2",
            params![company, ch.user_id],
            |r| {
                Ok((
                    get_enum(r, "role", MemberRole::parse_lenient)?,
                    get_enum(r, "status", MembershipStatus::parse)?,
                ))
            },
        )
        .optional()?;
    let Some(before) = current else {
        return Ok(ChangeOutcome::Missing);
    };
    let after = match ch.apply_to(before.0, before.1) {
        Ok(after) => after,
        Err(StillArchived) => return Ok(ChangeOutcome::Archived),
    };
    if gives_up_ownership(before, after) {
        let others: i64 = c.query_row(
            "SELECT COUNT(*) FROM company_memberships
             WHERE company_id = ?1 AND user_id <> ?2 AND role = 'owner' AND status = 'active'",
            params![company, ch.user_id],
            |r| r.get(0),
        )?;
        if others == 0 {
            return Ok(ChangeOutcome::LastOwner);
        }
    }
    let at = ts(ch.at);
    c.execute(
        "UPDATE company_memberships SET role = ?3, status = ?4, updated_at = ?5
         WHERE company_id = ?1 AND user_id = ?2",
        params![company, ch.user_id, after.0.as_str(), after.1.as_str(), at],
    )?;
    if after.1 != MembershipStatus::Active {
        c.execute(REVOKE_INVITES, params![company, ch.user_id, at])?;
    }
    let mut reassigned = 0;
    if after.1 == MembershipStatus::Archived && before.1 != MembershipStatus::Archived {
        let agent = ch.reassign_agent.map(id);
        reassigned = c.execute(
            HAND_ON,
            params![company, ch.user_id, agent, ch.reassign_user, at],
        )?;
    }
    let member =
        get_member(c, ch.company_id, &ch.user_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok(ChangeOutcome::Changed {
        member,
        reassigned_issues: reassigned as u64,
    })
}

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

pub fn change_membership(c: &Connection, ch: &MembershipChange) -> rusqlite::Result<ChangeOutcome> {
    let company = id(ch.company_id);
    let current: Option<(String, String)> = c
        .query_row(
            "SELECT role, status FROM company_memberships WHERE company_id = ?1 AND user_id = ?2",
            params![company, ch.user_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((role, status)) = current else {
        return Ok(ChangeOutcome::Missing);
    };
    let was_owner = role == MemberRole::Owner.as_str() && status == "active";
    let stays_owner = ch.role == MemberRole::Owner && ch.status == MembershipStatus::Active;
    if was_owner && !stays_owner {
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
        params![
            company,
            ch.user_id,
            ch.role.as_str(),
            ch.status.as_str(),
            at
        ],
    )?;
    let mut reassigned = 0;
    if ch.status == MembershipStatus::Archived && status != "archived" {
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

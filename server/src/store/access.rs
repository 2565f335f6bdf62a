//! What authenticated mode stores: people's credentials, sessions, roles and memberships,
//! invites, the board claim, board API keys and CLI sign-in challenges. Tokens are stored as
//! SHA-256 hex, passwords as argon2id PHC strings; the plaintext never reaches the store.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::{StoreResult, UserRecord};

/// A signed-in person as every request needs them: who, whether instance admin, and the
/// companies they belong to (active memberships only).
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserRecord,
    pub instance_admin: bool,
    pub memberships: Vec<(Uuid, MemberRole)>,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: String,
    pub token_hash: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct MembershipRecord {
    pub company_id: Uuid,
    pub user: UserRecord,
    pub role: MemberRole,
    pub status: MembershipStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new role and/or status for one membership (what is None stays as the row has it when
/// the write runs, so two owners changing different fields do not undo each other).
#[derive(Debug, Clone)]
pub struct MembershipChange {
    pub company_id: Uuid,
    pub user_id: String,
    pub role: Option<MemberRole>,
    pub status: Option<MembershipStatus>,
    /// When archiving: who takes the member's open issues (neither: they are unassigned).
    pub reassign_agent: Option<Uuid>,
    pub reassign_user: Option<String>,
    pub at: Timestamp,
}

/// The change would bring an archived member back (only an invite does that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillArchived;

impl MembershipChange {
    /// The role and status the row gets, from the ones it has when the write runs. An
    /// archived row changes no more: only archiving it again passes (and changes nothing).
    pub fn apply_to(
        &self,
        role: MemberRole,
        status: MembershipStatus,
    ) -> Result<(MemberRole, MembershipStatus), StillArchived> {
        if status == MembershipStatus::Archived {
            return match self.status {
                Some(MembershipStatus::Archived) => Ok((role, status)),
                _ => Err(StillArchived),
            };
        }
        Ok((self.role.unwrap_or(role), self.status.unwrap_or(status)))
    }
}

/// Whether going from `before` to `after` takes an active owner away.
pub fn gives_up_ownership(
    before: (MemberRole, MembershipStatus),
    after: (MemberRole, MembershipStatus),
) -> bool {
    let owner = |(r, s): (MemberRole, MembershipStatus)| {
        r == MemberRole::Owner && s == MembershipStatus::Active
    };
    owner(before) && !owner(after)
}

#[derive(Debug, Clone)]
pub enum ChangeOutcome {
    Missing,
    /// The member is archived: only another invite brings them back; nothing was written.
    Archived,
    /// The change would leave the company without an active owner; nothing was written.
    LastOwner,
    Changed {
        member: MembershipRecord,
        /// Open issues handed on by an archive (in-progress ones back to `todo`).
        reassigned_issues: u64,
    },
}

#[derive(Debug, Clone)]
pub struct InviteRecord {
    pub id: Uuid,
    pub company_id: Option<Uuid>,
    pub invite_type: InviteType,
    pub token_hash: String,
    pub allowed_join_types: JoinTypes,
    pub human_role: Option<MemberRole>,
    pub invited_by_user_id: Option<String>,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub accepted_at: Option<Timestamp>,
    pub accepted_by_user_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl InviteRecord {
    /// Revoked, accepted or expired invites cannot be used.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.accepted_at.is_none() && self.expires_at > now
    }
}

/// What accepting an invite does, in the same transaction as marking it accepted.
#[derive(Debug, Clone)]
pub enum InviteEffect {
    /// The first instance admin (a bootstrap invite): refused when an admin exists.
    InstanceAdmin,
    /// An active membership with this role.
    Join { company_id: Uuid, role: MemberRole },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    Accepted,
    /// Accepted, revoked or expired meanwhile.
    Gone,
    /// A bootstrap invite, but the instance has an admin now.
    AdminExists,
    /// A company invite, but the person already belongs to the company.
    AlreadyMember,
    /// A company invite, but the person's membership there is suspended (an invite does not
    /// lift a suspension; an owner does).
    Suspended,
}

#[derive(Debug, Clone)]
pub struct BoardClaimRecord {
    pub id: Uuid,
    pub token_hash: String,
    pub code_hash: String,
    pub expires_at: Timestamp,
    pub claimed_at: Option<Timestamp>,
    pub claimed_by_user_id: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    Claimed,
    /// Claimed by someone else first, or expired.
    Gone,
}

#[derive(Debug, Clone)]
pub struct BoardKeyRecord {
    pub id: Uuid,
    pub user_id: String,
    pub name: String,
    pub key_hash: String,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct CliChallengeRecord {
    pub id: Uuid,
    pub secret_hash: String,
    pub command: String,
    pub client_name: Option<String>,
    /// `board` or `instance_admin_required`.
    pub requested_access: String,
    /// The company the CLI said it wants to work in, shown on the approval page.
    pub requested_company_id: Option<Uuid>,
    pub pending_key_hash: String,
    pub pending_key_name: String,
    pub approved_by_user_id: Option<String>,
    pub board_api_key_id: Option<Uuid>,
    pub approved_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Inserts a person with a password; `StoreError::Conflict` when the email is taken.
    async fn insert_user(&self, user: UserRecord, password_hash: String) -> StoreResult<()>;
    /// The person with this (lower-cased) email and their password hash, if any.
    async fn find_login(&self, email: String) -> StoreResult<Option<(UserRecord, Option<String>)>>;
    async fn principal(&self, user_id: String) -> StoreResult<Option<Principal>>;
    /// User ids holding `instance_admin`.
    async fn instance_admins(&self) -> StoreResult<Vec<String>>;

    async fn insert_session(&self, session: SessionRecord) -> StoreResult<()>;
    /// The unexpired session with this token hash and its person.
    async fn session_principal(
        &self,
        token_hash: String,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, Principal)>>;
    async fn extend_session(&self, id: Uuid, expires_at: Timestamp) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: String) -> StoreResult<()>;

    async fn list_members(&self, company_id: Uuid) -> StoreResult<Vec<MembershipRecord>>;
    /// One membership, archived ones included.
    async fn get_member(
        &self,
        company_id: Uuid,
        user_id: String,
    ) -> StoreResult<Option<MembershipRecord>>;
    /// Sets a membership's role and status in one transaction, refusing to leave the company
    /// without an active owner (checked under lock, so two owners demoting each other at once
    /// cannot both succeed). Archiving hands the member's open issues on; any status but
    /// active revokes the open invites the member made.
    async fn change_membership(
        &self,
        change: MembershipChange,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<ChangeOutcome>;

    /// Inserts an invite; a bootstrap invite first revokes every open bootstrap invite.
    async fn insert_invite(
        &self,
        invite: InviteRecord,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<()>;
    async fn find_invite(&self, token_hash: String) -> StoreResult<Option<InviteRecord>>;
    async fn get_invite(&self, id: Uuid) -> StoreResult<Option<InviteRecord>>;
    async fn list_invites(&self, company_id: Uuid) -> StoreResult<Vec<InviteRecord>>;
    /// The newest open bootstrap invite.
    async fn open_bootstrap_invite(&self, now: Timestamp) -> StoreResult<Option<InviteRecord>>;
    /// False when it was accepted or revoked already.
    async fn revoke_invite(
        &self,
        id: Uuid,
        at: Timestamp,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<bool>;
    /// Marks the invite accepted by `user_id` and applies its effect, in one transaction, only
    /// while it is still open.
    async fn accept_invite(
        &self,
        invite_id: Uuid,
        user_id: String,
        effect: InviteEffect,
        at: Timestamp,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<AcceptOutcome>;

    async fn insert_board_claim(&self, claim: BoardClaimRecord) -> StoreResult<()>;
    /// The newest unclaimed, unexpired claim.
    async fn open_board_claim(&self, now: Timestamp) -> StoreResult<Option<BoardClaimRecord>>;
    async fn find_board_claim(&self, token_hash: String) -> StoreResult<Option<BoardClaimRecord>>;
    /// One transaction: the claim is marked, `user_id` becomes instance admin, `local-board`
    /// loses the role, and `user_id` becomes owner of every company (an active membership
    /// keeps its role); `activity` is built per company by the caller.
    async fn claim_board(
        &self,
        claim_id: Uuid,
        user_id: String,
        at: Timestamp,
        activity: Vec<ActivityEntry>,
    ) -> StoreResult<ClaimOutcome>;

    async fn insert_board_key(&self, key: BoardKeyRecord) -> StoreResult<()>;
    async fn list_board_keys(&self, user_id: String) -> StoreResult<Vec<BoardKeyRecord>>;
    /// False when the key is not this user's or was revoked already.
    async fn revoke_board_key(&self, user_id: String, id: Uuid, at: Timestamp)
    -> StoreResult<bool>;
    /// The key with this hash (whatever its state) and its person.
    async fn board_key_principal(
        &self,
        key_hash: String,
    ) -> StoreResult<Option<(BoardKeyRecord, Principal)>>;
    async fn touch_board_key(&self, id: Uuid, at: Timestamp) -> StoreResult<()>;

    async fn insert_cli_challenge(&self, challenge: CliChallengeRecord) -> StoreResult<()>;
    async fn get_cli_challenge(&self, id: Uuid) -> StoreResult<Option<CliChallengeRecord>>;
    /// Approves a challenge that is neither cancelled nor expired at `at`, in one transaction
    /// with the challenge row locked: the first approval inserts `key` (the approver's, with
    /// the challenge's pending hash); a later one keeps that key and its `approved_at` and only
    /// records the new approver. Answers the challenge as it is afterwards (unchanged when it
    /// was cancelled or expired), None when there is no such challenge.
    async fn approve_cli_challenge(
        &self,
        id: Uuid,
        key: BoardKeyRecord,
        at: Timestamp,
    ) -> StoreResult<Option<CliChallengeRecord>>;
    /// Cancels a pending challenge (not approved, cancelled or expired at `at`); false when it
    /// was not pending.
    async fn cancel_cli_challenge(&self, id: Uuid, at: Timestamp) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberRole::*;
    use MembershipStatus::*;

    fn change(role: Option<MemberRole>, status: Option<MembershipStatus>) -> MembershipChange {
        MembershipChange {
            company_id: Uuid::nil(),
            user_id: "u".into(),
            role,
            status,
            reassign_agent: None,
            reassign_user: None,
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_as_the_row_has_it_then() {
        // Another owner suspended the member meanwhile: a role change keeps the suspension.
        let next = change(Some(Admin), None).apply_to(Operator, Suspended);
        assert!(matches!(next, Ok((Admin, Suspended))));
        let next = change(None, Some(Active)).apply_to(Viewer, Pending);
        assert!(matches!(next, Ok((Viewer, Active))));
    }

    #[test]
    fn an_archived_member_only_stays_archived() {
        let back = change(Some(Operator), None).apply_to(Operator, Archived);
        assert!(back == Err(StillArchived));
        let active = change(None, Some(Active)).apply_to(Owner, Archived);
        assert!(active == Err(StillArchived));
        let again = change(None, Some(Archived)).apply_to(Owner, Archived);
        assert!(matches!(again, Ok((Owner, Archived))));
    }

    #[test]
    fn only_an_active_owner_can_give_up_ownership() {
        assert!(gives_up_ownership((Owner, Active), (Admin, Active)));
        assert!(gives_up_ownership((Owner, Active), (Owner, Suspended)));
        assert!(!gives_up_ownership((Owner, Active), (Owner, Active)));
        assert!(!gives_up_ownership((Owner, Suspended), (Viewer, Suspended)));
        assert!(!gives_up_ownership((Admin, Active), (Owner, Active)));
    }
}

//! `AccessStore` for `SqliteStore`: reads on a reader, writes in one transaction with their
//! activity entries.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::{SqliteStore, access, activity, board_keys, invites, members};
use crate::store::*;

#[async_trait]
impl AccessStore for SqliteStore {
    async fn insert_user(&self, user: UserRecord, password_hash: String) -> StoreResult<()> {
        self.write(move |tx| access::insert_user(tx, &user, &password_hash))
            .await
    }

    async fn find_login(&self, email: String) -> StoreResult<Option<(UserRecord, Option<String>)>> {
        self.read(move |c| access::find_login(c, &email)).await
    }

    async fn principal(&self, user_id: String) -> StoreResult<Option<Principal>> {
        self.read(move |c| access::principal(c, &user_id)).await
    }

    async fn instance_admins(&self) -> StoreResult<Vec<String>> {
        self.read(access::instance_admins).await
    }

    async fn insert_session(&self, session: SessionRecord) -> StoreResult<()> {
        self.write(move |tx| access::insert_session(tx, &session))
            .await
    }

    async fn session_principal(
        &self,
        token_hash: String,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, Principal)>> {
        self.read(move |c| {
            let Some(session) = access::find_session(c, &token_hash, now)? else {
                return Ok(None);
            };
            Ok(access::principal(c, &session.user_id)?.map(|p| (session, p)))
        })
        .await
    }

    async fn extend_session(&self, id: Uuid, expires_at: Timestamp) -> StoreResult<()> {
        self.write(move |tx| access::extend_session(tx, id, expires_at))
            .await
    }

    async fn delete_session(&self, token_hash: String) -> StoreResult<()> {
        self.write(move |tx| access::delete_session(tx, &token_hash))
            .await
    }

    async fn list_members(&self, company_id: Uuid) -> StoreResult<Vec<MembershipRecord>> {
        self.read(move |c| access::list_members(c, company_id))
            .await
    }

    async fn get_member(
        &self,
        company_id: Uuid,
        user_id: String,
    ) -> StoreResult<Option<MembershipRecord>> {
        self.read(move |c| access::get_member(c, company_id, &user_id))
            .await
    }

    async fn change_membership(
        &self,
        change: MembershipChange,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<ChangeOutcome> {
        self.write(move |tx| {
            let outcome = members::change_membership(tx, &change)?;
            if matches!(outcome, ChangeOutcome::Changed { .. }) {
                activity::insert(tx, &act)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn insert_invite(
        &self,
        invite: InviteRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            invites::insert_invite(tx, &invite)?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn find_invite(&self, token_hash: String) -> StoreResult<Option<InviteRecord>> {
        self.read(move |c| invites::find_invite(c, &token_hash))
            .await
    }

    async fn get_invite(&self, id: Uuid) -> StoreResult<Option<InviteRecord>> {
        self.read(move |c| invites::get_invite(c, id)).await
    }

    async fn list_invites(&self, company_id: Uuid) -> StoreResult<Vec<InviteRecord>> {
        self.read(move |c| invites::list_invites(c, company_id))
            .await
    }

    async fn open_bootstrap_invite(&self, now: Timestamp) -> StoreResult<Option<InviteRecord>> {
        self.read(move |c| invites::open_bootstrap_invite(c, now))
            .await
    }

    async fn revoke_invite(
        &self,
        id: Uuid,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let revoked = invites::revoke_invite(tx, id, at)?;
            if revoked {
                activity::insert(tx, &act)?;
            }
            Ok(revoked)
        })
        .await
    }

    async fn accept_invite(
        &self,
        invite_id: Uuid,
        user_id: String,
        effect: InviteEffect,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<AcceptOutcome> {
        self.write(move |tx| {
            let outcome = invites::accept_invite(tx, invite_id, &user_id, &effect, at)?;
            if outcome == AcceptOutcome::Accepted {
                activity::insert(tx, &act)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn insert_board_claim(&self, claim: BoardClaimRecord) -> StoreResult<()> {
        self.write(move |tx| invites::insert_board_claim(tx, &claim))
            .await
    }

    async fn open_board_claim(&self, now: Timestamp) -> StoreResult<Option<BoardClaimRecord>> {
        self.read(move |c| invites::open_board_claim(c, now)).await
    }

    async fn find_board_claim(&self, token_hash: String) -> StoreResult<Option<BoardClaimRecord>> {
        self.read(move |c| invites::find_board_claim(c, &token_hash))
            .await
    }

    async fn claim_board(
        &self,
        claim_id: Uuid,
        user_id: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<ClaimOutcome> {
        self.write(move |tx| {
            let outcome = invites::claim_board(tx, claim_id, &user_id, at)?;
            if outcome == ClaimOutcome::Claimed {
                activity::insert(tx, &act)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn insert_board_key(&self, key: BoardKeyRecord) -> StoreResult<()> {
        self.write(move |tx| board_keys::insert_board_key(tx, &key))
            .await
    }

    async fn list_board_keys(&self, user_id: String) -> StoreResult<Vec<BoardKeyRecord>> {
        self.read(move |c| board_keys::list_board_keys(c, &user_id))
            .await
    }

    async fn revoke_board_key(
        &self,
        user_id: String,
        id: Uuid,
        at: Timestamp,
    ) -> StoreResult<bool> {
        self.write(move |tx| board_keys::revoke_board_key(tx, &user_id, id, at))
            .await
    }

    async fn board_key_principal(
        &self,
        key_hash: String,
    ) -> StoreResult<Option<(BoardKeyRecord, Principal)>> {
        self.read(move |c| {
            let Some(key) = board_keys::find_board_key(c, &key_hash)? else {
                return Ok(None);
            };
            Ok(access::principal(c, &key.user_id)?.map(|p| (key, p)))
        })
        .await
    }

    async fn touch_board_key(&self, id: Uuid, at: Timestamp) -> StoreResult<()> {
        self.write(move |tx| board_keys::touch_board_key(tx, id, at))
            .await
    }

    async fn insert_cli_challenge(&self, challenge: CliChallengeRecord) -> StoreResult<()> {
        self.write(move |tx| board_keys::insert_cli_challenge(tx, &challenge))
            .await
    }

    async fn get_cli_challenge(&self, id: Uuid) -> StoreResult<Option<CliChallengeRecord>> {
        self.read(move |c| board_keys::get_cli_challenge(c, id))
            .await
    }

    async fn approve_cli_challenge(
        &self,
        id: Uuid,
        key: BoardKeyRecord,
        at: Timestamp,
    ) -> StoreResult<Option<CliChallengeRecord>> {
        self.write(move |tx| board_keys::approve_cli_challenge(tx, id, &key, at))
            .await
    }

    async fn cancel_cli_challenge(&self, id: Uuid, at: Timestamp) -> StoreResult<bool> {
        self.write(move |tx| board_keys::cancel_cli_challenge(tx, id, at))
            .await
    }
}

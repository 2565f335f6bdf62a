//! `AccessStore` for `PgStore`: reads on a pooled connection, writes in one transaction with
//! their activity entries; a write whose condition did not hold is rolled back.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::{PgStore, access, activity, board_keys, invites, members};
use crate::store::*;

#[async_trait]
impl AccessStore for PgStore {
    async fn insert_user(&self, user: UserRecord, password_hash: String) -> StoreResult<()> {
        Ok(access::insert_user(&mut *self.conn().await?, &user, &password_hash).await?)
    }

    async fn find_login(&self, email: String) -> StoreResult<Option<(UserRecord, Option<String>)>> {
        Ok(access::find_login(&mut *self.conn().await?, &email).await?)
    }

    async fn principal(&self, user_id: String) -> StoreResult<Option<Principal>> {
        Ok(access::principal(&mut *self.conn().await?, &user_id).await?)
    }

    async fn instance_admins(&self) -> StoreResult<Vec<String>> {
        Ok(access::instance_admins(&mut *self.conn().await?).await?)
    }

    async fn insert_session(&self, session: SessionRecord) -> StoreResult<()> {
        Ok(access::insert_session(&mut *self.conn().await?, &session).await?)
    }

    async fn session_principal(
        &self,
        token_hash: String,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, Principal)>> {
        Ok(access::session_principal(&mut *self.conn().await?, &token_hash, now).await?)
    }

    async fn extend_session(&self, id: Uuid, expires_at: Timestamp) -> StoreResult<()> {
        Ok(access::extend_session(&mut *self.conn().await?, id, expires_at).await?)
    }

    async fn delete_session(&self, token_hash: String) -> StoreResult<()> {
        Ok(access::delete_session(&mut *self.conn().await?, &token_hash).await?)
    }

    async fn list_members(&self, company_id: Uuid) -> StoreResult<Vec<MembershipRecord>> {
        Ok(access::list_members(&mut *self.conn().await?, company_id).await?)
    }

    async fn get_member(
        &self,
        company_id: Uuid,
        user_id: String,
    ) -> StoreResult<Option<MembershipRecord>> {
        Ok(access::get_member(&mut *self.conn().await?, company_id, &user_id).await?)
    }

    async fn change_membership(
        &self,
        change: MembershipChange,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<ChangeOutcome> {
        let mut tx = self.tx().await?;
        let outcome = members::change_membership(&mut tx, &change).await?;
        if matches!(outcome, ChangeOutcome::Changed { .. }) {
            activity::insert(&mut tx, &act).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn insert_invite(
        &self,
        invite: InviteRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        invites::insert_invite(&mut tx, &invite).await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_invite(&self, token_hash: String) -> StoreResult<Option<InviteRecord>> {
        Ok(invites::find_invite(&mut *self.conn().await?, &token_hash).await?)
    }

    async fn get_invite(&self, id: Uuid) -> StoreResult<Option<InviteRecord>> {
        Ok(invites::get_invite(&mut *self.conn().await?, id).await?)
    }

    async fn list_invites(&self, company_id: Uuid) -> StoreResult<Vec<InviteRecord>> {
        Ok(invites::list_invites(&mut *self.conn().await?, company_id).await?)
    }

    async fn open_bootstrap_invite(&self, now: Timestamp) -> StoreResult<Option<InviteRecord>> {
        Ok(invites::open_bootstrap_invite(&mut *self.conn().await?, now).await?)
    }

    async fn revoke_invite(
        &self,
        id: Uuid,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        if !invites::revoke_invite(&mut tx, id, at).await? {
            return Ok(false);
        }
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn accept_invite(
        &self,
        invite_id: Uuid,
        user_id: String,
        effect: InviteEffect,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<AcceptOutcome> {
        let mut tx = self.tx().await?;
        let outcome = invites::accept_invite(&mut tx, invite_id, &user_id, &effect, at).await?;
        if outcome == AcceptOutcome::Accepted {
            activity::insert(&mut tx, &act).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn insert_board_claim(&self, claim: BoardClaimRecord) -> StoreResult<()> {
        Ok(invites::insert_board_claim(&mut *self.conn().await?, &claim).await?)
    }

    async fn open_board_claim(&self, now: Timestamp) -> StoreResult<Option<BoardClaimRecord>> {
        Ok(invites::open_board_claim(&mut *self.conn().await?, now).await?)
    }

    async fn find_board_claim(&self, token_hash: String) -> StoreResult<Option<BoardClaimRecord>> {
        Ok(invites::find_board_claim(&mut *self.conn().await?, &token_hash).await?)
    }

    async fn claim_board(
        &self,
        claim_id: Uuid,
        user_id: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<ClaimOutcome> {
        let mut tx = self.tx().await?;
        let outcome = invites::claim_board(&mut tx, claim_id, &user_id, at).await?;
        if outcome == ClaimOutcome::Claimed {
            activity::insert(&mut tx, &act).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn insert_board_key(&self, key: BoardKeyRecord) -> StoreResult<()> {
        Ok(board_keys::insert_board_key(&mut *self.conn().await?, &key).await?)
    }

    async fn list_board_keys(&self, user_id: String) -> StoreResult<Vec<BoardKeyRecord>> {
        Ok(board_keys::list_board_keys(&mut *self.conn().await?, &user_id).await?)
    }

    async fn revoke_board_key(
        &self,
        user_id: String,
        id: Uuid,
        at: Timestamp,
    ) -> StoreResult<bool> {
        Ok(board_keys::revoke_board_key(&mut *self.conn().await?, &user_id, id, at).await?)
    }

    async fn board_key_principal(
        &self,
        key_hash: String,
    ) -> StoreResult<Option<(BoardKeyRecord, Principal)>> {
        Ok(board_keys::board_key_principal(&mut *self.conn().await?, &key_hash).await?)
    }

    async fn touch_board_key(&self, id: Uuid, at: Timestamp) -> StoreResult<()> {
        Ok(board_keys::touch_board_key(&mut *self.conn().await?, id, at).await?)
    }

    async fn insert_cli_challenge(&self, challenge: CliChallengeRecord) -> StoreResult<()> {
        Ok(board_keys::insert_cli_challenge(&mut *self.conn().await?, &challenge).await?)
    }

    async fn get_cli_challenge(&self, id: Uuid) -> StoreResult<Option<CliChallengeRecord>> {
        Ok(board_keys::get_cli_challenge(&mut *self.conn().await?, id).await?)
    }

    async fn approve_cli_challenge(
        &self,
        id: Uuid,
        key: BoardKeyRecord,
        at: Timestamp,
    ) -> StoreResult<Option<CliChallengeRecord>> {
        let mut tx = self.tx().await?;
        let challenge = board_keys::approve_cli_challenge(&mut tx, id, &key, at).await?;
        tx.commit().await?;
        Ok(challenge)
    }

    async fn cancel_cli_challenge(&self, id: Uuid, at: Timestamp) -> StoreResult<bool> {
        Ok(board_keys::cancel_cli_challenge(&mut *self.conn().await?, id, at).await?)
    }
}

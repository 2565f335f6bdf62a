//! `AccessStore` for `PgStore`: reads on a pooled connection, writes in one transaction with
//! their activity entries; a write whose condition did not hold is rolled back.

use async_trait::async_trait;
use paperclip_shared::*;
use uuid::Uuid;

use super::access as sql;
use super::{PgStore, activity};
use crate::store::*;

#[async_trait]
impl AccessStore for PgStore {
    async fn insert_user(&self, user: UserRecord, password_hash: String) -> StoreResult<()> {
        Ok(sql::insert_user(&mut *self.conn().await?, &user, &password_hash).await?)
    }

    async fn find_login(&self, email: String) -> StoreResult<Option<(UserRecord, Option<String>)>> {
        Ok(sql::find_login(&mut *self.conn().await?, &email).await?)
    }

    async fn principal(&self, user_id: String) -> StoreResult<Option<Principal>> {
        Ok(sql::principal(&mut *self.conn().await?, &user_id).await?)
    }

    async fn instance_admins(&self) -> StoreResult<Vec<String>> {
        Ok(sql::instance_admins(&mut *self.conn().await?).await?)
    }

    async fn insert_session(&self, session: SessionRecord) -> StoreResult<()> {
        Ok(sql::insert_session(&mut *self.conn().await?, &session).await?)
    }

    async fn session_principal(
        &self,
        token_hash: String,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, Principal)>> {
        Ok(sql::session_principal(&mut *self.conn().await?, &token_hash, now).await?)
    }

    async fn extend_session(&self, id: Uuid, expires_at: Timestamp) -> StoreResult<()> {
        Ok(sql::extend_session(&mut *self.conn().await?, id, expires_at).await?)
    }

    async fn delete_session(&self, token_hash: String) -> StoreResult<()> {
        Ok(sql::delete_session(&mut *self.conn().await?, &token_hash).await?)
    }

    async fn list_members(&self, company_id: Uuid) -> StoreResult<Vec<MembershipRecord>> {
        Ok(sql::list_members(&mut *self.conn().await?, company_id).await?)
    }

    async fn save_membership(
        &self,
        company_id: Uuid,
        user_id: String,
        role: MemberRole,
        status: MembershipStatus,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        sql::save_membership(&mut tx, company_id, &user_id, role, status, at).await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_membership(
        &self,
        company_id: Uuid,
        user_id: String,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        if !sql::remove_membership(&mut tx, company_id, &user_id).await? {
            return Ok(false);
        }
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_invite(
        &self,
        invite: InviteRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        sql::insert_invite(&mut tx, &invite).await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_invite(&self, token_hash: String) -> StoreResult<Option<InviteRecord>> {
        Ok(sql::find_invite(&mut *self.conn().await?, &token_hash).await?)
    }

    async fn get_invite(&self, id: Uuid) -> StoreResult<Option<InviteRecord>> {
        Ok(sql::get_invite(&mut *self.conn().await?, id).await?)
    }

    async fn list_invites(&self, company_id: Uuid) -> StoreResult<Vec<InviteRecord>> {
        Ok(sql::list_invites(&mut *self.conn().await?, company_id).await?)
    }

    async fn open_bootstrap_invite(&self, now: Timestamp) -> StoreResult<Option<InviteRecord>> {
        Ok(sql::open_bootstrap_invite(&mut *self.conn().await?, now).await?)
    }

    async fn revoke_invite(
        &self,
        id: Uuid,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        if !sql::revoke_invite(&mut tx, id, at).await? {
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
        let outcome = sql::accept_invite(&mut tx, invite_id, &user_id, &effect, at).await?;
        if outcome == AcceptOutcome::Accepted {
            activity::insert(&mut tx, &act).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn insert_board_claim(&self, claim: BoardClaimRecord) -> StoreResult<()> {
        Ok(sql::insert_board_claim(&mut *self.conn().await?, &claim).await?)
    }

    async fn open_board_claim(&self, now: Timestamp) -> StoreResult<Option<BoardClaimRecord>> {
        Ok(sql::open_board_claim(&mut *self.conn().await?, now).await?)
    }

    async fn find_board_claim(&self, token_hash: String) -> StoreResult<Option<BoardClaimRecord>> {
        Ok(sql::find_board_claim(&mut *self.conn().await?, &token_hash).await?)
    }

    async fn claim_board(
        &self,
        claim_id: Uuid,
        user_id: String,
        at: Timestamp,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<ClaimOutcome> {
        let mut tx = self.tx().await?;
        let outcome = sql::claim_board(&mut tx, claim_id, &user_id, at).await?;
        if outcome == ClaimOutcome::Claimed {
            activity::insert(&mut tx, &act).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn insert_board_key(&self, key: BoardKeyRecord) -> StoreResult<()> {
        Ok(sql::insert_board_key(&mut *self.conn().await?, &key).await?)
    }

    async fn list_board_keys(&self, user_id: String) -> StoreResult<Vec<BoardKeyRecord>> {
        Ok(sql::list_board_keys(&mut *self.conn().await?, &user_id).await?)
    }

    async fn revoke_board_key(
        &self,
        user_id: String,
        id: Uuid,
        at: Timestamp,
    ) -> StoreResult<bool> {
        Ok(sql::revoke_board_key(&mut *self.conn().await?, &user_id, id, at).await?)
    }

    async fn board_key_principal(
        &self,
        key_hash: String,
    ) -> StoreResult<Option<(BoardKeyRecord, Principal)>> {
        Ok(sql::board_key_principal(&mut *self.conn().await?, &key_hash).await?)
    }

    async fn touch_board_key(&self, id: Uuid, at: Timestamp) -> StoreResult<()> {
        Ok(sql::touch_board_key(&mut *self.conn().await?, id, at).await?)
    }

    async fn insert_cli_challenge(&self, challenge: CliChallengeRecord) -> StoreResult<()> {
        Ok(sql::insert_cli_challenge(&mut *self.conn().await?, &challenge).await?)
    }

    async fn get_cli_challenge(&self, id: Uuid) -> StoreResult<Option<CliChallengeRecord>> {
        Ok(sql::get_cli_challenge(&mut *self.conn().await?, id).await?)
    }

    async fn approve_cli_challenge(
        &self,
        id: Uuid,
        key: BoardKeyRecord,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let approved = sql::approve_cli_challenge(&mut tx, id, &key, at).await?;
        if approved {
            tx.commit().await?;
        }
        Ok(approved)
    }

    async fn cancel_cli_challenge(&self, id: Uuid, at: Timestamp) -> StoreResult<bool> {
        Ok(sql::cancel_cli_challenge(&mut *self.conn().await?, id, at).await?)
    }
}

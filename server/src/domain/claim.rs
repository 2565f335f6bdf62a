//! The board claim: an instance that ran `local_trusted` and now runs `authenticated` still has
//! `local-board` as its only admin. Start-up opens a claim (persisted, 24 h, single use) and
//! prints its URL; a signed-in person who opens it becomes instance admin and owner of every
//! company, and `local-board` loses the role — in one transaction.

use paperclip_shared::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::people::person_activity;
use super::{Domain, DomainError, DomainResult};
use crate::auth::secret::InstanceSecret;
use crate::auth::{Actor, BoardSource, LOCAL_BOARD_USER_ID, RequestActor, keys};
use crate::store::{BoardClaimRecord, ClaimOutcome};

pub const CLAIM_HOURS: i64 = 24;

/// Token and code of a claim, derived from the instance secret and the claim's id.
fn claim_secrets(secret: &InstanceSecret, id: Uuid) -> (String, String) {
    let token = secret.derive(&format!("board-claim-token:{id}"));
    let code = secret.derive(&format!("board-claim-code:{id}"));
    (token[..48].to_string(), code[..24].to_string())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimStatus {
    /// `available`, `claimed` or `expired`.
    pub status: &'static str,
    pub requires_sign_in: bool,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    pub claimed_by_user_id: Option<String>,
}

impl Domain {
    /// While `local-board` is the only admin: the open claim's URL path (opening one when
    /// there is none, or when it was made with another secret).
    pub async fn ensure_board_claim(
        &self,
        secret: &InstanceSecret,
    ) -> DomainResult<Option<(String, Timestamp)>> {
        if self.store.instance_admins().await? != [LOCAL_BOARD_USER_ID] {
            return Ok(None);
        }
        let now = crate::domain::now();
        if let Some(open) = self.store.open_board_claim(now).await? {
            let (token, code) = claim_secrets(secret, open.id);
            if keys::hashes_match(&open.token_hash, &keys::hash_token(&token)) {
                return Ok(Some((
                    format!("/board-claim/{token}?code={code}"),
                    open.expires_at,
                )));
            }
        }
        let id = Uuid::new_v4();
        let (token, code) = claim_secrets(secret, id);
        let claim = BoardClaimRecord {
            id,
            token_hash: keys::hash_token(&token),
            code_hash: keys::hash_token(&code),
            expires_at: now + chrono::Duration::hours(CLAIM_HOURS),
            claimed_at: None,
            claimed_by_user_id: None,
            created_at: now,
        };
        let expires = claim.expires_at;
        self.store.insert_board_claim(claim).await?;
        Ok(Some((format!("/board-claim/{token}?code={code}"), expires)))
    }

    /// The claim named by `token` and `code`; 404 when either is wrong.
    async fn find_claim(&self, token: &str, code: &str) -> DomainResult<BoardClaimRecord> {
        let claim = self
            .store
            .find_board_claim(keys::hash_token(token))
            .await?
            .filter(|c| keys::hashes_match(&c.code_hash, &keys::hash_token(code)))
            .ok_or(DomainError::NotFound("Board claim challenge not found"))?;
        Ok(claim)
    }

    pub async fn board_claim_status(&self, token: &str, code: &str) -> DomainResult<ClaimStatus> {
        let claim = self.find_claim(token, code).await?;
        let status = if claim.claimed_at.is_some() {
            "claimed"
        } else if claim.expires_at <= crate::domain::now() {
            "expired"
        } else {
            "available"
        };
        Ok(ClaimStatus {
            status,
            requires_sign_in: true,
            expires_at: claim.expires_at,
            claimed_by_user_id: claim.claimed_by_user_id,
        })
    }

    /// Claims the instance for the signed-in caller (a browser session, not a key).
    pub async fn claim_board(
        &self,
        who: &RequestActor,
        token: &str,
        code: &str,
    ) -> DomainResult<String> {
        let claim = self.find_claim(token, code).await?;
        let user_id = match who.actor() {
            Actor::Board {
                user_id,
                source: BoardSource::Session,
                ..
            } => user_id.clone(),
            _ => {
                return Err(DomainError::Unauthorized(
                    "Sign in before claiming board ownership".into(),
                ));
            }
        };
        let now = crate::domain::now();
        if claim.claimed_at.is_some() {
            return Err(DomainError::conflict(
                "claim_used",
                "Board claim challenge is no longer available",
            ));
        }
        if claim.expires_at <= now {
            return Err(DomainError::conflict(
                "claim_expired",
                "Board claim challenge expired. Restart the server to print a new one.",
            ));
        }
        let activity = self
            .store
            .list_companies()
            .await?
            .into_iter()
            .map(|c| {
                person_activity(
                    c.id,
                    &user_id,
                    "instance.board_claimed",
                    ("company", c.id.to_string()),
                    json!({"previousAdmin": LOCAL_BOARD_USER_ID}),
                    now,
                )
            })
            .collect();
        match self
            .store
            .claim_board(claim.id, user_id.clone(), now, activity)
            .await?
        {
            ClaimOutcome::Claimed => Ok(user_id),
            ClaimOutcome::Gone => Err(DomainError::conflict(
                "claim_used",
                "Board claim challenge is no longer available",
            )),
        }
    }
}

//! Board API keys: a person's bearer tokens for the CLI and scripts (`pcp_board_` + 48 hex),
//! shown once, stored as SHA-256, with the expiry the person chooses (none by default) — an
//! expired key is refused with a message that says so, never silently.

use paperclip_shared::Timestamp;
use serde::Deserialize;
use uuid::Uuid;

use super::{Domain, DomainError, DomainResult};
use crate::auth::{RequestActor, keys};
use crate::store::BoardKeyRecord;

const NAME_MAX: usize = 120;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateBoardKey {
    /// Default "paperclip cli".
    #[serde(default)]
    pub name: Option<String>,
    /// When the key stops working (RFC 3339, in the future); absent or null: never.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
}

impl Domain {
    pub async fn list_board_keys(
        &self,
        who: &RequestActor,
        include_inactive: bool,
    ) -> DomainResult<Vec<BoardKeyRecord>> {
        let board = who.board()?;
        let now = crate::domain::now();
        let keys = self
            .store
            .list_board_keys(board.user_id().to_string())
            .await?;
        Ok(keys
            .into_iter()
            .filter(|k| {
                include_inactive || (k.revoked_at.is_none() && k.expires_at.is_none_or(|t| t > now))
            })
            .collect())
    }

    /// A new key for the caller; the token is returned here only.
    pub async fn create_board_key(
        &self,
        who: &RequestActor,
        input: CreateBoardKey,
    ) -> DomainResult<(BoardKeyRecord, String)> {
        let board = who.board()?;
        let name = input
            .name
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| "paperclip cli".into());
        if name.is_empty() || name.chars().count() > NAME_MAX {
            return Err(DomainError::invalid(
                "name",
                format!("name must be 1 to {NAME_MAX} characters"),
            ));
        }
        let now = crate::domain::now();
        if input.expires_at.is_some_and(|t| t <= now) {
            return Err(DomainError::invalid(
                "expiresAt",
                "expiresAt must be in the future (or null for a key that does not expire)",
            ));
        }
        let token = keys::new_token(keys::BOARD_KEY_PREFIX, 24);
        let key = BoardKeyRecord {
            id: Uuid::new_v4(),
            user_id: board.user_id().to_string(),
            name,
            key_hash: keys::hash_token(&token),
            expires_at: input.expires_at,
            last_used_at: None,
            revoked_at: None,
            created_at: now,
        };
        self.store.insert_board_key(key.clone()).await?;
        Ok((key, token))
    }

    pub async fn revoke_board_key(&self, who: &RequestActor, key_id: Uuid) -> DomainResult<()> {
        let board = who.board()?;
        let revoked = self
            .store
            .revoke_board_key(board.user_id().to_string(), key_id, crate::domain::now())
            .await?;
        if revoked {
            Ok(())
        } else {
            Err(DomainError::NotFound("Board API key not found"))
        }
    }
}

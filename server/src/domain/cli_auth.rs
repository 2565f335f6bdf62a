//! CLI sign-in challenges: the CLI asks for access, a person approves in the browser, and the
//! CLI gets a board API key. The challenge secret (`pcp_cli_auth_…`) and the key
//! (`pcp_board_…`) are both made at creation and handed to the CLI once; only their SHA-256
//! is stored, and the key row itself appears only when someone approves.

use paperclip_shared::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Domain, DomainError, DomainResult};
use crate::auth::{Actor, BoardSource, RequestActor, keys};
use crate::store::{BoardKeyRecord, CliChallengeRecord, Principal, UserRecord};

/// How long the CLI may wait for an approval (Paperclip: 10 minutes).
pub fn challenge_lifetime() -> chrono::Duration {
    chrono::Duration::minutes(10)
}

/// How long a key minted by an approval works (Paperclip: 30 days); `paperclip auth login`
/// with `--email` asks for the same.
pub fn cli_key_lifetime() -> chrono::Duration {
    chrono::Duration::days(30)
}

const NOT_FOUND: &str = "CLI auth challenge not found";
const COMMAND_MAX: usize = 240;
const CLIENT_NAME_MAX: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestedAccess {
    /// The approver's own board access.
    #[default]
    Board,
    /// Only an instance admin may approve.
    InstanceAdminRequired,
}

impl RequestedAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestedAccess::Board => "board",
            RequestedAccess::InstanceAdminRequired => "instance_admin_required",
        }
    }

    pub fn from_stored(text: &str) -> Self {
        if text == "instance_admin_required" {
            RequestedAccess::InstanceAdminRequired
        } else {
            RequestedAccess::Board
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeStatus {
    Pending,
    Approved,
    Cancelled,
    Expired,
}

/// Paperclip's order: cancelled wins, then expiry (an approved challenge reads `expired` once
/// its ten minutes pass), then approval.
pub fn challenge_status(c: &CliChallengeRecord, now: Timestamp) -> ChallengeStatus {
    if c.cancelled_at.is_some() {
        ChallengeStatus::Cancelled
    } else if c.expires_at <= now {
        ChallengeStatus::Expired
    } else if c.approved_at.is_some() && c.board_api_key_id.is_some() {
        ChallengeStatus::Approved
    } else {
        ChallengeStatus::Pending
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateChallenge {
    /// The command asking, shown to the approver (1 to 240 characters).
    pub command: String,
    /// Names the key: "<clientName> (board)"; default "paperclip cli".
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub requested_access: Option<RequestedAccess>,
    /// The company the CLI means to work in, shown on the approval page.
    #[serde(default)]
    pub requested_company_id: Option<Uuid>,
}

/// A challenge just made, with the two secrets the CLI gets once.
pub struct NewChallenge {
    pub challenge: CliChallengeRecord,
    pub secret: String,
    pub board_token: String,
}

/// What the approval page and the polling CLI see.
pub struct ChallengeView {
    pub challenge: CliChallengeRecord,
    pub status: ChallengeStatus,
    pub company_name: Option<String>,
    pub approved_by: Option<UserRecord>,
}

pub struct Approval {
    pub challenge: CliChallengeRecord,
    pub status: ChallengeStatus,
    pub user_id: String,
}

/// `GET /cli-auth/me`: the caller as the CLI sees them.
pub struct CliIdentity {
    pub principal: Principal,
    pub source: BoardSource,
}

fn trimmed_text(
    value: &str,
    field: &str,
    max: usize,
    allow_empty: bool,
) -> DomainResult<Option<String>> {
    let text = value.trim();
    if text.is_empty() && allow_empty {
        return Ok(None);
    }
    if text.is_empty() || text.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(Some(text.to_string()))
}

/// The challenge secret as sent back by the CLI or the approval page (Paperclip: 16 to 256
/// characters).
fn check_secret(token: &str) -> DomainResult<&str> {
    let token = token.trim();
    let n = token.chars().count();
    if !(16..=256).contains(&n) {
        return Err(DomainError::invalid(
            "token",
            "token must be 16 to 256 characters",
        ));
    }
    Ok(token)
}

impl Domain {
    /// Anyone may ask; the secrets are in this answer only.
    pub async fn create_cli_challenge(&self, input: CreateChallenge) -> DomainResult<NewChallenge> {
        let command =
            trimmed_text(&input.command, "command", COMMAND_MAX, false)?.unwrap_or_default();
        let client_name = match input.client_name.as_deref() {
            Some(name) => trimmed_text(name, "clientName", CLIENT_NAME_MAX, true)?,
            None => None,
        };
        let access = input.requested_access.unwrap_or_default();
        let label = client_name.as_deref().unwrap_or("paperclip cli");
        let key_name = match access {
            RequestedAccess::Board => format!("{label} (board)"),
            RequestedAccess::InstanceAdminRequired => format!("{label} (instance admin)"),
        };
        // An unknown company is dropped, not refused: the answer must not tell a stranger
        // which company ids exist.
        let requested_company_id = match input.requested_company_id {
            Some(company) => self.store.get_company(company).await?.map(|c| c.id),
            None => None,
        };
        let secret = keys::new_token(keys::CLI_CHALLENGE_PREFIX, 24);
        let board_token = keys::new_token(keys::BOARD_KEY_PREFIX, 24);
        let now = crate::domain::now();
        let challenge = CliChallengeRecord {
            id: Uuid::new_v4(),
            secret_hash: keys::hash_token(&secret),
            command,
            client_name,
            requested_access: access.as_str().to_string(),
            requested_company_id,
            pending_key_hash: keys::hash_token(&board_token),
            pending_key_name: key_name,
            approved_by_user_id: None,
            board_api_key_id: None,
            approved_at: None,
            cancelled_at: None,
            expires_at: now + challenge_lifetime(),
            created_at: now,
        };
        self.store.insert_cli_challenge(challenge.clone()).await?;
        Ok(NewChallenge {
            challenge,
            secret,
            board_token,
        })
    }

    /// The challenge whose secret is `token`; a wrong id or secret is the same 404.
    async fn challenge_by_secret(&self, id: Uuid, token: &str) -> DomainResult<CliChallengeRecord> {
        let challenge = self
            .store
            .get_cli_challenge(id)
            .await?
            .ok_or(DomainError::NotFound(NOT_FOUND))?;
        if keys::hashes_match(&challenge.secret_hash, &keys::hash_token(token.trim())) {
            Ok(challenge)
        } else {
            Err(DomainError::NotFound(NOT_FOUND))
        }
    }

    /// The challenge as `viewer` may see it: the requested company only for someone with
    /// access to it (a stranger learns nothing of which companies exist).
    pub async fn cli_challenge(
        &self,
        id: Uuid,
        token: &str,
        viewer: Option<&RequestActor>,
    ) -> DomainResult<ChallengeView> {
        if token.trim().is_empty() {
            return Err(DomainError::NotFound(NOT_FOUND));
        }
        let mut challenge = self.challenge_by_secret(id, token).await?;
        let visible = challenge
            .requested_company_id
            .filter(|c| viewer.is_some_and(|w| w.company(*c, NOT_FOUND).is_ok()));
        challenge.requested_company_id = visible;
        let company_name = match visible {
            Some(company) => self.store.get_company(company).await?.map(|c| c.name),
            None => None,
        };
        let approved_by = match &challenge.approved_by_user_id {
            Some(user) => self.store.principal(user.clone()).await?.map(|p| p.user),
            None => None,
        };
        Ok(ChallengeView {
            status: challenge_status(&challenge, crate::domain::now()),
            challenge,
            company_name,
            approved_by,
        })
    }

    /// A person signed in with a browser session (or the local board) approves: the key the
    /// CLI already holds starts to work, as theirs. Approving again keeps the key; a cancelled
    /// or expired challenge is answered as it is, unapproved.
    pub async fn approve_cli_challenge(
        &self,
        who: &RequestActor,
        id: Uuid,
        token: &str,
    ) -> DomainResult<Approval> {
        let board = who.board()?;
        if let Actor::Board {
            source: BoardSource::BoardKey(_),
            ..
        } = who.actor()
        {
            return Err(DomainError::Forbidden(
                "Approving CLI access needs a signed-in browser session; a board API key cannot approve"
                    .into(),
            ));
        }
        let token = check_secret(token)?;
        let challenge = self.challenge_by_secret(id, token).await?;
        let now = crate::domain::now();
        let status = challenge_status(&challenge, now);
        let user_id = board.user_id().to_string();
        if matches!(
            status,
            ChallengeStatus::Expired | ChallengeStatus::Cancelled
        ) {
            return Ok(Approval {
                challenge,
                status,
                user_id,
            });
        }
        if RequestedAccess::from_stored(&challenge.requested_access)
            == RequestedAccess::InstanceAdminRequired
        {
            board.require_instance_admin()?;
        }
        let key = BoardKeyRecord {
            id: Uuid::new_v4(),
            user_id: user_id.clone(),
            name: challenge.pending_key_name.clone(),
            key_hash: challenge.pending_key_hash.clone(),
            expires_at: Some(now + cli_key_lifetime()),
            last_used_at: None,
            revoked_at: None,
            created_at: now,
        };
        let challenge = self
            .store
            .approve_cli_challenge(id, key, now)
            .await?
            .ok_or(DomainError::NotFound(NOT_FOUND))?;
        Ok(Approval {
            status: challenge_status(&challenge, now),
            // A second approval changes nothing: the key is the first approver's.
            user_id: challenge.approved_by_user_id.clone().unwrap_or(user_id),
            challenge,
        })
    }

    /// Whoever holds the secret may cancel a pending challenge; any other state is answered
    /// as it is.
    pub async fn cancel_cli_challenge(
        &self,
        id: Uuid,
        token: &str,
    ) -> DomainResult<ChallengeStatus> {
        let token = check_secret(token)?;
        let challenge = self.challenge_by_secret(id, token).await?;
        let now = crate::domain::now();
        if challenge_status(&challenge, now) != ChallengeStatus::Pending {
            return Ok(challenge_status(&challenge, now));
        }
        self.store.cancel_cli_challenge(id, now).await?;
        let after = self
            .store
            .get_cli_challenge(id)
            .await?
            .ok_or(DomainError::NotFound(NOT_FOUND))?;
        Ok(challenge_status(&after, now))
    }

    /// The board user behind the request, read afresh (`local-board` in local_trusted).
    pub async fn cli_identity(&self, who: &RequestActor) -> DomainResult<CliIdentity> {
        let Actor::Board {
            user_id, source, ..
        } = who.actor()
        else {
            return Err(DomainError::Unauthorized(
                "Board authentication required".into(),
            ));
        };
        let principal = self
            .store
            .principal(user_id.clone())
            .await?
            .ok_or_else(|| DomainError::Unauthorized("Signed-in user not found".into()))?;
        Ok(CliIdentity {
            principal,
            source: *source,
        })
    }

    /// Revokes the board API key this request was made with (`paperclip auth logout`).
    pub async fn revoke_current_board_key(&self, who: &RequestActor) -> DomainResult<Uuid> {
        let Actor::Board {
            user_id,
            source: BoardSource::BoardKey(key_id),
            ..
        } = who.actor()
        else {
            return Err(DomainError::invalid(
                "authorization",
                "Current board API key context is required",
            ));
        };
        let revoked = self
            .store
            .revoke_board_key(user_id.clone(), *key_id, crate::domain::now())
            .await?;
        if revoked {
            Ok(*key_id)
        } else {
            Err(DomainError::NotFound("Board API key not found"))
        }
    }
}

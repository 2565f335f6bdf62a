//! People: sign-up, sign-in and sign-out, and the board actor a session cookie or a board API
//! key stands for. Errors never say whether an email is registered.

use std::sync::Arc;

use paperclip_shared::Timestamp;
use serde::Deserialize;
use uuid::Uuid;

use super::{Domain, DomainError, DomainResult};
use crate::auth::{Actor, BoardSource, keys, password, session};
use crate::store::{Principal, SessionRecord, StoreError, UserRecord};

const NAME_MAX: usize = 120;
const EMAIL_MAX: usize = 254;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignUp {
    pub name: String,
    pub email: String,
    pub password: String,
    /// An open invite token: lets a person sign up when sign-up is disabled.
    #[serde(default, alias = "invite")]
    pub invite_token: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// Where a request comes from, kept with its session.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session just opened: the token goes into the cookie, and nowhere else.
pub struct OpenedSession {
    pub token: String,
    pub user: UserRecord,
}

/// Lower-cased, checked email.
pub fn normalize_email(raw: &str) -> DomainResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= EMAIL_MAX
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(DomainError::invalid("email", "Invalid email"))
    }
}

fn check_password(password: &str) -> DomainResult<()> {
    let n = password.chars().count();
    if n < password::MIN_LEN {
        return Err(DomainError::invalid(
            "password",
            format!(
                "Password too short: use at least {} characters",
                password::MIN_LEN
            ),
        ));
    }
    if n > password::MAX_LEN {
        return Err(DomainError::invalid(
            "password",
            format!(
                "Password too long: use at most {} characters",
                password::MAX_LEN
            ),
        ));
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> DomainResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DomainError::Store(StoreError::Internal(e.to_string())))
}

fn board_actor(p: Principal, source: BoardSource) -> Actor {
    Actor::Board {
        user_id: p.user.id,
        instance_admin: p.instance_admin,
        memberships: Arc::from(p.memberships),
        source,
    }
}

impl Domain {
    /// Creates the account and signs it in. With sign-up closed, only a person holding an
    /// open invite may create an account.
    pub async fn sign_up(
        &self,
        input: SignUp,
        sign_up_open: bool,
        client: ClientInfo,
    ) -> DomainResult<OpenedSession> {
        if !sign_up_open {
            let invited = match input.invite_token.as_deref() {
                Some(token) => self
                    .store
                    .find_invite(keys::hash_token(token))
                    .await?
                    .is_some_and(|i| i.is_open(crate::domain::now())),
                None => false,
            };
            if !invited {
                return Err(DomainError::Forbidden(
                    "Sign-up is disabled on this instance; ask an admin for an invite".into(),
                ));
            }
        }
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > NAME_MAX {
            return Err(DomainError::invalid(
                "name",
                format!("name must be 1 to {NAME_MAX} characters"),
            ));
        }
        let email = normalize_email(&input.email)?;
        check_password(&input.password)?;
        let pw = input.password;
        let hash = blocking(move || password::hash(&pw))
            .await?
            .map_err(|e| DomainError::Store(StoreError::Internal(e)))?;
        let user = UserRecord {
            id: Uuid::new_v4().to_string(),
            name,
            email: Some(email),
            created_at: crate::domain::now(),
        };
        match self.store.insert_user(user.clone(), hash).await {
            Err(StoreError::Conflict(_)) => {
                return Err(DomainError::Rule {
                    code: "user_already_exists",
                    message: "User already exists. Use another email.".into(),
                    details: None,
                });
            }
            other => other?,
        }
        self.open_session(user, client).await
    }

    /// Checks the password (spending the same time when the account does not exist).
    pub async fn sign_in(&self, input: SignIn, client: ClientInfo) -> DomainResult<OpenedSession> {
        let wrong = || DomainError::Unauthorized("Invalid email or password".into());
        let Ok(email) = normalize_email(&input.email) else {
            return Err(wrong());
        };
        let found = self.store.find_login(email).await?;
        let pw = input.password;
        let (user, ok) = match found {
            Some((user, Some(hash))) => {
                let ok = blocking(move || password::verify(&pw, &hash)).await?;
                (Some(user), ok)
            }
            _ => {
                blocking(move || password::verify_nobody(&pw)).await?;
                (None, false)
            }
        };
        match user {
            Some(user) if ok => self.open_session(user, client).await,
            _ => Err(wrong()),
        }
    }

    async fn open_session(
        &self,
        user: UserRecord,
        client: ClientInfo,
    ) -> DomainResult<OpenedSession> {
        let token = keys::new_token("", 32);
        let now = crate::domain::now();
        self.store
            .insert_session(SessionRecord {
                id: Uuid::new_v4(),
                user_id: user.id.clone(),
                token_hash: keys::hash_token(&token),
                ip_address: client.ip,
                user_agent: client.user_agent.map(|u| u.chars().take(512).collect()),
                created_at: now,
                expires_at: now + session::lifetime(),
            })
            .await?;
        Ok(OpenedSession { token, user })
    }

    pub async fn sign_out(&self, token: &str) -> DomainResult<()> {
        self.store.delete_session(keys::hash_token(token)).await?;
        Ok(())
    }

    /// The board actor of a session cookie; None when the session is unknown or expired.
    pub async fn authenticate_session(&self, token: &str) -> DomainResult<Option<Actor>> {
        let now = crate::domain::now();
        let Some((s, principal)) = self
            .store
            .session_principal(keys::hash_token(token), now)
            .await?
        else {
            return Ok(None);
        };
        if s.expires_at - now < session::refresh_below() {
            // Sliding expiry is bookkeeping: the request does not wait for it.
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.extend_session(s.id, now + session::lifetime()).await {
                    tracing::warn!(error = %e, "could not extend a session");
                }
            });
        }
        Ok(Some(board_actor(principal, BoardSource::Session)))
    }

    /// The board actor of a board API key: 401 when unknown, revoked or expired.
    pub async fn authenticate_board_key(&self, token: &str) -> DomainResult<Actor> {
        let hash = keys::hash_token(token);
        let Some((key, principal)) = self.store.board_key_principal(hash.clone()).await? else {
            return Err(DomainError::Unauthorized(
                "Invalid or revoked board API key".into(),
            ));
        };
        let now = crate::domain::now();
        if !keys::hashes_match(&key.key_hash, &hash) || key.revoked_at.is_some() {
            return Err(DomainError::Unauthorized(
                "Invalid or revoked board API key".into(),
            ));
        }
        if key.expires_at.is_some_and(|t| t <= now) {
            return Err(DomainError::Unauthorized(format!(
                "This board API key expired at {}; create a new one",
                key.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default()
            )));
        }
        if key
            .last_used_at
            .is_none_or(|t| now - t > chrono::Duration::seconds(60))
        {
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_board_key(key.id, now).await {
                    tracing::warn!(error = %e, "could not record board key use");
                }
            });
        }
        Ok(board_actor(principal, BoardSource::BoardKey(key.id)))
    }

    /// The person behind a board actor, for `get-session`.
    pub async fn board_user(&self, user_id: &str) -> DomainResult<UserRecord> {
        self.store
            .principal(user_id.to_string())
            .await?
            .map(|p| p.user)
            .ok_or_else(|| DomainError::Unauthorized("Signed-in user not found".into()))
    }
}

/// An activity entry by a person acting outside any company scope (joining by invite,
/// claiming the instance).
pub(crate) fn person_activity(
    company_id: Uuid,
    user_id: &str,
    action: &str,
    entity: (&str, String),
    details: serde_json::Value,
    at: Timestamp,
) -> paperclip_shared::ActivityEntry {
    paperclip_shared::ActivityEntry {
        id: Uuid::new_v4(),
        company_id,
        actor_type: paperclip_shared::ActorType::User,
        actor_id: user_id.to_string(),
        action: action.to_string(),
        entity_type: entity.0.to_string(),
        entity_id: entity.1,
        agent_id: None,
        run_id: None,
        details,
        created_at: at,
    }
}

impl Domain {
    /// `(no instance admin yet, an open bootstrap invite exists)`, for health.
    pub async fn bootstrap_state(&self) -> DomainResult<(bool, bool)> {
        if !self.store.instance_admins().await?.is_empty() {
            return Ok((false, false));
        }
        let open = self
            .store
            .open_bootstrap_invite(crate::domain::now())
            .await?
            .is_some();
        Ok((true, open))
    }
}

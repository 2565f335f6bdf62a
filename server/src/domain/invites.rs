//! Invites: the bootstrap invite that makes the first instance admin, and company invites
//! that make members. Tokens are shown once (a bootstrap invite's token is derived from the
//! instance secret and its id, so start-up can print the same URL again); the store keeps
//! their SHA-256.

use paperclip_shared::*;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::people::person_activity;
use super::{Domain, DomainError, DomainResult};
use crate::auth::secret::InstanceSecret;
use crate::auth::{Actor, BoardSource, RequestActor, keys};
use crate::store::{AcceptOutcome, InviteEffect, InviteRecord, MembershipRecord};

pub const COMPANY_INVITE_HOURS: i64 = 72;
pub const BOOTSTRAP_INVITE_HOURS: i64 = 72;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateInvite {
    /// `human` (default), `agent` or `both`.
    #[serde(default)]
    pub allowed_join_types: Option<JoinTypes>,
    /// The role a person joins with: owner, admin, operator (default) or viewer.
    #[serde(default)]
    pub human_role: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptInvite {
    /// `human` (the only kind this build accepts).
    #[serde(default)]
    pub request_type: Option<String>,
}

/// The token of a bootstrap invite, from the instance secret and the invite id.
pub fn bootstrap_token(secret: &InstanceSecret, id: Uuid) -> String {
    let derived = secret.derive(&format!("bootstrap-invite:{id}"));
    format!("pcp_bootstrap_{}", &derived[..48])
}

fn signed_in_person(who: &RequestActor) -> DomainResult<String> {
    match who.actor() {
        Actor::Board {
            user_id, source, ..
        } if *source != BoardSource::LocalImplicit => Ok(user_id.clone()),
        _ => Err(DomainError::Unauthorized(
            "Sign in as a person to accept an invite".into(),
        )),
    }
}

impl Domain {
    /// The open bootstrap invite's URL path while the instance has no admin, creating the
    /// invite when there is none (or when it was made with another secret).
    pub async fn ensure_bootstrap_invite(
        &self,
        secret: &InstanceSecret,
    ) -> DomainResult<Option<(String, Timestamp)>> {
        if !self.store.instance_admins().await?.is_empty() {
            return Ok(None);
        }
        let now = crate::domain::now();
        if let Some(open) = self.store.open_bootstrap_invite(now).await? {
            let token = bootstrap_token(secret, open.id);
            if keys::hashes_match(&open.token_hash, &keys::hash_token(&token)) {
                return Ok(Some((format!("/invite/{token}"), open.expires_at)));
            }
        }
        self.new_bootstrap_invite(secret, BOOTSTRAP_INVITE_HOURS)
            .await
            .map(Some)
    }

    /// A new bootstrap invite (open ones are revoked): its URL path and expiry.
    pub async fn new_bootstrap_invite(
        &self,
        secret: &InstanceSecret,
        hours: i64,
    ) -> DomainResult<(String, Timestamp)> {
        let now = crate::domain::now();
        let id = Uuid::new_v4();
        let token = bootstrap_token(secret, id);
        let invite = InviteRecord {
            id,
            company_id: None,
            invite_type: InviteType::BootstrapCeo,
            token_hash: keys::hash_token(&token),
            allowed_join_types: JoinTypes::Human,
            human_role: None,
            invited_by_user_id: Some("system".into()),
            expires_at: now + chrono::Duration::hours(hours.clamp(1, 720)),
            revoked_at: None,
            accepted_at: None,
            accepted_by_user_id: None,
            created_at: now,
            updated_at: now,
        };
        let expires = invite.expires_at;
        self.store.insert_invite(invite, Vec::new()).await?;
        Ok((format!("/invite/{token}"), expires))
    }

    pub async fn create_invite(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateInvite,
    ) -> DomainResult<(InviteRecord, String)> {
        let scope = who.company(company_id, "Company not found")?;
        who.board()?;
        self.get_company(who, company_id).await?;
        scope.require_invite()?;
        let role = match input.human_role.as_deref() {
            None => MemberRole::Operator,
            Some(r) => MemberRole::parse_lenient(r).ok_or_else(|| {
                DomainError::invalid(
                    "humanRole",
                    "humanRole must be owner, admin, operator or viewer",
                )
            })?,
        };
        if role == MemberRole::Owner && scope.role() != Some(MemberRole::Owner) {
            return Err(DomainError::Forbidden(
                "Only an owner may invite another owner".into(),
            ));
        }
        let join = input.allowed_join_types.unwrap_or(JoinTypes::Human);
        if join == JoinTypes::Agent {
            return Err(DomainError::invalid(
                "allowedJoinTypes",
                "agent joins by invite are not available in this build; create the agent and give it a key",
            ));
        }
        let now = crate::domain::now();
        let token = keys::new_token("pcp_invite_", 24);
        let invite = InviteRecord {
            id: Uuid::new_v4(),
            company_id: Some(company_id),
            invite_type: InviteType::CompanyJoin,
            token_hash: keys::hash_token(&token),
            allowed_join_types: join,
            human_role: Some(role),
            invited_by_user_id: scope.user_id().map(str::to_string),
            expires_at: now + chrono::Duration::hours(COMPANY_INVITE_HOURS),
            revoked_at: None,
            accepted_at: None,
            accepted_by_user_id: None,
            created_at: now,
            updated_at: now,
        };
        let entry = scope.activity(
            "invite.created",
            "invite",
            invite.id,
            json!({"humanRole": role.as_str(), "expiresAt": invite.expires_at}),
        );
        self.store
            .insert_invite(invite.clone(), vec![entry])
            .await?;
        Ok((invite, token))
    }

    /// An open invite by its token, with its company; 404 when unknown, used, revoked or expired.
    pub async fn open_invite(&self, token: &str) -> DomainResult<(InviteRecord, Option<Company>)> {
        let invite = self
            .store
            .find_invite(keys::hash_token(token))
            .await?
            .filter(|i| i.is_open(crate::domain::now()))
            .ok_or(DomainError::NotFound("Invite not found"))?;
        let company = match invite.company_id {
            Some(id) => self.store.get_company(id).await?,
            None => None,
        };
        Ok((invite, company))
    }

    pub async fn accept_invite(
        &self,
        who: &RequestActor,
        token: &str,
        input: AcceptInvite,
    ) -> DomainResult<(InviteRecord, String)> {
        let (invite, _) = self.open_invite(token).await?;
        let user_id = signed_in_person(who)?;
        if input.request_type.as_deref().unwrap_or("human") != "human" {
            return Err(DomainError::invalid(
                "requestType",
                "only human joins are accepted by invite in this build",
            ));
        }
        let now = crate::domain::now();
        let (effect, activity) = match invite.company_id {
            None => (InviteEffect::InstanceAdmin, Vec::new()),
            Some(company_id) => {
                let role = invite.human_role.unwrap_or(MemberRole::Operator);
                let entry = person_activity(
                    company_id,
                    &user_id,
                    "member.joined",
                    ("invite", invite.id.to_string()),
                    json!({"role": role.as_str()}),
                    now,
                );
                (InviteEffect::Join { company_id, role }, vec![entry])
            }
        };
        match self
            .store
            .accept_invite(invite.id, user_id.clone(), effect, now, activity)
            .await?
        {
            AcceptOutcome::Accepted => Ok((invite, user_id)),
            AcceptOutcome::Gone => Err(DomainError::NotFound("Invite not found")),
            AcceptOutcome::AdminExists => Err(DomainError::conflict(
                "instance_already_claimed",
                "Someone else has already claimed this instance",
            )),
            AcceptOutcome::AlreadyMember => Err(DomainError::conflict(
                "already_member",
                "You already belong to this company",
            )),
            AcceptOutcome::Suspended => Err(DomainError::conflict(
                "member_suspended",
                "Your membership in this company is suspended; an owner can make it active again",
            )),
        }
    }

    pub async fn list_invites(
        &self,
        who: &RequestActor,
        company_id: Uuid,
    ) -> DomainResult<Vec<InviteRecord>> {
        let scope = who.company(company_id, "Company not found")?;
        who.board()?;
        self.get_company(who, company_id).await?;
        scope.require_invite()?;
        Ok(self.store.list_invites(company_id).await?)
    }

    pub async fn revoke_invite(
        &self,
        who: &RequestActor,
        invite_id: Uuid,
    ) -> DomainResult<InviteRecord> {
        let invite = self
            .store
            .get_invite(invite_id)
            .await?
            .ok_or(DomainError::NotFound("Invite not found"))?;
        let activity = match invite.company_id {
            Some(company_id) => {
                let scope = who.company(company_id, "Invite not found")?;
                who.board()?;
                scope.require_invite()?;
                vec![scope.activity("invite.revoked", "invite", invite.id, json!({}))]
            }
            None => {
                who.board()?.require_instance_admin()?;
                Vec::new()
            }
        };
        if invite.accepted_at.is_some() {
            return Err(DomainError::conflict(
                "invite_consumed",
                "Invite already consumed",
            ));
        }
        let now = crate::domain::now();
        self.store.revoke_invite(invite.id, now, activity).await?;
        self.store
            .get_invite(invite.id)
            .await?
            .ok_or(DomainError::NotFound("Invite not found"))
    }

    pub async fn list_members(
        &self,
        who: &RequestActor,
        company_id: Uuid,
    ) -> DomainResult<Vec<MembershipRecord>> {
        let scope = who.company(company_id, "Company not found")?;
        who.board()?;
        self.get_company(who, company_id).await?;
        scope.require_manage_members()?;
        Ok(self.store.list_members(company_id).await?)
    }
}

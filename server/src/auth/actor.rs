//! Authorization in types: a domain operation on a company needs a `CompanyScope`, and a
//! board-only one a `BoardScope`. Only this module builds them, after the check.

use std::sync::Arc;

use paperclip_shared::{ActivityEntry, ActorType, MemberRole};
use uuid::Uuid;

use crate::domain::DomainError;

/// The implicit board user of `local_trusted` mode: a real row with the instance-admin role.
pub const LOCAL_BOARD_USER_ID: &str = "local-board";

/// How a board user proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardSource {
    /// `local_trusted`: the implicit `local-board` user.
    LocalImplicit,
    /// A session cookie (mutations must come from an allowed Origin).
    Session,
    /// `Authorization: Bearer <board API key>`, with the key's id (`revoke-current` needs it).
    BoardKey(Uuid),
}

impl BoardSource {
    pub fn as_str(self) -> &'static str {
        match self {
            BoardSource::LocalImplicit => "local_implicit",
            BoardSource::Session => "session",
            BoardSource::BoardKey(_) => "board_key",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Actor {
    Board {
        user_id: String,
        instance_admin: bool,
        /// Active memberships: company and role.
        memberships: Arc<[(Uuid, MemberRole)]>,
        source: BoardSource,
    },
    Agent {
        agent_id: Uuid,
        company_id: Uuid,
        credential: AgentCredential,
    },
}

/// How an agent proved who it is: a long-lived API key, or the run token of one heartbeat run
/// (some operations, such as reading secret values, want the latter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentCredential {
    Key(Uuid),
    RunToken { run_id: Uuid },
}

impl Actor {
    /// The implicit board of `local_trusted` mode.
    pub fn local_board() -> Actor {
        Actor::Board {
            user_id: LOCAL_BOARD_USER_ID.to_string(),
            instance_admin: true,
            memberships: Arc::new([]),
            source: BoardSource::LocalImplicit,
        }
    }
}

/// The actor of one request, with the run it says it acts for (`X-Paperclip-Run-Id`), and
/// whether the request changes something (a viewer may only read).
#[derive(Debug, Clone)]
pub struct RequestActor {
    actor: Actor,
    run_id: Option<Uuid>,
    mutation: bool,
}

impl RequestActor {
    /// Only the authentication layer (api extractors) creates actors.
    pub(crate) fn new(actor: Actor, run_id: Option<Uuid>, mutation: bool) -> Self {
        RequestActor {
            actor,
            run_id,
            mutation,
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn run_id(&self) -> Option<Uuid> {
        self.run_id
    }

    pub fn agent_id(&self) -> Option<Uuid> {
        match &self.actor {
            Actor::Agent { agent_id, .. } => Some(*agent_id),
            Actor::Board { .. } => None,
        }
    }

    pub fn is_board(&self) -> bool {
        matches!(self.actor, Actor::Board { .. })
    }

    /// Access to one company: an instance admin reaches every company, a person the companies
    /// they are an active member of (a viewer only reads), an agent its own. Another company's
    /// object answers 404, as if it did not exist.
    pub fn company(
        &self,
        company_id: Uuid,
        not_found: &'static str,
    ) -> Result<CompanyScope, DomainError> {
        let role = match &self.actor {
            Actor::Board {
                instance_admin: true,
                ..
            } => Some(MemberRole::Owner),
            Actor::Board { memberships, .. } => {
                let role = memberships
                    .iter()
                    .find(|(c, _)| *c == company_id)
                    .map(|(_, r)| *r)
                    .ok_or(DomainError::NotFound(not_found))?;
                if role == MemberRole::Viewer && self.mutation {
                    return Err(DomainError::Forbidden("Viewer access is read-only".into()));
                }
                Some(role)
            }
            Actor::Agent {
                company_id: own, ..
            } if *own == company_id => None,
            Actor::Agent { .. } => return Err(DomainError::NotFound(not_found)),
        };
        Ok(CompanyScope {
            company_id,
            role,
            who: self.clone(),
        })
    }

    /// Board-only operations (keys, force-release, pause, company settings).
    pub fn board(&self) -> Result<BoardScope, DomainError> {
        match &self.actor {
            Actor::Board {
                user_id,
                instance_admin,
                ..
            } => Ok(BoardScope {
                user_id: user_id.clone(),
                instance_admin: *instance_admin,
            }),
            Actor::Agent { .. } => Err(DomainError::Forbidden("Board access required".into())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BoardScope {
    user_id: String,
    instance_admin: bool,
}

impl BoardScope {
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    pub fn require_instance_admin(&self) -> Result<(), DomainError> {
        if self.instance_admin {
            Ok(())
        } else {
            Err(DomainError::Forbidden("Instance admin required".into()))
        }
    }
}

/// Proof that the actor may act in `company_id`.
#[derive(Debug, Clone)]
pub struct CompanyScope {
    company_id: Uuid,
    /// The person's role here (an instance admin counts as owner); None for an agent.
    role: Option<MemberRole>,
    who: RequestActor,
}

impl CompanyScope {
    pub fn role(&self) -> Option<MemberRole> {
        self.role
    }

    /// Inviting people and managing invites: owners and admins.
    pub fn require_invite(&self) -> Result<(), DomainError> {
        match self.role {
            Some(r) if r.can_invite() => Ok(()),
            _ => Err(DomainError::Forbidden(
                "Inviting people needs the owner or admin role in this company".into(),
            )),
        }
    }

    /// Seeing and changing members: owners.
    pub fn require_manage_members(&self) -> Result<(), DomainError> {
        match self.role {
            Some(r) if r.can_manage_members() => Ok(()),
            _ => Err(DomainError::Forbidden(
                "Managing members needs the owner role in this company".into(),
            )),
        }
    }

    pub fn company_id(&self) -> Uuid {
        self.company_id
    }

    pub fn who(&self) -> &RequestActor {
        &self.who
    }

    pub fn agent_id(&self) -> Option<Uuid> {
        self.who.agent_id()
    }

    pub fn user_id(&self) -> Option<&str> {
        match &self.who.actor {
            Actor::Board { user_id, .. } => Some(user_id),
            Actor::Agent { .. } => None,
        }
    }

    pub fn run_id(&self) -> Option<Uuid> {
        self.who.run_id
    }

    /// (type, id) of the actor, as activity and wake-ups record who acted.
    pub fn actor_ref(&self) -> (ActorType, String) {
        match &self.who.actor {
            Actor::Board { user_id, .. } => (ActorType::User, user_id.clone()),
            Actor::Agent { agent_id, .. } => (ActorType::Agent, agent_id.to_string()),
        }
    }

    /// An activity entry by this actor, in this company.
    pub fn activity(
        &self,
        action: &str,
        entity_type: &str,
        entity_id: impl ToString,
        details: serde_json::Value,
    ) -> ActivityEntry {
        let (actor_type, actor_id) = self.actor_ref();
        ActivityEntry {
            id: Uuid::new_v4(),
            company_id: self.company_id,
            actor_type,
            actor_id,
            action: action.to_string(),
            entity_type: entity_type.to_string(),
            entity_id: entity_id.to_string(),
            agent_id: self.agent_id(),
            run_id: self.who.run_id,
            details,
            created_at: crate::domain::now(),
        }
    }
}

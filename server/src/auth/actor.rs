//! Authorization in types: a domain operation on a company needs a `CompanyScope`, and a
//! board-only one a `BoardScope`. Only this module builds them, after the check.

use paperclip_shared::{ActivityEntry, ActorType};
use uuid::Uuid;

use crate::domain::DomainError;

/// The implicit board user of `local_trusted` mode: a real row with the instance-admin role.
pub const LOCAL_BOARD_USER_ID: &str = "local-board";

#[derive(Debug, Clone)]
pub enum Actor {
    Board {
        user_id: String,
        instance_admin: bool,
    },
    Agent {
        agent_id: Uuid,
        company_id: Uuid,
        key_id: Option<Uuid>,
    },
}

/// The actor of one request, with the run it says it acts for (`X-Paperclip-Run-Id`).
#[derive(Debug, Clone)]
pub struct RequestActor {
    actor: Actor,
    run_id: Option<Uuid>,
}

impl RequestActor {
    /// Only the authentication layer (api extractors) creates actors.
    pub(crate) fn new(actor: Actor, run_id: Option<Uuid>) -> Self {
        RequestActor { actor, run_id }
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

    /// Access to one company. Another company's object answers 404, as if it did not exist.
    pub fn company(
        &self,
        company_id: Uuid,
        not_found: &'static str,
    ) -> Result<CompanyScope, DomainError> {
        let allowed = match &self.actor {
            Actor::Board { instance_admin, .. } => *instance_admin,
            Actor::Agent {
                company_id: own, ..
            } => *own == company_id,
        };
        if allowed {
            Ok(CompanyScope {
                company_id,
                who: self.clone(),
            })
        } else {
            Err(DomainError::NotFound(not_found))
        }
    }

    /// Board-only operations (keys, force-release, pause, company settings).
    pub fn board(&self) -> Result<BoardScope, DomainError> {
        match &self.actor {
            Actor::Board {
                user_id,
                instance_admin,
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
    who: RequestActor,
}

impl CompanyScope {
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

    /// An activity entry by this actor, in this company.
    pub fn activity(
        &self,
        action: &str,
        entity_type: &str,
        entity_id: impl ToString,
        details: serde_json::Value,
    ) -> ActivityEntry {
        let (actor_type, actor_id) = match &self.who.actor {
            Actor::Board { user_id, .. } => (ActorType::User, user_id.clone()),
            Actor::Agent { agent_id, .. } => (ActorType::Agent, agent_id.to_string()),
        };
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

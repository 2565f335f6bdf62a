//! A company's people after they joined: change a member's role or status, and archive a
//! member (upstream has no delete), handing their open issues to someone else. Owners manage
//! members; nobody changes their own membership; a company always keeps an active owner.

use paperclip_shared::{MemberRole, MembershipStatus};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{Domain, DomainError, DomainResult};
use crate::auth::{CompanyScope, RequestActor};
use crate::store::{ChangeOutcome, MembershipChange, MembershipRecord};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMember {
    pub membership_role: Option<MemberRole>,
    /// `pending`, `active` or `suspended` (archiving has its own route).
    pub status: Option<MembershipStatus>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveMember {
    /// Who takes the member's open issues; without it they are unassigned.
    pub reassignment: Option<Reassignment>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reassignment {
    pub assignee_agent_id: Option<Uuid>,
    pub assignee_user_id: Option<String>,
}

/// `memberId` as the members list gives it (`<companyId>:<userId>`), or the bare user id.
pub fn member_user_id(company_id: Uuid, member_id: &str) -> DomainResult<String> {
    let missing = DomainError::NotFound("Member not found");
    let user = match member_id.split_once(':') {
        Some((company, user)) if company == company_id.to_string() => user,
        Some(_) => return Err(missing),
        None => member_id,
    };
    if user.is_empty() || user.len() > 200 {
        return Err(missing);
    }
    Ok(user.to_string())
}

fn archived() -> DomainError {
    DomainError::conflict(
        "member_archived",
        "This member is archived; invite them again to bring them back",
    )
}

impl Domain {
    /// The owner's scope over `company_id` and the member `user_id` there (archived included).
    async fn managed_member(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        user_id: &str,
    ) -> DomainResult<(CompanyScope, MembershipRecord)> {
        who.board()?;
        let scope = who.company(company_id, "Company not found")?;
        self.get_company(who, company_id).await?;
        scope.require_manage_members()?;
        let member = self
            .store
            .get_member(company_id, user_id.to_string())
            .await?
            .ok_or(DomainError::NotFound("Member not found"))?;
        if scope.user_id() == Some(user_id) {
            return Err(DomainError::Forbidden(
                "You cannot change your own membership; ask another owner".into(),
            ));
        }
        Ok((scope, member))
    }

    pub async fn update_member(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        user_id: &str,
        input: UpdateMember,
    ) -> DomainResult<MembershipRecord> {
        if input.membership_role.is_none() && input.status.is_none() {
            return Err(DomainError::invalid(
                "membershipRole",
                "membershipRole or status is required",
            ));
        }
        if input.status == Some(MembershipStatus::Archived) {
            return Err(DomainError::invalid(
                "status",
                "To archive a member use POST /api/companies/:companyId/members/:memberId/archive",
            ));
        }
        let (scope, member) = self.managed_member(who, company_id, user_id).await?;
        if member.status == MembershipStatus::Archived {
            return Err(archived());
        }
        let activity = scope.activity(
            "company_member.updated",
            "user",
            user_id,
            json!({
                "from": {"membershipRole": member.role, "status": member.status},
                "changes": {"membershipRole": input.membership_role, "status": input.status},
            }),
        );
        let change = MembershipChange {
            company_id,
            user_id: user_id.to_string(),
            role: input.membership_role,
            status: input.status,
            reassign_agent: None,
            reassign_user: None,
            at: crate::domain::now(),
        };
        let (member, _) = self.apply(change, activity).await?;
        Ok(member)
    }

    /// Archives a member; answers the member and how many open issues were handed on.
    pub async fn archive_member(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        user_id: &str,
        input: ArchiveMember,
    ) -> DomainResult<(MembershipRecord, u64)> {
        let (scope, member) = self.managed_member(who, company_id, user_id).await?;
        if member.status == MembershipStatus::Archived {
            return Ok((member, 0));
        }
        let target = input.reassignment.unwrap_or_default();
        self.check_reassignment(company_id, user_id, &target)
            .await?;
        let activity = scope.activity(
            "company_member.archived",
            "user",
            user_id,
            json!({
                "membershipRole": member.role,
                "reassignment": {
                    "assigneeAgentId": target.assignee_agent_id,
                    "assigneeUserId": target.assignee_user_id,
                },
            }),
        );
        let change = MembershipChange {
            company_id,
            user_id: user_id.to_string(),
            role: None,
            status: Some(MembershipStatus::Archived),
            reassign_agent: target.assignee_agent_id,
            reassign_user: target.assignee_user_id,
            at: crate::domain::now(),
        };
        self.apply(change, activity).await
    }

    async fn check_reassignment(
        &self,
        company_id: Uuid,
        archived: &str,
        target: &Reassignment,
    ) -> DomainResult<()> {
        match (&target.assignee_agent_id, &target.assignee_user_id) {
            (Some(_), Some(_)) => Err(DomainError::invalid(
                "reassignment",
                "Choose either an agent or user reassignment target",
            )),
            (Some(agent), None) => {
                let agent = self
                    .store
                    .get_agent(*agent)
                    .await?
                    .filter(|a| a.company_id == company_id)
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "reassignment.assigneeAgentId",
                            "No such agent in this company",
                        )
                    })?;
                if !agent.status.can_authenticate() {
                    return Err(DomainError::conflict(
                        "agent_not_assignable",
                        format!(
                            "Agent {} is {} and cannot take issues",
                            agent.name, agent.status
                        ),
                    ));
                }
                Ok(())
            }
            (None, Some(user)) if user == archived => Err(DomainError::conflict(
                "replacement_is_archived_member",
                "Replacement user cannot be the archived member",
            )),
            (None, Some(user)) => {
                let active = self
                    .store
                    .get_member(company_id, user.clone())
                    .await?
                    .is_some_and(|m| m.status == MembershipStatus::Active);
                if active {
                    Ok(())
                } else {
                    Err(DomainError::invalid(
                        "reassignment.assigneeUserId",
                        "The replacement must be an active member of this company",
                    ))
                }
            }
            (None, None) => Ok(()),
        }
    }

    async fn apply(
        &self,
        change: MembershipChange,
        activity: paperclip_shared::ActivityEntry,
    ) -> DomainResult<(MembershipRecord, u64)> {
        match self.store.change_membership(change, vec![activity]).await? {
            ChangeOutcome::Changed {
                member,
                reassigned_issues,
            } => Ok((member, reassigned_issues)),
            ChangeOutcome::LastOwner => Err(DomainError::conflict(
                "last_owner",
                "Cannot remove the last active owner",
            )),
            ChangeOutcome::Missing => Err(DomainError::NotFound("Member not found")),
            ChangeOutcome::Archived => Err(archived()),
        }
    }
}

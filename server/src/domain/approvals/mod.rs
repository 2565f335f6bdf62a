//! Approvals: what the board decides. `hire_agent` (an agent hired through `agent-hires` in a
//! company that requires approval waits in `pending_approval`; approving activates it,
//! rejecting terminates it), `approve_ceo_strategy` (until one is approved, issues a CEO agent
//! created stay in `backlog`/`todo`), `request_board_approval` (deciding wakes the requester
//! with `PAPERCLIP_APPROVAL_ID` and `PAPERCLIP_APPROVAL_STATUS`) and
//! `budget_override_required`. Decisions are the board's, with a note; a revision can be asked
//! for and the request resubmitted; comments on both sides; all of it in the activity log.

mod hires;
mod strategy;

use paperclip_shared::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::runs::WakeRequest;
use super::validate::{json_object, optional_text};
use super::{Domain, DomainError, DomainResult, next_time, now};
use crate::auth::{CompanyScope, RequestActor};
use crate::store::{ApprovalCommentRecord, ApprovalDecision, ApprovalRecord, HireOutcome};

pub const TYPES: &[&str] = &[
    "hire_agent",
    "approve_ceo_strategy",
    "request_board_approval",
    "budget_override_required",
];
pub const STATUSES: &[&str] = &[
    "pending",
    "revision_requested",
    "approved",
    "rejected",
    "cancelled",
];
/// The statuses a decision may leave.
const OPEN: &[&str] = &["pending", "revision_requested"];
const NOT_FOUND: &str = "Approval not found";
const NOTE_MAX: usize = 20_000;
const BODY_MAX: usize = 100_000;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateApproval {
    /// `hire_agent`, `approve_ceo_strategy`, `request_board_approval` or
    /// `budget_override_required`.
    #[serde(rename = "type")]
    pub approval_type: Option<String>,
    /// The agent asking; an agent caller asks for itself.
    pub requested_by_agent_id: Option<Uuid>,
    /// What is asked, as the type needs it (a plan, a hire, an amount).
    pub payload: Option<Map<String, Value>>,
    /// Issues the decision concerns (of this company).
    pub issue_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecideApproval {
    pub decision_note: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResubmitApproval {
    /// Replaces the payload when given.
    pub payload: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddApprovalComment {
    pub body: Option<String>,
}

/// The board's decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    fn status(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }
}

/// An approval as the API shows it (Paperclip's shape). A payload that carries an agent
/// configuration (a hire requested through `POST /approvals` may hold inline credentials)
/// reads redacted like an agent; the stored payload keeps them for the hire it makes.
pub fn approval_json(a: &ApprovalRecord) -> Value {
    let mut payload = a.payload.clone();
    if let Some(config) = payload.get_mut("adapterConfig") {
        *config = paperclip_shared::env::redact_config(config);
    }
    json!({
        "id": a.id, "companyId": a.company_id, "type": a.approval_type,
        "requestedByAgentId": a.requested_by_agent_id, "requestedByUserId": a.requested_by_user_id,
        "status": a.status, "payload": payload, "decisionNote": a.decision_note,
        "decidedByUserId": a.decided_by_user_id, "decidedAt": a.decided_at,
        "createdAt": a.created_at, "updatedAt": a.updated_at,
    })
}

pub fn comment_json(c: &ApprovalCommentRecord) -> Value {
    json!({
        "id": c.id, "companyId": c.company_id, "approvalId": c.approval_id,
        "authorAgentId": c.author_agent_id, "authorUserId": c.author_user_id, "body": c.body,
        "createdAt": c.created_at, "updatedAt": c.updated_at,
    })
}

fn note(text: Option<&str>) -> DomainResult<Option<String>> {
    Ok(optional_text("decisionNote", text, NOTE_MAX)?.filter(|n| !n.trim().is_empty()))
}

impl Domain {
    /// The approval and the caller's scope of its company (another company's is 404).
    async fn approval_in_scope(
        &self,
        who: &RequestActor,
        id: Uuid,
    ) -> DomainResult<(ApprovalRecord, CompanyScope)> {
        let approval = self
            .store
            .get_approval(id)
            .await?
            .ok_or(DomainError::NotFound(NOT_FOUND))?;
        let scope = who.company(approval.company_id, NOT_FOUND)?;
        Ok((approval, scope))
    }

    pub async fn list_approvals(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        status: Option<&str>,
    ) -> DomainResult<Vec<ApprovalRecord>> {
        self.get_company(who, company_id).await?;
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if !STATUSES.contains(&s) => {
                return Err(DomainError::invalid(
                    "status",
                    format!("status must be one of {}", STATUSES.join(", ")),
                ));
            }
            s => s.map(str::to_string),
        };
        Ok(self.store.list_approvals(company_id, status).await?)
    }

    pub async fn get_approval(&self, who: &RequestActor, id: Uuid) -> DomainResult<ApprovalRecord> {
        Ok(self.approval_in_scope(who, id).await?.0)
    }

    pub async fn approval_issues(&self, who: &RequestActor, id: Uuid) -> DomainResult<Vec<Issue>> {
        self.approval_in_scope(who, id).await?;
        Ok(self.store.approval_issues(id).await?)
    }

    /// `POST /companies/:id/approvals`: the board or an agent (for itself) asks.
    pub async fn create_approval(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateApproval,
    ) -> DomainResult<ApprovalRecord> {
        let scope = who.company(company_id, "Company not found")?;
        self.get_company(who, company_id).await?;
        let kind = input.approval_type.as_deref().map(str::trim).unwrap_or("");
        if !TYPES.contains(&kind) {
            return Err(DomainError::invalid(
                "type",
                format!("type must be one of {}", TYPES.join(", ")),
            ));
        }
        let payload = json_object("payload", input.payload)?.unwrap_or_else(|| json!({}));
        let requester = match (who.agent_id(), input.requested_by_agent_id) {
            (Some(me), Some(other)) if me != other => {
                return Err(DomainError::Forbidden(
                    "An agent asks for approvals as itself".into(),
                ));
            }
            (Some(me), _) => Some(me),
            (None, named) => named,
        };
        if let Some(agent) = requester
            && self
                .store
                .get_agent(agent)
                .await?
                .is_none_or(|a| a.company_id != company_id)
        {
            return Err(DomainError::rule(
                "invalid_reference",
                "requestedByAgentId: agent not found in this company",
            ));
        }
        let mut issue_ids = input.issue_ids.unwrap_or_default();
        issue_ids.sort();
        issue_ids.dedup();
        for id in &issue_ids {
            if self
                .store
                .get_issue(*id)
                .await?
                .is_none_or(|i| i.company_id != company_id)
            {
                return Err(DomainError::rule(
                    "invalid_reference",
                    format!("issueIds: issue {id} not found in this company"),
                ));
            }
        }
        let at = now();
        let approval = ApprovalRecord {
            id: Uuid::new_v4(),
            company_id,
            approval_type: kind.to_string(),
            requested_by_agent_id: requester,
            requested_by_user_id: scope.user_id().map(str::to_string),
            status: "pending".into(),
            payload,
            decision_note: None,
            decided_by_user_id: None,
            decided_at: None,
            created_at: at,
            updated_at: at,
        };
        let act = scope.activity(
            "approval.created",
            "approval",
            approval.id,
            json!({"type": approval.approval_type, "issueIds": issue_ids}),
        );
        self.store
            .insert_approval(approval.clone(), issue_ids, None, vec![act])
            .await?;
        Ok(approval)
    }

    /// Approve or reject (board only). Deciding again the same way answers the approval as
    /// it is; the other way, or a closed approval, is a 422.
    pub async fn decide_approval(
        &self,
        who: &RequestActor,
        id: Uuid,
        decision: Decision,
        input: DecideApproval,
    ) -> DomainResult<ApprovalRecord> {
        let board = who.board()?;
        let (current, scope) = self.approval_in_scope(who, id).await?;
        let note = note(input.decision_note.as_deref())?;
        let target = decision.status();
        if !OPEN.contains(&current.status.as_str()) {
            if current.status == target {
                return Ok(current);
            }
            return Err(DomainError::rule(
                "approval_closed",
                format!(
                    "Only pending or revision requested approvals can be {target}; this one is {}",
                    current.status
                ),
            ));
        }
        let at = next_time(current.updated_at);
        let mut decided = current.clone();
        decided.status = target.into();
        decided.decision_note = note;
        decided.decided_by_user_id = Some(board.user_id().to_string());
        decided.decided_at = Some(at);
        decided.updated_at = at;
        let hired = (decided.approval_type == "hire_agent")
            .then(|| {
                decided.payload["agentId"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
            })
            .flatten();
        let hire = hired.map(|agent| match decision {
            Decision::Approve => HireOutcome::Activate(agent),
            Decision::Reject => HireOutcome::Terminate(agent),
        });
        let issues = self.store.approval_issues(id).await?;
        let issue_ids: Vec<Uuid> = issues.iter().map(|i| i.id).collect();
        let act = scope.activity(
            &format!("approval.{target}"),
            "approval",
            id,
            json!({"type": decided.approval_type, "requestedByAgentId": decided.requested_by_agent_id,
                   "linkedIssueIds": issue_ids, "decisionNote": decided.decision_note}),
        );
        let written = self
            .store
            .decide_approval(ApprovalDecision {
                approval: decided.clone(),
                from: OPEN.iter().map(|s| s.to_string()).collect(),
                hire,
                activity: vec![act],
            })
            .await?;
        if !written {
            // Decided meanwhile: answer what it became, or refuse as above.
            let now = self.get_approval(who, id).await?;
            if now.status == target {
                return Ok(now);
            }
            return Err(DomainError::rule(
                "approval_closed",
                format!("The approval was {} meanwhile", now.status),
            ));
        }
        if decision == Decision::Approve && decided.approval_type == "hire_agent" && hired.is_none()
        {
            self.hire_from_payload(who, &decided).await?;
        }
        let wakes_requester =
            decision == Decision::Approve || decided.approval_type == "request_board_approval";
        if wakes_requester && let Some(agent) = decided.requested_by_agent_id {
            self.wake_requester(&scope, &decided, agent, &issue_ids)
                .await;
        }
        Ok(decided)
    }

    /// Wakes the agent that asked, with the approval's id and status in its run's context
    /// (`PAPERCLIP_APPROVAL_ID`, `PAPERCLIP_APPROVAL_STATUS`, `PAPERCLIP_LINKED_ISSUE_IDS`).
    async fn wake_requester(
        &self,
        scope: &CompanyScope,
        approval: &ApprovalRecord,
        agent_id: Uuid,
        issue_ids: &[Uuid],
    ) {
        let Some(control) = self.run_control.get() else {
            return;
        };
        let agent = match self.store.get_agent(agent_id).await {
            Ok(Some(a)) if a.company_id == approval.company_id => a,
            _ => return,
        };
        if matches!(
            agent.status,
            AgentStatus::Terminated | AgentStatus::PendingApproval
        ) {
            return;
        }
        let reason = format!("approval_{}", approval.status);
        let primary = issue_ids.first();
        let mut context = Map::new();
        context.insert(
            "source".into(),
            json!(format!("approval.{}", approval.status)),
        );
        context.insert("approvalId".into(), json!(approval.id));
        context.insert("approvalStatus".into(), json!(approval.status));
        context.insert("issueIds".into(), json!(issue_ids));
        context.insert("wakeReason".into(), json!(reason));
        if let Some(issue) = primary {
            context.insert("issueId".into(), json!(issue));
            context.insert("taskId".into(), json!(issue));
        }
        let request = WakeRequest {
            agent,
            source: InvocationSource::Automation,
            trigger_detail: Some(TriggerDetail::System),
            reason: Some(reason.clone()),
            payload: Some(context.clone()),
            idempotency_key: None,
            requested_by: scope.actor_ref(),
            context,
            activity: None,
        };
        if let Err(e) = control.wake(request).await {
            tracing::warn!(error = %e, agent = %agent_id, %reason, "could not wake the requester");
        }
    }

    /// `POST /approvals/:id/request-revision` (board): a pending approval goes back to its
    /// requester.
    pub async fn request_approval_revision(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: DecideApproval,
    ) -> DomainResult<ApprovalRecord> {
        let board = who.board()?;
        let (current, scope) = self.approval_in_scope(who, id).await?;
        if current.status != "pending" {
            return Err(DomainError::rule(
                "approval_not_pending",
                format!(
                    "Only pending approvals can request revision; this one is {}",
                    current.status
                ),
            ));
        }
        let at = next_time(current.updated_at);
        let mut next = current.clone();
        next.status = "revision_requested".into();
        next.decision_note = note(input.decision_note.as_deref())?;
        next.decided_by_user_id = Some(board.user_id().to_string());
        next.decided_at = Some(at);
        next.updated_at = at;
        let act = scope.activity(
            "approval.revision_requested",
            "approval",
            id,
            json!({"type": next.approval_type, "decisionNote": next.decision_note}),
        );
        self.write_transition(who, next, &["pending"], act).await
    }

    /// `POST /approvals/:id/resubmit`: the requester (or the board) sends a revised request.
    pub async fn resubmit_approval(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: ResubmitApproval,
    ) -> DomainResult<ApprovalRecord> {
        let (current, scope) = self.approval_in_scope(who, id).await?;
        if let Some(me) = who.agent_id()
            && current.requested_by_agent_id != Some(me)
        {
            return Err(DomainError::Forbidden(
                "Only requesting agent can resubmit this approval".into(),
            ));
        }
        if current.status != "revision_requested" {
            return Err(DomainError::rule(
                "approval_not_in_revision",
                format!(
                    "Only revision requested approvals can be resubmitted; this one is {}",
                    current.status
                ),
            ));
        }
        let mut next = current.clone();
        if let Some(p) = json_object("payload", input.payload)? {
            next.payload = p;
        }
        next.status = "pending".into();
        next.decision_note = None;
        next.decided_by_user_id = None;
        next.decided_at = None;
        next.updated_at = next_time(current.updated_at);
        let act = scope.activity(
            "approval.resubmitted",
            "approval",
            id,
            json!({"type": next.approval_type}),
        );
        self.write_transition(who, next, &["revision_requested"], act)
            .await
    }

    async fn write_transition(
        &self,
        who: &RequestActor,
        next: ApprovalRecord,
        from: &[&str],
        act: ActivityEntry,
    ) -> DomainResult<ApprovalRecord> {
        let id = next.id;
        let written = self
            .store
            .decide_approval(ApprovalDecision {
                approval: next.clone(),
                from: from.iter().map(|s| s.to_string()).collect(),
                hire: None,
                activity: vec![act],
            })
            .await?;
        if !written {
            let now = self.get_approval(who, id).await?;
            return Err(DomainError::rule(
                "approval_changed",
                format!("The approval was {} meanwhile", now.status),
            ));
        }
        Ok(next)
    }

    pub async fn list_approval_comments(
        &self,
        who: &RequestActor,
        id: Uuid,
    ) -> DomainResult<Vec<ApprovalCommentRecord>> {
        self.approval_in_scope(who, id).await?;
        Ok(self.store.list_approval_comments(id).await?)
    }

    pub async fn add_approval_comment(
        &self,
        who: &RequestActor,
        id: Uuid,
        input: AddApprovalComment,
    ) -> DomainResult<ApprovalCommentRecord> {
        let (approval, scope) = self.approval_in_scope(who, id).await?;
        let body =
            super::validate::required_text("body", input.body.as_deref().unwrap_or(""), BODY_MAX)?;
        let at = now();
        let comment = ApprovalCommentRecord {
            id: Uuid::new_v4(),
            company_id: approval.company_id,
            approval_id: id,
            author_agent_id: who.agent_id(),
            author_user_id: scope.user_id().map(str::to_string),
            body,
            created_at: at,
            updated_at: at,
        };
        let act = scope.activity(
            "approval.comment_added",
            "approval",
            id,
            json!({"commentId": comment.id}),
        );
        self.store
            .insert_approval_comment(comment.clone(), vec![act])
            .await?;
        Ok(comment)
    }
}

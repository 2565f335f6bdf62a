//! Issues: creation with identifiers from a counter that never repeats, lookup by id or
//! identifier, listing, blockers without cycles.

pub mod checkout;
pub mod comments;
mod update;
mod wakes;

use std::collections::{HashMap, HashSet};

use paperclip_shared::limits::*;
use paperclip_shared::*;
use serde_json::json;
use uuid::Uuid;

use super::validate::*;
use super::{Domain, DomainError, DomainResult};
use crate::auth::{CompanyScope, RequestActor};
use crate::store::{IssueDraft, IssueFilter, IssueRelationsQuery};

/// Query of `GET /companies/:id/issues`.
#[derive(Debug, Clone, Default)]
pub struct IssueListQuery {
    pub statuses: Vec<IssueStatus>,
    pub assignee_agent_id: Option<Uuid>,
    pub assignee_user_id: Option<String>,
    pub project_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// `ACM-12` (any case) or a UUID.
fn parse_issue_key(key: &str) -> Option<Result<Uuid, String>> {
    let key = key.trim();
    if let Ok(id) = Uuid::parse_str(key) {
        return Some(Ok(id));
    }
    let upper = key.to_ascii_uppercase();
    let (prefix, number) = upper.rsplit_once('-')?;
    let valid = !prefix.is_empty()
        && prefix
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
        && prefix.chars().all(|c| c.is_ascii_alphanumeric())
        && !number.is_empty()
        && number.len() <= 18
        && number.chars().all(|c| c.is_ascii_digit());
    valid.then_some(Err(upper))
}

impl Domain {
    /// Finds an issue the actor may see, by UUID or identifier.
    pub async fn find_issue(
        &self,
        who: &RequestActor,
        key: &str,
    ) -> DomainResult<(Issue, CompanyScope)> {
        let issue = match parse_issue_key(key) {
            Some(Ok(id)) => self.store.get_issue(id).await?,
            Some(Err(identifier)) => self.store.get_issue_by_identifier(identifier).await?,
            None => None,
        };
        let issue = issue.ok_or(DomainError::NotFound("Issue not found"))?;
        let scope = who.company(issue.company_id, "Issue not found")?;
        Ok((issue, scope))
    }

    pub async fn issue_detail(&self, who: &RequestActor, key: &str) -> DomainResult<IssueDetail> {
        let (issue, _) = self.find_issue(who, key).await?;
        self.detail_of(issue).await
    }

    pub(crate) async fn detail_of(&self, issue: Issue) -> DomainResult<IssueDetail> {
        let r = self
            .store
            .issue_relations(IssueRelationsQuery {
                issue_id: issue.id,
                parent_id: issue.parent_id,
                project_id: issue.project_id,
                goal_id: issue.goal_id,
            })
            .await?;
        Ok(IssueDetail {
            issue,
            ancestors: r.ancestors,
            project: r.project,
            goal: r.goal,
            blocked_by: r.blocked_by,
            blocks: r.blocks,
        })
    }

    pub async fn list_issues(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        q: IssueListQuery,
    ) -> DomainResult<Vec<Issue>> {
        who.company(company_id, "Company not found")?;
        let limit = q.limit.unwrap_or(ISSUES_PAGE_DEFAULT);
        if !(1..=ISSUES_PAGE_MAX).contains(&limit) {
            return Err(DomainError::invalid(
                "limit",
                format!("limit must be a positive integer up to {ISSUES_PAGE_MAX}"),
            ));
        }
        let offset = q.offset.unwrap_or(0);
        if offset < 0 {
            return Err(DomainError::invalid(
                "offset",
                "offset must be zero or more",
            ));
        }
        let filter = IssueFilter {
            company_id,
            statuses: q.statuses,
            assignee_agent_id: q.assignee_agent_id,
            assignee_user_id: q.assignee_user_id,
            project_id: q.project_id,
            parent_id: q.parent_id,
            query: optional_text("q", q.q.as_deref(), SHORT_TEXT_MAX)?
                .filter(|s| !s.trim().is_empty()),
            limit,
            offset,
        };
        self.store
            .list_issues(filter)
            .await?
            .ok_or(DomainError::NotFound("Company not found"))
    }

    /// Blockers must be issues of the same company, never the issue itself, never a cycle.
    async fn check_blockers(
        &self,
        company_id: Uuid,
        issue_id: Uuid,
        blockers: &[Uuid],
    ) -> DomainResult<Vec<Uuid>> {
        let mut unique: Vec<Uuid> = Vec::new();
        for b in blockers {
            if !unique.contains(b) {
                unique.push(*b);
            }
        }
        if unique.len() > BLOCKERS_MAX {
            return Err(DomainError::invalid(
                "blockedByIssueIds",
                format!("at most {BLOCKERS_MAX} blockers"),
            ));
        }
        if unique.contains(&issue_id) {
            return Err(DomainError::rule(
                "blocker_cycle",
                "An issue cannot block itself",
            ));
        }
        // One read per blocker answers both questions: does it exist, and is it ours?
        for b in &unique {
            match self.store.get_issue(*b).await? {
                None => {
                    return Err(DomainError::rule(
                        "invalid_reference",
                        "blockedByIssueIds: issue not found",
                    ));
                }
                Some(i) if i.company_id != company_id => {
                    return Err(DomainError::rule(
                        "invalid_reference",
                        "blockedByIssueIds: issue not found in this company",
                    ));
                }
                Some(_) => {}
            }
        }
        if unique.is_empty() {
            return Ok(unique);
        }
        // Would `issue_id` become reachable from itself through "is blocked by" edges?
        let mut graph: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (issue, blocker) in self.store.blocker_edges(company_id).await? {
            if issue != issue_id {
                graph.entry(issue).or_default().push(blocker);
            }
        }
        graph.insert(issue_id, unique.clone());
        let mut stack = unique.clone();
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if n == issue_id {
                return Err(DomainError::rule(
                    "blocker_cycle",
                    "blockedByIssueIds would create a cycle of blockers",
                ));
            }
            if seen.insert(n) {
                stack.extend(graph.get(&n).into_iter().flatten().copied());
            }
        }
        Ok(unique)
    }

    /// A parent must be an issue of the same company and not below the issue itself.
    async fn check_parent(
        &self,
        company_id: Uuid,
        issue_id: Uuid,
        parent: Option<Uuid>,
    ) -> DomainResult<i64> {
        let Some(mut cursor) = parent else {
            return Ok(0);
        };
        let mut depth = 0;
        let parent_issue = self.store.get_issue(cursor).await?;
        if parent_issue.as_ref().map(|p| p.company_id) != Some(company_id) {
            return Err(DomainError::rule(
                "invalid_reference",
                "parentId: issue not found in this company",
            ));
        }
        let request_depth = parent_issue.map(|p| p.request_depth + 1).unwrap_or(0);
        loop {
            if cursor == issue_id {
                return Err(DomainError::rule(
                    "parent_cycle",
                    "parentId would make the issue its own ancestor",
                ));
            }
            depth += 1;
            match self
                .store
                .get_issue(cursor)
                .await?
                .and_then(|i| i.parent_id)
            {
                Some(next) if depth < 1000 => cursor = next,
                _ => break,
            }
        }
        Ok(request_depth.min(1024))
    }

    pub async fn unresolved_blockers(&self, issue_id: Uuid) -> DomainResult<Vec<Uuid>> {
        let blockers = self.store.blockers_of(issue_id).await?;
        Ok(blockers
            .into_iter()
            .filter(|b| !b.status.is_closed())
            .map(|b| b.id)
            .collect())
    }

    async fn check_assignee(&self, company_id: Uuid, agent_id: Option<Uuid>) -> DomainResult<()> {
        let Some(id) = agent_id else { return Ok(()) };
        let agent = self
            .store
            .get_agent(id)
            .await?
            .filter(|a| a.company_id == company_id);
        match agent.map(|a| a.status) {
            None => Err(DomainError::rule(
                "invalid_reference",
                "assigneeAgentId: agent not found in this company",
            )),
            Some(AgentStatus::Terminated) => Err(DomainError::conflict(
                "agent_terminated",
                "Cannot assign work to terminated agents",
            )),
            Some(AgentStatus::PendingApproval) => Err(DomainError::conflict(
                "agent_pending_approval",
                "Cannot assign work to pending approval agents",
            )),
            Some(_) => Ok(()),
        }
    }

    pub async fn create_issue(
        &self,
        who: &RequestActor,
        company_id: Uuid,
        input: CreateIssue,
    ) -> DomainResult<CreatedIssue> {
        let scope = who.company(company_id, "Company not found")?;
        let (_, company_goal) = self
            .store
            .company_with_goal(company_id)
            .await?
            .ok_or(DomainError::NotFound("Company not found"))?;
        let idempotency_key = optional_text(
            "idempotencyKey",
            input.idempotency_key.as_deref().map(str::trim),
            255,
        )?
        .filter(|k| !k.is_empty());
        if let Some(key) = &idempotency_key
            && let Some(issue) = self
                .store
                .find_issue_by_idempotency_key(company_id, key.clone())
                .await?
        {
            return Ok(CreatedIssue {
                issue,
                deduplicated: true,
            });
        }
        let title = required_text("title", &input.title, TITLE_MAX)?;
        let description =
            optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?;
        let assignee_user_id = optional_text(
            "assigneeUserId",
            input.assignee_user_id.as_deref(),
            NAME_MAX,
        )?
        .filter(|u| !u.is_empty());
        if input.assignee_agent_id.is_some() && assignee_user_id.is_some() {
            return Err(DomainError::rule(
                "multiple_assignees",
                "Issue can only have one assignee",
            ));
        }
        let assigned = input.assignee_agent_id.is_some() || assignee_user_id.is_some();
        let status = input.status.unwrap_or(if assigned {
            IssueStatus::Todo
        } else {
            IssueStatus::Backlog
        });
        if status == IssueStatus::InProgress && !assigned {
            return Err(DomainError::rule(
                "assignee_required",
                "in_progress issues require an assignee",
            ));
        }
        self.check_assignee(company_id, input.assignee_agent_id)
            .await?;
        self.check_project_ref(company_id, input.project_id).await?;
        self.check_goal_ref(company_id, input.goal_id).await?;
        let id = Uuid::new_v4();
        let request_depth = self.check_parent(company_id, id, input.parent_id).await?;
        let blockers = self
            .check_blockers(
                company_id,
                id,
                input.blocked_by_issue_ids.as_deref().unwrap_or(&[]),
            )
            .await?;
        if status == IssueStatus::InProgress && !self.unresolved_of(&blockers).await?.is_empty() {
            return Err(DomainError::rule(
                "unresolved_blockers",
                "Issue is blocked by unresolved blockers",
            ));
        }
        // Goal: the one given, else the project's, else the company goal.
        let mut goal_id = input.goal_id;
        if goal_id.is_none() {
            if let Some(p) = input.project_id {
                goal_id = self.store.get_project(p).await?.and_then(|p| p.goal_id);
            } else {
                goal_id = company_goal;
            }
        }
        let now = crate::domain::now();
        let issue = Issue {
            id,
            company_id,
            project_id: input.project_id,
            goal_id,
            parent_id: input.parent_id,
            title,
            description,
            status,
            priority: input.priority.unwrap_or(IssuePriority::Medium),
            assignee_agent_id: input.assignee_agent_id,
            assignee_user_id,
            checkout_run_id: None,
            execution_run_id: None,
            execution_agent_name_key: None,
            execution_locked_at: None,
            created_by_agent_id: scope.agent_id(),
            created_by_user_id: scope.user_id().map(str::to_string),
            issue_number: 0,
            identifier: String::new(),
            request_depth,
            billing_code: optional_text("billingCode", input.billing_code.as_deref(), NAME_MAX)?,
            started_at: (status == IssueStatus::InProgress).then_some(now),
            completed_at: (status == IssueStatus::Done).then_some(now),
            cancelled_at: (status == IssueStatus::Cancelled).then_some(now),
            created_at: now,
            updated_at: now,
        };
        let act = scope.activity(
            "issue.created",
            "issue",
            issue.id,
            json!({"title": issue.title, "status": issue.status, "statusDefaulted": input.status.is_none(), "blockedByIssueIds": blockers}),
        );
        let draft = IssueDraft {
            issue,
            idempotency_key: idempotency_key.clone(),
        };
        match self.store.create_issue(draft, blockers, vec![act]).await {
            Ok(issue) => {
                self.wake_after_create(&scope, &issue).await;
                Ok(CreatedIssue {
                    issue,
                    deduplicated: false,
                })
            }
            // Two creates with one idempotency key raced: the first one wins.
            Err(crate::store::StoreError::Conflict(_)) if idempotency_key.is_some() => {
                let key = idempotency_key.unwrap_or_default();
                let issue = self
                    .store
                    .find_issue_by_idempotency_key(company_id, key)
                    .await?;
                issue
                    .map(|issue| CreatedIssue {
                        issue,
                        deduplicated: true,
                    })
                    .ok_or_else(|| {
                        DomainError::conflict(
                            "conflict",
                            "The issue could not be created; try again",
                        )
                    })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn unresolved_of(&self, blockers: &[Uuid]) -> DomainResult<Vec<Uuid>> {
        let refs = self.store.issue_refs(blockers.to_vec()).await?;
        Ok(refs
            .into_iter()
            .filter(|r| !r.status.is_closed())
            .map(|r| r.id)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_issue_key;

    #[test]
    fn identifiers_and_uuids_parse() {
        assert!(matches!(parse_issue_key("acm-12"), Some(Err(s)) if s == "ACM-12"));
        assert!(matches!(
            parse_issue_key("3f2b6c1e-8a6e-4a8e-9c1e-2b6c1e8a6e4a"),
            Some(Ok(_))
        ));
        assert!(parse_issue_key("nope").is_none());
        assert!(parse_issue_key("ACM-").is_none());
        assert!(parse_issue_key("-12").is_none());
    }
}

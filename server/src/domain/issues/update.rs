//! PATCH of an issue: the status rules and their side effects, the inline comment, and the
//! `changes` receipt — one atomic write, retried when another write came first.

use std::collections::BTreeMap;

use paperclip_shared::limits::*;
use paperclip_shared::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::super::validate::*;
use super::super::{Domain, DomainError, DomainResult, next_time};
use crate::auth::{CompanyScope, RequestActor};
use crate::store::IssueWrite;

fn is_empty(u: &UpdateIssue) -> bool {
    u.title.is_none()
        && u.description.is_none()
        && u.status.is_none()
        && u.priority.is_none()
        && u.assignee_agent_id.is_none()
        && u.assignee_user_id.is_none()
        && u.project_id.is_none()
        && u.goal_id.is_none()
        && u.parent_id.is_none()
        && u.billing_code.is_none()
        && u.blocked_by_issue_ids.is_none()
        && u.comment.is_none()
}

/// `{field: {from, to}}` for every field that differs (but `updatedAt`).
pub(crate) fn diff(before: &Issue, after: &Issue) -> BTreeMap<String, FieldChange> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return BTreeMap::new();
    };
    a.iter()
        .filter(|(k, v)| k.as_str() != "updatedAt" && b.get(*k) != Some(*v))
        .map(|(k, v)| {
            (
                k.clone(),
                FieldChange {
                    from: v.clone(),
                    to: b.get(k).cloned().unwrap_or(Value::Null),
                },
            )
        })
        .collect()
}

/// Applies status side effects: timestamps, and locks that only `in_progress` may keep.
pub(crate) fn apply_status(
    issue: &mut Issue,
    status: IssueStatus,
    now: chrono::DateTime<chrono::Utc>,
) {
    issue.status = status;
    if status != IssueStatus::InProgress {
        clear_locks(issue);
    } else if issue.started_at.is_none() {
        issue.started_at = Some(now);
    }
    issue.completed_at = (status == IssueStatus::Done).then(|| issue.completed_at.unwrap_or(now));
    issue.cancelled_at =
        (status == IssueStatus::Cancelled).then(|| issue.cancelled_at.unwrap_or(now));
}

pub(crate) fn clear_locks(issue: &mut Issue) {
    issue.checkout_run_id = None;
    issue.execution_run_id = None;
    issue.execution_agent_name_key = None;
    issue.execution_locked_at = None;
}

pub(crate) fn new_comment(
    scope: &CompanyScope,
    issue: &Issue,
    body: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> DomainResult<IssueComment> {
    Ok(IssueComment {
        id: Uuid::new_v4(),
        company_id: issue.company_id,
        issue_id: issue.id,
        author_agent_id: scope.agent_id(),
        author_user_id: scope.user_id().map(str::to_string),
        body: required_text("body", body, COMMENT_MAX)?,
        created_by_run_id: scope.run_id(),
        created_at: at,
        updated_at: at,
    })
}

pub(crate) fn comment_activity(
    scope: &CompanyScope,
    issue: &Issue,
    c: &IssueComment,
) -> ActivityEntry {
    let snippet: String = c.body.chars().take(120).collect();
    scope.activity(
        "issue.comment_added",
        "issue",
        issue.id,
        json!({"commentId": c.id, "bodySnippet": snippet, "identifier": issue.identifier, "issueTitle": issue.title}),
    )
}

impl Domain {
    pub async fn update_issue(
        &self,
        who: &RequestActor,
        key: &str,
        input: UpdateIssue,
    ) -> DomainResult<UpdatedIssue> {
        if is_empty(&input) {
            return Err(DomainError::invalid(
                "body",
                "The update is empty: send at least one field to change",
            ));
        }
        for _attempt in 0..5 {
            let (before, scope) = self.find_issue(who, key).await?;
            let (write, changes) = self.plan_update(&scope, &before, &input).await?;
            let comment = write.comment.clone();
            let issue = write.issue.clone();
            if self.store.update_issue(write).await? {
                self.wake_after_update(&scope, &before, &issue, comment.as_ref())
                    .await;
                return Ok(UpdatedIssue {
                    issue,
                    changes,
                    comment,
                });
            }
        }
        Err(DomainError::conflict(
            "concurrent_update",
            "The issue changed while it was being updated; try again",
        ))
    }

    async fn plan_update(
        &self,
        scope: &CompanyScope,
        before: &Issue,
        input: &UpdateIssue,
    ) -> DomainResult<(IssueWrite, BTreeMap<String, FieldChange>)> {
        let mut issue = before.clone();
        let now = next_time(before.updated_at);
        if let Some(t) = &input.title {
            issue.title = required_text("title", t, TITLE_MAX)?;
        }
        if let Some(d) = &input.description {
            issue.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        issue.priority = input.priority.unwrap_or(issue.priority);
        if let Some(b) = &input.billing_code {
            issue.billing_code = optional_text("billingCode", b.as_deref(), NAME_MAX)?;
        }
        if let Some(p) = input.project_id {
            self.check_project_ref(issue.company_id, p).await?;
            issue.project_id = p;
        }
        if let Some(g) = input.goal_id {
            self.check_goal_ref(issue.company_id, g).await?;
            issue.goal_id = g;
        }
        if let Some(p) = input.parent_id {
            self.check_parent(issue.company_id, issue.id, p).await?;
            issue.parent_id = p;
        }
        if let Some(a) = input.assignee_agent_id {
            self.check_assignee(issue.company_id, a).await?;
            issue.assignee_agent_id = a;
        }
        if let Some(u) = &input.assignee_user_id {
            issue.assignee_user_id =
                optional_text("assigneeUserId", u.as_deref(), NAME_MAX)?.filter(|u| !u.is_empty());
        }
        if issue.assignee_agent_id.is_some() && issue.assignee_user_id.is_some() {
            if input.assignee_agent_id.is_none() && input.assignee_user_id.is_some() {
                issue.assignee_agent_id = None; // handing to a person takes it from the agent
            } else if input.assignee_user_id.is_none() && input.assignee_agent_id.is_some() {
                issue.assignee_user_id = None;
            } else {
                return Err(DomainError::rule(
                    "multiple_assignees",
                    "Issue can only have one assignee",
                ));
            }
        }
        if issue.assignee_agent_id != before.assignee_agent_id {
            clear_locks(&mut issue);
        }
        let blockers = match &input.blocked_by_issue_ids {
            Some(ids) => Some(self.check_blockers(issue.company_id, issue.id, ids).await?),
            None => None,
        };
        if let Some(status) = input.status {
            let leaving_closed = before.status.is_closed() && !status.is_closed();
            if leaving_closed && !(input.reopen == Some(true) || scope.who().is_board()) {
                return Err(DomainError::Conflict {
                    code: "issue_closed",
                    message: format!(
                        "Issue is {}; send \"reopen\": true to reopen it",
                        before.status
                    ),
                    details: Some(json!({"status": before.status})),
                });
            }
            if status != before.status {
                self.check_ceo_strategy(scope.who(), before, status).await?;
            }
            if status != before.status || status != IssueStatus::InProgress {
                apply_status(&mut issue, status, now);
            }
        }
        if issue.status == IssueStatus::InProgress {
            if issue.assignee_agent_id.is_none() && issue.assignee_user_id.is_none() {
                return Err(DomainError::rule(
                    "assignee_required",
                    "in_progress issues require an assignee",
                ));
            }
            if before.status != IssueStatus::InProgress {
                let unresolved = match &blockers {
                    Some(b) => self.unresolved_of(b).await?,
                    None => self.unresolved_blockers(issue.id).await?,
                };
                if !unresolved.is_empty() {
                    return Err(DomainError::Rule {
                        code: "unresolved_blockers",
                        message: "Issue is blocked by unresolved blockers".into(),
                        details: Some(json!({"unresolvedBlockerIssueIds": unresolved})),
                    });
                }
            }
        }
        issue.updated_at = now;
        let mut changes = diff(before, &issue);
        if let Some(b) = &blockers {
            let previous: Vec<Uuid> = self
                .store
                .blockers_of(issue.id)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect();
            let (mut from, mut to) = (previous, b.clone());
            from.sort();
            to.sort();
            if from != to {
                changes.insert(
                    "blockedByIssueIds".into(),
                    FieldChange {
                        from: json!(from),
                        to: json!(to),
                    },
                );
            }
        }
        let comment = match &input.comment {
            Some(body) => Some(new_comment(scope, &issue, body, now)?),
            None => None,
        };
        let mut activity = Vec::new();
        if !changes.is_empty() {
            let detail: serde_json::Map<String, Value> = changes
                .iter()
                .map(|(k, c)| (k.clone(), json!({"from": c.from, "to": c.to})))
                .collect();
            activity.push(scope.activity(
                "issue.updated",
                "issue",
                issue.id,
                json!({"identifier": issue.identifier, "changes": detail}),
            ));
        }
        if let Some(c) = &comment {
            activity.push(comment_activity(scope, &issue, c));
        }
        let write = IssueWrite {
            issue,
            expected_updated_at: before.updated_at,
            blockers,
            comment,
            activity,
        };
        Ok((write, changes))
    }
}

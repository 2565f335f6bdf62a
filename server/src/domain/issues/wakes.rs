//! Who a change to an issue wakes, decided once the change is written:
//!
//! - its new assignee (`issue_assigned`), unless the issue sits in `backlog`;
//! - its assignee when it leaves `backlog`, or goes `blocked`/closed → `todo`
//!   (`issue_status_changed`);
//! - its assignee on a comment (`issue_commented`, `issue_reopened_via_comment`), unless the
//!   issue is closed;
//! - every agent a comment mentions (`issue_comment_mentioned`), as `[@Name](agent://<id>)`
//!   or `@Name`;
//! - the assignees of issues it was the last open blocker of, once it closes
//!   (`issue_blockers_resolved`);
//! - its parent's assignee once the last open child closes (`issue_children_completed`).
//!
//! An agent never wakes itself: its own change or comment wakes nobody on its behalf. What it
//! unblocked or completed is new work, and wakes the assignee of that work, whoever it is.
//! A wake-up that fails is logged; it never undoes the change that caused it.

use paperclip_shared::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::super::Domain;
use super::super::runs::WakeRequest;
use crate::auth::CompanyScope;
use crate::store::IssueFilter;

/// One wake-up an issue change asks for.
#[derive(Debug, Clone)]
struct Wake {
    agent_id: Uuid,
    issue_id: Uuid,
    source: InvocationSource,
    reason: &'static str,
    payload: Map<String, Value>,
    /// Context beyond what the payload gives (`source` of the change, child ids, …).
    context: Map<String, Value>,
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The wake-ups of one change: at most one per (agent, issue), the first reason kept.
struct Wakes {
    author: Option<Uuid>,
    list: Vec<Wake>,
}

impl Wakes {
    fn new(scope: &CompanyScope) -> Wakes {
        Wakes {
            author: scope.agent_id(),
            list: Vec::new(),
        }
    }

    /// A direct wake: never the agent who made the change.
    fn direct(&mut self, wake: Wake) {
        if Some(wake.agent_id) != self.author {
            self.derived(wake);
        }
    }

    /// A wake for work the change made ready: goes to its assignee, even the author.
    fn derived(&mut self, wake: Wake) {
        let seen = self
            .list
            .iter()
            .any(|w| w.agent_id == wake.agent_id && w.issue_id == wake.issue_id);
        if !seen {
            self.list.push(wake);
        }
    }
}

/// Agents of `agents` that `body` mentions, in the order of `agents`.
pub(crate) fn mentioned_agents(body: &str, agents: &[Agent]) -> Vec<Uuid> {
    let linked = linked_agent_ids(body);
    let lower = body.to_lowercase();
    agents
        .iter()
        .filter(|a| linked.contains(&a.id) || mentions_name(&lower, &a.name.to_lowercase()))
        .map(|a| a.id)
        .collect()
}

/// Ids of `[…](agent://<id>)` links (the form agents are told to write).
fn linked_agent_ids(body: &str) -> Vec<Uuid> {
    body.match_indices("](agent://")
        .filter_map(|(at, m)| {
            let rest = &body[at + m.len()..];
            let end = rest
                .find(|c: char| c == ')' || c == '?' || c == '/' || c.is_whitespace())
                .unwrap_or(rest.len());
            Uuid::parse_str(&rest[..end]).ok()
        })
        .collect()
}

/// `@name` as a word of its own (not inside an e-mail address or a longer name).
fn mentions_name(lower_body: &str, lower_name: &str) -> bool {
    if lower_name.trim().is_empty() {
        return false;
    }
    let needle = format!("@{lower_name}");
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    lower_body.match_indices(&needle).any(|(at, _)| {
        let before_ok = lower_body[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !word(c));
        let after_ok = lower_body[at + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !word(c));
        before_ok && after_ok
    })
}

fn comment_context(issue: Uuid, comment: &IssueComment, source: &str) -> Map<String, Value> {
    object(json!({
        "issueId": issue,
        "taskId": issue,
        "commentId": comment.id,
        "wakeCommentId": comment.id,
        "source": source,
    }))
}

impl Domain {
    /// After a creation: the assignee, when the issue is not in backlog.
    pub(crate) async fn wake_after_create(&self, scope: &CompanyScope, issue: &Issue) {
        let mut wakes = Wakes::new(scope);
        if let Some(agent) = issue.assignee_agent_id
            && issue.status != IssueStatus::Backlog
        {
            wakes.direct(Wake {
                agent_id: agent,
                issue_id: issue.id,
                source: InvocationSource::Assignment,
                reason: "issue_assigned",
                payload: object(json!({"issueId": issue.id, "mutation": "create"})),
                context: object(json!({"issueId": issue.id, "source": "issue.create"})),
            });
        }
        self.send_wakes(scope, wakes).await;
    }

    /// After a PATCH (with its inline comment, if any).
    pub(crate) async fn wake_after_update(
        &self,
        scope: &CompanyScope,
        before: &Issue,
        after: &Issue,
        comment: Option<&IssueComment>,
    ) {
        let mut wakes = Wakes::new(scope);
        let assignee_changed = before.assignee_agent_id != after.assignee_agent_id;
        if let Some(agent) = after.assignee_agent_id {
            if assignee_changed && after.status != IssueStatus::Backlog {
                let mut payload = object(json!({"issueId": after.id, "mutation": "update"}));
                let mut context = object(json!({"issueId": after.id, "source": "issue.update"}));
                if let Some(c) = comment {
                    payload.insert("commentId".into(), json!(c.id));
                    context = comment_context(after.id, c, "issue.update");
                }
                wakes.direct(Wake {
                    agent_id: agent,
                    issue_id: after.id,
                    source: InvocationSource::Assignment,
                    reason: "issue_assigned",
                    payload,
                    context,
                });
            }
            let (from, to) = (before.status, after.status);
            let resumed = (from == IssueStatus::Backlog && to != from && !to.is_closed())
                || ((from == IssueStatus::Blocked || from.is_closed()) && to == IssueStatus::Todo);
            if !assignee_changed && resumed {
                wakes.direct(Wake {
                    agent_id: agent,
                    issue_id: after.id,
                    source: InvocationSource::Automation,
                    reason: "issue_status_changed",
                    payload: object(json!({"issueId": after.id, "mutation": "update"})),
                    context: object(json!({"issueId": after.id, "source": "issue.status_change"})),
                });
            }
        }
        if let Some(c) = comment {
            self.comment_wakes(&mut wakes, before, after, c, !assignee_changed)
                .await;
        }
        if !before.status.is_closed() && after.status.is_closed() {
            self.closing_wakes(&mut wakes, after).await;
        }
        self.send_wakes(scope, wakes).await;
    }

    /// After `POST /issues/:id/comments` (`after` differs from `before` when it reopened).
    pub(crate) async fn wake_after_comment(
        &self,
        scope: &CompanyScope,
        before: &Issue,
        after: &Issue,
        comment: &IssueComment,
    ) {
        let mut wakes = Wakes::new(scope);
        self.comment_wakes(&mut wakes, before, after, comment, true)
            .await;
        self.send_wakes(scope, wakes).await;
    }

    async fn comment_wakes(
        &self,
        wakes: &mut Wakes,
        before: &Issue,
        after: &Issue,
        comment: &IssueComment,
        wake_assignee: bool,
    ) {
        let reopened = before.status.is_closed() && !after.status.is_closed();
        if let Some(agent) = after.assignee_agent_id
            && wake_assignee
            && (reopened || !after.status.is_closed())
        {
            let (reason, source) = if reopened {
                ("issue_reopened_via_comment", "issue.comment.reopen")
            } else {
                ("issue_commented", "issue.comment")
            };
            let mut payload = object(
                json!({"issueId": after.id, "commentId": comment.id, "mutation": "comment"}),
            );
            if reopened {
                payload.insert("reopenedFrom".into(), json!(before.status));
            }
            wakes.direct(Wake {
                agent_id: agent,
                issue_id: after.id,
                source: InvocationSource::Automation,
                reason,
                payload,
                context: comment_context(after.id, comment, source),
            });
        }
        if !(comment.body.contains('@') || comment.body.contains("agent://")) {
            return;
        }
        let agents = match self.store.list_agents(after.company_id).await {
            Ok(agents) => agents,
            Err(e) => {
                tracing::warn!(error = %e, issue = %after.id, "cannot read agents for @-mentions");
                return;
            }
        };
        for agent in mentioned_agents(&comment.body, &agents) {
            wakes.direct(Wake {
                agent_id: agent,
                issue_id: after.id,
                source: InvocationSource::Automation,
                reason: "issue_comment_mentioned",
                payload: object(json!({"issueId": after.id, "commentId": comment.id})),
                context: comment_context(after.id, comment, "comment.mention"),
            });
        }
    }

    /// The issue just closed: issues it was the last open blocker of, and its parent once
    /// every child is closed.
    async fn closing_wakes(&self, wakes: &mut Wakes, issue: &Issue) {
        if let Err(e) = self.unblocked_wakes(wakes, issue).await {
            tracing::warn!(error = %e, issue = %issue.id, "cannot find the issues it unblocked");
        }
        if let Err(e) = self.parent_wake(wakes, issue).await {
            tracing::warn!(error = %e, issue = %issue.id, "cannot check its parent's children");
        }
    }

    async fn unblocked_wakes(&self, wakes: &mut Wakes, issue: &Issue) -> super::DomainResult<()> {
        let edges = self.store.blocker_edges(issue.company_id).await?;
        for (dependent, _) in edges.iter().filter(|(_, blocker)| *blocker == issue.id) {
            let Some(dep) = self.store.get_issue(*dependent).await? else {
                continue;
            };
            let Some(agent) = dep.assignee_agent_id else {
                continue;
            };
            if dep.status == IssueStatus::Backlog || dep.status.is_closed() {
                continue;
            }
            let blockers = self.store.blockers_of(dep.id).await?;
            if blockers.iter().any(|b| !b.status.is_closed()) {
                continue;
            }
            let blocker_ids: Vec<Uuid> = blockers.iter().map(|b| b.id).collect();
            wakes.derived(Wake {
                agent_id: agent,
                issue_id: dep.id,
                source: InvocationSource::Automation,
                reason: "issue_blockers_resolved",
                payload: object(json!({
                    "issueId": dep.id,
                    "resolvedBlockerIssueId": issue.id,
                    "blockerIssueIds": blocker_ids,
                    "mutation": "blocker_done",
                })),
                context: object(json!({
                    "issueId": dep.id,
                    "source": "issue.blockers_resolved",
                    "resolvedBlockerIssueId": issue.id,
                    "blockerIssueIds": blocker_ids,
                })),
            });
        }
        Ok(())
    }

    async fn parent_wake(&self, wakes: &mut Wakes, issue: &Issue) -> super::DomainResult<()> {
        let Some(parent_id) = issue.parent_id else {
            return Ok(());
        };
        let Some(parent) = self.store.get_issue(parent_id).await? else {
            return Ok(());
        };
        let Some(agent) = parent.assignee_agent_id else {
            return Ok(());
        };
        if parent.status == IssueStatus::Backlog || parent.status.is_closed() {
            return Ok(());
        }
        let children = self
            .store
            .list_issues(IssueFilter {
                company_id: parent.company_id,
                statuses: Vec::new(),
                assignee_agent_id: None,
                assignee_user_id: None,
                project_id: None,
                parent_id: Some(parent.id),
                query: None,
                limit: 10_000,
                offset: 0,
            })
            .await?
            .unwrap_or_default();
        if children.is_empty() || children.iter().any(|c| !c.status.is_closed()) {
            return Ok(());
        }
        let child_ids: Vec<Uuid> = children.iter().map(|c| c.id).collect();
        wakes.derived(Wake {
            agent_id: agent,
            issue_id: parent.id,
            source: InvocationSource::Automation,
            reason: "issue_children_completed",
            payload: object(json!({
                "issueId": parent.id,
                "completedChildIssueId": issue.id,
                "childIssueIds": child_ids,
            })),
            context: object(json!({
                "issueId": parent.id,
                "source": "issue.children_completed",
                "completedChildIssueId": issue.id,
                "childIssueIds": child_ids,
            })),
        });
        Ok(())
    }

    async fn send_wakes(&self, scope: &CompanyScope, wakes: Wakes) {
        let Some(control) = self.run_control.get() else {
            return;
        };
        for wake in wakes.list {
            let agent = match self.store.get_agent(wake.agent_id).await {
                Ok(Some(a)) if a.company_id == scope.company_id() => a,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, agent = %wake.agent_id, "cannot read the agent to wake");
                    continue;
                }
            };
            if matches!(
                agent.status,
                AgentStatus::Terminated | AgentStatus::PendingApproval
            ) {
                continue;
            }
            let mut context = wake.context;
            context.insert("wakeReason".into(), json!(wake.reason));
            let request = WakeRequest {
                agent,
                source: wake.source,
                trigger_detail: Some(TriggerDetail::System),
                reason: Some(wake.reason.to_string()),
                payload: Some(wake.payload),
                idempotency_key: None,
                requested_by: scope.actor_ref(),
                context,
                activity: None,
            };
            if let Err(e) = control.wake(request).await {
                tracing::warn!(error = %e, agent = %wake.agent_id, reason = wake.reason, "wake-up failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(name: &str) -> Agent {
        let at = chrono::Utc::now();
        Agent {
            id: Uuid::new_v4(),
            company_id: Uuid::nil(),
            name: name.to_string(),
            role: AgentRole::Engineer,
            title: None,
            icon: None,
            status: AgentStatus::Idle,
            reports_to: None,
            capabilities: None,
            adapter_type: "process".into(),
            adapter_config: json!({}),
            runtime_config: json!({}),
            budget_monthly_cents: 0,
            spent_monthly_cents: 0,
            budget_monthly_tokens: 0,
            spent_monthly_tokens: 0,
            pause_reason: None,
            paused_at: None,
            permissions: json!({}),
            last_heartbeat_at: None,
            metadata: json!({}),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn mentions_are_links_or_names_as_words() {
        let (ceo, cto, eng) = (agent("CEO"), agent("Chief Tech"), agent("Eng"));
        let all = [ceo.clone(), cto.clone(), eng.clone()];
        let link = format!("ping [@Eng](agent://{}?i=robot) please", eng.id);
        assert_eq!(mentioned_agents(&link, &all), vec![eng.id]);
        assert_eq!(mentioned_agents("@ceo, look", &all), vec![ceo.id]);
        assert_eq!(
            mentioned_agents("ask @Chief Tech and @eng.", &all),
            vec![cto.id, eng.id]
        );
        assert!(mentioned_agents("mail ceo@ceo.example or @ceos", &all).is_empty());
        assert!(mentioned_agents("no mention of Eng", &all).is_empty());
        let unknown = format!("[@X](agent://{})", Uuid::new_v4());
        assert!(mentioned_agents(&unknown, &all).is_empty());
    }
}

//! Comments, the agent's inbox, and the heartbeat context an agent reads when it wakes.

use paperclip_shared::limits::*;
use paperclip_shared::*;
use uuid::Uuid;

use super::super::{Domain, DomainError, DomainResult, next_time};
use super::update::{apply_status, comment_activity, new_comment};
use crate::auth::RequestActor;
use crate::store::{CommentQuery, IssueWrite};

/// Query of `GET /issues/:id/comments`.
#[derive(Debug, Clone, Default)]
pub struct CommentListQuery {
    pub after: Option<Uuid>,
    pub ascending: bool,
    pub limit: Option<i64>,
}

impl Domain {
    pub async fn list_comments(
        &self,
        who: &RequestActor,
        key: &str,
        q: CommentListQuery,
    ) -> DomainResult<Vec<IssueComment>> {
        let (issue, _) = self.find_issue(who, key).await?;
        let limit = q.limit.unwrap_or(COMMENTS_PAGE_MAX);
        if limit < 1 {
            return Err(DomainError::invalid(
                "limit",
                "limit must be a positive integer",
            ));
        }
        let after = match q.after {
            Some(id) => match self
                .store
                .get_comment(id)
                .await?
                .filter(|c| c.issue_id == issue.id)
            {
                Some(anchor) => Some((anchor.created_at, anchor.id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let query = CommentQuery {
            issue_id: issue.id,
            after,
            ascending: q.ascending,
            limit: limit.min(COMMENTS_PAGE_MAX),
        };
        Ok(self.store.list_comments(query).await?)
    }

    pub async fn get_comment(
        &self,
        who: &RequestActor,
        key: &str,
        comment_id: Uuid,
    ) -> DomainResult<IssueComment> {
        let (issue, _) = self.find_issue(who, key).await?;
        self.store
            .get_comment(comment_id)
            .await?
            .filter(|c| c.issue_id == issue.id)
            .ok_or(DomainError::NotFound("Comment not found"))
    }

    /// Posts a comment; with `resume`/`reopen` on a closed issue, reopens it to `todo` in the
    /// same transaction.
    pub async fn add_comment(
        &self,
        who: &RequestActor,
        key: &str,
        input: CreateComment,
    ) -> DomainResult<IssueComment> {
        for _attempt in 0..5 {
            let (before, scope) = self.find_issue(who, key).await?;
            let reopen = input.resume == Some(true) || input.reopen == Some(true);
            let now = next_time(before.updated_at);
            let comment = new_comment(&scope, &before, &input.body, now)?;
            if !(reopen && before.status.is_closed()) {
                let act = comment_activity(&scope, &before, &comment);
                self.store
                    .insert_comment(comment.clone(), vec![act])
                    .await?;
                self.wake_after_comment(&scope, &before, &before, &comment)
                    .await;
                return Ok(comment);
            }
            let mut issue = before.clone();
            apply_status(&mut issue, IssueStatus::Todo, now);
            issue.updated_at = now;
            let activity = vec![
                scope.activity("issue.updated", "issue", issue.id, serde_json::json!({"identifier": issue.identifier, "status": {"from": before.status, "to": issue.status}, "source": "comment"})),
                comment_activity(&scope, &issue, &comment),
            ];
            let reopened = issue.clone();
            let write = IssueWrite {
                issue,
                expected_updated_at: before.updated_at,
                blockers: None,
                comment: Some(comment.clone()),
                activity,
            };
            if self.store.update_issue(write).await? {
                self.wake_after_comment(&scope, &before, &reopened, &comment)
                    .await;
                return Ok(comment);
            }
        }
        Err(DomainError::conflict(
            "concurrent_update",
            "The issue changed while the comment was posted; try again",
        ))
    }

    pub async fn inbox_lite(&self, who: &RequestActor) -> DomainResult<Vec<InboxItem>> {
        let Some(agent_id) = who.agent_id() else {
            return Err(DomainError::Unauthorized(
                "Agent authentication required".into(),
            ));
        };
        self.get_agent(who, agent_id).await?;
        let rows = self.store.inbox(agent_id).await?;
        Ok(rows
            .into_iter()
            .map(|(i, blockers)| InboxItem {
                id: i.id,
                identifier: i.identifier,
                title: i.title,
                status: i.status,
                priority: i.priority,
                project_id: i.project_id,
                goal_id: i.goal_id,
                parent_id: i.parent_id,
                updated_at: i.updated_at,
                active_run: None,
                unresolved_blocker_count: blockers.len() as i64,
                unresolved_blocker_issue_ids: blockers,
            })
            .collect())
    }

    pub async fn heartbeat_context(
        &self,
        who: &RequestActor,
        key: &str,
        wake_comment_id: Option<Uuid>,
    ) -> DomainResult<HeartbeatContext> {
        let (issue, _) = self.find_issue(who, key).await?;
        let detail = self.detail_of(issue).await?;
        let comment_cursor = self.store.comment_cursor(detail.issue.id).await?;
        let wake_comment = match wake_comment_id {
            Some(id) => self
                .store
                .get_comment(id)
                .await?
                .filter(|c| c.issue_id == detail.issue.id),
            None => None,
        };
        Ok(HeartbeatContext {
            issue: detail.issue,
            ancestors: detail.ancestors,
            project: detail.project,
            goal: detail.goal,
            comment_cursor,
            wake_comment,
        })
    }
}

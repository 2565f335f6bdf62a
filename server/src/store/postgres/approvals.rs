//! Approvals, their comments and issue links (PostgreSQL).

use async_trait::async_trait;
use paperclip_shared::*;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::{PgStore, activity, agents, rows};
use crate::store::*;

type R<T> = Result<T, sqlx::Error>;

fn approval_from(r: &PgRow) -> R<ApprovalRecord> {
    Ok(ApprovalRecord {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        approval_type: r.try_get("type")?,
        requested_by_agent_id: r.try_get("requested_by_agent_id")?,
        requested_by_user_id: r.try_get("requested_by_user_id")?,
        status: r.try_get("status")?,
        payload: r.try_get("payload")?,
        decision_note: r.try_get("decision_note")?,
        decided_by_user_id: r.try_get("decided_by_user_id")?,
        decided_at: r.try_get("decided_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn comment_from(r: &PgRow) -> R<ApprovalCommentRecord> {
    Ok(ApprovalCommentRecord {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        approval_id: r.try_get("approval_id")?,
        author_agent_id: r.try_get("author_agent_id")?,
        author_user_id: r.try_get("author_user_id")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

#[async_trait]
impl ApprovalStore for PgStore {
    async fn insert_approval(
        &self,
        a: ApprovalRecord,
        issue_ids: Vec<Uuid>,
        hired: Option<Agent>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        if let Some(agent) = &hired {
            agents::save_agent(&mut tx, agent).await?;
        }
        sqlx::query(
            "INSERT INTO approvals (id, company_id, type, requested_by_agent_id,
                requested_by_user_id, status, payload, decision_note, decided_by_user_id,
                decided_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(a.id)
        .bind(a.company_id)
        .bind(&a.approval_type)
        .bind(a.requested_by_agent_id)
        .bind(&a.requested_by_user_id)
        .bind(&a.status)
        .bind(&a.payload)
        .bind(&a.decision_note)
        .bind(&a.decided_by_user_id)
        .bind(a.decided_at)
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await?;
        for issue in &issue_ids {
            sqlx::query(
                "INSERT INTO issue_approvals (company_id, issue_id, approval_id,
                    linked_by_agent_id, linked_by_user_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(a.company_id)
            .bind(issue)
            .bind(a.id)
            .bind(a.requested_by_agent_id)
            .bind(&a.requested_by_user_id)
            .bind(a.created_at)
            .execute(&mut *tx)
            .await?;
        }
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_approval(&self, id: Uuid) -> StoreResult<Option<ApprovalRecord>> {
        let row = sqlx::query("SELECT * FROM approvals WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        Ok(row.as_ref().map(approval_from).transpose()?)
    }

    async fn list_approvals(
        &self,
        company_id: Uuid,
        status: Option<String>,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM approvals WHERE company_id = $1 AND ($2::text IS NULL OR status = $2)
             ORDER BY created_at DESC, id",
        )
        .bind(company_id)
        .bind(status)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        Ok(rows.iter().map(approval_from).collect::<R<_>>()?)
    }

    async fn decide_approval(&self, d: ApprovalDecision) -> StoreResult<bool> {
        let a = &d.approval;
        let mut tx = self.tx().await?;
        let n = sqlx::query(
            "UPDATE approvals SET status = $2, payload = $3, decision_note = $4,
                decided_by_user_id = $5, decided_at = $6, updated_at = $7
             WHERE id = $1 AND status = ANY($8)",
        )
        .bind(a.id)
        .bind(&a.status)
        .bind(&a.payload)
        .bind(&a.decision_note)
        .bind(&a.decided_by_user_id)
        .bind(a.decided_at)
        .bind(a.updated_at)
        .bind(&d.from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        let hire = match d.hire {
            Some(HireOutcome::Activate(agent)) => Some(("idle", agent)),
            Some(HireOutcome::Terminate(agent)) => Some(("terminated", agent)),
            None => None,
        };
        if let Some((status, agent)) = hire {
            sqlx::query(
                "UPDATE agents SET status = $2, updated_at = $3
                 WHERE id = $1 AND status = 'pending_approval'",
            )
            .bind(agent)
            .bind(status)
            .bind(a.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        activity::insert(&mut tx, &d.activity).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn approval_issues(&self, approval_id: Uuid) -> StoreResult<Vec<Issue>> {
        let found = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM issue_approvals l JOIN issues i ON i.id = l.issue_id
             WHERE l.approval_id = $1 ORDER BY l.created_at, l.issue_id",
            rows::issue_columns_of("i")
        )))
        .bind(approval_id)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        Ok(found.iter().map(rows::issue).collect::<R<_>>()?)
    }

    async fn insert_approval_comment(
        &self,
        cm: ApprovalCommentRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        sqlx::query(
            "INSERT INTO approval_comments (id, company_id, approval_id, author_agent_id,
                author_user_id, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(cm.id)
        .bind(cm.company_id)
        .bind(cm.approval_id)
        .bind(cm.author_agent_id)
        .bind(&cm.author_user_id)
        .bind(&cm.body)
        .bind(cm.created_at)
        .bind(cm.updated_at)
        .execute(&mut *tx)
        .await?;
        activity::insert(&mut tx, &act).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_approval_comments(
        &self,
        approval_id: Uuid,
    ) -> StoreResult<Vec<ApprovalCommentRecord>> {
        let found = sqlx::query(
            "SELECT * FROM approval_comments WHERE approval_id = $1 ORDER BY created_at, id",
        )
        .bind(approval_id)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        Ok(found.iter().map(comment_from).collect::<R<_>>()?)
    }

    async fn has_approval(
        &self,
        company_id: Uuid,
        approval_type: String,
        status: String,
    ) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM approvals
                WHERE company_id = $1 AND type = $2 AND status = $3)",
        )
        .bind(company_id)
        .bind(approval_type)
        .bind(status)
        .fetch_one(&mut *self.conn().await?)
        .await?)
    }
}

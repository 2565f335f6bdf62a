//! Approvals, their comments and issue links (SQLite).

use async_trait::async_trait;
use paperclip_shared::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::codec::*;
use super::{SqliteStore, activity, agents, issues};
use crate::store::*;

fn approval_from(r: &Row) -> rusqlite::Result<ApprovalRecord> {
    Ok(ApprovalRecord {
        id: get_uuid(r, "id")?,
        company_id: get_uuid(r, "company_id")?,
        approval_type: r.get("type")?,
        requested_by_agent_id: get_opt_uuid(r, "requested_by_agent_id")?,
        requested_by_user_id: r.get("requested_by_user_id")?,
        status: r.get("status")?,
        payload: get_json(r, "payload")?,
        decision_note: r.get("decision_note")?,
        decided_by_user_id: r.get("decided_by_user_id")?,
        decided_at: get_opt_ts(r, "decided_at")?,
        created_at: get_ts(r, "created_at")?,
        updated_at: get_ts(r, "updated_at")?,
    })
}

fn comment_from(r: &Row) -> rusqlite::Result<ApprovalCommentRecord> {
    Ok(ApprovalCommentRecord {
        id: get_uuid(r, "id")?,
        company_id: get_uuid(r, "company_id")?,
        approval_id: get_uuid(r, "approval_id")?,
        author_agent_id: get_opt_uuid(r, "author_agent_id")?,
        author_user_id: r.get("author_user_id")?,
        body: r.get("body")?,
        created_at: get_ts(r, "created_at")?,
        updated_at: get_ts(r, "updated_at")?,
    })
}

fn insert(c: &Connection, a: &ApprovalRecord) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO approvals (id, company_id, type, requested_by_agent_id, requested_by_user_id,
            status, payload, decision_note, decided_by_user_id, decided_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        id(a.id),
        id(a.company_id),
        a.approval_type,
        opt_id(a.requested_by_agent_id),
        a.requested_by_user_id,
        a.status,
        json(&a.payload),
        a.decision_note,
        a.decided_by_user_id,
        opt_ts(a.decided_at),
        ts(a.created_at),
        ts(a.updated_at),
    ])?;
    Ok(())
}

fn decide(c: &Connection, d: &ApprovalDecision) -> rusqlite::Result<bool> {
    let a = &d.approval;
    let from: Vec<String> = d
        .from
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "")))
        .collect();
    let n = c.execute(
        &format!(
            "UPDATE approvals SET status = ?2, payload = ?3, decision_note = ?4,
                decided_by_user_id = ?5, decided_at = ?6, updated_at = ?7
             WHERE id = ?1 AND status IN ({})",
            from.join(", ")
        ),
        params![
            id(a.id),
            a.status,
            json(&a.payload),
            a.decision_note,
            a.decided_by_user_id,
            opt_ts(a.decided_at),
            ts(a.updated_at),
        ],
    )?;
    if n == 0 {
        return Ok(false);
    }
    match d.hire {
        Some(HireOutcome::Activate(agent)) => {
            c.execute(
                "UPDATE agents SET status = 'idle', updated_at = ?2
                 WHERE id = ?1 AND status = 'pending_approval'",
                params![id(agent), ts(a.updated_at)],
            )?;
        }
        Some(HireOutcome::Terminate(agent)) => {
            c.execute(
                "UPDATE agents SET status = 'terminated', updated_at = ?2
                 WHERE id = ?1 AND status = 'pending_approval'",
                params![id(agent), ts(a.updated_at)],
            )?;
        }
        None => {}
    }
    activity::insert(c, &d.activity)?;
    Ok(true)
}

#[async_trait]
impl ApprovalStore for SqliteStore {
    async fn insert_approval(
        &self,
        approval: ApprovalRecord,
        issue_ids: Vec<Uuid>,
        hired: Option<Agent>,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            if let Some(agent) = &hired {
                agents::save_agent(tx, agent)?;
            }
            insert(tx, &approval)?;
            for issue in &issue_ids {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO issue_approvals (company_id, issue_id, approval_id,
                        linked_by_agent_id, linked_by_user_id, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    id(approval.company_id),
                    id(*issue),
                    id(approval.id),
                    opt_id(approval.requested_by_agent_id),
                    approval.requested_by_user_id,
                    ts(approval.created_at),
                ])?;
            }
            activity::insert(tx, &act)
        })
        .await
    }

    async fn get_approval(&self, approval_id: Uuid) -> StoreResult<Option<ApprovalRecord>> {
        self.read(move |c| {
            c.prepare_cached("SELECT * FROM approvals WHERE id = ?1")?
                .query_row(params![id(approval_id)], approval_from)
                .optional()
        })
        .await
    }

    async fn list_approvals(
        &self,
        company_id: Uuid,
        status: Option<String>,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT * FROM approvals WHERE company_id = ?1 AND (?2 IS NULL OR status = ?2)
                 ORDER BY created_at DESC, id",
            )?
            .query_map(params![id(company_id), status], approval_from)?
            .collect()
        })
        .await
    }

    async fn decide_approval(&self, decision: ApprovalDecision) -> StoreResult<bool> {
        self.write(move |tx| decide(tx, &decision)).await
    }

    async fn approval_issues(&self, approval_id: Uuid) -> StoreResult<Vec<Issue>> {
        self.read(move |c| {
            let ids: Vec<String> = c
                .prepare_cached(
                    "SELECT issue_id FROM issue_approvals WHERE approval_id = ?1
                     ORDER BY created_at, issue_id",
                )?
                .query_map(params![id(approval_id)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for issue in ids {
                if let Ok(uuid) = Uuid::parse_str(&issue)
                    && let Some(i) = issues::get(c, uuid)?
                {
                    out.push(i);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn insert_approval_comment(
        &self,
        cm: ApprovalCommentRecord,
        act: Vec<ActivityEntry>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO approval_comments (id, company_id, approval_id, author_agent_id,
                    author_user_id, body, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                id(cm.id),
                id(cm.company_id),
                id(cm.approval_id),
                opt_id(cm.author_agent_id),
                cm.author_user_id,
                cm.body,
                ts(cm.created_at),
                ts(cm.updated_at),
            ])?;
            activity::insert(tx, &act)
        })
        .await
    }

    async fn list_approval_comments(
        &self,
        approval_id: Uuid,
    ) -> StoreResult<Vec<ApprovalCommentRecord>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT * FROM approval_comments WHERE approval_id = ?1 ORDER BY created_at, id",
            )?
            .query_map(params![id(approval_id)], comment_from)?
            .collect()
        })
        .await
    }

    async fn has_approval(
        &self,
        company_id: Uuid,
        approval_type: String,
        status: String,
    ) -> StoreResult<bool> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM approvals
                    WHERE company_id = ?1 AND type = ?2 AND status = ?3)",
            )?
            .query_row(params![id(company_id), approval_type, status], |r| r.get(0))
        })
        .await
    }
}

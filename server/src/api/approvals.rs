//! Approvals: the board's decisions (hires, the CEO's strategy, what agents ask for, budget
//! overrides), their comments and linked issues; and `agent-hires`, which asks for a hire.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paperclip_shared::*;
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{Body, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::domain::approvals::{
    AddApprovalComment, CreateApproval, DecideApproval, Decision, ResubmitApproval, approval_json,
    comment_json,
};

const NOT_FOUND: &str = "Approval not found";

/// The company's approvals, newest first (`?status=pending|revision_requested|approved|
/// rejected|cancelled`).
#[utoipa::path(get, path = "/api/companies/{companyId}/approvals", tag = "approvals",
    params(("companyId" = String, Path), ("status" = Option<String>, Query)),
    responses((status = 200, description = "bare array of approvals"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Vec<Value>>> {
    let company_id = path_id(&id, "Company not found")?;
    let list = s
        .domain
        .list_approvals(&who, company_id, q.get("status"))
        .await?;
    Ok(Json(list.iter().map(approval_json).collect()))
}

/// Ask the board for a decision.
#[utoipa::path(post, path = "/api/companies/{companyId}/approvals", tag = "approvals",
    params(("companyId" = String, Path)), request_body = CreateApproval,
    responses((status = 201, description = "the approval, pending"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateApproval>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let company_id = path_id(&id, "Company not found")?;
    let approval = s.domain.create_approval(&who, company_id, input).await?;
    Ok((StatusCode::CREATED, Json(approval_json(&approval))))
}

/// Hire an agent: where the company requires board approval, the agent waits in
/// `pending_approval` with a `hire_agent` approval; otherwise `approval` is null.
#[utoipa::path(post, path = "/api/companies/{companyId}/agent-hires", tag = "approvals",
    params(("companyId" = String, Path)), request_body = CreateAgent,
    responses((status = 201, description = "{agent, approval}"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn hire(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateAgent>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let company_id = path_id(&id, "Company not found")?;
    let (agent, approval) = s.domain.hire_agent(&who, company_id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"agent": agent, "approval": approval.as_ref().map(approval_json)})),
    ))
}

#[utoipa::path(get, path = "/api/approvals/{approvalId}", tag = "approvals",
    params(("approvalId" = String, Path)),
    responses((status = 200, description = "the approval"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let approval = s
        .domain
        .get_approval(&who, path_id(&id, NOT_FOUND)?)
        .await?;
    Ok(Json(approval_json(&approval)))
}

/// The issues the approval concerns (a bare array).
#[utoipa::path(get, path = "/api/approvals/{approvalId}/issues", tag = "approvals",
    params(("approvalId" = String, Path)),
    responses((status = 200, body = [Issue]), (status = 404, body = ErrorBody)))]
pub async fn issues(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Issue>>> {
    Ok(Json(
        s.domain
            .approval_issues(&who, path_id(&id, NOT_FOUND)?)
            .await?,
    ))
}

async fn decide(
    s: AppState,
    who: crate::auth::RequestActor,
    id: String,
    decision: Decision,
    input: DecideApproval,
) -> ApiResult<Json<Value>> {
    let approval = s
        .domain
        .decide_approval(&who, path_id(&id, NOT_FOUND)?, decision, input)
        .await?;
    Ok(Json(approval_json(&approval)))
}

/// Approve (board). A hire's agent becomes active; the requester is woken.
#[utoipa::path(post, path = "/api/approvals/{approvalId}/approve", tag = "approvals",
    params(("approvalId" = String, Path)), request_body = DecideApproval,
    responses((status = 200, description = "the approval"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn approve(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<DecideApproval>,
) -> ApiResult<Json<Value>> {
    decide(s, who, id, Decision::Approve, input).await
}

/// Reject (board). A hire's agent is terminated, never activated.
#[utoipa::path(post, path = "/api/approvals/{approvalId}/reject", tag = "approvals",
    params(("approvalId" = String, Path)), request_body = DecideApproval,
    responses((status = 200, description = "the approval"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reject(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<DecideApproval>,
) -> ApiResult<Json<Value>> {
    decide(s, who, id, Decision::Reject, input).await
}

/// Send a pending approval back for revision (board).
#[utoipa::path(post, path = "/api/approvals/{approvalId}/request-revision", tag = "approvals",
    params(("approvalId" = String, Path)), request_body = DecideApproval,
    responses((status = 200, description = "the approval"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_revision(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<DecideApproval>,
) -> ApiResult<Json<Value>> {
    let approval = s
        .domain
        .request_approval_revision(&who, path_id(&id, NOT_FOUND)?, input)
        .await?;
    Ok(Json(approval_json(&approval)))
}

/// Resubmit after a revision was asked for (the requester, or the board).
#[utoipa::path(post, path = "/api/approvals/{approvalId}/resubmit", tag = "approvals",
    params(("approvalId" = String, Path)), request_body = ResubmitApproval,
    responses((status = 200, description = "the approval, pending again"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resubmit(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<ResubmitApproval>,
) -> ApiResult<Json<Value>> {
    let approval = s
        .domain
        .resubmit_approval(&who, path_id(&id, NOT_FOUND)?, input)
        .await?;
    Ok(Json(approval_json(&approval)))
}

#[utoipa::path(get, path = "/api/approvals/{approvalId}/comments", tag = "approvals",
    params(("approvalId" = String, Path)),
    responses((status = 200, description = "bare array of comments, oldest first"), (status = 404, body = ErrorBody)))]
pub async fn list_comments(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    let list = s
        .domain
        .list_approval_comments(&who, path_id(&id, NOT_FOUND)?)
        .await?;
    Ok(Json(list.iter().map(comment_json).collect()))
}

#[utoipa::path(post, path = "/api/approvals/{approvalId}/comments", tag = "approvals",
    params(("approvalId" = String, Path)), request_body = AddApprovalComment,
    responses((status = 201, description = "the comment"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn add_comment(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<AddApprovalComment>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let comment = s
        .domain
        .add_approval_comment(&who, path_id(&id, NOT_FOUND)?, input)
        .await?;
    Ok((StatusCode::CREATED, Json(comment_json(&comment))))
}

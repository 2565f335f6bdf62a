//! Issues: list, create, read, PATCH, checkout/release, comments, heartbeat context.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paperclip_shared::*;
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::extract::{Body, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::domain::{CommentListQuery, ForceReleased, IssueListQuery};

fn statuses(q: &QueryPairs) -> ApiResult<Vec<IssueStatus>> {
    let mut out = Vec::new();
    for list in q.all("status") {
        for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let status = IssueStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request("status", format!("unknown status {s:?}; expected one of backlog, todo, in_progress, in_review, done, blocked, cancelled"))
            })?;
            out.push(status);
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/companies/{companyId}/issues", tag = "issues",
    params(("companyId" = String, Path), ("status" = Option<String>, Query, description = "comma-separated statuses",
               pattern = r"^\s*((backlog|todo|in_progress|in_review|done|blocked|cancelled)\s*)?(,\s*((backlog|todo|in_progress|in_review|done|blocked|cancelled)\s*)?)*$"),
           ("assigneeAgentId" = Option<uuid::Uuid>, Query), ("assigneeUserId" = Option<String>, Query),
           ("projectId" = Option<uuid::Uuid>, Query), ("parentId" = Option<uuid::Uuid>, Query), ("q" = Option<String>, Query),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "default 500; an empty value counts as absent"),
           ("offset" = Option<i64>, Query, minimum = 0, description = "default 0; an empty value counts as absent")),
    responses((status = 200, body = [Issue], description = "newest first; a page shorter than `limit` is the last"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let query = IssueListQuery {
        statuses: statuses(&q)?,
        assignee_agent_id: q.uuid("assigneeAgentId")?,
        assignee_user_id: q
            .get("assigneeUserId")
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        project_id: q.uuid("projectId")?,
        parent_id: match q.uuid("parentId")? {
            Some(p) => Some(p),
            None => q.uuid("parentIssueId")?,
        },
        q: q.get("q").map(str::to_string),
        limit: q.int("limit")?,
        offset: q.int("offset")?,
    };
    let issues = s
        .domain
        .list_issues(&who, path_id(&id, "Company not found")?, query)
        .await?;
    Ok(json_list(&issues))
}

#[utoipa::path(post, path = "/api/companies/{companyId}/issues", tag = "issues", params(("companyId" = String, Path)),
    request_body = CreateIssue,
    responses((status = 201, body = CreatedIssue), (status = 200, body = CreatedIssue, description = "deduplicated by idempotencyKey"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateIssue>,
) -> ApiResult<(StatusCode, Json<CreatedIssue>)> {
    let created = s
        .domain
        .create_issue(&who, path_id(&id, "Company not found")?, input)
        .await?;
    let status = if created.deduplicated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(created)))
}

#[utoipa::path(get, path = "/api/issues/{issueId}", tag = "issues", params(("issueId" = String, Path, description = "UUID or identifier (ACM-12)")),
    responses((status = 200, body = IssueDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
) -> ApiResult<Json<IssueDetail>> {
    Ok(Json(s.domain.issue_detail(&who, &key).await?))
}

#[utoipa::path(patch, path = "/api/issues/{issueId}", tag = "issues", params(("issueId" = String, Path)), request_body = UpdateIssue,
    responses((status = 200, body = UpdatedIssue), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
    headers: HeaderMap,
    Body(input): Body<UpdateIssue>,
) -> ApiResult<Response> {
    let updated = s.domain.update_issue(&who, &key, input).await?;
    let minimal = headers
        .get_all("prefer")
        .iter()
        .any(|v| v.to_str().unwrap_or("").contains("return=minimal"));
    if !minimal {
        return Ok(Json(updated).into_response());
    }
    let receipt = json!({
        "id": updated.issue.id,
        "identifier": updated.issue.identifier,
        "updatedAt": updated.issue.updated_at,
        "changes": updated.changes,
        "comment": updated.comment,
    });
    let mut response = Json(receipt).into_response();
    response.headers_mut().insert(
        "preference-applied",
        HeaderValue::from_static("return=minimal"),
    );
    Ok(response)
}

#[utoipa::path(post, path = "/api/issues/{issueId}/checkout", tag = "issues", params(("issueId" = String, Path)), request_body = CheckoutIssue,
    responses((status = 200, body = Issue), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "checkout_conflict: never retry"), (status = 422, body = ErrorBody)))]
pub async fn checkout(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
    Body(input): Body<CheckoutIssue>,
) -> ApiResult<Json<Issue>> {
    Ok(Json(s.domain.checkout_issue(&who, &key, input).await?))
}

#[utoipa::path(post, path = "/api/issues/{issueId}/release", tag = "issues", params(("issueId" = String, Path)),
    responses((status = 200, body = Issue), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn release(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
) -> ApiResult<Json<Issue>> {
    Ok(Json(s.domain.release_issue(&who, &key).await?))
}

#[utoipa::path(post, path = "/api/issues/{issueId}/admin/force-release", tag = "issues",
    params(("issueId" = String, Path), ("clearAssignee" = Option<bool>, Query, description = "true/1 or false/0")),
    responses((status = 200, body = ForceReleased), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn force_release(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<ForceReleased>> {
    let clear = q.bool("clearAssignee")?.unwrap_or(false);
    Ok(Json(s.domain.force_release_issue(&who, &key, clear).await?))
}

#[utoipa::path(get, path = "/api/issues/{issueId}/comments", tag = "issues",
    params(("issueId" = String, Path), ("after" = Option<uuid::Uuid>, Query), ("afterCommentId" = Option<uuid::Uuid>, Query),
           ("order" = Option<String>, Query, pattern = "^([aA][sS][cC]|[dD][eE][sS][cC])?$", description = "asc, or desc (newest first, the default)"),
           ("limit" = Option<i64>, Query, minimum = 1, description = "at most 1000 are returned; an empty value counts as absent")),
    responses((status = 200, body = [IssueComment]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_comments(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Vec<IssueComment>>> {
    let after = q.uuid("after")?;
    let after_comment_id = q.uuid("afterCommentId")?;
    let ascending = match q.get("order").map(|o| o.to_ascii_lowercase()) {
        None => false,
        Some(o) if o.is_empty() || o == "desc" => false,
        Some(o) if o == "asc" => true,
        Some(_) => {
            return Err(ApiError::bad_request("order", "order must be asc or desc"));
        }
    };
    let query = CommentListQuery {
        after: after.or(after_comment_id),
        ascending,
        limit: q.int("limit")?,
    };
    Ok(Json(s.domain.list_comments(&who, &key, query).await?))
}

#[utoipa::path(post, path = "/api/issues/{issueId}/comments", tag = "issues", params(("issueId" = String, Path)), request_body = CreateComment,
    responses((status = 201, body = IssueComment), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_comment(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
    Body(input): Body<CreateComment>,
) -> ApiResult<(StatusCode, Json<IssueComment>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.domain.add_comment(&who, &key, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/issues/{issueId}/comments/{commentId}", tag = "issues",
    params(("issueId" = String, Path), ("commentId" = String, Path)),
    responses((status = 200, body = IssueComment), (status = 404, body = ErrorBody)))]
pub async fn get_comment(
    State(s): State<AppState>,
    Who(who): Who,
    Path((key, comment)): Path<(String, String)>,
) -> ApiResult<Json<IssueComment>> {
    Ok(Json(
        s.domain
            .get_comment(&who, &key, path_id(&comment, "Comment not found")?)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/issues/{issueId}/heartbeat-context", tag = "issues",
    params(("issueId" = String, Path), ("wakeCommentId" = Option<uuid::Uuid>, Query)),
    responses((status = 200, body = HeartbeatContext), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn heartbeat_context(
    State(s): State<AppState>,
    Who(who): Who,
    Path(key): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<HeartbeatContext>> {
    Ok(Json(
        s.domain
            .heartbeat_context(&who, &key, q.uuid("wakeCommentId")?)
            .await?,
    ))
}

/// A list as a JSON response, serialized into a buffer sized for it up front (a page of issues
/// is tens of kilobytes; growing from axum's 128 bytes reallocated and copied it ten times).
fn json_list<T: serde::Serialize>(items: &[T]) -> Response {
    let mut buf = Vec::with_capacity(items.len() * 1024 + 2);
    match serde_json::to_writer(&mut buf, items) {
        Ok(()) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            buf,
        )
            .into_response(),
        Err(e) => ApiError::from(crate::store::StoreError::Internal(e.to_string())).into_response(),
    }
}

//! Companies, goals, projects, the dashboard and the activity log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paperclip_shared::*;
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{Body, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::store::ActivityFilter;

#[utoipa::path(get, path = "/api/companies", tag = "companies", responses((status = 200, body = [Company])))]
pub async fn list(State(s): State<AppState>, Who(who): Who) -> ApiResult<Json<Vec<Company>>> {
    Ok(Json(s.domain.list_companies(&who).await?))
}

#[utoipa::path(post, path = "/api/companies", tag = "companies", request_body = CreateCompany,
    responses((status = 201, body = Company), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Who(who): Who,
    Body(input): Body<CreateCompany>,
) -> ApiResult<(StatusCode, Json<Company>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.domain.create_company(&who, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/companies/{companyId}", tag = "companies", params(("companyId" = String, Path)),
    responses((status = 200, body = Company), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Company>> {
    Ok(Json(
        s.domain
            .get_company(&who, path_id(&id, "Company not found")?)
            .await?,
    ))
}

#[utoipa::path(patch, path = "/api/companies/{companyId}", tag = "companies", params(("companyId" = String, Path)),
    request_body = UpdateCompany,
    responses((status = 200, body = Company), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<UpdateCompany>,
) -> ApiResult<Json<Company>> {
    Ok(Json(
        s.domain
            .update_company(&who, path_id(&id, "Company not found")?, input)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/companies/{companyId}/archive", tag = "companies", params(("companyId" = String, Path)),
    responses((status = 200, body = Company), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Company>> {
    Ok(Json(
        s.domain
            .archive_company(&who, path_id(&id, "Company not found")?)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/companies/{companyId}", tag = "companies", params(("companyId" = String, Path)),
    responses((status = 200, description = "{\"ok\": true}"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    s.domain
        .delete_company(&who, path_id(&id, "Company not found")?)
        .await?;
    Ok(Json(json!({"ok": true})))
}

#[utoipa::path(get, path = "/api/companies/{companyId}/goals", tag = "goals", params(("companyId" = String, Path)),
    responses((status = 200, body = [Goal]), (status = 404, body = ErrorBody)))]
pub async fn list_goals(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Goal>>> {
    Ok(Json(
        s.domain
            .list_goals(&who, path_id(&id, "Company not found")?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/companies/{companyId}/goals", tag = "goals", params(("companyId" = String, Path)),
    request_body = CreateGoal,
    responses((status = 201, body = Goal), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_goal(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateGoal>,
) -> ApiResult<(StatusCode, Json<Goal>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.domain
                .create_goal(&who, path_id(&id, "Company not found")?, input)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/goals/{goalId}", tag = "goals", params(("goalId" = String, Path)),
    responses((status = 200, body = Goal), (status = 404, body = ErrorBody)))]
pub async fn get_goal(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Goal>> {
    Ok(Json(
        s.domain
            .get_goal(&who, path_id(&id, "Goal not found")?)
            .await?,
    ))
}

#[utoipa::path(patch, path = "/api/goals/{goalId}", tag = "goals", params(("goalId" = String, Path)), request_body = UpdateGoal,
    responses((status = 200, body = Goal), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_goal(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<UpdateGoal>,
) -> ApiResult<Json<Goal>> {
    Ok(Json(
        s.domain
            .update_goal(&who, path_id(&id, "Goal not found")?, input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/goals/{goalId}", tag = "goals", params(("goalId" = String, Path)),
    responses((status = 200, body = Goal), (status = 404, body = ErrorBody)))]
pub async fn delete_goal(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Goal>> {
    Ok(Json(
        s.domain
            .delete_goal(&who, path_id(&id, "Goal not found")?)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/companies/{companyId}/projects", tag = "projects", params(("companyId" = String, Path)),
    responses((status = 200, body = [Project]), (status = 404, body = ErrorBody)))]
pub async fn list_projects(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Project>>> {
    Ok(Json(
        s.domain
            .list_projects(&who, path_id(&id, "Company not found")?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/companies/{companyId}/projects", tag = "projects", params(("companyId" = String, Path)),
    request_body = CreateProject,
    responses((status = 201, body = Project), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_project(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateProject>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.domain
                .create_project(&who, path_id(&id, "Company not found")?, input)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/projects/{projectId}", tag = "projects", params(("projectId" = String, Path)),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Project>> {
    Ok(Json(
        s.domain
            .get_project(&who, path_id(&id, "Project not found")?)
            .await?,
    ))
}

#[utoipa::path(patch, path = "/api/projects/{projectId}", tag = "projects", params(("projectId" = String, Path)),
    request_body = UpdateProject,
    responses((status = 200, body = Project), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_project(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<UpdateProject>,
) -> ApiResult<Json<Project>> {
    Ok(Json(
        s.domain
            .update_project(&who, path_id(&id, "Project not found")?, input)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/companies/{companyId}/activity", tag = "activity",
    params(("companyId" = String, Path), ("agentId" = Option<uuid::Uuid>, Query), ("entityType" = Option<String>, Query),
           ("entityId" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = [ActivityEntry]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn activity(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Vec<ActivityEntry>>> {
    let filter = ActivityFilter {
        company_id: path_id(&id, "Company not found")?,
        agent_id: q.uuid("agentId")?,
        entity_type: q.get("entityType").map(str::to_string),
        entity_id: q.get("entityId").map(str::to_string),
        limit: q.int("limit")?.unwrap_or(limits::ACTIVITY_PAGE_DEFAULT),
        offset: q.int("offset")?.unwrap_or(0),
    };
    Ok(Json(s.domain.list_activity(&who, filter).await?))
}

#[utoipa::path(get, path = "/api/companies/{companyId}/dashboard", tag = "companies", params(("companyId" = String, Path)),
    responses((status = 200, body = Dashboard), (status = 404, body = ErrorBody)))]
pub async fn dashboard(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Dashboard>> {
    Ok(Json(
        s.domain
            .dashboard(&who, path_id(&id, "Company not found")?)
            .await?,
    ))
}

//! Agents, their keys, the org tree, and the agent's own views (`me`, inbox).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paperclip_shared::*;
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{Body, Who, path_id};
use super::state::AppState;

#[utoipa::path(get, path = "/api/companies/{companyId}/agents", tag = "agents", params(("companyId" = String, Path)),
    responses((status = 200, body = [Agent]), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Agent>>> {
    Ok(Json(
        s.domain
            .list_agents(&who, path_id(&id, "Company not found")?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/companies/{companyId}/agents", tag = "agents", params(("companyId" = String, Path)),
    request_body = CreateAgent,
    responses((status = 201, body = Agent), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateAgent>,
) -> ApiResult<(StatusCode, Json<Agent>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.domain
                .create_agent(&who, path_id(&id, "Company not found")?, input)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/companies/{companyId}/org", tag = "agents", params(("companyId" = String, Path)),
    responses((status = 200, body = [OrgNode]), (status = 404, body = ErrorBody)))]
pub async fn org(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<OrgNode>>> {
    Ok(Json(
        s.domain
            .org_tree(&who, path_id(&id, "Company not found")?)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/agents/me", tag = "agents",
    responses((status = 200, body = AgentMe), (status = 401, body = ErrorBody)))]
pub async fn me(State(s): State<AppState>, Who(who): Who) -> ApiResult<Json<AgentMe>> {
    Ok(Json(s.domain.agent_me(&who).await?))
}

#[utoipa::path(get, path = "/api/agents/me/inbox-lite", tag = "agents",
    responses((status = 200, body = [InboxItem]), (status = 401, body = ErrorBody)))]
pub async fn inbox_lite(
    State(s): State<AppState>,
    Who(who): Who,
) -> ApiResult<Json<Vec<InboxItem>>> {
    Ok(Json(s.domain.inbox_lite(&who).await?))
}

#[utoipa::path(get, path = "/api/agents/{agentId}", tag = "agents", params(("agentId" = String, Path)),
    responses((status = 200, body = AgentMe), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<AgentMe>> {
    let agent = s
        .domain
        .get_agent(&who, path_id(&id, "Agent not found")?)
        .await?;
    let chain_of_command = s.domain.chain_of_command(&agent).await?;
    Ok(Json(AgentMe {
        agent,
        chain_of_command,
    }))
}

#[utoipa::path(patch, path = "/api/agents/{agentId}", tag = "agents", params(("agentId" = String, Path)), request_body = UpdateAgent,
    responses((status = 200, body = Agent), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<UpdateAgent>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(
        s.domain
            .update_agent(&who, path_id(&id, "Agent not found")?, input)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/agents/{agentId}/pause", tag = "agents", params(("agentId" = String, Path)), request_body = PauseAgent,
    responses((status = 200, body = Agent), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<PauseAgent>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(
        s.domain
            .set_agent_lifecycle(
                &who,
                path_id(&id, "Agent not found")?,
                AgentStatus::Paused,
                input.reason,
            )
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/agents/{agentId}/resume", tag = "agents", params(("agentId" = String, Path)),
    responses((status = 200, body = Agent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(
        s.domain
            .set_agent_lifecycle(
                &who,
                path_id(&id, "Agent not found")?,
                AgentStatus::Idle,
                None,
            )
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/agents/{agentId}/terminate", tag = "agents", params(("agentId" = String, Path)),
    responses((status = 200, body = Agent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn terminate(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(
        s.domain
            .set_agent_lifecycle(
                &who,
                path_id(&id, "Agent not found")?,
                AgentStatus::Terminated,
                None,
            )
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/agents/{agentId}/keys", tag = "agents", params(("agentId" = String, Path)),
    responses((status = 200, body = [AgentKey]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_keys(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AgentKey>>> {
    Ok(Json(
        s.domain
            .list_agent_keys(&who, path_id(&id, "Agent not found")?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/agents/{agentId}/keys", tag = "agents", params(("agentId" = String, Path)), request_body = CreateAgentKey,
    responses((status = 201, body = CreatedAgentKey), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_key(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateAgentKey>,
) -> ApiResult<(StatusCode, Json<CreatedAgentKey>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.domain
                .create_agent_key(&who, path_id(&id, "Agent not found")?, input)
                .await?,
        ),
    ))
}

#[utoipa::path(delete, path = "/api/agents/{agentId}/keys/{keyId}", tag = "agents",
    params(("agentId" = String, Path), ("keyId" = String, Path)),
    responses((status = 200, description = "{\"ok\": true}"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(s): State<AppState>,
    Who(who): Who,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    s.domain
        .revoke_agent_key(
            &who,
            path_id(&id, "Agent not found")?,
            path_id(&key, "Key not found")?,
        )
        .await?;
    Ok(Json(json!({"ok": true})))
}

//! Costs and budgets: agents (and the board) report usage; the board reads the month's
//! rollups by company, agent and project, and sets monthly budgets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paperclip_shared::*;
use serde_json::Value;

use super::error::ApiResult;
use super::extract::{Body, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::domain::budgets::UpdateBudget;
use crate::domain::costs::{CostPeriod, CreateCostEvent, cost_event_json};

fn period(q: &QueryPairs) -> CostPeriod {
    let text = |k: &str| q.get(k).map(str::to_string);
    CostPeriod {
        month: text("month"),
        from: text("from"),
        to: text("to"),
    }
}

/// Report usage: tokens per model and, when known, its cost. Without a cost (or with a
/// subscription's) the event is `unpriced` and carries an estimate from the price table.
#[utoipa::path(post, path = "/api/companies/{companyId}/cost-events", tag = "costs",
    params(("companyId" = String, Path)), request_body = CreateCostEvent,
    responses((status = 201, description = "the cost event"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_event(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<CreateCostEvent>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let company_id = path_id(&id, "Company not found")?;
    let event = s.domain.create_cost_event(&who, company_id, input).await?;
    Ok((StatusCode::CREATED, Json(cost_event_json(&event))))
}

/// The company's spend for a UTC month (the current one unless `month` or `from`/`to`),
/// reported and estimated, against its budget.
#[utoipa::path(get, path = "/api/companies/{companyId}/costs/summary", tag = "costs",
    params(("companyId" = String, Path), CostPeriod),
    responses((status = 200, description = "the summary"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn summary(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Value>> {
    let company_id = path_id(&id, "Company not found")?;
    let summary = s.domain.cost_summary(&who, company_id, period(&q)).await?;
    Ok(Json(serde_json::to_value(summary).unwrap_or_default()))
}

/// Spend per agent, most first (a bare array).
#[utoipa::path(get, path = "/api/companies/{companyId}/costs/by-agent", tag = "costs",
    params(("companyId" = String, Path), CostPeriod),
    responses((status = 200, description = "bare array, most spend first"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn by_agent(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Vec<Value>>> {
    let company_id = path_id(&id, "Company not found")?;
    Ok(Json(
        s.domain
            .costs_by_agent(&who, company_id, period(&q))
            .await?,
    ))
}

/// Spend per project, most first (a bare array; costs of no project are left out).
#[utoipa::path(get, path = "/api/companies/{companyId}/costs/by-project", tag = "costs",
    params(("companyId" = String, Path), CostPeriod),
    responses((status = 200, description = "bare array, most spend first"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn by_project(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Vec<Value>>> {
    let company_id = path_id(&id, "Company not found")?;
    Ok(Json(
        s.domain
            .costs_by_project(&who, company_id, period(&q))
            .await?,
    ))
}

/// Set the company's monthly budget (board). Raising it resumes agents its hard stop paused.
#[utoipa::path(patch, path = "/api/companies/{companyId}/budgets", tag = "costs",
    params(("companyId" = String, Path)), request_body = UpdateBudget,
    responses((status = 200, body = Company), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn company_budget(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<UpdateBudget>,
) -> ApiResult<Json<Company>> {
    let company_id = path_id(&id, "Company not found")?;
    Ok(Json(
        s.domain
            .update_company_budget(&who, company_id, input)
            .await?,
    ))
}

/// Set an agent's monthly budget (board). Raising it resumes the agent if its budget paused it.
#[utoipa::path(patch, path = "/api/agents/{agentId}/budgets", tag = "costs",
    params(("agentId" = String, Path)), request_body = UpdateBudget,
    responses((status = 200, body = Agent), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn agent_budget(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<UpdateBudget>,
) -> ApiResult<Json<Agent>> {
    let agent_id = path_id(&id, "Agent not found")?;
    Ok(Json(
        s.domain.update_agent_budget(&who, agent_id, input).await?,
    ))
}

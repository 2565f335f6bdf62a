//! Heartbeat runs: waking an agent (invoke, wakeup), reading runs with their log and events,
//! and stopping one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use paperclip_shared::*;

use super::error::ApiResult;
use super::extract::{Body, QueryPairs, Who, path_id};
use super::state::AppState;
use crate::domain::runs::WakeOutcome;

/// 202 with the run, or 202 `{"status":"skipped", …}`.
fn accepted(outcome: WakeOutcome, legacy: bool) -> Response {
    let body = match outcome {
        WakeOutcome::Queued(run) | WakeOutcome::Coalesced(run) => WakeAccepted::Run(Box::new(run)),
        WakeOutcome::Skipped { reason, message } => WakeAccepted::Skipped(WakeSkipped {
            status: SkippedStatus::Skipped,
            reason: (!legacy).then_some(reason),
            message: (!legacy).then_some(message),
        }),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

#[utoipa::path(post, path = "/api/agents/{agentId}/heartbeat/invoke", tag = "runs", params(("agentId" = String, Path)),
    request_body = WakeAgent,
    responses((status = 202, body = WakeAccepted), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invoke(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<WakeAgent>,
) -> ApiResult<Response> {
    let outcome = s
        .domain
        .wake_agent(&who, path_id(&id, "Agent not found")?, input, true)
        .await?;
    Ok(accepted(outcome, true))
}

#[utoipa::path(post, path = "/api/agents/{agentId}/wakeup", tag = "runs", params(("agentId" = String, Path)),
    request_body = WakeAgent,
    responses((status = 202, body = WakeAccepted), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn wakeup(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<WakeAgent>,
) -> ApiResult<Response> {
    let outcome = s
        .domain
        .wake_agent(&who, path_id(&id, "Agent not found")?, input, false)
        .await?;
    Ok(accepted(outcome, false))
}

#[utoipa::path(get, path = "/api/companies/{companyId}/heartbeat-runs", tag = "runs",
    params(("companyId" = String, Path), ("agentId" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = [HeartbeatRun]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Vec<HeartbeatRun>>> {
    Ok(Json(
        s.domain
            .list_runs(
                &who,
                path_id(&id, "Company not found")?,
                q.uuid("agentId")?,
                q.int("limit")?,
            )
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/heartbeat-runs/{runId}", tag = "runs", params(("runId" = String, Path)),
    responses((status = 200, body = HeartbeatRun), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<HeartbeatRun>> {
    Ok(Json(
        s.domain
            .get_run(&who, path_id(&id, "Heartbeat run not found")?)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/heartbeat-runs/{runId}/log", tag = "runs",
    params(("runId" = String, Path), ("offset" = Option<i64>, Query), ("limitBytes" = Option<i64>, Query)),
    responses((status = 200, body = RunLog), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn log(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let log = s
        .domain
        .run_log(
            &who,
            path_id(&id, "Heartbeat run not found")?,
            q.int("offset")?,
            q.int("limitBytes")?,
        )
        .await?;
    let mut response = Json(log).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/api/heartbeat-runs/{runId}/events", tag = "runs",
    params(("runId" = String, Path), ("afterSeq" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = [RunEvent]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Json<Vec<RunEvent>>> {
    Ok(Json(
        s.domain
            .run_events(
                &who,
                path_id(&id, "Heartbeat run not found")?,
                q.int("afterSeq")?,
                q.int("limit")?,
            )
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/heartbeat-runs/{runId}/cancel", tag = "runs", params(("runId" = String, Path)),
    responses((status = 200, body = HeartbeatRun), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
) -> ApiResult<Json<HeartbeatRun>> {
    Ok(Json(
        s.domain
            .cancel_run(&who, path_id(&id, "Heartbeat run not found")?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/heartbeat-runs/{runId}/callback", tag = "runs", params(("runId" = String, Path)),
    request_body = RunCallback,
    responses((status = 200, body = HeartbeatRun), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn callback(
    State(s): State<AppState>,
    Who(who): Who,
    Path(id): Path<String>,
    Body(input): Body<RunCallback>,
) -> ApiResult<Json<HeartbeatRun>> {
    Ok(Json(
        s.domain
            .report_run(&who, path_id(&id, "Heartbeat run not found")?, input)
            .await?,
    ))
}

//! A company's people: list (owners), change a role or status, archive. `memberId` is the
//! list's `id` (`<companyId>:<userId>`) or the bare user id.

use axum::Json;
use axum::extract::{Path, State};
use paperclip_shared::ErrorBody;
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::{Body, Who, path_id};
use super::state::AppState;
use crate::domain::members::{ArchiveMember, UpdateMember, member_user_id};
use crate::store::MembershipRecord;

fn member_json(m: &MembershipRecord) -> Value {
    json!({
        "id": format!("{}:{}", m.company_id, m.user.id), "companyId": m.company_id,
        "principalType": "user", "principalId": m.user.id, "status": m.status,
        "membershipRole": m.role, "createdAt": m.created_at, "updatedAt": m.updated_at,
        "user": {"id": m.user.id, "email": m.user.email, "name": m.user.name, "image": null},
    })
}

/// The company's people, archived ones left out (owners).
#[utoipa::path(get, path = "/api/companies/{companyId}/members", tag = "access",
    params(("companyId" = String, Path)),
    responses((status = 200, description = "bare array of members"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    Who(who): Who,
    Path(company_id): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    let company_id = path_id(&company_id, "Company not found")?;
    let members = state.domain.list_members(&who, company_id).await?;
    Ok(Json(members.iter().map(member_json).collect()))
}

/// Change a member's role or status (owners; not your own; the last active owner stays: 409).
#[utoipa::path(patch, path = "/api/companies/{companyId}/members/{memberId}", tag = "access",
    params(("companyId" = String, Path), ("memberId" = String, Path)), request_body = UpdateMember,
    responses((status = 200, description = "the member"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_member(
    State(state): State<AppState>,
    Who(who): Who,
    Path((company_id, member_id)): Path<(String, String)>,
    Body(input): Body<UpdateMember>,
) -> ApiResult<Json<Value>> {
    let company_id = path_id(&company_id, "Company not found")?;
    let user_id = member_user_id(company_id, &member_id)?;
    let member = state
        .domain
        .update_member(&who, company_id, &user_id, input)
        .await?;
    Ok(Json(member_json(&member)))
}

/// Remove a member from the company (archive): their open issues go to the reassignment
/// target, or are unassigned; in-progress ones return to `todo`.
#[utoipa::path(post, path = "/api/companies/{companyId}/members/{memberId}/archive", tag = "access",
    params(("companyId" = String, Path), ("memberId" = String, Path)), request_body = ArchiveMember,
    responses((status = 200, description = "{member, reassignedIssueCount}"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn archive_member(
    State(state): State<AppState>,
    Who(who): Who,
    Path((company_id, member_id)): Path<(String, String)>,
    Body(input): Body<ArchiveMember>,
) -> ApiResult<Json<Value>> {
    let company_id = path_id(&company_id, "Company not found")?;
    let user_id = member_user_id(company_id, &member_id)?;
    let (member, reassigned) = state
        .domain
        .archive_member(&who, company_id, &user_id, input)
        .await?;
    Ok(Json(json!({
        "member": member_json(&member),
        "reassignedIssueCount": reassigned,
    })))
}

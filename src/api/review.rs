//! The security review queue (security reviewers only, checked here on the server).
use crate::error::AppError;
use crate::model::{ReviewOutcome, ReviewQueue, RiskTier};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "review_queue")]
pub async fn get_review_queue(
    risk: Option<RiskTier>,
    assignee: Option<String>,
    breached: Option<bool>,
) -> Result<ReviewQueue, AppError> {
    use crate::model::Permission;
    use crate::server::auth;
    use crate::server::services::review::{queue, AssigneeFilter};
    let user = auth::require(Permission::Adjudicate).await?;
    let state = auth::state()?;
    let filter = match assignee.as_deref() {
        Some("me") => AssigneeFilter::Me,
        Some("unassigned") => AssigneeFilter::Unassigned,
        _ => AssigneeFilter::Anyone,
    };
    queue(
        &state.db,
        &user,
        &state.config.business_calendar,
        risk,
        filter,
        breached.unwrap_or(false),
    )
    .await
}

#[server(prefix = "/api", endpoint = "claim_review")]
pub async fn claim_review(item_id: i64) -> Result<(), AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::Adjudicate).await?;
    services::review::claim(&auth::state()?.db, &user, item_id).await
}

#[server(prefix = "/api", endpoint = "release_review")]
pub async fn release_review(item_id: i64) -> Result<(), AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::Adjudicate).await?;
    services::review::release(&auth::state()?.db, &user, item_id).await
}

#[server(prefix = "/api", endpoint = "decide_review")]
pub async fn decide_review(
    item_id: i64,
    outcome: ReviewOutcome,
    reason_code: String,
    rationale: String,
) -> Result<String, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::Adjudicate).await?;
    services::review::decide(
        &auth::state()?,
        &user,
        item_id,
        outcome,
        &reason_code,
        &rationale,
    )
    .await
}

#[server(prefix = "/api", endpoint = "approve_override")]
pub async fn approve_override(item_id: i64) -> Result<(), AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::Adjudicate).await?;
    services::review::approve(&auth::state()?.db, &user, item_id).await
}

#[server(prefix = "/api", endpoint = "reassign_review")]
pub async fn reassign_review(item_id: i64, reviewer_id: i64) -> Result<(), AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::Adjudicate).await?;
    services::review::reassign(&auth::state()?.db, &user, item_id, reviewer_id).await
}

/// The review reason codes (admins manage them; reviewers choose from them).
#[server(prefix = "/api", endpoint = "reason_codes")]
pub async fn list_reason_codes() -> Result<Vec<(String, String)>, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, db};
    let user = auth::current_user()
        .await?
        .ok_or(AppError::Unauthenticated)?;
    // Admins manage the codes; security reviewers choose from them (decisions, exceptions).
    if !(user.role.can(Permission::ManageSettings) || user.role.can(Permission::Adjudicate)) {
        return Err(AppError::Forbidden);
    }
    Ok(db::review::reason_codes(&auth::state()?.db).await?)
}

#[server(prefix = "/api", endpoint = "add_reason_code")]
pub async fn add_reason_code(code: String, label: String) -> Result<(), AppError> {
    use crate::model::{check_reason_code, AuditEventType, Permission};
    use crate::server::audit::{Actor, NewAuditEvent};
    use crate::server::{auth, db};
    let user = auth::require(Permission::ManageSettings).await?;
    let (code, label) = (code.trim().to_string(), label.trim().to_string());
    check_reason_code(&code, &label).map_err(AppError::BadRequest)?;
    let audit = NewAuditEvent::new(
        Actor::from(&user),
        "reason_code",
        &code,
        AuditEventType::ReasonCodeAdded,
        serde_json::json!({ "code": code, "label": label }),
    );
    if !db::review::add_reason_code(&auth::state()?.db, &code, &label, &user.name, &audit).await? {
        return Err(AppError::Conflict(format!(
            "The reason code '{code}' exists already."
        )));
    }
    Ok(())
}

//! The security review queue (security reviewers only, checked by the review service).
use crate::error::AppError;
use crate::model::{ReviewOutcome, ReviewQueue, RiskTier};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "review_queue")]
pub async fn get_review_queue(
    risk: Option<RiskTier>,
    assignee: Option<String>,
    breached: Option<bool>,
) -> Result<ReviewQueue, AppError> {
    use crate::server::auth;
    use crate::server::services::review::{queue, QueueFilter};
    let filter = QueueFilter::from_query(risk, assignee.as_deref(), breached);
    queue(&auth::state()?, &auth::user().await?, filter).await
}

#[server(prefix = "/api", endpoint = "claim_review")]
pub async fn claim_review(item_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::review::claim(&auth::state()?.db, &auth::user().await?, item_id).await
}

#[server(prefix = "/api", endpoint = "release_review")]
pub async fn release_review(item_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::review::release(&auth::state()?.db, &auth::user().await?, item_id).await
}

#[server(prefix = "/api", endpoint = "decide_review")]
pub async fn decide_review(
    item_id: i64,
    outcome: ReviewOutcome,
    reason_code: String,
    rationale: String,
) -> Result<String, AppError> {
    use crate::server::{auth, services};
    let (state, user) = (auth::state()?, auth::user().await?);
    services::review::decide(&state, &user, item_id, outcome, &reason_code, &rationale).await
}

#[server(prefix = "/api", endpoint = "approve_override")]
pub async fn approve_override(item_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::review::approve(&auth::state()?.db, &auth::user().await?, item_id).await
}

#[server(prefix = "/api", endpoint = "reassign_review")]
pub async fn reassign_review(item_id: i64, reviewer_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    let (state, user) = (auth::state()?, auth::user().await?);
    services::review::reassign(&state.db, &user, item_id, reviewer_id).await
}

/// The review reason codes (admins manage them; reviewers choose from them).
#[server(prefix = "/api", endpoint = "reason_codes")]
pub async fn list_reason_codes() -> Result<Vec<(String, String)>, AppError> {
    use crate::server::{auth, services};
    services::review::reason_codes(&auth::state()?.db, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "add_reason_code")]
pub async fn add_reason_code(code: String, label: String) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::review::add_reason_code(&auth::state()?.db, &auth::user().await?, &code, &label).await
}

//! Reconciliation and the drift report (admins and security reviewers).
use crate::error::AppError;
use crate::model::{DriftReport, ReconcileOutcome};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "run_reconciliation")]
pub async fn run_reconciliation() -> Result<ReconcileOutcome, AppError> {
    use crate::server::{auth, services};
    services::reconciliation::run_for(&auth::state()?, &auth::user().await?, None).await
}

#[server(prefix = "/api", endpoint = "reconcile_candidate")]
pub async fn reconcile_candidate(candidate_id: i64) -> Result<ReconcileOutcome, AppError> {
    use crate::server::{auth, services};
    let (state, user) = (auth::state()?, auth::user().await?);
    services::reconciliation::run_for(&state, &user, Some(candidate_id)).await
}

#[server(prefix = "/api", endpoint = "drift_report")]
pub async fn get_drift_report() -> Result<DriftReport, AppError> {
    use crate::server::{auth, services};
    services::reconciliation::drift_report(&auth::state()?, &auth::user().await?).await
}

/// Sessions, last webhook and deliveries of one candidate, for support.
#[server(prefix = "/api", endpoint = "support_view")]
pub async fn support_view(candidate_id: i64) -> Result<crate::model::SupportView, AppError> {
    use crate::server::{auth, services};
    services::deliveries::support(&auth::state()?.db, &auth::user().await?, candidate_id).await
}

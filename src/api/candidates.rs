//! The candidate list, profile and stage moves.
use crate::error::AppError;
use crate::model::{CandidatePage, CandidateProfile, JobSummary, Stage, VerificationPanel};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "list_candidates")]
pub async fn list_candidates(
    search: Option<String>,
    job_id: Option<i64>,
    stage: Option<Stage>,
    status: Option<crate::model::VerificationStatus>,
    risk: Option<crate::model::RiskTier>,
    #[server(default)] integrity: Option<crate::model::IntegrityFilter>,
    before: Option<i64>,
) -> Result<CandidatePage, AppError> {
    use crate::server::{auth, services};
    let query = crate::model::CandidateQuery {
        search,
        job_id,
        stage,
        status,
        risk,
        integrity,
        before,
    };
    services::candidates::list(&auth::state()?, &auth::user().await?, &query).await
}

#[server(prefix = "/api", endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobSummary>, AppError> {
    use crate::server::{auth, services};
    services::candidates::jobs(&auth::state()?.db, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "get_candidate")]
pub async fn get_candidate(id: i64) -> Result<CandidateProfile, AppError> {
    use crate::server::{auth, services};
    services::candidates::profile(&auth::state()?, &auth::user().await?, id).await
}

#[server(prefix = "/api", endpoint = "move_stage")]
pub async fn move_stage(application_id: i64, stage: Stage) -> Result<Stage, AppError> {
    use crate::server::{auth, services};
    services::candidates::move_stage(&auth::state()?, &auth::user().await?, application_id, stage)
        .await
}

#[server(prefix = "/api", endpoint = "send_verification")]
pub async fn send_verification(candidate_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::verification::request(&auth::state()?, &auth::user().await?, candidate_id).await
}

/// The verification panel alone, polled by an open profile so webhooks show without a reload.
#[server(prefix = "/api", endpoint = "verification_panel")]
pub async fn get_verification_panel(candidate_id: i64) -> Result<VerificationPanel, AppError> {
    use crate::server::{auth, services};
    services::candidates::verification_panel(&auth::state()?, &auth::user().await?, candidate_id)
        .await
}

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
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::ViewCandidates).await?;
    let query = crate::model::CandidateQuery {
        search,
        job_id,
        stage,
        status,
        risk,
        integrity,
        before,
    };
    let state = auth::state()?;
    services::candidates::list(&state.db, &state.list_cache, &user, &query).await
}

#[server(prefix = "/api", endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobSummary>, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::ViewCandidates).await?;
    services::candidates::jobs(&auth::state()?.db, &user).await
}

#[server(prefix = "/api", endpoint = "get_candidate")]
pub async fn get_candidate(id: i64) -> Result<CandidateProfile, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::ViewCandidates).await?;
    let state = auth::state()?;
    services::candidates::profile(&state.db, &user, id, &state.config.business_calendar).await
}

#[server(prefix = "/api", endpoint = "move_stage")]
pub async fn move_stage(application_id: i64, stage: Stage) -> Result<Stage, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::MoveStage).await?;
    services::candidates::move_stage(&auth::state()?, &user, application_id, stage).await
}

#[server(prefix = "/api", endpoint = "send_verification")]
pub async fn send_verification(candidate_id: i64) -> Result<(), AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::RequestVerification).await?;
    services::verification::request(&auth::state()?, &user, candidate_id).await
}

/// The verification panel alone, polled by an open profile so webhooks show without a reload.
#[server(prefix = "/api", endpoint = "verification_panel")]
pub async fn get_verification_panel(candidate_id: i64) -> Result<VerificationPanel, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::ViewCandidates).await?;
    Ok(services::candidates::profile(
        &auth::state()?.db,
        &user,
        candidate_id,
        &auth::state()?.config.business_calendar,
    )
    .await?
    .verification)
}

//! Policies (admins), stage exceptions (security reviewers grant; everyone who sees the candidate reads).
use crate::error::AppError;
use crate::model::{PolicyProblem, PolicySaveResult, PolicyVersion, Stage, StageException};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "list_policies")]
pub async fn list_policies() -> Result<Vec<String>, AppError> {
    use crate::server::{auth, services};
    services::policy::names(&auth::state()?, &auth::user().await?).await
}

/// Every version of one policy, newest first.
#[server(prefix = "/api", endpoint = "policy_versions")]
pub async fn policy_versions(name: String) -> Result<Vec<PolicyVersion>, AppError> {
    use crate::server::{auth, services};
    services::policy::versions(&auth::state()?, &auth::user().await?, &name).await
}

/// Validates a policy text without saving it.
#[server(prefix = "/api", endpoint = "check_policy")]
pub async fn check_policy(name: String, yaml: String) -> Result<Vec<PolicyProblem>, AppError> {
    use crate::server::{auth, services};
    services::policy::check_for(&auth::user().await?, &name, &yaml)
}

/// Saves a new version; an invalid text is refused with its problems and nothing is saved.
#[server(prefix = "/api", endpoint = "save_policy")]
pub async fn save_policy(
    name: String,
    yaml: String,
    #[server(default)] change_ticket: Option<String>,
) -> Result<PolicySaveResult, AppError> {
    use crate::server::{auth, services};
    let (state, user) = (auth::state()?, auth::user().await?);
    services::policy::save(&state, &user, &name, &yaml, change_ticket).await
}

#[server(prefix = "/api", endpoint = "grant_exception")]
pub async fn grant_exception(
    candidate_id: i64,
    stage: Stage,
    reason_code: String,
    hours: i64,
    #[server(default)] job_id: Option<i64>,
) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    let grant = services::policy::Grant {
        candidate_id,
        job_id,
        stage,
        reason_code,
        hours,
    };
    services::policy::grant_exception(&auth::state()?, &auth::user().await?, grant).await
}

/// The exceptions in force for a candidate (hiring managers: only their jobs' candidates).
#[server(prefix = "/api", endpoint = "stage_exceptions")]
pub async fn stage_exceptions(candidate_id: i64) -> Result<Vec<StageException>, AppError> {
    use crate::server::{auth, services};
    services::policy::exceptions_for(&auth::state()?.db, &auth::user().await?, candidate_id).await
}

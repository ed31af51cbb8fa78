//! The admin's badge integrations (Settings page). The ATS side is `POST /api/v1/embed-tokens`.
use crate::error::AppError;
use crate::model::IntegrationSummary;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "list_integrations")]
pub async fn list_integrations() -> Result<Vec<IntegrationSummary>, AppError> {
    use crate::server::{auth, services};
    services::embed::summaries(&auth::state()?, &auth::user().await?).await
}

/// `origins`: one per line. Returns the API key, shown once.
#[server(prefix = "/api", endpoint = "create_integration")]
pub async fn create_integration(
    name: String,
    origins: String,
    token_hours: i64,
    #[server(default)] days: Option<i64>,
) -> Result<String, AppError> {
    use crate::server::{auth, services};
    let input = services::embed::IntegrationInput {
        name,
        origins: origins
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        expires_in_days: days,
        token_ttl_hours: token_hours,
    };
    services::embed::create_by_admin(&auth::state()?, &auth::user().await?, &input).await
}

#[server(prefix = "/api", endpoint = "revoke_integration")]
pub async fn revoke_integration(id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::embed::revoke_by_admin(&auth::state()?, &auth::user().await?, id).await
}

#[server(prefix = "/api", endpoint = "rotate_integration")]
pub async fn rotate_integration(id: i64) -> Result<String, AppError> {
    use crate::server::{auth, services};
    services::embed::rotate_by_admin(&auth::state()?, &auth::user().await?, id).await
}

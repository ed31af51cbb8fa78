//! Outbound deliveries and unmatched partner events, for admins.
use crate::error::AppError;
use crate::model::DeliveriesView;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "list_deliveries")]
pub async fn list_deliveries() -> Result<DeliveriesView, AppError> {
    use crate::server::{auth, services};
    services::deliveries::view(&auth::state()?.db, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "replay_delivery")]
pub async fn replay_delivery(job_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::deliveries::replay(&auth::state()?.db, &auth::user().await?, job_id).await
}

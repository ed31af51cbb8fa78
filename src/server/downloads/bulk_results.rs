//! `GET /bulk/{id}/results.csv`: every candidate of a bulk job with its outcome (who may: those
//! who may see the job — services::bulk).
use crate::server::auth::SignedIn;
use crate::server::services;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::response::Response;

pub async fn download(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Response {
    super::csv_response(services::bulk::results_csv(&state, &user, id).await)
}

//! `POST /webhooks/background-checks/{token}`: the partner's result updates (seed 000).
use super::refused;
use crate::server::db::{self, background::UpdateOutcome};
use crate::server::services::background::receive_result;
use crate::server::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub async fn receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    // Runs to its end even if the partner hangs up half-way.
    let db = state.db.clone();
    match db::detached(async move { receive_result(&db, &token, &body).await }).await {
        Ok(outcome) => {
            let status = match outcome {
                UpdateOutcome::Applied => "applied",
                UpdateOutcome::Duplicate => "duplicate",
                UpdateOutcome::Stale => "stale",
            };
            crate::server::services::metrics::webhook_received(SOURCE, status);
            (
                StatusCode::OK,
                Json(serde_json::json!({ "status": status })),
            )
                .into_response()
        }
        Err(refusal) => refused("a background-check update", SOURCE, refusal),
    }
}

/// This webhook's `source` in metrics.
const SOURCE: &str = "background_check";

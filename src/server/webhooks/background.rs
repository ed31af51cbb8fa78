//! `POST /webhooks/background-checks/{token}`: the partner's result updates (seed 000), and partner logos.
use crate::server::db::{self, background::UpdateOutcome};
use crate::server::services::background::receive_result;
use crate::server::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
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
            (
                StatusCode::OK,
                Json(serde_json::json!({ "status": status })),
            )
                .into_response()
        }
        Err((code, reason)) => {
            tracing::warn!(status = code, %reason, "refused a background-check update");
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            (code, Json(serde_json::json!({ "error": reason }))).into_response()
        }
    }
}

/// A partner's logo, as we checked and stored it (signed-in users only; PNG only).
pub async fn logo(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(file): Path<String>,
) -> Response {
    if crate::server::auth::user_of_session(&state, &session)
        .await
        .is_none()
    {
        return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response();
    }
    let Some(id) = file
        .strip_suffix(".png")
        .and_then(|i| i.parse::<i64>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match db::background::partner_logo(&state.db, id).await {
        Ok(Some(png)) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            png,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not read a partner logo");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

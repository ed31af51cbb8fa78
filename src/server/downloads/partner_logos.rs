//! `GET /partner-logos/{id}.png`: partner logos, as checked and stored when the partner was added.
use crate::server::auth::SignedIn;
use crate::server::{services, state::AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A partner's logo, as we checked and stored it (signed-in users only; PNG only).
pub async fn logo(
    State(state): State<AppState>,
    _signed_in: SignedIn,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file
        .strip_suffix(".png")
        .and_then(|i| i.parse::<i64>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match services::background::partner_logo(&state.db, id).await {
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

//! Everything Clearance holds about one candidate, as a ZIP archive (data-access requests).
use crate::server::auth::SignedIn;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `GET /candidates/{id}/export.zip`: everything about one candidate (admins), for a data-access request.
pub async fn download(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Response {
    match crate::server::services::retention::export_candidate(&state.db, &user, id).await {
        Ok((filename, bytes)) => (
            [
                (header::CONTENT_TYPE, "application/zip".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(crate::error::AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "candidate export failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

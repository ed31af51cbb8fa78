//! `GET /integrity-reports/{id}/file`: an interview-integrity report's attached file.
use crate::error::AppError;
use crate::server::auth::SignedIn;
use crate::server::{services, state::AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The attached report file, for roles that may see check results (never hiring managers).
pub async fn report_file(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Response {
    match services::integrity::report_file(&state.db, &user, id).await {
        Ok((filename, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

//! `GET /integrity-reports/{id}/file`: an interview-integrity report's attached file.
use crate::model::Permission;
use crate::server::auth::SignedIn;
use crate::server::{db, state::AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The attached report file, for roles that may see check results (never hiring managers).
pub async fn report_file(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Response {
    if !user.role.can(Permission::ViewVerificationDetails) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match db::integrity::report_file(&state.db, id).await {
        Ok(Some((_, filename, content_type, bytes))) => {
            let ct = if content_type == "application/pdf" {
                "application/pdf"
            } else {
                "application/octet-stream"
            };
            (
                [
                    (header::CONTENT_TYPE, ct.to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{filename}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

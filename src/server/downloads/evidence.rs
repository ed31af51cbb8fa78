//! `GET /evidence/{session_id}/pack.json`: the evidence pack as a download (same rules as the page).
use crate::error::AppError;
use crate::server::auth::SignedIn;
use crate::server::{services, state::AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn download(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
    Path(session_id): Path<String>,
) -> Response {
    // Signed out is answered like a pack one may not see: its existence is not revealed.
    let not_found = || (StatusCode::NOT_FOUND, "Not found.").into_response();
    let Some(SignedIn(user)) = signed_in else {
        return not_found();
    };
    match services::evidence::open(&state.db, &user, &session_id, "json").await {
        Ok(pack) => {
            let body = serde_json::to_string_pretty(&pack).unwrap_or_default();
            let filename = format!(
                "evidence-{}.json",
                session_id.replace(
                    |c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-',
                    ""
                )
            );
            (
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{filename}\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                body,
            )
                .into_response()
        }
        Err(AppError::NotFound) => not_found(),
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.to_string(),
        )
            .into_response(),
    }
}

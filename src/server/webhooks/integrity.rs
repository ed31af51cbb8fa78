//! `POST /webhooks/integrity`: signed monitor reports, stored before we answer; report downloads.
use crate::model::Permission;
use crate::server::services::integrity::{receive as receive_report, Received};
use crate::server::{db, state::AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (id, timestamp, signature) = (
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
    );
    // Runs to its end even if the monitor hangs up half-way.
    let (db, key) = (state.db.clone(), state.config.secret_key.clone());
    let received = db::detached(async move {
        receive_report(
            &db,
            key.as_ref(),
            id.as_deref(),
            timestamp.as_deref(),
            signature.as_deref(),
            &body,
        )
        .await
    })
    .await;
    match received {
        Ok(r) => {
            let (code, status) = match r {
                Received::Attached => (StatusCode::OK, "attached"),
                Received::Duplicate => (StatusCode::OK, "duplicate"),
                Received::Unmatched => (StatusCode::ACCEPTED, "unmatched_interview"),
            };
            (code, Json(serde_json::json!({ "status": status }))).into_response()
        }
        Err((code, reason)) => {
            tracing::warn!(status = code, %reason, "refused an integrity report");
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            (code, Json(serde_json::json!({ "error": reason }))).into_response()
        }
    }
}

/// The attached report file, for roles that may see check results (never hiring managers).
pub async fn download(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<i64>,
) -> Response {
    let user = match crate::server::auth::user_of_session(&state, &session).await {
        Some(u) => u,
        None => return StatusCode::UNAUTHORIZED.into_response(),
    };
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

/// `GET /candidates/{id}/export.zip`: everything about one candidate (admins), for a data-access request.
pub async fn export(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<i64>,
) -> Response {
    let Some(user) = crate::server::auth::user_of_session(&state, &session).await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if !user.role.can(Permission::ManageSettings) {
        return StatusCode::NOT_FOUND.into_response();
    }
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

//! `GET /audit/export?from=&to=&job=&format=csv|json`: the audit export, streamed.
use crate::error::AppError;
use crate::server::auth::SignedIn;
use crate::server::services::export::{start, stream, Format};
use crate::server::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

pub async fn download(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    let req = match start(
        &state.db,
        &user,
        get("from"),
        get("to"),
        get("job"),
        get("format"),
    )
    .await
    {
        Ok(req) => req,
        Err(e @ (AppError::Forbidden | AppError::BadRequest(_))) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return (status, e.to_string()).into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start an export");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Could not start the export; try again.",
            )
                .into_response();
        }
    };
    let (content_type, ext) = match req.format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let filename = format!(
        "clearance-audit-{}-{}.{ext}",
        get("from").unwrap_or(""),
        get("to").unwrap_or("")
    );
    let body = Body::from_stream(stream(
        state.db.clone(),
        req,
        state.config.public_url.clone(),
    ));
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
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

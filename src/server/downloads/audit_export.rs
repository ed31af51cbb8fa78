//! `GET /audit/export?from=&to=&job=&format=csv|json`: the audit export, streamed.
use crate::model::{AuditEventType, Permission};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::auth::SignedIn;
use crate::server::services::export::{parse_request, stream, Format};
use crate::server::{db, state::AppState};
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
    if !user.role.can(Permission::ViewAudit) {
        return (
            StatusCode::FORBIDDEN,
            "You do not have permission to do that.",
        )
            .into_response();
    }
    let get = |k: &str| q.get(k).map(String::as_str);
    let req = match parse_request(get("from"), get("to"), get("job"), get("format")) {
        Ok(r) => r,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason).into_response(),
    };
    let event = NewAuditEvent::new(
        Actor::from(&user),
        "audit_log",
        "export",
        AuditEventType::AuditExported,
        serde_json::json!({ "from": get("from"), "to": get("to"), "job_id": req.job_id, "format": get("format").unwrap_or("csv") }),
    );
    if let Err(e) = db::audit::append(&state.db, &event).await {
        tracing::error!(error = %e, "could not record the export");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Could not start the export; try again.",
        )
            .into_response();
    }
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

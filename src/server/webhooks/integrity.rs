//! `POST /webhooks/integrity`: signed monitor reports, stored before we answer.
use super::refused;
use crate::server::services::integrity::{receive as receive_report, Received};
use crate::server::{db, state::AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
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
            let (code, status, outcome) = match r {
                Received::Attached => (StatusCode::OK, "attached", "applied"),
                Received::Duplicate => (StatusCode::OK, "duplicate", "duplicate"),
                Received::Unmatched => (StatusCode::ACCEPTED, "unmatched_interview", "unknown"),
            };
            crate::server::services::metrics::webhook_received(SOURCE, outcome);
            (code, Json(serde_json::json!({ "status": status }))).into_response()
        }
        Err(refusal) => refused("an integrity report", SOURCE, refusal),
    }
}

/// This webhook's `source` in metrics.
const SOURCE: &str = "integrity";

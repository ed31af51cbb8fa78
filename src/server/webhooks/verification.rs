//! `POST /webhooks/verification`: signed provider events, stored durably before we answer.
use super::refused;
use crate::server::db::verification::{Applied, Ingested};
use crate::server::services::verification::{check_webhook, receive as receive_event};
use crate::server::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

fn answer(status: StatusCode, key: &str, value: &str) -> Response {
    (status, Json(serde_json::json!({ key: value }))).into_response()
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let checked = check_webhook(
        state.config.verification_webhook_secret.as_ref(),
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
        &body,
    );
    let (event, details) = match checked {
        Ok(parsed) => parsed,
        Err(refusal) => return refused("a verification webhook", SOURCE, refusal),
    };
    // Queued, the event is stored and applied even if the sender hangs up; the answer comes after
    // the commit its batch shares with the webhooks that arrived at the same time.
    let (outcome, response) = match receive_event(&state, event, details).await {
        Ok(Ingested::Duplicate) => ("duplicate", answer(StatusCode::OK, "status", "duplicate")),
        Ok(Ingested::Applied(Applied::UnknownCandidate)) => (
            "unknown",
            answer(StatusCode::ACCEPTED, "status", "unknown_candidate"),
        ),
        Ok(Ingested::Applied(Applied::Stale)) => {
            ("stale", answer(StatusCode::OK, "status", "stale"))
        }
        Ok(Ingested::Applied(_)) => ("applied", answer(StatusCode::OK, "status", "applied")),
        // Stored: from here on the event is ours; the worker applies it.
        Ok(Ingested::Stored) => ("stored", answer(StatusCode::OK, "status", "stored")),
        Err(_) => (
            "failed",
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "error",
                "could not store the event; retry later",
            ),
        ),
    };
    crate::server::services::metrics::webhook_received(SOURCE, outcome);
    response
}

/// This webhook's `source` in metrics.
const SOURCE: &str = "verification";

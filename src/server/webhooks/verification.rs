//! `POST /webhooks/verification`: signed provider events, stored durably before we answer.
use super::signature;
use crate::server::db::verification::Applied;
use crate::server::services::verification::{apply_stored, parse_webhook};
use crate::server::{db, state::AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;

fn answer(status: StatusCode, key: &str, value: &str) -> Response {
    (status, Json(serde_json::json!({ key: value }))).into_response()
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.config.verification_webhook_secret else {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "error",
            "verification webhooks are not configured here",
        );
    };
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = Utc::now().timestamp();
    if let Err(e) = signature::verify(
        secret.expose(),
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
        &body,
        now,
    ) {
        tracing::warn!(reason = %e, "refused a verification webhook");
        return answer(StatusCode::UNAUTHORIZED, "error", &e.to_string());
    }
    let webhook_id = h("webhook-id").unwrap_or_default();
    let (event, _) = match parse_webhook(webhook_id, &body) {
        Ok(parsed) => parsed,
        Err(reason) => return answer(StatusCode::BAD_REQUEST, "error", &reason),
    };
    // Once we start storing, the store and the apply run to their end even if the sender hangs up.
    let state = state.clone();
    db::detached(async move { store_and_apply(&state, event).await }).await
}

async fn store_and_apply(state: &AppState, event: db::verification::InboundEvent) -> Response {
    let stored = match db::verification::store_event(&state.db, &event, Utc::now()).await {
        Ok(Some(id)) => id,
        Ok(None) => return answer(StatusCode::OK, "status", "duplicate"),
        Err(e) => {
            tracing::error!(error = %e, "could not store a verification webhook");
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "error",
                "could not store the event; retry later",
            );
        }
    };
    // Stored: from here on the event is ours; applying it now is an optimisation the worker repeats.
    match apply_stored(&state.db, &state.config.business_calendar, stored).await {
        Ok(Applied::UnknownCandidate) => {
            answer(StatusCode::ACCEPTED, "status", "unknown_candidate")
        }
        Ok(Applied::Stale) => answer(StatusCode::OK, "status", "stale"),
        Ok(_) => answer(StatusCode::OK, "status", "applied"),
        Err(e) => {
            tracing::error!(error = %e, event_id = stored, "stored a verification webhook but could not apply it yet");
            answer(StatusCode::OK, "status", "stored")
        }
    }
}

//! Inbound partner webhooks: the HTTP side of what `services/` accepts (after the signature check
//! and durable storage, the 2xx) or refuses (`Refusal`: its status and reason).
pub mod background;
pub mod integrity;
pub mod verification;

use crate::server::services::refusal::Refusal;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A refused webhook: its status, and `{"error": reason}` for the partner's engineers (logged too,
/// and counted: "refused" when the partner must fix something, "failed" when our side could not
/// take it now).
fn refused(what: &str, source: &'static str, refusal: Refusal) -> Response {
    tracing::warn!(status = refusal.status(), reason = %refusal, "refused {what}");
    let outcome = if refusal.status() >= 500 {
        "failed"
    } else {
        "refused"
    };
    crate::server::services::metrics::webhook_received(source, outcome);
    let code = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (
        code,
        axum::Json(serde_json::json!({ "error": refusal.to_string() })),
    )
        .into_response()
}

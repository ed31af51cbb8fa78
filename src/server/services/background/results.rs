//! The partner's result webhooks (seed 000): token-addressed, checked, never regressing.
use super::orders::token_hash;
use crate::model::{AuditEventType, OrderStatus};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{
    self,
    background::{ResultUpdate, UpdateOutcome},
    Db,
};
use crate::server::services::refusal::Refusal;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct ResultBody {
    background_check_id: serde_json::Value,
    status: serde_json::Value,
    #[serde(default)]
    result: serde_json::Value,
    #[serde(default)]
    result_link_url: serde_json::Value,
}

fn text_field(
    v: &serde_json::Value,
    name: &str,
    required: bool,
) -> Result<Option<String>, Refusal> {
    match v {
        serde_json::Value::String(s) if s.chars().count() > 2000 => Err(Refusal::Malformed(
            format!("'{name}' is longer than 2000 characters"),
        )),
        serde_json::Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        serde_json::Value::Number(n) if name == "background_check_id" => Ok(Some(n.to_string())),
        serde_json::Value::Null | serde_json::Value::String(_) if !required => Ok(None),
        serde_json::Value::Null | serde_json::Value::String(_) => {
            Err(Refusal::Malformed(format!("'{name}' is required")))
        }
        _ => Err(Refusal::Malformed(format!("'{name}' must be text"))),
    }
}

/// The partner's `POST /webhooks/background-checks/{token}`: 404 for a wrong token or id,
/// 400 with a reason for a malformed body; duplicates and regressions change nothing.
pub async fn receive_result(db: &Db, token: &str, body: &[u8]) -> Result<UpdateOutcome, Refusal> {
    let not_found = || Refusal::NotFound("no such background check".into());
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let internal = |e: sqlx::Error| {
        tracing::error!(error = %e, "could not read a background check");
        Refusal::RetryLater("could not store the update; retry later".into())
    };
    let order = db::background::order_by_token(db, &token_hash(token))
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    let text = std::str::from_utf8(body)
        .map_err(|_| Refusal::Malformed("the body is not UTF-8 text".into()))?;
    let parsed: ResultBody = serde_json::from_str(text).map_err(|e| {
        Refusal::Malformed(format!("the body is not a background-check update ({e}); expected background_check_id, status, result, result_link_url"))
    })?;
    let id = text_field(&parsed.background_check_id, "background_check_id", true)?;
    if id.as_deref() != Some(order.background_check_id.as_str()) {
        return Err(not_found());
    }
    let status = OrderStatus::from(text_field(&parsed.status, "status", true)?.unwrap_or_default());
    let result = text_field(&parsed.result, "result", false)?;
    let link = text_field(&parsed.result_link_url, "result_link_url", false)?;
    let update = ResultUpdate {
        status: &status,
        result: result.as_deref(),
        result_link_url: link.as_deref(),
        body: text,
    };
    let audit = |previous: &str| {
        NewAuditEvent::new(
            Actor::Partner(order.partner_name.clone()),
            "candidate",
            order.candidate_id,
            AuditEventType::OrderResultReceived,
            serde_json::json!({
                "order_id": order.id, "background_check_id": order.background_check_id,
                "previous_status": previous, "status": status, "result": result, "result_link_url": link,
            }),
        )
    };
    db::background::apply_update(db, order.id, &update, clock::now(), audit)
        .await
        .map_err(internal)
}

/// Only http(s) links become links; anything else is not passed to the page.
pub(super) fn safe_link(url: Option<String>) -> Option<String> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

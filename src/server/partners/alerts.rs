//! Alert destinations: a Slack-compatible incoming webhook (`{"text": …}`), and a JSON webhook
//! signed like Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), as the
//! verification provider signs the webhooks it sends us.
use super::{classify, network_error, read_answer, signature, CallError};
use crate::server::clock;

/// `POST {url}` with `{"text": text}` (Slack and the many tools that accept its format).
pub async fn post_slack(http: &reqwest::Client, url: &str, text: &str) -> Result<(), CallError> {
    let res = http
        .post(url)
        .json(&serde_json::json!({ "text": text }))
        .send()
        .await
        .map_err(|e| network_error(&e))?;
    let (status, retry_after, body) = read_answer(res, super::outbound::ANSWER_CAP).await;
    classify(status, &body, retry_after)
}

/// `POST {url}` with the alert's JSON, signed with `secret` (`whsec_…`). `id` is the same on
/// every retry of one alert, so a receiver can drop repeats.
pub async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    id: &str,
    body: &str,
) -> Result<(), CallError> {
    let timestamp = clock::now().timestamp();
    let sig =
        signature::sign(secret, id, timestamp, body.as_bytes()).map_err(|e| CallError::Final {
            status: None,
            detail: format!("the alert webhook's signing secret is unusable: {e}"),
        })?;
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sig)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| network_error(&e))?;
    let (status, retry_after, answer) = read_answer(res, super::outbound::ANSWER_CAP).await;
    classify(status, &answer, retry_after)
}

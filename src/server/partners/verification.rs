//! The identity-verification provider: create a session (SPEC §4), list sessions for reconciliation.
use super::{classify, excerpt, network_error, parse_retry_after, CallError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CreateSession {
    pub candidate_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub policy_name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CreatedSession {
    pub session_id: String,
    pub candidate_url: String,
}

pub async fn create_session(
    http: &reqwest::Client,
    base_url: &str,
    api_key: &str,
    body: &CreateSession,
) -> Result<CreatedSession, CallError> {
    let res = http
        .post(format!("{base_url}/sessions"))
        .bearer_auth(api_key)
        .json(body)
        .send()
        .await
        .map_err(|e| network_error(&e))?;
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    let text = res.text().await.unwrap_or_default();
    classify(status, &text, retry_after)?;
    if status != 201 {
        return Err(CallError::Final {
            status: Some(status),
            detail: format!("expected 201 Created, got {status}: {}", excerpt(&text)),
        });
    }
    serde_json::from_str::<CreatedSession>(&text).map_err(|e| CallError::Final {
        status: Some(status),
        detail: format!(
            "the provider's answer is not a session ({e}): {}",
            excerpt(&text)
        ),
    })
}

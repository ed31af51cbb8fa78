//! The identity-verification provider: create a session (SPEC §4), list sessions for reconciliation.
use super::{classify, excerpt, network_error, read_answer, CallError};
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
    let (status, retry_after, text) = read_answer(res, super::outbound::LISTING_CAP).await;
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

/// One session as the provider's reconciliation listing reports it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ListedSession {
    pub session_id: String,
    pub candidate_id: String,
    pub status: String,
    pub risk_tier: Option<String>,
    #[serde(default)]
    pub reason_codes: Vec<String>,
    pub evidence_pack_url: Option<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SessionPage {
    pub sessions: Vec<ListedSession>,
    pub next_cursor: Option<String>,
}

/// One page of `GET {url}/sessions?updated_since=…&cursor=…`.
pub async fn list_sessions(
    http: &reqwest::Client,
    base_url: &str,
    api_key: &str,
    updated_since: chrono::DateTime<chrono::Utc>,
    cursor: Option<&str>,
) -> Result<SessionPage, CallError> {
    let since = updated_since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut req = http
        .get(format!("{base_url}/sessions"))
        .bearer_auth(api_key)
        .query(&[("updated_since", since.as_str())]);
    if let Some(c) = cursor {
        req = req.query(&[("cursor", c)]);
    }
    let res = req.send().await.map_err(|e| network_error(&e))?;
    let (status, retry_after, text) = read_answer(res, super::outbound::LISTING_CAP).await;
    classify(status, &text, retry_after)?;
    serde_json::from_str::<SessionPage>(&text).map_err(|e| CallError::Final {
        status: Some(status),
        detail: format!(
            "the provider's listing is not readable ({e}): {}",
            excerpt(&text)
        ),
    })
}

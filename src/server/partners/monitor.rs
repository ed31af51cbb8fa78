//! The interview-integrity monitor (SPEC §7): announce an interview, cancel it, test the connection.
use super::{classify, excerpt, network_error, read_answer, CallError, PartnerProblem};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announce {
    pub interview_id: String,
    pub candidate_id: String,
    pub stage: String,
    /// RFC 3339 with the interview's own offset.
    pub scheduled_at: String,
    pub interviewers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Announced {
    pub monitor_session_id: String,
}

/// `POST {url}/interviews` → `201 {"monitor_session_id"}`.
pub async fn announce(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    body: &Announce,
) -> Result<Announced, CallError> {
    let res = http
        .post(format!("{url}/interviews"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .map_err(|e| network_error(&e))?;
    let (status, ra, text) = read_answer(res, super::outbound::ANSWER_CAP).await;
    classify(status, &text, ra)?;
    serde_json::from_str::<Announced>(&text).map_err(|e| CallError::Final {
        status: Some(status),
        detail: format!(
            "the monitor's answer has no monitor_session_id ({e}): {}",
            excerpt(&text)
        ),
    })
}

/// `DELETE {url}/interviews/{id}`; an interview the monitor no longer knows counts as cancelled.
pub async fn cancel(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    interview_id: &str,
) -> Result<(), CallError> {
    let res = http
        .delete(format!("{url}/interviews/{interview_id}"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| network_error(&e))?;
    let (status, ra, text) = read_answer(res, super::outbound::ANSWER_CAP).await;
    if status == 404 {
        return Ok(());
    }
    classify(status, &text, ra)
}

/// "Test connection": an authenticated request the monitor must answer without 401/403/5xx.
pub async fn test(http: &reqwest::Client, url: &str, key: &str) -> Result<(), PartnerProblem> {
    let res = http
        .get(format!("{url}/interviews/connection-test"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| PartnerProblem::unanswered("monitor", url, &e))?;
    match res.status().as_u16() {
        401 | 403 => Err(PartnerProblem::from(
            "The monitor refused the API key (401/403).",
        )),
        s if s >= 500 => Err(PartnerProblem::from(format!(
            "The monitor answered {s}: it is having problems."
        ))),
        _ => Ok(()),
    }
}

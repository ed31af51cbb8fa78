//! Partner clients, how their answers are classified for retries, and the webhook signature
//! scheme partners sign with (`signature`).
pub mod alerts;
pub mod background;
pub mod monitor;
pub mod outbound;
pub mod signature;
pub mod verification;

use crate::server::clock;
use std::time::Duration;

/// What went wrong talking to a partner, in words an admin can act on (shown on the partner's
/// page and stored with a failed catalog fetch or connection test).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PartnerProblem(pub String);

impl PartnerProblem {
    /// The request itself failed: no answer in time, no connection, or another transport error.
    pub fn unanswered(who: &str, url: &str, e: &reqwest::Error) -> PartnerProblem {
        PartnerProblem(if e.is_timeout() {
            format!("The {who} did not answer within the time limit ({url}).")
        } else if e.is_connect() {
            format!("The {who} is unreachable: could not connect to {url}.")
        } else {
            format!("The request to {url} failed.")
        })
    }
}

impl From<String> for PartnerProblem {
    fn from(message: String) -> Self {
        PartnerProblem(message)
    }
}

impl From<&str> for PartnerProblem {
    fn from(message: &str) -> Self {
        PartnerProblem(message.to_string())
    }
}

impl From<PartnerProblem> for String {
    fn from(p: PartnerProblem) -> Self {
        p.0
    }
}

/// The result of one outbound call, as the job worker needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// Worth trying again: network error, timeout, 408, 429, 5xx.
    Retryable {
        status: Option<u16>,
        detail: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help: other 4xx, or an answer we cannot understand.
    Final { status: Option<u16>, detail: String },
}

/// A secret that cannot be opened now (no key yet) is worth retrying: the delivery waits, then
/// dead-letters and can be replayed once the key is set.
impl From<crate::server::secrets::SecretError> for CallError {
    fn from(e: crate::server::secrets::SecretError) -> Self {
        CallError::Retryable {
            status: None,
            detail: e.to_string(),
            retry_after: None,
        }
    }
}

/// Our own database failing mid-delivery is worth retrying: the job waits and tries again.
impl From<sqlx::Error> for CallError {
    fn from(e: sqlx::Error) -> Self {
        CallError::Retryable {
            status: None,
            detail: format!("database: {e}"),
            retry_after: None,
        }
    }
}

impl CallError {
    /// A call we refuse to make (a URL the outbound policy forbids): retrying cannot help.
    pub fn refused(detail: impl Into<String>) -> Self {
        CallError::Final {
            status: None,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Retryable { status, .. } | CallError::Final { status, .. } => *status,
        }
    }
    pub fn detail(&self) -> &str {
        match self {
            CallError::Retryable { detail, .. } | CallError::Final { detail, .. } => detail,
        }
    }
}

/// A partner's answer, read: its status, its `Retry-After` (if any) and its body up to `cap` bytes
/// (a longer or broken body reads as the reason it could not be read).
pub async fn read_answer(res: reqwest::Response, cap: usize) -> (u16, Option<Duration>, String) {
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, clock::now()));
    let text = outbound::read_capped(res, cap)
        .await
        .unwrap_or_else(String::from);
    (status, retry_after, text)
}

/// The longest a partner's `Retry-After` may make us wait.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After` as seconds or an HTTP date, relative to `now`, at most `MAX_RETRY_AFTER`.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v)
        .ok()?
        .with_timezone(&chrono::Utc);
    let wait = at
        .signed_duration_since(now)
        .to_std()
        .unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Cuts a partner's body to something safe to store and show.
pub fn excerpt(body: &str) -> String {
    const MAX: usize = 200;
    let clean: String = body
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    if clean.chars().count() > MAX {
        format!("{}…", clean.chars().take(MAX).collect::<String>())
    } else {
        clean
    }
}

/// Sorts an HTTP status into done, retry or give up.
pub fn classify(status: u16, body: &str, retry_after: Option<Duration>) -> Result<(), CallError> {
    match status {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(CallError::Retryable {
            status: Some(status),
            detail: excerpt(body),
            retry_after,
        }),
        _ => Err(CallError::Final {
            status: Some(status),
            detail: excerpt(body),
        }),
    }
}

pub fn network_error(e: &reqwest::Error) -> CallError {
    let what = if e.is_timeout() {
        "the partner did not answer in time"
    } else if e.is_connect() {
        "could not connect to the partner"
    } else {
        "the request to the partner failed"
    };
    CallError::Retryable {
        status: None,
        detail: what.to_string(),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
            .unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        // A partner cannot park a delivery for ever, nor overflow the clock.
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("18446744073709551615", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn statuses_are_classified() {
        assert!(classify(201, "", None).is_ok());
        for s in [408, 429, 500, 502, 503] {
            assert!(
                matches!(classify(s, "", None), Err(CallError::Retryable { .. })),
                "{s}"
            );
        }
        for s in [400, 401, 404, 422] {
            assert!(
                matches!(classify(s, "", None), Err(CallError::Final { .. })),
                "{s}"
            );
        }
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt(&"x".repeat(600)).chars().count(), 201);
        assert_eq!(excerpt("a\u{0}b"), "ab");
    }
}

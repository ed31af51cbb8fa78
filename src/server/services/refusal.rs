//! Why a partner's webhook was refused. Each kind answers with its own HTTP status and the reason in
//! plain words, so the partner's engineers can act on it (`server/webhooks/` turns it into JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The body is not what the contract says (400).
    #[error("{0}")]
    Malformed(String),
    /// The signature is missing, stale or wrong (401).
    #[error("{0}")]
    BadSignature(String),
    /// The address or body names nothing we know (404).
    #[error("{0}")]
    NotFound(String),
    /// Over the size limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// Our side cannot take it now; the partner retries (503).
    #[error("{0}")]
    RetryLater(String),
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::BadSignature(_) => 401,
            Refusal::NotFound(_) => 404,
            Refusal::TooLarge(_) => 413,
            Refusal::RetryLater(_) => 503,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Refusal;

    #[test]
    fn each_refusal_answers_its_own_status_with_its_reason() {
        let cases = [
            (Refusal::Malformed("'status' is required".into()), 400),
            (Refusal::BadSignature("no signature matches".into()), 401),
            (Refusal::NotFound("no such background check".into()), 404),
            (
                Refusal::TooLarge("the report is larger than 10 MB".into()),
                413,
            ),
            (Refusal::RetryLater("retry later".into()), 503),
        ];
        for (refusal, status) in cases {
            assert_eq!(refusal.status(), status, "{refusal:?}");
        }
        assert_eq!(
            Refusal::Malformed("'status' is required".into()).to_string(),
            "'status' is required"
        );
    }
}

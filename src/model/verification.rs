//! Identity-verification statuses shown on the badge.

text_enum! {
    pub enum VerificationStatus("verification status") {
        NotStarted = "not_started" / "Not started",
        InProgress = "in_progress" / "In progress",
        Verified = "verified" / "Verified",
        Failed = "failed" / "Failed",
        NeedsReview = "needs_review" / "Needs review",
        Expired = "expired" / "Expired",
    }
}

text_enum! {
    #[derive(PartialOrd, Ord)]
    pub enum RiskTier("risk tier") {
        Low = "low" / "Low",
        Medium = "medium" / "Medium",
        High = "high" / "High",
    }
}

/// A provider reason code in plain words; unknown codes are shown readably, never dropped.
pub fn reason_code_label(code: &str) -> String {
    let known = match code {
        "document_mismatch" => "Document does not match the applicant",
        "document_expired" => "Identity document has expired",
        "liveness_failed" => "Could not complete the liveness check",
        "face_mismatch" => "Face does not match the document photo",
        "voice_mismatch" => "Voice does not match earlier recordings",
        "proxy_suspected" => "Someone else may be taking part for the applicant",
        "deepfake_suspected" => "Signs of a synthetic (deepfake) video",
        "velocity" => "Many attempts in a short time",
        "ip_mismatch" => "Location does not match the application",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let words = code.replace(['_', '-'], " ");
    match words.trim() {
        "" => "Unspecified reason".to_string(),
        words => capitalised(words),
    }
}

/// `s` with its first letter upper-case ("the application is closed" → "The application…").
pub fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

text_enum! {
    /// Webhook event types of the identity-verification provider and the status each one means.
    pub enum VerificationEventType("event type") {
        Started = "verification.started" / "Verification started",
        Completed = "verification.completed" / "Verification completed",
        NeedsReview = "verification.needs_review" / "Verification needs review",
        Failed = "verification.failed" / "Verification failed",
        Expired = "verification.expired" / "Verification expired",
    }
}

impl VerificationEventType {
    pub fn status(self) -> VerificationStatus {
        match self {
            VerificationEventType::Started => VerificationStatus::InProgress,
            VerificationEventType::Completed => VerificationStatus::Verified,
            VerificationEventType::NeedsReview => VerificationStatus::NeedsReview,
            VerificationEventType::Failed => VerificationStatus::Failed,
            VerificationEventType::Expired => VerificationStatus::Expired,
        }
    }
}

impl VerificationStatus {
    /// Order among events stamped with the same instant: an outcome outranks "started".
    pub fn rank(self) -> u8 {
        match self {
            VerificationStatus::NotStarted => 0,
            VerificationStatus::InProgress => 1,
            VerificationStatus::NeedsReview => 2,
            VerificationStatus::Verified | VerificationStatus::Failed => 3,
            VerificationStatus::Expired => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_in_plain_words() {
        assert_eq!(
            reason_code_label("liveness_failed"),
            "Could not complete the liveness check"
        );
        assert_eq!(reason_code_label("new_vendor_code"), "New vendor code");
        assert_eq!(reason_code_label(""), "Unspecified reason");
    }

    #[test]
    fn event_types_map_to_statuses() {
        assert_eq!(
            "verification.needs_review"
                .parse::<VerificationEventType>()
                .unwrap()
                .status(),
            VerificationStatus::NeedsReview
        );
        assert!("verification.done"
            .parse::<VerificationEventType>()
            .is_err());
    }
}

/// Whether an event changes a session: an event older than the newest applied one never
/// overwrites it; at the same instant an outcome outranks "started"; a repeat changes nothing.
pub fn event_applies(
    current_status: VerificationStatus,
    current_event_at: Option<chrono::DateTime<chrono::Utc>>,
    event_status: VerificationStatus,
    event_at: chrono::DateTime<chrono::Utc>,
) -> bool {
    match current_event_at {
        None => true,
        Some(t) if event_at > t => true,
        Some(t) if event_at == t => event_status.rank() > current_status.rank(),
        Some(_) => false,
    }
}

#[cfg(test)]
mod ordering_tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    /// Applies events in the given order the way the server does; returns the final status.
    fn replay(events: &[(VerificationStatus, chrono::DateTime<Utc>)]) -> VerificationStatus {
        let (mut status, mut at) = (VerificationStatus::NotStarted, None);
        for (s, t) in events {
            if event_applies(status, at, *s, *t) {
                status = *s;
                at = Some(*t);
            }
        }
        status
    }

    /// Property: any ordering, with any duplicates, of one session's events ends in the in-order state.
    #[test]
    fn any_order_and_duplication_gives_the_in_order_result() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let histories: Vec<Vec<(VerificationStatus, chrono::DateTime<Utc>)>> = vec![
            vec![
                (VerificationStatus::InProgress, t0),
                (VerificationStatus::Verified, t0 + Duration::seconds(5)),
            ],
            vec![
                (VerificationStatus::InProgress, t0),
                (VerificationStatus::NeedsReview, t0 + Duration::seconds(3)),
            ],
            vec![
                (VerificationStatus::InProgress, t0),
                (VerificationStatus::Failed, t0 + Duration::seconds(2)),
                (VerificationStatus::Expired, t0 + Duration::days(3)),
            ],
            // Started and the outcome stamped with the same instant.
            vec![
                (VerificationStatus::InProgress, t0),
                (VerificationStatus::Verified, t0),
            ],
        ];
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for history in &histories {
            let expected = replay(history);
            assert_eq!(expected, history.last().unwrap().0);
            for _ in 0..500 {
                let mut events = history.clone();
                for _ in 0..(next() % 4) {
                    let dup = events[(next() % events.len() as u64) as usize];
                    events.push(dup);
                }
                for i in (1..events.len()).rev() {
                    events.swap(i, (next() % (i as u64 + 1)) as usize);
                }
                assert_eq!(replay(&events), expected, "{events:?}");
            }
        }
    }
}

text_enum! {
    /// A stored provider event: waiting to be applied, applied, older than what we have, or for a
    /// candidate we do not know (kept, and matched again when the candidate appears).
    pub enum EventState("webhook event state") {
        Pending = "pending" / "Waiting",
        Applied = "applied" / "Applied",
        Stale = "stale" / "Stale",
        UnknownCandidate = "unknown_candidate" / "Unknown candidate",
    }
}

//! The security review queue: outcomes, reason codes, and the four-eyes rule.
use super::{RiskTier, VerificationStatus};
use crate::error::Invalid;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum! {
    pub enum ReviewOutcome("outcome") {
        Verified = "verified" / "Verified",
        Failed = "failed" / "Failed",
        Reverify = "reverify" / "Request re-verification",
    }
}

/// The built-in reason codes (admins may add more): (code, label).
pub const REASON_CODES: [(&str, &str); 5] = [
    ("could_not_complete_liveness", "Could not complete liveness"),
    (
        "document_mismatch_recapture",
        "Document mismatch, re-capture",
    ),
    (
        "voice_or_face_mismatch_escalate",
        "Voice or face mismatch, escalate",
    ),
    ("verified_after_retry", "Verified after retry"),
    (
        "override_with_second_approver",
        "Override approved with second approver",
    ),
];

pub fn review_reason_label(code: &str) -> Option<&'static str> {
    REASON_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

/// Clearing a failed or high-risk result to Verified is an override: it needs a second reviewer.
pub fn needs_second_approval(
    provider_status: VerificationStatus,
    risk: Option<RiskTier>,
    outcome: ReviewOutcome,
) -> bool {
    outcome == ReviewOutcome::Verified
        && (provider_status == VerificationStatus::Failed || risk == Some(RiskTier::High))
}

/// A new reason code: lower-case letters, digits and underscores, 3 to 60 characters.
pub fn check_reason_code(code: &str, label: &str) -> Result<(), Invalid> {
    let ok = (3..=60).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(Invalid(format!(
            "'{code}' is not a code: use 3–60 lower-case letters, digits and underscores"
        )));
    }
    if label.trim().is_empty() || label.chars().count() > 120 {
        return Err(Invalid::new("The label must be 1–120 characters."));
    }
    Ok(())
}

/// The second approver must be a different person from the reviewer who decided.
pub fn may_approve(decided_by: i64, approver: i64) -> Result<(), Invalid> {
    if decided_by == approver {
        Err(Invalid::new("The reviewer who requested the override cannot also approve it; a different security reviewer must."))
    } else {
        Ok(())
    }
}

text_enum! {
    pub enum ReviewState("review state") {
        Open = "open" / "Open",
        AwaitingSecondApproval = "awaiting_second_approval" / "Awaiting second approval",
        Closed = "closed" / "Closed",
    }
}

/// One queue item as the queue page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub id: i64,
    pub candidate_id: i64,
    pub candidate_name: String,
    pub session_id: String,
    pub risk_tier: Option<RiskTier>,
    pub provider_status: VerificationStatus,
    pub state: ReviewState,
    pub opened_at: DateTime<Utc>,
    pub deadline_at: Option<DateTime<Utc>>,
    /// Business time left in words ("3h 10m left", "overdue by 20m").
    pub time_left: Option<String>,
    pub breached: bool,
    pub assignee: Option<String>,
    pub assigned_to_me: bool,
    pub claimed_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decision: Option<ReviewOutcome>,
    pub reason: Option<String>,
    pub rationale: Option<String>,
    /// The viewer may approve: an override awaits and they did not request it.
    pub can_approve: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewQueue {
    /// The most urgent matching items (at most a page).
    pub items: Vec<ReviewItem>,
    /// How many items match the filters in all.
    #[serde(default)]
    pub matching: i64,
    /// Security reviewers an item can be (re)assigned to: (id, name).
    pub reviewers: Vec<(i64, String)>,
    /// Reason codes to choose from: (code, label).
    pub reason_codes: Vec<(String, String)>,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub breached: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_eyes_rules() {
        use ReviewOutcome::*;
        use VerificationStatus as S;
        assert!(needs_second_approval(
            S::Failed,
            Some(RiskTier::Low),
            Verified
        ));
        assert!(needs_second_approval(
            S::NeedsReview,
            Some(RiskTier::High),
            Verified
        ));
        assert!(!needs_second_approval(
            S::NeedsReview,
            Some(RiskTier::Medium),
            Verified
        ));
        assert!(!needs_second_approval(
            S::Failed,
            Some(RiskTier::High),
            Failed
        ));
        assert!(!needs_second_approval(
            S::NeedsReview,
            Some(RiskTier::High),
            Reverify
        ));
        assert!(may_approve(3, 3).is_err());
        assert!(may_approve(3, 4).is_ok());
    }

    #[test]
    fn new_reason_codes_are_checked() {
        assert!(check_reason_code("proxy_confirmed", "Proxy interview confirmed").is_ok());
        assert!(check_reason_code("Proxy Confirmed", "x").is_err());
        assert!(check_reason_code("ab", "x").is_err());
        assert!(check_reason_code("fine_code", "  ").is_err());
    }

    #[test]
    fn reason_codes_have_labels() {
        assert_eq!(
            review_reason_label("verified_after_retry"),
            Some("Verified after retry")
        );
        assert_eq!(review_reason_label("because"), None);
    }
}

text_enum! {
    /// What started a reconciliation run.
    pub enum ReconciliationTrigger("reconciliation trigger") {
        Schedule = "schedule" / "Nightly schedule",
        Cli = "cli" / "Command line",
        Manual = "manual" / "Reconcile now",
        Candidate = "candidate" / "One candidate",
    }
}

text_enum! {
    /// A reconciliation run is running until it finishes or fails (or is found abandoned).
    pub enum RunState("reconciliation run state") {
        Running = "running" / "Running",
        Finished = "finished" / "Finished",
        Failed = "failed" / "Failed",
    }
}

/// One reconciliation run as the Drift page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconciliationRunView {
    pub id: i64,
    pub trigger: ReconciliationTrigger,
    pub state: RunState,
    pub started_at: DateTime<Utc>,
    pub duration_ms: Option<i64>,
    pub checked: i64,
    pub drifted: i64,
    pub fixed: i64,
    pub failed: i64,
    pub error: Option<String>,
}

/// One field that differed from the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftView {
    pub candidate_id: i64,
    pub candidate: String,
    pub session_id: String,
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub detected_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub runs: Vec<ReconciliationRunView>,
    pub drift: Vec<DriftView>,
    /// Background-check orders submitted long ago with no result (the partner has no status endpoint).
    pub stale_orders: Vec<StaleOrder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleOrder {
    pub candidate_id: i64,
    pub candidate: String,
    pub background_check_id: String,
    pub partner: String,
    pub submitted_at: DateTime<Utc>,
}

/// What a reconciliation run did, for the button that started it (and the CLI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcileOutcome {
    /// False when another run was already in progress (runs never overlap).
    pub ran: bool,
    pub checked: i64,
    pub drifted: i64,
    pub fixed: i64,
    pub failed: i64,
    pub error: Option<String>,
}

/// The support runbook in one place: sessions, the last webhook, deliveries with attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportView {
    pub sessions: Vec<(String, VerificationStatus, DateTime<Utc>)>,
    /// (received at, event type, webhook id, what happened to it)
    pub last_webhook: Option<(
        DateTime<Utc>,
        super::VerificationEventType,
        String,
        super::EventState,
    )>,
    pub deliveries: Vec<super::Delivery>,
}

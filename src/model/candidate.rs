//! Data carried between server functions and pages.
use super::{JobState, RiskTier, Role, Stage, VerificationStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: i64,
    pub title: String,
}

/// Filters of the candidate list; every field is optional and travels in the URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CandidateQuery {
    pub search: Option<String>,
    pub job_id: Option<i64>,
    pub stage: Option<Stage>,
    pub status: Option<VerificationStatus>,
    pub risk: Option<RiskTier>,
    pub integrity: Option<IntegrityFilter>,
    /// Keyset cursor: show applications older than this one.
    pub before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRow {
    pub application_id: i64,
    pub candidate_id: i64,
    pub name: String,
    pub email: String,
    pub job_title: String,
    pub stage: Stage,
    pub verification_status: VerificationStatus,
    pub risk_tier: Option<RiskTier>,
    /// The latest interview-integrity score, if any report arrived.
    pub integrity_score: Option<i64>,
}

text_enum! {
    /// The list's interview-integrity filter.
    pub enum IntegrityFilter("integrity filter") {
        Below60 = "below_60" / "Score below 60",
        Below80 = "below_80" / "Score below 80",
        Flagged = "flagged" / "Flagged",
        NoReport = "no_report" / "No report yet",
    }
}

#[cfg(test)]
mod integrity_filter_tests {
    use super::IntegrityFilter;

    #[test]
    fn wire_names_match_the_url_names() {
        for f in IntegrityFilter::ALL {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
            assert_eq!(f.as_str().parse::<IntegrityFilter>(), Ok(f));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidatePage {
    pub rows: Vec<CandidateRow>,
    /// Whether risk tier and integrity score are shown (never to hiring managers).
    #[serde(default)]
    pub shows_details: bool,
    pub total: i64,
    /// `total` is a lower bound: at least that many match ("10,000+").
    #[serde(default)]
    pub total_capped: bool,
    /// Cursor for the next page, when there is one.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
    pub actor: Option<String>,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: i64,
    pub job: JobSummary,
    pub hiring_manager: String,
    pub stage: Stage,
    pub history: Vec<StageChange>,
}

/// The verification panel as one role may see it: details are `None` for roles without them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationPanel {
    pub status: VerificationStatus,
    pub last_updated: Option<DateTime<Utc>>,
    pub risk_tier: Option<RiskTier>,
    pub reason_codes: Option<Vec<String>>,
    pub evidence_pack_url: Option<String>,
    pub policy_name: Option<String>,
    pub next_action: String,
    /// The provider's session id (support view; hidden from hiring managers).
    pub session_id: Option<String>,
    /// Where the candidate completes the provider's flow (hidden from hiring managers).
    pub candidate_url: Option<String>,
    /// Whether this user may send (or re-send) verification now.
    pub can_send: bool,
    /// "Send verification" or "Re-verify".
    pub send_label: String,
    /// Who decided a manual review, and why (hidden from hiring managers).
    pub reviewer: Option<String>,
    pub review_reason: Option<String>,
    /// Admins and security reviewers may reconcile this candidate with the provider.
    pub can_reconcile: bool,
    /// When the candidate was verified (by the provider or a reviewer).
    pub verified_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateProfile {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Contact details are hidden from hiring managers.
    pub phone: Option<String>,
    pub location: Option<String>,
    pub applications: Vec<Application>,
    pub verification: VerificationPanel,
    pub can_move_stage: bool,
    pub can_order_check: bool,
    pub can_grant_exception: bool,
    /// Admins: export the candidate's data, delete the candidate.
    pub can_manage_data: bool,
}

/// One try at delivering to a partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: DateTime<Utc>,
    pub latency_ms: i64,
    pub http_status: Option<i64>,
    pub outcome: String,
    pub detail: String,
}

/// An outbound delivery that is not done: waiting, retrying, or dead-lettered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub what: String,
    pub subject: String,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub next_try: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub history: Vec<DeliveryAttempt>,
}

/// A partner event we kept because it names a candidate we do not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnmatchedEvent {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub event_type: String,
    pub candidate_ref: String,
    pub session_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveriesView {
    pub deliveries: Vec<Delivery>,
    pub unmatched: Vec<UnmatchedEvent>,
}

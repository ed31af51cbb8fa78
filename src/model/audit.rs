//! Audit events as users see them, and the result of verifying the chain.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

text_enum! {
    /// Every kind of event the audit log records: seed 001's `logging.events`, then ours.
    pub enum AuditEventType("audit event type") {
        StageChanged = "stage_changed" / "Stage changed",
        VerificationRequested = "verification_requested" / "Verification requested",
        VerificationStarted = "verification_started" / "Verification started",
        VerificationCompleted = "verification_completed" / "Verification completed",
        StageTransitionBlocked = "stage_transition_blocked" / "Stage move blocked",
        ExceptionGranted = "exception_granted" / "Exception granted",
        ExceptionExpired = "exception_expired" / "Exception expired",
        ReconciliationRun = "reconciliation_run" / "Reconciliation run",
        DriftDetected = "drift_detected" / "Drift detected",
        DriftResolved = "drift_resolved" / "Drift resolved",
        LoginSucceeded = "login_succeeded" / "Signed in",
        LoginFailed = "login_failed" / "Failed sign-in",
        LoggedOut = "logged_out" / "Signed out",
        UserCreated = "user_created" / "User created",
        CandidateCreated = "candidate_created" / "Candidate created",
        CandidateRedacted = "candidate_redacted" / "Candidate data redacted",
        AuditVerified = "audit_verified" / "Audit chain verified",
        CheckpointCreated = "checkpoint_created" / "Audit checkpoint signed",
        DeliveryDeadLettered = "delivery_dead_lettered" / "Delivery dead-lettered",
        DeliveryReplayed = "delivery_replayed" / "Delivery replayed",
        EvidencePackViewed = "evidence_pack_viewed" / "Evidence pack opened",
        AuditExported = "audit_exported" / "Audit exported",
        ReviewStarted = "review_started" / "Review started",
        ReviewCompleted = "review_completed" / "Review completed",
        OverrideRequested = "override_requested" / "Override requested",
        OverrideApproved = "override_approved" / "Override approved",
        SlaBreached = "sla_breached" / "Review SLA breached",
        ReasonCodeAdded = "reason_code_added" / "Review reason code added",
        OrderPlaced = "order_placed" / "Background check ordered",
        OrderSubmitted = "order_submitted" / "Background check submitted",
        OrderFailed = "order_failed" / "Background check order failed",
        OrderDeadLettered = "order_dead_lettered" / "Background check order dead-lettered",
        OrderResultReceived = "order_result_received" / "Background check update received",
        PartnerConnected = "partner_connected" / "Partner connected",
        PolicyChanged = "policy_changed" / "Policy changed",
        InterviewScheduled = "interview_scheduled" / "Interview scheduled",
        InterviewCancelled = "interview_cancelled" / "Interview cancelled",
        MonitoringRequested = "monitoring_requested" / "Interview monitoring requested",
        IntegrityReportAttached = "integrity_report_attached" / "Integrity report attached",
        ConsentRecorded = "consent_recorded" / "Monitoring consent recorded",
        CandidateDeleted = "candidate_deleted" / "Candidate deleted",
        CandidateDataExported = "candidate_data_exported" / "Candidate data exported",
        AdverseActionStarted = "adverse_action_started" / "Adverse action started",
        AdverseAssessmentRecorded = "adverse_assessment_recorded" / "Individualized assessment recorded",
        PreAdverseNoticeSent = "pre_adverse_notice_sent" / "Pre-adverse notice sent",
        CandidateResponseRecorded = "candidate_response_recorded" / "Candidate response recorded",
        AdverseActionResumed = "adverse_action_resumed" / "Waiting period resumed",
        AdverseActionCancelled = "adverse_action_cancelled" / "Adverse action cancelled",
        FinalAdverseNoticeSent = "final_adverse_notice_sent" / "Final adverse notice sent",
        NoticeTemplateChanged = "notice_template_changed" / "Notice template changed",
        NoticeEmailed = "notice_emailed" / "Notice emailed",
        IntegrationCreated = "integration_created" / "Badge integration created",
        IntegrationRevoked = "integration_revoked" / "Badge integration revoked",
        IntegrationKeyRotated = "integration_key_rotated" / "Badge integration key rotated",
        EmbedTokenIssued = "embed_token_issued" / "Badge embed token issued",
        PartnerContactChanged = "partner_contact_changed" / "Partner contact changed",
        AdverseSettingsChanged = "adverse_settings_changed" / "Adverse-action settings changed",
        AlertSettingsChanged = "alert_settings_changed" / "Alert destinations changed",
        BulkActionStarted = "bulk_action_started" / "Bulk action started",
        BulkActionCancelled = "bulk_action_cancelled" / "Bulk action cancelled",
        SelectionExported = "selection_exported" / "Candidate list exported",
    }
}

/// One audit entry as shown to permitted users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub subject: String,
    pub event_type: AuditEventType,
    /// A one-line description in plain words; "(redacted)" when the payload was removed.
    pub summary: String,
    pub hash: String,
}

/// The outcome of walking the chain from the first entry to the head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainReport {
    /// Every link checks out; `count` entries, the last with `head_hash`.
    Intact { count: i64, head_hash: String },
    /// The first link that does not: which entry, which field, what was expected and found.
    Broken {
        seq: i64,
        field: String,
        expected: String,
        found: String,
    },
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainReport::Intact { count, head_hash } => {
                write!(f, "intact through {count} (head {head_hash})")
            }
            ChainReport::Broken {
                seq,
                field,
                expected,
                found,
            } => {
                write!(
                    f,
                    "broken at entry {seq}: {field} expected {expected}, found {found}"
                )
            }
        }
    }
}

/// One time-stamped step in an evidence pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: String,
    pub summary: String,
    pub entry_hash: String,
}

/// Everything that backs one verification decision, with a SHA-256 over its canonical JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidencePack {
    pub session_id: String,
    pub candidate_id: i64,
    pub candidate_name: String,
    pub status: crate::model::VerificationStatus,
    pub risk_tier: Option<crate::model::RiskTier>,
    pub reason_codes: Vec<String>,
    pub policy_name: Option<String>,
    pub provider_evidence_url: Option<String>,
    pub session_created_at: DateTime<Utc>,
    pub events: Vec<EvidenceEvent>,
    /// SHA-256 (hex) of the canonical JSON of every field above.
    pub sha256: String,
}

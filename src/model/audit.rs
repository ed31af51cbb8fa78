//! Audit events as users see them, and the result of verifying the chain.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Every kind of event the audit log records: seed 001's `logging.events`, then ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEventType {
    StageChanged,
    VerificationRequested,
    VerificationStarted,
    VerificationCompleted,
    StageTransitionBlocked,
    ExceptionGranted,
    ExceptionExpired,
    ReconciliationRun,
    DriftDetected,
    DriftResolved,
    LoginSucceeded,
    LoginFailed,
    LoggedOut,
    UserCreated,
    CandidateCreated,
    CandidateRedacted,
    AuditVerified,
    CheckpointCreated,
    DeliveryDeadLettered,
    DeliveryReplayed,
    EvidencePackViewed,
    AuditExported,
    ReviewStarted,
    ReviewCompleted,
    OverrideRequested,
    OverrideApproved,
    SlaBreached,
    ReasonCodeAdded,
    OrderPlaced,
    OrderSubmitted,
    OrderFailed,
    OrderDeadLettered,
    OrderResultReceived,
    PartnerConnected,
    PolicyChanged,
    InterviewScheduled,
    InterviewCancelled,
    MonitoringRequested,
    IntegrityReportAttached,
    ConsentRecorded,
    CandidateDeleted,
    CandidateDataExported,
}

impl AuditEventType {
    pub const ALL: [AuditEventType; 42] = [
        AuditEventType::StageChanged,
        AuditEventType::VerificationRequested,
        AuditEventType::VerificationStarted,
        AuditEventType::VerificationCompleted,
        AuditEventType::StageTransitionBlocked,
        AuditEventType::ExceptionGranted,
        AuditEventType::ExceptionExpired,
        AuditEventType::ReconciliationRun,
        AuditEventType::DriftDetected,
        AuditEventType::DriftResolved,
        AuditEventType::LoginSucceeded,
        AuditEventType::LoginFailed,
        AuditEventType::LoggedOut,
        AuditEventType::UserCreated,
        AuditEventType::CandidateCreated,
        AuditEventType::CandidateRedacted,
        AuditEventType::AuditVerified,
        AuditEventType::CheckpointCreated,
        AuditEventType::DeliveryDeadLettered,
        AuditEventType::DeliveryReplayed,
        AuditEventType::EvidencePackViewed,
        AuditEventType::AuditExported,
        AuditEventType::ReviewStarted,
        AuditEventType::ReviewCompleted,
        AuditEventType::OverrideRequested,
        AuditEventType::OverrideApproved,
        AuditEventType::SlaBreached,
        AuditEventType::ReasonCodeAdded,
        AuditEventType::OrderPlaced,
        AuditEventType::OrderSubmitted,
        AuditEventType::OrderFailed,
        AuditEventType::OrderDeadLettered,
        AuditEventType::OrderResultReceived,
        AuditEventType::PartnerConnected,
        AuditEventType::PolicyChanged,
        AuditEventType::InterviewScheduled,
        AuditEventType::InterviewCancelled,
        AuditEventType::MonitoringRequested,
        AuditEventType::IntegrityReportAttached,
        AuditEventType::ConsentRecorded,
        AuditEventType::CandidateDeleted,
        AuditEventType::CandidateDataExported,
    ];

    pub fn as_str(self) -> &'static str {
        use AuditEventType::*;
        match self {
            StageChanged => "stage_changed",
            VerificationRequested => "verification_requested",
            VerificationStarted => "verification_started",
            VerificationCompleted => "verification_completed",
            StageTransitionBlocked => "stage_transition_blocked",
            ExceptionGranted => "exception_granted",
            ExceptionExpired => "exception_expired",
            ReconciliationRun => "reconciliation_run",
            DriftDetected => "drift_detected",
            DriftResolved => "drift_resolved",
            LoginSucceeded => "login_succeeded",
            LoginFailed => "login_failed",
            LoggedOut => "logged_out",
            UserCreated => "user_created",
            CandidateCreated => "candidate_created",
            CandidateRedacted => "candidate_redacted",
            AuditVerified => "audit_verified",
            CheckpointCreated => "checkpoint_created",
            DeliveryDeadLettered => "delivery_dead_lettered",
            DeliveryReplayed => "delivery_replayed",
            EvidencePackViewed => "evidence_pack_viewed",
            AuditExported => "audit_exported",
            ReviewStarted => "review_started",
            ReviewCompleted => "review_completed",
            OverrideRequested => "override_requested",
            OverrideApproved => "override_approved",
            SlaBreached => "sla_breached",
            ReasonCodeAdded => "reason_code_added",
            OrderPlaced => "order_placed",
            OrderSubmitted => "order_submitted",
            OrderFailed => "order_failed",
            OrderDeadLettered => "order_dead_lettered",
            OrderResultReceived => "order_result_received",
            PartnerConnected => "partner_connected",
            PolicyChanged => "policy_changed",
            InterviewScheduled => "interview_scheduled",
            InterviewCancelled => "interview_cancelled",
            MonitoringRequested => "monitoring_requested",
            IntegrityReportAttached => "integrity_report_attached",
            ConsentRecorded => "consent_recorded",
            CandidateDeleted => "candidate_deleted",
            CandidateDataExported => "candidate_data_exported",
        }
    }

    /// The event in plain words, for timelines.
    pub fn label(self) -> &'static str {
        use AuditEventType::*;
        match self {
            StageChanged => "Stage changed",
            VerificationRequested => "Verification requested",
            VerificationStarted => "Verification started",
            VerificationCompleted => "Verification completed",
            StageTransitionBlocked => "Stage move blocked",
            ExceptionGranted => "Exception granted",
            ExceptionExpired => "Exception expired",
            ReconciliationRun => "Reconciliation run",
            DriftDetected => "Drift detected",
            DriftResolved => "Drift resolved",
            LoginSucceeded => "Signed in",
            LoginFailed => "Failed sign-in",
            LoggedOut => "Signed out",
            UserCreated => "User created",
            CandidateCreated => "Candidate created",
            CandidateRedacted => "Candidate data redacted",
            AuditVerified => "Audit chain verified",
            CheckpointCreated => "Audit checkpoint signed",
            DeliveryDeadLettered => "Delivery dead-lettered",
            DeliveryReplayed => "Delivery replayed",
            EvidencePackViewed => "Evidence pack opened",
            AuditExported => "Audit exported",
            ReviewStarted => "Review started",
            ReviewCompleted => "Review completed",
            OverrideRequested => "Override requested",
            OverrideApproved => "Override approved",
            SlaBreached => "Review SLA breached",
            ReasonCodeAdded => "Review reason code added",
            OrderPlaced => "Background check ordered",
            OrderSubmitted => "Background check submitted",
            OrderFailed => "Background check order failed",
            OrderDeadLettered => "Background check order dead-lettered",
            OrderResultReceived => "Background check update received",
            PartnerConnected => "Partner connected",
            PolicyChanged => "Policy changed",
            InterviewScheduled => "Interview scheduled",
            InterviewCancelled => "Interview cancelled",
            MonitoringRequested => "Interview monitoring requested",
            IntegrityReportAttached => "Integrity report attached",
            ConsentRecorded => "Monitoring consent recorded",
            CandidateDeleted => "Candidate deleted",
            CandidateDataExported => "Candidate data exported",
        }
    }
}

impl fmt::Display for AuditEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditEventType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditEventType::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown audit event type '{s}'"))
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
    pub status: String,
    pub risk_tier: Option<String>,
    pub reason_codes: Vec<String>,
    pub policy_name: Option<String>,
    pub provider_evidence_url: Option<String>,
    pub session_created_at: DateTime<Utc>,
    pub events: Vec<EvidenceEvent>,
    /// SHA-256 (hex) of the canonical JSON of every field above.
    pub sha256: String,
}

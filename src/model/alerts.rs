//! Alerts to Support: what went wrong that a person should look at, and where they are sent.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum! {
    /// What an alert is about.
    pub enum AlertKind("alert kind") {
        DeliveryDeadLettered = "delivery_dead_lettered" / "Delivery dead-lettered",
        ReviewSlaBreached = "review_sla_breached" / "Review past its SLA",
        ReconciliationFailed = "reconciliation_failed" / "Reconciliation failed",
        ReconciliationDrift = "reconciliation_drift" / "Drift above the threshold",
        AuditChainBroken = "audit_chain_broken" / "Audit chain failed verification",
        Test = "test" / "Test alert",
    }
}

/// Where alerts go, as the Settings page shows it: the Slack URL and the signing secret are
/// write-only (only whether they are set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AlertSettingsView {
    pub slack_configured: bool,
    pub webhook_url: Option<String>,
    pub webhook_secret_configured: bool,
    /// A reconciliation run that finds at least this many drifted sessions raises an alert.
    pub drift_threshold: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One alert raised, for the Settings page's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    pub id: i64,
    pub kind: AlertKind,
    pub summary: String,
    /// The same thing alerted again within the hour: counted here, not sent again.
    pub repeats: i64,
    pub created_at: DateTime<Utc>,
}

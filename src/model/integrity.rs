//! Interview integrity (seed 003, SPEC §7) as users see it: interviews, reports, consent, scores.
use super::Stage;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum! {
    /// Whether the candidate agreed to be monitored, as the monitor reports it.
    pub enum Consent("consent") {
        Given = "given" / "given",
        Declined = "declined" / "declined",
    }
}

text_enum! {
    /// An interview is scheduled until it is cancelled (rescheduling keeps it scheduled).
    pub enum InterviewState("interview state") {
        Scheduled = "scheduled" / "Scheduled",
        Cancelled = "cancelled" / "Cancelled",
    }
}

/// A flag from the monitor, in plain words (unknown flags are shown as sent).
pub fn integrity_flag_label(flag: &str) -> String {
    match flag {
        "tab_switch" => "Switched browser tabs".into(),
        "multiple_faces" => "More than one face on camera".into(),
        "no_face" => "Face not visible".into(),
        "voice_mismatch" => "Voice did not match the candidate".into(),
        "second_voice" => "A second voice was heard".into(),
        "screen_share_lost" => "Screen sharing stopped".into(),
        "copy_paste" => "Large copy-paste detected".into(),
        "proxy_suspected" => "Proxy interview suspected".into(),
        other => other.replace('_', " "),
    }
}

/// The monitor connection as admins see it (never the key or secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorStatus {
    pub url: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// An interview on the profile with its integrity report, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewView {
    pub id: i64,
    pub stage: Stage,
    pub scheduled_at: DateTime<Utc>,
    pub time_zone: String,
    pub interviewers: Vec<String>,
    pub state: InterviewState,
    pub monitored: bool,
    pub report: Option<ReportView>,
}

/// A report. Everyone sees whether it passed the policy (go/no-go) and the consent; hiring managers
/// see nothing more (SPEC §2): no score, flags, summary or file (`None` / empty for them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub report_id: Option<i64>,
    /// Consent given, no flags and a score above the flag threshold.
    pub passed: bool,
    pub score: Option<i64>,
    pub flags: Vec<String>,
    pub summary: Option<String>,
    pub consent: Consent,
    pub consent_at: DateTime<Utc>,
    pub filename: Option<String>,
    pub sha256: Option<String>,
}

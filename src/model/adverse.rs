//! Adverse action (FCRA): the individualized assessment, the pre-adverse notice, the waiting
//! period and the final notice, as the profile shows them.
use crate::error::Invalid;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum! {
    /// Where an adverse-action process is. Open: assessing, waiting, paused.
    pub enum AdverseState("adverse-action state") {
        /// Started; the individualized assessment comes before any notice.
        Assessing = "assessing" / "Individualized assessment",
        /// The pre-adverse notice went out; the waiting period runs.
        Waiting = "waiting" / "Waiting period",
        /// The candidate responded or disputed: the clock is stopped.
        Paused = "paused" / "Paused: candidate responded",
        /// Called off; the candidate proceeds.
        Cancelled = "cancelled" / "Cancelled",
        /// The final notice went out and the application was rejected.
        Completed = "completed" / "Final notice sent",
    }
}

impl AdverseState {
    /// Whether the process still holds the application (gates block offer and hire).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            AdverseState::Assessing | AdverseState::Waiting | AdverseState::Paused
        )
    }
}

text_enum! {
    /// The two notices of the process.
    pub enum NoticeKind("notice kind") {
        PreAdverse = "pre_adverse" / "Pre-adverse action notice",
        Final = "final" / "Final adverse action notice",
    }
}

text_enum! {
    /// A notice's email: sent by the delivery worker over SMTP, or not sent at all when no SMTP
    /// server is configured (the notice is then for print and postal delivery only).
    pub enum NoticeEmail("notice email state") {
        NotConfigured = "not_configured" / "Email not configured: print and post it",
        Queued = "queued" / "Email queued",
        Sent = "sent" / "Emailed",
        Failed = "failed" / "Email failed",
    }
}

/// A job's waiting period between the pre-adverse notice and the final notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingPeriod {
    pub days: u32,
    /// Days on the business calendar (`CLEARANCE_BUSINESS_HOURS`) instead of calendar days.
    pub business: bool,
}

impl Default for WaitingPeriod {
    /// Seven calendar days: the shortest a leading peer allows.
    fn default() -> Self {
        WaitingPeriod {
            days: 7,
            business: false,
        }
    }
}

impl WaitingPeriod {
    /// At least seven calendar days (the shortest a leading peer allows) or five business days
    /// (a working week), at most ninety days.
    pub fn new(days: i64, business: bool) -> Result<WaitingPeriod, Invalid> {
        let least = if business { 5 } else { 7 };
        if !(least..=90).contains(&days) {
            let kind = if business { "business" } else { "calendar" };
            return Err(Invalid(format!(
                "the waiting period must be {least} to 90 {kind} days (got {days})"
            )));
        }
        Ok(WaitingPeriod {
            days: days as u32,
            business,
        })
    }
}

impl WaitingPeriod {
    /// As stored (checked when it was set): a negative count reads as none.
    pub fn stored(days: i64, business: bool) -> WaitingPeriod {
        WaitingPeriod {
            days: u32::try_from(days.max(0)).unwrap_or(u32::MAX),
            business,
        }
    }
}

impl std::fmt::Display for WaitingPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.business {
            "business"
        } else {
            "calendar"
        };
        write!(f, "{} {kind} days", self.days)
    }
}

/// The individualized assessment (EEOC factors) as the recruiter records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Assessment {
    /// The specific findings of the report that were considered.
    pub findings: String,
    /// The nature and gravity of the offense or conduct.
    pub offense_gravity: String,
    /// The time that has passed since the offense, conduct or sentence.
    pub time_elapsed: String,
    /// The nature of the job held or sought.
    pub job_nature: String,
    pub rationale: String,
}

impl Assessment {
    /// Every factor answered (trimmed), each at most 4,000 characters.
    pub fn validated(self) -> Result<Assessment, Invalid> {
        let fields = [
            ("the findings considered", self.findings),
            (
                "the nature and gravity of the offense",
                self.offense_gravity,
            ),
            ("the time elapsed", self.time_elapsed),
            ("the nature of the job", self.job_nature),
            ("the rationale", self.rationale),
        ];
        let mut out = Vec::with_capacity(5);
        for (name, value) in fields {
            let v = value.trim().to_string();
            if v.is_empty() {
                return Err(Invalid(format!("Please describe {name}.")));
            }
            if v.chars().count() > 4000 {
                return Err(Invalid(format!(
                    "{name} is too long (at most 4,000 characters)"
                )));
            }
            out.push(v);
        }
        let mut it = out.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(Assessment {
            findings: next(),
            offense_gravity: next(),
            time_elapsed: next(),
            job_nature: next(),
            rationale: next(),
        })
    }
}

/// Whether a background-check result calls for the adverse-action process (the partner's words,
/// any case: "Consider" or "Fail").
pub fn result_is_adverse(result: &str) -> bool {
    let r = result.trim();
    r.eq_ignore_ascii_case("consider") || r.eq_ignore_ascii_case("fail")
}

/// A notice as generated (and, when SMTP is configured, emailed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeView {
    pub id: i64,
    pub kind: NoticeKind,
    pub template_version: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub sha256: String,
    pub email: NoticeEmail,
    pub email_detail: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A response or dispute the recruiter recorded for the candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseView {
    pub id: i64,
    pub note: String,
    pub document_name: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// One adverse-action process as the profile shows it. Hiring managers never get one: they see
/// only [`ON_HOLD`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdverseActionView {
    pub id: i64,
    pub order_id: i64,
    pub application_id: i64,
    pub job_title: String,
    pub state: AdverseState,
    pub assessment: Option<Assessment>,
    pub assessed_by: Option<String>,
    pub assessed_at: Option<DateTime<Utc>>,
    pub waiting_period: WaitingPeriod,
    /// When the final notice may go (moves later by the time the clock was paused).
    pub deadline_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub notices: Vec<NoticeView>,
    pub responses: Vec<ResponseView>,
    pub started_by: Option<String>,
    pub started_at: DateTime<Utc>,
    pub closed_reason: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Whether this user may take the next steps (admins, recruiters).
    pub can_act: bool,
    /// Whether notices go by email (`CLEARANCE_SMTP_URL` is set).
    pub email_configured: bool,
    /// A deployment override shortened the waiting period (demo and tests only).
    pub wait_overridden: bool,
}

/// A notice template in force (version 0: the built-in one), for the admin's editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeTemplate {
    pub kind: NoticeKind,
    pub version: i64,
    pub subject: String,
    pub body: String,
    pub saved_by: Option<String>,
    pub saved_at: Option<DateTime<Utc>>,
}

/// A job's adverse-action settings, for the admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobAdverseSettings {
    pub job_id: i64,
    pub job_title: String,
    pub waiting_period: WaitingPeriod,
    /// The final notice goes by itself when the waiting period ends (unless paused or cancelled).
    pub auto_final: bool,
}

/// What a hiring manager sees while a process holds an application of theirs.
pub const ON_HOLD: &str = "On hold: background check under review";

/// What the profile shows of adverse action for one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AdverseActions {
    /// Admins, recruiters and security reviewers: every process, newest first.
    Detailed(Vec<AdverseActionView>),
    /// Hiring managers: whether one of their applications is on hold, nothing more.
    OnHold(bool),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adverse_results_are_consider_and_fail_in_any_case() {
        for r in ["Consider", "consider", " FAIL ", "Fail"] {
            assert!(result_is_adverse(r), "{r}");
        }
        for r in ["Pass", "Clear", "", "Considered", "pending"] {
            assert!(!result_is_adverse(r), "{r}");
        }
    }

    #[test]
    fn waiting_period_bounds_and_words() {
        assert_eq!(WaitingPeriod::default().to_string(), "7 calendar days");
        assert_eq!(
            WaitingPeriod::new(5, true).unwrap().to_string(),
            "5 business days"
        );
        assert!(WaitingPeriod::new(4, true).is_err());
        assert!(WaitingPeriod::new(6, false).is_err());
        assert_eq!(
            WaitingPeriod::new(7, false).unwrap(),
            WaitingPeriod::default()
        );
        assert!(WaitingPeriod::new(91, false).is_err());
        assert!(WaitingPeriod::new(-1, true).is_err());
    }

    #[test]
    fn assessment_needs_every_factor() {
        let full = Assessment {
            findings: " misdemeanor 2015 ".into(),
            offense_gravity: "minor".into(),
            time_elapsed: "eleven years".into(),
            job_nature: "warehouse".into(),
            rationale: "relevant".into(),
        };
        let ok = full.clone().validated().unwrap();
        assert_eq!(ok.findings, "misdemeanor 2015");
        let mut missing = full;
        missing.time_elapsed = "  ".into();
        assert_eq!(
            missing.validated().unwrap_err(),
            "Please describe the time elapsed."
        );
        assert!(AdverseState::Paused.is_open());
        assert!(!AdverseState::Completed.is_open());
    }
}

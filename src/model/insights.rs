//! The Insights page: the hiring funnel, verification outcomes, time to each event and the review
//! SLA, for a date range (organisation time) and optionally one job.
use super::{RiskTier, Stage, VerificationStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What the page shows: applications created from `from` through `to` (whole days in the
/// organisation's time zone), of one job or all, of the jobs under one policy or all, of
/// candidates of one risk tier or all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InsightsFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub job_id: Option<i64>,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub tier: Option<RiskTier>,
}

/// One stage of the funnel: applications that reached it (or a later one), and those there now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelStep {
    pub stage: Stage,
    pub reached: i64,
    pub now_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeCount {
    pub status: VerificationStatus,
    pub candidates: i64,
}

text_enum! {
    /// Which interval a timing measures.
    pub enum Interval("interval") {
        ApplicationToRequest = "application_to_request" / "Applied → verification requested",
        RequestToResult = "request_to_result" / "Verification requested → provider's result",
        ReviewOpenToDecision = "review_to_decision" / "Needs review opened → decided",
        OrderToResult = "order_to_result" / "Background check ordered → partner's result",
        DriftToResolved = "drift_to_resolved" / "Drift found → resolved",
    }
}

/// Median and 90th percentile of one interval for one risk tier (none: no tier given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub interval: Interval,
    pub tier: Option<RiskTier>,
    pub count: i64,
    pub p50_seconds: i64,
    pub p90_seconds: i64,
}

/// Review items opened in the range, per risk tier: decided within or after their SLA deadline,
/// still open, past the deadline now, and the oldest still open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SlaRow {
    pub tier: Option<RiskTier>,
    pub decided_within: i64,
    pub decided_after: i64,
    pub open: i64,
    pub breached: i64,
    pub oldest_open: Option<DateTime<Utc>>,
}

/// Verification results that arrived in one day or week (organisation time), by status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomePeriod {
    /// The first day of the period.
    pub start: NaiveDate,
    pub counts: Vec<(VerificationStatus, i64)>,
}

/// Stage moves the gate blocked in the range, by the stage they were for and the reason code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct BlockedMoves {
    pub stage: Option<Stage>,
    pub reason_code: String,
    pub moves: i64,
}

/// Stage exceptions granted in the range, per stage, and how many of those have expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExceptionCounts {
    pub stage: Stage,
    pub granted: i64,
    pub expired: i64,
}

/// A reconciliation run begun in the range, with what it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DriftRun {
    pub id: i64,
    pub trigger: super::ReconciliationTrigger,
    pub state: super::RunState,
    pub started_at: DateTime<Utc>,
    pub checked: i64,
    pub drifted: i64,
    pub fixed: i64,
}

/// Deliveries of one kind (which partner they go to) dead-lettered in the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DeadLetters {
    /// The job kind as stored (a kind this version does not know is shown as it is).
    pub kind: String,
    /// The background-check partner, for orders.
    pub partner: Option<String>,
    pub count: i64,
}

/// Candidates with an application in the range, per risk tier (none: no result with a tier yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierCount {
    pub tier: Option<RiskTier>,
    pub candidates: i64,
}

/// Daily buckets for ranges up to this many days, weekly (Monday to Sunday) beyond.
pub const DAILY_UP_TO_DAYS: i64 = 31;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    pub filter: InsightsFilter,
    /// Applications in the range.
    pub applications: i64,
    pub funnel: Vec<FunnelStep>,
    pub outcomes: Vec<OutcomeCount>,
    /// The same candidates by risk tier: low, medium, high, then none.
    pub tier_mix: Vec<TierCount>,
    /// Results over time: days, or weeks when the range is longer than `DAILY_UP_TO_DAYS`.
    pub weekly: bool,
    pub over_time: Vec<OutcomePeriod>,
    pub timings: Vec<Timing>,
    pub sla: Vec<SlaRow>,
    pub blocked: Vec<BlockedMoves>,
    pub exceptions: Vec<ExceptionCounts>,
    /// The newest runs first, at most `MAX_RUNS`.
    pub runs: Vec<DriftRun>,
    pub dead_letters: Vec<DeadLetters>,
    /// The policies the page can be narrowed to.
    pub policies: Vec<String>,
    /// When these figures were read (they are kept until something they count changes, and a
    /// minute at most).
    pub as_of: DateTime<Utc>,
}

/// Reconciliation runs listed at most.
pub const MAX_RUNS: i64 = 100;

/// The funnel's stages in order (a rejection ends an application where it was).
pub const FUNNEL: [Stage; 6] = [
    Stage::Applied,
    Stage::PhoneScreen,
    Stage::OnsiteOrPanelInterview,
    Stage::CodingAssessment,
    Stage::Offer,
    Stage::Hired,
];

/// "3 h 20 min", "2 d 4 h", "45 s": a duration as a person reads it.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_like_a_person_says_them() {
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(60), "1 min");
        assert_eq!(human_duration(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(human_duration(7200), "2 h");
        assert_eq!(human_duration(2 * 86_400 + 4 * 3600 + 59), "2 d 4 h");
        assert_eq!(human_duration(86_400), "1 d");
        assert_eq!(human_duration(-5), "0 s");
    }
}

//! Bulk actions from the candidate list: what is asked for, the preview, and a bulk job's progress.
use super::{CandidateQuery, Stage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A bulk action acts on this many candidates at most (a selection or every match of a filter).
pub const BULK_MAX: i64 = 5_000;

text_enum! {
    /// What a bulk job does to each candidate of its selection.
    pub enum BulkAction("bulk action") {
        SendVerification = "send_verification" / "Send verification",
    }
}

text_enum! {
    /// Where a bulk job is: working through its candidates, stopped by a person, or through.
    pub enum BulkState("bulk job state") {
        Running = "running" / "Running",
        Cancelled = "cancelled" / "Cancelled",
        Finished = "finished" / "Finished",
    }
}

text_enum! {
    /// What became of one candidate of a bulk job.
    pub enum BulkOutcome("bulk item outcome") {
        Pending = "pending" / "Waiting",
        Done = "done" / "Done",
        Skipped = "skipped" / "Skipped",
        Failed = "failed" / "Failed",
    }
}

/// Which candidates: the rows ticked on the list (application ids), or every row matching the
/// list's filters (up to `BULK_MAX`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BulkSelection {
    Rows(Vec<i64>),
    Matching(CandidateQuery),
}

impl BulkSelection {
    /// Every match of `query`'s filters when `all_matching`, else the ticked `rows`.
    pub fn new(rows: Vec<i64>, all_matching: bool, query: CandidateQuery) -> BulkSelection {
        if all_matching {
            BulkSelection::Matching(CandidateQuery {
                before: None,
                ..query
            })
        } else {
            BulkSelection::Rows(rows)
        }
    }
}

/// Candidates one reason keeps out of a bulk action: how many, and the first few names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkipGroup {
    pub reason: String,
    pub count: i64,
    pub first_names: Vec<String>,
}

/// What a bulk action would do, before it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkPreview {
    pub action: BulkAction,
    pub stage: Option<Stage>,
    /// Candidates selected (after removing repeats).
    pub selected: i64,
    /// Of those, how many the action will go ahead for.
    pub proceed: i64,
    pub skipped: Vec<SkipGroup>,
    /// The selection was cut at `BULK_MAX`.
    pub capped: bool,
}

/// One candidate of a bulk job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkItemView {
    pub candidate_id: i64,
    pub name: String,
    pub outcome: BulkOutcome,
    pub detail: Option<String>,
}

/// A bulk job as its page shows it: who, when, what, how far, and each candidate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkJobView {
    pub id: i64,
    pub action: BulkAction,
    pub stage: Option<Stage>,
    pub state: BulkState,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub total: i64,
    pub pending: i64,
    pub done: i64,
    pub skipped: i64,
    pub failed: i64,
    pub items: Vec<BulkItemView>,
}

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
        OrderBackgroundCheck = "order_background_check" / "Order background check",
        MoveStage = "move_stage" / "Move to stage",
    }
}

/// What "Order background check" orders for each candidate: one partner package and its
/// add-ons, at the total per candidate the user was shown (refused if the catalog changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkOrder {
    pub partner_id: i64,
    pub package_id: String,
    #[serde(default)]
    pub add_on_ids: Vec<String>,
    pub total_each: String,
}

/// A bulk action with what it needs: the order, the stage to move to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BulkTask {
    SendVerification,
    OrderBackgroundCheck(BulkOrder),
    MoveStage(Stage),
}

impl BulkTask {
    /// The task `action` names, from the request's other fields: an order needs its partner,
    /// package and total, a move its stage.
    pub fn new(
        action: BulkAction,
        move_to: Option<Stage>,
        order: Option<BulkOrder>,
    ) -> Result<BulkTask, String> {
        match action {
            BulkAction::SendVerification => Ok(BulkTask::SendVerification),
            BulkAction::OrderBackgroundCheck => order
                .filter(|o| !o.package_id.trim().is_empty())
                .map(|o| {
                    BulkTask::OrderBackgroundCheck(BulkOrder {
                        add_on_ids: super::unique_add_ons(&o.add_on_ids),
                        ..o
                    })
                })
                .ok_or_else(|| "Choose a partner and a package to order.".to_string()),
            BulkAction::MoveStage => move_to
                .map(BulkTask::MoveStage)
                .ok_or_else(|| "Choose the stage to move to.".to_string()),
        }
    }

    pub fn action(&self) -> BulkAction {
        match self {
            BulkTask::SendVerification => BulkAction::SendVerification,
            BulkTask::OrderBackgroundCheck(_) => BulkAction::OrderBackgroundCheck,
            BulkTask::MoveStage(_) => BulkAction::MoveStage,
        }
    }

    /// Does the task act on each selected application (a move), or once per candidate?
    pub fn per_application(&self) -> bool {
        matches!(self, BulkTask::MoveStage(_))
    }
}

/// An order as a bulk preview or job shows it: names and exact amounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkOrderSummary {
    pub partner: String,
    pub package: String,
    pub add_ons: Vec<String>,
    /// Per candidate, exactly.
    pub each: rust_decimal::Decimal,
    /// For every candidate the order goes ahead for (None: beyond any amount that can be shown).
    pub total: Option<rust_decimal::Decimal>,
}

impl BulkOrderSummary {
    /// "$79.98 each; total $79,740.06"-style words, exact to the cent.
    pub fn amounts(&self) -> (String, String) {
        (
            super::format_money(self.each),
            self.total
                .map_or_else(|| "too large to show".into(), super::format_money),
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_needs_what_its_action_needs() {
        assert_eq!(
            BulkTask::new(BulkAction::SendVerification, None, None),
            Ok(BulkTask::SendVerification)
        );
        assert!(BulkTask::new(BulkAction::MoveStage, None, None).is_err());
        assert_eq!(
            BulkTask::new(BulkAction::MoveStage, Some(Stage::PhoneScreen), None)
                .map(|t| t.action()),
            Ok(BulkAction::MoveStage)
        );
        let order = BulkOrder {
            partner_id: 1,
            package_id: "basic".into(),
            add_on_ids: vec!["mvr".into(), "mvr".into(), "drug".into()],
            total_each: "40.00".into(),
        };
        match BulkTask::new(BulkAction::OrderBackgroundCheck, None, Some(order.clone())) {
            Ok(BulkTask::OrderBackgroundCheck(o)) => assert_eq!(o.add_on_ids, ["mvr", "drug"]),
            other => panic!("{other:?}"),
        }
        let blank = BulkOrder {
            package_id: " ".into(),
            ..order
        };
        assert!(BulkTask::new(BulkAction::OrderBackgroundCheck, None, Some(blank)).is_err());
        assert!(BulkTask::new(BulkAction::OrderBackgroundCheck, None, None).is_err());
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
    /// A move's stage.
    pub stage: Option<Stage>,
    /// An order's package, add-ons and exact total for all who proceed.
    pub order: Option<BulkOrderSummary>,
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
    /// An order's package and add-ons (its total: per candidate ordered).
    pub order: Option<BulkOrderSummary>,
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

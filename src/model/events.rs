//! What `GET /events` tells a browser: that something changed, and of which candidate.
use serde::{Deserialize, Serialize};

text_enum! {
    /// What changed: the `event:` of the stream, so a page refetches only what it shows of it.
    pub enum ChangeKind("change kind") {
        Verification = "verification" / "Verification",
        Stage = "stage" / "Stage",
        Orders = "orders" / "Background checks",
        Interviews = "interviews" / "Interviews",
        ReviewQueue = "review_queue" / "Review queue",
        Deliveries = "deliveries" / "Deliveries",
        Bulk = "bulk" / "Bulk jobs",
    }
}

/// The `data:` of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNotice {
    pub candidate_id: Option<i64>,
}

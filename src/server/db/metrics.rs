//! What the metrics endpoint reads from the database at each scrape: work waiting (delivery jobs
//! not yet done), review items open and past their deadline, and the audit chain's length. Each
//! query reads only unfinished rows, through the index on their state, or one row.
use super::{on_db, Db, Origin};
use crate::model::{JobState, RiskTier};
use chrono::{DateTime, Utc};

/// Delivery jobs of one kind in one unfinished state (pending, running or dead).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobCount {
    /// Stored text: a kind this version does not know is still counted, under its own name.
    pub kind: String,
    pub state: JobState,
    pub count: i64,
}

/// Review items not yet closed, of one risk tier (none: the provider gave no tier).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReviewCount {
    pub risk_tier: Option<RiskTier>,
    pub open: i64,
    /// Of those, the ones whose deadline has passed.
    pub breached: i64,
}

pub async fn unfinished_jobs(db: &Db) -> sqlx::Result<Vec<JobCount>> {
    let sql = "SELECT kind, state, COUNT(*) AS count FROM delivery_jobs
               WHERE state IN ('pending', 'running', 'dead') GROUP BY kind, state";
    on_db!(db, p => sqlx::query_as::<_, JobCount>(sql).fetch_all(p).await).in_table("delivery_jobs")
}

pub async fn open_review_items(db: &Db, now: DateTime<Utc>) -> sqlx::Result<Vec<ReviewCount>> {
    let sql = "SELECT risk_tier, COUNT(*) AS open,
                      COALESCE(SUM(CASE WHEN deadline_at < $1 THEN 1 ELSE 0 END), 0) AS breached
               FROM review_items WHERE state IN ('open', 'awaiting_second_approval')
               GROUP BY risk_tier";
    on_db!(db, p => sqlx::query_as::<_, ReviewCount>(sql).bind(now).fetch_all(p).await)
        .in_table("review_items")
}

/// Entries in the audit chain (the newest entry's sequence number; 0 before the first).
pub async fn audit_chain_length(db: &Db) -> sqlx::Result<i64> {
    let sql = "SELECT seq FROM audit_head WHERE id = 1";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_optional(p).await)
        .map(|seq| seq.unwrap_or(0))
}

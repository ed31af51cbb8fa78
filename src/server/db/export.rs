//! Reads for the audit export, in keyset batches so memory stays flat however many rows there are.
use super::{on_db, Db, Origin};
use crate::model::{RiskTier, Stage, VerificationStatus};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub application_id: i64,
    pub candidate_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub job_title: String,
    pub stage: Stage,
    pub verification_status: VerificationStatus,
    pub verification_risk_tier: Option<RiskTier>,
    pub verification_verified_at: Option<DateTime<Utc>>,
    pub verification_session_id: Option<String>,
    pub provider_evidence_url: Option<String>,
}

/// Applications with any stage activity in [from, to), optionally one job's, after `after_id`.
pub async fn batch(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    job_id: Option<i64>,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ExportRow>> {
    let sql = "SELECT a.id AS application_id, c.id AS candidate_id, c.first_name, c.last_name, c.email, j.title AS job_title,
                      a.stage, c.verification_status, c.verification_risk_tier, c.verification_verified_at,
                      c.verification_session_id, vs.evidence_pack_url AS provider_evidence_url
               FROM applications a
               JOIN candidates c ON c.id = a.candidate_id
               JOIN jobs j ON j.id = a.job_id
               LEFT JOIN verification_sessions vs ON vs.session_id = c.verification_session_id
               WHERE a.id > $1 AND ($2 IS NULL OR a.job_id = $2)
                 AND EXISTS (SELECT 1 FROM stage_changes s WHERE s.application_id = a.id AND s.changed_at >= $3 AND s.changed_at < $4)
               ORDER BY a.id LIMIT $5";
    on_db!(db, p => sqlx::query_as::<_, ExportRow>(sql).bind(after_id).bind(job_id).bind(from).bind(to).bind(limit).fetch_all(p).await)
        .origin(|column| if column == "stage" { "applications" } else { "candidates" })
}

pub async fn count(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    job_id: Option<i64>,
) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM applications a
               WHERE ($1 IS NULL OR a.job_id = $1)
                 AND EXISTS (SELECT 1 FROM stage_changes s WHERE s.application_id = a.id AND s.changed_at >= $2 AND s.changed_at < $3)";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(job_id).bind(from).bind(to).fetch_one(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub application_id: i64,
    pub to_stage: Stage,
    pub actor_name: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// Stage history of the applications with ids in [first, last], oldest first.
pub async fn timelines(db: &Db, first: i64, last: i64) -> sqlx::Result<Vec<TimelineRow>> {
    let sql = "SELECT s.application_id, s.to_stage, u.name AS actor_name, s.changed_at
               FROM stage_changes s LEFT JOIN users u ON u.id = s.actor_user_id
               WHERE s.application_id BETWEEN $1 AND $2 ORDER BY s.application_id, s.id";
    on_db!(db, p => sqlx::query_as::<_, TimelineRow>(sql).bind(first).bind(last).fetch_all(p).await)
        .in_table("stage_changes")
}

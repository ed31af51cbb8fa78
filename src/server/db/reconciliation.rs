//! Reconciliation runs (one at a time, across instances) and drift records.
use super::{on_db, BeginWrite, Db};
use crate::model::{ReconciliationTrigger, RunState};
use chrono::{DateTime, Utc};

/// Starts a run unless one is running; a run whose last sign of life (start or page heartbeat)
/// is older than `abandoned_after` (its process died) is closed as failed first, so a new one
/// starts cleanly from the beginning of the window.
pub async fn start(
    db: &Db,
    trigger: ReconciliationTrigger,
    now: DateTime<Utc>,
    abandoned_after: chrono::Duration,
) -> sqlx::Result<Option<i64>> {
    let db = db.clone();
    super::detached(async move {
        let stale = now - abandoned_after;
        let close = "UPDATE reconciliation_runs SET state = 'failed', finished_at = $1, error = 'abandoned: the process running it stopped' WHERE state = 'running' AND COALESCE(heartbeat_at, started_at) <= $2";
        let insert = "INSERT INTO reconciliation_runs (trigger, state, started_at, heartbeat_at) VALUES ($1, 'running', $2, $2) ON CONFLICT DO NOTHING RETURNING id";
        on_db!(&db, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query(close).bind(now).bind(stale).execute(&mut *tx).await?;
            let id = sqlx::query_scalar::<_, i64>(insert).bind(trigger).bind(now).fetch_optional(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        })
    })
    .await
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub checked: i64,
    pub drifted: i64,
    pub fixed: i64,
    pub failed: i64,
}

/// The counts so far and a heartbeat, after every page (the Drift page shows them while it runs).
pub async fn progress(db: &Db, id: i64, c: Counts, now: DateTime<Utc>) -> sqlx::Result<()> {
    let sql = "UPDATE reconciliation_runs SET heartbeat_at = $2, checked = $3, drifted = $4, fixed = $5, failed = $6 WHERE id = $1 AND state = 'running'";
    let db = db.clone();
    super::detached(async move {
        on_db!(&db, p => sqlx::query(sql).bind(id).bind(now).bind(c.checked).bind(c.drifted).bind(c.fixed).bind(c.failed)
            .execute(p).await.map(|_| ()))
    })
    .await
}

pub async fn finish(
    db: &Db,
    id: i64,
    c: Counts,
    duration_ms: i64,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let sql = "UPDATE reconciliation_runs SET state = $2, finished_at = $3, checked = $4, drifted = $5, fixed = $6, failed = $7, duration_ms = $8, error = $9 WHERE id = $1";
    let state = if error.is_some() {
        RunState::Failed
    } else {
        RunState::Finished
    };
    let (db, error) = (db.clone(), error.map(str::to_string));
    super::detached(async move {
        on_db!(&db, p => sqlx::query(sql).bind(id).bind(state).bind(now).bind(c.checked).bind(c.drifted).bind(c.fixed).bind(c.failed).bind(duration_ms).bind(error)
            .execute(p).await.map(|_| ()))
    })
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub trigger: ReconciliationTrigger,
    pub state: RunState,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub checked: i64,
    pub drifted: i64,
    pub fixed: i64,
    pub failed: i64,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

pub async fn recent_runs(db: &Db, limit: i64) -> sqlx::Result<Vec<RunRow>> {
    let sql = "SELECT id, trigger, state, started_at, finished_at, checked, drifted, fixed, failed, duration_ms, error FROM reconciliation_runs ORDER BY id DESC LIMIT $1";
    on_db!(db, p => sqlx::query_as::<_, RunRow>(sql).bind(limit).fetch_all(p).await)
}

#[allow(clippy::too_many_arguments)]
pub async fn record_drift(
    db: &Db,
    run_id: Option<i64>,
    candidate_id: i64,
    session_id: &str,
    field: &str,
    before: Option<&str>,
    after: Option<&str>,
    detected_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    let sql = "INSERT INTO drift_records (run_id, candidate_id, session_id, field, before_value, after_value, detected_at, resolved_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_db!(db, p => sqlx::query(sql).bind(run_id).bind(candidate_id).bind(session_id).bind(field).bind(before).bind(after).bind(detected_at).bind(resolved_at)
        .execute(p).await.map(|_| ()))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DriftRow {
    pub candidate_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub session_id: String,
    pub field: String,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
    pub detected_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

pub async fn recent_drift(db: &Db, limit: i64) -> sqlx::Result<Vec<DriftRow>> {
    let sql = "SELECT d.candidate_id, c.first_name, c.last_name, d.session_id, d.field, d.before_value, d.after_value, d.detected_at, d.resolved_at
               FROM drift_records d JOIN candidates c ON c.id = d.candidate_id ORDER BY d.id DESC LIMIT $1";
    on_db!(db, p => sqlx::query_as::<_, DriftRow>(sql).bind(limit).fetch_all(p).await)
}

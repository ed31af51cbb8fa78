//! Bulk jobs and their items (services::bulk).
use super::{audit::AuditAppend, bind_all, on_db, BeginWrite, Bind, Binds, Db, Origin};
use crate::model::{BulkAction, BulkOutcome, BulkState, Stage, VerificationStatus};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

/// A candidate a bulk action may act on, with what decides whether it will.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    pub candidate_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub verification_status: VerificationStatus,
}

/// Candidates with a verification request still on its way to the provider.
pub async fn pending_verification_requests(
    db: &Db,
) -> sqlx::Result<std::collections::HashSet<i64>> {
    let sql = "SELECT subject FROM delivery_jobs WHERE kind = 'verification.create_session' AND state IN ('pending', 'running')";
    let subjects: Vec<Option<String>> =
        on_db!(db, p => sqlx::query_scalar(sql).fetch_all(p).await)?;
    Ok(subjects
        .into_iter()
        .flatten()
        .filter_map(|s| s.strip_prefix("candidate:").and_then(|id| id.parse().ok()))
        .collect())
}

/// Creates the bulk job with one item per candidate, in order, unless this user already made one
/// under `request_key`: its id, and whether it is new.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &Db,
    request_key: &str,
    created_by: i64,
    action: BulkAction,
    stage: Option<Stage>,
    candidate_ids: &[i64],
    now: DateTime<Utc>,
    audit: impl Fn(i64) -> NewAuditEvent,
) -> sqlx::Result<(i64, bool)> {
    let insert = "INSERT INTO bulk_jobs (request_key, action, stage, state, created_by, created_at, total)
                  VALUES ($1, $2, $3, 'running', $4, $5, $6) ON CONFLICT (created_by, request_key) DO NOTHING RETURNING id";
    let existing = "SELECT id FROM bulk_jobs WHERE created_by = $1 AND request_key = $2";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(insert)
            .bind(request_key).bind(action).bind(stage).bind(created_by).bind(now).bind(candidate_ids.len() as i64)
            .fetch_optional(&mut *tx).await?;
        let Some(id) = id else {
            let id: i64 = sqlx::query_scalar(existing).bind(created_by).bind(request_key).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            return Ok((id, false));
        };
        // 400 rows a statement keeps within both databases' placeholder limits.
        for (chunk_no, chunk) in candidate_ids.chunks(400).enumerate() {
            let mut binds = Binds::new();
            let values: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    format!("({}, {}, {})", binds.push(Bind::Int(id)), binds.push(Bind::Int(*c)), binds.push(Bind::Int((chunk_no * 400 + i) as i64)))
                })
                .collect();
            let sql = format!("INSERT INTO bulk_items (bulk_id, candidate_id, position) VALUES {}", values.join(", "));
            bind_all!(sqlx::query(&sql), &binds).execute(&mut *tx).await?;
        }
        tx.append_audit(&audit(id)).await?;
        tx.commit().await?;
        Ok((id, true))
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub action: BulkAction,
    pub stage: Option<Stage>,
    pub state: BulkState,
    pub created_by: i64,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub total: i64,
}

const JOB_SELECT: &str = "SELECT b.id, b.action, b.stage, b.state, b.created_by, u.name AS created_by_name, b.created_at, b.finished_at, b.total
                          FROM bulk_jobs b JOIN users u ON u.id = b.created_by";

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<JobRow>> {
    let sql = format!("{JOB_SELECT} WHERE b.id = $1");
    on_db!(db, p => sqlx::query_as::<_, JobRow>(&sql).bind(id).fetch_optional(p).await)
        .in_table("bulk_jobs")
}

/// How many items of the job have each outcome.
pub async fn counts(db: &Db, id: i64) -> sqlx::Result<Vec<(BulkOutcome, i64)>> {
    let sql = "SELECT outcome, COUNT(*) FROM bulk_items WHERE bulk_id = $1 GROUP BY outcome";
    on_db!(db, p => sqlx::query_as::<_, (BulkOutcome, i64)>(sql).bind(id).fetch_all(p).await)
        .in_table("bulk_items")
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub candidate_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub outcome: BulkOutcome,
    pub detail: Option<String>,
}

/// The job's items in selection order, at most `limit`.
pub async fn items(db: &Db, id: i64, limit: i64) -> sqlx::Result<Vec<ItemRow>> {
    let sql = "SELECT i.candidate_id, c.first_name, c.last_name, i.outcome, i.detail
               FROM bulk_items i JOIN candidates c ON c.id = i.candidate_id
               WHERE i.bulk_id = $1 ORDER BY i.position LIMIT $2";
    on_db!(db, p => sqlx::query_as::<_, ItemRow>(sql).bind(id).bind(limit).fetch_all(p).await)
        .in_table("bulk_items")
}

/// The next waiting items of running jobs, oldest job first: (job id, candidate id).
pub async fn next_items(db: &Db, limit: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    let sql = "SELECT i.bulk_id, i.candidate_id FROM bulk_jobs b
               JOIN bulk_items i ON i.bulk_id = b.id AND i.outcome = 'pending'
               WHERE b.state = 'running' ORDER BY b.id, i.position LIMIT $1";
    on_db!(db, p => sqlx::query_as::<_, (i64, i64)>(sql).bind(limit).fetch_all(p).await)
}

/// The statement that marks one waiting item; run it in the transaction of what the item stands
/// for, which must roll back if it changes no row (another instance got there first).
pub const MARK_ITEM: &str = "UPDATE bulk_items SET outcome = $3, detail = $4, updated_at = $5
                             WHERE bulk_id = $1 AND candidate_id = $2 AND outcome = 'pending'";

/// Marks a waiting item skipped or failed (with why): false if it was not waiting any more.
pub async fn mark(
    db: &Db,
    id: i64,
    candidate_id: i64,
    outcome: BulkOutcome,
    detail: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    on_db!(db, p => sqlx::query(MARK_ITEM).bind(id).bind(candidate_id).bind(outcome).bind(detail).bind(now).execute(p).await.map(|r| r.rows_affected() == 1))
}

/// A running job with no waiting item left is finished.
pub async fn finish_if_done(db: &Db, id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    let sql = "UPDATE bulk_jobs SET state = 'finished', finished_at = $2
               WHERE id = $1 AND state = 'running' AND NOT EXISTS (SELECT 1 FROM bulk_items WHERE bulk_id = $1 AND outcome = 'pending')";
    on_db!(db, p => sqlx::query(sql).bind(id).bind(now).execute(p).await.map(|_| ()))
}

/// Stops a running job: its waiting items are skipped as cancelled. False if it was not running.
pub async fn cancel(
    db: &Db,
    id: i64,
    detail: &str,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let stop = "UPDATE bulk_jobs SET state = 'cancelled', finished_at = $2 WHERE id = $1 AND state = 'running'";
    let skip = "UPDATE bulk_items SET outcome = 'skipped', detail = $2, updated_at = $3 WHERE bulk_id = $1 AND outcome = 'pending'";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let stopped = sqlx::query(stop).bind(id).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
        if stopped {
            sqlx::query(skip).bind(id).bind(detail).bind(now).execute(&mut *tx).await?;
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(stopped)
    })
}

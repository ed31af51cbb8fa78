//! Bulk jobs and their items (services::bulk).
use super::{audit::AuditAppend, bind_all, on_db, BeginWrite, Bind, Binds, Db, Origin};
use crate::model::{BulkAction, BulkOutcome, BulkState, Stage};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

/// Creates the bulk job with one item per (candidate, application) of `items`, in order, unless this user already made one
/// under `request_key`: its id, and whether it is new.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &Db,
    request_key: &str,
    created_by: i64,
    action: BulkAction,
    stage: Option<Stage>,
    params: Option<&str>,
    items: &[(i64, Option<i64>)],
    now: DateTime<Utc>,
    audit: impl Fn(i64) -> NewAuditEvent,
) -> sqlx::Result<(i64, bool)> {
    let insert = "INSERT INTO bulk_jobs (request_key, action, stage, params, state, created_by, created_at, total)
                  VALUES ($1, $2, $3, $4, 'running', $5, $6, $7) ON CONFLICT (created_by, request_key) DO NOTHING RETURNING id";
    let existing = "SELECT id FROM bulk_jobs WHERE created_by = $1 AND request_key = $2";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(insert)
            .bind(request_key).bind(action).bind(stage).bind(params).bind(created_by).bind(now).bind(items.len() as i64)
            .fetch_optional(&mut *tx).await?;
        let Some(id) = id else {
            let id: i64 = sqlx::query_scalar(existing).bind(created_by).bind(request_key).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            return Ok((id, false));
        };
        // 300 rows a statement keeps within both databases' placeholder limits.
        for (chunk_no, chunk) in items.chunks(300).enumerate() {
            let mut binds = Binds::new();
            let values: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, (c, a))| {
                    let application = a.map_or_else(|| "NULL".to_string(), |a| binds.push(Bind::Int(a)));
                    format!("({}, {}, {}, {})", binds.push(Bind::Int(id)), binds.push(Bind::Int((chunk_no * 300 + i) as i64)), binds.push(Bind::Int(*c)), application)
                })
                .collect();
            let sql = format!("INSERT INTO bulk_items (bulk_id, position, candidate_id, application_id) VALUES {}", values.join(", "));
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
    pub params: Option<String>,
    pub state: BulkState,
    pub created_by: i64,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub total: i64,
}

const JOB_SELECT: &str = "SELECT b.id, b.action, b.stage, b.params, b.state, b.created_by, u.name AS created_by_name, b.created_at, b.finished_at, b.total
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

/// A waiting item of a running job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WaitingItem {
    pub bulk_id: i64,
    pub position: i64,
    pub candidate_id: i64,
    pub application_id: Option<i64>,
}

impl WaitingItem {
    pub fn item(&self) -> ItemRef {
        ItemRef {
            bulk_id: self.bulk_id,
            position: self.position,
        }
    }
}

/// The next waiting items of running jobs that no instance has claimed (or whose claim ran out
/// at `now_micros`), oldest job first.
pub async fn next_items(db: &Db, now_micros: i64, limit: i64) -> sqlx::Result<Vec<WaitingItem>> {
    let sql = "SELECT i.bulk_id, i.position, i.candidate_id, i.application_id FROM bulk_jobs b
               JOIN bulk_items i ON i.bulk_id = b.id AND i.outcome = 'pending'
               WHERE b.state = 'running' AND (i.claimed_until IS NULL OR i.claimed_until < $1)
               ORDER BY b.id, i.position LIMIT $2";
    on_db!(db, p => sqlx::query_as::<_, WaitingItem>(sql).bind(now_micros).bind(limit).fetch_all(p).await)
}

/// Claims a waiting item for this instance until `until_micros`: false when another instance
/// holds it (or it is not waiting any more). An instance that dies holding it lets it go then.
pub async fn claim_item(
    db: &Db,
    item: ItemRef,
    now_micros: i64,
    until_micros: i64,
) -> sqlx::Result<bool> {
    let sql = "UPDATE bulk_items SET claimed_until = $4
               WHERE bulk_id = $1 AND position = $2 AND outcome = 'pending' AND (claimed_until IS NULL OR claimed_until < $3)";
    on_db!(db, p => sqlx::query(sql).bind(item.bulk_id).bind(item.position).bind(now_micros).bind(until_micros)
        .execute(p).await.map(|r| r.rows_affected() == 1))
}

/// Lets go of a claimed item (this instance is stopping before it acted on it).
pub async fn release_item(db: &Db, item: ItemRef) -> sqlx::Result<()> {
    let sql = "UPDATE bulk_items SET claimed_until = NULL WHERE bulk_id = $1 AND position = $2";
    on_db!(db, p => sqlx::query(sql).bind(item.bulk_id).bind(item.position).execute(p).await.map(|_| ()))
}

/// Claims the next slot of `lane` (a partner, or stage moves), one every `every_micros` across
/// every instance: when it begins (µs since the epoch; the caller waits until then).
pub async fn claim_slot(
    db: &Db,
    lane: &str,
    now_micros: i64,
    every_micros: i64,
) -> sqlx::Result<i64> {
    // One upsert: the lane's row appears with its first slot, or moves on by one.
    let claim = "INSERT INTO bulk_pace (lane, next_at) VALUES ($1, $2 + $3)
                 ON CONFLICT (lane) DO UPDATE
                 SET next_at = CASE WHEN bulk_pace.next_at > $2 THEN bulk_pace.next_at ELSE $2 END + $3
                 RETURNING next_at - $3";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(claim).bind(lane).bind(now_micros).bind(every_micros).fetch_one(p).await)
}

/// One item of a bulk job: its position in the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef {
    pub bulk_id: i64,
    pub position: i64,
}

/// The statement that marks one waiting item (`mark`, `mark_done_in_tx!`).
#[doc(hidden)]
pub const MARK_ITEM: &str = "UPDATE bulk_items SET outcome = $3, detail = $4, updated_at = $5
                         WHERE bulk_id = $1 AND position = $2 AND outcome = 'pending'";

/// Inside `tx`, the transaction of what the item stands for: marks the bulk item done with
/// `detail`. False when it was not waiting any more (another instance got there first): the
/// caller rolls back then.
macro_rules! mark_done_in_tx {
    ($tx:expr, $item:expr, $detail:expr, $now:expr) => {{
        let item: &$crate::server::db::bulk::ItemRef = $item;
        sqlx::query($crate::server::db::bulk::MARK_ITEM)
            .bind(item.bulk_id)
            .bind(item.position)
            .bind($crate::model::BulkOutcome::Done)
            .bind($detail)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected()
            == 1
    }};
}
pub(crate) use mark_done_in_tx;

/// Marks a waiting item skipped or failed (with why): false if it was not waiting any more.
pub async fn mark(
    db: &Db,
    item: ItemRef,
    outcome: BulkOutcome,
    detail: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    on_db!(db, p => sqlx::query(MARK_ITEM).bind(item.bulk_id).bind(item.position).bind(outcome).bind(detail).bind(now).execute(p).await.map(|r| r.rows_affected() == 1))
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

//! The durable job queue: enqueue inside the caller's transaction, claim with a lease, record attempts.
use super::{on_db, BeginWrite, Db};
use crate::model::{JobKind, JobState};
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub subject: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, kind, payload, state, attempts, max_attempts, run_at, last_error, subject, created_at";

/// The INSERT for a new job; run it on the transaction that records the request.
const ENQUEUE_SQL: &str = "INSERT INTO delivery_jobs (kind, payload, state, attempts, max_attempts, run_at, subject, created_at, updated_at)
     VALUES ($1, $2, 'pending', 0, $3, $4, $5, $4, $4) RETURNING id";

/// Queuing a delivery job on an open transaction of either backend: it is sent only if the
/// caller's writes commit with it. `subject` is what the job is about (`candidate:{id}`).
pub trait Enqueue {
    fn enqueue(
        &mut self,
        kind: JobKind,
        payload: &str,
        max_attempts: i64,
        now: DateTime<Utc>,
        subject: &str,
    ) -> impl std::future::Future<Output = sqlx::Result<i64>> + Send;
}

macro_rules! impl_enqueue {
    ($conn:ty) => {
        impl Enqueue for $conn {
            async fn enqueue(
                &mut self,
                kind: JobKind,
                payload: &str,
                max_attempts: i64,
                now: DateTime<Utc>,
                subject: &str,
            ) -> sqlx::Result<i64> {
                sqlx::query_scalar::<_, i64>(ENQUEUE_SQL)
                    .bind(kind)
                    .bind(payload)
                    .bind(max_attempts)
                    .bind(now)
                    .bind(subject)
                    .fetch_one(&mut *self)
                    .await
            }
        }
    };
}

impl_enqueue!(sqlx::SqliteConnection);
impl_enqueue!(sqlx::PgConnection);

/// Moves each time a transaction that queued a job has committed, so the delivery worker starts
/// at once instead of at its next poll. SQLite: this process's connections tell it from their
/// commit hook (`watch_commits`). PostgreSQL: a trigger NOTIFYs `clearance_jobs` at the commit,
/// from whichever instance queued, and each instance relays it here (`relay_notifications`).
static QUEUED: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// Watches for jobs queued from now on.
pub fn queued() -> tokio::sync::watch::Receiver<u64> {
    QUEUED.subscribe()
}

fn tell_queued() {
    QUEUED.send_modify(|n| *n = n.wrapping_add(1));
}

/// Installed on every SQLite connection: an insert into `delivery_jobs` marks the transaction,
/// and its commit tells `queued()`. The hook runs as the commit begins; the worker's claim
/// (BEGIN IMMEDIATE) waits for the write lock, so it reads what was committed.
pub(super) async fn watch_commits(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let marked = std::sync::Arc::new(AtomicBool::new(false));
    let mut handle = conn.lock_handle().await?;
    let on_insert = marked.clone();
    handle.set_update_hook(move |change| {
        if matches!(change.operation, sqlx::sqlite::SqliteOperation::Insert)
            && change.table == "delivery_jobs"
        {
            on_insert.store(true, Ordering::Relaxed);
        }
    });
    let on_commit = marked.clone();
    handle.set_commit_hook(move || {
        if on_commit.swap(false, Ordering::Relaxed) {
            tell_queued();
        }
        true
    });
    handle.set_rollback_hook(move || marked.store(false, Ordering::Relaxed));
    Ok(())
}

/// PostgreSQL: relays `clearance_jobs` notifications to `queued()` until `stop`. Should the
/// listening connection fail, the worker's poll still finds every job.
pub async fn relay_notifications(pool: &sqlx::PgPool, stop: tokio_util::sync::CancellationToken) {
    let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN for queued jobs; the worker polls");
            return;
        }
    };
    if let Err(e) = listener.listen("clearance_jobs").await {
        tracing::warn!(error = %e, "cannot LISTEN for queued jobs; the worker polls");
        return;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            got = listener.recv() => match got {
                Ok(_) => tell_queued(),
                Err(e) => {
                    // recv reconnects by itself on the next call.
                    tracing::warn!(error = %e, "queued-job notifications interrupted");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            },
        }
    }
}

/// Claims the next due job (pending and due, or running with an expired lease) for `lease`.
/// Runs to its end once started (detached), so a claim is never half-made.
pub async fn claim(db: &Db, now: DateTime<Utc>, lease: Duration) -> sqlx::Result<Option<JobRow>> {
    let db = db.clone();
    super::detached(async move { claim_now(&db, now, lease).await }).await
}

async fn claim_now(db: &Db, now: DateTime<Utc>, lease: Duration) -> sqlx::Result<Option<JobRow>> {
    let lease_until = now + lease;
    match db {
        Db::Postgres(p) => {
            let sql = format!(
                "UPDATE delivery_jobs SET state = 'running', attempts = attempts + 1, lease_until = $2, updated_at = $1
                 WHERE id = (SELECT id FROM delivery_jobs
                             WHERE (state = 'pending' AND run_at <= $1) OR (state = 'running' AND lease_until < $1)
                             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING {COLUMNS}"
            );
            sqlx::query_as::<_, JobRow>(&sql)
                .bind(now)
                .bind(lease_until)
                .fetch_optional(p)
                .await
        }
        Db::Sqlite(p) => {
            // One writer at a time in SQLite: BEGIN IMMEDIATE makes select-then-update atomic.
            let mut tx = p.begin_write().await?;
            let sql = format!(
                "UPDATE delivery_jobs SET state = 'running', attempts = attempts + 1, lease_until = $2, updated_at = $1
                 WHERE id = (SELECT id FROM delivery_jobs
                             WHERE (state = 'pending' AND run_at <= $1) OR (state = 'running' AND lease_until < $1)
                             ORDER BY run_at, id LIMIT 1)
                 RETURNING {COLUMNS}"
            );
            let job = sqlx::query_as::<_, JobRow>(&sql)
                .bind(now)
                .bind(lease_until)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(job)
        }
    }
}

/// One delivery attempt as recorded for the Deliveries page and the support view.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub attempt: i64,
    pub started_at: DateTime<Utc>,
    pub latency_ms: i64,
    pub http_status: Option<i64>,
    pub outcome: String,
    pub detail: String,
}

pub async fn record_attempt(db: &Db, job_id: i64, a: &Attempt) -> sqlx::Result<()> {
    let sql = "INSERT INTO delivery_attempts (job_id, attempt, started_at, latency_ms, http_status, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_db!(db, p => sqlx::query(sql)
        .bind(job_id).bind(a.attempt).bind(a.started_at).bind(a.latency_ms).bind(a.http_status).bind(&a.outcome).bind(&a.detail)
        .execute(p).await.map(|_| ()))
}

pub async fn reschedule(
    db: &Db,
    job_id: i64,
    run_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let sql = "UPDATE delivery_jobs SET state = 'pending', run_at = $2, lease_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1";
    let (db, error) = (db.clone(), error.to_string());
    super::detached(async move {
        on_db!(&db, p => sqlx::query(sql).bind(job_id).bind(run_at).bind(error).bind(now).execute(p).await.map(|_| ()))
    })
    .await
}

pub async fn mark_dead(db: &Db, job_id: i64, error: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    let sql = "UPDATE delivery_jobs SET state = 'dead', lease_until = NULL, last_error = $2, updated_at = $3 WHERE id = $1";
    let (db, error) = (db.clone(), error.to_string());
    super::detached(async move {
        on_db!(&db, p => sqlx::query(sql).bind(job_id).bind(error).bind(now).execute(p).await.map(|_| ()))
    })
    .await
}

pub async fn mark_done(db: &Db, job_id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    let sql = "UPDATE delivery_jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $1";
    let db = db.clone();
    super::detached(async move {
        on_db!(&db, p => sqlx::query(sql).bind(job_id).bind(now).execute(p).await.map(|_| ()))
    })
    .await
}

/// Puts a dead job back in the queue with a fresh set of attempts.
pub async fn replay(db: &Db, job_id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let sql = "UPDATE delivery_jobs SET state = 'pending', attempts = 0, run_at = $2, updated_at = $2 WHERE id = $1 AND state = 'dead'";
    on_db!(db, p => sqlx::query(sql).bind(job_id).bind(now).execute(p).await.map(|r| r.rows_affected() == 1))
}

pub async fn find(db: &Db, job_id: i64) -> sqlx::Result<Option<JobRow>> {
    let sql = format!("SELECT {COLUMNS} FROM delivery_jobs WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, JobRow>(&sql).bind(job_id).fetch_optional(p).await)
}

pub async fn for_subject(db: &Db, subject: &str) -> sqlx::Result<Vec<JobRow>> {
    let sql = format!("SELECT {COLUMNS} FROM delivery_jobs WHERE subject = $1 ORDER BY id DESC");
    on_db!(db, p => sqlx::query_as::<_, JobRow>(&sql).bind(subject).fetch_all(p).await)
}

/// Deliveries that are not done, newest first.
pub async fn unfinished(db: &Db, limit: i64) -> sqlx::Result<Vec<JobRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM delivery_jobs WHERE state <> 'done' ORDER BY id DESC LIMIT $1"
    );
    on_db!(db, p => sqlx::query_as::<_, JobRow>(&sql).bind(limit).fetch_all(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub job_id: i64,
    pub attempt: i64,
    pub started_at: DateTime<Utc>,
    pub latency_ms: i64,
    pub http_status: Option<i64>,
    pub outcome: String,
    pub detail: String,
}

/// The attempts of the `limit` newest unfinished deliveries, in one query.
pub async fn attempts_of_unfinished(db: &Db, limit: i64) -> sqlx::Result<Vec<AttemptRow>> {
    let sql = "SELECT job_id, attempt, started_at, latency_ms, http_status, outcome, detail FROM delivery_attempts
               WHERE job_id IN (SELECT id FROM delivery_jobs WHERE state <> 'done' ORDER BY id DESC LIMIT $1)
               ORDER BY job_id, id";
    on_db!(db, p => sqlx::query_as::<_, AttemptRow>(sql).bind(limit).fetch_all(p).await)
}

/// Every attempt of the deliveries about one subject, in one query.
pub async fn attempts_for_subject(db: &Db, subject: &str) -> sqlx::Result<Vec<AttemptRow>> {
    let sql = "SELECT a.job_id, a.attempt, a.started_at, a.latency_ms, a.http_status, a.outcome, a.detail
               FROM delivery_attempts a JOIN delivery_jobs j ON j.id = a.job_id WHERE j.subject = $1 ORDER BY a.job_id, a.id";
    on_db!(db, p => sqlx::query_as::<_, AttemptRow>(sql).bind(subject).fetch_all(p).await)
}

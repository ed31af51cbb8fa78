//! Policy versions, stage exceptions and automatically started verifications.
use super::{audit::AuditAppend, jobs::Enqueue, on_db, BeginWrite, Db, Origin};
use crate::model::Stage;
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRow {
    pub id: i64,
    pub policy_name: String,
    pub version: i64,
    pub yaml: String,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub change_ticket: Option<String>,
}

const POLICY_SELECT: &str = "SELECT p.id, p.policy_name, p.version, p.yaml, u.name AS created_by_name, p.created_at, p.change_ticket
    FROM policies p LEFT JOIN users u ON u.id = p.created_by";

pub async fn latest(db: &Db, name: &str) -> sqlx::Result<Option<PolicyRow>> {
    let sql = format!("{POLICY_SELECT} WHERE p.policy_name = $1 ORDER BY p.version DESC LIMIT 1");
    on_db!(db, p => sqlx::query_as::<_, PolicyRow>(&sql).bind(name).fetch_optional(p).await)
}

/// Every version of a policy, newest first.
pub async fn versions(db: &Db, name: &str) -> sqlx::Result<Vec<PolicyRow>> {
    let sql = format!("{POLICY_SELECT} WHERE p.policy_name = $1 ORDER BY p.version DESC");
    on_db!(db, p => sqlx::query_as::<_, PolicyRow>(&sql).bind(name).fetch_all(p).await)
}

pub async fn names(db: &Db) -> sqlx::Result<Vec<String>> {
    let sql = "SELECT DISTINCT policy_name FROM policies ORDER BY policy_name";
    on_db!(db, p => sqlx::query_scalar::<_, String>(sql).fetch_all(p).await)
}

/// Stores a policy as version `version`; fails on a unique violation when someone saved first.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &Db,
    name: &str,
    version: i64,
    yaml: &str,
    created_by: Option<i64>,
    change_ticket: Option<&str>,
    now: DateTime<Utc>,
    audit: Option<&NewAuditEvent>,
) -> sqlx::Result<i64> {
    let sql =
        "INSERT INTO policies (policy_name, version, yaml, created_by, created_at, change_ticket)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let id = sqlx::query_scalar::<_, i64>(sql)
            .bind(name).bind(version).bind(yaml).bind(created_by).bind(now).bind(change_ticket)
            .fetch_one(&mut *tx).await?;
        if let Some(a) = audit {
            tx.append_audit(a).await?;
        }
        tx.commit().await?;
        Ok(id)
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExceptionRow {
    pub id: i64,
    pub candidate_id: i64,
    pub stage: Stage,
    pub reason_code: String,
    pub approved_by_name: String,
    pub approved_at: DateTime<Utc>,
    pub expiry_at: DateTime<Utc>,
    pub policy_name: String,
    pub policy_version: i64,
    /// The job whose moves it lifts the gate of (`None`: older rows, any job of the candidate).
    pub job_id: Option<i64>,
}

const EXCEPTION_SELECT: &str = "SELECT e.id, e.candidate_id, e.stage, e.reason_code, u.name AS approved_by_name, e.approved_at,
        e.expiry_at, e.policy_name, e.policy_version, e.job_id
    FROM stage_exceptions e JOIN users u ON u.id = e.approved_by";

/// A candidate's exceptions still in force at `now`, soonest expiry first.
pub async fn live_exceptions(
    db: &Db,
    candidate_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<ExceptionRow>> {
    let sql = format!(
        "{EXCEPTION_SELECT} WHERE e.candidate_id = $1 AND e.expiry_at > $2 ORDER BY e.expiry_at"
    );
    on_db!(db, p => sqlx::query_as::<_, ExceptionRow>(&sql).bind(candidate_id).bind(now).fetch_all(p).await)
        .in_table("stage_exceptions")
}

pub struct NewException<'a> {
    pub candidate_id: i64,
    pub job_id: i64,
    pub stage: &'a str,
    pub reason_code: &'a str,
    pub approved_by: i64,
    pub approved_at: DateTime<Utc>,
    pub expiry_at: DateTime<Utc>,
    pub policy_name: &'a str,
    pub policy_version: i64,
}

pub async fn insert_exception(
    db: &Db,
    e: &NewException<'_>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<i64> {
    let sql = "INSERT INTO stage_exceptions (candidate_id, stage, reason_code, approved_by, approved_at, expiry_at, policy_name, policy_version, job_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let id = sqlx::query_scalar::<_, i64>(sql)
            .bind(e.candidate_id).bind(e.stage).bind(e.reason_code).bind(e.approved_by)
            .bind(e.approved_at).bind(e.expiry_at).bind(e.policy_name).bind(e.policy_version).bind(e.job_id)
            .fetch_one(&mut *tx).await?;
        tx.append_audit(&audit(id)).await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// Exceptions that have lapsed by `now` and whose expiry is not logged yet.
pub async fn lapsed_unlogged(db: &Db, now: DateTime<Utc>) -> sqlx::Result<Vec<ExceptionRow>> {
    let sql = format!(
        "{EXCEPTION_SELECT} WHERE e.expiry_at <= $1 AND e.expired_logged_at IS NULL ORDER BY e.id LIMIT 500"
    );
    on_db!(db, p => sqlx::query_as::<_, ExceptionRow>(&sql).bind(now).fetch_all(p).await)
        .in_table("stage_exceptions")
}

/// Marks an exception's expiry as logged and appends `exception_expired`, exactly once.
pub async fn log_expiry(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let sql = "UPDATE stage_exceptions SET expired_logged_at = $2 WHERE id = $1 AND expired_logged_at IS NULL";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let first = sqlx::query(sql).bind(id).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
        if first {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(first)
    })
}

/// A verification to start with a stage move (or a blocked attempt), once per application and stage.
pub struct AutoStart<'a> {
    pub application_id: i64,
    pub stage: &'a str,
    pub candidate_id: i64,
    pub job_payload: &'a str,
    pub max_attempts: i64,
    pub audit: &'a NewAuditEvent,
}

/// Inside `tx`: records the trigger and queues the session request unless this application
/// already had one for this stage. Returns whether a verification was queued.
macro_rules! auto_start_in_tx {
    ($tx:expr, $a:expr, $now:expr) => {{
        let a: &AutoStart<'_> = $a;
        let fresh = sqlx::query(
            "INSERT INTO auto_verifications (application_id, stage, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(a.application_id)
        .bind(a.stage)
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1;
        if fresh {
            $tx.enqueue(
                crate::model::JobKind::CreateVerificationSession,
                &a.job_payload,
                a.max_attempts,
                $now,
                &format!("candidate:{}", a.candidate_id),
            )
            .await?;
            $tx.append_audit(a.audit).await?;
        }
        fresh
    }};
}

/// A blocked move: `stage_transition_blocked`, then (once per application and stage) the
/// automatic verification request, in one transaction.
pub async fn record_blocked(
    db: &Db,
    blocked: &NewAuditEvent,
    auto: Option<&AutoStart<'_>>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        tx.append_audit(blocked).await?;
        let started = match auto {
            Some(a) => auto_start_in_tx!(tx, a, now),
            None => false,
        };
        tx.commit().await?;
        Ok(started)
    })
}

/// Moves an application if it is still in `from` (stage history, `stage_changed`), then queues
/// the automatic verification, all in one transaction. `None` when someone else moved it first.
#[allow(clippy::too_many_arguments)]
pub async fn move_stage(
    db: &Db,
    application_id: i64,
    from: &str,
    to: &str,
    actor_user_id: Option<i64>,
    at: DateTime<Utc>,
    audit: &NewAuditEvent,
    auto: Option<&AutoStart<'_>>,
    bulk: Option<&super::bulk::ItemRef>,
) -> sqlx::Result<Option<bool>> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        if let Some(item) = bulk {
            if !super::bulk::mark_done_in_tx!(tx, item, format!("Moved to {}", to.parse::<Stage>().map_or(to, |s| s.label())), at) {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        let updated = sqlx::query("UPDATE applications SET stage = $1, updated_at = $2 WHERE id = $3 AND stage = $4")
            .bind(to).bind(at).bind(application_id).bind(from)
            .execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        sqlx::query("INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(application_id).bind(from).bind(to).bind(actor_user_id).bind(at)
            .execute(&mut *tx).await?;
        tx.append_audit(audit).await?;
        let started = match auto {
            Some(a) => auto_start_in_tx!(tx, a, at),
            None => false,
        };
        tx.commit().await?;
        Ok(Some(started))
    })
}

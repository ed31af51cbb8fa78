//! Failed-login counters, shared by every app instance on the same database.
use super::{audit::AuditAppend, on_db, BeginWrite, Db};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

/// Counts a failure against each key and records it in the audit log.
pub async fn record_failure(
    db: &Db,
    scope_keys: &[String],
    at: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        for key in scope_keys {
            sqlx::query("INSERT INTO login_failures (scope_key, failed_at) VALUES ($1, $2)")
                .bind(key).bind(at).execute(&mut *tx).await?;
        }
        tx.append_audit(audit).await?;
        tx.commit().await
    })
}

pub async fn failures_since(db: &Db, scope_key: &str, since: DateTime<Utc>) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM login_failures WHERE scope_key = $1 AND failed_at > $2";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(scope_key).bind(since).fetch_one(p).await)
}

pub async fn clear(db: &Db, scope_key: &str) -> sqlx::Result<()> {
    on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE scope_key = $1").bind(scope_key).execute(p).await.map(|_| ()))?;
    Ok(())
}

pub async fn prune_before(db: &Db, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let r = on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE failed_at < $1").bind(before).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(r)
}

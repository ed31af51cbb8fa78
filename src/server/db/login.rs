//! Failed-login counters, shared by every app instance on the same database.
use super::{on_db, BeginWrite, Db};
use chrono::{DateTime, Utc};

/// Checks the failures of each key within the window and, if every key is under its limit, counts
/// this attempt against each of them — atomically, so parallel attempts cannot all pass the check
/// before any is counted. Returns the ids of the counted rows, or None when a limit is reached.
/// (A successful sign-in takes its rows back with `release`.)
pub async fn reserve_attempt(
    db: &Db,
    limits: &[(String, i64)],
    since: DateTime<Utc>,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<Vec<i64>>> {
    let count = "SELECT COUNT(*) FROM login_failures WHERE scope_key = $1 AND failed_at > $2";
    let insert = "INSERT INTO login_failures (scope_key, failed_at) VALUES ($1, $2) RETURNING id";
    let (db, limits) = (db.clone(), limits.to_vec());
    super::detached(async move {
        on_db!(&db, p => {
            let mut tx = p.begin_write().await?;
            if let Db::Postgres(_) = &db {
                // SQLite's BEGIN IMMEDIATE already serializes writers; PostgreSQL needs a lock per key.
                let mut keys: Vec<i64> = limits.iter().map(|(k, _)| lock_key(k)).collect();
                keys.sort_unstable();
                for k in keys {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(k).execute(&mut *tx).await?;
                }
            }
            for (key, limit) in &limits {
                let n: i64 = sqlx::query_scalar(count).bind(key).bind(since).fetch_one(&mut *tx).await?;
                if n >= *limit {
                    return Ok(None);
                }
            }
            let mut ids = Vec::with_capacity(limits.len());
            for (key, _) in &limits {
                ids.push(sqlx::query_scalar::<_, i64>(insert).bind(key).bind(at).fetch_one(&mut *tx).await?);
            }
            tx.commit().await?;
            Ok(Some(ids))
        })
    })
    .await
}

fn lock_key(scope_key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(scope_key.as_bytes());
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Takes back the rows a sign-in counted when it succeeds, and clears the account's failures.
pub async fn release(db: &Db, ids: &[i64], account_key: &str) -> sqlx::Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        for id in ids {
            sqlx::query("DELETE FROM login_failures WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE scope_key = $1").bind(account_key).execute(&mut *tx).await?;
        tx.commit().await
    })
}

pub async fn prune_before(db: &Db, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let r = on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE failed_at < $1").bind(before).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(r)
}

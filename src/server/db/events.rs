//! The change log `GET /events` reads (written by triggers: `migrations/*/…_change_events.sql`).
use super::{on_db, Db};
use crate::model::ChangeKind;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub kind: ChangeKind,
    pub candidate_id: Option<i64>,
}

/// The newest change's id (0 when there is none).
pub async fn latest_id(db: &Db) -> sqlx::Result<i64> {
    let sql = "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM change_events";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await)
}

/// The oldest change still kept, if any.
pub async fn oldest_id(db: &Db) -> sqlx::Result<Option<i64>> {
    let sql = "SELECT MIN(id) FROM change_events";
    on_db!(db, p => sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(p).await)
}

/// Changes after `after`, oldest first, at most `limit`.
pub async fn since(db: &Db, after: i64, limit: i64) -> sqlx::Result<Vec<ChangeRow>> {
    let sql = "SELECT id, kind, candidate_id FROM change_events WHERE id > $1 ORDER BY id LIMIT $2";
    on_db!(db, p => sqlx::query_as::<_, ChangeRow>(sql).bind(after).bind(limit).fetch_all(p).await)
}

/// Forgets changes older than `before`.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let sql = "DELETE FROM change_events WHERE at < $1";
    on_db!(db, p => sqlx::query(sql).bind(before).execute(p).await.map(|r| r.rows_affected()))
}

/// Whether the candidate applied to one of the hiring manager's jobs.
pub async fn manager_sees(db: &Db, manager_id: i64, candidate_id: i64) -> sqlx::Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM applications a JOIN jobs j ON j.id = a.job_id
               WHERE a.candidate_id = $1 AND j.hiring_manager_id = $2)";
    on_db!(db, p => sqlx::query_scalar::<_, bool>(sql).bind(candidate_id).bind(manager_id).fetch_one(p).await)
}

/// On PostgreSQL, a connection of its own listening for the `NOTIFY clearance_changes` the change
/// triggers send; SQLite has no notifications (`None`).
pub async fn listen(db: &Db) -> sqlx::Result<Option<sqlx::postgres::PgListener>> {
    match db {
        Db::Postgres(pool) => {
            let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen("clearance_changes").await?;
            Ok(Some(listener))
        }
        Db::Sqlite(_) => Ok(None),
    }
}

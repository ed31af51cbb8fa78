//! Users and their password hashes.
use super::{audit::AuditAppend, on_db, BeginWrite, Db, Origin};
use crate::model::Role;
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

const COLUMNS: &str = "id, email, name, role, password_hash";

pub async fn find_by_email(db: &Db, email: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    on_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(email).fetch_optional(p).await)
        .in_table("users")
}

pub async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(p).await)
        .in_table("users")
}

pub async fn insert(
    db: &Db,
    email: &str,
    name: &str,
    role: &str,
    password_hash: &str,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<i64> {
    let sql = "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let id = sqlx::query_scalar::<_, i64>(sql)
            .bind(email).bind(name).bind(role).bind(password_hash).bind(now)
            .fetch_one(&mut *tx).await?;
        tx.append_audit(&audit(id)).await?;
        tx.commit().await?;
        Ok(id)
    })
}

//! Integrations that embed the badge, and the daily count of badge views.
use super::{audit::AuditAppend, on_db, BeginWrite, Db};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntegrationRow {
    pub id: i64,
    pub name: String,
    /// JSON list of origins (`https://ats.example.com`).
    pub allowed_origins: String,
    /// Sealed under CLEARANCE_SECRET_KEY.
    pub signing_key: String,
    pub generation: i64,
    pub token_ttl_secs: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str =
    "SELECT id, name, allowed_origins, signing_key, generation, token_ttl_secs, expires_at,
    revoked_at, created_at FROM integrations";

pub struct NewIntegration<'a> {
    pub name: &'a str,
    pub allowed_origins_json: &'a str,
    pub api_key_sha256: &'a str,
    pub signing_key_sealed: &'a str,
    pub token_ttl_secs: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
}

/// Adds one; `None` when the name is taken.
pub async fn insert(
    db: &Db,
    n: &NewIntegration<'_>,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<Option<i64>> {
    let sql = "INSERT INTO integrations (name, allowed_origins, api_key_sha256, signing_key, token_ttl_secs,
            expires_at, created_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(sql)
            .bind(n.name).bind(n.allowed_origins_json).bind(n.api_key_sha256).bind(n.signing_key_sealed)
            .bind(n.token_ttl_secs).bind(n.expires_at).bind(n.created_by).bind(now)
            .fetch_one(&mut *tx).await;
        let Some(id) = super::unless_taken(inserted)? else {
            return Ok(None);
        };
        tx.append_audit(&audit(id)).await?;
        tx.commit().await?;
        Ok(Some(id))
    })
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<IntegrationRow>> {
    let sql = format!("{SELECT} WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, IntegrationRow>(&sql).bind(id).fetch_optional(p).await)
}

pub async fn by_api_key(db: &Db, api_key_sha256: &str) -> sqlx::Result<Option<IntegrationRow>> {
    let sql = format!("{SELECT} WHERE api_key_sha256 = $1");
    on_db!(db, p => sqlx::query_as::<_, IntegrationRow>(&sql).bind(api_key_sha256).fetch_optional(p).await)
}

pub async fn all(db: &Db) -> sqlx::Result<Vec<IntegrationRow>> {
    let sql = format!("{SELECT} ORDER BY name");
    on_db!(db, p => sqlx::query_as::<_, IntegrationRow>(&sql).fetch_all(p).await)
}

/// Marks it revoked (once); false when there is no such integration or it was revoked already.
pub async fn revoke(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let sql = "UPDATE integrations SET revoked_at = $2, updated_at = $2 WHERE id = $1 AND revoked_at IS NULL";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(sql).bind(id).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

/// New keys under the next generation; returns it (`None`: no such live integration).
pub async fn rotate(
    db: &Db,
    id: i64,
    api_key_sha256: &str,
    signing_key_sealed: &str,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<Option<i64>> {
    let sql = "UPDATE integrations SET api_key_sha256 = $2, signing_key = $3, generation = generation + 1, updated_at = $4
        WHERE id = $1 AND revoked_at IS NULL RETURNING generation";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let generation = sqlx::query_scalar::<_, i64>(sql).bind(id).bind(api_key_sha256).bind(signing_key_sealed).bind(now)
            .fetch_optional(&mut *tx).await?;
        if let Some(g) = generation {
            tx.append_audit(&audit(g)).await?;
        }
        tx.commit().await?;
        Ok(generation)
    })
}

/// Appends an audit entry alone (token issues are audited, not stored).
pub async fn audit_only(db: &Db, audit: &NewAuditEvent) -> sqlx::Result<()> {
    super::audit::append(db, audit).await.map(|_| ())
}

/// Counts one badge view for the integration today (UTC).
pub async fn count_view(db: &Db, integration_id: i64, day: &str) -> sqlx::Result<()> {
    let sql = "INSERT INTO badge_views (integration_id, day, views) VALUES ($1, $2, 1)
        ON CONFLICT (integration_id, day) DO UPDATE SET views = badge_views.views + 1";
    on_db!(db, p => sqlx::query(sql).bind(integration_id).bind(day).execute(p).await.map(|_| ()))
}

/// Views since `day` (inclusive, `YYYY-MM-DD`).
pub async fn views_since(db: &Db, integration_id: i64, day: &str) -> sqlx::Result<i64> {
    let sql =
        "SELECT CAST(COALESCE(SUM(views), 0) AS BIGINT) FROM badge_views WHERE integration_id = $1 AND day >= $2";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(integration_id).bind(day).fetch_one(p).await)
}

/// Views per day, newest first.
pub async fn views(db: &Db, integration_id: i64) -> sqlx::Result<Vec<(String, i64)>> {
    let sql =
        "SELECT day, views FROM badge_views WHERE integration_id = $1 ORDER BY day DESC LIMIT 90";
    on_db!(db, p => sqlx::query_as::<_, (String, i64)>(sql).bind(integration_id).fetch_all(p).await)
}

//! Alerts to Support: the destination settings, the alerts raised, and their grouping.
use super::{audit::AuditAppend, jobs::Enqueue, on_db, BeginWrite, Db, Origin};
use crate::model::{AlertKind, JobKind};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

/// The one settings row, as stored (Slack URL and signing secret sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRow {
    pub slack_url: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub drift_threshold: i64,
    pub updated_at: DateTime<Utc>,
}

pub async fn settings(db: &Db) -> sqlx::Result<Option<SettingsRow>> {
    let sql = "SELECT slack_url, webhook_url, webhook_secret, drift_threshold, updated_at FROM alert_settings WHERE id = 1";
    on_db!(db, p => sqlx::query_as::<_, SettingsRow>(sql).fetch_optional(p).await)
        .in_table("alert_settings")
}

pub async fn save_settings(
    db: &Db,
    s: &SettingsRow,
    by: Option<i64>,
    audit: &NewAuditEvent,
) -> sqlx::Result<()> {
    let sql = "INSERT INTO alert_settings (id, slack_url, webhook_url, webhook_secret, drift_threshold, updated_by, updated_at)
               VALUES (1, $1, $2, $3, $4, $5, $6)
               ON CONFLICT (id) DO UPDATE SET slack_url = excluded.slack_url, webhook_url = excluded.webhook_url,
                   webhook_secret = excluded.webhook_secret, drift_threshold = excluded.drift_threshold,
                   updated_by = excluded.updated_by, updated_at = excluded.updated_at";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(sql)
            .bind(&s.slack_url).bind(&s.webhook_url).bind(&s.webhook_secret)
            .bind(s.drift_threshold).bind(by).bind(s.updated_at)
            .execute(&mut *tx).await?;
        tx.append_audit(audit).await?;
        tx.commit().await
    })
}

/// An alert to raise. `group_key` names the thing it is about: the same key again within the
/// grouping window is counted on the alert already sent instead of sent again.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub group_key: String,
    pub kind: AlertKind,
    pub summary: String,
    /// JSON: the facts an engineer needs (ids, statuses, a runbook line, the page to open).
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raised {
    /// A new alert, queued to each configured destination (`jobs` of them).
    Sent { alert_id: i64, jobs: usize },
    /// The same thing was alerted within the window: counted on that alert.
    Grouped { alert_id: i64 },
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub group_key: String,
    pub kind: AlertKind,
    pub summary: String,
    pub details: String,
    pub repeats: i64,
    pub created_at: DateTime<Utc>,
}

const ALERT_COLUMNS: &str = "id, group_key, kind, summary, details, repeats, created_at";

/// Raises `alert` unless its group already alerted since `window_start` — in one transaction
/// with the delivery jobs that send it, so two instances raising the same thing at once send it
/// once (the group row is locked by the first).
pub async fn raise(
    db: &Db,
    alert: &NewAlert,
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
    max_attempts: i64,
) -> sqlx::Result<Raised> {
    // The no-op update takes the row's lock (PostgreSQL) and returns what it held.
    let group = "INSERT INTO alert_groups (group_key, window_start) VALUES ($1, $2)
                 ON CONFLICT (group_key) DO UPDATE SET group_key = excluded.group_key
                 RETURNING window_start, alert_id";
    let repeat = "UPDATE alerts SET repeats = repeats + 1 WHERE id = $1";
    let insert = "INSERT INTO alerts (group_key, kind, summary, details, repeats, created_at)
                  VALUES ($1, $2, $3, $4, 0, $5) RETURNING id";
    let mark = "UPDATE alert_groups SET window_start = $2, alert_id = $3 WHERE group_key = $1";
    let destinations =
        "SELECT slack_url IS NOT NULL, webhook_url IS NOT NULL FROM alert_settings WHERE id = 1";
    let db = db.clone();
    let alert = alert.clone();
    // Runs to its end once started: an alert is never half-raised.
    super::detached(async move {
        on_db!(&db, p => {
            let mut tx = p.begin_write().await?;
            let (since, last): (DateTime<Utc>, Option<i64>) = sqlx::query_as(group)
                .bind(&alert.group_key).bind(now).fetch_one(&mut *tx).await?;
            if let Some(alert_id) = last.filter(|_| since > window_start) {
                sqlx::query(repeat).bind(alert_id).execute(&mut *tx).await?;
                tx.commit().await?;
                return Ok(Raised::Grouped { alert_id });
            }
            let alert_id = sqlx::query_scalar::<_, i64>(insert)
                .bind(&alert.group_key).bind(alert.kind).bind(&alert.summary).bind(&alert.details).bind(now)
                .fetch_one(&mut *tx).await?;
            sqlx::query(mark).bind(&alert.group_key).bind(now).bind(alert_id).execute(&mut *tx).await?;
            let (slack, webhook): (bool, bool) = sqlx::query_as(destinations)
                .fetch_optional(&mut *tx).await?.unwrap_or((false, false));
            let mut jobs = 0;
            for (wanted, destination) in [(slack, "slack"), (webhook, "webhook")] {
                if wanted {
                    let payload = serde_json::json!({ "alert_id": alert_id, "destination": destination }).to_string();
                    tx.enqueue(JobKind::SendAlert, &payload, max_attempts, now, &format!("alert:{alert_id}")).await?;
                    jobs += 1;
                }
            }
            tx.commit().await?;
            Ok(Raised::Sent { alert_id, jobs })
        })
    })
    .await
}

pub async fn alert(db: &Db, id: i64) -> sqlx::Result<Option<AlertRow>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, AlertRow>(&sql).bind(id).fetch_optional(p).await)
        .in_table("alerts")
}

/// The newest alerts first.
pub async fn recent(db: &Db, limit: i64) -> sqlx::Result<Vec<AlertRow>> {
    let sql =
        format!("SELECT {ALERT_COLUMNS} FROM alerts ORDER BY created_at DESC, id DESC LIMIT $1");
    on_db!(db, p => sqlx::query_as::<_, AlertRow>(&sql).bind(limit).fetch_all(p).await)
        .in_table("alerts")
}

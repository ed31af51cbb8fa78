//! Background-check partners, orders and the partner's result updates.
use super::{audit::AuditAppend, jobs::Enqueue, on_db, BeginWrite, Db};
use crate::model::{JobKind, OrderStatus};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

pub const ORDER_JOB: &str = crate::model::JobKind::OrderBackgroundCheck.as_str();

/// A partner without its secret and logo bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PartnerRow {
    pub id: i64,
    pub name: String,
    pub catalog_url: String,
    pub orders_url: String,
    pub account_id: String,
    pub has_logo: bool,
    pub catalog_json: Option<String>,
    pub catalog_fetched_at: Option<DateTime<Utc>>,
    pub catalog_error: Option<String>,
    pub catalog_error_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The agency's contact for the final adverse-action notice.
    pub address: Option<String>,
    pub phone: Option<String>,
}

const PARTNER_COLUMNS: &str =
    "id, name, catalog_url, orders_url, account_id, (logo_png IS NOT NULL) AS has_logo,
    catalog_json, catalog_fetched_at, catalog_error, catalog_error_at, created_at, address, phone";

/// Sets the address and phone the final adverse-action notice names; false: no such partner.
pub async fn set_partner_contact(
    db: &Db,
    id: i64,
    address: Option<&str>,
    phone: Option<&str>,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let sql = "UPDATE partners SET address = $2, phone = $3, updated_at = $4 WHERE id = $1";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(sql).bind(id).bind(address).bind(phone).bind(now)
            .execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

pub struct NewPartner<'a> {
    pub name: &'a str,
    pub catalog_url: &'a str,
    pub orders_url: &'a str,
    pub account_id: &'a str,
    pub api_secret: &'a str,
    pub logo_png: Option<&'a [u8]>,
}

/// Adds a partner; with `replace`, a partner of the same name gets the new connection details.
pub async fn upsert_partner(
    db: &Db,
    p: &NewPartner<'_>,
    replace: bool,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<i64> {
    let sql = if replace {
        "INSERT INTO partners (name, catalog_url, orders_url, account_id, api_secret, logo_png, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (name) DO UPDATE SET catalog_url = excluded.catalog_url, orders_url = excluded.orders_url,
             account_id = excluded.account_id, api_secret = excluded.api_secret,
             logo_png = COALESCE(excluded.logo_png, partners.logo_png), catalog_json = NULL,
             catalog_fetched_at = NULL, catalog_error = NULL, catalog_error_at = NULL, updated_at = excluded.updated_at
         RETURNING id"
    } else {
        "INSERT INTO partners (name, catalog_url, orders_url, account_id, api_secret, logo_png, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id"
    };
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let id = sqlx::query_scalar::<_, i64>(sql)
            .bind(p.name).bind(p.catalog_url).bind(p.orders_url).bind(p.account_id)
            .bind(p.api_secret).bind(p.logo_png).bind(now)
            .fetch_one(&mut *tx).await?;
        tx.append_audit(&audit(id)).await?;
        tx.commit().await?;
        Ok(id)
    })
}

pub async fn partners(db: &Db) -> sqlx::Result<Vec<PartnerRow>> {
    let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners ORDER BY name");
    on_db!(db, p => sqlx::query_as::<_, PartnerRow>(&sql).fetch_all(p).await)
}

pub async fn find_partner(db: &Db, id: i64) -> sqlx::Result<Option<PartnerRow>> {
    let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, PartnerRow>(&sql).bind(id).fetch_optional(p).await)
}

/// The account id and secret for Basic auth; only the outbound calls read it.
pub async fn partner_secret(db: &Db, id: i64) -> sqlx::Result<Option<String>> {
    let sql = "SELECT api_secret FROM partners WHERE id = $1";
    on_db!(db, p => sqlx::query_scalar::<_, String>(sql).bind(id).fetch_optional(p).await)
}

/// Every partner's stored secret, as stored (for the at-rest encryption step).
pub async fn all_partner_secrets(db: &Db) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = "SELECT id, api_secret FROM partners ORDER BY id";
    on_db!(db, p => sqlx::query_as::<_, (i64, String)>(sql).fetch_all(p).await)
}

pub async fn set_partner_secret(db: &Db, id: i64, stored: &str) -> sqlx::Result<()> {
    let sql = "UPDATE partners SET api_secret = $2 WHERE id = $1";
    on_db!(db, p => sqlx::query(sql).bind(id).bind(stored).execute(p).await.map(|_| ()))
}

pub async fn partner_logo(db: &Db, id: i64) -> sqlx::Result<Option<Vec<u8>>> {
    let sql = "SELECT logo_png FROM partners WHERE id = $1";
    let row = on_db!(db, p => sqlx::query_scalar::<_, Option<Vec<u8>>>(sql).bind(id).fetch_optional(p).await)?;
    Ok(row.flatten())
}

pub async fn store_catalog(db: &Db, id: i64, json: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    let sql = "UPDATE partners SET catalog_json = $2, catalog_fetched_at = $3, catalog_error = NULL, catalog_error_at = NULL WHERE id = $1";
    on_db!(db, p => sqlx::query(sql).bind(id).bind(json).bind(now).execute(p).await.map(|_| ()))
}

pub async fn store_catalog_error(
    db: &Db,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let sql = "UPDATE partners SET catalog_error = $2, catalog_error_at = $3 WHERE id = $1";
    on_db!(db, p => sqlx::query(sql).bind(id).bind(error).bind(now).execute(p).await.map(|_| ()))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub background_check_id: String,
    pub candidate_id: i64,
    pub job_id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub package_id: String,
    pub package_name: String,
    pub package_price: Option<String>,
    pub add_ons: String,
    pub total: String,
    pub ordered_by_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    pub result: Option<String>,
    pub result_link_url: Option<String>,
    pub error_message: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub result_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ORDER_SELECT: &str = "SELECT o.id, o.background_check_id, o.candidate_id, o.job_id, o.partner_id, p.name AS partner_name,
        o.package_id, o.package_name, o.package_price, o.add_ons, o.total, u.name AS ordered_by_name, o.status, o.result,
        o.result_link_url, o.error_message, o.submitted_at, o.result_at, o.created_at, o.updated_at
    FROM background_check_orders o JOIN partners p ON p.id = o.partner_id LEFT JOIN users u ON u.id = o.ordered_by";

pub struct NewOrder<'a> {
    pub background_check_id: &'a str,
    pub webhook_token_sha256: &'a str,
    pub candidate_id: i64,
    pub job_id: i64,
    pub partner_id: i64,
    pub package_id: &'a str,
    pub package_name: &'a str,
    pub package_price: Option<&'a str>,
    pub add_ons_json: &'a str,
    pub total: &'a str,
    pub ordered_by: i64,
}

/// Writes the order, its delivery job and `order_placed` in one transaction.
pub async fn place_order(
    db: &Db,
    o: &NewOrder<'_>,
    job_payload: impl FnOnce(i64) -> String,
    max_attempts: i64,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
    bulk: Option<&super::bulk::ItemRef>,
) -> sqlx::Result<Option<i64>> {
    let insert = "INSERT INTO background_check_orders (background_check_id, webhook_token_sha256, candidate_id, job_id, partner_id,
            package_id, package_name, package_price, add_ons, total, ordered_by, status, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12, $12) RETURNING id";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        if let Some(item) = bulk {
            if !super::bulk::mark_done_in_tx!(tx, item, "Background check ordered", now) {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        let id = sqlx::query_scalar::<_, i64>(insert)
            .bind(o.background_check_id).bind(o.webhook_token_sha256).bind(o.candidate_id).bind(o.job_id)
            .bind(o.partner_id).bind(o.package_id).bind(o.package_name).bind(o.package_price)
            .bind(o.add_ons_json).bind(o.total).bind(o.ordered_by).bind(now)
            .fetch_one(&mut *tx).await?;
        tx.enqueue(JobKind::OrderBackgroundCheck, &job_payload(id), max_attempts, now, &format!("candidate:{}", o.candidate_id)).await?;
        tx.append_audit(&audit(id)).await?;
        tx.commit().await?;
        Ok(Some(id))
    })
}

/// Which of `candidates` have an order still on its way (`OrderStatus::is_open`).
pub async fn with_open_orders(
    db: &Db,
    candidates: &[i64],
) -> sqlx::Result<std::collections::HashSet<i64>> {
    let rows: Vec<(i64, String)> = super::fetch_in(db, &super::int_binds(candidates), |list| {
        format!("SELECT candidate_id, status FROM background_check_orders WHERE candidate_id IN ({list})")
    })
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, s)| OrderStatus::from(s.as_str()).is_open())
        .map(|(c, _)| c)
        .collect())
}

pub async fn find_order(db: &Db, id: i64) -> sqlx::Result<Option<OrderRow>> {
    let sql = format!("{ORDER_SELECT} WHERE o.id = $1");
    on_db!(db, p => sqlx::query_as::<_, OrderRow>(&sql).bind(id).fetch_optional(p).await)
}

pub async fn order_by_token(db: &Db, token_sha256: &str) -> sqlx::Result<Option<OrderRow>> {
    let sql = format!("{ORDER_SELECT} WHERE o.webhook_token_sha256 = $1");
    on_db!(db, p => sqlx::query_as::<_, OrderRow>(&sql).bind(token_sha256).fetch_optional(p).await)
}

/// A candidate's orders, newest first.
pub async fn orders_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<OrderRow>> {
    let sql = format!("{ORDER_SELECT} WHERE o.candidate_id = $1 ORDER BY o.id DESC");
    on_db!(db, p => sqlx::query_as::<_, OrderRow>(&sql).bind(candidate_id).fetch_all(p).await)
}

/// Moves an order from `from` statuses to `to` (with the partner's error message, if any) and
/// appends `audit` in the same transaction; nothing happens when the order is elsewhere by now
/// (a result webhook may arrive before the worker records the 201).
pub async fn transition(
    db: &Db,
    order_id: i64,
    from: &[OrderStatus],
    to: OrderStatus,
    error_message: Option<&str>,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let list = from
        .iter()
        .map(|s| format!("'{}'", s.as_str().replace('\'', "")))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "UPDATE background_check_orders SET status = $2, error_message = $3, updated_at = $4,
             submitted_at = CASE WHEN $2 = 'submitted' THEN $4 ELSE submitted_at END
         WHERE id = $1 AND status IN ({list})"
    );
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(&sql).bind(order_id).bind(to.as_str()).bind(error_message).bind(now)
            .execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

/// Records the last failed attempt's message while the order is still being retried.
pub async fn note_error(
    db: &Db,
    order_id: i64,
    message: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let sql = "UPDATE background_check_orders SET error_message = $2, updated_at = $3 WHERE id = $1 AND status = 'queued'";
    on_db!(db, p => sqlx::query(sql).bind(order_id).bind(message).bind(now).execute(p).await.map(|_| ()))
}

/// What became of one result update from the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Applied,
    /// The same status, result and link as already shown: nothing changed.
    Duplicate,
    /// An earlier-stage update arriving after a final one: kept in the trail, not applied.
    Stale,
}

impl UpdateOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateOutcome::Applied => "applied",
            UpdateOutcome::Duplicate => "duplicate",
            UpdateOutcome::Stale => "stale",
        }
    }
}

pub struct ResultUpdate<'a> {
    pub status: &'a OrderStatus,
    pub result: Option<&'a str>,
    pub result_link_url: Option<&'a str>,
    pub body: &'a str,
}

/// Applies one partner update under a row lock: duplicates and regressions change nothing,
/// every update is kept in the trail, an applied one writes `order_result_received`.
pub async fn apply_update(
    db: &Db,
    order_id: i64,
    u: &ResultUpdate<'_>,
    now: DateTime<Utc>,
    audit: impl FnOnce(&str) -> NewAuditEvent,
) -> sqlx::Result<UpdateOutcome> {
    let lock = match db {
        Db::Postgres(_) => " FOR UPDATE",
        Db::Sqlite(_) => "",
    };
    let select = format!(
        "SELECT status, result, result_link_url FROM background_check_orders WHERE id = $1{lock}"
    );
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let (status, result, link) = sqlx::query_as::<_, (String, Option<String>, Option<String>)>(&select)
            .bind(order_id).fetch_one(&mut *tx).await?;
        let previous = OrderStatus::from(status.as_str());
        let outcome = if &previous == u.status && result.as_deref() == u.result && link.as_deref() == u.result_link_url {
            UpdateOutcome::Duplicate
        } else if previous.is_final() && !u.status.is_final() {
            UpdateOutcome::Stale
        } else {
            UpdateOutcome::Applied
        };
        sqlx::query("INSERT INTO background_check_updates (order_id, received_at, body, outcome) VALUES ($1, $2, $3, $4)")
            .bind(order_id).bind(now).bind(u.body).bind(outcome.as_str())
            .execute(&mut *tx).await?;
        if outcome == UpdateOutcome::Applied {
            sqlx::query(
                "UPDATE background_check_orders SET status = $2, result = $3, result_link_url = $4, error_message = NULL,
                     result_at = $5, updated_at = $5, submitted_at = COALESCE(submitted_at, $5) WHERE id = $1")
                .bind(order_id).bind(u.status.as_str()).bind(u.result).bind(u.result_link_url).bind(now)
                .execute(&mut *tx).await?;
            tx.append_audit(&audit(&status)).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaleRow {
    pub candidate_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub background_check_id: String,
    pub partner_name: String,
    pub submitted_at: DateTime<Utc>,
}

/// Orders the partner accepted before `cutoff` and never answered, oldest first.
pub async fn stale_orders(
    db: &Db,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<StaleRow>> {
    let sql = "SELECT o.candidate_id, c.first_name, c.last_name, o.background_check_id, p.name AS partner_name,
                      COALESCE(o.submitted_at, o.created_at) AS submitted_at
               FROM background_check_orders o JOIN candidates c ON c.id = o.candidate_id JOIN partners p ON p.id = o.partner_id
               WHERE o.status = 'submitted' AND o.result_at IS NULL AND COALESCE(o.submitted_at, o.created_at) < $1
               ORDER BY COALESCE(o.submitted_at, o.created_at) LIMIT $2";
    on_db!(db, p => sqlx::query_as::<_, StaleRow>(sql).bind(cutoff).bind(limit).fetch_all(p).await)
}

/// How many updates an order has received, by outcome (for the support trail and tests).
pub async fn update_counts(db: &Db, order_id: i64) -> sqlx::Result<Vec<(String, i64)>> {
    let sql = "SELECT outcome, COUNT(*) FROM background_check_updates WHERE order_id = $1 GROUP BY outcome ORDER BY outcome";
    on_db!(db, p => sqlx::query_as::<_, (String, i64)>(sql).bind(order_id).fetch_all(p).await)
}

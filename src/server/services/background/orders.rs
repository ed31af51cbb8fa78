//! Orders: placed with their delivery job in one transaction, sent by the worker, shown on the profile.
use super::partners::catalog;
use super::results::safe_link;
use crate::error::AppError;
use crate::model::{
    format_money, AuditEventType, BackgroundCheck, CurrentUser, OrderStatus, OrderedItem,
    Permission,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{
    self,
    background::{NewOrder, OrderRow},
    jobs::JobRow,
    Db,
};
use crate::server::partners::{background as partner, CallError};
use crate::server::secrets;
use crate::server::services::access;
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
/// What the delivery job carries: the order and the exact body to send on every attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderJob {
    pub order_id: i64,
    pub partner_id: i64,
    /// The body with `webhook_url` left empty: the URL carries the order's secret token, so the
    /// job keeps it only sealed (below) and the worker fills it in for each attempt.
    pub body: partner::OrderPayload,
    #[serde(default)]
    pub webhook_url_sealed: String,
}

/// The associated data the webhook URL is sealed with in a job payload.
const WEBHOOK_URL_PURPOSE: &str = "delivery_jobs.payload.webhook_url";

/// The exact body to send for a queued order, its sealed webhook URL opened.
pub fn order_body(
    config: &crate::server::config::Config,
    job: &OrderJob,
) -> Result<partner::OrderPayload, secrets::SecretError> {
    let mut body = job.body.clone();
    if !job.webhook_url_sealed.is_empty() {
        body.webhook_url = secrets::open(
            config.secret_key.as_ref(),
            WEBHOOK_URL_PURPOSE,
            &job.webhook_url_sealed,
        )?;
    }
    Ok(body)
}

pub struct PlaceOrder {
    pub candidate_id: i64,
    pub partner_id: i64,
    pub package_id: String,
    pub add_on_ids: Vec<String>,
    /// The total the user saw; the order is refused if the catalog now says otherwise.
    pub expected_total: String,
    /// Which application's job the check is for (the first one when absent).
    pub job_id: Option<i64>,
    /// The bulk job item this order stands for: marked done in the order's transaction.
    pub bulk: Option<db::bulk::ItemRef>,
}

pub fn token_hash(token: &str) -> String {
    crate::server::audit::sha256_hex(token)
}

/// Places an order: order, delivery job and `order_placed` in one transaction; returns its id.
pub async fn place_order(
    state: &AppState,
    user: &CurrentUser,
    req: PlaceOrder,
) -> Result<i64, AppError> {
    access::require(user, Permission::OrderBackgroundCheck)?;
    let db = &state.db;
    let c = db::candidates::find_candidate(db, req.candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let apps = db::candidates::applications_of(db, c.id).await?;
    let app = match req.job_id {
        Some(j) => apps.iter().find(|a| a.job_id == j),
        None => apps.first(),
    }
    .ok_or_else(|| AppError::BadRequest("The candidate has no application for that job.".into()))?;
    let hm = db::users::find_by_id(db, app.hiring_manager_id)
        .await?
        .ok_or(AppError::Internal)?;
    let view = catalog(state, user, req.partner_id, false).await?;
    let Some(cat) = view.catalog else {
        return Err(AppError::Conflict(format!(
            "The partner's catalog is not available: {}",
            view.error.unwrap_or_default()
        )));
    };
    let add_on_ids = crate::model::unique_add_ons(&req.add_on_ids);
    let total = cat
        .total(&req.package_id, &add_on_ids)
        .map_err(|e| AppError::BadRequest(format!("Cannot place this order: {e}.")))?;
    let expected = crate::model::parse_price(&req.expected_total)
        .map_err(|e| AppError::BadRequest(format!("The total {e}.")))?;
    if expected != total {
        return Err(AppError::Conflict(format!(
            "The partner's prices have changed: the total is now {}. Check the order and place it again.",
            format_money(total)
        )));
    }
    let pkg = cat.package(&req.package_id).ok_or(AppError::Internal)?;
    let add_ons: Vec<OrderedItem> = add_on_ids
        .iter()
        .filter_map(|id| cat.add_on(id))
        .map(|a| OrderedItem {
            id: a.id.clone(),
            name: a.name.clone(),
            price: a.price.clone(),
        })
        .collect();
    let partner_row = db::background::find_partner(db, req.partner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let background_check_id = format!("bgc_{}", secrets::random_hex(10));
    let token = secrets::random_hex(32);
    let (hm_first, hm_last) = partner::split_name(&hm.name);
    let body = partner::OrderPayload {
        account_id: partner_row.account_id.clone(),
        hiring_manager_user_id: hm.id.to_string(),
        background_check_id: background_check_id.clone(),
        package_id: pkg.id.clone(),
        add_on_package_ids: add_ons.iter().map(|a| a.id.clone()).collect(),
        webhook_url: format!(
            "{}/webhooks/background-checks/{token}",
            state.config.public_url
        ),
        hiring_manager: partner::HiringManager {
            id: hm.id.to_string(),
            first_name: hm_first,
            last_name: hm_last,
            email: hm.email.clone(),
        },
        applicant: partner::Applicant {
            id: c.id.to_string(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            address: c.address.clone(),
            address_2: c.address_2.clone(),
            city: c.city.clone(),
            state: c.state.clone(),
            zip: c.zip.clone(),
        },
        job: partner::JobRef {
            id: app.job_id.to_string(),
        },
    };
    let add_ons_json = serde_json::to_string(&add_ons).map_err(crate::server::auth::internal)?;
    let total_text = total.to_string();
    let token_sha = token_hash(&token);
    let order = NewOrder {
        background_check_id: &background_check_id,
        webhook_token_sha256: &token_sha,
        candidate_id: c.id,
        job_id: app.job_id,
        partner_id: partner_row.id,
        package_id: &pkg.id,
        package_name: &pkg.name,
        package_price: pkg.price.as_deref(),
        add_ons_json: &add_ons_json,
        total: &total_text,
        ordered_by: user.id,
    };
    let key = state
        .config
        .secret_key
        .as_ref()
        .ok_or_else(|| AppError::Conflict(secrets::SecretError::NoKey.to_string()))?;
    let webhook_url_sealed = key.seal(WEBHOOK_URL_PURPOSE, &body.webhook_url);
    let job_payload = |order_id: i64| {
        let mut stored = body.clone();
        stored.webhook_url = String::new();
        serde_json::to_string(&OrderJob {
            order_id,
            partner_id: partner_row.id,
            body: stored,
            webhook_url_sealed: webhook_url_sealed.clone(),
        })
        .unwrap_or_default()
    };
    let audit = |order_id: i64| {
        let mut details = serde_json::json!({
            "order_id": order_id, "background_check_id": background_check_id,
            "partner": partner_row.name, "package_id": pkg.id, "package_price": pkg.price,
            "add_on_package_ids": body.add_on_package_ids, "total": total_text, "job_id": app.job_id,
        });
        if let Some(item) = req.bulk {
            details["bulk_job"] = item.bulk_id.into();
        }
        NewAuditEvent::new(
            Actor::from(user),
            "candidate",
            c.id,
            AuditEventType::OrderPlaced,
            details,
        )
    };
    db::background::place_order(
        db,
        &order,
        job_payload,
        state.config.delivery_max_attempts,
        clock::now(),
        audit,
        req.bulk.as_ref(),
    )
    .await?
    .ok_or_else(|| AppError::Conflict("This bulk job's item was handled already.".into()))
}

fn db_retry(e: sqlx::Error) -> CallError {
    CallError::Retryable {
        status: None,
        detail: format!("database: {e}"),
        retry_after: None,
    }
}

fn order_event(
    order: &OrderRow,
    event: AuditEventType,
    payload: serde_json::Value,
) -> NewAuditEvent {
    let mut p = serde_json::json!({ "order_id": order.id, "background_check_id": order.background_check_id });
    if let (Some(base), serde_json::Value::Object(extra)) = (p.as_object_mut(), payload) {
        base.extend(extra);
    }
    NewAuditEvent::new(
        Actor::System("delivery worker".into()),
        "candidate",
        order.candidate_id,
        event,
        p,
    )
}

/// The worker's half: POST the order; 201 marks it submitted.
pub async fn order_job(state: &AppState, job: &JobRow) -> Result<String, CallError> {
    let mut spec: OrderJob = serde_json::from_str(&job.payload).map_err(|e| CallError::Final {
        status: None,
        detail: format!("job payload unreadable: {e}"),
    })?;
    spec.body = order_body(&state.config, &spec)?;
    let p = db::background::find_partner(&state.db, spec.partner_id)
        .await
        .map_err(db_retry)?
        .ok_or(CallError::Final {
            status: None,
            detail: "the partner connection was removed".into(),
        })?;
    let stored = db::background::partner_secret(&state.db, p.id)
        .await
        .map_err(db_retry)?
        .unwrap_or_default();
    // Without the key the order waits (retried, then dead-lettered and replayable once it is set).
    let secret = secrets::open(
        state.config.secret_key.as_ref(),
        secrets::purpose::PARTNER_API_SECRET,
        &stored,
    )?;
    state
        .config
        .outbound
        .check_url(&p.orders_url)
        .map_err(CallError::refused)?;
    let result = partner::post_order(
        &state.partner_http,
        &p.orders_url,
        &p.account_id,
        &secret,
        &spec.body,
    )
    .await;
    let now = clock::now();
    let order = db::background::find_order(&state.db, spec.order_id)
        .await
        .map_err(db_retry)?;
    match (&result, order) {
        (Ok(detail), Some(order)) => {
            let event = order_event(
                &order,
                AuditEventType::OrderSubmitted,
                serde_json::json!({ "detail": detail, "attempt": job.attempts }),
            );
            db::background::transition(
                &state.db,
                order.id,
                &[OrderStatus::Queued],
                OrderStatus::Submitted,
                None,
                now,
                &event,
            )
            .await
            .map_err(db_retry)?;
        }
        (Err(CallError::Retryable { detail, .. }), Some(order)) => {
            db::background::note_error(&state.db, order.id, detail, now)
                .await
                .map_err(db_retry)?;
        }
        _ => {}
    }
    result
}

/// A delivery that ends without success: a final refusal is `rejected` (`order_failed`),
/// exhausted retries are `dead_lettered` (`order_dead_lettered`); the partner's message is kept.
pub async fn order_job_ended(
    state: &AppState,
    job: &JobRow,
    detail: &str,
    exhausted: bool,
) -> anyhow::Result<()> {
    let spec: OrderJob = match serde_json::from_str(&job.payload) {
        Ok(s) => s,
        Err(_) => return Ok(()),
    };
    let Some(order) = db::background::find_order(&state.db, spec.order_id).await? else {
        return Ok(());
    };
    let (to, event) = if exhausted {
        (OrderStatus::DeadLettered, AuditEventType::OrderDeadLettered)
    } else {
        (OrderStatus::Rejected, AuditEventType::OrderFailed)
    };
    let audit = order_event(
        &order,
        event,
        serde_json::json!({ "error_message": detail, "attempts": job.attempts, "job_id": job.id }),
    );
    db::background::transition(
        &state.db,
        order.id,
        &[OrderStatus::Queued],
        to,
        Some(detail),
        clock::now(),
        &audit,
    )
    .await?;
    Ok(())
}

/// A replayed delivery puts its order back to "sending".
pub async fn order_replayed(db: &Db, job: &JobRow, user: &CurrentUser) -> anyhow::Result<()> {
    let Ok(spec) = serde_json::from_str::<OrderJob>(&job.payload) else {
        return Ok(());
    };
    let Some(order) = db::background::find_order(db, spec.order_id).await? else {
        return Ok(());
    };
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        order.candidate_id,
        AuditEventType::OrderPlaced,
        serde_json::json!({ "order_id": order.id, "background_check_id": order.background_check_id,
                            "replay_of_job": job.id }),
    );
    db::background::transition(
        db,
        order.id,
        &[OrderStatus::DeadLettered, OrderStatus::Rejected],
        OrderStatus::Queued,
        None,
        clock::now(),
        &audit,
    )
    .await?;
    Ok(())
}

/// A candidate's orders for the profile; hiring managers see status only.
pub async fn orders_for(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<Vec<BackgroundCheck>, AppError> {
    access::require(user, Permission::ViewCandidates)?;
    let (db, stale_after) = (&state.db, state.config.order_stale_after);
    let visible =
        crate::server::services::access::visible_candidate(db, user, candidate_id).await?;
    let details = visible.details;
    let now = clock::now();
    // A hiring manager sees the orders of their own jobs only.
    let rows = db::background::orders_of(db, candidate_id).await?;
    Ok(rows
        .into_iter()
        .filter(|o| visible.sees_job(o.job_id))
        .enumerate()
        .map(|(i, o)| to_view(o, i > 0, details, now, stale_after))
        .collect())
}

pub fn is_stale(o: &OrderRow, now: DateTime<Utc>, stale_after: Duration) -> bool {
    o.status == OrderStatus::Submitted
        && o.result_at.is_none()
        && now - o.submitted_at.unwrap_or(o.created_at) > stale_after
}

fn to_view(
    o: OrderRow,
    superseded: bool,
    details: bool,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> BackgroundCheck {
    let stale = is_stale(&o, now, stale_after);
    let add_ons: Vec<OrderedItem> = serde_json::from_str(&o.add_ons).unwrap_or_default();
    BackgroundCheck {
        id: o.id,
        background_check_id: o.background_check_id,
        partner_name: o.partner_name,
        partner_id: o.partner_id,
        package_name: o.package_name,
        status_label: o.status.label(),
        status: o.status,
        add_ons: if details { add_ons } else { Vec::new() },
        total: details.then_some(o.total),
        result: o.result.filter(|_| details),
        result_link_url: safe_link(o.result_link_url).filter(|_| details),
        error_message: o.error_message.filter(|_| details),
        ordered_by: o.ordered_by_name.filter(|_| details),
        ordered_at: o.created_at,
        updated_at: o.updated_at,
        superseded,
        stale,
    }
}

//! Background checks: partners (connect once), catalogs, orders through durable jobs, result webhooks.
use crate::error::AppError;
use crate::model::{
    format_money, order_status, AuditEventType, BackgroundCheck, Catalog, CatalogView,
    ConnectionTest, CurrentUser, OrderedItem, PartnerSummary, Permission,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::db::{
    self,
    background::{NewOrder, NewPartner, OrderRow, PartnerRow, ResultUpdate, UpdateOutcome},
    jobs::JobRow,
    Db,
};
use crate::server::partners::{background as partner, CallError};
use crate::server::secrets;
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a fetched catalog is used before it is fetched again.
pub const CATALOG_TTL: Duration = Duration::minutes(5);
/// Largest logo we keep.
pub const LOGO_MAX_BYTES: usize = 256 * 1024;
/// Largest result webhook body we read.
pub const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;

/// Largest logo, in pixels each way.
const LOGO_MAX_SIDE: u32 = 4096;

/// Checks that `bytes` are a real PNG of sensible size: the `png` decoder reads the signature, every
/// chunk with its checksum and every row through to IEND (one row in memory at a time).
pub fn check_png(bytes: &[u8]) -> Result<(u32, u32), String> {
    const SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(format!(
            "the logo is {} KB; the limit is {} KB",
            bytes.len().div_ceil(1024),
            LOGO_MAX_BYTES / 1024
        ));
    }
    if !bytes.starts_with(&SIG) {
        return Err("the logo is not a PNG image".into());
    }
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(png_problem)?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w == 0 || h == 0 || w > LOGO_MAX_SIDE || h > LOGO_MAX_SIDE {
        return Err(format!(
            "the logo is {w}×{h} pixels; it must be between 1 and {LOGO_MAX_SIDE} each way"
        ));
    }
    while reader.next_row().map_err(png_problem)?.is_some() {}
    reader.finish().map_err(png_problem)?;
    Ok((w, h))
}

/// A decoder error in plain words for the admin who uploaded the file.
fn png_problem(e: png::DecodingError) -> String {
    match e {
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the PNG is cut short; the file is incomplete".into()
        }
        png::DecodingError::LimitsExceeded => "the PNG is too large to decode".into(),
        // The decoder names a checksum failure "CRC error"; its kinds are not public.
        other if other.to_string().contains("CRC") => {
            "the PNG checksum is wrong; the file is damaged".into()
        }
        other => format!("the PNG is damaged ({other})"),
    }
}

/// A partner connection as an admin or the CLI enters it.
#[derive(Debug, Clone)]
pub struct PartnerInput {
    pub name: String,
    pub catalog_url: String,
    pub orders_url: String,
    pub account_id: String,
    pub api_secret: String,
    pub logo_png: Option<Vec<u8>>,
}

fn check_url(label: &str, url: &str) -> Result<(), String> {
    let u = url.trim();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or(format!("{label} must start with https:// or http://"))?;
    if rest.is_empty() || rest.starts_with('/') || u.contains(char::is_whitespace) {
        return Err(format!("{label} is not a valid URL"));
    }
    Ok(())
}

impl PartnerInput {
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("Name is required".into());
        }
        if self.name.trim().chars().count() > 100 {
            return Err("Name is longer than 100 characters".into());
        }
        check_url("Catalog URL", &self.catalog_url)?;
        check_url("Orders URL", &self.orders_url)?;
        if self.account_id.trim().is_empty() {
            return Err("Account ID is required".into());
        }
        if self.api_secret.is_empty() {
            return Err("API secret is required".into());
        }
        if let Some(png) = &self.logo_png {
            check_png(png).map_err(|e| format!("Logo: {e}"))?;
        }
        Ok(())
    }
}

/// The Partners form as the browser sends it (the logo as base64 PNG, empty for none).
pub struct PartnerForm {
    pub name: String,
    pub catalog_url: String,
    pub orders_url: String,
    pub account_id: String,
    pub api_secret: String,
    pub logo_base64: String,
}

/// An admin connects a partner from the Partners page.
pub async fn connect_partner(
    state: &AppState,
    user: &CurrentUser,
    form: PartnerForm,
) -> Result<i64, AppError> {
    use base64::Engine;
    super::access::require(user, Permission::ManageSettings)?;
    let logo_png = match form.logo_base64.trim() {
        "" => None,
        b64 => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| AppError::BadRequest("Logo: the file could not be read.".into()))?,
        ),
    };
    let input = PartnerInput {
        name: form.name,
        catalog_url: form.catalog_url,
        orders_url: form.orders_url,
        account_id: form.account_id,
        api_secret: form.api_secret,
        logo_png,
    };
    add_partner(&state.db, &state.config, Actor::from(user), &input, false).await
}

/// Registers a partner (admins and `clearance partner add`); with `replace`, updates one by name.
pub async fn add_partner(
    db: &Db,
    config: &crate::server::config::Config,
    actor: Actor,
    input: &PartnerInput,
    replace: bool,
) -> Result<i64, AppError> {
    input.validate().map_err(AppError::BadRequest)?;
    for url in [&input.catalog_url, &input.orders_url] {
        config
            .outbound
            .check_url(url.trim())
            .map_err(AppError::BadRequest)?;
    }
    let key = config
        .secret_key
        .as_ref()
        .ok_or_else(|| AppError::Conflict(secrets::SecretError::NoKey.to_string()))?;
    // Stored encrypted: a database dump alone does not reveal it.
    let sealed = key.seal(secrets::purpose::PARTNER_API_SECRET, &input.api_secret);
    let p = NewPartner {
        name: input.name.trim(),
        catalog_url: input.catalog_url.trim(),
        orders_url: input.orders_url.trim(),
        account_id: input.account_id.trim(),
        api_secret: &sealed,
        logo_png: input.logo_png.as_deref(),
    };
    let audit = |id: i64| {
        NewAuditEvent::new(
            actor,
            "partner",
            id,
            AuditEventType::PartnerConnected,
            serde_json::json!({ "name": p.name, "catalog_url": p.catalog_url, "orders_url": p.orders_url,
                                "account_id": p.account_id, "replaced": replace }),
        )
    };
    match db::background::upsert_partner(db, &p, replace, Utc::now(), audit).await {
        Ok(id) => Ok(id),
        Err(e) if db::is_unique_violation(&e) => Err(AppError::Conflict(format!(
            "A partner named '{}' already exists.",
            p.name
        ))),
        Err(e) => Err(e.into()),
    }
}

fn summary(p: PartnerRow) -> PartnerSummary {
    PartnerSummary {
        id: p.id,
        name: p.name,
        catalog_url: p.catalog_url,
        orders_url: p.orders_url,
        account_id: p.account_id,
        has_logo: p.has_logo,
        catalog_fetched_at: p.catalog_fetched_at,
        catalog_error: p.catalog_error,
        created_at: p.created_at,
    }
}

/// Partners for the Partners page (admins) and the order picker (admins, recruiters).
pub async fn partners_for(db: &Db, user: &CurrentUser) -> Result<Vec<PartnerSummary>, AppError> {
    super::access::require_any(
        user,
        &[Permission::ManageSettings, Permission::OrderBackgroundCheck],
    )?;
    partners(db).await
}

/// Every partner (the CLI's `partner list`, and `partners_for`).
pub async fn partners(db: &Db) -> Result<Vec<PartnerSummary>, AppError> {
    Ok(db::background::partners(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// Fetches the catalog now, stores it (or the error), and says what happened.
async fn fetch_and_store(
    state: &AppState,
    p: &PartnerRow,
) -> Result<(Catalog, DateTime<Utc>), String> {
    let stored = db::background::partner_secret(&state.db, p.id)
        .await
        .map_err(|_| "The database could not be read; try again.".to_string())?
        .unwrap_or_default();
    let secret = secrets::open(
        state.config.secret_key.as_ref(),
        secrets::purpose::PARTNER_API_SECRET,
        &stored,
    )
    .map_err(|e| e.to_string())?;
    // Microseconds, as both databases store it, so the age shown now and later agree.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    state.config.outbound.check_url(&p.catalog_url)?;
    match partner::fetch_catalog(&state.partner_http, &p.catalog_url, &p.account_id, &secret).await
    {
        Ok((catalog, text)) => {
            if let Err(e) = db::background::store_catalog(&state.db, p.id, &text, now).await {
                tracing::error!(error = %e, "could not cache a catalog");
            }
            Ok((catalog, now))
        }
        Err(message) => {
            tracing::warn!(partner = %p.name, %message, "catalog fetch failed");
            if let Err(e) =
                db::background::store_catalog_error(&state.db, p.id, &message, now).await
            {
                tracing::error!(error = %e, "could not record a catalog error");
            }
            Err(message)
        }
    }
}

/// "Test connection": fetch the catalog and say in plain words whether it is usable.
pub async fn test_connection(
    state: &AppState,
    user: &CurrentUser,
    partner_id: i64,
) -> Result<ConnectionTest, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    let p = db::background::find_partner(&state.db, partner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(match fetch_and_store(state, &p).await {
        Ok((c, _)) => ConnectionTest {
            ok: true,
            message: format!(
                "Connected: the catalog lists {} package(s) and {} add-on(s).",
                c.packages.len(),
                c.add_on_packages.len()
            ),
        },
        Err(message) => ConnectionTest { ok: false, message },
    })
}

/// The catalog for the picker: cached for `CATALOG_TTL`, fetched on `refresh`; when the partner
/// is down, the last good catalog with its age and the reason.
/// The catalog for the picker; only admins see the partner's own words in an error.
pub async fn catalog(
    state: &AppState,
    user: &CurrentUser,
    partner_id: i64,
    refresh: bool,
) -> Result<CatalogView, AppError> {
    super::access::require(user, Permission::OrderBackgroundCheck)?;
    let admin = user.role.can(crate::model::Permission::ManageSettings);
    let p = db::background::find_partner(&state.db, partner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let cached = p
        .catalog_json
        .as_deref()
        .and_then(|t| Catalog::parse(t).ok());
    let fresh = p
        .catalog_fetched_at
        .is_some_and(|at| Utc::now() - at < CATALOG_TTL);
    let (catalog, fetched_at, error) = match (cached, fresh && !refresh) {
        (Some(c), true) => (Some(c), p.catalog_fetched_at, None),
        (cached, _) => match fetch_and_store(state, &p).await {
            Ok((c, at)) => (Some(c), Some(at), None),
            Err(message) => (cached, p.catalog_fetched_at, Some(message)),
        },
    };
    let error = error.map(|e| {
        if admin {
            e
        } else {
            partner::without_partner_text(&e).to_string()
        }
    });
    Ok(CatalogView {
        partner_id: p.id,
        partner_name: p.name,
        has_logo: p.has_logo,
        catalog,
        fetched_at,
        error,
    })
}

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
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Places an order: order, delivery job and `order_placed` in one transaction; returns its id.
pub async fn place_order(
    state: &AppState,
    user: &CurrentUser,
    req: PlaceOrder,
) -> Result<i64, AppError> {
    super::access::require(user, Permission::OrderBackgroundCheck)?;
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
    let background_check_id = format!("bgc_{}", random_hex(10));
    let token = random_hex(32);
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
        NewAuditEvent::new(
            Actor::from(user),
            "candidate",
            c.id,
            AuditEventType::OrderPlaced,
            serde_json::json!({
                "order_id": order_id, "background_check_id": background_check_id,
                "partner": partner_row.name, "package_id": pkg.id, "package_price": pkg.price,
                "add_on_package_ids": body.add_on_package_ids, "total": total_text, "job_id": app.job_id,
            }),
        )
    };
    let id = db::background::place_order(
        db,
        &order,
        job_payload,
        state.config.delivery_max_attempts,
        Utc::now(),
        audit,
    )
    .await?;
    Ok(id)
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
    let now = Utc::now();
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
                &[order_status::QUEUED],
                order_status::SUBMITTED,
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
        (
            order_status::DEAD_LETTERED,
            AuditEventType::OrderDeadLettered,
        )
    } else {
        (order_status::REJECTED, AuditEventType::OrderFailed)
    };
    let audit = order_event(
        &order,
        event,
        serde_json::json!({ "error_message": detail, "attempts": job.attempts, "job_id": job.id }),
    );
    db::background::transition(
        &state.db,
        order.id,
        &[order_status::QUEUED],
        to,
        Some(detail),
        Utc::now(),
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
        &[order_status::DEAD_LETTERED, order_status::REJECTED],
        order_status::QUEUED,
        None,
        Utc::now(),
        &audit,
    )
    .await?;
    Ok(())
}

/// Why a result webhook was refused: (HTTP status, reason).
pub type Refusal = (u16, String);

#[derive(Debug, Deserialize)]
struct ResultBody {
    background_check_id: serde_json::Value,
    status: serde_json::Value,
    #[serde(default)]
    result: serde_json::Value,
    #[serde(default)]
    result_link_url: serde_json::Value,
}

fn text_field(
    v: &serde_json::Value,
    name: &str,
    required: bool,
) -> Result<Option<String>, Refusal> {
    match v {
        serde_json::Value::String(s) if s.chars().count() > 2000 => {
            Err((400, format!("'{name}' is longer than 2000 characters")))
        }
        serde_json::Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        serde_json::Value::Number(n) if name == "background_check_id" => Ok(Some(n.to_string())),
        serde_json::Value::Null | serde_json::Value::String(_) if !required => Ok(None),
        serde_json::Value::Null | serde_json::Value::String(_) => {
            Err((400, format!("'{name}' is required")))
        }
        _ => Err((400, format!("'{name}' must be text"))),
    }
}

/// The partner's `POST /webhooks/background-checks/{token}`: 404 for a wrong token or id,
/// 400 with a reason for a malformed body; duplicates and regressions change nothing.
pub async fn receive_result(db: &Db, token: &str, body: &[u8]) -> Result<UpdateOutcome, Refusal> {
    let not_found = || (404, "no such background check".to_string());
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let internal = |e: sqlx::Error| {
        tracing::error!(error = %e, "could not read a background check");
        (503, "could not store the update; retry later".to_string())
    };
    let order = db::background::order_by_token(db, &token_hash(token))
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    let text =
        std::str::from_utf8(body).map_err(|_| (400, "the body is not UTF-8 text".to_string()))?;
    let parsed: ResultBody = serde_json::from_str(text).map_err(|e| {
        (
            400,
            format!("the body is not a background-check update ({e}); expected background_check_id, status, result, result_link_url"),
        )
    })?;
    let id = text_field(&parsed.background_check_id, "background_check_id", true)?;
    if id.as_deref() != Some(order.background_check_id.as_str()) {
        return Err(not_found());
    }
    let status = text_field(&parsed.status, "status", true)?.unwrap_or_default();
    let result = text_field(&parsed.result, "result", false)?;
    let link = text_field(&parsed.result_link_url, "result_link_url", false)?;
    let update = ResultUpdate {
        status: &status,
        result: result.as_deref(),
        result_link_url: link.as_deref(),
        body: text,
    };
    let audit = |previous: &str| {
        NewAuditEvent::new(
            Actor::Partner(order.partner_name.clone()),
            "candidate",
            order.candidate_id,
            AuditEventType::OrderResultReceived,
            serde_json::json!({
                "order_id": order.id, "background_check_id": order.background_check_id,
                "previous_status": previous, "status": status, "result": result, "result_link_url": link,
            }),
        )
    };
    db::background::apply_update(db, order.id, &update, Utc::now(), audit)
        .await
        .map_err(internal)
}

/// Only http(s) links become links; anything else is not passed to the page.
fn safe_link(url: Option<String>) -> Option<String> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// A candidate's orders for the profile; hiring managers see status only.
pub async fn orders_for(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<Vec<BackgroundCheck>, AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    let (db, stale_after) = (&state.db, state.config.order_stale_after);
    let visible = super::access::visible_candidate(db, user, candidate_id).await?;
    let details = visible.details;
    let now = Utc::now();
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
    o.status == order_status::SUBMITTED
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
        status_label: order_status::label(&o.status),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`×`h` grey PNG from the `png` encoder.
    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&vec![0u8; (w * h) as usize])
            .unwrap();
        writer.finish().unwrap();
        out
    }

    pub fn tiny_png() -> Vec<u8> {
        png_of(1, 1)
    }

    #[test]
    fn real_pngs_pass_and_others_are_named() {
        assert_eq!(check_png(&tiny_png()), Ok((1, 1)));
        assert!(check_png(b"GIF89a....").unwrap_err().contains("not a PNG"));
        let mut bad_crc = tiny_png();
        bad_crc[20] ^= 1;
        assert!(check_png(&bad_crc).unwrap_err().contains("checksum"));
        let cut = tiny_png()[..40].to_vec();
        assert!(check_png(&cut).unwrap_err().contains("cut short"));
        let no_end = tiny_png()[..tiny_png().len() - 12].to_vec();
        assert!(check_png(&no_end).unwrap_err().contains("cut short"));
        assert_eq!(check_png(&png_of(300, 40)), Ok((300, 40)));
        assert!(check_png(&png_of(LOGO_MAX_SIDE + 1, 1))
            .unwrap_err()
            .contains("pixels"));
        let mut big = tiny_png();
        big.resize(LOGO_MAX_BYTES + 1, 0);
        assert!(check_png(&big).unwrap_err().contains("limit"));
    }

    #[test]
    fn partner_input_is_checked() {
        let ok = PartnerInput {
            name: "Acme".into(),
            catalog_url: "https://acme.example/catalog".into(),
            orders_url: "https://acme.example/orders".into(),
            account_id: "ACCT1".into(),
            api_secret: "s".into(),
            logo_png: Some(tiny_png()),
        };
        assert_eq!(ok.validate(), Ok(()));
        let mut bad = ok.clone();
        bad.orders_url = "ftp://x".into();
        assert!(bad.validate().unwrap_err().contains("Orders URL"));
        let mut bad = ok.clone();
        bad.api_secret.clear();
        assert!(bad.validate().unwrap_err().contains("secret"));
        let mut bad = ok;
        bad.logo_png = Some(b"nope".to_vec());
        assert!(bad.validate().unwrap_err().starts_with("Logo:"));
    }

    #[test]
    fn only_web_links_are_shown() {
        assert_eq!(
            safe_link(Some("https://p.example/r/1".into())).as_deref(),
            Some("https://p.example/r/1")
        );
        assert_eq!(safe_link(Some("javascript:alert(1)".into())), None);
    }
}

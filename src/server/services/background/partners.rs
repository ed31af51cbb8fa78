//! Partners (connect once, test the connection) and their catalogs (cached, refreshable).
use crate::error::AppError;
use crate::error::Invalid;
use crate::model::{
    AuditEventType, Catalog, CatalogView, ConnectionTest, CurrentUser, PartnerSummary, Permission,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{
    self,
    background::{NewPartner, PartnerRow},
    Db,
};
use crate::server::partners::background as partner;
use crate::server::partners::PartnerProblem;
use crate::server::secrets;
use crate::server::services::access;
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};
/// How long a fetched catalog is used before it is fetched again.
pub const CATALOG_TTL: Duration = Duration::minutes(5);
/// Largest logo we keep.
pub const LOGO_MAX_BYTES: usize = 256 * 1024;
/// Largest result webhook body we read.
pub const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;

/// Largest logo, in pixels each way.
pub(super) const LOGO_MAX_SIDE: u32 = 4096;

/// Checks that `bytes` are a real PNG of sensible size: the `png` decoder reads the signature, every
/// chunk with its checksum and every row through to IEND (one row in memory at a time).
pub fn check_png(bytes: &[u8]) -> Result<(u32, u32), Invalid> {
    const SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(Invalid(format!(
            "the logo is {} KB; the limit is {} KB",
            bytes.len().div_ceil(1024),
            LOGO_MAX_BYTES / 1024
        )));
    }
    if !bytes.starts_with(&SIG) {
        return Err(Invalid::new("the logo is not a PNG image"));
    }
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(png_problem)?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w == 0 || h == 0 || w > LOGO_MAX_SIDE || h > LOGO_MAX_SIDE {
        return Err(Invalid(format!(
            "the logo is {w}×{h} pixels; it must be between 1 and {LOGO_MAX_SIDE} each way"
        )));
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

fn check_url(label: &str, url: &str) -> Result<(), Invalid> {
    let u = url.trim();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or(format!("{label} must start with https:// or http://"))?;
    if rest.is_empty() || rest.starts_with('/') || u.contains(char::is_whitespace) {
        return Err(Invalid(format!("{label} is not a valid URL")));
    }
    Ok(())
}

impl PartnerInput {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new("Name is required"));
        }
        if self.name.trim().chars().count() > 100 {
            return Err(Invalid::new("Name is longer than 100 characters"));
        }
        check_url("Catalog URL", &self.catalog_url)?;
        check_url("Orders URL", &self.orders_url)?;
        if self.account_id.trim().is_empty() {
            return Err(Invalid::new("Account ID is required"));
        }
        if self.api_secret.is_empty() {
            return Err(Invalid::new("API secret is required"));
        }
        if let Some(png) = &self.logo_png {
            check_png(png).map_err(|e| e.within("Logo"))?;
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
    access::require(user, Permission::ManageSettings)?;
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
    input.validate()?;
    for url in [&input.catalog_url, &input.orders_url] {
        config.outbound.check_url(url.trim())?;
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
    match db::background::upsert_partner(db, &p, replace, clock::now(), audit).await {
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
        address: p.address,
        phone: p.phone,
    }
}

/// Sets the agency's address and phone for final adverse-action notices (empty clears one).
pub async fn set_partner_contact(
    db: &Db,
    actor: Actor,
    partner_id: i64,
    address: &str,
    phone: &str,
) -> Result<(), AppError> {
    let clean = |v: &str, what: &str, max: usize| -> Result<Option<String>, AppError> {
        let v = v.trim();
        if v.chars().count() > max {
            return Err(AppError::BadRequest(format!(
                "The {what} may have {max} characters."
            )));
        }
        Ok((!v.is_empty()).then(|| v.to_string()))
    };
    let address = clean(address, "address", 300)?;
    let phone = clean(phone, "phone number", 40)?;
    let audit = NewAuditEvent::new(
        actor,
        "partner",
        partner_id,
        AuditEventType::PartnerContactChanged,
        serde_json::json!({ "address": address, "phone": phone }),
    );
    let changed = db::background::set_partner_contact(
        db,
        partner_id,
        address.as_deref(),
        phone.as_deref(),
        clock::now(),
        &audit,
    )
    .await?;
    if !changed {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// An admin sets a partner's contact on the Partners page.
pub async fn save_partner_contact(
    db: &Db,
    user: &CurrentUser,
    partner_id: i64,
    address: &str,
    phone: &str,
) -> Result<(), AppError> {
    access::require(user, Permission::ManageSettings)?;
    set_partner_contact(db, Actor::from(user), partner_id, address, phone).await
}

/// Partners for the Partners page (admins) and the order picker (admins, recruiters).
pub async fn partners_for(db: &Db, user: &CurrentUser) -> Result<Vec<PartnerSummary>, AppError> {
    access::require_any(
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
) -> Result<(Catalog, DateTime<Utc>), PartnerProblem> {
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
    let now = chrono::SubsecRound::trunc_subsecs(clock::now(), 6);
    state
        .config
        .outbound
        .check_url(&p.catalog_url)
        .map_err(|e| PartnerProblem(e.0))?;
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
                db::background::store_catalog_error(&state.db, p.id, &message.0, now).await
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
    access::require(user, Permission::ManageSettings)?;
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
        Err(problem) => ConnectionTest {
            ok: false,
            message: problem.0,
        },
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
    access::require(user, Permission::OrderBackgroundCheck)?;
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
        .is_some_and(|at| clock::now() - at < CATALOG_TTL);
    let (catalog, fetched_at, error) = match (cached, fresh && !refresh) {
        (Some(c), true) => (Some(c), p.catalog_fetched_at, None),
        (cached, _) => match fetch_and_store(state, &p).await {
            Ok((c, at)) => (Some(c), Some(at), None),
            Err(problem) => (cached, p.catalog_fetched_at, Some(problem.0)),
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

/// A partner's logo as checked and stored (any signed-in user; the route checks that).
pub async fn partner_logo(db: &Db, id: i64) -> Result<Option<Vec<u8>>, AppError> {
    Ok(db::background::partner_logo(db, id).await?)
}

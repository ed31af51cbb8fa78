//! The embeddable badge's integrations and tokens: an admin (or the CLI) creates an integration
//! for an ATS; the ATS asks for a candidate's embed token server to server with the
//! integration's API key; the badge endpoint shows the candidate's status to whoever holds a
//! valid token, framed only by the integration's own origins. Nothing beyond first name, last
//! initial, status, last update and next action ever leaves through it.
use crate::error::{AppError, Invalid};
use crate::model::{AuditEventType, VerificationStatus};
use crate::server::audit::{sha256_hex, Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::config::Config;
use crate::server::db::{self, integrations::IntegrationRow, Db};
use crate::server::embed_token::{self, Claims, Issuer, TokenError};
use crate::server::secrets::{self, random_hex};
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub const SIGNING_KEY_PURPOSE: &str = "integrations.signing_key";

/// What an admin enters.
pub struct IntegrationInput {
    pub name: String,
    /// Origins allowed to frame the badge, e.g. `https://ats.example.com`.
    pub origins: Vec<String>,
    /// The integration ends after this many days (none: until revoked).
    pub expires_in_days: Option<i64>,
    /// How long each embed token lasts.
    pub token_ttl_hours: i64,
}

/// `https://host[:port]` exactly (http only for loopback, as local demos need); no path.
pub fn check_origin(origin: &str) -> Result<String, Invalid> {
    let o = origin.trim().trim_end_matches('/');
    let url = url::Url::parse(o).map_err(|_| Invalid(format!("'{o}' is not an origin")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok || url.host_str().is_none() || url.path() != "/" || url.query().is_some() {
        return Err(Invalid(format!(
            "'{o}' is not an https origin like https://ats.example.com"
        )));
    }
    Ok(url.origin().ascii_serialization())
}

impl IntegrationInput {
    fn validated(&self) -> Result<(String, Vec<String>), Invalid> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Invalid::new("The name must have 1 to 100 characters."));
        }
        if self.origins.is_empty() || self.origins.len() > 20 {
            return Err(Invalid::new(
                "List 1 to 20 origins allowed to show the badge.",
            ));
        }
        let origins = self
            .origins
            .iter()
            .map(|o| check_origin(o))
            .collect::<Result<Vec<_>, _>>()?;
        if !(1..=24 * 90).contains(&self.token_ttl_hours) {
            return Err(Invalid::new("Tokens may last 1 hour to 90 days."));
        }
        if self
            .expires_in_days
            .is_some_and(|d| !(1..=3660).contains(&d))
        {
            return Err(Invalid::new("An integration may last 1 to 3,660 days."));
        }
        Ok((name.to_string(), origins))
    }
}

/// A fresh API key (shown once) and sealed signing key.
fn new_keys(config: &Config) -> Result<(String, String), AppError> {
    let key = config
        .secret_key
        .as_ref()
        .ok_or_else(|| AppError::Conflict(secrets::SecretError::NoKey.to_string()))?;
    let api_key = format!("cik_{}", random_hex(32));
    let signing = key.seal(SIGNING_KEY_PURPOSE, &random_hex(32));
    Ok((api_key, signing))
}

/// Creates an integration; returns its id and API key (shown once, only its SHA-256 is kept).
pub async fn create(
    db: &Db,
    config: &Config,
    actor: Actor,
    created_by: Option<i64>,
    input: &IntegrationInput,
) -> Result<(i64, String), AppError> {
    let (name, origins) = input.validated()?;
    let (api_key, signing) = new_keys(config)?;
    let now = clock::now();
    let origins_json = serde_json::to_string(&origins).map_err(crate::server::auth::internal)?;
    let new = db::integrations::NewIntegration {
        name: &name,
        allowed_origins_json: &origins_json,
        api_key_sha256: &sha256_hex(&api_key),
        signing_key_sealed: &signing,
        token_ttl_secs: input.token_ttl_hours * 3600,
        expires_at: input.expires_in_days.map(|d| now + Duration::days(d)),
        created_by,
    };
    let id = db::integrations::insert(db, &new, now, |id| {
        NewAuditEvent::new(
            actor,
            "integration",
            id,
            AuditEventType::IntegrationCreated,
            serde_json::json!({ "name": name, "allowed_origins": origins, "token_ttl_hours": input.token_ttl_hours,
                                "expires_in_days": input.expires_in_days }),
        )
    })
    .await?
    .ok_or_else(|| AppError::Conflict(format!("An integration named '{name}' exists already.")))?;
    Ok((id, api_key))
}

/// Admin: the integrations for the Settings page.
pub async fn summaries(
    state: &AppState,
    user: &crate::model::CurrentUser,
) -> Result<Vec<crate::model::IntegrationSummary>, AppError> {
    crate::server::services::access::require(user, crate::model::Permission::ManageSettings)?;
    let since = (clock::now() - Duration::days(29))
        .format("%Y-%m-%d")
        .to_string();
    let mut out = Vec::new();
    for i in db::integrations::all(&state.db).await? {
        out.push(crate::model::IntegrationSummary {
            views_30_days: db::integrations::views_since(&state.db, i.id, &since).await?,
            origins: serde_json::from_str(&i.allowed_origins).unwrap_or_default(),
            id: i.id,
            name: i.name,
            token_ttl_hours: i.token_ttl_secs / 3600,
            key_generation: i.generation,
            expires_at: i.expires_at,
            revoked_at: i.revoked_at,
        });
    }
    Ok(out)
}

/// Admin: creates one from the Settings page; returns the API key (shown once).
pub async fn create_by_admin(
    state: &AppState,
    user: &crate::model::CurrentUser,
    input: &IntegrationInput,
) -> Result<String, AppError> {
    crate::server::services::access::require(user, crate::model::Permission::ManageSettings)?;
    let (_, key) = create(
        &state.db,
        &state.config,
        Actor::from(user),
        Some(user.id),
        input,
    )
    .await?;
    Ok(key)
}

/// Admin: revokes one.
pub async fn revoke_by_admin(
    state: &AppState,
    user: &crate::model::CurrentUser,
    id: i64,
) -> Result<(), AppError> {
    crate::server::services::access::require(user, crate::model::Permission::ManageSettings)?;
    revoke(&state.db, Actor::from(user), id).await
}

/// Admin: new keys for one; returns the new API key (shown once).
pub async fn rotate_by_admin(
    state: &AppState,
    user: &crate::model::CurrentUser,
    id: i64,
) -> Result<String, AppError> {
    crate::server::services::access::require(user, crate::model::Permission::ManageSettings)?;
    rotate(&state.db, &state.config, Actor::from(user), id).await
}

/// Every integration, by name (the CLI's `integration list`).
pub async fn list(db: &Db) -> Result<Vec<IntegrationRow>, AppError> {
    Ok(db::integrations::all(db).await?)
}

/// Revokes an integration: every token it issued stops working at once.
pub async fn revoke(db: &Db, actor: Actor, id: i64) -> Result<(), AppError> {
    let audit = NewAuditEvent::new(
        actor,
        "integration",
        id,
        AuditEventType::IntegrationRevoked,
        serde_json::json!({}),
    );
    if !db::integrations::revoke(db, id, clock::now(), &audit).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// New API and signing keys: the old key and every token issued under it stop working.
pub async fn rotate(db: &Db, config: &Config, actor: Actor, id: i64) -> Result<String, AppError> {
    let (api_key, signing) = new_keys(config)?;
    db::integrations::rotate(db, id, &sha256_hex(&api_key), &signing, clock::now(), |g| {
        NewAuditEvent::new(
            actor,
            "integration",
            id,
            AuditEventType::IntegrationKeyRotated,
            serde_json::json!({ "generation": g }),
        )
    })
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(api_key)
}

/// `201 {"token","expires_at","iframe_url"}` of `POST /api/v1/embed-tokens`.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub iframe_url: String,
}

/// Why an embed-token or badge request is refused, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedRefusal {
    /// 401: no key, a wrong key, or a token that is malformed, forged or expired.
    Unauthorized(String),
    /// 403: the integration is revoked or has ended, or the key was rotated.
    Forbidden(String),
    /// 404: no such candidate.
    NotFound(String),
    /// 400: a body that cannot be read.
    BadRequest(String),
    /// 429: this token asked too often this minute.
    TooMany,
    /// 503: the database could not answer.
    Unavailable,
}

/// Badge requests per token in the current minute: a leaked token cannot be used to hammer the
/// server. Per instance (several instances each allow this much); bounded: when full it starts
/// over, which at worst forgives some tokens one minute early.
#[derive(Default)]
pub struct TokenLimits {
    window: std::sync::Mutex<(i64, std::collections::HashMap<String, u32>)>,
}

impl TokenLimits {
    /// Page loads and polls together: the badge polls at most every 5 s (12 a minute).
    pub const PER_MINUTE: u32 = 120;
    const MAX_TOKENS: usize = 100_000;

    /// Whether one more request for `token` fits in minute `minute`.
    pub fn allow(&self, token: &str, minute: i64) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if w.0 != minute || w.1.len() >= Self::MAX_TOKENS {
            *w = (minute, std::collections::HashMap::new());
        }
        let n = w.1.entry(sha256_hex(token.as_bytes())).or_insert(0);
        *n += 1;
        *n <= Self::PER_MINUTE
    }
}

impl EmbedRefusal {
    pub fn status(&self) -> u16 {
        match self {
            EmbedRefusal::Unauthorized(_) => 401,
            EmbedRefusal::Forbidden(_) => 403,
            EmbedRefusal::NotFound(_) => 404,
            EmbedRefusal::BadRequest(_) => 400,
            EmbedRefusal::TooMany => 429,
            EmbedRefusal::Unavailable => 503,
        }
    }
    pub fn reason(&self) -> &str {
        match self {
            EmbedRefusal::Unauthorized(r)
            | EmbedRefusal::Forbidden(r)
            | EmbedRefusal::NotFound(r)
            | EmbedRefusal::BadRequest(r) => r,
            EmbedRefusal::TooMany => "too many requests for this token; try again in a minute",
            EmbedRefusal::Unavailable => "try again shortly",
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> EmbedRefusal {
    tracing::error!(error = %e, "embed request could not be served");
    EmbedRefusal::Unavailable
}

/// Whether the integration is usable now.
fn live(i: &IntegrationRow, now: DateTime<Utc>) -> Result<(), EmbedRefusal> {
    if i.revoked_at.is_some() {
        return Err(EmbedRefusal::Forbidden("the integration is revoked".into()));
    }
    if i.expires_at.is_some_and(|e| e <= now) {
        return Err(EmbedRefusal::Forbidden("the integration has ended".into()));
    }
    Ok(())
}

fn signing_key(state: &AppState, i: &IntegrationRow) -> Result<Vec<u8>, EmbedRefusal> {
    secrets::open(
        state.config.secret_key.as_ref(),
        SIGNING_KEY_PURPOSE,
        &i.signing_key,
    )
    .map(String::into_bytes)
    .map_err(unavailable)
}

/// `POST /api/v1/embed-tokens` with `Authorization: Bearer {api key}` and `{"candidate_id"}`,
/// optionally `"ttl_seconds"`: a shorter life than the integration's (say, the ATS page's session).
pub async fn issue_token(
    state: &AppState,
    bearer: Option<&str>,
    candidate_id: i64,
    ttl_seconds: Option<i64>,
) -> Result<IssuedToken, EmbedRefusal> {
    let key = bearer
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            EmbedRefusal::Unauthorized(
                "an integration key is required as Authorization: Bearer …".into(),
            )
        })?;
    let integration = db::integrations::by_api_key(&state.db, &sha256_hex(key))
        .await
        .map_err(unavailable)?
        .ok_or_else(|| EmbedRefusal::Unauthorized("the integration key is not valid".into()))?;
    let now = clock::now();
    live(&integration, now)?;
    if db::candidates::find_candidate(&state.db, candidate_id)
        .await
        .map_err(unavailable)?
        .is_none()
    {
        return Err(EmbedRefusal::NotFound("no such candidate".into()));
    }
    let ttl = match ttl_seconds {
        None => integration.token_ttl_secs,
        Some(t) if (1..=integration.token_ttl_secs).contains(&t) => t,
        Some(_) => {
            return Err(EmbedRefusal::BadRequest(format!(
                "'ttl_seconds' must be 1 to {} (this integration's token lifetime)",
                integration.token_ttl_secs
            )))
        }
    };
    let mut expires_at = now + Duration::seconds(ttl);
    if let Some(end) = integration.expires_at {
        expires_at = expires_at.min(end);
    }
    let claims = Claims {
        integration_id: integration.id,
        candidate_id,
        expires_at: expires_at.timestamp(),
        generation: integration.generation,
    };
    let token = embed_token::sign(&signing_key(state, &integration)?, &claims);
    let audit = NewAuditEvent::new(
        Actor::System(format!("integration:{}", integration.name)),
        "candidate",
        candidate_id,
        AuditEventType::EmbedTokenIssued,
        serde_json::json!({ "integration_id": integration.id, "expires_at": expires_at, "generation": integration.generation }),
    );
    db::integrations::audit_only(&state.db, &audit)
        .await
        .map_err(unavailable)?;
    Ok(IssuedToken {
        iframe_url: format!("{}/widget/badge?t={token}", state.config.public_url),
        token,
        expires_at: DateTime::from_timestamp(claims.expires_at, 0).unwrap_or(expires_at),
    })
}

/// What the badge shows: never risk tier, reason codes, scores or evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Badge {
    /// "Ada L."
    pub name: String,
    pub status: VerificationStatus,
    pub status_label: String,
    pub last_updated: Option<DateTime<Utc>>,
    pub next_action: String,
    /// "/candidates/42", only for a signed-in Clearance user who may open the profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_url: Option<String>,
}

/// A valid token's badge, and the origins that may frame it. `count_view`: a page load counts as
/// a view; the badge's own polls for changes do not (they would count one viewer many times).
pub async fn badge(
    state: &AppState,
    token: &str,
    count_view: bool,
    viewer: Option<&crate::model::CurrentUser>,
) -> Result<(Badge, Vec<String>), EmbedRefusal> {
    let bad = |e: TokenError| match e {
        TokenError::Revoked => EmbedRefusal::Forbidden(e.to_string()),
        _ => EmbedRefusal::Unauthorized(e.to_string()),
    };
    let claims = embed_token::peek(token).map_err(bad)?;
    let now = clock::now();
    if !state.badge_limits.allow(token, now.timestamp() / 60) {
        return Err(EmbedRefusal::TooMany);
    }
    let integration = db::integrations::find(&state.db, claims.integration_id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| bad(TokenError::BadSignature))?;
    let key = signing_key(state, &integration)?;
    let issuer = Issuer {
        key: &key,
        generation: integration.generation,
        revoked: integration.revoked_at.is_some(),
    };
    embed_token::verify(issuer, token, now.timestamp()).map_err(bad)?;
    live(&integration, now)?;
    let open_url = match viewer {
        Some(user) => super::access::visible_candidate(&state.db, user, claims.candidate_id)
            .await
            .is_ok()
            .then(|| format!("/candidates/{}", claims.candidate_id)),
        None => None,
    };
    let c = db::candidates::find_candidate(&state.db, claims.candidate_id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| EmbedRefusal::NotFound("no such candidate".into()))?;
    let initial = c
        .last_name
        .chars()
        .next()
        .map(|i| format!(" {i}."))
        .unwrap_or_default();
    let badge = Badge {
        name: format!("{}{initial}", c.first_name),
        status: c.verification_status,
        status_label: c.verification_status.label().to_string(),
        last_updated: c.verification_updated_at,
        next_action: crate::server::services::verification::next_action(
            c.verification_status,
            false,
            false,
            false,
        ),
        open_url,
    };
    if count_view {
        db::integrations::count_view(
            &state.db,
            integration.id,
            &now.format("%Y-%m-%d").to_string(),
        )
        .await
        .map_err(unavailable)?;
    }
    let origins: Vec<String> =
        serde_json::from_str(&integration.allowed_origins).unwrap_or_default();
    Ok((badge, origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_https_hosts_only() {
        assert_eq!(
            check_origin("https://ats.example.com/").unwrap(),
            "https://ats.example.com"
        );
        assert_eq!(
            check_origin("https://ats.example.com:8443").unwrap(),
            "https://ats.example.com:8443"
        );
        assert_eq!(
            check_origin("http://127.0.0.1:3106").unwrap(),
            "http://127.0.0.1:3106"
        );
        for bad in [
            "http://ats.example.com",
            "https://ats.example.com/jobs",
            "ats.example.com",
            "javascript:alert(1)",
            "https://a.example?x=1",
            "",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_token_gets_per_minute_requests_then_waits_for_the_next_minute() {
        let limits = TokenLimits::default();
        for _ in 0..TokenLimits::PER_MINUTE {
            assert!(limits.allow("cb1.a", 100));
        }
        assert!(!limits.allow("cb1.a", 100), "one past the limit is refused");
        assert!(!limits.allow("cb1.a", 100), "and stays refused this minute");
        // Another token has its own count.
        assert!(limits.allow("cb1.b", 100));
        // The next minute starts over.
        assert!(limits.allow("cb1.a", 101));
    }
}

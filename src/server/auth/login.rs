//! Sign-in: throttled per IP and per account, session id cycled on success.
use super::{internal, password, SESSION_SIGNED_IN_AT_KEY, SESSION_USER_KEY};
use crate::error::AppError;
use crate::model::{AuditEventType, CurrentUser, Email};
use crate::server::audit::{sha256_hex, Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{self, Db};
use chrono::Duration;
use tower_sessions::Session;

/// Failed attempts allowed inside the window before 429.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

/// Throttling keys: the client address, and the account by a digest of its email (so the counter
/// table never holds what a stranger typed).
fn keys(client: &str, email: &str) -> (String, String) {
    (
        format!("ip:{client}"),
        format!("account:{}", sha256_hex(email)),
    )
}

/// Signs in `email_input` from `client` (see `security::client_key`). Input that is not an email
/// (or over 254 characters) is refused before anything is written; the attempt is counted against
/// the client and the account atomically with the limit check, before the password is checked.
pub async fn login(
    db: &Db,
    session: &Session,
    client: &str,
    email_input: &str,
    password_input: String,
) -> Result<CurrentUser, AppError> {
    let email = Email::parse(email_input)
        .map_err(|_| {
            AppError::BadRequest(
                "Enter your email address (name@domain, at most 254 characters).".into(),
            )
        })?
        .to_string();
    let (ip_key, account_key) = keys(client, &email);
    let now = clock::now();
    let since = now - Duration::minutes(FAILURE_WINDOW_MINUTES);
    let limits = [
        (ip_key, MAX_FAILURES_PER_IP),
        (account_key.clone(), MAX_FAILURES_PER_ACCOUNT),
    ];
    let Some(counted) = db::login::reserve_attempt(db, &limits, since, now).await? else {
        tracing::warn!(client, "login throttled");
        metrics::counter!(crate::server::services::metrics::LOGIN_THROTTLED).increment(1);
        return Err(AppError::TooManyRequests);
    };

    let user = db::users::find_by_email(db, &email).await?;
    let ok = password::verify(
        password_input,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        (_, known) => {
            // The attempt stays counted. The log names a real account by our own record of it,
            // and an unknown one only by a digest of what was typed.
            let audit = match &known {
                Some(u) => NewAuditEvent::new(
                    Actor::System("sign-in".into()),
                    "user",
                    u.id,
                    AuditEventType::LoginFailed,
                    serde_json::json!({ "email": u.email, "ip": client }),
                ),
                None => NewAuditEvent::new(
                    Actor::System("sign-in".into()),
                    "account",
                    sha256_hex(&email),
                    AuditEventType::LoginFailed,
                    serde_json::json!({ "email_sha256": sha256_hex(&email), "ip": client }),
                ),
            };
            db::audit::append(db, &audit).await?;
            // Old rows are useless once outside every window.
            let _ = db::login::prune_before(db, now - Duration::days(1)).await;
            tracing::info!(client, "failed login");
            metrics::counter!(crate::server::services::metrics::LOGIN_FAILURES).increment(1);
            return Err(AppError::BadCredentials);
        }
    };
    let role = user.role;
    db::login::release(db, &counted, &account_key).await?;
    // A fresh id at privilege change defeats session fixation.
    session.cycle_id().await.map_err(internal)?;
    session
        .insert(SESSION_USER_KEY, user.id)
        .await
        .map_err(internal)?;
    session
        .insert(SESSION_SIGNED_IN_AT_KEY, clock::now().timestamp())
        .await
        .map_err(internal)?;
    let actor = Actor::User {
        id: user.id,
        name: user.name.clone(),
    };
    let audit = NewAuditEvent::new(
        actor,
        "user",
        user.id,
        AuditEventType::LoginSucceeded,
        serde_json::json!({ "ip": client }),
    );
    db::audit::append(db, &audit).await?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(CurrentUser {
        id: user.id,
        email: user.email,
        name: user.name,
        role,
    })
}

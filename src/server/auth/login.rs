//! Sign-in: throttled per IP and per account, session id cycled on success.
use super::{internal, password, SESSION_USER_KEY};
use crate::error::AppError;
use crate::model::{AuditEventType, CurrentUser, Email, Role};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::db::{self, Db};
use chrono::{Duration, Utc};
use tower_sessions::Session;

/// Failed attempts allowed inside the window before 429.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

fn keys(ip: &str, email: &str) -> (String, String) {
    (format!("ip:{ip}"), format!("account:{email}"))
}

pub async fn login(
    db: &Db,
    session: &Session,
    ip: &str,
    email: &str,
    password_input: String,
) -> Result<CurrentUser, AppError> {
    let email = Email::parse(email)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let (ip_key, account_key) = keys(ip, &email);
    let now = Utc::now();
    let since = now - Duration::minutes(FAILURE_WINDOW_MINUTES);
    if db::login::failures_since(db, &ip_key, since).await? >= MAX_FAILURES_PER_IP
        || db::login::failures_since(db, &account_key, since).await? >= MAX_FAILURES_PER_ACCOUNT
    {
        tracing::warn!(ip, "login throttled");
        return Err(AppError::TooManyRequests);
    }

    let user = db::users::find_by_email(db, &email).await?;
    let ok = password::verify(
        password_input,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            let audit = NewAuditEvent::new(
                Actor::System("sign-in".into()),
                "account",
                &email,
                AuditEventType::LoginFailed,
                serde_json::json!({ "email": email, "ip": ip }),
            );
            db::login::record_failure(db, &[ip_key, account_key], now, &audit).await?;
            // Old rows are useless once outside every window.
            let _ = db::login::prune_before(db, now - Duration::days(1)).await;
            tracing::info!(ip, "failed login");
            return Err(AppError::BadCredentials);
        }
    };
    let role = user.role.parse::<Role>().map_err(internal)?;
    db::login::clear(db, &account_key).await?;
    // A fresh id at privilege change defeats session fixation.
    session.cycle_id().await.map_err(internal)?;
    session
        .insert(SESSION_USER_KEY, user.id)
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
        serde_json::json!({ "ip": ip }),
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

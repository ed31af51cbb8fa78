//! Who is asking: passwords, sessions, login throttling and permission checks.
pub mod login;
pub mod password;
pub mod session_store;

use crate::error::AppError;
use crate::model::CurrentUser;
use crate::server::clock;
use crate::server::config::Config;
use crate::server::{db, state::AppState};
use leptos::prelude::use_context;
use tower_sessions::Session;

pub const SESSION_USER_KEY: &str = "user_id";
/// When the session's user signed in (unix seconds), for the absolute session lifetime.
pub const SESSION_SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// When the session last showed activity (unix seconds): see [`session_user_id`].
pub const SESSION_SEEN_AT_KEY: &str = "seen_at";

/// The user id of a session still inside its absolute lifetime (`CLEARANCE_SESSION_MAX_HOURS`);
/// an older session is ended here.
///
/// Idle expiry is the session layer's, which moves a session's expiry only when it saves it, and
/// it saves only a changed session: a session used only to read would end `idle` after sign-in
/// however busy its user. So activity is marked here, at most once per [`touch_interval`] of `idle`
/// (a write per user a minute at most, not one per request), which saves the session with its
/// expiry pushed to `idle` from now.
pub async fn session_user_id(session: &Session, config: &Config) -> Option<i64> {
    let (max_age, idle) = (config.session_max_age, config.session_idle);
    let id = session.get::<i64>(SESSION_USER_KEY).await.ok()??;
    let at = session.get::<i64>(SESSION_SIGNED_IN_AT_KEY).await.ok()??;
    let now = clock::now().timestamp();
    let age = now.saturating_sub(at);
    if age < 0 || age as u64 > max_age.as_secs() {
        let _ = session.flush().await;
        return None;
    }
    let seen = session
        .get::<i64>(SESSION_SEEN_AT_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(at);
    if needs_touch(now, seen, idle) {
        let _ = session.insert(SESSION_SEEN_AT_KEY, now).await;
    }
    Some(id)
}

/// How long (seconds) after its last mark a session's activity is marked again: a quarter of the
/// idle time, at least a second, at most a minute (so the idle clock is never more than that
/// behind the last request).
fn touch_interval(idle: std::time::Duration) -> i64 {
    (idle.as_secs() as i64 / 4).clamp(1, 60)
}

/// Whether a session last marked active at `seen` is marked again at `now` (also when the clock
/// went back).
fn needs_touch(now: i64, seen: i64, idle: std::time::Duration) -> bool {
    now < seen || now - seen >= touch_interval(idle)
}

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this request");
        AppError::Internal
    })
}

/// The user row one request has read, by id: a page that asks for the user in its shell and in
/// each of its server functions reads it once (provided per request in `server::router`) — also
/// when they ask at the same moment, as a page's resources do while it renders: the first reads,
/// the others wait for its answer. A new request reads it again, so role changes still apply at once.
#[derive(Clone, Default)]
pub struct RequestUser(std::sync::Arc<tokio::sync::OnceCell<(i64, Option<CurrentUser>)>>);

/// The signed-in user, re-read from the database for each request so role changes apply at once.
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    let state = state()?;
    let session = session().await?;
    let Some(user_id) = session_user_id(&session, &state.config).await else {
        return Ok(None);
    };
    let Some(cache) = use_context::<RequestUser>() else {
        return read_user(&state, user_id).await;
    };
    let (cached_id, user) = cache
        .0
        .get_or_try_init(|| async {
            Ok::<_, AppError>((user_id, read_user(&state, user_id).await?))
        })
        .await?;
    if *cached_id == user_id {
        Ok(user.clone())
    } else {
        // The session changed user within the request (sign-in): not the one cached.
        read_user(&state, user_id).await
    }
}

async fn read_user(state: &AppState, user_id: i64) -> Result<Option<CurrentUser>, AppError> {
    let Some(row) = db::users::find_by_id(&state.db, user_id).await? else {
        return Ok(None);
    };
    Ok(Some(CurrentUser {
        id: row.id,
        email: row.email,
        name: row.name,
        role: row.role,
    }))
}

/// The signed-in user, or 401. What they may do is the services' to decide.
pub async fn user() -> Result<CurrentUser, AppError> {
    current_user().await?.ok_or(AppError::Unauthenticated)
}

/// The signed-in user of a plain axum route (downloads): as an argument `SignedIn(user)` answers
/// 401 "Please sign in." when nobody is; `Option<SignedIn>` lets the handler answer itself.
pub struct SignedIn(pub CurrentUser);

impl axum::extract::OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Option<SignedIn>, Self::Rejection> {
        use axum::response::IntoResponse;
        let session = <Session as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            parts, state,
        )
        .await
        .map_err(IntoResponse::into_response)?;
        let Some(user_id) = session_user_id(&session, &state.config).await else {
            return Ok(None);
        };
        Ok(read_user(state, user_id).await.ok().flatten().map(SignedIn))
    }
}

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<SignedIn, Self::Rejection> {
        use axum::response::IntoResponse;
        <SignedIn as axum::extract::OptionalFromRequestParts<AppState>>::from_request_parts(
            parts, state,
        )
        .await?
        .ok_or_else(|| (http::StatusCode::UNAUTHORIZED, "Please sign in.").into_response())
    }
}

pub fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "internal error");
    AppError::Internal
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn activity_is_marked_at_most_once_a_minute_and_within_the_idle_time() {
        let thirty_minutes = Duration::from_secs(30 * 60);
        assert_eq!(touch_interval(thirty_minutes), 60);
        assert!(!needs_touch(1_059, 1_000, thirty_minutes));
        assert!(needs_touch(1_060, 1_000, thirty_minutes));
        // A short idle time is marked a quarter of the way in, a very short one each second.
        assert_eq!(touch_interval(Duration::from_secs(120)), 30);
        assert!(!needs_touch(1_000, 1_000, Duration::from_secs(2)));
        assert!(needs_touch(1_001, 1_000, Duration::from_secs(2)));
        // A clock set back marks at once rather than never.
        assert!(needs_touch(990, 1_000, thirty_minutes));
    }
}

//! Who is asking: passwords, sessions, login throttling and permission checks.
pub mod login;
pub mod password;
pub mod session_store;

use crate::error::AppError;
use crate::model::CurrentUser;
use crate::server::clock;
use crate::server::{db, state::AppState};
use leptos::prelude::use_context;
use tower_sessions::Session;

pub const SESSION_USER_KEY: &str = "user_id";
/// When the session's user signed in (unix seconds), for the absolute session lifetime.
pub const SESSION_SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// The user id of a session still inside its absolute lifetime (`CLEARANCE_SESSION_MAX_HOURS`);
/// an older session is ended here. (Idle expiry is the session layer's.)
pub async fn session_user_id(session: &Session, max_age: std::time::Duration) -> Option<i64> {
    let id = session.get::<i64>(SESSION_USER_KEY).await.ok()??;
    let at = session.get::<i64>(SESSION_SIGNED_IN_AT_KEY).await.ok()??;
    let age = clock::now().timestamp().saturating_sub(at);
    if age < 0 || age as u64 > max_age.as_secs() {
        let _ = session.flush().await;
        return None;
    }
    Some(id)
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
    let Some(user_id) = session_user_id(&session, state.config.session_max_age).await else {
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
        let Some(user_id) = session_user_id(&session, state.config.session_max_age).await else {
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

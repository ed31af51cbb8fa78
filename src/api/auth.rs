//! Sign in, sign out, and who is signed in.
use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::server::auth;
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let state = auth::state()?;
    let session = auth::session().await?;
    let ip = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|_| "unknown".into());
    auth::login::login(&state.db, &session, &ip, &email, password).await?;
    leptos_axum::redirect("/candidates");
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::auth;
    let session = auth::session().await?;
    session.flush().await.map_err(auth::internal)?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/api", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    crate::server::auth::current_user().await
}

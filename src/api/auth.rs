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
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip())
        .map_err(auth::internal)?;
    let headers = leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .map_err(auth::internal)?;
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client =
        crate::server::security::client_key(peer, forwarded, &state.config.trusted_proxies);
    auth::login::login(&state.db, &session, &client, &email, password).await?;
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

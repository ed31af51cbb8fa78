//! Background checks: partner connections (admins), catalogs and orders (admins, recruiters),
//! and the orders on a profile (everyone who may see the candidate; hiring managers: status only).
use crate::error::AppError;
use crate::model::{BackgroundCheck, CatalogView, ConnectionTest, PartnerSummary};
use leptos::prelude::*;

/// Partners for the Partners page (admins) and the order picker (admins, recruiters).
#[server(prefix = "/api", endpoint = "list_partners")]
pub async fn list_partners() -> Result<Vec<PartnerSummary>, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::current_user()
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !(user.role.can(Permission::ManageSettings)
        || user.role.can(Permission::OrderBackgroundCheck))
    {
        return Err(AppError::Forbidden);
    }
    services::background::partners(&auth::state()?.db).await
}

/// Connects a partner once; the secret is write-only and the logo arrives as base64 PNG.
#[server(prefix = "/api", endpoint = "add_partner")]
pub async fn add_partner(
    name: String,
    catalog_url: String,
    orders_url: String,
    account_id: String,
    api_secret: String,
    #[server(default)] logo_base64: String,
) -> Result<i64, AppError> {
    use crate::model::Permission;
    use crate::server::audit::Actor;
    use crate::server::{auth, services};
    use base64::Engine;
    let user = auth::require(Permission::ManageSettings).await?;
    let logo_png = match logo_base64.trim() {
        "" => None,
        b64 => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| AppError::BadRequest("Logo: the file could not be read.".into()))?,
        ),
    };
    let input = services::background::PartnerInput {
        name,
        catalog_url,
        orders_url,
        account_id,
        api_secret,
        logo_png,
    };
    let state = auth::state()?;
    services::background::add_partner(&state.db, &state.config, Actor::from(&user), &input, false)
        .await
}

#[server(prefix = "/api", endpoint = "test_partner_connection")]
pub async fn test_partner_connection(partner_id: i64) -> Result<ConnectionTest, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    auth::require(Permission::ManageSettings).await?;
    services::background::test_connection(&auth::state()?, partner_id).await
}

/// The partner's catalog for the picker; `refresh` fetches it now instead of using the cache.
#[server(prefix = "/api", endpoint = "get_catalog")]
pub async fn get_catalog(partner_id: i64, refresh: bool) -> Result<CatalogView, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::OrderBackgroundCheck).await?;
    services::background::catalog(&auth::state()?, &user, partner_id, refresh).await
}

#[server(prefix = "/api", endpoint = "place_background_check")]
pub async fn place_background_check(
    candidate_id: i64,
    partner_id: i64,
    package_id: String,
    #[server(default)] add_on_ids: Vec<String>,
    expected_total: String,
    #[server(default)] job_id: Option<i64>,
) -> Result<i64, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::OrderBackgroundCheck).await?;
    let req = services::background::PlaceOrder {
        candidate_id,
        partner_id,
        package_id,
        add_on_ids,
        expected_total,
        job_id,
    };
    services::background::place_order(&auth::state()?, &user, req).await
}

#[server(prefix = "/api", endpoint = "background_checks")]
pub async fn background_checks(candidate_id: i64) -> Result<Vec<BackgroundCheck>, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::ViewCandidates).await?;
    let state = auth::state()?;
    services::background::orders_for(
        &state.db,
        &user,
        candidate_id,
        state.config.order_stale_after,
    )
    .await
}

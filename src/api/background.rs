//! Background checks: partner connections (admins), catalogs and orders (admins, recruiters),
//! and the orders on a profile (everyone who may see the candidate; hiring managers: status only).
use crate::error::AppError;
use crate::model::{BackgroundCheck, CatalogView, ConnectionTest, PartnerSummary};
use leptos::prelude::*;

/// Partners for the Partners page (admins) and the order picker (admins, recruiters).
#[server(prefix = "/api", endpoint = "list_partners")]
pub async fn list_partners() -> Result<Vec<PartnerSummary>, AppError> {
    use crate::server::{auth, services};
    services::background::partners_for(&auth::state()?.db, &auth::user().await?).await
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
    use crate::server::{auth, services};
    let form = services::background::PartnerForm {
        name,
        catalog_url,
        orders_url,
        account_id,
        api_secret,
        logo_base64,
    };
    services::background::connect_partner(&auth::state()?, &auth::user().await?, form).await
}

/// The agency's address and phone for final adverse-action notices.
#[server(prefix = "/api", endpoint = "save_partner_contact")]
pub async fn save_partner_contact(
    partner_id: i64,
    address: String,
    phone: String,
) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::background::save_partner_contact(
        &auth::state()?.db,
        &auth::user().await?,
        partner_id,
        &address,
        &phone,
    )
    .await
}

#[server(prefix = "/api", endpoint = "test_partner_connection")]
pub async fn test_partner_connection(partner_id: i64) -> Result<ConnectionTest, AppError> {
    use crate::server::{auth, services};
    services::background::test_connection(&auth::state()?, &auth::user().await?, partner_id).await
}

/// The partner's catalog for the picker; `refresh` fetches it now instead of using the cache.
#[server(prefix = "/api", endpoint = "get_catalog")]
pub async fn get_catalog(partner_id: i64, refresh: bool) -> Result<CatalogView, AppError> {
    use crate::server::{auth, services};
    services::background::catalog(&auth::state()?, &auth::user().await?, partner_id, refresh).await
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
    use crate::server::{auth, services};
    let req = services::background::PlaceOrder {
        candidate_id,
        partner_id,
        package_id,
        add_on_ids,
        expected_total,
        job_id,
        bulk: None,
    };
    services::background::place_order(&auth::state()?, &auth::user().await?, req).await
}

#[server(prefix = "/api", endpoint = "background_checks")]
pub async fn background_checks(candidate_id: i64) -> Result<Vec<BackgroundCheck>, AppError> {
    use crate::server::{auth, services};
    services::background::orders_for(&auth::state()?, &auth::user().await?, candidate_id).await
}

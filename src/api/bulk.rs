//! Bulk actions from the candidate list. The selection is the ticked rows (`rows`, application
//! ids) or, with `all_matching`, every row matching the list's filters (the same fields as
//! `list_candidates`). The action's own fields: `move_to` (a move); `partner_id`, `package_id`,
//! `add_on_ids` and, to start, `total_each` as the preview showed it (an order).
// The selection's filter fields travel as the list's do, one form field each.
#![allow(clippy::too_many_arguments)]
use crate::error::AppError;
use crate::model::{
    BulkAction, BulkJobView, BulkPreview, IntegrityFilter, RiskTier, Stage, VerificationStatus,
};
use leptos::prelude::*;

/// The selection a bulk request names.
#[cfg(feature = "ssr")]
fn selection(
    rows: Vec<i64>,
    all_matching: bool,
    search: Option<String>,
    job_id: Option<i64>,
    stage: Option<Stage>,
    status: Option<VerificationStatus>,
    risk: Option<RiskTier>,
    integrity: Option<IntegrityFilter>,
) -> crate::model::BulkSelection {
    let query = crate::model::CandidateQuery {
        search,
        job_id,
        stage,
        status,
        risk,
        integrity,
        before: None,
    };
    crate::model::BulkSelection::new(rows, all_matching, query)
}

/// The task the request's action fields name.
#[cfg(feature = "ssr")]
fn task(
    action: BulkAction,
    move_to: Option<Stage>,
    partner_id: Option<i64>,
    package_id: Option<String>,
    add_on_ids: Vec<String>,
    total_each: Option<String>,
) -> Result<crate::model::BulkTask, AppError> {
    let order = partner_id.map(|partner_id| crate::model::BulkOrder {
        partner_id,
        package_id: package_id.unwrap_or_default(),
        add_on_ids,
        total_each: total_each.unwrap_or_default(),
    });
    crate::model::BulkTask::new(action, move_to, order).map_err(AppError::BadRequest)
}

#[server(prefix = "/api", endpoint = "preview_bulk")]
pub async fn preview_bulk(
    action: BulkAction,
    #[server(default)] rows: Vec<i64>,
    #[server(default)] all_matching: bool,
    search: Option<String>,
    job_id: Option<i64>,
    stage: Option<Stage>,
    status: Option<VerificationStatus>,
    risk: Option<RiskTier>,
    #[server(default)] integrity: Option<IntegrityFilter>,
    #[server(default)] move_to: Option<Stage>,
    #[server(default)] partner_id: Option<i64>,
    #[server(default)] package_id: Option<String>,
    #[server(default)] add_on_ids: Vec<String>,
) -> Result<BulkPreview, AppError> {
    use crate::server::{auth, services};
    let task = task(action, move_to, partner_id, package_id, add_on_ids, None)?;
    let selection = selection(
        rows,
        all_matching,
        search,
        job_id,
        stage,
        status,
        risk,
        integrity,
    );
    services::bulk::preview(&auth::state()?, &auth::user().await?, &task, &selection).await
}

#[server(prefix = "/api", endpoint = "start_bulk")]
pub async fn start_bulk(
    action: BulkAction,
    #[server(default)] rows: Vec<i64>,
    #[server(default)] all_matching: bool,
    search: Option<String>,
    job_id: Option<i64>,
    stage: Option<Stage>,
    status: Option<VerificationStatus>,
    risk: Option<RiskTier>,
    #[server(default)] integrity: Option<IntegrityFilter>,
    #[server(default)] move_to: Option<Stage>,
    #[server(default)] partner_id: Option<i64>,
    #[server(default)] package_id: Option<String>,
    #[server(default)] add_on_ids: Vec<String>,
    request_key: String,
    #[server(default)] total_each: Option<String>,
) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    let task = task(
        action, move_to, partner_id, package_id, add_on_ids, total_each,
    )?;
    let selection = selection(
        rows,
        all_matching,
        search,
        job_id,
        stage,
        status,
        risk,
        integrity,
    );
    services::bulk::start(
        &auth::state()?,
        &auth::user().await?,
        &request_key,
        &task,
        &selection,
    )
    .await
}

#[server(prefix = "/api", endpoint = "cancel_bulk")]
pub async fn cancel_bulk(id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::bulk::cancel(&auth::state()?, &auth::user().await?, id).await
}

#[server(prefix = "/api", endpoint = "bulk_job")]
pub async fn bulk_job(id: i64) -> Result<BulkJobView, AppError> {
    use crate::server::{auth, services};
    services::bulk::view(&auth::state()?, &auth::user().await?, id).await
}

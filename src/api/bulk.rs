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

/// Declares a bulk server function: the action, the selection and the order's fields, one form
/// field each (the selection's filters travel as the list's do), then the function's own `extra`
/// fields. `$body` sees the request's `task` (with `total_each`) and `selection`.
macro_rules! bulk_server_fn {
    (
        $(#[$doc:meta])* $name:ident(endpoint = $endpoint:literal) -> $ret:ty;
        extra($($(#[$xattr:meta])* $x:ident: $xt:ty),*);
        total_each = $total_each:expr;
        |$task:ident, $selection:ident| $body:expr
    ) => {
        $(#[$doc])*
        #[server(prefix = "/api", endpoint = $endpoint)]
        pub async fn $name(
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
            $($(#[$xattr])* $x: $xt),*
        ) -> Result<$ret, AppError> {
            let $task = task(action, move_to, partner_id, package_id, add_on_ids, $total_each)?;
            let query = crate::model::CandidateQuery {
                search,
                job_id,
                stage,
                status,
                risk,
                integrity,
                before: None,
            };
            let $selection = crate::model::BulkSelection::new(rows, all_matching, query);
            $body
        }
    };
}

bulk_server_fn! {
    /// What a bulk action would do to the selection: how many go ahead, who is skipped and why,
    /// and an order's total per candidate.
    preview_bulk(endpoint = "preview_bulk") -> BulkPreview;
    extra();
    total_each = None;
    |task, selection| {
        use crate::server::{auth, services};
        services::bulk::preview(&auth::state()?, &auth::user().await?, &task, &selection).await
    }
}

bulk_server_fn! {
    /// Starts the bulk job the preview described; the same `request_key` starts it once. An
    /// order is refused when `total_each` is not the total per candidate the catalog gives now.
    start_bulk(endpoint = "start_bulk") -> i64;
    extra(request_key: String, #[server(default)] total_each: Option<String>);
    total_each = total_each;
    |task, selection| {
        use crate::server::{auth, services};
        let (state, user) = (auth::state()?, auth::user().await?);
        services::bulk::start(&state, &user, &request_key, &task, &selection).await
    }
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

//! Reconciliation and the drift report (admins and security reviewers).
use crate::error::AppError;
use crate::model::{DriftReport, ReconcileOutcome};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
async fn reconcile(candidate: Option<i64>, trigger: &str) -> Result<ReconcileOutcome, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    auth::require(Permission::ViewAudit).await?;
    let state = auth::state()?;
    if let Some(id) = candidate {
        crate::server::db::candidates::find_candidate(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let s =
        services::reconciliation::run(&state, trigger, state.config.reconcile_lookback, candidate)
            .await
            .map_err(auth::internal)?;
    Ok(ReconcileOutcome {
        ran: s.ran,
        checked: s.checked,
        drifted: s.drifted,
        fixed: s.fixed,
        failed: s.failed,
        error: s.error,
    })
}

#[server(prefix = "/api", endpoint = "run_reconciliation")]
pub async fn run_reconciliation() -> Result<ReconcileOutcome, AppError> {
    reconcile(None, "manual").await
}

#[server(prefix = "/api", endpoint = "reconcile_candidate")]
pub async fn reconcile_candidate(candidate_id: i64) -> Result<ReconcileOutcome, AppError> {
    reconcile(Some(candidate_id), "candidate").await
}

#[server(prefix = "/api", endpoint = "drift_report")]
pub async fn get_drift_report() -> Result<DriftReport, AppError> {
    use crate::model::{DriftView, Permission, ReconciliationRunView};
    use crate::server::{auth, db};
    auth::require(Permission::ViewAudit).await?;
    let state = auth::state()?;
    let runs = db::reconciliation::recent_runs(&state.db, 20)
        .await?
        .into_iter()
        .map(|r| ReconciliationRunView {
            id: r.id,
            trigger: r.trigger,
            state: r.state,
            started_at: r.started_at,
            duration_ms: r.duration_ms,
            checked: r.checked,
            drifted: r.drifted,
            fixed: r.fixed,
            failed: r.failed,
            error: r.error,
        })
        .collect();
    let drift = db::reconciliation::recent_drift(&state.db, 100)
        .await?
        .into_iter()
        .map(|d| DriftView {
            candidate_id: d.candidate_id,
            candidate: format!("{} {}", d.first_name, d.last_name),
            session_id: d.session_id,
            field: d.field,
            before: d.before_value,
            after: d.after_value,
            detected_at: d.detected_at,
            resolved_at: d.resolved_at,
        })
        .collect();
    let cutoff = chrono::Utc::now() - state.config.order_stale_after;
    let stale_orders = db::background::stale_orders(&state.db, cutoff, 100)
        .await?
        .into_iter()
        .map(|o| crate::model::StaleOrder {
            candidate_id: o.candidate_id,
            candidate: format!("{} {}", o.first_name, o.last_name),
            background_check_id: o.background_check_id,
            partner: o.partner_name,
            submitted_at: o.submitted_at,
        })
        .collect();
    Ok(DriftReport {
        runs,
        drift,
        stale_orders,
    })
}

/// Sessions, last webhook and deliveries of one candidate, for support.
#[server(prefix = "/api", endpoint = "support_view")]
pub async fn support_view(candidate_id: i64) -> Result<crate::model::SupportView, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    auth::require(Permission::ViewAudit).await?;
    services::deliveries::support(&auth::state()?.db, candidate_id).await
}

//! Reconciliation with the identity-verification provider (the source of truth for identity
//! evidence): page through its listing, make Clearance match, log the drift it fixed.
use crate::model::{
    AuditEventType, ReconciliationTrigger, VerificationEventType, VerificationStatus,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{
    self,
    reconciliation::Counts,
    verification::{Applied, InboundEvent},
};
use crate::server::partners::{self, CallError};
use crate::server::services::verification::{apply_stored, parse_candidate_ref};
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};

/// What a run did (the same the "reconcile now" button reports).
pub type RunSummary = crate::model::ReconcileOutcome;

/// A person's "reconcile now" (admins and security reviewers): every recent session, or one
/// candidate's.
pub async fn run_for(
    state: &AppState,
    user: &crate::model::CurrentUser,
    candidate: Option<i64>,
) -> Result<crate::model::ReconcileOutcome, crate::error::AppError> {
    use crate::error::AppError;
    super::access::require(user, crate::model::Permission::ViewAudit)?;
    if let Some(id) = candidate {
        db::candidates::find_candidate(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let trigger = if candidate.is_some() {
        ReconciliationTrigger::Candidate
    } else {
        ReconciliationTrigger::Manual
    };
    run(state, trigger, state.config.reconcile_lookback, candidate)
        .await
        .map_err(crate::server::auth::internal)
}

/// The last runs, the drift they found, and orders silent past their age (admins and security
/// reviewers).
pub async fn drift_report(
    state: &AppState,
    user: &crate::model::CurrentUser,
) -> Result<crate::model::DriftReport, crate::error::AppError> {
    use crate::model::{DriftReport, DriftView, ReconciliationRunView, StaleOrder};
    super::access::require(user, crate::model::Permission::ViewAudit)?;
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
    let cutoff = clock::now() - state.config.order_stale_after;
    let stale_orders = db::background::stale_orders(&state.db, cutoff, 100)
        .await?
        .into_iter()
        .map(|o| StaleOrder {
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

/// The webhook event that says what the listing says, so fixes go through the one apply path.
fn event_type_for(status: VerificationStatus) -> Option<VerificationEventType> {
    match status {
        VerificationStatus::InProgress => Some(VerificationEventType::Started),
        VerificationStatus::Verified => Some(VerificationEventType::Completed),
        VerificationStatus::NeedsReview => Some(VerificationEventType::NeedsReview),
        VerificationStatus::Failed => Some(VerificationEventType::Failed),
        VerificationStatus::Expired => Some(VerificationEventType::Expired),
        VerificationStatus::NotStarted => None,
    }
}

async fn page_with_retries(
    state: &AppState,
    url: &str,
    key: &str,
    since: DateTime<Utc>,
    cursor: Option<&str>,
) -> Result<partners::verification::SessionPage, CallError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match partners::verification::list_sessions(&state.http, url, key, since, cursor).await {
            Err(CallError::Retryable { retry_after, .. }) if attempt < 5 => {
                let delay = crate::server::jobs::backoff(
                    state.config.retry_base,
                    attempt,
                    retry_after,
                    0.0,
                );
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}

/// Runs one reconciliation: all sessions updated in the look-back window, or one candidate's.
pub async fn run(
    state: &AppState,
    trigger: ReconciliationTrigger,
    lookback: Duration,
    only_candidate: Option<i64>,
) -> anyhow::Result<RunSummary> {
    let db = &state.db;
    let started = std::time::Instant::now();
    let now = clock::now();
    let Some(run_id) =
        db::reconciliation::start(db, trigger, now, state.config.reconcile_abandoned_after).await?
    else {
        metrics::counter!(super::metrics::RECONCILIATION_RUNS, "trigger" => trigger.as_str(), "result" => "skipped")
            .increment(1);
        return Ok(RunSummary {
            ran: false,
            checked: 0,
            drifted: 0,
            fixed: 0,
            failed: 0,
            error: Some("A reconciliation is already running.".into()),
        });
    };
    // Events kept for candidates we did not have may match now (after an import, say).
    db::verification::retry_unknown(db).await?;
    crate::server::services::verification::apply_pending(db, &state.config.business_calendar)
        .await?;

    let mut counts = Counts::default();
    let mut error = None;
    match (
        &state.config.verification_url,
        &state.config.verification_api_key,
    ) {
        (Some(url), Some(key)) => {
            let since = match only_candidate {
                Some(id) => db::verification::sessions_of(db, id)
                    .await?
                    .iter()
                    .map(|s| s.created_at)
                    .min()
                    .map(|t| t - Duration::minutes(5))
                    .unwrap_or(now - lookback),
                None => now - lookback,
            };
            let mut cursor: Option<String> = None;
            loop {
                let page =
                    match page_with_retries(state, url, key.expose(), since, cursor.as_deref())
                        .await
                    {
                        Ok(p) => p,
                        Err(e) => {
                            error = Some(format!("the provider's listing failed: {}", e.detail()));
                            break;
                        }
                    };
                // What Clearance has for this page, read in two queries rather than two per session.
                let ids: Vec<String> = page.sessions.iter().map(|s| s.session_id.clone()).collect();
                let local: std::collections::HashMap<String, db::verification::SessionRow> =
                    db::verification::sessions_by_ids(db, &ids)
                        .await?
                        .into_iter()
                        .map(|s| (s.session_id.clone(), s))
                        .collect();
                let refs: Vec<i64> = page
                    .sessions
                    .iter()
                    .filter_map(|s| parse_candidate_ref(&s.candidate_id))
                    .collect();
                let known = db::candidates::existing_ids(db, &refs).await?;
                for s in &page.sessions {
                    let Some(candidate_id) = parse_candidate_ref(&s.candidate_id) else {
                        continue;
                    };
                    if only_candidate.is_some_and(|c| c != candidate_id) {
                        continue;
                    }
                    counts.checked += 1;
                    if !known.contains(&candidate_id) {
                        continue;
                    }
                    let mine = local.get(&s.session_id);
                    if let Err(e) =
                        reconcile_session(state, run_id, candidate_id, s, mine, &mut counts).await
                    {
                        counts.failed += 1;
                        tracing::warn!(error = %e, session = %s.session_id, "could not reconcile a session");
                    }
                }
                db::reconciliation::progress(db, run_id, counts, clock::now()).await?;
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        _ => error = Some("no identity-verification provider is configured".into()),
    }
    let duration_ms = started.elapsed().as_millis() as i64;
    db::reconciliation::finish(
        db,
        run_id,
        counts,
        duration_ms,
        error.as_deref(),
        clock::now(),
    )
    .await?;
    let event = NewAuditEvent::new(
        Actor::System("reconciliation".into()),
        "reconciliation",
        run_id,
        AuditEventType::ReconciliationRun,
        serde_json::json!({ "trigger": trigger, "checked": counts.checked, "drifted": counts.drifted, "fixed": counts.fixed,
                            "failed": counts.failed, "duration_ms": duration_ms, "candidate": only_candidate, "error": error }),
    );
    db::audit::append(db, &event).await?;
    super::alerts::reconciliation_ended(db, run_id, counts.drifted, counts.fixed, error.as_deref())
        .await;
    let result = if error.is_some() {
        "failed"
    } else {
        "completed"
    };
    metrics::counter!(super::metrics::RECONCILIATION_RUNS, "trigger" => trigger.as_str(), "result" => result)
        .increment(1);
    metrics::counter!(super::metrics::DRIFT_FOUND).increment(counts.drifted.max(0) as u64);
    metrics::counter!(super::metrics::DRIFT_FIXED).increment(counts.fixed.max(0) as u64);
    Ok(RunSummary {
        ran: true,
        checked: counts.checked,
        drifted: counts.drifted,
        fixed: counts.fixed,
        failed: counts.failed,
        error,
    })
}

async fn reconcile_session(
    state: &AppState,
    run_id: i64,
    candidate_id: i64,
    s: &partners::verification::ListedSession,
    local: Option<&db::verification::SessionRow>,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let db = &state.db;
    let Ok(provider_status) = s.status.parse::<VerificationStatus>() else {
        anyhow::bail!("the provider reports an unknown status '{}'", s.status);
    };
    let Some(event_type) = event_type_for(provider_status) else {
        return Ok(());
    };
    let local_status = local.map(|l| l.status.as_str().to_string());
    let local_risk = local
        .and_then(|l| l.risk_tier)
        .map(|t| t.as_str().to_string());
    let status_drift = local.map(|l| l.status) != Some(provider_status);
    let risk_drift = s.risk_tier.is_some() && local_risk != s.risk_tier;
    if !status_drift && !risk_drift {
        return Ok(());
    }
    counts.drifted += 1;
    let (field, before, after) = if status_drift {
        (
            "status",
            local_status.clone(),
            Some(provider_status.as_str().to_string()),
        )
    } else {
        ("risk_tier", local_risk.clone(), s.risk_tier.clone())
    };
    let now = clock::now();
    let detected = NewAuditEvent::new(
        Actor::System("reconciliation".into()),
        "candidate",
        candidate_id,
        AuditEventType::DriftDetected,
        serde_json::json!({ "session_id": s.session_id, "field": field, "before": before, "after": after, "run": run_id }),
    );
    db::audit::append(db, &detected).await?;
    let body = serde_json::json!({
        "type": event_type.as_str(),
        "timestamp": now,
        "data": {
            "candidate_id": s.candidate_id, "session_id": s.session_id, "event_created_at": s.updated_at,
            "risk_tier": s.risk_tier, "reason_codes": s.reason_codes, "evidence_pack_url": s.evidence_pack_url,
        }
    })
    .to_string();
    let inbound = InboundEvent {
        webhook_id: format!(
            "reconcile:{}:{}",
            s.session_id,
            s.updated_at.timestamp_micros()
        ),
        event_type,
        candidate_ref: s.candidate_id.clone(),
        session_id: s.session_id.clone(),
        event_created_at: crate::server::audit::audit_time(s.updated_at),
        body,
    };
    let fixed = match db::verification::store_event(db, &inbound, now).await? {
        Some(id) => matches!(
            apply_stored(db, &state.config.business_calendar, id).await?,
            Applied::Applied
        ),
        None => false,
    };
    let resolved_at = fixed.then(clock::now);
    db::reconciliation::record_drift(
        db,
        Some(run_id),
        candidate_id,
        &s.session_id,
        field,
        before.as_deref(),
        after.as_deref(),
        now,
        resolved_at,
    )
    .await?;
    if fixed {
        counts.fixed += 1;
        let resolved = NewAuditEvent::new(
            Actor::System("reconciliation".into()),
            "candidate",
            candidate_id,
            AuditEventType::DriftResolved,
            serde_json::json!({ "session_id": s.session_id, "field": field, "before": before, "after": after, "run": run_id }),
        );
        db::audit::append(db, &resolved).await?;
    } else {
        counts.failed += 1;
    }
    Ok(())
}

/// Runs the reconciliation every day at `at` (organisation time) until shutdown.
pub fn spawn_nightly(state: AppState, at: chrono::NaiveTime, lookback: Duration) {
    let tasks = state.tasks.clone();
    tasks.clone().spawn(async move {
        loop {
            let cal = &state.config.business_calendar;
            let now = clock::now();
            let today = now.with_timezone(&cal.tz).date_naive();
            let next = [today, today.succ_opt().unwrap_or(today)]
                .into_iter()
                .filter_map(|d| {
                    chrono::TimeZone::from_local_datetime(&cal.tz, &d.and_time(at)).earliest()
                })
                .map(|t| t.with_timezone(&Utc))
                .find(|t| *t > now)
                .unwrap_or(now + Duration::days(1));
            let wait = (next - now)
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(3600));
            if !tasks.pause(wait).await {
                return;
            }
            match run(&state, ReconciliationTrigger::Schedule, lookback, None).await {
                Ok(s) => tracing::info!(
                    checked = s.checked,
                    drifted = s.drifted,
                    fixed = s.fixed,
                    failed = s.failed,
                    "nightly reconciliation"
                ),
                Err(e) => tracing::error!(error = %e, "nightly reconciliation failed"),
            }
        }
    });
}

//! Reconciliation against the provider simulator over HTTP, on both databases.
mod common;

use clearance::model::{
    AuditEventType, DriftReport, ReconcileOutcome, ReconciliationTrigger, RunState,
    VerificationPanel, VerificationStatus,
};
use clearance::server::db;
use common::{audit_types, TestApp};

type Sim = clearance::server::sim::verification::Sim;

on_both_with_provider!(
    a_run_fixes_every_drifted_candidate_and_a_second_finds_none,
    runs_never_overlap_and_a_dead_run_is_closed,
    a_run_killed_half_way_and_started_again_ends_in_the_same_state,
    two_app_instances_start_one_run,
    events_for_unknown_candidates_apply_once_they_exist,
);

async fn settings(url: &str, json: serde_json::Value) {
    reqwest::Client::new()
        .post(format!("{url}/control/settings"))
        .json(&json)
        .send()
        .await
        .unwrap();
}

async fn send(app: &TestApp, candidate: i64) -> String {
    common::send_verification(app, candidate).await
}

async fn panel(app: &TestApp, candidate: i64) -> VerificationPanel {
    common::verification_panel(app, "recruiter@clearance.test", candidate).await
}

async fn a_run_fixes_every_drifted_candidate_and_a_second_finds_none(
    app: TestApp,
    sim: Sim,
    url: String,
) {
    let (a, b) = (send(&app, 8).await, send(&app, 9).await);
    settings(&url, serde_json::json!({ "drop_rate": 1.0 })).await;
    sim.complete(&a, "completed", Some("low".into()), vec![])
        .await
        .unwrap();
    sim.complete(
        &b,
        "needs_review",
        Some("high".into()),
        vec!["face_mismatch".into()],
    )
    .await
    .unwrap();
    assert_eq!(
        panel(&app, 8).await.status,
        VerificationStatus::NotStarted,
        "the webhooks never arrived"
    );

    let recruiter = app.signed_in("recruiter@clearance.test").await;
    assert_eq!(
        app.call(&recruiter, "run_reconciliation", &[])
            .await
            .status(),
        403
    );
    let sec = app.signed_in("security@clearance.test").await;
    let first: ReconcileOutcome = app
        .call(&sec, "run_reconciliation", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(first.ran && first.error.is_none(), "{first:?}");
    assert_eq!(
        (first.checked, first.drifted, first.fixed, first.failed),
        (2, 2, 2, 0)
    );
    assert_eq!(panel(&app, 8).await.status, VerificationStatus::Verified);
    let p9 = panel(&app, 9).await;
    assert_eq!(p9.status, VerificationStatus::NeedsReview);
    assert_eq!(p9.risk_tier, Some(clearance::model::RiskTier::High));

    let second: ReconcileOutcome = app
        .call(&sec, "run_reconciliation", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((second.checked, second.drifted, second.fixed), (2, 0, 0));

    let report: DriftReport = app
        .call(&sec, "drift_report", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report.runs.len(), 2);
    assert_eq!(report.drift.len(), 2);
    assert!(report.drift.iter().all(|d| d.resolved_at.is_some()
        && d.field == "status"
        && d.before.as_deref() == Some("not_started")));
    let types = audit_types(&app, 8).await;
    assert!(
        types.contains(&AuditEventType::DriftDetected)
            && types.contains(&AuditEventType::DriftResolved)
    );

    // One candidate at a time from the profile, too.
    settings(&url, serde_json::json!({})).await;
    let c = send(&app, 10).await;
    settings(&url, serde_json::json!({ "drop_rate": 1.0 })).await;
    sim.complete(&c, "failed", Some("medium".into()), vec![])
        .await
        .unwrap();
    let one: ReconcileOutcome = app
        .call(
            &sec,
            "reconcile_candidate",
            &[("candidate_id", "10".into())],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((one.checked, one.fixed), (1, 1));
    assert_eq!(panel(&app, 10).await.status, VerificationStatus::Failed);
    // The support view shows the session, the last webhook and the delivery with its attempt.
    let support: clearance::model::SupportView = app
        .call(&sec, "support_view", &[("candidate_id", "10".into())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(support.sessions.len(), 1);
    assert_eq!(
        support.last_webhook.as_ref().map(|w| w.1.as_str()),
        Some("verification.failed")
    );
    assert_eq!(support.deliveries[0].history.len(), 1);
    assert_eq!(
        app.call(&recruiter, "support_view", &[("candidate_id", "10".into())])
            .await
            .status(),
        403
    );
}

async fn runs_never_overlap_and_a_dead_run_is_closed(app: TestApp, _sim: Sim, _url: String) {
    let now = chrono::Utc::now();
    let window = app.state.config.reconcile_abandoned_after;
    let first = db::reconciliation::start(&app.db, ReconciliationTrigger::Manual, now, window)
        .await
        .unwrap();
    assert!(first.is_some());
    assert_eq!(
        db::reconciliation::start(&app.db, ReconciliationTrigger::Manual, now, window)
            .await
            .unwrap(),
        None,
        "a second run does not start"
    );
    let sec = app.signed_in("security@clearance.test").await;
    let busy: ReconcileOutcome = app
        .call(&sec, "run_reconciliation", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(!busy.ran);
    // Silent past the window (no page finished), the dead run is closed as failed and a new one starts.
    let later = now + window + chrono::Duration::seconds(1);
    assert!(
        db::reconciliation::start(&app.db, ReconciliationTrigger::Manual, later, window)
            .await
            .unwrap()
            .is_some()
    );
    let runs = db::reconciliation::recent_runs(&app.db, 5).await.unwrap();
    assert_eq!(
        runs.iter().filter(|r| r.state == RunState::Failed).count(),
        1
    );
}

async fn events_for_unknown_candidates_apply_once_they_exist(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    let body = serde_json::json!({
        "type": "verification.completed", "timestamp": "2026-11-21T10:00:05Z",
        "data": { "candidate_id": "51", "session_id": "vs_late", "event_created_at": "2026-11-21T10:00:04Z", "risk_tier": "low", "reason_codes": [] }
    })
    .to_string();
    let res = common::post_signed_webhook(&app.address, "m_late", &body)
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    // Candidate 51 arrives with an import; the next run applies the kept event.
    let csv = "first_name,last_name,email,job\nLate,Arrival,late@example.com,Data Analyst\n";
    let report = clearance::server::services::import::import_candidates(&app.db, csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(report.imported, 1);
    let sec = app.signed_in("security@clearance.test").await;
    let run: ReconcileOutcome = app
        .call(&sec, "run_reconciliation", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(run.ran);
    assert_eq!(panel(&app, 51).await.status, VerificationStatus::Verified);
    assert!(db::verification::unknown_candidate_events(&app.db, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Two completions whose webhooks were dropped: the drift a run must fix.
async fn two_drifted(app: &TestApp, sim: &Sim, url: &str) {
    let (a, b) = (send(app, 8).await, send(app, 9).await);
    settings(url, serde_json::json!({ "drop_rate": 1.0 })).await;
    sim.complete(&a, "completed", Some("low".into()), vec![])
        .await
        .unwrap();
    sim.complete(&b, "needs_review", Some("high".into()), vec![])
        .await
        .unwrap();
}

async fn a_run_killed_half_way_and_started_again_ends_in_the_same_state(
    app: TestApp,
    sim: Sim,
    url: String,
) {
    two_drifted(&app, &sim, &url).await;
    // One session per page, each page slow: the run is killed after the first fix, mid-listing.
    settings(
        &url,
        serde_json::json!({ "drop_rate": 1.0, "page_size": 1, "list_latency_ms": 400 }),
    )
    .await;
    let state = app.state.clone();
    let run = tokio::spawn(async move {
        clearance::server::services::reconciliation::run(
            &state,
            ReconciliationTrigger::Manual,
            chrono::Duration::hours(48),
            None,
        )
        .await
    });
    let mut waited = 0;
    while db::reconciliation::recent_drift(&app.db, 10)
        .await
        .unwrap()
        .is_empty()
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 500, "the first page never finished");
    }
    run.abort();
    let _ = run.await;
    let runs = db::reconciliation::recent_runs(&app.db, 5).await.unwrap();
    assert_eq!(runs[0].state, RunState::Running, "killed, not finished");
    let half: Vec<_> = [8, 9]
        .into_iter()
        .map(|c| db::candidates::find_candidate(&app.db, c))
        .collect();
    let mut statuses = Vec::new();
    for f in half {
        statuses.push(f.await.unwrap().unwrap().verification_status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| s.as_str() == "not_started")
            .count(),
        1,
        "half-way: {statuses:?}"
    );

    // The restarted process finds the run silent, closes it and starts over: same end state.
    let mut config = (*app.state.config).clone();
    config.reconcile_abandoned_after = chrono::Duration::zero();
    let restarted = app.state.with_config(config);
    settings(&url, serde_json::json!({ "drop_rate": 1.0 })).await;
    let s = clearance::server::services::reconciliation::run(
        &restarted,
        ReconciliationTrigger::Manual,
        chrono::Duration::hours(48),
        None,
    )
    .await
    .unwrap();
    assert!(s.ran && s.error.is_none(), "{s:?}");
    assert_eq!((s.checked, s.drifted, s.fixed, s.failed), (2, 1, 1, 0));
    assert_eq!(panel(&app, 8).await.status, VerificationStatus::Verified);
    assert_eq!(panel(&app, 9).await.status, VerificationStatus::NeedsReview);
    let runs = db::reconciliation::recent_runs(&app.db, 5).await.unwrap();
    assert_eq!(runs[1].state, RunState::Failed);
    assert!(runs[1].error.as_deref().unwrap().contains("abandoned"));
    let again = clearance::server::services::reconciliation::run(
        &restarted,
        ReconciliationTrigger::Manual,
        chrono::Duration::hours(48),
        None,
    )
    .await
    .unwrap();
    assert_eq!((again.drifted, again.fixed), (0, 0));
}

async fn two_app_instances_start_one_run(app: TestApp, sim: Sim, url: String) {
    two_drifted(&app, &sim, &url).await;
    settings(
        &url,
        serde_json::json!({ "drop_rate": 1.0, "list_latency_ms": 300 }),
    )
    .await;
    // A second instance: its own connection pool to the same database, same configuration.
    let other = app.state.with_db(
        db::Db::connect(&app.state.config.database_url)
            .await
            .unwrap(),
    );
    let lookback = chrono::Duration::hours(48);
    let (a, b) = tokio::join!(
        clearance::server::services::reconciliation::run(
            &app.state,
            ReconciliationTrigger::Schedule,
            lookback,
            None,
        ),
        clearance::server::services::reconciliation::run(
            &other,
            ReconciliationTrigger::Schedule,
            lookback,
            None,
        ),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        [a.ran, b.ran].iter().filter(|r| **r).count(),
        1,
        "{a:?} {b:?}"
    );
    let winner = if a.ran { a } else { b };
    assert_eq!((winner.checked, winner.fixed), (2, 2));
    let runs = db::reconciliation::recent_runs(&app.db, 5).await.unwrap();
    assert_eq!(runs.len(), 1);
}

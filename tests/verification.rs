//! Identity verification end to end over real HTTP: our requests to the provider simulator, its
//! signed webhooks to us, idempotency, ordering, unknown candidates and durability.
mod common;

use clearance::model::{
    AuditEventType, CandidatePage, RiskTier, VerificationPanel, VerificationStatus,
};
use clearance::server::db;
use clearance::server::partners::signature;
use common::{audit_types, TestApp, WEBHOOK_SECRET};

const RECRUITER: &str = "recruiter@clearance.test";

on_both_with_provider!(
    send_complete_and_see_it_on_the_panel_and_in_the_list,
    signature_and_body_errors_get_clear_4xx,
    the_same_webhook_a_thousand_times_changes_state_once,
    older_events_never_overwrite_newer_ones,
    unknown_candidates_are_kept_and_reported,
    a_stored_event_is_applied_after_a_restart,
    provider_outages_are_retried_then_dead_lettered,
    evidence_packs_are_stable_hashed_audited_and_role_gated,
    the_worker_delivers_on_its_own_and_finishes_the_delivery_in_hand_on_shutdown,
    a_queued_job_wakes_the_worker_at_once_on_any_instance,
);

type Sim = clearance::server::sim::verification::Sim;

fn event(kind: &str, candidate: &str, session: &str, at: &str, risk: Option<&str>) -> String {
    serde_json::json!({
        "type": kind,
        "timestamp": at,
        "data": {
            "candidate_id": candidate, "session_id": session, "event_created_at": at,
            "risk_tier": risk, "reason_codes": ["document_mismatch"],
            "evidence_pack_url": format!("https://provider.example/evidence/{session}"), "policy_name": "p"
        }
    })
    .to_string()
}

async fn post_signed(app: &TestApp, id: &str, body: &str) -> reqwest::Response {
    try_post_signed(app, id, body).await.unwrap()
}

async fn try_post_signed(
    app: &TestApp,
    id: &str,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    common::post_signed_webhook(&app.address, id, body).await
}

async fn panel(app: &TestApp, email: &str, candidate: i64) -> VerificationPanel {
    common::verification_panel(app, email, candidate).await
}

async fn send_complete_and_see_it_on_the_panel_and_in_the_list(
    app: TestApp,
    sim: Sim,
    _url: String,
) {
    let r = app.signed_in(RECRUITER).await;
    // Hiring managers may not request verification.
    let hm = app.signed_in("manager@clearance.test").await;
    assert_eq!(
        app.call(&hm, "send_verification", &[("candidate_id", "1".into())])
            .await
            .status(),
        403
    );

    assert_eq!(
        app.call(&r, "send_verification", &[("candidate_id", "1".into())])
            .await
            .status(),
        200
    );
    let again = app
        .call(&r, "send_verification", &[("candidate_id", "1".into())])
        .await;
    assert_eq!(
        again.status(),
        409,
        "a second request while one is on its way is refused"
    );
    assert_eq!(
        panel(&app, RECRUITER, 1).await.next_action,
        "Verification requested — waiting for the provider"
    );
    assert_eq!(app.run_jobs().await, 1);
    let p = panel(&app, RECRUITER, 1).await;
    assert_eq!(p.next_action, "Waiting for candidate");
    assert_eq!(p.session_id.as_deref(), Some("vs_1"));
    assert_eq!(p.policy_name.as_deref(), Some("Remote SWE High Assurance"));

    sim.complete(
        "vs_1",
        "needs_review",
        Some("high".into()),
        vec!["liveness_failed".into()],
    )
    .await
    .unwrap();
    let p = panel(&app, RECRUITER, 1).await;
    assert_eq!(p.status, VerificationStatus::NeedsReview);
    assert_eq!(p.risk_tier, Some(clearance::model::RiskTier::High));
    assert_eq!(
        p.reason_codes,
        Some(vec!["Could not complete the liveness check".to_string()])
    );
    assert!(p.evidence_pack_url.unwrap().ends_with("/evidence/vs_1"));
    assert!(
        p.next_action.starts_with("Awaiting security review — "),
        "{}",
        p.next_action
    );
    assert!(p.last_updated.is_some());
    assert!(!p.can_send);

    // Hiring managers see the badge and nothing more.
    let hm_panel = panel(&app, "manager@clearance.test", 1).await;
    assert_eq!(hm_panel.status, VerificationStatus::NeedsReview);
    assert_eq!(
        (
            hm_panel.risk_tier,
            hm_panel.reason_codes,
            hm_panel.evidence_pack_url,
            hm_panel.session_id
        ),
        (None, None, None, None)
    );

    let page: CandidatePage = app
        .call(
            &r,
            "list_candidates",
            &[("status", "needs_review".into()), ("risk", "high".into())],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].candidate_id, 1);
    assert_eq!(page.rows[0].risk_tier, Some(RiskTier::High));

    let types = audit_types(&app, 1).await;
    for t in [
        AuditEventType::VerificationRequested,
        AuditEventType::VerificationStarted,
        AuditEventType::VerificationCompleted,
    ] {
        assert_eq!(
            types.iter().filter(|x| **x == t).count(),
            1,
            "{t:?} in {types:?}"
        );
    }
}

async fn signature_and_body_errors_get_clear_4xx(app: TestApp, _sim: Sim, _url: String) {
    let body = event(
        "verification.completed",
        "1",
        "vs_x",
        "2026-11-21T10:00:04Z",
        Some("low"),
    );
    let unsigned = reqwest::Client::new()
        .post(format!("{}/webhooks/verification", app.address))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert!(unsigned
        .text()
        .await
        .unwrap()
        .contains("missing webhook-id"));
    let ts = chrono::Utc::now().timestamp() - 301;
    let stale = reqwest::Client::new()
        .post(format!("{}/webhooks/verification", app.address))
        .header("webhook-id", "msg_old")
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            signature::sign(WEBHOOK_SECRET, "msg_old", ts, body.as_bytes()).unwrap(),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401);
    let garbage = post_signed(&app, "msg_g", "{not json").await;
    assert_eq!(garbage.status(), 400);
    assert!(garbage
        .text()
        .await
        .unwrap()
        .contains("not a verification event"));
    let unknown_type = post_signed(
        &app,
        "msg_t",
        &body.replace("verification.completed", "verification.exploded"),
    )
    .await;
    assert_eq!(unknown_type.status(), 400);
    assert!(unknown_type
        .text()
        .await
        .unwrap()
        .contains("unknown event type"));
    // Over the size limit: 413, or the connection is cut before the whole body is even sent.
    match try_post_signed(&app, "msg_h", &"x".repeat(2 * 1024 * 1024)).await {
        Ok(res) => assert_eq!(res.status(), 413),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    assert_eq!(
        audit_types(&app, 1).await,
        vec![AuditEventType::CandidateCreated],
        "nothing was applied"
    );
}

async fn the_same_webhook_a_thousand_times_changes_state_once(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    let body = event(
        "verification.completed",
        "2",
        "vs_dup",
        "2026-11-21T10:00:04Z",
        Some("low"),
    );
    for _ in 0..1000 {
        let res = post_signed(&app, "msg_same", &body).await;
        assert!(res.status() == 200, "{}", res.status());
    }
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (address, body) = (app.address.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            common::post_signed_webhook(&address, "msg_same", &body)
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    // The same event under a new webhook id is a duplicate too.
    assert_eq!(
        post_signed(&app, "msg_other_id", &body)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "duplicate"
    );
    let completed = audit_types(&app, 2)
        .await
        .into_iter()
        .filter(|t| *t == AuditEventType::VerificationCompleted)
        .count();
    assert_eq!(completed, 1);
    assert_eq!(
        panel(&app, RECRUITER, 2).await.status,
        VerificationStatus::Verified
    );
}

async fn older_events_never_overwrite_newer_ones(app: TestApp, _sim: Sim, _url: String) {
    let done = event(
        "verification.failed",
        "3",
        "vs_o",
        "2026-11-21T10:00:09Z",
        Some("medium"),
    );
    let started = event(
        "verification.started",
        "3",
        "vs_o",
        "2026-11-21T10:00:01Z",
        None,
    );
    assert_eq!(
        post_signed(&app, "m1", &done)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "applied"
    );
    assert_eq!(
        post_signed(&app, "m2", &started)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "stale"
    );
    let p = panel(&app, RECRUITER, 3).await;
    assert_eq!(p.status, VerificationStatus::Failed);
    assert!(
        p.next_action.starts_with("Awaiting security review — "),
        "failed results go to review: {}",
        p.next_action
    );
    // A newer session supersedes the old one on the badge; the old one's late news does not.
    let newer = event(
        "verification.started",
        "3",
        "vs_new",
        "2026-11-21T11:00:00Z",
        None,
    );
    post_signed(&app, "m3", &newer).await;
    assert_eq!(
        panel(&app, RECRUITER, 3).await.status,
        VerificationStatus::InProgress
    );
    let late_old = event(
        "verification.expired",
        "3",
        "vs_o",
        "2026-11-21T12:00:00Z",
        None,
    );
    assert_eq!(post_signed(&app, "m4", &late_old).await.status(), 200);
    assert_eq!(
        panel(&app, RECRUITER, 3).await.status,
        VerificationStatus::InProgress
    );
}

async fn unknown_candidates_are_kept_and_reported(app: TestApp, _sim: Sim, _url: String) {
    let body = event(
        "verification.completed",
        "c_99999",
        "vs_u",
        "2026-11-21T10:00:04Z",
        Some("low"),
    );
    let res = post_signed(&app, "m_unknown", &body).await;
    assert_eq!(res.status(), 202);
    let kept = db::verification::unknown_candidate_events(&app.db, 10)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].candidate_ref, "c_99999");
    assert_eq!(kept[0].body, body, "kept verbatim");
    let admin = app.signed_in("admin@clearance.test").await;
    let view: clearance::model::DeliveriesView = app
        .call(&admin, "list_deliveries", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view.unmatched.len(), 1);
    assert_eq!(view.unmatched[0].candidate_ref, "c_99999");
}

async fn a_stored_event_is_applied_after_a_restart(app: TestApp, _sim: Sim, _url: String) {
    // As if the process died right after storing: the event is in the table, nothing applied.
    let body = event(
        "verification.completed",
        "4",
        "vs_r",
        "2026-11-21T10:00:04Z",
        Some("low"),
    );
    let (inbound, _) =
        clearance::server::services::verification::parse_webhook("m_restart", body.as_bytes())
            .unwrap();
    db::verification::store_event(&app.db, &inbound, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        panel(&app, RECRUITER, 4).await.status,
        VerificationStatus::NotStarted
    );
    // The worker's first pass after start-up applies it.
    app.run_jobs().await;
    assert_eq!(
        panel(&app, RECRUITER, 4).await.status,
        VerificationStatus::Verified
    );
    assert_eq!(
        post_signed(&app, "m_restart", &body)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "duplicate"
    );
}

async fn provider_outages_are_retried_then_dead_lettered(app: TestApp, sim: Sim, url: String) {
    let set = |failure_rate: f64| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{url}/control/settings"))
                .json(&serde_json::json!({ "failure_rate": failure_rate }))
                .send()
                .await
                .unwrap();
        }
    };
    set(1.0).await;
    let r = app.signed_in(RECRUITER).await;
    assert_eq!(
        app.call(&r, "send_verification", &[("candidate_id", "5".into())])
            .await
            .status(),
        200
    );
    app.run_jobs().await;
    let jobs = db::jobs::for_subject(&app.db, "candidate:5").await.unwrap();
    assert_eq!(jobs[0].state, clearance::model::JobState::Dead);
    assert_eq!(jobs[0].attempts, app.state.config.delivery_max_attempts);
    assert!(jobs[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("simulated outage"));
    assert!(audit_types(&app, 5)
        .await
        .contains(&AuditEventType::DeliveryDeadLettered));
    // Admins see it with every attempt on the Deliveries page; others may not look.
    for email in [RECRUITER, "security@clearance.test"] {
        let c = app.signed_in(email).await;
        assert_eq!(app.call(&c, "list_deliveries", &[]).await.status(), 403);
    }
    let admin = app.signed_in("admin@clearance.test").await;
    let view: clearance::model::DeliveriesView = app
        .call(&admin, "list_deliveries", &[])
        .await
        .json()
        .await
        .unwrap();
    let d = &view.deliveries[0];
    assert_eq!(
        (d.state.as_str(), d.subject.as_str()),
        ("dead", "candidate:5")
    );
    assert_eq!(
        d.history.len() as i64,
        app.state.config.delivery_max_attempts
    );
    assert!(d.history.iter().all(|a| a.http_status == Some(503)));
    assert_eq!(d.history.last().unwrap().outcome, "gave up");
    // Once the provider is back, a replay delivers it, once.
    set(0.0).await;
    let job = d.id.to_string();
    assert_eq!(
        app.call(&admin, "replay_delivery", &[("job_id", job.clone())])
            .await
            .status(),
        200
    );
    app.run_jobs().await;
    assert_eq!(
        app.call(&admin, "replay_delivery", &[("job_id", job)])
            .await
            .status(),
        409,
        "only dead deliveries replay"
    );
    let sessions: serde_json::Value = reqwest::get(format!("{url}/control/sessions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let for_five = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["candidate_id"] == "5")
        .count();
    assert_eq!(for_five, 1);
    let _ = sim;
    assert_eq!(
        panel(&app, RECRUITER, 5).await.next_action,
        "Waiting for candidate"
    );
    let view: clearance::model::DeliveriesView = app
        .call(&admin, "list_deliveries", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(view.deliveries.is_empty());
    assert!(audit_types(&app, 5)
        .await
        .contains(&AuditEventType::DeliveryDeadLettered));
}

async fn evidence_packs_are_stable_hashed_audited_and_role_gated(
    app: TestApp,
    sim: Sim,
    _url: String,
) {
    let r = app.signed_in(RECRUITER).await;
    assert_eq!(
        app.call(&r, "send_verification", &[("candidate_id", "6".into())])
            .await
            .status(),
        200
    );
    app.run_jobs().await;
    sim.complete("vs_1", "completed", Some("low".into()), vec![])
        .await
        .unwrap();

    let res = app
        .call(&r, "evidence_pack", &[("session_id", "vs_1".into())])
        .await;
    assert_eq!(res.status(), 200);
    let pack: clearance::model::EvidencePack = res.json().await.unwrap();
    assert_eq!((pack.candidate_id, pack.status.as_str()), (6, "verified"));
    let events: Vec<&str> = pack.events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        vec![
            "Verification requested",
            "Verification started",
            "Verification completed"
        ]
    );
    assert_eq!(
        pack.sha256,
        clearance::server::services::evidence::pack_digest(&pack)
    );
    assert_eq!(pack.sha256.len(), 64);

    // The JSON download is the same pack; opening it again does not change it.
    let sec = app.signed_in("security@clearance.test").await;
    let dl = sec
        .get(format!("{}/evidence/vs_1/pack.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(dl.status(), 200);
    assert!(dl.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let downloaded: clearance::model::EvidencePack = dl.json().await.unwrap();
    assert_eq!(downloaded, pack);

    // Hiring managers, strangers and unknown sessions get 404.
    let hm = app.signed_in("manager2@clearance.test").await;
    assert_eq!(
        app.call(&hm, "evidence_pack", &[("session_id", "vs_1".into())])
            .await
            .status(),
        404
    );
    assert_eq!(
        hm.get(format!("{}/evidence/vs_1/pack.json", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        hm.get(format!("{}/evidence/vs_1", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(format!("{}/evidence/vs_1/pack.json", app.address))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.call(&r, "evidence_pack", &[("session_id", "vs_404".into())])
            .await
            .status(),
        404
    );

    // Every opening is in the audit log.
    let opened = audit_types(&app, 6)
        .await
        .into_iter()
        .filter(|t| *t == AuditEventType::EvidencePackViewed)
        .count();
    assert_eq!(opened, 2);
}

async fn job_states(app: &TestApp) -> Vec<String> {
    common::column(&app.db, "SELECT state FROM delivery_jobs ORDER BY id").await
}

/// The background worker as `clearance serve` runs it (no test calls the jobs by hand): a request
/// is delivered on its own; on shutdown the delivery in flight finishes and is recorded, shutdown
/// ends well within the grace, and nothing new is sent afterwards.
async fn the_worker_delivers_on_its_own_and_finishes_the_delivery_in_hand_on_shutdown(
    app: TestApp,
    _sim: Sim,
    url: String,
) {
    let latency = |ms: u64| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{url}/control/settings"))
                .json(&serde_json::json!({ "latency_ms": ms }))
                .send()
                .await
                .unwrap();
        }
    };
    clearance::server::jobs::spawn_worker(app.state.clone());
    // Delivered by the worker alone.
    common::request_verification(&app, 1).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while job_states(&app).await != ["done"] {
        assert!(
            std::time::Instant::now() < deadline,
            "not delivered: {:?}",
            job_states(&app).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        db::verification::sessions_of(&app.db, 1)
            .await
            .unwrap()
            .len(),
        1
    );

    // A slow provider: shut down while the call is in flight.
    latency(1500).await;
    common::request_verification(&app, 2).await;
    while job_states(&app).await != ["done", "running"] {
        assert!(
            std::time::Instant::now() < deadline,
            "not claimed: {:?}",
            job_states(&app).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let started = std::time::Instant::now();
    assert!(
        app.state
            .tasks
            .shutdown(std::time::Duration::from_secs(10))
            .await
    );
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_eq!(
        job_states(&app).await,
        ["done", "done"],
        "the delivery in hand was finished and recorded"
    );
    assert_eq!(
        db::verification::sessions_of(&app.db, 2)
            .await
            .unwrap()
            .len(),
        1
    );

    // Stopped: a new request waits in the queue for the next start.
    latency(0).await;
    common::request_verification(&app, 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(job_states(&app).await, ["done", "done", "pending"]);
}

/// The worker starts a round when a job is queued, not at its next poll: with the poll an hour
/// away, a verification requested on one instance is delivered by the worker of another (on
/// PostgreSQL through the `clearance_jobs` NOTIFY, the only way there; on SQLite through the
/// commit hook of the connection that queued it).
async fn a_queued_job_wakes_the_worker_at_once_on_any_instance(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    let provider = app.state.config.clone();
    let other = app
        .another_instance(|c| {
            c.verification_url = provider.verification_url.clone();
            c.verification_api_key = provider.verification_api_key.clone();
            c.verification_webhook_secret = provider.verification_webhook_secret.clone();
            c.worker_poll = std::time::Duration::from_secs(3600);
        })
        .await;
    clearance::server::jobs::spawn_worker(other.state.clone());
    // Its first round (at start) has found nothing to do: from here only a wake starts one.
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    for (candidate, done) in [(1, vec!["done"]), (2, vec!["done", "done"])] {
        common::request_verification(&app, candidate).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while job_states(&app).await != done {
            assert!(
                std::time::Instant::now() < deadline,
                "not delivered without a poll: {:?}",
                job_states(&app).await
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            db::verification::sessions_of(&app.db, candidate)
                .await
                .unwrap()
                .len(),
            1
        );
    }
    assert!(
        other
            .state
            .tasks
            .shutdown(std::time::Duration::from_secs(10))
            .await
    );
}

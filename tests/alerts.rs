//! Alerts to Support over real HTTP, on SQLite and PostgreSQL: an admin sets a Slack-compatible
//! and a signed JSON destination (the alert sink simulator checks the signature), then a
//! dead-lettered delivery, a review past its SLA, a failed reconciliation and a broken audit chain
//! each reach both — once per thing per hour — through the delivery jobs.
mod common;

use clearance::server::sim::alerts::{AlertSink, ReceivedAlert};
use common::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_alerts_reach_support_once_per_thing_per_hour() {
    common::within_deadline("sqlite", alerts_reach_support(Backend::Sqlite)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_alerts_reach_support_once_per_thing_per_hour() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline("postgres", alerts_reach_support(Backend::Postgres)).await;
}

/// The sink's signing secret: the one the admin saves in Clearance.
const ALERT_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

async fn start_sink() -> (AlertSink, String) {
    let sink = AlertSink::new(Some(ALERT_SECRET.to_string()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = sink.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sink, url)
}

fn of_kind<'a>(received: &'a [ReceivedAlert], via: &str, kind: &str) -> Vec<&'a ReceivedAlert> {
    received
        .iter()
        .filter(|a| a.via == via)
        .filter(|a| match via {
            "webhook" => a.body["kind"] == kind,
            _ => a.body["text"].as_str().unwrap_or("").contains(kind),
        })
        .collect()
}

/// The admin presses Replay on a dead-lettered delivery, and the worker runs it.
async fn replay_and_run(app: &TestApp, admin: &reqwest::Client, job_id: i64) {
    let res = app
        .call(admin, "replay_delivery", &[("job_id", job_id.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    app.run_jobs().await;
}

async fn alerts_reach_support(backend: Backend) {
    let app = common::spawn_app_with(backend, common::unreachable_provider).await;
    let (sink, sink_url) = start_sink().await;
    let admin = app.signed_in("admin@clearance.test").await;

    // Nothing set up yet: the test alert says so.
    let res = app.call(&admin, "send_test_alert", &[]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("No alert destination"));

    // A JSON webhook without a signing secret is refused with the reason.
    let res = app
        .call(
            &admin,
            "save_alert_settings",
            &[
                ("webhook_url", format!("{sink_url}/webhook")),
                ("drift_threshold", "10".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("signing secret"));

    let slack_url = format!("{sink_url}/slack");
    let saved: serde_json::Value = app
        .call_ok(
            &admin,
            "save_alert_settings",
            &[
                ("slack_url", slack_url.clone()),
                ("webhook_url", format!("{sink_url}/webhook")),
                ("webhook_secret", ALERT_SECRET.into()),
                ("drift_threshold", "3".into()),
            ],
        )
        .await;
    assert_eq!(saved["slack_configured"], true);
    assert_eq!(saved["webhook_secret_configured"], true);
    assert_eq!(saved["drift_threshold"], 3);
    // Secrets are write-only: never in an answer, and stored sealed.
    let shown = app
        .call(&admin, "alert_settings", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !shown.contains(&slack_url) && !shown.contains(ALERT_SECRET),
        "{shown}"
    );
    let stored: Vec<String> = common::column(
        &app.db,
        "SELECT COALESCE(slack_url, '') || ' ' || COALESCE(webhook_secret, '') FROM alert_settings",
    )
    .await;
    assert!(!stored[0].contains(&slack_url) && !stored[0].contains(ALERT_SECRET));
    let audit = common::column::<String>(
        &app.db,
        "SELECT event_type FROM audit_log WHERE event_type = 'alert_settings_changed'",
    )
    .await;
    assert_eq!(audit.len(), 1);

    // A verification request dead-letters (the provider cannot be reached): one alert to each
    // destination, with the runbook's facts.
    common::request_verification(&app, 4).await;
    app.run_jobs().await;
    let received = sink.received();
    let dead = of_kind(&received, "webhook", "delivery_dead_lettered");
    assert_eq!(dead.len(), 1, "{received:?}");
    let alert = &dead[0].body;
    assert_eq!(alert["details"]["candidate_id"], 4);
    assert_eq!(
        alert["details"]["event_type"],
        "verification.create_session"
    );
    assert!(alert["details"]
        .as_object()
        .unwrap()
        .contains_key("last_http_status"));
    assert!(alert["details"]["session_id"].is_null());
    assert_eq!(alert["link"], format!("{}/deliveries", app.address));
    assert!(alert["runbook"].as_str().unwrap().contains("Replay"));
    assert_eq!(dead[0].id.as_deref(), alert["id"].as_str());
    let slack = of_kind(&received, "slack", "Delivery dead-lettered");
    assert_eq!(slack.len(), 1, "{received:?}");
    let text = slack[0].body["text"].as_str().unwrap();
    assert!(
        text.contains("candidate_id: 4") && text.contains("/deliveries"),
        "{text}"
    );

    // The admin replays it and it fails again within the hour: counted, not sent again.
    let job_id: Vec<i64> = common::column(
        &app.db,
        "SELECT id FROM delivery_jobs WHERE kind = 'verification.create_session' AND state = 'dead'",
    )
    .await;
    replay_and_run(&app, &admin, job_id[0]).await;
    let state: Vec<String> = common::column(
        &app.db,
        &format!("SELECT state FROM delivery_jobs WHERE id = {}", job_id[0]),
    )
    .await;
    assert_eq!(state, ["dead"], "the replay failed again");
    let received = sink.received();
    assert_eq!(
        of_kind(&received, "webhook", "delivery_dead_lettered").len(),
        1
    );
    assert_eq!(
        of_kind(&received, "slack", "Delivery dead-lettered").len(),
        1
    );
    let recent: Vec<serde_json::Value> = app.call_ok(&admin, "recent_alerts", &[]).await;
    let grouped = recent
        .iter()
        .find(|a| a["kind"] == "delivery_dead_lettered")
        .expect("the alert is listed");
    assert_eq!(grouped["repeats"], 1);

    // Later than the hour, the same failure alerts again.
    common::exec_at_now(
        &app.db,
        "UPDATE alert_groups SET window_start = '2020-01-01T00:00:00Z' WHERE group_key LIKE 'dead_letter:%'",
    )
    .await;
    replay_and_run(&app, &admin, job_id[0]).await;
    assert_eq!(
        of_kind(&sink.received(), "webhook", "delivery_dead_lettered").len(),
        2
    );

    // A needs-review item past its deadline: one alert, however many rounds see it.
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let body = serde_json::json!({
        "type": "verification.needs_review", "timestamp": at,
        "data": { "candidate_id": "6", "session_id": "vs_alert_6", "event_created_at": at,
                  "risk_tier": "high", "reason_codes": [], "evidence_pack_url": null, "policy_name": "p" }
    })
    .to_string();
    let res = common::post_signed_webhook(&app.address, "msg_alert_6", &body)
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    common::exec_at_now(
        &app.db,
        "UPDATE review_items SET deadline_at = '2020-01-01T00:00:00Z' WHERE session_id = 'vs_alert_6'",
    )
    .await;
    app.run_jobs().await;
    app.run_jobs().await;
    let breached = of_kind(&sink.received(), "webhook", "review_sla_breached")
        .into_iter()
        .map(|a| a.body.clone())
        .collect::<Vec<_>>();
    assert_eq!(breached.len(), 1);
    assert_eq!(breached[0]["details"]["session_id"], "vs_alert_6");
    assert_eq!(breached[0]["details"]["candidate_id"], 6);
    assert_eq!(breached[0]["link"], format!("{}/review-queue", app.address));

    // A reconciliation that cannot read the provider's listing.
    clearance::server::services::reconciliation::run(
        &app.state,
        clearance::model::ReconciliationTrigger::Manual,
        chrono::Duration::hours(1),
        None,
    )
    .await
    .unwrap();
    app.run_jobs().await;
    let failed = of_kind(&sink.received(), "webhook", "reconciliation_failed").len();
    assert_eq!(failed, 1);

    // A tampered audit entry (an attacker with the database's superuser drops the guards first):
    // verification fails and Support hears of it.
    let guards: &[&str] = match app.backend {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_log_only_redaction",
        ],
        Backend::Postgres => &["DROP TRIGGER audit_log_guard ON audit_log"],
    };
    for sql in guards {
        common::exec_at_now(&app.db, sql).await;
    }
    common::exec_at_now(
        &app.db,
        "UPDATE audit_log SET actor_label = 'someone else' WHERE seq = 2",
    )
    .await;
    let report: serde_json::Value = app.call_ok(&admin, "verify_audit_chain", &[]).await;
    assert!(report.to_string().contains("Broken"), "{report}");
    app.run_jobs().await;
    let received = sink.received();
    let broken = of_kind(&received, "webhook", "audit_chain_broken");
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].body["link"], format!("{}/audit", app.address));

    // "Send test alert" reaches both destinations at once, every time it is pressed.
    for _ in 0..2 {
        let queued: usize = app.call_ok(&admin, "send_test_alert", &[]).await;
        assert_eq!(queued, 2);
    }
    app.run_jobs().await;
    let received = sink.received();
    assert_eq!(of_kind(&received, "webhook", "test").len(), 2);
    assert_eq!(of_kind(&received, "slack", "Test alert").len(), 2);

    // Every alert delivery that went out was accepted (the sink checked each signature).
    let undelivered: Vec<String> = common::column(
        &app.db,
        "SELECT state FROM delivery_jobs WHERE kind = 'alert.send' AND state <> 'done'",
    )
    .await;
    assert!(undelivered.is_empty(), "{undelivered:?}");
    settings_page_lists_the_alerts(&app).await;
}

/// The Settings page (server-rendered) shows the destinations' state and the newest alerts
/// without the secrets.
async fn settings_page_lists_the_alerts(app: &TestApp) {
    let admin = app.signed_in("admin@clearance.test").await;
    let page = admin
        .get(format!("{}/settings", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Alerts to Support"), "{html}");
    assert!(!html.contains(ALERT_SECRET));
}

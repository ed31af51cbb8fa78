//! Several instances on one database: deliveries are sent exactly once while instances start and
//! stop (PostgreSQL, as teams run it), one reconciliation runs at a time, and the instances'
//! checkpointers store one checkpoint per period between them (both databases).
mod common;

use clearance::server::db;
use clearance::server::services::audit::scheduled_checkpoint;
use clearance::server::sim::alerts::AlertSink;
use common::{Backend, TestApp};
use std::time::{Duration, Instant};

on_both_backends!(
    one_reconciliation_runs_at_a_time_across_instances,
    instances_store_one_checkpoint_per_period_between_them,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_deliveries_are_sent_exactly_once_while_instances_start_and_stop() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline(
        "deliveries",
        deliveries_exactly_once(common::spawn_app(Backend::Postgres).await),
    )
    .await;
}

const ALERT_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const DELIVERIES: i64 = 2000;

async fn unfinished(app: &TestApp) -> i64 {
    common::column::<i64>(
        &app.db,
        "SELECT COUNT(*) FROM delivery_jobs WHERE state <> 'done'",
    )
    .await[0]
}

async fn with_worker(app: &TestApp) -> TestApp {
    let other = app.another_instance(|_| {}).await;
    clearance::server::jobs::spawn_worker(other.state.clone());
    other
}

/// 2,000 queued alert deliveries (the alert sink counts every request it gets) worked off by
/// three instances' workers while one stops and another starts: each sent once, each job done
/// after one attempt.
async fn deliveries_exactly_once(app: TestApp) {
    let sink = AlertSink::new(Some(ALERT_SECRET.to_string()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_url = format!("http://{}", listener.local_addr().unwrap());
    let router = sink.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let admin = app.signed_in("admin@clearance.test").await;
    let _: serde_json::Value = app
        .call_ok(
            &admin,
            "save_alert_settings",
            &[
                ("webhook_url", format!("{sink_url}/webhook")),
                ("webhook_secret", ALERT_SECRET.into()),
                ("drift_threshold", "10".into()),
            ],
        )
        .await;
    common::exec_at_now(
        &app.db,
        &format!(
            "INSERT INTO alerts (group_key, kind, summary, details, created_at)
             SELECT 'scale:' || g, 'delivery_dead_lettered', 'alert ' || g, '{{}}', $1 FROM generate_series(1, {DELIVERIES}) g"
        ),
    )
    .await;
    common::exec_at_now(
        &app.db,
        "INSERT INTO delivery_jobs (kind, payload, state, attempts, max_attempts, run_at, subject, created_at, updated_at)
         SELECT 'alert.send', '{\"alert_id\":' || id || ',\"destination\":\"webhook\"}', 'pending', 0, 5, $1, 'alert:' || id, $1, $1
         FROM alerts WHERE group_key LIKE 'scale:%'",
    )
    .await;
    assert_eq!(unfinished(&app).await, DELIVERIES);

    let (b, c) = (with_worker(&app).await, with_worker(&app).await);
    clearance::server::jobs::spawn_worker(app.state.clone());
    let deadline = Instant::now() + Duration::from_secs(120);
    let wait_until_at_most = |left: i64| {
        let app = &app;
        async move {
            while unfinished(app).await > left {
                assert!(Instant::now() < deadline, "deliveries stalled");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    // A third done: one instance stops (its delivery in hand finishes and is recorded) …
    wait_until_at_most(DELIVERIES * 2 / 3).await;
    assert!(b.state.tasks.shutdown(Duration::from_secs(10)).await);
    // … another starts, and the rest is worked off.
    let d = with_worker(&app).await;
    wait_until_at_most(DELIVERIES / 3).await;
    assert!(c.state.tasks.shutdown(Duration::from_secs(10)).await);
    wait_until_at_most(0).await;

    let received = sink.received();
    let mut ids: Vec<String> = received.iter().filter_map(|a| a.id.clone()).collect();
    assert_eq!(received.len() as i64, DELIVERIES, "requests the sink got");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as i64, DELIVERIES, "distinct alerts the sink got");
    let attempts = common::column::<i64>(
        &app.db,
        "SELECT COUNT(*) FROM delivery_jobs WHERE attempts <> 1",
    )
    .await;
    assert_eq!(attempts, [0], "every job done at its first attempt");
    let recorded = common::column::<i64>(&app.db, "SELECT COUNT(*) FROM delivery_attempts").await;
    assert_eq!(recorded, [DELIVERIES], "one attempt recorded per delivery");
    for instance in [&app, &d] {
        assert!(instance.state.tasks.shutdown(Duration::from_secs(10)).await);
    }
}

/// Three instances start a reconciliation at the same moment: one runs, two are told one is
/// running; once it finishes, the next can start.
async fn one_reconciliation_runs_at_a_time_across_instances(app: TestApp) {
    let (b, c) = (
        app.another_instance(|_| {}).await,
        app.another_instance(|_| {}).await,
    );
    let start = |instance: &TestApp| {
        let db = instance.db.clone();
        async move {
            db::reconciliation::start(
                &db,
                clearance::model::ReconciliationTrigger::Schedule,
                chrono::Utc::now(),
                chrono::Duration::minutes(10),
            )
            .await
            .unwrap()
        }
    };
    let (x, y, z) = tokio::join!(start(&app), start(&b), start(&c));
    let started: Vec<i64> = [x, y, z].into_iter().flatten().collect();
    assert_eq!(started.len(), 1, "runs started: {started:?}");
    let running = common::column::<i64>(
        &app.db,
        "SELECT COUNT(*) FROM reconciliation_runs WHERE state = 'running'",
    )
    .await;
    assert_eq!(running, [1]);
    assert_eq!(start(&c).await, None);
    db::reconciliation::finish(
        &b.db,
        started[0],
        Default::default(),
        0,
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(start(&c).await.is_some());
}

/// Three instances' checkpointers fire together: one checkpoint is stored; fired again within
/// the half period, none; a later period gets its own.
async fn instances_store_one_checkpoint_per_period_between_them(app: TestApp) {
    let key = clearance::server::audit::decode_signing_key(
        &clearance::server::audit::generate_signing_key(),
    )
    .unwrap();
    let (b, c) = (
        app.another_instance(|_| {}).await,
        app.another_instance(|_| {}).await,
    );
    let hour = Duration::from_secs(3600);
    let fire = |instance: &TestApp| {
        let (db, key) = (instance.db.clone(), key.clone());
        async move { scheduled_checkpoint(&db, &key, hour).await.unwrap() }
    };
    let (x, y, z) = tokio::join!(fire(&app), fire(&b), fire(&c));
    assert_eq!([&x, &y, &z].iter().filter(|cp| cp.is_some()).count(), 1);
    let stored = db::audit::checkpoints(&app.db, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(Some(&stored[0]), [x, y, z].iter().flatten().next());
    assert_eq!(fire(&b).await, None);
    // An hour on (the newest checkpoint made an hour ago) with no new entry: the same head is
    // not signed twice.
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let sql = "UPDATE audit_checkpoints SET created_at = $1";
    db::on_db!(&app.db, p => sqlx::query(sql).bind(an_hour_ago).execute(p).await.map(|_| ()))
        .unwrap();
    assert_eq!(fire(&c).await, None);
    // With a new entry, the next period's is stored.
    db::audit::append(
        &app.db,
        &clearance::server::audit::NewAuditEvent::new(
            clearance::server::audit::Actor::System("scale-out test".into()),
            "test",
            1,
            clearance::model::AuditEventType::ReconciliationRun,
            serde_json::json!({}),
        ),
    )
    .await
    .unwrap();
    let (x, y) = tokio::join!(fire(&b), fire(&c));
    assert_eq!([&x, &y].iter().filter(|cp| cp.is_some()).count(), 1);
    assert_eq!(db::audit::checkpoints(&app.db, 10).await.unwrap().len(), 2);
}

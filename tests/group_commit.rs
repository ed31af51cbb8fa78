//! Verification webhooks that arrive together share one transaction (group commit): each is
//! answered only after the commit its batch shares, duplicates stay exactly-once, a failed batch
//! answers 503 to every event in it and keeps nothing, and a process killed mid-burst has lost
//! nothing it acknowledged.
mod common;

use clearance::server::db::Db;
use clearance::server::sim::verification::Sim;
use common::{post_signed_webhook, Backend, TestApp, WEBHOOK_SECRET};
use serde_json::Value;

fn event_body(candidate: i64, session: &str, kind: &str) -> String {
    serde_json::json!({
        "type": kind,
        "data": {
            "candidate_id": candidate.to_string(),
            "session_id": session,
            "event_created_at": chrono::Utc::now(),
            "risk_tier": "low",
        }
    })
    .to_string()
}

async fn stored_count(db: &Db, where_clause: &str) -> i64 {
    let sql = format!(
        "SELECT COUNT(*) FROM webhook_events WHERE source = 'verification' AND {where_clause}"
    );
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
    }
    .unwrap()
}

async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Sends every (id, body) at once; returns (status, "status" or "error" field) per event, in order.
async fn burst(address: &str, events: &[(String, String)]) -> Vec<(u16, String)> {
    futures::future::join_all(events.iter().map(|(id, body)| async move {
        let res = post_signed_webhook(address, id, body).await.expect("send");
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        let word = v["status"]
            .as_str()
            .or(v["error"].as_str())
            .unwrap_or("")
            .to_string();
        (status, word)
    }))
    .await
}

async fn concurrent_events_are_each_applied_once(app: TestApp, _sim: Sim, _url: String) {
    // 60 distinct events, and a second copy of every third one, all at the same moment.
    let mut events: Vec<(String, String)> = (0..60)
        .map(|i| {
            (
                format!("msg_gc_{i}"),
                event_body(
                    i % 50 + 1,
                    &format!("sess_gc_{i}"),
                    "verification.completed",
                ),
            )
        })
        .collect();
    let copies: Vec<(String, String)> = events.iter().step_by(3).cloned().collect();
    events.extend(copies);
    let answers = burst(&app.address, &events).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let applied = answers.iter().filter(|(_, w)| w == "applied").count();
    let duplicates = answers.iter().filter(|(_, w)| w == "duplicate").count();
    assert_eq!((applied, duplicates), (60, 20), "{answers:?}");
    assert_eq!(
        stored_count(&app.db, "webhook_id LIKE 'msg_gc_%'").await,
        60
    );
    assert_eq!(
        stored_count(&app.db, "webhook_id LIKE 'msg_gc_%' AND state = 'applied'").await,
        60
    );
    // One audit entry per applied event, and the chain holds.
    let entries = clearance::server::db::audit::entries_after(&app.db, 0, 100_000)
        .await
        .unwrap();
    let completed = entries
        .iter()
        .filter(|e| {
            e.event_type == "verification_completed"
                && e.payload.as_deref().is_some_and(|p| p.contains("msg_gc_"))
        })
        .count();
    assert_eq!(completed, 60);
    let report = clearance::server::services::audit::verify_chain(&app.db)
        .await
        .unwrap();
    assert!(
        matches!(report, clearance::model::ChainReport::Intact { .. }),
        "{report}"
    );
}

async fn a_failed_batch_answers_503_to_each_event_and_keeps_nothing(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    let (fail, heal) = match app.backend {
        Backend::Sqlite => (
            "CREATE TRIGGER fail_store BEFORE INSERT ON webhook_events BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            "DROP TRIGGER fail_store;",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION fail_store() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
             CREATE TRIGGER fail_store BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION fail_store();",
            "DROP TRIGGER fail_store ON webhook_events; DROP FUNCTION fail_store();",
        ),
    };
    exec(&app.db, fail).await;
    let events: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("msg_fail_{i}"),
                event_body(i + 1, &format!("sess_fail_{i}"), "verification.completed"),
            )
        })
        .collect();
    let answers = burst(&app.address, &events).await;
    assert!(
        answers
            .iter()
            .all(|(s, w)| *s == 503 && w.contains("retry later")),
        "{answers:?}"
    );
    assert_eq!(
        stored_count(&app.db, "webhook_id LIKE 'msg_fail_%'").await,
        0
    );
    // The provider retries once the database is well again: each applied once.
    exec(&app.db, heal).await;
    let answers = burst(&app.address, &events).await;
    assert!(
        answers.iter().all(|(s, w)| *s == 200 && w == "applied"),
        "{answers:?}"
    );
    assert_eq!(
        stored_count(
            &app.db,
            "webhook_id LIKE 'msg_fail_%' AND state = 'applied'"
        )
        .await,
        20
    );
}

async fn an_event_that_cannot_be_applied_stays_stored_without_undoing_its_batch(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    // Applying fails for one session only (creating its session row raises); storing does not.
    let (poison, heal) = match app.backend {
        Backend::Sqlite => (
            "CREATE TRIGGER poison BEFORE INSERT ON verification_sessions WHEN NEW.session_id = 'sess_poison'
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
            "DROP TRIGGER poison;",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.session_id = 'sess_poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER poison BEFORE INSERT ON verification_sessions FOR EACH ROW EXECUTE FUNCTION poison();",
            "DROP TRIGGER poison ON verification_sessions; DROP FUNCTION poison();",
        ),
    };
    exec(&app.db, poison).await;
    let mut events: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("msg_sp_{i}"),
                event_body(i + 1, &format!("sess_sp_{i}"), "verification.completed"),
            )
        })
        .collect();
    events.push((
        "msg_poison".into(),
        event_body(30, "sess_poison", "verification.needs_review"),
    ));
    let answers = burst(&app.address, &events).await;
    assert_eq!(answers[20], (200, "stored".to_string()));
    assert!(
        answers[..20]
            .iter()
            .all(|(s, w)| *s == 200 && w == "applied"),
        "{answers:?}"
    );
    assert_eq!(
        stored_count(&app.db, "webhook_id = 'msg_poison' AND state = 'pending'").await,
        1
    );
    // Nothing of the failed apply is left half-done, and the worker applies it once it can.
    let audit = clearance::server::db::audit::entries_after(&app.db, 0, 100_000)
        .await
        .unwrap();
    assert!(!audit.iter().any(|e| e
        .payload
        .as_deref()
        .is_some_and(|p| p.contains("msg_poison"))));
    exec(&app.db, heal).await;
    app.run_jobs().await;
    assert_eq!(
        stored_count(&app.db, "webhook_id = 'msg_poison' AND state = 'applied'").await,
        1
    );
    let panel = common::verification_panel(&app, "recruiter@clearance.test", 30).await;
    assert_eq!(
        panel.status,
        clearance::model::VerificationStatus::NeedsReview
    );
}

on_both_with_provider!(
    concurrent_events_are_each_applied_once,
    a_failed_batch_answers_503_to_each_event_and_keeps_nothing,
    an_event_that_cannot_be_applied_stays_stored_without_undoing_its_batch,
);

/// The server process killed (SIGKILL) in the middle of a burst: every event it answered 2xx to
/// is in the database afterwards.
async fn nothing_acknowledged_is_lost_when_the_process_dies(database_url: String) {
    use std::process::{Command, Stdio};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("http://127.0.0.1:{port}");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_clearance"))
            .args(args)
            .env("DATABASE_URL", &database_url)
            .env("CLEARANCE_SECRET_KEY", common::TEST_SECRET_KEY)
            .env("CLEARANCE_VERIFICATION_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("CLEARANCE_PUBLIC_URL", &address)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run clearance")
    };
    assert!(run(&["demo-data"]).wait().unwrap().success());
    let mut server = run(&["serve"]);
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{address}/healthz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // 32 senders, each sending events until the server is gone; the server dies after 150 answers.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let senders: Vec<_> = (0..32)
        .map(|s| {
            let (address, acknowledged) = (address.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let id = format!("msg_kill_{s}_{i}");
                    let body = event_body(
                        i % 50 + 1,
                        &format!("sess_kill_{s}_{i}"),
                        "verification.completed",
                    );
                    match post_signed_webhook(&address, &id, &body).await {
                        Ok(r) if r.status().is_success() => acknowledged.lock().unwrap().push(id),
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 150 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let db = Db::connect(&database_url).await.unwrap();
    let mut missing = Vec::new();
    for id in &acknowledged {
        if stored_count(&db, &format!("webhook_id = '{id}'")).await != 1 {
            missing.push(id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events are missing: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_process_dies_sqlite() {
    let url = common::fresh_database_url(Backend::Sqlite).await;
    common::within_deadline(
        "kill_sqlite",
        nothing_acknowledged_is_lost_when_the_process_dies(url),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_process_dies_postgres() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    let url = common::fresh_database_url(Backend::Postgres).await;
    common::within_deadline(
        "kill_postgres",
        nothing_acknowledged_is_lost_when_the_process_dies(url),
    )
    .await;
}

/// SQLite: a commit only appends to the write-ahead log and syncs it; copying the log into the
/// database file (a checkpoint) is the server's background task, `Db::checkpoint`, not the work of
/// whichever commit took the log past SQLite's default 1,000 pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_leave_checkpoints_to_the_background_task() {
    let url = common::fresh_database_url(Backend::Sqlite).await;
    let db = Db::connect(&url).await.unwrap();
    let Db::Sqlite(pool) = &db else {
        unreachable!()
    };
    exec(&db, "CREATE TABLE filler (body BLOB NOT NULL)").await;
    // 1,500 commits of about a page each: past the 1,000-page default several times over.
    for _ in 0..1_500 {
        sqlx::query("INSERT INTO filler (body) VALUES (zeroblob(4000))")
            .execute(pool)
            .await
            .unwrap();
    }
    let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(
        autocheckpoint > 1_500,
        "wal_autocheckpoint is {autocheckpoint}"
    );
    let path = url.trim_start_matches("sqlite://").to_string();
    let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = format!("{path}-wal");
    assert!(
        size(&wal) >= 1_500 * 4_096,
        "the log is {} bytes: commits checkpointed by themselves",
        size(&wal)
    );
    assert!(
        size(&path) < 1_000 * 4_096,
        "the database file is already {} bytes before any checkpoint",
        size(&path)
    );
    db.checkpoint().await.unwrap();
    assert!(
        size(&path) >= 1_500 * 4_000,
        "after Db::checkpoint the database file is {} bytes: the log was not copied into it",
        size(&path)
    );
}

/// The serving process runs that background checkpoint: a log of 1,500 pages, well under the
/// connections' own 16,000-page threshold, reaches the database file without anyone asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_checkpoints_the_sqlite_log_in_the_background() {
    let app = common::spawn_app(Backend::Sqlite).await;
    let Db::Sqlite(pool) = &app.db else {
        unreachable!()
    };
    let path = app
        .state
        .config
        .database_url
        .trim_start_matches("sqlite://")
        .to_string();
    let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    exec(&app.db, "CREATE TABLE filler (body BLOB NOT NULL)").await;
    app.db.checkpoint().await.unwrap();
    let before = size(&path);
    for _ in 0..1_500 {
        sqlx::query("INSERT INTO filler (body) VALUES (zeroblob(4000))")
            .execute(pool)
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size(&path) < before + 1_500 * 4_000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        size(&path) >= before + 1_500 * 4_000,
        "10 s after 1,500 pages were committed the database file grew from {before} to {} bytes",
        size(&path)
    );
}

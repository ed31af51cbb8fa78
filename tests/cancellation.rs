//! Writes whose futures are dropped part-way (a client that hangs up, an aborted task) must leave
//! no pooled connection inside a transaction and no lock behind: the next write goes through.
mod common;

use clearance::model::{AuditEventType, ChainReport, CurrentUser, Stage};
use clearance::server::audit::{Actor, NewAuditEvent};
use clearance::server::db::{self, Db};
use clearance::server::{partners, services, webhooks};
use common::{Backend, TestApp};
use rand::Rng;
use std::time::Duration;

const ROUNDS: usize = 1000;
const KINDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_dropped_writes_leave_nothing_locked() {
    common::within_deadline(
        "sqlite",
        dropped_writes_leave_nothing_behind(Backend::Sqlite),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_dropped_writes_leave_no_connection_in_a_transaction() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline(
        "postgres",
        dropped_writes_leave_nothing_behind(Backend::Postgres),
    )
    .await;
}

async fn dropped_writes_leave_nothing_behind(backend: Backend) {
    let app = common::spawn_app_with(backend, |c| {
        c.verification_webhook_secret = Some(clearance::server::config::Secret::new(
            common::WEBHOOK_SECRET,
        ));
        // A run whose future was dropped is "abandoned" at once, so the follow-up run can start.
        c.reconcile_abandoned_after = chrono::Duration::zero();
    })
    .await;
    let recruiter = user(&app, "recruiter@clearance.test").await;
    let applications = applications(&app).await;

    let mut rng = rand::thread_rng();
    let mut cancelled = 0;
    for round in 0..ROUNDS {
        // Five kinds of write at once, each given a deadline somewhere inside its own awaits.
        let mut ops = Vec::new();
        for kind in 0..KINDS {
            // Half are dropped at a random await point (the n-th time they wait), half after a
            // random deadline of up to 4 ms.
            let app_id = applications[rng.gen_range(0..applications.len())];
            let op = operation(&app, &recruiter, kind, round, app_id);
            if rng.gen_bool(0.5) {
                let waits = rng.gen_range(1..40);
                ops.push(tokio::spawn(DropAtAwait {
                    op: Some(op),
                    waits_left: waits,
                }));
            } else {
                let deadline = Duration::from_micros(rng.gen_range(0..4_000));
                ops.push(tokio::spawn(async move {
                    tokio::time::timeout(deadline, op).await.is_err()
                }));
            }
        }
        for (kind, op) in ops.into_iter().enumerate() {
            // A write that waits on a lock nobody will release hangs here: fail, do not wait.
            match tokio::time::timeout(Duration::from_secs(5), op).await {
                Ok(dropped) => cancelled += usize::from(dropped.unwrap()),
                Err(_) => panic!("round {round}: write kind {kind} hung for 5 s (a lock held by a leaked transaction)"),
            }
        }
        // Dropped callers do not stop detached writes: let them finish before the next round, so
        // a slow disk sees a backlog of at most one round (a leaked lock never lets the pool rest).
        wait_for_rest(&app.db, round).await;
        // A leaked transaction is healed by the next BEGIN on its connection: look every round.
        assert_no_connection_in_a_transaction(&app.db, round).await;
    }
    assert!(
        cancelled > ROUNDS,
        "the deadlines must cut most writes short ({cancelled} were)"
    );
    // Connections go back to the pool in tasks of their own: the pool is at rest when all are idle.
    wait_for_rest(&app.db, ROUNDS).await;

    if let Db::Postgres(pool) = &app.db {
        // Every connection carries limits that turn a leak into an error within seconds.
        for (setting, default) in [
            ("statement_timeout", "30s"),
            ("lock_timeout", "10s"),
            ("idle_in_transaction_session_timeout", "15s"),
        ] {
            let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(value, default, "{setting}");
        }
    }
    assert_no_connection_in_a_transaction(&app.db, ROUNDS).await;

    // Each kind of write completes promptly afterwards: nothing holds a lock it waits on.
    for kind in 0..KINDS {
        let op = operation(&app, &recruiter, kind, ROUNDS + kind, applications[0]);
        let started = std::time::Instant::now();
        let done = tokio::time::timeout(Duration::from_secs(1), op).await;
        assert!(
            done.is_ok(),
            "write kind {kind} did not complete within a second after the stress ({:?})",
            started.elapsed()
        );
    }
    // And the audit chain is whole: no half-appended entry.
    let report = services::audit::verify_chain(&app.db).await.unwrap();
    assert!(matches!(report, ChainReport::Intact { .. }), "{report:?}");
}

type Op = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Polls `op` until it has waited `waits_left` times, then drops it the moment it is woken —
/// between the reply arriving and the code reading it, the way a hung-up client cuts a request.
/// Ready(true) when it was dropped, Ready(false) when it finished first.
struct DropAtAwait {
    op: Option<Op>,
    waits_left: usize,
}

impl std::future::Future for DropAtAwait {
    type Output = bool;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<bool> {
        if self.waits_left == 0 {
            self.op = None;
            return std::task::Poll::Ready(true);
        }
        let Some(op) = self.op.as_mut() else {
            return std::task::Poll::Ready(false);
        };
        match op.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => std::task::Poll::Ready(false),
            std::task::Poll::Pending => {
                self.waits_left -= 1;
                std::task::Poll::Pending
            }
        }
    }
}

/// One write of the given kind, as a future that owns what it needs.
fn operation(
    app: &TestApp,
    user: &CurrentUser,
    kind: usize,
    round: usize,
    application_id: i64,
) -> Op {
    let state = app.state.clone();
    let user = user.clone();
    match kind {
        // A stage move through the gate (blocked moves are logged in the same transaction).
        0 => Box::pin(async move {
            let _ =
                services::candidates::move_stage(&state, &user, application_id, Stage::PhoneScreen)
                    .await;
        }),
        // A signed verification webhook through the real handler.
        1 => Box::pin(async move {
            let candidate = 1 + (round % 50) as i64;
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let body = serde_json::json!({
                "type": "verification.started", "timestamp": at,
                "data": { "candidate_id": candidate.to_string(), "session_id": format!("vs_stress_{round}"),
                          "event_created_at": at, "risk_tier": null, "reason_codes": [],
                          "evidence_pack_url": null, "policy_name": "p" }
            })
            .to_string();
            let id = format!("msg_stress_{round}");
            let ts = chrono::Utc::now().timestamp();
            let sig = partners::signature::sign(common::WEBHOOK_SECRET, &id, ts, body.as_bytes())
                .unwrap();
            let mut headers = axum::http::HeaderMap::new();
            headers.insert("webhook-id", id.parse().unwrap());
            headers.insert("webhook-timestamp", ts.to_string().parse().unwrap());
            headers.insert("webhook-signature", sig.parse().unwrap());
            let _ = webhooks::verification::receive(
                axum::extract::State(state),
                headers,
                axum::body::Bytes::from(body),
            )
            .await;
        }),
        // An audit append of its own.
        2 => Box::pin(async move {
            let event = NewAuditEvent::new(
                Actor::System("stress".into()),
                "candidate",
                1,
                AuditEventType::ReconciliationRun,
                serde_json::json!({ "round": round }),
            );
            let _ = db::audit::append(&state.db, &event).await;
        }),
        // A bare write transaction, not detached: a drop can land inside BEGIN itself, which
        // sqlx cannot roll back (the pool's release check must catch the connection).
        4 => Box::pin(async move {
            use db::BeginWrite;
            clearance::on_db!(&state.db, pool => {
                if let Ok(mut tx) = pool.begin_write().await {
                    let _ = sqlx::query("UPDATE candidates SET email = email WHERE id = 0")
                        .execute(&mut *tx)
                        .await;
                    let _ = tx.commit().await;
                }
            })
        }),
        // A reconciliation start and finish (no provider configured: it ends at once).
        _ => Box::pin(async move {
            let _ = services::reconciliation::run(
                &state,
                clearance::model::ReconciliationTrigger::Manual,
                chrono::Duration::hours(1),
                None,
            )
            .await;
        }),
    }
}

/// On PostgreSQL: no session of this database stays idle inside a transaction.
///
/// A sighting alone is not a leak: a detached write whose task started only after the pool came
/// to rest can be caught between its BEGIN and its next statement ("idle in transaction", last
/// query BEGIN) — it moves on within milliseconds. A leaked transaction stays exactly as it was
/// (same backend, same moment of its last state change) while nothing runs; that fails.
async fn assert_no_connection_in_a_transaction(db: &Db, round: usize) {
    if let Db::Postgres(pool) = db {
        let seen = in_transaction(pool).await;
        if seen.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        wait_for_rest(db, round).await;
        let stuck: Vec<_> = in_transaction(pool)
            .await
            .into_iter()
            .filter(|later| {
                seen.iter()
                    .any(|first| first.0 == later.0 && first.1 == later.1)
            })
            .collect();
        assert!(
            stuck.is_empty(),
            "round {round}: connections left inside a transaction: {stuck:?}"
        );
    }
}

/// Sessions of this database idle inside a transaction: backend pid, when its state last
/// changed, state, last query.
async fn in_transaction(pool: &sqlx::PgPool) -> Vec<(i32, String, String, String)> {
    sqlx::query_as(
        "SELECT pid, state_change::text, state, query FROM pg_stat_activity
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn wait_for_rest(db: &Db, round: usize) {
    let started = std::time::Instant::now();
    while !all_idle(db) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "round {round}: the pool did not come to rest within 10 s (a connection is stuck)"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn all_idle(db: &Db) -> bool {
    match db {
        Db::Sqlite(p) => p.num_idle() == p.size() as usize,
        Db::Postgres(p) => p.num_idle() == p.size() as usize,
    }
}

async fn user(app: &TestApp, email: &str) -> CurrentUser {
    let row = db::users::find_by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap();
    CurrentUser {
        id: row.id,
        email: row.email.clone(),
        name: row.name.clone(),
        role: row.role,
    }
}

async fn applications(app: &TestApp) -> Vec<i64> {
    let mut ids = Vec::new();
    for candidate in 1..=50 {
        for a in db::candidates::applications_of(&app.db, candidate)
            .await
            .unwrap()
        {
            ids.push(a.id);
        }
    }
    assert!(!ids.is_empty());
    ids
}

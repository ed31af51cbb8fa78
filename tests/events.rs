//! `GET /events` (live updates) on SQLite and PostgreSQL: a webhook that lands shows on an open
//! stream; a hiring manager hears only of their jobs' candidates; a reconnecting browser gets
//! what it missed (Last-Event-ID); nobody signed out gets a stream; on PostgreSQL a change that
//! one instance makes reaches a stream open on another.
mod common;

use common::{Backend, TestApp};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_changes_reach_open_streams() {
    common::within_deadline("sqlite", changes_reach_open_streams(Backend::Sqlite)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_changes_reach_open_streams() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline("postgres", changes_reach_open_streams(Backend::Postgres)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_change_on_one_instance_reaches_a_stream_on_another() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline("postgres", across_instances()).await;
}

/// One server-sent event as it came.
#[derive(Debug, Clone, Default, PartialEq)]
struct Sse {
    id: Option<String>,
    event: String,
    data: String,
}

/// An open stream, read event by event.
struct Stream {
    res: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, client: &reqwest::Client, last_id: Option<&str>) -> Stream {
        let mut req = client.get(format!("{}/events", app.address));
        if let Some(id) = last_id {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        let kind = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Stream {
            res,
            buffer: String::new(),
        }
    }

    /// The next event (heartbeat comments skipped), or None within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut e = Sse::default();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        e.id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        e.event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        e.data += v.trim();
                    }
                }
                if e.event.is_empty() && e.data.is_empty() {
                    continue; // a heartbeat
                }
                return Some(e);
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer += &String::from_utf8_lossy(&bytes),
                _ => return None,
            }
        }
    }

    /// Events until one for `candidate` of `kind` comes (within `wait`), all of them.
    async fn until(&mut self, kind: &str, candidate: i64, wait: Duration) -> Vec<Sse> {
        let mut seen = Vec::new();
        let data = format!("{{\"candidate_id\":{candidate}}}");
        while let Some(e) = self.next(wait).await {
            let done = e.event == kind && e.data == data;
            seen.push(e);
            if done {
                return seen;
            }
        }
        panic!("no {kind} event for candidate {candidate} within {wait:?}; saw {seen:?}");
    }
}

fn event(kind: &str, candidate: i64, session: &str) -> String {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    serde_json::json!({
        "type": kind, "timestamp": at,
        "data": { "candidate_id": candidate.to_string(), "session_id": session, "event_created_at": at,
                  "risk_tier": "low", "reason_codes": [], "evidence_pack_url": null, "policy_name": "p" }
    })
    .to_string()
}

async fn webhook(app: &TestApp, id: &str, candidate: i64) {
    let body = event("verification.completed", candidate, &format!("vs_{id}"));
    let res = common::post_signed_webhook(&app.address, id, &body)
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// A candidate of the demo hiring manager's jobs, and one of nobody's they manage.
async fn managed_and_not(app: &TestApp) -> (i64, i64) {
    let sql = |own: bool| {
        format!(
            "SELECT MIN(a.candidate_id) FROM applications a JOIN jobs j ON j.id = a.job_id
             WHERE {} (SELECT 1 FROM applications b JOIN jobs k ON k.id = b.job_id JOIN users u ON u.id = k.hiring_manager_id
                          WHERE b.candidate_id = a.candidate_id AND u.email = 'manager@clearance.test')",
            if own { "EXISTS" } else { "NOT EXISTS" }
        )
    };
    let own: Vec<i64> = common::column(&app.db, &sql(true)).await;
    let other: Vec<i64> = common::column(&app.db, &sql(false)).await;
    (own[0], other[0])
}

const WAIT: Duration = Duration::from_secs(10);

async fn changes_reach_open_streams(backend: Backend) {
    let app = common::spawn_app_with(backend, common::unreachable_provider).await;

    // Nobody signed in: no stream, but the way to sign in (as every signed-in GET).
    let res = app
        .client()
        .get(format!("{}/events", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");

    // A change before any stream is open is no news to the first streams.
    webhook(&app, "msg_ev_before", 9).await;
    let recruiter = app.signed_in("recruiter@clearance.test").await;
    let manager = app.signed_in("manager@clearance.test").await;
    let mut everything = Stream::open(&app, &recruiter, None).await;
    let mut managed = Stream::open(&app, &manager, None).await;
    let (own, other) = managed_and_not(&app).await;

    // The other candidate's result first, then the manager's own candidate's.
    webhook(&app, "msg_ev_other", other).await;
    webhook(&app, "msg_ev_own", own).await;
    let seen = everything.until("verification", other, WAIT).await;
    let other_data = format!("{{\"candidate_id\":{other}}}");
    assert!(
        seen.iter().all(|e| e.data == other_data),
        "a new stream was told of changes made before it opened: {seen:?}"
    );
    let first = seen.last().unwrap().clone();
    assert!(first.id.is_some(), "{first:?}");
    everything.until("verification", own, WAIT).await;
    let heard = managed.until("verification", own, WAIT).await;
    assert!(
        heard.iter().all(|e| e.data != other_data),
        "the manager heard of a candidate not of their jobs: {heard:?}"
    );

    // A browser that was away reconnects naming the last event it saw: it gets what it missed.
    drop(everything);
    webhook(&app, "msg_ev_missed", 9).await;
    // Give the pump a moment; the replay reads the log itself in any case.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut back = Stream::open(&app, &recruiter, first.id.as_deref()).await;
    let replay = back.until("verification", 9, WAIT).await;
    assert!(
        replay
            .iter()
            .any(|e| e.data == format!("{{\"candidate_id\":{own}}}")),
        "the replay starts after the id named: {replay:?}"
    );
    // An id older than anything kept: told to refetch everything.
    clearance::server::db::events::prune(&app.db, chrono::Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    let mut stale = Stream::open(&app, &recruiter, Some("1")).await;
    let reset = stale.next(WAIT).await.expect("an event");
    assert_eq!((reset.event.as_str(), reset.id), ("reset", None));

    // A stage move is an event too, and the review queue one only for those who see it.
    let security = app.signed_in("security@clearance.test").await;
    let mut reviewer = Stream::open(&app, &security, None).await;
    let mut managed = Stream::open(&app, &manager, None).await;
    let body = event("verification.needs_review", own, "vs_ev_review");
    let res = common::post_signed_webhook(&app.address, "msg_ev_review", &body)
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    reviewer.until("review_queue", own, WAIT).await;
    let heard = managed.until("verification", own, WAIT).await;
    assert!(
        heard.iter().all(|e| e.event != "review_queue"),
        "a hiring manager does not see the review queue: {heard:?}"
    );
}

async fn across_instances() {
    let a = common::spawn_app_with(Backend::Postgres, common::unreachable_provider).await;
    let b = a.another_instance(common::unreachable_provider).await;
    let on_b = b.signed_in("security@clearance.test").await;
    let mut stream = Stream::open(&b, &on_b, None).await;
    webhook(&a, "msg_ev_across", 12).await;
    stream.until("verification", 12, WAIT).await;
    // B's pump is woken by NOTIFY (the 2-second read is only the safety net): it listens.
    let listening: Vec<i64> = common::column(
        &b.db,
        "SELECT COUNT(*) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%clearance_changes%'",
    )
    .await;
    assert_eq!(listening, [1]);
}

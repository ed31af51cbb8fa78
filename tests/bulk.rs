//! Bulk actions on SQLite and PostgreSQL against the identity-verification simulator over HTTP:
//! a 1,000-candidate verification sweep previewed, started twice (one job), paced, stopped mid-way
//! on one instance and finished by another — each eligible candidate requested exactly once, the
//! others skipped with the reason — then a cancelled job and who may do what.
mod common;

use clearance::model::{BulkJobView, BulkOutcome, BulkPreview, BulkState};
use common::TestApp;
use std::time::{Duration, Instant};

on_both_with_provider!(
    a_thousand_candidates_are_verified_in_bulk_each_once,
    a_cancelled_bulk_job_skips_the_rest_and_only_its_starter_or_an_admin_stops_it,
);

type Sim = clearance::server::sim::verification::Sim;

const SWEEP: i64 = 1000;
const RATE: u32 = 100;

fn all_volume() -> Vec<(&'static str, String)> {
    vec![
        ("action", "send_verification".into()),
        ("all_matching", "true".into()),
        ("search", "volume".into()),
    ]
}

async fn view(app: &TestApp, who: &reqwest::Client, id: i64) -> BulkJobView {
    app.call_ok(who, "bulk_job", &[("id", id.to_string())])
        .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    common::column::<i64>(&app.db, sql).await[0]
}

async fn a_thousand_candidates_are_verified_in_bulk_each_once(
    app: TestApp,
    _sim: Sim,
    url: String,
) {
    clearance::server::db::candidates::add_volume(&app.db, SWEEP, chrono::Utc::now())
        .await
        .unwrap();
    let recruiter = app.signed_in("recruiter@clearance.test").await;
    // Who the sweep cannot go ahead for: a session still open (in progress, or under review).
    let open = count(
        &app,
        "SELECT COUNT(*) FROM candidates WHERE email LIKE 'volume%' AND verification_status IN ('in_progress', 'needs_review')",
    )
    .await;
    assert!(open > 0 && open < SWEEP, "{open}");

    let preview: BulkPreview = app.call_ok(&recruiter, "preview_bulk", &all_volume()).await;
    assert_eq!((preview.selected, preview.proceed), (SWEEP, SWEEP - open));
    assert!(!preview.capped);
    assert_eq!(preview.skipped.iter().map(|g| g.count).sum::<i64>(), open);
    let in_progress = preview
        .skipped
        .iter()
        .find(|g| g.reason.contains("already in progress"))
        .expect("a reason for the sessions in progress");
    assert_eq!(in_progress.first_names.len(), 3);

    // Submitted twice (a double click, a retry): one job.
    let mut form = all_volume();
    form.push(("request_key", "sweep-1".into()));
    let id: i64 = app.call_ok(&recruiter, "start_bulk", &form).await;
    let again: i64 = app.call_ok(&recruiter, "start_bulk", &form).await;
    assert_eq!(id, again);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM bulk_jobs").await, 1);
    let job = view(&app, &recruiter, id).await;
    assert_eq!(
        (job.state, job.total, job.pending),
        (BulkState::Running, SWEEP, SWEEP)
    );

    // Another instance works at RATE candidates a second and stops a third of the way through.
    let provider = app.state.config.clone();
    let other = app
        .another_instance(|c| {
            c.verification_url = provider.verification_url.clone();
            c.verification_api_key = provider.verification_api_key.clone();
            c.bulk_per_second = RATE;
        })
        .await;
    let began = Instant::now();
    clearance::server::services::bulk::spawn_runner(other.state.clone());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = view(&app, &recruiter, id).await;
        if job.total - job.pending >= SWEEP / 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the runner stalled: {job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The pace holds: a third of the sweep cannot take less than a third of SWEEP / RATE seconds.
    let floor = Duration::from_secs_f64((SWEEP / 3) as f64 / f64::from(RATE) * 0.9);
    assert!(
        began.elapsed() >= floor,
        "{:?} < {floor:?}",
        began.elapsed()
    );
    assert!(other.state.tasks.shutdown(Duration::from_secs(10)).await);
    let stopped = view(&app, &recruiter, id).await;
    assert_eq!(stopped.state, BulkState::Running);
    assert!(
        stopped.pending > 0 && stopped.pending < SWEEP,
        "{stopped:?}"
    );

    // A third instance (quicker) resumes where it stopped.
    let third = app
        .another_instance(|c| {
            c.verification_url = provider.verification_url.clone();
            c.verification_api_key = provider.verification_api_key.clone();
            c.bulk_per_second = 1000;
        })
        .await;
    clearance::server::services::bulk::spawn_runner(third.state.clone());
    let done = loop {
        let job = view(&app, &recruiter, id).await;
        if job.state == BulkState::Finished {
            break job;
        }
        assert!(Instant::now() < deadline, "not finished: {job:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (done.pending, done.done, done.skipped, done.failed),
        (0, SWEEP - open, open, 0)
    );
    assert!(done.finished_at.is_some());
    assert!(done
        .items
        .iter()
        .filter(|i| i.outcome == BulkOutcome::Skipped)
        .all(|i| i
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("wait for its outcome"))));

    // Each eligible candidate requested exactly once, each request naming the bulk job.
    let requests = count(
        &app,
        "SELECT COUNT(*) FROM delivery_jobs WHERE kind = 'verification.create_session'",
    )
    .await;
    let distinct = count(
        &app,
        "SELECT COUNT(DISTINCT subject) FROM delivery_jobs WHERE kind = 'verification.create_session'",
    )
    .await;
    assert_eq!((requests, distinct), (SWEEP - open, SWEEP - open));
    let audited = count(
        &app,
        &format!("SELECT COUNT(*) FROM audit_log WHERE event_type = 'verification_requested' AND payload LIKE '%\"bulk_job\":{id}%'"),
    )
    .await;
    assert_eq!(audited, SWEEP - open);
    // Delivered: the provider got exactly that many session requests.
    app.run_jobs().await;
    let at_provider: serde_json::Value = reqwest::get(format!("{url}/control/sessions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        at_provider["sessions"].as_array().unwrap().len() as i64,
        SWEEP - open
    );
    assert!(third.state.tasks.shutdown(Duration::from_secs(10)).await);
}

async fn a_cancelled_bulk_job_skips_the_rest_and_only_its_starter_or_an_admin_stops_it(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    let recruiter = app.signed_in("recruiter@clearance.test").await;
    let security = app.signed_in("security@clearance.test").await;
    let manager = app.signed_in("manager@clearance.test").await;
    let admin = app.signed_in("admin@clearance.test").await;
    let rows: Vec<(String, String)> = (1..=20)
        .map(|i| (format!("rows[{}]", i - 1), i.to_string()))
        .collect();
    let mut form: Vec<(&str, String)> = rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    form.push(("action", "send_verification".into()));

    // Hiring managers may not send verification: not one by one, not in bulk.
    let res = app.call(&manager, "preview_bulk", &form).await;
    assert_eq!(res.status(), 403);
    let preview: BulkPreview = app.call_ok(&security, "preview_bulk", &form).await;
    assert_eq!(preview.selected, 20);

    form.push(("request_key", "twenty".into()));
    let id: i64 = app.call_ok(&recruiter, "start_bulk", &form).await;
    // The same key from someone else is their own job.
    let theirs: i64 = app.call_ok(&security, "start_bulk", &form).await;
    assert_ne!(id, theirs);
    // No runner here: nothing has moved. Another security reviewer's job is not theirs to stop.
    let res = app
        .call(&security, "cancel_bulk", &[("id", id.to_string())])
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .call(&recruiter, "cancel_bulk", &[("id", id.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    let job = view(&app, &recruiter, id).await;
    assert_eq!(
        (job.state, job.skipped, job.pending),
        (BulkState::Cancelled, 20, 0)
    );
    assert!(job
        .items
        .iter()
        .all(|i| i.detail.as_deref() == Some("Cancelled by Riley Recruiter")));
    let res = app
        .call(&recruiter, "cancel_bulk", &[("id", id.to_string())])
        .await;
    assert_eq!(res.status(), 409);
    // The result as CSV: every candidate with its outcome; not for hiring managers.
    let csv_url = format!("{}/bulk/{id}/results.csv", app.address);
    let res = recruiter.get(&csv_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("clearance-bulk-job-{id}-send_verification.csv")));
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("candidate_id,name,outcome,detail"));
    assert_eq!(lines.clone().count(), 20);
    assert!(lines.all(|l| l.ends_with(",skipped,Cancelled by Riley Recruiter")));
    assert_eq!(manager.get(&csv_url).send().await.unwrap().status(), 403);
    // An admin stops anyone's.
    let res = app
        .call(&admin, "cancel_bulk", &[("id", theirs.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    // Nothing was requested, and both starts and stops are in the audit log.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM delivery_jobs").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE event_type IN ('bulk_action_started', 'bulk_action_cancelled')").await,
        4
    );
    // "Export selection": the ticked rows, or every match, as CSV; check results only for
    // those who may see them, and a hiring manager's rows only of their own jobs.
    let export = |who: &reqwest::Client, query: &str| {
        let (who, url) = (
            who.clone(),
            format!("{}/candidates/selection.csv?{query}", app.address),
        );
        async move {
            let res = who.get(url).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, csv) = export(&recruiter, "rows=1,2,3").await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(
        lines[0],
        "candidate_id,name,email,job,stage,verification,risk_tier,integrity_score"
    );
    let (status, csv) = export(&manager, "rows=1,3").await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "only the manager's own candidate: {csv}");
    assert_eq!(lines[0], "candidate_id,name,email,job,stage,verification");
    assert!(lines[1].starts_with("1,"));
    let (status, csv) = export(&recruiter, "all=true&q=Liskov").await;
    assert_eq!(status, 200);
    let liskovs = count(
        &app,
        "SELECT COUNT(*) FROM applications a JOIN candidates c ON c.id = a.candidate_id WHERE c.last_name = 'Liskov'",
    )
    .await;
    assert_eq!(csv.lines().count() as i64, liskovs + 1);
    assert!(csv.lines().skip(1).all(|l| l.contains("Liskov")));
    let (status, body) = export(&recruiter, "rows=1,x").await;
    assert_eq!((status, body.as_str()), (400, "'x' is not a row id."));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE event_type = 'selection_exported'"
        )
        .await,
        3
    );

    // Empty or oversized selections are refused with the reason.
    let res = app
        .call(
            &recruiter,
            "preview_bulk",
            &[("action", "send_verification".into())],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("at least one candidate"));
}

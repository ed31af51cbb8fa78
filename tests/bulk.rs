//! Bulk actions on SQLite and PostgreSQL against the identity-verification simulator over HTTP:
//! a 1,000-candidate verification sweep previewed, started twice (one job), paced, stopped mid-way
//! on one instance and finished by another — each eligible candidate requested exactly once, the
//! others skipped with the reason — then a cancelled job and who may do what; a 1,000-candidate
//! background-check order against the partner simulator (exact total, two instances sharing one
//! pace, resumed by a third, each order placed once); a move to Offer through the stage gates.
mod common;

use clearance::model::{BulkJobView, BulkOutcome, BulkPreview, BulkState};
use common::TestApp;
use std::time::{Duration, Instant};

on_both_with_provider!(
    a_thousand_candidates_are_verified_in_bulk_each_once,
    a_cancelled_bulk_job_skips_the_rest_and_only_its_starter_or_an_admin_stops_it,
    a_thousand_background_checks_are_ordered_in_bulk_at_the_total_shown_each_once,
    a_bulk_move_goes_through_the_stage_gates_and_skips_the_others_with_the_reason,
);

type Sim = clearance::server::sim::verification::Sim;

const SWEEP: i64 = 1000;
const RATE: u32 = 100;

/// Waits until `app`'s view of job `id` says `done(job)`, failing after two minutes.
async fn until(
    app: &TestApp,
    who: &reqwest::Client,
    id: i64,
    done: impl Fn(&BulkJobView) -> bool,
) -> BulkJobView {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = view(app, who, id).await;
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "the runner stalled: {job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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

/// `form` and `extra`, as `TestApp::call` takes them.
fn fields<'a>(
    form: &'a [(String, String)],
    extra: &[(&'static str, &str)],
) -> Vec<(&'a str, String)> {
    let mut f: Vec<(&str, String)> = form.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    f
}

/// A partner simulator connected as "Acme Screening" that completes nothing on its own.
type Partner = clearance::server::sim::partner::Sim;

async fn a_thousand_background_checks_are_ordered_in_bulk_at_the_total_shown_each_once(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    let (partner, partner_id): (Partner, i64) = common::connected_partner(&app, None).await;
    clearance::server::db::candidates::add_volume(&app.db, SWEEP, chrono::Utc::now())
        .await
        .unwrap();
    let recruiter = app.signed_in("recruiter@clearance.test").await;
    let first_volume = count(
        &app,
        "SELECT MIN(id) FROM candidates WHERE email LIKE 'volume%'",
    )
    .await;
    // Three already have a check on its way, ordered one by one.
    for c in first_volume..first_volume + 3 {
        let res = app
            .call(
                &recruiter,
                "place_background_check",
                &[
                    ("candidate_id", c.to_string()),
                    ("partner_id", partner_id.to_string()),
                    ("package_id", "PKG001".into()),
                    ("expected_total", "29.99".into()),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    let mut order = vec![
        ("action", "order_background_check".to_string()),
        ("all_matching", "true".into()),
        ("search", "volume".into()),
        ("partner_id", partner_id.to_string()),
        ("package_id", "PKG002".into()),
        ("add_on_ids[0]", "DRG01".into()),
    ];
    // Security reviewers and hiring managers may not order.
    let security = app.signed_in("security@clearance.test").await;
    assert_eq!(
        app.call(&security, "preview_bulk", &order).await.status(),
        403
    );

    // The exact total: 49.99 + 29.99 for each of the 997 who have no check on its way.
    let preview: BulkPreview = app.call_ok(&recruiter, "preview_bulk", &order).await;
    assert_eq!((preview.selected, preview.proceed), (SWEEP, SWEEP - 3));
    let summary = preview.order.clone().expect("the order's figures");
    assert_eq!(
        (summary.partner.as_str(), summary.package.as_str()),
        ("Acme Screening", "Standard Package")
    );
    assert_eq!(
        summary.amounts(),
        ("$79.98".to_string(), "$79740.06".to_string())
    );
    assert_eq!(summary.add_ons, ["Basic Drug Screening"]);
    assert_eq!(preview.skipped.len(), 1);
    assert_eq!(
        (preview.skipped[0].reason.as_str(), preview.skipped[0].count),
        ("A background check is already in progress", 3)
    );

    // Started at another total than the catalog's: refused, nothing made.
    let mut wrong = order.clone();
    wrong.extend([
        ("request_key", "wrong".into()),
        ("total_each", "70.00".into()),
    ]);
    let res = app.call(&recruiter, "start_bulk", &wrong).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("79.98"));
    order.extend([
        ("request_key", "orders-1".into()),
        ("total_each", "79.98".into()),
    ]);
    let id: i64 = app.call_ok(&recruiter, "start_bulk", &order).await;
    assert_eq!(
        id,
        app.call_ok::<i64>(&recruiter, "start_bulk", &order).await
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM bulk_jobs").await, 1);

    // Two instances at RATE each share one pace for the partner: together no faster than RATE.
    let instance = || app.another_instance(|c| c.bulk_per_second = RATE);
    let (one, two) = (instance().await, instance().await);
    let began = Instant::now();
    clearance::server::services::bulk::spawn_runner(one.state.clone());
    clearance::server::services::bulk::spawn_runner(two.state.clone());
    until(&app, &recruiter, id, |j| j.total - j.pending >= SWEEP / 3).await;
    let floor = Duration::from_secs_f64((SWEEP / 3) as f64 / f64::from(RATE) * 0.9);
    assert!(
        began.elapsed() >= floor,
        "{:?} < {floor:?}",
        began.elapsed()
    );
    assert!(one.state.tasks.shutdown(Duration::from_secs(10)).await);
    assert!(two.state.tasks.shutdown(Duration::from_secs(10)).await);
    let stopped = view(&app, &recruiter, id).await;
    assert!(
        stopped.pending > 0 && stopped.state == BulkState::Running,
        "{stopped:?}"
    );

    // A third resumes where they stopped.
    let third = app.another_instance(|c| c.bulk_per_second = 1000).await;
    clearance::server::services::bulk::spawn_runner(third.state.clone());
    let done = until(&app, &recruiter, id, |j| j.state == BulkState::Finished).await;
    assert!(third.state.tasks.shutdown(Duration::from_secs(10)).await);
    assert_eq!((done.done, done.skipped, done.failed), (SWEEP - 3, 3, 0));
    let figures = done.order.expect("the job's order");
    assert_eq!(
        (figures.package.as_str(), figures.add_ons.clone()),
        ("Standard Package", vec!["Basic Drug Screening".to_string()])
    );
    // The security reviewer who follows the audit log's link sees the job (but may not stop it).
    let seen: BulkJobView = view(&app, &security, id).await;
    assert_eq!(seen.done, SWEEP - 3);
    assert_eq!(
        figures.amounts(),
        ("$79.98".to_string(), "$79740.06".to_string())
    );

    // Each candidate has exactly one order; each bulk order is audited as part of the job.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM background_check_orders").await,
        SWEEP
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(DISTINCT candidate_id) FROM background_check_orders"
        )
        .await,
        SWEEP
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM background_check_orders WHERE package_id = 'PKG002' AND total = '79.98'").await,
        SWEEP - 3
    );
    let audited = count(
        &app,
        &format!("SELECT COUNT(*) FROM audit_log WHERE event_type = 'order_placed' AND payload LIKE '%\"bulk_job\":{id}%'"),
    )
    .await;
    assert_eq!(audited, SWEEP - 3);
    // Delivered: the partner got each order once.
    app.run_jobs().await;
    let at_partner = partner.orders();
    assert_eq!(at_partner.len() as i64, SWEEP);
    assert!(at_partner.iter().all(|o| o.posts == 1));
}

async fn a_bulk_move_goes_through_the_stage_gates_and_skips_the_others_with_the_reason(
    app: TestApp,
    _sim: Sim,
    _url: String,
) {
    clearance::server::db::candidates::add_volume(&app.db, 140, chrono::Utc::now())
        .await
        .unwrap();
    let recruiter = app.signed_in("recruiter@clearance.test").await;
    let volume = "FROM applications a JOIN candidates c ON c.id = a.candidate_id WHERE c.email LIKE 'volume%'";
    let ids = common::column::<i64>(
        &app.db,
        &format!("SELECT a.id {volume} AND a.stage IN ('coding_assessment', 'offer', 'hired') ORDER BY a.id"),
    )
    .await;
    let ready = count(&app, &format!("SELECT COUNT(*) {volume} AND a.stage = 'coding_assessment' AND c.verification_status = 'verified'")).await;
    let gated = count(&app, &format!("SELECT COUNT(*) {volume} AND a.stage = 'coding_assessment' AND c.verification_status <> 'verified'")).await;
    let at_offer = count(
        &app,
        &format!("SELECT COUNT(*) {volume} AND a.stage = 'offer'"),
    )
    .await;
    let hired = count(
        &app,
        &format!("SELECT COUNT(*) {volume} AND a.stage = 'hired'"),
    )
    .await;
    assert!(ready > 0 && gated > 0 && at_offer > 0 && hired > 0);

    let mut form: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("rows[{i}]"), id.to_string()))
        .collect();
    form.push(("action".into(), "move_stage".into()));
    let form_ref = |extra: &[(&'static str, &str)]| fields(&form, extra);
    // A move needs its stage; security reviewers may not move.
    let res = app.call(&recruiter, "preview_bulk", &form_ref(&[])).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("stage to move to"));
    let security = app.signed_in("security@clearance.test").await;
    let res = app
        .call(
            &security,
            "preview_bulk",
            &form_ref(&[("move_to", "offer")]),
        )
        .await;
    assert_eq!(res.status(), 403);

    let preview: BulkPreview = app
        .call_ok(
            &recruiter,
            "preview_bulk",
            &form_ref(&[("move_to", "offer")]),
        )
        .await;
    assert_eq!(preview.selected, ids.len() as i64);
    assert_eq!(preview.proceed, ready);
    let reason = |prefix: &str| {
        preview
            .skipped
            .iter()
            .filter(|g| g.reason.starts_with(prefix))
            .map(|g| g.count)
            .sum::<i64>()
    };
    assert_eq!(
        reason("The Offer gate needs verification Verified; theirs is"),
        gated
    );
    assert_eq!(reason("The candidate is already in Offer"), at_offer);
    assert_eq!(reason("The application is closed (Hired)"), hired);

    let id: i64 = app
        .call_ok(
            &recruiter,
            "start_bulk",
            &form_ref(&[("move_to", "offer"), ("request_key", "move-1")]),
        )
        .await;
    let runner = app.another_instance(|c| c.bulk_per_second = 1000).await;
    clearance::server::services::bulk::spawn_runner(runner.state.clone());
    let done = until(&app, &recruiter, id, |j| j.state == BulkState::Finished).await;
    assert!(runner.state.tasks.shutdown(Duration::from_secs(10)).await);
    assert_eq!(
        (done.stage, done.done, done.skipped, done.failed),
        (
            Some(clearance::model::Stage::Offer),
            ready,
            gated + at_offer + hired,
            0
        )
    );
    assert!(done
        .items
        .iter()
        .filter(|i| i.outcome == BulkOutcome::Done)
        .all(|i| i.detail.as_deref() == Some("Moved to Offer")));
    // Moved: exactly the verified ones, each once, each audited as part of the job; nothing
    // else moved, and a skipped move is not attempted (no blocked entries).
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) {volume} AND a.stage = 'offer'")
        )
        .await,
        at_offer + ready
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) {volume} AND a.stage = 'coding_assessment'")
        )
        .await,
        gated
    );
    let moved = count(
        &app,
        &format!("SELECT COUNT(*) FROM audit_log WHERE event_type = 'stage_changed' AND payload LIKE '%\"bulk_job\":{id}%'"),
    )
    .await;
    assert_eq!(moved, ready);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE event_type = 'stage_transition_blocked'"
        )
        .await,
        0
    );
    // Live progress: each item's outcome and the job's end are told over GET /events ('bulk').
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM change_events WHERE kind = 'bulk' AND candidate_id IS NOT NULL"
        )
        .await,
        ids.len() as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM change_events WHERE kind = 'bulk' AND candidate_id IS NULL"
        )
        .await,
        1
    );
}

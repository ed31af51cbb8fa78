//! The Insights figures against values worked out by hand, on SQLite and PostgreSQL: a seeded day
//! that is 23 hours long in the organisation's time zone (New York, 8 March 2026, clocks forward),
//! applications just inside and just outside it, one job or all, and an empty range.
mod common;

use clearance::server::business_hours::BusinessCalendar;
use common::Backend;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_insights_match_the_hand_counts() {
    common::within_deadline("sqlite", insights_match_the_hand_counts(Backend::Sqlite)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_insights_match_the_hand_counts() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline(
        "postgres",
        insights_match_the_hand_counts(Backend::Postgres),
    )
    .await;
}

/// Four candidates, five applications, five sessions, three review items, two background-check
/// orders, a drift and a dead-lettered order around 8 March 2026.
/// Local midnight is 05:00 UTC that day (EST) and 04:00 UTC the next (EDT).
const SEED: &[&str] = &[
    "INSERT INTO candidates (id, first_name, last_name, email, verification_status, created_at) VALUES
        (1001, 'Hana', 'Hired', 'hana@insights.test', 'verified', '2026-03-08T05:30:00+00:00'),
        (1002, 'Rui', 'Rejected', 'rui@insights.test', 'failed', '2026-03-08T12:00:00+00:00'),
        (1003, 'Ada', 'Applied', 'ada@insights.test', 'not_started', '2026-03-08T10:00:00+00:00'),
        (1004, 'Otto', 'Outside', 'otto@insights.test', 'in_progress', '2026-03-08T04:30:00+00:00')",
    // A1 hired (inside), A2 rejected after the phone screen, A3 at 23:30 local on the 8th (EDT:
    // inside), A4 at 23:30 local on the 7th (EST: outside), A5 on job 2 at the phone screen.
    "INSERT INTO applications (id, candidate_id, job_id, stage, created_at, updated_at) VALUES
        (9001, 1001, 1, 'hired', '2026-03-08T05:30:00+00:00', '2026-03-08T05:30:00+00:00'),
        (9002, 1002, 1, 'rejected', '2026-03-08T12:00:00+00:00', '2026-03-08T12:00:00+00:00'),
        (9003, 1003, 1, 'applied', '2026-03-09T03:30:00+00:00', '2026-03-09T03:30:00+00:00'),
        (9004, 1004, 1, 'offer', '2026-03-08T04:30:00+00:00', '2026-03-08T04:30:00+00:00'),
        (9005, 1003, 2, 'phone_screen', '2026-03-08T10:00:00+00:00', '2026-03-08T10:00:00+00:00')",
    "INSERT INTO stage_changes (application_id, from_stage, to_stage, changed_at) VALUES
        (9001, 'applied', 'phone_screen', '2026-03-08T06:00:00+00:00'),
        (9001, 'phone_screen', 'offer', '2026-03-08T07:00:00+00:00'),
        (9001, 'offer', 'hired', '2026-03-08T08:00:00+00:00'),
        (9002, 'applied', 'phone_screen', '2026-03-08T13:00:00+00:00'),
        (9002, 'phone_screen', 'rejected', '2026-03-08T14:00:00+00:00'),
        (9004, 'applied', 'offer', '2026-03-08T04:45:00+00:00')",
    // Low tier: 60 s, 600 s, 7200 s; high: 1800 s; one without a result yet.
    "INSERT INTO verification_sessions (session_id, candidate_id, status, risk_tier, created_at, updated_at, last_event_at) VALUES
        ('vs_i1', 1001, 'verified', 'low', '2026-03-08T06:00:00+00:00', '2026-03-08T06:10:00+00:00', '2026-03-08T06:10:00+00:00'),
        ('vs_i2', 1002, 'failed', 'low', '2026-03-08T07:00:00+00:00', '2026-03-08T09:00:00+00:00', '2026-03-08T09:00:00+00:00'),
        ('vs_i3', 1003, 'verified', 'low', '2026-03-08T08:00:00+00:00', '2026-03-08T08:01:00+00:00', '2026-03-08T08:01:00+00:00'),
        ('vs_i4', 1003, 'in_progress', NULL, '2026-03-08T08:30:00+00:00', '2026-03-08T08:30:00+00:00', '2026-03-08T08:30:00+00:00'),
        ('vs_i5', 1002, 'needs_review', 'high', '2026-03-08T10:00:00+00:00', '2026-03-08T10:30:00+00:00', '2026-03-08T10:30:00+00:00'),
        ('vs_i6', 1004, 'expired', NULL, '2026-03-07T20:00:00+00:00', '2026-03-09T03:30:00+00:00', '2026-03-09T03:30:00+00:00')",
    // High: decided within (1800 s) and late (10800 s); medium: still open, past its deadline.
    "INSERT INTO review_items (candidate_id, session_id, risk_tier, provider_status, state, opened_at, deadline_at, decided_at) VALUES
        (1002, 'vs_i5', 'high', 'needs_review', 'closed', '2026-03-08T10:30:00+00:00', '2026-03-08T12:30:00+00:00', '2026-03-08T11:00:00+00:00'),
        (1001, 'vs_i1', 'high', 'needs_review', 'closed', '2026-03-08T11:00:00+00:00', '2026-03-08T12:00:00+00:00', '2026-03-08T14:00:00+00:00'),
        (1003, 'vs_i3', 'medium', 'needs_review', 'open', '2026-03-08T13:00:00+00:00', '2026-03-09T13:00:00+00:00', NULL)",
    // Risk tiers of the candidates' latest results; job 2 is under the high-assurance policy,
    // job 1 names none (the default policy's).
    "UPDATE candidates SET verification_risk_tier = 'low' WHERE id = 1001",
    "UPDATE candidates SET verification_risk_tier = 'high' WHERE id = 1002",
    "UPDATE jobs SET policy_name = NULL WHERE id = 1",
    "UPDATE jobs SET policy_name = 'Remote SWE High Assurance' WHERE id = 2",
    "INSERT INTO partners (id, name, catalog_url, orders_url, account_id, api_secret, created_at, updated_at) VALUES
        (501, 'Insight Screening', 'http://127.0.0.1:9/catalog', 'http://127.0.0.1:9/orders', 'A1', 'sealed', '2026-03-01T00:00:00+00:00', '2026-03-01T00:00:00+00:00')",
    // Hana's check: ordered 09:00, result 21:00 (43,200 s); Rui's has no result yet.
    "INSERT INTO background_check_orders (background_check_id, webhook_token_sha256, candidate_id, job_id, partner_id, package_id, package_name, total, status, result, created_at, updated_at, result_at) VALUES
        ('bc_i1', 'tok_i1', 1001, 1, 501, 'pkg', 'Basic', '10.00', 'complete', 'clear', '2026-03-08T09:00:00+00:00', '2026-03-08T21:00:00+00:00', '2026-03-08T21:00:00+00:00'),
        ('bc_i2', 'tok_i2', 1002, 1, 501, 'pkg', 'Basic', '10.00', 'submitted', NULL, '2026-03-08T10:00:00+00:00', '2026-03-08T10:00:00+00:00', NULL)",
    // Rui's session drifted at 15:00 and was fixed 30 s later.
    "INSERT INTO drift_records (candidate_id, session_id, field, before_value, after_value, detected_at, resolved_at) VALUES
        (1002, 'vs_i2', 'status', 'in_progress', 'failed', '2026-03-08T15:00:00+00:00', '2026-03-08T15:00:30+00:00')",
    // Hana's order to the partner was dead-lettered that evening.
    "INSERT INTO delivery_jobs (kind, payload, state, attempts, max_attempts, run_at, last_error, subject, created_at, updated_at) VALUES
        ('background_check.order', '{\"order_id\": 1, \"partner_id\": 501}', 'dead', 5, 5, '2026-03-08T21:00:00+00:00', 'HTTP 503', 'candidate:1001', '2026-03-08T20:00:00+00:00', '2026-03-08T21:00:00+00:00')",
];

/// The shipped policies: the default one, and the high-assurance one.
const DEFAULT: &str = "ats-embedded-verification-status";
const STRICT: &str = "Remote SWE High Assurance";

fn column(rows: &Value, key: &str, field: &str) -> Vec<i64> {
    rows[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_i64().unwrap())
        .collect()
}

async fn insights_match_the_hand_counts(backend: Backend) {
    let app = common::spawn_app_with(backend, |c| {
        // Verification requests dead-letter and reconciliation fails: both show on the page.
        common::unreachable_provider(c);
        c.business_calendar =
            BusinessCalendar::parse("Mon-Fri 09:00-17:00", "America/New_York").unwrap();
    })
    .await;
    for sql in SEED {
        common::exec_at_now(&app.db, sql).await;
    }
    let admin = app.signed_in("admin@clearance.test").await;
    let day = |job: Option<i64>| {
        let mut form = vec![
            ("from", "2026-03-08".to_string()),
            ("to", "2026-03-08".to_string()),
        ];
        if let Some(j) = job {
            form.push(("job_id", j.to_string()));
        }
        form
    };

    let all: Value = app.call_ok(&admin, "get_insights", &day(None)).await;
    assert_eq!(all["applications"], 4, "{all}");
    assert_eq!(column(&all, "funnel", "reached"), [4, 3, 1, 1, 1, 1]);
    assert_eq!(column(&all, "funnel", "now_at"), [1, 1, 0, 0, 0, 1]);
    let outcomes = common::outcome_counts(&all);
    assert_eq!(
        outcomes,
        [
            ("not_started".to_string(), 1),
            ("verified".into(), 1),
            ("failed".into(), 1)
        ]
    );
    let timings: Vec<(String, Option<String>, i64, i64, i64)> = all["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["interval"].as_str().unwrap().to_string(),
                t["tier"].as_str().map(String::from),
                t["count"].as_i64().unwrap(),
                t["p50_seconds"].as_i64().unwrap(),
                t["p90_seconds"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        timings,
        [
            // A1 (05:30) → Hana's session at 06:00; the other applications had none after them.
            (
                "application_to_request".to_string(),
                Some("low".to_string()),
                1,
                1800,
                1800
            ),
            (
                "request_to_result".to_string(),
                Some("low".to_string()),
                3,
                600,
                7200
            ),
            (
                "request_to_result".into(),
                Some("high".into()),
                1,
                1800,
                1800
            ),
            (
                "review_to_decision".into(),
                Some("high".into()),
                2,
                1800,
                10800
            ),
            (
                "order_to_result".into(),
                Some("low".into()),
                1,
                43200,
                43200
            ),
            ("drift_to_resolved".into(), Some("high".into()), 1, 30, 30),
        ]
    );
    // The candidates of the day by their tier: Hana low, Rui high, Ada none yet.
    assert_eq!(
        all["tier_mix"],
        serde_json::json!([
            { "tier": "low", "candidates": 1 }, { "tier": "medium", "candidates": 0 },
            { "tier": "high", "candidates": 1 }, { "tier": null, "candidates": 1 }
        ])
    );
    assert_eq!(
        all["dead_letters"],
        serde_json::json!([{ "kind": "background_check.order", "partner": "Insight Screening", "count": 1 }])
    );
    let policies: Vec<&str> = all["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        policies.contains(&DEFAULT) && policies.contains(&STRICT),
        "{policies:?}"
    );

    // One policy: job 2 is high-assurance (A5); job 1 names none, so it is the default's.
    let scoped = |extra: &[(&'static str, &'static str)]| {
        let mut form = day(None);
        form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let (app, admin) = (&app, &admin);
        async move { app.call_ok::<Value>(admin, "get_insights", &form).await }
    };
    let strict = scoped(&[("policy", STRICT)]).await;
    assert_eq!(strict["applications"], 1);
    assert_eq!(column(&strict, "funnel", "reached"), [1, 1, 0, 0, 0, 0]);
    let default = scoped(&[("policy", DEFAULT)]).await;
    assert_eq!(default["applications"], 3);
    assert!(default["dead_letters"].as_array().unwrap().len() == 1);
    let res = app
        .call(
            &admin,
            "get_insights",
            &[("from", "2026-03-08".into()), ("policy", "lenient".into())],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("no policy named 'lenient'"));

    // One risk tier: Rui's application, and only the high-tier sessions, reviews and drift.
    let high = scoped(&[("tier", "high")]).await;
    assert_eq!(high["applications"], 1);
    assert_eq!(
        high["over_time"],
        serde_json::json!([{ "start": "2026-03-08", "counts": [["needs_review", 1]] }])
    );
    let high_timings: Vec<(&str, i64)> = high["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["interval"].as_str().unwrap(),
                t["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        high_timings,
        [
            ("request_to_result", 1),
            ("review_to_decision", 2),
            ("drift_to_resolved", 1)
        ]
    );
    assert_eq!(high["sla"].as_array().unwrap().len(), 1);
    assert!(high["dead_letters"].as_array().unwrap().is_empty());
    let res = app
        .call(&admin, "get_insights", &[("tier", "severe".into())])
        .await;
    assert_eq!(res.status(), 400);
    // Results by day: one day; vs_i6's result came at 23:30 on the 8th in New York.
    assert_eq!(all["weekly"], false);
    assert_eq!(
        all["over_time"],
        serde_json::json!([{ "start": "2026-03-08", "counts": [["verified", 2], ["failed", 1], ["needs_review", 1], ["expired", 1]] }])
    );
    let sla = all["sla"].as_array().unwrap();
    assert_eq!(sla.len(), 2, "{sla:?}");
    let medium = &sla[0];
    assert_eq!(medium["tier"], "medium");
    assert_eq!(
        (
            medium["decided_within"].as_i64(),
            medium["decided_after"].as_i64(),
            medium["open"].as_i64(),
            medium["breached"].as_i64()
        ),
        (Some(0), Some(0), Some(1), Some(1))
    );
    let oldest: chrono::DateTime<chrono::Utc> =
        medium["oldest_open"].as_str().unwrap().parse().unwrap();
    assert_eq!(oldest.to_rfc3339(), "2026-03-08T13:00:00+00:00");
    let high = &sla[1];
    assert_eq!(high["tier"], "high");
    assert_eq!(
        (
            high["decided_within"].as_i64(),
            high["decided_after"].as_i64(),
            high["open"].as_i64(),
            high["breached"].as_i64()
        ),
        (Some(1), Some(1), Some(0), Some(0))
    );
    assert!(high["oldest_open"].is_null());

    // One job: A5 (job 2) drops out of the funnel.
    let job1: Value = app.call_ok(&admin, "get_insights", &day(Some(1))).await;
    assert_eq!(job1["applications"], 3);
    assert_eq!(column(&job1, "funnel", "reached"), [3, 2, 1, 1, 1, 1]);
    assert_eq!(column(&job1, "funnel", "now_at"), [1, 0, 0, 0, 0, 1]);
    let job2: Value = app.call_ok(&admin, "get_insights", &day(Some(2))).await;
    assert_eq!(column(&job2, "funnel", "reached"), [1, 1, 0, 0, 0, 0]);

    // The day before takes A4 (23:30 EST on the 7th) and nothing else of the seed.
    let before: Value = app
        .call_ok(
            &admin,
            "get_insights",
            &[("from", "2026-03-07".into()), ("to", "2026-03-07".into())],
        )
        .await;
    assert_eq!(before["applications"], 1);
    assert_eq!(column(&before, "funnel", "reached"), [1, 1, 1, 1, 1, 0]);

    // An empty range: zeros, no timings, no SLA rows.
    let empty: Value = app
        .call_ok(
            &admin,
            "get_insights",
            &[("from", "2025-01-01".into()), ("to", "2025-01-31".into())],
        )
        .await;
    assert_eq!(empty["applications"], 0);
    assert_eq!(column(&empty, "funnel", "reached"), [0; 6]);
    assert!(empty["timings"].as_array().unwrap().is_empty());
    assert!(empty["sla"].as_array().unwrap().is_empty());

    // A date that is not one is refused with the reason.
    let res = app
        .call(&admin, "get_insights", &[("from", "8/3/2026".into())])
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("is not a date"));

    // Gate activity today (New York): the recruiter's move of a not-started candidate is blocked,
    // a security reviewer grants an exception for that stage.
    let at_phone_screen = 2;
    let recruiter = app.signed_in("recruiter@clearance.test").await;
    let res = app
        .call(
            &recruiter,
            "move_stage",
            &[
                ("application_id", at_phone_screen.to_string()),
                ("stage", "onsite_or_panel_interview".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    let (candidate, job): (Vec<i64>, Vec<i64>) = (
        common::column(
            &app.db,
            "SELECT candidate_id FROM applications WHERE id = 2",
        )
        .await,
        common::column(&app.db, "SELECT job_id FROM applications WHERE id = 2").await,
    );
    let security = app.signed_in("security@clearance.test").await;
    let res = app
        .call(
            &security,
            "grant_exception",
            &[
                ("candidate_id", candidate[0].to_string()),
                ("stage", "onsite_or_panel_interview".into()),
                ("reason_code", "exception_verification_scheduled".into()),
                ("hours", "4".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive()
        .to_string();
    let gate = |job: Option<i64>| {
        let mut form = vec![("from", today.clone()), ("to", today.clone())];
        if let Some(j) = job {
            form.push(("job_id", j.to_string()));
        }
        form
    };
    let now: Value = app.call_ok(&admin, "get_insights", &gate(None)).await;
    assert_eq!(
        now["blocked"],
        serde_json::json!([{ "stage": "onsite_or_panel_interview", "reason_code": "verification_not_started", "moves": 1 }])
    );
    assert_eq!(
        now["exceptions"],
        serde_json::json!([{ "stage": "onsite_or_panel_interview", "granted": 1, "expired": 0 }])
    );
    let same_job: Value = app
        .call_ok(&admin, "get_insights", &gate(Some(job[0])))
        .await;
    assert_eq!(same_job["blocked"].as_array().unwrap().len(), 1);
    let other_job: Value = app
        .call_ok(&admin, "get_insights", &gate(Some(job[0] % 3 + 1)))
        .await;
    assert!(
        other_job["blocked"].as_array().unwrap().is_empty(),
        "{other_job}"
    );
    assert!(other_job["exceptions"].as_array().unwrap().is_empty());

    // A failed reconciliation run today, and two dead-lettered verification requests: candidate
    // 7's, and the one the exception above asked for (the provider cannot be reached).
    common::request_verification(&app, 7).await;
    app.run_jobs().await;
    clearance::server::services::reconciliation::run(
        &app.state,
        clearance::model::ReconciliationTrigger::Manual,
        chrono::Duration::hours(1),
        None,
    )
    .await
    .unwrap();
    let later: Value = app.call_ok(&admin, "get_insights", &gate(None)).await;
    assert_eq!(
        later["dead_letters"],
        serde_json::json!([{ "kind": "verification.create_session", "partner": null, "count": 2 }])
    );
    let runs = later["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (
            runs[0]["trigger"].as_str(),
            runs[0]["state"].as_str(),
            runs[0]["checked"].as_i64()
        ),
        (Some("manual"), Some("failed"), Some(0))
    );
    let seven_job: Vec<i64> = common::column(
        &app.db,
        "SELECT job_id FROM applications WHERE candidate_id = 7",
    )
    .await;
    let dead_for = |job_id: i64| {
        let form = gate(Some(job_id));
        let (app, admin) = (&app, &admin);
        async move {
            let v: Value = app.call_ok(admin, "get_insights", &form).await;
            v["dead_letters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["count"].as_i64().unwrap())
                .sum::<i64>()
        }
    };
    // Candidate 7's job has its request, and the other one's if that candidate applied there.
    let other = seven_job[0] % 3 + 1;
    assert_eq!(
        dead_for(seven_job[0]).await,
        1 + i64::from(job[0] == seven_job[0])
    );
    assert_eq!(dead_for(other).await, i64::from(job[0] == other));

    // Each table downloads as CSV with the same figures.
    let csv = |table: &str, query: &str| {
        let url = format!("{}/insights/export.csv?table={table}&{query}", app.address);
        let admin = admin.clone();
        async move {
            let res = admin.get(url).send().await.unwrap();
            let status = res.status().as_u16();
            let kind = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, kind, res.text().await.unwrap())
        }
    };
    let (status, kind, funnel) = csv("funnel", "from=2026-03-08&to=2026-03-08&job=1").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert_eq!(
        funnel.lines().collect::<Vec<_>>(),
        [
            "stage,reached,now_at",
            "applied,3,1",
            "phone_screen,2,0",
            "onsite_or_panel_interview,1,0",
            "coding_assessment,1,0",
            "offer,1,0",
            "hired,1,1"
        ]
    );
    let (_, _, timings) = csv("timings", "from=2026-03-08&to=2026-03-08").await;
    assert_eq!(
        timings.lines().collect::<Vec<_>>(),
        [
            "interval,risk_tier,count,p50_seconds,p90_seconds",
            "application_to_request,low,1,1800,1800",
            "request_to_result,low,3,600,7200",
            "request_to_result,high,1,1800,1800",
            "review_to_decision,high,2,1800,10800",
            "order_to_result,low,1,43200,43200",
            "drift_to_resolved,high,1,30,30"
        ]
    );
    let (_, _, tiers) = csv("tiers", "from=2026-03-08&to=2026-03-08&tier=high").await;
    assert_eq!(
        tiers.lines().collect::<Vec<_>>(),
        [
            "risk_tier,candidates",
            "low,0",
            "medium,0",
            "high,1",
            "none,0"
        ]
    );
    let (_, _, sla) = csv("sla", "from=2026-03-08&to=2026-03-08").await;
    assert_eq!(
        sla.lines().nth(1),
        Some("medium,0,0,1,1,2026-03-08T13:00:00+00:00")
    );
    let (status, _, body) = csv("pie", "").await;
    assert_eq!(status, 400);
    assert!(body.contains("'pie' is not a table"), "{body}");

    // The page itself, server-rendered: the chart has its words, counts link to the list.
    let page = admin
        .get(format!(
            "{}/insights?from=2026-03-08&to=2026-03-08&job=1",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Funnel: Applied 3, Phone screen 2"), "{html}");
    assert!(
        html.contains("href=\"/candidates?stage=hired&amp;job=1\""),
        "{html}"
    );
    assert!(
        html.contains(
            "/insights/export.csv?table=sla&amp;from=2026-03-08&amp;to=2026-03-08&amp;job=1"
        ),
        "{html}"
    );
}

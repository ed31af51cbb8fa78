//! `clearance demo-data --story`: ninety days of hiring played through the real paths, then read
//! back the way a newcomer meets it — Insights, the review queue, the stages against the gates and
//! the audit chain. SQLite and PostgreSQL one after the other in one test: the story sets the
//! process's clock, so two stories must not run at once.
mod common;

use chrono::{Duration, Utc};
use clearance::server::{clock, db::Db, sim::story};
use common::Backend;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_story_fills_ninety_days_through_the_real_paths() {
    common::within_deadline("demo story", async {
        tell_and_read(Backend::Sqlite).await;
        if common::postgres_base_url().is_some() {
            tell_and_read(Backend::Postgres).await;
        } else {
            eprintln!("SKIPPED the demo story on PostgreSQL: TEST_DATABASE_URL is not set");
        }
    })
    .await;
}

async fn tell_and_read(backend: Backend) {
    let url = common::fresh_database_url(backend).await;
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let tell = || async {
        std::env::set_var("LEPTOS_OUTPUT_NAME", "clearance");
        let options = clearance::server::cli::leptos_options().expect("leptos options");
        let config = common::test_config(url.clone(), "http://127.0.0.1:9".into());
        story::tell(options, config, db.clone(), clearance::site::pages())
            .await
            .expect("the story is told")
    };
    let told = tell().await.expect("a story on an empty database");
    assert_eq!(told.candidates, 40);
    // Its sessions are named apart from the ones the demo's own provider simulator will create.
    let sessions: Vec<String> =
        common::column(&db, "SELECT session_id FROM verification_sessions").await;
    assert!(sessions.len() >= 35);
    assert!(
        sessions.iter().all(|s| s.starts_with("vs_story_")),
        "{sessions:?}"
    );
    // The clock is the wall's again, and telling it twice adds nothing.
    assert!((clock::now() - Utc::now()).num_seconds().abs() < 5);
    assert!(tell().await.is_none());

    let app = common::serve_existing(backend, url.clone()).await;
    let story_candidates = "FROM candidates c JOIN applications a ON a.candidate_id = c.id \
                            WHERE c.email LIKE '%@story.example'";

    // Spread over the ninety days: the first applied ~88 days ago, the last yesterday.
    let created: Vec<chrono::DateTime<Utc>> = common::column(
        &app.db,
        &format!("SELECT c.created_at {story_candidates} ORDER BY c.created_at"),
    )
    .await;
    let now = Utc::now();
    assert!(created[0] < now - Duration::days(85) && created[0] > now - Duration::days(90));
    assert!(created[39] > now - Duration::days(3), "{}", created[39]);

    // Stages agree with the gates: whoever is past the phone screen is verified — except the one
    // a security reviewer's exception let through.
    let past_gates: Vec<String> = common::column(
        &app.db,
        &format!(
            "SELECT c.last_name {story_candidates} AND a.stage IN \
             ('onsite_or_panel_interview', 'coding_assessment', 'offer', 'hired') \
             AND c.verification_status <> 'verified' ORDER BY c.last_name"
        ),
    )
    .await;
    assert_eq!(past_gates, ["Karp"]);

    // Insights over the last ninety days, as the admin opens it.
    let admin = app.signed_in("admin@clearance.test").await;
    let today = now.date_naive();
    let range = [
        ("from", (today - Duration::days(90)).to_string()),
        ("to", today.to_string()),
    ];
    let v: Value = app.call_ok(&admin, "get_insights", &range).await;
    let funnel = |stage: &str, field: &str| {
        v["funnel"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == stage)
            .map(|s| s[field].as_i64().unwrap())
            .unwrap()
    };
    // Counted by hand from the cast (story.rs): 11 hired, 4 at offer, ...
    assert_eq!(funnel("hired", "now_at"), 11, "{v}");
    assert_eq!(funnel("offer", "reached"), 15, "{v}");
    assert_eq!(funnel("offer", "now_at"), 4, "{v}");
    let outcomes = common::outcome_counts(&v);
    let of = |s: &str| {
        outcomes
            .iter()
            .find(|(status, _)| status == s)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(of("verified"), 27, "{outcomes:?}");
    assert_eq!(of("needs_review"), 2, "{outcomes:?}");
    assert_eq!(of("failed"), 3, "{outcomes:?}");
    assert_eq!(of("in_progress"), 4, "{outcomes:?}");
    assert_eq!(of("not_started"), 4, "{outcomes:?}");
    // Results land in many different weeks, not all on one day.
    let weeks_with_results = v["over_time"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["counts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c[1].as_i64().unwrap() > 0)
        })
        .count();
    assert!(weeks_with_results >= 8, "{}", v["over_time"]);
    // Timings from real timestamps: requested → result measured for most of the cast.
    let measured: i64 = v["timings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["interval"] == "request_to_result")
        .map(|t| t["count"].as_i64().unwrap())
        .sum();
    assert!(measured >= 30, "{}", v["timings"]);
    // Review SLA: two open, one of them past its SLA; the decided ones counted.
    let sla = v["sla"].as_array().unwrap();
    let total = |f: &str| sla.iter().map(|r| r[f].as_i64().unwrap()).sum::<i64>();
    assert_eq!(total("open"), 2, "{sla:?}");
    assert_eq!(total("breached"), 1, "{sla:?}");
    assert_eq!(
        total("decided_within") + total("decided_after"),
        7,
        "{sla:?}"
    );
    // The exception, the drift found and fixed, the dead-lettered request.
    let exceptions = v["exceptions"].as_array().unwrap();
    assert_eq!(
        exceptions
            .iter()
            .map(|e| e["granted"].as_i64().unwrap())
            .sum::<i64>(),
        1,
        "{exceptions:?}"
    );
    let runs = v["runs"].as_array().unwrap();
    // Twelve weekly runs and the night after the lost webhook, which found and fixed it.
    assert_eq!(runs.len(), 13, "{runs:?}");
    let drifted: Vec<(i64, i64)> = runs
        .iter()
        .map(|r| (r["drifted"].as_i64().unwrap(), r["fixed"].as_i64().unwrap()))
        .filter(|(d, _)| *d > 0)
        .collect();
    assert_eq!(drifted, [(1, 1)], "{runs:?}");
    // ... and it was resolved within that run, on the story's day.
    let resolved = v["timings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["interval"] == "drift_to_resolved")
        .expect("drift timing");
    assert!(resolved["p50_seconds"].as_i64().unwrap() < 60, "{resolved}");
    let dead: i64 = v["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_i64().unwrap())
        .sum();
    assert_eq!(dead, 1, "{}", v["dead_letters"]);

    // Background checks came back from the partner: one "Consider", the rest clear.
    let results: Vec<String> = common::column(
        &app.db,
        "SELECT result FROM background_check_orders WHERE result IS NOT NULL ORDER BY result",
    )
    .await;
    assert_eq!(results.len(), 16, "{results:?}");
    assert_eq!(results.iter().filter(|r| *r == "Consider").count(), 1);
    // Every monitored interview was reported.
    let reports: Vec<i64> = common::column(&app.db, "SELECT COUNT(*) FROM integrity_reports").await;
    assert_eq!(reports, [20]);

    // The audit chain holds, and its entries carry the story's days.
    let report = clearance::server::services::audit::verify_chain(&app.db)
        .await
        .unwrap();
    assert!(
        matches!(report, clearance::model::ChainReport::Intact { .. }),
        "{report:?}"
    );
    let oldest: Vec<chrono::DateTime<Utc>> = common::column(
        &app.db,
        "SELECT occurred_at FROM audit_log ORDER BY occurred_at LIMIT 1",
    )
    .await;
    assert!(oldest[0] < now - Duration::days(88), "{}", oldest[0]);
}

/// A story that stopped part-way is not taken for a told one: telling it again says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_stopped_part_way_is_reported_not_skipped() {
    common::within_deadline("partial story", async {
        let url = common::fresh_database_url(Backend::Sqlite).await;
        let db = Db::connect(&url).await.expect("connect");
        db.migrate().await.expect("migrate");
        clearance::server::services::demo::load(&db).await.unwrap();
        // The story's first candidate is there, its last is not.
        let csv = "first_name,last_name,email,job\n\
                   Katherine,Johnson,katherine.johnson@story.example,Data Analyst\n";
        clearance::server::services::import::import_candidates(&db, csv.as_bytes())
            .await
            .unwrap();
        std::env::set_var("LEPTOS_OUTPUT_NAME", "clearance");
        let options = clearance::server::cli::leptos_options().expect("leptos options");
        let config = common::test_config(url.clone(), "http://127.0.0.1:9".into());
        let err = story::tell(options, config, db.clone(), clearance::site::pages())
            .await
            .expect_err("a partial story is refused");
        assert!(err.to_string().contains("stopped part-way"), "{err}");
    })
    .await;
}

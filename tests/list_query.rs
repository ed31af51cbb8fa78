//! The candidate list's query builder against a plain reference: every filter combination, on
//! random data, on both databases, returns exactly the rows the filters describe, newest first,
//! across keyset pages. The profile's one statement reads what the separate queries it replaced
//! read, for every candidate.
mod common;

use clearance::server::db::{self, candidates::ListFilter, Db};
use clearance::server::services::candidates::like_pattern;
use common::TestApp;
use rand::{rngs::StdRng, Rng, SeedableRng};

on_both_backends!(
    every_filter_combination_returns_what_the_filters_describe,
    counts_follow_every_change_to_the_rows,
    profile_reads_what_the_separate_queries_read,
);

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    application_id: i64,
    first_name: String,
    last_name: String,
    email: String,
    job_id: i64,
    hiring_manager_id: i64,
    stage: String,
    verification_status: String,
    verification_risk_tier: Option<String>,
    integrity_score: Option<i64>,
    integrity_flagged: bool,
}

const STATUSES: [&str; 6] = [
    "not_started",
    "in_progress",
    "verified",
    "failed",
    "needs_review",
    "expired",
];
const STAGES: [&str; 7] = [
    "applied",
    "phone_screen",
    "onsite_or_panel_interview",
    "coding_assessment",
    "offer",
    "hired",
    "rejected",
];
const RISKS: [&str; 3] = ["low", "medium", "high"];
const NAMES: [&str; 8] = [
    "Ada",
    "Grace",
    "Zoë",
    "O'Brien",
    "50%_Off",
    "Back\\Slash",
    "Lovelace",
    "Hopper",
];

async fn exec(db: &Db, sql: &str) {
    common::exec_at_now(db, sql).await;
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn matches(r: &Row, f: &ListFilter, search: Option<&str>) -> bool {
    let lower = |s: &str| s.to_lowercase();
    f.hiring_manager_id.is_none_or(|h| r.hiring_manager_id == h)
        && f.job_id.is_none_or(|j| r.job_id == j)
        && f.stage.is_none_or(|s| r.stage == s.as_str())
        && f.status.is_none_or(|s| r.verification_status == s.as_str())
        && f.risk
            .is_none_or(|s| r.verification_risk_tier.as_deref() == Some(s.as_str()))
        && f.integrity_below
            .is_none_or(|b| r.integrity_score.is_some_and(|s| s < b))
        && f.integrity_flagged.is_none_or(|_| r.integrity_flagged)
        && f.integrity_missing
            .is_none_or(|_| r.integrity_score.is_none())
        && search.is_none_or(|q| {
            let q = lower(q.trim());
            lower(&format!("{} {}", r.first_name, r.last_name)).contains(&q)
                || lower(&r.email).contains(&q)
        })
}

async fn every_filter_combination_returns_what_the_filters_describe(app: TestApp) {
    let mut rng = StdRng::seed_from_u64(20261202);
    for i in 0..200 {
        let first = NAMES[rng.gen_range(0..NAMES.len())];
        let last = NAMES[rng.gen_range(0..NAMES.len())];
        let status = STATUSES[rng.gen_range(0..STATUSES.len())];
        let risk = if rng.gen_bool(0.6) {
            quote(RISKS[rng.gen_range(0..3)])
        } else {
            "NULL".into()
        };
        let score: Option<i64> = rng.gen_bool(0.5).then(|| rng.gen_range(0..=100));
        let flagged = score.is_some_and(|s| s < 60) || rng.gen_bool(0.1);
        exec(&app.db, &format!(
            "INSERT INTO candidates (first_name, last_name, email, verification_status, verification_risk_tier, integrity_score, integrity_flagged, created_at)
             VALUES ({}, {}, {}, '{status}', {risk}, {}, {}, $1)",
            quote(first), quote(last), quote(&format!("p{i}.{}@Example.com", first.to_lowercase())),
            score.map(|s| s.to_string()).unwrap_or("NULL".into()), if flagged { "TRUE" } else { "FALSE" },
        )).await;
        for job in 1..=4 {
            if rng.gen_bool(0.35) || job == 1 + i % 4 {
                let stage = STAGES[rng.gen_range(0..STAGES.len())];
                exec(&app.db, &format!(
                    "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at)
                     SELECT id, {job}, '{stage}', $1, $1 FROM candidates WHERE email = {}",
                    quote(&format!("p{i}.{}@example.com", first.to_lowercase()).replace("example", "Example"))
                )).await;
            }
        }
    }
    let all_sql = "SELECT a.id AS application_id, c.first_name, c.last_name, c.email, a.job_id, j.hiring_manager_id, a.stage,
                          c.verification_status, c.verification_risk_tier, c.integrity_score, c.integrity_flagged
                   FROM applications a JOIN candidates c ON c.id = a.candidate_id JOIN jobs j ON j.id = a.job_id";
    let all: Vec<Row> = match &app.db {
        Db::Sqlite(p) => sqlx::query_as(all_sql).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_as(all_sql).fetch_all(p).await.unwrap(),
    };
    assert!(all.len() > 300);
    let managers: Vec<i64> = all.iter().map(|r| r.hiring_manager_id).collect();
    let searches = [
        "",
        "ada",
        "ADA",
        "zoë",
        "o'b",
        "50%",
        "%",
        "_",
        "\\",
        "k\\s",
        "p1",
        "example.com",
        "ace h",
        "zz",
        "a",
        // Across a name's end and an email's start ("…a" + "p1.…"): no candidate's name or email
        // holds it, whatever one index over both holds.
        "a\np",
    ];

    for round in 0..300 {
        let pick = |rng: &mut StdRng| rng.gen_bool(0.35);
        let search = searches[rng.gen_range(0..searches.len())];
        let f = ListFilter {
            hiring_manager_id: pick(&mut rng).then(|| managers[rng.gen_range(0..managers.len())]),
            job_id: pick(&mut rng).then(|| rng.gen_range(1..=4)),
            stage: pick(&mut rng).then(|| STAGES[rng.gen_range(0..STAGES.len())].parse().unwrap()),
            status: pick(&mut rng)
                .then(|| STATUSES[rng.gen_range(0..STATUSES.len())].parse().unwrap()),
            risk: pick(&mut rng).then(|| RISKS[rng.gen_range(0..3)].parse().unwrap()),
            search_pattern: like_pattern(search),
            integrity_below: pick(&mut rng).then(|| [60, 80][rng.gen_range(0..2)]),
            integrity_flagged: rng.gen_bool(0.15).then_some(true),
            integrity_missing: rng.gen_bool(0.15).then_some(true),
            applications: None,
        };
        let mut expected: Vec<i64> = all
            .iter()
            .filter(|r| matches(r, &f, Some(search).filter(|s| !s.trim().is_empty())))
            .map(|r| r.application_id)
            .collect();
        expected.sort_unstable_by(|a, b| b.cmp(a));
        // Through keyset pages of 7, as the list pages.
        let mut got = Vec::new();
        let mut before = None;
        loop {
            let page = db::candidates::list(&app.db, &f, before, 7).await.unwrap();
            got.extend(page.iter().map(|r| r.application_id));
            if page.len() < 7 {
                break;
            }
            before = page.last().map(|r| r.application_id);
        }
        assert_eq!(got, expected, "round {round}: {f:?} (search {search:?})");
        let counted = db::candidates::count(&app.db, &f, 10_001).await.unwrap();
        assert_eq!(
            counted,
            expected.len() as i64,
            "round {round}: count of {f:?}"
        );
        assert_eq!(
            db::candidates::count(&app.db, &f, 3).await.unwrap(),
            expected.len().min(3) as i64,
            "the cap"
        );
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    clearance::on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap())
}

async fn run(db: &Db, sql: &str) {
    clearance::on_db!(db, p => sqlx::query(sql).execute(p).await.map(|_| ()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The list keeps its counts between pages; every kind of change to what they count — made by
/// any path, here plain SQL as another instance or a migration would — shows in the next page.
async fn counts_follow_every_change_to_the_rows(app: TestApp) {
    let recruiter = app.signed_in("recruiter@clearance.test").await;
    let manager = app.signed_in("manager@clearance.test").await;
    let total = |client: &reqwest::Client, form: Vec<(&'static str, String)>| {
        let (client, app) = (client.clone(), &app);
        async move {
            let page: clearance::model::CandidatePage =
                app.call_ok(&client, "list_candidates", &form).await;
            page.total
        }
    };
    let status = || vec![("status", "verified".to_string())];
    let stage = || vec![("stage", "offer".to_string())];
    let all = total(&recruiter, vec![]).await;
    let verified = total(&recruiter, status()).await;
    let offers = total(&recruiter, stage()).await;
    let managed = total(&manager, vec![]).await;
    assert!(
        all > 0 && managed > 0 && managed < all,
        "{all} {verified} {offers} {managed}"
    );
    // Asked again with nothing changed: the same answers.
    assert_eq!(total(&recruiter, vec![]).await, all);
    assert_eq!(total(&recruiter, status()).await, verified);

    let unverified = scalar(&app.db, "SELECT MIN(c.id) FROM candidates c JOIN applications a ON a.candidate_id = c.id WHERE c.verification_status <> 'verified'").await;
    run(
        &app.db,
        &format!("UPDATE candidates SET verification_status = 'verified' WHERE id = {unverified}"),
    )
    .await;
    let apps_of = scalar(
        &app.db,
        &format!("SELECT COUNT(*) FROM applications WHERE candidate_id = {unverified}"),
    )
    .await;
    assert_eq!(
        total(&recruiter, status()).await,
        verified + apps_of,
        "a status change"
    );
    assert_eq!(total(&recruiter, vec![]).await, all);

    let moved = scalar(
        &app.db,
        "SELECT MIN(id) FROM applications WHERE stage <> 'offer'",
    )
    .await;
    run(
        &app.db,
        &format!("UPDATE applications SET stage = 'offer' WHERE id = {moved}"),
    )
    .await;
    assert_eq!(total(&recruiter, stage()).await, offers + 1, "a stage move");

    exec(&app.db, "INSERT INTO candidates (first_name, last_name, email, verification_status, created_at) VALUES ('New', 'Person', 'new.person@example.com', 'not_started', $1)").await;
    let job = scalar(&app.db, "SELECT MIN(id) FROM jobs").await;
    exec(&app.db, &format!("INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at) SELECT MAX(id), {job}, 'applied', $1, $1 FROM candidates")).await;
    assert_eq!(
        total(&recruiter, vec![]).await,
        all + 1,
        "a new application"
    );

    let manager_id = scalar(
        &app.db,
        "SELECT id FROM users WHERE email = 'manager@clearance.test'",
    )
    .await;
    let other_job = scalar(
        &app.db,
        &format!("SELECT MIN(id) FROM jobs WHERE hiring_manager_id <> {manager_id}"),
    )
    .await;
    let its_apps = scalar(
        &app.db,
        &format!("SELECT COUNT(*) FROM applications WHERE job_id = {other_job}"),
    )
    .await;
    let managed = total(&manager, vec![]).await;
    run(
        &app.db,
        &format!("UPDATE jobs SET hiring_manager_id = {manager_id} WHERE id = {other_job}"),
    )
    .await;
    assert_eq!(
        total(&manager, vec![]).await,
        managed + its_apps,
        "a job handed over"
    );

    run(
        &app.db,
        "DELETE FROM applications WHERE id = (SELECT MAX(id) FROM applications)",
    )
    .await;
    assert_eq!(
        total(&recruiter, vec![]).await,
        all,
        "a deleted application"
    );

    // The rows of a page kept from before show what changed since.
    let first_page = || async {
        let page: clearance::model::CandidatePage =
            app.call_ok(&recruiter, "list_candidates", &[]).await;
        page.rows[0].clone()
    };
    let row = first_page().await;
    run(
        &app.db,
        &format!(
            "UPDATE jobs SET title = 'Renamed job' WHERE title = '{}'",
            row.job_title.replace('\'', "''")
        ),
    )
    .await;
    assert_eq!(first_page().await.job_title, "Renamed job", "a renamed job");
    run(
        &app.db,
        &format!(
            "UPDATE candidates SET first_name = 'Renamed' WHERE id = {}",
            row.candidate_id
        ),
    )
    .await;
    assert!(
        first_page().await.name.starts_with("Renamed "),
        "a renamed candidate"
    );
}

/// `db::candidates::profile` (one statement) against the queries it replaced, for every
/// candidate of the demo data with more sessions, reviews and session requests added at random,
/// a candidate without applications and one that does not exist.
async fn profile_reads_what_the_separate_queries_read(app: TestApp) {
    let mut rng = StdRng::seed_from_u64(20261207);
    let ids: Vec<i64> = common::column(&app.db, "SELECT id FROM candidates ORDER BY id").await;
    for &id in &ids {
        if rng.gen_bool(0.3) {
            // Another job, and its first stage.
            exec(&app.db, &format!(
                "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at)
                 SELECT {id}, j.id, 'applied', $1, $1 FROM jobs j
                 WHERE NOT EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = {id} AND a.job_id = j.id)
                 ORDER BY j.id LIMIT 1"
            )).await;
        }
        for _ in 0..rng.gen_range(0..3) {
            let actor = if rng.gen_bool(0.5) {
                "(SELECT MIN(id) FROM users)"
            } else {
                "NULL"
            };
            let to = STAGES[rng.gen_range(0..STAGES.len())];
            exec(&app.db, &format!(
                "INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at)
                 SELECT a.id, a.stage, '{to}', {actor}, $1 FROM applications a WHERE a.candidate_id = {id}"
            )).await;
        }
        for k in 0..rng.gen_range(0..3) {
            // Now (ties broken by id) or years ago, inserted after the newer ones.
            let created = if rng.gen_bool(0.5) {
                "$1".to_string()
            } else {
                format!("'2020-01-0{}T00:00:00Z'", k + 1)
            };
            let status = STATUSES[rng.gen_range(0..STATUSES.len())];
            let risk = if rng.gen_bool(0.5) {
                quote(RISKS[rng.gen_range(0..3)])
            } else {
                "NULL".into()
            };
            exec(&app.db, &format!(
                "INSERT INTO verification_sessions (session_id, candidate_id, status, risk_tier, reason_codes, evidence_pack_url, policy_name, candidate_url, created_at, updated_at)
                 VALUES ('extra-{id}-{k}', {id}, '{status}', {risk}, '[\"DOC_EXPIRED\"]', 'https://e.test/{id}', 'standard', NULL, {created}, $1)"
            )).await;
        }
        if rng.gen_bool(0.4) {
            let state = ["open", "awaiting_second_approval", "closed"][rng.gen_range(0..3)];
            let deadline = if rng.gen_bool(0.7) { "$1" } else { "NULL" };
            exec(&app.db, &format!(
                "INSERT INTO review_items (candidate_id, session_id, provider_status, state, opened_at, deadline_at)
                 VALUES ({id}, 'review-{id}-{}', 'needs_review', '{state}', $1, {deadline})", rng.gen::<u32>()
            )).await;
        }
        if rng.gen_bool(0.4) {
            let kind =
                ["verification.create_session", "background.place_order"][rng.gen_range(0..2)];
            let state = ["pending", "running", "done", "dead"][rng.gen_range(0..4)];
            exec(&app.db, &format!(
                "INSERT INTO delivery_jobs (kind, payload, state, max_attempts, run_at, subject, created_at, updated_at)
                 VALUES ('{kind}', '{{}}', '{state}', 3, $1, 'candidate:{id}', $1, $1)"
            )).await;
        }
    }
    exec(&app.db, "INSERT INTO candidates (first_name, last_name, email, created_at) VALUES ('No', 'Application', 'none@example.com', $1)").await;
    let alone: Vec<i64> = common::column(
        &app.db,
        "SELECT id FROM candidates WHERE email = 'none@example.com'",
    )
    .await;
    let (mut several_apps, mut histories, mut sessions, mut requested, mut reviews) =
        (0, 0, 0, 0, 0);
    for id in ids
        .iter()
        .copied()
        .chain(alone)
        .chain([ids[ids.len() - 1] + 1000])
    {
        let got = db::candidates::profile(&app.db, id).await.unwrap();
        let Some(candidate) = db::candidates::find_candidate(&app.db, id).await.unwrap() else {
            assert!(got.is_none(), "candidate {id} does not exist");
            continue;
        };
        let got = got.unwrap_or_else(|| panic!("candidate {id} exists"));
        let same = |what: &str, a: String, b: String| assert_eq!(a, b, "candidate {id}: {what}");
        same(
            "candidate",
            format!("{:?}", got.candidate),
            format!("{candidate:?}"),
        );
        let apps = db::candidates::applications_of(&app.db, id).await.unwrap();
        same(
            "applications",
            format!("{:?}", got.applications),
            format!("{apps:?}"),
        );
        // Each application's changes in order (the profile shows them application by application).
        let mut history = db::candidates::stage_history(&app.db, id).await.unwrap();
        history.sort_by_key(|h| h.application_id);
        same(
            "history",
            format!("{:?}", got.history),
            format!("{history:?}"),
        );
        let all_sessions = db::verification::sessions_of(&app.db, id).await.unwrap();
        same(
            "current session",
            format!("{:?}", got.panel.current_session),
            format!("{:?}", all_sessions.first()),
        );
        let pending = db::verification::pending_request(&app.db, id)
            .await
            .unwrap();
        assert_eq!(got.panel.requested, pending, "candidate {id}: requested");
        let review = db::review::latest_for_candidate(&app.db, id).await.unwrap();
        same(
            "review",
            format!("{:?}", got.panel.review.map(|r| (r.state, r.deadline_at))),
            format!("{:?}", review.map(|r| (r.state, r.deadline_at))),
        );
        several_apps += usize::from(apps.len() > 1);
        histories += usize::from(history.len() > apps.len());
        sessions += usize::from(all_sessions.len() > 1);
        requested += usize::from(pending);
        reviews += usize::from(got.panel.review.is_some());
    }
    // The data reaches every case.
    assert!(
        several_apps > 0 && histories > 0 && sessions > 5 && requested > 2 && reviews > 5,
        "{several_apps} {histories} {sessions} {requested} {reviews}"
    );
}

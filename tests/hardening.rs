//! Hardening, as an attacker or a careless network would try it: sign-in abuse, forged client
//! addresses, downloads from other sites, unsigned-in fetches, session lifetimes, HSTS.
mod common;

use clearance::server::db::{self, Db};
use common::{Backend, TestApp};
use serde_json::Value;
use std::time::Duration;

const ADMIN: &str = "admin@clearance.test";
const RECRUITER: &str = "recruiter@clearance.test";

on_both_backends!(
    input_that_is_not_an_email_is_refused_before_anything_is_written,
    parallel_wrong_passwords_get_no_more_than_the_limit_through,
    forwarded_addresses_count_only_behind_a_trusted_proxy,
    downloads_with_personal_data_are_not_cached_nor_fetched_by_other_sites,
    partner_logos_need_a_signed_in_user,
    partner_calls_follow_no_redirects_read_capped_answers_and_refuse_internal_addresses,
    hiring_managers_get_no_check_results_and_only_their_jobs,
    stored_values_this_version_does_not_know_are_refused_with_their_place,
);

async fn exec(app: &TestApp, sql: &str) {
    common::exec_at_now(&app.db, sql).await;
}

async fn list(app: &TestApp, client: &reqwest::Client, form: &[(&str, &str)]) -> Value {
    let form: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let res = app.call(client, "list_candidates", &form).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn hiring_managers_get_no_check_results_and_only_their_jobs(app: TestApp) {
    // Candidates 1 and 2 are on the first manager's jobs; give them check results.
    exec(&app, "UPDATE candidates SET verification_status = 'needs_review', verification_risk_tier = 'high' WHERE id IN (1, 2)").await;
    let manager = app.signed_in("manager@clearance.test").await;
    let recruiter = app.signed_in(RECRUITER).await;
    let high = list(&app, &recruiter, &[("risk", "high")]).await;
    assert_eq!(high["rows"].as_array().unwrap().len(), 2);
    assert_eq!(high["rows"][0]["risk_tier"], "high");

    // The list: no risk column, no integrity score, and the filters are ignored, not obeyed.
    let plain = list(&app, &manager, &[]).await;
    for (k, v) in [
        ("risk", "high"),
        ("integrity", "below_60"),
        ("integrity", "no_report"),
    ] {
        let filtered = list(&app, &manager, &[(k, v)]).await;
        assert_eq!(
            filtered, plain,
            "{k}={v} changes nothing for a hiring manager"
        );
    }
    assert_eq!(plain["shows_details"], false);
    for row in plain["rows"].as_array().unwrap() {
        assert!(
            row["risk_tier"].is_null() && row["integrity_score"].is_null(),
            "{row}"
        );
    }

    // A candidate on both managers' jobs: each manager sees only their own job's orders.
    exec(&app, "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at) VALUES (3, 1, 'applied', $1, $1)").await;
    exec(&app, "INSERT INTO partners (name, catalog_url, orders_url, account_id, api_secret, created_at, updated_at)
                VALUES ('P', 'https://p.example/c', 'https://p.example/o', 'A', 'x', $1, $1)").await;
    for (bgc, job, result) in [("bgc_mine", 1, "Pass"), ("bgc_theirs", 3, "Consider")] {
        exec(&app, &format!(
            "INSERT INTO background_check_orders (background_check_id, webhook_token_sha256, candidate_id, job_id, partner_id,
                 package_id, package_name, total, status, result, created_at, updated_at)
             VALUES ('{bgc}', 'sha_{bgc}', 3, {job}, (SELECT MAX(id) FROM partners), 'PKG', 'Standard', '49.99', 'complete', '{result}', $1, $1)"
        )).await;
    }
    let orders = |client: reqwest::Client| {
        let app = &app;
        async move {
            app.call_ok::<Value>(
                &client,
                "background_checks",
                &[("candidate_id", "3".into())],
            )
            .await
        }
    };
    let mine = orders(manager.clone()).await;
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["background_check_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["bgc_mine"]);
    assert!(mine[0]["result"].is_null(), "status only: {mine}");
    let manager2 = app.signed_in("manager2@clearance.test").await;
    let theirs = orders(manager2).await;
    let ids: Vec<&str> = theirs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["background_check_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["bgc_theirs"]);
    assert_eq!(orders(recruiter.clone()).await.as_array().unwrap().len(), 2);
    // The profile shows the manager their own application only.
    let res = app
        .call(&manager, "get_candidate", &[("id", "3".into())])
        .await;
    let profile: Value = res.json().await.unwrap();
    let jobs: Vec<i64> = profile["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["job"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(jobs, vec![1]);

    // Interviews and stage exceptions belong to one job too.
    for job in [1, 3] {
        exec(&app, &format!("INSERT INTO interviews (candidate_id, stage, scheduled_at, time_zone, interviewers, state, created_at, updated_at, job_id)
            VALUES (3, 'onsite_or_panel_interview', $1, 'UTC', '[\"job{job}@example.com\"]', 'scheduled', $1, $1, {job})")).await;
    }
    let interviews = |client: reqwest::Client| {
        let app = &app;
        async move {
            let list: Value = app
                .call_ok(
                    &client,
                    "candidate_interviews",
                    &[("candidate_id", "3".into())],
                )
                .await;
            list.as_array()
                .unwrap()
                .iter()
                .map(|i| i["interviewers"][0].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(interviews(manager.clone()).await, vec!["job1@example.com"]);
    assert_eq!(interviews(recruiter.clone()).await.len(), 2);
    // Scheduling for a candidate on two jobs needs the job.
    let res = app
        .call(
            &recruiter,
            "schedule_interview",
            &[
                ("candidate_id", "3".into()),
                ("stage", "onsite_or_panel_interview".into()),
                ("local_time", "2030-01-02T10:00".into()),
                ("time_zone", "UTC".into()),
                ("interviewers", "a@example.com".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("choose the job"));

    // An exception granted for the other job does not open this job's gate; one for this job does.
    let security = app.signed_in("security@clearance.test").await;
    let grant = |job: i64| {
        let (app, security) = (&app, security.clone());
        async move {
            app.call(
                &security,
                "grant_exception",
                &[
                    ("candidate_id", "3".into()),
                    ("job_id", job.to_string()),
                    ("stage", "phone_screen".into()),
                    ("reason_code", "exception_verification_scheduled".into()),
                    ("hours", "4".into()),
                ],
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(grant(3).await, 200);
    let exceptions = |client: reqwest::Client| {
        let app = &app;
        async move {
            let res = app
                .call(&client, "stage_exceptions", &[("candidate_id", "3".into())])
                .await;
            res.json::<Value>().await.unwrap().as_array().unwrap().len()
        }
    };
    assert_eq!(
        exceptions(manager.clone()).await,
        0,
        "the other job's exception is not shown"
    );
    assert_eq!(exceptions(recruiter.clone()).await, 1);
    let on_job_1 = db::candidates::applications_of(&app.db, 3)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.job_id == 1)
        .unwrap()
        .id;
    let try_move = || {
        let (app, recruiter) = (&app, recruiter.clone());
        async move {
            app.call(
                &recruiter,
                "move_stage",
                &[
                    ("application_id", on_job_1.to_string()),
                    ("stage", "phone_screen".into()),
                ],
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(
        try_move().await,
        409,
        "job 3's exception does not lift job 1's gate"
    );
    assert_eq!(grant(1).await, 200);
    assert_eq!(exceptions(manager.clone()).await, 1);
    assert_eq!(try_move().await, 200);
}

async fn audit_count(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) FROM audit_log";
    match &app.db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn throttle_rows(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) FROM login_failures";
    match &app.db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn input_that_is_not_an_email_is_refused_before_anything_is_written(app: TestApp) {
    let client = app.client();
    let before = (audit_count(&app).await, throttle_rows(&app).await);
    let huge = "a".repeat(1_000_000);
    let long = format!("{}@example.com", "a".repeat(250));
    for bad in [huge.as_str(), long.as_str(), "not an email", "", "a@b"] {
        let res = app.login(&client, bad, "whatever-password").await;
        assert_eq!(res.status(), 400, "{}", &bad[..bad.len().min(40)]);
    }
    assert_eq!(
        (audit_count(&app).await, throttle_rows(&app).await),
        before,
        "nothing is written for input that is not an email"
    );
    // A real attempt on an unknown account is logged by a digest, never the typed text.
    let typed = "Mallory.Probe@Example.com";
    assert_eq!(
        app.login(&client, typed, "whatever-password")
            .await
            .status(),
        401
    );
    let entries = db::audit::entries_after(&app.db, 0, 100_000).await.unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.event_type, "login_failed");
    let stored = serde_json::to_string(&(&last.subject_id, &last.payload)).unwrap();
    assert!(
        !stored.to_lowercase().contains("mallory"),
        "raw sign-in input in the audit log: {stored}"
    );
    let digest = {
        use sha2::{Digest, Sha256};
        hex_of(&Sha256::digest(b"mallory.probe@example.com"))
    };
    assert!(stored.contains(&digest), "{stored}");
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn parallel_wrong_passwords_get_no_more_than_the_limit_through(app: TestApp) {
    let mut attempts = Vec::new();
    for _ in 0..50 {
        let client = app.client();
        let address = app.address.clone();
        attempts.push(tokio::spawn(async move {
            client
                .post(format!("{address}/api/login"))
                .form(&[("email", RECRUITER), ("password", "wrong-password-guess")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + throttled, 50, "{statuses:?}");
    assert!(
        checked <= 5,
        "{checked} passwords were checked in parallel; the limit is 5"
    );
    // Hashing runs at most one per core at a time, however many arrive.
    assert!(
        clearance::server::auth::password::most_concurrent_verifications()
            <= clearance::server::auth::password::hashing_slots()
    );
}

/// A sign-in attempt claiming to come from `forwarded_for`; returns the status.
async fn login_via(
    app: &TestApp,
    client: &reqwest::Client,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> u16 {
    client
        .post(format!("{}/api/login", app.address))
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn forwarded_addresses_count_only_behind_a_trusted_proxy(app: TestApp) {
    // Without trusted proxies (the default), X-Forwarded-For is the client's own claim: ignored,
    // so rotating it does not escape the per-address limit.
    let client = app.client();
    for i in 0..20 {
        let status = login_via(
            &app,
            &client,
            &format!("198.51.100.{i}"),
            &format!("spray{i}@clearance.test"),
            "guess-guess-guess",
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        login_via(&app, &client, "203.0.113.77", ADMIN, "demo-admin-password").await,
        429,
        "a forged header must not reset the count"
    );

    // Behind a trusted proxy (loopback here), each forwarded client has its own count.
    let behind = common::spawn_app_with(app.backend, |c| {
        c.trusted_proxies =
            clearance::server::config::parse_cidrs("T", "127.0.0.0/8, ::1").unwrap();
    })
    .await;
    let client = behind.client();
    for i in 0..20 {
        let status = login_via(
            &behind,
            &client,
            "198.51.100.1",
            &format!("spray{i}@clearance.test"),
            "guess-guess-guess",
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        login_via(
            &behind,
            &client,
            "198.51.100.1",
            ADMIN,
            "demo-admin-password"
        )
        .await,
        429
    );
    assert_eq!(
        login_via(
            &behind,
            &client,
            "198.51.100.2",
            ADMIN,
            "demo-admin-password"
        )
        .await,
        200,
        "another client behind the proxy is not blocked"
    );
}

async fn downloads_with_personal_data_are_not_cached_nor_fetched_by_other_sites(app: TestApp) {
    let admin = app.signed_in(ADMIN).await;
    let today = chrono::Utc::now().date_naive();
    let export = format!(
        "{}/audit/export?from={}&to={today}",
        app.address,
        today.pred_opt().unwrap()
    );
    let zip = format!("{}/candidates/1/export.zip", app.address);
    for url in [&export, &zip] {
        let res = admin.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(res.headers()["cache-control"], "no-store", "{url}");
        let _ = res.bytes().await;
        for site in ["same-origin", "none"] {
            let res = admin
                .get(url)
                .header("sec-fetch-site", site)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{url} {site}");
            let _ = res.bytes().await;
        }
        let before = audit_count(&app).await;
        for site in ["cross-site", "same-site"] {
            let res = admin
                .get(url)
                .header("sec-fetch-site", site)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{url} from {site}");
        }
        assert_eq!(
            audit_count(&app).await,
            before,
            "a refused download writes nothing"
        );
    }
    // Evidence packs too (404 for an unknown session, but never fetched cross-site).
    let res = admin
        .get(format!("{}/evidence/vs_none/pack.json", app.address))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

async fn partner_logos_need_a_signed_in_user(app: TestApp) {
    let res = app
        .client()
        .get(format!("{}/partner-logos/1.png", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let signed_in = app.signed_in(RECRUITER).await;
    let res = signed_in
        .get(format!("{}/partner-logos/1.png", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "no partner yet: signed in, the route answers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_the_idle_time_and_the_absolute_lifetime() {
    common::within_deadline("sessions_end", async {
        let idle = common::spawn_app_with(Backend::Sqlite, |c| {
            c.session_idle = Duration::from_secs(2);
        })
        .await;
        let client = idle.signed_in(RECRUITER).await;
        // Busy well past the idle time after sign-in: each request keeps the session alive.
        for _ in 0..6 {
            assert_ne!(
                me(&idle, &client).await,
                Value::Null,
                "a busy session lasts"
            );
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        let page = client
            .get(format!("{}/candidates", idle.address))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "pages keep a busy session too");
        tokio::time::sleep(Duration::from_millis(3_000)).await;
        assert_eq!(me(&idle, &client).await, Value::Null, "idle session ended");

        let absolute = common::spawn_app_with(Backend::Sqlite, |c| {
            c.session_max_age = Duration::from_secs(3);
        })
        .await;
        let client = absolute.signed_in(RECRUITER).await;
        // Busy all the time: the idle clock never runs out, the absolute one does.
        for _ in 0..3 {
            assert_ne!(me(&absolute, &client).await, Value::Null);
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        tokio::time::sleep(Duration::from_millis(2_000)).await;
        assert_eq!(
            me(&absolute, &client).await,
            Value::Null,
            "absolute lifetime over"
        );
        let page = client
            .get(format!("{}/candidates", absolute.address))
            .send()
            .await
            .unwrap();
        assert_eq!(
            page.status(),
            303,
            "pages send an expired session to sign in"
        );
    })
    .await;
}

async fn me(app: &TestApp, client: &reqwest::Client) -> Value {
    let res = app.call(client, "current_user", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_deployments_send_hsts() {
    common::within_deadline("hsts", async {
        let plain = common::spawn_app(Backend::Sqlite).await;
        let res = reqwest::get(format!("{}/healthz", plain.address))
            .await
            .unwrap();
        assert!(res.headers().get("strict-transport-security").is_none());
        let https = common::spawn_app_with(Backend::Sqlite, |c| {
            c.public_url = "https://clearance.example.com".into();
        })
        .await;
        let res = reqwest::get(format!("{}/healthz", https.address))
            .await
            .unwrap();
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains"
        );
    })
    .await;
}

fn partner(name: &str, base: &str) -> clearance::server::services::background::PartnerInput {
    clearance::server::services::background::PartnerInput {
        name: name.into(),
        catalog_url: format!("{base}/catalog"),
        orders_url: format!("{base}/orders"),
        account_id: "ACCT".into(),
        api_secret: "s3cret".into(),
        logo_png: None,
    }
}

/// Connects a partner at `base` (with the test's loopback policy) and runs "Test connection" as an admin.
async fn connect_and_test(
    app: &TestApp,
    admin: &reqwest::Client,
    name: &str,
    base: &str,
) -> clearance::model::ConnectionTest {
    let id = clearance::server::services::background::add_partner(
        &app.db,
        &app.state.config,
        clearance::server::audit::Actor::System("test".into()),
        &partner(name, base),
        false,
    )
    .await
    .unwrap();
    app.call_ok(
        admin,
        "test_partner_connection",
        &[("partner_id", id.to_string())],
    )
    .await
}

async fn partner_calls_follow_no_redirects_read_capped_answers_and_refuse_internal_addresses(
    app: TestApp,
) {
    use axum::routing::get;
    use clearance::server::audit::Actor;
    use clearance::server::services::background::add_partner;
    // A partner that redirects (to our own metadata, say) and one that answers without end.
    let hostile = axum::Router::new()
        .route(
            "/redirect/catalog",
            get(|| async { axum::response::Redirect::temporary("/huge/catalog") }),
        )
        .route(
            "/huge/catalog",
            get(|| async { format!("{{\"packages\":[],\"x\":\"{}\"}}", "x".repeat(2 << 20)) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hostile).await.unwrap() });
    let admin = app.signed_in(ADMIN).await;
    let t = connect_and_test(&app, &admin, "R", &format!("{base}/redirect")).await;
    assert!(!t.ok);
    assert!(
        t.message.contains("307"),
        "the redirect is not followed: {}",
        t.message
    );
    let t = connect_and_test(&app, &admin, "H", &format!("{base}/huge")).await;
    assert!(!t.ok);
    assert!(t.message.contains("larger than 1024 KB"), "{}", t.message);

    // With the production defaults: https only, and no internal addresses, however written.
    let mut strict = (*app.state.config).clone();
    strict.outbound = Default::default();
    for (base, why) in [
        ("http://partner.example", "not https"),
        ("https://10.0.0.5", "internal address"),
        ("https://169.254.169.254", "internal address"),
        ("https://localhost:4200", "internal address"),
        ("https://[::1]:4200", "internal address"),
    ] {
        let e = add_partner(
            &app.db,
            &strict,
            Actor::System("test".into()),
            &partner("S", base),
            false,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains(why), "{base}: {e}");
    }
    // A name that resolves to an internal address is refused when called, not only when entered.
    let client = clearance::server::partners::outbound::client(&strict.outbound);
    let e = client
        .get("https://localhost:9/catalog")
        .send()
        .await
        .unwrap_err();
    let chain = format!("{e:?}");
    assert!(chain.contains("internal address"), "{chain}");
}

/// Writes a value the schema's CHECK refuses (as a newer version's schema would allow it): on
/// PostgreSQL without the column's check, on SQLite on one connection that ignores checks.
async fn past_checks(app: &TestApp, table: &str, column: &str, sql: &str) {
    match &app.db {
        Db::Postgres(p) => {
            sqlx::query(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check"
            ))
            .execute(p)
            .await
            .unwrap();
            sqlx::query(sql).execute(p).await.unwrap();
        }
        Db::Sqlite(p) => {
            let mut conn = p.acquire().await.unwrap();
            sqlx::query("PRAGMA ignore_check_constraints = ON")
                .execute(&mut *conn)
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut *conn).await.unwrap();
            sqlx::query("PRAGMA ignore_check_constraints = OFF")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }
}

/// A status, stage or role in the database that this version does not know (written by hand, by
/// a newer version, by a bad migration) is an error naming table, column and value — the profile
/// does not show "Not started" for it — and a job of an unknown kind is dead-lettered with its
/// name while the queue goes on.
async fn stored_values_this_version_does_not_know_are_refused_with_their_place(app: TestApp) {
    let recruiter = app.signed_in(RECRUITER).await;
    let before = app
        .call(&recruiter, "get_candidate", &[("id", "1".into())])
        .await;
    assert_eq!(before.status(), 200);

    past_checks(
        &app,
        "candidates",
        "verification_status",
        "UPDATE candidates SET verification_status = 'pending_manual' WHERE id = 1",
    )
    .await;
    let err = db::candidates::find_candidate(&app.db, 1)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "candidates.verification_status: unknown verification status 'pending_manual'"
        ),
        "{err}"
    );
    let page = app
        .call(&recruiter, "get_candidate", &[("id", "1".into())])
        .await;
    assert_eq!(page.status(), 500, "never shown as some other status");
    let body = page.text().await.unwrap();
    assert!(
        !body.contains("pending_manual"),
        "the page gets no database detail: {body}"
    );

    past_checks(
        &app,
        "applications",
        "stage",
        "UPDATE applications SET stage = 'interview' WHERE candidate_id = 2",
    )
    .await;
    let err = db::candidates::applications_of(&app.db, 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("applications.stage: unknown stage 'interview'"),
        "{err}"
    );

    // Jobs of a kind this version cannot send: each dead-lettered with its place; the first does
    // not hold up the second.
    for _ in 0..2 {
        exec(&app, "INSERT INTO delivery_jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
                    VALUES ('fax.send', '{}', 'pending', 0, 3, $1, $1, $1)").await;
    }
    let ids: Vec<i64> = common::column(
        &app.db,
        "SELECT id FROM delivery_jobs WHERE kind = 'fax.send'",
    )
    .await;
    assert_eq!(ids.len(), 2);
    assert!(app.run_jobs().await >= 2);
    for id in ids {
        let job = db::jobs::find(&app.db, id).await.unwrap().unwrap();
        assert_eq!(job.state, clearance::model::JobState::Dead);
        let error = job.last_error.unwrap_or_default();
        assert!(
            error.contains("delivery_jobs.kind: unknown job kind 'fax.send'"),
            "{error}"
        );
    }
}

//! The HTTP surface as browsers and scripts use it, on SQLite and PostgreSQL alike.
mod common;

use clearance::model::{CandidatePage, CandidateProfile, JobSummary, Stage};
use common::TestApp;
use serde_json::Value;

const ADMIN: &str = "admin@clearance.test";
const RECRUITER: &str = "recruiter@clearance.test";
const SECURITY: &str = "security@clearance.test";
const MANAGER: &str = "manager@clearance.test";
const MANAGER2: &str = "manager2@clearance.test";

on_both_backends!(
    login_succeeds_and_fails_cleanly,
    failed_logins_are_throttled_per_account_and_per_ip,
    login_cycles_the_session_id_and_logout_ends_it,
    every_server_function_enforces_the_permission_table,
    hiring_manager_sees_only_their_jobs,
    list_filters_search_and_keyset_pages,
    stage_moves_are_recorded_with_actor_and_checked,
    cross_origin_posts_are_refused,
    malformed_requests_get_4xx_not_500,
    health_and_readiness,
    pages_carry_security_headers_and_require_sign_in,
    csv_import_keeps_good_rows_and_reports_bad_lines,
    a_large_import_is_written_in_batches_and_reports_every_bad_line,
);

async fn current_user(app: &TestApp, client: &reqwest::Client) -> Value {
    let res = app.call(client, "current_user", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn jobs(app: &TestApp, client: &reqwest::Client) -> Vec<JobSummary> {
    let res = app.call(client, "list_jobs", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn list(app: &TestApp, client: &reqwest::Client, form: &[(&str, String)]) -> CandidatePage {
    let res = app.call(client, "list_candidates", form).await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    res.json().await.unwrap()
}

/// The id of some candidate on the job with this title who is still in the Applied stage.
async fn candidate_on_job(app: &TestApp, title: &str) -> i64 {
    let admin = app.signed_in(ADMIN).await;
    let job = jobs(app, &admin)
        .await
        .into_iter()
        .find(|j| j.title == title)
        .expect("job");
    let page = list(
        app,
        &admin,
        &[("job_id", job.id.to_string()), ("stage", "applied".into())],
    )
    .await;
    page.rows[0].candidate_id
}

async fn login_succeeds_and_fails_cleanly(app: TestApp) {
    let client = app.client();
    let bad = app.login(&client, RECRUITER, "wrong-password-123").await;
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body, serde_json::json!("BadCredentials"));
    let unknown = app
        .login(&client, "nobody@clearance.test", "whatever-password")
        .await;
    assert_eq!(unknown.status(), 401, "unknown users get the same answer");
    assert_eq!(current_user(&app, &client).await, Value::Null);

    let ok = app
        .login(&client, RECRUITER, "demo-recruiter-password")
        .await;
    assert_eq!(ok.status(), 200);
    let cookie = ok
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me = current_user(&app, &client).await;
    assert_eq!(me["email"], RECRUITER);
    assert_eq!(me["role"], "recruiter");
}

async fn failed_logins_are_throttled_per_account_and_per_ip(app: TestApp) {
    let client = app.client();
    for _ in 0..5 {
        assert_eq!(
            app.login(&client, SECURITY, "not-the-password")
                .await
                .status(),
            401
        );
    }
    // Even the right password is refused while the account is throttled.
    let res = app.login(&client, SECURITY, "demo-security-password").await;
    assert_eq!(res.status(), 429);
    // Another account from the same address still works…
    assert_eq!(
        app.login(&client, ADMIN, "demo-admin-password")
            .await
            .status(),
        200
    );
    // …until the address itself has failed too often.
    for i in 0..15 {
        let status = app
            .login(
                &client,
                &format!("spray{i}@clearance.test"),
                "guess-guess-guess",
            )
            .await
            .status();
        assert_eq!(status, 401);
    }
    assert_eq!(
        app.login(&client, RECRUITER, "demo-recruiter-password")
            .await
            .status(),
        429
    );
}

fn session_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("clearance_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string()
}

async fn login_cycles_the_session_id_and_logout_ends_it(app: TestApp) {
    let client = app.client();
    let first = session_cookie(
        &app.login(&client, RECRUITER, "demo-recruiter-password")
            .await,
    );
    let second = session_cookie(&app.login(&client, ADMIN, "demo-admin-password").await);
    assert_ne!(
        first, second,
        "signing in again must issue a new session id"
    );

    let raw = reqwest::Client::new();
    let origin = app.address.clone();
    let call_with = |cookie: String| {
        let raw = raw.clone();
        let origin = origin.clone();
        let url = format!("{}/api/current_user", app.address);
        async move {
            raw.post(url)
                .header("cookie", cookie)
                .header("origin", origin)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        call_with(first.clone()).await,
        Value::Null,
        "the old session id is dead"
    );
    assert_eq!(call_with(second.clone()).await["email"], ADMIN);

    let out = app.call(&client, "logout", &[]).await;
    assert_eq!(out.status(), 200);
    assert_eq!(current_user(&app, &client).await, Value::Null);
    assert_eq!(
        call_with(second).await,
        Value::Null,
        "a logged-out session id cannot be replayed"
    );
}

/// SPEC §2 for every server function and role: (function, form, [admin, recruiter, security, manager]).
async fn every_server_function_enforces_the_permission_table(app: TestApp) {
    let own = candidate_on_job(&app, "Senior Backend Engineer").await; // managed by MANAGER
    let other = candidate_on_job(&app, "Data Analyst").await; // managed by MANAGER2
    let admin = app.signed_in(ADMIN).await;
    let profile: CandidateProfile = app
        .call(&admin, "get_candidate", &[("id", own.to_string())])
        .await
        .json()
        .await
        .unwrap();
    let application = profile.applications[0].id;

    type Row<'a> = (&'a str, Vec<(&'a str, String)>, [u16; 4]);
    let table: Vec<Row> = vec![
        ("current_user", vec![], [200, 200, 200, 200]),
        ("list_jobs", vec![], [200, 200, 200, 200]),
        ("list_candidates", vec![], [200, 200, 200, 200]),
        (
            "get_candidate",
            vec![("id", own.to_string())],
            [200, 200, 200, 200],
        ),
        (
            "get_candidate",
            vec![("id", other.to_string())],
            [200, 200, 200, 404],
        ),
    ];
    let users = [ADMIN, RECRUITER, SECURITY, MANAGER];
    for (name, form, expected) in &table {
        for (email, want) in users.iter().zip(expected) {
            let client = app.signed_in(email).await;
            let status = app.call(&client, name, form).await.status().as_u16();
            assert_eq!(status, *want, "{name} as {email}");
        }
        if *name != "current_user" {
            let anonymous = app.call(&app.client(), name, form).await.status().as_u16();
            assert_eq!(anonymous, 401, "{name} signed out");
        }
    }
    // Stage moves (they change state, so the order matters): nobody signed out, no security
    // reviewer or hiring manager; recruiters and admins may.
    let anonymous = app
        .call(
            &app.client(),
            "move_stage",
            &[
                ("application_id", application.to_string()),
                ("stage", "phone_screen".into()),
            ],
        )
        .await;
    assert_eq!(anonymous.status(), 401);
    for email in [SECURITY, MANAGER] {
        let c = app.signed_in(email).await;
        let res = app
            .call(
                &c,
                "move_stage",
                &[
                    ("application_id", application.to_string()),
                    ("stage", "phone_screen".into()),
                ],
            )
            .await;
        assert_eq!(res.status(), 403, "move_stage as {email}");
    }
    // The recruiter may try, and the stage gate answers (not started → blocked); the admin
    // moves to an ungated stage.
    for (email, to, status) in [(RECRUITER, "phone_screen", 409), (ADMIN, "rejected", 200)] {
        let c = app.signed_in(email).await;
        let res = app
            .call(
                &c,
                "move_stage",
                &[
                    ("application_id", application.to_string()),
                    ("stage", to.into()),
                ],
            )
            .await;
        assert_eq!(res.status(), status, "move_stage as {email}");
    }
    // Contact details are hidden from hiring managers.
    let hm = app.signed_in(MANAGER).await;
    let p: CandidateProfile = app
        .call(&hm, "get_candidate", &[("id", own.to_string())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p.phone, None);
    assert_eq!(p.verification.reason_codes, None);
    assert!(!p.can_move_stage);
}

async fn hiring_manager_sees_only_their_jobs(app: TestApp) {
    let hm = app.signed_in(MANAGER).await;
    let titles: Vec<String> = jobs(&app, &hm).await.into_iter().map(|j| j.title).collect();
    assert_eq!(titles, vec!["Frontend Engineer", "Senior Backend Engineer"]);
    let page = list(&app, &hm, &[]).await;
    assert_eq!(
        page.total, 26,
        "candidates 0,1,4,5,… of the fifty are on the manager's two jobs"
    );
    assert!(page.rows.iter().all(|r| titles.contains(&r.job_title)));
    // Asking for another job's candidate by filter or by URL yields nothing.
    let admin = app.signed_in(ADMIN).await;
    let data_analyst = jobs(&app, &admin)
        .await
        .into_iter()
        .find(|j| j.title == "Data Analyst")
        .unwrap();
    let filtered = list(&app, &hm, &[("job_id", data_analyst.id.to_string())]).await;
    assert_eq!(filtered.total, 0);
    let other = candidate_on_job(&app, "Data Analyst").await;
    let res = app
        .call(&hm, "get_candidate", &[("id", other.to_string())])
        .await;
    assert_eq!(res.status(), 404);
    let page = hm
        .get(format!("{}/candidates/{other}", app.address))
        .send()
        .await
        .unwrap();
    let status = page.status();
    let html = page.text().await.unwrap();
    assert_eq!(status, 404, "{}", &html[..html.len().min(300)]);
    assert!(
        !html.contains("candidates.example"),
        "no candidate data in the 404 page"
    );
    let own = candidate_on_job(&app, "Frontend Engineer").await;
    let page = hm
        .get(format!("{}/candidates/{own}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("aria-label=\"Verification\""));
    // The other manager sees exactly the other half.
    let hm2 = app.signed_in(MANAGER2).await;
    assert_eq!(
        app.call(&hm2, "get_candidate", &[("id", other.to_string())])
            .await
            .status(),
        200
    );
    assert_eq!(list(&app, &hm2, &[]).await.total, 24);
}

async fn list_filters_search_and_keyset_pages(app: TestApp) {
    let r = app.signed_in(RECRUITER).await;
    let first = list(&app, &r, &[]).await;
    assert_eq!(first.total, 50);
    assert_eq!(first.rows.len(), 25);
    let before = first.next_before.expect("a second page");
    let second = list(&app, &r, &[("before", before.to_string())]).await;
    assert_eq!(second.rows.len(), 25);
    assert_eq!(second.next_before, None);
    let mut ids: Vec<i64> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|r| r.application_id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "pages neither overlap nor skip");

    let ada = list(&app, &r, &[("search", "ADA LOVE".into())]).await;
    assert_eq!(ada.total, 1);
    assert_eq!(ada.rows[0].name, "Ada Lovelace");
    let by_email = list(&app, &r, &[("search", "hopper1".into())]).await;
    assert!(by_email.rows.iter().all(|r| r.email.contains("hopper1")) && by_email.total > 0);
    let wildcard = list(&app, &r, &[("search", "%".into())]).await;
    assert_eq!(wildcard.total, 0, "% is searched for literally");
    let offers = list(&app, &r, &[("stage", "offer".into())]).await;
    assert!(offers.total > 0 && offers.rows.iter().all(|r| r.stage == Stage::Offer));
}

async fn stage_moves_are_recorded_with_actor_and_checked(app: TestApp) {
    let r = app.signed_in(RECRUITER).await;
    let page = list(&app, &r, &[("stage", "applied".into())]).await;
    let row = &page.rows[0];
    let form = |to: &str| {
        vec![
            ("application_id", row.application_id.to_string()),
            ("stage", to.to_string()),
        ]
    };
    assert_eq!(
        app.call(&r, "move_stage", &form("rejected")).await.status(),
        200
    );
    // A closed application moves no more, with a reason.
    let back = app.call(&r, "move_stage", &form("applied")).await;
    assert_eq!(back.status(), 400);
    assert!(back
        .text()
        .await
        .unwrap()
        .contains("the application is closed"));
    let unknown = app
        .call(
            &r,
            "move_stage",
            &[
                ("application_id", "999999".into()),
                ("stage", "offer".into()),
            ],
        )
        .await;
    assert_eq!(unknown.status(), 404);

    let p: CandidateProfile = app
        .call(&r, "get_candidate", &[("id", row.candidate_id.to_string())])
        .await
        .json()
        .await
        .unwrap();
    let app0 = p
        .applications
        .iter()
        .find(|a| a.id == row.application_id)
        .unwrap();
    assert_eq!(app0.stage, Stage::Rejected);
    let last = app0.history.last().unwrap();
    assert_eq!(last.from_stage, Some(Stage::Applied));
    assert_eq!(last.to_stage, Stage::Rejected);
    assert_eq!(last.actor.as_deref(), Some("Riley Recruiter"));
    assert!((chrono::Utc::now() - last.changed_at).num_seconds() < 60);
}

async fn cross_origin_posts_are_refused(app: TestApp) {
    let client = app.client();
    let res = client
        .post(format!("{}/api/login", app.address))
        .header("origin", "https://evil.example")
        .form(&[
            ("email", RECRUITER),
            ("password", "demo-recruiter-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(format!("{}/api/login", app.address))
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("email", RECRUITER),
            ("password", "demo-recruiter-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Neither Origin nor Sec-Fetch-Site: not provably from our pages, refused (fail closed).
    let bare = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
        .post(format!("{}/api/login", app.address))
        .form(&[
            ("email", RECRUITER),
            ("password", "demo-recruiter-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403);
    // Webhooks are machine-to-machine and stay open to signed requests without an Origin.
    let webhook = reqwest::Client::new()
        .post(format!("{}/webhooks/background-checks/nope", app.address))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status(), 404);
    assert_eq!(current_user(&app, &client).await, Value::Null);
    let same = client
        .post(format!("{}/api/login", app.address))
        .header("origin", app.address.clone())
        .form(&[
            ("email", RECRUITER),
            ("password", "demo-recruiter-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}

async fn malformed_requests_get_4xx_not_500(app: TestApp) {
    let r = app.signed_in(RECRUITER).await;
    let bad_id = app.call(&r, "get_candidate", &[("id", "abc".into())]).await;
    assert_eq!(bad_id.status(), 400);
    let missing = app
        .call(&r, "move_stage", &[("application_id", "1".into())])
        .await;
    assert_eq!(missing.status(), 400);
    let bad_stage = app
        .call(
            &r,
            "move_stage",
            &[
                ("application_id", "1".into()),
                ("stage", "interview".into()),
            ],
        )
        .await;
    assert_eq!(bad_stage.status(), 400);
    // Over the size limit: 413, or the connection is cut before the whole body is even sent.
    match r
        .post(format!("{}/api/login", app.address))
        .body(vec![b'a'; 2 * 1024 * 1024])
        .send()
        .await
    {
        Ok(huge) => assert_eq!(huge.status(), 413),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
}

async fn health_and_readiness(app: TestApp) {
    let c = app.client();
    let status = |path: &'static str| {
        let (c, url) = (c.clone(), format!("{}{path}", app.address));
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status("/healthz").await, 200);
    assert_eq!(status("/readyz").await, 200);
    match &app.db {
        clearance::server::db::Db::Sqlite(p) => p.close().await,
        clearance::server::db::Db::Postgres(p) => p.close().await,
    }
    assert_eq!(status("/readyz").await, 503);
    assert_eq!(status("/healthz").await, 200);
}

async fn pages_carry_security_headers_and_require_sign_in(app: TestApp) {
    let c = app.client();
    let res = c
        .get(format!("{}/candidates", app.address))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/login");
    let login = c
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let h = login.headers();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self' 'nonce-"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("referrer-policy"));
    let html = login.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script carries the CSP nonce"
    );
    let page = common::without_hydration_markers(&html);
    assert!(
        page.contains("<label for=\"login-email\">Email</label>")
            && page.contains(">Sign in</button>"),
        "{page}"
    );
}

async fn csv_import_keeps_good_rows_and_reports_bad_lines(app: TestApp) {
    let csv = "first_name,last_name,email,phone,address,address_2,city,state,zip,job,stage\n\
               Katherine,Johnson,kj@example.com,555-0100,1 Orbit Rd,,Hampton,VA,23666,Data Analyst,\n\
               ,Nameless,nameless@example.com,,,,,,,Data Analyst,\n\
               Mary,Jackson,not-an-email,,,,,,,Data Analyst,\n\
               Dorothy,Vaughan,dv@example.com,,,,,,,No Such Job,\n\
               Christine,Darden,cd@example.com,,,,,,,Frontend Engineer,offer\n\
               Ada,Again,ada.lovelace0@candidates.example,,,,,,,Data Analyst,\n";
    let report = clearance::server::services::import::import_candidates(&app.db, csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(report.imported, 2);
    let lines: Vec<u64> = report.errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 4, 5, 7]);
    assert!(report.errors[0].1.contains("first_name is empty"));
    assert!(report.errors[1].1.contains("not-an-email"));
    assert!(report.errors[2].1.contains("no job titled 'No Such Job'"));
    assert!(report.errors[3].1.contains("already exists"));
    let r = app.signed_in(RECRUITER).await;
    let kj = list(&app, &r, &[("search", "katherine".into())]).await;
    assert_eq!(kj.total, 1);
    assert_eq!(kj.rows[0].job_title, "Data Analyst");
    assert_eq!(kj.rows[0].stage, Stage::Applied);
    let cd = list(&app, &r, &[("search", "darden".into())]).await;
    assert_eq!(cd.rows[0].stage, Stage::Offer);
    assert_eq!(
        list(&app, &r, &[]).await.total,
        52,
        "rejected rows left nothing behind"
    );
}

async fn a_large_import_is_written_in_batches_and_reports_every_bad_line(app: TestApp) {
    // 3,204 rows across four batches (on PostgreSQL two are written at once): an email repeated
    // in a later batch and one repeated within its batch (the first row of it wins), a bad email,
    // an unknown job at the end.
    let mut csv = String::from("first_name,last_name,email,job\n");
    for i in 0..3200 {
        csv.push_str(&format!(
            "Bulk,Person {i},bulk{i}@example.com,Data Analyst\n"
        ));
    }
    csv.push_str("Again,Person,bulk3@example.com,Data Analyst\n");
    csv.push_str("Twin,Person,bulk3100@example.com,Data Analyst\n");
    csv.push_str("Bad,Email,not-an-email,Data Analyst\n");
    csv.push_str("No,Job,nojob@example.com,No Such Job\n");
    let entries_before = match clearance::server::services::audit::verify_chain(&app.db)
        .await
        .unwrap()
    {
        clearance::model::ChainReport::Intact { count, .. } => count,
        broken => panic!("expected an intact chain, got {broken}"),
    };
    let report = clearance::server::services::import::import_candidates(&app.db, csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(report.imported, 3200);
    // Batches written side by side still make one unbroken chain with an entry per candidate.
    match clearance::server::services::audit::verify_chain(&app.db)
        .await
        .unwrap()
    {
        clearance::model::ChainReport::Intact { count, .. } => {
            assert_eq!(count, entries_before + 3200)
        }
        broken => panic!("the import broke the audit chain: {broken}"),
    }
    let lines: Vec<u64> = report.errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3202, 3203, 3204, 3205]);
    assert!(report.errors[0]
        .1
        .contains("bulk3@example.com already exists"));
    assert!(report.errors[1]
        .1
        .contains("bulk3100@example.com already exists"));
    // Every imported candidate has its application, first stage entry and audit entry.
    let admin = app.signed_in(ADMIN).await;
    let twin = list(&app, &admin, &[("search", "bulk3100@".into())]).await;
    assert_eq!(twin.total, 1);
    assert_eq!(
        twin.rows[0].name, "Bulk Person 3100",
        "the first row with an email wins"
    );
    let page = list(&app, &admin, &[("search", "bulk3199@".into())]).await;
    assert_eq!(page.total, 1);
    let timeline = clearance::server::db::audit::for_subject(
        &app.db,
        "candidate",
        &page.rows[0].candidate_id.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].event_type, "candidate_created");
}

//! Background checks end to end over real HTTP against the partner simulator (seed 000):
//! connect once, catalog, order, retries, dead letter and replay, result webhooks.
mod common;

use base64::Engine;
use clearance::model::{AuditEventType, BackgroundCheck, CatalogView, ConnectionTest};
use clearance::server::db;
use clearance::server::sim::partner::{Sim, Switches};
use common::{audit_types, TestApp};

const RECRUITER: &str = "recruiter@clearance.test";
const ADMIN: &str = "admin@clearance.test";
const ACCOUNT: &str = common::PARTNER_ACCOUNT;
const SECRET: &str = common::PARTNER_SECRET;
/// Demo candidate 1 applied to "Senior Backend Engineer", managed by manager@.
const CANDIDATE: i64 = 1;

on_both_backends!(
    order_is_sent_exactly_per_contract_and_the_result_lands_on_the_profile,
    a_rejection_shows_the_partners_error_message,
    server_errors_are_retried_and_the_partner_gets_one_order,
    a_partner_down_for_the_whole_schedule_dead_letters_then_replay_delivers_once,
    duplicate_and_out_of_order_results_change_nothing,
    bad_result_webhooks_get_clear_4xx,
    a_worker_killed_between_claim_and_send_resends_the_same_order,
    partners_are_connected_once_and_tested_in_plain_words,
    the_picker_shows_the_last_good_catalog_when_the_partner_is_down,
    an_add_on_named_twice_is_priced_and_ordered_once,
);

/// 1×1 PNG.
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==";

fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(PNG_B64)
        .unwrap()
}

async fn start_sim(switches: Switches) -> (Sim, String) {
    common::start_partner_sim(switches).await
}

/// A simulator that completes orders only when told to, connected as a partner; returns its id.
async fn connected(app: &TestApp) -> (Sim, i64) {
    common::connected_partner(app, Some(png())).await
}

async fn place(
    app: &TestApp,
    email: &str,
    partner: i64,
    package: &str,
    add_ons: &[&str],
    total: &str,
) -> reqwest::Response {
    let c = app.signed_in(email).await;
    let mut form = vec![
        ("candidate_id", CANDIDATE.to_string()),
        ("partner_id", partner.to_string()),
        ("package_id", package.to_string()),
        ("expected_total", total.to_string()),
    ];
    let keys = ["add_on_ids[0]", "add_on_ids[1]", "add_on_ids[2]"];
    for (k, a) in keys.iter().zip(add_ons) {
        form.push((k, a.to_string()));
    }
    app.call(&c, "place_background_check", &form).await
}

async fn orders(app: &TestApp, email: &str) -> Vec<BackgroundCheck> {
    let c = app.signed_in(email).await;
    let res = app
        .call(
            &c,
            "background_checks",
            &[("candidate_id", CANDIDATE.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn place_standard_with_drugs(app: &TestApp, partner: i64) -> i64 {
    let res = place(app, RECRUITER, partner, "PKG002", &["DRG02"], "89.98").await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    res.json().await.unwrap()
}

async fn order_job_id(app: &TestApp) -> i64 {
    db::jobs::for_subject(&app.db, &format!("candidate:{CANDIDATE}"))
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == db::background::ORDER_JOB)
        .expect("order job")
        .id
}

async fn order_failed_and_result_events(app: &TestApp) -> Vec<AuditEventType> {
    audit_types(app, CANDIDATE)
        .await
        .into_iter()
        .filter(|t| t.as_str().starts_with("order_"))
        .collect()
}

async fn order_is_sent_exactly_per_contract_and_the_result_lands_on_the_profile(app: TestApp) {
    let (sim, partner) = connected(&app).await;
    // The recruiter sees the seed's catalog with exact prices.
    let r = app.signed_in(RECRUITER).await;
    let res = app
        .call(
            &r,
            "get_catalog",
            &[
                ("partner_id", partner.to_string()),
                ("refresh", "false".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let view: CatalogView = res.json().await.unwrap();
    let catalog = view.catalog.expect("catalog");
    assert_eq!(catalog.packages.len(), 3);
    assert_eq!(catalog.packages[1].price.as_deref(), Some("49.99"));
    // A security reviewer may not order; a stale total is refused with the new one.
    let res = place(
        &app,
        "security@clearance.test",
        partner,
        "PKG002",
        &[],
        "49.99",
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = place(&app, RECRUITER, partner, "PKG002", &["DRG02"], "79.98").await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("$89.98"));

    place_standard_with_drugs(&app, partner).await;
    let placed = &orders(&app, RECRUITER).await[0];
    assert_eq!(placed.status.as_str(), "queued");
    assert_eq!(placed.total.as_deref(), Some("89.98"));
    app.run_jobs().await;

    let at_partner = sim.orders();
    assert_eq!(at_partner.len(), 1);
    let o = &at_partner[0].order;
    let candidate = db::candidates::find_candidate(&app.db, CANDIDATE)
        .await
        .unwrap()
        .unwrap();
    let app_row = &db::candidates::applications_of(&app.db, CANDIDATE)
        .await
        .unwrap()[0];
    let hm = db::users::find_by_id(&app.db, app_row.hiring_manager_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.account_id, ACCOUNT);
    assert_eq!(o.package_id, "PKG002");
    assert_eq!(o.add_on_package_ids, vec!["DRG02".to_string()]);
    assert_eq!(o.applicant.id, CANDIDATE.to_string());
    assert_eq!(o.applicant.email, candidate.email);
    assert_eq!(o.applicant.zip, candidate.zip);
    assert_eq!(o.hiring_manager.email, hm.email);
    assert_eq!(o.hiring_manager_user_id, hm.id.to_string());
    assert_eq!(o.hiring_manager.id, hm.id.to_string());
    assert_eq!(o.job.id, app_row.job_id.to_string());
    assert_eq!(o.background_check_id, placed.background_check_id);
    assert!(o
        .webhook_url
        .starts_with(&format!("{}/webhooks/background-checks/", app.address)));
    assert_eq!(
        orders(&app, RECRUITER).await[0].status.as_str(),
        "submitted"
    );
    // The webhook token is the order's secret: the partner got it, the job queue holds it sealed.
    let token = o.webhook_url.rsplit('/').next().unwrap();
    assert!(token.len() >= 64);
    let job = db::jobs::find(&app.db, order_job_id(&app).await)
        .await
        .unwrap()
        .unwrap();
    assert!(!job.payload.contains(token), "{}", job.payload);

    assert_eq!(
        sim.complete(&o.background_check_id, "complete", Some("Pass"))
            .await
            .unwrap(),
        200
    );
    let done = &orders(&app, RECRUITER).await[0];
    assert_eq!(done.status.as_str(), "complete");
    assert_eq!(done.status_label, "Complete");
    assert_eq!(done.result.as_deref(), Some("Pass"));
    assert!(done
        .result_link_url
        .as_deref()
        .unwrap()
        .ends_with(&format!("/results/{}", o.background_check_id)));
    assert_eq!(done.ordered_by.as_deref(), Some("Riley Recruiter"));
    assert_eq!(
        order_failed_and_result_events(&app).await,
        vec![
            AuditEventType::OrderPlaced,
            AuditEventType::OrderSubmitted,
            AuditEventType::OrderResultReceived
        ]
    );
    // The hiring manager sees that the check exists and its status, nothing more.
    let seen = &orders(&app, "manager@clearance.test").await[0];
    assert_eq!(seen.status.as_str(), "complete");
    assert_eq!(seen.result, None);
    assert_eq!(seen.result_link_url, None);
    assert_eq!(seen.total, None);
    // Another manager cannot see the candidate at all.
    let c = app.signed_in("manager2@clearance.test").await;
    let res = app
        .call(
            &c,
            "background_checks",
            &[("candidate_id", CANDIDATE.to_string())],
        )
        .await;
    assert_eq!(res.status(), 404);

    // A newer order supersedes the old result visibly.
    place(&app, RECRUITER, partner, "PKG001", &[], "29.99").await;
    let list = orders(&app, RECRUITER).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].package_name, "Basic Package");
    assert!(!list[0].superseded);
    assert!(list[1].superseded);
}

async fn a_rejection_shows_the_partners_error_message(app: TestApp) {
    let (sim, partner) = connected(&app).await;
    sim.set_switches(Switches {
        reject_all: true,
        auto_complete: false,
        ..Switches::default()
    });
    place_standard_with_drugs(&app, partner).await;
    app.run_jobs().await;
    let o = &orders(&app, RECRUITER).await[0];
    assert_eq!(o.status.as_str(), "rejected");
    assert!(
        o.error_message
            .as_deref()
            .unwrap()
            .contains("address could not be validated"),
        "{o:?}"
    );
    assert!(sim.orders().is_empty());
    // Final at once: one attempt, no retries.
    let job = db::jobs::find(&app.db, order_job_id(&app).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("dead", 1));
    assert_eq!(
        order_failed_and_result_events(&app).await,
        vec![AuditEventType::OrderPlaced, AuditEventType::OrderFailed]
    );
}

async fn server_errors_are_retried_and_the_partner_gets_one_order(app: TestApp) {
    let (sim, partner) = connected(&app).await;
    sim.set_switches(Switches {
        fail_next: 3,
        auto_complete: false,
        ..Switches::default()
    });
    place_standard_with_drugs(&app, partner).await;
    app.run_jobs().await;
    assert_eq!(sim.orders().len(), 1);
    assert_eq!(sim.orders()[0].posts, 1);
    let attempts = db::jobs::attempts_for_subject(&app.db, &format!("candidate:{CANDIDATE}"))
        .await
        .unwrap();
    let statuses: Vec<_> = attempts.iter().map(|a| a.http_status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(500), None]);
    assert_eq!(attempts[3].outcome, "delivered");
    assert_eq!(
        orders(&app, RECRUITER).await[0].status.as_str(),
        "submitted"
    );
}

async fn a_partner_down_for_the_whole_schedule_dead_letters_then_replay_delivers_once(
    app: TestApp,
) {
    let (sim, partner) = connected(&app).await;
    // The recruiter opened the picker while the partner was up; it goes down before the send.
    let r = app.signed_in(RECRUITER).await;
    let res = app
        .call(
            &r,
            "get_catalog",
            &[
                ("partner_id", partner.to_string()),
                ("refresh", "false".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let down = Switches {
        down_until: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        auto_complete: false,
        ..Switches::default()
    };
    sim.set_switches(down);
    place_standard_with_drugs(&app, partner).await;
    app.run_jobs().await;
    let o = &orders(&app, RECRUITER).await[0];
    assert_eq!(o.status.as_str(), "dead_lettered");
    assert!(o.error_message.as_deref().unwrap().contains("down"));
    let job = order_job_id(&app).await;
    assert_eq!(
        db::jobs::find(&app.db, job)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        app.state.config.delivery_max_attempts
    );
    assert!(order_failed_and_result_events(&app)
        .await
        .contains(&AuditEventType::OrderDeadLettered));

    // The admin replays it once the partner is back; the same background_check_id arrives once.
    sim.set_switches(Switches {
        auto_complete: false,
        ..Switches::default()
    });
    let admin = app.signed_in(ADMIN).await;
    let res = app
        .call(&admin, "replay_delivery", &[("job_id", job.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(orders(&app, RECRUITER).await[0].status.as_str(), "queued");
    app.run_jobs().await;
    let after = &orders(&app, RECRUITER).await[0];
    assert_eq!(after.status.as_str(), "submitted");
    assert_eq!(sim.orders().len(), 1);
    assert_eq!(
        sim.orders()[0].order.background_check_id,
        after.background_check_id
    );
    assert_eq!(sim.orders()[0].posts, 1);
}

async fn an_add_on_named_twice_is_priced_and_ordered_once(app: TestApp) {
    let (sim, partner) = connected(&app).await;
    // Standard 49.99 + Basic Drug 29.99 + Comprehensive Drug 39.99, each once.
    let res = place(
        &app,
        RECRUITER,
        partner,
        "PKG002",
        &["DRG01", "DRG02", "DRG01"],
        "119.97",
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let placed = &orders(&app, RECRUITER).await[0];
    assert_eq!(placed.total.as_deref(), Some("119.97"));
    assert_eq!(placed.add_ons.len(), 2);
    app.run_jobs().await;
    let at_partner = sim.orders();
    assert_eq!(
        at_partner[0].order.add_on_package_ids,
        vec!["DRG01".to_string(), "DRG02".to_string()]
    );
}

async fn post_result(app: &TestApp, url: &str, body: serde_json::Value) -> (u16, String) {
    let _ = app;
    let res = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn submitted_order(app: &TestApp) -> (Sim, String, String) {
    let (sim, partner) = connected(app).await;
    place_standard_with_drugs(app, partner).await;
    app.run_jobs().await;
    let o = sim.orders()[0].order.clone();
    (sim, o.webhook_url, o.background_check_id)
}

async fn duplicate_and_out_of_order_results_change_nothing(app: TestApp) {
    let (_sim, url, id) = submitted_order(&app).await;
    let done = serde_json::json!({"background_check_id": id, "status": "complete", "result": "Pass",
                                  "result_link_url": "https://partner.example/r/1"});
    assert_eq!(post_result(&app, &url, done.clone()).await.0, 200);
    let (code, body) = post_result(&app, &url, done).await;
    assert_eq!(code, 200);
    assert!(body.contains("duplicate"), "{body}");
    // An in-progress update that arrives late does not undo the result.
    let late = serde_json::json!({"background_check_id": id, "status": "in_progress", "result": null,
                                  "result_link_url": null});
    let (code, body) = post_result(&app, &url, late).await;
    assert_eq!(code, 200);
    assert!(body.contains("stale"), "{body}");
    let o = &orders(&app, RECRUITER).await[0];
    assert_eq!(
        (o.status.as_str(), o.result.as_deref()),
        ("complete", Some("Pass"))
    );
    let results = order_failed_and_result_events(&app)
        .await
        .into_iter()
        .filter(|t| *t == AuditEventType::OrderResultReceived)
        .count();
    assert_eq!(results, 1);
    let counts = db::background::update_counts(&app.db, o.id).await.unwrap();
    assert_eq!(
        counts,
        vec![
            ("applied".to_string(), 1),
            ("duplicate".to_string(), 1),
            ("stale".to_string(), 1)
        ]
    );
    // A partner's own status and result words are kept verbatim.
    let odd = serde_json::json!({"background_check_id": id, "status": "complete", "result": "Consider",
                                 "result_link_url": "javascript:alert(1)"});
    assert_eq!(post_result(&app, &url, odd).await.0, 200);
    let o = &orders(&app, RECRUITER).await[0];
    assert_eq!(o.result.as_deref(), Some("Consider"));
    assert_eq!(o.result_link_url, None, "only web links are shown");
}

async fn bad_result_webhooks_get_clear_4xx(app: TestApp) {
    let (_sim, url, id) = submitted_order(&app).await;
    let good = serde_json::json!({"background_check_id": id, "status": "complete", "result": "Pass",
                                  "result_link_url": null});
    // Wrong token (right shape), nonsense token, wrong id: 404.
    let wrong = format!(
        "{}/webhooks/background-checks/{}",
        app.address,
        "ab".repeat(32)
    );
    assert_eq!(post_result(&app, &wrong, good.clone()).await.0, 404);
    let nonsense = format!("{}/webhooks/background-checks/x'--", app.address);
    assert_eq!(post_result(&app, &nonsense, good.clone()).await.0, 404);
    let other_id = serde_json::json!({"background_check_id": "bgc_other", "status": "complete"});
    assert_eq!(post_result(&app, &url, other_id).await.0, 404);
    // Malformed bodies: 400 with a reason.
    let client = reqwest::Client::new();
    let res = client.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("not a background-check update"));
    let (code, body) = post_result(
        &app,
        &url,
        serde_json::json!({"background_check_id": id, "status": 5}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(body.contains("'status' must be text"), "{body}");
    let (code, body) = post_result(
        &app,
        &url,
        serde_json::json!({"background_check_id": id, "status": ""}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(body.contains("'status' is required"), "{body}");
    // Oversized: 413 before anything is read.
    let big = "x".repeat(100 * 1024);
    let res = client.post(&url).body(big).send().await.unwrap();
    assert_eq!(res.status(), 413);
    // None of this changed the order.
    assert_eq!(
        orders(&app, RECRUITER).await[0].status.as_str(),
        "submitted"
    );
    assert_eq!(post_result(&app, &url, good).await.0, 200);
}

async fn a_worker_killed_between_claim_and_send_resends_the_same_order(app: TestApp) {
    let (sim, partner) = connected(&app).await;
    place_standard_with_drugs(&app, partner).await;
    // A worker claims the job and dies before sending: its lease runs out.
    let expired = chrono::Duration::seconds(-1);
    let claimed = db::jobs::claim(&app.db, chrono::Utc::now(), expired)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(claimed.kind, db::background::ORDER_JOB);
    assert!(sim.orders().is_empty());
    app.run_jobs().await;
    let o = &orders(&app, RECRUITER).await[0];
    assert_eq!(o.status.as_str(), "submitted");
    assert_eq!(sim.orders().len(), 1);
    assert_eq!(
        sim.orders()[0].order.background_check_id,
        o.background_check_id
    );

    // A worker that sent but died before recording the 201 sends again: same id, one order.
    place(&app, RECRUITER, partner, "PKG001", &[], "29.99").await;
    let job = db::jobs::claim(&app.db, chrono::Utc::now(), expired)
        .await
        .unwrap()
        .expect("claimed");
    let spec: clearance::server::services::background::OrderJob =
        serde_json::from_str(&job.payload).unwrap();
    let sent = reqwest::Client::new()
        .post(
            db::background::find_partner(&app.db, partner)
                .await
                .unwrap()
                .unwrap()
                .orders_url,
        )
        .basic_auth(ACCOUNT, Some(SECRET))
        .json(
            &clearance::server::services::background::order_body(&app.state.config, &spec).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    app.run_jobs().await;
    let second = sim
        .orders()
        .into_iter()
        .find(|s| s.order.background_check_id == spec.body.background_check_id)
        .unwrap();
    assert_eq!(sim.orders().len(), 2);
    assert_eq!(
        second.posts, 2,
        "sent again with the same background_check_id"
    );
    assert_eq!(
        orders(&app, RECRUITER).await[0].status.as_str(),
        "submitted"
    );
}

async fn partners_are_connected_once_and_tested_in_plain_words(app: TestApp) {
    let (_sim, url) = start_sim(Switches::default()).await;
    let admin = app.signed_in(ADMIN).await;
    let form = |name: &str, secret: &str, logo: &str| {
        vec![
            ("name", name.to_string()),
            ("catalog_url", format!("{url}/catalog")),
            ("orders_url", format!("{url}/orders")),
            ("account_id", ACCOUNT.to_string()),
            ("api_secret", secret.to_string()),
            ("logo_base64", logo.to_string()),
        ]
    };
    // A recruiter may not connect partners; a GIF is not a PNG.
    let r = app.signed_in(RECRUITER).await;
    let res = app
        .call(&r, "add_partner", &form("Acme", SECRET, PNG_B64))
        .await;
    assert_eq!(res.status(), 403);
    let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a\x01\x00\x01\x00");
    let res = app
        .call(&admin, "add_partner", &form("Acme", SECRET, &gif))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("not a PNG"));

    let res = app
        .call(&admin, "add_partner", &form("Acme", SECRET, PNG_B64))
        .await;
    assert_eq!(res.status(), 200);
    let good: i64 = res.json().await.unwrap();
    let res = app
        .call(&admin, "add_partner", &form("Acme", SECRET, PNG_B64))
        .await;
    assert_eq!(res.status(), 409, "names are unique");
    let res = app
        .call(&admin, "add_partner", &form("Wrong secret", "nope", ""))
        .await;
    let bad_secret: i64 = res.json().await.unwrap();

    // The secret never comes back; the logo is served as a PNG.
    let listed = app
        .call(&admin, "list_partners", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("Acme") && !listed.contains(SECRET),
        "{listed}"
    );
    let logo = admin
        .get(format!("{}/partner-logos/{good}.png", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().to_vec(), png());

    let test = |id: i64| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let res = app
                .call(
                    &admin,
                    "test_partner_connection",
                    &[("partner_id", id.to_string())],
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<ConnectionTest>().await.unwrap()
        }
    };
    let ok = test(good).await;
    assert!(
        ok.ok && ok.message.contains("3 package(s) and 2 add-on(s)"),
        "{ok:?}"
    );
    let refused = test(bad_secret).await;
    assert!(
        !refused.ok && refused.message.contains("refused our credentials"),
        "{refused:?}"
    );

    // Unreachable, and garbage with a bad price.
    let garbage = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let garbage_url = format!("http://{}", garbage.local_addr().unwrap());
    let router = axum::Router::new()
        .route(
            "/bad-price",
            axum::routing::get(|| async {
                r#"{"packages":[{"id":"PKG1","name":"X","price":"about ten"}]}"#
            }),
        )
        .route(
            "/not-json",
            axum::routing::get(|| async { "<html>hi</html>" }),
        );
    tokio::spawn(async move { axum::serve(garbage, router).await.unwrap() });
    for (name, catalog_url, expected) in [
        (
            "Gone",
            "http://127.0.0.1:9/catalog".to_string(),
            "unreachable",
        ),
        (
            "Bad price",
            format!("{garbage_url}/bad-price"),
            "price 'about ten' is not a decimal amount",
        ),
        (
            "Not JSON",
            format!("{garbage_url}/not-json"),
            "not valid JSON",
        ),
        (
            "Missing",
            format!("{garbage_url}/nothing-here"),
            "not found (404)",
        ),
    ] {
        let mut f = form(name, SECRET, "");
        f[1].1 = catalog_url;
        let id: i64 = app
            .call(&admin, "add_partner", &f)
            .await
            .json()
            .await
            .unwrap();
        let t = test(id).await;
        assert!(!t.ok && t.message.contains(expected), "{name}: {t:?}");
    }
}

async fn the_picker_shows_the_last_good_catalog_when_the_partner_is_down(app: TestApp) {
    let (sim, partner) = connected(&app).await;
    let r = app.signed_in(RECRUITER).await;
    let get = |refresh: bool| {
        let r = r.clone();
        let app = &app;
        async move {
            let res = app
                .call(
                    &r,
                    "get_catalog",
                    &[
                        ("partner_id", partner.to_string()),
                        ("refresh", refresh.to_string()),
                    ],
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<CatalogView>().await.unwrap()
        }
    };
    let first = get(false).await;
    assert!(first.catalog.is_some() && first.error.is_none());
    sim.set_switches(Switches {
        down_until: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..Switches::default()
    });
    // Within the TTL the cache answers; a refresh finds the partner down and keeps the last good one.
    assert!(get(false).await.error.is_none());
    let down = get(true).await;
    assert!(down.error.as_deref().unwrap().contains("503"), "{down:?}");
    assert_eq!(down.catalog, first.catalog);
    assert_eq!(down.fetched_at, first.fetched_at);
    // The partner's own words reach admins (as a short excerpt), not recruiters.
    assert!(
        !down.error.as_deref().unwrap().contains("The partner said"),
        "{down:?}"
    );
    let admin = app.signed_in("admin@clearance.test").await;
    let res = app
        .call(
            &admin,
            "get_catalog",
            &[
                ("partner_id", partner.to_string()),
                ("refresh", "true".into()),
            ],
        )
        .await;
    let as_admin: CatalogView = res.json().await.unwrap();
    assert!(
        as_admin
            .error
            .as_deref()
            .unwrap()
            .contains("The partner said"),
        "{as_admin:?}"
    );
}

/// Orders the partner accepted but never answered are flagged for admins (profile and Drift page).
async fn silent_orders_are_flagged_stale(backend: common::Backend) {
    let app = common::spawn_app_with(backend, |c| {
        c.order_stale_after = chrono::Duration::milliseconds(1)
    })
    .await;
    let (_sim, partner) = connected(&app).await;
    place_standard_with_drugs(&app, partner).await;
    let queued = &orders(&app, RECRUITER).await[0];
    assert!(!queued.stale, "not stale before the partner accepted it");
    app.run_jobs().await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let o = &orders(&app, RECRUITER).await[0];
    assert_eq!(o.status.as_str(), "submitted");
    assert!(o.stale);
    let admin = app.signed_in(ADMIN).await;
    let report: clearance::model::DriftReport = app
        .call(&admin, "drift_report", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report.stale_orders.len(), 1);
    assert_eq!(
        report.stale_orders[0].background_check_id,
        o.background_check_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_orders_are_flagged_stale_on_sqlite() {
    common::within_deadline(
        "silent_orders_are_flagged_stale on Sqlite",
        silent_orders_are_flagged_stale(common::Backend::Sqlite),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_orders_are_flagged_stale_on_postgres() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline(
        "silent_orders_are_flagged_stale on Postgres",
        silent_orders_are_flagged_stale(common::Backend::Postgres),
    )
    .await;
}

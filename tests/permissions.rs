//! SPEC §2 walked end to end: every server function and every non-webhook route, as each role and
//! signed out, against a candidate on another manager's job (and one on the manager's own job);
//! status codes as the table says, and no check result in any body a hiring manager receives.
mod common;

use clearance::server::db::Db;
use common::TestApp;

on_both_backends!(every_server_function_and_route_follows_the_permission_table);

const ROLES: [&str; 4] = [
    "admin@clearance.test",
    "recruiter@clearance.test",
    "security@clearance.test",
    "manager@clearance.test",
];
/// Candidate 3 is on "Data Analyst" (manager2); candidate 1 on "Senior Backend Engineer" (manager).
const OTHER: i64 = 3;
const OWN: i64 = 1;
/// Texts that only check results carry: none may reach a hiring manager or a stranger.
const LEAKS: [&str; 8] = [
    "evidence-LEAK",
    "leak_reason_code",
    "RESULT-LEAK",
    "result-LEAK",
    "SUMMARY-LEAK",
    "\"risk_tier\":\"high\"",
    "\"integrity_score\":37",
    "\"score\":37",
];

async fn exec(app: &TestApp, sql: &str) {
    common::exec_at_now(&app.db, sql).await;
}

/// Gives a candidate every kind of check result, each with a recognisable text.
async fn with_check_results(app: &TestApp, id: i64, job: i64) {
    exec(app, &format!("UPDATE candidates SET verification_status = 'needs_review', verification_risk_tier = 'high',
        verification_session_id = 'vs_walk_{id}', integrity_score = 37, integrity_flagged = TRUE WHERE id = {id}")).await;
    exec(app, &format!("INSERT INTO verification_sessions (session_id, candidate_id, status, risk_tier, reason_codes, evidence_pack_url, created_at, updated_at)
        VALUES ('vs_walk_{id}', {id}, 'needs_review', 'high', '[\"leak_reason_code\"]', 'https://provider.example/evidence-LEAK/{id}', $1, $1)")).await;
    exec(app, &format!("INSERT INTO background_check_orders (background_check_id, webhook_token_sha256, candidate_id, job_id, partner_id,
        package_id, package_name, total, status, result, result_link_url, created_at, updated_at)
        VALUES ('bgc_walk_{id}', 'sha_walk_{id}', {id}, {job}, (SELECT MAX(id) FROM partners), 'PKG', 'Standard', '49.99', 'complete',
                'RESULT-LEAK', 'https://partner.example/result-LEAK', $1, $1)")).await;
    exec(app, &format!("INSERT INTO interviews (candidate_id, stage, scheduled_at, time_zone, interviewers, state, created_at, updated_at)
        VALUES ({id}, 'onsite_or_panel_interview', $1, 'UTC', '[\"i@example.com\"]', 'scheduled', $1, $1)")).await;
    let blob = match app.db {
        Db::Sqlite(_) => "X'25504446'",
        Db::Postgres(_) => "'\\x25504446'::bytea",
    };
    exec(app, &format!("INSERT INTO integrity_reports (webhook_id, interview_ref, interview_id, candidate_id, monitor_session_id, generated_at,
        consent, integrity_score, flags, summary, filename, content_type, content, sha256, received_at)
        VALUES ('msg_walk_{id}', 'iv_{id}', (SELECT MAX(id) FROM interviews WHERE candidate_id = {id}), {id}, 'ms_{id}', $1,
                'given', 37, '[\"tab_switch\"]', 'SUMMARY-LEAK', 'report.pdf', 'application/pdf', {blob}, 'abc', $1)")).await;
}

/// (server function, form, expected status as [admin, recruiter, security reviewer, hiring manager, signed out]).
type Rule = (&'static str, Vec<(&'static str, String)>, [u16; 5]);

fn rules() -> Vec<Rule> {
    let c = OTHER.to_string();
    let app_of_other = "3".to_string(); // demo application ids follow candidate ids
    let s = |v: &str| v.to_string();
    vec![
        ("current_user", vec![], [200, 200, 200, 200, 200]),
        (
            "login",
            vec![("email", s("not an email")), ("password", s("x"))],
            [400, 400, 400, 400, 400],
        ),
        ("list_jobs", vec![], [200, 200, 200, 200, 401]),
        ("list_candidates", vec![], [200, 200, 200, 200, 401]),
        (
            "list_candidates",
            vec![("risk", s("high"))],
            [200, 200, 200, 200, 401],
        ),
        (
            "get_candidate",
            vec![("id", c.clone())],
            [200, 200, 200, 404, 401],
        ),
        (
            "verification_panel",
            vec![("candidate_id", c.clone())],
            [200, 200, 200, 404, 401],
        ),
        (
            "background_checks",
            vec![("candidate_id", c.clone())],
            [200, 200, 200, 404, 401],
        ),
        (
            "candidate_interviews",
            vec![("candidate_id", c.clone())],
            [200, 200, 200, 404, 401],
        ),
        (
            "stage_exceptions",
            vec![("candidate_id", c.clone())],
            [200, 200, 200, 404, 401],
        ),
        (
            "candidate_timeline",
            vec![("candidate_id", c.clone())],
            [200, 200, 200, 403, 401],
        ),
        (
            "evidence_pack",
            vec![("session_id", format!("vs_walk_{OTHER}"))],
            [200, 200, 200, 404, 401],
        ),
        (
            "support_view",
            vec![("candidate_id", c.clone())],
            [200, 403, 200, 403, 401],
        ),
        (
            "move_stage",
            vec![
                ("application_id", app_of_other.clone()),
                ("stage", s("onsite_or_panel_interview")),
            ],
            [400, 400, 403, 403, 401],
        ),
        (
            "send_verification",
            vec![("candidate_id", c.clone())],
            [409, 409, 409, 403, 401],
        ),
        (
            "preview_bulk",
            vec![
                ("action", s("send_verification")),
                ("rows[0]", app_of_other.clone()),
            ],
            [200, 200, 200, 403, 401],
        ),
        (
            "start_bulk",
            vec![
                ("request_key", s("walk")),
                ("action", s("send_verification")),
                ("rows[0]", app_of_other.clone()),
            ],
            [200, 200, 200, 403, 401],
        ),
        // Bulk job 1 is the admin's (just started): anyone who may take its action sees it; only
        // its starter or an admin stops it (the admin does here, so it is not running after).
        ("bulk_job", vec![("id", s("1"))], [200, 200, 200, 403, 401]),
        (
            "cancel_bulk",
            vec![("id", s("1"))],
            [200, 403, 403, 403, 401],
        ),
        (
            "reconcile_candidate",
            vec![("candidate_id", c.clone())],
            [200, 403, 200, 403, 401],
        ),
        (
            "place_background_check",
            vec![
                ("candidate_id", c.clone()),
                ("partner_id", s("999")),
                ("package_id", s("PKG")),
                ("expected_total", s("1.00")),
            ],
            [404, 404, 403, 403, 401],
        ),
        (
            "get_catalog",
            vec![("partner_id", s("999")), ("refresh", s("false"))],
            [404, 404, 403, 403, 401],
        ),
        (
            "schedule_interview",
            vec![
                ("candidate_id", c.clone()),
                ("stage", s("offer")),
                ("local_time", s("never")),
                ("time_zone", s("UTC")),
                ("interviewers", s("i@example.com")),
            ],
            [400, 400, 403, 403, 401],
        ),
        (
            "reschedule_interview",
            vec![
                ("interview_id", s("999999")),
                ("local_time", s("never")),
                ("time_zone", s("UTC")),
            ],
            [404, 404, 403, 403, 401],
        ),
        (
            "cancel_interview",
            vec![("interview_id", s("999999"))],
            [404, 404, 403, 403, 401],
        ),
        (
            "delete_candidate",
            vec![
                ("candidate_id", c.clone()),
                ("confirm_email", s("wrong@example.com")),
            ],
            [400, 403, 403, 403, 401],
        ),
        (
            "grant_exception",
            vec![
                ("candidate_id", c.clone()),
                ("stage", s("offer")),
                ("reason_code", s("exception_verification_scheduled")),
                ("hours", s("0")),
            ],
            [403, 403, 400, 403, 401],
        ),
        // Recruiters pick a partner when ordering: names and URLs, never secrets.
        ("list_partners", vec![], [200, 200, 403, 403, 401]),
        (
            "add_partner",
            vec![
                ("name", s("")),
                ("catalog_url", s("x")),
                ("orders_url", s("x")),
                ("account_id", s("")),
                ("api_secret", s("")),
            ],
            [400, 403, 403, 403, 401],
        ),
        (
            "test_partner_connection",
            vec![("partner_id", s("999"))],
            [404, 403, 403, 403, 401],
        ),
        ("list_deliveries", vec![], [200, 403, 403, 403, 401]),
        (
            "replay_delivery",
            vec![("job_id", s("999999"))],
            [409, 403, 403, 403, 401],
        ),
        ("monitor_status", vec![], [200, 403, 403, 403, 401]),
        (
            "connect_monitor",
            vec![
                ("url", s("x")),
                ("api_key", s("")),
                ("webhook_secret", s("")),
            ],
            [400, 403, 403, 403, 401],
        ),
        ("test_monitor", vec![], [200, 403, 403, 403, 401]),
        ("list_policies", vec![], [200, 403, 403, 403, 401]),
        (
            "policy_versions",
            vec![("name", s("ats-embedded-verification-status"))],
            [200, 403, 403, 403, 401],
        ),
        (
            "check_policy",
            vec![("name", s("p")), ("yaml", s("not: [valid"))],
            [200, 403, 403, 403, 401],
        ),
        // An invalid text is answered with its problems, not saved.
        (
            "save_policy",
            vec![("name", s("p")), ("yaml", s("not: [valid"))],
            [200, 403, 403, 403, 401],
        ),
        ("run_reconciliation", vec![], [200, 403, 200, 403, 401]),
        ("drift_report", vec![], [200, 403, 200, 403, 401]),
        ("review_queue", vec![], [403, 403, 200, 403, 401]),
        (
            "claim_review",
            vec![("item_id", s("999999"))],
            [403, 403, 404, 403, 401],
        ),
        (
            "release_review",
            vec![("item_id", s("999999"))],
            [403, 403, 404, 403, 401],
        ),
        (
            "decide_review",
            vec![
                ("item_id", s("999999")),
                ("outcome", s("verified")),
                ("reason_code", s("x")),
                ("rationale", s("y")),
            ],
            [403, 403, 400, 403, 401],
        ),
        (
            "approve_override",
            vec![("item_id", s("999999"))],
            [403, 403, 404, 403, 401],
        ),
        (
            "reassign_review",
            vec![("item_id", s("999999")), ("reviewer_id", s("1"))],
            [403, 403, 404, 403, 401],
        ),
        ("reason_codes", vec![], [200, 403, 200, 403, 401]),
        (
            "add_reason_code",
            vec![("code", s("")), ("label", s(""))],
            [400, 403, 403, 403, 401],
        ),
        ("verify_audit_chain", vec![], [200, 403, 200, 403, 401]),
        ("recent_audit", vec![], [200, 403, 200, 403, 401]),
        ("latest_checkpoint", vec![], [200, 403, 200, 403, 401]),
        (
            "export_count",
            vec![("from", s("2026-01-01")), ("to", s("2026-01-02"))],
            [200, 403, 200, 403, 401],
        ),
        // Adverse action: admins and recruiters act, security reviewers read, hiring managers
        // see "On hold" of their own candidates only; settings and templates are the admin's.
        (
            "get_adverse_actions",
            vec![("candidate_id", c.clone())],
            [200, 200, 200, 404, 401],
        ),
        (
            "start_adverse_action",
            // The walk's order came back "RESULT-LEAK": not a Consider or Fail.
            vec![("order_id", s("2"))],
            [400, 400, 403, 403, 401],
        ),
        (
            "record_adverse_assessment",
            vec![
                ("action_id", s("999")),
                ("findings", s("f")),
                ("offense_gravity", s("g")),
                ("time_elapsed", s("t")),
                ("job_nature", s("j")),
                ("rationale", s("r")),
            ],
            [404, 404, 403, 403, 401],
        ),
        (
            "send_pre_adverse_notice",
            vec![("action_id", s("999"))],
            [404, 404, 403, 403, 401],
        ),
        (
            "record_candidate_response",
            vec![("action_id", s("999")), ("note", s("n"))],
            [404, 404, 403, 403, 401],
        ),
        (
            "resume_adverse_action",
            vec![("action_id", s("999"))],
            [404, 404, 403, 403, 401],
        ),
        (
            "cancel_adverse_action",
            vec![("action_id", s("999")), ("reason", s("r"))],
            [404, 404, 403, 403, 401],
        ),
        (
            "send_final_adverse_notice",
            vec![("action_id", s("999"))],
            [404, 404, 403, 403, 401],
        ),
        ("notice_templates", vec![], [200, 403, 403, 403, 401]),
        (
            "save_notice_template",
            vec![("kind", s("final")), ("subject", s("")), ("body", s(""))],
            [400, 403, 403, 403, 401],
        ),
        ("adverse_job_settings", vec![], [200, 403, 403, 403, 401]),
        (
            "save_adverse_job_settings",
            vec![("job_id", s("999")), ("days", s("7"))],
            [404, 403, 403, 403, 401],
        ),
        (
            "save_partner_contact",
            vec![
                ("partner_id", s("999")),
                ("address", s("a")),
                ("phone", s("p")),
            ],
            [404, 403, 403, 403, 401],
        ),
        // Badge integrations: the admin's (Settings page).
        ("list_integrations", vec![], [200, 403, 403, 403, 401]),
        (
            "create_integration",
            vec![("name", s("")), ("origins", s("")), ("token_hours", s("1"))],
            [400, 403, 403, 403, 401],
        ),
        (
            "revoke_integration",
            vec![("id", s("999"))],
            [404, 403, 403, 403, 401],
        ),
        (
            "rotate_integration",
            vec![("id", s("999"))],
            [404, 403, 403, 403, 401],
        ),
        // Alerts to Support: the admin's (Settings page).
        ("alert_settings", vec![], [200, 403, 403, 403, 401]),
        (
            "save_alert_settings",
            vec![("drift_threshold", s("0"))],
            [400, 403, 403, 403, 401],
        ),
        // No destination is set up in the walk: the admin is told so.
        ("send_test_alert", vec![], [409, 403, 403, 403, 401]),
        ("recent_alerts", vec![], [200, 403, 403, 403, 401]),
        // Insights: risk tiers in aggregate, not for hiring managers.
        ("get_insights", vec![], [200, 200, 200, 403, 401]),
        ("logout", vec![], [200, 200, 200, 200, 200]),
    ]
}

fn leaks(body: &str) -> Vec<&'static str> {
    LEAKS.iter().copied().filter(|l| body.contains(l)).collect()
}

async fn every_server_function_and_route_follows_the_permission_table(app: TestApp) {
    exec(&app, "INSERT INTO partners (name, catalog_url, orders_url, account_id, api_secret, created_at, updated_at)
                VALUES ('Walk', 'https://p.example/c', 'https://p.example/o', 'A', 'x', $1, $1)").await;
    with_check_results(&app, OWN, 1).await;
    with_check_results(&app, OTHER, 3).await;
    let mut clients = Vec::new();
    for email in ROLES {
        clients.push(Some(app.signed_in(email).await));
    }
    clients.push(None);

    // Every registered server function has a rule: a new one without a rule fails here.
    let rules = rules();
    let registered: std::collections::BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    let covered: std::collections::BTreeSet<String> =
        rules.iter().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(
        registered, covered,
        "server functions without a permission rule (or rules without a function)"
    );

    let mut failures = Vec::new();
    for (name, form, expected) in &rules {
        for (i, want) in expected.iter().enumerate() {
            // A fresh session per call for the state-changing ones (logout ends it).
            let client = match (&clients[i], *name) {
                (Some(_), "logout") => app.signed_in(ROLES[i]).await,
                (Some(c), _) => c.clone(),
                (None, _) => app.client(),
            };
            let res = app.call(&client, name, form).await;
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            let who = ROLES.get(i).copied().unwrap_or("signed out");
            if status != *want {
                failures.push(format!(
                    "{name} as {who}: {status}, expected {want}: {}",
                    &body[..body.len().min(160)]
                ));
            }
            if i >= 3 && !leaks(&body).is_empty() {
                failures.push(format!("{name} as {who} leaks {:?}", leaks(&body)));
            }
        }
    }
    // The manager's own candidate: visible, yet without check results anywhere.
    let manager = clients[3].clone().unwrap();
    for (name, key) in [
        ("get_candidate", "id"),
        ("verification_panel", "candidate_id"),
        ("background_checks", "candidate_id"),
        ("candidate_interviews", "candidate_id"),
        ("stage_exceptions", "candidate_id"),
    ] {
        let res = app.call(&manager, name, &[(key, OWN.to_string())]).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        if status != 200 || !leaks(&body).is_empty() {
            failures.push(format!(
                "{name} of own candidate as manager: {status}, leaks {:?}",
                leaks(&body)
            ));
        }
    }
    let list = app
        .call(&manager, "list_candidates", &[])
        .await
        .text()
        .await
        .unwrap();
    if !leaks(&list).is_empty() {
        failures.push(format!(
            "list_candidates as manager leaks {:?}",
            leaks(&list)
        ));
    }

    // Plain routes (webhooks excepted: they answer to signatures, not roles), from the router itself.
    let report_id = 2; // the second integrity report: the other manager's candidate
    let today = chrono::Utc::now().date_naive();
    for (path, method, _) in clearance::server::router::machine_routes() {
        // Webhooks answer to signatures and the embed-token API to integration keys, not roles.
        if path.starts_with("/webhooks/") || path.starts_with("/api/v1/") {
            continue;
        }
        assert_eq!(method, http::Method::GET, "{path}");
        let (url, expected): (String, [u16; 5]) = match path {
            "/healthz" | "/readyz" => (path.to_string(), [200; 5]),
            // Metrics answer to the client's address (loopback here), not to a role; what they
            // hold is counts and route templates, which the leak check below reads too.
            "/metrics" => (path.to_string(), [200; 5]),
            // Signed out, a browser is sent to sign in (303) or told nothing exists (404).
            "/integrity-reports/{id}/file" => (
                format!("/integrity-reports/{report_id}/file"),
                [200, 200, 200, 404, 303],
            ),
            "/candidates/{id}/export.zip" => (
                format!("/candidates/{OTHER}/export.zip"),
                [200, 404, 404, 404, 401],
            ),
            "/partner-logos/{file}" => (
                "/partner-logos/1.png".to_string(),
                [404, 404, 404, 404, 401],
            ),
            "/audit/export" => (
                format!(
                    "/audit/export?from={}&to={today}",
                    today.pred_opt().unwrap()
                ),
                [200, 403, 200, 403, 303],
            ),
            "/evidence/{session_id}/pack.json" => (
                format!("/evidence/vs_walk_{OTHER}/pack.json"),
                [200, 200, 200, 404, 404],
            ),
            // No notice or response exists in the walk: the roles that may see one get 404,
            // hiring managers are refused before any lookup.
            // The badge answers to its token, whoever asks.
            "/widget/badge" | "/widget/badge.json" => (format!("{path}?t=not-a-token"), [401; 5]),
            // The widget's loader script is public: the same for everyone (404 to all where
            // the widget is not built).
            "/widget/clearance-badge.js" => {
                let built = clearance::server::widget::widget_assets(&app.state.config.widget_dir)
                    .is_some();
                (path.to_string(), [if built { 200 } else { 404 }; 5])
            }
            // Aggregates only, as the Insights page: not for hiring managers.
            "/insights/export.csv" => (
                "/insights/export.csv?table=funnel".to_string(),
                [200, 200, 200, 403, 401],
            ),
            // "Export selection" of another manager's candidate: a hiring manager has nothing
            // they may see in it (tests/bulk.rs: their own rows are exported).
            "/candidates/selection.csv" => (
                format!("/candidates/selection.csv?rows={OTHER}"),
                [200, 200, 200, 400, 401],
            ),
            // A bulk job's outcomes: for those who may take its action (job 1 is the admin's).
            "/bulk/{id}/results.csv" => {
                ("/bulk/1/results.csv".to_string(), [200, 200, 200, 403, 401])
            }
            // Live updates: a stream for anyone signed in (each event filtered by what its user
            // may see: tests/events.rs); its body never ends, so only the answer is checked.
            "/events" => (path.to_string(), [200, 200, 200, 200, 303]),
            "/adverse-notices/{id}" => (
                "/adverse-notices/999".to_string(),
                [404, 404, 404, 403, 303],
            ),
            "/adverse-responses/{id}/document" => (
                "/adverse-responses/999/document".to_string(),
                [404, 404, 404, 403, 303],
            ),
            other => panic!("route {other} has no rule in this test: add one"),
        };
        for (i, want) in expected.iter().enumerate() {
            let client = clients[i].clone().unwrap_or_else(|| app.client());
            let res = client
                .get(format!("{}{url}", app.address))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = if path == "/events" {
                String::new()
            } else {
                String::from_utf8_lossy(&res.bytes().await.unwrap()).into_owned()
            };
            let who = ROLES.get(i).copied().unwrap_or("signed out");
            if status != *want {
                failures.push(format!("GET {url} as {who}: {status}, expected {want}"));
            }
            if i >= 3 && !leaks(&body).is_empty() {
                failures.push(format!("GET {url} as {who} leaks {:?}", leaks(&body)));
            }
        }
    }

    // Pages, from the app's route list: the manager gets 404 for the other candidate's profile and
    // no check results on any page; signed out, every page but sign-in sends to /login.
    let pages = leptos_axum::generate_route_list(clearance::app::App);
    for route in pages {
        let path = route
            .path()
            .replace(":id", &OTHER.to_string())
            .replace(":session_id", &format!("vs_walk_{OTHER}"));
        let res = manager
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        if path == format!("/candidates/{OTHER}") && status != 404 {
            failures.push(format!("page {path} as manager: {status}, expected 404"));
        }
        if !leaks(&body).is_empty() {
            failures.push(format!("page {path} as manager leaks {:?}", leaks(&body)));
        }
        let anonymous = app
            .client()
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let expected = if path == "/login" { 200 } else { 303 };
        if anonymous.status().as_u16() != expected {
            failures.push(format!(
                "page {path} signed out: {}, expected {expected}",
                anonymous.status()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "SPEC §2 violations:\n{}",
        failures.join("\n")
    );
}

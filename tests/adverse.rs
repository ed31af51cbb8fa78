//! Adverse action end to end over real HTTP: a partner simulator returns "Consider", the recruiter
//! runs the FCRA process from the profile, and the notices arrive at a real SMTP server (the
//! `clearance sim mail` sink) — on SQLite and PostgreSQL.
mod common;

use clearance::model::{
    AdverseActions, AdverseState, AuditEventType, BackgroundCheck, NoticeEmail,
};
use clearance::server::audit::Actor;
use clearance::server::db;
use clearance::server::services::background::{add_partner, PartnerInput};
use clearance::server::sim::mail::{start_smtp, Inbox, Received};
use clearance::server::sim::partner::{Sim, SimConfig, Switches};
use common::{audit_types, exec_at_now, Backend, TestApp};

const RECRUITER: &str = "recruiter@clearance.test";
const ADMIN: &str = "admin@clearance.test";
const SECURITY: &str = "security@clearance.test";
const MANAGER: &str = "manager@clearance.test";
const ACCOUNT: &str = "ACCT123";
const SECRET: &str = "partner-test-secret";
/// Demo candidate 1 applied to "Senior Backend Engineer", managed by manager@.
const CANDIDATE: i64 = 1;

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::within_deadline(stringify!($name), super::$name($crate::common::Backend::Sqlite)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::postgres_base_url().is_none() {
                        eprintln!("SKIPPED {}: TEST_DATABASE_URL is not set, PostgreSQL not tested", stringify!($name));
                        return;
                    }
                    $crate::common::within_deadline(stringify!($name), super::$name($crate::common::Backend::Postgres)).await;
                }
            )*
        }
    };
}

on_both!(
    the_whole_process_with_mail_received_gates_and_audit,
    cancelling_lets_the_candidate_proceed_and_needs_a_reason,
    smtp_down_retries_until_the_server_answers,
    admin_templates_are_versioned_and_checked,
);

/// An SMTP sink on a free port: its inbox and its `smtp://` URL.
fn sink() -> (Inbox, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let inbox = Inbox::default();
    start_smtp(listener, inbox.clone());
    (inbox, url)
}

async fn app_mailing_to(backend: Backend, smtp_url: Option<&str>) -> TestApp {
    let url = smtp_url.map(str::to_string);
    common::spawn_app_with(backend, move |c| {
        // A failed email is retried a minute later, not within this test's run of the queue.
        c.retry_base = std::time::Duration::from_secs(60);
        if let Some(u) = url {
            c.smtp = Some(
                clearance::server::mail::SmtpSettings::new(&u, "Hiring <hiring@clearance.test>")
                    .unwrap(),
            );
        }
        c.employer_name = "Clearance Test Employer".into();
    })
    .await
}

async fn start_partner() -> (Sim, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sim = Sim::new(SimConfig {
        base_url: url.clone(),
        account_id: ACCOUNT.into(),
        secret: SECRET.into(),
        switches: Switches {
            auto_complete: false,
            ..Switches::default()
        },
    });
    let router = sim.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sim, url)
}

/// A placed, submitted order for candidate 1 that came back with `result`; returns its id.
async fn order_with_result(app: &TestApp, result: &str) -> i64 {
    let (sim, url) = start_partner().await;
    let partner = add_partner(
        &app.db,
        &app.state.config,
        Actor::System("test".into()),
        &PartnerInput {
            name: "Acme Screening".into(),
            catalog_url: format!("{url}/catalog"),
            orders_url: format!("{url}/orders"),
            account_id: ACCOUNT.into(),
            api_secret: SECRET.into(),
            logo_png: None,
        },
        false,
    )
    .await
    .unwrap();
    exec_at_now(
        &app.db,
        "UPDATE partners SET address = '1 Screening Way, Springfield', phone = '+1 555 0100'",
    )
    .await;
    let r = app.signed_in(RECRUITER).await;
    let res = app
        .call(
            &r,
            "place_background_check",
            &[
                ("candidate_id", CANDIDATE.to_string()),
                ("partner_id", partner.to_string()),
                ("package_id", "PKG002".into()),
                ("expected_total", "49.99".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    app.run_jobs().await;
    let order = &sim.orders()[0].order;
    assert_eq!(
        sim.complete(&order.background_check_id, "complete", Some(result))
            .await
            .unwrap(),
        200
    );
    let checks: Vec<BackgroundCheck> = app
        .call_ok(
            &r,
            "background_checks",
            &[("candidate_id", CANDIDATE.to_string())],
        )
        .await;
    assert_eq!(checks[0].result.as_deref(), Some(result));
    checks[0].id
}

async fn actions(app: &TestApp, email: &str) -> AdverseActions {
    let c = app.signed_in(email).await;
    app.call_ok(
        &c,
        "get_adverse_actions",
        &[("candidate_id", CANDIDATE.to_string())],
    )
    .await
}

async fn only_action(app: &TestApp) -> clearance::model::AdverseActionView {
    match actions(app, RECRUITER).await {
        AdverseActions::Detailed(mut list) => {
            assert_eq!(list.len(), 1);
            list.remove(0)
        }
        other => panic!("a recruiter sees the details, got {other:?}"),
    }
}

async fn step(
    app: &TestApp,
    email: &str,
    name: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    let c = app.signed_in(email).await;
    app.call(&c, name, form).await
}

fn assessment(action_id: i64) -> Vec<(&'static str, String)> {
    vec![
        ("action_id", action_id.to_string()),
        ("findings", "Misdemeanor theft conviction, 2015".into()),
        ("offense_gravity", "Minor, non-violent".into()),
        ("time_elapsed", "Eleven years".into()),
        ("job_nature", "Handles company credit cards".into()),
        ("rationale", "Directly related to the duties".into()),
    ]
}

async fn move_to(app: &TestApp, stage: &str) -> reqwest::Response {
    let application = db::candidates::applications_of(&app.db, CANDIDATE)
        .await
        .unwrap()[0]
        .id;
    step(
        app,
        RECRUITER,
        "move_stage",
        &[
            ("application_id", application.to_string()),
            ("stage", stage.into()),
        ],
    )
    .await
}

async fn wait_for_mail(inbox: &Inbox, count: usize) -> Vec<Received> {
    for _ in 0..100 {
        let got = inbox.messages();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected {count} messages, got {:?}", inbox.messages());
}

async fn the_whole_process_with_mail_received_gates_and_audit(backend: Backend) {
    let (inbox, smtp) = sink();
    let app = app_mailing_to(backend, Some(&smtp)).await;
    let order = order_with_result(&app, "Consider").await;
    let id_form = |id: i64| vec![("action_id", id.to_string())];

    // Security reviewers and hiring managers may not start it; a recruiter may, once.
    for who in [SECURITY, MANAGER] {
        let res = step(
            &app,
            who,
            "start_adverse_action",
            &[("order_id", order.to_string())],
        )
        .await;
        assert_eq!(res.status(), 403, "{who}");
    }
    let res = step(
        &app,
        RECRUITER,
        "start_adverse_action",
        &[("order_id", order.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let again = step(
        &app,
        ADMIN,
        "start_adverse_action",
        &[("order_id", order.to_string())],
    )
    .await;
    assert_eq!(again.status(), 409);
    let action = only_action(&app).await;
    assert_eq!(action.state, AdverseState::Assessing);
    assert_eq!(action.waiting_period.to_string(), "7 calendar days");
    assert!(action.email_configured);

    // The hiring manager sees "On hold", never the result or the findings.
    let c = app.signed_in(MANAGER).await;
    let res = app
        .call(
            &c,
            "get_adverse_actions",
            &[("candidate_id", CANDIDATE.to_string())],
        )
        .await;
    let text = res.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<AdverseActions>(&text).unwrap(),
        AdverseActions::OnHold(true)
    );

    // While it is open, no offer: reason code adverse_action_pending, logged.
    let blocked = move_to(&app, "offer").await;
    assert_eq!(blocked.status(), 409);
    assert!(blocked
        .text()
        .await
        .unwrap()
        .contains("adverse_action_pending"));

    // No notice before the assessment; the assessment needs every factor.
    let res = step(
        &app,
        RECRUITER,
        "send_pre_adverse_notice",
        &id_form(action.id),
    )
    .await;
    assert_eq!(res.status(), 400);
    let mut partial = assessment(action.id);
    partial[3].1 = " ".into();
    let res = step(&app, RECRUITER, "record_adverse_assessment", &partial).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("time elapsed"));
    let res = step(
        &app,
        RECRUITER,
        "record_adverse_assessment",
        &assessment(action.id),
    )
    .await;
    assert_eq!(res.status(), 200);

    // The pre-adverse notice: stored with its hash, emailed by the delivery worker.
    let res = step(
        &app,
        RECRUITER,
        "send_pre_adverse_notice",
        &id_form(action.id),
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let waiting = only_action(&app).await;
    assert_eq!(waiting.state, AdverseState::Waiting);
    let deadline = waiting.deadline_at.expect("deadline");
    assert!(deadline > chrono::Utc::now() + chrono::Duration::days(7));
    assert!(deadline <= chrono::Utc::now() + chrono::Duration::days(9));
    assert_eq!(waiting.notices[0].email, NoticeEmail::Queued);
    app.run_jobs().await;
    let mail = wait_for_mail(&inbox, 1).await;
    let pre = &mail[0];
    let candidate = db::candidates::find_candidate(&app.db, CANDIDATE)
        .await
        .unwrap()
        .unwrap();
    assert!(pre.to.contains(&candidate.email), "{}", pre.to);
    assert!(pre.from.contains("hiring@clearance.test"));
    assert!(
        pre.subject.starts_with("Pre-adverse action notice"),
        "{}",
        pre.subject
    );
    for must in [
        "Misdemeanor theft conviction, 2015",
        "Clearance Test Employer",
        "Acme Screening (+1 555 0100)",
        "/results/",
        "Please respond by the end of",
        "Riley Recruiter",
    ] {
        assert!(
            pre.text.contains(must),
            "{must:?} missing from:\n{}",
            pre.text
        );
    }
    assert_eq!(pre.attachments.len(), 1);
    assert!(pre.attachments[0].name.contains("Summary of Your Rights"));
    assert!(pre.attachments[0]
        .text
        .as_deref()
        .unwrap()
        .contains("consumerfinance.gov"));
    let sent = only_action(&app).await;
    let notice = &sent.notices[0];
    assert_eq!(notice.email, NoticeEmail::Sent);
    assert_eq!(notice.template_version, 0);
    assert_eq!(
        notice.sha256,
        clearance::server::services::adverse::sha256_hex(&notice.body)
    );
    // SMTP carries lines ending in CRLF; the text is the stored notice.
    assert_eq!(
        pre.text.replace("\r\n", "\n").trim_end(),
        notice.body.trim_end()
    );

    // The printable notice: recruiters yes, hiring managers no.
    let r = app.signed_in(RECRUITER).await;
    let page = r
        .get(format!("{}/adverse-notices/{}", app.address, notice.id))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("style-src 'sha256-"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Misdemeanor theft conviction, 2015"));
    assert!(html.contains(&notice.sha256));
    let m = app.signed_in(MANAGER).await;
    let page = m
        .get(format!("{}/adverse-notices/{}", app.address, notice.id))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);

    // Not before the waiting period ends.
    let res = step(
        &app,
        RECRUITER,
        "send_final_adverse_notice",
        &id_form(action.id),
    )
    .await;
    assert_eq!(res.status(), 409);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("waiting period runs until"));

    // A response with a document stops the clock; the final notice waits for a decision.
    let res = step(
        &app,
        RECRUITER,
        "record_candidate_response",
        &[
            ("action_id", action.id.to_string()),
            (
                "note",
                "Candidate disputes: the conviction was expunged.".into(),
            ),
            ("document_name", "../../expungement.pdf".into()),
            ("document_base64", "JVBERi0xLjQK".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let paused = only_action(&app).await;
    assert_eq!(paused.state, AdverseState::Paused);
    assert_eq!(
        paused.responses[0].document_name.as_deref(),
        Some("expungement.pdf")
    );
    let doc = r
        .get(format!(
            "{}/adverse-responses/{}/document",
            app.address, paused.responses[0].id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(doc.status(), 200);
    assert_eq!(doc.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n");
    let res = step(
        &app,
        RECRUITER,
        "send_final_adverse_notice",
        &id_form(action.id),
    )
    .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("responded"));
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let res = step(
        &app,
        RECRUITER,
        "resume_adverse_action",
        &id_form(action.id),
    )
    .await;
    assert_eq!(res.status(), 200);
    let resumed = only_action(&app).await;
    assert_eq!(resumed.state, AdverseState::Waiting);
    assert!(
        resumed.deadline_at.unwrap() > deadline,
        "the paused time is added back"
    );

    // Time passes (the deadline is moved into the past), then the final notice rejects.
    exec_at_now(&app.db, "UPDATE adverse_actions SET deadline_at = $1").await;
    let res = step(
        &app,
        RECRUITER,
        "send_final_adverse_notice",
        &id_form(action.id),
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let done = only_action(&app).await;
    assert_eq!(done.state, AdverseState::Completed);
    let stage = db::candidates::applications_of(&app.db, CANDIDATE)
        .await
        .unwrap()[0]
        .stage;
    assert_eq!(stage, clearance::model::Stage::Rejected);
    app.run_jobs().await;
    let mail = wait_for_mail(&inbox, 2).await;
    let fin = &mail[1];
    assert!(fin.subject.starts_with("Final adverse action notice"));
    for must in [
        "1 Screening Way, Springfield",
        "did not make this decision and is unable to explain why",
        "within 60",
    ] {
        assert!(
            fin.text.contains(must),
            "{must:?} missing from:\n{}",
            fin.text
        );
    }
    assert_eq!(actions(&app, MANAGER).await, AdverseActions::OnHold(false));

    // Every step is in the audit log (and so on the candidate's timeline).
    let types = audit_types(&app, CANDIDATE).await;
    for t in [
        AuditEventType::AdverseActionStarted,
        AuditEventType::AdverseAssessmentRecorded,
        AuditEventType::PreAdverseNoticeSent,
        AuditEventType::NoticeEmailed,
        AuditEventType::CandidateResponseRecorded,
        AuditEventType::AdverseActionResumed,
        AuditEventType::FinalAdverseNoticeSent,
        AuditEventType::StageTransitionBlocked,
        AuditEventType::StageChanged,
    ] {
        assert!(types.contains(&t), "{t:?} missing from {types:?}");
    }
}

async fn cancelling_lets_the_candidate_proceed_and_needs_a_reason(backend: Backend) {
    // Without SMTP, notices are for print only and say so.
    let app = app_mailing_to(backend, None).await;
    let order = order_with_result(&app, "Fail").await;
    let res = step(
        &app,
        ADMIN,
        "start_adverse_action",
        &[("order_id", order.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let action = only_action(&app).await;
    assert!(!action.email_configured);
    step(
        &app,
        RECRUITER,
        "record_adverse_assessment",
        &assessment(action.id),
    )
    .await;
    let res = step(
        &app,
        RECRUITER,
        "send_pre_adverse_notice",
        &[("action_id", action.id.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let waiting = only_action(&app).await;
    assert_eq!(waiting.notices[0].email, NoticeEmail::NotConfigured);
    assert_eq!(app.run_jobs().await, 0, "nothing to email");

    let cancel = |reason: &str| {
        vec![
            ("action_id", action.id.to_string()),
            ("reason", reason.to_string()),
        ]
    };
    let res = step(&app, RECRUITER, "cancel_adverse_action", &cancel("  ")).await;
    assert_eq!(res.status(), 400);
    let res = step(&app, SECURITY, "cancel_adverse_action", &cancel("no")).await;
    assert_eq!(res.status(), 403);
    let res = step(
        &app,
        RECRUITER,
        "cancel_adverse_action",
        &cancel("Report corrected by the agency"),
    )
    .await;
    assert_eq!(res.status(), 200);
    let closed = only_action(&app).await;
    assert_eq!(closed.state, AdverseState::Cancelled);
    assert_eq!(
        closed.closed_reason.as_deref(),
        Some("Report corrected by the agency")
    );
    assert_eq!(actions(&app, MANAGER).await, AdverseActions::OnHold(false));
    // The gate no longer names adverse action (the verification gate may still apply).
    let res = move_to(&app, "offer").await;
    let text = res.text().await.unwrap();
    assert!(!text.contains("adverse_action_pending"), "{text}");
    // Closed is closed: no final notice, no second cancel.
    let res = step(
        &app,
        RECRUITER,
        "send_final_adverse_notice",
        &[("action_id", action.id.to_string())],
    )
    .await;
    assert_eq!(res.status(), 409);
    let res = step(&app, RECRUITER, "cancel_adverse_action", &cancel("again")).await;
    assert_eq!(res.status(), 409);
    // A result of Pass starts nothing; a new process may start on the same order once closed.
    let res = step(
        &app,
        RECRUITER,
        "start_adverse_action",
        &[("order_id", order.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(audit_types(&app, CANDIDATE)
        .await
        .contains(&AuditEventType::AdverseActionCancelled));
}

async fn smtp_down_retries_until_the_server_answers(backend: Backend) {
    // A port nobody listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = app_mailing_to(backend, Some(&format!("smtp://127.0.0.1:{port}"))).await;
    let order = order_with_result(&app, "Consider").await;
    step(
        &app,
        RECRUITER,
        "start_adverse_action",
        &[("order_id", order.to_string())],
    )
    .await;
    let action = only_action(&app).await;
    step(
        &app,
        RECRUITER,
        "record_adverse_assessment",
        &assessment(action.id),
    )
    .await;
    let res = step(
        &app,
        RECRUITER,
        "send_pre_adverse_notice",
        &[("action_id", action.id.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200);
    app.run_jobs().await;
    let failed = only_action(&app).await;
    assert_eq!(
        failed.notices[0].email,
        NoticeEmail::Queued,
        "still being retried"
    );
    assert!(failed.notices[0]
        .email_detail
        .as_deref()
        .unwrap()
        .contains(&format!("127.0.0.1:{port}")));
    // The mail server comes up on that port; the retry (made due now) delivers once.
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let inbox = Inbox::default();
    start_smtp(listener, inbox.clone());
    exec_at_now(
        &app.db,
        "UPDATE delivery_jobs SET run_at = $1 WHERE state = 'pending'",
    )
    .await;
    app.run_jobs().await;
    assert_eq!(wait_for_mail(&inbox, 1).await.len(), 1);
    assert_eq!(only_action(&app).await.notices[0].email, NoticeEmail::Sent);
    app.run_jobs().await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(inbox.messages().len(), 1, "sent exactly once");
}

async fn admin_templates_are_versioned_and_checked(backend: Backend) {
    let app = app_mailing_to(backend, None).await;
    let save = |subject: &str, body: &str| {
        vec![
            ("kind", "pre_adverse".to_string()),
            ("subject", subject.to_string()),
            ("body", body.to_string()),
        ]
    };
    let res = step(&app, RECRUITER, "save_notice_template", &save("Hi", "Body")).await;
    assert_eq!(res.status(), 403);
    let res = step(
        &app,
        ADMIN,
        "save_notice_template",
        &save("Hi", "Dear {{ candidate_nmae }}"),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("body: the template cannot be rendered"));
    let body = "Dear {{ candidate_first_name }}, about {{ job_title }}: {{ findings }}. Respond by {{ response_deadline }}.";
    let res = step(
        &app,
        ADMIN,
        "save_notice_template",
        &save("Notice for {{ job_title }}", body),
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let version: i64 = res.json().await.unwrap();
    assert_eq!(version, 1);

    let order = order_with_result(&app, "Consider").await;
    step(
        &app,
        RECRUITER,
        "start_adverse_action",
        &[("order_id", order.to_string())],
    )
    .await;
    let action = only_action(&app).await;
    step(
        &app,
        RECRUITER,
        "record_adverse_assessment",
        &assessment(action.id),
    )
    .await;
    step(
        &app,
        RECRUITER,
        "send_pre_adverse_notice",
        &[("action_id", action.id.to_string())],
    )
    .await;
    let notice = only_action(&app).await.notices.remove(0);
    assert_eq!(notice.template_version, 1);
    assert!(notice.body.starts_with("Dear "), "{}", notice.body);
    assert!(notice.body.contains("Misdemeanor theft conviction, 2015"));
    assert!(notice.subject.starts_with("Notice for "));
    let changed: Vec<String> = common::column(
        &app.db,
        "SELECT payload FROM audit_log WHERE event_type = 'notice_template_changed'",
    )
    .await;
    assert_eq!(changed.len(), 1);
    assert!(changed[0].contains("\"version\":1"), "{}", changed[0]);
}

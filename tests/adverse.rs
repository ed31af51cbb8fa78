//! Adverse action end to end over real HTTP: a partner simulator returns "Consider", the recruiter
//! runs the FCRA process from the profile, and the notices arrive at a real SMTP server (the
//! `clearance sim mail` sink) — on SQLite and PostgreSQL.
mod common;

use clearance::model::{
    AdverseActions, AdverseState, AuditEventType, BackgroundCheck, NoticeEmail,
};
use clearance::server::db;
use clearance::server::sim::mail::{start_smtp, Inbox, Received};
use common::{audit_types, exec_at_now, Backend, TestApp};

const RECRUITER: &str = "recruiter@clearance.test";
const ADMIN: &str = "admin@clearance.test";
const SECURITY: &str = "security@clearance.test";
const MANAGER: &str = "manager@clearance.test";
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
    a_job_set_to_send_the_final_notice_itself_does_so_when_the_period_ends,
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

/// A placed, submitted order for candidate 1 that came back with `result`; returns its id.
async fn order_with_result(app: &TestApp, result: &str) -> i64 {
    let (sim, partner) = common::connected_partner(app, None).await;
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

/// Starts adverse action on `order`, records the assessment and sends the pre-adverse notice.
async fn through_pre_notice(app: &TestApp, order: i64) -> clearance::model::AdverseActionView {
    let res = start(app, RECRUITER, order).await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let action = only_action(app).await;
    let res = step(
        app,
        RECRUITER,
        "record_adverse_assessment",
        &assessment(action.id),
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let res = step(
        app,
        RECRUITER,
        "send_pre_adverse_notice",
        &[("action_id", action.id.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    only_action(app).await
}

async fn start(app: &TestApp, who: &str, order: i64) -> reqwest::Response {
    step(
        app,
        who,
        "start_adverse_action",
        &[("order_id", order.to_string())],
    )
    .await
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
    // The candidate's verification session, whose evidence pack the process will land in.
    exec_at_now(
        &app.db,
        "INSERT INTO verification_sessions (session_id, candidate_id, status, reason_codes, created_at, updated_at)
         VALUES ('vs_adverse', 1, 'verified', '[]', $1, $1)",
    )
    .await;
    let order = order_with_result(&app, "Consider").await;
    let id_form = |id: i64| vec![("action_id", id.to_string())];

    // Security reviewers and hiring managers may not start it; a recruiter may, once.
    for who in [SECURITY, MANAGER] {
        let res = start(&app, who, order).await;
        assert_eq!(res.status(), 403, "{who}");
    }
    let res = start(&app, RECRUITER, order).await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let again = start(&app, ADMIN, order).await;
    assert_eq!(again.status(), 409);
    let action = only_action(&app).await;
    assert_eq!(action.state, AdverseState::Assessing);
    assert_eq!(action.waiting_period.to_string(), "7 calendar days");
    assert!(action.email_configured);

    // The hiring manager sees "On hold", never the result or the findings.
    assert_eq!(actions(&app, MANAGER).await, AdverseActions::OnHold(true));

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
        clearance::server::audit::sha256_hex(&notice.body)
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

    // The data-access archive carries the process, its notices and the response document.
    let admin = app.signed_in(ADMIN).await;
    let zip = admin
        .get(format!("{}/candidates/{CANDIDATE}/export.zip", app.address))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let entries = common::unzip(&zip);
    let json: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    let exported = &json["adverse_actions"][0];
    assert_eq!(exported["state"], "completed");
    assert_eq!(exported["notices"].as_array().unwrap().len(), 2);
    assert_eq!(exported["notices"][0]["sha256"], notice.sha256.as_str());
    let doc_path = json["adverse_action_responses"][0]["file"]
        .as_str()
        .unwrap();
    let doc_file = entries
        .iter()
        .find(|(n, _)| n == doc_path)
        .expect("response document");
    assert_eq!(doc_file.1, b"%PDF-1.4\n");

    // The evidence pack of the candidate's latest session holds every step.
    let pack = clearance::server::services::evidence::build(&app.db, "vs_adverse")
        .await
        .unwrap()
        .expect("pack");
    let events: Vec<&str> = pack.events.iter().map(|e| e.event.as_str()).collect();
    for label in [
        "Adverse action started",
        "Individualized assessment recorded",
        "Pre-adverse notice sent",
        "Candidate response recorded",
        "Final adverse notice sent",
    ] {
        assert!(
            events.contains(&label),
            "{label} missing from the pack: {events:?}"
        );
    }
    let pre_entry = pack
        .events
        .iter()
        .find(|e| e.event == "Pre-adverse notice sent")
        .unwrap();
    assert!(
        pre_entry.summary.contains(&notice.sha256),
        "{}",
        pre_entry.summary
    );

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
    let res = start(&app, ADMIN, order).await;
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
    // A new process may start on the same order once the last one is closed…
    let res = start(&app, RECRUITER, order).await;
    assert_eq!(res.status(), 200);
    // …but not on a result a newer check for the job supersedes, and never on a Pass.
    exec_at_now(
        &app.db,
        "INSERT INTO background_check_orders (background_check_id, webhook_token_sha256, candidate_id, job_id, partner_id,
            package_id, package_name, total, status, result, created_at, updated_at)
         SELECT 'bgc_newer', 'sha_newer', candidate_id, job_id, partner_id, package_id, package_name, total, 'complete', 'Pass', $1, $1
         FROM background_check_orders WHERE candidate_id = 1",
    )
    .await;
    let newer: Vec<i64> =
        common::column(&app.db, "SELECT MAX(id) FROM background_check_orders").await;
    for (order_id, status, words) in [
        (order, 409, "supersedes"),
        (newer[0], 400, "Consider or Fail"),
    ] {
        let res = start(&app, ADMIN, order_id).await;
        assert_eq!(res.status(), status);
        assert!(res.text().await.unwrap().contains(words));
    }
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
    through_pre_notice(&app, order).await;
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
    let notice = through_pre_notice(&app, order).await.notices.remove(0);
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

async fn a_job_set_to_send_the_final_notice_itself_does_so_when_the_period_ends(backend: Backend) {
    let (inbox, smtp) = sink();
    let app = app_mailing_to(backend, Some(&smtp)).await;
    let job = db::candidates::applications_of(&app.db, CANDIDATE)
        .await
        .unwrap()[0]
        .job_id;
    let settings = |days: &str, business: &str, auto: Option<&str>| {
        let mut f = vec![
            ("job_id", job.to_string()),
            ("days", days.to_string()),
            ("business", business.to_string()),
        ];
        if let Some(a) = auto {
            f.push(("auto_final", a.to_string()));
        }
        f
    };
    // Out of range: refused in words; recruiters may not change it.
    let res = step(
        &app,
        ADMIN,
        "save_adverse_job_settings",
        &settings("6", "false", None),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("7 to 90 calendar days"));
    let res = step(
        &app,
        RECRUITER,
        "save_adverse_job_settings",
        &settings("10", "true", Some("true")),
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = step(
        &app,
        ADMIN,
        "save_adverse_job_settings",
        &settings("10", "true", Some("true")),
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let a = app.signed_in(ADMIN).await;
    let listed: Vec<clearance::model::JobAdverseSettings> =
        app.call_ok(&a, "adverse_job_settings", &[]).await;
    let mine = listed.iter().find(|j| j.job_id == job).unwrap();
    assert_eq!(mine.waiting_period.to_string(), "10 business days");
    assert!(mine.auto_final);

    let order = order_with_result(&app, "Consider").await;
    let waiting = through_pre_notice(&app, order).await;
    assert_eq!(waiting.waiting_period.to_string(), "10 business days");
    // Ten business days span at least one weekend: more than eleven calendar days away, whatever
    // the day (from a Sunday they end on the second Friday, twelve days on; ten calendar days
    // would be less).
    assert!(waiting.deadline_at.unwrap() >= chrono::Utc::now() + chrono::Duration::days(11));
    app.run_jobs().await;
    assert_eq!(
        only_action(&app).await.state,
        AdverseState::Waiting,
        "not before the deadline"
    );

    exec_at_now(&app.db, "UPDATE adverse_actions SET deadline_at = $1").await;
    app.run_jobs().await;
    let done = only_action(&app).await;
    assert_eq!(done.state, AdverseState::Completed);
    assert_eq!(done.notices.len(), 2);
    assert_eq!(done.notices[1].email, NoticeEmail::Sent);
    let stage = db::candidates::applications_of(&app.db, CANDIDATE)
        .await
        .unwrap()[0]
        .stage;
    assert_eq!(stage, clearance::model::Stage::Rejected);
    let mail = wait_for_mail(&inbox, 2).await;
    assert!(mail[1].subject.starts_with("Final adverse action notice"));
    assert!(
        mail[1].text.contains("Hiring team"),
        "sent by Clearance itself"
    );
}

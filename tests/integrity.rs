//! Interview integrity over real HTTP with the monitor simulator: connect once, announce,
//! signed reports attached with their SHA-256, duplicates, refusals, unknown interviews, cancel.
mod common;

use clearance::model::{AuditEventType, InterviewView};
use clearance::server::audit::Actor;
use clearance::server::db;
use clearance::server::partners::signature;
use clearance::server::sim::monitor::{Sim, SimConfig, Switches};
use common::{audit_types, TestApp, WEBHOOK_SECRET};
use sha2::Digest;

const RECRUITER: &str = "recruiter@clearance.test";
const KEY: &str = "monitor-test-key";
/// Demo candidate 2: Frontend Engineer, managed by manager@.
const CANDIDATE: i64 = 2;

on_both_backends!(
    an_interview_is_announced_once_and_its_report_attached,
    bad_reports_are_refused_and_unknown_interviews_kept,
    rescheduling_and_cancelling_tell_the_monitor,
);

async fn connected(app: &TestApp) -> Sim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sim = Sim::new(SimConfig {
        webhook_url: format!("{}/webhooks/integrity", app.address),
        webhook_secret: WEBHOOK_SECRET.into(),
        api_key: KEY.into(),
        switches: Switches {
            auto_report: false,
            ..Switches::default()
        },
    });
    let router = sim.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    clearance::server::services::integrity::connect(
        &app.db,
        &app.state.config,
        Actor::System("test".into()),
        None,
        &url,
        KEY,
        WEBHOOK_SECRET,
    )
    .await
    .unwrap();
    sim
}

async fn schedule(app: &TestApp) -> i64 {
    let r = app.signed_in(RECRUITER).await;
    let res = app
        .call(
            &r,
            "schedule_interview",
            &[
                ("candidate_id", CANDIDATE.to_string()),
                ("stage", "onsite_or_panel_interview".into()),
                ("local_time", "2026-12-01T15:30".into()),
                ("time_zone", "Europe/Berlin".into()),
                (
                    "interviewers",
                    "ana@clearance.test, Bo@clearance.test".into(),
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    res.json().await.unwrap()
}

async fn interviews(app: &TestApp, email: &str) -> Vec<InterviewView> {
    let c = app.signed_in(email).await;
    let res = app
        .call(
            &c,
            "candidate_interviews",
            &[("candidate_id", CANDIDATE.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn post_report(app: &TestApp, id: &str, body: &str, secret: &str) -> reqwest::Response {
    let ts = chrono::Utc::now().timestamp();
    let sig = signature::sign(secret, id, ts, body.as_bytes()).unwrap();
    reqwest::Client::new()
        .post(format!("{}/webhooks/integrity", app.address))
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn report_body(interview: &str, candidate: &str, content: &[u8], score: i64) -> String {
    use base64::Engine;
    serde_json::json!({
        "type": "integrity.report_ready", "timestamp": "2026-12-01T16:40:00Z",
        "data": {
            "interview_id": interview, "monitor_session_id": "ms_x", "candidate_id": candidate,
            "generated_at": "2026-12-01T16:39:00Z", "consent": "given", "integrity_score": score,
            "flags": ["tab_switch"], "summary": "One tab switch.",
            "report": { "filename": "report.pdf", "content_type": "application/pdf",
                        "content_base64": base64::engine::general_purpose::STANDARD.encode(content) }
        }
    })
    .to_string()
}

async fn an_interview_is_announced_once_and_its_report_attached(app: TestApp) {
    let sim = connected(&app).await;
    let id = schedule(&app).await;
    // A worker claims the announcement, sends it and dies before recording: sent again, same interview.
    let job = db::jobs::claim(&app.db, chrono::Utc::now(), chrono::Duration::seconds(-1))
        .await
        .unwrap()
        .expect("announcement queued");
    assert_eq!(job.kind, db::integrity::ANNOUNCE_JOB);
    app.run_jobs().await;
    app.run_jobs().await;
    let at_monitor = sim.interviews();
    assert_eq!(at_monitor.len(), 1);
    let announced = &at_monitor[0].interview;
    assert_eq!(announced.interview_id, id.to_string());
    assert_eq!(announced.candidate_id, CANDIDATE.to_string());
    assert_eq!(announced.scheduled_at, "2026-12-01T15:30:00+01:00");
    assert_eq!(
        announced.interviewers,
        vec!["ana@clearance.test", "bo@clearance.test"]
    );
    let list = interviews(&app, RECRUITER).await;
    assert!(list[0].monitored);
    assert!(list[0].report.is_none());

    // The monitor posts its report (twice): one attachment, with the right SHA-256.
    sim.set_switches(Switches {
        auto_report: false,
        duplicate: true,
        score: 42,
        ..Switches::default()
    });
    let delivered = sim
        .report(
            &id.to_string(),
            42,
            vec!["tab_switch".into(), "second_voice".into()],
            "Two signals.",
        )
        .await
        .unwrap();
    assert_eq!(delivered, 200);
    let list = interviews(&app, RECRUITER).await;
    let report = list[0].report.clone().expect("attached");
    assert_eq!(report.score, Some(42));
    assert!(!report.passed, "a score of 42 with flags does not pass");
    assert_eq!(report.flags, vec!["tab_switch", "second_voice"]);
    assert_eq!(report.consent.as_str(), "given");
    let pdf = clearance::server::sim::monitor::report_pdf(&id.to_string(), 42);
    assert_eq!(
        report.sha256.as_deref(),
        Some(hex(&sha2::Sha256::digest(&pdf)).as_str())
    );
    let reports = db::integrity::reports_of(&app.db, CANDIDATE).await.unwrap();
    assert_eq!(
        reports.len(),
        1,
        "the duplicate delivery attached nothing more"
    );
    // The file downloads for the recruiter, byte for byte; the hiring manager sees the score only.
    let r = app.signed_in(RECRUITER).await;
    let file = r
        .get(format!(
            "{}/integrity-reports/{}/file",
            app.address,
            report.report_id.unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf);
    let hm_view = interviews(&app, "manager@clearance.test").await;
    let hm_report = hm_view[0].report.clone().unwrap();
    // SPEC §2: go/no-go only for hiring managers — no score, flags, summary or file.
    assert_eq!(
        (hm_report.score, hm_report.report_id, hm_report.sha256),
        (None, None, None)
    );
    assert!(hm_report.flags.is_empty() && hm_report.summary.is_none());
    assert!(!hm_report.passed);
    let hm = app.signed_in("manager@clearance.test").await;
    let denied = hm
        .get(format!(
            "{}/integrity-reports/{}/file",
            app.address,
            report.report_id.unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 404);
    // The list shows the score and filters by it; the filter stays in the query.
    let list = |filter: &'static str| {
        let r = r.clone();
        let app = &app;
        async move {
            let page: clearance::model::CandidatePage = app
                .call(&r, "list_candidates", &[("integrity", filter.to_string())])
                .await
                .json()
                .await
                .unwrap();
            page
        }
    };
    let below = list("below_60").await;
    assert_eq!(below.total, 1);
    assert_eq!(below.rows[0].candidate_id, CANDIDATE);
    assert_eq!(below.rows[0].integrity_score, Some(42));
    assert_eq!(list("flagged").await.total, 1);
    let none = list("no_report").await;
    assert!(none.total > 0 && none.rows.iter().all(|row| row.candidate_id != CANDIDATE));
    let types = audit_types(&app, CANDIDATE).await;
    for t in [
        AuditEventType::InterviewScheduled,
        AuditEventType::MonitoringRequested,
        AuditEventType::IntegrityReportAttached,
        AuditEventType::ConsentRecorded,
    ] {
        assert_eq!(types.iter().filter(|x| **x == t).count(), 1, "{t:?}");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn bad_reports_are_refused_and_unknown_interviews_kept(app: TestApp) {
    connected(&app).await;
    let id = schedule(&app).await;
    let good = report_body(
        &id.to_string(),
        &CANDIDATE.to_string(),
        b"%PDF-1.4 tiny",
        80,
    );
    // Wrong secret → 401; not JSON → 400; score out of range → 400; too big → 413.
    let wrong = post_report(&app, "msg_1", &good, "whsec_d3Jvbmcgc2VjcmV0IGtleQ==").await;
    assert_eq!(wrong.status(), 401);
    let res = post_report(&app, "msg_2", "{not json", WEBHOOK_SECRET).await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("not an integrity report"));
    let res = post_report(
        &app,
        "msg_3",
        &report_body(&id.to_string(), "2", b"x", 101),
        WEBHOOK_SECRET,
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("outside 0–100"));
    let huge = vec![b'x'; 10 * 1024 * 1024 + 1];
    let res = post_report(
        &app,
        "msg_4",
        &report_body(&id.to_string(), "2", &huge, 80),
        WEBHOOK_SECRET,
    )
    .await;
    assert_eq!(res.status(), 413);
    assert!(db::integrity::reports_of(&app.db, CANDIDATE)
        .await
        .unwrap()
        .is_empty());
    // A report of 10 MB exactly is accepted.
    let ten = vec![b'y'; 10 * 1024 * 1024];
    let res = post_report(
        &app,
        "msg_5",
        &report_body(&id.to_string(), "2", &ten, 80),
        WEBHOOK_SECRET,
    )
    .await;
    assert_eq!(res.status(), 200);
    // A report for an interview we never scheduled is kept for admins, not lost.
    let res = post_report(
        &app,
        "msg_6",
        &report_body("99999", "2", b"%PDF", 70),
        WEBHOOK_SECRET,
    )
    .await;
    assert_eq!(res.status(), 202);
    let unmatched = db::integrity::unmatched_reports(&app.db, 10).await.unwrap();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].interview_ref, "99999");
    let admin = app.signed_in("admin@clearance.test").await;
    let view: clearance::model::DeliveriesView = app
        .call(&admin, "list_deliveries", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(view
        .unmatched
        .iter()
        .any(|u| u.candidate_ref == "interview 99999" && u.session_id == "ms_x"));
}

async fn rescheduling_and_cancelling_tell_the_monitor(app: TestApp) {
    let sim = connected(&app).await;
    let id = schedule(&app).await;
    app.run_jobs().await;
    let r = app.signed_in(RECRUITER).await;
    // Rescheduling tells the monitor the new time (same interview, announced again).
    let res = app
        .call(
            &r,
            "reschedule_interview",
            &[
                ("interview_id", id.to_string()),
                ("local_time", "2026-12-02T09:00".into()),
                ("time_zone", "America/New_York".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    app.run_jobs().await;
    let at_monitor = &sim.interviews()[0];
    assert_eq!(
        at_monitor.interview.scheduled_at,
        "2026-12-02T09:00:00-05:00"
    );
    assert_eq!(at_monitor.announcements, 2);
    assert_eq!(sim.interviews().len(), 1);
    let res = app
        .call(&r, "cancel_interview", &[("interview_id", id.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    let again = app
        .call(&r, "cancel_interview", &[("interview_id", id.to_string())])
        .await;
    assert_eq!(again.status(), 409);
    app.run_jobs().await;
    assert!(sim.interviews()[0].cancelled);
    assert_eq!(
        interviews(&app, RECRUITER).await[0].state,
        clearance::model::InterviewState::Cancelled
    );
    // "Test monitor connection" in plain words: accepted key, then a refused one.
    let admin = app.signed_in("admin@clearance.test").await;
    let t: clearance::model::ConnectionTest = app
        .call(&admin, "test_monitor", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(t.ok, "{t:?}");
    let status: clearance::model::MonitorStatus = app
        .call(&admin, "monitor_status", &[])
        .await
        .json()
        .await
        .unwrap();
    let url = status.url.unwrap();
    let res = app
        .call(
            &admin,
            "connect_monitor",
            &[
                ("url", url),
                ("api_key", "wrong".into()),
                ("webhook_secret", WEBHOOK_SECRET.into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let t: clearance::model::ConnectionTest = app
        .call(&admin, "test_monitor", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(!t.ok && t.message.contains("refused the API key"), "{t:?}");
    assert_eq!(app.call(&r, "test_monitor", &[]).await.status(), 403);
    // Hiring managers and security reviewers do not schedule.
    let sec = app.signed_in("security@clearance.test").await;
    let res = app
        .call(
            &sec,
            "schedule_interview",
            &[
                ("candidate_id", CANDIDATE.to_string()),
                ("stage", "onsite_or_panel_interview".into()),
                ("local_time", "2026-12-01T15:30".into()),
                ("time_zone", "UTC".into()),
                ("interviewers", "a@clearance.test".into()),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
}

mod retention {
    use super::*;

    on_both_backends!(export_holds_everything_about_one_candidate_and_deletion_leaves_nothing);

    async fn export_holds_everything_about_one_candidate_and_deletion_leaves_nothing(app: TestApp) {
        let sim = connected(&app).await;
        let id = schedule(&app).await;
        app.run_jobs().await;
        sim.report(&id.to_string(), 55, vec![], "Quiet.")
            .await
            .unwrap();
        let pdf = clearance::server::sim::monitor::report_pdf(&id.to_string(), 55);
        let me = db::candidates::find_candidate(&app.db, CANDIDATE)
            .await
            .unwrap()
            .unwrap();
        let other = db::candidates::find_candidate(&app.db, 1)
            .await
            .unwrap()
            .unwrap();

        // Export: admins only; one archive with the JSON and the report file.
        let url = format!("{}/candidates/{CANDIDATE}/export.zip", app.address);
        for email in [
            RECRUITER,
            "manager@clearance.test",
            "security@clearance.test",
        ] {
            let c = app.signed_in(email).await;
            assert_eq!(c.get(&url).send().await.unwrap().status(), 404, "{email}");
        }
        let admin = app.signed_in("admin@clearance.test").await;
        let res = admin.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/zip");
        let files = common::unzip(&res.bytes().await.unwrap());
        let json = String::from_utf8(files[0].1.clone()).unwrap();
        assert_eq!(files[0].0, "candidate.json");
        assert!(json.contains(&me.email) && json.contains(&me.zip));
        assert!(json.contains("\"integrity_score\": 55"));
        assert!(json.contains("interview_scheduled"));
        assert!(
            !json.contains(&other.email),
            "nothing about other candidates"
        );
        assert_eq!(files.len(), 2);
        assert_eq!(files[1].1, pdf);
        assert!(audit_types(&app, CANDIDATE)
            .await
            .contains(&AuditEventType::CandidateDataExported));

        // Delete: a wrong confirmation changes nothing; the right one removes everything.
        let res = app
            .call(
                &admin,
                "delete_candidate",
                &[
                    ("candidate_id", CANDIDATE.to_string()),
                    ("confirm_email", "nope@x.example".into()),
                ],
            )
            .await;
        assert_eq!(res.status(), 400);
        let r = app.signed_in(RECRUITER).await;
        let res = app
            .call(
                &r,
                "delete_candidate",
                &[
                    ("candidate_id", CANDIDATE.to_string()),
                    ("confirm_email", me.email.clone()),
                ],
            )
            .await;
        assert_eq!(res.status(), 403);
        let res = app
            .call(
                &admin,
                "delete_candidate",
                &[
                    ("candidate_id", CANDIDATE.to_string()),
                    ("confirm_email", me.email.to_uppercase()),
                ],
            )
            .await;
        assert_eq!(res.status(), 200);
        assert!(db::candidates::find_candidate(&app.db, CANDIDATE)
            .await
            .unwrap()
            .is_none());
        assert!(db::integrity::interviews_of(&app.db, CANDIDATE)
            .await
            .unwrap()
            .is_empty());
        assert!(db::integrity::reports_of(&app.db, CANDIDATE)
            .await
            .unwrap()
            .is_empty());
        assert!(
            db::jobs::for_subject(&app.db, &format!("candidate:{CANDIDATE}"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(db::candidates::applications_of(&app.db, CANDIDATE)
            .await
            .unwrap()
            .is_empty());
        // The audit trail keeps its entries, without personal details, and still verifies.
        let entries = db::audit::for_subject(&app.db, "candidate", &CANDIDATE.to_string())
            .await
            .unwrap();
        assert!(entries.len() > 3);
        let (last, rest) = entries.split_last().unwrap();
        assert_eq!(last.event_type, "candidate_deleted");
        assert!(rest.iter().all(|e| e.payload.is_none()));
        // The deletion records how many payloads it redacted; the verifier checks that number.
        let deletion: serde_json::Value =
            serde_json::from_str(last.payload.as_deref().unwrap()).unwrap();
        assert_eq!(deletion["redacted_entries"], rest.len() as i64);
        let raw = entries
            .iter()
            .filter_map(|e| e.payload.clone())
            .collect::<String>();
        assert!(!raw.contains(&me.email));
        let report = clearance::server::services::audit::verify_and_record(
            &app.db,
            Actor::System("test".into()),
        )
        .await
        .unwrap();
        assert!(
            matches!(report, clearance::model::ChainReport::Intact { .. }),
            "{report:?}"
        );
        assert_eq!(admin.get(&url).send().await.unwrap().status(), 404);
    }
}

//! Stage gates from the YAML policy, time-bound exceptions, automatic verification at a gate and
//! policy versioning, through the server functions on both databases.
mod common;

use clearance::model::{AuditEventType, PolicySaveResult, PolicyVersion, StageException};
use clearance::server::db;
use common::{audit_types, TestApp};

const RECRUITER: &str = "recruiter@clearance.test";
const SECURITY: &str = "security@clearance.test";
const ADMIN: &str = "admin@clearance.test";
/// Demo candidate 2: Frontend Engineer (default policy), phone screen, not verified.
const AT_PHONE_SCREEN: i64 = 2;
/// Demo candidate 8: Site Reliability Engineer (Remote SWE High Assurance), applied.
const APPLIED: i64 = 8;

on_both_backends!(
    a_blocked_move_is_refused_with_reasons_and_logged,
    exceptions_allow_the_move_until_they_expire,
    only_permitted_reviewers_grant_exceptions_within_the_ttl,
    policies_are_versioned_and_moves_record_the_version,
);

async fn try_move(app: &TestApp, application: i64, to: &str) -> reqwest::Response {
    let r = app.signed_in(RECRUITER).await;
    move_as(app, &r, application, to).await
}

/// A move by an already signed-in client (one browser clicking several times).
async fn move_as(
    app: &TestApp,
    r: &reqwest::Client,
    application: i64,
    to: &str,
) -> reqwest::Response {
    app.call(
        r,
        "move_stage",
        &[
            ("application_id", application.to_string()),
            ("stage", to.to_string()),
        ],
    )
    .await
}

async fn grant(
    app: &TestApp,
    email: &str,
    candidate: i64,
    stage: &str,
    hours: i64,
) -> reqwest::Response {
    let c = app.signed_in(email).await;
    app.call(
        &c,
        "grant_exception",
        &[
            ("candidate_id", candidate.to_string()),
            ("stage", stage.to_string()),
            ("reason_code", "exception_verification_scheduled".into()),
            ("hours", hours.to_string()),
        ],
    )
    .await
}

async fn payloads(app: &TestApp, candidate: i64, kind: AuditEventType) -> Vec<serde_json::Value> {
    db::audit::for_subject(&app.db, "candidate", &candidate.to_string())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == kind.as_str())
        .map(|e| serde_json::from_str(&e.payload.unwrap()).unwrap())
        .collect()
}

async fn a_blocked_move_is_refused_with_reasons_and_logged(app: TestApp) {
    let res = try_move(&app, AT_PHONE_SCREEN, "onsite_or_panel_interview").await;
    assert_eq!(res.status(), 409);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("Blocked by policy 'ats-embedded-verification-status' (v1)"),
        "{text}"
    );
    assert!(text.contains("needs verification Verified"), "{text}");
    assert!(text.contains("verification_not_started"), "{text}");
    let blocked = payloads(
        &app,
        AT_PHONE_SCREEN,
        AuditEventType::StageTransitionBlocked,
    )
    .await;
    assert_eq!(blocked.len(), 1);
    let b = &blocked[0];
    assert_eq!(b["from"], "phone_screen");
    assert_eq!(b["to"], "onsite_or_panel_interview");
    assert_eq!(b["status"], "not_started");
    assert_eq!(b["policy_version"], 1);
    assert_eq!(b["reason_codes"][0], "verification_not_started");
    // Who tried is the actor; the stage did not change; no provider → nothing was requested.
    let entries = db::audit::for_subject(&app.db, "candidate", &AT_PHONE_SCREEN.to_string())
        .await
        .unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.actor_label, "Riley Recruiter");
    let apps = db::candidates::applications_of(&app.db, AT_PHONE_SCREEN)
        .await
        .unwrap();
    assert_eq!(apps[0].stage.as_str(), "phone_screen");
    // Ungated stages stay open.
    assert_eq!(
        try_move(&app, AT_PHONE_SCREEN, "rejected").await.status(),
        200
    );
}

async fn exceptions_allow_the_move_until_they_expire(app: TestApp) {
    let res = grant(
        &app,
        SECURITY,
        AT_PHONE_SCREEN,
        "onsite_or_panel_interview",
        24,
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let r = app.signed_in(RECRUITER).await;
    let list: Vec<StageException> = app
        .call(
            &r,
            "stage_exceptions",
            &[("candidate_id", AT_PHONE_SCREEN.to_string())],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].approved_by, "Sam Security");
    let hours_left = (list[0].expiry_at - chrono::Utc::now()).num_minutes();
    assert!((23 * 60..=24 * 60).contains(&hours_left));
    assert_eq!(
        try_move(&app, AT_PHONE_SCREEN, "onsite_or_panel_interview")
            .await
            .status(),
        200
    );
    let moved = payloads(&app, AT_PHONE_SCREEN, AuditEventType::StageChanged).await;
    assert_eq!(moved.last().unwrap()["exception_id"], list[0].id);
    let granted = payloads(&app, AT_PHONE_SCREEN, AuditEventType::ExceptionGranted).await;
    for field in [
        "override_reason_code",
        "approved_by",
        "approved_at",
        "expiry_at",
    ] {
        assert!(!granted[0][field].is_null(), "{field}");
    }

    // An exception that lapsed a moment ago no longer opens the gate; its expiry is logged once.
    let now = chrono::Utc::now();
    let job = db::candidates::applications_of(&app.db, AT_PHONE_SCREEN)
        .await
        .unwrap()[0]
        .job_id;
    let lapsed = db::policy::NewException {
        candidate_id: AT_PHONE_SCREEN,
        job_id: job,
        stage: "coding_assessment",
        reason_code: "exception_verification_scheduled",
        approved_by: 3,
        approved_at: now - chrono::Duration::hours(2),
        expiry_at: now - chrono::Duration::seconds(1),
        policy_name: "ats-embedded-verification-status",
        policy_version: 1,
    };
    db::policy::insert_exception(&app.db, &lapsed, |id| {
        clearance::server::audit::NewAuditEvent::new(
            clearance::server::audit::Actor::System("test".into()),
            "candidate",
            AT_PHONE_SCREEN,
            AuditEventType::ExceptionGranted,
            serde_json::json!({ "exception_id": id }),
        )
    })
    .await
    .unwrap();
    let res = try_move(&app, AT_PHONE_SCREEN, "coding_assessment").await;
    assert_eq!(res.status(), 409);
    app.run_jobs().await;
    try_move(&app, AT_PHONE_SCREEN, "coding_assessment").await;
    let expired = audit_types(&app, AT_PHONE_SCREEN)
        .await
        .into_iter()
        .filter(|t| *t == AuditEventType::ExceptionExpired)
        .count();
    assert_eq!(expired, 1);
}

async fn only_permitted_reviewers_grant_exceptions_within_the_ttl(app: TestApp) {
    assert_eq!(
        grant(&app, RECRUITER, AT_PHONE_SCREEN, "offer", 4)
            .await
            .status(),
        403
    );
    assert_eq!(
        grant(&app, ADMIN, AT_PHONE_SCREEN, "offer", 4)
            .await
            .status(),
        403
    );
    let too_long = grant(&app, SECURITY, AT_PHONE_SCREEN, "offer", 25).await;
    assert_eq!(too_long.status(), 400);
    assert!(too_long
        .text()
        .await
        .unwrap()
        .contains("between 1 and 24 hours"));
    // The high-assurance policy allows 12 hours at most.
    let res = grant(&app, SECURITY, APPLIED, "offer", 13).await;
    assert!(res.text().await.unwrap().contains("between 1 and 12 hours"));
    let ungated = grant(&app, SECURITY, AT_PHONE_SCREEN, "rejected", 4).await;
    assert_eq!(ungated.status(), 400);
    let c = app.signed_in(SECURITY).await;
    let bad_code = app
        .call(
            &c,
            "grant_exception",
            &[
                ("candidate_id", AT_PHONE_SCREEN.to_string()),
                ("stage", "offer".into()),
                ("reason_code", "because".into()),
                ("hours", "4".into()),
            ],
        )
        .await;
    assert_eq!(bad_code.status(), 400);
    // Hiring managers of other jobs cannot even see them.
    let hm2 = app.signed_in("manager2@clearance.test").await;
    let res = app
        .call(
            &hm2,
            "stage_exceptions",
            &[("candidate_id", AT_PHONE_SCREEN.to_string())],
        )
        .await;
    assert_eq!(res.status(), 404);
}

async fn policies_are_versioned_and_moves_record_the_version(app: TestApp) {
    let name = "ats-embedded-verification-status";
    let admin = app.signed_in(ADMIN).await;
    let versions: Vec<PolicyVersion> = app
        .call(&admin, "policy_versions", &[("name", name.into())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.len(), 1);
    let v1 = versions[0].yaml.clone();
    // A bad stage name is refused with its line, and nothing is saved.
    let bad = v1.replace("  offer:", "  offre:");
    let save = |yaml: String, ticket: &str| {
        let admin = admin.clone();
        let app = &app;
        let ticket = ticket.to_string();
        async move {
            let res = app
                .call(
                    &admin,
                    "save_policy",
                    &[
                        ("name", name.into()),
                        ("yaml", yaml),
                        ("change_ticket", ticket),
                    ],
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<PolicySaveResult>().await.unwrap()
        }
    };
    let refused = save(bad.clone(), "").await;
    assert_eq!(refused.version, None);
    let line = bad.lines().position(|l| l.contains("offre")).unwrap() + 1;
    assert_eq!(refused.problems[0].line, line);
    assert_eq!(refused.problems[0].field, "stage_gates.offre");
    // Opening the phone screen to not-started candidates, with a change ticket.
    let relaxed = v1.replace(
        "required_status: [in_progress, verified, needs_review]",
        "required_status: [not_started, in_progress, verified, needs_review]",
    );
    let saved = save(relaxed, "CHG-1042").await;
    assert_eq!(saved.version, Some(2));
    let versions: Vec<PolicyVersion> = app
        .call(&admin, "policy_versions", &[("name", name.into())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].version, 2);
    assert_eq!(versions[0].created_by.as_deref(), Some("Avery Admin"));
    assert_eq!(versions[0].change_ticket.as_deref(), Some("CHG-1042"));
    assert_eq!(versions[1].yaml, v1);
    // Recruiters cannot edit policies.
    let r = app.signed_in(RECRUITER).await;
    let res = app
        .call(
            &r,
            "save_policy",
            &[("name", name.into()), ("yaml", v1.clone())],
        )
        .await;
    assert_eq!(res.status(), 403);
    // Demo candidate 22 (Frontend Engineer, applied) may now enter the phone screen; the move records v2.
    assert_eq!(try_move(&app, 22, "phone_screen").await.status(), 200);
    let moved = payloads(&app, 22, AuditEventType::StageChanged).await;
    assert_eq!(moved.last().unwrap()["policy_version"], 2);
    let changed = db::audit::for_subject(&app.db, "policy", name)
        .await
        .unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].event_type, "policy_changed");
}

/// Scenarios with the verification provider simulator (automatic verification needs one).
mod with_provider {
    use super::*;

    on_both_with_provider!(
        concurrent_moves_start_one_verification,
        a_blocked_attempt_starts_verification_once,
    );

    type Sim = clearance::server::sim::verification::Sim;

    async fn verification_jobs(app: &TestApp, candidate: i64) -> usize {
        db::jobs::for_subject(&app.db, &format!("candidate:{candidate}"))
            .await
            .unwrap()
            .iter()
            .filter(|j| j.kind == "verification.create_session")
            .count()
    }

    async fn concurrent_moves_start_one_verification(app: TestApp, _sim: Sim, _url: String) {
        assert_eq!(
            grant(
                &app,
                SECURITY,
                AT_PHONE_SCREEN,
                "onsite_or_panel_interview",
                4
            )
            .await
            .status(),
            200
        );
        // Six parallel moves from one signed-in recruiter (six parallel sign-ins of one account
        // would trip the sign-in throttle, which counts attempts while they are checked).
        let r = app.signed_in(RECRUITER).await;
        let moves = (0..6).map(|_| move_as(&app, &r, AT_PHONE_SCREEN, "onsite_or_panel_interview"));
        let statuses: Vec<u16> = futures::future::join_all(moves)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 409 || *s == 400),
            "{statuses:?}"
        );
        assert_eq!(verification_jobs(&app, AT_PHONE_SCREEN).await, 1);
        let types = audit_types(&app, AT_PHONE_SCREEN).await;
        let changed = types
            .iter()
            .position(|t| *t == AuditEventType::StageChanged)
            .unwrap();
        let requested = types
            .iter()
            .position(|t| *t == AuditEventType::VerificationRequested)
            .unwrap();
        assert!(
            changed < requested,
            "stage_changed, then verification_requested: {types:?}"
        );
        app.run_jobs().await;
        assert_eq!(
            db::verification::sessions_of(&app.db, AT_PHONE_SCREEN)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    async fn a_blocked_attempt_starts_verification_once(app: TestApp, _sim: Sim, _url: String) {
        // The identity gate: a not-started candidate cannot enter the phone screen, and the attempt
        // itself requests verification — once, however often the recruiter tries.
        for _ in 0..3 {
            let res = try_move(&app, APPLIED, "phone_screen").await;
            assert_eq!(res.status(), 409);
        }
        assert_eq!(verification_jobs(&app, APPLIED).await, 1);
        app.run_jobs().await;
        assert_eq!(
            db::verification::sessions_of(&app.db, APPLIED)
                .await
                .unwrap()
                .len(),
            1
        );
        let requested = payloads(&app, APPLIED, AuditEventType::VerificationRequested).await;
        assert_eq!(requested.len(), 1);
        assert_eq!(requested[0]["trigger"], "stage_gate");
        assert_eq!(requested[0]["policy_name"], "Remote SWE High Assurance");
    }
}

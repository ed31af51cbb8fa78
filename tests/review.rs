//! The security review queue on both databases, fed by real provider webhooks from the simulator.
mod common;

use clearance::model::{
    AuditEventType, ReviewQueue, ReviewState, VerificationPanel, VerificationStatus,
};
use clearance::server::db;
use common::{audit_types, TestApp};

type Sim = clearance::server::sim::verification::Sim;

on_both_with_provider!(
    one_item_per_session_and_only_reviewers_decide,
    a_decision_writes_back_to_the_panel_and_the_log,
    overrides_need_a_different_second_reviewer,
    reverification_sends_a_new_session,
    sla_breaches_are_logged_once,
    admins_extend_the_reason_codes,
    a_long_queue_shows_its_most_urgent_items,
    a_kept_queue_follows_every_change_and_the_clock,
);

const SECURITY: &str = "security@clearance.test";

/// Sends candidate `id` to the provider and has the simulator finish it with this outcome.
async fn provider_result(
    app: &TestApp,
    sim: &Sim,
    candidate: i64,
    outcome: &str,
    risk: &str,
) -> String {
    let session = common::send_verification(app, candidate).await;
    sim.complete(
        &session,
        outcome,
        Some(risk.into()),
        vec!["liveness_failed".into()],
    )
    .await
    .unwrap();
    session
}

async fn queue(app: &TestApp, client: &reqwest::Client) -> ReviewQueue {
    let res = app.call(client, "review_queue", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn panel(app: &TestApp, candidate: i64) -> VerificationPanel {
    common::verification_panel(app, "recruiter@clearance.test", candidate).await
}

fn decide_form(
    item: i64,
    outcome: &str,
    reason: &str,
    rationale: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("item_id", item.to_string()),
        ("outcome", outcome.into()),
        ("reason_code", reason.into()),
        ("rationale", rationale.into()),
    ]
}

async fn second_reviewer(app: &TestApp) -> reqwest::Client {
    app.signed_in("security2@clearance.test").await
}

async fn one_item_per_session_and_only_reviewers_decide(app: TestApp, sim: Sim, _url: String) {
    let session = provider_result(&app, &sim, 2, "needs_review", "medium").await;
    // The provider repeats itself: still one item.
    sim.complete(&session, "needs_review", Some("medium".into()), vec![])
        .await
        .unwrap();
    let sec = app.signed_in(SECURITY).await;
    let q = queue(&app, &sec).await;
    assert_eq!(q.items.len(), 1);
    assert_eq!((q.medium, q.high), (1, 0));
    let item = &q.items[0];
    assert!(item.deadline_at.is_some() && item.time_left.is_some());
    for email in [
        "recruiter@clearance.test",
        "manager@clearance.test",
        "admin@clearance.test",
    ] {
        let c = app.signed_in(email).await;
        assert_eq!(
            app.call(&c, "review_queue", &[]).await.status(),
            403,
            "{email}"
        );
        let res = app
            .call(
                &c,
                "decide_review",
                &decide_form(
                    item.id,
                    "verified",
                    "verified_after_retry",
                    "Looked fine to me.",
                ),
            )
            .await;
        assert_eq!(res.status(), 403, "{email}");
    }
    let p = panel(&app, 2).await;
    assert!(
        p.next_action.starts_with("Awaiting security review — "),
        "{}",
        p.next_action
    );
}

async fn a_decision_writes_back_to_the_panel_and_the_log(app: TestApp, sim: Sim, _url: String) {
    provider_result(&app, &sim, 3, "needs_review", "medium").await;
    let sec = app.signed_in(SECURITY).await;
    let item = queue(&app, &sec).await.items[0].id;
    assert_eq!(
        app.call(&sec, "claim_review", &[("item_id", item.to_string())])
            .await
            .status(),
        200
    );
    assert!(queue(&app, &sec).await.items[0].assigned_to_me);
    assert!(queue(&app, &sec).await.items[0].claimed_at.is_some());
    // Reassign to the second reviewer and back; only security reviewers can be assignees.
    let q = queue(&app, &sec).await;
    let quinn = q
        .reviewers
        .iter()
        .find(|(_, n)| n == "Quinn Second")
        .unwrap()
        .0;
    let to = |id: i64| {
        vec![
            ("item_id", item.to_string()),
            ("reviewer_id", id.to_string()),
        ]
    };
    assert_eq!(
        app.call(&sec, "reassign_review", &to(quinn)).await.status(),
        200
    );
    assert_eq!(
        queue(&app, &sec).await.items[0].assignee.as_deref(),
        Some("Quinn Second")
    );
    assert_eq!(
        app.call(&sec, "reassign_review", &to(2)).await.status(),
        400,
        "the recruiter is no reviewer"
    );
    assert_eq!(
        app.call(&sec, "claim_review", &[("item_id", item.to_string())])
            .await
            .status(),
        200
    );
    let no_rationale = app
        .call(
            &sec,
            "decide_review",
            &decide_form(item, "verified", "verified_after_retry", " "),
        )
        .await;
    assert_eq!(no_rationale.status(), 400);
    let bad_code = app
        .call(
            &sec,
            "decide_review",
            &decide_form(item, "verified", "because", "A full sentence of rationale."),
        )
        .await;
    assert_eq!(bad_code.status(), 400);
    let ok = app
        .call(
            &sec,
            "decide_review",
            &decide_form(
                item,
                "verified",
                "verified_after_retry",
                "Second capture matched the document.",
            ),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let p = panel(&app, 3).await;
    assert_eq!(p.status, VerificationStatus::Verified);
    assert_eq!(p.reviewer.as_deref(), Some("Sam Security"));
    assert!(p.verified_at.is_some());
    assert_eq!(p.review_reason.as_deref(), Some("Verified after retry"));
    assert_eq!(p.next_action, "Cleared");
    assert!(queue(&app, &sec).await.items.is_empty());
    let types = audit_types(&app, 3).await;
    assert!(
        types.contains(&AuditEventType::ReviewStarted)
            && types.contains(&AuditEventType::ReviewCompleted)
    );
    // The evidence pack carries the decision and its rationale.
    let pack: clearance::model::EvidencePack = app
        .call(
            &sec,
            "evidence_pack",
            &[("session_id", p.session_id.unwrap())],
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(pack.events.iter().any(|e| e.event == "Review completed"
        && e.summary.contains("Second capture matched the document.")));
}

async fn overrides_need_a_different_second_reviewer(app: TestApp, sim: Sim, _url: String) {
    provider_result(&app, &sim, 4, "needs_review", "high").await;
    let sec = app.signed_in(SECURITY).await;
    let item = queue(&app, &sec).await.items[0].id;
    let res = app
        .call(
            &sec,
            "decide_review",
            &decide_form(
                item,
                "verified",
                "override_with_second_approver",
                "Live call confirmed identity.",
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    let q = queue(&app, &sec).await;
    assert_eq!(q.items[0].state, ReviewState::AwaitingSecondApproval);
    assert!(!q.items[0].can_approve);
    let p = panel(&app, 4).await;
    assert_eq!(p.status, VerificationStatus::NeedsReview, "still gated");
    assert_eq!(p.next_action, "Awaiting second approval");
    let same = app
        .call(&sec, "approve_override", &[("item_id", item.to_string())])
        .await;
    assert_eq!(same.status(), 409);
    assert!(same
        .text()
        .await
        .unwrap()
        .contains("different security reviewer"));
    let other = second_reviewer(&app).await;
    assert!(queue(&app, &other).await.items[0].can_approve);
    assert_eq!(
        app.call(&other, "approve_override", &[("item_id", item.to_string())])
            .await
            .status(),
        200
    );
    let p = panel(&app, 4).await;
    assert_eq!(p.status, VerificationStatus::Verified);
    assert_eq!(
        p.reviewer.as_deref(),
        Some("Sam Security (approved by Quinn Second)")
    );
    let types = audit_types(&app, 4).await;
    assert!(
        types.contains(&AuditEventType::OverrideRequested)
            && types.contains(&AuditEventType::OverrideApproved)
    );
}

async fn reverification_sends_a_new_session(app: TestApp, sim: Sim, _url: String) {
    provider_result(&app, &sim, 5, "failed", "medium").await;
    let sec = app.signed_in(SECURITY).await;
    let item = queue(&app, &sec).await.items[0].id;
    let res = app
        .call(
            &sec,
            "decide_review",
            &decide_form(
                item,
                "reverify",
                "document_mismatch_recapture",
                "Blurry document photo, ask again.",
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.run_jobs().await;
    assert_eq!(
        db::verification::sessions_of(&app.db, 5)
            .await
            .unwrap()
            .len(),
        2,
        "a new session at the provider"
    );
    assert_eq!(panel(&app, 5).await.next_action, "Waiting for candidate");
    assert!(queue(&app, &sec).await.items.is_empty());
}

async fn sla_breaches_are_logged_once(app: TestApp, sim: Sim, _url: String) {
    provider_result(&app, &sim, 6, "needs_review", "high").await;
    let cal = &app.state.config.business_calendar;
    let later = chrono::Utc::now() + chrono::Duration::days(10);
    assert_eq!(
        clearance::server::services::review::log_breaches(&app.db, cal, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        clearance::server::services::review::log_breaches(&app.db, cal, later)
            .await
            .unwrap(),
        0
    );
    let breached = audit_types(&app, 6)
        .await
        .into_iter()
        .filter(|t| *t == AuditEventType::SlaBreached)
        .count();
    assert_eq!(breached, 1);
}

async fn admins_extend_the_reason_codes(app: TestApp, sim: Sim, _url: String) {
    let add =
        |code: &str, label: &str| vec![("code", code.to_string()), ("label", label.to_string())];
    let sec = app.signed_in(SECURITY).await;
    assert_eq!(
        app.call(
            &sec,
            "add_reason_code",
            &add("proxy_confirmed", "Proxy interview confirmed")
        )
        .await
        .status(),
        403
    );
    let admin = app.signed_in("admin@clearance.test").await;
    assert_eq!(
        app.call(&admin, "add_reason_code", &add("Bad Code!", "x"))
            .await
            .status(),
        400
    );
    assert_eq!(
        app.call(
            &admin,
            "add_reason_code",
            &add("proxy_confirmed", "Proxy interview confirmed")
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.call(&admin, "add_reason_code", &add("proxy_confirmed", "Again"))
            .await
            .status(),
        409
    );
    // Reviewers can now decide with it, and its label shows on the panel.
    provider_result(&app, &sim, 7, "failed", "medium").await;
    let q = queue(&app, &sec).await;
    assert!(q.reason_codes.iter().any(|(c, _)| c == "proxy_confirmed"));
    let res = app
        .call(
            &sec,
            "decide_review",
            &decide_form(
                q.items[0].id,
                "failed",
                "proxy_confirmed",
                "Someone else answered the call.",
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        panel(&app, 7).await.review_reason.as_deref(),
        Some("Proxy interview confirmed")
    );
}

/// 130 open items (candidates 1–26, five sessions each): tiers high, medium, low in turn; the
/// first 40 past their deadline; every tenth assigned to the security reviewer. The queue shows
/// the 25 soonest deadlines, counts all 130, and filters in SQL.
async fn a_long_queue_shows_its_most_urgent_items(app: TestApp, _sim: Sim, _url: String) {
    let security = app.signed_in(SECURITY).await;
    let me: Vec<i64> = common::column(
        &app.db,
        "SELECT id FROM users WHERE email = 'security@clearance.test'",
    )
    .await;
    let now = chrono::Utc::now();
    for i in 0..130i64 {
        let tier = ["high", "medium", "low"][(i % 3) as usize];
        // Deadlines an hour apart, the first 40 already past.
        let deadline = now + chrono::Duration::hours(i - 40) + chrono::Duration::minutes(30);
        let assignee = if i % 10 == 0 {
            me[0].to_string()
        } else {
            "NULL".into()
        };
        let sql = format!(
            "INSERT INTO review_items (candidate_id, session_id, risk_tier, provider_status, state, opened_at, deadline_at, assignee_id)
             VALUES ({}, 'vs_long_{i}', '{tier}', 'needs_review', 'open', $1, '{}', {assignee})",
            i % 26 + 1,
            deadline.to_rfc3339()
        );
        common::exec_at_now(&app.db, &sql).await;
    }
    let q = queue(&app, &security).await;
    assert_eq!((q.items.len(), q.matching), (25, 130));
    assert_eq!((q.high, q.medium, q.low, q.breached), (44, 43, 43, 40));
    let sessions: Vec<String> = q.items.iter().map(|i| i.session_id.clone()).collect();
    let soonest: Vec<String> = (0..25).map(|i| format!("vs_long_{i}")).collect();
    assert_eq!(sessions, soonest);
    assert!(q.items.iter().all(|i| i.breached));

    let filtered = |form: Vec<(&'static str, String)>| {
        let (app, security) = (&app, &security);
        async move {
            let res = app.call(security, "review_queue", &form).await;
            assert_eq!(res.status(), 200);
            res.json::<ReviewQueue>().await.unwrap()
        }
    };
    let high = filtered(vec![("risk", "high".into())]).await;
    assert_eq!((high.items.len(), high.matching), (25, 44));
    assert!(high
        .items
        .iter()
        .all(|i| i.risk_tier == Some(clearance::model::RiskTier::High)));
    let mine = filtered(vec![("assignee", "me".into())]).await;
    assert_eq!((mine.items.len(), mine.matching), (13, 13));
    assert!(mine.items.iter().all(|i| i.assigned_to_me));
    let late = filtered(vec![("breached", "true".into())]).await;
    assert_eq!((late.items.len(), late.matching), (25, 40));
    // Past their deadline and mine: 0, 10, 20, 30.
    let mine_late = filtered(vec![("assignee", "me".into()), ("breached", "true".into())]).await;
    assert_eq!(mine_late.matching, 4);
    // The counts by tier stay the whole queue's, whatever the filter.
    assert_eq!((late.high, late.breached), (44, 40));
}

/// The queue's readings are kept between requests (services::review::QueueCache): each change to
/// what it shows — an item, a candidate's name, a reviewer's name, a reason code — shows on the
/// next request, and so does a deadline passing while nothing is written.
async fn a_kept_queue_follows_every_change_and_the_clock(app: TestApp, _sim: Sim, _url: String) {
    let security = app.signed_in(SECURITY).await;
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(3);
    common::exec_at_now(
        &app.db,
        &format!(
            "INSERT INTO review_items (candidate_id, session_id, risk_tier, provider_status, state, opened_at, deadline_at)
             VALUES (5, 'vs_kept', 'high', 'needs_review', 'open', $1, '{}')",
            deadline.to_rfc3339()
        ),
    )
    .await;
    let q = queue(&app, &security).await;
    assert_eq!((q.items.len(), q.high, q.breached), (1, 1, 0));
    assert!(!q.items[0].breached);
    let item = q.items[0].id;
    assert_eq!(queue(&app, &security).await.items[0].id, item, "kept");

    common::exec_at_now(
        &app.db,
        "UPDATE candidates SET first_name = 'Renamed' WHERE id = 5",
    )
    .await;
    assert!(queue(&app, &security).await.items[0]
        .candidate_name
        .starts_with("Renamed "));

    let claim = app
        .call(&security, "claim_review", &[("item_id", item.to_string())])
        .await;
    assert_eq!(claim.status(), 200);
    let q = queue(&app, &security).await;
    assert!(q.items[0].assigned_to_me);
    common::exec_at_now(
        &app.db,
        "UPDATE users SET name = 'Sam Renamed' WHERE email = 'security@clearance.test'",
    )
    .await;
    let q = queue(&app, &security).await;
    assert_eq!(q.items[0].assignee.as_deref(), Some("Sam Renamed"));
    assert!(q.reviewers.iter().any(|(_, name)| name == "Sam Renamed"));

    let admin = app.signed_in("admin@clearance.test").await;
    let added = app
        .call(
            &admin,
            "add_reason_code",
            &[
                ("code", "kept_code".to_string()),
                ("label", "Kept code".to_string()),
            ],
        )
        .await;
    assert_eq!(added.status(), 200);
    let q = queue(&app, &security).await;
    assert!(q.reason_codes.iter().any(|(code, _)| code == "kept_code"));

    // Nothing is written from here on; the deadline passes.
    let wait = deadline - chrono::Utc::now() + chrono::Duration::milliseconds(300);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    let q = queue(&app, &security).await;
    assert_eq!((q.high, q.breached), (1, 1));
    assert!(q.items[0].breached);
    let late = app
        .call(
            &security,
            "review_queue",
            &[("breached", "true".to_string())],
        )
        .await;
    let late: ReviewQueue = late.json().await.unwrap();
    assert_eq!((late.items.len(), late.matching), (1, 1));
}

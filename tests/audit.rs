//! The audit log under concurrency and attack, on SQLite and PostgreSQL alike.
mod common;

use clearance::model::{AuditEntry, AuditEventType, ChainReport};
use clearance::server::audit::{Actor, Checkpoint, NewAuditEvent};
use clearance::server::db::{self, Db};
use clearance::server::services::audit::{check_against, create_checkpoint, verify_chain};
use common::{Backend, TestApp};

on_both_backends!(
    concurrent_writers_make_one_contiguous_chain,
    the_database_refuses_update_and_delete_but_allows_redaction,
    an_edited_payload_is_found_at_its_entry,
    a_deleted_entry_is_found_at_its_position,
    reordered_entries_are_found,
    an_inserted_entry_is_found,
    checkpoints_reveal_truncation,
    audit_functions_follow_the_permission_table,
);

async fn exec(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
    }
}

/// What an attacker with database superuser rights would do first.
async fn drop_guards(app: &TestApp) {
    match app.backend {
        Backend::Sqlite => {
            exec(&app.db, "DROP TRIGGER audit_log_no_delete")
                .await
                .unwrap();
            exec(&app.db, "DROP TRIGGER audit_log_only_redaction")
                .await
                .unwrap();
        }
        Backend::Postgres => {
            exec(&app.db, "DROP TRIGGER audit_log_guard ON audit_log")
                .await
                .unwrap();
            exec(&app.db, "DROP TRIGGER audit_log_no_truncate ON audit_log")
                .await
                .unwrap();
        }
    }
}

async fn head_count(db: &Db) -> i64 {
    match verify_chain(db).await.unwrap() {
        ChainReport::Intact { count, .. } => count,
        broken => panic!("expected an intact chain, got {broken}"),
    }
}

fn note(i: usize) -> NewAuditEvent {
    NewAuditEvent::new(
        Actor::System(format!("writer {i}")),
        "test",
        i,
        AuditEventType::ReconciliationRun,
        serde_json::json!({ "writer": i }),
    )
}

async fn concurrent_writers_make_one_contiguous_chain(app: TestApp) {
    let before = head_count(&app.db).await;
    assert!(
        before >= 55,
        "demo data wrote its users and candidates through the log"
    );
    let mut tasks = Vec::new();
    for i in 0..50 {
        let db = app.db.clone();
        tasks.push(tokio::spawn(async move {
            db::audit::append(&db, &note(i)).await.map(|e| e.seq)
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap().expect("append under contention"));
    }
    seqs.sort();
    assert_eq!(
        seqs,
        ((before + 1)..=(before + 50)).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    assert_eq!(head_count(&app.db).await, before + 50);
}

async fn the_database_refuses_update_and_delete_but_allows_redaction(app: TestApp) {
    for sql in [
        "UPDATE audit_log SET actor_label = 'Someone Else' WHERE seq = 3",
        "UPDATE audit_log SET payload = '{}' WHERE seq = 3",
        "UPDATE audit_log SET payload = NULL, redacted_at = occurred_at, hash = 'x' WHERE seq = 3",
        "DELETE FROM audit_log WHERE seq = 3",
    ] {
        let err = exec(&app.db, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    if app.backend == Backend::Postgres {
        let err = exec(&app.db, "TRUNCATE audit_log")
            .await
            .expect_err("truncate");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    // Payloads removed without a deletion that accounts for them: the hashes still hold (the
    // link covers the payload's digest), but the verifier names the unexplained redaction.
    let before = head_count(&app.db).await;
    let redacted = db::audit::redact_subject(&app.db, "candidate", "1", chrono::Utc::now())
        .await
        .unwrap();
    assert!(redacted >= 1);
    let timeline = db::audit::for_subject(&app.db, "candidate", "1")
        .await
        .unwrap();
    assert!(timeline.iter().all(|e| e.payload.is_none()));
    assert_eq!(
        timeline[0].to_entry().unwrap().summary,
        "(details redacted)"
    );
    let (seq, field) = broken_at(verify_chain(&app.db).await.unwrap());
    assert_eq!((seq, field.as_str()), (timeline[0].seq, "payload"));
    assert!(seq <= before);
}

fn broken_at(report: ChainReport) -> (i64, String) {
    match report {
        ChainReport::Broken { seq, field, .. } => (seq, field),
        intact => panic!("tampering went unnoticed: {intact}"),
    }
}

async fn an_edited_payload_is_found_at_its_entry(app: TestApp) {
    drop_guards(&app).await;
    exec(
        &app.db,
        "UPDATE audit_log SET payload = '{\"job\":\"Forged\"}' WHERE seq = 10",
    )
    .await
    .unwrap();
    assert_eq!(
        broken_at(verify_chain(&app.db).await.unwrap()),
        (10, "payload_sha256".into())
    );
}

async fn a_deleted_entry_is_found_at_its_position(app: TestApp) {
    drop_guards(&app).await;
    assert_eq!(
        exec(&app.db, "DELETE FROM audit_log WHERE seq = 20")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        broken_at(verify_chain(&app.db).await.unwrap()),
        (20, "seq".into())
    );
}

async fn reordered_entries_are_found(app: TestApp) {
    drop_guards(&app).await;
    exec(&app.db, "UPDATE audit_log SET seq = -1 WHERE seq = 30")
        .await
        .unwrap();
    exec(&app.db, "UPDATE audit_log SET seq = 30 WHERE seq = 31")
        .await
        .unwrap();
    exec(&app.db, "UPDATE audit_log SET seq = 31 WHERE seq = -1")
        .await
        .unwrap();
    let (seq, _) = broken_at(verify_chain(&app.db).await.unwrap());
    assert_eq!(seq, 30);
}

async fn an_inserted_entry_is_found(app: TestApp) {
    drop_guards(&app).await;
    // Make room after entry 40 and insert a forged entry that links correctly to entry 40.
    let n = head_count(&app.db).await;
    for seq in (41..=n).rev() {
        exec(
            &app.db,
            &format!("UPDATE audit_log SET seq = {} WHERE seq = {seq}", seq + 1),
        )
        .await
        .unwrap();
    }
    let forty = db::audit::entries_after(&app.db, 39, 1)
        .await
        .unwrap()
        .remove(0);
    let mut forged = forty.clone();
    forged.seq = 41;
    forged.prev_hash = forty.hash.clone();
    forged.actor_label = "Forger".into();
    forged.hash = forged.fields().hash();
    exec(
        &app.db,
        &format!(
            "INSERT INTO audit_log (seq, occurred_at, actor_type, actor_id, actor_label, subject_type, subject_id, event_type, payload, payload_sha256, prev_hash, hash)
             SELECT 41, occurred_at, actor_type, actor_id, 'Forger', subject_type, subject_id, event_type, payload, payload_sha256, '{}', '{}' FROM audit_log WHERE seq = 40",
            forged.prev_hash, forged.hash
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        broken_at(verify_chain(&app.db).await.unwrap()),
        (42, "prev_hash".into())
    );
}

async fn checkpoints_reveal_truncation(app: TestApp) {
    let key = clearance::server::audit::decode_signing_key(
        &clearance::server::audit::generate_signing_key(),
    )
    .unwrap();
    let cp: Checkpoint = create_checkpoint(&app.db, &key).await.unwrap();
    assert!(check_against(&app.db, &cp, Some(&key.verifying_key()))
        .await
        .is_ok());
    assert_eq!(db::audit::checkpoints(&app.db, 1).await.unwrap()[0], cp);
    // Later entries do not disturb an earlier checkpoint.
    db::audit::append(&app.db, &note(1)).await.unwrap();
    assert!(check_against(&app.db, &cp, None).await.is_ok());
    // Cutting the tail leaves a chain that verifies on its own, but not against the checkpoint.
    drop_guards(&app).await;
    exec(
        &app.db,
        &format!("DELETE FROM audit_log WHERE seq >= {}", cp.count - 2),
    )
    .await
    .unwrap();
    assert!(matches!(
        verify_chain(&app.db).await.unwrap(),
        ChainReport::Intact { .. }
    ));
    let err = check_against(&app.db, &cp, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("truncated"), "{err}");
}

async fn audit_functions_follow_the_permission_table(app: TestApp) {
    let users = [
        ("admin@clearance.test", 200, 200),
        ("recruiter@clearance.test", 403, 200),
        ("security@clearance.test", 200, 200),
        ("manager@clearance.test", 403, 403),
    ];
    for (email, audit_status, timeline_status) in users {
        let c = app.signed_in(email).await;
        assert_eq!(
            app.call(&c, "verify_audit_chain", &[]).await.status(),
            audit_status,
            "verify as {email}"
        );
        assert_eq!(
            app.call(&c, "recent_audit", &[]).await.status(),
            audit_status,
            "recent as {email}"
        );
        assert_eq!(
            app.call(&c, "latest_checkpoint", &[]).await.status(),
            audit_status,
            "checkpoint as {email}"
        );
        let t = app
            .call(&c, "candidate_timeline", &[("candidate_id", "1".into())])
            .await;
        assert_eq!(t.status(), timeline_status, "timeline as {email}");
    }
    assert_eq!(
        app.call(&app.client(), "verify_audit_chain", &[])
            .await
            .status(),
        401
    );

    // A stage move shows on the candidate's timeline with who did it; sign-ins are in the log.
    let r = app.signed_in("recruiter@clearance.test").await;
    let res = app
        .call(
            &r,
            "move_stage",
            &[("application_id", "1".into()), ("stage", "rejected".into())],
        )
        .await;
    assert_eq!(res.status(), 200);
    let timeline: Vec<AuditEntry> = app
        .call(&r, "candidate_timeline", &[("candidate_id", "1".into())])
        .await
        .json()
        .await
        .unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(last.event_type, AuditEventType::StageChanged);
    assert_eq!(last.actor, "Riley Recruiter");
    assert_eq!(last.summary, "Applied → Rejected (Senior Backend Engineer)");
    let sec = app.signed_in("security@clearance.test").await;
    let report: ChainReport = app
        .call(&sec, "verify_audit_chain", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(matches!(report, ChainReport::Intact { .. }), "{report}");
    let recent: Vec<AuditEntry> = app
        .call(&sec, "recent_audit", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(recent[0].event_type, AuditEventType::AuditVerified);
    assert!(recent
        .iter()
        .any(|e| e.event_type == AuditEventType::LoginSucceeded && e.actor == "Sam Security"));
    assert!(recent
        .iter()
        .any(|e| e.event_type == AuditEventType::StageChanged));
}

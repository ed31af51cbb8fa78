//! The audit export over HTTP: streamed in batches, complete, role-gated, on both databases.
mod common;

use common::TestApp;
use futures::StreamExt;

on_both_backends!(
    ten_thousand_candidates_stream_out_completely,
    export_answers_who_approved_and_checks_its_caller,
    formulas_in_names_are_neutralised_in_the_csv,
);

async fn exec(app: &TestApp, sql: &str) {
    common::exec_at_now(&app.db, sql).await;
}

fn range() -> String {
    let today = chrono::Utc::now().date_naive();
    format!("from={}&to={}", today.pred_opt().unwrap(), today)
}

async fn ten_thousand_candidates_stream_out_completely(app: TestApp) {
    exec(
        &app,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
                INSERT INTO candidates (first_name, last_name, email, created_at)
                SELECT 'Bulk', 'Person' || i, 'bulk' || i || '@example.com', $1 FROM n",
    )
    .await;
    exec(
        &app,
        "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at)
                SELECT id, 1, 'applied', $1, $1 FROM candidates WHERE email LIKE 'bulk%'",
    )
    .await;
    exec(&app, "INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at)
                SELECT a.id, NULL, 'applied', NULL, $1 FROM applications a JOIN candidates c ON c.id = a.candidate_id
                WHERE c.email LIKE 'bulk%'").await;
    let admin = app.signed_in("admin@clearance.test").await;
    let res = admin
        .get(format!(
            "{}/audit/export?{}&format=csv",
            app.address,
            range()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let mut chunks = 0;
    let mut body = Vec::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        chunks += 1;
        body.extend_from_slice(&chunk.unwrap());
    }
    assert!(
        chunks > 10,
        "10 050 rows arrive in many pieces, got {chunks}"
    );
    let mut reader = csv::Reader::from_reader(body.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 10_050);
    assert_eq!(reader.headers().unwrap().get(6), Some("approved_by"));

    let json = admin
        .get(format!(
            "{}/audit/export?{}&format=json&job=1",
            app.address,
            range()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    let parsed: Vec<serde_json::Value> = json.json().await.unwrap();
    assert_eq!(
        parsed.len(),
        10_000 + 13,
        "the bulk rows plus the demo candidates on job 1"
    );
}

async fn export_answers_who_approved_and_checks_its_caller(app: TestApp) {
    let r = app.signed_in("recruiter@clearance.test").await;
    // Candidate 1 (application 1) is not verified: a security reviewer grants an exception for
    // the offer stage, then the recruiter moves the candidate there.
    let sec = app.signed_in("security@clearance.test").await;
    let granted = app
        .call(
            &sec,
            "grant_exception",
            &[
                ("candidate_id", "1".into()),
                ("stage", "offer".into()),
                ("reason_code", "exception_verification_scheduled".into()),
                ("hours", "12".into()),
            ],
        )
        .await;
    assert_eq!(granted.status(), 200);
    let res = app
        .call(
            &r,
            "move_stage",
            &[("application_id", "1".into()), ("stage", "offer".into())],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        r.get(format!("{}/audit/export?{}", app.address, range()))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Signed out, a browser is sent to the sign-in page.
    let anonymous = app
        .client()
        .get(format!("{}/audit/export?{}", app.address, range()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/login");
    let bad = sec
        .get(format!(
            "{}/audit/export?from=yesterday&to=today",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("not a date"));
    let res = sec
        .get(format!(
            "{}/audit/export?{}&format=json",
            app.address,
            range()
        ))
        .send()
        .await
        .unwrap();
    let rows: Vec<serde_json::Value> = res.json().await.unwrap();
    let ada = rows.iter().find(|r| r["candidate_id"] == 1).unwrap();
    assert_eq!(ada["stage"], "offer");
    assert!(
        ada["approved_by"].as_str().unwrap().starts_with("offer "),
        "{ada}"
    );
    assert!(ada["approved_by"]
        .as_str()
        .unwrap()
        .ends_with("by Riley Recruiter"));
    assert!(ada["stage_timeline"]
        .as_str()
        .unwrap()
        .starts_with("applied "));
    // The export itself is on the record.
    let recent: Vec<clearance::model::AuditEntry> = app
        .call(&sec, "recent_audit", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(recent.iter().any(
        |e| e.event_type == clearance::model::AuditEventType::AuditExported
            && e.actor == "Sam Security"
    ));
    // The count preview agrees.
    let today = chrono::Utc::now().date_naive();
    let n: i64 = app
        .call(
            &sec,
            "export_count",
            &[
                ("from", today.pred_opt().unwrap().to_string()),
                ("to", today.to_string()),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(n as usize, rows.len());
}

async fn formulas_in_names_are_neutralised_in_the_csv(app: TestApp) {
    exec(
        &app,
        "INSERT INTO candidates (first_name, last_name, email, created_at)
         VALUES ('=HYPERLINK(\"http://x\")', '+Evil', 'formula@example.com', $1)",
    )
    .await;
    exec(
        &app,
        "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at)
         SELECT id, 1, 'applied', $1, $1 FROM candidates WHERE email = 'formula@example.com'",
    )
    .await;
    exec(&app, "INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at)
                SELECT a.id, NULL, 'applied', NULL, $1 FROM applications a JOIN candidates c ON c.id = a.candidate_id
                WHERE c.email = 'formula@example.com'").await;
    let admin = app.signed_in("admin@clearance.test").await;
    let body = admin
        .get(format!(
            "{}/audit/export?{}&format=csv",
            app.address,
            range()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let row = reader
        .records()
        .map(|r| r.unwrap())
        .find(|r| r.get(2) == Some("formula@example.com"))
        .expect("the candidate is exported");
    assert_eq!(row.get(1), Some("'=HYPERLINK(\"http://x\") +Evil"));
    // Every cell of the export is safe to open in a spreadsheet.
    for record in csv::Reader::from_reader(body.as_bytes()).records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "unsafe cell {cell:?}"
            );
        }
    }
}

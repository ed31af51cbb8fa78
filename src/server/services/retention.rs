//! Retention and data access: delete a candidate (with audit redaction), export everything about
//! one candidate as a single archive.
use crate::error::AppError;
use crate::model::{AuditEventType, CurrentUser};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{self, Db};
use chrono::Utc;

/// Deletes a candidate (admins); `confirm_email` must repeat the candidate's email.
pub async fn delete_candidate(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
    confirm_email: &str,
) -> Result<(), AppError> {
    super::access::require(user, crate::model::Permission::ManageSettings)?;
    let c = db::candidates::find_candidate(db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !confirm_email.trim().eq_ignore_ascii_case(&c.email) {
        return Err(AppError::BadRequest(
            "To confirm, type the candidate's email address exactly.".into(),
        ));
    }
    // No personal data in the deletion's own entry: who deleted which record id, when, and how
    // many of its audit payloads were redacted (the chain verifier checks that count).
    let audit = |redacted: u64| {
        NewAuditEvent::new(
            Actor::from(user),
            "candidate",
            candidate_id,
            AuditEventType::CandidateDeleted,
            serde_json::json!({ "candidate_id": candidate_id, "redacted_entries": redacted }),
        )
    };
    if !db::candidates::delete_candidate(db, candidate_id, clock::now(), audit).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Everything Clearance holds about one candidate: `candidate.json` plus the report files.
pub async fn export_candidate(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<(String, Vec<u8>), AppError> {
    // Admins only; to anyone else the archive does not exist.
    if !user.role.can(crate::model::Permission::ManageSettings) {
        return Err(AppError::NotFound);
    }
    let c = db::candidates::find_candidate(db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let apps = db::candidates::applications_of(db, candidate_id).await?;
    let history = db::candidates::stage_history(db, candidate_id).await?;
    let sessions = db::verification::sessions_of(db, candidate_id).await?;
    let orders = db::background::orders_of(db, candidate_id).await?;
    let exceptions =
        db::policy::live_exceptions(db, candidate_id, chrono::DateTime::<Utc>::UNIX_EPOCH).await?;
    let interviews = db::integrity::interviews_of(db, candidate_id).await?;
    let reports = db::integrity::reports_of(db, candidate_id).await?;
    let audit = db::audit::for_subject(db, "candidate", &candidate_id.to_string()).await?;
    let adverse = db::adverse::actions_of(db, candidate_id).await?;
    let notices = db::adverse::notices_of(db, candidate_id).await?;
    let responses = db::adverse::responses_of(db, candidate_id).await?;
    let mut files = Vec::new();
    let mut response_json = Vec::new();
    for r in &responses {
        let file = match (
            &r.document_name,
            db::adverse::response_document(db, r.id).await?,
        ) {
            (Some(name), Some((_, _, bytes))) => {
                let path = format!("responses/{}-{name}", r.id);
                files.push((path.clone(), bytes));
                Some(path)
            }
            _ => None,
        };
        response_json.push(serde_json::json!({
            "adverse_action_id": r.action_id, "note": r.note, "recorded_by": r.recorded_by_name,
            "recorded_at": r.recorded_at, "file": file,
        }));
    }
    let mut report_json = Vec::new();
    for r in &reports {
        let path = format!("reports/{}-{}", r.id, r.filename);
        if let Some((_, _, _, bytes)) = db::integrity::report_file(db, r.id).await? {
            files.push((path.clone(), bytes));
        }
        report_json.push(serde_json::json!({
            "id": r.id, "interview_id": r.interview_id, "monitor_session_id": r.monitor_session_id,
            "generated_at": r.generated_at, "consent": r.consent, "integrity_score": r.integrity_score,
            "flags": serde_json::from_str::<serde_json::Value>(&r.flags).unwrap_or_default(),
            "summary": r.summary, "sha256": r.sha256, "file": path, "received_at": r.received_at,
        }));
    }
    let doc = serde_json::json!({
        "exported_at": clock::now(),
        "exported_by": user.name,
        "candidate": {
            "id": c.id, "first_name": c.first_name, "last_name": c.last_name, "email": c.email,
            "phone": c.phone, "address": c.address, "address_2": c.address_2, "city": c.city,
            "state": c.state, "zip": c.zip, "verification_status": c.verification_status,
            "verification_risk_tier": c.verification_risk_tier, "verification_verified_at": c.verification_verified_at,
        },
        "applications": apps.iter().map(|a| serde_json::json!({
            "id": a.id, "job": a.job_title, "stage": a.stage, "hiring_manager": a.hiring_manager_name,
            "policy": a.policy_name,
        })).collect::<Vec<_>>(),
        "stage_history": history.iter().map(|h| serde_json::json!({
            "application_id": h.application_id, "from": h.from_stage, "to": h.to_stage,
            "by": h.actor_name, "at": h.changed_at,
        })).collect::<Vec<_>>(),
        "verification_sessions": sessions.iter().map(|s| serde_json::json!({
            "session_id": s.session_id, "status": s.status, "risk_tier": s.risk_tier,
            "reason_codes": serde_json::from_str::<serde_json::Value>(&s.reason_codes).unwrap_or_default(),
            "evidence_pack_url": s.evidence_pack_url, "policy": s.policy_name, "created_at": s.created_at,
            "updated_at": s.updated_at,
        })).collect::<Vec<_>>(),
        "background_checks": orders.iter().map(|o| serde_json::json!({
            "background_check_id": o.background_check_id, "partner": o.partner_name, "package": o.package_name,
            "add_ons": serde_json::from_str::<serde_json::Value>(&o.add_ons).unwrap_or_default(),
            "total": o.total, "status": o.status, "result": o.result, "result_link_url": o.result_link_url,
            "ordered_by": o.ordered_by_name, "ordered_at": o.created_at,
        })).collect::<Vec<_>>(),
        "stage_exceptions": exceptions.iter().map(|e| serde_json::json!({
            "stage": e.stage, "reason_code": e.reason_code, "approved_by": e.approved_by_name,
            "approved_at": e.approved_at, "expiry_at": e.expiry_at,
        })).collect::<Vec<_>>(),
        "interviews": interviews.iter().map(|i| serde_json::json!({
            "id": i.id, "stage": i.stage, "scheduled_at": i.scheduled_at, "time_zone": i.time_zone,
            "interviewers": serde_json::from_str::<serde_json::Value>(&i.interviewers).unwrap_or_default(),
            "state": i.state, "monitor_session_id": i.monitor_session_id,
        })).collect::<Vec<_>>(),
        "integrity_reports": report_json,
        "adverse_actions": adverse.iter().map(|a| serde_json::json!({
            "id": a.id, "job": a.job_title, "state": a.state, "findings": a.findings,
            "offense_gravity": a.offense_gravity, "time_elapsed": a.time_elapsed, "job_nature": a.job_nature,
            "rationale": a.rationale, "assessed_by": a.assessed_by_name, "assessed_at": a.assessed_at,
            "waiting_days": a.wait_days, "business_days": a.wait_business, "deadline_at": a.deadline_at,
            "closed_reason": a.closed_reason, "closed_at": a.closed_at, "started_by": a.started_by_name,
            "started_at": a.created_at,
            "notices": notices.iter().filter(|n| n.action_id == a.id).map(|n| serde_json::json!({
                "kind": n.kind, "template_version": n.template_version, "recipient": n.recipient,
                "subject": n.subject, "body": n.body, "sha256": n.sha256, "email": n.email_state,
                "sent_at": n.sent_at, "created_at": n.created_at,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "adverse_action_responses": response_json,
        "audit_trail": audit.iter().filter_map(|e| e.to_entry()).map(|e| serde_json::json!({
            "seq": e.seq, "at": e.occurred_at, "actor": e.actor, "type": e.event_type.as_str(), "summary": e.summary,
        })).collect::<Vec<_>>(),
    });
    let json = serde_json::to_vec_pretty(&doc).map_err(crate::server::auth::internal)?;
    let mut entries = vec![("candidate.json".to_string(), json)];
    entries.extend(files);
    let event = NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        candidate_id,
        AuditEventType::CandidateDataExported,
        serde_json::json!({ "files": entries.len() }),
    );
    db::audit::append(db, &event).await?;
    Ok((
        format!("candidate-{candidate_id}-data.zip"),
        archive(&entries, clock::now()).map_err(crate::server::auth::internal)?,
    ))
}

/// A ZIP archive of `(name, bytes)` entries, deflated, dated `at` (ZIP64 for an entry that needs it).
pub fn archive(
    entries: &[(String, Vec<u8>)],
    at: chrono::DateTime<Utc>,
) -> zip::result::ZipResult<Vec<u8>> {
    use chrono::{Datelike, Timelike};
    use std::io::Write;
    let stamp = zip::DateTime::from_date_and_time(
        at.year().clamp(1980, 2107) as u16,
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )
    .unwrap_or_default();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(stamp)
            .large_file(data.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(name.as_str(), options)?;
        zip.write_all(data)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn archives_read_back_with_names_bytes_and_date() {
        let entries = vec![
            ("candidate.json".to_string(), b"{\"a\":1}".repeat(100)),
            ("reports/1-report.pdf".to_string(), vec![0u8, 1, 2, 255]),
        ];
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T10:20:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let bytes = archive(&entries, at).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(zip.len(), 2);
        for (i, (name, data)) in entries.iter().enumerate() {
            let mut file = zip.by_index(i).unwrap();
            assert_eq!(file.name().unwrap(), name.as_str());
            let modified = file.last_modified().unwrap();
            assert_eq!(
                (modified.year(), modified.month(), modified.day()),
                (2026, 12, 3)
            );
            assert_eq!((modified.hour(), modified.minute()), (10, 20));
            let mut read = Vec::new();
            file.read_to_end(&mut read).unwrap();
            assert_eq!(&read, data);
        }
        // Deflated: the repeated JSON takes far less room than its 700 bytes.
        assert!(zip.by_index(0).unwrap().compressed_size() < 100);
    }
}

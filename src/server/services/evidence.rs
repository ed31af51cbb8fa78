//! Evidence packs: per verification session, the time-stamped record behind the decision.
use crate::error::AppError;
use crate::model::{reason_code_label, AuditEventType, CurrentUser, EvidenceEvent, EvidencePack};
use crate::server::audit::{canonical_json, sha256_hex, Actor, NewAuditEvent, StoredEntry};
use crate::server::db::{self, Db};
use chrono::{DateTime, Utc};

/// Which of a candidate's audit entries belong to a session's pack: the entries from the request
/// that led to the session until the next session began, minus other sessions' provider events
/// and the pack's own "opened" entries (so opening a pack never changes it).
pub fn select_events(
    entries: &[StoredEntry],
    session_id: &str,
    window_start: DateTime<Utc>,
    window_end: Option<DateTime<Utc>>,
) -> Vec<EvidenceEvent> {
    entries
        .iter()
        .filter(|e| {
            e.occurred_at >= window_start && window_end.is_none_or(|end| e.occurred_at < end)
        })
        .filter(|e| e.event_type != AuditEventType::EvidencePackViewed.as_str())
        .filter(|e| {
            let payload_session = e
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
                .and_then(|v| {
                    v.get("session_id")
                        .and_then(|s| s.as_str())
                        .map(str::to_string)
                });
            payload_session.is_none_or(|s| s == session_id)
        })
        .filter_map(|e| {
            let entry = e.to_entry()?;
            Some(EvidenceEvent {
                seq: entry.seq,
                at: entry.occurred_at,
                actor: entry.actor,
                event: entry.event_type.label().to_string(),
                summary: entry.summary,
                entry_hash: entry.hash,
            })
        })
        .collect()
}

/// The SHA-256 of the pack's canonical JSON, computed with the `sha256` field left empty.
pub fn pack_digest(pack: &EvidencePack) -> String {
    let mut unsigned = pack.clone();
    unsigned.sha256 = String::new();
    let mut value = serde_json::to_value(&unsigned).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("sha256");
    }
    sha256_hex(canonical_json(&value))
}

/// Builds the pack; `None` when there is no such session.
pub async fn build(db: &Db, session_id: &str) -> Result<Option<EvidencePack>, AppError> {
    let Some(session) = db::verification::find_session(db, session_id).await? else {
        return Ok(None);
    };
    let Some(candidate) = db::candidates::find_candidate(db, session.candidate_id).await? else {
        return Ok(None);
    };
    let sessions = db::verification::sessions_of(db, candidate.id).await?;
    let next_start = sessions
        .iter()
        .filter(|s| s.created_at > session.created_at)
        .map(|s| s.created_at)
        .min();
    let entries = db::audit::for_subject(db, "candidate", &candidate.id.to_string()).await?;
    // The request that led to this session opens the window.
    let window_start = entries
        .iter()
        .filter(|e| {
            e.event_type == AuditEventType::VerificationRequested.as_str()
                && e.occurred_at <= session.created_at
        })
        .map(|e| e.occurred_at)
        .max()
        .unwrap_or(session.created_at);
    let mut pack = EvidencePack {
        session_id: session.session_id.clone(),
        candidate_id: candidate.id,
        candidate_name: format!("{} {}", candidate.first_name, candidate.last_name),
        status: session.status,
        risk_tier: session.risk_tier,
        reason_codes: serde_json::from_str::<Vec<String>>(&session.reason_codes)
            .unwrap_or_default()
            .iter()
            .map(|c| reason_code_label(c))
            .collect(),
        policy_name: session.policy_name.clone(),
        provider_evidence_url: session.evidence_pack_url.clone(),
        session_created_at: session.created_at,
        events: select_events(&entries, &session.session_id, window_start, next_start),
        sha256: String::new(),
    };
    pack.sha256 = pack_digest(&pack);
    Ok(Some(pack))
}

/// Opens a pack for a permitted user (others get 404) and records that they did.
pub async fn open(
    db: &Db,
    user: &CurrentUser,
    session_id: &str,
    how: &str,
) -> Result<EvidencePack, AppError> {
    use crate::model::Permission;
    if !user.role.can(Permission::ViewVerificationDetails) {
        return Err(AppError::NotFound);
    }
    let pack = build(db, session_id).await?.ok_or(AppError::NotFound)?;
    let event = NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        pack.candidate_id,
        AuditEventType::EvidencePackViewed,
        serde_json::json!({ "session_id": pack.session_id, "sha256": pack.sha256, "as": how }),
    );
    db::audit::append(db, &event).await?;
    Ok(pack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(seq: i64, secs: u32, event_type: &str, payload: &str) -> StoredEntry {
        StoredEntry {
            seq,
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, secs).unwrap(),
            actor_type: "user".into(),
            actor_id: Some("1".into()),
            actor_label: "Riley Recruiter".into(),
            subject_type: "candidate".into(),
            subject_id: "7".into(),
            event_type: event_type.into(),
            payload: Some(payload.into()),
            payload_sha256: sha256_hex(payload),
            prev_hash: String::new(),
            hash: format!("h{seq}"),
        }
    }

    #[test]
    fn a_pack_holds_its_session_window_only() {
        let entries = vec![
            entry(
                1,
                0,
                "candidate_created",
                r#"{"job":"J","stage":"applied","source":"demo"}"#,
            ),
            entry(2, 10, "verification_requested", "{}"),
            entry(3, 12, "verification_started", r#"{"session_id":"vs_1"}"#),
            entry(
                4,
                13,
                "stage_changed",
                r#"{"from":"applied","to":"phone_screen","job":"J"}"#,
            ),
            entry(5, 14, "evidence_pack_viewed", r#"{"session_id":"vs_1"}"#),
            entry(
                6,
                15,
                "verification_completed",
                r#"{"session_id":"vs_other"}"#,
            ),
            entry(7, 30, "verification_completed", r#"{"session_id":"vs_1"}"#),
        ];
        let start = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 10).unwrap();
        let end = Some(Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 20).unwrap());
        let seqs: Vec<i64> = select_events(&entries, "vs_1", start, end)
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![2, 3, 4]);
        let all: Vec<i64> = select_events(&entries, "vs_1", start, None)
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(all, vec![2, 3, 4, 7]);
    }

    #[test]
    fn the_digest_covers_the_content_and_not_itself() {
        let mut pack = EvidencePack {
            session_id: "vs_1".into(),
            candidate_id: 7,
            candidate_name: "Ada Lovelace".into(),
            status: crate::model::VerificationStatus::Verified,
            risk_tier: Some(crate::model::RiskTier::Low),
            reason_codes: vec![],
            policy_name: None,
            provider_evidence_url: None,
            session_created_at: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap(),
            events: vec![],
            sha256: String::new(),
        };
        let d = pack_digest(&pack);
        pack.sha256 = d.clone();
        assert_eq!(pack_digest(&pack), d, "stable once filled in");
        pack.status = crate::model::VerificationStatus::Failed;
        assert_ne!(pack_digest(&pack), d);
    }
}

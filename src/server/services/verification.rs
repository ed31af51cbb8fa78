//! Identity verification: requesting sessions, receiving the provider's events, the panel.
use crate::error::AppError;
use crate::model::{
    reason_code_label, AuditEventType, CurrentUser, ReviewState, RiskTier, VerificationEventType,
    VerificationPanel, VerificationStatus,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::business_hours::BusinessCalendar;
use crate::server::clock;
use crate::server::config::Secret;
use crate::server::db::{
    self,
    jobs::JobRow,
    verification::{Applied, EventDetails, InboundEvent},
    Db,
};
use crate::server::group_commit::{BatchFailed, GroupCommit};
use crate::server::partners::{self, signature, CallError};
use crate::server::services::refusal::Refusal;
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const DEFAULT_POLICY: &str = "ats-embedded-verification-status";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateSessionJob {
    pub candidate_id: i64,
    pub requested_by: Option<i64>,
    pub policy_name: String,
}

/// Our candidate id as the provider knows it, and back ("c_42" is accepted too).
pub fn candidate_ref(id: i64) -> String {
    id.to_string()
}

pub fn parse_candidate_ref(r: &str) -> Option<i64> {
    r.trim()
        .strip_prefix("c_")
        .unwrap_or(r.trim())
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0)
}

/// Queues a new provider session for the candidate (recruiter, admin or security reviewer).
pub async fn request(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<(), AppError> {
    super::access::require(user, crate::model::Permission::RequestVerification)?;
    request_with(state, user, candidate_id, false).await
}

/// Like `request`; a reviewer's re-verification may go out while the result is under review.
pub async fn request_with(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
    from_review: bool,
) -> Result<(), AppError> {
    let candidate = db::candidates::find_candidate(&state.db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let pending = db::verification::pending_request(&state.db, candidate_id).await?;
    if let Some(why) = refusal(state, candidate.verification_status, pending, from_review) {
        return Err(AppError::Conflict(why));
    }
    send_request(
        state,
        user,
        candidate_id,
        candidate.verification_status,
        None,
    )
    .await?;
    Ok(())
}

/// Why a verification request for a candidate in `status` cannot go out now, if it cannot:
/// no provider, one already on its way (`pending`), or a session still open (a reviewer's
/// re-verification, `from_review`, may go out while the result is under review).
pub fn refusal(
    state: &AppState,
    status: VerificationStatus,
    pending: bool,
    from_review: bool,
) -> Option<String> {
    if state.config.verification_url.is_none() || state.config.verification_api_key.is_none() {
        return Some("No identity-verification provider is configured. Ask an admin to set CLEARANCE_VERIFICATION_URL and its API key.".into());
    }
    if pending {
        return Some(
            "A verification request for this candidate is already on its way to the provider."
                .into(),
        );
    }
    if !from_review
        && matches!(
            status,
            VerificationStatus::InProgress | VerificationStatus::NeedsReview
        )
    {
        return Some(format!(
            "Verification is already {}; wait for its outcome.",
            status.label().to_lowercase()
        ));
    }
    None
}

/// Records the request and queues the session's creation (the checks are the caller's). As part
/// of bulk job `bulk`, the audit entry names it and the job's item is marked in the same
/// transaction: false when that item was not waiting any more (nothing is requested then).
pub async fn send_request(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
    status: VerificationStatus,
    bulk: Option<&db::bulk::ItemRef>,
) -> Result<bool, AppError> {
    let db = &state.db;
    let policy_name = db::candidates::applications_of(db, candidate_id)
        .await?
        .into_iter()
        .find_map(|a| a.policy_name)
        .unwrap_or_else(|| DEFAULT_POLICY.to_string());
    let job = CreateSessionJob {
        candidate_id,
        requested_by: Some(user.id),
        policy_name: policy_name.clone(),
    };
    let payload = serde_json::to_string(&job).map_err(crate::server::auth::internal)?;
    let mut details =
        serde_json::json!({ "policy_name": policy_name, "previous_status": status.as_str() });
    if let Some(item) = bulk {
        details["bulk_job"] = item.bulk_id.into();
    }
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        candidate_id,
        AuditEventType::VerificationRequested,
        details,
    );
    Ok(db::verification::request_session(
        db,
        candidate_id,
        &payload,
        state.config.delivery_max_attempts,
        clock::now(),
        &audit,
        bulk,
    )
    .await?
    .is_some())
}

/// The worker's half: POST the session to the provider, store what it answers.
pub async fn create_session_job(state: &AppState, job: &JobRow) -> Result<String, CallError> {
    let spec: CreateSessionJob =
        serde_json::from_str(&job.payload).map_err(|e| CallError::Final {
            status: None,
            detail: format!("job payload unreadable: {e}"),
        })?;
    let final_err = |detail: String| CallError::Final {
        status: None,
        detail,
    };
    let (Some(url), Some(key)) = (
        &state.config.verification_url,
        &state.config.verification_api_key,
    ) else {
        return Err(final_err(
            "no identity-verification provider is configured".into(),
        ));
    };
    let c = db::candidates::find_candidate(&state.db, spec.candidate_id)
        .await
        .map_err(|e| CallError::Retryable {
            status: None,
            detail: format!("database: {e}"),
            retry_after: None,
        })?
        .ok_or_else(|| final_err("the candidate no longer exists".into()))?;
    let body = partners::verification::CreateSession {
        candidate_id: candidate_ref(c.id),
        first_name: c.first_name,
        last_name: c.last_name,
        email: c.email,
        policy_name: spec.policy_name.clone(),
    };
    let created =
        partners::verification::create_session(&state.http, url, key.expose(), &body).await?;
    db::verification::session_created(
        &state.db,
        c.id,
        &created.session_id,
        &created.candidate_url,
        Some(&spec.policy_name),
        clock::now(),
    )
    .await
    .map_err(|e| CallError::Retryable {
        status: None,
        detail: format!("database: {e}"),
        retry_after: None,
    })?;
    Ok(format!("session {} created", created.session_id))
}

/// `POST /webhooks/verification`: the signature (with the configured secret), then the body.
pub fn check_webhook(
    secret: Option<&Secret>,
    webhook_id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
) -> Result<(InboundEvent, EventDetails), Refusal> {
    let Some(secret) = secret else {
        return Err(Refusal::RetryLater(
            "verification webhooks are not configured here".into(),
        ));
    };
    let now = clock::now().timestamp();
    signature::verify(
        secret.expose(),
        webhook_id,
        timestamp,
        signatures,
        body,
        now,
    )
    .map_err(|e| Refusal::BadSignature(e.to_string()))?;
    parse_webhook(webhook_id.unwrap_or_default(), body)
}

/// Why a verification webhook body was refused, in words the provider's engineers can act on.
pub fn parse_webhook(
    webhook_id: &str,
    body: &[u8],
) -> Result<(InboundEvent, EventDetails), Refusal> {
    parse_body(webhook_id, body).map_err(Refusal::Malformed)
}

fn parse_body(webhook_id: &str, body: &[u8]) -> Result<(InboundEvent, EventDetails), String> {
    #[derive(Deserialize)]
    struct Envelope {
        #[serde(rename = "type")]
        kind: String,
        data: Data,
    }
    #[derive(Deserialize)]
    struct Data {
        candidate_id: String,
        session_id: String,
        event_created_at: DateTime<Utc>,
        risk_tier: Option<String>,
        #[serde(default)]
        reason_codes: Vec<String>,
        evidence_pack_url: Option<String>,
        policy_name: Option<String>,
    }
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
    let env: Envelope = serde_json::from_str(text)
        .map_err(|e| format!("the body is not a verification event: {e}"))?;
    let event_type: VerificationEventType = env.kind.parse()?;
    let d = env.data;
    if d.session_id.trim().is_empty() || d.candidate_id.trim().is_empty() {
        return Err("data.candidate_id and data.session_id must not be empty".into());
    }
    let risk_tier = d
        .risk_tier
        .as_deref()
        .map(|r| {
            r.parse::<RiskTier>()
                .map_err(|e| format!("data.risk_tier: {e} (expected low, medium or high)"))
        })
        .transpose()?;
    if let Some(u) = &d.evidence_pack_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err("data.evidence_pack_url must be an http(s) URL".into());
        }
    }
    let inbound = InboundEvent {
        webhook_id: webhook_id.to_string(),
        event_type,
        candidate_ref: d.candidate_id,
        session_id: d.session_id,
        event_created_at: crate::server::audit::audit_time(d.event_created_at),
        body: text.to_string(),
    };
    let details = EventDetails {
        risk_tier,
        reason_codes: d.reason_codes,
        evidence_pack_url: d.evidence_pack_url,
        policy_name: d.policy_name,
    };
    Ok((inbound, details))
}

/// When a review of a result with this risk tier is due: high 4 business hours, medium one
/// business day, low (and unknown) three business days.
pub fn review_deadline(
    calendar: &BusinessCalendar,
    risk: Option<RiskTier>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let sla = match risk {
        Some(RiskTier::High) => chrono::Duration::hours(4),
        Some(RiskTier::Medium) => calendar.day_length(),
        Some(RiskTier::Low) | None => calendar.day_length() * 3,
    };
    calendar.add(now, sla)
}

/// The group-commit queue for received verification webhooks (one per `AppState`).
pub type IngestQueue = GroupCommit<db::verification::ReceivedEvent, db::verification::Ingested>;

/// Webhooks in one batch at most (a batch is what queued while the previous one committed).
const INGEST_BATCH: usize = 256;

pub fn ingest_queue(db: &Db) -> IngestQueue {
    let db = db.clone();
    GroupCommit::new(
        INGEST_BATCH,
        move |events: Vec<db::verification::ReceivedEvent>| {
            let db = db.clone();
            async move { Ok(db::verification::store_and_apply_batch(&db, &events, clock::now()).await?) }
        },
    )
}

/// Stores and applies a verified, parsed webhook; answers once it is committed (with the other
/// webhooks that arrived at the same time). `Err` means nothing of it was kept: the provider retries.
pub async fn receive(
    state: &AppState,
    event: InboundEvent,
    details: EventDetails,
) -> Result<db::verification::Ingested, BatchFailed> {
    let risk = details.risk_tier;
    let received = db::verification::ReceivedEvent {
        candidate_id: parse_candidate_ref(&event.candidate_ref),
        review_deadline: Some(review_deadline(
            &state.config.business_calendar,
            risk,
            clock::now(),
        )),
        event,
        details,
    };
    state.verification_ingest.submit(received).await
}

/// Applies one stored event (re-reading it, so it works after a restart too).
pub async fn apply_stored(
    db: &Db,
    calendar: &BusinessCalendar,
    event_id: i64,
) -> anyhow::Result<Applied> {
    let Some((candidate_ref, body)) = db::verification::event_body(db, event_id).await? else {
        return Ok(Applied::AlreadyProcessed);
    };
    let details = match parse_webhook("", body.as_bytes()) {
        Ok((_, d)) => d,
        Err(_) => EventDetails::default(),
    };
    let now = clock::now();
    let risk = details.risk_tier;
    let deadline = review_deadline(calendar, risk, now);
    Ok(db::verification::apply_event(
        db,
        event_id,
        parse_candidate_ref(&candidate_ref),
        &details,
        now,
        Some(deadline),
    )
    .await?)
}

/// Applies every stored event that was not applied yet.
pub async fn apply_pending(db: &Db, calendar: &BusinessCalendar) -> anyhow::Result<usize> {
    let mut n = 0;
    loop {
        let ids = db::verification::pending_events(db, 100).await?;
        if ids.is_empty() {
            return Ok(n);
        }
        for id in ids {
            apply_stored(db, calendar, id).await?;
            n += 1;
        }
    }
}

/// The panel for one candidate as `user` may see it.
pub fn panel(
    user: &CurrentUser,
    candidate: &db::candidates::CandidateRow,
    facts: &db::candidates::PanelFacts,
    job_policy: Option<String>,
    calendar: &BusinessCalendar,
) -> VerificationPanel {
    use crate::model::Permission;
    let status = candidate.verification_status;
    let current = facts.current_session.as_ref();
    let requested = facts.requested;
    let details = user.role.can(Permission::ViewVerificationDetails);
    let can_request = user.role.can(Permission::RequestVerification);
    let mut next_action = next_action(status, current.is_some(), requested, can_request);
    // A pending review says how long it has left (business time).
    if let Some(item) = facts.review.filter(|i| i.state != ReviewState::Closed) {
        next_action = if item.state == ReviewState::AwaitingSecondApproval {
            "Awaiting second approval".to_string()
        } else {
            match item.deadline_at {
                Some(d) => format!(
                    "Awaiting security review — {}",
                    crate::server::business_hours::describe_remaining(
                        calendar.remaining(clock::now(), d)
                    )
                ),
                None => "Awaiting security review".to_string(),
            }
        };
    }
    let (reviewer, review_reason) = (
        candidate.verification_reviewer.clone(),
        candidate.verification_review_reason.clone(),
    );
    let risk = candidate.verification_risk_tier;
    let reasons: Vec<String> = current
        .map(|s| serde_json::from_str::<Vec<String>>(&s.reason_codes).unwrap_or_default())
        .unwrap_or_default()
        .iter()
        .map(|c| reason_code_label(c))
        .collect();
    let can_send = can_request
        && !requested
        && matches!(
            status,
            VerificationStatus::NotStarted
                | VerificationStatus::Failed
                | VerificationStatus::Expired
        );
    VerificationPanel {
        status,
        last_updated: candidate.verification_updated_at,
        risk_tier: risk.filter(|_| details),
        reason_codes: details.then_some(reasons),
        evidence_pack_url: if details {
            current.and_then(|s| s.evidence_pack_url.clone())
        } else {
            None
        },
        policy_name: current.and_then(|s| s.policy_name.clone()).or(job_policy),
        next_action,
        session_id: if details {
            current.map(|s| s.session_id.clone())
        } else {
            None
        },
        candidate_url: if details {
            current.and_then(|s| s.candidate_url.clone())
        } else {
            None
        },
        can_send,
        can_reconcile: user.role.can(Permission::ViewAudit),
        verified_at: candidate
            .verification_verified_at
            .filter(|_| status == VerificationStatus::Verified),
        reviewer: if details { reviewer } else { None },
        review_reason: if details { review_reason } else { None },
        send_label: if status == VerificationStatus::NotStarted {
            "Send verification".into()
        } else {
            "Re-verify".into()
        },
    }
}

/// The one next step the panel shows, from state and permissions.
pub fn next_action(
    status: VerificationStatus,
    has_session: bool,
    requested: bool,
    can_request: bool,
) -> String {
    match status {
        _ if requested => "Verification requested — waiting for the provider".into(),
        VerificationStatus::NotStarted if has_session => "Waiting for candidate".into(),
        VerificationStatus::NotStarted if can_request => "Send verification".into(),
        VerificationStatus::NotStarted => "Waiting for the recruiter to send verification".into(),
        VerificationStatus::InProgress => "Waiting for candidate".into(),
        VerificationStatus::NeedsReview => "Awaiting security review".into(),
        VerificationStatus::Verified => "Cleared".into(),
        VerificationStatus::Failed | VerificationStatus::Expired if can_request => {
            "Re-verify".into()
        }
        VerificationStatus::Failed | VerificationStatus::Expired => "Not cleared".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_action_rules() {
        use VerificationStatus::*;
        assert_eq!(
            next_action(NotStarted, false, false, true),
            "Send verification"
        );
        assert_eq!(
            next_action(NotStarted, false, true, true),
            "Verification requested — waiting for the provider"
        );
        assert_eq!(
            next_action(NotStarted, true, false, true),
            "Waiting for candidate"
        );
        assert_eq!(
            next_action(NotStarted, false, false, false),
            "Waiting for the recruiter to send verification"
        );
        assert_eq!(
            next_action(NeedsReview, true, false, true),
            "Awaiting security review"
        );
        assert_eq!(next_action(Verified, true, false, false), "Cleared");
        assert_eq!(next_action(Failed, true, false, true), "Re-verify");
        assert_eq!(next_action(Expired, true, false, false), "Not cleared");
    }

    #[test]
    fn candidate_refs_round_trip() {
        assert_eq!(parse_candidate_ref(&candidate_ref(42)), Some(42));
        assert_eq!(parse_candidate_ref("c_42"), Some(42));
        assert_eq!(parse_candidate_ref("nobody"), None);
        assert_eq!(parse_candidate_ref("-3"), None);
    }

    #[test]
    fn webhook_bodies_are_checked_with_reasons() {
        let good = br#"{"type":"verification.completed","timestamp":"2026-11-21T10:00:05Z","data":{"candidate_id":"c_1","session_id":"vs_9","event_created_at":"2026-11-21T10:00:04Z","risk_tier":"low","reason_codes":[],"evidence_pack_url":"https://p.example/e/1","policy_name":"p"}}"#;
        let (e, d) = parse_webhook("msg_1", good).unwrap();
        assert_eq!(e.event_type, VerificationEventType::Completed);
        assert_eq!(e.session_id, "vs_9");
        assert_eq!(d.risk_tier, Some(RiskTier::Low));
        assert!(parse_webhook("m", b"not json")
            .unwrap_err()
            .to_string()
            .contains("not a verification event"));
        let unknown =
            String::from_utf8_lossy(good).replace("verification.completed", "verification.done");
        assert!(parse_webhook("m", unknown.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("unknown event type"));
        let bad_tier = String::from_utf8_lossy(good).replace("\"low\"", "\"extreme\"");
        assert!(parse_webhook("m", bad_tier.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("risk_tier"));
        let js =
            String::from_utf8_lossy(good).replace("https://p.example/e/1", "javascript:alert(1)");
        assert!(parse_webhook("m", js.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("evidence_pack_url"));
        let missing = br#"{"type":"verification.completed","data":{"candidate_id":"1"}}"#;
        assert!(parse_webhook("m", missing)
            .unwrap_err()
            .to_string()
            .contains("session_id"));
    }
}

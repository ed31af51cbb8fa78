//! The admins' view of outbound deliveries and unmatched inbound events, and replay.
use crate::error::AppError;
use crate::model::{
    AuditEventType, CurrentUser, DeliveriesView, Delivery, DeliveryAttempt, JobKind, JobState,
    Permission, UnmatchedEvent,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{self, Db};

const SHOWN: i64 = 100;

/// A job kind in plain words; a kind this version does not know is shown as stored.
pub fn kind_label(kind: &str) -> String {
    kind.parse::<JobKind>()
        .map_or_else(|_| kind.to_string(), |k| k.label().to_string())
}

fn delivery(j: db::jobs::JobRow, attempts: &[db::jobs::AttemptRow]) -> Delivery {
    Delivery {
        id: j.id,
        what: kind_label(&j.kind),
        subject: j.subject.clone().unwrap_or_default(),
        next_try: (j.state == JobState::Pending).then_some(j.run_at),
        state: j.state,
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        last_error: j.last_error,
        created_at: j.created_at,
        history: attempts
            .iter()
            .filter(|a| a.job_id == j.id)
            .map(|a| DeliveryAttempt {
                attempt: a.attempt,
                at: a.started_at,
                latency_ms: a.latency_ms,
                http_status: a.http_status,
                outcome: a.outcome.clone(),
                detail: a.detail.clone(),
            })
            .collect(),
    }
}

/// The support view of one candidate (admins and security reviewers).
pub async fn support(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<crate::model::SupportView, AppError> {
    super::access::require(user, Permission::ViewAudit)?;
    db::candidates::find_candidate(db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let subject = format!("candidate:{candidate_id}");
    let attempts = db::jobs::attempts_for_subject(db, &subject).await?;
    let deliveries = db::jobs::for_subject(db, &subject)
        .await?
        .into_iter()
        .map(|j| delivery(j, &attempts))
        .collect();
    let sessions = db::verification::sessions_of(db, candidate_id)
        .await?
        .into_iter()
        .map(|s| (s.session_id, s.status, s.created_at))
        .collect();
    let last_webhook = db::verification::last_event_for_candidate(db, &candidate_id.to_string())
        .await?
        .map(|e| (e.received_at, e.event_type, e.webhook_id, e.state));
    Ok(crate::model::SupportView {
        sessions,
        last_webhook,
        deliveries,
    })
}

pub async fn view(db: &Db, user: &CurrentUser) -> Result<DeliveriesView, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    let jobs = db::jobs::unfinished(db, SHOWN).await?;
    let attempts = db::jobs::attempts_of_unfinished(db, SHOWN).await?;
    let deliveries = jobs.into_iter().map(|j| delivery(j, &attempts)).collect();
    let mut unmatched: Vec<UnmatchedEvent> = db::verification::unknown_candidate_events(db, SHOWN)
        .await?
        .into_iter()
        .map(|e| UnmatchedEvent {
            id: e.id,
            received_at: e.received_at,
            event_type: e.event_type.to_string(),
            candidate_ref: e.candidate_ref,
            session_id: e.session_id,
        })
        .collect();
    // Integrity reports for interviews Clearance never scheduled: kept, shown here.
    unmatched.extend(
        db::integrity::unmatched_reports(db, SHOWN)
            .await?
            .into_iter()
            .map(|r| UnmatchedEvent {
                id: r.id,
                received_at: r.received_at,
                event_type: format!("integrity.report_ready (score {})", r.integrity_score),
                candidate_ref: format!("interview {}", r.interview_ref),
                session_id: r.monitor_session_id,
            }),
    );
    unmatched.sort_by_key(|u| std::cmp::Reverse(u.received_at));
    Ok(DeliveriesView {
        deliveries,
        unmatched,
    })
}

/// Puts a dead-lettered delivery back in the queue; the same job (same ids) is sent again.
pub async fn replay(db: &Db, user: &CurrentUser, job_id: i64) -> Result<(), AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    if !db::jobs::replay(db, job_id, clock::now()).await? {
        return Err(AppError::Conflict(
            "Only a dead-lettered delivery can be replayed.".into(),
        ));
    }
    let event = NewAuditEvent::new(
        Actor::from(user),
        "job",
        job_id,
        AuditEventType::DeliveryReplayed,
        serde_json::json!({ "job_id": job_id }),
    );
    db::audit::append(db, &event).await?;
    if let Some(job) = db::jobs::find(db, job_id).await? {
        if job.kind.parse() == Ok(JobKind::OrderBackgroundCheck) {
            super::background::order_replayed(db, &job, user)
                .await
                .map_err(crate::server::auth::internal)?;
        }
    }
    Ok(())
}

/// A delivery of any kind that will not be retried any more is recorded in the audit log.
pub async fn dead_lettered(
    state: &crate::server::state::AppState,
    job: &db::jobs::JobRow,
    detail: &str,
) -> anyhow::Result<()> {
    let subject_id = job.subject.clone().unwrap_or_default();
    let (subject_type, id) = subject_id
        .split_once(':')
        .unwrap_or(("job", subject_id.as_str()));
    let subject_type = if subject_type == "candidate" {
        "candidate"
    } else {
        "job"
    };
    let event = NewAuditEvent::new(
        Actor::System("delivery worker".into()),
        subject_type,
        id,
        AuditEventType::DeliveryDeadLettered,
        serde_json::json!({ "job_id": job.id, "kind": job.kind, "attempts": job.attempts, "error": detail }),
    );
    db::audit::append(&state.db, &event).await?;
    Ok(())
}

//! Interview integrity: connect the monitor once, announce interviews through durable jobs,
//! receive signed reports and attach them to the candidate record.
use crate::error::{AppError, Invalid};
use crate::model::{
    AuditEventType, ConnectionTest, Consent, CurrentUser, Email, InterviewState, InterviewView,
    JobKind, MonitorStatus, Permission, ReportView, Stage,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{self, integrity::NewReport, jobs::JobRow, Db};
use crate::server::partners::signature;
use crate::server::partners::{monitor, CallError};
use crate::server::secrets::{self, SecretBox};
use crate::server::services::refusal::Refusal;
use crate::server::state::AppState;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Largest report file accepted (SPEC §7).
pub const REPORT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Largest webhook body: the report in base64 plus its envelope.
pub const WEBHOOK_BODY_LIMIT: usize = REPORT_MAX_BYTES / 3 * 4 + 64 * 1024;
/// Scores at or below this count as flagged even without flags.
pub const FLAG_SCORE: i64 = 59;

/// A report is flagged when it names a flag or scores at or below `FLAG_SCORE`.
pub fn is_flagged(score: i64, flags: &[String]) -> bool {
    !flags.is_empty() || score <= FLAG_SCORE
}

/// An admin connects the monitor from the Integrity settings page.
pub async fn connect_for(
    state: &AppState,
    user: &CurrentUser,
    url: &str,
    api_key: &str,
    webhook_secret: &str,
) -> Result<(), AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    connect(
        &state.db,
        &state.config,
        Actor::from(user),
        Some(user.id),
        url,
        api_key,
        webhook_secret,
    )
    .await
}

/// Connects the monitor (admins, `clearance monitor connect`); key and secret are write-only.
pub async fn connect(
    db: &Db,
    config: &crate::server::config::Config,
    actor: Actor,
    by: Option<i64>,
    url: &str,
    api_key: &str,
    webhook_secret: &str,
) -> Result<(), AppError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
        return Err(AppError::BadRequest(
            "Monitor URL must start with https:// or http://".into(),
        ));
    }
    if api_key.trim().is_empty() {
        return Err(AppError::BadRequest("API key is required".into()));
    }
    signature::secret_key(webhook_secret).map_err(|_| {
        AppError::BadRequest(
            "Webhook secret must be a whsec_… secret (base64 after the prefix)".into(),
        )
    })?;
    config.outbound.check_url(url)?;
    let key = config
        .secret_key
        .as_ref()
        .ok_or_else(|| AppError::Conflict(secrets::SecretError::NoKey.to_string()))?;
    // Both stored encrypted: a database dump alone does not reveal them.
    let sealed_key = key.seal(secrets::purpose::MONITOR_API_KEY, api_key.trim());
    let sealed_secret = key.seal(
        secrets::purpose::MONITOR_WEBHOOK_SECRET,
        webhook_secret.trim(),
    );
    let audit = NewAuditEvent::new(
        actor,
        "monitor",
        "interview-integrity",
        AuditEventType::PartnerConnected,
        serde_json::json!({ "kind": "interview_integrity_monitor", "url": url }),
    );
    db::integrity::connect(
        db,
        url,
        &sealed_key,
        &sealed_secret,
        by,
        clock::now(),
        &audit,
    )
    .await?;
    Ok(())
}

/// The stored connection with its key and secret decrypted.
fn opened(
    key: Option<&SecretBox>,
    mut c: db::integrity::ConnectionRow,
) -> Result<db::integrity::ConnectionRow, secrets::SecretError> {
    c.api_key = secrets::open(key, secrets::purpose::MONITOR_API_KEY, &c.api_key)?;
    c.webhook_secret = secrets::open(
        key,
        secrets::purpose::MONITOR_WEBHOOK_SECRET,
        &c.webhook_secret,
    )?;
    Ok(c)
}

pub async fn status(db: &Db, user: &CurrentUser) -> Result<MonitorStatus, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    let c = db::integrity::connection(db).await?;
    Ok(MonitorStatus {
        url: c.as_ref().map(|c| c.url.clone()),
        updated_at: c.map(|c| c.updated_at),
    })
}

pub async fn test(state: &AppState, user: &CurrentUser) -> Result<ConnectionTest, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    let Some(c) = db::integrity::connection(&state.db).await? else {
        return Ok(ConnectionTest {
            ok: false,
            message: "No monitor is connected yet.".into(),
        });
    };
    let c = match opened(state.config.secret_key.as_ref(), c) {
        Ok(c) => c,
        Err(e) => {
            return Ok(ConnectionTest {
                ok: false,
                message: e.to_string(),
            })
        }
    };
    if let Err(message) = state.config.outbound.check_url(&c.url) {
        return Ok(ConnectionTest {
            ok: false,
            message: message.into(),
        });
    }
    Ok(
        match monitor::test(&state.partner_http, &c.url, &c.api_key).await {
            Ok(()) => ConnectionTest {
                ok: true,
                message: "Connected: the monitor accepted the API key.".into(),
            },
            Err(message) => ConnectionTest {
                ok: false,
                message: message.0,
            },
        },
    )
}

/// What a recruiter enters to schedule an interview.
pub struct ScheduleRequest {
    pub candidate_id: i64,
    /// The job the interview is for; may be left out when the candidate has one application.
    pub job_id: Option<i64>,
    pub stage: Stage,
    /// Local wall time, `YYYY-MM-DDTHH:MM` as a datetime-local field sends it.
    pub local_time: String,
    /// IANA zone of that wall time, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Interviewer emails, comma or newline separated.
    pub interviewers: String,
}

/// The instant of a wall time in a zone; a time that does not exist there (DST gap) is refused.
pub fn instant(local: &str, zone: &str) -> Result<DateTime<Utc>, Invalid> {
    let tz: chrono_tz::Tz = zone
        .trim()
        .parse()
        .map_err(|_| format!("'{zone}' is not a time zone (e.g. Europe/Berlin)"))?;
    let naive = NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| format!("'{local}' is not a date and time (YYYY-MM-DDTHH:MM)"))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            Invalid(format!(
                "{local} does not exist in {zone} (the clocks skip it)"
            ))
        })
}

pub fn parse_interviewers(text: &str) -> Result<Vec<String>, Invalid> {
    let list: Vec<String> = text
        .split([',', '\n', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Email::parse(s).map(|e| e.as_str().to_string()))
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err(Invalid::new("name at least one interviewer by email"));
    }
    Ok(list)
}

pub async fn schedule(
    state: &AppState,
    user: &CurrentUser,
    req: ScheduleRequest,
) -> Result<i64, AppError> {
    super::access::require(user, Permission::MoveStage)?;
    let db = &state.db;
    db::candidates::find_candidate(db, req.candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let apps = db::candidates::applications_of(db, req.candidate_id).await?;
    let job_id = super::access::application_for(&apps, req.job_id)?.job_id;
    let at = instant(&req.local_time, &req.time_zone)?;
    let interviewers = parse_interviewers(&req.interviewers)?;
    if db::integrity::connection(db).await?.is_none() {
        return Err(AppError::Conflict(
            "No interview-integrity monitor is connected. Ask an admin to connect it once on the Partners page.".into(),
        ));
    }
    let json = serde_json::to_string(&interviewers).map_err(crate::server::auth::internal)?;
    let new = db::integrity::NewInterview {
        candidate_id: req.candidate_id,
        job_id,
        stage: req.stage.as_str(),
        scheduled_at: at,
        time_zone: req.time_zone.trim(),
        interviewers_json: &json,
        created_by: user.id,
    };
    let audit = |id: i64| {
        [
            NewAuditEvent::new(
                Actor::from(user),
                "candidate",
                req.candidate_id,
                AuditEventType::InterviewScheduled,
                serde_json::json!({ "interview_id": id, "stage": req.stage.as_str(), "scheduled_at": at,
                                    "time_zone": req.time_zone.trim(), "interviewers": interviewers }),
            ),
            NewAuditEvent::new(
                Actor::System("integrity".into()),
                "candidate",
                req.candidate_id,
                AuditEventType::MonitoringRequested,
                serde_json::json!({ "interview_id": id }),
            ),
        ]
    };
    Ok(db::integrity::schedule(
        db,
        &new,
        state.config.delivery_max_attempts,
        clock::now(),
        audit,
    )
    .await?)
}

/// Moves a scheduled interview; the monitor is told the new time through the delivery jobs.
pub async fn reschedule(
    state: &AppState,
    user: &CurrentUser,
    interview_id: i64,
    local_time: &str,
    time_zone: &str,
) -> Result<(), AppError> {
    super::access::require(user, Permission::MoveStage)?;
    let i = db::integrity::find_interview(&state.db, interview_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let at = instant(local_time, time_zone)?;
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        i.candidate_id,
        AuditEventType::InterviewScheduled,
        serde_json::json!({ "interview_id": i.id, "rescheduled_from": i.scheduled_at, "scheduled_at": at,
                            "time_zone": time_zone.trim() }),
    );
    let moved = db::integrity::change_scheduled(
        &state.db,
        i.id,
        i.candidate_id,
        db::integrity::InterviewChange::Move {
            scheduled_at: at,
            time_zone: time_zone.trim(),
        },
        state.config.delivery_max_attempts,
        clock::now(),
        &audit,
    )
    .await?;
    if !moved {
        return Err(AppError::Conflict(
            "Only a scheduled interview can be moved.".into(),
        ));
    }
    Ok(())
}

pub async fn cancel(
    state: &AppState,
    user: &CurrentUser,
    interview_id: i64,
) -> Result<(), AppError> {
    super::access::require(user, Permission::MoveStage)?;
    let i = db::integrity::find_interview(&state.db, interview_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        i.candidate_id,
        AuditEventType::InterviewCancelled,
        serde_json::json!({ "interview_id": i.id, "scheduled_at": i.scheduled_at }),
    );
    let cancelled = db::integrity::change_scheduled(
        &state.db,
        i.id,
        i.candidate_id,
        db::integrity::InterviewChange::Cancel,
        state.config.delivery_max_attempts,
        clock::now(),
        &audit,
    )
    .await?;
    if !cancelled {
        return Err(AppError::Conflict(
            "This interview is already cancelled.".into(),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct InterviewJob {
    interview_id: i64,
}

/// The worker's half of scheduling and cancelling.
pub async fn job(state: &AppState, job: &JobRow) -> Result<String, CallError> {
    let spec: InterviewJob = serde_json::from_str(&job.payload)
        .map_err(|_| CallError::refused("job payload unreadable"))?;
    let c = db::integrity::connection(&state.db)
        .await?
        .ok_or_else(|| CallError::refused("no interview-integrity monitor is connected"))?;
    let c = opened(state.config.secret_key.as_ref(), c)?;
    state
        .config
        .outbound
        .check_url(&c.url)
        .map_err(CallError::refused)?;
    let i = db::integrity::find_interview(&state.db, spec.interview_id)
        .await?
        .ok_or_else(|| CallError::refused("the interview no longer exists"))?;
    if job.kind == JobKind::CancelInterview.as_str() {
        monitor::cancel(&state.partner_http, &c.url, &c.api_key, &i.id.to_string()).await?;
        return Ok(format!("interview {} cancelled at the monitor", i.id));
    }
    if i.state == InterviewState::Cancelled {
        return Ok("cancelled before it was announced".into());
    }
    let tz: chrono_tz::Tz = i.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let body = monitor::Announce {
        interview_id: i.id.to_string(),
        candidate_id: i.candidate_id.to_string(),
        stage: i.stage.as_str().to_string(),
        scheduled_at: i.scheduled_at.with_timezone(&tz).to_rfc3339(),
        interviewers: serde_json::from_str(&i.interviewers).unwrap_or_default(),
    };
    let a = monitor::announce(&state.partner_http, &c.url, &c.api_key, &body).await?;
    db::integrity::set_monitor_session(&state.db, i.id, &a.monitor_session_id, clock::now())
        .await?;
    Ok(format!("monitor session {}", a.monitor_session_id))
}

#[derive(Debug, Deserialize)]
struct ReportEnvelope {
    #[serde(rename = "type")]
    kind: String,
    data: ReportData,
}

#[derive(Debug, Deserialize)]
struct ReportData {
    interview_id: String,
    monitor_session_id: String,
    candidate_id: String,
    generated_at: DateTime<Utc>,
    consent: String,
    integrity_score: i64,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    summary: String,
    report: ReportFile,
}

#[derive(Debug, Deserialize)]
struct ReportFile {
    filename: String,
    content_type: String,
    content_base64: String,
}

/// What became of a report webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Attached,
    Duplicate,
    /// Kept, but for an interview we never scheduled.
    Unmatched,
}

/// `POST /webhooks/integrity`: signature, body, durable storage, in that order.
pub async fn receive(
    db: &Db,
    key: Option<&SecretBox>,
    webhook_id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
) -> Result<Received, Refusal> {
    let conn = db::integrity::connection(db)
        .await
        .map_err(|_| Refusal::RetryLater("could not read the connection; retry later".into()))?
        .ok_or_else(|| {
            Refusal::RetryLater("no interview-integrity monitor is connected here".into())
        })?;
    let conn = opened(key, conn).map_err(|e| Refusal::RetryLater(e.to_string()))?;
    signature::verify(
        &conn.webhook_secret,
        webhook_id,
        timestamp,
        signatures,
        body,
        clock::now().timestamp(),
    )
    .map_err(|e| Refusal::BadSignature(e.to_string()))?;
    let webhook_id = webhook_id.unwrap_or_default();
    let env: ReportEnvelope = serde_json::from_slice(body)
        .map_err(|e| Refusal::Malformed(format!("the body is not an integrity report ({e})")))?;
    if env.kind != "integrity.report_ready" {
        return Err(Refusal::Malformed(format!(
            "unknown event type '{}'",
            env.kind
        )));
    }
    let d = env.data;
    if !(0..=100).contains(&d.integrity_score) {
        return Err(Refusal::Malformed(format!(
            "integrity_score {} is outside 0–100",
            d.integrity_score
        )));
    }
    let consent: Consent = d.consent.parse().map_err(|_| {
        Refusal::Malformed(format!(
            "consent '{}' is neither 'given' nor 'declined'",
            d.consent
        ))
    })?;
    let content = base64::engine::general_purpose::STANDARD
        .decode(d.report.content_base64.trim())
        .map_err(|_| Refusal::Malformed("report.content_base64 is not base64".into()))?;
    if content.len() > REPORT_MAX_BYTES {
        return Err(Refusal::TooLarge("the report is larger than 10 MB".into()));
    }
    let filename: String = d
        .report
        .filename
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .take(200)
        .collect();
    let sha = hex::encode(Sha256::digest(&content));
    let interview = match d.interview_id.parse::<i64>() {
        Ok(id) => db::integrity::find_interview(db, id)
            .await
            .map_err(|_| Refusal::RetryLater("could not store the report; retry later".into()))?
            .filter(|i| i.candidate_id.to_string() == d.candidate_id.trim()),
        Err(_) => None,
    };
    let flagged = is_flagged(d.integrity_score, &d.flags);
    let flags_json = serde_json::to_string(&d.flags).unwrap_or_else(|_| "[]".into());
    let candidate_id = interview.as_ref().map(|i| i.candidate_id);
    let r = NewReport {
        webhook_id,
        interview_ref: &d.interview_id,
        interview_id: interview.as_ref().map(|i| i.id),
        candidate_id,
        monitor_session_id: &d.monitor_session_id,
        generated_at: d.generated_at,
        consent,
        score: d.integrity_score,
        flags_json: &flags_json,
        summary: &d.summary,
        filename: &filename,
        content_type: &d.report.content_type,
        content: &content,
        sha256: &sha,
    };
    let subject = candidate_id.map_or("unmatched".to_string(), |c| c.to_string());
    let audit = |id: i64| {
        vec![
            NewAuditEvent::new(
                Actor::Partner("interview-integrity monitor".into()),
                "candidate",
                subject.clone(),
                AuditEventType::IntegrityReportAttached,
                serde_json::json!({ "report_id": id, "interview_id": d.interview_id, "monitor_session_id": d.monitor_session_id,
                                    "generated_at": d.generated_at, "integrity_score": d.integrity_score, "flags": d.flags,
                                    "sha256": sha, "matched": candidate_id.is_some() }),
            ),
            NewAuditEvent::new(
                Actor::Partner("interview-integrity monitor".into()),
                "candidate",
                subject.clone(),
                AuditEventType::ConsentRecorded,
                serde_json::json!({ "report_id": id, "interview_id": d.interview_id, "consent": consent,
                                    "at": d.generated_at }),
            ),
        ]
    };
    match db::integrity::store_report(db, &r, flagged, clock::now(), audit).await {
        Ok(Some(_)) if candidate_id.is_some() => Ok(Received::Attached),
        Ok(Some(_)) => Ok(Received::Unmatched),
        Ok(None) => Ok(Received::Duplicate),
        Err(e) => {
            tracing::error!(error = %e, "could not store an integrity report");
            Err(Refusal::RetryLater(
                "could not store the report; retry later".into(),
            ))
        }
    }
}

/// A candidate's interviews with their reports; hiring managers see go/no-go and consent only.
pub async fn interviews_for(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<Vec<InterviewView>, AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    let visible = super::access::visible_candidate(db, user, candidate_id).await?;
    if visible.applications.is_empty() {
        return Err(AppError::NotFound);
    }
    let files = visible.details;
    let reports = db::integrity::reports_of(db, candidate_id).await?;
    let mut out = Vec::new();
    // A hiring manager sees the interviews of their own jobs only (rows of unknown job: none).
    let interviews = db::integrity::interviews_of(db, candidate_id)
        .await?
        .into_iter()
        .filter(|i| visible.sees_item_of(i.job_id));
    for i in interviews {
        let report = reports
            .iter()
            .find(|r| r.interview_id == Some(i.id))
            .map(|r| {
                let flags: Vec<String> = serde_json::from_str(&r.flags).unwrap_or_default();
                ReportView {
                    report_id: files.then_some(r.id),
                    passed: r.consent == Consent::Given && !is_flagged(r.integrity_score, &flags),
                    score: files.then_some(r.integrity_score),
                    flags: if files { flags } else { Vec::new() },
                    summary: files.then(|| r.summary.clone()),
                    consent: r.consent,
                    consent_at: r.generated_at,
                    filename: files.then(|| r.filename.clone()),
                    sha256: files.then(|| r.sha256.clone()),
                }
            });
        out.push(InterviewView {
            id: i.id,
            stage: i.stage,
            scheduled_at: i.scheduled_at,
            time_zone: i.time_zone,
            interviewers: serde_json::from_str(&i.interviewers).unwrap_or_default(),
            state: i.state,
            monitored: i.monitor_session_id.is_some(),
            report,
        });
    }
    Ok(out)
}

/// A report's attached file as (filename, content type, bytes), for roles that see check results;
/// everyone else gets 404, like a file that does not exist.
pub async fn report_file(
    db: &Db,
    user: &CurrentUser,
    id: i64,
) -> Result<(String, &'static str, Vec<u8>), AppError> {
    if !user.role.can(Permission::ViewVerificationDetails) {
        return Err(AppError::NotFound);
    }
    let (_, filename, content_type, bytes) = db::integrity::report_file(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let content_type = if content_type == "application/pdf" {
        "application/pdf"
    } else {
        "application/octet-stream"
    };
    Ok((filename, content_type, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_in_zones() {
        assert_eq!(
            instant("2026-11-23T10:00", "Europe/Berlin")
                .unwrap()
                .to_rfc3339(),
            "2026-11-23T09:00:00+00:00"
        );
        assert!(instant("2026-03-29T02:30", "Europe/Berlin")
            .unwrap_err()
            .contains("does not exist"));
        assert!(instant("tomorrow", "UTC").is_err());
        assert!(instant("2026-11-23T10:00", "Mars/Base").is_err());
    }

    #[test]
    fn interviewers_are_emails() {
        assert_eq!(
            parse_interviewers("a@x.example, B@X.example\n").unwrap(),
            vec!["a@x.example".to_string(), "b@x.example".to_string()]
        );
        assert!(parse_interviewers("   ").is_err());
        assert!(parse_interviewers("not-an-email").is_err());
    }
}

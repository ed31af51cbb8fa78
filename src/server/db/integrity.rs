//! The monitor connection, interviews and integrity reports.
use super::{audit::AuditAppend, jobs::Enqueue, on_db, BeginWrite, Db, Origin};
use crate::model::{Consent, InterviewState, JobKind, Stage};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

pub const ANNOUNCE_JOB: &str = crate::model::JobKind::AnnounceInterview.as_str();

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub url: String,
    pub api_key: String,
    pub webhook_secret: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn connection(db: &Db) -> sqlx::Result<Option<ConnectionRow>> {
    let sql =
        "SELECT url, api_key, webhook_secret, updated_at FROM monitor_connection WHERE id = 1";
    on_db!(db, p => sqlx::query_as::<_, ConnectionRow>(sql).fetch_optional(p).await)
}

/// Replaces the stored key and secret as they are (the at-rest encryption step).
pub async fn set_connection_secrets(
    db: &Db,
    api_key: &str,
    webhook_secret: &str,
) -> sqlx::Result<()> {
    let sql = "UPDATE monitor_connection SET api_key = $1, webhook_secret = $2 WHERE id = 1";
    on_db!(db, p => sqlx::query(sql).bind(api_key).bind(webhook_secret).execute(p).await.map(|_| ()))
}

/// Connects (or reconnects) the monitor; the one row holds the connection.
pub async fn connect(
    db: &Db,
    url: &str,
    api_key: &str,
    webhook_secret: &str,
    by: Option<i64>,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<()> {
    let sql = "INSERT INTO monitor_connection (id, url, api_key, webhook_secret, updated_by, updated_at) VALUES (1, $1, $2, $3, $4, $5)
               ON CONFLICT (id) DO UPDATE SET url = excluded.url, api_key = excluded.api_key,
                   webhook_secret = excluded.webhook_secret, updated_by = excluded.updated_by, updated_at = excluded.updated_at";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(sql).bind(url).bind(api_key).bind(webhook_secret).bind(by).bind(now)
            .execute(&mut *tx).await?;
        tx.append_audit(audit).await?;
        tx.commit().await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InterviewRow {
    pub id: i64,
    pub candidate_id: i64,
    pub stage: Stage,
    pub scheduled_at: DateTime<Utc>,
    pub time_zone: String,
    pub interviewers: String,
    pub state: InterviewState,
    pub monitor_session_id: Option<String>,
    /// The job of the application the interview is for (unknown for some older rows).
    pub job_id: Option<i64>,
}

const INTERVIEW_COLUMNS: &str =
    "id, candidate_id, stage, scheduled_at, time_zone, interviewers, state, monitor_session_id, job_id";

pub struct NewInterview<'a> {
    pub candidate_id: i64,
    pub job_id: i64,
    pub stage: &'a str,
    pub scheduled_at: DateTime<Utc>,
    pub time_zone: &'a str,
    pub interviewers_json: &'a str,
    pub created_by: i64,
}

/// Schedules an interview and queues its announcement to the monitor, in one transaction.
pub async fn schedule(
    db: &Db,
    i: &NewInterview<'_>,
    max_attempts: i64,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> [NewAuditEvent; 2],
) -> sqlx::Result<i64> {
    let sql = "INSERT INTO interviews (candidate_id, stage, scheduled_at, time_zone, interviewers, state, created_by, created_at, updated_at, job_id)
               VALUES ($1, $2, $3, $4, $5, 'scheduled', $6, $7, $7, $8) RETURNING id";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let id = sqlx::query_scalar::<_, i64>(sql)
            .bind(i.candidate_id).bind(i.stage).bind(i.scheduled_at).bind(i.time_zone)
            .bind(i.interviewers_json).bind(i.created_by).bind(now).bind(i.job_id)
            .fetch_one(&mut *tx).await?;
        let payload = serde_json::json!({ "interview_id": id }).to_string();
        tx.enqueue(JobKind::AnnounceInterview, &payload, max_attempts, now, &format!("candidate:{}", i.candidate_id)).await?;
        for event in audit(id) {
            tx.append_audit(&event).await?;
        }
        tx.commit().await?;
        Ok(id)
    })
}

/// What happens to a scheduled interview.
#[derive(Debug, Clone, Copy)]
pub enum InterviewChange<'a> {
    /// Cancelled: the monitor's DELETE is queued.
    Cancel,
    /// Moved: its new announcement is queued.
    Move {
        scheduled_at: DateTime<Utc>,
        time_zone: &'a str,
    },
}

/// Cancels or moves a scheduled interview and queues the monitor's job for it, with `audit`, in
/// one transaction; false if it was not scheduled (nothing is written).
pub async fn change_scheduled(
    db: &Db,
    interview_id: i64,
    candidate_id: i64,
    change: InterviewChange<'_>,
    max_attempts: i64,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let (sql, kind) = match change {
        InterviewChange::Cancel => (
            "UPDATE interviews SET updated_at = $2, state = 'cancelled' WHERE id = $1 AND state = 'scheduled'",
            JobKind::CancelInterview,
        ),
        InterviewChange::Move { .. } => (
            "UPDATE interviews SET updated_at = $2, scheduled_at = $3, time_zone = $4 WHERE id = $1 AND state = 'scheduled'",
            JobKind::AnnounceInterview,
        ),
    };
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let mut update = sqlx::query(sql).bind(interview_id).bind(now);
        if let InterviewChange::Move { scheduled_at, time_zone } = change {
            update = update.bind(scheduled_at).bind(time_zone);
        }
        let changed = update.execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            let payload = serde_json::json!({ "interview_id": interview_id }).to_string();
            tx.enqueue(kind, &payload, max_attempts, now, &format!("candidate:{candidate_id}")).await?;
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

pub async fn find_interview(db: &Db, id: i64) -> sqlx::Result<Option<InterviewRow>> {
    let sql = format!("SELECT {INTERVIEW_COLUMNS} FROM interviews WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, InterviewRow>(&sql).bind(id).fetch_optional(p).await)
        .in_table("interviews")
}

pub async fn interviews_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<InterviewRow>> {
    let sql = format!(
        "SELECT {INTERVIEW_COLUMNS} FROM interviews WHERE candidate_id = $1 ORDER BY scheduled_at DESC, id DESC"
    );
    on_db!(db, p => sqlx::query_as::<_, InterviewRow>(&sql).bind(candidate_id).fetch_all(p).await)
        .in_table("interviews")
}

pub async fn set_monitor_session(
    db: &Db,
    interview_id: i64,
    session: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let sql = "UPDATE interviews SET monitor_session_id = $2, updated_at = $3 WHERE id = $1";
    on_db!(db, p => sqlx::query(sql).bind(interview_id).bind(session).bind(now).execute(p).await.map(|_| ()))
}

pub struct NewReport<'a> {
    pub webhook_id: &'a str,
    pub interview_ref: &'a str,
    pub interview_id: Option<i64>,
    pub candidate_id: Option<i64>,
    pub monitor_session_id: &'a str,
    pub generated_at: DateTime<Utc>,
    pub consent: Consent,
    pub score: i64,
    pub flags_json: &'a str,
    pub summary: &'a str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
    pub sha256: &'a str,
}

/// Stores a report (and the candidate's latest score) with its audit events; `None` when the
/// same report (webhook id, or interview + session + generation time) was stored before.
pub async fn store_report(
    db: &Db,
    r: &NewReport<'_>,
    flagged: bool,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> Vec<NewAuditEvent>,
) -> sqlx::Result<Option<i64>> {
    let sql = "INSERT INTO integrity_reports (webhook_id, interview_ref, interview_id, candidate_id, monitor_session_id, generated_at,
                   consent, integrity_score, flags, summary, filename, content_type, content, sha256, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               ON CONFLICT DO NOTHING RETURNING id";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let id = sqlx::query_scalar::<_, i64>(sql)
            .bind(r.webhook_id).bind(r.interview_ref).bind(r.interview_id).bind(r.candidate_id)
            .bind(r.monitor_session_id).bind(r.generated_at).bind(r.consent).bind(r.score)
            .bind(r.flags_json).bind(r.summary).bind(r.filename).bind(r.content_type).bind(r.content)
            .bind(r.sha256).bind(now)
            .fetch_optional(&mut *tx).await?;
        let Some(id) = id else {
            return Ok(None);
        };
        if let Some(c) = r.candidate_id {
            // The newest report (by generation time) speaks for the candidate in the list.
            sqlx::query(
                "UPDATE candidates SET integrity_score = $2, integrity_flagged = $3
                 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM integrity_reports o WHERE o.candidate_id = $1 AND o.generated_at > $4)")
                .bind(c).bind(r.score).bind(flagged).bind(r.generated_at)
                .execute(&mut *tx).await?;
        }
        for event in audit(id) {
            tx.append_audit(&event).await?;
        }
        tx.commit().await?;
        Ok(Some(id))
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    pub interview_id: Option<i64>,
    pub candidate_id: Option<i64>,
    pub interview_ref: String,
    pub monitor_session_id: String,
    pub generated_at: DateTime<Utc>,
    pub consent: Consent,
    pub integrity_score: i64,
    pub flags: String,
    pub summary: String,
    pub filename: String,
    pub sha256: String,
    pub received_at: DateTime<Utc>,
}

const REPORT_COLUMNS: &str =
    "id, interview_id, candidate_id, interview_ref, monitor_session_id, generated_at, consent,
    integrity_score, flags, summary, filename, sha256, received_at";

pub async fn reports_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<ReportRow>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM integrity_reports WHERE candidate_id = $1 ORDER BY generated_at DESC");
    on_db!(db, p => sqlx::query_as::<_, ReportRow>(&sql).bind(candidate_id).fetch_all(p).await)
}

/// Reports for interviews we never scheduled, newest first (kept, listed for admins).
pub async fn unmatched_reports(db: &Db, limit: i64) -> sqlx::Result<Vec<ReportRow>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM integrity_reports WHERE interview_id IS NULL ORDER BY received_at DESC LIMIT $1");
    on_db!(db, p => sqlx::query_as::<_, ReportRow>(&sql).bind(limit).fetch_all(p).await)
}

/// The attached file: (candidate, filename, content type, bytes).
pub async fn report_file(
    db: &Db,
    id: i64,
) -> sqlx::Result<Option<(Option<i64>, String, String, Vec<u8>)>> {
    let sql =
        "SELECT candidate_id, filename, content_type, content FROM integrity_reports WHERE id = $1";
    on_db!(db, p => sqlx::query_as::<_, (Option<i64>, String, String, Vec<u8>)>(sql).bind(id).fetch_optional(p).await)
}

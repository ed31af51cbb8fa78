//! Adverse-action processes, their notices and responses, notice templates, and each job's
//! waiting period.
use super::{audit::AuditAppend, jobs::Enqueue, on_db, BeginWrite, Db};
use crate::model::{AdverseState, JobKind, NoticeEmail, NoticeKind};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRow {
    pub id: i64,
    pub candidate_id: i64,
    pub application_id: i64,
    pub job_id: i64,
    pub job_title: String,
    pub order_id: i64,
    pub state: AdverseState,
    pub findings: Option<String>,
    pub offense_gravity: Option<String>,
    pub time_elapsed: Option<String>,
    pub job_nature: Option<String>,
    pub rationale: Option<String>,
    pub assessed_by_name: Option<String>,
    pub assessed_at: Option<DateTime<Utc>>,
    pub wait_days: i64,
    pub wait_business: bool,
    pub deadline_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<String>,
    pub closed_by_name: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub started_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

const ACTION_SELECT: &str = "SELECT a.id, a.candidate_id, a.application_id, ap.job_id, j.title AS job_title, a.order_id,
        a.state, a.findings, a.offense_gravity, a.time_elapsed, a.job_nature, a.rationale,
        ua.name AS assessed_by_name, a.assessed_at, a.wait_days, a.wait_business, a.deadline_at, a.paused_at,
        a.closed_reason, uc.name AS closed_by_name, a.closed_at, us.name AS started_by_name, a.created_at
    FROM adverse_actions a
    JOIN applications ap ON ap.id = a.application_id
    JOIN jobs j ON j.id = ap.job_id
    LEFT JOIN users ua ON ua.id = a.assessed_by
    LEFT JOIN users uc ON uc.id = a.closed_by
    LEFT JOIN users us ON us.id = a.started_by";

const OPEN: &str = "('assessing', 'waiting', 'paused')";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: i64,
    pub action_id: i64,
    pub candidate_id: i64,
    pub kind: NoticeKind,
    pub template_version: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub sha256: String,
    pub email_state: NoticeEmail,
    pub email_detail: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const NOTICE_SELECT: &str =
    "SELECT n.id, n.action_id, a.candidate_id, n.kind, n.template_version, n.recipient, n.subject,
        n.body, n.sha256, n.email_state, n.email_detail, n.sent_at, n.created_at
    FROM adverse_notices n JOIN adverse_actions a ON a.id = n.action_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResponseRow {
    pub id: i64,
    pub action_id: i64,
    pub note: String,
    pub document_name: Option<String>,
    pub recorded_by_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub version: i64,
    pub subject: String,
    pub body: String,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A job's waiting period and whether the final notice goes by itself.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct JobWaiting {
    pub adverse_wait_days: i64,
    pub adverse_wait_business: bool,
    pub adverse_auto_final: bool,
}

/// Every job's waiting period, by title.
pub async fn jobs_waiting(db: &Db) -> sqlx::Result<Vec<(i64, String, i64, bool, bool)>> {
    let sql = "SELECT id, title, adverse_wait_days, adverse_wait_business, adverse_auto_final FROM jobs ORDER BY title";
    on_db!(db, p => sqlx::query_as::<_, (i64, String, i64, bool, bool)>(sql).fetch_all(p).await)
}

pub async fn job_waiting(db: &Db, job_id: i64) -> sqlx::Result<Option<JobWaiting>> {
    let sql = "SELECT adverse_wait_days, adverse_wait_business, adverse_auto_final FROM jobs WHERE id = $1";
    on_db!(db, p => sqlx::query_as::<_, JobWaiting>(sql).bind(job_id).fetch_optional(p).await)
}

/// Sets a job's waiting period; `audit` in the same transaction. False: no such job.
pub async fn set_job_waiting(
    db: &Db,
    job_id: i64,
    w: JobWaiting,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let sql = "UPDATE jobs SET adverse_wait_days = $2, adverse_wait_business = $3, adverse_auto_final = $4 WHERE id = $1";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(sql).bind(job_id).bind(w.adverse_wait_days).bind(w.adverse_wait_business)
            .bind(w.adverse_auto_final).execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

pub struct NewAction {
    pub candidate_id: i64,
    pub application_id: i64,
    pub order_id: i64,
    pub wait_days: i64,
    pub wait_business: bool,
    pub started_by: i64,
}

/// Opens a process; `None` when the application already has an open one (the partial unique
/// index decides, so two recruiters clicking at once open one).
pub async fn start(
    db: &Db,
    a: &NewAction,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<Option<i64>> {
    let sql = "INSERT INTO adverse_actions (candidate_id, application_id, order_id, state, wait_days, wait_business,
            started_by, created_at, updated_at)
        VALUES ($1, $2, $3, 'assessing', $4, $5, $6, $7, $7) RETURNING id";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(sql)
            .bind(a.candidate_id).bind(a.application_id).bind(a.order_id).bind(a.wait_days)
            .bind(a.wait_business).bind(a.started_by).bind(now)
            .fetch_one(&mut *tx).await;
        let Some(id) = super::unless_taken(inserted)? else {
            return Ok(None);
        };
        tx.append_audit(&audit(id)).await?;
        tx.commit().await?;
        Ok(Some(id))
    })
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<ActionRow>> {
    let sql = format!("{ACTION_SELECT} WHERE a.id = $1");
    on_db!(db, p => sqlx::query_as::<_, ActionRow>(&sql).bind(id).fetch_optional(p).await)
}

/// A candidate's processes, newest first.
pub async fn actions_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<ActionRow>> {
    let sql = format!("{ACTION_SELECT} WHERE a.candidate_id = $1 ORDER BY a.id DESC");
    on_db!(db, p => sqlx::query_as::<_, ActionRow>(&sql).bind(candidate_id).fetch_all(p).await)
}

/// Whether an application has an open process (the stage gate asks; one index probe).
pub async fn open_for_application(db: &Db, application_id: i64) -> sqlx::Result<Option<i64>> {
    let sql =
        format!("SELECT id FROM adverse_actions WHERE application_id = $1 AND state IN {OPEN}");
    on_db!(db, p => sqlx::query_scalar::<_, i64>(&sql).bind(application_id).fetch_optional(p).await)
}

/// The notices of a candidate's processes, oldest first.
pub async fn notices_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<NoticeRow>> {
    let sql = format!("{NOTICE_SELECT} WHERE a.candidate_id = $1 ORDER BY n.id");
    on_db!(db, p => sqlx::query_as::<_, NoticeRow>(&sql).bind(candidate_id).fetch_all(p).await)
}

pub async fn find_notice(db: &Db, id: i64) -> sqlx::Result<Option<NoticeRow>> {
    let sql = format!("{NOTICE_SELECT} WHERE n.id = $1");
    on_db!(db, p => sqlx::query_as::<_, NoticeRow>(&sql).bind(id).fetch_optional(p).await)
}

/// The responses recorded on a candidate's processes, oldest first.
pub async fn responses_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<ResponseRow>> {
    let sql = "SELECT r.id, r.action_id, r.note, r.document_name, u.name AS recorded_by_name, r.recorded_at
        FROM adverse_responses r JOIN adverse_actions a ON a.id = r.action_id LEFT JOIN users u ON u.id = r.recorded_by
        WHERE a.candidate_id = $1 ORDER BY r.id";
    on_db!(db, p => sqlx::query_as::<_, ResponseRow>(sql).bind(candidate_id).fetch_all(p).await)
}

/// A response's uploaded document: (candidate id, file name, bytes).
pub async fn response_document(
    db: &Db,
    response_id: i64,
) -> sqlx::Result<Option<(i64, String, Vec<u8>)>> {
    let sql = "SELECT a.candidate_id, r.document_name, r.document FROM adverse_responses r
        JOIN adverse_actions a ON a.id = r.action_id WHERE r.id = $1 AND r.document IS NOT NULL";
    on_db!(db, p => sqlx::query_as::<_, (i64, String, Vec<u8>)>(sql).bind(response_id).fetch_optional(p).await)
}

/// Records the assessment while the process is being assessed. False: it is elsewhere by now.
pub async fn record_assessment(
    db: &Db,
    id: i64,
    a: &crate::model::Assessment,
    user_id: i64,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let sql = "UPDATE adverse_actions SET findings = $2, offense_gravity = $3, time_elapsed = $4, job_nature = $5,
            rationale = $6, assessed_by = $7, assessed_at = $8, updated_at = $8
        WHERE id = $1 AND state = 'assessing'";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(sql).bind(id).bind(&a.findings).bind(&a.offense_gravity).bind(&a.time_elapsed)
            .bind(&a.job_nature).bind(&a.rationale).bind(user_id).bind(now)
            .execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

/// A rendered notice to store (and to email when `email` is queued).
pub struct NewNotice<'a> {
    pub kind: NoticeKind,
    pub template_version: i64,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub sha256: &'a str,
    pub email: NoticeEmail,
    pub created_by: Option<i64>,
}

/// What else a notice does to the process and the application.
pub struct NoticeStep<'a> {
    pub from: AdverseState,
    pub to: AdverseState,
    pub deadline_at: Option<DateTime<Utc>>,
    /// The final notice rejects the application: (stage it is in now, audit of the move).
    pub reject: Option<(&'a str, &'a NewAuditEvent)>,
    pub max_attempts: i64,
}

/// Stores a notice, moves the process on, queues its email and appends `audit`, in one
/// transaction. `None`: the process is no longer where `step.from` says (someone else acted).
pub async fn add_notice(
    db: &Db,
    action: &ActionRow,
    n: &NewNotice<'_>,
    step: &NoticeStep<'_>,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<Option<i64>> {
    let update = "UPDATE adverse_actions SET state = $2, deadline_at = COALESCE($3, deadline_at), updated_at = $4,
            closed_at = CASE WHEN $2 = 'completed' THEN $4 ELSE closed_at END
        WHERE id = $1 AND state = $5";
    let insert = "INSERT INTO adverse_notices (action_id, kind, template_version, recipient, subject, body, sha256,
            email_state, created_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let moved = sqlx::query(update).bind(action.id).bind(step.to).bind(step.deadline_at).bind(now).bind(step.from)
            .execute(&mut *tx).await?.rows_affected() == 1;
        if !moved {
            return Ok(None);
        }
        let notice_id = sqlx::query_scalar::<_, i64>(insert)
            .bind(action.id).bind(n.kind).bind(n.template_version).bind(n.recipient).bind(n.subject)
            .bind(n.body).bind(n.sha256).bind(n.email).bind(n.created_by).bind(now)
            .fetch_one(&mut *tx).await?;
        if n.email == NoticeEmail::Queued {
            let payload = serde_json::json!({ "notice_id": notice_id }).to_string();
            tx.enqueue(JobKind::SendNotice, &payload, step.max_attempts, now, &format!("candidate:{}", action.candidate_id)).await?;
        }
        tx.append_audit(audit).await?;
        if let Some((from_stage, moved_audit)) = step.reject {
            let changed = sqlx::query("UPDATE applications SET stage = 'rejected', updated_at = $1 WHERE id = $2 AND stage = $3")
                .bind(now).bind(action.application_id).bind(from_stage)
                .execute(&mut *tx).await?.rows_affected() == 1;
            if changed {
                sqlx::query("INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at) VALUES ($1, $2, 'rejected', $3, $4)")
                    .bind(action.application_id).bind(from_stage).bind(n.created_by).bind(now)
                    .execute(&mut *tx).await?;
                tx.append_audit(moved_audit).await?;
            }
        }
        tx.commit().await?;
        Ok(Some(notice_id))
    })
}

/// Records what became of a notice's email.
pub async fn mark_notice_email(
    db: &Db,
    notice_id: i64,
    state: NoticeEmail,
    detail: Option<&str>,
    now: DateTime<Utc>,
    audit: Option<&NewAuditEvent>,
) -> sqlx::Result<()> {
    let sql = "UPDATE adverse_notices SET email_state = $2, email_detail = $3,
            sent_at = CASE WHEN $2 = 'sent' THEN $4 ELSE sent_at END WHERE id = $1";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        sqlx::query(sql).bind(notice_id).bind(state).bind(detail).bind(now).execute(&mut *tx).await?;
        if let Some(a) = audit {
            tx.append_audit(a).await?;
        }
        tx.commit().await?;
        Ok(())
    })
}

pub struct NewResponse<'a> {
    pub note: &'a str,
    pub document_name: Option<&'a str>,
    pub document: Option<&'a [u8]>,
    pub document_sha256: Option<&'a str>,
    pub recorded_by: i64,
}

/// Records a response on an open process; a running clock stops (`paused_at`). False: the
/// process is closed by now.
pub async fn record_response(
    db: &Db,
    id: i64,
    r: &NewResponse<'_>,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let pause = format!(
        "UPDATE adverse_actions SET state = CASE WHEN state = 'waiting' THEN 'paused' ELSE state END,
            paused_at = CASE WHEN state = 'waiting' THEN $2 ELSE paused_at END, updated_at = $2
         WHERE id = $1 AND state IN {OPEN}"
    );
    let insert = "INSERT INTO adverse_responses (action_id, note, document_name, document, document_sha256, recorded_by, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let open = sqlx::query(&pause).bind(id).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
        if !open {
            return Ok(false);
        }
        sqlx::query(insert).bind(id).bind(r.note).bind(r.document_name).bind(r.document).bind(r.document_sha256)
            .bind(r.recorded_by).bind(now).execute(&mut *tx).await?;
        tx.append_audit(audit).await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Restarts a paused clock with the deadline moved by the paused time. False: not paused.
pub async fn resume(
    db: &Db,
    id: i64,
    deadline_at: DateTime<Utc>,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let sql = "UPDATE adverse_actions SET state = 'waiting', deadline_at = $2, paused_at = NULL, updated_at = $3
        WHERE id = $1 AND state = 'paused'";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(sql).bind(id).bind(deadline_at).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

/// Calls off an open process with the reason. False: it is closed already.
pub async fn cancel(
    db: &Db,
    id: i64,
    reason: &str,
    user_id: i64,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
) -> sqlx::Result<bool> {
    let sql = format!(
        "UPDATE adverse_actions SET state = 'cancelled', closed_reason = $2, closed_by = $3, closed_at = $4,
            paused_at = NULL, updated_at = $4
         WHERE id = $1 AND state IN {OPEN}"
    );
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(&sql).bind(id).bind(reason).bind(user_id).bind(now)
            .execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            tx.append_audit(audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    })
}

/// Processes whose waiting period ended on a job that sends the final notice by itself.
pub async fn due_for_auto_final(db: &Db, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<i64>> {
    let sql = "SELECT a.id FROM adverse_actions a JOIN applications ap ON ap.id = a.application_id
        JOIN jobs j ON j.id = ap.job_id
        WHERE a.state = 'waiting' AND a.deadline_at <= $1 AND j.adverse_auto_final
        ORDER BY a.deadline_at LIMIT $2";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(now).bind(limit).fetch_all(p).await)
}

/// The newest admin version of a notice template, if any.
pub async fn latest_template(db: &Db, kind: NoticeKind) -> sqlx::Result<Option<TemplateRow>> {
    let sql = "SELECT t.version, t.subject, t.body, u.name AS created_by_name, t.created_at
        FROM notice_templates t LEFT JOIN users u ON u.id = t.created_by
        WHERE t.kind = $1 ORDER BY t.version DESC LIMIT 1";
    on_db!(db, p => sqlx::query_as::<_, TemplateRow>(sql).bind(kind).fetch_optional(p).await)
}

/// Stores a new version of a template (one more than the newest); returns the version.
pub async fn save_template(
    db: &Db,
    kind: NoticeKind,
    subject: &str,
    body: &str,
    user_id: i64,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<i64> {
    let sql = "INSERT INTO notice_templates (kind, version, subject, body, created_by, created_at)
        SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM notice_templates WHERE kind = $1
        RETURNING version";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let version = sqlx::query_scalar::<_, i64>(sql).bind(kind).bind(subject).bind(body).bind(user_id).bind(now)
            .fetch_one(&mut *tx).await?;
        tx.append_audit(&audit(version)).await?;
        tx.commit().await?;
        Ok(version)
    })
}

/// The consumer reporting agency as the final notice names it: (name, address, phone).
pub async fn partner_contact(
    db: &Db,
    partner_id: i64,
) -> sqlx::Result<Option<(String, Option<String>, Option<String>)>> {
    let sql = "SELECT name, address, phone FROM partners WHERE id = $1";
    on_db!(db, p => sqlx::query_as::<_, (String, Option<String>, Option<String>)>(sql).bind(partner_id).fetch_optional(p).await)
}

//! Jobs, candidates, applications and stage history.
use super::{audit::AuditAppend, on_db, BeginWrite, Db};
use crate::server::audit::NewAuditEvent;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListRow {
    pub application_id: i64,
    pub candidate_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub job_title: String,
    pub stage: String,
    pub verification_status: String,
    pub verification_risk_tier: Option<String>,
    pub integrity_score: Option<i64>,
}

/// Filters for the list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only jobs managed by this user (hiring managers).
    pub hiring_manager_id: Option<i64>,
    pub job_id: Option<i64>,
    pub stage: Option<String>,
    pub status: Option<String>,
    pub risk: Option<String>,
    /// A LIKE pattern, already lower-cased and escaped with `\`.
    pub search_pattern: Option<String>,
    /// Latest integrity score below this.
    pub integrity_below: Option<i64>,
    /// Only candidates whose latest integrity report is flagged.
    pub integrity_flagged: Option<bool>,
    /// Only candidates without an integrity report yet.
    pub integrity_missing: Option<bool>,
}

const LIST_FROM: &str = "FROM applications a
    JOIN candidates c ON c.id = a.candidate_id
    JOIN jobs j ON j.id = a.job_id
    WHERE ($1 IS NULL OR j.hiring_manager_id = $1)
      AND ($2 IS NULL OR a.job_id = $2)
      AND ($3 IS NULL OR a.stage = $3)
      AND ($4 IS NULL OR LOWER(c.first_name || ' ' || c.last_name) LIKE $4 ESCAPE '\\' OR LOWER(c.email) LIKE $4 ESCAPE '\\')
      AND ($5 IS NULL OR c.verification_status = $5)
      AND ($6 IS NULL OR c.verification_risk_tier = $6)
      AND ($7 IS NULL OR c.integrity_score < $7)
      AND ($8 IS NULL OR c.integrity_flagged = $8)
      AND ($9 IS NULL OR ($9 = TRUE AND c.integrity_score IS NULL))";

/// One page of applications, newest first, older than `before` when given (keyset).
pub async fn list(
    db: &Db,
    f: &ListFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<ListRow>> {
    let sql = format!(
        "SELECT a.id AS application_id, c.id AS candidate_id, c.first_name, c.last_name, c.email,
                j.title AS job_title, a.stage, c.verification_status, c.verification_risk_tier, c.integrity_score
         {LIST_FROM} AND ($10 IS NULL OR a.id < $10)
         ORDER BY a.id DESC LIMIT $11"
    );
    on_db!(db, p => sqlx::query_as::<_, ListRow>(&sql)
        .bind(f.hiring_manager_id).bind(f.job_id).bind(&f.stage).bind(&f.search_pattern)
        .bind(&f.status).bind(&f.risk)
        .bind(f.integrity_below).bind(f.integrity_flagged).bind(f.integrity_missing)
        .bind(before).bind(limit)
        .fetch_all(p).await)
}

pub async fn count(db: &Db, f: &ListFilter) -> sqlx::Result<i64> {
    let sql = format!("SELECT COUNT(*) {LIST_FROM}");
    on_db!(db, p => sqlx::query_scalar::<_, i64>(&sql)
        .bind(f.hiring_manager_id).bind(f.job_id).bind(&f.stage).bind(&f.search_pattern)
        .bind(&f.status).bind(&f.risk)
        .bind(f.integrity_below).bind(f.integrity_flagged).bind(f.integrity_missing)
        .fetch_one(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub title: String,
    pub hiring_manager_id: i64,
}

pub async fn jobs(db: &Db, hiring_manager_id: Option<i64>) -> sqlx::Result<Vec<JobRow>> {
    let sql = "SELECT id, title, hiring_manager_id FROM jobs WHERE ($1 IS NULL OR hiring_manager_id = $1) ORDER BY title";
    on_db!(db, p => sqlx::query_as::<_, JobRow>(sql).bind(hiring_manager_id).fetch_all(p).await)
}

pub async fn find_job_by_title(db: &Db, title: &str) -> sqlx::Result<Option<JobRow>> {
    let sql = "SELECT id, title, hiring_manager_id FROM jobs WHERE LOWER(title) = LOWER($1)";
    on_db!(db, p => sqlx::query_as::<_, JobRow>(sql).bind(title).fetch_optional(p).await)
}

pub async fn insert_job(
    db: &Db,
    title: &str,
    hiring_manager_id: i64,
    policy_name: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let sql = "INSERT INTO jobs (title, hiring_manager_id, policy_name, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(title).bind(hiring_manager_id).bind(policy_name).bind(now).fetch_one(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub verification_status: String,
    pub verification_updated_at: Option<DateTime<Utc>>,
    pub verification_risk_tier: Option<String>,
    pub verification_verified_at: Option<DateTime<Utc>>,
}

pub async fn find_candidate(db: &Db, id: i64) -> sqlx::Result<Option<CandidateRow>> {
    let sql =
        "SELECT id, first_name, last_name, email, phone, address, address_2, city, state, zip,
                      verification_status, verification_updated_at, verification_risk_tier, verification_verified_at
               FROM candidates WHERE id = $1";
    on_db!(db, p => sqlx::query_as::<_, CandidateRow>(sql).bind(id).fetch_optional(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: i64,
    pub candidate_id: i64,
    pub job_id: i64,
    pub job_title: String,
    pub hiring_manager_id: i64,
    pub hiring_manager_name: String,
    pub policy_name: Option<String>,
    pub stage: String,
}

const APPLICATION_SELECT: &str =
    "SELECT a.id, a.candidate_id, a.job_id, j.title AS job_title, j.hiring_manager_id,
        u.name AS hiring_manager_name, j.policy_name, a.stage
    FROM applications a JOIN jobs j ON j.id = a.job_id JOIN users u ON u.id = j.hiring_manager_id";

pub async fn applications_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<ApplicationRow>> {
    let sql = format!("{APPLICATION_SELECT} WHERE a.candidate_id = $1 ORDER BY a.id");
    on_db!(db, p => sqlx::query_as::<_, ApplicationRow>(&sql).bind(candidate_id).fetch_all(p).await)
}

pub async fn find_application(db: &Db, id: i64) -> sqlx::Result<Option<ApplicationRow>> {
    let sql = format!("{APPLICATION_SELECT} WHERE a.id = $1");
    on_db!(db, p => sqlx::query_as::<_, ApplicationRow>(&sql).bind(id).fetch_optional(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StageChangeRow {
    pub application_id: i64,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub actor_name: Option<String>,
    pub changed_at: DateTime<Utc>,
}

pub async fn stage_history(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<StageChangeRow>> {
    let sql =
        "SELECT s.application_id, s.from_stage, s.to_stage, u.name AS actor_name, s.changed_at
               FROM stage_changes s
               JOIN applications a ON a.id = s.application_id
               LEFT JOIN users u ON u.id = s.actor_user_id
               WHERE a.candidate_id = $1
               ORDER BY s.id";
    on_db!(db, p => sqlx::query_as::<_, StageChangeRow>(sql).bind(candidate_id).fetch_all(p).await)
}

/// A candidate as the partner order needs them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewCandidate {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

/// Inserts a candidate and their application (with its first stage-history entry) in one transaction.
pub async fn insert_with_application(
    db: &Db,
    c: &NewCandidate,
    job_id: i64,
    stage: &str,
    actor_user_id: Option<i64>,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> NewAuditEvent,
) -> sqlx::Result<i64> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let candidate_id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO candidates (first_name, last_name, email, phone, address, address_2, city, state, zip, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(&c.first_name).bind(&c.last_name).bind(&c.email).bind(&c.phone).bind(&c.address)
            .bind(&c.address_2).bind(&c.city).bind(&c.state).bind(&c.zip).bind(now)
            .fetch_one(&mut *tx).await?;
        let application_id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id")
            .bind(candidate_id).bind(job_id).bind(stage).bind(now)
            .fetch_one(&mut *tx).await?;
        sqlx::query("INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at) VALUES ($1, NULL, $2, $3, $4)")
            .bind(application_id).bind(stage).bind(actor_user_id).bind(now)
            .execute(&mut *tx).await?;
        tx.append_audit(&audit(candidate_id)).await?;
        tx.commit().await?;
        Ok(candidate_id)
    })
}

pub async fn candidate_count(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM candidates").fetch_one(p).await)
}

/// Deletes a candidate and everything about them (applications, sessions, orders, exceptions,
/// interviews, reports with their files, queued deliveries, stored partner events), redacts the
/// personal payloads of their audit entries (the chain still verifies), and logs the deletion.
pub async fn delete_candidate(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
    audit: impl FnOnce(u64) -> NewAuditEvent,
) -> sqlx::Result<bool> {
    let subject = format!("candidate:{id}");
    let (plain, prefixed) = (id.to_string(), format!("c_{id}"));
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query("DELETE FROM delivery_jobs WHERE subject = $1").bind(&subject).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM webhook_events WHERE candidate_ref = $1 OR candidate_ref = $2")
            .bind(&plain).bind(&prefixed).execute(&mut *tx).await?;
        let redacted = sqlx::query("UPDATE audit_log SET payload = NULL, redacted_at = $1 WHERE subject_type = 'candidate' AND subject_id = $2 AND payload IS NOT NULL")
            .bind(now).bind(&plain).execute(&mut *tx).await?.rows_affected();
        let deleted = sqlx::query("DELETE FROM candidates WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected() == 1;
        if deleted {
            tx.append_audit(&audit(redacted)).await?;
            tx.commit().await?;
        }
        Ok(deleted)
    })
}

/// Which of `ids` are candidates Clearance has, in one query.
pub async fn existing_ids(db: &Db, ids: &[i64]) -> sqlx::Result<std::collections::HashSet<i64>> {
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let found: Vec<i64> = match db {
        Db::Postgres(p) => {
            sqlx::query_scalar("SELECT id FROM candidates WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)")
                .bind(list).fetch_all(p).await?
        }
        Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT id FROM candidates WHERE id IN (SELECT value FROM json_each($1))")
                .bind(list).fetch_all(p).await?
        }
    };
    Ok(found.into_iter().collect())
}

/// Adds `n` synthetic candidates (one application and stage entry each, a mix of verification
/// statuses, risk tiers and integrity scores) for volume benchmarks; generated inside the
/// database, so 100k rows take seconds. Returns how many candidates there are afterwards.
pub async fn add_volume(db: &Db, n: i64, now: DateTime<Utc>) -> sqlx::Result<i64> {
    let candidates = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST($1 AS BIGINT))
        INSERT INTO candidates (first_name, last_name, email, verification_status, verification_risk_tier,
                                integrity_score, integrity_flagged, created_at)
        SELECT 'Volume', 'Person ' || i, 'volume' || i || '@example.com',
               CASE i % 6 WHEN 0 THEN 'verified' WHEN 1 THEN 'in_progress' WHEN 2 THEN 'needs_review'
                          WHEN 3 THEN 'failed' WHEN 4 THEN 'expired' ELSE 'not_started' END,
               CASE WHEN i % 6 IN (0, 2, 3) THEN (CASE i % 3 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' ELSE 'high' END) END,
               CASE WHEN i % 5 = 0 THEN i % 101 END,
               (i % 5 = 0 AND i % 101 < 60),
               $2
        FROM n";
    let applications = "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at)
        SELECT c.id, (SELECT MIN(id) FROM jobs) + c.id % 4,
               CASE c.id % 7 WHEN 0 THEN 'applied' WHEN 1 THEN 'phone_screen' WHEN 2 THEN 'onsite_or_panel_interview'
                             WHEN 3 THEN 'coding_assessment' WHEN 4 THEN 'offer' WHEN 5 THEN 'hired' ELSE 'rejected' END,
               $1, $1
        FROM candidates c WHERE c.email LIKE 'volume%' AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = c.id)";
    let history = "INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at)
        SELECT a.id, NULL, a.stage, NULL, $1 FROM applications a JOIN candidates c ON c.id = a.candidate_id
        WHERE c.email LIKE 'volume%' AND NOT EXISTS (SELECT 1 FROM stage_changes s WHERE s.application_id = a.id)";
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(candidates).bind(n).bind(now).execute(&mut *tx).await?;
        sqlx::query(applications).bind(now).execute(&mut *tx).await?;
        sqlx::query(history).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM candidates").fetch_one(p).await
    })
}

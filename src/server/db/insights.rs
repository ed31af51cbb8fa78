//! The Insights page's aggregates, computed in SQL on both databases over a range of instants:
//! applications created in it (of one job or all), and the sessions and review items begun in it.
//! Percentiles are nearest-rank, by window functions (SQLite has no percentile aggregate).
use super::{on_db, Db, Origin};
use crate::model::{
    BlockedMoves, DeadLetters, DriftRun, ExceptionCounts, RiskTier, SlaRow, Stage,
    VerificationStatus,
};
use chrono::{DateTime, Utc};

/// Instants `[from, to)` and an optional job.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub job_id: Option<i64>,
}

/// `AND …` restricting applications `a` to the job, as `$3` (nothing when all jobs).
fn job_clause(r: &Range) -> &'static str {
    if r.job_id.is_some() {
        "AND a.job_id = $3"
    } else {
        ""
    }
}

/// The same for rows of a candidate `x.candidate_id`.
fn candidate_job_clause(r: &Range) -> &'static str {
    if r.job_id.is_some() {
        "AND EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = x.candidate_id AND a.job_id = $3)"
    } else {
        ""
    }
}

/// Seconds between two timestamp columns, in the backend's dialect.
fn seconds(db: &Db, later: &str, earlier: &str) -> String {
    match db {
        Db::Sqlite(_) => {
            format!("CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)")
        }
        Db::Postgres(_) => {
            format!("CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier}))) AS BIGINT)")
        }
    }
}

macro_rules! bind_range {
    ($q:expr, $r:expr) => {{
        let q = $q.bind($r.from).bind($r.to);
        match $r.job_id {
            Some(job) => q.bind(job),
            None => q,
        }
    }};
}

/// Applications in the range.
pub async fn applications(db: &Db, r: &Range) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM applications a WHERE a.created_at >= $1 AND a.created_at < $2 {}",
        job_clause(r)
    );
    on_db!(db, p => bind_range!(sqlx::query_scalar::<_, i64>(&sql), r).fetch_one(p).await)
}

/// For each funnel position (0 = applied … 5 = hired), how many applications got no further.
pub async fn furthest_stage(db: &Db, r: &Range) -> sqlx::Result<Vec<(i64, i64)>> {
    let sql = format!(
        "WITH pop AS (SELECT a.id, a.stage FROM applications a
                      WHERE a.created_at >= $1 AND a.created_at < $2 {job}),
              seen AS (SELECT id, stage FROM pop
                       UNION ALL
                       SELECT sc.application_id, sc.to_stage FROM stage_changes sc JOIN pop ON pop.id = sc.application_id),
              furthest AS (SELECT id, MAX(CASE stage WHEN 'phone_screen' THEN 1 WHEN 'onsite_or_panel_interview' THEN 2
                                                     WHEN 'coding_assessment' THEN 3 WHEN 'offer' THEN 4 WHEN 'hired' THEN 5
                                                     ELSE 0 END) AS top
                           FROM seen GROUP BY id)
         SELECT CAST(top AS BIGINT), COUNT(*) FROM furthest GROUP BY top",
        job = job_clause(r)
    );
    on_db!(db, p => bind_range!(sqlx::query_as::<_, (i64, i64)>(&sql), r).fetch_all(p).await)
}

/// Applications in the range by their stage now.
pub async fn current_stages(db: &Db, r: &Range) -> sqlx::Result<Vec<(Stage, i64)>> {
    let sql = format!(
        "SELECT a.stage, COUNT(*) FROM applications a
         WHERE a.created_at >= $1 AND a.created_at < $2 {} GROUP BY a.stage",
        job_clause(r)
    );
    on_db!(db, p => bind_range!(sqlx::query_as::<_, (Stage, i64)>(&sql), r).fetch_all(p).await)
        .in_table("applications")
}

/// Candidates with an application in the range, by verification status.
pub async fn outcomes(db: &Db, r: &Range) -> sqlx::Result<Vec<(VerificationStatus, i64)>> {
    let sql = format!(
        "SELECT c.verification_status, COUNT(DISTINCT c.id) FROM candidates c
         JOIN applications a ON a.candidate_id = c.id
         WHERE a.created_at >= $1 AND a.created_at < $2 {} GROUP BY c.verification_status",
        job_clause(r)
    );
    on_db!(db, p => bind_range!(sqlx::query_as::<_, (VerificationStatus, i64)>(&sql), r).fetch_all(p).await)
        .in_table("candidates")
}

/// Provider results (a session's last event, for sessions with a result) that arrived in the
/// range, per quarter of an hour (epoch seconds of its start) and status: few rows whatever the
/// volume, and any time zone's days are whole quarters.
pub async fn results_by_quarter_hour(
    db: &Db,
    r: &Range,
) -> sqlx::Result<Vec<(i64, VerificationStatus, i64)>> {
    let sql = |bucket: &str| {
        format!(
            "SELECT {bucket} AS q, x.status, COUNT(*) FROM verification_sessions x
             WHERE x.status IN ('verified', 'failed', 'needs_review', 'expired')
               AND x.last_event_at >= $1 AND x.last_event_at < $2 {}
             GROUP BY q, x.status",
            candidate_job_clause(r)
        )
    };
    let bucket = match db {
        Db::Sqlite(_) => "(CAST(strftime('%s', x.last_event_at) AS INTEGER) / 900) * 900",
        Db::Postgres(_) => "CAST(FLOOR(EXTRACT(EPOCH FROM x.last_event_at) / 900) * 900 AS BIGINT)",
    };
    let sql = sql(bucket);
    on_db!(db, p => bind_range!(sqlx::query_as::<_, (i64, VerificationStatus, i64)>(&sql), r).fetch_all(p).await)
    .in_table("verification_sessions")
}

/// Blocked stage moves logged in the range (from the audit log: the stage moved to, and each
/// reason code of the refusal), of candidates with an application to the job when one is set.
pub async fn blocked_moves(db: &Db, r: &Range) -> sqlx::Result<Vec<BlockedMoves>> {
    let job = |cast: &str| {
        if r.job_id.is_some() {
            format!("AND EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = CAST(x.subject_id AS {cast}) AND a.job_id = $3)")
        } else {
            String::new()
        }
    };
    let filter = "x.event_type = 'stage_transition_blocked' AND x.subject_type = 'candidate'
                  AND x.payload IS NOT NULL AND x.occurred_at >= $1 AND x.occurred_at < $2";
    // The JSON functions differ: SQLite's json_each, PostgreSQL's jsonb_array_elements_text.
    let (stage, from, cast) = match db {
        Db::Sqlite(_) => (
            "json_extract(x.payload, '$.to')",
            "audit_log x, json_each(x.payload, '$.reason_codes') j",
            "INTEGER",
        ),
        Db::Postgres(_) => (
            "x.payload::jsonb->>'to'",
            "audit_log x CROSS JOIN LATERAL jsonb_array_elements_text(x.payload::jsonb->'reason_codes') AS j(value)",
            "BIGINT",
        ),
    };
    let sql = format!(
        "SELECT {stage} AS stage, j.value AS reason_code, COUNT(*) AS moves FROM {from}
         WHERE {filter} {} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
        job(cast)
    );
    on_db!(db, p => bind_range!(sqlx::query_as::<_, BlockedMoves>(&sql), r).fetch_all(p).await)
        .in_table("audit_log")
}

/// Stage exceptions granted in the range per stage, and how many of them have expired by `now`.
pub async fn exceptions(
    db: &Db,
    r: &Range,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<ExceptionCounts>> {
    let job = if r.job_id.is_some() {
        "AND EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = x.candidate_id AND a.job_id = $4)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT x.stage, COUNT(*) AS granted,
                CAST(SUM(CASE WHEN x.expiry_at <= $3 THEN 1 ELSE 0 END) AS BIGINT) AS expired
         FROM stage_exceptions x WHERE x.approved_at >= $1 AND x.approved_at < $2 {job}
         GROUP BY x.stage ORDER BY x.stage"
    );
    on_db!(db, p => {
        let q = sqlx::query_as::<_, ExceptionCounts>(&sql).bind(r.from).bind(r.to).bind(now);
        let q = match r.job_id { Some(j) => q.bind(j), None => q };
        q.fetch_all(p).await
    })
    .in_table("stage_exceptions")
}

/// Reconciliation runs begun in the range, newest first (all jobs: a run covers every candidate).
pub async fn runs(db: &Db, r: &Range, limit: i64) -> sqlx::Result<Vec<DriftRun>> {
    let sql = "SELECT id, trigger, state, started_at, checked, drifted, fixed FROM reconciliation_runs
               WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at DESC, id DESC LIMIT $3";
    on_db!(db, p => sqlx::query_as::<_, DriftRun>(sql).bind(r.from).bind(r.to).bind(limit).fetch_all(p).await)
        .in_table("reconciliation_runs")
}

/// Deliveries dead-lettered in the range (their last change), by kind; of the job's candidates
/// when a job is set (the job's `subject` names the candidate).
pub async fn dead_letters(db: &Db, r: &Range) -> sqlx::Result<Vec<DeadLetters>> {
    let job = if r.job_id.is_some() {
        "AND EXISTS (SELECT 1 FROM applications a WHERE x.subject = 'candidate:' || CAST(a.candidate_id AS TEXT) AND a.job_id = $3)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT x.kind, COUNT(*) AS count FROM delivery_jobs x
         WHERE x.state = 'dead' AND x.updated_at >= $1 AND x.updated_at < $2 {job}
         GROUP BY x.kind ORDER BY 2 DESC, 1"
    );
    on_db!(db, p => bind_range!(sqlx::query_as::<_, DeadLetters>(&sql), r).fetch_all(p).await)
        .in_table("delivery_jobs")
}

/// Per risk tier: how many, and the nearest-rank median and 90th percentile of `seconds`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Percentiles {
    pub tier: Option<RiskTier>,
    pub n: i64,
    pub p50: i64,
    pub p90: i64,
}

fn percentiles_sql(durations: &str) -> String {
    format!(
        "WITH d AS ({durations}),
              ranked AS (SELECT tier, secs, ROW_NUMBER() OVER (PARTITION BY tier ORDER BY secs) AS rn,
                                COUNT(*) OVER (PARTITION BY tier) AS n FROM d)
         SELECT tier, CAST(MAX(n) AS BIGINT) AS n,
                CAST(MIN(CASE WHEN rn * 2 >= n THEN secs END) AS BIGINT) AS p50,
                CAST(MIN(CASE WHEN rn * 10 >= n * 9 THEN secs END) AS BIGINT) AS p90
         FROM ranked GROUP BY tier"
    )
}

/// Verification requested (the session created) → the provider's result (its last event), for
/// sessions begun in the range that have a result.
pub async fn request_to_result(db: &Db, r: &Range) -> sqlx::Result<Vec<Percentiles>> {
    let durations = |secs: String| {
        format!(
            "SELECT x.risk_tier AS tier, {secs} AS secs FROM verification_sessions x
             WHERE x.status IN ('verified', 'failed', 'needs_review', 'expired') AND x.last_event_at IS NOT NULL
               AND x.created_at >= $1 AND x.created_at < $2 {}",
            candidate_job_clause(r)
        )
    };
    let sql = percentiles_sql(&durations(seconds(db, "x.last_event_at", "x.created_at")));
    on_db!(db, p => bind_range!(sqlx::query_as::<_, Percentiles>(&sql), r).fetch_all(p).await)
        .in_table("verification_sessions")
}

/// A needs-review item opened → decided, for items opened in the range and decided.
pub async fn review_to_decision(db: &Db, r: &Range) -> sqlx::Result<Vec<Percentiles>> {
    let durations = |secs: String| {
        format!(
            "SELECT x.risk_tier AS tier, {secs} AS secs FROM review_items x
             WHERE x.decided_at IS NOT NULL AND x.opened_at >= $1 AND x.opened_at < $2 {}",
            candidate_job_clause(r)
        )
    };
    let sql = percentiles_sql(&durations(seconds(db, "x.decided_at", "x.opened_at")));
    on_db!(db, p => bind_range!(sqlx::query_as::<_, Percentiles>(&sql), r).fetch_all(p).await)
        .in_table("review_items")
}

/// Review items opened in the range, per risk tier, against their SLA deadline (`now` for the
/// ones still open).
pub async fn sla(db: &Db, r: &Range, now: DateTime<Utc>) -> sqlx::Result<Vec<SlaRow>> {
    let job = if r.job_id.is_some() {
        "AND EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = x.candidate_id AND a.job_id = $4)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT x.risk_tier AS tier,
                CAST(SUM(CASE WHEN x.decided_at IS NOT NULL AND (x.deadline_at IS NULL OR x.decided_at <= x.deadline_at) THEN 1 ELSE 0 END) AS BIGINT) AS decided_within,
                CAST(SUM(CASE WHEN x.decided_at IS NOT NULL AND x.decided_at > x.deadline_at THEN 1 ELSE 0 END) AS BIGINT) AS decided_after,
                CAST(SUM(CASE WHEN x.state <> 'closed' THEN 1 ELSE 0 END) AS BIGINT) AS open,
                CAST(SUM(CASE WHEN x.state <> 'closed' AND x.deadline_at < $3 THEN 1 ELSE 0 END) AS BIGINT) AS breached,
                MIN(CASE WHEN x.state <> 'closed' THEN x.opened_at END) AS oldest_open
         FROM review_items x WHERE x.opened_at >= $1 AND x.opened_at < $2 {job}
         GROUP BY x.risk_tier"
    );
    on_db!(db, p => {
        let q = sqlx::query_as::<_, SlaRow>(&sql).bind(r.from).bind(r.to).bind(now);
        let q = match r.job_id { Some(j) => q.bind(j), None => q };
        q.fetch_all(p).await
    })
    .in_table("review_items")
}

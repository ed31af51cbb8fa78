//! The Insights page's aggregates, computed in SQL on both databases over a range of instants:
//! applications created in it (of one job, the jobs under one policy, candidates of one risk
//! tier, or all), and the sessions, review items, orders and drift begun in it. Percentiles are
//! nearest-rank, by window functions (SQLite has no percentile aggregate).
use super::{bind_all, on_db, Bind, Binds, Db, Origin};
use crate::model::{
    BlockedMoves, DeadLetters, DriftRun, ExceptionCounts, RiskTier, SlaRow, Stage,
    VerificationStatus,
};
use chrono::{DateTime, Utc};

/// Instants `[from, to)` and the optional scope: a job, the jobs of a policy, a risk tier.
#[derive(Debug, Clone)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub job_id: Option<i64>,
    pub policy: Option<PolicyScope>,
    pub tier: Option<RiskTier>,
}

/// The jobs under one policy: those that name it, and those that name none when it is the
/// organisation's default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyScope {
    pub name: String,
    pub includes_unnamed: bool,
}

/// A statement's arguments, numbered as they are added: `$1` and `$2` are always the range.
struct Args(Binds);

impl Args {
    fn new(r: &Range) -> Args {
        let mut binds = Binds::new();
        binds.push(Bind::Time(r.from));
        binds.push(Bind::Time(r.to));
        Args(binds)
    }

    fn push(&mut self, value: Bind) -> String {
        self.0.push(value)
    }

    fn values(&self) -> &[Bind] {
        self.0.values()
    }

    /// `AND …` keeping applications `app` of the job and of the policy's jobs.
    fn jobs(&mut self, r: &Range, app: &str) -> String {
        let mut sql = String::new();
        if let Some(job) = r.job_id {
            sql += &format!(" AND {app}.job_id = {}", self.push(Bind::Int(job)));
        }
        if let Some(p) = &r.policy {
            let name = self.push(Bind::Text(p.name.clone()));
            let unnamed = if p.includes_unnamed {
                " OR pj.policy_name IS NULL"
            } else {
                ""
            };
            sql += &format!(
                " AND EXISTS (SELECT 1 FROM jobs pj WHERE pj.id = {app}.job_id AND (pj.policy_name = {name}{unnamed}))"
            );
        }
        sql
    }

    /// `AND …` keeping applications `a` in scope (the tier is the candidate's).
    fn applications(&mut self, r: &Range) -> String {
        let mut sql = self.jobs(r, "a");
        if let Some(t) = r.tier {
            sql += &format!(
                " AND EXISTS (SELECT 1 FROM candidates tc WHERE tc.id = a.candidate_id AND tc.verification_risk_tier = {})",
                self.push(Bind::Str(t.as_str()))
            );
        }
        sql
    }

    /// `AND …` keeping rows of the candidate `candidate` in scope: one with an application to
    /// the job (or a job of the policy), and of the tier in the column `tier` (the row's own
    /// tier where it has one) or else the candidate's.
    fn of_candidate(&mut self, r: &Range, candidate: &str, tier: Option<&str>) -> String {
        let mut sql = String::new();
        if r.job_id.is_some() || r.policy.is_some() {
            let jobs = self.jobs(r, "sa");
            sql += &format!(
                " AND EXISTS (SELECT 1 FROM applications sa WHERE sa.candidate_id = {candidate}{jobs})"
            );
        }
        if let Some(t) = r.tier {
            let t = self.push(Bind::Str(t.as_str()));
            sql += &match tier {
                Some(column) => format!(" AND {column} = {t}"),
                None => format!(
                    " AND EXISTS (SELECT 1 FROM candidates tc WHERE tc.id = {candidate} AND tc.verification_risk_tier = {t})"
                ),
            };
        }
        sql
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

/// What the figures were read at: equal versions, equal figures (but for the ones that move
/// with the clock: breaches, expiries). SQLite: counters its triggers keep in each writing
/// transaction (`list_version`, `insights_version`); PostgreSQL: the snapshot (as for the list).
pub async fn version(db: &Db) -> sqlx::Result<String> {
    super::data_version(
        db,
        "SELECT CAST(l.n AS TEXT) || '.' || CAST(i.n AS TEXT) FROM list_version l, insights_version i WHERE l.id = 1 AND i.id = 1",
    )
    .await
}

/// Applications in the range.
pub async fn applications(db: &Db, r: &Range) -> sqlx::Result<i64> {
    let mut args = Args::new(r);
    let sql = format!(
        "SELECT COUNT(*) FROM applications a WHERE a.created_at >= $1 AND a.created_at < $2{}",
        args.applications(r)
    );
    on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), args).fetch_one(p).await)
}

/// For each funnel position (0 = applied … 5 = hired), how many applications got no further.
pub async fn furthest_stage(db: &Db, r: &Range) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut args = Args::new(r);
    let sql = format!(
        "WITH pop AS (SELECT a.id, a.stage FROM applications a
                      WHERE a.created_at >= $1 AND a.created_at < $2{scope}),
              seen AS (SELECT id, stage FROM pop
                       UNION ALL
                       SELECT sc.application_id, sc.to_stage FROM stage_changes sc JOIN pop ON pop.id = sc.application_id),
              furthest AS (SELECT id, MAX(CASE stage WHEN 'phone_screen' THEN 1 WHEN 'onsite_or_panel_interview' THEN 2
                                                     WHEN 'coding_assessment' THEN 3 WHEN 'offer' THEN 4 WHEN 'hired' THEN 5
                                                     ELSE 0 END) AS top
                           FROM seen GROUP BY id)
         SELECT CAST(top AS BIGINT), COUNT(*) FROM furthest GROUP BY top",
        scope = args.applications(r)
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, (i64, i64)>(&sql), args).fetch_all(p).await)
}

/// Applications in the range by their stage now.
pub async fn current_stages(db: &Db, r: &Range) -> sqlx::Result<Vec<(Stage, i64)>> {
    let mut args = Args::new(r);
    let sql = format!(
        "SELECT a.stage, COUNT(*) FROM applications a
         WHERE a.created_at >= $1 AND a.created_at < $2{} GROUP BY a.stage",
        args.applications(r)
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, (Stage, i64)>(&sql), args).fetch_all(p).await)
        .in_table("applications")
}

/// Candidates with an application in the range, by verification status and risk tier.
pub async fn outcomes(
    db: &Db,
    r: &Range,
) -> sqlx::Result<Vec<(VerificationStatus, Option<RiskTier>, i64)>> {
    let mut args = Args::new(r);
    let sql = format!(
        "SELECT c.verification_status, c.verification_risk_tier, COUNT(DISTINCT c.id) FROM candidates c
         JOIN applications a ON a.candidate_id = c.id
         WHERE a.created_at >= $1 AND a.created_at < $2{}
         GROUP BY c.verification_status, c.verification_risk_tier",
        args.applications(r)
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, (VerificationStatus, Option<RiskTier>, i64)>(&sql), args).fetch_all(p).await)
        .in_table("candidates")
}

/// Provider results (a session's last event, for sessions with a result) that arrived in the
/// range, per quarter of an hour (epoch seconds of its start) and status: few rows whatever the
/// volume, and any time zone's days are whole quarters.
pub async fn results_by_quarter_hour(
    db: &Db,
    r: &Range,
) -> sqlx::Result<Vec<(i64, VerificationStatus, i64)>> {
    let bucket = match db {
        Db::Sqlite(_) => "(CAST(strftime('%s', x.last_event_at) AS INTEGER) / 900) * 900",
        Db::Postgres(_) => "CAST(FLOOR(EXTRACT(EPOCH FROM x.last_event_at) / 900) * 900 AS BIGINT)",
    };
    let mut args = Args::new(r);
    let sql = format!(
        "SELECT {bucket} AS q, x.status, COUNT(*) FROM verification_sessions x
         WHERE x.status IN ('verified', 'failed', 'needs_review', 'expired')
           AND x.last_event_at >= $1 AND x.last_event_at < $2{}
         GROUP BY q, x.status",
        args.of_candidate(r, "x.candidate_id", Some("x.risk_tier"))
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, (i64, VerificationStatus, i64)>(&sql), args).fetch_all(p).await)
    .in_table("verification_sessions")
}

/// Blocked stage moves logged in the range (from the audit log: the stage moved to, and each
/// reason code of the refusal), of candidates in scope.
pub async fn blocked_moves(db: &Db, r: &Range) -> sqlx::Result<Vec<BlockedMoves>> {
    // The JSON functions differ: SQLite's json_each, PostgreSQL's jsonb_array_elements_text.
    let (stage, from, candidate) = match db {
        Db::Sqlite(_) => (
            "json_extract(x.payload, '$.to')",
            "audit_log x, json_each(x.payload, '$.reason_codes') j",
            "CAST(x.subject_id AS INTEGER)",
        ),
        Db::Postgres(_) => (
            "x.payload::jsonb->>'to'",
            "audit_log x CROSS JOIN LATERAL jsonb_array_elements_text(x.payload::jsonb->'reason_codes') AS j(value)",
            "CAST(x.subject_id AS BIGINT)",
        ),
    };
    let mut args = Args::new(r);
    let sql = format!(
        "SELECT {stage} AS stage, j.value AS reason_code, COUNT(*) AS moves FROM {from}
         WHERE x.event_type = 'stage_transition_blocked' AND x.subject_type = 'candidate'
           AND x.payload IS NOT NULL AND x.occurred_at >= $1 AND x.occurred_at < $2{}
         GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
        args.of_candidate(r, candidate, None)
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, BlockedMoves>(&sql), args).fetch_all(p).await)
        .in_table("audit_log")
}

/// Stage exceptions granted in the range per stage, and how many of them have expired by `now`.
pub async fn exceptions(
    db: &Db,
    r: &Range,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<ExceptionCounts>> {
    let mut args = Args::new(r);
    let now = args.push(Bind::Time(now));
    let sql = format!(
        "SELECT x.stage, COUNT(*) AS granted,
                CAST(SUM(CASE WHEN x.expiry_at <= {now} THEN 1 ELSE 0 END) AS BIGINT) AS expired
         FROM stage_exceptions x WHERE x.approved_at >= $1 AND x.approved_at < $2{}
         GROUP BY x.stage ORDER BY x.stage",
        args.of_candidate(r, "x.candidate_id", None)
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, ExceptionCounts>(&sql), args).fetch_all(p).await)
        .in_table("stage_exceptions")
}

/// Reconciliation runs begun in the range, newest first (unscoped: a run covers every candidate).
pub async fn runs(db: &Db, r: &Range, limit: i64) -> sqlx::Result<Vec<DriftRun>> {
    let sql = "SELECT id, trigger, state, started_at, checked, drifted, fixed FROM reconciliation_runs
               WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at DESC, id DESC LIMIT $3";
    on_db!(db, p => sqlx::query_as::<_, DriftRun>(sql).bind(r.from).bind(r.to).bind(limit).fetch_all(p).await)
        .in_table("reconciliation_runs")
}

/// Deliveries dead-lettered in the range (their last change), by kind and, for background-check
/// orders, the partner; of candidates in scope when one is set (the job's `subject` names the
/// candidate as `candidate:N`).
pub async fn dead_letters(db: &Db, r: &Range) -> sqlx::Result<Vec<DeadLetters>> {
    let (candidate, partner) = match db {
        Db::Sqlite(_) => (
            "CASE WHEN x.subject LIKE 'candidate:%' THEN CAST(SUBSTR(x.subject, 11) AS INTEGER) END",
            "CASE WHEN x.kind = 'background_check.order' THEN (SELECT p.name FROM partners p WHERE p.id = json_extract(x.payload, '$.partner_id')) END",
        ),
        Db::Postgres(_) => (
            "CASE WHEN x.subject LIKE 'candidate:%' THEN CAST(SUBSTR(x.subject, 11) AS BIGINT) END",
            "CASE WHEN x.kind = 'background_check.order' THEN (SELECT p.name FROM partners p WHERE p.id = CAST(x.payload::jsonb->>'partner_id' AS BIGINT)) END",
        ),
    };
    let mut args = Args::new(r);
    let sql = format!(
        "SELECT x.kind, {partner} AS partner, COUNT(*) AS count FROM delivery_jobs x
         WHERE x.state = 'dead' AND x.updated_at >= $1 AND x.updated_at < $2{}
         GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
        args.of_candidate(r, candidate, None)
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, DeadLetters>(&sql), args).fetch_all(p).await)
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

async fn percentiles(db: &Db, durations: &str, args: Args) -> sqlx::Result<Vec<Percentiles>> {
    let sql = percentiles_sql(durations);
    on_db!(db, p => bind_all!(sqlx::query_as::<_, Percentiles>(&sql), args).fetch_all(p).await)
}

/// Application created → verification requested (the candidate's first session created since),
/// for applications created in the range that have one; the candidate's tier.
pub async fn application_to_request(db: &Db, r: &Range) -> sqlx::Result<Vec<Percentiles>> {
    let mut args = Args::new(r);
    let scope = args.applications(r);
    let durations = format!(
        "SELECT c.verification_risk_tier AS tier, {secs} AS secs
         FROM applications a JOIN candidates c ON c.id = a.candidate_id
         JOIN verification_sessions s ON s.id = (SELECT s1.id FROM verification_sessions s1
              WHERE s1.candidate_id = a.candidate_id AND s1.created_at >= a.created_at
              ORDER BY s1.created_at, s1.id LIMIT 1)
         WHERE a.created_at >= $1 AND a.created_at < $2{scope}",
        secs = seconds(db, "s.created_at", "a.created_at")
    );
    percentiles(db, &durations, args)
        .await
        .in_table("verification_sessions")
}

/// Verification requested (the session created) → the provider's result (its last event), for
/// sessions begun in the range that have a result.
pub async fn request_to_result(db: &Db, r: &Range) -> sqlx::Result<Vec<Percentiles>> {
    let mut args = Args::new(r);
    let durations = format!(
        "SELECT x.risk_tier AS tier, {} AS secs FROM verification_sessions x
         WHERE x.status IN ('verified', 'failed', 'needs_review', 'expired') AND x.last_event_at IS NOT NULL
           AND x.created_at >= $1 AND x.created_at < $2{}",
        seconds(db, "x.last_event_at", "x.created_at"),
        args.of_candidate(r, "x.candidate_id", Some("x.risk_tier"))
    );
    percentiles(db, &durations, args)
        .await
        .in_table("verification_sessions")
}

/// A needs-review item opened → decided, for items opened in the range and decided.
pub async fn review_to_decision(db: &Db, r: &Range) -> sqlx::Result<Vec<Percentiles>> {
    let mut args = Args::new(r);
    let durations = format!(
        "SELECT x.risk_tier AS tier, {} AS secs FROM review_items x
         WHERE x.decided_at IS NOT NULL AND x.opened_at >= $1 AND x.opened_at < $2{}",
        seconds(db, "x.decided_at", "x.opened_at"),
        args.of_candidate(r, "x.candidate_id", Some("x.risk_tier"))
    );
    percentiles(db, &durations, args)
        .await
        .in_table("review_items")
}

/// `earlier` → `later` for rows `x` of `table` begun in the range (by `earlier`) that have
/// `later`, per the candidate's tier.
async fn candidate_timing(
    db: &Db,
    r: &Range,
    table: &str,
    earlier: &str,
    later: &str,
) -> sqlx::Result<Vec<Percentiles>> {
    let mut args = Args::new(r);
    let durations = format!(
        "SELECT c.verification_risk_tier AS tier, {} AS secs
         FROM {table} x JOIN candidates c ON c.id = x.candidate_id
         WHERE x.{later} IS NOT NULL AND x.{earlier} >= $1 AND x.{earlier} < $2{}",
        seconds(db, &format!("x.{later}"), &format!("x.{earlier}")),
        args.of_candidate(r, "x.candidate_id", Some("c.verification_risk_tier"))
    );
    percentiles(db, &durations, args)
        .await
        .in_table("candidates")
}

/// A background check ordered → the partner's result, for orders placed in the range.
pub async fn order_to_result(db: &Db, r: &Range) -> sqlx::Result<Vec<Percentiles>> {
    candidate_timing(db, r, "background_check_orders", "created_at", "result_at").await
}

/// Drift found → resolved (the session brought back in line), for drift found in the range.
pub async fn drift_to_resolved(db: &Db, r: &Range) -> sqlx::Result<Vec<Percentiles>> {
    candidate_timing(db, r, "drift_records", "detected_at", "resolved_at").await
}

/// Review items opened in the range, per risk tier, against their SLA deadline (`now` for the
/// ones still open).
pub async fn sla(db: &Db, r: &Range, now: DateTime<Utc>) -> sqlx::Result<Vec<SlaRow>> {
    let mut args = Args::new(r);
    let now = args.push(Bind::Time(now));
    let sql = format!(
        "SELECT x.risk_tier AS tier,
                CAST(SUM(CASE WHEN x.decided_at IS NOT NULL AND (x.deadline_at IS NULL OR x.decided_at <= x.deadline_at) THEN 1 ELSE 0 END) AS BIGINT) AS decided_within,
                CAST(SUM(CASE WHEN x.decided_at IS NOT NULL AND x.decided_at > x.deadline_at THEN 1 ELSE 0 END) AS BIGINT) AS decided_after,
                CAST(SUM(CASE WHEN x.state <> 'closed' THEN 1 ELSE 0 END) AS BIGINT) AS open,
                CAST(SUM(CASE WHEN x.state <> 'closed' AND x.deadline_at < {now} THEN 1 ELSE 0 END) AS BIGINT) AS breached,
                MIN(CASE WHEN x.state <> 'closed' THEN x.opened_at END) AS oldest_open
         FROM review_items x WHERE x.opened_at >= $1 AND x.opened_at < $2{}
         GROUP BY x.risk_tier",
        args.of_candidate(r, "x.candidate_id", Some("x.risk_tier"))
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, SlaRow>(&sql), args).fetch_all(p).await)
        .in_table("review_items")
}

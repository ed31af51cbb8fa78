//! Jobs, candidates, applications and stage history.
use super::{audit::AuditAppend, bind_all, on_db, BeginWrite, Bind, Binds, Db, Origin};
use crate::model::{RiskTier, Stage, VerificationStatus};
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
    pub stage: Stage,
    pub verification_status: VerificationStatus,
    pub verification_risk_tier: Option<RiskTier>,
    pub integrity_score: Option<i64>,
}

/// Filters for the list; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListFilter {
    /// Only jobs managed by this user (hiring managers).
    pub hiring_manager_id: Option<i64>,
    pub job_id: Option<i64>,
    pub stage: Option<Stage>,
    pub status: Option<VerificationStatus>,
    pub risk: Option<RiskTier>,
    /// A LIKE pattern, already lower-cased and escaped with `\`.
    pub search_pattern: Option<String>,
    /// Latest integrity score below this.
    pub integrity_below: Option<i64>,
    /// Only candidates whose latest integrity report is flagged.
    pub integrity_flagged: Option<bool>,
    /// Only candidates without an integrity report yet.
    pub integrity_missing: Option<bool>,
    /// Only these applications (the rows ticked for a bulk action).
    pub applications: Option<Vec<i64>>,
}

/// The FROM and WHERE of the list, with only the predicates of the filters that are set (so the
/// planner can use the index for each), numbered `$1…` for both databases.
fn list_where(f: &ListFilter, sqlite: bool, page: bool, binds: &mut Binds) -> String {
    // For a page, SQLite walks applications newest first and stops at the page's end: CROSS JOIN
    // fixes that join order (left to right). Left to itself it collects every candidate matching a
    // status or risk filter through their index and sorts them all (10 ms → 0.5 ms at 100k). Not
    // for a search, whose trigram match is the better driver, nor for counts, which read every
    // match anyway.
    let join = if sqlite && page && f.search_pattern.is_none() {
        "CROSS JOIN"
    } else {
        "JOIN"
    };
    // A page shows columns of all three tables; a count joins only the tables its filters read
    // (every application has its candidate and its job, so the joins cannot change the count):
    // the unfiltered count reads the applications' primary key alone (1.0 ms → 0.3 ms at the cap, 100k candidates).
    let candidate_filter = f.search_pattern.is_some()
        || f.status.is_some()
        || f.risk.is_some()
        || f.integrity_below.is_some()
        || f.integrity_flagged == Some(true)
        || f.integrity_missing == Some(true);
    let mut sql = String::from("FROM applications a");
    if page || candidate_filter {
        sql.push_str(&format!(" {join} candidates c ON c.id = a.candidate_id"));
    }
    if page || f.hiring_manager_id.is_some() {
        sql.push_str(" JOIN jobs j ON j.id = a.job_id");
    }
    sql.push_str(" WHERE 1 = 1");
    // The filters that compare one column with one value, each numbered as it is bound.
    let compared = [
        (
            " AND j.hiring_manager_id = ?",
            f.hiring_manager_id.map(Bind::Int),
        ),
        (" AND a.job_id = ?", f.job_id.map(Bind::Int)),
        (" AND a.stage = ?", f.stage.map(|s| Bind::Str(s.as_str()))),
        (
            " AND c.verification_status = ?",
            f.status.map(|s| Bind::Str(s.as_str())),
        ),
        (
            " AND c.verification_risk_tier = ?",
            f.risk.map(|r| Bind::Str(r.as_str())),
        ),
        (
            " AND c.integrity_score < ?",
            f.integrity_below.map(Bind::Int),
        ),
    ];
    for (clause, value) in compared {
        if let Some(value) = value {
            sql.push_str(&clause.replace('?', &binds.push(value)));
        }
    }
    if let Some(ids) = &f.applications {
        match ids.is_empty() {
            true => sql.push_str(" AND 1 = 0"),
            false => sql.push_str(&format!(" AND a.id IN ({})", binds.push_ids(ids))),
        }
    }
    if let Some(pattern) = &f.search_pattern {
        // The same LIKE on both, over a trigram index: SQLite's FTS5 table (kept by triggers),
        // PostgreSQL's pg_trgm indexes on these very expressions. ESCAPE only when the search
        // has a wildcard character to escape (FTS5 cannot use its index with an ESCAPE clause).
        let escape = if pattern.contains('\\') {
            " ESCAPE '\\'"
        } else {
            ""
        };
        let clause = match sqlite {
            // A UNION, not OR: FTS5 answers each LIKE from its index only on its own (60 ms → 1.4 ms at 100k).
            true => format!(" AND c.id IN (SELECT rowid FROM candidates_search WHERE name LIKE ?{escape} UNION SELECT rowid FROM candidates_search WHERE email LIKE ?{escape})"),
            // PostgreSQL's one trigram index holds name and email joined by a newline: a '%…%'
            // pattern without a newline matches within one of them, as the two LIKEs would. A
            // search holding a newline could match across the join, so it keeps the two LIKEs.
            false if pattern.contains('\n') => format!(" AND (LOWER(c.first_name || ' ' || c.last_name) LIKE ?{escape} OR LOWER(c.email) LIKE ?{escape})"),
            false => format!(" AND LOWER(c.first_name || ' ' || c.last_name || E'\\n' || c.email) LIKE ?{escape}"),
        };
        let n = binds.push(Bind::Text(pattern.clone()));
        sql.push_str(&clause.replacen('?', &n, 2));
    }
    if f.integrity_flagged == Some(true) {
        sql.push_str(" AND c.integrity_flagged = TRUE");
    }
    if f.integrity_missing == Some(true) {
        sql.push_str(" AND c.integrity_score IS NULL");
    }
    sql
}

/// One page of applications, newest first, older than `before` when given (keyset).
pub async fn list(
    db: &Db,
    f: &ListFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<ListRow>> {
    let mut binds = Binds::new();
    let mut sql = format!(
        "SELECT a.id AS application_id, c.id AS candidate_id, c.first_name, c.last_name, c.email,
                j.title AS job_title, a.stage, c.verification_status, c.verification_risk_tier, c.integrity_score
         {}",
        list_where(f, matches!(db, Db::Sqlite(_)), true, &mut binds)
    );
    if let Some(before) = before {
        sql.push_str(&format!(" AND a.id < {}", binds.push(Bind::Int(before))));
    }
    sql.push_str(&format!(
        " ORDER BY a.id DESC LIMIT {}",
        binds.push(Bind::Int(limit))
    ));
    on_db!(db, p => bind_all!(sqlx::query_as::<_, ListRow>(&sql), &binds).fetch_all(p).await)
        .origin(|column| {
            if column == "stage" {
                "applications"
            } else {
                "candidates"
            }
        })
}

/// How many applications match, counting no further than `cap` (a page says "10,000+" rather
/// than rescanning every row for an exact number).
pub async fn count(db: &Db, f: &ListFilter, cap: i64) -> sqlx::Result<i64> {
    Ok(count_with_version(db, f, cap).await?.1)
}

/// What the list's rows looked like when read, as one value that differs after any commit that may
/// have changed a count (same value, same counts). SQLite: the `list_version` row its triggers
/// bump. PostgreSQL: the snapshot (which transactions are visible) — equal snapshots see equal
/// rows, and it costs writers nothing.
const LIST_VERSION_SQLITE: &str = "SELECT CAST(n AS TEXT) FROM list_version WHERE id = 1";

pub async fn list_version(db: &Db) -> sqlx::Result<String> {
    super::data_version(db, LIST_VERSION_SQLITE).await
}

/// The capped count together with the `list_version` it was counted at, read in one statement
/// (one snapshot on both databases).
pub async fn count_with_version(db: &Db, f: &ListFilter, cap: i64) -> sqlx::Result<(String, i64)> {
    let mut binds = Binds::new();
    let from = list_where(f, matches!(db, Db::Sqlite(_)), false, &mut binds);
    let cap = binds.push(Bind::Int(cap));
    let version = match db {
        Db::Sqlite(_) => LIST_VERSION_SQLITE,
        Db::Postgres(_) => super::SNAPSHOT_VERSION,
    };
    let sql = format!(
        "SELECT ({version}) AS version, (SELECT COUNT(*) FROM (SELECT 1 {from} LIMIT {cap}) capped) AS n"
    );
    on_db!(db, p => bind_all!(sqlx::query_as::<_, (String, i64)>(&sql), &binds).fetch_one(p).await)
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
    pub verification_status: VerificationStatus,
    pub verification_updated_at: Option<DateTime<Utc>>,
    pub verification_risk_tier: Option<RiskTier>,
    pub verification_verified_at: Option<DateTime<Utc>>,
    /// Who decided the last security review, and why (shown to those who see details).
    pub verification_reviewer: Option<String>,
    pub verification_review_reason: Option<String>,
}

pub async fn find_candidate(db: &Db, id: i64) -> sqlx::Result<Option<CandidateRow>> {
    let sql =
        "SELECT id, first_name, last_name, email, phone, address, address_2, city, state, zip,
                      verification_status, verification_updated_at, verification_risk_tier, verification_verified_at,
                      verification_reviewer, verification_review_reason
               FROM candidates WHERE id = $1";
    on_db!(db, p => sqlx::query_as::<_, CandidateRow>(sql).bind(id).fetch_optional(p).await)
        .in_table("candidates")
}

/// The id of the candidate with this email, if there is one (emails are unique).
pub async fn candidate_id_by_email(db: &Db, email: &str) -> sqlx::Result<Option<i64>> {
    let sql = "SELECT id FROM candidates WHERE email = $1";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(email).fetch_optional(p).await)
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
    pub stage: Stage,
}

const APPLICATION_SELECT: &str =
    "SELECT a.id, a.candidate_id, a.job_id, j.title AS job_title, j.hiring_manager_id,
        u.name AS hiring_manager_name, j.policy_name, a.stage
    FROM applications a JOIN jobs j ON j.id = a.job_id JOIN users u ON u.id = j.hiring_manager_id";

pub async fn applications_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<ApplicationRow>> {
    let sql = format!("{APPLICATION_SELECT} WHERE a.candidate_id = $1 ORDER BY a.id");
    on_db!(db, p => sqlx::query_as::<_, ApplicationRow>(&sql).bind(candidate_id).fetch_all(p).await)
        .in_table("applications")
}

/// The applications of `ids` that exist (any order).
pub async fn find_applications(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<ApplicationRow>> {
    super::fetch_in(db, &super::int_binds(ids), |list| {
        format!("{APPLICATION_SELECT} WHERE a.id IN ({list})")
    })
    .await
}

pub async fn find_application(db: &Db, id: i64) -> sqlx::Result<Option<ApplicationRow>> {
    let sql = format!("{APPLICATION_SELECT} WHERE a.id = $1");
    on_db!(db, p => sqlx::query_as::<_, ApplicationRow>(&sql).bind(id).fetch_optional(p).await)
        .in_table("applications")
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StageChangeRow {
    pub application_id: i64,
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
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
        .in_table("stage_changes")
}

/// A candidate's profile as one statement reads it: the candidate, their applications with each
/// one's stage history, and what the verification panel shows — the latest session, whether a
/// session request is still on its way to the provider, and the latest security review.
#[derive(Debug, Clone)]
pub struct ProfileRows {
    pub candidate: CandidateRow,
    pub applications: Vec<ApplicationRow>,
    /// Application by application, each one's changes in order.
    pub history: Vec<StageChangeRow>,
    pub panel: PanelFacts,
}

/// What a candidate's verification panel shows beside the candidate's own columns.
#[derive(Debug, Clone)]
pub struct PanelFacts {
    /// The latest session (by creation).
    pub current_session: Option<super::verification::SessionRow>,
    /// A session request is still on its way to the provider.
    pub requested: bool,
    pub review: Option<LatestReview>,
}

/// The state of a candidate's latest review item and its deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatestReview {
    pub state: crate::model::ReviewState,
    pub deadline_at: Option<DateTime<Utc>>,
}

/// One row of [`profile`]: the candidate, one application (none when they have none) and one of
/// its stage changes (none when it has none), the panel's facts repeated on every row.
#[derive(sqlx::FromRow)]
struct ProfileRow {
    #[sqlx(flatten)]
    candidate: CandidateRow,
    app_id: Option<i64>,
    app_job_id: Option<i64>,
    app_job_title: Option<String>,
    app_hiring_manager_id: Option<i64>,
    app_hiring_manager_name: Option<String>,
    app_policy_name: Option<String>,
    app_stage: Option<Stage>,
    change_from_stage: Option<Stage>,
    change_to_stage: Option<Stage>,
    change_actor_name: Option<String>,
    change_changed_at: Option<DateTime<Utc>>,
    requested: bool,
    review_state: Option<crate::model::ReviewState>,
    review_deadline_at: Option<DateTime<Utc>>,
    session_id: Option<String>,
    session_status: Option<VerificationStatus>,
    session_risk_tier: Option<RiskTier>,
    session_reason_codes: Option<String>,
    session_evidence_pack_url: Option<String>,
    session_policy_name: Option<String>,
    session_candidate_url: Option<String>,
    session_last_event_at: Option<DateTime<Utc>>,
    session_created_at: Option<DateTime<Utc>>,
    session_updated_at: Option<DateTime<Utc>>,
}

/// Everything a profile shows from the candidates' side in one statement (it was seven: the
/// candidate, applications, stage history, sessions, pending request and latest review), `None`
/// when there is no such candidate. Rows: one per stage change of each application.
pub async fn profile(db: &Db, id: i64) -> sqlx::Result<Option<ProfileRows>> {
    let sql = format!("SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.address, c.address_2,
            c.city, c.state, c.zip, c.verification_status, c.verification_updated_at,
            c.verification_risk_tier, c.verification_verified_at, c.verification_reviewer,
            c.verification_review_reason,
            a.id AS app_id, a.job_id AS app_job_id, j.title AS app_job_title,
            j.hiring_manager_id AS app_hiring_manager_id, hm.name AS app_hiring_manager_name,
            j.policy_name AS app_policy_name, a.stage AS app_stage,
            sc.from_stage AS change_from_stage, sc.to_stage AS change_to_stage,
            actor.name AS change_actor_name, sc.changed_at AS change_changed_at,
            EXISTS (SELECT 1 FROM delivery_jobs
                WHERE {pending} AND subject = $2) AS requested,
            r.state AS review_state, r.deadline_at AS review_deadline_at,
            s.session_id, s.status AS session_status, s.risk_tier AS session_risk_tier,
            s.reason_codes AS session_reason_codes, s.evidence_pack_url AS session_evidence_pack_url,
            s.policy_name AS session_policy_name, s.candidate_url AS session_candidate_url,
            s.last_event_at AS session_last_event_at, s.created_at AS session_created_at,
            s.updated_at AS session_updated_at
        FROM candidates c
        LEFT JOIN applications a ON a.candidate_id = c.id
        LEFT JOIN jobs j ON j.id = a.job_id
        LEFT JOIN users hm ON hm.id = j.hiring_manager_id
        LEFT JOIN stage_changes sc ON sc.application_id = a.id
        LEFT JOIN users actor ON actor.id = sc.actor_user_id
        LEFT JOIN review_items r ON r.id = (SELECT MAX(ri.id) FROM review_items ri WHERE ri.candidate_id = c.id)
        LEFT JOIN verification_sessions s ON s.id = (SELECT vs.id FROM verification_sessions vs
            WHERE vs.candidate_id = c.id ORDER BY vs.created_at DESC, vs.id DESC LIMIT 1)
        WHERE c.id = $1
        ORDER BY a.id, sc.id",
        pending = super::verification::SESSION_REQUEST_ON_ITS_WAY
    );
    let subject = format!("candidate:{id}");
    let rows = on_db!(db, p => sqlx::query_as::<_, ProfileRow>(&sql).bind(id).bind(&subject).fetch_all(p).await)
        .origin(profile_column_table)?;
    Ok(group_profile(rows))
}

/// The table a column of [`profile`]'s rows comes from, for decode errors.
fn profile_column_table(column: &str) -> &'static str {
    match column.split('_').next() {
        Some("app") => "applications",
        Some("change") => "stage_changes",
        Some("review") => "review_items",
        Some("session") => "verification_sessions",
        Some("requested") => "delivery_jobs",
        _ => "candidates",
    }
}

/// Folds [`profile`]'s rows (ordered by application, then change) into the candidate, their
/// applications and the history.
fn group_profile(rows: Vec<ProfileRow>) -> Option<ProfileRows> {
    let mut rows = rows.into_iter();
    let first = rows.next()?;
    let current_session = match (
        &first.session_id,
        first.session_status,
        &first.session_created_at,
    ) {
        (Some(session_id), Some(status), Some(created_at)) => {
            Some(super::verification::SessionRow {
                session_id: session_id.clone(),
                candidate_id: first.candidate.id,
                status,
                risk_tier: first.session_risk_tier,
                reason_codes: first
                    .session_reason_codes
                    .clone()
                    .unwrap_or_else(|| "[]".into()),
                evidence_pack_url: first.session_evidence_pack_url.clone(),
                policy_name: first.session_policy_name.clone(),
                candidate_url: first.session_candidate_url.clone(),
                last_event_at: first.session_last_event_at,
                created_at: *created_at,
                updated_at: first.session_updated_at.unwrap_or(*created_at),
            })
        }
        _ => None,
    };
    let review = first.review_state.map(|state| LatestReview {
        state,
        deadline_at: first.review_deadline_at,
    });
    let mut out = ProfileRows {
        candidate: first.candidate.clone(),
        applications: Vec::new(),
        history: Vec::new(),
        panel: PanelFacts {
            current_session,
            requested: first.requested,
            review,
        },
    };
    for row in std::iter::once(first).chain(rows) {
        // An application counts with its job and hiring manager, as in `applications_of`.
        let (Some(app_id), Some(job_id), Some(stage), Some(job_title), Some(hm_id), Some(hm_name)) = (
            row.app_id,
            row.app_job_id,
            row.app_stage,
            row.app_job_title,
            row.app_hiring_manager_id,
            row.app_hiring_manager_name,
        ) else {
            continue;
        };
        if out.applications.last().map(|a| a.id) != Some(app_id) {
            out.applications.push(ApplicationRow {
                id: app_id,
                candidate_id: row.candidate.id,
                job_id,
                job_title,
                hiring_manager_id: hm_id,
                hiring_manager_name: hm_name,
                policy_name: row.app_policy_name,
                stage,
            });
        }
        if let (Some(to_stage), Some(changed_at)) = (row.change_to_stage, row.change_changed_at) {
            out.history.push(StageChangeRow {
                application_id: app_id,
                from_stage: row.change_from_stage,
                to_stage,
                actor_name: row.change_actor_name,
                changed_at,
            });
        }
    }
    Some(out)
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

/// A new candidate with their application: the job, its first stage, and who put them there.
pub struct ImportedRow<'a> {
    pub candidate: &'a NewCandidate,
    pub job_id: i64,
    pub stage: &'a str,
    pub actor_user_id: Option<i64>,
}

/// Inserts candidates with their applications, first stage entries and audit entries in one
/// transaction (one commit for the lot; the CSV import sends hundreds, demo data one at a time). A row whose email exists already — in the database or
/// earlier in the batch — inserts nothing and comes back as `None`; the others come back with
/// their new candidate id.
pub async fn insert_batch(
    db: &Db,
    rows: &[ImportedRow<'_>],
    now: DateTime<Utc>,
    audit: impl Fn(usize, i64) -> NewAuditEvent,
) -> sqlx::Result<Vec<Option<i64>>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! write_batch {
        ($p:expr, $database:ty) => {{
            let mut tx = $p.begin_write().await?;
            // One multi-row statement per table. Within the batch the first row with an email wins
            // (ON CONFLICT DO NOTHING takes rows in order); ids are matched back by email.
            let mut insert = sqlx::QueryBuilder::<$database>::new(
                "INSERT INTO candidates (first_name, last_name, email, phone, address, address_2, city, state, zip, created_at) ",
            );
            insert.push_values(rows, |mut b, r| {
                let c = r.candidate;
                b.push_bind(&c.first_name).push_bind(&c.last_name).push_bind(&c.email).push_bind(&c.phone)
                    .push_bind(&c.address).push_bind(&c.address_2).push_bind(&c.city).push_bind(&c.state)
                    .push_bind(&c.zip).push_bind(now);
            });
            insert.push(" ON CONFLICT (email) DO NOTHING RETURNING id, email");
            let inserted: Vec<(i64, String)> = insert.build_query_as().fetch_all(&mut *tx).await?;
            let mut by_email: std::collections::HashMap<String, i64> = inserted.into_iter().map(|(id, e)| (e, id)).collect();
            let ids: Vec<Option<i64>> = rows.iter().map(|r| by_email.remove(&r.candidate.email)).collect();
            let new: Vec<(usize, i64)> = ids.iter().enumerate().filter_map(|(i, id)| id.map(|id| (i, id))).collect();
            if !new.is_empty() {
                let mut apps = sqlx::QueryBuilder::<$database>::new(
                    "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at) ",
                );
                apps.push_values(&new, |mut b, (i, id)| {
                    b.push_bind(*id).push_bind(rows[*i].job_id).push_bind(rows[*i].stage).push_bind(now).push_bind(now);
                });
                apps.push(" RETURNING id, candidate_id");
                let app_ids: std::collections::HashMap<i64, i64> = apps
                    .build_query_as::<(i64, i64)>()
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(app, candidate)| (candidate, app))
                    .collect();
                let mut changes = sqlx::QueryBuilder::<$database>::new(
                    "INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at) ",
                );
                changes.push_values(&new, |mut b, (i, id)| {
                    b.push_bind(app_ids.get(id).copied()).push_bind(None::<String>).push_bind(rows[*i].stage)
                        .push_bind(rows[*i].actor_user_id).push_bind(now);
                });
                changes.build().execute(&mut *tx).await?;
                let events: Vec<NewAuditEvent> = new.iter().map(|(i, id)| audit(*i, *id)).collect();
                tx.append_audit_many(&events).await?;
            }
            tx.commit().await?;
            Ok(ids)
        }};
    }
    match db {
        Db::Sqlite(p) => write_batch!(p, sqlx::Sqlite),
        Db::Postgres(p) => write_batch!(p, sqlx::Postgres),
    }
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

/// Adds `n` synthetic candidates for volume benchmarks, with a history spread over the last 90
/// days: one application each with its stage entry, a mix of verification statuses, risk tiers
/// and integrity scores, a verification session for each one verification was asked for (its
/// result a while later), an open review item for each one needing review (one in sixty, all
/// applied in the last two days, so most are within their SLA: a queue a team keeps up with)
/// and a decided one for every fourth verified. Generated inside the database, so 100k take seconds. Returns how many candidates
/// there are afterwards.
pub async fn add_volume(db: &Db, n: i64, now: DateTime<Utc>) -> sqlx::Result<i64> {
    let sqlite = matches!(db, Db::Sqlite(_));
    // An instant `minutes` before `$1`, and one the fraction `frac` of the way from `at` to `$1`,
    // stored as sqlx stores them (RFC 3339, `+00:00`) so text comparisons on SQLite hold.
    let ago = |minutes: &str| {
        if sqlite {
            format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', julianday($2) - ({minutes}) / 1440.0)")
        } else {
            format!("(CAST($2 AS TIMESTAMPTZ) - ({minutes}) * INTERVAL '1 minute')")
        }
    };
    let between = |at: &str, frac: &str| {
        if sqlite {
            format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', julianday({at}) + (julianday($1) - julianday({at})) * {frac})")
        } else {
            format!("({at} + (CAST($1 AS TIMESTAMPTZ) - {at}) * {frac})")
        }
    };
    let plus_two_days = |at: &str| {
        if sqlite {
            format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', julianday({at}) + 2)")
        } else {
            format!("({at} + INTERVAL '48 hours')")
        }
    };
    let candidates = format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST($1 AS BIGINT))
        INSERT INTO candidates (first_name, last_name, email, verification_status, verification_risk_tier,
                                integrity_score, integrity_flagged, created_at)
        SELECT 'Volume', 'Person ' || i, 'volume' || i || '@example.com',
               CASE i % 6 WHEN 0 THEN 'verified' WHEN 1 THEN 'in_progress'
                          WHEN 2 THEN (CASE WHEN i % 60 = 2 THEN 'needs_review' ELSE 'verified' END)
                          WHEN 3 THEN 'failed' WHEN 4 THEN 'expired' ELSE 'not_started' END,
               CASE WHEN i % 6 IN (0, 2, 3) THEN (CASE i % 3 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' ELSE 'high' END) END,
               CASE WHEN i % 5 = 0 THEN i % 101 END,
               (i % 5 = 0 AND i % 101 < 60),
               {}
        FROM n", ago("CASE WHEN i % 60 = 2 THEN (CAST(i AS BIGINT) * 7919) % 2880 ELSE (CAST(i AS BIGINT) * 7919) % 129600 END"));
    let applications = "INSERT INTO applications (candidate_id, job_id, stage, created_at, updated_at)
        SELECT c.id, (SELECT MIN(id) FROM jobs) + c.id % 4,
               CASE c.id % 7 WHEN 0 THEN 'applied' WHEN 1 THEN 'phone_screen' WHEN 2 THEN 'onsite_or_panel_interview'
                             WHEN 3 THEN 'coding_assessment' WHEN 4 THEN 'offer' WHEN 5 THEN 'hired' ELSE 'rejected' END,
               c.created_at, c.created_at
        FROM candidates c WHERE c.email LIKE 'volume%' AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = c.id)";
    let history = format!("INSERT INTO stage_changes (application_id, from_stage, to_stage, actor_user_id, changed_at)
        SELECT a.id, NULL, a.stage, NULL, {} FROM applications a JOIN candidates c ON c.id = a.candidate_id
        WHERE c.email LIKE 'volume%' AND NOT EXISTS (SELECT 1 FROM stage_changes s WHERE s.application_id = a.id)",
        between("a.created_at", "0.5"));
    let sessions = format!("INSERT INTO verification_sessions (session_id, candidate_id, status, risk_tier, created_at, updated_at, last_event_at)
        SELECT 'vol_' || CAST(c.id AS TEXT), c.id, c.verification_status, c.verification_risk_tier, {asked}, {result}, {result}
        FROM candidates c WHERE c.email LIKE 'volume%' AND c.verification_status <> 'not_started'
          AND NOT EXISTS (SELECT 1 FROM verification_sessions s WHERE s.session_id = 'vol_' || CAST(c.id AS TEXT))",
        asked = between("c.created_at", "0.1"), result = between("c.created_at", "0.2"));
    let reviews = format!("INSERT INTO review_items (candidate_id, session_id, risk_tier, provider_status, state, opened_at, deadline_at, decision, decided_at)
        SELECT s.candidate_id, s.session_id, s.risk_tier, 'needs_review',
               CASE WHEN s.status = 'needs_review' THEN 'open' ELSE 'closed' END,
               s.last_event_at, {deadline},
               CASE WHEN s.status = 'needs_review' THEN NULL ELSE 'verified' END,
               CASE WHEN s.status = 'needs_review' THEN NULL ELSE {decided} END
        FROM verification_sessions s
        WHERE s.session_id LIKE 'vol~_%' ESCAPE '~' AND (s.status = 'needs_review' OR (s.status = 'verified' AND s.candidate_id % 4 = 0))
          AND NOT EXISTS (SELECT 1 FROM review_items r WHERE r.session_id = s.session_id)",
        deadline = plus_two_days("s.last_event_at"), decided = between("s.last_event_at", "0.005"));
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(&candidates).bind(n).bind(now).execute(&mut *tx).await?;
        sqlx::query(applications).execute(&mut *tx).await?;
        sqlx::query(&history).bind(now).execute(&mut *tx).await?;
        sqlx::query(&sessions).bind(now).execute(&mut *tx).await?;
        sqlx::query(&reviews).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM candidates").fetch_one(p).await
    })
}

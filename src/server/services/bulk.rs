//! Bulk actions from the candidate list: a preview of who the action will go ahead for (and why
//! not for the others), a bulk job that a runner on each instance works through at a set pace,
//! which survives reloads and restarts and can be cancelled, and its result per candidate.
//!
//! Exactly once: each candidate's item is marked done in the transaction of the action itself
//! (`db::verification::request_session`), so a job resumed after a restart, or worked by several
//! instances, never acts on a candidate twice. A repeated submission (same request key) is the
//! same job.
use crate::error::AppError;
use crate::model::{
    AuditEventType, BulkAction, BulkItemView, BulkJobView, BulkOutcome, BulkPreview, BulkSelection,
    BulkState, CurrentUser, Permission, SkipGroup, BULK_MAX,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::db::{self, bulk::Target};
use crate::server::state::AppState;
use chrono::Utc;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Names shown per skip reason in the preview.
const FIRST_NAMES: usize = 3;
/// Items a result page lists (the CSV has them all).
pub const ITEMS_SHOWN: i64 = 500;

fn permission(action: BulkAction) -> Permission {
    match action {
        BulkAction::SendVerification => Permission::RequestVerification,
    }
}

fn name(t: &Target) -> String {
    format!("{} {}", t.first_name, t.last_name)
}

/// The selected list rows (applications, newest first; only what the user may see, as on the
/// list) and whether the selection was cut at `BULK_MAX`.
async fn selected_rows(
    state: &AppState,
    user: &CurrentUser,
    selection: &BulkSelection,
) -> Result<(Vec<db::candidates::ListRow>, bool), AppError> {
    let filter = match selection {
        BulkSelection::Rows(ids) => {
            if ids.len() as i64 > BULK_MAX {
                return Err(AppError::BadRequest(format!(
                    "Select at most {BULK_MAX} candidates at once (you selected {}).",
                    ids.len()
                )));
            }
            db::candidates::ListFilter {
                applications: Some(ids.clone()),
                ..super::candidates::list_filter(user, &Default::default())
            }
        }
        BulkSelection::Matching(query) => super::candidates::list_filter(user, query),
    };
    let mut rows = db::candidates::list(&state.db, &filter, None, BULK_MAX + 1).await?;
    let capped = rows.len() as i64 > BULK_MAX;
    rows.truncate(BULK_MAX as usize);
    if rows.is_empty() {
        return Err(AppError::BadRequest(
            "Select at least one candidate you may act on.".into(),
        ));
    }
    Ok((rows, capped))
}

/// The selected candidates, each once, and whether the selection was cut at `BULK_MAX`.
async fn targets(
    state: &AppState,
    user: &CurrentUser,
    selection: &BulkSelection,
) -> Result<(Vec<Target>, bool), AppError> {
    let (rows, capped) = selected_rows(state, user, selection).await?;
    let mut seen = HashSet::new();
    let targets = rows
        .into_iter()
        .filter(|r| seen.insert(r.candidate_id))
        .map(|r| Target {
            candidate_id: r.candidate_id,
            first_name: r.first_name,
            last_name: r.last_name,
            verification_status: r.verification_status,
        })
        .collect();
    Ok((targets, capped))
}

/// Why the action will not go ahead for each target (None: it will).
async fn reasons(
    state: &AppState,
    action: BulkAction,
    targets: &[Target],
) -> Result<Vec<Option<String>>, AppError> {
    match action {
        BulkAction::SendVerification => {
            let pending = db::bulk::pending_verification_requests(&state.db).await?;
            Ok(targets
                .iter()
                .map(|t| {
                    super::verification::refusal(
                        state,
                        t.verification_status,
                        pending.contains(&t.candidate_id),
                        false,
                    )
                })
                .collect())
        }
    }
}

/// What the action would do to the selection: how many it goes ahead for, and per reason how
/// many it does not (with the first few names).
pub async fn preview(
    state: &AppState,
    user: &CurrentUser,
    action: BulkAction,
    selection: &BulkSelection,
) -> Result<BulkPreview, AppError> {
    super::access::require(user, permission(action))?;
    let (targets, capped) = targets(state, user, selection).await?;
    let why = reasons(state, action, &targets).await?;
    let mut groups: Vec<SkipGroup> = Vec::new();
    for (t, reason) in targets.iter().zip(&why) {
        let Some(reason) = reason else { continue };
        match groups.iter_mut().find(|g| &g.reason == reason) {
            Some(g) => {
                g.count += 1;
                if g.first_names.len() < FIRST_NAMES {
                    g.first_names.push(name(t));
                }
            }
            None => groups.push(SkipGroup {
                reason: reason.clone(),
                count: 1,
                first_names: vec![name(t)],
            }),
        }
    }
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    Ok(BulkPreview {
        action,
        stage: None,
        selected: targets.len() as i64,
        proceed: why.iter().filter(|w| w.is_none()).count() as i64,
        skipped: groups,
        capped,
    })
}

/// Starts the bulk job (or finds the one this user started under `request_key`): its id. Every
/// selected candidate gets an item; those the action cannot go ahead for are skipped with the
/// reason as the runner reaches them (things may have changed since the preview).
pub async fn start(
    state: &AppState,
    user: &CurrentUser,
    request_key: &str,
    action: BulkAction,
    selection: &BulkSelection,
) -> Result<i64, AppError> {
    super::access::require(user, permission(action))?;
    let key = request_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(AppError::BadRequest(
            "The request key must be 1 to 100 characters.".into(),
        ));
    }
    let (targets, capped) = targets(state, user, selection).await?;
    let ids: Vec<i64> = targets.iter().map(|t| t.candidate_id).collect();
    let scope = scope(selection);
    let (id, created) = db::bulk::create(
        &state.db,
        key,
        user.id,
        action,
        None,
        &ids,
        Utc::now(),
        |id| {
            NewAuditEvent::new(
                Actor::from(user),
                "bulk_job",
                id,
                AuditEventType::BulkActionStarted,
                serde_json::json!({
                    "action": action.as_str(), "candidates": ids.len(), "selection": scope, "capped": capped,
                }),
            )
        },
    )
    .await?;
    if created {
        tracing::info!(bulk_job = id, user_id = user.id, action = %action, candidates = ids.len(), "bulk job started");
    }
    Ok(id)
}

/// Who may see or stop a bulk job: those who may take its action.
async fn job_for(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<db::bulk::JobRow, AppError> {
    let job = db::bulk::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    super::access::require(user, permission(job.action))?;
    Ok(job)
}

/// Stops a running bulk job (its starter or an admin): the candidates not reached yet are skipped.
pub async fn cancel(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let job = job_for(state, user, id).await?;
    if job.created_by != user.id && user.role != crate::model::Role::Admin {
        return Err(AppError::Forbidden);
    }
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "bulk_job",
        id,
        AuditEventType::BulkActionCancelled,
        serde_json::json!({ "action": job.action.as_str() }),
    );
    let detail = format!("Cancelled by {}", user.name);
    if !db::bulk::cancel(&state.db, id, &detail, Utc::now(), &audit).await? {
        return Err(AppError::Conflict(format!(
            "This bulk job is {} already.",
            job.state.label().to_lowercase()
        )));
    }
    Ok(())
}

/// A bulk job's page: who, when, what, how far, and the first `ITEMS_SHOWN` candidates' outcomes.
pub async fn view(state: &AppState, user: &CurrentUser, id: i64) -> Result<BulkJobView, AppError> {
    let job = job_for(state, user, id).await?;
    let (counts, items) = tokio::try_join!(
        db::bulk::counts(&state.db, id),
        db::bulk::items(&state.db, id, ITEMS_SHOWN),
    )?;
    let count = |o: BulkOutcome| counts.iter().find(|(k, _)| *k == o).map_or(0, |(_, n)| *n);
    Ok(BulkJobView {
        id,
        action: job.action,
        stage: job.stage,
        state: job.state,
        created_by: job.created_by_name,
        created_at: job.created_at,
        finished_at: job.finished_at,
        total: job.total,
        pending: count(BulkOutcome::Pending),
        done: count(BulkOutcome::Done),
        skipped: count(BulkOutcome::Skipped),
        failed: count(BulkOutcome::Failed),
        items: items
            .into_iter()
            .map(|i| BulkItemView {
                candidate_id: i.candidate_id,
                name: format!("{} {}", i.first_name, i.last_name),
                outcome: i.outcome,
                detail: i.detail,
            })
            .collect(),
    })
}

/// Every candidate of the job with its outcome, as CSV, and the file's name.
pub async fn results_csv(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<(String, String), AppError> {
    let job = job_for(state, user, id).await?;
    let items = db::bulk::items(&state.db, id, BULK_MAX).await?;
    let mut records = vec![vec![
        "candidate_id".to_string(),
        "name".into(),
        "outcome".into(),
        "detail".into(),
    ]];
    records.extend(items.into_iter().map(|i| {
        vec![
            i.candidate_id.to_string(),
            format!("{} {}", i.first_name, i.last_name),
            i.outcome.as_str().to_string(),
            i.detail.unwrap_or_default(),
        ]
    }));
    let name = format!("clearance-bulk-job-{id}-{}.csv", job.action.as_str());
    Ok((csv_text(records)?, name))
}

/// "Export selection": the selected list rows as CSV (check results only for those who may see
/// them), and the file's name. Audited: who exported how many rows.
pub async fn export_selection(
    state: &AppState,
    user: &CurrentUser,
    selection: &BulkSelection,
) -> Result<(String, String), AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    let (rows, capped) = selected_rows(state, user, selection).await?;
    let details = user.role.can(Permission::ViewVerificationDetails);
    let mut header = vec![
        "candidate_id",
        "name",
        "email",
        "job",
        "stage",
        "verification",
    ];
    if details {
        header.extend(["risk_tier", "integrity_score"]);
    }
    let mut records = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for r in &rows {
        let mut record = vec![
            r.candidate_id.to_string(),
            format!("{} {}", r.first_name, r.last_name),
            r.email.clone(),
            r.job_title.clone(),
            r.stage.label().to_string(),
            r.verification_status.label().to_string(),
        ];
        if details {
            record.push(
                r.verification_risk_tier
                    .map(|t| t.label().to_string())
                    .unwrap_or_default(),
            );
            record.push(r.integrity_score.map(|s| s.to_string()).unwrap_or_default());
        }
        records.push(record);
    }
    let csv = csv_text(records)?;
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "candidate_list",
        "selection",
        AuditEventType::SelectionExported,
        serde_json::json!({ "rows": rows.len(), "selection": scope(selection), "capped": capped }),
    );
    db::audit::append(&state.db, &audit).await?;
    let name = format!("clearance-candidates-{}.csv", Utc::now().format("%Y-%m-%d"));
    Ok((csv, name))
}

fn scope(selection: &BulkSelection) -> &'static str {
    match selection {
        BulkSelection::Rows(_) => "selected rows",
        BulkSelection::Matching(_) => "every match of the list's filters",
    }
}

/// Records as CSV text.
fn csv_text(records: Vec<Vec<String>>) -> Result<String, AppError> {
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "could not write a CSV");
        AppError::Internal
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    for r in records {
        out.write_record(&r).map_err(|e| failed(&e))?;
    }
    let bytes = out.into_inner().map_err(|e| failed(e.error()))?;
    String::from_utf8(bytes).map_err(|e| failed(&e))
}

/// Acts on one candidate of a running job, as the person who started it.
async fn run_item(
    state: &AppState,
    job: &db::bulk::JobRow,
    starter: Option<&CurrentUser>,
    candidate_id: i64,
) -> Result<(), AppError> {
    let db = &state.db;
    let now = Utc::now();
    let mark = |outcome, detail: String| async move {
        db::bulk::mark(db, job.id, candidate_id, outcome, &detail, now).await
    };
    let Some(starter) = starter.filter(|u| u.role.can(permission(job.action))) else {
        mark(
            BulkOutcome::Failed,
            "The person who started it may no longer do this.".into(),
        )
        .await?;
        return Ok(());
    };
    match job.action {
        BulkAction::SendVerification => {
            let Some(c) = db::candidates::find_candidate(db, candidate_id).await? else {
                mark(BulkOutcome::Skipped, "The candidate was deleted.".into()).await?;
                return Ok(());
            };
            let pending = db::verification::pending_request(db, candidate_id).await?;
            if let Some(why) =
                super::verification::refusal(state, c.verification_status, pending, false)
            {
                mark(BulkOutcome::Skipped, why).await?;
            } else if let Err(e) = super::verification::send_request(
                state,
                starter,
                candidate_id,
                c.verification_status,
                Some(job.id),
            )
            .await
            {
                mark(BulkOutcome::Failed, e.to_string()).await?;
            }
        }
    }
    Ok(())
}

/// Works through the waiting items of running jobs until shutdown, `bulk_per_second` candidates
/// a second at most; checks for new jobs every second when idle.
pub fn spawn_runner(state: AppState) {
    let tasks = state.tasks.clone();
    tasks.clone().spawn(async move {
        let pace = Duration::from_secs_f64(1.0 / f64::from(state.config.bulk_per_second.max(1)));
        loop {
            let waiting = match db::bulk::next_items(&state.db, 50).await {
                Ok(items) => items,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the bulk jobs' waiting items");
                    Vec::new()
                }
            };
            if waiting.is_empty() && !tasks.pause(Duration::from_secs(1)).await {
                return;
            }
            let mut jobs: HashMap<i64, Option<(db::bulk::JobRow, Option<CurrentUser>)>> =
                HashMap::new();
            for (job_id, candidate_id) in waiting {
                let started = Instant::now();
                if let std::collections::hash_map::Entry::Vacant(slot) = jobs.entry(job_id) {
                    slot.insert(load_job(&state, job_id).await);
                }
                if let Some(Some((job, starter))) = jobs.get(&job_id) {
                    if let Err(e) = run_item(&state, job, starter.as_ref(), candidate_id).await {
                        tracing::error!(error = %e, bulk_job = job_id, candidate_id, "bulk item failed; it is tried again");
                    }
                }
                if !tasks.pause(pace.saturating_sub(started.elapsed())).await {
                    return;
                }
            }
            for job_id in jobs.keys() {
                if let Err(e) = db::bulk::finish_if_done(&state.db, *job_id, Utc::now()).await {
                    tracing::error!(error = %e, bulk_job = job_id, "cannot close a bulk job");
                }
            }
        }
    });
}

/// A running job and the person who started it (as they are now).
async fn load_job(state: &AppState, id: i64) -> Option<(db::bulk::JobRow, Option<CurrentUser>)> {
    let job = db::bulk::find(&state.db, id).await.ok().flatten()?;
    if job.state != BulkState::Running {
        return None;
    }
    let starter = db::users::find_by_id(&state.db, job.created_by)
        .await
        .ok()
        .flatten()
        .map(|u| CurrentUser {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
        });
    Some((job, starter))
}

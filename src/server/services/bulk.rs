//! Bulk actions from the candidate list: a preview of who the action will go ahead for (and why
//! not for the others), a bulk job that a runner on each instance works through at a set pace,
//! which survives reloads and restarts and can be cancelled, and its result per candidate.
//!
//! Exactly once: each item is marked done in the transaction of the action itself (the
//! verification request, the order, the move), so a job resumed after a restart, or worked by
//! several instances, never acts twice. A repeated submission (same request key) is the same job.
//! The pace (`CLEARANCE_BULK_PER_SECOND`) is per partner — the verification provider, each
//! background-check partner, stage moves — and shared by every instance through the database.
use crate::error::AppError;
use crate::model::{
    format_money, AuditEventType, BulkAction, BulkItemView, BulkJobView, BulkOrder,
    BulkOrderSummary, BulkOutcome, BulkPreview, BulkSelection, BulkState, BulkTask, CurrentUser,
    Permission, SkipGroup, BULK_MAX,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{self, candidates::ListRow};
use crate::server::state::AppState;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Names shown per skip reason in the preview.
const FIRST_NAMES: usize = 3;
/// How long an instance holds an item it claimed (µs): time to wait for its slot and act; one
/// that dies meanwhile lets it go after this.
const CLAIM_MICROS: i64 = 60_000_000;
/// Items a result page lists (the CSV has them all).
pub const ITEMS_SHOWN: i64 = 500;

fn permission(action: BulkAction) -> Permission {
    match action {
        BulkAction::SendVerification => Permission::RequestVerification,
        BulkAction::OrderBackgroundCheck => Permission::OrderBackgroundCheck,
        BulkAction::MoveStage => Permission::MoveStage,
    }
}

fn name(t: &ListRow) -> String {
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

/// The selected rows the task acts on, each once (a move: each application; otherwise each
/// candidate), and whether the selection was cut at `BULK_MAX`.
async fn targets(
    state: &AppState,
    user: &CurrentUser,
    task: &BulkTask,
    selection: &BulkSelection,
) -> Result<(Vec<ListRow>, bool), AppError> {
    let (rows, capped) = selected_rows(state, user, selection).await?;
    let mut seen = HashSet::new();
    let per_application = task.per_application();
    let targets = rows
        .into_iter()
        .filter(|r| {
            seen.insert(if per_application {
                r.application_id
            } else {
                r.candidate_id
            })
        })
        .collect();
    Ok((targets, capped))
}

/// The order's catalog figures: the partner's name, the package's and add-ons' names, and the
/// total per candidate (refused when the catalog cannot price it).
async fn priced(
    state: &AppState,
    user: &CurrentUser,
    order: &BulkOrder,
) -> Result<(String, String, Vec<String>, rust_decimal::Decimal), AppError> {
    let view = super::background::catalog(state, user, order.partner_id, false).await?;
    let Some(cat) = view.catalog else {
        return Err(AppError::Conflict(format!(
            "The partner's catalog is not available: {}",
            view.error.unwrap_or_default()
        )));
    };
    let each = cat
        .total(&order.package_id, &order.add_on_ids)
        .map_err(|e| AppError::BadRequest(format!("Cannot order this: {e}.")))?;
    let package = cat
        .package(&order.package_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let add_ons = order
        .add_on_ids
        .iter()
        .filter_map(|id| cat.add_on(id).map(|a| a.name.clone()))
        .collect();
    Ok((view.partner_name, package, add_ons, each))
}

/// What decides whether the task goes ahead for one item: its candidate (and their
/// verification status) and, for a move or an order, its application.
struct Target {
    candidate_id: i64,
    application_id: Option<i64>,
    status: crate::model::VerificationStatus,
}

impl From<&ListRow> for Target {
    fn from(r: &ListRow) -> Target {
        Target {
            candidate_id: r.candidate_id,
            application_id: Some(r.application_id),
            status: r.verification_status,
        }
    }
}

/// Why the task will not go ahead for each target (None: it will).
async fn reasons(
    state: &AppState,
    task: &BulkTask,
    targets: &[Target],
) -> Result<Vec<Option<String>>, AppError> {
    let db = &state.db;
    match task {
        BulkTask::SendVerification => {
            let ids: Vec<i64> = targets.iter().map(|t| t.candidate_id).collect();
            let pending = db::verification::pending_requests(db, &ids).await?;
            Ok(targets
                .iter()
                .map(|t| {
                    super::verification::refusal(
                        state,
                        t.status,
                        pending.contains(&t.candidate_id),
                        false,
                    )
                })
                .collect())
        }
        BulkTask::OrderBackgroundCheck(_) => {
            let ids: Vec<i64> = targets.iter().map(|t| t.candidate_id).collect();
            let open = db::background::with_open_orders(db, &ids).await?;
            Ok(targets
                .iter()
                .map(|t| {
                    open.contains(&t.candidate_id)
                        .then(|| "A background check is already in progress".to_string())
                })
                .collect())
        }
        BulkTask::MoveStage(to) => {
            let ids: Vec<i64> = targets.iter().filter_map(|t| t.application_id).collect();
            let apps: HashMap<i64, db::candidates::ApplicationRow> =
                db::candidates::find_applications(db, &ids)
                    .await?
                    .into_iter()
                    .map(|a| (a.id, a))
                    .collect();
            let (mut policies, now) = (HashMap::new(), clock::now());
            let mut why = Vec::with_capacity(targets.len());
            for t in targets {
                why.push(match t.application_id.and_then(|id| apps.get(&id)) {
                    None => Some("The application was deleted".to_string()),
                    Some(app) => {
                        super::policy::move_refusal(state, app, *to, t.status, &mut policies, now)
                            .await?
                    }
                });
            }
            Ok(why)
        }
    }
}

/// What the action would do to the selection: how many it goes ahead for, and per reason how
/// many it does not (with the first few names).
pub async fn preview(
    state: &AppState,
    user: &CurrentUser,
    task: &BulkTask,
    selection: &BulkSelection,
) -> Result<BulkPreview, AppError> {
    super::access::require(user, permission(task.action()))?;
    let priced = match task {
        BulkTask::OrderBackgroundCheck(order) => Some(priced(state, user, order).await?),
        _ => None,
    };
    let (targets, capped) = targets(state, user, task, selection).await?;
    let why = reasons(
        state,
        task,
        &targets.iter().map(Target::from).collect::<Vec<_>>(),
    )
    .await?;
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
    let proceed = why.iter().filter(|w| w.is_none()).count() as i64;
    Ok(BulkPreview {
        action: task.action(),
        stage: match task {
            BulkTask::MoveStage(to) => Some(*to),
            _ => None,
        },
        order: priced.map(|(partner, package, add_ons, each)| BulkOrderSummary {
            partner,
            package,
            add_ons,
            each,
            total: times(each, proceed),
        }),
        selected: targets.len() as i64,
        proceed,
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
    task: &BulkTask,
    selection: &BulkSelection,
) -> Result<i64, AppError> {
    let action = task.action();
    super::access::require(user, permission(action))?;
    let key = request_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(AppError::BadRequest(
            "The request key must be 1 to 100 characters.".into(),
        ));
    }
    // An order is placed at the total the user was shown, or not at all.
    let params = match task {
        BulkTask::OrderBackgroundCheck(order) => {
            let (.., each) = priced(state, user, order).await?;
            let shown = crate::model::parse_price(&order.total_each)
                .map_err(|e| AppError::BadRequest(format!("The total {e}.")))?;
            if shown != each {
                return Err(AppError::Conflict(format!(
                    "The partner's prices have changed: each check now costs {}. Preview the order again.",
                    format_money(each)
                )));
            }
            Some(serde_json::to_string(order).map_err(crate::server::auth::internal)?)
        }
        _ => None,
    };
    let stage = match task {
        BulkTask::MoveStage(to) => Some(*to),
        _ => None,
    };
    let (targets, capped) = targets(state, user, task, selection).await?;
    let items: Vec<(i64, Option<i64>)> = targets
        .iter()
        .map(|t| (t.candidate_id, Some(t.application_id)))
        .collect();
    let selected = scope(selection);
    let (id, created) = db::bulk::create(
        &state.db,
        key,
        user.id,
        action,
        stage,
        params.as_deref(),
        &items,
        clock::now(),
        |id| {
            NewAuditEvent::new(
                Actor::from(user),
                "bulk_job",
                id,
                AuditEventType::BulkActionStarted,
                serde_json::json!({
                    "action": action.as_str(), "candidates": items.len(), "selection": selected, "capped": capped,
                    "stage": stage.map(|s| s.as_str()), "order": params,
                }),
            )
        },
    )
    .await?;
    if created {
        tracing::info!(bulk_job = id, user_id = user.id, action = %action, candidates = items.len(), "bulk job started");
    }
    Ok(id)
}

/// Who may see a bulk job: those who may take its action, and those who read the audit log (its
/// entries link to the job's page).
async fn job_for(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<db::bulk::JobRow, AppError> {
    let job = db::bulk::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !user.role.can(Permission::ViewAudit) {
        super::access::require(user, permission(job.action))?;
    }
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
    if !db::bulk::cancel(&state.db, id, &detail, clock::now(), &audit).await? {
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
    let order = match task_of(&job) {
        Some(BulkTask::OrderBackgroundCheck(o)) => {
            Some(order_summary(state, &o, count(BulkOutcome::Done)).await?)
        }
        _ => None,
    };
    Ok(BulkJobView {
        id,
        action: job.action,
        stage: job.stage,
        order,
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
    Ok((super::csv_text(records)?, name))
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
    let csv = super::csv_text(records)?;
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "candidate_list",
        "selection",
        AuditEventType::SelectionExported,
        serde_json::json!({ "rows": rows.len(), "selection": scope(selection), "capped": capped }),
    );
    db::audit::append(&state.db, &audit).await?;
    let name = format!(
        "clearance-candidates-{}.csv",
        clock::now().format("%Y-%m-%d")
    );
    Ok((csv, name))
}

/// `each` for `n` candidates (None beyond what a decimal holds).
fn times(each: rust_decimal::Decimal, n: i64) -> Option<rust_decimal::Decimal> {
    each.checked_mul(rust_decimal::Decimal::from(n))
}

fn scope(selection: &BulkSelection) -> &'static str {
    match selection {
        BulkSelection::Rows(_) => "selected rows",
        BulkSelection::Matching(_) => "every match of the list's filters",
    }
}

/// What a job's order is, from what it stored (names as the partner's last catalog has them,
/// amounts as ordered): the total is for the `done` candidates ordered so far.
async fn order_summary(
    state: &AppState,
    order: &BulkOrder,
    done: i64,
) -> Result<BulkOrderSummary, AppError> {
    let partner = db::background::find_partner(&state.db, order.partner_id).await?;
    // Names from the partner's last catalog (ids where it no longer has them).
    let catalog = partner
        .as_ref()
        .and_then(|p| p.catalog_json.as_deref())
        .and_then(|c| crate::model::Catalog::parse(c).ok());
    let package = catalog
        .as_ref()
        .and_then(|c| c.package(&order.package_id))
        .map_or_else(|| order.package_id.clone(), |p| p.name.clone());
    let add_ons = order
        .add_on_ids
        .iter()
        .map(|id| {
            catalog
                .as_ref()
                .and_then(|c| c.add_on(id))
                .map_or_else(|| id.clone(), |a| a.name.clone())
        })
        .collect();
    let each = crate::model::parse_price(&order.total_each).unwrap_or_default();
    Ok(BulkOrderSummary {
        partner: partner.map_or_else(|| "(a removed partner)".into(), |p| p.name),
        package,
        add_ons,
        each,
        total: times(each, done),
    })
}

/// The task a stored job stands for (None: its row no longer parses — it is then failed item by
/// item with the reason).
fn task_of(job: &db::bulk::JobRow) -> Option<BulkTask> {
    let order = job
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str::<BulkOrder>(p).ok());
    BulkTask::new(job.action, job.stage, order).ok()
}

/// Which pace an item of the task waits its turn in: one per partner, shared by all instances.
fn lane(task: &BulkTask) -> String {
    match task {
        BulkTask::SendVerification => "verification".into(),
        BulkTask::OrderBackgroundCheck(o) => format!("background:{}", o.partner_id),
        BulkTask::MoveStage(_) => "stages".into(),
    }
}

/// A running job as the runner works it: the task and the person who started it (as they are now).
struct Running {
    job: db::bulk::JobRow,
    task: Option<BulkTask>,
    starter: Option<CurrentUser>,
}

/// Acts on one item of a running job, as the person who started it.
async fn run_item(
    state: &AppState,
    run: &Running,
    waiting: &db::bulk::WaitingItem,
) -> Result<(), AppError> {
    let db = &state.db;
    let item = waiting.item();
    let mark = |outcome, detail: String| async move {
        db::bulk::mark(db, item, outcome, &detail, clock::now()).await
    };
    let Some(task) = run.task.as_ref() else {
        mark(
            BulkOutcome::Failed,
            "The bulk job's stored request cannot be read.".into(),
        )
        .await?;
        return Ok(());
    };
    let Some(starter) = run
        .starter
        .as_ref()
        .filter(|u| u.role.can(permission(run.job.action)))
    else {
        mark(
            BulkOutcome::Failed,
            "The person who started it may no longer do this.".into(),
        )
        .await?;
        return Ok(());
    };
    let Some(row) = db::candidates::find_candidate(db, waiting.candidate_id).await? else {
        mark(BulkOutcome::Skipped, "The candidate was deleted.".into()).await?;
        return Ok(());
    };
    let app = match waiting.application_id {
        Some(id) => db::candidates::find_application(db, id).await?,
        None => None,
    };
    let target = Target {
        candidate_id: row.id,
        application_id: app.as_ref().map(|a| a.id),
        status: row.verification_status,
    };
    // Things may have changed since the preview: the same reasons, asked again.
    if let Some(Some(why)) = reasons(state, task, std::slice::from_ref(&target))
        .await?
        .pop()
    {
        mark(BulkOutcome::Skipped, why).await?;
        return Ok(());
    }
    let done = match task {
        BulkTask::SendVerification => {
            super::verification::send_request(state, starter, row.id, target.status, Some(&item))
                .await
                .map(|_| ())
        }
        BulkTask::OrderBackgroundCheck(order) => super::background::place_order(
            state,
            starter,
            super::background::PlaceOrder {
                candidate_id: row.id,
                partner_id: order.partner_id,
                package_id: order.package_id.clone(),
                add_on_ids: order.add_on_ids.clone(),
                expected_total: order.total_each.clone(),
                job_id: app.as_ref().map(|a| a.job_id),
                bulk: Some(item),
            },
        )
        .await
        .map(|_| ()),
        BulkTask::MoveStage(to) => match app.as_ref() {
            Some(app) => {
                super::policy::move_stage(state, starter, app, app.stage, *to, Some(&item))
                    .await
                    .map(|_| ())
            }
            None => Ok(()),
        },
    };
    match done {
        Ok(()) => {}
        // What a person would be told (the item says so); a database failure is tried again.
        Err(
            e @ (AppError::BadRequest(_)
            | AppError::Conflict(_)
            | AppError::Forbidden
            | AppError::NotFound),
        ) => {
            mark(BulkOutcome::Failed, e.to_string()).await?;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Works through the waiting items of running jobs until shutdown, each in its partner's pace
/// (`bulk_per_second` a second, shared by every instance); checks for new jobs every second when
/// idle.
pub fn spawn_runner(state: AppState) {
    let tasks = state.tasks.clone();
    tasks.clone().spawn(async move {
        let every = 1_000_000 / i64::from(state.config.bulk_per_second.max(1));
        loop {
            let now = clock::now().timestamp_micros();
            let waiting = match db::bulk::next_items(&state.db, now, 50).await {
                Ok(items) => items,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the bulk jobs' waiting items");
                    Vec::new()
                }
            };
            if waiting.is_empty() && !tasks.pause(Duration::from_secs(1)).await {
                return;
            }
            let mut jobs: HashMap<i64, Option<Running>> = HashMap::new();
            for w in waiting {
                if let std::collections::hash_map::Entry::Vacant(slot) = jobs.entry(w.bulk_id) {
                    slot.insert(load_job(&state, w.bulk_id).await);
                }
                let Some(Some(run)) = jobs.get(&w.bulk_id) else {
                    continue;
                };
                let now = clock::now().timestamp_micros();
                match db::bulk::claim_item(&state.db, w.item(), now, now + CLAIM_MICROS).await {
                    Ok(true) => {}
                    // Another instance has it, or it is through.
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot claim a bulk item");
                        continue;
                    }
                }
                if let Some(task) = &run.task {
                    match db::bulk::claim_slot(&state.db, &lane(task), now, every).await {
                        Ok(at) => {
                            let wait = Duration::from_micros(u64::try_from(at - now).unwrap_or(0));
                            if !tasks.pause(wait).await {
                                // Stopping: another instance takes the item at once.
                                let _ = db::bulk::release_item(&state.db, w.item()).await;
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot take a bulk slot");
                            let _ = db::bulk::release_item(&state.db, w.item()).await;
                            if !tasks.pause(Duration::from_secs(1)).await {
                                return;
                            }
                            continue;
                        }
                    }
                }
                if let Err(e) = run_item(&state, run, &w).await {
                    tracing::error!(error = %e, bulk_job = w.bulk_id, candidate_id = w.candidate_id, "bulk item failed; it is tried again");
                }
            }
            for job_id in jobs.keys() {
                if let Err(e) = db::bulk::finish_if_done(&state.db, *job_id, clock::now()).await {
                    tracing::error!(error = %e, bulk_job = job_id, "cannot close a bulk job");
                }
            }
        }
    });
}

/// A running job, its task and the person who started it (as they are now).
async fn load_job(state: &AppState, id: i64) -> Option<Running> {
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
    Some(Running {
        task: task_of(&job),
        job,
        starter,
    })
}

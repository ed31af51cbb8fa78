//! Policies (versioned, edited by admins), stage gates on every move, time-bound exceptions,
//! and verification started automatically at a gated stage.
use crate::error::AppError;
use crate::model::{
    AuditEventType, CurrentUser, Permission, PolicyProblem, PolicySaveResult, PolicyVersion, Stage,
    StageException, VerificationStatus,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::config::Config;
use crate::server::db::{self, candidates::ApplicationRow, policy::AutoStart, Db};
use crate::server::policy::{
    self as rules, ActiveException, GateDecision, Policy, DEFAULT_POLICY_YAML,
    HIGH_ASSURANCE_POLICY_YAML,
};
use crate::server::services::verification::{CreateSessionJob, DEFAULT_POLICY};
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};

/// The shipped policies by name, parsed once for the life of the process (moves read them).
fn shipped() -> &'static [(String, &'static str)] {
    static SHIPPED: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    SHIPPED.get_or_init(|| {
        [DEFAULT_POLICY_YAML, HIGH_ASSURANCE_POLICY_YAML]
            .into_iter()
            .filter_map(|t| rules::parse(t).ok().map(|p| (p.policy_name, t)))
            .collect()
    })
}

/// The shipped text of a policy name, if we ship one (`CLEARANCE_POLICY_FILE` wins for its name).
pub fn builtin(config: &Config, name: &str) -> Option<String> {
    if let Some(text) = &config.policy_yaml {
        if rules::parse(text).is_ok_and(|p| p.policy_name == name) {
            return Some(text.clone());
        }
    }
    shipped()
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.to_string())
}

/// The name of the default policy: the file's when one is configured.
pub fn default_name(config: &Config) -> String {
    config
        .policy_yaml
        .as_deref()
        .and_then(|t| rules::parse(t).ok())
        .map(|p| p.policy_name)
        .unwrap_or_else(|| DEFAULT_POLICY.to_string())
}

/// The policy in force for `name` and its version: the newest saved one, else the shipped text
/// as version 1; an unknown name falls back to the default policy.
pub async fn current(db: &Db, config: &Config, name: &str) -> Result<(Policy, i64), AppError> {
    if let Some(row) = db::policy::latest(db, name).await? {
        let p = rules::parse(&row.yaml).map_err(|e| {
            crate::server::auth::internal(format!("stored policy {name} v{}: {e:?}", row.version))
        })?;
        return Ok((p, row.version));
    }
    if let Some(text) = builtin(config, name) {
        let p = rules::parse(&text).map_err(|_| AppError::Internal)?;
        return Ok((p, 1));
    }
    let fallback = default_name(config);
    if fallback != name {
        return Box::pin(current(db, config, &fallback)).await;
    }
    Err(AppError::Internal)
}

fn policy_name_of(config: &Config, app: &ApplicationRow) -> String {
    app.policy_name
        .clone()
        .unwrap_or_else(|| default_name(config))
}

/// Every policy name with its versions (the shipped one appears as version 1 until edited).
pub async fn versions(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
) -> Result<Vec<PolicyVersion>, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    let (db, config) = (&state.db, &*state.config);
    let mut list: Vec<PolicyVersion> = db::policy::versions(db, name)
        .await?
        .into_iter()
        .map(|r| PolicyVersion {
            id: r.id,
            policy_name: r.policy_name,
            version: r.version,
            yaml: r.yaml,
            created_by: r.created_by_name,
            created_at: r.created_at,
            change_ticket: r.change_ticket,
        })
        .collect();
    if list.is_empty() {
        let text = builtin(config, name).ok_or(AppError::NotFound)?;
        list.push(PolicyVersion {
            id: 0,
            policy_name: name.to_string(),
            version: 1,
            yaml: text,
            created_by: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            change_ticket: None,
        });
    }
    Ok(list)
}

/// Every policy's name (admins): stored, from the policy file, and shipped.
pub async fn names(state: &AppState, user: &CurrentUser) -> Result<Vec<String>, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    all_names(&state.db, &state.config).await
}

/// Every policy's name, for callers that checked their own permission.
pub async fn all_names(db: &Db, config: &Config) -> Result<Vec<String>, AppError> {
    let mut names = db::policy::names(db).await?;
    let from_file = config
        .policy_yaml
        .as_deref()
        .and_then(|t| rules::parse(t).ok())
        .map(|p| p.policy_name);
    for name in from_file
        .into_iter()
        .chain(shipped().iter().map(|(n, _)| n.clone()))
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// An admin checks a policy text before saving it.
pub fn check_for(
    user: &CurrentUser,
    name: &str,
    yaml: &str,
) -> Result<Vec<PolicyProblem>, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    Ok(check(name, yaml))
}

/// Checks a policy text for `name`; an empty list means it may be saved.
pub fn check(name: &str, yaml: &str) -> Vec<PolicyProblem> {
    match rules::parse(yaml) {
        Err(problems) => problems,
        Ok(p) if p.policy_name != name => vec![PolicyProblem {
            line: rules::field_lines(yaml)
                .get("policy_name")
                .copied()
                .unwrap_or(0),
            field: "policy_name".into(),
            message: format!("must stay '{name}' (this edits that policy)"),
        }],
        Ok(_) => Vec::new(),
    }
}

/// Saves a new version (admins); refused with the problems when the text is invalid.
pub async fn save(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    yaml: &str,
    change_ticket: Option<String>,
) -> Result<PolicySaveResult, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    if yaml.len() > 64 * 1024 {
        return Err(AppError::BadRequest(
            "The policy is longer than 64 KB.".into(),
        ));
    }
    let problems = check(name, yaml);
    if !problems.is_empty() {
        return Ok(PolicySaveResult {
            version: None,
            problems,
        });
    }
    let db = &state.db;
    let now = clock::now();
    let latest = db::policy::latest(db, name).await?;
    let previous = match &latest {
        Some(r) => r.version,
        None => {
            // The shipped text becomes version 1 on record, so diffs and history start from it.
            let text = builtin(&state.config, name).ok_or(AppError::NotFound)?;
            // Saved by someone else at the same moment is as good.
            db::unless_taken(db::policy::insert(db, name, 1, &text, None, None, now, None).await)?;
            1
        }
    };
    let version = previous + 1;
    let ticket = change_ticket
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "policy",
        name,
        AuditEventType::PolicyChanged,
        serde_json::json!({ "policy_name": name, "version": version, "previous_version": previous,
                            "change_ticket": ticket }),
    );
    match db::policy::insert(
        db,
        name,
        version,
        yaml,
        Some(user.id),
        ticket.as_deref(),
        now,
        Some(&audit),
    )
    .await
    {
        Ok(_) => Ok(PolicySaveResult {
            version: Some(version),
            problems: Vec::new(),
        }),
        Err(e) if db::is_unique_violation(&e) => Err(AppError::Conflict(
            "Someone saved this policy just now. Reload to see their version, then edit again."
                .into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Logs `exception_expired` once for every exception that has lapsed by `now`.
pub async fn log_lapsed_exceptions(db: &Db, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut n = 0;
    for e in db::policy::lapsed_unlogged(db, now).await? {
        let audit = NewAuditEvent::new(
            Actor::System("policy".into()),
            "candidate",
            e.candidate_id,
            AuditEventType::ExceptionExpired,
            serde_json::json!({ "exception_id": e.id, "stage": e.stage, "expiry_at": e.expiry_at,
                                "policy_name": e.policy_name, "policy_version": e.policy_version }),
        );
        if db::policy::log_expiry(db, e.id, now, &audit).await? {
            n += 1;
        }
    }
    Ok(n)
}

fn to_view(e: db::policy::ExceptionRow) -> Option<StageException> {
    Some(StageException {
        id: e.id,
        stage: e.stage,
        reason_code: e.reason_code,
        approved_by: e.approved_by_name,
        approved_at: e.approved_at,
        expiry_at: e.expiry_at,
        policy_name: e.policy_name,
        policy_version: e.policy_version,
    })
}

/// The exceptions in force for a candidate, as `user` may see them (`access::visible_candidate`).
pub async fn exceptions_for(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<Vec<StageException>, AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    let visible = super::access::visible_candidate(db, user, candidate_id).await?;
    if visible.applications.is_empty() {
        return Err(AppError::NotFound);
    }
    // A hiring manager sees the exceptions of their own jobs only (rows of unknown job: none).
    Ok(db::policy::live_exceptions(db, candidate_id, clock::now())
        .await?
        .into_iter()
        .filter(|e| visible.sees_item_of(e.job_id))
        .filter_map(to_view)
        .collect())
}

pub async fn live_exceptions(db: &Db, candidate_id: i64) -> Result<Vec<StageException>, AppError> {
    Ok(db::policy::live_exceptions(db, candidate_id, clock::now())
        .await?
        .into_iter()
        .filter_map(to_view)
        .collect())
}

/// A time-bound exception as a security reviewer asks for it.
pub struct Grant {
    pub candidate_id: i64,
    /// The application's job (`None`: the candidate's only application).
    pub job_id: Option<i64>,
    pub stage: Stage,
    pub reason_code: String,
    pub hours: i64,
}

/// A security reviewer grants a time-bound exception for one candidate and stage.
pub async fn grant_exception(
    state: &AppState,
    user: &CurrentUser,
    grant: Grant,
) -> Result<i64, AppError> {
    super::access::require(user, Permission::Adjudicate)?;
    let Grant {
        candidate_id,
        job_id,
        stage,
        reason_code,
        hours,
    } = grant;
    let reason_code = reason_code.as_str();
    let db = &state.db;
    let apps = db::candidates::applications_of(db, candidate_id).await?;
    // The exception belongs to one application: its job's policy decides, its moves it lifts.
    let app = super::access::application_for(&apps, job_id)?;
    let name = policy_name_of(&state.config, app);
    let (policy, version) = current(db, &state.config, &name).await?;
    if !policy.allow_time_bound_override {
        return Err(AppError::Conflict(format!(
            "The policy '{name}' does not allow exceptions."
        )));
    }
    if !policy.override_roles_allowed.contains(&user.role) {
        return Err(AppError::Forbidden);
    }
    if !policy.stage_gates.contains_key(&stage) {
        return Err(AppError::BadRequest(format!(
            "{} has no gate under '{name}'; no exception is needed.",
            stage.label()
        )));
    }
    if !(1..=policy.override_ttl_hours).contains(&hours) {
        return Err(AppError::BadRequest(format!(
            "An exception lasts between 1 and {} hours under '{name}'.",
            policy.override_ttl_hours
        )));
    }
    if db::review::reason_label(db, reason_code).await?.is_none() {
        return Err(AppError::BadRequest(format!(
            "'{reason_code}' is not a reason code; choose one from the list."
        )));
    }
    let approved_at = clock::now();
    let expiry_at = approved_at + Duration::hours(hours);
    let new = db::policy::NewException {
        candidate_id,
        job_id: app.job_id,
        stage: stage.as_str(),
        reason_code,
        approved_by: user.id,
        approved_at,
        expiry_at,
        policy_name: &name,
        policy_version: version,
    };
    let audit = |id: i64| {
        NewAuditEvent::new(
            Actor::from(user),
            "candidate",
            candidate_id,
            AuditEventType::ExceptionGranted,
            serde_json::json!({
                "exception_id": id, "stage": stage.as_str(), "override_reason_code": reason_code,
                "approved_by": user.name, "approved_at": approved_at, "expiry_at": expiry_at,
                "policy_name": name, "policy_version": version, "job_id": app.job_id,
            }),
        )
    };
    Ok(db::policy::insert_exception(db, &new, audit).await?)
}

/// A refused move as the audit log records it: the application, job and stages, plus `why`
/// (reason codes and what decided them).
fn blocked_move(
    user: &CurrentUser,
    app: &ApplicationRow,
    (from, to): (Stage, Stage),
    why: serde_json::Value,
) -> NewAuditEvent {
    let mut payload = serde_json::json!({
        "application_id": app.id, "job": app.job_title, "from": from.as_str(), "to": to.as_str(),
    });
    if let (Some(p), serde_json::Value::Object(extra)) = (payload.as_object_mut(), why) {
        p.extend(extra);
    }
    NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        app.candidate_id,
        AuditEventType::StageTransitionBlocked,
        payload,
    )
}

/// The reason code of a move blocked by an open adverse action.
pub const ADVERSE_ACTION_PENDING: &str = "adverse_action_pending";

/// What a move did besides moving.
pub struct MoveOutcome {
    pub auto_started: bool,
}

/// Why moving `app` (its candidate's verification `status`) to `to` would be refused now, in
/// words for a bulk preview (None: it would go ahead): an illegal move, an open adverse action, or
/// the stage gate of its job's policy that no live exception lifts. `policies` keeps the policies
/// read so far by name (a preview asks for thousands of applications).
pub async fn move_refusal(
    state: &AppState,
    app: &ApplicationRow,
    to: Stage,
    status: VerificationStatus,
    policies: &mut std::collections::HashMap<String, Policy>,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    if let Err(e) = app.stage.can_move_to(to) {
        return Ok(Some(crate::model::capitalised(&e.to_string())));
    }
    let db = &state.db;
    if crate::server::services::adverse::holds(db, app.id, to)
        .await?
        .is_some()
    {
        return Ok(Some("An adverse action is in progress".into()));
    }
    let name = policy_name_of(&state.config, app);
    if !policies.contains_key(&name) {
        let (policy, _) = current(db, &state.config, &name).await?;
        policies.insert(name.clone(), policy);
    }
    let Some(policy) = policies.get(&name) else {
        return Err(AppError::Internal);
    };
    let Some(required) = policy.stage_gates.get(&to) else {
        return Ok(None);
    };
    if required.contains(&status) {
        return Ok(None);
    }
    let exceptions = active_exceptions(db, app, now).await?;
    Ok(match rules::decide(policy, to, status, &exceptions, now) {
        GateDecision::Blocked { required } => Some(format!(
            "The {} gate needs verification {}; theirs is {}",
            to.label(),
            required
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(" or "),
            status.label()
        )),
        _ => None,
    })
}

/// The live exceptions that lift gates of `app`'s moves: its own job's (older rows: any job's).
async fn active_exceptions(
    db: &Db,
    app: &ApplicationRow,
    now: DateTime<Utc>,
) -> Result<Vec<ActiveException>, AppError> {
    Ok(db::policy::live_exceptions(db, app.candidate_id, now)
        .await?
        .into_iter()
        .filter(|e| e.job_id.is_none_or(|job| job == app.job_id))
        .map(|e| ActiveException {
            id: e.id,
            stage: e.stage,
            expiry_at: e.expiry_at,
        })
        .collect())
}

/// Moves one application through the gate of its job's policy: a blocked move is refused with
/// the reason and logged; entering (or trying to enter) a gated stage without a usable
/// verification starts one, once per application and stage.
pub async fn move_stage(
    state: &AppState,
    user: &CurrentUser,
    app: &ApplicationRow,
    from: Stage,
    to: Stage,
    bulk: Option<&db::bulk::ItemRef>,
) -> Result<MoveOutcome, AppError> {
    let db = &state.db;
    let now = clock::now();
    let candidate = db::candidates::find_candidate(db, app.candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = candidate.verification_status;
    let name = policy_name_of(&state.config, app);
    let (policy, version) = current(db, &state.config, &name).await?;
    // Expiry is enforced at the moment of the move, and logged once.
    log_lapsed_exceptions(db, now)
        .await
        .map_err(crate::server::auth::internal)?;
    let exceptions = active_exceptions(db, app, now).await?;
    // An open adverse action holds the application: no offer, no hire (exceptions do not lift it).
    if let Some(action_id) = crate::server::services::adverse::holds(db, app.id, to).await? {
        let blocked = blocked_move(
            user,
            app,
            (from, to),
            serde_json::json!({ "reason_codes": [ADVERSE_ACTION_PENDING], "adverse_action_id": action_id }),
        );
        db::policy::record_blocked(db, &blocked, None, now).await?;
        return Err(AppError::Conflict(format!(
            "Blocked: an adverse action is in progress for this application, so it cannot move to {}. Finish or cancel it first. Reason code: {ADVERSE_ACTION_PENDING}.",
            to.label()
        )));
    }
    let decision = rules::decide(&policy, to, status, &exceptions, now);
    let gated = policy.stage_gates.contains_key(&to);
    let needs_session = gated
        && matches!(
            status,
            VerificationStatus::NotStarted | VerificationStatus::Expired
        )
        && !db::verification::pending_request(db, app.candidate_id).await?;
    let payload = serde_json::to_string(&CreateSessionJob {
        candidate_id: app.candidate_id,
        requested_by: Some(user.id),
        policy_name: name.clone(),
    })
    .map_err(crate::server::auth::internal)?;
    let requested = NewAuditEvent::new(
        Actor::System("policy".into()),
        "candidate",
        app.candidate_id,
        AuditEventType::VerificationRequested,
        serde_json::json!({ "trigger": "stage_gate", "stage": to.as_str(), "application_id": app.id,
                            "policy_name": name, "policy_version": version, "previous_status": status.as_str() }),
    );
    let auto = needs_session.then(|| AutoStart {
        application_id: app.id,
        stage: to.as_str(),
        candidate_id: app.candidate_id,
        job_payload: &payload,
        max_attempts: state.config.delivery_max_attempts,
        audit: &requested,
    });
    let auto = auto.as_ref().filter(|_| {
        state.config.verification_url.is_some() && state.config.verification_api_key.is_some()
    });
    if let GateDecision::Blocked { required } = decision {
        let reason_codes = rules::blocked_reason_codes(status);
        let blocked = blocked_move(
            user,
            app,
            (from, to),
            serde_json::json!({
                "status": status.as_str(), "required_status": required.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "reason_codes": reason_codes, "policy_name": name, "policy_version": version,
            }),
        );
        let started = db::policy::record_blocked(db, &blocked, auto, now).await?;
        let needed = required
            .iter()
            .map(|s| s.label())
            .collect::<Vec<_>>()
            .join(" or ");
        let mut message = format!(
            "Blocked by policy '{name}' (v{version}): {} needs verification {needed}, and this candidate's is {}. Reason code: {}.",
            to.label(),
            status.label(),
            reason_codes.join(", ")
        );
        if started {
            message.push_str(" Verification has been requested automatically; move the candidate once it passes.");
        } else {
            message.push_str(" A security reviewer can grant a time-bound exception.");
        }
        return Err(AppError::Conflict(message));
    }
    let exception = match decision {
        GateDecision::AllowedByException(id) => Some(id),
        _ => None,
    };
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        app.candidate_id,
        AuditEventType::StageChanged,
        serde_json::json!({
            "application_id": app.id, "job": app.job_title, "from": from.as_str(), "to": to.as_str(),
            "status": status.as_str(), "policy_name": name, "policy_version": version,
            "exception_id": exception, "bulk_job": bulk.map(|i| i.bulk_id),
        }),
    );
    match db::policy::move_stage(
        db,
        app.id,
        from.as_str(),
        to.as_str(),
        Some(user.id),
        now,
        &audit,
        auto,
        bulk,
    )
    .await?
    {
        Some(auto_started) => Ok(MoveOutcome { auto_started }),
        None => Err(AppError::Conflict(
            "Someone else moved this candidate just now. Reload to see the current stage.".into(),
        )),
    }
}

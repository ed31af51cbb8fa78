//! Who may see which candidate (SPEC §2), decided in one place for every service.
use crate::error::AppError;
use crate::model::{CurrentUser, Permission};
use crate::server::db::{self, candidates::ApplicationRow, candidates::CandidateRow, Db};
use std::collections::HashSet;

/// The user's role grants `permission`, or 403 (logged): every service a person calls starts here.
pub fn require(user: &CurrentUser, permission: Permission) -> Result<(), AppError> {
    if user.role.can(permission) {
        Ok(())
    } else {
        tracing::warn!(user_id = user.id, role = %user.role, ?permission, "permission denied");
        Err(AppError::Forbidden)
    }
}

/// The user's role grants at least one of `permissions`, or 403.
pub fn require_any(user: &CurrentUser, permissions: &[Permission]) -> Result<(), AppError> {
    match permissions.iter().find(|p| user.role.can(**p)) {
        Some(_) => Ok(()),
        None => {
            tracing::warn!(user_id = user.id, role = %user.role, ?permissions, "permission denied");
            Err(AppError::Forbidden)
        }
    }
}

/// A candidate as one user may see them: the applications they may see, and which jobs.
#[derive(Debug, Clone)]
pub struct Visible {
    pub candidate: CandidateRow,
    pub applications: Vec<ApplicationRow>,
    /// `None`: every job; `Some`: only these (a hiring manager's own jobs on this candidate).
    jobs: Option<HashSet<i64>>,
    /// Risk tier, reason codes, evidence, scores and check results (not for hiring managers).
    pub details: bool,
}

impl Visible {
    /// Whether something that belongs to this job (an order, an interview) may be shown.
    pub fn sees_job(&self, job_id: i64) -> bool {
        self.jobs.as_ref().is_none_or(|jobs| jobs.contains(&job_id))
    }
    /// Whether something recorded for a job — or, for older rows, for no known job — may be
    /// shown: an item of unknown job only to those who see every job.
    pub fn sees_item_of(&self, job_id: Option<i64>) -> bool {
        match job_id {
            Some(job) => self.sees_job(job),
            None => self.jobs.is_none(),
        }
    }
}

/// The one rule: admins, recruiters and security reviewers see every candidate; a hiring manager
/// sees a candidate only through the applications on jobs they manage (404 otherwise, so that
/// the existence of other candidates is not revealed).
pub fn decide(
    user: &CurrentUser,
    applications: Vec<ApplicationRow>,
) -> Option<(Vec<ApplicationRow>, Option<HashSet<i64>>)> {
    if !user.role.can(Permission::ViewCandidates) {
        return None;
    }
    if !user.role.sees_only_own_jobs() {
        return Some((applications, None));
    }
    let own: Vec<ApplicationRow> = applications
        .into_iter()
        .filter(|a| a.hiring_manager_id == user.id)
        .collect();
    if own.is_empty() {
        return None;
    }
    let jobs = own.iter().map(|a| a.job_id).collect();
    Some((own, Some(jobs)))
}

/// The candidate as `user` may see them, or `NotFound`.
pub async fn visible_candidate(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<Visible, AppError> {
    let candidate = db::candidates::find_candidate(db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let applications = db::candidates::applications_of(db, candidate_id).await?;
    let (applications, jobs) = decide(user, applications).ok_or(AppError::NotFound)?;
    Ok(Visible {
        candidate,
        applications,
        jobs,
        details: user.role.can(Permission::ViewVerificationDetails),
    })
}

/// A visible candidate with the rest of what their profile shows — the stage history of the
/// applications the user sees and the verification panel's facts — read in one statement.
pub async fn visible_profile(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<
    (
        Visible,
        Vec<db::candidates::StageChangeRow>,
        db::candidates::PanelFacts,
    ),
    AppError,
> {
    let rows = db::candidates::profile(db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (applications, jobs) = decide(user, rows.applications).ok_or(AppError::NotFound)?;
    let history = rows
        .history
        .into_iter()
        .filter(|h| applications.iter().any(|a| a.id == h.application_id))
        .collect();
    let visible = Visible {
        candidate: rows.candidate,
        applications,
        jobs,
        details: user.role.can(Permission::ViewVerificationDetails),
    };
    Ok((visible, history, rows.panel))
}

/// The application an interview or exception is for: the one named, which must be the
/// candidate's, or the candidate's only application when none is named.
pub fn application_for(
    applications: &[ApplicationRow],
    job_id: Option<i64>,
) -> Result<&ApplicationRow, AppError> {
    match job_id {
        Some(job) => applications
            .iter()
            .find(|a| a.job_id == job)
            .ok_or_else(|| {
                AppError::BadRequest("The candidate has no application for that job.".into())
            }),
        None => match applications {
            [only] => Ok(only),
            [] => Err(AppError::NotFound),
            _ => Err(AppError::BadRequest(
                "The candidate applied to several jobs: choose the job this is for.".into(),
            )),
        },
    }
}

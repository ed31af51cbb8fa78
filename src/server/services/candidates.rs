//! The candidate list, profile and stage moves, as each role may see and do them.
use crate::error::AppError;
use crate::model::{
    Application, CandidatePage, CandidateProfile, CandidateQuery, CandidateRow, CurrentUser,
    JobSummary, Permission, Stage, StageChange,
};
use crate::server::db::{self, Db};
use crate::server::state::AppState;

pub const PAGE_SIZE: i64 = 25;
/// The list counts matches up to this many and then says "10,000+".
pub const COUNT_CAP: i64 = 10_000;

/// Lower-cases and escapes LIKE wildcards so a search for `50%` means the text "50%".
pub fn like_pattern(search: &str) -> Option<String> {
    let s = search.trim().to_lowercase();
    if s.is_empty() {
        return None;
    }
    let mut escaped = String::with_capacity(s.len() + 2);
    escaped.push('%');
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped.push('%');
    Some(escaped)
}

/// The list's capped counts by filter (and its pages, below), each with the `list_version` it was
/// counted at: a page whose filter was counted at the version the database shows now reuses the
/// count instead of counting up to 10,001 rows again. Any commit that may change a count changes the version, so a
/// reused count is never stale (`db::candidates::list_version`). Bounded: when full it starts over.
///
/// One count at a time per filter: requests that miss together wait for the one count in flight
/// and take it, since it started after they arrived (64 colleagues opening the same filter after a
/// change cost one count, not 64 at once).
///
/// Pages are kept the same way, by filter and keyset position: at an unchanged version a page
/// reads the same rows, so a page many people open (the first one of a common filter, a search
/// someone repeats) costs no query until something it shows changes.
pub struct ListCache {
    counts: super::kept::Readings<db::candidates::ListFilter, i64>,
    pages: std::sync::Mutex<
        std::collections::HashMap<PageKey, (String, Vec<db::candidates::ListRow>)>,
    >,
}

type PageKey = (db::candidates::ListFilter, Option<i64>);

impl Default for ListCache {
    fn default() -> Self {
        ListCache {
            counts: super::kept::Readings::new(Self::MAX_ENTRIES, None),
            pages: Default::default(),
        }
    }
}

impl ListCache {
    const MAX_ENTRIES: usize = 4096;
    /// Pages kept at most (26 rows each: a few MB).
    const MAX_PAGES: usize = 1024;

    /// The capped count, and the version this request read (for `page`).
    async fn count(
        &self,
        db: &Db,
        filter: &db::candidates::ListFilter,
    ) -> Result<(String, i64), AppError> {
        let arrived = self.counts.arrive();
        let version = db::candidates::list_version(db).await?;
        let n = self
            .counts
            .get(filter, arrived, &version, || async {
                Ok::<_, AppError>(
                    db::candidates::count_with_version(db, filter, COUNT_CAP + 1).await?,
                )
            })
            .await?;
        Ok((version, n))
    }

    /// One page, kept under the version read before it was queried: rows read at that version
    /// or later, never earlier.
    async fn page(
        &self,
        db: &Db,
        version: &str,
        filter: &db::candidates::ListFilter,
        before: Option<i64>,
    ) -> Result<Vec<db::candidates::ListRow>, AppError> {
        let key = (filter.clone(), before);
        let lock = || self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, rows)) = lock().get(&key).filter(|(v, _)| v == version) {
            return Ok(rows.clone());
        }
        let rows = db::candidates::list(db, filter, before, PAGE_SIZE + 1).await?;
        let mut pages = lock();
        if pages.len() >= Self::MAX_PAGES {
            pages.clear();
        }
        pages.insert(key, (version.to_string(), rows.clone()));
        Ok(rows)
    }
}

fn own_jobs_only(user: &CurrentUser) -> Option<i64> {
    user.role.sees_only_own_jobs().then_some(user.id)
}

/// The list's filter for what `user` asked: only their own jobs' applications for hiring managers,
/// and no filtering by check results for those who may not see them (a filter would reveal them
/// by which rows it returns). Also what bulk actions on "every match" act on.
pub fn list_filter(user: &CurrentUser, q: &CandidateQuery) -> db::candidates::ListFilter {
    let details = user.role.can(Permission::ViewVerificationDetails);
    let q = &CandidateQuery {
        risk: q.risk.filter(|_| details),
        integrity: q.integrity.filter(|_| details),
        ..q.clone()
    };
    db::candidates::ListFilter {
        hiring_manager_id: own_jobs_only(user),
        job_id: q.job_id,
        stage: q.stage,
        status: q.status,
        risk: q.risk,
        search_pattern: q.search.as_deref().and_then(like_pattern),
        integrity_below: match q.integrity {
            Some(crate::model::IntegrityFilter::Below60) => Some(60),
            Some(crate::model::IntegrityFilter::Below80) => Some(80),
            _ => None,
        },
        integrity_flagged: (q.integrity == Some(crate::model::IntegrityFilter::Flagged))
            .then_some(true),
        integrity_missing: (q.integrity == Some(crate::model::IntegrityFilter::NoReport))
            .then_some(true),
        applications: None,
    }
}

pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    q: &CandidateQuery,
) -> Result<CandidatePage, AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    let (db, cache) = (&state.db, &*state.list_cache);
    let details = user.role.can(Permission::ViewVerificationDetails);
    let filter = list_filter(user, q);
    // Counted up to the cap only: an exact count would rescan every matching row per page.
    let (version, counted) = cache.count(db, &filter).await?;
    // Nothing matches: no page to look for (walking a job's applications for a status none of
    // them has is the slowest page there is: 17 ms → the count's 5 ms at 100k).
    let mut rows = if counted == 0 {
        Vec::new()
    } else {
        cache.page(db, &version, &filter, q.before).await?
    };
    let next_before = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.application_id)
    } else {
        None
    };
    let (total, total_capped) = if counted > COUNT_CAP {
        (COUNT_CAP, true)
    } else {
        (counted, false)
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            Ok(CandidateRow {
                application_id: r.application_id,
                candidate_id: r.candidate_id,
                name: format!("{} {}", r.first_name, r.last_name),
                email: r.email,
                job_title: r.job_title,
                stage: r.stage,
                verification_status: r.verification_status,
                risk_tier: r.verification_risk_tier.filter(|_| details),
                integrity_score: r.integrity_score.filter(|_| details),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(CandidatePage {
        rows,
        shows_details: details,
        total,
        total_capped,
        next_before,
    })
}

pub async fn jobs(db: &Db, user: &CurrentUser) -> Result<Vec<JobSummary>, AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    Ok(db::candidates::jobs(db, own_jobs_only(user))
        .await?
        .into_iter()
        .map(|j| JobSummary {
            id: j.id,
            title: j.title,
        })
        .collect())
}

/// A candidate's profile; hiring managers get 404 for candidates outside their jobs.
pub async fn profile(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<CandidateProfile, AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    let (visible, history, facts) =
        super::access::visible_profile(&state.db, user, candidate_id).await?;
    let (c, apps) = (visible.candidate, visible.applications);
    let mut applications = Vec::with_capacity(apps.len());
    for a in apps.iter() {
        let mut changes = Vec::new();
        for h in history.iter().filter(|h| h.application_id == a.id) {
            changes.push(StageChange {
                from_stage: h.from_stage,
                to_stage: h.to_stage,
                actor: h.actor_name.clone(),
                changed_at: h.changed_at,
            });
        }
        applications.push(Application {
            id: a.id,
            job: JobSummary {
                id: a.job_id,
                title: a.job_title.clone(),
            },
            hiring_manager: a.hiring_manager_name.clone(),
            stage: a.stage,
            history: changes,
        });
    }
    let details = user.role.can(Permission::ViewVerificationDetails);
    let verification = panel_of(state, user, &c, &apps, &facts);
    let location = [c.city.as_str(), c.state.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    Ok(CandidateProfile {
        id: c.id,
        first_name: c.first_name,
        last_name: c.last_name,
        email: c.email,
        phone: details.then_some(c.phone),
        location: details.then_some(location),
        applications,
        verification,
        can_move_stage: user.role.can(Permission::MoveStage),
        can_order_check: user.role.can(Permission::OrderBackgroundCheck),
        can_grant_exception: user.role.can(Permission::Adjudicate),
        can_manage_data: user.role.can(Permission::ManageSettings),
    })
}

/// The verification panel of a profile alone (an open profile polls it): the candidate as the
/// user may see them and the panel, without the stage history the rest of the profile needs.
pub async fn verification_panel(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<crate::model::VerificationPanel, AppError> {
    super::access::require(user, Permission::ViewCandidates)?;
    let (visible, _, facts) = super::access::visible_profile(&state.db, user, candidate_id).await?;
    Ok(panel_of(
        state,
        user,
        &visible.candidate,
        &visible.applications,
        &facts,
    ))
}

/// A visible candidate's verification panel, under the policy of their first job that names one.
fn panel_of(
    state: &AppState,
    user: &CurrentUser,
    candidate: &db::candidates::CandidateRow,
    applications: &[db::candidates::ApplicationRow],
    facts: &db::candidates::PanelFacts,
) -> crate::model::VerificationPanel {
    let job_policy = applications.iter().find_map(|a| a.policy_name.clone());
    let calendar = &state.config.business_calendar;
    super::verification::panel(user, candidate, facts, job_policy, calendar)
}

/// Moves one application to `to` through its policy's stage gate; refuses illegal moves and lost races.
pub async fn move_stage(
    state: &AppState,
    user: &CurrentUser,
    application_id: i64,
    to: Stage,
) -> Result<Stage, AppError> {
    super::access::require(user, Permission::MoveStage)?;
    let app = db::candidates::find_application(&state.db, application_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = app.stage;
    from.can_move_to(to)?;
    let outcome = super::policy::move_stage(state, user, &app, from, to, None).await?;
    tracing::info!(application_id, user_id = user.id, from = %from, to = %to,
        auto_verification = outcome.auto_started, "stage changed");
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("  Ada "), Some("%ada%".into()));
        assert_eq!(like_pattern("50%_a\\"), Some("%50\\%\\_a\\\\%".into()));
        assert_eq!(like_pattern("   "), None);
    }
}

//! The security review queue: claim, decide with a reason code and rationale, four-eyes overrides,
//! SLA clocks in business hours, breaches logged once.
use crate::error::AppError;
use crate::model::{
    check_reason_code, may_approve, needs_second_approval, AuditEventType, CurrentUser, Permission,
    ReviewItem, ReviewOutcome, ReviewQueue, ReviewState, RiskTier, Role, VerificationStatus,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::business_hours::{describe_remaining, BusinessCalendar};
use crate::server::clock;
use crate::server::db::{
    self,
    review::{Closing, ItemRow},
    Db,
};
use crate::server::state::AppState;
use chrono::{DateTime, Utc};

/// Who the queue shows: everyone's items, only mine, or only unassigned ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Anyone,
    Me,
    Unassigned,
}

pub fn to_item(
    r: &ItemRow,
    user: &CurrentUser,
    cal: &BusinessCalendar,
    now: DateTime<Utc>,
) -> ReviewItem {
    let state = r.state;
    let remaining = r.deadline_at.map(|d| cal.remaining(now, d));
    ReviewItem {
        id: r.id,
        candidate_id: r.candidate_id,
        candidate_name: format!("{} {}", r.first_name, r.last_name),
        session_id: r.session_id.clone(),
        risk_tier: r.risk_tier,
        provider_status: r.provider_status,
        state,
        opened_at: r.opened_at,
        deadline_at: r.deadline_at,
        time_left: remaining.map(describe_remaining),
        breached: r.deadline_at.is_some_and(|d| d < now) && state != ReviewState::Closed,
        assignee: r.assignee_name.clone(),
        assigned_to_me: r.assignee_id == Some(user.id),
        claimed_at: r.claimed_at,
        decided_by: r.decided_by_name.clone(),
        decision: r.decision,
        reason: r
            .reason_code
            .as_deref()
            .map(|c| r.reason_label.clone().unwrap_or_else(|| c.to_string())),
        rationale: r.rationale.clone(),
        can_approve: state == ReviewState::AwaitingSecondApproval
            && r.decided_by.is_some_and(|d| d != user.id),
    }
}

/// What the queue page asks for: a risk tier, whose items, only breached ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFilter {
    pub risk: Option<RiskTier>,
    pub assignee: AssigneeFilter,
    pub breached_only: bool,
}

impl QueueFilter {
    /// From the page's query (`assignee=me|unassigned`, anything else: anyone).
    pub fn from_query(
        risk: Option<RiskTier>,
        assignee: Option<&str>,
        breached: Option<bool>,
    ) -> Self {
        QueueFilter {
            risk,
            assignee: match assignee {
                Some("me") => AssigneeFilter::Me,
                Some("unassigned") => AssigneeFilter::Unassigned,
                _ => AssigneeFilter::Anyone,
            },
            breached_only: breached.unwrap_or(false),
        }
    }
}

/// The open items (security reviewers), filtered, with counts per tier.
/// The queue shows at most this many items, the soonest deadlines first (a reviewer works from
/// the top; each card carries its decision form, so a page of them is most of the page's cost).
pub const QUEUE_PAGE: i64 = 25;

/// What the queue reads from the database for one filter.
#[derive(Debug, Clone)]
struct QueueReading {
    by_tier: Vec<db::review::TierCount>,
    rows: Vec<ItemRow>,
    /// How many open items match the filter.
    matching: i64,
    reviewers: Vec<(i64, String)>,
    reason_codes: Vec<(String, String)>,
    /// The soonest deadline ahead when it was read: once it passes, the breached counts (and a
    /// breached-only page) change without any commit. `None`: no deadline ahead.
    until: Option<DateTime<Utc>>,
}

/// A queue filter as the database sees it: a tier, whose items (`Some(Some(id))`: one
/// reviewer's; `Some(None)`: nobody's), breached only.
type QueueKey = (Option<RiskTier>, Option<Option<i64>>, bool);

/// The queue's readings by filter, kept while the queue's data is unchanged
/// (`db::review::queue_version`: any commit that may change what the queue shows moves it) and no
/// deadline has passed since: reviewers who keep the queue open cost one version read a request.
/// Time left is worked out per request, from the kept deadlines.
pub struct QueueCache(super::kept::Readings<QueueKey, QueueReading>);

impl Default for QueueCache {
    fn default() -> Self {
        QueueCache(super::kept::Readings::new(256, None))
    }
}

impl QueueCache {
    async fn read(
        &self,
        db: &Db,
        key: QueueKey,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, AppError> {
        let arrived = self.0.arrive();
        let version = db::review::queue_version(db).await?;
        let fresh = |r: &QueueReading| r.until.is_none_or(|until| now < until);
        let read = || async {
            let reading = read_queue(db, key, now).await?;
            Ok::<_, AppError>((version.clone(), reading))
        };
        self.0.get_while(&key, arrived, &version, fresh, read).await
    }
}

/// Counted and paged in SQL: a queue of thousands shows its most urgent items at once.
async fn read_queue(db: &Db, key: QueueKey, now: DateTime<Utc>) -> Result<QueueReading, AppError> {
    let (risk, assignee, breached_only) = key;
    let open = db::review::OpenFilter {
        risk,
        assignee,
        breached_at: breached_only.then_some(now),
    };
    // The readings are independent: side by side, each on its own connection.
    let (by_tier, rows, reviewers, reason_codes) = tokio::try_join!(
        db::review::open_by_tier(db, now),
        db::review::open_items(db, &open, QUEUE_PAGE),
        db::review::reviewers(db),
        db::review::reason_codes(db),
    )?;
    let matching = if (rows.len() as i64) < QUEUE_PAGE {
        rows.len() as i64
    } else if assignee.is_none() {
        // Tier and breach filters: the per-tier counts already hold the answer.
        by_tier
            .iter()
            .filter(|t| risk.is_none_or(|r| t.risk_tier == Some(r)))
            .map(|t| {
                if breached_only {
                    t.breached
                } else {
                    t.open_count
                }
            })
            .sum()
    } else {
        db::review::count_open(db, &open).await?
    };
    let until = by_tier.iter().filter_map(|t| t.next_deadline).min();
    Ok(QueueReading {
        by_tier,
        rows,
        matching,
        reviewers,
        reason_codes,
        until,
    })
}

pub async fn queue(
    state: &AppState,
    user: &CurrentUser,
    filter: QueueFilter,
) -> Result<ReviewQueue, AppError> {
    super::access::require(user, Permission::Adjudicate)?;
    let cal = &state.config.business_calendar;
    let QueueFilter {
        risk,
        assignee,
        breached_only,
    } = filter;
    let assignee = match assignee {
        AssigneeFilter::Anyone => None,
        AssigneeFilter::Me => Some(Some(user.id)),
        AssigneeFilter::Unassigned => Some(None),
    };
    let now = clock::now();
    let reading = state
        .review_cache
        .read(&state.db, (risk, assignee, breached_only), now)
        .await?;
    let count = |tier: RiskTier| {
        reading
            .by_tier
            .iter()
            .filter(|t| t.risk_tier == Some(tier))
            .map(|t| t.open_count)
            .sum::<i64>()
    };
    Ok(ReviewQueue {
        items: reading
            .rows
            .iter()
            .map(|r| to_item(r, user, cal, now))
            .collect(),
        matching: reading.matching,
        high: count(RiskTier::High),
        medium: count(RiskTier::Medium),
        low: count(RiskTier::Low),
        breached: reading.by_tier.iter().map(|t| t.breached).sum(),
        reviewers: reading.reviewers,
        reason_codes: reading.reason_codes,
    })
}

fn event(
    user: &CurrentUser,
    item: &ItemRow,
    kind: AuditEventType,
    extra: serde_json::Value,
) -> NewAuditEvent {
    let mut payload = serde_json::json!({ "review_item": item.id, "session_id": item.session_id });
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    NewAuditEvent::new(
        Actor::from(user),
        "candidate",
        item.candidate_id,
        kind,
        payload,
    )
}

pub async fn claim(db: &Db, user: &CurrentUser, item_id: i64) -> Result<(), AppError> {
    super::access::require(user, Permission::Adjudicate)?;
    let item = db::review::find(db, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let audit = event(
        user,
        &item,
        AuditEventType::ReviewStarted,
        serde_json::json!({ "claimed_by": user.name }),
    );
    if !db::review::set_assignee(db, item_id, Some(user.id), clock::now(), Some(&audit)).await? {
        return Err(AppError::Conflict("This review is already closed.".into()));
    }
    Ok(())
}

/// Hands an item to another security reviewer (recorded with who did it and when).
pub async fn reassign(
    db: &Db,
    user: &CurrentUser,
    item_id: i64,
    reviewer_id: i64,
) -> Result<(), AppError> {
    super::access::require(user, Permission::Adjudicate)?;
    let item = db::review::find(db, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let target = db::users::find_by_id(db, reviewer_id)
        .await?
        .ok_or_else(|| AppError::BadRequest("No such reviewer.".into()))?;
    if target.role != Role::SecurityReviewer {
        return Err(AppError::BadRequest(format!(
            "{} is not a security reviewer.",
            target.name
        )));
    }
    let audit = event(
        user,
        &item,
        AuditEventType::ReviewStarted,
        serde_json::json!({ "assigned_to": target.name, "assigned_by": user.name }),
    );
    if !db::review::set_assignee(db, item_id, Some(target.id), clock::now(), Some(&audit)).await? {
        return Err(AppError::Conflict("This review is already closed.".into()));
    }
    Ok(())
}

pub async fn release(db: &Db, user: &CurrentUser, item_id: i64) -> Result<(), AppError> {
    super::access::require(user, Permission::Adjudicate)?;
    let item = db::review::find(db, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if item.assignee_id != Some(user.id) {
        return Err(AppError::Conflict(
            "Only the reviewer who claimed this item can release it.".into(),
        ));
    }
    db::review::set_assignee(db, item_id, None, clock::now(), None).await?;
    Ok(())
}

/// Decides an item. Verified on a failed or high-risk result becomes an override awaiting a second
/// reviewer; re-verification closes the item and sends the candidate a new session.
pub async fn decide(
    state: &AppState,
    user: &CurrentUser,
    item_id: i64,
    outcome: ReviewOutcome,
    reason_code: &str,
    rationale: &str,
) -> Result<String, AppError> {
    super::access::require(user, Permission::Adjudicate)?;
    let db = &state.db;
    let reason_label = db::review::reason_label(db, reason_code)
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "'{reason_code}' is not a reason code from the list"
            ))
        })?;
    let reason_label = reason_label.as_str();
    let rationale = rationale.trim();
    if rationale.len() < 10 {
        return Err(AppError::BadRequest(
            "Write a rationale of at least a sentence: it goes into the evidence pack.".into(),
        ));
    }
    let item = db::review::find(db, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if item.state != ReviewState::Open {
        return Err(AppError::Conflict("This review is no longer open.".into()));
    }
    let (provider_status, risk) = (item.provider_status, item.risk_tier);
    let now = clock::now();
    let details = serde_json::json!({ "outcome": outcome.as_str(), "reason_code": reason_code, "reason": reason_label, "rationale": rationale });
    if needs_second_approval(provider_status, risk, outcome) {
        let audit = event(user, &item, AuditEventType::OverrideRequested, details);
        if !db::review::request_override(db, item_id, user.id, reason_code, rationale, now, &audit)
            .await?
        {
            return Err(AppError::Conflict("This review is no longer open.".into()));
        }
        return Ok("Awaiting second approval".into());
    }
    let new_status = match outcome {
        ReviewOutcome::Verified => Some(VerificationStatus::Verified),
        ReviewOutcome::Failed => Some(VerificationStatus::Failed),
        ReviewOutcome::Reverify => None,
    };
    let closing = Closing {
        item_id,
        candidate_id: item.candidate_id,
        expected_state: ReviewState::Open,
        decision: outcome,
        reason_code,
        rationale,
        decided_by: user.id,
        second_approver: None,
        new_status,
        reviewer_name: &user.name,
        reason_label,
        now,
    };
    let audits = [event(user, &item, AuditEventType::ReviewCompleted, details)];
    if !db::review::close(db, &closing, &audits).await? {
        return Err(AppError::Conflict("This review is no longer open.".into()));
    }
    if outcome == ReviewOutcome::Reverify {
        super::verification::request_with(state, user, item.candidate_id, true).await?;
        return Ok("Re-verification sent".into());
    }
    Ok(format!("Decided: {}", outcome.label()))
}

/// The second reviewer's approval of an override: then, and only then, the candidate is verified.
pub async fn approve(db: &Db, user: &CurrentUser, item_id: i64) -> Result<(), AppError> {
    super::access::require(user, Permission::Adjudicate)?;
    let item = db::review::find(db, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if item.state != ReviewState::AwaitingSecondApproval {
        return Err(AppError::Conflict(
            "There is no override waiting for approval on this item.".into(),
        ));
    }
    let requested_by = item.decided_by.ok_or(AppError::Internal)?;
    may_approve(requested_by, user.id).map_err(|e| AppError::Conflict(e.0))?;
    let reason_code = item.reason_code.clone().unwrap_or_default();
    let reason_label = item
        .reason_label
        .clone()
        .unwrap_or_else(|| reason_code.clone());
    let reason_label = reason_label.as_str();
    let reviewer_name = format!(
        "{} (approved by {})",
        item.decided_by_name.clone().unwrap_or_default(),
        user.name
    );
    let closing = Closing {
        item_id,
        candidate_id: item.candidate_id,
        expected_state: ReviewState::AwaitingSecondApproval,
        decision: ReviewOutcome::Verified,
        reason_code: &reason_code,
        rationale: item.rationale.as_deref().unwrap_or(""),
        decided_by: requested_by,
        second_approver: Some(user.id),
        new_status: Some(VerificationStatus::Verified),
        reviewer_name: &reviewer_name,
        reason_label,
        now: clock::now(),
    };
    let details = serde_json::json!({ "requested_by": item.decided_by_name, "approved_by": user.name, "reason_code": reason_code });
    let audits = [
        event(
            user,
            &item,
            AuditEventType::OverrideApproved,
            details.clone(),
        ),
        event(user, &item, AuditEventType::ReviewCompleted, details),
    ];
    if !db::review::close(db, &closing, &audits).await? {
        return Err(AppError::Conflict(
            "Someone else acted on this item just now.".into(),
        ));
    }
    Ok(())
}

/// Logs `sla_breached` once for every open item past its deadline.
pub async fn log_breaches(
    db: &Db,
    cal: &BusinessCalendar,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut n = 0;
    for item in db::review::unlogged_breaches(db, now).await? {
        let overdue = item
            .deadline_at
            .map(|d| describe_remaining(cal.remaining(now, d)))
            .unwrap_or_default();
        let audit = NewAuditEvent::new(
            Actor::System("review SLA clock".into()),
            "candidate",
            item.candidate_id,
            AuditEventType::SlaBreached,
            serde_json::json!({ "review_item": item.id, "session_id": item.session_id, "deadline_at": item.deadline_at, "risk_tier": item.risk_tier, "status": overdue }),
        );
        if db::review::log_breach(db, item.id, now, &audit).await? {
            n += 1;
            super::alerts::review_breached(
                db,
                item.id,
                item.candidate_id,
                &item.session_id,
                item.risk_tier.map(|t| t.as_str()),
                item.deadline_at,
            )
            .await;
        }
    }
    Ok(n)
}

/// The review reason codes: admins manage them, security reviewers choose from them.
pub async fn reason_codes(db: &Db, user: &CurrentUser) -> Result<Vec<(String, String)>, AppError> {
    super::access::require_any(user, &[Permission::ManageSettings, Permission::Adjudicate])?;
    Ok(db::review::reason_codes(db).await?)
}

/// An admin adds a reason code; an existing code is refused (409).
pub async fn add_reason_code(
    db: &Db,
    user: &CurrentUser,
    code: &str,
    label: &str,
) -> Result<(), AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    let (code, label) = (code.trim(), label.trim());
    check_reason_code(code, label)?;
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "reason_code",
        code,
        AuditEventType::ReasonCodeAdded,
        serde_json::json!({ "code": code, "label": label }),
    );
    if !db::review::add_reason_code(db, code, label, &user.name, &audit).await? {
        return Err(AppError::Conflict(format!(
            "The reason code '{code}' exists already."
        )));
    }
    Ok(())
}

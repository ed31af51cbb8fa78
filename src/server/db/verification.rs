//! Verification sessions and the webhook events that move them.
use super::{audit::AuditAppend, jobs::Enqueue, on_db, BeginWrite, Db, Origin};
use crate::model::{
    event_applies, AuditEventType, EventState, RiskTier, VerificationEventType, VerificationStatus,
};
use crate::server::audit::{Actor, NewAuditEvent};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: String,
    pub candidate_id: i64,
    pub status: VerificationStatus,
    pub risk_tier: Option<RiskTier>,
    pub reason_codes: String,
    pub evidence_pack_url: Option<String>,
    pub policy_name: Option<String>,
    pub candidate_url: Option<String>,
    pub last_event_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SESSION_COLUMNS: &str = "session_id, candidate_id, status, risk_tier, reason_codes, evidence_pack_url, policy_name, candidate_url, last_event_at, created_at, updated_at";

pub async fn sessions_of(db: &Db, candidate_id: i64) -> sqlx::Result<Vec<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM verification_sessions WHERE candidate_id = $1 ORDER BY created_at DESC, id DESC");
    on_db!(db, p => sqlx::query_as::<_, SessionRow>(&sql).bind(candidate_id).fetch_all(p).await)
        .in_table("verification_sessions")
}

/// Records a request for a new session and queues its creation at the provider, atomically. As
/// part of bulk job `bulk`, its item for the candidate is marked done in the same transaction;
/// `None` then when that item was not waiting any more (nothing is requested).
pub async fn request_session(
    db: &Db,
    candidate_id: i64,
    payload: &str,
    max_attempts: i64,
    now: DateTime<Utc>,
    audit: &NewAuditEvent,
    bulk: Option<&super::bulk::ItemRef>,
) -> sqlx::Result<Option<i64>> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        if let Some(item) = bulk {
            if !super::bulk::mark_done_in_tx!(tx, item, "Verification requested", now) {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        let job_id = tx.enqueue(crate::model::JobKind::CreateVerificationSession, payload, max_attempts, now, &format!("candidate:{candidate_id}")).await?;
        tx.append_audit(audit).await?;
        tx.commit().await?;
        Ok(Some(job_id))
    })
}

/// Is a session request still on its way to the provider?
pub async fn pending_request(db: &Db, candidate_id: i64) -> sqlx::Result<bool> {
    Ok(!pending_requests(db, &[candidate_id]).await?.is_empty())
}

/// A delivery job (its columns unqualified) that is a session request still on its way to the
/// provider; its subject is `candidate:{id}`.
pub(super) const SESSION_REQUEST_ON_ITS_WAY: &str =
    "kind = 'verification.create_session' AND state IN ('pending', 'running')";

/// Which of `candidates` have a session request still on its way to the provider.
pub async fn pending_requests(
    db: &Db,
    candidates: &[i64],
) -> sqlx::Result<std::collections::HashSet<i64>> {
    let subjects: Vec<super::Bind> = candidates
        .iter()
        .map(|c| super::Bind::Text(format!("candidate:{c}")))
        .collect();
    let found: Vec<(String,)> = super::fetch_in(db, &subjects, |list| {
        format!(
            "SELECT subject FROM delivery_jobs WHERE {SESSION_REQUEST_ON_ITS_WAY} AND subject IN ({list})"
        )
    })
    .await?;
    Ok(found
        .iter()
        .filter_map(|(s,)| s.strip_prefix("candidate:").and_then(|id| id.parse().ok()))
        .collect())
}

/// Stores the provider's new session and makes it the candidate's current one.
pub async fn session_created(
    db: &Db,
    candidate_id: i64,
    session_id: &str,
    candidate_url: &str,
    policy_name: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO verification_sessions (session_id, candidate_id, status, candidate_url, policy_name, created_at, updated_at)
             VALUES ($1, $2, 'not_started', $3, $4, $5, $5)
             ON CONFLICT (session_id) DO UPDATE SET candidate_url = excluded.candidate_url")
            .bind(session_id).bind(candidate_id).bind(candidate_url).bind(policy_name).bind(now)
            .execute(&mut *tx).await?;
        // The new session supersedes the old one: the badge starts over (the history stays in the log).
        sqlx::query(
            "UPDATE candidates SET verification_session_id = $1, verification_status = 'not_started', verification_risk_tier = NULL,
                 verification_updated_at = $3, verification_reviewer = NULL, verification_review_reason = NULL
             WHERE id = $2")
            .bind(session_id).bind(candidate_id).bind(now).execute(&mut *tx).await?;
        tx.commit().await
    })
}

/// A verified webhook as we keep it before acting on it.
#[derive(Debug, Clone)]
pub struct InboundEvent {
    pub webhook_id: String,
    pub event_type: VerificationEventType,
    pub candidate_ref: String,
    pub session_id: String,
    pub event_created_at: DateTime<Utc>,
    pub body: String,
}

/// Stores the event durably; `None` when this webhook id or this exact event was stored before.
const STORE_EVENT_SQL: &str = "INSERT INTO webhook_events (source, webhook_id, event_type, candidate_ref, session_id, event_created_at, body, state, received_at)
    VALUES ('verification', $1, $2, $3, $4, $5, $6, 'pending', $7)
    ON CONFLICT DO NOTHING RETURNING id";

pub async fn store_event(
    db: &Db,
    e: &InboundEvent,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    on_db!(db, p => sqlx::query_scalar::<_, i64>(STORE_EVENT_SQL)
        .bind(&e.webhook_id).bind(e.event_type.as_str()).bind(&e.candidate_ref).bind(&e.session_id)
        .bind(e.event_created_at).bind(&e.body).bind(now)
        .fetch_optional(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEventRow {
    pub id: i64,
    pub webhook_id: String,
    pub event_type: VerificationEventType,
    pub candidate_ref: String,
    pub session_id: String,
    pub event_created_at: DateTime<Utc>,
    pub body: String,
    pub state: EventState,
    pub note: Option<String>,
    pub received_at: DateTime<Utc>,
}

const EVENT_COLUMNS: &str = "id, webhook_id, event_type, candidate_ref, session_id, event_created_at, body, state, note, received_at";

/// Events stored but not yet acted on (after a crash between storing and applying, say).
pub async fn pending_events(db: &Db, limit: i64) -> sqlx::Result<Vec<i64>> {
    let sql = "SELECT id FROM webhook_events WHERE source = 'verification' AND state = 'pending' ORDER BY id LIMIT $1";
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(limit).fetch_all(p).await)
}

pub async fn unknown_candidate_events(db: &Db, limit: i64) -> sqlx::Result<Vec<StoredEventRow>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE source = 'verification' AND state = 'unknown_candidate' ORDER BY id DESC LIMIT $1");
    on_db!(db, p => sqlx::query_as::<_, StoredEventRow>(&sql).bind(limit).fetch_all(p).await)
        .in_table("webhook_events")
}

pub async fn last_event_for_candidate(
    db: &Db,
    candidate_ref: &str,
) -> sqlx::Result<Option<StoredEventRow>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE source = 'verification' AND candidate_ref = $1 ORDER BY id DESC LIMIT 1");
    on_db!(db, p => sqlx::query_as::<_, StoredEventRow>(&sql).bind(candidate_ref).fetch_optional(p).await)
        .in_table("webhook_events")
}

/// What happened to one stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    Stale,
    UnknownCandidate,
    AlreadyProcessed,
}

/// The details of an event that land on the session.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EventDetails {
    pub risk_tier: Option<RiskTier>,
    #[serde(default)]
    pub reason_codes: Vec<String>,
    pub evidence_pack_url: Option<String>,
    pub policy_name: Option<String>,
}

/// What an event says, as the apply step needs it (from the stored row or straight from the
/// webhook that was just stored).
pub struct EventFacts<'a> {
    pub webhook_id: &'a str,
    pub event_type: VerificationEventType,
    pub session_id: &'a str,
    pub event_created_at: DateTime<Utc>,
}

/// One stored event to apply, with what applying it needs.
pub struct ToApply<'a> {
    pub event_id: i64,
    pub facts: EventFacts<'a>,
    pub candidate_id: Option<i64>,
    pub details: &'a EventDetails,
    pub review_deadline: Option<DateTime<Utc>>,
}

/// A session as the apply step needs it: whose it is, where it stands, its newest applied event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionState {
    pub candidate_id: i64,
    pub status: VerificationStatus,
    pub last_event_at: Option<DateTime<Utc>>,
}

/// What the database holds for a batch's events before any of them is applied.
#[derive(Debug, Default, Clone)]
pub struct Found {
    /// Each candidate the events name that exists → its newest session (id, created_at), if any.
    pub candidates: HashMap<i64, Option<(String, DateTime<Utc>)>>,
    /// Each session the events name that exists.
    pub sessions: HashMap<String, SessionState>,
}

/// A session's row after the batch: inserted when new, else updated (`None` fields keep what the
/// row holds, as a webhook without them does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWrite {
    pub session_id: String,
    pub candidate_id: i64,
    pub status: VerificationStatus,
    pub risk_tier: Option<RiskTier>,
    pub reason_codes: Vec<String>,
    pub evidence_pack_url: Option<String>,
    pub policy_name: Option<String>,
    pub last_event_at: DateTime<Utc>,
    pub last_event_type: VerificationEventType,
}

/// A candidate's badge after the batch (`risk_tier: None` keeps the row's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeWrite {
    pub candidate_id: i64,
    pub status: VerificationStatus,
    pub session_id: String,
    pub risk_tier: Option<RiskTier>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// A review item to open (one per session at most, however often its result arrives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewOpen {
    pub candidate_id: i64,
    pub session_id: String,
    pub risk_tier: Option<RiskTier>,
    pub provider_status: VerificationStatus,
    pub deadline_at: Option<DateTime<Utc>>,
}

/// Everything a batch of events does, worked out before anything is written: the same as applying
/// them one after the other, folded into one write per table.
#[derive(Debug, Default)]
pub struct Plan {
    /// One per event, in order.
    pub outcomes: Vec<Applied>,
    pub unknown: Vec<i64>,
    pub stale: Vec<i64>,
    pub applied: Vec<i64>,
    /// In the order first touched (so new sessions get ids in the order they were created).
    pub sessions: Vec<SessionWrite>,
    pub badges: Vec<BadgeWrite>,
    pub reviews: Vec<ReviewOpen>,
    pub audits: Vec<NewAuditEvent>,
}

/// Works out what `events` do, in order, from what the database held before them (`found`).
/// An event for a candidate Clearance does not have is kept as `unknown`; one older than its
/// session's newest applied event is `stale`; otherwise it moves its session (creating it if
/// new) and — when that is the candidate's newest session, which alone drives the badge — the
/// badge, opening a review item for a result a person must look at.
pub fn plan_batch(events: &[ToApply<'_>], mut found: Found, now: DateTime<Utc>) -> Plan {
    let mut plan = Plan::default();
    let mut session_at: HashMap<String, usize> = HashMap::new();
    let mut badge_at: HashMap<i64, usize> = HashMap::new();
    let mut opened: std::collections::HashSet<String> = std::collections::HashSet::new();
    for e in events {
        let ev = &e.facts;
        let known = e
            .candidate_id
            .and_then(|id| found.candidates.get(&id).map(|newest| (id, newest.clone())));
        let Some((candidate_id, newest)) = known else {
            plan.unknown.push(e.event_id);
            plan.outcomes.push(Applied::UnknownCandidate);
            continue;
        };
        let new_status = ev.event_type.status();
        let (session, created_now) = match found.sessions.get(ev.session_id) {
            Some(s) => (*s, false),
            // New: it applies (nothing newer on it), and is recorded below with its new state.
            None => (
                SessionState {
                    candidate_id,
                    status: VerificationStatus::NotStarted,
                    last_event_at: None,
                },
                true,
            ),
        };
        if !event_applies(
            session.status,
            session.last_event_at,
            new_status,
            ev.event_created_at,
        ) {
            plan.stale.push(e.event_id);
            plan.outcomes.push(Applied::Stale);
            continue;
        }
        found.sessions.insert(
            ev.session_id.to_string(),
            SessionState {
                status: new_status,
                last_event_at: Some(ev.event_created_at),
                ..session
            },
        );
        let d = e.details;
        match session_at.get(ev.session_id) {
            Some(&i) => {
                let w = &mut plan.sessions[i];
                w.status = new_status;
                w.risk_tier = d.risk_tier.or(w.risk_tier);
                w.reason_codes = d.reason_codes.clone();
                w.evidence_pack_url = d.evidence_pack_url.clone().or(w.evidence_pack_url.take());
                w.policy_name = d.policy_name.clone().or(w.policy_name.take());
                w.last_event_at = ev.event_created_at;
                w.last_event_type = ev.event_type;
            }
            None => {
                session_at.insert(ev.session_id.to_string(), plan.sessions.len());
                plan.sessions.push(SessionWrite {
                    session_id: ev.session_id.to_string(),
                    candidate_id: session.candidate_id,
                    status: new_status,
                    risk_tier: d.risk_tier,
                    reason_codes: d.reason_codes.clone(),
                    evidence_pack_url: d.evidence_pack_url.clone(),
                    policy_name: d.policy_name.clone(),
                    last_event_at: ev.event_created_at,
                    last_event_type: ev.event_type,
                });
            }
        }
        // Only the candidate's newest session drives the badge; a newer one supersedes older
        // ones. A session created now gets a higher id than any there before, so (ordered by
        // created_at, then id) it is the newest unless another was created after now.
        let is_newest = if created_now {
            newest.as_ref().is_none_or(|(_, at)| *at <= now)
        } else {
            newest.as_ref().map(|(id, _)| id.as_str()) == Some(ev.session_id)
        };
        if is_newest {
            if created_now {
                found
                    .candidates
                    .insert(candidate_id, Some((ev.session_id.to_string(), now)));
            }
            let verified_at =
                (new_status == VerificationStatus::Verified).then_some(ev.event_created_at);
            match badge_at.get(&candidate_id) {
                Some(&i) => {
                    let b = &mut plan.badges[i];
                    b.status = new_status;
                    b.session_id = ev.session_id.to_string();
                    b.risk_tier = d.risk_tier.or(b.risk_tier);
                    b.verified_at = verified_at;
                }
                None => {
                    badge_at.insert(candidate_id, plan.badges.len());
                    plan.badges.push(BadgeWrite {
                        candidate_id,
                        status: new_status,
                        session_id: ev.session_id.to_string(),
                        risk_tier: d.risk_tier,
                        verified_at,
                    });
                }
            }
            if matches!(
                new_status,
                VerificationStatus::NeedsReview | VerificationStatus::Failed
            ) && opened.insert(ev.session_id.to_string())
            {
                plan.reviews.push(ReviewOpen {
                    candidate_id,
                    session_id: ev.session_id.to_string(),
                    risk_tier: d.risk_tier,
                    provider_status: new_status,
                    deadline_at: e.review_deadline,
                });
            }
        }
        let audit_type = if ev.event_type == VerificationEventType::Started {
            AuditEventType::VerificationStarted
        } else {
            AuditEventType::VerificationCompleted
        };
        plan.audits.push(NewAuditEvent::new(
            Actor::Partner("identity verification provider".into()),
            "candidate",
            candidate_id,
            audit_type,
            serde_json::json!({
                "session_id": ev.session_id,
                "event": ev.event_type.as_str(),
                "status": new_status.as_str(),
                "risk_tier": d.risk_tier,
                "reason_codes": d.reason_codes,
                "evidence_pack_url": d.evidence_pack_url,
                "webhook_id": ev.webhook_id,
                "event_created_at": ev.event_created_at,
            }),
        ));
        plan.applied.push(e.event_id);
        plan.outcomes.push(Applied::Applied);
    }
    plan
}

/// Rows bound per statement when reading or writing by a list (well under both databases' limits).
const APPLY_CHUNK: usize = 500;

/// Applying stored events on an open transaction of either backend (its caller commits).
pub trait ApplyVerificationEvents {
    /// Sessions, candidate badges, review items, audit entries and each event's state for events
    /// stored in this transaction or before, in a handful of statements for the lot: two reads,
    /// then one write per table (`plan_batch` works out what to write). One outcome per event.
    fn apply_events(
        &mut self,
        events: &[ToApply<'_>],
        now: DateTime<Utc>,
    ) -> impl std::future::Future<Output = sqlx::Result<Vec<Applied>>> + Send;
}

macro_rules! impl_apply_verification_events {
    ($conn:ty) => {
        impl ApplyVerificationEvents for $conn {
            async fn apply_events(&mut self, events: &[ToApply<'_>], now: DateTime<Utc>) -> sqlx::Result<Vec<Applied>> {
                let mut found = Found::default();
                let mut candidate_ids: Vec<i64> = events.iter().filter_map(|e| e.candidate_id).collect();
                candidate_ids.sort_unstable();
                candidate_ids.dedup();
                for chunk in candidate_ids.chunks(APPLY_CHUNK) {
                    let mut binds = super::Binds::new();
                    let list = binds.push_ids(chunk);
                    // `s.candidate_id = c.id` lets PostgreSQL reach s through the candidate's index;
                    // joined on the subquery alone it hashed every session.
                    let sql = format!(
                        "SELECT c.id, s.session_id, s.created_at FROM candidates c
                         LEFT JOIN verification_sessions s ON s.candidate_id = c.id AND s.id = (
                             SELECT id FROM verification_sessions WHERE candidate_id = c.id ORDER BY created_at DESC, id DESC LIMIT 1)
                         WHERE c.id IN ({list})");
                    let rows = super::bind_all!(sqlx::query_as::<_, (i64, Option<String>, Option<DateTime<Utc>>)>(&sql), &binds)
                        .fetch_all(&mut *self).await?;
                    for (id, session, at) in rows {
                        found.candidates.insert(id, session.zip(at));
                    }
                }
                let mut session_ids: Vec<&str> = events.iter().map(|e| e.facts.session_id).collect();
                session_ids.sort_unstable();
                session_ids.dedup();
                for chunk in session_ids.chunks(APPLY_CHUNK) {
                    let mut binds = super::Binds::new();
                    let list = binds.push_texts(chunk);
                    let sql = format!(
                        "SELECT session_id, candidate_id, status, last_event_at FROM verification_sessions WHERE session_id IN ({list})");
                    let rows = super::bind_all!(sqlx::query_as::<_, (String, i64, VerificationStatus, Option<DateTime<Utc>>)>(&sql), &binds)
                        .fetch_all(&mut *self).await.in_table("verification_sessions")?;
                    for (id, candidate_id, status, last_event_at) in rows {
                        found.sessions.insert(id, SessionState { candidate_id, status, last_event_at });
                    }
                }
                let plan = plan_batch(events, found, now);
                for chunk in plan.sessions.chunks(APPLY_CHUNK) {
                    // New sessions are inserted; known ones keep their candidate, link and creation
                    // time, and the fields an event leaves out.
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO verification_sessions (session_id, candidate_id, status, risk_tier, reason_codes,
                             evidence_pack_url, policy_name, last_event_at, last_event_type, created_at, updated_at) ");
                    q.push_values(chunk, |mut row, w| {
                        let codes = serde_json::to_string(&w.reason_codes).unwrap_or_else(|_| "[]".into());
                        row.push_bind(w.session_id.clone()).push_bind(w.candidate_id).push_bind(w.status)
                            .push_bind(w.risk_tier).push_bind(codes).push_bind(w.evidence_pack_url.clone())
                            .push_bind(w.policy_name.clone()).push_bind(w.last_event_at).push_bind(w.last_event_type)
                            .push_bind(now).push_bind(now);
                    });
                    q.push(
                        " ON CONFLICT (session_id) DO UPDATE SET status = excluded.status,
                             risk_tier = COALESCE(excluded.risk_tier, verification_sessions.risk_tier),
                             reason_codes = excluded.reason_codes,
                             evidence_pack_url = COALESCE(excluded.evidence_pack_url, verification_sessions.evidence_pack_url),
                             policy_name = COALESCE(excluded.policy_name, verification_sessions.policy_name),
                             last_event_at = excluded.last_event_at, last_event_type = excluded.last_event_type,
                             updated_at = excluded.updated_at");
                    q.build().execute(&mut *self).await?;
                }
                for chunk in plan.badges.chunks(APPLY_CHUNK) {
                    let mut q = sqlx::QueryBuilder::new(
                        "WITH v (id, status, session_id, risk_tier, verified_at) AS (");
                    q.push_values(chunk, |mut row, b| {
                        row.push_bind(b.candidate_id).push_bind(b.status).push_bind(b.session_id.clone())
                            .push_bind(b.risk_tier).push_bind(b.verified_at);
                    });
                    q.push(") UPDATE candidates SET verification_status = v.status, verification_updated_at = ")
                        .push_bind(now)
                        .push(", verification_session_id = v.session_id,
                             verification_risk_tier = COALESCE(v.risk_tier, candidates.verification_risk_tier),
                             verification_verified_at = v.verified_at
                         FROM v WHERE candidates.id = v.id");
                    q.build().execute(&mut *self).await?;
                }
                for chunk in plan.reviews.chunks(APPLY_CHUNK) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO review_items (candidate_id, session_id, risk_tier, provider_status, state, opened_at, deadline_at) ");
                    q.push_values(chunk, |mut row, r| {
                        row.push_bind(r.candidate_id).push_bind(r.session_id.clone()).push_bind(r.risk_tier)
                            .push_bind(r.provider_status).push("'open'").push_bind(now).push_bind(r.deadline_at);
                    });
                    q.push(" ON CONFLICT (session_id) DO NOTHING");
                    q.build().execute(&mut *self).await?;
                }
                let marks: [(&[i64], &str); 3] = [
                    (&plan.unknown, "state = 'unknown_candidate', note = 'no candidate with this id'"),
                    (&plan.stale, "state = 'stale', note = 'older than the newest applied event'"),
                    (&plan.applied, "state = 'applied'"),
                ];
                for (ids, set) in marks {
                    for chunk in ids.chunks(APPLY_CHUNK) {
                        let mut binds = super::Binds::new();
                        let at = binds.push(super::Bind::Time(now));
                        let list = binds.push_ids(chunk);
                        let sql = format!("UPDATE webhook_events SET {set}, processed_at = {at} WHERE id IN ({list})");
                        super::bind_all!(sqlx::query(&sql), &binds).execute(&mut *self).await?;
                    }
                }
                self.append_audit_many(&plan.audits).await?;
                Ok(plan.outcomes)
            }
        }
    };
}
impl_apply_verification_events!(sqlx::SqliteConnection);
impl_apply_verification_events!(sqlx::PgConnection);

/// Applies one stored event in one transaction: session, candidate badge, audit entry, event state.
pub async fn apply_event(
    db: &Db,
    event_id: i64,
    candidate_id: Option<i64>,
    details: &EventDetails,
    now: DateTime<Utc>,
    review_deadline: Option<DateTime<Utc>>,
) -> sqlx::Result<Applied> {
    let sql =
        format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE id = $1 AND state = 'pending'");
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let Some(ev) = sqlx::query_as::<_, StoredEventRow>(&sql).bind(event_id).fetch_optional(&mut *tx).await.in_table("webhook_events")? else {
            return Ok(Applied::AlreadyProcessed);
        };
        let one = ToApply {
            event_id,
            facts: EventFacts {
                webhook_id: &ev.webhook_id,
                event_type: ev.event_type,
                session_id: &ev.session_id,
                event_created_at: ev.event_created_at,
            },
            candidate_id,
            details,
            review_deadline,
        };
        let applied = tx.apply_events(std::slice::from_ref(&one), now).await?;
        tx.commit().await?;
        Ok(applied.first().copied().unwrap_or(Applied::AlreadyProcessed))
    })
}

/// One received event for `store_and_apply_batch`, with what applying it needs.
pub struct ReceivedEvent {
    pub event: InboundEvent,
    pub details: EventDetails,
    pub candidate_id: Option<i64>,
    pub review_deadline: Option<DateTime<Utc>>,
}

/// What became of one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Its webhook id (or this exact event) was stored before, earlier or earlier in the batch.
    Duplicate,
    /// Stored, and applied as far as it goes.
    Applied(Applied),
    /// Stored, but applying the batch failed (rolled back to its savepoint); the worker applies it.
    Stored,
}

/// Stores and applies events that arrived together in ONE transaction — one commit, one fsync
/// for the lot (group commit) — in a handful of statements for the lot: one insert stores them
/// all (a webhook id or exact event seen before is a duplicate), and `apply_events` applies them
/// inside a savepoint, so if applying fails they stay stored and pending for the worker. An
/// error from storing fails the whole batch, and nothing of it is kept.
pub async fn store_and_apply_batch(
    db: &Db,
    events: &[ReceivedEvent],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Ingested>> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let mut stored: HashMap<String, i64> = HashMap::with_capacity(events.len());
        for chunk in events.chunks(APPLY_CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO webhook_events (source, webhook_id, event_type, candidate_ref, session_id, event_created_at, body, state, received_at) ");
            q.push_values(chunk, |mut row, r| {
                let e = &r.event;
                row.push("'verification'").push_bind(e.webhook_id.clone()).push_bind(e.event_type)
                    .push_bind(e.candidate_ref.clone()).push_bind(e.session_id.clone()).push_bind(e.event_created_at)
                    .push_bind(e.body.clone()).push("'pending'").push_bind(now);
            });
            q.push(" ON CONFLICT DO NOTHING RETURNING webhook_id, id");
            let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
            stored.extend(rows);
        }
        // Rows go in in order, so of two events with one webhook id the first is the one stored.
        let ids: Vec<Option<i64>> = events.iter().map(|r| stored.remove(&r.event.webhook_id)).collect();
        let to_apply: Vec<ToApply<'_>> = events
            .iter()
            .zip(&ids)
            .filter_map(|(r, id)| {
                let e = &r.event;
                id.map(|event_id| ToApply {
                    event_id,
                    facts: EventFacts {
                        webhook_id: &e.webhook_id,
                        event_type: e.event_type,
                        session_id: &e.session_id,
                        event_created_at: e.event_created_at,
                    },
                    candidate_id: r.candidate_id,
                    details: &r.details,
                    review_deadline: r.review_deadline,
                })
            })
            .collect();
        // All at once; if that fails (one event whose apply raises), one at a time, so only the
        // event that fails stays pending (for the worker) and the rest of the batch is applied.
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        let outcomes: Vec<Ingested> = match savepoint.apply_events(&to_apply, now).await {
            Ok(applied) => {
                savepoint.commit().await?;
                applied.into_iter().map(Ingested::Applied).collect()
            }
            Err(err) => {
                savepoint.rollback().await?;
                tracing::warn!(error = %err, events = to_apply.len(), "applying a batch of verification webhooks failed; applying them one by one");
                let mut outcomes = Vec::with_capacity(to_apply.len());
                for one in &to_apply {
                    let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
                    match savepoint.apply_events(std::slice::from_ref(one), now).await {
                        Ok(applied) => {
                            savepoint.commit().await?;
                            outcomes.push(applied.first().copied().map_or(Ingested::Stored, Ingested::Applied));
                        }
                        Err(err) => {
                            savepoint.rollback().await?;
                            tracing::error!(error = %err, event_id = one.event_id, "stored a verification webhook but could not apply it yet");
                            outcomes.push(Ingested::Stored);
                        }
                    }
                }
                outcomes
            }
        };
        tx.commit().await?;
        let mut outcomes = outcomes.into_iter();
        Ok(ids
            .iter()
            .map(|id| match id {
                None => Ingested::Duplicate,
                Some(_) => outcomes.next().unwrap_or(Ingested::Stored),
            })
            .collect())
    })
}

/// Puts events kept for unknown candidates back in line (after an import, say).
pub async fn retry_unknown(db: &Db) -> sqlx::Result<u64> {
    let sql = "UPDATE webhook_events SET state = 'pending', note = NULL WHERE source = 'verification' AND state = 'unknown_candidate'";
    on_db!(db, p => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()))
}

pub async fn event_body(db: &Db, event_id: i64) -> sqlx::Result<Option<(String, String)>> {
    on_db!(db, p => sqlx::query_as::<_, (String, String)>("SELECT candidate_ref, body FROM webhook_events WHERE id = $1").bind(event_id).fetch_optional(p).await)
}

/// The sessions among `ids` that Clearance has, in one query (a reconciliation page at a time).
pub async fn sessions_by_ids(db: &Db, ids: &[String]) -> sqlx::Result<Vec<SessionRow>> {
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    match db {
        Db::Postgres(p) => {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM verification_sessions WHERE session_id IN (SELECT jsonb_array_elements_text($1::jsonb))");
            sqlx::query_as::<_, SessionRow>(&sql)
                .bind(list)
                .fetch_all(p)
                .await
                .in_table("verification_sessions")
        }
        Db::Sqlite(p) => {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM verification_sessions WHERE session_id IN (SELECT value FROM json_each($1))");
            sqlx::query_as::<_, SessionRow>(&sql)
                .bind(list)
                .fetch_all(p)
                .await
                .in_table("verification_sessions")
        }
    }
}

pub async fn find_session(db: &Db, session_id: &str) -> sqlx::Result<Option<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM verification_sessions WHERE session_id = $1");
    on_db!(db, p => sqlx::query_as::<_, SessionRow>(&sql).bind(session_id).fetch_optional(p).await)
        .in_table("verification_sessions")
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    /// An event as a test writes it: (candidate, session, type, created minute, risk).
    type Ev = (i64, String, VerificationEventType, i64, Option<RiskTier>);

    fn to_apply<'a>(evs: &'a [Ev], details: &'a [EventDetails]) -> Vec<ToApply<'a>> {
        evs.iter()
            .zip(details)
            .enumerate()
            .map(|(i, ((candidate, session, kind, at, _), d))| ToApply {
                event_id: i as i64 + 1,
                facts: EventFacts {
                    webhook_id: "msg",
                    event_type: *kind,
                    session_id: session,
                    event_created_at: t(*at),
                },
                candidate_id: Some(*candidate),
                details: d,
                review_deadline: Some(t(600)),
            })
            .collect()
    }

    fn details(evs: &[Ev]) -> Vec<EventDetails> {
        evs.iter()
            .map(|(.., risk)| EventDetails {
                risk_tier: *risk,
                reason_codes: risk
                    .map(|r| vec![r.as_str().to_string()])
                    .unwrap_or_default(),
                evidence_pack_url: risk.map(|r| format!("https://evidence/{}", r.as_str())),
                policy_name: None,
            })
            .collect()
    }

    /// A session row: (candidate, status, risk, codes, evidence, last event at, type, insert order).
    type ModelSession = (
        i64,
        VerificationStatus,
        Option<RiskTier>,
        Vec<String>,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<VerificationEventType>,
        usize,
    );

    /// A candidate's badge: (status, session, risk, verified at).
    type ModelBadge = (
        VerificationStatus,
        String,
        Option<RiskTier>,
        Option<DateTime<Utc>>,
    );

    /// The database as far as applying events goes, written the way the statements write it.
    #[derive(Debug, Clone, Default, PartialEq)]
    struct Model {
        sessions: HashMap<String, ModelSession>,
        badges: HashMap<i64, ModelBadge>,
        reviews: Vec<(String, VerificationStatus)>,
        states: HashMap<i64, &'static str>,
        audits: usize,
        inserted: usize,
    }

    impl Model {
        fn found(&self, candidates: &[i64]) -> Found {
            let mut found = Found::default();
            for c in candidates {
                let newest = self
                    .sessions
                    .iter()
                    .filter(|(_, s)| s.0 == *c)
                    .max_by_key(|(_, s)| s.7)
                    .map(|(id, _)| (id.clone(), t(0)));
                found.candidates.insert(*c, newest);
            }
            for (id, s) in &self.sessions {
                found.sessions.insert(
                    id.clone(),
                    SessionState {
                        candidate_id: s.0,
                        status: s.1,
                        last_event_at: s.5,
                    },
                );
            }
            found
        }

        fn write(&mut self, plan: &Plan) {
            for w in &plan.sessions {
                let order = self.inserted;
                let s = self
                    .sessions
                    .entry(w.session_id.clone())
                    .or_insert_with(|| {
                        (
                            w.candidate_id,
                            VerificationStatus::NotStarted,
                            None,
                            vec![],
                            None,
                            None,
                            None,
                            order,
                        )
                    });
                if s.7 == order {
                    self.inserted += 1;
                }
                s.1 = w.status;
                s.2 = w.risk_tier.or(s.2);
                s.3 = w.reason_codes.clone();
                s.4 = w.evidence_pack_url.clone().or(s.4.take());
                s.5 = Some(w.last_event_at);
                s.6 = Some(w.last_event_type);
            }
            for b in &plan.badges {
                let old_risk = self.badges.get(&b.candidate_id).and_then(|x| x.2);
                self.badges.insert(
                    b.candidate_id,
                    (
                        b.status,
                        b.session_id.clone(),
                        b.risk_tier.or(old_risk),
                        b.verified_at,
                    ),
                );
            }
            for r in &plan.reviews {
                if !self.reviews.iter().any(|(s, _)| *s == r.session_id) {
                    self.reviews.push((r.session_id.clone(), r.provider_status));
                }
            }
            for (ids, state) in [
                (&plan.unknown, "unknown"),
                (&plan.stale, "stale"),
                (&plan.applied, "applied"),
            ] {
                for id in ids {
                    self.states.insert(*id, state);
                }
            }
            self.audits += plan.audits.len();
        }
    }

    #[test]
    fn a_batch_writes_what_the_same_events_one_by_one_write() {
        let kinds = VerificationEventType::ALL;
        let mut rng = StdRng::seed_from_u64(13);
        for case in 0..2_000 {
            let n = rng.gen_range(1..12);
            let evs: Vec<Ev> = (0..n)
                .map(|_| {
                    (
                        rng.gen_range(1..4),
                        format!("s{}", rng.gen_range(0..4)),
                        kinds[rng.gen_range(0..kinds.len())],
                        rng.gen_range(0..4),
                        [None, Some(RiskTier::Low), Some(RiskTier::High)][rng.gen_range(0..3)],
                    )
                })
                .collect();
            let ds = details(&evs);
            let events = to_apply(&evs, &ds);
            // Candidate 3 is not in the database.
            let known = [1, 2];
            let mut start = Model::default();
            if case % 2 == 0 {
                // Some history: candidate 1 already has session s0, verified at minute 2.
                start.sessions.insert(
                    "s0".into(),
                    (
                        1,
                        VerificationStatus::Verified,
                        Some(RiskTier::Low),
                        vec![],
                        None,
                        Some(t(2)),
                        None,
                        0,
                    ),
                );
                start.inserted = 1;
                start.badges.insert(
                    1,
                    (
                        VerificationStatus::Verified,
                        "s0".into(),
                        Some(RiskTier::Low),
                        Some(t(2)),
                    ),
                );
            }
            let mut batch = start.clone();
            let plan = plan_batch(&events, batch.found(&known), t(1));
            batch.write(&plan);
            let mut one_by_one = start.clone();
            let mut outcomes = Vec::new();
            for e in &events {
                let plan = plan_batch(std::slice::from_ref(e), one_by_one.found(&known), t(1));
                outcomes.extend(plan.outcomes.iter().copied());
                one_by_one.write(&plan);
            }
            assert_eq!(plan.outcomes, outcomes, "case {case}: {evs:?}");
            assert_eq!(batch, one_by_one, "case {case}: {evs:?}");
        }
    }

    #[test]
    fn one_write_per_session_and_badge_with_the_last_event_and_the_last_risk_given() {
        let evs: Vec<Ev> = vec![
            (
                1,
                "s1".into(),
                VerificationEventType::Started,
                1,
                Some(RiskTier::High),
            ),
            (1, "s1".into(), VerificationEventType::NeedsReview, 2, None),
            (1, "s1".into(), VerificationEventType::NeedsReview, 3, None),
        ];
        let ds = details(&evs);
        let mut found = Found::default();
        found.candidates.insert(1, None);
        let plan = plan_batch(&to_apply(&evs, &ds), found, t(5));
        assert_eq!(plan.outcomes, vec![Applied::Applied; 3]);
        assert_eq!(plan.sessions.len(), 1);
        assert_eq!(plan.sessions[0].status, VerificationStatus::NeedsReview);
        assert_eq!(plan.sessions[0].risk_tier, Some(RiskTier::High));
        assert_eq!(plan.sessions[0].last_event_at, t(3));
        assert_eq!(plan.badges.len(), 1);
        assert_eq!(plan.badges[0].risk_tier, Some(RiskTier::High));
        // One review item for the session, however often its result arrives.
        assert_eq!(plan.reviews.len(), 1);
        assert_eq!(plan.audits.len(), 3);
    }

    #[test]
    fn unknown_candidates_stale_events_and_older_sessions_leave_the_badge_alone() {
        let evs: Vec<Ev> = vec![
            (9, "s9".into(), VerificationEventType::Completed, 5, None),
            (1, "old".into(), VerificationEventType::Completed, 1, None),
            (1, "old".into(), VerificationEventType::Failed, 9, None),
        ];
        let ds = details(&evs);
        let mut found = Found::default();
        found.candidates.insert(1, Some(("new".into(), t(0))));
        found.sessions.insert(
            "old".into(),
            SessionState {
                candidate_id: 1,
                status: VerificationStatus::InProgress,
                last_event_at: Some(t(4)),
            },
        );
        let plan = plan_batch(&to_apply(&evs, &ds), found, t(10));
        assert_eq!(
            plan.outcomes,
            vec![Applied::UnknownCandidate, Applied::Stale, Applied::Applied]
        );
        assert_eq!(
            (plan.unknown, plan.stale, plan.applied),
            (vec![1], vec![2], vec![3])
        );
        // The old session moves; the badge follows the newest session only, so nothing opens.
        assert_eq!(plan.sessions.len(), 1);
        assert!(plan.badges.is_empty());
        assert!(plan.reviews.is_empty());
    }
}

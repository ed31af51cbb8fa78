//! Verification sessions and the webhook events that move them.
use super::{audit::AuditAppend, jobs::Enqueue, on_db, BeginWrite, Db, Origin};
use crate::model::{
    event_applies, AuditEventType, EventState, RiskTier, VerificationEventType, VerificationStatus,
};
use crate::server::audit::{Actor, NewAuditEvent};
use chrono::{DateTime, Utc};

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
            "SELECT subject FROM delivery_jobs WHERE kind = 'verification.create_session'
             AND state IN ('pending', 'running') AND subject IN ({list})"
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

/// Applying a stored event on an open transaction of either backend (its caller commits).
pub trait ApplyVerificationEvent {
    /// Session, candidate badge, review item, audit entry and the event's state, for one stored event.
    fn apply_verification_event(
        &mut self,
        event_id: i64,
        candidate_id: Option<i64>,
        details: &EventDetails,
        now: DateTime<Utc>,
        review_deadline: Option<DateTime<Utc>>,
    ) -> impl std::future::Future<Output = sqlx::Result<Applied>> + Send;

    /// The same for an event stored moments ago in this transaction, whose facts the caller holds,
    /// leaving two steps to the caller so a batch does each once for all its events: the audit
    /// entry to append (returned when applied) and marking the event `applied`.
    fn apply_event_facts(
        &mut self,
        event_id: i64,
        ev: &EventFacts<'_>,
        candidate_id: Option<i64>,
        details: &EventDetails,
        now: DateTime<Utc>,
        review_deadline: Option<DateTime<Utc>>,
    ) -> impl std::future::Future<Output = sqlx::Result<(Applied, Option<NewAuditEvent>)>> + Send;
}

macro_rules! impl_apply_verification_event {
    ($conn:ty) => {
        impl ApplyVerificationEvent for $conn {
            async fn apply_verification_event(
                &mut self,
                event_id: i64,
                candidate_id: Option<i64>,
                details: &EventDetails,
                now: DateTime<Utc>,
                review_deadline: Option<DateTime<Utc>>,
            ) -> sqlx::Result<Applied> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE id = $1 AND state = 'pending'");
        let Some(ev) = sqlx::query_as::<_, StoredEventRow>(&sql).bind(event_id).fetch_optional(&mut *self).await.in_table("webhook_events")? else {
            return Ok(Applied::AlreadyProcessed);
        };
        let facts = EventFacts {
            webhook_id: &ev.webhook_id,
            event_type: ev.event_type,
            session_id: &ev.session_id,
            event_created_at: ev.event_created_at,
        };
        let (applied, audit) = self.apply_event_facts(event_id, &facts, candidate_id, details, now, review_deadline).await?;
        if let Some(audit) = audit {
            self.append_audit(&audit).await?;
            sqlx::query("UPDATE webhook_events SET state = 'applied', processed_at = $2 WHERE id = $1").bind(event_id).bind(now).execute(&mut *self).await?;
        }
        Ok(applied)
            }

            async fn apply_event_facts(
                &mut self,
                event_id: i64,
                ev: &EventFacts<'_>,
                candidate_id: Option<i64>,
                details: &EventDetails,
                now: DateTime<Utc>,
                review_deadline: Option<DateTime<Utc>>,
            ) -> sqlx::Result<(Applied, Option<NewAuditEvent>)> {
        // The candidate and its newest session (which alone drives the badge), in one statement.
        let known = match candidate_id {
            Some(id) => sqlx::query_as::<_, (i64, Option<String>, Option<DateTime<Utc>>)>(
                // `s.candidate_id = c.id` lets PostgreSQL reach s through the candidate's index;
                // joined on the subquery alone it hashed every session, per event.
                "SELECT c.id, s.session_id, s.created_at FROM candidates c
                 LEFT JOIN verification_sessions s ON s.candidate_id = c.id AND s.id = (
                     SELECT id FROM verification_sessions WHERE candidate_id = c.id ORDER BY created_at DESC, id DESC LIMIT 1)
                 WHERE c.id = $1")
                .bind(id).fetch_optional(&mut *self).await?,
            None => None,
        };
        let Some((candidate_id, newest, newest_created_at)) = known else {
            sqlx::query("UPDATE webhook_events SET state = 'unknown_candidate', processed_at = $2, note = 'no candidate with this id' WHERE id = $1")
                .bind(event_id).bind(now).execute(&mut *self).await?;
            return Ok((Applied::UnknownCandidate, None));
        };
        let event_type = ev.event_type;
        let new_status = event_type.status();
        let session_sql = format!("SELECT {SESSION_COLUMNS} FROM verification_sessions WHERE session_id = $1");
        let (session, created_now) = match sqlx::query_as::<_, SessionRow>(&session_sql).bind(ev.session_id).fetch_optional(&mut *self).await.in_table("verification_sessions")? {
            Some(s) => (s, false),
            None => {
                let s = sqlx::query_as::<_, SessionRow>(&format!(
                    "INSERT INTO verification_sessions (session_id, candidate_id, status, created_at, updated_at) VALUES ($1, $2, 'not_started', $3, $3) RETURNING {SESSION_COLUMNS}"))
                    .bind(ev.session_id).bind(candidate_id).bind(now).fetch_one(&mut *self).await?;
                (s, true)
            }
        };
        let current = session.status;
        if !event_applies(current, session.last_event_at, new_status, ev.event_created_at) {
            sqlx::query("UPDATE webhook_events SET state = 'stale', processed_at = $2, note = 'older than the newest applied event' WHERE id = $1")
                .bind(event_id).bind(now).execute(&mut *self).await?;
            return Ok((Applied::Stale, None));
        }
        let reason_codes = serde_json::to_string(&details.reason_codes).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "UPDATE verification_sessions SET status = $2, risk_tier = COALESCE($3, risk_tier), reason_codes = $4,
                 evidence_pack_url = COALESCE($5, evidence_pack_url), policy_name = COALESCE($6, policy_name),
                 last_event_at = $7, last_event_type = $8, updated_at = $9
             WHERE session_id = $1")
            .bind(ev.session_id).bind(new_status.as_str()).bind(&details.risk_tier).bind(&reason_codes)
            .bind(&details.evidence_pack_url).bind(&details.policy_name).bind(ev.event_created_at).bind(event_type.as_str()).bind(now)
            .execute(&mut *self).await?;
        // Only the candidate's newest session drives the badge; a newer one supersedes older ones.
        // A session created just now has a higher id than any read before its insert, so
        // (ordered by created_at, then id) it is the newest unless another was created after now.
        let is_newest = if created_now {
            newest_created_at.is_none_or(|at| at <= now)
        } else {
            newest.as_deref() == Some(ev.session_id)
        };
        if is_newest {
            let verified_at = (new_status == VerificationStatus::Verified).then_some(ev.event_created_at);
            sqlx::query(
                "UPDATE candidates SET verification_status = $2, verification_updated_at = $3, verification_session_id = $4,
                     verification_risk_tier = COALESCE($5, verification_risk_tier), verification_verified_at = $6
                 WHERE id = $1")
                .bind(candidate_id).bind(new_status.as_str()).bind(now).bind(ev.session_id)
                .bind(&details.risk_tier).bind(verified_at)
                .execute(&mut *self).await?;
            // A result a person must look at opens one review item per session, however often it arrives.
            if matches!(new_status, VerificationStatus::NeedsReview | VerificationStatus::Failed) {
                sqlx::query(
                    "INSERT INTO review_items (candidate_id, session_id, risk_tier, provider_status, state, opened_at, deadline_at)
                     VALUES ($1, $2, $3, $4, 'open', $5, $6) ON CONFLICT (session_id) DO NOTHING")
                    .bind(candidate_id).bind(ev.session_id).bind(&details.risk_tier).bind(new_status.as_str()).bind(now).bind(review_deadline)
                    .execute(&mut *self).await?;
            }
        }
        let audit_type = if event_type == VerificationEventType::Started { AuditEventType::VerificationStarted } else { AuditEventType::VerificationCompleted };
        let audit = NewAuditEvent::new(
            Actor::Partner("identity verification provider".into()),
            "candidate",
            candidate_id,
            audit_type,
            serde_json::json!({
                "session_id": ev.session_id,
                "event": event_type.as_str(),
                "status": new_status.as_str(),
                "risk_tier": details.risk_tier,
                "reason_codes": details.reason_codes,
                "evidence_pack_url": details.evidence_pack_url,
                "webhook_id": ev.webhook_id,
                "event_created_at": ev.event_created_at,
            }),
        );
        Ok((Applied::Applied, Some(audit)))
            }
        }
    };
}
impl_apply_verification_event!(sqlx::SqliteConnection);
impl_apply_verification_event!(sqlx::PgConnection);

/// Applies one stored event in one transaction: session, candidate badge, audit entry, event state.
pub async fn apply_event(
    db: &Db,
    event_id: i64,
    candidate_id: Option<i64>,
    details: &EventDetails,
    now: DateTime<Utc>,
    review_deadline: Option<DateTime<Utc>>,
) -> sqlx::Result<Applied> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let applied = tx.apply_verification_event(event_id, candidate_id, details, now, review_deadline).await?;
        tx.commit().await?;
        Ok(applied)
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
    /// Its webhook id was stored before (earlier, or earlier in the same batch).
    Duplicate,
    /// Stored, and applied as far as it goes.
    Applied(Applied),
    /// Stored, but applying it failed (rolled back to its savepoint); the worker applies it later.
    Stored,
}

/// Stores and applies events that arrived together in ONE transaction — one commit, one fsync
/// for the lot (group commit). Each event is applied inside a savepoint, so one that cannot be
/// applied stays stored and pending without undoing the others. An error from storing fails the
/// whole batch, and nothing of it is kept.
pub async fn store_and_apply_batch(
    db: &Db,
    events: &[ReceivedEvent],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Ingested>> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let mut out = Vec::with_capacity(events.len());
        let (mut audits, mut applied_ids) = (Vec::new(), Vec::<i64>::new());
        for r in events {
            let e = &r.event;
            let stored = sqlx::query_scalar::<_, i64>(STORE_EVENT_SQL)
                .bind(&e.webhook_id).bind(e.event_type.as_str()).bind(&e.candidate_ref).bind(&e.session_id)
                .bind(e.event_created_at).bind(&e.body).bind(now)
                .fetch_optional(&mut *tx).await?;
            let Some(id) = stored else {
                out.push(Ingested::Duplicate);
                continue;
            };
            let facts = EventFacts {
                webhook_id: &e.webhook_id,
                event_type: e.event_type,
                session_id: &e.session_id,
                event_created_at: e.event_created_at,
            };
            let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
            match savepoint.apply_event_facts(id, &facts, r.candidate_id, &r.details, now, r.review_deadline).await {
                Ok((applied, audit)) => {
                    savepoint.commit().await?;
                    if let Some(audit) = audit {
                        audits.push(audit);
                        applied_ids.push(id);
                    }
                    out.push(Ingested::Applied(applied));
                }
                Err(err) => {
                    savepoint.rollback().await?;
                    tracing::error!(error = %err, event_id = id, "stored a verification webhook but could not apply it yet");
                    out.push(Ingested::Stored);
                }
            }
        }
        // Once for the whole batch: the audit entries (one head update, one insert) and the
        // applied events' state.
        tx.append_audit_many(&audits).await?;
        if !applied_ids.is_empty() {
            let mut mark = sqlx::QueryBuilder::new("UPDATE webhook_events SET state = 'applied', processed_at = ");
            mark.push_bind(now).push(" WHERE id IN (");
            let mut ids = mark.separated(", ");
            for id in &applied_ids {
                ids.push_bind(*id);
            }
            ids.push_unseparated(")");
            mark.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
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

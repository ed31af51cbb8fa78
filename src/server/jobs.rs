//! The delivery worker: claims due jobs with a lease, calls partners outside any transaction,
//! records every attempt, retries with exponential backoff and jitter, dead-letters at the end.
use crate::model::JobKind;
use crate::server::clock;
use crate::server::db::{self, jobs::Attempt};
use crate::server::partners::CallError;
use crate::server::services;
use crate::server::state::AppState;
use chrono::{Duration as ChronoDuration, Utc};
use rand::Rng;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long a claimed job is ours before another worker may take it over.
pub const LEASE: ChronoDuration = ChronoDuration::seconds(60);

/// Delay before attempt `attempt + 1`: base · 2^(attempt-1), at most ten minutes, ±20 % jitter;
/// a partner's Retry-After wins when it asks for longer.
pub fn backoff(
    base: Duration,
    attempt: i64,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let exp = base.saturating_mul(2u32.saturating_pow((attempt.max(1) - 1).min(20) as u32));
    let capped = exp.min(Duration::from_secs(600));
    let jittered = capped.mul_f64((1.0 + jitter.clamp(-0.2, 0.2)).max(0.0));
    match retry_after {
        Some(ra) if ra > jittered => ra,
        _ => jittered,
    }
}

/// When a retry is due: `delay` after `now`, checked (never a panic on an absurd delay; at most a day).
pub fn retry_at(now: chrono::DateTime<Utc>, delay: Duration) -> chrono::DateTime<Utc> {
    let delay = ChronoDuration::from_std(delay)
        .unwrap_or(ChronoDuration::days(1))
        .min(ChronoDuration::days(1));
    now.checked_add_signed(delay).unwrap_or(now)
}

/// Runs one due job if there is one; returns whether it did.
pub async fn run_once(state: &AppState) -> anyhow::Result<bool> {
    let now = clock::now();
    let Some(job) = db::jobs::claim(&state.db, now, LEASE).await? else {
        return Ok(false);
    };
    // The span follows the job's future (an entered guard held across awaits corrupts spans
    // when the task moves between threads).
    let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
    run_claimed(state, job, now).instrument(span).await?;
    Ok(true)
}

/// Sends one claimed job, records the attempt, and reschedules, completes or dead-letters it.
async fn run_claimed(
    state: &AppState,
    job: db::jobs::JobRow,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // A kind this version does not know is dead-lettered with its name (never retried, and
    // never a stuck queue).
    let kind = job.kind.parse::<JobKind>();
    let result = match &kind {
        Ok(JobKind::CreateVerificationSession) => {
            services::verification::create_session_job(state, &job).await
        }
        Ok(JobKind::OrderBackgroundCheck) => services::background::order_job(state, &job).await,
        Ok(JobKind::AnnounceInterview | JobKind::CancelInterview) => {
            services::integrity::job(state, &job).await
        }
        Ok(JobKind::SendNotice) => services::adverse::notice_job(state, &job).await,
        Ok(JobKind::SendAlert) => services::alerts::send_job(state, &job).await,
        Err(e) => Err(CallError::Final {
            status: None,
            detail: format!("delivery_jobs.kind: {e}"),
        }),
    };
    let latency_ms = started.elapsed().as_millis() as i64;
    let done_at = clock::now();
    let retry =
        matches!(result, Err(CallError::Retryable { .. })) && job.attempts < job.max_attempts;
    let (outcome, detail, status) = match &result {
        Ok(detail) => ("delivered", detail.clone(), None),
        Err(e) => (
            if retry { "will retry" } else { "gave up" },
            e.detail().to_string(),
            e.status(),
        ),
    };
    metrics::counter!(
        services::metrics::DELIVERY_ATTEMPTS,
        "kind" => job.kind.clone(),
        "result" => outcome.replace(' ', "_"),
    )
    .increment(1);
    db::jobs::record_attempt(
        &state.db,
        job.id,
        &Attempt {
            attempt: job.attempts,
            started_at: now,
            latency_ms,
            http_status: status.map(i64::from),
            outcome: outcome.into(),
            detail: detail.clone(),
        },
    )
    .await?;
    match result {
        Ok(_) => db::jobs::mark_done(&state.db, job.id, done_at).await?,
        Err(CallError::Retryable { retry_after, .. }) if retry => {
            let jitter = rand::thread_rng().gen_range(-0.2..=0.2);
            let delay = backoff(state.config.retry_base, job.attempts, retry_after, jitter);
            let run_at = retry_at(done_at, delay);
            tracing::warn!(delay_ms = delay.as_millis() as u64, %detail, "delivery failed, will retry");
            db::jobs::reschedule(&state.db, job.id, run_at, &detail, done_at).await?;
        }
        Err(_) => {
            tracing::error!(%detail, "delivery dead-lettered");
            db::jobs::mark_dead(&state.db, job.id, &detail, done_at).await?;
            services::deliveries::dead_lettered(state, &job, &detail).await?;
            services::alerts::delivery_dead_lettered(&state.db, &job, status, &detail).await;
            if kind == Ok(JobKind::SendNotice) {
                services::adverse::notice_job_ended(state, &job, &detail).await?;
            }
            if kind == Ok(JobKind::OrderBackgroundCheck) {
                let exhausted = matches!(result, Err(CallError::Retryable { .. }));
                services::background::order_job_ended(state, &job, &detail, exhausted).await?;
            }
        }
    }
    Ok(())
}

/// Runs every job that is due now (and webhook events left pending); for tests and the CLI.
pub async fn run_until_empty(state: &AppState) -> anyhow::Result<usize> {
    run_round(state, &CancellationToken::new()).await
}

/// One round of the worker: pending webhook events, SLA breaches and lapsed exceptions, then due
/// jobs one at a time until none is left or `stop` is cancelled (the job in hand is finished and
/// recorded first).
async fn run_round(state: &AppState, stop: &CancellationToken) -> anyhow::Result<usize> {
    let mut n = 0;
    services::verification::apply_pending(&state.db, &state.config.business_calendar).await?;
    services::review::log_breaches(&state.db, &state.config.business_calendar, clock::now())
        .await?;
    services::policy::log_lapsed_exceptions(&state.db, clock::now()).await?;
    services::adverse::send_due_final_notices(state).await?;
    while !stop.is_cancelled() && run_once(state).await? {
        n += 1;
    }
    Ok(n)
}

/// The background worker until shutdown: a round as soon as a job is queued (on any instance,
/// `db::jobs::queued`), and every `worker_poll` for what comes due later (retries, deadlines).
pub fn spawn_worker(state: AppState) {
    let tasks = state.tasks.clone();
    if let db::Db::Postgres(pool) = &state.db {
        let (pool, stop) = (pool.clone(), tasks.stopping());
        tasks.spawn(async move { db::jobs::relay_notifications(&pool, stop).await });
    }
    tasks.clone().spawn(async move {
        let mut queued = db::jobs::queued();
        loop {
            // What is queued from here on is this round's or wakes the next.
            queued.borrow_and_update();
            // Each round runs in its own task: a panic in one job is logged, deliveries go on.
            let (round, stop) = (state.clone(), tasks.stopping());
            match tokio::spawn(async move { run_round(&round, &stop).await }).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "job worker error"),
                Err(e) => tracing::error!(error = %e, "job worker round panicked; continuing"),
            }
            let go_on = tokio::select! {
                go_on = tasks.pause(state.config.worker_poll) => go_on,
                _ = queued.changed() => !tasks.stopping().is_cancelled(),
            };
            if !go_on {
                tracing::info!("delivery worker stopped");
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_times_are_checked() {
        let now = clock::now();
        assert_eq!(
            retry_at(now, Duration::from_secs(30)),
            now + ChronoDuration::seconds(30)
        );
        assert_eq!(retry_at(now, Duration::MAX), now + ChronoDuration::days(1));
        let end = chrono::DateTime::<Utc>::MAX_UTC;
        assert_eq!(retry_at(end, Duration::from_secs(1)), end);
    }

    #[test]
    fn backoff_doubles_caps_and_honours_retry_after() {
        let base = Duration::from_secs(2);
        assert_eq!(backoff(base, 1, None, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(base, 2, None, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(base, 4, None, 0.0), Duration::from_secs(16));
        assert_eq!(backoff(base, 30, None, 0.0), Duration::from_secs(600));
        assert_eq!(backoff(base, 1, None, 0.2), Duration::from_millis(2400));
        assert_eq!(
            backoff(base, 1, None, 5.0),
            Duration::from_millis(2400),
            "jitter is clamped"
        );
        assert_eq!(
            backoff(base, 1, Some(Duration::from_secs(30)), 0.0),
            Duration::from_secs(30)
        );
        assert_eq!(
            backoff(base, 3, Some(Duration::from_secs(1)), 0.0),
            Duration::from_secs(8)
        );
    }
}

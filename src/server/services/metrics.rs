//! The gauges `/metrics` reads from the database at each scrape, and the names of every metric
//! Clearance records (one place, so the dashboards and the README name the same things).
use crate::model::{JobKind, JobState, RiskTier};
use crate::server::clock;
use crate::server::db::{self, Db};

pub const HTTP_REQUESTS: &str = "clearance_http_requests_total";
pub const HTTP_DURATION: &str = "clearance_http_request_duration_seconds";
pub const WEBHOOKS_RECEIVED: &str = "clearance_webhooks_received_total";
pub const DELIVERY_ATTEMPTS: &str = "clearance_delivery_attempts_total";
pub const DELIVERY_JOBS: &str = "clearance_delivery_jobs";
pub const REVIEW_OPEN: &str = "clearance_review_items_open";
pub const REVIEW_BREACHED: &str = "clearance_review_items_breached";
pub const RECONCILIATION_RUNS: &str = "clearance_reconciliation_runs_total";
pub const DRIFT_FOUND: &str = "clearance_reconciliation_drift_found_total";
pub const DRIFT_FIXED: &str = "clearance_reconciliation_drift_fixed_total";
pub const LOGIN_FAILURES: &str = "clearance_login_failures_total";
pub const LOGIN_THROTTLED: &str = "clearance_login_throttled_total";
pub const AUDIT_CHAIN_LENGTH: &str = "clearance_audit_chain_length";

/// Help texts, written once when the recorder is installed.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
    describe_counter!(WEBHOOKS_RECEIVED, "Partner webhooks received, by source and outcome (applied, stored, duplicate, stale, unknown, refused, failed)");
    describe_counter!(
        DELIVERY_ATTEMPTS,
        "Outbound delivery attempts, by job kind and result (delivered, will_retry, gave_up)"
    );
    describe_gauge!(
        DELIVERY_JOBS,
        "Delivery jobs not yet delivered, by kind and state (queued, in_flight, dead_lettered)"
    );
    describe_gauge!(REVIEW_OPEN, "Review items open, by risk tier");
    describe_gauge!(
        REVIEW_BREACHED,
        "Open review items past their SLA deadline, by risk tier"
    );
    describe_counter!(
        RECONCILIATION_RUNS,
        "Reconciliation runs, by trigger and result (completed, failed, skipped)"
    );
    describe_counter!(
        DRIFT_FOUND,
        "Sessions found drifted from the provider by reconciliation"
    );
    describe_counter!(DRIFT_FIXED, "Drifted sessions fixed by reconciliation");
    describe_counter!(
        LOGIN_FAILURES,
        "Sign-ins refused for a wrong email or password"
    );
    describe_counter!(
        LOGIN_THROTTLED,
        "Sign-ins refused because too many failed from that address or for that account"
    );
    describe_gauge!(
        AUDIT_CHAIN_LENGTH,
        "Entries in the tamper-evident audit chain"
    );
}

/// How a delivery job's state is named in metrics: what an on-call engineer asks about.
fn job_state_label(state: JobState) -> Option<&'static str> {
    match state {
        JobState::Pending => Some("queued"),
        JobState::Running => Some("in_flight"),
        JobState::Dead => Some("dead_lettered"),
        JobState::Done => None,
    }
}

fn tier_label(tier: Option<RiskTier>) -> &'static str {
    tier.map(RiskTier::as_str).unwrap_or("none")
}

/// Sets the database gauges from one read of each. Every known kind, state and tier is set,
/// zero when nothing is there, so a queue that drained reads 0 rather than its last value.
pub async fn refresh_gauges(db: &Db) -> sqlx::Result<()> {
    let now = clock::now();
    let jobs = db::metrics::unfinished_jobs(db).await?;
    let reviews = db::metrics::open_review_items(db, now).await?;
    let chain = db::metrics::audit_chain_length(db).await?;

    for kind in JobKind::ALL {
        for state in JobState::ALL {
            if let Some(label) = job_state_label(state) {
                let count = jobs
                    .iter()
                    .filter(|j| j.kind == kind.as_str() && j.state == state)
                    .map(|j| j.count)
                    .sum::<i64>();
                metrics::gauge!(DELIVERY_JOBS, "kind" => kind.as_str(), "state" => label)
                    .set(count as f64);
            }
        }
    }
    // Kinds this version does not know (written by a newer one) are shown under their own name.
    for j in jobs.iter().filter(|j| j.kind.parse::<JobKind>().is_err()) {
        if let Some(label) = job_state_label(j.state) {
            metrics::gauge!(DELIVERY_JOBS, "kind" => j.kind.clone(), "state" => label)
                .set(j.count as f64);
        }
    }
    let tiers = RiskTier::ALL.into_iter().map(Some).chain([None]);
    for tier in tiers {
        let row = reviews.iter().find(|r| r.risk_tier == tier);
        let label = tier_label(tier);
        metrics::gauge!(REVIEW_OPEN, "tier" => label).set(row.map_or(0, |r| r.open) as f64);
        metrics::gauge!(REVIEW_BREACHED, "tier" => label).set(row.map_or(0, |r| r.breached) as f64);
    }
    metrics::gauge!(AUDIT_CHAIN_LENGTH).set(chain as f64);
    Ok(())
}

/// A partner webhook's outcome, counted by source.
pub fn webhook_received(source: &'static str, outcome: &'static str) {
    metrics::counter!(WEBHOOKS_RECEIVED, "source" => source, "outcome" => outcome).increment(1);
}

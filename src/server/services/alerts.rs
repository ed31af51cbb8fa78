//! Alerts to Support (seed 002): when a delivery is dead-lettered, a review item passes its SLA, a
//! reconciliation run fails or finds drift above the threshold, or the audit chain fails
//! verification, an alert goes to the destinations an admin set on the Settings page — a
//! Slack-compatible incoming webhook and/or a signed JSON webhook — through the durable delivery
//! jobs, so alerts retry like any delivery. The same thing alerted again within the hour is counted
//! on the first alert, not sent again.
use crate::error::AppError;
use crate::model::{
    AlertKind, AlertSettingsView, AlertSummary, AuditEventType, CurrentUser, JobKind, Permission,
};
use crate::server::audit::{Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{self, alerts::NewAlert, alerts::Raised, jobs::JobRow, Db};
use crate::server::partners::{self, signature, CallError};
use crate::server::secrets::{self, purpose};
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};

/// Repeats of one thing within this long are grouped on the first alert.
pub const GROUP_WINDOW: Duration = Duration::hours(1);

/// Attempts of an alert's delivery before it is dead-lettered (which itself raises no alert).
pub const MAX_ATTEMPTS: i64 = 8;

/// The default drift threshold: a run that finds this many drifted sessions alerts.
pub const DEFAULT_DRIFT_THRESHOLD: i64 = 10;

/// What an alert says, before it is raised.
struct Alert<'a> {
    kind: AlertKind,
    group_key: String,
    summary: String,
    /// The page an engineer opens first (a path on Clearance).
    page: &'a str,
    runbook: &'a str,
    facts: serde_json::Value,
}

/// Raises an alert; a failure to raise it is logged, never passed to what triggered it (a
/// dead-lettered delivery is recorded whether or not Support hears of it).
async fn raise(db: &Db, alert: Alert<'_>) -> Option<Raised> {
    let details = serde_json::json!({
        "page": alert.page,
        "runbook": alert.runbook,
        "facts": alert.facts,
    });
    let new = NewAlert {
        group_key: alert.group_key,
        kind: alert.kind,
        summary: alert.summary,
        details: details.to_string(),
    };
    let now = clock::now();
    match db::alerts::raise(db, &new, now, now - GROUP_WINDOW, MAX_ATTEMPTS).await {
        Ok(raised) => {
            tracing::info!(kind = %new.kind, group = %new.group_key, ?raised, "alert raised");
            Some(raised)
        }
        Err(e) => {
            tracing::error!(error = %e, kind = %new.kind, "could not raise an alert");
            None
        }
    }
}

/// A delivery job was dead-lettered: candidate, session or order, event type, last HTTP status.
/// Alerts about alerts are not raised (a broken destination would alert itself forever).
pub async fn delivery_dead_lettered(
    db: &Db,
    job: &JobRow,
    last_status: Option<u16>,
    detail: &str,
) -> Option<Raised> {
    if job.kind == JobKind::SendAlert.as_str() {
        return None;
    }
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    let from_payload = |key: &str| payload.get(key).filter(|v| !v.is_null()).cloned();
    let candidate_id = job
        .subject
        .as_deref()
        .and_then(|s| s.strip_prefix("candidate:"))
        .and_then(|id| id.parse::<i64>().ok())
        .map(serde_json::Value::from)
        .or_else(|| from_payload("candidate_id"));
    let kind_label = job
        .kind
        .parse::<JobKind>()
        .map(JobKind::label)
        .unwrap_or("Unknown delivery");
    let subject = job
        .subject
        .clone()
        .unwrap_or_else(|| format!("job:{}", job.id));
    raise(
        db,
        Alert {
            kind: AlertKind::DeliveryDeadLettered,
            group_key: format!("dead_letter:{}:{subject}", job.kind),
            summary: format!(
                "{kind_label} was dead-lettered after {} attempts{}",
                job.attempts,
                last_status
                    .map(|s| format!(" (last answer HTTP {s})"))
                    .unwrap_or_default()
            ),
            page: "/deliveries",
            runbook:
                "Open Deliveries, read the last attempt's error, fix the cause (partner down, \
                      credentials on the Partners page, a refused request), then press Replay.",
            facts: serde_json::json!({
                "candidate_id": candidate_id,
                "session_id": from_payload("session_id"),
                "order_id": from_payload("order_id"),
                "interview_id": from_payload("interview_id"),
                "event_type": job.kind,
                "job_id": job.id,
                "attempts": job.attempts,
                "last_http_status": last_status,
                "error": detail,
            }),
        },
    )
    .await
}

/// A review item passed its SLA deadline.
pub async fn review_breached(
    db: &Db,
    item_id: i64,
    candidate_id: i64,
    session_id: &str,
    risk_tier: Option<&str>,
    deadline_at: Option<DateTime<Utc>>,
) -> Option<Raised> {
    raise(
        db,
        Alert {
            kind: AlertKind::ReviewSlaBreached,
            group_key: format!("review_breach:{item_id}"),
            summary: format!(
                "A {} review is past its SLA deadline",
                risk_tier.unwrap_or("unrated")
            ),
            page: "/review-queue",
            runbook: "Open the Review queue: claim the item and decide it, or reassign it to a \
                      reviewer who can.",
            facts: serde_json::json!({
                "review_item": item_id,
                "candidate_id": candidate_id,
                "session_id": session_id,
                "risk_tier": risk_tier,
                "deadline_at": deadline_at,
            }),
        },
    )
    .await
}

/// A reconciliation run ended: an alert when it failed, or when it found at least the
/// configured number of drifted sessions.
pub async fn reconciliation_ended(
    db: &Db,
    run_id: i64,
    drifted: i64,
    fixed: i64,
    error: Option<&str>,
) -> Option<Raised> {
    if let Some(error) = error {
        return raise(
            db,
            Alert {
                kind: AlertKind::ReconciliationFailed,
                group_key: "reconciliation_failed".into(),
                summary: format!("Reconciliation run {run_id} failed: {error}"),
                page: "/drift",
                runbook: "Check the provider's status and Clearance's API key for it, then press \
                          \"Run reconciliation now\" on the Drift page.",
                facts: serde_json::json!({ "run_id": run_id, "error": error, "drifted": drifted, "fixed": fixed }),
            },
        )
        .await;
    }
    let threshold = match db::alerts::settings(db).await {
        Ok(s) => s.map_or(DEFAULT_DRIFT_THRESHOLD, |s| s.drift_threshold),
        Err(e) => {
            tracing::error!(error = %e, "could not read the drift threshold");
            DEFAULT_DRIFT_THRESHOLD
        }
    };
    if drifted < threshold {
        return None;
    }
    raise(
        db,
        Alert {
            kind: AlertKind::ReconciliationDrift,
            group_key: "reconciliation_drift".into(),
            summary: format!(
                "Reconciliation run {run_id} found {drifted} sessions drifted from the provider \
                 (threshold {threshold}); {fixed} fixed"
            ),
            page: "/drift",
            runbook: "Webhooks from the provider are being lost: check the provider's webhook \
                      deliveries and our /webhooks/verification endpoint, then review the Drift page.",
            facts: serde_json::json!({ "run_id": run_id, "drifted": drifted, "fixed": fixed, "threshold": threshold }),
        },
    )
    .await
}

/// The audit chain failed verification.
pub async fn audit_chain_broken(db: &Db, report: &crate::model::ChainReport) -> Option<Raised> {
    raise(
        db,
        Alert {
            kind: AlertKind::AuditChainBroken,
            group_key: "audit_chain_broken".into(),
            summary: format!("The audit chain failed verification: {report}"),
            page: "/audit",
            runbook: "Treat as a security incident: stop changes to the database, compare it with \
                      the last signed checkpoint and a backup, and find who wrote to audit_log.",
            facts: serde_json::to_value(report).unwrap_or_default(),
        },
    )
    .await
}

/// What an admin sends from the Settings page.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    /// A new Slack-compatible URL; empty keeps the one stored.
    pub slack_url: String,
    /// Removes the Slack destination.
    pub clear_slack: bool,
    /// The JSON webhook's URL; empty removes it.
    pub webhook_url: String,
    /// A new signing secret (`whsec_…`); empty keeps the one stored.
    pub webhook_secret: String,
    pub drift_threshold: i64,
}

pub async fn settings(db: &Db, user: &CurrentUser) -> Result<AlertSettingsView, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    Ok(match db::alerts::settings(db).await? {
        Some(s) => AlertSettingsView {
            slack_configured: s.slack_url.is_some(),
            webhook_url: s.webhook_url,
            webhook_secret_configured: s.webhook_secret.is_some(),
            drift_threshold: s.drift_threshold,
            updated_at: Some(s.updated_at),
        },
        None => AlertSettingsView {
            drift_threshold: DEFAULT_DRIFT_THRESHOLD,
            ..Default::default()
        },
    })
}

/// An admin saves where alerts go. Both secrets (the Slack URL is one: whoever has it can post)
/// are stored sealed under CLEARANCE_SECRET_KEY and never shown again.
pub async fn save_settings(
    state: &AppState,
    user: &CurrentUser,
    input: &SettingsInput,
) -> Result<AlertSettingsView, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    if !(1..=100_000).contains(&input.drift_threshold) {
        return Err(AppError::BadRequest(
            "The drift threshold must be a whole number from 1 to 100000.".into(),
        ));
    }
    let current = db::alerts::settings(&state.db).await?;
    let needs_key = || {
        state
            .config
            .secret_key
            .as_ref()
            .ok_or_else(|| AppError::Conflict(secrets::SecretError::NoKey.to_string()))
    };
    let slack_input = input.slack_url.trim();
    let slack_url = if input.clear_slack {
        None
    } else if slack_input.is_empty() {
        current.as_ref().and_then(|c| c.slack_url.clone())
    } else {
        state
            .config
            .outbound
            .check_url(slack_input)
            .map_err(|e| AppError::BadRequest(format!("Slack webhook URL: {e}")))?;
        Some(needs_key()?.seal(purpose::ALERT_SLACK_URL, slack_input))
    };
    let webhook_url = match input.webhook_url.trim().trim_end_matches('/') {
        "" => None,
        url => {
            state
                .config
                .outbound
                .check_url(url)
                .map_err(|e| AppError::BadRequest(format!("JSON webhook URL: {e}")))?;
            Some(url.to_string())
        }
    };
    let secret_input = input.webhook_secret.trim();
    let webhook_secret = if webhook_url.is_none() {
        None
    } else if secret_input.is_empty() {
        current.as_ref().and_then(|c| c.webhook_secret.clone())
    } else {
        signature::secret_key(secret_input).map_err(|_| {
            AppError::BadRequest(
                "Signing secret must be a whsec_… secret (base64 after the prefix).".into(),
            )
        })?;
        Some(needs_key()?.seal(purpose::ALERT_WEBHOOK_SECRET, secret_input))
    };
    if webhook_url.is_some() && webhook_secret.is_none() {
        return Err(AppError::BadRequest(
            "A JSON webhook needs a signing secret (whsec_…) so the receiver can check alerts are ours."
                .into(),
        ));
    }
    let row = db::alerts::SettingsRow {
        slack_url,
        webhook_url,
        webhook_secret,
        drift_threshold: input.drift_threshold,
        updated_at: clock::now(),
    };
    let audit = NewAuditEvent::new(
        Actor::from(user),
        "alert_settings",
        "support",
        AuditEventType::AlertSettingsChanged,
        serde_json::json!({
            "slack": row.slack_url.is_some(),
            "webhook_url": row.webhook_url,
            "drift_threshold": row.drift_threshold,
        }),
    );
    db::alerts::save_settings(&state.db, &row, Some(user.id), &audit).await?;
    settings(&state.db, user).await
}

/// "Send test alert": one alert to every destination now (never grouped). Returns how many
/// destinations it was queued to.
pub async fn send_test(state: &AppState, user: &CurrentUser) -> Result<usize, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    let now = clock::now();
    let new = NewAlert {
        group_key: format!("test:{}", now.timestamp_micros()),
        kind: AlertKind::Test,
        summary: format!("Test alert sent by {}", user.name),
        details: serde_json::json!({
            "page": "/settings",
            "runbook": "Nothing to do: this checks that alerts reach you.",
            "facts": { "sent_by": user.email },
        })
        .to_string(),
    };
    match db::alerts::raise(&state.db, &new, now, now - GROUP_WINDOW, MAX_ATTEMPTS).await? {
        Raised::Sent { jobs: 0, .. } => Err(AppError::Conflict(
            "No alert destination is set up yet: add a Slack URL or a JSON webhook first.".into(),
        )),
        Raised::Sent { jobs, .. } => Ok(jobs),
        Raised::Grouped { .. } => Ok(0),
    }
}

/// The newest alerts, for the Settings page.
pub async fn recent(db: &Db, user: &CurrentUser) -> Result<Vec<AlertSummary>, AppError> {
    super::access::require(user, Permission::ManageSettings)?;
    Ok(db::alerts::recent(db, 20)
        .await?
        .into_iter()
        .map(|a| AlertSummary {
            id: a.id,
            kind: a.kind,
            summary: a.summary,
            repeats: a.repeats,
            created_at: a.created_at,
        })
        .collect())
}

#[derive(serde::Deserialize)]
struct AlertJob {
    alert_id: i64,
    destination: String,
}

/// The JSON an alert is sent as (the JSON webhook's body; Slack gets it as text).
pub fn message(alert: &db::alerts::AlertRow, public_url: &str) -> serde_json::Value {
    let details: serde_json::Value = serde_json::from_str(&alert.details).unwrap_or_default();
    let page = details.get("page").and_then(|p| p.as_str()).unwrap_or("/");
    serde_json::json!({
        "id": format!("alert_{}", alert.id),
        "kind": alert.kind,
        "summary": alert.summary,
        "created_at": alert.created_at,
        "link": format!("{public_url}{page}"),
        "runbook": details.get("runbook"),
        "details": details.get("facts"),
    })
}

/// The Slack text of an alert: summary, link, runbook, then the facts one per line.
pub fn slack_text(message: &serde_json::Value) -> String {
    let s = |key: &str| message.get(key).and_then(|v| v.as_str()).unwrap_or("");
    let mut text = format!(
        ":rotating_light: *Clearance: {}*\n{}\n<{}|Open in Clearance>\nRunbook: {}",
        message
            .get("kind")
            .and_then(|k| k.as_str())
            .and_then(|k| k.parse::<AlertKind>().ok())
            .map(AlertKind::label)
            .unwrap_or("Alert"),
        s("summary"),
        s("link"),
        s("runbook"),
    );
    if let Some(facts) = message.get("details").and_then(|d| d.as_object()) {
        for (key, value) in facts.iter().filter(|(_, v)| !v.is_null()) {
            let value = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            text.push_str(&format!("\n• {key}: {value}"));
        }
    }
    text
}

/// The delivery job that sends one alert to one destination.
pub async fn send_job(state: &AppState, job: &JobRow) -> Result<String, CallError> {
    let spec: AlertJob = serde_json::from_str(&job.payload)
        .map_err(|_| CallError::refused("job payload unreadable"))?;
    let alert = db::alerts::alert(&state.db, spec.alert_id)
        .await?
        .ok_or_else(|| CallError::refused("the alert no longer exists"))?;
    let settings = db::alerts::settings(&state.db)
        .await?
        .ok_or_else(|| CallError::refused("no alert destination is set up"))?;
    let key = state.config.secret_key.as_ref();
    let message = message(&alert, &state.config.public_url);
    match spec.destination.as_str() {
        "slack" => {
            let sealed = settings
                .slack_url
                .ok_or_else(|| CallError::refused("the Slack destination was removed"))?;
            let url = secrets::open(key, purpose::ALERT_SLACK_URL, &sealed)?;
            state
                .config
                .outbound
                .check_url(&url)
                .map_err(CallError::refused)?;
            partners::alerts::post_slack(&state.partner_http, &url, &slack_text(&message)).await?;
            Ok(format!("alert {} sent to Slack", alert.id))
        }
        "webhook" => {
            let url = settings
                .webhook_url
                .ok_or_else(|| CallError::refused("the JSON webhook destination was removed"))?;
            let sealed = settings
                .webhook_secret
                .ok_or_else(|| CallError::refused("the JSON webhook has no signing secret"))?;
            let secret = secrets::open(key, purpose::ALERT_WEBHOOK_SECRET, &sealed)?;
            state
                .config
                .outbound
                .check_url(&url)
                .map_err(CallError::refused)?;
            let id = format!("alert_{}", alert.id);
            partners::alerts::post_signed(
                &state.partner_http,
                &url,
                &secret,
                &id,
                &message.to_string(),
            )
            .await?;
            Ok(format!("alert {} sent to {url}", alert.id))
        }
        other => Err(CallError::refused(format!(
            "unknown alert destination '{other}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slack_text_carries_summary_link_runbook_and_facts() {
        let alert = db::alerts::AlertRow {
            id: 7,
            group_key: "dead_letter:x:candidate:5".into(),
            kind: AlertKind::DeliveryDeadLettered,
            summary: "Background-check order was dead-lettered".into(),
            details: serde_json::json!({
                "page": "/deliveries",
                "runbook": "Replay it.",
                "facts": { "candidate_id": 5, "order_id": 12, "session_id": null, "last_http_status": 503 }
            })
            .to_string(),
            repeats: 0,
            created_at: clock::now(),
        };
        let m = message(&alert, "https://clearance.example.com");
        assert_eq!(m["id"], "alert_7");
        assert_eq!(m["link"], "https://clearance.example.com/deliveries");
        assert_eq!(m["details"]["candidate_id"], 5);
        let text = slack_text(&m);
        assert!(
            text.contains("*Clearance: Delivery dead-lettered*"),
            "{text}"
        );
        assert!(text.contains("<https://clearance.example.com/deliveries|Open in Clearance>"));
        assert!(text.contains("Runbook: Replay it."));
        assert!(text.contains("• candidate_id: 5"));
        assert!(text.contains("• last_http_status: 503"));
        assert!(
            !text.contains("session_id"),
            "null facts are left out: {text}"
        );
    }
}

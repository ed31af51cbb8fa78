//! Adverse action (FCRA) on a background-check result, where the decision is made: the
//! individualized assessment, the pre-adverse notice (emailed through the delivery jobs, or for
//! print), the waiting period with responses that stop the clock, cancellation, and the final
//! notice that rejects the application. While a process is open, moves to offer and hired are
//! blocked (`adverse_action_pending`); hiring managers see only "On hold".
use crate::error::{AppError, Invalid};
use crate::model::{
    result_is_adverse, AdverseActionView, AdverseActions, AdverseState, Assessment, AuditEventType,
    CurrentUser, NoticeEmail, NoticeKind, NoticeView, Permission, ResponseView, Stage,
    WaitingPeriod,
};
use crate::server::audit::{sha256_hex, Actor, NewAuditEvent};
use crate::server::clock;
use crate::server::db::{self, adverse as store, adverse::ActionRow, jobs::JobRow, Db};
use crate::server::partners::CallError;
use crate::server::services::access;
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The official summary of rights (CFPB), linked from every notice and attached to its email.
pub const RIGHTS_URL: &str =
    "https://files.consumerfinance.gov/f/documents/bcfp_consumer-rights-summary_2018-09.pdf";

const RIGHTS_ATTACHMENT: &str = "A Summary of Your Rights Under the Fair Credit Reporting Act

The federal Fair Credit Reporting Act (FCRA) promotes the accuracy, fairness, and privacy of
information in the files of consumer reporting agencies. Among your rights:

- You must be told if information in your file has been used against you.
- You have the right to know what is in your file, and to a free copy of your report when an
  adverse action was taken against you because of it (ask within 60 days).
- You have the right to dispute incomplete or inaccurate information; the agency must
  investigate unless your dispute is frivolous.
- Inaccurate, incomplete, or unverifiable information must be removed or corrected.

The full official summary, published by the Consumer Financial Protection Bureau:
";

/// The built-in templates (version 0), until an admin saves one of their own.
pub const DEFAULT_PRE_ADVERSE: (&str, &str) = (
    "Pre-adverse action notice: your application for {{ job_title }}",
    "Dear {{ candidate_name }},

{{ employer }} is considering a decision about your application for {{ job_title }} that may be
adverse to you, based in whole or in part on information in a consumer report (background check)
prepared by {{ cra_name }}.

The findings we considered:
{{ findings }}

A copy of the report: {{ report_url }}
A Summary of Your Rights Under the Fair Credit Reporting Act is attached and available at
{{ rights_url }}

Before any final decision you may respond: tell us about any information in the report you believe
is inaccurate or incomplete, or anything else you would like us to consider. You may also dispute
the accuracy or completeness of the report directly with {{ cra_name }}{% if cra_phone %} ({{ cra_phone }}){% endif %}.

Please respond by {{ response_deadline }}, by replying to this email. No final decision will be made
before then.

{{ sender_name }}
{{ employer }}
",
);

pub const DEFAULT_FINAL: (&str, &str) = (
    "Final adverse action notice: your application for {{ job_title }}",
    "Dear {{ candidate_name }},

Following our notice of {{ pre_notice_date }}, {{ employer }} has decided not to proceed with your
application for {{ job_title }}. This decision was based in whole or in part on information in a
consumer report from:

{{ cra_name }}
{{ cra_address }}
{{ cra_phone }}

{{ cra_name }} did not make this decision and is unable to explain why it was made.

You have the right to a free copy of your report from {{ cra_name }} if you ask for it within 60
days, and the right to dispute with {{ cra_name }} the accuracy or completeness of any information
in the report. A Summary of Your Rights Under the Fair Credit Reporting Act: {{ rights_url }}

{{ sender_name }}
{{ employer }}
",
);

/// Every field a template may use, with an example value (the check an admin's edit passes).
pub fn template_fields() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("employer", "Example Co."),
        ("candidate_name", "Jordan Example"),
        ("candidate_first_name", "Jordan"),
        ("job_title", "Warehouse Associate"),
        ("cra_name", "Example Screening"),
        ("cra_address", "1 Main St, Springfield"),
        ("cra_phone", "+1 555 0100"),
        ("report_url", "https://partner.example/results/1"),
        ("findings", "A 2015 misdemeanor conviction."),
        (
            "response_deadline",
            "the end of Friday, 4 December 2026 (UTC)",
        ),
        ("waiting_period", "7 calendar days"),
        ("pre_notice_date", "27 November 2026"),
        ("rights_url", RIGHTS_URL),
        ("sender_name", "Riley Recruiter"),
    ])
}

/// Renders a template with `fields`; a field the template names but `fields` lacks, or a
/// syntax error, is refused with minijinja's words (which name the line).
pub fn render(template: &str, fields: &BTreeMap<&str, String>) -> Result<String, Invalid> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.render_str(template, fields)
        .map_err(|e| Invalid(format!("the template cannot be rendered: {e}")))
}

/// An admin's template edit: both parts render with every field, within size limits.
pub fn check_template(subject: &str, body: &str) -> Result<(), Invalid> {
    if subject.trim().is_empty() || body.trim().is_empty() {
        return Err(Invalid::new("A template needs a subject and a body."));
    }
    if subject.chars().count() > 300 || body.chars().count() > 20_000 {
        return Err(Invalid::new(
            "The subject may have 300 characters, the body 20,000.",
        ));
    }
    if subject.contains('\n') {
        return Err(Invalid::new("The subject must be one line."));
    }
    let sample: BTreeMap<&str, String> = template_fields()
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    render(subject, &sample).map_err(|e| e.within("subject"))?;
    render(body, &sample).map_err(|e| e.within("body"))?;
    Ok(())
}

/// "the end of Friday, 4 December 2026 (Europe/Berlin)" for a deadline at local midnight, or the
/// exact local time otherwise (a shortened demo period).
pub fn describe_deadline(deadline: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let local = deadline.with_timezone(&tz);
    if local.time() == chrono::NaiveTime::MIN {
        let day = local - chrono::Duration::seconds(1);
        format!("the end of {} ({tz})", day.format("%A, %-d %B %Y"))
    } else {
        format!("{} ({tz})", local.format("%A, %-d %B %Y, %H:%M"))
    }
}

fn to_view(
    a: ActionRow,
    notices: &[db::adverse::NoticeRow],
    responses: &[db::adverse::ResponseRow],
    can_act: bool,
    state: &AppState,
) -> AdverseActionView {
    let assessment = a.assessed_at.map(|_| Assessment {
        findings: a.findings.clone().unwrap_or_default(),
        offense_gravity: a.offense_gravity.clone().unwrap_or_default(),
        time_elapsed: a.time_elapsed.clone().unwrap_or_default(),
        job_nature: a.job_nature.clone().unwrap_or_default(),
        rationale: a.rationale.clone().unwrap_or_default(),
    });
    AdverseActionView {
        id: a.id,
        order_id: a.order_id,
        application_id: a.application_id,
        job_title: a.job_title,
        state: a.state,
        assessment,
        assessed_by: a.assessed_by_name,
        assessed_at: a.assessed_at,
        waiting_period: WaitingPeriod::stored(a.wait_days, a.wait_business),
        deadline_at: a.deadline_at,
        paused_at: a.paused_at,
        notices: notices
            .iter()
            .filter(|n| n.action_id == a.id)
            .map(|n| NoticeView {
                id: n.id,
                kind: n.kind,
                template_version: n.template_version,
                recipient: n.recipient.clone(),
                subject: n.subject.clone(),
                body: n.body.clone(),
                sha256: n.sha256.clone(),
                email: n.email_state,
                email_detail: n.email_detail.clone(),
                created_at: n.created_at,
                sent_at: n.sent_at,
            })
            .collect(),
        responses: responses
            .iter()
            .filter(|r| r.action_id == a.id)
            .map(|r| ResponseView {
                id: r.id,
                note: r.note.clone(),
                document_name: r.document_name.clone(),
                recorded_by: r.recorded_by_name.clone(),
                recorded_at: r.recorded_at,
            })
            .collect(),
        started_by: a.started_by_name,
        started_at: a.created_at,
        closed_reason: a.closed_reason,
        closed_by: a.closed_by_name,
        closed_at: a.closed_at,
        can_act,
        email_configured: state.config.smtp.is_some(),
        wait_overridden: state.config.adverse_wait_override.is_some(),
    }
}

/// What the profile shows: every process to those who see details, "On hold" to hiring managers.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<AdverseActions, AppError> {
    access::require(user, Permission::ViewCandidates)?;
    let db = &state.db;
    let visible = access::visible_candidate(db, user, candidate_id).await?;
    let actions: Vec<ActionRow> = store::actions_of(db, candidate_id)
        .await?
        .into_iter()
        .filter(|a| visible.sees_job(a.job_id))
        .collect();
    if !visible.details {
        return Ok(AdverseActions::OnHold(
            actions.iter().any(|a| a.state.is_open()),
        ));
    }
    if actions.is_empty() {
        return Ok(AdverseActions::Detailed(Vec::new()));
    }
    let notices = store::notices_of(db, candidate_id).await?;
    let responses = store::responses_of(db, candidate_id).await?;
    let can_act = user.role.can(Permission::AdverseAction);
    Ok(AdverseActions::Detailed(
        actions
            .into_iter()
            .map(|a| to_view(a, &notices, &responses, can_act, state))
            .collect(),
    ))
}

fn audit(
    user: Option<&CurrentUser>,
    candidate_id: i64,
    event: AuditEventType,
    payload: serde_json::Value,
) -> NewAuditEvent {
    let actor = match user {
        Some(u) => Actor::from(u),
        None => Actor::System("adverse-action".into()),
    };
    NewAuditEvent::new(actor, "candidate", candidate_id, event, payload)
}

fn moved_on() -> AppError {
    AppError::Conflict(
        "Someone else changed this adverse action just now. Reload to see where it is.".into(),
    )
}

/// A process the user may act on: the permission, and the candidate and job visible to them.
async fn actionable(
    state: &AppState,
    user: &CurrentUser,
    action_id: i64,
) -> Result<ActionRow, AppError> {
    access::require(user, Permission::AdverseAction)?;
    let action = store::find(&state.db, action_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let visible = access::visible_candidate(&state.db, user, action.candidate_id).await?;
    if !visible.sees_job(action.job_id) {
        return Err(AppError::NotFound);
    }
    Ok(action)
}

/// "Start adverse action" on an order whose result is Consider or Fail.
pub async fn start(state: &AppState, user: &CurrentUser, order_id: i64) -> Result<i64, AppError> {
    access::require(user, Permission::AdverseAction)?;
    let db = &state.db;
    let order = db::background::find_order(db, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let visible = access::visible_candidate(db, user, order.candidate_id).await?;
    if !visible.sees_job(order.job_id) {
        return Err(AppError::NotFound);
    }
    let result = order.result.clone().unwrap_or_default();
    if !result_is_adverse(&result) {
        return Err(AppError::BadRequest(
            "Adverse action starts only from a background-check result of Consider or Fail.".into(),
        ));
    }
    // A newer check for the same job speaks for the candidate now, not this result.
    let newest = db::background::orders_of(db, order.candidate_id)
        .await?
        .into_iter()
        .find(|o| o.job_id == order.job_id)
        .map(|o| o.id);
    if newest != Some(order_id) {
        return Err(AppError::Conflict(
            "A newer background check for this job supersedes this result.".into(),
        ));
    }
    let app = visible
        .applications
        .iter()
        .find(|a| a.job_id == order.job_id)
        .ok_or_else(|| {
            AppError::BadRequest("The candidate has no application for this order's job.".into())
        })?;
    if app.stage.is_closed() {
        return Err(AppError::BadRequest(format!(
            "The application is closed ({}): there is no decision left to make.",
            app.stage.label()
        )));
    }
    let waiting = store::job_waiting(db, app.job_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = clock::now();
    let new = store::NewAction {
        candidate_id: order.candidate_id,
        application_id: app.id,
        order_id,
        wait_days: waiting.adverse_wait_days,
        wait_business: waiting.adverse_wait_business,
        started_by: user.id,
    };
    let payload = serde_json::json!({
        "order_id": order_id, "background_check_id": order.background_check_id, "result": result,
        "application_id": app.id, "job": app.job_title,
    });
    store::start(db, &new, now, |id| {
        let mut p = payload.clone();
        p["adverse_action_id"] = id.into();
        audit(
            Some(user),
            order.candidate_id,
            AuditEventType::AdverseActionStarted,
            p,
        )
    })
    .await?
    .ok_or_else(|| {
        AppError::Conflict("An adverse action is already open for this application.".into())
    })
}

/// The individualized assessment; required before the pre-adverse notice.
pub async fn assess(
    state: &AppState,
    user: &CurrentUser,
    action_id: i64,
    assessment: Assessment,
) -> Result<(), AppError> {
    let action = actionable(state, user, action_id).await?;
    let a = assessment.validated()?;
    if action.state != AdverseState::Assessing {
        return Err(AppError::Conflict(
            "The assessment can change only until the pre-adverse notice is sent.".into(),
        ));
    }
    let entry = audit(
        Some(user),
        action.candidate_id,
        AuditEventType::AdverseAssessmentRecorded,
        serde_json::json!({
            "adverse_action_id": action.id, "findings": a.findings, "offense_gravity": a.offense_gravity,
            "time_elapsed": a.time_elapsed, "job_nature": a.job_nature, "rationale": a.rationale,
        }),
    );
    if !store::record_assessment(&state.db, action.id, &a, user.id, clock::now(), &entry).await? {
        return Err(moved_on());
    }
    Ok(())
}

/// The template in force for `kind`: the newest admin version, or the built-in one (version 0).
pub async fn current_template(
    db: &Db,
    kind: NoticeKind,
) -> Result<(i64, String, String), AppError> {
    Ok(match store::latest_template(db, kind).await? {
        Some(t) => (t.version, t.subject, t.body),
        None => {
            let (s, b) = match kind {
                NoticeKind::PreAdverse => DEFAULT_PRE_ADVERSE,
                NoticeKind::Final => DEFAULT_FINAL,
            };
            (0, s.to_string(), b.to_string())
        }
    })
}

/// The facts a notice is rendered from.
async fn notice_fields(
    state: &AppState,
    action: &ActionRow,
    sender: &str,
    deadline: Option<DateTime<Utc>>,
) -> Result<(BTreeMap<&'static str, String>, String), AppError> {
    let db = &state.db;
    let candidate = db::candidates::find_candidate(db, action.candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let order = db::background::find_order(db, action.order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (cra_name, cra_address, cra_phone) = store::partner_contact(db, order.partner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tz = state.config.business_calendar.tz;
    let pre_notice_date = store::notices_of(db, action.candidate_id)
        .await?
        .into_iter()
        .find(|n| n.action_id == action.id && n.kind == NoticeKind::PreAdverse)
        .map(|n| {
            n.created_at
                .with_timezone(&tz)
                .format("%-d %B %Y")
                .to_string()
        })
        .unwrap_or_default();
    let period = WaitingPeriod::stored(action.wait_days, action.wait_business);
    let fields = BTreeMap::from([
        ("employer", state.config.employer_name.clone()),
        (
            "candidate_name",
            format!("{} {}", candidate.first_name, candidate.last_name),
        ),
        ("candidate_first_name", candidate.first_name.clone()),
        ("job_title", action.job_title.clone()),
        ("cra_name", cra_name),
        (
            "cra_address",
            cra_address
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "(address not on file)".into()),
        ),
        ("cra_phone", cra_phone.unwrap_or_default()),
        (
            "report_url",
            order
                .result_link_url
                .clone()
                .unwrap_or_else(|| "(ask us for a copy)".into()),
        ),
        ("findings", action.findings.clone().unwrap_or_default()),
        (
            "response_deadline",
            deadline
                .or(action.deadline_at)
                .map(|d| describe_deadline(d, tz))
                .unwrap_or_default(),
        ),
        ("waiting_period", period.to_string()),
        ("pre_notice_date", pre_notice_date),
        ("rights_url", RIGHTS_URL.to_string()),
        ("sender_name", sender.to_string()),
    ]);
    Ok((fields, candidate.email))
}

/// When the waiting period of a notice sent at `now` ends.
fn deadline_from(state: &AppState, action: &ActionRow, now: DateTime<Utc>) -> DateTime<Utc> {
    match state.config.adverse_wait_override {
        Some(d) => now + d,
        None => {
            let period = WaitingPeriod::stored(action.wait_days, action.wait_business);
            state
                .config
                .business_calendar
                .end_of_days_after(now, period.days, period.business)
        }
    }
}

/// "Send pre-adverse notice": renders the notice, stores it with its SHA-256, queues the email
/// (or leaves it for print when SMTP is not configured) and starts the waiting period.
pub async fn send_pre_adverse(
    state: &AppState,
    user: &CurrentUser,
    action_id: i64,
) -> Result<i64, AppError> {
    let action = actionable(state, user, action_id).await?;
    if action.state != AdverseState::Assessing {
        return Err(AppError::Conflict(
            "The pre-adverse notice has been sent already.".into(),
        ));
    }
    if action.assessed_at.is_none() {
        return Err(AppError::BadRequest(
            "Record the individualized assessment before sending the pre-adverse notice.".into(),
        ));
    }
    let now = clock::now();
    let deadline = deadline_from(state, &action, now);
    let (fields, email) = notice_fields(state, &action, &user.name, Some(deadline)).await?;
    let step = store::NoticeStep {
        from: AdverseState::Assessing,
        to: AdverseState::Waiting,
        deadline_at: Some(deadline),
        reject: None,
        max_attempts: state.config.delivery_max_attempts,
    };
    send_notice(
        state,
        Some(user),
        &action,
        NoticeKind::PreAdverse,
        fields,
        &email,
        step,
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn send_notice(
    state: &AppState,
    user: Option<&CurrentUser>,
    action: &ActionRow,
    kind: NoticeKind,
    fields: BTreeMap<&'static str, String>,
    recipient: &str,
    step: store::NoticeStep<'_>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let (version, subject_t, body_t) = current_template(&state.db, kind).await?;
    let subject = render(&subject_t, &fields)?.replace('\n', " ");
    let body = render(&body_t, &fields)?;
    let sha = sha256_hex(&body);
    let email = if state.config.smtp.is_some() {
        NoticeEmail::Queued
    } else {
        NoticeEmail::NotConfigured
    };
    let notice = store::NewNotice {
        kind,
        template_version: version,
        recipient,
        subject: &subject,
        body: &body,
        sha256: &sha,
        email,
        created_by: user.map(|u| u.id),
    };
    let event = match kind {
        NoticeKind::PreAdverse => AuditEventType::PreAdverseNoticeSent,
        NoticeKind::Final => AuditEventType::FinalAdverseNoticeSent,
    };
    let entry = audit(
        user,
        action.candidate_id,
        event,
        serde_json::json!({
            "adverse_action_id": action.id, "notice": kind.as_str(), "template_version": version,
            "sha256": sha, "email": email.as_str(), "deadline_at": step.deadline_at,
            "application_id": action.application_id, "job": action.job_title,
        }),
    );
    store::add_notice(&state.db, action, &notice, &step, now, &entry)
        .await?
        .ok_or_else(moved_on)
}

/// "Send final notice" after the waiting period (by a recruiter, or by the sweep when the job
/// says so): the application moves to Rejected in the same transaction.
pub async fn send_final(
    state: &AppState,
    user: &CurrentUser,
    action_id: i64,
) -> Result<i64, AppError> {
    let action = actionable(state, user, action_id).await?;
    final_notice(state, Some(user), action, clock::now()).await
}

async fn final_notice(
    state: &AppState,
    user: Option<&CurrentUser>,
    action: ActionRow,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    match action.state {
        AdverseState::Waiting => {}
        AdverseState::Paused => {
            return Err(AppError::Conflict(
                "The candidate responded: review the response, then resume the waiting period or cancel the adverse action.".into(),
            ))
        }
        _ => {
            return Err(AppError::Conflict(format!(
                "The final notice cannot be sent now ({}).",
                action.state.label()
            )))
        }
    }
    let deadline = action.deadline_at.unwrap_or(now);
    if now < deadline {
        return Err(AppError::Conflict(format!(
            "The waiting period runs until {}: the final notice can go after that.",
            describe_deadline(deadline, state.config.business_calendar.tz)
        )));
    }
    let app = db::candidates::applications_of(&state.db, action.candidate_id)
        .await?
        .into_iter()
        .find(|a| a.id == action.application_id)
        .ok_or(AppError::NotFound)?;
    let sender = user
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "Hiring team".into());
    let (fields, email) = notice_fields(state, &action, &sender, None).await?;
    let moved = audit(
        user,
        action.candidate_id,
        AuditEventType::StageChanged,
        serde_json::json!({
            "application_id": app.id, "job": app.job_title, "from": app.stage.as_str(),
            "to": Stage::Rejected.as_str(), "adverse_action_id": action.id,
        }),
    );
    let reject = (!app.stage.is_closed()).then_some((app.stage.as_str(), &moved));
    let step = store::NoticeStep {
        from: AdverseState::Waiting,
        to: AdverseState::Completed,
        deadline_at: None,
        reject,
        max_attempts: state.config.delivery_max_attempts,
    };
    send_notice(
        state,
        user,
        &action,
        NoticeKind::Final,
        fields,
        &email,
        step,
        now,
    )
    .await
}

/// Sends the final notices that are due on jobs set to send them by themselves; returns how many.
pub async fn send_due_final_notices(state: &AppState) -> anyhow::Result<usize> {
    let now = clock::now();
    let mut sent = 0;
    for id in store::due_for_auto_final(&state.db, now, 100).await? {
        let Some(action) = store::find(&state.db, id).await? else {
            continue;
        };
        match final_notice(state, None, action, now).await {
            Ok(_) => sent += 1,
            Err(e) => {
                tracing::warn!(adverse_action_id = id, error = %e, "automatic final notice not sent")
            }
        }
    }
    Ok(sent)
}

/// A response or dispute the recruiter records for the candidate, with an optional document.
pub struct Response {
    pub note: String,
    pub document_name: Option<String>,
    pub document: Option<Vec<u8>>,
}

pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// A response document as the form sends it (base64); empty or absent is none.
pub fn decode_document(base64_text: Option<&str>) -> Result<Option<Vec<u8>>, AppError> {
    use base64::Engine;
    let Some(text) = base64_text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    // 5 MB of bytes is about 6.7 MB of base64: refuse larger before decoding.
    if text.len() > MAX_DOCUMENT_BYTES / 3 * 4 + 8 {
        return Err(AppError::BadRequest(
            "The document is larger than 5 MB.".into(),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Some)
        .map_err(|_| AppError::BadRequest("The document could not be read (not base64).".into()))
}

/// A required free-text field, trimmed: refused with `missing` when empty and with `too_long`
/// when longer than `max` characters.
fn required_text<'a>(
    text: &'a str,
    max: usize,
    missing: &str,
    too_long: &str,
) -> Result<&'a str, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::BadRequest(missing.into()));
    }
    if text.chars().count() > max {
        return Err(AppError::BadRequest(too_long.into()));
    }
    Ok(text)
}

/// Refuses a step on an adverse action that is closed already.
fn still_open(action: &store::ActionRow) -> Result<(), AppError> {
    if action.state.is_open() {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "This adverse action is closed already ({}).",
            action.state.label()
        )))
    }
}

/// "Record candidate response": stops a running clock until someone resumes it or cancels.
pub async fn record_response(
    state: &AppState,
    user: &CurrentUser,
    action_id: i64,
    r: Response,
) -> Result<(), AppError> {
    let action = actionable(state, user, action_id).await?;
    let note = required_text(
        &r.note,
        8000,
        "Describe the candidate's response or dispute.",
        "The response note may have 8,000 characters.",
    )?;
    still_open(&action)?;
    let document = r.document.filter(|d| !d.is_empty());
    if document
        .as_ref()
        .is_some_and(|d| d.len() > MAX_DOCUMENT_BYTES)
    {
        return Err(AppError::BadRequest(
            "The document is larger than 5 MB.".into(),
        ));
    }
    let name = document.as_ref().map(|_| {
        let n = r
            .document_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("response-document");
        // A file name only: no paths, no control characters, at most 120 characters.
        n.rsplit(['/', '\\'])
            .next()
            .unwrap_or(n)
            .chars()
            .filter(|c| !c.is_control())
            .take(120)
            .collect::<String>()
    });
    let doc_sha = document.as_ref().map(sha256_hex);
    let pauses = action.state == AdverseState::Waiting;
    let entry = audit(
        Some(user),
        action.candidate_id,
        AuditEventType::CandidateResponseRecorded,
        serde_json::json!({
            "adverse_action_id": action.id, "note": note, "document_name": name,
            "document_sha256": doc_sha, "clock_paused": pauses,
        }),
    );
    let new = store::NewResponse {
        note,
        document_name: name.as_deref(),
        document: document.as_deref(),
        document_sha256: doc_sha.as_deref(),
        recorded_by: user.id,
    };
    if !store::record_response(&state.db, action.id, &new, clock::now(), &entry).await? {
        return Err(moved_on());
    }
    Ok(())
}

/// "Resume waiting period" after a response: the deadline moves by the time the clock stood.
pub async fn resume(state: &AppState, user: &CurrentUser, action_id: i64) -> Result<(), AppError> {
    let action = actionable(state, user, action_id).await?;
    let (Some(paused_at), Some(deadline)) = (action.paused_at, action.deadline_at) else {
        return Err(AppError::Conflict(
            "The waiting period is not paused.".into(),
        ));
    };
    let now = clock::now();
    let new_deadline = deadline + (now - paused_at).max(chrono::Duration::zero());
    let entry = audit(
        Some(user),
        action.candidate_id,
        AuditEventType::AdverseActionResumed,
        serde_json::json!({
            "adverse_action_id": action.id, "paused_at": paused_at, "deadline_at": new_deadline,
        }),
    );
    if !store::resume(&state.db, action.id, new_deadline, now, &entry).await? {
        return Err(moved_on());
    }
    Ok(())
}

/// "Cancel adverse action": the candidate proceeds; the reason is required and recorded.
pub async fn cancel(
    state: &AppState,
    user: &CurrentUser,
    action_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    let action = actionable(state, user, action_id).await?;
    let reason = required_text(
        reason,
        2000,
        "Give the reason for cancelling the adverse action.",
        "The reason may have 2,000 characters.",
    )?;
    still_open(&action)?;
    let entry = audit(
        Some(user),
        action.candidate_id,
        AuditEventType::AdverseActionCancelled,
        serde_json::json!({ "adverse_action_id": action.id, "reason": reason, "from_state": action.state.as_str() }),
    );
    if !store::cancel(&state.db, action.id, reason, user.id, clock::now(), &entry).await? {
        return Err(moved_on());
    }
    Ok(())
}

/// The stage gate's question: is this application held by an open process? Moves to offer and
/// hired are blocked while it is.
pub async fn holds(db: &Db, application_id: i64, to: Stage) -> Result<Option<i64>, AppError> {
    if !matches!(to, Stage::Offer | Stage::Hired) {
        return Ok(None);
    }
    Ok(store::open_for_application(db, application_id).await?)
}

/// A notice for the printable page (postal delivery), with the candidate's postal address:
/// those who see verification details.
pub async fn notice_for_print(
    state: &AppState,
    user: &CurrentUser,
    notice_id: i64,
) -> Result<(db::adverse::NoticeRow, db::candidates::CandidateRow), AppError> {
    access::require(user, Permission::ViewVerificationDetails)?;
    let notice = store::find_notice(&state.db, notice_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = store::find(&state.db, notice.action_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let visible = access::visible_candidate(&state.db, user, notice.candidate_id).await?;
    if !visible.sees_job(action.job_id) {
        return Err(AppError::NotFound);
    }
    Ok((notice, visible.candidate))
}

/// A response's uploaded document: (file name, bytes), for those who may act on the process.
pub async fn response_document(
    state: &AppState,
    user: &CurrentUser,
    response_id: i64,
) -> Result<(String, Vec<u8>), AppError> {
    access::require(user, Permission::ViewVerificationDetails)?;
    let (candidate_id, name, bytes) = store::response_document(&state.db, response_id)
        .await?
        .ok_or(AppError::NotFound)?;
    access::visible_candidate(&state.db, user, candidate_id).await?;
    Ok((name, bytes))
}

/// The delivery job that emails a notice.
pub async fn notice_job(state: &AppState, job: &JobRow) -> Result<String, CallError> {
    let final_error = |detail: String| CallError::Final {
        status: None,
        detail,
    };
    let payload: serde_json::Value =
        serde_json::from_str(&job.payload).map_err(|e| final_error(format!("payload: {e}")))?;
    let notice_id = payload["notice_id"]
        .as_i64()
        .ok_or_else(|| final_error("payload names no notice_id".into()))?;
    let db_error = |e: sqlx::Error| CallError::Retryable {
        status: None,
        detail: format!("database: {e}"),
        retry_after: None,
    };
    let notice = store::find_notice(&state.db, notice_id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| final_error(format!("notice {notice_id} no longer exists")))?;
    if notice.email_state == NoticeEmail::Sent {
        return Ok("sent before".into());
    }
    let settings = state
        .config
        .smtp
        .as_ref()
        .ok_or_else(|| CallError::Retryable {
            status: None,
            detail: "CLEARANCE_SMTP_URL is not set".into(),
            retry_after: None,
        })?;
    let attachment = crate::server::mail::MailAttachment {
        name: "Summary of Your Rights Under the FCRA.txt".into(),
        content_type: "text/plain; charset=utf-8",
        bytes: format!("{RIGHTS_ATTACHMENT}{RIGHTS_URL}\n").into_bytes(),
    };
    let now = clock::now();
    match crate::server::mail::send(
        settings,
        &notice.recipient,
        &notice.subject,
        &notice.body,
        vec![attachment],
    )
    .await
    {
        Ok(detail) => {
            let entry = audit(
                None,
                notice.candidate_id,
                AuditEventType::NoticeEmailed,
                serde_json::json!({
                    "adverse_action_id": notice.action_id, "notice_id": notice.id,
                    "notice": notice.kind.as_str(), "sha256": notice.sha256, "server": settings.server,
                }),
            );
            store::mark_notice_email(
                &state.db,
                notice.id,
                NoticeEmail::Sent,
                Some(&detail),
                now,
                Some(&entry),
            )
            .await
            .map_err(db_error)?;
            Ok(detail)
        }
        Err(e) => {
            // The notice shows the latest failure while the worker retries.
            store::mark_notice_email(
                &state.db,
                notice.id,
                NoticeEmail::Queued,
                Some(e.detail()),
                now,
                None,
            )
            .await
            .map_err(db_error)?;
            Err(e)
        }
    }
}

/// A notice's email gave up: the profile says so (and the Deliveries page can replay it).
pub async fn notice_job_ended(state: &AppState, job: &JobRow, detail: &str) -> anyhow::Result<()> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    if let Some(id) = payload["notice_id"].as_i64() {
        store::mark_notice_email(
            &state.db,
            id,
            NoticeEmail::Failed,
            Some(detail),
            clock::now(),
            None,
        )
        .await?;
    }
    Ok(())
}

/// Admin: every job's waiting period and automatic final notice.
pub async fn job_settings(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<crate::model::JobAdverseSettings>, AppError> {
    access::require(user, Permission::ManageSettings)?;
    Ok(store::jobs_waiting(&state.db)
        .await?
        .into_iter()
        .map(
            |(job_id, job_title, days, business, auto_final)| crate::model::JobAdverseSettings {
                job_id,
                job_title,
                waiting_period: WaitingPeriod::stored(days, business),
                auto_final,
            },
        )
        .collect())
}

/// Admin: sets a job's waiting period (7–90 calendar or 5–90 business days) and whether the final
/// notice goes by itself. Processes already started keep the period they started with.
pub async fn set_job_settings(
    state: &AppState,
    user: &CurrentUser,
    job_id: i64,
    days: i64,
    business: bool,
    auto_final: bool,
) -> Result<(), AppError> {
    access::require(user, Permission::ManageSettings)?;
    let period = WaitingPeriod::new(days, business)?;
    let entry = NewAuditEvent::new(
        Actor::from(user),
        "job",
        job_id,
        AuditEventType::AdverseSettingsChanged,
        serde_json::json!({ "waiting_period": period.to_string(), "auto_final": auto_final }),
    );
    let w = store::JobWaiting {
        adverse_wait_days: i64::from(period.days),
        adverse_wait_business: business,
        adverse_auto_final: auto_final,
    };
    if !store::set_job_waiting(&state.db, job_id, w, &entry).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Admin: the templates in force, for the Policy page.
pub async fn templates(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<crate::model::NoticeTemplate>, AppError> {
    access::require(user, Permission::ManageSettings)?;
    let mut out = Vec::new();
    for kind in NoticeKind::ALL {
        let row = store::latest_template(&state.db, kind).await?;
        let (version, subject, body) = current_template(&state.db, kind).await?;
        out.push(crate::model::NoticeTemplate {
            kind,
            version,
            subject,
            body,
            saved_by: row.as_ref().and_then(|r| r.created_by_name.clone()),
            saved_at: row.map(|r| r.created_at),
        });
    }
    Ok(out)
}

/// Admin: saves a new version of a template after rendering it with every field.
pub async fn save_template(
    state: &AppState,
    user: &CurrentUser,
    kind: NoticeKind,
    subject: &str,
    body: &str,
) -> Result<i64, AppError> {
    access::require(user, Permission::ManageSettings)?;
    check_template(subject, body)?;
    let sha = sha256_hex(body);
    Ok(store::save_template(
        &state.db,
        kind,
        subject.trim(),
        body,
        user.id,
        clock::now(),
        |version| {
            NewAuditEvent::new(
                Actor::from(user),
                "notice_template",
                kind.as_str(),
                AuditEventType::NoticeTemplateChanged,
                serde_json::json!({ "kind": kind.as_str(), "version": version, "sha256": sha }),
            )
        },
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_fields() -> BTreeMap<&'static str, String> {
        template_fields()
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect()
    }

    #[test]
    fn built_in_templates_render_every_field() {
        let fields = all_fields();
        let pre = render(DEFAULT_PRE_ADVERSE.1, &fields).unwrap();
        for must in [
            "Jordan Example",
            "Warehouse Associate",
            "Example Screening (+1 555 0100)",
            "https://partner.example/results/1",
            "A 2015 misdemeanor conviction.",
            "the end of Friday, 4 December 2026 (UTC)",
            RIGHTS_URL,
            "Riley Recruiter",
        ] {
            assert!(pre.contains(must), "pre-adverse lacks {must:?}:\n{pre}");
        }
        let fin = render(DEFAULT_FINAL.1, &fields).unwrap();
        for must in [
            "1 Main St, Springfield",
            "did not make this decision and is unable to explain why",
            "within 60\ndays",
            "dispute with Example Screening",
            "27 November 2026",
        ] {
            assert!(fin.contains(must), "final lacks {must:?}:\n{fin}");
        }
        assert_eq!(
            render(DEFAULT_PRE_ADVERSE.0, &fields).unwrap(),
            "Pre-adverse action notice: your application for Warehouse Associate"
        );
        check_template(DEFAULT_FINAL.0, DEFAULT_FINAL.1).unwrap();
    }

    #[test]
    fn a_template_naming_an_unknown_field_or_broken_is_refused() {
        let err = check_template("Hello", "Dear {{ candidate_nmae }}").unwrap_err();
        assert!(
            err.starts_with("body: the template cannot be rendered"),
            "{err}"
        );
        assert!(check_template("Hello {{ job_title", "Body").is_err());
        assert!(check_template("", "Body").is_err());
        assert!(check_template("Two\nlines", "Body").is_err());
        // An empty phone drops the parenthesis instead of printing "()".
        let mut f = all_fields();
        f.insert("cra_phone", String::new());
        let pre = render(DEFAULT_PRE_ADVERSE.1, &f).unwrap();
        assert!(pre.contains("directly with Example Screening.\n"), "{pre}");
    }

    #[test]
    fn deadlines_read_as_the_end_of_the_last_day() {
        use chrono::TimeZone;
        let midnight = Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap();
        assert_eq!(
            describe_deadline(midnight, chrono_tz::UTC),
            "the end of Friday, 4 December 2026 (UTC)"
        );
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            describe_deadline(Utc.with_ymd_and_hms(2026, 12, 4, 23, 0, 0).unwrap(), berlin),
            "the end of Friday, 4 December 2026 (Europe/Berlin)"
        );
        assert_eq!(
            describe_deadline(Utc.with_ymd_and_hms(2026, 12, 4, 9, 30, 0).unwrap(), berlin),
            "Friday, 4 December 2026, 10:30 (Europe/Berlin)"
        );
    }
}

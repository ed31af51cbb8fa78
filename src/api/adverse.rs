//! Adverse action on a background-check result (admins, recruiters act; security reviewers read;
//! hiring managers see only "On hold"), and the notice templates (admins).
use crate::error::AppError;
use crate::model::{AdverseActions, JobAdverseSettings, NoticeKind, NoticeTemplate};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "get_adverse_actions")]
pub async fn get_adverse_actions(candidate_id: i64) -> Result<AdverseActions, AppError> {
    use crate::server::{auth, services};
    services::adverse::list(&auth::state()?, &auth::user().await?, candidate_id).await
}

#[server(prefix = "/api", endpoint = "start_adverse_action")]
pub async fn start_adverse_action(order_id: i64) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    services::adverse::start(&auth::state()?, &auth::user().await?, order_id).await
}

#[server(prefix = "/api", endpoint = "record_adverse_assessment")]
pub async fn record_adverse_assessment(
    action_id: i64,
    findings: String,
    offense_gravity: String,
    time_elapsed: String,
    job_nature: String,
    rationale: String,
) -> Result<(), AppError> {
    use crate::server::{auth, services};
    let a = crate::model::Assessment {
        findings,
        offense_gravity,
        time_elapsed,
        job_nature,
        rationale,
    };
    services::adverse::assess(&auth::state()?, &auth::user().await?, action_id, a).await
}

#[server(prefix = "/api", endpoint = "send_pre_adverse_notice")]
pub async fn send_pre_adverse_notice(action_id: i64) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    services::adverse::send_pre_adverse(&auth::state()?, &auth::user().await?, action_id).await
}

/// The document arrives as base64 (the form reads the chosen file in the browser).
#[server(prefix = "/api", endpoint = "record_candidate_response")]
pub async fn record_candidate_response(
    action_id: i64,
    note: String,
    #[server(default)] document_name: Option<String>,
    #[server(default)] document_base64: Option<String>,
) -> Result<(), AppError> {
    use crate::server::{auth, services};
    let document = services::adverse::decode_document(document_base64.as_deref())?;
    let r = services::adverse::Response {
        note,
        document_name,
        document,
    };
    services::adverse::record_response(&auth::state()?, &auth::user().await?, action_id, r).await
}

#[server(prefix = "/api", endpoint = "resume_adverse_action")]
pub async fn resume_adverse_action(action_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::adverse::resume(&auth::state()?, &auth::user().await?, action_id).await
}

#[server(prefix = "/api", endpoint = "cancel_adverse_action")]
pub async fn cancel_adverse_action(action_id: i64, reason: String) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::adverse::cancel(&auth::state()?, &auth::user().await?, action_id, &reason).await
}

#[server(prefix = "/api", endpoint = "send_final_adverse_notice")]
pub async fn send_final_adverse_notice(action_id: i64) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    services::adverse::send_final(&auth::state()?, &auth::user().await?, action_id).await
}

#[server(prefix = "/api", endpoint = "notice_templates")]
pub async fn notice_templates() -> Result<Vec<NoticeTemplate>, AppError> {
    use crate::server::{auth, services};
    services::adverse::templates(&auth::state()?, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "save_notice_template")]
pub async fn save_notice_template(
    kind: NoticeKind,
    subject: String,
    body: String,
) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    services::adverse::save_template(&auth::state()?, &auth::user().await?, kind, &subject, &body)
        .await
}

#[server(prefix = "/api", endpoint = "adverse_job_settings")]
pub async fn adverse_job_settings() -> Result<Vec<JobAdverseSettings>, AppError> {
    use crate::server::{auth, services};
    services::adverse::job_settings(&auth::state()?, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "save_adverse_job_settings")]
pub async fn save_adverse_job_settings(
    job_id: i64,
    days: i64,
    #[server(default)] business: Option<String>,
    #[server(default)] auto_final: Option<String>,
) -> Result<(), AppError> {
    use crate::server::{auth, services};
    // Checkboxes arrive only when ticked.
    let on = |v: Option<String>| v.is_some_and(|v| v == "on" || v == "true");
    services::adverse::set_job_settings(
        &auth::state()?,
        &auth::user().await?,
        job_id,
        days,
        on(business),
        on(auto_final),
    )
    .await
}

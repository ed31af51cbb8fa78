//! Interview integrity: the monitor connection (admins), interviews (recruiters, admins schedule;
//! everyone who sees the candidate reads; hiring managers get scores, never files).
use crate::error::AppError;
use crate::model::{ConnectionTest, InterviewView, MonitorStatus, Stage};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "monitor_status")]
pub async fn get_monitor_status() -> Result<MonitorStatus, AppError> {
    use crate::server::{auth, services};
    services::integrity::status(&auth::state()?.db, &auth::user().await?).await
}

/// Connects the monitor once; the key and secret are write-only.
#[server(prefix = "/api", endpoint = "connect_monitor")]
pub async fn connect_monitor(
    url: String,
    api_key: String,
    webhook_secret: String,
) -> Result<(), AppError> {
    use crate::server::{auth, services};
    let (state, user) = (auth::state()?, auth::user().await?);
    services::integrity::connect_for(&state, &user, &url, &api_key, &webhook_secret).await
}

#[server(prefix = "/api", endpoint = "test_monitor")]
pub async fn test_monitor() -> Result<ConnectionTest, AppError> {
    use crate::server::{auth, services};
    services::integrity::test(&auth::state()?, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "schedule_interview")]
pub async fn schedule_interview(
    candidate_id: i64,
    stage: Stage,
    local_time: String,
    time_zone: String,
    interviewers: String,
    #[server(default)] job_id: Option<i64>,
) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    let req = services::integrity::ScheduleRequest {
        candidate_id,
        job_id,
        stage,
        local_time,
        time_zone,
        interviewers,
    };
    services::integrity::schedule(&auth::state()?, &auth::user().await?, req).await
}

#[server(prefix = "/api", endpoint = "reschedule_interview")]
pub async fn reschedule_interview(
    interview_id: i64,
    local_time: String,
    time_zone: String,
) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::integrity::reschedule(
        &auth::state()?,
        &auth::user().await?,
        interview_id,
        &local_time,
        &time_zone,
    )
    .await
}

#[server(prefix = "/api", endpoint = "cancel_interview")]
pub async fn cancel_interview(interview_id: i64) -> Result<(), AppError> {
    use crate::server::{auth, services};
    services::integrity::cancel(&auth::state()?, &auth::user().await?, interview_id).await
}

#[server(prefix = "/api", endpoint = "candidate_interviews")]
pub async fn candidate_interviews(candidate_id: i64) -> Result<Vec<InterviewView>, AppError> {
    use crate::server::{auth, services};
    services::integrity::interviews_for(&auth::state()?.db, &auth::user().await?, candidate_id)
        .await
}

/// Deletes a candidate and everything about them (admins); the email confirms which one.
#[server(prefix = "/api", endpoint = "delete_candidate")]
pub async fn delete_candidate(candidate_id: i64, confirm_email: String) -> Result<(), AppError> {
    use crate::server::{auth, services};
    let user = auth::user().await?;
    services::retention::delete_candidate(&auth::state()?.db, &user, candidate_id, &confirm_email)
        .await
}

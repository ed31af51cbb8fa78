//! The audit log for admins and security reviewers, and candidate timelines.
use crate::error::AppError;
use crate::model::{AuditEntry, ChainReport};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "verify_audit_chain")]
pub async fn verify_audit_chain() -> Result<ChainReport, AppError> {
    use crate::server::{auth, services};
    services::audit::verify_for(&auth::state()?.db, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "recent_audit")]
pub async fn recent_audit(before: Option<i64>) -> Result<Vec<AuditEntry>, AppError> {
    use crate::server::{auth, services};
    services::audit::recent(&auth::state()?.db, &auth::user().await?, before).await
}

/// The newest signed checkpoint as pretty JSON, if any was made.
#[server(prefix = "/api", endpoint = "latest_checkpoint")]
pub async fn latest_checkpoint() -> Result<Option<String>, AppError> {
    use crate::server::{auth, services};
    services::audit::latest_checkpoint(&auth::state()?.db, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "candidate_timeline")]
pub async fn candidate_timeline(candidate_id: i64) -> Result<Vec<AuditEntry>, AppError> {
    use crate::server::{auth, services};
    services::audit::candidate_timeline(&auth::state()?.db, &auth::user().await?, candidate_id)
        .await
}

/// An evidence pack (roles with verification details; everyone else gets 404). Opening it is audited.
#[server(prefix = "/api", endpoint = "evidence_pack")]
pub async fn get_evidence_pack(session_id: String) -> Result<crate::model::EvidencePack, AppError> {
    use crate::server::{auth, services};
    services::evidence::open(
        &auth::state()?.db,
        &auth::user().await?,
        &session_id,
        "page",
    )
    .await
}

/// How many applications an export with these filters would hold (shown before downloading).
#[server(prefix = "/api", endpoint = "export_count")]
pub async fn export_count(from: String, to: String, job: Option<String>) -> Result<i64, AppError> {
    use crate::server::{auth, services};
    services::export::count(
        &auth::state()?.db,
        &auth::user().await?,
        &from,
        &to,
        job.as_deref(),
    )
    .await
}

//! The audit log for admins and security reviewers, and candidate timelines.
use crate::error::AppError;
use crate::model::{AuditEntry, ChainReport};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "verify_audit_chain")]
pub async fn verify_audit_chain() -> Result<ChainReport, AppError> {
    use crate::model::Permission;
    use crate::server::{audit::Actor, auth, services};
    let user = auth::require(Permission::ViewAudit).await?;
    Ok(services::audit::verify_and_record(&auth::state()?.db, Actor::from(&user)).await?)
}

#[server(prefix = "/api", endpoint = "recent_audit")]
pub async fn recent_audit(before: Option<i64>) -> Result<Vec<AuditEntry>, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    auth::require(Permission::ViewAudit).await?;
    services::audit::recent(&auth::state()?.db, before).await
}

/// The newest signed checkpoint as pretty JSON, if any was made.
#[server(prefix = "/api", endpoint = "latest_checkpoint")]
pub async fn latest_checkpoint() -> Result<Option<String>, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, db};
    auth::require(Permission::ViewAudit).await?;
    let cps = db::audit::checkpoints(&auth::state()?.db, 1).await?;
    cps.first()
        .map(|cp| serde_json::to_string_pretty(cp).map_err(auth::internal))
        .transpose()
}

#[server(prefix = "/api", endpoint = "candidate_timeline")]
pub async fn candidate_timeline(candidate_id: i64) -> Result<Vec<AuditEntry>, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, services};
    let user = auth::require(Permission::ViewVerificationDetails).await?;
    services::audit::candidate_timeline(&auth::state()?.db, &user, candidate_id).await
}

/// An evidence pack (roles with verification details; everyone else gets 404). Opening it is audited.
#[server(prefix = "/api", endpoint = "evidence_pack")]
pub async fn get_evidence_pack(session_id: String) -> Result<crate::model::EvidencePack, AppError> {
    use crate::server::{auth, services};
    let user = auth::current_user()
        .await?
        .ok_or(AppError::Unauthenticated)?;
    services::evidence::open(&auth::state()?.db, &user, &session_id, "page").await
}

/// How many applications an export with these filters would hold (shown before downloading).
#[server(prefix = "/api", endpoint = "export_count")]
pub async fn export_count(from: String, to: String, job: Option<String>) -> Result<i64, AppError> {
    use crate::model::Permission;
    use crate::server::{auth, db, services::export::parse_request};
    auth::require(Permission::ViewAudit).await?;
    let req = parse_request(Some(&from), Some(&to), job.as_deref(), None)
        .map_err(AppError::BadRequest)?;
    Ok(db::export::count(&auth::state()?.db, req.from, req.to, req.job_id).await?)
}

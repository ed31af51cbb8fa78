//! Verifying the audit chain, signing checkpoints, and reading the log for people.
use crate::error::AppError;
use crate::model::{AuditEntry, AuditEventType, ChainReport, CurrentUser};
use crate::server::audit::{Actor, ChainVerifier, Checkpoint, NewAuditEvent};
use crate::server::db::{self, Db};
use chrono::Utc;
use ed25519_dalek::SigningKey;

/// Entries read per query while verifying: memory stays flat however long the chain is.
const VERIFY_BATCH: i64 = 1000;

/// Walks the whole chain in batches and reports the first broken link, or the intact head.
pub async fn verify_chain(db: &Db) -> sqlx::Result<ChainReport> {
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let batch = db::audit::entries_after(db, after, VERIFY_BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in &batch {
            if let Err(broken) = verifier.check(e) {
                return Ok(broken);
            }
        }
    }
    Ok(verifier.finish())
}

/// Verifies and records who verified and what they found.
pub async fn verify_and_record(db: &Db, actor: Actor) -> sqlx::Result<ChainReport> {
    let report = verify_chain(db).await?;
    let event = NewAuditEvent::new(
        actor,
        "audit_log",
        "chain",
        AuditEventType::AuditVerified,
        serde_json::json!({ "result": report.to_string() }),
    );
    db::audit::append(db, &event).await?;
    Ok(report)
}

/// Verifies the chain, then signs and stores a checkpoint of its head.
pub async fn create_checkpoint(db: &Db, key: &SigningKey) -> anyhow::Result<Checkpoint> {
    let report = verify_chain(db).await?;
    let ChainReport::Intact { count, head_hash } = report else {
        anyhow::bail!("refusing to sign a checkpoint: the chain is {report}");
    };
    let cp = Checkpoint::sign(key, count, &head_hash, Utc::now());
    db::audit::insert_checkpoint(db, &cp).await?;
    Ok(cp)
}

/// Checks the chain against an earlier checkpoint: signature, truncation, rebuilt history.
pub async fn check_against(
    db: &Db,
    cp: &Checkpoint,
    trusted: Option<&ed25519_dalek::VerifyingKey>,
) -> anyhow::Result<ChainReport> {
    cp.verify_signature(trusted).map_err(anyhow::Error::msg)?;
    let report = verify_chain(db).await?;
    let hash_at = db::audit::hash_at(db, cp.count).await?;
    cp.check_chain(&report, hash_at.as_deref())
        .map_err(anyhow::Error::msg)?;
    Ok(report)
}

/// Signs a checkpoint every `every` for as long as the process runs.
pub fn spawn_checkpointer(db: Db, key: SigningKey, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            match create_checkpoint(&db, &key).await {
                Ok(cp) => {
                    tracing::info!(count = cp.count, head = %cp.head_hash, "signed an audit checkpoint")
                }
                Err(e) => tracing::error!(error = %e, "could not sign an audit checkpoint"),
            }
        }
    });
}

fn entries(stored: Vec<crate::server::audit::StoredEntry>) -> Vec<AuditEntry> {
    stored.iter().filter_map(|e| e.to_entry()).collect()
}

pub const PAGE: i64 = 50;

pub async fn recent(db: &Db, before: Option<i64>) -> Result<Vec<AuditEntry>, AppError> {
    Ok(entries(db::audit::recent(db, before, PAGE).await?))
}

/// The candidate's audit timeline, oldest first; hiring managers never get here (checked by the caller).
pub async fn candidate_timeline(
    db: &Db,
    _user: &CurrentUser,
    candidate_id: i64,
) -> Result<Vec<AuditEntry>, AppError> {
    db::candidates::find_candidate(db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(entries(
        db::audit::for_subject(db, "candidate", &candidate_id.to_string()).await?,
    ))
}

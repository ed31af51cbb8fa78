//! Verifying the audit chain, signing checkpoints, and reading the log for people.
use crate::error::AppError;
use crate::model::{AuditEntry, AuditEventType, ChainReport, CurrentUser, Permission};
use crate::server::audit::{
    Actor, ChainVerifier, Checkpoint, EntryDigests, NewAuditEvent, StoredEntry,
};
use crate::server::clock;
use crate::server::db::{self, Db};
use chrono::Utc;
use ed25519_dalek::SigningKey;

/// Entries read per query while verifying (keyset pages over the primary key): memory stays flat
/// however long the chain is.
const VERIFY_PAGE: i64 = 10_000;

/// Walks the whole chain in batches and reports the first broken link, or the intact head.
pub async fn verify_chain(db: &Db) -> sqlx::Result<ChainReport> {
    // One task reads the next page while this one hashes the current page on every core.
    let (pages, mut incoming) = tokio::sync::mpsc::channel::<sqlx::Result<Vec<StoredEntry>>>(2);
    let reader_db = db.clone();
    let reader = tokio::spawn(async move {
        let mut after = 0;
        loop {
            let page = db::audit::entries_after_packed(&reader_db, after, VERIFY_PAGE).await;
            // An empty page ends the walk unsent; an error is sent on and ends it.
            let next = match &page {
                Ok(p) => match p.last() {
                    Some(e) => Some(e.seq),
                    None => return,
                },
                Err(_) => None,
            };
            if pages.send(page).await.is_err() {
                return;
            }
            let Some(next) = next else { return };
            after = next;
        }
    });
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut verifier = ChainVerifier::default();
    let mut result = None;
    while let Some(page) = incoming.recv().await {
        let page = page?;
        let (page, digests) = tokio::task::spawn_blocking(move || {
            let digests = EntryDigests::of_page(&page, threads);
            (page, digests)
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("hashing audit entries failed: {e}")))?;
        if let Some(broken) = page
            .iter()
            .zip(digests)
            .find_map(|(e, d)| verifier.check_digested(e, d).err())
        {
            result = Some(broken);
            break;
        }
    }
    drop(incoming);
    let _ = reader.await;
    Ok(result.unwrap_or_else(|| verifier.finish()))
}

/// Verifies and records who verified and what they found.
pub async fn verify_and_record(db: &Db, actor: Actor) -> sqlx::Result<ChainReport> {
    let report = verify_chain(db).await?;
    if matches!(report, ChainReport::Broken { .. }) {
        super::alerts::audit_chain_broken(db, &report).await;
    }
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
    let cp = sign_head(db, key).await?;
    db::audit::insert_checkpoint(db, &cp).await?;
    Ok(cp)
}

/// A checkpoint of the chain's head, signed now if the chain verifies (Support is alerted if not).
async fn sign_head(db: &Db, key: &SigningKey) -> anyhow::Result<Checkpoint> {
    let report = verify_chain(db).await?;
    let ChainReport::Intact { count, head_hash } = report else {
        super::alerts::audit_chain_broken(db, &report).await;
        anyhow::bail!("refusing to sign a checkpoint: the chain is {report}");
    };
    Ok(Checkpoint::sign(key, count, &head_hash, clock::now()))
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

/// Signs a checkpoint every `every` until shutdown. With several instances on one database, each
/// runs this; a checkpoint is stored only when no instance stored one in the last half period
/// (nor one of the same head), so the log gets one per period, not one per instance.
pub fn spawn_checkpointer(
    tasks: &crate::server::tasks::Tasks,
    db: Db,
    key: SigningKey,
    every: std::time::Duration,
) {
    let waits = tasks.clone();
    tasks.spawn(async move {
        while waits.pause(every).await {
            match scheduled_checkpoint(&db, &key, every).await {
                Ok(Some(cp)) => {
                    tracing::info!(count = cp.count, head = %cp.head_hash, "signed an audit checkpoint")
                }
                Ok(None) => tracing::debug!("another instance signed this period's checkpoint"),
                Err(e) => tracing::error!(error = %e, "could not sign an audit checkpoint"),
            }
        }
    });
}

/// One scheduled checkpoint: signed and stored unless another instance stored one in the last
/// half of `every` (None then).
pub async fn scheduled_checkpoint(
    db: &Db,
    key: &SigningKey,
    every: std::time::Duration,
) -> anyhow::Result<Option<Checkpoint>> {
    let since = chrono::Duration::from_std(every / 2)
        .ok()
        .and_then(|half| clock::now().checked_sub_signed(half))
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
    // Another instance stored one lately: skip before verifying the whole chain to sign it.
    if db::audit::checkpoint_since(db, since).await? {
        return Ok(None);
    }
    let cp = sign_head(db, key).await?;
    Ok(db::audit::insert_checkpoint_unless_recent(db, &cp, since)
        .await?
        .then_some(cp))
}

fn entries(stored: Vec<crate::server::audit::StoredEntry>) -> Vec<AuditEntry> {
    stored.iter().filter_map(|e| e.to_entry()).collect()
}

pub const PAGE: i64 = 50;

/// The newest entries before `before` (admins and security reviewers).
pub async fn recent(
    db: &Db,
    user: &CurrentUser,
    before: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    super::access::require(user, Permission::ViewAudit)?;
    Ok(entries(db::audit::recent(db, before, PAGE).await?))
}

/// A person's "verify the chain" (admins and security reviewers), recorded under their name.
pub async fn verify_for(db: &Db, user: &CurrentUser) -> Result<ChainReport, AppError> {
    super::access::require(user, Permission::ViewAudit)?;
    Ok(verify_and_record(db, Actor::from(user)).await?)
}

/// The newest signed checkpoint as pretty JSON, if any was made (admins and security reviewers).
pub async fn latest_checkpoint(db: &Db, user: &CurrentUser) -> Result<Option<String>, AppError> {
    super::access::require(user, Permission::ViewAudit)?;
    let cps = db::audit::checkpoints(db, 1).await?;
    cps.first()
        .map(|cp| serde_json::to_string_pretty(cp).map_err(crate::server::auth::internal))
        .transpose()
}

/// The candidate's audit timeline, oldest first (roles that see verification details).
pub async fn candidate_timeline(
    db: &Db,
    user: &CurrentUser,
    candidate_id: i64,
) -> Result<Vec<AuditEntry>, AppError> {
    super::access::require(user, Permission::ViewVerificationDetails)?;
    db::candidates::find_candidate(db, candidate_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(entries(
        db::audit::for_subject(db, "candidate", &candidate_id.to_string()).await?,
    ))
}

//! Audit log storage: the append that every feature calls inside its own transaction, and reads.
use super::{on_db, BeginWrite, Db};
use crate::server::audit::{
    audit_time, canonical_json, sha256_hex, Checkpoint, LinkFields, NewAuditEvent, StoredEntry,
};
use chrono::{DateTime, Utc};

const COLUMNS: &str = "seq, occurred_at, actor_type, actor_id, actor_label, subject_type, subject_id, event_type, payload, payload_sha256, prev_hash, hash";

/// Appending to the chain on an open connection or transaction of either backend.
pub trait AuditAppend {
    /// Takes the head row's lock (appends serialize), links the entry to the previous one and stores it.
    fn append_audit(
        &mut self,
        event: &NewAuditEvent,
    ) -> impl std::future::Future<Output = sqlx::Result<StoredEntry>> + Send;
}

macro_rules! impl_audit_append {
    ($conn:ty) => {
        impl AuditAppend for $conn {
            async fn append_audit(&mut self, event: &NewAuditEvent) -> sqlx::Result<StoredEntry> {
                let (seq, prev_hash): (i64, String) =
                    sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                        .fetch_one(&mut *self)
                        .await?;
                let occurred_at = audit_time(Utc::now());
                let payload = canonical_json(&event.payload);
                let payload_sha256 = sha256_hex(&payload);
                let (actor_type, actor_id, actor_label) = event.actor.parts();
                let hash = LinkFields {
                    seq,
                    occurred_at,
                    actor_type,
                    actor_id: actor_id.as_deref(),
                    actor_label: &actor_label,
                    subject_type: event.subject_type,
                    subject_id: &event.subject_id,
                    event_type: event.event_type.as_str(),
                    payload_sha256: &payload_sha256,
                    prev_hash: &prev_hash,
                }
                .hash();
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *self).await?;
                sqlx::query(
                    "INSERT INTO audit_log (seq, occurred_at, actor_type, actor_id, actor_label, subject_type, subject_id,
                                            event_type, payload, payload_sha256, prev_hash, hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(seq)
                .bind(occurred_at)
                .bind(actor_type)
                .bind(&actor_id)
                .bind(&actor_label)
                .bind(event.subject_type)
                .bind(&event.subject_id)
                .bind(event.event_type.as_str())
                .bind(&payload)
                .bind(&payload_sha256)
                .bind(&prev_hash)
                .bind(&hash)
                .execute(&mut *self)
                .await?;
                Ok(StoredEntry {
                    seq,
                    occurred_at,
                    actor_type: actor_type.to_string(),
                    actor_id,
                    actor_label,
                    subject_type: event.subject_type.to_string(),
                    subject_id: event.subject_id.clone(),
                    event_type: event.event_type.as_str().to_string(),
                    payload: Some(payload),
                    payload_sha256,
                    prev_hash,
                    hash,
                })
            }
        }
    };
}
impl_audit_append!(sqlx::SqliteConnection);
impl_audit_append!(sqlx::PgConnection);

/// Appends an event that records no other change, in a transaction of its own.
/// Once started it runs to its end (detached from the caller's future).
pub async fn append(db: &Db, event: &NewAuditEvent) -> sqlx::Result<StoredEntry> {
    let (db, event) = (db.clone(), event.clone());
    super::detached(async move {
        on_db!(&db, p => {
            let mut tx = p.begin_write().await?;
            let entry = tx.append_audit(&event).await?;
            tx.commit().await?;
            Ok(entry)
        })
    })
    .await
}

/// Entries with `seq` greater than `after`, in order, at most `limit` (for paging through the chain).
pub async fn entries_after(db: &Db, after: i64, limit: i64) -> sqlx::Result<Vec<StoredEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    let rows = on_db!(db, p => sqlx::query_as::<_, StoredEntry>(&sql).bind(after).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

/// The newest entries first, older than `before` when given.
pub async fn recent(db: &Db, before: Option<i64>, limit: i64) -> sqlx::Result<Vec<StoredEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE ($1 IS NULL OR seq < $1) ORDER BY seq DESC LIMIT $2"
    );
    let rows = on_db!(db, p => sqlx::query_as::<_, StoredEntry>(&sql).bind(before).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn for_subject(
    db: &Db,
    subject_type: &str,
    subject_id: &str,
) -> sqlx::Result<Vec<StoredEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE subject_type = $1 AND subject_id = $2 ORDER BY seq"
    );
    let rows = on_db!(db, p => sqlx::query_as::<_, StoredEntry>(&sql).bind(subject_type).bind(subject_id).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn hash_at(db: &Db, seq: i64) -> sqlx::Result<Option<String>> {
    on_db!(db, p => sqlx::query_scalar::<_, String>("SELECT hash FROM audit_log WHERE seq = $1").bind(seq).fetch_optional(p).await)
}

/// Removes the payloads of one subject's entries (retention); the chain still verifies.
pub async fn redact_subject(
    db: &Db,
    subject_type: &str,
    subject_id: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let sql = "UPDATE audit_log SET payload = NULL, redacted_at = $1 WHERE subject_type = $2 AND subject_id = $3 AND payload IS NOT NULL";
    on_db!(db, p => sqlx::query(sql).bind(at).bind(subject_type).bind(subject_id).execute(p).await.map(|r| r.rows_affected()))
}

pub async fn insert_checkpoint(db: &Db, cp: &Checkpoint) -> sqlx::Result<()> {
    let sql = "INSERT INTO audit_checkpoints (count, head_hash, created_at, public_key, signature) VALUES ($1, $2, $3, $4, $5)";
    on_db!(db, p => sqlx::query(sql).bind(cp.count).bind(&cp.head_hash).bind(cp.created_at).bind(&cp.public_key).bind(&cp.signature).execute(p).await.map(|_| ()))
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct CheckpointRow {
    count: i64,
    head_hash: String,
    created_at: DateTime<Utc>,
    public_key: String,
    signature: String,
}

pub async fn checkpoints(db: &Db, limit: i64) -> sqlx::Result<Vec<Checkpoint>> {
    let sql = "SELECT count, head_hash, created_at, public_key, signature FROM audit_checkpoints ORDER BY id DESC LIMIT $1";
    let rows =
        on_db!(db, p => sqlx::query_as::<_, CheckpointRow>(sql).bind(limit).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Checkpoint {
            count: r.count,
            head_hash: r.head_hash,
            created_at: r.created_at,
            public_key: r.public_key,
            signature: r.signature,
        })
        .collect())
}

//! Audit log storage: the append that every feature calls inside its own transaction, and reads.
use super::{on_db, BeginWrite, Db};
use crate::server::audit::{link_entries, Checkpoint, NewAuditEvent, StoredEntry};
use crate::server::clock;
use chrono::{DateTime, Utc};

const COLUMNS: &str = "seq, occurred_at, actor_type, actor_id, actor_label, subject_type, subject_id, event_type, payload, payload_sha256, prev_hash, hash";

/// Appending to the chain on an open connection or transaction of either backend.
pub trait AuditAppend {
    /// Takes the head row's lock (appends serialize), links the entry to the previous one and stores it.
    fn append_audit(
        &mut self,
        event: &NewAuditEvent,
    ) -> impl std::future::Future<Output = sqlx::Result<StoredEntry>> + Send;

    /// The same for many events at once: one head update and multi-row inserts (imports, batches).
    fn append_audit_many(
        &mut self,
        events: &[NewAuditEvent],
    ) -> impl std::future::Future<Output = sqlx::Result<Vec<StoredEntry>>> + Send;
}

/// Rows per multi-row INSERT (12 columns each stays under SQLite's bound-parameter limit).
const INSERT_ROWS: usize = 1000;

macro_rules! impl_audit_append {
    ($conn:ty, $database:ty) => {
        impl AuditAppend for $conn {
            async fn append_audit(&mut self, event: &NewAuditEvent) -> sqlx::Result<StoredEntry> {
                let mut entries = self.append_audit_many(std::slice::from_ref(event)).await?;
                entries.pop().ok_or(sqlx::Error::RowNotFound)
            }

            async fn append_audit_many(&mut self, events: &[NewAuditEvent]) -> sqlx::Result<Vec<StoredEntry>> {
                if events.is_empty() {
                    return Ok(Vec::new());
                }
                let (last_seq, prev_hash): (i64, String) =
                    sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                        .bind(events.len() as i64)
                        .fetch_one(&mut *self)
                        .await?;
                let first_seq = last_seq - events.len() as i64 + 1;
                let entries = link_entries(first_seq, prev_hash, events, clock::now());
                let head = &entries[entries.len() - 1].hash;
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(head).execute(&mut *self).await?;
                for chunk in entries.chunks(INSERT_ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$database>::new(
                        "INSERT INTO audit_log (seq, occurred_at, actor_type, actor_id, actor_label, subject_type, subject_id,
                                                event_type, payload, payload_sha256, prev_hash, hash) ",
                    );
                    insert.push_values(chunk, |mut row, e| {
                        row.push_bind(e.seq)
                            .push_bind(e.occurred_at)
                            .push_bind(&e.actor_type)
                            .push_bind(&e.actor_id)
                            .push_bind(&e.actor_label)
                            .push_bind(&e.subject_type)
                            .push_bind(&e.subject_id)
                            .push_bind(&e.event_type)
                            .push_bind(&e.payload)
                            .push_bind(&e.payload_sha256)
                            .push_bind(&e.prev_hash)
                            .push_bind(&e.hash);
                    });
                    insert.build().execute(&mut *self).await?;
                }
                Ok(entries)
            }
        }
    };
}
impl_audit_append!(sqlx::SqliteConnection, sqlx::Sqlite);
impl_audit_append!(sqlx::PgConnection, sqlx::Postgres);

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

/// Appends many events that record no other change in one transaction (volume data).
pub async fn append_many(db: &Db, events: &[NewAuditEvent]) -> sqlx::Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        tx.append_audit_many(events).await?;
        tx.commit().await
    })
}

/// Entries with `seq` greater than `after`, in order, at most `limit` (for paging through the chain).
pub async fn entries_after(db: &Db, after: i64, limit: i64) -> sqlx::Result<Vec<StoredEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    let rows = on_db!(db, p => sqlx::query_as::<_, StoredEntry>(&sql).bind(after).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

/// The same page as `entries_after`, on SQLite read as one JSON array in one row: the driver
/// hands rows from SQLite's thread to ours one by one, which cost ~10 µs an entry — most of
/// `audit verify`'s time — while parsing the array costs about one. Ordered by `seq` here
/// (SQLite does not promise an aggregate's order). PostgreSQL streams rows cheaply and builds
/// such arrays slowly (15 s per million entries against 9 s as rows), so it reads rows.
pub async fn entries_after_packed(
    db: &Db,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<StoredEntry>> {
    let packed: Option<String> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(&format!(
            "SELECT json_group_array(json_array({COLUMNS})) FROM (SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2)"
        ))
        .bind(after).bind(limit).fetch_one(p).await?,
        Db::Postgres(_) => return entries_after(db, after, limit).await,
    };
    let Some(packed) = packed else {
        return Ok(Vec::new());
    };
    // Each entry an array of the columns in `StoredEntry`'s field order.
    let mut entries: Vec<StoredEntry> =
        serde_json::from_str(&packed).map_err(|e| sqlx::Error::Decode(e.into()))?;
    entries.sort_unstable_by_key(|e| e.seq);
    Ok(entries)
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

const INSERT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints (count, head_hash, created_at, public_key, signature) VALUES ($1, $2, $3, $4, $5)";

pub async fn insert_checkpoint(db: &Db, cp: &Checkpoint) -> sqlx::Result<()> {
    on_db!(db, p => sqlx::query(INSERT_CHECKPOINT).bind(cp.count).bind(&cp.head_hash).bind(cp.created_at).bind(&cp.public_key).bind(&cp.signature).execute(p).await.map(|_| ()))
}

/// Has any instance stored a checkpoint after `since`? (A cheap look before signing one.)
pub async fn checkpoint_since(db: &Db, since: DateTime<Utc>) -> sqlx::Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM audit_checkpoints WHERE created_at > $1)";
    on_db!(db, p => sqlx::query_scalar::<_, bool>(sql).bind(since).fetch_one(p).await)
}

/// Stores a scheduled checkpoint unless any instance stored one after `since` or one of the same
/// head already exists: false when skipped. The table is locked for the check and the insert (SQLite:
/// the write transaction), so instances whose checkpointers fire together store one.
pub async fn insert_checkpoint_unless_recent(
    db: &Db,
    cp: &Checkpoint,
    since: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let (db, cp) = (db.clone(), cp.clone());
    super::detached(async move {
        let recent = "SELECT EXISTS (SELECT 1 FROM audit_checkpoints WHERE created_at > $1 OR count = $2)";
        on_db!(&db, p => {
            let mut tx = p.begin_write().await?;
            if matches!(db, Db::Postgres(_)) {
                sqlx::query("LOCK TABLE audit_checkpoints IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
            }
            let skip: bool = sqlx::query_scalar(recent).bind(since).bind(cp.count).fetch_one(&mut *tx).await?;
            if !skip {
                sqlx::query(INSERT_CHECKPOINT).bind(cp.count).bind(&cp.head_hash).bind(cp.created_at).bind(&cp.public_key).bind(&cp.signature).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(!skip)
        })
    })
    .await
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

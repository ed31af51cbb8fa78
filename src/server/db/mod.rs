//! The database: one `Db` over SQLite or PostgreSQL, and every SQL statement the app runs.
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub mod adverse;
pub mod alerts;
pub mod audit;
pub mod background;
pub mod bulk;
pub mod candidates;
pub mod events;
pub mod export;
pub mod insights;
pub mod integrations;
pub mod integrity;
pub mod jobs;
pub mod login;
pub mod metrics;
pub mod policy;
pub mod reconciliation;
pub mod review;
pub mod users;
pub mod verification;

/// Rows written at once from which a load counts as bulk (`Db::refresh_statistics`).
pub const BULK_ROWS: usize = 1_000;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool `$db` holds; the SQL text is shared.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite($pool) => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
}
pub use on_db;

/// A value bound to a placeholder of a statement assembled from the filters that are set.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Text(String),
    /// A state's stored text (stage, status, risk tier).
    Str(&'static str),
    Time(chrono::DateTime<chrono::Utc>),
}

/// The values of such a statement, numbered `$1…` as they are added (both databases read `$n`).
#[derive(Debug, Default)]
pub struct Binds(Vec<Bind>);

impl Binds {
    pub fn new() -> Binds {
        Binds::default()
    }

    /// Adds `value` and returns its placeholder (`$n`).
    pub fn push(&mut self, value: Bind) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }

    /// Adds each of `ids` and returns their placeholders for an `IN (…)` list (`$3, $4, …`).
    pub fn push_ids(&mut self, ids: &[i64]) -> String {
        ids.iter()
            .map(|id| self.push(Bind::Int(*id)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Adds each of `values` as text and returns their placeholders for an `IN (…)` list.
    pub fn push_texts(&mut self, values: &[&str]) -> String {
        values
            .iter()
            .map(|v| self.push(Bind::Text(v.to_string())))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn values(&self) -> &[Bind] {
        &self.0
    }
}

/// Binds every value of a `Binds` to `$query`, in order.
#[macro_export]
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds.values() {
            q = match b {
                $crate::server::db::Bind::Int(i) => q.bind(*i),
                $crate::server::db::Bind::Text(t) => q.bind(t.clone()),
                $crate::server::db::Bind::Str(s) => q.bind(*s),
                $crate::server::db::Bind::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}
pub use bind_all;

/// Values bound in one `IN (…)` list at most: larger sets are read a statement per chunk.
const IN_LIST_CHUNK: usize = 500;

/// The rows `sql_for(placeholders)` returns for every value of `keys`, `IN_LIST_CHUNK` values a
/// statement (`sql_for` puts the placeholders in its `IN (…)`).
pub async fn fetch_in<T>(
    db: &Db,
    keys: &[Bind],
    sql_for: impl Fn(&str) -> String,
) -> sqlx::Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let mut rows = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(IN_LIST_CHUNK) {
        let mut binds = Binds::new();
        let list: Vec<String> = chunk.iter().map(|k| binds.push(k.clone())).collect();
        let sql = sql_for(&list.join(", "));
        rows.extend(
            on_db!(db, p => bind_all!(sqlx::query_as::<_, T>(&sql), &binds).fetch_all(p).await)?,
        );
    }
    Ok(rows)
}

/// `ids` as values to bind.
pub fn int_binds(ids: &[i64]) -> Vec<Bind> {
    ids.iter().map(|id| Bind::Int(*id)).collect()
}

/// PostgreSQL session limits set on every connection, so a leaked transaction or a stuck lock
/// turns into an error within seconds instead of a hang (`CLEARANCE_PG_*_MS` in `Config`; 0 turns
/// one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgTimeouts {
    pub statement_ms: u64,
    pub lock_ms: u64,
    pub idle_in_transaction_ms: u64,
}

impl Default for PgTimeouts {
    fn default() -> Self {
        PgTimeouts {
            statement_ms: 30_000,
            lock_ms: 10_000,
            idle_in_transaction_ms: 15_000,
        }
    }
}

/// Whether a connection handed back to the pool is still inside a transaction. A future dropped
/// in the middle of `BEGIN` leaves one open that sqlx does not know about. Sent as a simple query
/// (one message), so outside a transaction it is the first statement of its own implicit one and
/// both timestamps are equal (PostgreSQL documents this); in a leaked one the transaction began earlier.
const PG_IN_TRANSACTION_SQL: &str = "SELECT transaction_timestamp() <> statement_timestamp()";

/// When the last `begin_write` was dropped before it returned (milliseconds since the epoch; 0 =
/// never). Only such a drop can hand a connection back inside a transaction sqlx does not know of
/// (a dropped `Transaction` queues its own rollback), so connections are checked on release only
/// for a while after one — the check costs a round trip per statement on PostgreSQL otherwise.
static LAST_DROPPED_BEGIN_MS: AtomicU64 = AtomicU64::new(0);

/// How long after a dropped `begin_write` every released connection is checked. The dropped
/// future's connection goes back to the pool at once (sqlx spawns the release), so this is margin.
const DOUBT_WINDOW_MS: u64 = 60_000;

/// A connection idle for longer than this is pinged before use (a server restart or a proxy that
/// dropped it shows then, not as the failure of a user's statement). Fresher ones are used as they
/// are: sqlx's default pings every acquire, one more round trip per statement.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// True while a connection handed back may still be inside a leaked transaction.
fn release_in_doubt() -> bool {
    let last = LAST_DROPPED_BEGIN_MS.load(Ordering::Acquire);
    last != 0 && now_ms().saturating_sub(last) <= DOUBT_WINDOW_MS
}

/// A `begin_write` future that, dropped before it finished, opens the window in which released
/// connections are checked — before the future it wraps (and the connection inside it) is dropped:
/// fields drop after `Drop::drop`, and the connection's release runs in a task that may start at
/// once on another thread.
struct DoubtIfDropped<F> {
    begin: std::pin::Pin<Box<F>>,
    finished: bool,
}

impl<F: std::future::Future> std::future::Future for DoubtIfDropped<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let polled = self.begin.as_mut().poll(cx);
        if polled.is_ready() {
            self.finished = true;
        }
        polled
    }
}

impl<F> Drop for DoubtIfDropped<F> {
    fn drop(&mut self) {
        if !self.finished {
            LAST_DROPPED_BEGIN_MS.store(now_ms().max(1), Ordering::Release);
        }
    }
}

fn doubt_if_dropped<F: std::future::Future>(begin: F) -> DoubtIfDropped<F> {
    DoubtIfDropped {
        begin: Box::pin(begin),
        finished: false,
    }
}

/// The pool's acquire check: ping only connections that sat idle for a while.
fn ping_if_long_idle<C: sqlx::Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> futures::future::BoxFuture<'_, sqlx::Result<bool>> {
    Box::pin(async move {
        if meta.idle_for >= PING_IF_IDLE_FOR {
            conn.ping().await?;
        }
        Ok(true)
    })
}

/// The pool's release check: keep a connection only when it is outside any transaction.
fn outside_a_transaction(
    conn: &mut sqlx::PgConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> futures::future::BoxFuture<'_, sqlx::Result<bool>> {
    Box::pin(async move {
        if !release_in_doubt() {
            return Ok(true);
        }
        use sqlx::{Executor, Row};
        // A query without arguments goes as one simple-protocol message.
        let row = conn.fetch_one(PG_IN_TRANSACTION_SQL).await?;
        let open: bool = row.try_get(0)?;
        if open {
            tracing::warn!("closing a pooled connection that was left inside a transaction");
        }
        Ok(!open)
    })
}

/// The same check for SQLite. sqlx's `begin_with("BEGIN IMMEDIATE")` awaits once more after the
/// BEGIN is acknowledged; a future dropped there leaves the write lock held by a pooled connection
/// with no `Transaction` to roll it back. The ping first runs any rollback a dropped transaction queued.
fn sqlite_outside_a_transaction(
    conn: &mut sqlx::SqliteConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> futures::future::BoxFuture<'_, sqlx::Result<bool>> {
    Box::pin(async move {
        if !release_in_doubt() {
            return Ok(true);
        }
        use sqlx::Connection;
        conn.ping().await?;
        let open = conn.is_in_transaction();
        if open {
            tracing::warn!("closing a pooled connection that was left inside a transaction");
        }
        Ok(!open)
    })
}

/// How SQLite makes a commit durable (`CLEARANCE_SQLITE_SYNCHRONOUS`). In WAL mode, `Full` syncs
/// the log at every commit: a commit that was answered survives a power cut. `Normal` syncs only at
/// checkpoints: a committed transaction survives the process crashing but the last ones before a
/// power cut or kernel panic may be lost — several times the commit rate on slow disks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteDurability {
    #[default]
    Full,
    Normal,
}

impl std::str::FromStr for SqliteDurability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(SqliteDurability::Full),
            "normal" => Ok(SqliteDurability::Normal),
            other => Err(format!(
                "'{other}' is not a SQLite synchronous setting (full or normal)"
            )),
        }
    }
}

/// SQLite's own checkpoint happens inside the commit that takes the log past this many pages
/// (4 KiB each): copying the log into the database file and syncing it, on the writer's time.
/// The server checkpoints in the background well before (`spawn_checkpoints`).
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_000;
/// After a checkpoint has emptied it, the log file is cut back to this size.
const WAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;
/// How often the server's background checkpoint runs (SQLite).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

impl Db {
    /// Connects to `postgres://…` or a `sqlite://` file (created if missing, WAL, foreign keys on),
    /// with the default PostgreSQL session limits.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        Db::connect_with(url, PgTimeouts::default(), SqliteDurability::default()).await
    }

    pub async fn connect_with(
        url: &str,
        timeouts: PgTimeouts,
        durability: SqliteDurability,
    ) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?.options([
                ("statement_timeout", timeouts.statement_ms.to_string()),
                ("lock_timeout", timeouts.lock_ms.to_string()),
                (
                    "idle_in_transaction_session_timeout",
                    timeouts.idle_in_transaction_ms.to_string(),
                ),
            ]);
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(ping_if_long_idle)
                // A connection that comes back inside a transaction is closed, not reused: the
                // server rolls the transaction back and its locks go with it.
                .after_release(outside_a_transaction)
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match durability {
                    SqliteDurability::Full => SqliteSynchronous::Full,
                    SqliteDurability::Normal => SqliteSynchronous::Normal,
                })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Checkpoints run beside the writers (`checkpoint`, every CHECKPOINT_EVERY while
                // the server runs), not inside whichever commit crossed SQLite's default 1,000
                // pages; this is the backstop for processes without that task (the command line).
                .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
                .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string());
            if let Some(parent) = opts.get_filename().parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)?;
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .before_acquire(ping_if_long_idle)
                .after_release(sqlite_outside_a_transaction)
                .after_connect(|conn, _| Box::pin(jobs::watch_commits(conn)))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres:// (got a value starting with '{}')", url.split(':').next().unwrap_or(""))
        }
    }

    /// Applies pending migrations; an error here must stop start-up.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Postgres(p) => {
                // Migrations may build indexes over large tables: no statement or lock limit for
                // them, on a connection of their own that is closed afterwards.
                let mut conn = p.acquire().await?.detach();
                sqlx::raw_sql("SET statement_timeout = 0; SET lock_timeout = 0")
                    .execute(&mut conn)
                    .await?;
                let result = sqlx::migrate!("./migrations/postgres").run(&mut conn).await;
                use sqlx::Connection;
                let _ = conn.close().await;
                result?
            }
        }
        Ok(())
    }

    /// SQLite: copies what the write-ahead log holds into the database file (PASSIVE: as far as
    /// readers allow, without waiting for anyone or holding up writers). A commit then only appends
    /// to the log and syncs it. PostgreSQL checkpoints by itself: nothing to do.
    pub async fn checkpoint(&self) -> sqlx::Result<()> {
        if let Db::Sqlite(p) = self {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// Runs `checkpoint` every `CHECKPOINT_EVERY` until shutdown (SQLite; nothing on PostgreSQL).
    pub fn spawn_checkpoints(&self, tasks: &crate::server::tasks::Tasks) {
        let Db::Sqlite(_) = self else { return };
        let (db, waits) = (self.clone(), tasks.clone());
        tasks.spawn(async move {
            while waits.pause(CHECKPOINT_EVERY).await {
                if let Err(e) = db.checkpoint().await {
                    tracing::warn!(error = %e, "could not checkpoint the SQLite log");
                }
            }
        });
    }

    pub async fn ping(&self) -> bool {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    /// After a bulk load (an import, volume data): PostgreSQL vacuums and analyzes the tables a
    /// load fills at once rather than whenever autovacuum gets there. Until then it plans for
    /// empty tables (seen: search 96 ms with a sequential scan → 14 ms on its trigram index, 100k
    /// candidates), and without the visibility map the review queue's counts read every open
    /// item's row instead of its index alone (1.4 → 0.4 ms at 1,667 open items). SQLite plans
    /// without statistics and is left as it is.
    pub async fn refresh_statistics(&self) -> sqlx::Result<()> {
        if let Db::Postgres(p) = self {
            // VACUUM runs outside a transaction: on a pool connection, as one statement.
            sqlx::query(
                "VACUUM (ANALYZE) candidates, applications, jobs, stage_changes, \
                 verification_sessions, review_items, audit_log",
            )
            .execute(p)
            .await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }
}

/// Starting a transaction that will write: SQLite takes the write lock up front (BEGIN IMMEDIATE)
/// so a read early in the transaction can never make its later write fail on a stale snapshot.
pub trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        doubt_if_dropped(self.begin_with("BEGIN IMMEDIATE")).await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        doubt_if_dropped(self.begin()).await
    }
}

/// Runs a write that must finish once started to its end even when the caller's future is dropped
/// (a client hanging up, an aborted task): the work is spawned and awaited through its handle.
pub async fn detached<T, F>(work: F) -> T
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels the task; nothing is left to answer then.
        Err(e) => panic!("a detached database write was cancelled: {e}"),
    }
}

/// True when a statement failed on a UNIQUE constraint (both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// PostgreSQL's data version: the snapshot (which transactions are visible). Equal snapshots see
/// equal rows, and it costs writers nothing.
pub const SNAPSHOT_VERSION: &str = "SELECT pg_current_snapshot()::text";

/// What kept readings are compared with (`services::kept`): a value that differs after any commit
/// that may have changed what they read. SQLite: `sqlite`, a `SELECT` of the counters its triggers
/// bump inside each writing transaction; PostgreSQL: the snapshot.
pub async fn data_version(db: &Db, sqlite: &str) -> sqlx::Result<String> {
    let sql = match db {
        Db::Sqlite(_) => sqlite,
        Db::Postgres(_) => SNAPSHOT_VERSION,
    };
    on_db!(db, p => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await)
}

/// A write a unique index refused as `None` (someone got there first); any other error as is.
pub fn unless_taken<T>(written: sqlx::Result<T>) -> sqlx::Result<Option<T>> {
    match written {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Names where a value came from when a row's column cannot be read as its type (a status or
/// stage Clearance does not know, written by hand or by a newer version): "candidates.
/// verification_status: unknown verification status 'x' (expected …)" instead of sqlx's bare
/// column name. Any other error passes through unchanged.
pub trait Origin<T> {
    /// `table_of` gives the table of a column of the row (for rows joined from several tables).
    fn origin(self, table_of: impl Fn(&str) -> &'static str) -> sqlx::Result<T>;

    /// Every column of the row comes from `table`.
    fn in_table(self, table: &'static str) -> sqlx::Result<T>
    where
        Self: Sized,
    {
        self.origin(|_| table)
    }
}

impl<T> Origin<T> for sqlx::Result<T> {
    fn origin(self, table_of: impl Fn(&str) -> &'static str) -> sqlx::Result<T> {
        self.map_err(|e| match e {
            sqlx::Error::ColumnDecode { index, source } => {
                let column = index.trim_matches('"');
                sqlx::Error::Decode(format!("{}.{column}: {source}", table_of(column)).into())
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod origin_tests {
    use super::Origin;

    #[test]
    fn a_column_decode_error_names_table_column_and_value() {
        let read: sqlx::Result<()> = Err(sqlx::Error::ColumnDecode {
            index: "\"stage\"".into(),
            source: "unknown stage 'interview' (expected applied, …)".into(),
        });
        let err = read.in_table("applications").unwrap_err().to_string();
        assert!(
            err.contains("applications.stage: unknown stage 'interview'"),
            "{err}"
        );
        let other: sqlx::Result<()> = Err(sqlx::Error::RowNotFound);
        assert!(matches!(
            other.in_table("applications"),
            Err(sqlx::Error::RowNotFound)
        ));
    }
}

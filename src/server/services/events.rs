//! Live updates (`GET /events`): each app instance runs one pump that reads the change log the
//! database's triggers write (`db::events`) and fans each change out to the streams open on this
//! instance; each stream passes on only what its user may see. On PostgreSQL the pump wakes on
//! a NOTIFY the same triggers send, so a change committed by any instance reaches the browsers of
//! every instance at once (and a poll every 2 s is the safety net); on SQLite (one instance) it
//! reads the log every 250 ms. The pump starts with the first stream.
use crate::model::{ChangeKind, ChangeNotice, CurrentUser, Permission};
use crate::server::clock;
use crate::server::db::{self, events::ChangeRow, Db};
use crate::server::state::AppState;
use futures::Stream;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::broadcast;

/// Changes are kept this long: a browser away for longer refetches everything.
pub const KEEP: Duration = Duration::from_secs(3600);
/// A stream ends after this long and the browser reconnects (with the last id it saw): a user
/// signed out or removed meanwhile gets no further notices.
pub const STREAM_FOR: Duration = Duration::from_secs(15 * 60);
/// Ids are handed out before commit: a transaction may commit after a later one. The pump
/// re-reads this many ids behind the newest it sent and skips what it already sent.
const SLACK: i64 = 256;
const CHANNEL: usize = 1024;

pub struct Hub {
    tx: broadcast::Sender<ChangeRow>,
    /// Set once the pump has its starting point and runs; every first stream waits for it.
    started: tokio::sync::OnceCell<()>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub {
            tx: broadcast::channel(CHANNEL).0,
            started: tokio::sync::OnceCell::new(),
        }
    }
}

impl Hub {
    /// Subscribes, starting the pump with the first stream. The pump's starting point (what it
    /// treats as already told) is read before any stream is answered: a change committed after a
    /// stream opened is always news, however late the pump task itself gets to run.
    async fn subscribe(&self, state: &AppState) -> broadcast::Receiver<ChangeRow> {
        let rx = self.tx.subscribe();
        self.started
            .get_or_init(|| async {
                let start = Start::read(&state.db).await;
                state.tasks.spawn(pump(state.clone(), start));
            })
            .await;
        rx
    }
}

/// Ids sent lately, to skip when the pump reads them again.
#[derive(Default)]
struct Recent {
    order: VecDeque<i64>,
    set: HashSet<i64>,
}

impl Recent {
    fn insert(&mut self, id: i64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        while self.order.len() > 4 * SLACK as usize {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// Where a pump starts: listening first (PostgreSQL), then what was committed before it, which is
/// not news — its first read looks back SLACK ids, which would tell the first streams of up to that
/// many old changes.
struct Start {
    last: i64,
    recent: Recent,
    listener: Option<sqlx::postgres::PgListener>,
}

impl Start {
    async fn read(db: &Db) -> Start {
        let listener = db::events::listen(db).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot LISTEN for changes; reading them every 2 s");
            None
        });
        let last = db::events::latest_id(db).await.unwrap_or(0);
        let mut recent = Recent::default();
        for row in db::events::since(db, last - SLACK, 1000)
            .await
            .unwrap_or_default()
        {
            recent.insert(row.id);
        }
        Start {
            last,
            recent,
            listener,
        }
    }
}

async fn pump(state: AppState, start: Start) {
    let (db, tx) = (&state.db, &state.events.tx);
    let stopping = state.tasks.stopping();
    let Start {
        mut last,
        mut recent,
        mut listener,
    } = start;
    let mut pruned = std::time::Instant::now();
    loop {
        let wait = async {
            match listener.as_mut() {
                Some(l) => {
                    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(2), l.recv()).await
                    {
                        tracing::warn!(error = %e, "change notifications interrupted");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                None if matches!(db, Db::Postgres(_)) => {
                    tokio::time::sleep(Duration::from_secs(2)).await
                }
                None => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        };
        tokio::select! {
            _ = stopping.cancelled() => return,
            _ = wait => {}
        }
        match db::events::since(db, last - SLACK, 1000).await {
            Ok(rows) => {
                for row in rows {
                    if recent.insert(row.id) {
                        last = last.max(row.id);
                        // No stream open: nobody to tell.
                        let _ = tx.send(row);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the change log"),
        }
        if pruned.elapsed() > Duration::from_secs(300) {
            pruned = std::time::Instant::now();
            let before = clock::now() - chrono::Duration::from_std(KEEP).unwrap_or_default();
            if let Err(e) = db::events::prune(db, before).await {
                tracing::warn!(error = %e, "cannot prune the change log");
            }
        }
    }
}

/// What one change needs of the user who is told about it (SPEC §2): candidates' stages and
/// statuses for anyone who sees candidates (hiring managers: of their jobs), check results and
/// the review queue for those who see verification details, deliveries for admins.
pub fn needs(kind: ChangeKind) -> Permission {
    match kind {
        ChangeKind::Verification | ChangeKind::Stage | ChangeKind::Bulk => {
            Permission::ViewCandidates
        }
        ChangeKind::Orders | ChangeKind::Interviews | ChangeKind::ReviewQueue => {
            Permission::ViewVerificationDetails
        }
        ChangeKind::Deliveries => Permission::ManageSettings,
    }
}

/// One event for the stream: an id (none for `reset`), the kind, the JSON data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: Option<i64>,
    pub event: &'static str,
    pub data: String,
}

/// `reset`: changes were missed (too old to replay, or the stream fell behind): refetch all.
fn reset() -> Outgoing {
    Outgoing {
        id: None,
        event: "reset",
        data: "{}".into(),
    }
}

struct Viewer {
    db: Db,
    user: CurrentUser,
    /// Candidates a hiring manager was found to see or not (per stream).
    seen: HashMap<i64, bool>,
}

impl Viewer {
    async fn may_see(&mut self, row: &ChangeRow) -> bool {
        if !self.user.role.can(needs(row.kind)) {
            return false;
        }
        if !self.user.role.sees_only_own_jobs() {
            return true;
        }
        let Some(candidate) = row.candidate_id else {
            return false;
        };
        if let Some(known) = self.seen.get(&candidate) {
            return *known;
        }
        let sees = db::events::manager_sees(&self.db, self.user.id, candidate)
            .await
            .unwrap_or(false);
        if self.seen.len() > 10_000 {
            self.seen.clear();
        }
        self.seen.insert(candidate, sees);
        sees
    }

    async fn outgoing(&mut self, row: ChangeRow) -> Option<Outgoing> {
        if !self.may_see(&row).await {
            return None;
        }
        let data = serde_json::to_string(&ChangeNotice {
            candidate_id: row.candidate_id,
        })
        .ok()?;
        Some(Outgoing {
            id: Some(row.id),
            event: row.kind.as_str(),
            data,
        })
    }
}

/// The events for one signed-in user's stream: what was missed since `last_event_id` (or
/// `reset` when that is gone), then each change as it comes, until `STREAM_FOR` or shutdown.
pub async fn stream(
    state: AppState,
    user: CurrentUser,
    last_event_id: Option<i64>,
) -> impl Stream<Item = Outgoing> {
    use futures::StreamExt;
    let rx = state.events.subscribe(&state).await;
    let mut viewer = Viewer {
        db: state.db.clone(),
        user,
        seen: HashMap::new(),
    };
    // Subscribed first, then the replay: nothing falls between; what both carry is sent once.
    let mut first = Vec::new();
    let mut replayed = 0;
    if let Some(after) = last_event_id {
        let oldest = db::events::oldest_id(&state.db).await.ok().flatten();
        match db::events::since(&state.db, after, 1000).await {
            Ok(rows) if oldest.is_some_and(|o| o <= after + 1) && rows.len() < 1000 => {
                for row in rows {
                    replayed = replayed.max(row.id);
                    if let Some(o) = viewer.outgoing(row).await {
                        first.push(o);
                    }
                }
            }
            _ => first.push(reset()),
        }
    }
    let live = futures::stream::unfold((rx, viewer), move |(mut rx, mut viewer)| async move {
        loop {
            match rx.recv().await {
                Ok(row) if row.id <= replayed => continue,
                Ok(row) => {
                    if let Some(o) = viewer.outgoing(row).await {
                        return Some((o, (rx, viewer)));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((reset(), (rx, viewer)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let stopping = state.tasks.stopping();
    futures::stream::iter(first)
        .chain(live)
        .take_until(async move {
            tokio::select! {
                _ = stopping.cancelled() => {}
                _ = tokio::time::sleep(STREAM_FOR) => {}
            }
        })
}

//! The one application state shared by routes and server functions.
use super::{config::Config, db::Db};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cloned for every request (axum's `State`, each middleware, Leptos' context): one reference count,
/// not one per field (~25 atomic increments and as many decrements were 2–3 % of a request's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares, reached through it (`state.db`, `state.config`…).
#[derive(Clone)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    /// One HTTP client (connection pool) for the identity-verification provider.
    pub http: reqwest::Client,
    /// The client for admin-entered partner and monitor URLs (`partners::outbound`).
    pub partner_http: reqwest::Client,
    /// Verification webhooks that arrive together are stored and applied in one transaction.
    pub verification_ingest: Arc<crate::server::services::verification::IngestQueue>,
    /// The candidate list's counts and pages, kept until what they show changes.
    pub list_cache: Arc<crate::server::services::candidates::ListCache>,
    /// The review queue's readings, kept until what they show changes.
    pub review_cache: Arc<crate::server::services::review::QueueCache>,
    /// The Insights page's figures, kept until what they count changes (a minute at most).
    pub insights_cache: Arc<crate::server::services::insights::Cache>,
    /// Live updates: the changes this instance's streams are told about.
    pub events: Arc<crate::server::services::events::Hub>,
    /// Badge requests per token and minute (this instance's share).
    pub badge_limits: Arc<crate::server::services::embed::TokenLimits>,
    /// The background tasks, stopped together on shutdown.
    pub tasks: crate::server::tasks::Tasks,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> AppState {
        AppState(Arc::new(Shared {
            leptos_options,
            db: db.clone(),
            partner_http: crate::server::partners::outbound::client(&config.outbound),
            config: Arc::new(config),
            http: http_client(),
            verification_ingest: Arc::new(crate::server::services::verification::ingest_queue(&db)),
            list_cache: Arc::default(),
            review_cache: Arc::default(),
            insights_cache: Arc::default(),
            events: Arc::default(),
            badge_limits: Arc::default(),
            tasks: crate::server::tasks::Tasks::new(),
        }))
    }

    /// The same state on another connection pool (a second instance on the same database).
    pub fn with_db(&self, db: Db) -> AppState {
        AppState(Arc::new(Shared {
            db,
            ..(*self.0).clone()
        }))
    }

    /// The same state under another configuration.
    pub fn with_config(&self, config: Config) -> AppState {
        AppState(Arc::new(Shared {
            config: Arc::new(config),
            ..(*self.0).clone()
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What axum extractors and Leptos take from the state by type (`State<LeptosOptions>`…).
macro_rules! from_state {
    ($($field:ident: $ty:ty),+ $(,)?) => {$(
        impl FromRef<AppState> for $ty {
            fn from_ref(state: &AppState) -> $ty {
                state.$field.clone()
            }
        }
    )+};
}
from_state!(
    leptos_options: LeptosOptions,
    db: Db,
    config: Arc<Config>,
    http: reqwest::Client,
    badge_limits: Arc<crate::server::services::embed::TokenLimits>,
);

/// The outbound HTTP client: bounded timeouts so a silent partner cannot hold a worker.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .user_agent(concat!("Clearance/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

//! The one application state shared by routes and server functions.
use super::{config::Config, db::Db};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    /// One HTTP client (connection pool) for the identity-verification provider.
    pub http: reqwest::Client,
    /// The client for admin-entered partner and monitor URLs (`partners::outbound`).
    #[from_ref(skip)]
    pub partner_http: reqwest::Client,
    /// Verification webhooks that arrive together are stored and applied in one transaction.
    #[from_ref(skip)]
    pub verification_ingest: Arc<crate::server::services::verification::IngestQueue>,
    /// The candidate list's counts and pages, kept until what they show changes.
    #[from_ref(skip)]
    pub list_cache: Arc<crate::server::services::candidates::ListCache>,
    /// The review queue's readings, kept until what they show changes.
    #[from_ref(skip)]
    pub review_cache: Arc<crate::server::services::review::QueueCache>,
    /// The Insights page's figures, kept until what they count changes (a minute at most).
    #[from_ref(skip)]
    pub insights_cache: Arc<crate::server::services::insights::Cache>,
    /// Live updates: the changes this instance's streams are told about.
    #[from_ref(skip)]
    pub events: Arc<crate::server::services::events::Hub>,
    /// Badge requests per token and minute (this instance's share).
    pub badge_limits: Arc<crate::server::services::embed::TokenLimits>,
    /// The background tasks, stopped together on shutdown.
    #[from_ref(skip)]
    pub tasks: crate::server::tasks::Tasks,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> AppState {
        AppState {
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
        }
    }
}

/// The outbound HTTP client: bounded timeouts so a silent partner cannot hold a worker.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .user_agent(concat!("Clearance/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

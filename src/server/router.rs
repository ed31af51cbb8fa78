//! The axum router: health routes, Leptos pages and server functions, and the layers around them.
use crate::server::{auth::session_store::DbSessionStore, security, state::AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Largest request body outside the webhook routes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The body limit for a path: integrity reports may be large (10 MB files in base64), the rest not.
fn body_limit_for(path: &str) -> usize {
    if path == "/webhooks/integrity" {
        crate::server::services::integrity::WEBHOOK_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// Refuses a declared oversize body with 413 at once and caps every body as it streams in.
async fn limit_body(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = body_limit_for(req.uri().path());
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        )
            .into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// Downloads that carry personal data: never cached, and — because opening them writes to the
/// audit log — only fetched by our own pages or from the address bar (`Sec-Fetch-Site`).
async fn personal_download(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if security::fetched_from_elsewhere(req.headers()) {
        tracing::warn!(path = %security::loggable_path(req.uri().path()), "refused a download requested by another site");
        return (
            StatusCode::FORBIDDEN,
            "This download can only be opened from Clearance itself.",
        )
            .into_response();
    }
    let mut res = next.run(req).await;
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

/// Registers every server function with the router (explicitly: `inventory` may lose those in
/// units the linker drops) and keeps their paths for the test that compares them with `api/`.
macro_rules! server_fns {
    ($($f:ident),+ $(,)?) => {
        fn register_server_fns() {
            use crate::api::{
                adverse::*, alerts::*, audit::*, auth::*, background::*, bulk::*, candidates::*,
                deliveries::*, embed::*, insights::*, integrity::*, policy::*, reconciliation::*,
                review::*,
            };
            $( leptos::server_fn::axum::register_explicit::<$f>(); )+
        }

        /// The path of each registered server function.
        #[cfg(test)]
        fn registered_paths() -> Vec<&'static str> {
            use crate::api::{
                adverse::*, alerts::*, audit::*, auth::*, background::*, bulk::*, candidates::*,
                deliveries::*, embed::*, insights::*, integrity::*, policy::*, reconciliation::*,
                review::*,
            };
            use leptos::server_fn::ServerFn;
            vec![$( <$f as ServerFn>::PATH ),+]
        }
    };
}

server_fns!(
    PreviewBulk,
    StartBulk,
    CancelBulk,
    BulkJob,
    GetAdverseActions,
    StartAdverseAction,
    RecordAdverseAssessment,
    SendPreAdverseNotice,
    RecordCandidateResponse,
    ResumeAdverseAction,
    CancelAdverseAction,
    SendFinalAdverseNotice,
    NoticeTemplates,
    SaveNoticeTemplate,
    AdverseJobSettings,
    SavePartnerContact,
    ListIntegrations,
    CreateIntegration,
    RevokeIntegration,
    RotateIntegration,
    AlertSettings,
    SaveAlertSettings,
    SendTestAlert,
    RecentAlerts,
    GetInsights,
    SaveAdverseJobSettings,
    Login,
    Logout,
    GetCurrentUser,
    ListCandidates,
    ListJobs,
    GetCandidate,
    MoveStage,
    VerifyAuditChain,
    RecentAudit,
    LatestCheckpoint,
    CandidateTimeline,
    SendVerification,
    GetVerificationPanel,
    ListDeliveries,
    GetEvidencePack,
    ExportCount,
    GetReviewQueue,
    ClaimReview,
    ReleaseReview,
    DecideReview,
    ApproveOverride,
    ReassignReview,
    ListReasonCodes,
    AddReasonCode,
    RunReconciliation,
    ReconcileCandidate,
    GetDriftReport,
    SupportView,
    ReplayDelivery,
    ListPartners,
    AddPartner,
    TestPartnerConnection,
    GetCatalog,
    PlaceBackgroundCheck,
    BackgroundChecks,
    ListPolicies,
    PolicyVersions,
    CheckPolicy,
    SavePolicy,
    GrantException,
    StageExceptions,
    GetMonitorStatus,
    ConnectMonitor,
    TestMonitor,
    ScheduleInterview,
    CancelInterview,
    CandidateInterviews,
    DeleteCandidate,
    RescheduleInterview,
);

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

/// Every plain axum route (health, webhooks, downloads) with its method; the router is built from
/// this list, and the permission test walks it, so a route cannot be added without being walked.
pub fn machine_routes() -> Vec<(
    &'static str,
    http::Method,
    axum::routing::MethodRouter<AppState>,
)> {
    use crate::server::downloads::{
        adverse, audit_export, bulk_results, candidate_export, evidence, insights_export,
        partner_logos, report_files, selection_export,
    };
    use crate::server::webhooks::{background, integrity, verification};
    use http::Method;
    vec![
        ("/healthz", Method::GET, get(healthz)),
        (
            "/api/v1/embed-tokens",
            Method::POST,
            post(crate::server::widget::issue).layer(axum::extract::DefaultBodyLimit::max(4096)),
        ),
        (
            "/widget/badge",
            Method::GET,
            get(crate::server::widget::badge_page),
        ),
        (
            "/widget/badge.json",
            Method::GET,
            get(crate::server::widget::badge_json),
        ),
        (
            "/widget/clearance-badge.js",
            Method::GET,
            get(crate::server::widget::loader),
        ),
        ("/readyz", Method::GET, get(readyz)),
        ("/events", Method::GET, get(crate::server::live::events)),
        ("/metrics", Method::GET, get(crate::server::metrics::scrape)),
        (
            "/webhooks/verification",
            Method::POST,
            post(verification::receive),
        ),
        (
            "/webhooks/background-checks/{token}",
            Method::POST,
            post(background::receive).layer(RequestBodyLimitLayer::new(
                crate::server::services::background::WEBHOOK_BODY_LIMIT,
            )),
        ),
        (
            "/webhooks/integrity",
            Method::POST,
            post(integrity::receive).layer(axum::extract::DefaultBodyLimit::max(
                crate::server::services::integrity::WEBHOOK_BODY_LIMIT,
            )),
        ),
        (
            "/integrity-reports/{id}/file",
            Method::GET,
            get(report_files::report_file).layer(middleware::from_fn(personal_download)),
        ),
        (
            "/adverse-notices/{id}",
            Method::GET,
            get(adverse::notice_page).layer(middleware::from_fn(personal_download)),
        ),
        (
            "/adverse-responses/{id}/document",
            Method::GET,
            get(adverse::response_document).layer(middleware::from_fn(personal_download)),
        ),
        (
            "/candidates/{id}/export.zip",
            Method::GET,
            get(candidate_export::download).layer(middleware::from_fn(personal_download)),
        ),
        (
            "/partner-logos/{file}",
            Method::GET,
            get(partner_logos::logo),
        ),
        (
            "/audit/export",
            Method::GET,
            get(audit_export::download).layer(middleware::from_fn(personal_download)),
        ),
        (
            "/insights/export.csv",
            Method::GET,
            get(insights_export::download),
        ),
        (
            "/candidates/selection.csv",
            Method::GET,
            get(selection_export::download).layer(middleware::from_fn(personal_download)),
        ),
        (
            "/bulk/{id}/results.csv",
            Method::GET,
            get(bulk_results::download).layer(middleware::from_fn(personal_download)),
        ),
        (
            "/evidence/{session_id}/pack.json",
            Method::GET,
            get(evidence::download).layer(middleware::from_fn(personal_download)),
        ),
    ]
}

/// `Cache-Control` for front-end files: content-hashed names never change, so browsers keep them
/// for a year without asking; unhashed names (a debug build) are revalidated every time.
pub fn front_end_cache_control(hashed: bool) -> &'static str {
    if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// `/pkg/…` (the hydration script, WASM and stylesheet): served from disk ahead of every session
/// and database layer, as the `.br` or `.gz` file `cargo leptos build --release --precompress`
/// wrote beside it when the client accepts that encoding.
fn front_end_files(options: &leptos::config::LeptosOptions) -> Router<AppState> {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let cache = http::HeaderValue::from_static(front_end_cache_control(options.hash_files));
    Router::new()
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        )
        .layer(middleware::from_fn(
            move |req: axum::extract::Request, next: middleware::Next| {
                let cache = cache.clone();
                async move {
                    let mut res = next.run(req).await;
                    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
                        res.headers_mut().insert(http::header::CACHE_CONTROL, cache);
                    }
                    res
                }
            },
        ))
}

/// The pages the router serves — the Leptos shell and root component — handed in by the composition
/// root (`crate::site`), so that nothing under `server/` imports `app/`.
#[derive(Clone, Copy)]
pub struct Pages {
    pub shell: fn(leptos::config::LeptosOptions) -> leptos::prelude::AnyView,
    pub app: fn() -> leptos::prelude::AnyView,
}

pub async fn build(state: AppState, pages: Pages) -> anyhow::Result<Router> {
    register_server_fns();
    // Installed before the first request, so every request is counted.
    crate::server::metrics::handle();
    let store = DbSessionStore::new(&state.db).await?;
    store.spawn_expiry_sweeper(&state.tasks);
    let sessions = SessionManagerLayer::new(store)
        .with_name("clearance_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            state.config.session_idle.as_secs() as i64,
        )));

    let Pages { shell, app: root } = pages;
    let routes = generate_route_list(root);
    let options = state.leptos_options.clone();
    let [h1, h2, h3, h4] = security::header_layers();
    let mut app = Router::new();
    for (path, _, route) in machine_routes() {
        app = app.route(path, route);
    }
    let front_end = front_end_files(&options);
    let pages = app
        .leptos_routes_with_context(
            &state,
            routes,
            || leptos::prelude::provide_context(crate::server::auth::RequestUser::default()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::require_sign_in_for_pages,
        ))
        .layer(middleware::from_fn(security::server_fn_error_status))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::refuse_cross_origin,
        ))
        .layer(middleware::from_fn(limit_body));
    let app = front_end
        .merge(crate::server::widget::asset_files(&state.config.widget_dir))
        .merge(pages)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(h1)
        .layer(h2)
        .layer(h3)
        .layer(h4)
        .layer(middleware::from_fn(security::frame_options_by_csp))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::strict_transport_security,
        ))
        .layer(CatchPanicLayer::new())
        .layer(
            TraceLayer::new_for_http()
                // The path only, with secrets in it (webhook tokens) replaced: never the query.
                .make_span_with(|req: &axum::extract::Request| {
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %security::loggable_path(req.uri().path()),
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Pages, server-function answers and on-the-fly front-end files are compressed when the
        // client accepts it; precompressed files and ZIP downloads are left as they are.
        .layer(CompressionLayer::new().br(true).gzip(true).compress_when(
            DefaultPredicate::new().and(NotForContentType::const_new("application/zip")),
        ))
        // Outermost: counts every answer, refusals and timeouts included, by its route template.
        .layer(middleware::from_fn(crate::server::metrics::track))
        .with_state(state);
    Ok(app)
}

/// Serves the app on `listener` (with client addresses, for login throttling) until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    pages: Pages,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;
    if let Some(addr) = state.config.metrics_addr {
        let metrics_listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("CLEARANCE_METRICS_ADDR: cannot listen on {addr}: {e}"))?;
        let metrics_state = state.clone();
        state.tasks.spawn(async move {
            if let Err(e) =
                crate::server::metrics::serve_separately(metrics_listener, metrics_state).await
            {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    crate::server::metrics::spawn_upkeep(&state.tasks);
    state.db.spawn_checkpoints(&state.tasks);
    let app = build(state, pages).await?;
    // Without TCP_NODELAY a response written in two segments waits for the client's delayed ACK:
    // about 40 ms on every keep-alive request (seen as a 40 ms p50 floor, even for a static file).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

#[cfg(test)]
mod server_fn_registry_tests {
    /// Every `#[server(…, endpoint = "…")]` in `src/api/` is registered, once: forgetting one in
    /// `server_fns!` fails here instead of answering 404 in production.
    #[test]
    fn every_server_function_in_api_is_registered() {
        let sources = [
            include_str!("../api/adverse.rs"),
            include_str!("../api/alerts.rs"),
            include_str!("../api/audit.rs"),
            include_str!("../api/auth.rs"),
            include_str!("../api/background.rs"),
            include_str!("../api/bulk.rs"),
            include_str!("../api/candidates.rs"),
            include_str!("../api/deliveries.rs"),
            include_str!("../api/embed.rs"),
            include_str!("../api/insights.rs"),
            include_str!("../api/integrity.rs"),
            include_str!("../api/policy.rs"),
            include_str!("../api/reconciliation.rs"),
            include_str!("../api/review.rs"),
        ];
        let mut declared: Vec<String> = sources
            .iter()
            .flat_map(|src| src.split("endpoint = \"").skip(1))
            .filter_map(|rest| rest.split('"').next())
            .map(|name| format!("/api/{name}"))
            .collect();
        declared.sort();
        let mut registered: Vec<String> = super::registered_paths()
            .into_iter()
            .map(String::from)
            .collect();
        registered.sort();
        assert_eq!(declared, registered);
        // Every api module is read above: a new module must be added to both lists.
        let modules = include_str!("../api/mod.rs")
            .lines()
            .filter(|l| l.starts_with("pub mod "))
            .count();
        assert_eq!(modules, sources.len());
    }
}

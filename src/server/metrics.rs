//! Prometheus metrics over HTTP: the recorder behind the `metrics` facade, the middleware that
//! times every request by its route template, and `GET /metrics` — served only to addresses in
//! `CLEARANCE_METRICS_ALLOW` (loopback by default), or only on `CLEARANCE_METRICS_ADDR` when set.
use crate::server::services::metrics as names;
use crate::server::state::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

/// `clearance_http_request_duration_seconds` buckets: a page answered alone takes a few milliseconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed the first time it is asked for (one per process: the
/// `metrics` facade has one global recorder).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = builder
            .set_buckets(&LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder was installed first: /metrics will miss what it records"
            );
        }
        names::describe();
        handle
    })
}

/// Keeps the histograms from growing between scrapes (what the exporter's own listener would do).
pub fn spawn_upkeep(tasks: &crate::server::tasks::Tasks) {
    let handle = handle();
    let tasks_for_loop = tasks.clone();
    tasks.spawn(async move {
        while tasks_for_loop
            .pause(std::time::Duration::from_secs(5))
            .await
        {
            handle.run_upkeep();
        }
    });
}

/// Counts and times every request by method, route template (never the raw path: ids and tokens
/// stay out of metrics, and the label set stays small) and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method());
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = res.status().as_u16().to_string();
    metrics::counter!(names::HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(names::HTTP_DURATION, "method" => method, "route" => route).record(seconds);
    res
}

/// Methods outside the standard set are counted together (a client may send any token).
fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
    ]
    .into_iter()
    .find(|(known, _)| known == method)
    .map_or("OTHER", |(_, label)| label)
}

/// `GET /metrics` on the main address.
pub async fn scrape(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if state.config.metrics_addr.is_some() {
        return (
            StatusCode::NOT_FOUND,
            "metrics are served on CLEARANCE_METRICS_ADDR, not here",
        )
            .into_response();
    }
    let forwarded_for = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let proxied = forwarded_for.is_some() || headers.contains_key(http::header::FORWARDED);
    match may_scrape(
        peer.ip(),
        forwarded_for,
        proxied,
        &state.config.trusted_proxies,
        &state.config.metrics_allow,
    ) {
        Ok(()) => render(&state).await,
        Err(reason) => {
            tracing::warn!(peer = %peer.ip(), "refused a metrics scrape: {reason}");
            (StatusCode::FORBIDDEN, reason).into_response()
        }
    }
}

/// Whether a scrape from `peer` may see the metrics: the client (the peer, or — when the peer is a
/// trusted proxy — the address it forwarded for) must be in `allow`. A request that came through
/// a proxy we do not trust is refused: its real client is unknown, and a proxy on the same host
/// would otherwise make everyone look like loopback.
pub fn may_scrape(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    proxied: bool,
    trusted_proxies: &[ipnet::IpNet],
    allow: &[ipnet::IpNet],
) -> Result<(), &'static str> {
    let peer = crate::server::security::canonical(peer);
    let peer_trusted = trusted_proxies.iter().any(|n| n.contains(&peer));
    if proxied && !peer_trusted {
        return Err(
            "metrics are not served through a proxy that is not in CLEARANCE_TRUSTED_PROXIES",
        );
    }
    let client = crate::server::security::client_ip(peer, forwarded_for, trusted_proxies);
    if allow.iter().any(|n| n.contains(&client)) {
        Ok(())
    } else {
        Err("metrics are served only to addresses in CLEARANCE_METRICS_ALLOW")
    }
}

/// The text exposition: the database gauges read now, then everything recorded.
async fn render(state: &AppState) -> Response {
    if let Err(e) = crate::server::services::metrics::refresh_gauges(&state.db).await {
        // The counters are still worth having; the gauges keep their last values.
        tracing::warn!(error = %e, "could not read the database gauges for /metrics");
    }
    let handle = handle();
    handle.run_upkeep();
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// `CLEARANCE_METRICS_ADDR`: a listener of its own that serves `/metrics` and nothing else, to
/// whoever reaches it (keep it on a private network).
pub async fn serve_separately(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> anyhow::Result<()> {
    let stopping = state.tasks.stopping();
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(state): State<AppState>| async move { render(&state).await }),
        )
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stopping.cancelled().await })
        .await?;
    Ok(())
}

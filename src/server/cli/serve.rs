//! `clearance serve`: the web server with its background tasks, until SIGTERM or Ctrl-C.
use super::open_db;
use crate::server::{config::Config, router, services, state::AppState};
use leptos::config::LeptosOptions;

pub async fn serve(
    options: LeptosOptions,
    config: Config,
    demo: bool,
    pages: router::Pages,
) -> anyhow::Result<()> {
    let db = open_db(&config).await?;
    if demo {
        services::demo::load(&db).await?;
        println!("{}", services::demo::credentials_banner());
    }
    let signing_key = config.signing_key()?;
    let addr = options.site_addr;
    let state = AppState::new(options, db, config);
    match signing_key {
        Some(key) => services::audit::spawn_checkpointer(
            &state.tasks,
            state.db.clone(),
            key,
            state.config.audit_checkpoint_every,
        ),
        None => tracing::warn!(
            "CLEARANCE_AUDIT_SIGNING_KEY is not set: audit checkpoints are not signed"
        ),
    }
    crate::server::jobs::spawn_worker(state.clone());
    services::bulk::spawn_runner(state.clone());
    let (at, lookback) = (state.config.reconcile_at, state.config.reconcile_lookback);
    services::reconciliation::spawn_nightly(state.clone(), at, lookback);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    println!("Clearance is listening on http://{addr}");
    // On SIGTERM or Ctrl-C: stop taking requests and starting deliveries; let the requests in
    // flight and the delivery in hand finish (each within its grace), then exit — in under 10 s.
    let tasks = state.tasks.clone();
    let (stopping, stopped) = (tasks.stopping(), tasks.stopping());
    let signalled = async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        stopping.cancel();
    };
    tokio::select! {
        served = router::serve(listener, state, pages, signalled) => served?,
        _ = async {
            stopped.cancelled().await;
            tokio::time::sleep(REQUEST_GRACE).await;
        } => tracing::warn!("requests still open after {REQUEST_GRACE:?}; closing them"),
    }
    if tasks.shutdown(TASK_GRACE).await {
        tracing::info!("stopped cleanly");
    } else {
        tracing::warn!("background tasks still running after {TASK_GRACE:?}; exiting anyway");
    }
    Ok(())
}

/// How long shutdown waits for open requests, then for background tasks (which stop meanwhile).
const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_secs(4);
const TASK_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Ctrl-C, or SIGTERM (what `kill`, systemd and container runtimes send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch SIGTERM; Ctrl-C only");
                    std::future::pending::<()>().await
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

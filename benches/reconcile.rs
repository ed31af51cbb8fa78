//! Reconciliation over many provider sessions: time and memory.
//!
//!   cargo bench --features ssr --bench reconcile            # 10k and 100k sessions
//!   cargo bench --features ssr --bench reconcile -- 250000  # any sizes
//!
//! Each size gets a fresh SQLite database holding one candidate and one session per provider
//! session; 1 % of the sessions differ at the provider (the drift to fix). The provider simulator
//! runs in this process with every session already in memory before the run starts, so the growth
//! of the resident set *during* the run is the reconciliation's own working memory.
use clearance::server::config::{Config, Secret};
use clearance::server::db::{on_db, Db};
use clearance::server::services::reconciliation;
use clearance::server::sim::verification::{Sim, SimConfig, SimSession, Switches};
use clearance::server::state::AppState;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn bench(n: usize) {
    std::env::set_var("LEPTOS_OUTPUT_NAME", "clearance");
    let dir = std::env::temp_dir().join(format!("clearance-bench-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/bench.db", dir.display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let now = chrono::Utc::now();
    let load = std::time::Instant::now();
    on_db!(&db, p => {
        sqlx::query(&format!(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
             INSERT INTO candidates (first_name, last_name, email, created_at)
             SELECT 'Bench', 'Person' || i, 'bench' || i || '@example.com', $1 FROM k"))
            .bind(now).execute(p).await.unwrap();
        sqlx::query("INSERT INTO verification_sessions (session_id, candidate_id, status, created_at, updated_at)
                     SELECT 'vs_' || id, id, 'in_progress', $1, $1 FROM candidates")
            .bind(now).execute(p).await.unwrap();
        sqlx::query("UPDATE candidates SET verification_session_id = 'vs_' || id, verification_status = 'in_progress'")
            .execute(p).await.unwrap();
    });
    let loaded = load.elapsed();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    let sim = Sim::new(SimConfig {
        base_url: sim_url.clone(),
        webhook_url: "http://127.0.0.1:9/unused".into(),
        webhook_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        api_key: "bench".into(),
        switches: Switches::default(),
    });
    sim.insert_sessions((1..=n).map(|i| {
        SimSession {
            session_id: format!("vs_{i}"),
            candidate_id: i.to_string(),
            first_name: "Bench".into(),
            last_name: format!("Person{i}"),
            email: format!("bench{i}@example.com"),
            policy_name: "bench".into(),
            // 1 % drifted: the provider finished them, the webhooks never arrived.
            status: if i % 100 == 0 {
                "verified"
            } else {
                "in_progress"
            }
            .into(),
            risk_tier: None,
            reason_codes: Vec::new(),
            evidence_pack_url: None,
            updated_at: now,
        }
    }));
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let mut config = Config::new(url, "http://127.0.0.1:1".into());
    config.verification_url = Some(sim_url);
    config.verification_api_key = Some(Secret::new("bench"));
    let mut leptos_options = clearance::server::cli::leptos_options().unwrap();
    leptos_options.site_addr = "127.0.0.1:1".parse().unwrap();
    let state = AppState::new(leptos_options, db, config);
    let rss_before = rss_kib("VmRSS:");
    let started = std::time::Instant::now();
    let s = reconciliation::run(
        &state,
        clearance::model::ReconciliationTrigger::Manual,
        chrono::Duration::hours(48),
        None,
    )
    .await
    .unwrap();
    let took = started.elapsed();
    let peak = rss_kib("VmHWM:");
    assert!(s.ran && s.error.is_none(), "{s:?}");
    assert_eq!(s.checked as usize, n);
    assert_eq!(s.fixed as usize, n / 100);
    println!(
        "{n:>8} sessions | load {:>6.1} s | run {:>7.1} s | {:>7.0} sessions/s | drifted {:>5} fixed {:>5} | RSS before {:>6} MiB, peak {:>6} MiB",
        loaded.as_secs_f64(),
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        s.drifted,
        s.fixed,
        rss_before / 1024,
        peak / 1024,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for n in sizes {
        rt.block_on(bench(n));
    }
}

//! `GET /metrics` over real HTTP on SQLite and PostgreSQL: what Clearance does shows up in the
//! Prometheus text format (read back with a Prometheus text parser), and only allowed addresses
//! may read it. The recorder is one per process, so the scenarios here run one at a time and
//! compare counters before and after what they do.
mod common;

use common::{Backend, TestApp};
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};

/// One scenario at a time: every app in this process records into the same counters.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_metrics_count_what_happens() {
    let _one = ONE_AT_A_TIME.lock().await;
    common::within_deadline("sqlite", metrics_count_what_happens(Backend::Sqlite)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_metrics_count_what_happens() {
    if common::postgres_base_url().is_none() {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    common::within_deadline("postgres", metrics_count_what_happens(Backend::Postgres)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_only_where_allowed() {
    let _one = ONE_AT_A_TIME.lock().await;
    common::within_deadline(
        "access",
        metrics_are_served_only_where_allowed_on(Backend::Sqlite),
    )
    .await;
}

/// One scrape, read by a Prometheus text-format parser.
struct Metrics(MetricsExposition<PrometheusType, PrometheusValue>);

impl Metrics {
    /// The sum of `metric` over its samples whose labels include all of `labels` (0 when there
    /// is none); for a histogram, its count of observations.
    fn value(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        let Some(family) = self.0.families.get(metric) else {
            return 0.0;
        };
        family
            .iter_samples()
            .filter(|s| {
                let set = s.get_labelset().expect("labels");
                labels
                    .iter()
                    .all(|(k, v)| set.get_label_value(k) == Some(*v))
            })
            .map(|s| match &s.value {
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Gauge(v) | PrometheusValue::Unknown(v) => v.as_f64(),
                PrometheusValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                PrometheusValue::Summary(s) => s.count.unwrap_or(0) as f64,
            })
            .sum()
    }

    fn documented(&self, metric: &str) -> bool {
        self.0
            .families
            .get(metric)
            .is_some_and(|f| !f.help.is_empty())
    }

    /// Every value any sample has for `label`.
    fn label_values(&self, label: &str) -> Vec<String> {
        self.0
            .families
            .values()
            .flat_map(|f| f.iter_samples())
            .filter_map(|s| {
                s.get_labelset()
                    .ok()
                    .and_then(|set| set.get_label_value(label).map(str::to_string))
            })
            .collect()
    }
}

async fn scrape_from(url: &str) -> Metrics {
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), 200, "GET {url}");
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = res.text().await.unwrap();
    Metrics(
        openmetrics_parser::prometheus::parse_prometheus(&text)
            .unwrap_or_else(|e| panic!("not the Prometheus text format: {e:?}\n{text}")),
    )
}

async fn scrape(app: &TestApp) -> Metrics {
    scrape_from(&format!("{}/metrics", app.address)).await
}

fn event(kind: &str, candidate: i64, session: &str, risk: Option<&str>) -> String {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    serde_json::json!({
        "type": kind, "timestamp": at,
        "data": { "candidate_id": candidate.to_string(), "session_id": session, "event_created_at": at,
                  "risk_tier": risk, "reason_codes": [], "evidence_pack_url": null, "policy_name": "p" }
    })
    .to_string()
}

async fn metrics_count_what_happens(backend: Backend) {
    let app = common::spawn_app_with(backend, common::unreachable_provider).await;
    let before = scrape(&app).await;

    // Pages and refusals are counted by route template, never by the raw path.
    let client = app.client();
    let login_page = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(login_page.status(), 200);
    let profile = client
        .get(format!("{}/candidates/7", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        profile.status(),
        303,
        "signed out, a profile sends to sign-in"
    );

    // Webhooks: one applied, the same again (duplicate), one with a bad signature.
    let body = event("verification.needs_review", 5, "vs_metrics_5", Some("high"));
    let first = common::post_signed_webhook(&app.address, "msg_metrics_1", &body)
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let again = common::post_signed_webhook(&app.address, "msg_metrics_1", &body)
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let forged = reqwest::Client::new()
        .post(format!("{}/webhooks/verification", app.address))
        .header("webhook-id", "msg_metrics_forged")
        .header(
            "webhook-timestamp",
            chrono::Utc::now().timestamp().to_string(),
        )
        .header("webhook-signature", "v1,AAAA")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // Two failed sign-ins.
    for _ in 0..2 {
        let res = app
            .login(&app.client(), "recruiter@clearance.test", "wrong password")
            .await;
        assert_eq!(res.status(), 401);
    }

    // A verification request queued (the provider cannot be reached: the worker gives up on it).
    common::request_verification(&app, 9).await;
    let queued = scrape(&app).await;
    let kind = "verification.create_session";
    assert_eq!(
        queued.value(
            "clearance_delivery_jobs",
            &[("kind", kind), ("state", "queued")]
        ),
        1.0
    );
    app.run_jobs().await;

    // A manual reconciliation (the provider's listing cannot be read: the run fails).
    clearance::server::services::reconciliation::run(
        &app.state,
        clearance::model::ReconciliationTrigger::Manual,
        chrono::Duration::hours(1),
        None,
    )
    .await
    .unwrap();

    let after = scrape(&app).await;
    let delta = |metric: &str, labels: &[(&str, &str)]| {
        after.value(metric, labels) - before.value(metric, labels)
    };

    let login = [("method", "GET"), ("route", "/login"), ("status", "200")];
    assert_eq!(delta("clearance_http_requests_total", &login), 1.0);
    assert_eq!(
        delta(
            "clearance_http_request_duration_seconds",
            &[("method", "GET"), ("route", "/login")]
        ),
        1.0
    );
    let profile_route = [
        ("method", "GET"),
        ("route", "/candidates/{id}"),
        ("status", "303"),
    ];
    assert_eq!(delta("clearance_http_requests_total", &profile_route), 1.0);
    let routes = after.label_values("route");
    assert!(
        !routes.iter().any(|r| r.contains("/candidates/7")),
        "a raw path became a label: {routes:?}"
    );

    let webhook = |outcome| [("source", "verification"), ("outcome", outcome)];
    let received = "clearance_webhooks_received_total";
    assert_eq!(delta(received, &webhook("applied")), 1.0);
    assert_eq!(delta(received, &webhook("duplicate")), 1.0);
    assert_eq!(delta(received, &webhook("refused")), 1.0);

    assert_eq!(delta("clearance_login_failures_total", &[]), 2.0);
    assert_eq!(delta("clearance_login_throttled_total", &[]), 0.0);

    // The job was tried once and dead-lettered: the gauges follow the table.
    assert_eq!(
        delta(
            "clearance_delivery_attempts_total",
            &[("kind", kind), ("result", "gave_up")]
        ),
        1.0
    );
    assert_eq!(
        after.value(
            "clearance_delivery_jobs",
            &[("kind", kind), ("state", "queued")]
        ),
        0.0
    );
    assert_eq!(
        after.value(
            "clearance_delivery_jobs",
            &[("kind", kind), ("state", "dead_lettered")]
        ),
        1.0
    );

    // The needs-review webhook opened one high-risk item, not yet past its deadline.
    assert_eq!(
        after.value("clearance_review_items_open", &[("tier", "high")]),
        1.0
    );
    assert_eq!(
        after.value("clearance_review_items_breached", &[("tier", "high")]),
        0.0
    );
    assert_eq!(
        after.value("clearance_review_items_open", &[("tier", "low")]),
        0.0
    );

    assert_eq!(
        delta(
            "clearance_reconciliation_runs_total",
            &[("trigger", "manual"), ("result", "failed")]
        ),
        1.0
    );

    let head: Vec<i64> = common::column(&app.db, "SELECT seq FROM audit_head").await;
    assert_eq!(
        after.value("clearance_audit_chain_length", &[]),
        head[0] as f64
    );
    assert!(head[0] > 0);
    // SPEC §12: every name starts with clearance_.
    let names: Vec<&String> = after.0.families.keys().collect();
    assert!(
        names.iter().all(|n| n.starts_with("clearance_")),
        "{names:?}"
    );
    for documented in [
        "clearance_http_requests_total",
        "clearance_webhooks_received_total",
        "clearance_delivery_jobs",
        "clearance_review_items_breached",
    ] {
        assert!(after.documented(documented), "{documented} has no HELP");
    }

    // Past its deadline, the item counts as breached at the next scrape.
    common::exec_at_now(
        &app.db,
        "UPDATE review_items SET deadline_at = $1 WHERE session_id = 'vs_metrics_5'",
    )
    .await;
    let later = scrape(&app).await;
    assert_eq!(
        later.value("clearance_review_items_breached", &[("tier", "high")]),
        1.0
    );
}

async fn metrics_are_served_only_where_allowed_on(backend: Backend) {
    // Default: loopback may read; a request that came through a proxy we do not trust may not
    // (a proxy on the same host would make every visitor look like loopback).
    let app = common::spawn_app(backend).await;
    scrape(&app).await;
    let proxied = reqwest::Client::new()
        .get(format!("{}/metrics", app.address))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 403);
    assert!(proxied
        .text()
        .await
        .unwrap()
        .contains("CLEARANCE_TRUSTED_PROXIES"));

    // Behind a trusted proxy, the forwarded client is judged: allowed only if it is in the list.
    let behind_proxy = common::spawn_app_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.metrics_allow = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let get = |app: &TestApp, forwarded: Option<&'static str>| {
        let mut req = reqwest::Client::new().get(format!("{}/metrics", app.address));
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        req.send()
    };
    let from_office = get(&behind_proxy, Some("10.1.2.3")).await.unwrap();
    assert_eq!(from_office.status(), 200);
    let from_outside = get(&behind_proxy, Some("203.0.113.9")).await.unwrap();
    assert_eq!(from_outside.status(), 403);
    let the_proxy_itself = get(&behind_proxy, None).await.unwrap();
    assert_eq!(the_proxy_itself.status(), 403);
    assert!(the_proxy_itself
        .text()
        .await
        .unwrap()
        .contains("CLEARANCE_METRICS_ALLOW"));

    // With a metrics address of its own, the main port does not serve them; that address does.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let separate = common::spawn_app_with(backend, |c| {
        c.metrics_addr = Some(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    let main_port = get(&separate, None).await.unwrap();
    assert_eq!(main_port.status(), 404);
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut metrics = None;
    for _ in 0..100 {
        if let Ok(res) = reqwest::get(&url).await {
            if res.status() == 200 {
                metrics = Some(scrape_from(&url).await);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let metrics = metrics.expect("the metrics address answers");
    assert!(metrics.documented("clearance_audit_chain_length"));
    let other = reqwest::get(format!("http://127.0.0.1:{port}/candidates"))
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics address serves nothing else"
    );
}

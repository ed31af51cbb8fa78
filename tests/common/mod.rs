//! spawn_app(): the real server on port 0 over a fresh SQLite file or a fresh PostgreSQL database.
#![allow(dead_code)]
use clearance::server::{config::Config, db::Db, router, services, state::AppState};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub backend: Backend,
    pub state: AppState,
}

/// The base PostgreSQL URL tests create their databases on, if the run has one.
pub fn postgres_base_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    if url.is_none() {
        warn_postgres_skipped_once();
    }
    url
}

/// One loud line per `cargo test` run (not per test, not per test binary) when the PostgreSQL
/// halves are skipped. Written to the stderr handle itself, which the test harness does not capture;
/// a marker named for the parent `cargo` process keeps the other test binaries quiet.
fn warn_postgres_skipped_once() {
    use std::io::Write;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join("clearance-tests");
        let _ = std::fs::create_dir_all(&dir);
        let marker = dir.join(format!("postgres-skipped-{}", std::os::unix::process::parent_id()));
        if std::fs::OpenOptions::new().write(true).create_new(true).open(marker).is_ok() {
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! TEST_DATABASE_URL is not set: every PostgreSQL test is SKIPPED (set it to postgres://user@host:5432/postgres) !!!\n"
            );
        }
    });
}

pub async fn fresh_database_url(backend: Backend) -> String {
    let name = format!("clearance_test_{:016x}", rand_u64());
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("clearance-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}", dir.join(format!("{name}.db")).display())
        }
        Backend::Postgres => {
            let base = postgres_base_url().expect("TEST_DATABASE_URL");
            let admin = Db::connect(&base)
                .await
                .expect("connect to TEST_DATABASE_URL");
            if let Db::Postgres(pool) = &admin {
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(pool)
                    .await
                    .expect("create test database");
                pool.close().await;
            }
            let (prefix, _) = base
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL has a database path");
            format!("{prefix}/{name}")
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// Starts the app with the demo data loaded (one user per role, four jobs, fifty candidates).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like `spawn_app`, with a chance to adjust the configuration first. No background worker runs:
/// tests drain the job queue with `run_jobs()` so nothing happens behind their back.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_site(backend, |_| {}, configure).await
}

/// Like `spawn_app_with`, with a chance to adjust the Leptos options too (site root, hashed names).
pub async fn spawn_app_with_site(
    backend: Backend,
    site: impl FnOnce(&mut leptos::config::LeptosOptions),
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    std::env::set_var("LEPTOS_OUTPUT_NAME", "clearance");
    let url = fresh_database_url(backend).await;
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    services::demo::load(&db).await.expect("demo data");
    serve_on(backend, url, db, site, configure).await
}

/// Serves the app on a database already set up, with a fresh configuration.
async fn serve_on(
    backend: Backend,
    url: String,
    db: Db,
    site: impl FnOnce(&mut leptos::config::LeptosOptions),
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let mut leptos_options = clearance::server::cli::leptos_options().expect("leptos options");
    leptos_options.site_addr = addr;
    site(&mut leptos_options);
    let mut config = test_config(url, format!("http://{addr}"));
    configure(&mut config);
    let state = AppState::new(leptos_options, db.clone(), config);
    let serve_state = state.clone();
    tokio::spawn(async move {
        router::serve(
            listener,
            serve_state,
            clearance::site::pages(),
            std::future::pending(),
        )
        .await
        .expect("server");
    });
    TestApp {
        address: format!("http://{addr}"),
        db,
        backend,
        state,
    }
}

/// The tests' configuration: no retry delay, simulators on loopback over plain http (as the demo
/// does), partner secrets encrypted under the test key.
pub fn test_config(url: String, public_url: String) -> Config {
    let mut config = Config::new(url, public_url);
    config.retry_base = std::time::Duration::ZERO;
    config.outbound = clearance::server::partners::outbound::OutboundPolicy {
        allow_http: true,
        allowlist: vec!["127.0.0.0/8".parse().unwrap()],
    };
    config.secret_key = Some(
        clearance::server::secrets::SecretBox::from_base64(TEST_SECRET_KEY).expect("test key"),
    );
    config
}

/// Serves the app on a database filled beforehand (by the demo story, say).
pub async fn serve_existing(backend: Backend, url: String) -> TestApp {
    let db = Db::connect(&url).await.expect("connect");
    serve_on(backend, url, db, |_| {}, |_| {}).await
}

impl TestApp {
    /// A second app instance on the same database (its own pool, port and state), as several
    /// instances share one PostgreSQL.
    pub async fn another_instance(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let url = self.state.config.database_url.clone();
        let db = Db::connect(&url).await.expect("connect");
        serve_on(self.backend, url, db, |_| {}, configure).await
    }

    /// Runs every due job and pending webhook event now.
    pub async fn run_jobs(&self) -> usize {
        clearance::server::jobs::run_until_empty(&self.state)
            .await
            .expect("jobs")
    }

    /// A client with its own cookie jar, like one browser (which names its origin on every POST).
    pub fn client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("origin", self.address.parse().unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Calls a server function with a form-encoded body, as the browser does.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        name: &str,
        form: &[(&str, String)],
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/{name}", self.address))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Calls a server function that must answer 200, and reads its JSON answer.
    pub async fn call_ok<T: serde::de::DeserializeOwned>(
        &self,
        client: &reqwest::Client,
        name: &str,
        form: &[(&str, String)],
    ) -> T {
        let res = self.call(client, name, form).await;
        assert_eq!(res.status(), 200, "{name}");
        res.json().await.unwrap()
    }

    pub async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.call(
            client,
            "login",
            &[("email", email.into()), ("password", password.into())],
        )
        .await
    }

    /// A fresh client signed in as the demo user with this email.
    pub async fn signed_in(&self, email: &str) -> reqwest::Client {
        let client = self.client();
        let user = services::demo::DEMO_USERS
            .iter()
            .find(|u| u.email == email)
            .expect("demo user");
        let res = self.login(&client, email, user.password).await;
        assert_eq!(res.status(), 200, "login as {email}");
        client
    }
}

/// Every integration test runs under this deadline (`CLEARANCE_TEST_DEADLINE_SECS`, default 300):
/// a hang fails the test by name within minutes instead of eating CI's whole time limit.
pub async fn within_deadline<F: std::future::Future>(name: &str, test: F) -> F::Output {
    let secs = std::env::var("CLEARANCE_TEST_DEADLINE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(300);
    match tokio::time::timeout(std::time::Duration::from_secs(secs), test).await {
        Ok(out) => out,
        Err(_) => panic!(
            "{name} did not finish within {secs} s: it hangs (see CLEARANCE_TEST_DEADLINE_SECS)"
        ),
    }
}

/// Runs a scenario once on SQLite and once on PostgreSQL (skipped, loudly, without TEST_DATABASE_URL).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::within_deadline(stringify!($name), async {
                        super::$name($crate::common::spawn_app($crate::common::Backend::Sqlite).await).await;
                    }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::postgres_base_url().is_none() {
                        eprintln!("SKIPPED {}: TEST_DATABASE_URL is not set, PostgreSQL not tested", stringify!($name));
                        return;
                    }
                    $crate::common::within_deadline(stringify!($name), async {
                        super::$name($crate::common::spawn_app($crate::common::Backend::Postgres).await).await;
                    }).await;
                }
            )*
        }
    };
}

/// The key tests encrypt partner secrets under (CLEARANCE_SECRET_KEY), 32 bytes in base64.
pub const TEST_SECRET_KEY: &str = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktMzJieXQ=";
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const PROVIDER_KEY: &str = "test-provider-key";

/// The app wired to a running identity-verification simulator (real HTTP both ways).
pub async fn spawn_app_with_provider(
    backend: Backend,
) -> (TestApp, clearance::server::sim::verification::Sim, String) {
    use clearance::server::config::Secret;
    use clearance::server::sim::verification::{Sim, SimConfig, Switches};
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", sim_listener.local_addr().unwrap());
    let provider = sim_url.clone();
    let app = spawn_app_with(backend, move |c| {
        c.verification_url = Some(provider);
        c.verification_api_key = Some(Secret::new(PROVIDER_KEY));
        c.verification_webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
    })
    .await;
    let sim = Sim::new(SimConfig {
        base_url: sim_url.clone(),
        webhook_url: format!("{}/webhooks/verification", app.address),
        webhook_secret: WEBHOOK_SECRET.into(),
        api_key: PROVIDER_KEY.into(),
        switches: Switches::default(),
    });
    let router = sim.clone().router();
    tokio::spawn(async move { axum::serve(sim_listener, router).await.unwrap() });
    (app, sim, sim_url)
}

/// Runs a scenario `(app, simulator, simulator_url)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_with_provider {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::within_deadline(stringify!($name), async {
                        let (app, sim, url) = $crate::common::spawn_app_with_provider($crate::common::Backend::Sqlite).await;
                        super::$name(app, sim, url).await;
                    }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::postgres_base_url().is_none() {
                        eprintln!("SKIPPED {}: TEST_DATABASE_URL is not set, PostgreSQL not tested", stringify!($name));
                        return;
                    }
                    $crate::common::within_deadline(stringify!($name), async {
                        let (app, sim, url) = $crate::common::spawn_app_with_provider($crate::common::Backend::Postgres).await;
                        super::$name(app, sim, url).await;
                    }).await;
                }
            )*
        }
    };
}

/// The audit event types recorded about one candidate, oldest first.
pub async fn audit_types(app: &TestApp, candidate: i64) -> Vec<clearance::model::AuditEventType> {
    clearance::server::db::audit::for_subject(&app.db, "candidate", &candidate.to_string())
        .await
        .unwrap()
        .iter()
        .filter_map(|e| e.to_entry())
        .map(|e| e.event_type)
        .collect()
}

/// POSTs `body` to `/webhooks/verification` signed as the provider does.
pub async fn post_signed_webhook(
    address: &str,
    id: &str,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    let ts = chrono::Utc::now().timestamp();
    let sig = clearance::server::partners::signature::sign(WEBHOOK_SECRET, id, ts, body.as_bytes())
        .unwrap();
    reqwest::Client::new()
        .post(format!("{address}/webhooks/verification"))
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body.to_string())
        .send()
        .await
}

/// The verification panel of a candidate as the user with this email sees it.
pub async fn verification_panel(
    app: &TestApp,
    email: &str,
    candidate: i64,
) -> clearance::model::VerificationPanel {
    let c = app.signed_in(email).await;
    let res = app
        .call(
            &c,
            "verification_panel",
            &[("candidate_id", candidate.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The recruiter clicks "Send verification" (the request is queued, nothing is delivered yet).
pub async fn request_verification(app: &TestApp, candidate: i64) {
    let r = app.signed_in("recruiter@clearance.test").await;
    let res = app
        .call(
            &r,
            "send_verification",
            &[("candidate_id", candidate.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// The recruiter sends verification; the worker creates the session; returns its id.
pub async fn send_verification(app: &TestApp, candidate: i64) -> String {
    request_verification(app, candidate).await;
    app.run_jobs().await;
    clearance::server::db::verification::sessions_of(&app.db, candidate)
        .await
        .unwrap()[0]
        .session_id
        .clone()
}

/// The first column of every row a query returns, on either database.
pub async fn column<T>(db: &Db, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + Unpin,
{
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs one statement on the test's database, with the current time bound as `$1` (if used).
pub async fn exec_at_now(db: &Db, sql: &str) {
    let now = chrono::Utc::now();
    match db {
        Db::Sqlite(p) => sqlx::query(sql).bind(now).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).bind(now).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A provider nobody listens at, and one attempt per delivery: verification requests are
/// dead-lettered at the first run of the jobs, and reconciliation cannot read the provider's
/// listing. Webhooks are signed with `WEBHOOK_SECRET`.
pub fn unreachable_provider(c: &mut Config) {
    c.verification_webhook_secret = Some(clearance::server::config::Secret::new(WEBHOOK_SECRET));
    c.verification_url = Some("http://127.0.0.1:9".into());
    c.verification_api_key = Some(clearance::server::config::Secret::new(PROVIDER_KEY));
    c.delivery_max_attempts = 1;
}

/// The account and secret the tests' background-check partner simulator accepts.
pub const PARTNER_ACCOUNT: &str = "ACCT123";
pub const PARTNER_SECRET: &str = "partner-test-secret";

/// The background-check partner simulator on a free port: its handle and base URL.
pub async fn start_partner_sim(
    switches: clearance::server::sim::partner::Switches,
) -> (clearance::server::sim::partner::Sim, String) {
    use clearance::server::sim::partner::{Sim, SimConfig};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sim = Sim::new(SimConfig {
        base_url: url.clone(),
        account_id: PARTNER_ACCOUNT.into(),
        secret: PARTNER_SECRET.into(),
        switches,
    });
    let router = sim.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sim, url)
}

/// A partner simulator that completes orders only when told to, connected as "Acme Screening";
/// returns it and the partner's id.
pub async fn connected_partner(
    app: &TestApp,
    logo_png: Option<Vec<u8>>,
) -> (clearance::server::sim::partner::Sim, i64) {
    use clearance::server::services::background::{add_partner, PartnerInput};
    let (sim, url) = start_partner_sim(clearance::server::sim::partner::Switches {
        auto_complete: false,
        ..Default::default()
    })
    .await;
    let id = add_partner(
        &app.db,
        &app.state.config,
        clearance::server::audit::Actor::System("test".into()),
        &PartnerInput {
            name: "Acme Screening".into(),
            catalog_url: format!("{url}/catalog"),
            orders_url: format!("{url}/orders"),
            account_id: PARTNER_ACCOUNT.into(),
            api_secret: PARTNER_SECRET.into(),
            logo_png,
        },
        false,
    )
    .await
    .unwrap();
    (sim, id)
}

/// A server-rendered page without Leptos' hydration markers (the comments `<!>`, `<!--hk…-->`,
/// `<!--<() />-->` it writes between views for the browser to find its place): what a reader sees,
/// so tests can look for a label or a button whatever markers the renderer puts inside it.
pub fn without_hydration_markers(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = if tail.starts_with("<!--") {
            tail.find("-->").map(|e| e + 3)
        } else if tail.starts_with("<!>") {
            Some(3)
        } else {
            // `<!DOCTYPE html>` and the like stay.
            out.push_str("<!");
            rest = &tail[2..];
            continue;
        };
        match end {
            Some(end) => rest = &tail[end..],
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The entries of a ZIP archive, in order, read with the `zip` crate.
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().unwrap().to_string(), data)
        })
        .collect()
}

/// Insights' verification outcomes as (status, candidates), the statuses that have any.
pub fn outcome_counts(insights: &serde_json::Value) -> Vec<(String, i64)> {
    insights["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| {
            (
                o["status"].as_str().unwrap().to_string(),
                o["candidates"].as_i64().unwrap(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

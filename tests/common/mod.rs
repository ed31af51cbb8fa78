//! spawn_app(): the real server on port 0 over a fresh SQLite file or a fresh PostgreSQL database.
#![allow(dead_code)]
use clearance::server::{config::Config, db::Db, router, services, state::AppState};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub backend: Backend,
}

/// The base PostgreSQL URL tests create their databases on, if the run has one.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
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
    std::env::set_var("LEPTOS_OUTPUT_NAME", "clearance");
    let url = fresh_database_url(backend).await;
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    services::demo::load(&db).await.expect("demo data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let mut leptos_options = clearance::server::cli::leptos_options().expect("leptos options");
    leptos_options.site_addr = addr;
    let config = Config {
        database_url: url,
        public_url: format!("http://{addr}"),
        audit_signing_key: None,
        audit_checkpoint_every: std::time::Duration::from_secs(3600),
    };
    let state = AppState {
        leptos_options,
        db: db.clone(),
        config: Arc::new(config),
    };
    tokio::spawn(async move {
        router::serve(listener, state, std::future::pending())
            .await
            .expect("server");
    });
    TestApp {
        address: format!("http://{addr}"),
        db,
        backend,
    }
}

impl TestApp {
    /// A client with its own cookie jar, like one browser.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
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

/// Runs a scenario once on SQLite and once on PostgreSQL (skipped, loudly, without TEST_DATABASE_URL).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::spawn_app($crate::common::Backend::Sqlite).await).await;
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
                    super::$name($crate::common::spawn_app($crate::common::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

//! The `clearance` binary as an operator runs it: migrate, user add, demo-data, import candidates.
mod common;

use common::{postgres_base_url, Backend};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn clearance(database_url: &str, args: &[&str], stdin: &str) -> Output {
    clearance_with(database_url, args, stdin, &[])
}

fn clearance_with(database_url: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clearance"))
        .args(args)
        .env("CLEARANCE_SECRET_KEY", common::TEST_SECRET_KEY)
        .envs(env.iter().copied())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run clearance");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn stored_secrets(db: &clearance::server::db::Db) -> Vec<String> {
    let sql = "SELECT api_secret FROM partners UNION ALL SELECT api_key FROM monitor_connection
               UNION ALL SELECT webhook_secret FROM monitor_connection";
    match db {
        clearance::server::db::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        clearance::server::db::Db::Postgres(p) => {
            sqlx::query_scalar(sql).fetch_all(p).await.unwrap()
        }
    }
}

async fn exec(db: &clearance::server::db::Db, sql: &str) {
    match db {
        clearance::server::db::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        clearance::server::db::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn operator_commands(backend: Backend) {
    let url = common::fresh_database_url(backend).await;

    let out = clearance(&url, &["migrate"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = clearance(
        &url,
        &[
            "user",
            "add",
            "--email",
            "Ops@Example.com",
            "--name",
            "Ops Lead",
            "--role",
            "admin",
        ],
        "short\n",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("at least 12 characters"));
    let out = clearance(
        &url,
        &[
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops Lead",
            "--role",
            "boss",
        ],
        "a-long-enough-password\n",
    );
    assert!(text(&out.stderr).contains("unknown role 'boss'"));
    let out = clearance(
        &url,
        &[
            "user",
            "add",
            "--email",
            "Ops@Example.com",
            "--name",
            "Ops Lead",
            "--role",
            "admin",
        ],
        "a-long-enough-password\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ops@example.com (Admin)"));
    let again = clearance(
        &url,
        &[
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
        ],
        "a-long-enough-password\n",
    );
    assert!(text(&again.stderr).contains("already exists"));

    let out = clearance(&url, &["demo-data"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("recruiter@clearance.test"));

    let dir = std::env::temp_dir().join(format!("clearance-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join(format!("{backend:?}.csv"));
    std::fs::write(
        &csv,
        "first_name,last_name,email,job\nKatherine,Johnson,kj@example.com,Data Analyst\nMary,Jackson,bad-email,Data Analyst\n",
    )
    .unwrap();
    let out = clearance(&url, &["import", "candidates", csv.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("line 3: email 'bad-email' has no @"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("imported 1 candidate(s), 1 row(s) rejected"));

    let out = clearance(&url, &["import", "candidates", "/no/such/file.csv"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot open /no/such/file.csv"));

    // The audit log: verify, sign a checkpoint, then catch a truncation against it.
    let out = clearance(&url, &["audit", "verify"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("audit log intact through"),
        "{}",
        text(&out.stdout)
    );
    let out = clearance(&url, &["audit", "checkpoint"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("set CLEARANCE_AUDIT_SIGNING_KEY"));
    let key = text(&clearance(&url, &["audit", "keygen"], "").stdout)
        .trim()
        .to_string();
    let out = clearance_with(
        &url,
        &["audit", "checkpoint"],
        "",
        &[("CLEARANCE_AUDIT_SIGNING_KEY", &key)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let checkpoint_file = dir.join(format!("{backend:?}-checkpoint.json"));
    std::fs::write(&checkpoint_file, &out.stdout).unwrap();
    let cp_path = checkpoint_file.to_str().unwrap();
    let out = clearance(&url, &["audit", "verify", "--checkpoint", cp_path], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("matches"));
    let db = clearance::server::db::Db::connect(&url).await.unwrap();
    let tamper = |sqlite: &'static str, pg: &'static str| {
        let db = db.clone();
        async move {
            match &db {
                clearance::server::db::Db::Sqlite(p) => {
                    sqlx::query(sqlite).execute(p).await.unwrap()
                }
                clearance::server::db::Db::Postgres(p) => sqlx::query(pg)
                    .execute(p)
                    .await
                    .map(|_| Default::default())
                    .unwrap(),
            };
        }
    };
    tamper(
        "DROP TRIGGER audit_log_no_delete",
        "DROP TRIGGER audit_log_guard ON audit_log",
    )
    .await;
    tamper(
        "DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 3 FROM audit_log)",
        "DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 3 FROM audit_log)",
    )
    .await;
    let out = clearance(&url, &["audit", "verify", "--checkpoint", cp_path], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("truncated"),
        "{}",
        text(&out.stderr)
    );
    tamper("DROP TRIGGER audit_log_only_redaction", "SELECT 1").await;
    tamper(
        "UPDATE audit_log SET actor_label = 'X' WHERE seq = 2",
        "UPDATE audit_log SET actor_label = 'X' WHERE seq = 2",
    )
    .await;
    let out = clearance(&url, &["audit", "verify"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("broken at entry 2: hash expected"),
        "{}",
        text(&out.stdout)
    );

    // Partners are connected once from the command line; the secret comes on stdin, never back.
    let logo = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/sim-partner-logo.png");
    let partner = |extra: &[&str], secret: &str| {
        let mut args = vec![
            "partner",
            "add",
            "--name",
            "Acme",
            "--catalog-url",
            "https://acme.example/catalog",
            "--orders-url",
            "https://acme.example/orders",
            "--account-id",
            "ACCT1",
            "--logo",
            logo,
        ];
        args.extend_from_slice(extra);
        clearance(&url, &args, secret)
    };
    let out = partner(&[], "s3cret-value\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("connected: Acme"));
    let out = partner(&[], "s3cret-value\n");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists"));
    assert!(partner(&["--replace"], "other\n").status.success());
    let out = clearance(
        &url,
        &[
            "partner",
            "add",
            "--name",
            "Bad",
            "--catalog-url",
            "https://x.example/c",
            "--orders-url",
            "https://x.example/o",
            "--account-id",
            "A",
            "--logo",
            "Cargo.toml",
        ],
        "s\n",
    );
    assert!(
        text(&out.stderr).contains("Logo: the logo is not a PNG image"),
        "{}",
        text(&out.stderr)
    );
    let out = clearance(&url, &["partner", "list"], "");
    assert!(text(&out.stdout).contains("Acme") && !text(&out.stdout).contains("s3cret"));

    // The interview-integrity monitor is connected once; key and secret come on stdin.
    let out = clearance(
        &url,
        &["monitor", "connect", "--url", "https://monitor.example"],
        "key-1\nnot-a-secret\n",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("whsec_"),
        "{}",
        text(&out.stderr)
    );
    let out = clearance(
        &url,
        &["monitor", "connect", "--url", "https://monitor.example"],
        "key-1\nwhsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("key-1"));

    // Secrets are encrypted at rest: a dump of the database reveals none of them.
    let db = clearance::server::db::Db::connect(&url).await.unwrap();
    let stored = stored_secrets(&db).await;
    assert!(!stored.is_empty());
    for value in &stored {
        assert!(value.starts_with("enc:v1:"), "{value}");
        for secret in ["other", "key-1", "whsec_"] {
            assert!(!value.contains(secret), "{value}");
        }
    }
    // A value left in clear text by an earlier version is sealed at the next start.
    exec(
        &db,
        "UPDATE partners SET api_secret = 'legacy-plain' WHERE name = 'Acme'",
    )
    .await;
    assert!(clearance(&url, &["migrate"], "").status.success());
    let stored = stored_secrets(&db).await;
    assert!(stored
        .iter()
        .all(|v| v.starts_with("enc:v1:") && !v.contains("legacy")));
    let key = clearance::server::secrets::SecretBox::from_base64(common::TEST_SECRET_KEY).unwrap();
    let opened: Vec<String> = stored
        .iter()
        .filter_map(|v| {
            key.open(clearance::server::secrets::purpose::PARTNER_API_SECRET, v)
                .ok()
        })
        .collect();
    assert_eq!(opened, vec!["legacy-plain".to_string()]);
    // Without the key, partners cannot be connected, and the reason is given.
    let out = clearance_with(
        &url,
        &[
            "partner",
            "add",
            "--name",
            "NoKey",
            "--catalog-url",
            "https://n.example/c",
            "--orders-url",
            "https://n.example/o",
            "--account-id",
            "A",
        ],
        "s\n",
        &[("CLEARANCE_SECRET_KEY", "")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("CLEARANCE_SECRET_KEY is not set"),
        "{}",
        text(&out.stderr)
    );
    // `clearance secret keygen` prints a key Clearance accepts.
    let out = clearance(&url, &["secret", "keygen"], "");
    assert!(out.status.success());
    assert!(clearance::server::secrets::SecretBox::from_base64(text(&out.stdout).trim()).is_ok());
    let out = clearance_with(
        &url,
        &["migrate"],
        "",
        &[("CLEARANCE_SECRET_KEY", "c2hvcnQ=")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("32 bytes"),
        "{}",
        text(&out.stderr)
    );

    // An invalid CLEARANCE_POLICY_FILE stops start-up with the line and field that are wrong.
    let dir = std::env::temp_dir().join(format!("clearance-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.yaml");
    let bad = clearance::server::policy::DEFAULT_POLICY_YAML.replace("  offer:", "  offre:");
    std::fs::write(&file, &bad).unwrap();
    let path = file.to_string_lossy().to_string();
    let out = clearance_with(&url, &["migrate"], "", &[("CLEARANCE_POLICY_FILE", &path)]);
    assert!(!out.status.success());
    let line = bad.lines().position(|l| l.contains("offre")).unwrap() + 1;
    assert!(
        text(&out.stderr).contains(&format!(
            "Line {line}, stage_gates.offre: 'offre' is not a stage"
        )),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(&file, clearance::server::policy::DEFAULT_POLICY_YAML).unwrap();
    let out = clearance_with(&url, &["migrate"], "", &[("CLEARANCE_POLICY_FILE", &path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = clearance("mysql://nope", &["migrate"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("DATABASE_URL must start with sqlite:// or postgres://"));
}

#[tokio::test]
async fn operator_commands_on_sqlite() {
    common::within_deadline(
        "operator_commands on Sqlite",
        operator_commands(Backend::Sqlite),
    )
    .await;
}

#[tokio::test]
async fn operator_commands_on_postgres() {
    if postgres_base_url().is_none() {
        eprintln!("SKIPPED operator_commands_on_postgres: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    }
    common::within_deadline(
        "operator_commands on Postgres",
        operator_commands(Backend::Postgres),
    )
    .await;
}

/// `clearance serve` stops on SIGTERM (what `kill`, systemd and container runtimes send): it
/// answers until then, and exits by itself with success well within ten seconds.
#[cfg(unix)]
#[tokio::test]
async fn serve_stops_cleanly_on_sigterm() {
    let url = common::fresh_database_url(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_clearance"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run clearance serve");
    let health = format!("http://127.0.0.1:{port}/healthz");
    let started = std::time::Instant::now();
    loop {
        if let Ok(res) = reqwest::get(&health).await {
            assert_eq!(res.status(), 200);
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the server did not come up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            panic!("still running 10 s after SIGTERM");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "exit {status}: {stderr}");
}

/// `clearance demo-data --story` as `scripts/demo.sh` runs it: the ninety days of history, then
/// the demo's fifty new applicants at Applied — so nobody stands in a gated stage without a
/// verification that lets them through (one on a security reviewer's exception). Once only.
#[tokio::test]
async fn demo_story_leaves_every_candidate_where_the_gates_allow() {
    common::within_deadline("demo story from the command line", async {
        let url = common::fresh_database_url(Backend::Sqlite).await;
        let out = clearance(&url, &["demo-data", "--story"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("told the story: 40 candidates"),
            "{}",
            text(&out.stderr)
        );
        let again = clearance(&url, &["demo-data", "--story"], "");
        assert!(again.status.success(), "{}", text(&again.stderr));
        assert!(text(&again.stderr).contains("the story is there already"));

        let db = clearance::server::db::Db::connect(&url).await.unwrap();
        let count: Vec<i64> = common::column(&db, "SELECT COUNT(*) FROM candidates").await;
        assert_eq!(count, [90]);
        let at_applied: Vec<i64> = common::column(
            &db,
            "SELECT COUNT(*) FROM candidates c JOIN applications a ON a.candidate_id = c.id
             WHERE c.email LIKE '%@candidates.example' AND a.stage = 'applied'",
        )
        .await;
        assert_eq!(at_applied, [50]);
        let let_through: Vec<String> = common::column(
            &db,
            "SELECT c.last_name FROM candidates c JOIN applications a ON a.candidate_id = c.id
             WHERE (a.stage = 'phone_screen'
                    AND c.verification_status NOT IN ('in_progress', 'verified', 'needs_review'))
                OR (a.stage IN ('onsite_or_panel_interview', 'coding_assessment', 'offer', 'hired')
                    AND c.verification_status <> 'verified')
             ORDER BY c.last_name",
        )
        .await;
        assert_eq!(let_through, ["Karp"]);
    })
    .await;
}

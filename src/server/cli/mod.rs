//! The `clearance` command line: serve (default), migrate, user add, demo-data, import candidates.
use crate::model::{Email, Role};
use crate::server::audit::{self, Actor};
use crate::server::{
    auth::password, config::Config, db, db::Db, router, services, state::AppState,
};
use chrono::Utc;
use clap::{Parser, Subcommand};
use leptos::config::{get_configuration, LeptosOptions};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "clearance",
    version,
    about = "Verification status inside the candidate profile, enforced there."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server (the default).
    Serve {
        /// Load the demo data first and print the demo accounts.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load demo users, jobs and candidates (idempotent) and print the demo accounts.
    DemoData {
        /// Also add this many synthetic candidates (for volume benchmarks; not idempotent).
        #[arg(long)]
        volume: Option<i64>,
        /// Also append this many synthetic audit entries to the chain (for volume benchmarks).
        #[arg(long)]
        audit: Option<i64>,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Run a partner simulator (for the demo and the tests).
    Sim {
        #[command(subcommand)]
        partner: SimCommand,
    },
    /// Reconcile with the identity-verification provider now and print the counts.
    Reconcile,
    /// The interview-integrity monitor (connect once).
    Monitor {
        #[command(subcommand)]
        command: MonitorCommand,
    },
    /// Background-check partners.
    Partner {
        #[command(subcommand)]
        command: PartnerCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The key partner secrets are encrypted under.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
}

#[derive(Subcommand, Debug)]
enum SecretCommand {
    /// Print a new random key for CLEARANCE_SECRET_KEY (base64, 32 bytes).
    Keygen,
}

#[derive(Subcommand, Debug)]
enum SimCommand {
    /// The interview-integrity monitor (SPEC §7): interviews in, signed reports out.
    Monitor {
        #[arg(long, default_value = "127.0.0.1:4300")]
        listen: std::net::SocketAddr,
        /// Clearance's /webhooks/integrity endpoint.
        #[arg(long, default_value = "http://127.0.0.1:3000/webhooks/integrity")]
        webhook_url: String,
        #[arg(
            long,
            env = "CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET",
            hide_env_values = true
        )]
        webhook_secret: String,
        #[arg(long, env = "CLEARANCE_MONITOR_SIM_API_KEY", hide_env_values = true)]
        api_key: String,
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Share of announcements answered 503 (0–1).
        #[arg(long, default_value_t = 0.0)]
        failure_rate: f64,
        /// Post every report twice.
        #[arg(long)]
        duplicate: bool,
        /// Candidates decline monitoring.
        #[arg(long)]
        declined_consent: bool,
        /// Score of automatic reports.
        #[arg(long, default_value_t = 87)]
        score: i64,
    },
    /// The background-check partner (seed 000): catalog, strict order intake, result webhooks.
    Partner {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4200")]
        listen: std::net::SocketAddr,
        /// Account ID Clearance must authenticate with.
        #[arg(long, default_value = "ACCT123")]
        account_id: String,
        /// API secret Clearance must authenticate with.
        #[arg(long, env = "CLEARANCE_PARTNER_SIM_SECRET", hide_env_values = true)]
        secret: String,
        /// Delay before answering any request (ms).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Share of orders answered 500 (0–1).
        #[arg(long, default_value_t = 0.0)]
        failure_rate: f64,
        /// Be down (503) for this many seconds after start.
        #[arg(long, default_value_t = 0)]
        down_for_secs: u64,
        /// Refuse every order with 422 and an error_message.
        #[arg(long)]
        reject_all: bool,
        /// Deliver every result webhook twice.
        #[arg(long)]
        duplicate: bool,
        /// Complete accepted orders after this many milliseconds.
        #[arg(long, default_value_t = 3000)]
        complete_after_ms: u64,
        /// The result completed orders report.
        #[arg(long, default_value = "Pass")]
        result: String,
        /// Do not complete orders on their own (use POST /control/orders/{id}/complete).
        #[arg(long)]
        no_auto_complete: bool,
    },
    /// The identity-verification provider (SPEC §4): sessions, signed webhooks, reconciliation listing.
    Verification {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4100")]
        listen: std::net::SocketAddr,
        /// Clearance's webhook endpoint.
        #[arg(long, default_value = "http://127.0.0.1:3000/webhooks/verification")]
        webhook_url: String,
        /// whsec_ secret to sign webhooks with (the same as Clearance's).
        #[arg(
            long,
            env = "CLEARANCE_VERIFICATION_WEBHOOK_SECRET",
            hide_env_values = true
        )]
        webhook_secret: String,
        /// Bearer token Clearance must present.
        #[arg(long, env = "CLEARANCE_VERIFICATION_API_KEY", hide_env_values = true)]
        api_key: String,
        /// Delay before answering POST /sessions (ms).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Share of POST /sessions answered 503 (0–1).
        #[arg(long, default_value_t = 0.0)]
        failure_rate: f64,
        /// Deliver every webhook twice.
        #[arg(long)]
        duplicate: bool,
        /// Deliver a completion's events newest first.
        #[arg(long)]
        out_of_order: bool,
        /// Share of webhooks silently dropped (0–1).
        #[arg(long, default_value_t = 0.0)]
        drop_rate: f64,
        /// Sign webhooks with the wrong key.
        #[arg(long)]
        bad_signature: bool,
    },
}

#[derive(Subcommand, Debug)]
enum MonitorCommand {
    /// Connect the monitor; standard input gives the API key on the first line and the
    /// whsec_ webhook secret on the second.
    Connect {
        #[arg(long)]
        url: String,
    },
}

#[derive(Subcommand, Debug)]
enum PartnerCommand {
    /// Connect a background-check partner (seed 000); the API secret is read from standard input.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        catalog_url: String,
        #[arg(long)]
        orders_url: String,
        #[arg(long)]
        account_id: String,
        /// The partner's logo, a PNG file.
        #[arg(long)]
        logo: Option<PathBuf>,
        /// Update the partner of this name if it is already connected.
        #[arg(long)]
        replace: bool,
    },
    /// List connected partners (never their secrets).
    List,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Verify the hash chain; with --checkpoint, also check it against an exported checkpoint
    /// (detects truncation and rebuilt chains). Exits non-zero when anything is wrong.
    Verify {
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Base64 Ed25519 public key the checkpoint must be signed with (default: the one it names).
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Sign a checkpoint of the current head with CLEARANCE_AUDIT_SIGNING_KEY, store it, print it as JSON.
    Checkpoint,
    /// Print a new random signing key for CLEARANCE_AUDIT_SIGNING_KEY.
    Keygen,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Import candidates from a CSV file with a header row
    /// (first_name,last_name,email,job required; phone,address,address_2,city,state,zip,stage optional).
    Candidates { file: PathBuf },
}

pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
        // Outside cargo-leptos nobody sets it; set before any thread starts.
        std::env::set_var("LEPTOS_OUTPUT_NAME", "clearance");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve { demo: false }))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// The Leptos options from the environment. `cargo leptos build` names the front-end files with
/// their hash (`hash-files` in Cargo.toml) and writes the hashes to `hash.txt` beside the binary:
/// when that file is there, hashed names are used unless `LEPTOS_HASH_FILES=false` says otherwise.
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let mut options = get_configuration(None)?.leptos_options;
    let hash_file = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
    let present = hash_file.as_deref().is_some_and(std::path::Path::is_file);
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = present;
    } else if options.hash_files && !present {
        // Leptos would fail every page on the missing file: refuse to start instead.
        anyhow::bail!(
            "LEPTOS_HASH_FILES is true but {} is missing (it is written by cargo leptos build)",
            hash_file
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    Ok(options)
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect_with(
        &config.database_url,
        config.pg_timeouts,
        config.sqlite_durability,
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    db.migrate()
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    match &config.secret_key {
        Some(key) => {
            let n = services::secrets::encrypt_plaintext(&db, key).await
                .map_err(|e| anyhow::anyhow!("encrypting stored secrets failed: {e}"))?;
            if n > 0 {
                tracing::info!(secrets = n, "encrypted secrets that were stored in clear text");
            }
        }
        None => tracing::warn!(
            "CLEARANCE_SECRET_KEY is not set: background-check partners and the interview-integrity \
             monitor are off (their secrets are stored encrypted under that key; `clearance secret keygen` makes one)"
        ),
    }
    Ok(db)
}

async fn run(command: Command) -> anyhow::Result<()> {
    let options = leptos_options()?;
    let config = Config::from_env(options.site_addr)?;
    match command {
        Command::Serve { demo } => serve(options, config, demo).await,
        Command::Migrate => {
            let db = open_db(&config).await?;
            println!("migrations applied ({})", db.backend());
            Ok(())
        }
        Command::User {
            command: UserCommand::Add { email, name, role },
        } => {
            let db = open_db(&config).await?;
            let email = Email::parse(&email).map_err(anyhow::Error::msg)?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let name = name.trim().to_string();
            anyhow::ensure!(!name.is_empty(), "--name is empty");
            let mut pw = String::new();
            std::io::stdin().read_to_string(&mut pw)?;
            let pw = pw.trim_end_matches(['\r', '\n']).to_string();
            password::check_strength(&pw).map_err(anyhow::Error::msg)?;
            let hash = password::hash(pw).await?;
            let actor = Actor::System("cli".into());
            let created = |id| audit::user_created(actor, id, email.as_str(), role.as_str());
            match db::users::insert(
                &db,
                email.as_str(),
                &name,
                role.as_str(),
                &hash,
                Utc::now(),
                created,
            )
            .await
            {
                Ok(id) => {
                    println!("added user {id}: {email} ({})", role.label());
                    Ok(())
                }
                Err(e) if db::is_unique_violation(&e) => {
                    anyhow::bail!("a user with email {email} already exists")
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Audit { command } => audit_command(&config, command).await,
        Command::Secret {
            command: SecretCommand::Keygen,
        } => {
            println!("{}", crate::server::secrets::SecretBox::generate());
            Ok(())
        }
        Command::Reconcile => {
            let db = open_db(&config).await?;
            let lookback = config.reconcile_lookback;
            let state = AppState::new(options, db, config);
            let s = services::reconciliation::run(&state, "cli", lookback, None).await?;
            if !s.ran {
                anyhow::bail!("another reconciliation is running; try again when it has finished");
            }
            println!(
                "checked {} · drifted {} · fixed {} · failed {}",
                s.checked, s.drifted, s.fixed, s.failed
            );
            match s.error {
                Some(e) => anyhow::bail!("reconciliation incomplete: {e}"),
                None => Ok(()),
            }
        }
        Command::Sim {
            partner:
                SimCommand::Verification {
                    listen,
                    webhook_url,
                    webhook_secret,
                    api_key,
                    latency_ms,
                    failure_rate,
                    duplicate,
                    out_of_order,
                    drop_rate,
                    bad_signature,
                },
        } => {
            use crate::server::sim::verification::{serve, SimConfig, Switches};
            crate::server::webhooks::signature::secret_key(&webhook_secret)
                .map_err(|e| anyhow::anyhow!("--webhook-secret: {e}"))?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            let config = SimConfig {
                base_url: format!("http://{listen}"),
                webhook_url,
                webhook_secret,
                api_key,
                switches: Switches {
                    latency_ms,
                    failure_rate,
                    duplicate,
                    out_of_order,
                    drop_rate,
                    bad_signature,
                    ..Switches::default()
                },
            };
            println!(
                "verification provider simulator on http://{listen} (webhooks to {})",
                config.webhook_url
            );
            serve(listener, config).await
        }
        Command::Partner { command } => partner_command(&config, command).await,
        Command::Monitor {
            command: MonitorCommand::Connect { url },
        } => {
            let db = open_db(&config).await?;
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let mut lines = input.lines().map(str::trim);
            let (Some(key), Some(secret)) = (lines.next(), lines.next()) else {
                anyhow::bail!(
                    "give the API key and the webhook secret on two lines of standard input"
                );
            };
            services::integrity::connect(
                &db,
                &config,
                Actor::System("cli".into()),
                None,
                &url,
                key,
                secret,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("interview-integrity monitor connected: {url}");
            Ok(())
        }
        Command::Sim {
            partner:
                SimCommand::Monitor {
                    listen,
                    webhook_url,
                    webhook_secret,
                    api_key,
                    latency_ms,
                    failure_rate,
                    duplicate,
                    declined_consent,
                    score,
                },
        } => {
            use crate::server::sim::monitor::{serve, SimConfig, Switches};
            crate::server::webhooks::signature::secret_key(&webhook_secret)
                .map_err(|e| anyhow::anyhow!("--webhook-secret: {e}"))?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            println!("interview-integrity monitor simulator on http://{listen} (reports to {webhook_url})");
            serve(
                listener,
                SimConfig {
                    webhook_url,
                    webhook_secret,
                    api_key,
                    switches: Switches {
                        latency_ms,
                        failure_rate,
                        duplicate,
                        declined_consent,
                        score,
                        ..Switches::default()
                    },
                },
            )
            .await
        }
        Command::Sim {
            partner:
                SimCommand::Partner {
                    listen,
                    account_id,
                    secret,
                    latency_ms,
                    failure_rate,
                    down_for_secs,
                    reject_all,
                    duplicate,
                    complete_after_ms,
                    result,
                    no_auto_complete,
                },
        } => {
            use crate::server::sim::partner::{serve, SimConfig, Switches};
            anyhow::ensure!(!secret.is_empty(), "--secret is empty");
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            let down_until = (down_for_secs > 0)
                .then(|| Utc::now() + chrono::Duration::seconds(down_for_secs as i64));
            let config = SimConfig {
                base_url: format!("http://{listen}"),
                account_id,
                secret,
                switches: Switches {
                    latency_ms,
                    failure_rate,
                    fail_next: 0,
                    down_until,
                    reject_all,
                    duplicate,
                    auto_complete: !no_auto_complete,
                    complete_after_ms,
                    result,
                },
            };
            println!(
                "background-check partner simulator on http://{listen} (catalog /catalog, orders /orders)"
            );
            serve(listener, config).await
        }
        Command::DemoData { volume, audit } => {
            let db = open_db(&config).await?;
            services::demo::load(&db).await?;
            if let Some(n) = volume.filter(|n| *n > 0) {
                let started = std::time::Instant::now();
                let total = services::demo::add_volume(&db, n).await?;
                eprintln!(
                    "added {n} synthetic candidates in {:.1} s ({total} in all)",
                    started.elapsed().as_secs_f64()
                );
            }
            if let Some(n) = audit.filter(|n| *n > 0) {
                let started = std::time::Instant::now();
                services::demo::add_audit_volume(&db, n).await?;
                eprintln!(
                    "appended {n} synthetic audit entries in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            print!("{}", services::demo::credentials_banner());
            Ok(())
        }
        Command::Import {
            what: ImportCommand::Candidates { file },
        } => {
            let db = open_db(&config).await?;
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let report = services::import::import_candidates(&db, f).await?;
            for (line, err) in &report.errors {
                eprintln!("line {line}: {err}");
            }
            println!(
                "imported {} candidate(s), {} row(s) rejected",
                report.imported,
                report.errors.len()
            );
            anyhow::ensure!(
                report.errors.is_empty() || report.imported > 0,
                "no row could be imported"
            );
            Ok(())
        }
    }
}

async fn partner_command(config: &Config, command: PartnerCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    match command {
        PartnerCommand::List => {
            for p in services::background::partners(&db).await? {
                println!(
                    "{}\t{}\tcatalog {}\torders {}\taccount {}",
                    p.id, p.name, p.catalog_url, p.orders_url, p.account_id
                );
            }
            Ok(())
        }
        PartnerCommand::Add {
            name,
            catalog_url,
            orders_url,
            account_id,
            logo,
            replace,
        } => {
            let logo_png = logo
                .map(|path| {
                    std::fs::read(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
                })
                .transpose()?;
            let mut secret = String::new();
            std::io::stdin().read_to_string(&mut secret)?;
            let input = services::background::PartnerInput {
                name,
                catalog_url,
                orders_url,
                account_id,
                api_secret: secret.trim_end_matches(['\r', '\n']).to_string(),
                logo_png,
            };
            let id = services::background::add_partner(
                &db,
                config,
                Actor::System("cli".into()),
                &input,
                replace,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("partner {id} connected: {}", input.name.trim());
            Ok(())
        }
    }
}

async fn audit_command(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    use crate::model::ChainReport;
    use crate::server::audit::{decode_verifying_key, generate_signing_key, Checkpoint};
    match command {
        AuditCommand::Keygen => {
            println!("{}", generate_signing_key());
            Ok(())
        }
        AuditCommand::Checkpoint => {
            let key = config.signing_key()?.ok_or_else(|| {
                anyhow::anyhow!("set CLEARANCE_AUDIT_SIGNING_KEY (see `clearance audit keygen`)")
            })?;
            let db = open_db(config).await?;
            let cp = services::audit::create_checkpoint(&db, &key).await?;
            println!("{}", serde_json::to_string_pretty(&cp)?);
            Ok(())
        }
        AuditCommand::Verify {
            checkpoint,
            public_key,
        } => {
            let db = open_db(config).await?;
            let report = match checkpoint {
                None => {
                    services::audit::verify_and_record(&db, Actor::System("cli".into())).await?
                }
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                    let cp: Checkpoint = serde_json::from_str(&text).map_err(|e| {
                        anyhow::anyhow!("{} is not a checkpoint: {e}", path.display())
                    })?;
                    let trusted = public_key
                        .as_deref()
                        .map(decode_verifying_key)
                        .transpose()
                        .map_err(anyhow::Error::msg)?;
                    let report = services::audit::check_against(&db, &cp, trusted.as_ref()).await?;
                    println!(
                        "checkpoint of {} ({} entries) matches",
                        cp.created_at, cp.count
                    );
                    report
                }
            };
            println!("audit log {report}");
            match report {
                ChainReport::Intact { .. } => Ok(()),
                ChainReport::Broken { .. } => anyhow::bail!("the audit log has been tampered with"),
            }
        }
    }
}

async fn serve(options: LeptosOptions, config: Config, demo: bool) -> anyhow::Result<()> {
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
        served = router::serve(listener, state, signalled) => served?,
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

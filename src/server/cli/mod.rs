//! The `clearance` command line: parsing, and one small function per command (serve in serve.rs,
//! the simulators in sim.rs). Every command goes through `services`.
use crate::model::{Email, Role};
use crate::server::audit::Actor;
use crate::server::{config::Config, db::Db, services, state::AppState};
use clap::{Parser, Subcommand};
use leptos::config::{get_configuration, LeptosOptions};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

mod serve;
#[cfg(feature = "sim")]
mod sim;

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
        /// Also add this many synthetic candidates with 90 days of history (for volume
        /// benchmarks; not idempotent).
        #[arg(long, visible_alias = "size")]
        volume: Option<i64>,
        /// Also append this many synthetic audit entries to the chain (for volume benchmarks).
        #[arg(long)]
        audit: Option<i64>,
        /// First play ninety days of a company's hiring through the real paths (requests, signed
        /// webhooks, reviews, orders, interviews, reconciliation) with in-process simulators, so
        /// Insights, the review queue and the audit log have a story to show; idempotent.
        #[arg(long)]
        story: bool,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Run a partner simulator (for the demo and the tests; not in a build without `sim`).
    #[cfg(feature = "sim")]
    Sim {
        #[command(subcommand)]
        partner: sim::SimCommand,
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
    /// ATS integrations that embed the verification badge.
    Integration {
        #[command(subcommand)]
        command: IntegrationCommand,
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
enum MonitorCommand {
    /// Connect the monitor; standard input gives the API key on the first line and the
    /// whsec_ webhook secret on the second.
    Connect {
        #[arg(long)]
        url: String,
    },
}

#[derive(Subcommand, Debug)]
enum IntegrationCommand {
    /// Create one; prints its API key once (only its SHA-256 is kept).
    Add {
        #[arg(long)]
        name: String,
        /// An origin allowed to show the badge, e.g. https://ats.example.com (repeatable).
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// How long each embed token lasts.
        #[arg(long, default_value_t = 720)]
        token_hours: i64,
        /// The integration ends after this many days (default: until revoked).
        #[arg(long)]
        days: Option<i64>,
    },
    /// The integrations, with their origins and state.
    List,
    /// Revoke one: every token it issued stops working at once.
    Revoke {
        #[arg(long)]
        id: i64,
    },
    /// New API and signing keys (prints the new API key); the old key and its tokens stop working.
    Rotate {
        #[arg(long)]
        id: i64,
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
        /// The agency's postal address, named in final adverse-action notices.
        #[arg(long)]
        address: Option<String>,
        /// The agency's phone number, named in final adverse-action notices.
        #[arg(long)]
        phone: Option<String>,
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

/// Runs the command line; `pages` are the web pages `serve` answers with (from `crate::site`).
pub fn main(pages: crate::server::router::Pages) -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
        // Outside cargo-leptos nobody sets it; set before any thread starts.
        std::env::set_var("LEPTOS_OUTPUT_NAME", "clearance");
    }
    // Blocking threads (front-end files read from disk, password hashing, audit verification)
    // are few: each one that has run keeps its allocator heap (tokio's default allows 512; 64
    // connections on /pkg/ made 64 of them, +30 MB resident), and an argon2 hash holds 19 MiB
    // while it runs.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(
        cli.command.unwrap_or(Command::Serve { demo: false }),
        pages,
    )) {
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

async fn run(command: Command, pages: crate::server::router::Pages) -> anyhow::Result<()> {
    let options = leptos_options()?;
    let config = Config::from_env(options.site_addr)?;
    match command {
        Command::Serve { demo } => serve::serve(options, config, demo, pages).await,
        Command::Migrate => migrate(&config).await,
        Command::User {
            command: UserCommand::Add { email, name, role },
        } => add_user(&config, &email, &name, &role).await,
        Command::Audit { command } => audit_command(&config, command).await,
        Command::Secret {
            command: SecretCommand::Keygen,
        } => {
            println!("{}", crate::server::secrets::SecretBox::generate());
            Ok(())
        }
        Command::Reconcile => reconcile(options, config).await,
        Command::Partner { command } => partner_command(&config, command).await,
        Command::Integration { command } => integration_command(&config, command).await,
        #[cfg(feature = "sim")]
        Command::Sim { partner } => sim::run(partner).await,
        Command::Monitor {
            command: MonitorCommand::Connect { url },
        } => connect_monitor(&config, &url).await,
        Command::DemoData {
            volume,
            audit,
            story,
        } => {
            if story {
                tell_story(options, config.clone(), pages).await?;
            }
            demo_data(&config, volume, audit).await
        }
        Command::Import {
            what: ImportCommand::Candidates { file },
        } => import_candidates(&config, &file).await,
    }
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    println!("migrations applied ({})", db.backend());
    Ok(())
}

/// `clearance user add`: the password comes from standard input.
async fn add_user(config: &Config, email: &str, name: &str, role: &str) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let new = services::users::NewUser {
        email: &email,
        name,
        role,
        password,
    };
    let id = services::users::add(&db, Actor::System("cli".into()), new)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("added user {id}: {email} ({})", role.label());
    Ok(())
}

/// `clearance reconcile`: one run now, its counts printed.
async fn reconcile(options: LeptosOptions, config: Config) -> anyhow::Result<()> {
    let db = open_db(&config).await?;
    let lookback = config.reconcile_lookback;
    let state = AppState::new(options, db, config);
    let s = services::reconciliation::run(
        &state,
        crate::model::ReconciliationTrigger::Cli,
        lookback,
        None,
    )
    .await?;
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

/// `clearance monitor connect`: API key and webhook secret on two lines of standard input.
async fn connect_monitor(config: &Config, url: &str) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let mut lines = input.lines().map(str::trim);
    let (Some(key), Some(secret)) = (lines.next(), lines.next()) else {
        anyhow::bail!("give the API key and the webhook secret on two lines of standard input");
    };
    services::integrity::connect(
        &db,
        config,
        Actor::System("cli".into()),
        None,
        url,
        key,
        secret,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("interview-integrity monitor connected: {url}");
    Ok(())
}

/// `clearance demo-data`: the demo records, and optional synthetic volume for benchmarks.
/// `clearance demo-data --story`: the ninety days of history, before the demo's own candidates.
#[cfg(feature = "sim")]
async fn tell_story(
    options: LeptosOptions,
    config: Config,
    pages: crate::server::router::Pages,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let db = open_db(&config).await?;
    match crate::server::sim::story::tell(options, config, db.clone(), pages).await? {
        Some(told) => {
            // Today's fifty new applicants, at Applied: nobody in a gated stage unverified.
            services::demo::load_with_stages(&db, |_| crate::model::Stage::Applied).await?;
            eprintln!(
                "told the story: {} candidates, {} steps over ninety days, in {:.1} s",
                told.candidates,
                told.steps,
                started.elapsed().as_secs_f64()
            )
        }
        None => eprintln!("the story is there already"),
    }
    Ok(())
}

#[cfg(not(feature = "sim"))]
async fn tell_story(
    _: LeptosOptions,
    _: Config,
    _: crate::server::router::Pages,
) -> anyhow::Result<()> {
    anyhow::bail!("--story needs the simulators: build with the `sim` feature")
}

async fn demo_data(config: &Config, volume: Option<i64>, audit: Option<i64>) -> anyhow::Result<()> {
    let db = open_db(config).await?;
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

/// `clearance import candidates FILE.csv`: each bad row reported with its line.
async fn import_candidates(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let f = std::fs::File::open(file)
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
            address,
            phone,
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
            if address.is_some() || phone.is_some() {
                services::background::set_partner_contact(
                    &db,
                    Actor::System("cli".into()),
                    id,
                    address.as_deref().unwrap_or_default(),
                    phone.as_deref().unwrap_or_default(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            println!("partner {id} connected: {}", input.name.trim());
            Ok(())
        }
    }
}

async fn integration_command(config: &Config, command: IntegrationCommand) -> anyhow::Result<()> {
    use crate::server::services::embed;
    let db = open_db(config).await?;
    let cli = || Actor::System("cli".into());
    let words = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    match command {
        IntegrationCommand::Add {
            name,
            origins,
            token_hours,
            days,
        } => {
            let input = embed::IntegrationInput {
                name,
                origins,
                expires_in_days: days,
                token_ttl_hours: token_hours,
            };
            let (id, key) = embed::create(&db, config, cli(), None, &input)
                .await
                .map_err(words)?;
            println!("integration {id} created; its API key (shown once): {key}");
        }
        IntegrationCommand::List => {
            for i in embed::list(&db).await.map_err(words)? {
                let state = match (i.revoked_at, i.expires_at) {
                    (Some(_), _) => "revoked".to_string(),
                    (None, Some(e)) => format!("until {}", e.format("%Y-%m-%d")),
                    (None, None) => "active".to_string(),
                };
                println!(
                    "{}\t{}\t{}\t{state}\tkey generation {}",
                    i.id, i.name, i.allowed_origins, i.generation
                );
            }
        }
        IntegrationCommand::Revoke { id } => {
            embed::revoke(&db, cli(), id).await.map_err(words)?;
            println!("integration {id} revoked");
        }
        IntegrationCommand::Rotate { id } => {
            let key = embed::rotate(&db, config, cli(), id).await.map_err(words)?;
            println!("integration {id} has a new API key (shown once): {key}");
        }
    }
    Ok(())
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

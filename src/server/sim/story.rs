//! `clearance demo-data --story`: ninety days of a company's hiring, played through the real paths
//! so a newcomer's first look at Clearance shows what it does.
//!
//! The story runs Clearance in this process on a free port, with its own identity-verification
//! provider, background-check partner and interview-integrity monitor simulators, and sets the
//! server's clock (`server::clock`) to each moment of the story in turn: recruiters import
//! candidates and send verification requests (the delivery worker creates the sessions at the
//! provider), the provider completes them with signed webhooks, reviewers decide the needs-review
//! items (one high-risk override with a second approver), a security reviewer grants an exception,
//! recruiters move candidates through the stage gates and order background checks from the partner
//! (its result webhooks come back, one "Consider"), interviews are monitored and reported, one
//! completion webhook is lost and the next reconciliation run finds and fixes the drift, and one
//! request is dead-lettered while the provider is down. Every timestamp, deadline and audit entry
//! falls on the story's day; the audit chain is the ordinary one.
//!
//! At the end the clock is back on the wall, the in-process server and simulators stop, and the
//! demo's own partner and monitor connections (`scripts/demo.sh`) replace the story's.
use crate::model::{CurrentUser, ReconciliationTrigger, ReviewOutcome, Stage};
use crate::server::config::{Config, Secret};
use crate::server::services::{self, demo::DEMO_USERS};
use crate::server::{audit::Actor, clock, db, jobs, router, state::AppState};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use leptos::config::LeptosOptions;

/// What happens to one candidate of the story.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Arc {
    /// Verified, interviewed (monitored), checked "Clear", offered, hired.
    Hired,
    /// Like `Hired`, up to the offer.
    Offer,
    /// Verified and interviewed; the background check came back "Consider".
    Consider,
    /// Verified; the onsite interview monitored and reported.
    Onsite,
    /// Verified at the phone screen, then rejected by the recruiter.
    Rejected,
    /// Needs review (medium risk); a reviewer verified it the next day.
    ReviewedVerified,
    /// Needs review (high risk); verified as an override, approved by a second reviewer.
    ReviewedOverride,
    /// Needs review (high risk); the reviewer failed it and the candidate was rejected.
    ReviewedFailed,
    /// Needs review (low risk), opened yesterday at the end of the business day: waiting in the
    /// queue within its SLA whenever the story is told (three business days; a medium item's one
    /// day would run out at 17:00 UTC the next weekday).
    ReviewWaiting,
    /// Needs review (high risk), opened days ago and still open: past its SLA.
    ReviewBreached,
    /// The provider failed the verification; the reviewer confirmed it; rejected.
    Failed,
    /// The session is open at the provider; at the phone screen meanwhile.
    InProgress,
    /// Verification still in progress; a security reviewer's exception let the onsite go ahead.
    Exception,
    /// The completion webhook never arrived; the next reconciliation run found and fixed it.
    Drift,
    /// Requested while the provider was down: every attempt failed and the request was dead-lettered.
    DeadLetter,
    /// Just applied.
    Applied,
}

/// (first name, last name, index of the job in `demo::job_titles()`, days ago it starts, arc)
const CAST: [(&str, &str, usize, i64, Arc); 40] = [
    ("Katherine", "Johnson", 0, 88, Arc::Hired),
    ("Dorothy", "Vaughan", 1, 84, Arc::Hired),
    ("Mary", "Jackson", 2, 80, Arc::Hired),
    ("John", "Backus", 3, 76, Arc::Hired),
    ("Niklaus", "Wirth", 1, 71, Arc::Hired),
    ("Tony", "Hoare", 2, 66, Arc::Hired),
    ("Radia", "Perlman", 3, 60, Arc::Hired),
    ("Leslie", "Lamport", 0, 54, Arc::Hired),
    ("Jean", "Sammet", 1, 47, Arc::Hired),
    ("Ivan", "Sutherland", 2, 40, Arc::Hired),
    ("Shafi", "Goldwasser", 0, 35, Arc::Offer),
    ("Silvio", "Micali", 3, 30, Arc::Offer),
    ("Whitfield", "Diffie", 1, 26, Arc::Offer),
    ("Martin", "Hellman", 0, 28, Arc::Consider),
    ("Adele", "Goldberg", 2, 21, Arc::Onsite),
    ("Alan", "Kay", 3, 18, Arc::Onsite),
    ("Butler", "Lampson", 0, 15, Arc::Onsite),
    ("Chuck", "Thacker", 1, 62, Arc::Rejected),
    ("Fran", "Bilas", 2, 44, Arc::Rejected),
    ("Kay", "McNulty", 0, 57, Arc::ReviewedVerified),
    ("Betty", "Holberton", 1, 33, Arc::ReviewedVerified),
    ("Marlyn", "Wescoff", 3, 24, Arc::ReviewedOverride),
    ("Ruth", "Teitelbaum", 2, 50, Arc::ReviewedFailed),
    ("Hedy", "Lamarr", 1, 1, Arc::ReviewWaiting),
    ("Claude", "Shannon", 3, 12, Arc::ReviewBreached),
    ("John", "McCarthy", 2, 69, Arc::Failed),
    ("Marvin", "Minsky", 0, 38, Arc::Failed),
    ("Judea", "Pearl", 1, 4, Arc::InProgress),
    ("Robert", "Tarjan", 2, 3, Arc::InProgress),
    ("John", "Hopcroft", 3, 2, Arc::InProgress),
    ("Richard", "Karp", 0, 3, Arc::Exception),
    ("Stephen", "Cook", 1, 10, Arc::Drift),
    ("Michael", "Rabin", 2, 6, Arc::DeadLetter),
    ("Dana", "Scott", 3, 2, Arc::Applied),
    ("Juris", "Hartmanis", 0, 1, Arc::Applied),
    ("Richard", "Stearns", 1, 1, Arc::Applied),
    ("Frances", "Allen", 2, 74, Arc::Hired),
    ("Manuel", "Blum", 3, 48, Arc::ReviewedVerified),
    ("Lenore", "Blum", 0, 42, Arc::Offer),
    ("Anita", "Borg", 1, 20, Arc::Onsite),
];

/// One thing someone (or a partner) does in the story.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A recruiter imports the candidate (`clearance import candidates`' path).
    Import,
    /// A recruiter clicks "Send verification"; the worker creates the session at the provider.
    Request,
    /// Like `Request`, while the provider answers every attempt with 503.
    RequestWhileProviderDown,
    /// The candidate begins at the provider (`verification.started`).
    Start,
    /// The provider completes the session and signs its webhooks (`lost`: they never arrive).
    Complete {
        outcome: &'static str,
        tier: &'static str,
        reasons: &'static [&'static str],
        lost: bool,
    },
    /// A security reviewer decides the candidate's review item.
    Decide(ReviewOutcome, &'static str),
    /// The second reviewer approves an override.
    Approve,
    /// A security reviewer grants an eight-hour exception for a stage.
    Grant(Stage),
    /// A recruiter moves the application.
    Move(Stage),
    /// A recruiter schedules a monitored interview two days on at the onsite stage.
    Interview,
    /// The monitor reports the interview.
    Report {
        score: i64,
        flags: &'static [&'static str],
    },
    /// A recruiter orders the Standard Package.
    Order,
    /// The partner posts its result.
    Result(&'static str),
    /// A reconciliation run (the nightly one).
    Reconcile,
}

/// The steps of an arc: (days after its start, hours after 14:00 UTC, step).
fn steps(arc: Arc) -> Vec<(i64, i64, Step)> {
    use Step::*;
    let verified = |tier| Complete {
        outcome: "verified",
        tier,
        reasons: &[],
        lost: false,
    };
    let review = |tier, reasons| Complete {
        outcome: "needs_review",
        tier,
        reasons,
        lost: false,
    };
    let begin = vec![(0, 0, Import), (0, 1, Request)];
    let interviewed = [
        (2, 0, Move(Stage::PhoneScreen)),
        (5, 0, Move(Stage::OnsiteOrPanelInterview)),
        (5, 1, Interview),
        (
            7,
            2,
            Report {
                score: 91,
                flags: &[],
            },
        ),
    ];
    let more: Vec<(i64, i64, Step)> = match arc {
        Arc::Hired | Arc::Offer | Arc::Consider => {
            let result = if arc == Arc::Consider {
                "Consider"
            } else {
                "Clear"
            };
            let mut v = vec![(1, 3, verified("low"))];
            v.extend(interviewed.iter().cloned());
            v.extend([(8, 0, Order), (11, 4, Result(result))]);
            if arc != Arc::Consider {
                v.push((12, 1, Move(Stage::Offer)));
            }
            if arc == Arc::Hired {
                v.push((15, 2, Move(Stage::Hired)));
            }
            v
        }
        Arc::Onsite => {
            let mut v = vec![(1, 3, verified("medium"))];
            v.extend(interviewed.iter().cloned());
            v.pop();
            v.push((
                7,
                2,
                Report {
                    score: 64,
                    flags: &["tab_switch"],
                },
            ));
            v
        }
        Arc::Rejected => vec![
            (1, 3, verified("low")),
            (2, 0, Move(Stage::PhoneScreen)),
            (4, 5, Move(Stage::Rejected)),
        ],
        Arc::ReviewedVerified => vec![
            (1, 3, review("medium", &["document_glare"])),
            (
                2,
                1,
                Decide(ReviewOutcome::Verified, "verified_after_retry"),
            ),
            (3, 0, Move(Stage::PhoneScreen)),
            (6, 0, Move(Stage::OnsiteOrPanelInterview)),
        ],
        Arc::ReviewedOverride => vec![
            (1, 3, review("high", &["face_match_low"])),
            (
                1,
                5,
                Decide(ReviewOutcome::Verified, "override_with_second_approver"),
            ),
            (2, 0, Approve),
            (3, 0, Move(Stage::PhoneScreen)),
        ],
        Arc::ReviewedFailed => vec![
            (1, 3, review("high", &["document_tampered"])),
            (
                2,
                1,
                Decide(ReviewOutcome::Failed, "voice_or_face_mismatch_escalate"),
            ),
            (3, 0, Move(Stage::Rejected)),
        ],
        Arc::ReviewWaiting => vec![(0, 3, review("low", &["document_glare"]))],
        Arc::ReviewBreached => vec![(1, 3, review("high", &["face_match_low"]))],
        Arc::Failed => vec![
            (
                1,
                3,
                Complete {
                    outcome: "failed",
                    tier: "high",
                    reasons: &["document_expired"],
                    lost: false,
                },
            ),
            (
                2,
                1,
                Decide(ReviewOutcome::Failed, "could_not_complete_liveness"),
            ),
            (3, 0, Move(Stage::Rejected)),
        ],
        Arc::InProgress => vec![(0, 4, Start), (1, 0, Move(Stage::PhoneScreen))],
        Arc::Exception => vec![
            (0, 4, Start),
            (1, 0, Move(Stage::PhoneScreen)),
            (2, 0, Grant(Stage::OnsiteOrPanelInterview)),
            (2, 1, Move(Stage::OnsiteOrPanelInterview)),
        ],
        Arc::Drift => vec![
            (
                1,
                3,
                Complete {
                    outcome: "verified",
                    tier: "low",
                    reasons: &[],
                    lost: true,
                },
            ),
            (2, -12, Reconcile),
            (2, 1, Move(Stage::PhoneScreen)),
        ],
        Arc::DeadLetter => return vec![(0, 0, Import), (0, 1, RequestWhileProviderDown)],
        Arc::Applied => return vec![(0, 0, Import)],
    };
    begin.into_iter().chain(more).collect()
}

/// The story's timeline, earliest first: (when, index into CAST or None for the nightly runs, step).
fn timeline(now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Option<usize>, Step)> {
    let day = |days_ago: i64| {
        (now - Duration::days(days_ago))
            .date_naive()
            .and_time(NaiveTime::from_hms_opt(14, 0, 0).expect("a time"))
            .and_utc()
    };
    // Nothing happens within the last hour: the story is all past.
    let latest = now - Duration::hours(1);
    let mut events = Vec::new();
    for (i, (_, _, _, start, arc)) in CAST.iter().enumerate() {
        for (d, h, step) in steps(*arc) {
            let at = (day(start - d) + Duration::hours(h)).min(latest);
            events.push((at, Some(i), step));
        }
    }
    // The nightly reconciliation, once a week (02:00 UTC).
    for days_ago in (1..=12).map(|w| w * 7) {
        events.push((day(days_ago) - Duration::hours(12), None, Step::Reconcile));
    }
    // Stable: a candidate's steps at the same moment keep their order.
    events.sort_by_key(|(at, _, _)| *at);
    events
}

pub fn email(first: &str, last: &str) -> String {
    format!(
        "{}.{}@story.example",
        first.to_lowercase(),
        last.to_lowercase()
    )
}

const PROVIDER_KEY: &str = "story-provider-key";
const PROVIDER_WEBHOOK_SECRET: &str = "whsec_c3Rvcnktd2ViaG9vay1zZWNyZXQta2V5";
const PARTNER_NAME: &str = "Acme Screening (simulator)";
const PARTNER_ACCOUNT: &str = "ACCT123";
const PARTNER_SECRET: &str = "story-partner-secret";
const MONITOR_KEY: &str = "story-monitor-key";
const MONITOR_SECRET: &str = "whsec_c3RvcnktbW9uaXRvci1zZWNyZXQ=";

/// What the story made.
#[derive(Debug, Default)]
pub struct Told {
    pub candidates: usize,
    pub steps: usize,
}

/// Plays the story onto `db` (migrated; the demo's users and jobs are added if missing), with
/// `config` for everything but the partners' addresses. Returns `None` when the story's candidates
/// are there already.
pub async fn tell(
    options: LeptosOptions,
    mut config: Config,
    db: db::Db,
    pages: router::Pages,
) -> anyhow::Result<Option<Told>> {
    let there = |i: usize| {
        let (first, last, ..) = CAST[i];
        let db = db.clone();
        async move { db::candidates::candidate_id_by_email(&db, &email(first, last)).await }
    };
    // The first candidate the story imports and the last (ninety days ago; yesterday).
    let imports: Vec<usize> = timeline(Utc::now())
        .into_iter()
        .filter(|(_, _, step)| *step == Step::Import)
        .filter_map(|(_, who, _)| who)
        .collect();
    let (earliest, latest) = (
        imports.first().copied().unwrap_or(0),
        imports.last().copied().unwrap_or(0),
    );
    match (
        there(earliest).await?.is_some(),
        there(latest).await?.is_some(),
    ) {
        (false, _) => {}
        (true, true) => return Ok(None),
        (true, false) => anyhow::bail!(
            "an earlier telling of the story stopped part-way on this database; tell it on a fresh one"
        ),
    }
    let wall = Utc::now();
    clock::set(wall - Duration::days(91));
    let told = play(options, &mut config, db, pages, wall).await;
    clock::reset();
    told.map(Some)
}

/// The simulators and the server of the story, on free ports of this machine.
struct Scene {
    state: AppState,
    provider: super::verification::Sim,
    partner: super::partner::Sim,
    monitor: super::monitor::Sim,
    partner_id: i64,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn listener() -> anyhow::Result<(tokio::net::TcpListener, String)> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", l.local_addr()?);
    Ok((l, url))
}

fn serve_sim(listener: tokio::net::TcpListener, router: axum::Router) {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::warn!(error = %e, "a story simulator stopped");
        }
    });
}

async fn set_up(
    mut options: LeptosOptions,
    config: &mut Config,
    db: db::Db,
    pages: router::Pages,
    staff: &[CurrentUser],
) -> anyhow::Result<Scene> {
    let (app_listener, app_url) = listener().await?;
    let (provider_listener, provider_url) = listener().await?;
    let (partner_listener, partner_url) = listener().await?;
    let (monitor_listener, monitor_url) = listener().await?;
    options.site_addr = app_listener.local_addr()?;
    config.public_url = app_url.clone();
    config.verification_url = Some(provider_url.clone());
    config.verification_api_key = Some(Secret::new(PROVIDER_KEY));
    config.verification_webhook_secret = Some(Secret::new(PROVIDER_WEBHOOK_SECRET));
    config.outbound = crate::server::partners::outbound::OutboundPolicy {
        allow_http: true,
        allowlist: vec!["127.0.0.0/8".parse()?],
    };
    config.metrics_addr = None;

    let provider = super::verification::Sim::new(super::verification::SimConfig {
        base_url: provider_url,
        webhook_url: format!("{app_url}/webhooks/verification"),
        webhook_secret: PROVIDER_WEBHOOK_SECRET.into(),
        api_key: PROVIDER_KEY.into(),
        switches: Default::default(),
    })
    .with_id_prefix("vs_story_");
    serve_sim(provider_listener, provider.clone().router());
    let partner = super::partner::Sim::new(super::partner::SimConfig {
        base_url: partner_url.clone(),
        account_id: PARTNER_ACCOUNT.into(),
        secret: PARTNER_SECRET.into(),
        switches: super::partner::Switches {
            auto_complete: false,
            ..Default::default()
        },
    });
    serve_sim(partner_listener, partner.clone().router());
    let monitor = super::monitor::Sim::new(super::monitor::SimConfig {
        webhook_url: format!("{app_url}/webhooks/integrity"),
        webhook_secret: MONITOR_SECRET.into(),
        api_key: MONITOR_KEY.into(),
        switches: super::monitor::Switches {
            auto_report: false,
            ..Default::default()
        },
    });
    serve_sim(monitor_listener, monitor.clone().router());

    let state = AppState::new(options, db, config.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve_state = state.clone();
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stopped.await;
        };
        if let Err(e) = router::serve(app_listener, serve_state, pages, stopped).await {
            tracing::warn!(error = %e, "the story's server stopped");
        }
    });

    // An admin connects the partner and the monitor, as on the Partners page.
    let admin = &staff[0];
    let partner_id = services::background::add_partner(
        &state.db,
        &state.config,
        Actor::from(admin),
        &services::background::PartnerInput {
            name: PARTNER_NAME.into(),
            catalog_url: format!("{partner_url}/catalog"),
            orders_url: format!("{partner_url}/orders"),
            account_id: PARTNER_ACCOUNT.into(),
            api_secret: PARTNER_SECRET.into(),
            logo_png: None,
        },
        true,
    )
    .await
    .map_err(|e| anyhow::anyhow!("connecting the story's partner: {e}"))?;
    services::integrity::connect_for(&state, admin, &monitor_url, MONITOR_KEY, MONITOR_SECRET)
        .await
        .map_err(|e| anyhow::anyhow!("connecting the story's monitor: {e}"))?;
    Ok(Scene {
        state,
        provider,
        partner,
        monitor,
        partner_id,
        stop: Some(stop),
    })
}

async fn play(
    options: LeptosOptions,
    config: &mut Config,
    db: db::Db,
    pages: router::Pages,
    wall: DateTime<Utc>,
) -> anyhow::Result<Told> {
    let (user_ids, _) = services::demo::load_staff(&db, clock::now()).await?;
    let staff: Vec<CurrentUser> = DEMO_USERS
        .iter()
        .zip(&user_ids)
        .map(|(u, id)| CurrentUser {
            id: *id,
            email: u.email.into(),
            name: u.name.into(),
            role: u.role,
        })
        .collect();
    let mut stage = set_up(options, config, db, pages, &staff).await?;
    let events = timeline(wall);
    let mut told = Told::default();
    let mut candidates: Vec<Option<i64>> = vec![None; CAST.len()];
    let mut interviews: Vec<Option<i64>> = vec![None; CAST.len()];
    for (at, who, step) in events {
        clock::set(at);
        let what = format!("{step:?}");
        let result = match who {
            Some(i) => act(&stage, &staff, i, &step, &mut candidates, &mut interviews).await,
            None => reconcile(&stage.state).await,
        };
        result.map_err(|e| {
            let name = who.map(|i| format!("{} {}", CAST[i].0, CAST[i].1));
            anyhow::anyhow!(
                "the story stopped at {at} ({}, {what}): {e}",
                name.unwrap_or_else(|| "nightly run".into())
            )
        })?;
        jobs::run_until_empty(&stage.state).await?;
        told.steps += 1;
    }
    told.candidates = candidates.iter().flatten().count();
    // Back to now: what is overdue by now (the breached review) is logged as it would have been.
    clock::reset();
    jobs::run_until_empty(&stage.state).await?;
    if let Some(stop) = stage.stop.take() {
        let _ = stop.send(());
    }
    Ok(told)
}

/// The id of the candidate's newest verification session.
async fn latest_session(db: &db::Db, candidate: i64) -> anyhow::Result<String> {
    db::verification::sessions_of(db, candidate)
        .await?
        .into_iter()
        .next()
        .map(|s| s.session_id)
        .ok_or_else(|| anyhow::anyhow!("no session was created"))
}

async fn reconcile(state: &AppState) -> anyhow::Result<()> {
    let run = services::reconciliation::run(
        state,
        ReconciliationTrigger::Schedule,
        Duration::days(8),
        None,
    )
    .await?;
    match run.error {
        Some(e) => anyhow::bail!("reconciliation failed: {e}"),
        None => Ok(()),
    }
}

async fn act(
    stage: &Scene,
    staff: &[CurrentUser],
    i: usize,
    step: &Step,
    candidates: &mut [Option<i64>],
    interviews: &mut [Option<i64>],
) -> anyhow::Result<()> {
    let state = &stage.state;
    let db = &state.db;
    let (recruiter, reviewer, second_reviewer) = (&staff[1], &staff[2], &staff[5]);
    let (first, last, job, _, _) = CAST[i];
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    if *step == Step::Import {
        let titles = services::demo::job_titles();
        let row = |cells: [&str; 9]| cells.map(String::from).to_vec();
        let csv = services::csv_text(vec![
            row([
                "first_name",
                "last_name",
                "email",
                "phone",
                "address",
                "city",
                "state",
                "zip",
                "job",
            ]),
            row([
                first,
                last,
                &email(first, last),
                &format!("555-02{i:02}"),
                &format!("{} Story Lane", 200 + i),
                "Springfield",
                "IL",
                "62701",
                titles[job],
            ]),
        ])
        .map_err(err)?;
        let report = services::import::import_candidates(db, csv.as_bytes()).await?;
        if let Some((line, why)) = report.errors.first() {
            anyhow::bail!("import line {line}: {why}");
        }
        candidates[i] = db::candidates::candidate_id_by_email(db, &email(first, last)).await?;
        return Ok(());
    }
    let candidate = candidates[i].ok_or_else(|| anyhow::anyhow!("not imported"))?;
    match step {
        Step::Import => {}
        Step::Request => services::verification::request(state, recruiter, candidate)
            .await
            .map_err(err)?,
        Step::RequestWhileProviderDown => {
            stage.provider.set_switches(super::verification::Switches {
                failure_rate: 1.0,
                ..Default::default()
            });
            services::verification::request(state, recruiter, candidate)
                .await
                .map_err(err)?;
            // Each attempt when its backoff has passed (2 s, 4 s, … with the default base).
            let attempts = async {
                for _ in 0..12 {
                    jobs::run_until_empty(state).await?;
                    clock::set(clock::now() + Duration::seconds(20));
                }
                anyhow::Ok(())
            }
            .await;
            stage.provider.set_switches(Default::default());
            attempts?;
        }
        Step::Start => {
            let session = latest_session(db, candidate).await?;
            stage
                .provider
                .start(&session)
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
        }
        Step::Complete {
            outcome,
            tier,
            reasons,
            lost,
        } => {
            let session = latest_session(db, candidate).await?;
            if *lost {
                stage.provider.set_switches(super::verification::Switches {
                    drop_rate: 1.0,
                    ..Default::default()
                });
            }
            let done = stage
                .provider
                .complete(
                    &session,
                    outcome,
                    Some(tier.to_string()),
                    reasons.iter().map(|r| r.to_string()).collect(),
                )
                .await;
            stage.provider.set_switches(Default::default());
            done.map_err(|e| anyhow::anyhow!(e))?;
        }
        Step::Decide(outcome, reason) => {
            let item = db::review::latest_for_candidate(db, candidate)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no review item"))?;
            services::review::claim(db, reviewer, item.id)
                .await
                .map_err(err)?;
            services::review::decide(
                state,
                reviewer,
                item.id,
                *outcome,
                reason,
                "Checked the evidence pack against the application.",
            )
            .await
            .map_err(err)?;
        }
        Step::Approve => {
            let item = db::review::latest_for_candidate(db, candidate)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no review item"))?;
            services::review::approve(db, second_reviewer, item.id)
                .await
                .map_err(err)?;
        }
        Step::Grant(to) => {
            services::policy::grant_exception(
                state,
                reviewer,
                services::policy::Grant {
                    candidate_id: candidate,
                    job_id: None,
                    stage: *to,
                    reason_code: "exception_verification_scheduled".into(),
                    hours: 8,
                },
            )
            .await
            .map_err(err)?;
        }
        Step::Move(to) => {
            let app = db::candidates::applications_of(db, candidate)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("no application"))?;
            services::candidates::move_stage(state, recruiter, app.id, *to)
                .await
                .map_err(err)?;
        }
        Step::Interview => {
            let at = clock::now() + Duration::days(2);
            let id = services::integrity::schedule(
                state,
                recruiter,
                services::integrity::ScheduleRequest {
                    candidate_id: candidate,
                    job_id: None,
                    stage: Stage::OnsiteOrPanelInterview,
                    local_time: at.format("%Y-%m-%dT%H:%M").to_string(),
                    time_zone: "UTC".into(),
                    interviewers: format!("{}, {}", DEMO_USERS[3].email, DEMO_USERS[4].email),
                },
            )
            .await
            .map_err(err)?;
            interviews[i] = Some(id);
        }
        Step::Report { score, flags } => {
            let id = interviews[i].ok_or_else(|| anyhow::anyhow!("no interview"))?;
            let status = stage
                .monitor
                .report(
                    &id.to_string(),
                    *score,
                    flags.iter().map(|f| f.to_string()).collect(),
                    "Monitored for the whole interview.",
                )
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            if status != 200 {
                anyhow::bail!("the report was answered {status}");
            }
        }
        Step::Order => {
            let view = services::background::catalog(state, recruiter, stage.partner_id, false)
                .await
                .map_err(err)?;
            let price = view
                .catalog
                .and_then(|c| c.packages.into_iter().find(|p| p.id == "PKG002"))
                .and_then(|p| p.price)
                .ok_or_else(|| anyhow::anyhow!("the partner's catalog has no Standard Package"))?;
            services::background::place_order(
                state,
                recruiter,
                services::background::PlaceOrder {
                    candidate_id: candidate,
                    partner_id: stage.partner_id,
                    package_id: "PKG002".into(),
                    add_on_ids: vec![],
                    expected_total: price,
                    job_id: None,
                    bulk: None,
                },
            )
            .await
            .map_err(err)?;
        }
        Step::Result(result) => {
            let order = services::background::orders_for(state, recruiter, candidate)
                .await
                .map_err(err)?
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("no order"))?;
            let status = stage
                .partner
                .complete(&order.background_check_id, "complete", Some(result))
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            if status != 200 {
                anyhow::bail!("the result was answered {status}");
            }
        }
        Step::Reconcile => reconcile(state).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_is_in_order_and_all_in_the_past() {
        let now = Utc::now();
        let events = timeline(now);
        assert!(events.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(events.iter().all(|(at, _, _)| *at < now));
        assert!(events.first().unwrap().0 >= now - Duration::days(90));
        // Each candidate is imported before anything else happens to them.
        for (i, (_, last, ..)) in CAST.iter().enumerate() {
            let first = events.iter().find(|(_, who, _)| *who == Some(i)).unwrap();
            assert_eq!(first.2, Step::Import, "{last}");
        }
    }

    #[test]
    fn the_cast_has_distinct_emails() {
        let mut emails: Vec<String> = CAST.iter().map(|(f, l, ..)| email(f, l)).collect();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), CAST.len());
    }
}

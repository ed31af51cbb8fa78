//! `clearance sim …`: the partner simulators for the demo and the tests (the `sim` feature; a lean
//! production build leaves them out, and the production router never imports them).
use crate::server::clock;
use clap::{Args, Subcommand};
use std::net::SocketAddr;

/// How a simulator misbehaves, the same flags for all three.
#[derive(Args, Debug, Clone)]
pub struct Misbehaviour {
    /// Delay before answering (ms): the provider's POST /sessions, the partner's every request,
    /// the monitor's announcements.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share (0–1) of those requests answered with a server error.
    #[arg(long, default_value_t = 0.0)]
    failure_rate: f64,
    /// Deliver every webhook (report, result) twice.
    #[arg(long)]
    duplicate: bool,
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// The interview-integrity monitor (SPEC §7): interviews in, signed reports out.
    Monitor {
        #[arg(long, default_value = "127.0.0.1:4300")]
        listen: SocketAddr,
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
        #[command(flatten)]
        misbehaviour: Misbehaviour,
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
        listen: SocketAddr,
        /// Account ID Clearance must authenticate with.
        #[arg(long, default_value = "ACCT123")]
        account_id: String,
        /// API secret Clearance must authenticate with.
        #[arg(long, env = "CLEARANCE_PARTNER_SIM_SECRET", hide_env_values = true)]
        secret: String,
        #[command(flatten)]
        misbehaviour: Misbehaviour,
        /// Be down (503) for this many seconds after start.
        #[arg(long, default_value_t = 0)]
        down_for_secs: u64,
        /// Refuse every order with 422 and an error_message.
        #[arg(long)]
        reject_all: bool,
        /// Complete accepted orders after this many milliseconds.
        #[arg(long, default_value_t = 3000)]
        complete_after_ms: u64,
        /// The result completed orders report.
        #[arg(long, default_value = "Pass")]
        result: String,
        /// A result for applicants of one last name, e.g. `Turing=Consider` (repeatable).
        #[arg(long = "result-for", value_parser = parse_result_for)]
        results_for: Vec<(String, String)>,
        /// Do not complete orders on their own (use POST /control/orders/{id}/complete).
        #[arg(long)]
        no_auto_complete: bool,
    },
    /// Where alerts to Support land: a Slack-compatible webhook (/slack) and a signed JSON webhook
    /// (/webhook); the page at / lists what arrived.
    Alerts {
        #[arg(long, default_value = "127.0.0.1:4500")]
        listen: SocketAddr,
        /// The JSON webhook's signing secret (whsec_…, the one saved on Clearance's Settings
        /// page); without it signatures are not checked.
        #[arg(
            long,
            env = "CLEARANCE_ALERTS_SIM_WEBHOOK_SECRET",
            hide_env_values = true
        )]
        webhook_secret: Option<String>,
    },
    /// A local SMTP sink for adverse-action notices: accepts every message and shows them on a page.
    Mail {
        /// SMTP address (Clearance's CLEARANCE_SMTP_URL=smtp://this).
        #[arg(long, default_value = "127.0.0.1:2525")]
        smtp: SocketAddr,
        /// The page showing what arrived.
        #[arg(long, default_value = "127.0.0.1:4400")]
        listen: SocketAddr,
    },
    /// The identity-verification provider (SPEC §4): sessions, signed webhooks, reconciliation listing.
    Verification {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4100")]
        listen: SocketAddr,
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
        #[command(flatten)]
        misbehaviour: Misbehaviour,
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

pub async fn run(command: SimCommand) -> anyhow::Result<()> {
    match command {
        SimCommand::Alerts {
            listen,
            webhook_secret,
        } => {
            let listener = bind(listen).await?;
            println!("alert sink: Slack-compatible on http://{listen}/slack, signed JSON on http://{listen}/webhook, received alerts on http://{listen}/");
            crate::server::sim::alerts::serve(listener, webhook_secret).await
        }
        SimCommand::Mail { smtp, listen } => {
            let smtp_listener = std::net::TcpListener::bind(smtp)
                .map_err(|e| anyhow::anyhow!("cannot listen on {smtp}: {e}"))?;
            let web = bind(listen).await?;
            println!("mail sink: SMTP on {smtp}, received mail on http://{listen}");
            crate::server::sim::mail::serve(smtp_listener, web).await
        }
        SimCommand::Verification {
            listen,
            webhook_url,
            webhook_secret,
            api_key,
            misbehaviour,
            out_of_order,
            drop_rate,
            bad_signature,
        } => {
            use crate::server::sim::verification::{SimConfig, Switches};
            check_secret(&webhook_secret)?;
            let config = SimConfig {
                base_url: format!("http://{listen}"),
                webhook_url,
                webhook_secret,
                api_key,
                switches: Switches {
                    latency_ms: misbehaviour.latency_ms,
                    failure_rate: misbehaviour.failure_rate,
                    duplicate: misbehaviour.duplicate,
                    out_of_order,
                    drop_rate,
                    bad_signature,
                    ..Switches::default()
                },
            };
            let listener = bind(listen).await?;
            println!(
                "verification provider simulator on http://{listen} (webhooks to {})",
                config.webhook_url
            );
            crate::server::sim::verification::serve(listener, config).await
        }
        SimCommand::Monitor {
            listen,
            webhook_url,
            webhook_secret,
            api_key,
            misbehaviour,
            declined_consent,
            score,
        } => {
            use crate::server::sim::monitor::{SimConfig, Switches};
            check_secret(&webhook_secret)?;
            let listener = bind(listen).await?;
            println!("interview-integrity monitor simulator on http://{listen} (reports to {webhook_url})");
            let config = SimConfig {
                webhook_url,
                webhook_secret,
                api_key,
                switches: Switches {
                    latency_ms: misbehaviour.latency_ms,
                    failure_rate: misbehaviour.failure_rate,
                    duplicate: misbehaviour.duplicate,
                    declined_consent,
                    score,
                    ..Switches::default()
                },
            };
            crate::server::sim::monitor::serve(listener, config).await
        }
        SimCommand::Partner {
            listen,
            account_id,
            secret,
            misbehaviour,
            down_for_secs,
            reject_all,
            complete_after_ms,
            result,
            results_for,
            no_auto_complete,
        } => {
            use crate::server::sim::partner::{SimConfig, Switches};
            anyhow::ensure!(!secret.is_empty(), "--secret is empty");
            let listener = bind(listen).await?;
            let down_until = (down_for_secs > 0)
                .then(|| clock::now() + chrono::Duration::seconds(down_for_secs as i64));
            let config = SimConfig {
                base_url: format!("http://{listen}"),
                account_id,
                secret,
                switches: Switches {
                    latency_ms: misbehaviour.latency_ms,
                    failure_rate: misbehaviour.failure_rate,
                    fail_next: 0,
                    down_until,
                    reject_all,
                    duplicate: misbehaviour.duplicate,
                    auto_complete: !no_auto_complete,
                    complete_after_ms,
                    result,
                    results_by_last_name: results_for.into_iter().collect(),
                },
            };
            println!(
                "background-check partner simulator on http://{listen} (catalog /catalog, orders /orders)"
            );
            crate::server::sim::partner::serve(listener, config).await
        }
    }
}

fn check_secret(webhook_secret: &str) -> anyhow::Result<()> {
    crate::server::partners::signature::secret_key(webhook_secret)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("--webhook-secret: {e}"))
}

fn parse_result_for(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, result)) if !name.trim().is_empty() && !result.trim().is_empty() => {
            Ok((name.trim().to_string(), result.trim().to_string()))
        }
        _ => Err(format!(
            "'{s}' is not LASTNAME=RESULT (e.g. Turing=Consider)"
        )),
    }
}

async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))
}

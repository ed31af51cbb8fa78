//! Settings read from the environment once at start-up.
use std::fmt;

/// A secret whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/clearance.db";

#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path` or `postgres://…`.
    pub database_url: String,
    /// The origin users reach us at, e.g. `https://clearance.example.com`; also decides Secure cookies.
    pub public_url: String,
    /// Base64 Ed25519 seed that signs audit checkpoints; without it none are signed.
    pub audit_signing_key: Option<Secret>,
    /// How often the server signs a checkpoint.
    pub audit_checkpoint_every: std::time::Duration,
    /// The identity-verification provider's base URL (`POST {url}/sessions`).
    pub verification_url: Option<String>,
    pub verification_api_key: Option<Secret>,
    /// `whsec_…` secret that signs the provider's webhooks.
    pub verification_webhook_secret: Option<Secret>,
    /// Attempts before an outbound delivery is dead-lettered.
    pub delivery_max_attempts: i64,
    /// First retry delay; later ones double (with jitter), capped at ten minutes.
    pub retry_base: std::time::Duration,
    /// How often the background worker looks for due jobs.
    pub worker_poll: std::time::Duration,
    /// Candidates bulk jobs act on per second, per partner — the verification provider, each
    /// background-check partner, stage moves — shared by every instance (`CLEARANCE_BULK_PER_SECOND`,
    /// default 10, at most 1,000): each verification request or order is a call to a partner,
    /// whose limits a 2,000-candidate sweep must not trip.
    pub bulk_per_second: u32,
    /// Business hours and time zone that review SLAs count in.
    pub business_calendar: crate::server::business_hours::BusinessCalendar,
    /// When the nightly reconciliation runs (organisation time) and how far back it looks.
    pub reconcile_at: chrono::NaiveTime,
    pub reconcile_lookback: chrono::Duration,
    /// A running reconciliation silent this long (no page finished) is taken as dead.
    pub reconcile_abandoned_after: chrono::Duration,
    /// A submitted background-check order with no result after this long is flagged stale.
    pub order_stale_after: chrono::Duration,
    /// The policy from `CLEARANCE_POLICY_FILE` (validated at start-up), replacing the shipped default.
    pub policy_yaml: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed (`CLEARANCE_TRUSTED_PROXIES`, CIDRs); none by default.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where partner and monitor calls may go (https only and no internal addresses by default).
    pub outbound: crate::server::partners::outbound::OutboundPolicy,
    /// The key partner and monitor secrets are encrypted under (`CLEARANCE_SECRET_KEY`).
    pub secret_key: Option<crate::server::secrets::SecretBox>,
    /// A session unused this long ends (`CLEARANCE_SESSION_IDLE_MINUTES`, default 30).
    pub session_idle: std::time::Duration,
    /// A session ends this long after sign-in however busy (`CLEARANCE_SESSION_MAX_HOURS`, default 12).
    pub session_max_age: std::time::Duration,
    /// PostgreSQL session limits (`CLEARANCE_PG_STATEMENT_TIMEOUT_MS`, `_LOCK_TIMEOUT_MS`,
    /// `_IDLE_IN_TRANSACTION_TIMEOUT_MS`).
    pub pg_timeouts: crate::server::db::PgTimeouts,
    /// `CLEARANCE_SQLITE_SYNCHRONOUS`: full (default) or normal.
    pub sqlite_durability: crate::server::db::SqliteDurability,
    /// `CLEARANCE_SMTP_URL` (+ `CLEARANCE_SMTP_FROM`): where adverse-action notices are emailed;
    /// without it notices are generated for print only.
    pub smtp: Option<crate::server::mail::SmtpSettings>,
    /// `CLEARANCE_EMPLOYER_NAME`: who the notices are from.
    pub employer_name: String,
    /// `CLEARANCE_WIDGET_DIR`: the Trunk-built badge widget (default `target/widget`).
    pub widget_dir: std::path::PathBuf,
    /// `CLEARANCE_ADVERSE_WAIT_SECONDS` (demo and tests only): every waiting period lasts this
    /// long instead of the job's days; the profile says so.
    pub adverse_wait_override: Option<chrono::Duration>,
    /// `CLEARANCE_METRICS_ALLOW` (CIDRs): who may read `/metrics` on the main address (loopback
    /// by default).
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// `CLEARANCE_METRICS_ADDR`: serve `/metrics` on this address only, to whoever reaches it.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// Parses a comma-separated list of CIDRs (a bare address counts as one host).
pub fn parse_cidrs(name: &str, text: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!("{name}: '{s}' is not an address or CIDR (e.g. 10.0.0.0/8)")
                })
        })
        .collect()
}

impl Config {
    /// Defaults for everything but the database and public URL.
    pub fn new(database_url: String, public_url: String) -> Config {
        Config {
            database_url,
            public_url,
            audit_signing_key: None,
            audit_checkpoint_every: std::time::Duration::from_secs(3600),
            verification_url: None,
            verification_api_key: None,
            verification_webhook_secret: None,
            delivery_max_attempts: 6,
            retry_base: std::time::Duration::from_secs(2),
            worker_poll: std::time::Duration::from_millis(500),
            bulk_per_second: 10,
            business_calendar: crate::server::business_hours::BusinessCalendar::default(),
            reconcile_at: chrono::NaiveTime::from_hms_opt(2, 0, 0).unwrap_or_default(),
            reconcile_lookback: chrono::Duration::hours(48),
            reconcile_abandoned_after: chrono::Duration::minutes(5),
            order_stale_after: chrono::Duration::days(14),
            policy_yaml: None,
            trusted_proxies: Vec::new(),
            secret_key: None,
            outbound: Default::default(),
            session_idle: std::time::Duration::from_secs(30 * 60),
            session_max_age: std::time::Duration::from_secs(12 * 3600),
            pg_timeouts: Default::default(),
            sqlite_durability: Default::default(),
            smtp: None,
            employer_name: "Clearance demo employer".into(),
            widget_dir: "target/widget".into(),
            adverse_wait_override: None,
            metrics_allow: default_metrics_allow(),
            metrics_addr: None,
        }
    }

    pub fn from_env(site_addr: std::net::SocketAddr) -> anyhow::Result<Config> {
        Config::from_vars(site_addr, |key| std::env::var(key).ok())
    }

    /// The configuration from `var` (the environment, or a map in tests). A variable set to a
    /// value that does not parse, or lies outside its range, stops start-up with its name.
    pub fn from_vars(
        site_addr: std::net::SocketAddr,
        var: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let non_empty_env = |key: &str| var(key).filter(|v| !v.trim().is_empty());
        let number_env = |key: &str, min: u64, max: u64| number(non_empty_env(key), key, min, max);
        let database_url =
            non_empty_env("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let public_url = non_empty_env("CLEARANCE_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_string();
        let minutes =
            number_env("CLEARANCE_AUDIT_CHECKPOINT_MINUTES", 1, MINUTES_A_YEAR)?.unwrap_or(60);
        let mut c = Config::new(database_url, public_url);
        c.audit_signing_key = non_empty_env("CLEARANCE_AUDIT_SIGNING_KEY").map(Secret::new);
        c.audit_checkpoint_every = std::time::Duration::from_secs(minutes * 60);
        c.verification_url = non_empty_env("CLEARANCE_VERIFICATION_URL")
            .map(|u| u.trim_end_matches('/').to_string());
        c.verification_api_key = non_empty_env("CLEARANCE_VERIFICATION_API_KEY").map(Secret::new);
        c.verification_webhook_secret =
            non_empty_env("CLEARANCE_VERIFICATION_WEBHOOK_SECRET").map(Secret::new);
        if let Some(n) = number_env("CLEARANCE_DELIVERY_MAX_ATTEMPTS", 1, 1_000)? {
            c.delivery_max_attempts = n as i64;
        }
        if let Some(n) = number_env("CLEARANCE_BULK_PER_SECOND", 1, 1_000)? {
            c.bulk_per_second = n as u32;
        }
        if let Some(ms) = number_env("CLEARANCE_RETRY_BASE_MS", 0, 3_600_000)? {
            c.retry_base = std::time::Duration::from_millis(ms);
        }
        let hours = non_empty_env("CLEARANCE_BUSINESS_HOURS")
            .unwrap_or_else(|| "Mon-Fri 09:00-17:00".into());
        let tz = non_empty_env("CLEARANCE_TIMEZONE").unwrap_or_else(|| "UTC".into());
        c.business_calendar = crate::server::business_hours::BusinessCalendar::parse(&hours, &tz)
            .map_err(|e| {
            anyhow::anyhow!("CLEARANCE_BUSINESS_HOURS / CLEARANCE_TIMEZONE: {e}")
        })?;
        if let Some(m) = number_env("CLEARANCE_SESSION_IDLE_MINUTES", 1, MINUTES_A_YEAR)? {
            c.session_idle = std::time::Duration::from_secs(m * 60);
        }
        if let Some(h) = number_env("CLEARANCE_SESSION_MAX_HOURS", 1, 24 * 366)? {
            c.session_max_age = std::time::Duration::from_secs(h * 3600);
        }
        let pg = &mut c.pg_timeouts;
        for (name, field) in [
            ("CLEARANCE_PG_STATEMENT_TIMEOUT_MS", &mut pg.statement_ms),
            ("CLEARANCE_PG_LOCK_TIMEOUT_MS", &mut pg.lock_ms),
            (
                "CLEARANCE_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                &mut pg.idle_in_transaction_ms,
            ),
        ] {
            // PostgreSQL keeps these in a 32-bit int of milliseconds.
            if let Some(ms) = number_env(name, 0, i32::MAX as u64)? {
                *field = ms;
            }
        }
        if let Some(v) = non_empty_env("CLEARANCE_SQLITE_SYNCHRONOUS") {
            c.sqlite_durability = v
                .parse()
                .map_err(|e: String| anyhow::anyhow!("CLEARANCE_SQLITE_SYNCHRONOUS: {e}"))?;
        }
        if let Some(k) = non_empty_env("CLEARANCE_SECRET_KEY") {
            c.secret_key = Some(
                crate::server::secrets::SecretBox::from_base64(&k)
                    .map_err(|e| anyhow::anyhow!(e))?,
            );
        }
        c.outbound.allow_http = match non_empty_env("CLEARANCE_ALLOW_HTTP_PARTNERS").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                anyhow::bail!("CLEARANCE_ALLOW_HTTP_PARTNERS: '{other}' is not true or false")
            }
        };
        if let Some(list) = non_empty_env("CLEARANCE_PARTNER_ALLOWLIST") {
            c.outbound.allowlist = parse_cidrs("CLEARANCE_PARTNER_ALLOWLIST", &list)?;
        }
        if let Some(list) = non_empty_env("CLEARANCE_TRUSTED_PROXIES") {
            c.trusted_proxies = parse_cidrs("CLEARANCE_TRUSTED_PROXIES", &list)?;
        }
        if let Some(at) = non_empty_env("CLEARANCE_RECONCILE_AT") {
            c.reconcile_at = chrono::NaiveTime::parse_from_str(&at, "%H:%M").map_err(|_| {
                anyhow::anyhow!("CLEARANCE_RECONCILE_AT: '{at}' is not a time (HH:MM)")
            })?;
        }
        if let Some(hours) = number_env("CLEARANCE_RECONCILE_LOOKBACK_HOURS", 1, 24 * 3660)? {
            c.reconcile_lookback = chrono::Duration::hours(hours as i64);
        }
        if let Some(path) = non_empty_env("CLEARANCE_POLICY_FILE") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("CLEARANCE_POLICY_FILE: cannot read {path}: {e}"))?;
            if let Err(problems) = crate::server::policy::parse(&text) {
                let list = problems
                    .iter()
                    .map(|p| format!("  {p}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                anyhow::bail!("CLEARANCE_POLICY_FILE {path} is not a valid policy:\n{list}");
            }
            c.policy_yaml = Some(text);
        }
        if let Some(days) = number_env("CLEARANCE_ORDER_STALE_DAYS", 1, 3660)? {
            c.order_stale_after = chrono::Duration::days(days as i64);
        }
        if let Some(url) = non_empty_env("CLEARANCE_SMTP_URL") {
            let from = non_empty_env("CLEARANCE_SMTP_FROM")
                .unwrap_or_else(|| "Clearance <notices@clearance.invalid>".into());
            c.smtp = Some(
                crate::server::mail::SmtpSettings::new(&url, &from).map_err(|e| {
                    anyhow::anyhow!("CLEARANCE_SMTP_URL / CLEARANCE_SMTP_FROM: {e}")
                })?,
            );
        }
        if let Some(dir) = non_empty_env("CLEARANCE_WIDGET_DIR") {
            c.widget_dir = dir.into();
        }
        if let Some(name) = non_empty_env("CLEARANCE_EMPLOYER_NAME") {
            c.employer_name = name.trim().to_string();
        }
        if let Some(s) = number_env("CLEARANCE_ADVERSE_WAIT_SECONDS", 0, 3600 * 24 * 90)? {
            c.adverse_wait_override = Some(chrono::Duration::seconds(s as i64));
        }
        if let Some(list) = non_empty_env("CLEARANCE_METRICS_ALLOW") {
            c.metrics_allow = parse_cidrs("CLEARANCE_METRICS_ALLOW", &list)?;
        }
        if let Some(addr) = non_empty_env("CLEARANCE_METRICS_ADDR") {
            c.metrics_addr = Some(addr.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "CLEARANCE_METRICS_ADDR: '{addr}' is not an address and port (e.g. 127.0.0.1:9464)"
                )
            })?);
        }
        Ok(c)
    }

    /// The checkpoint signing key, if configured; a malformed one is an error, not silence.
    pub fn signing_key(&self) -> anyhow::Result<Option<ed25519_dalek::SigningKey>> {
        self.audit_signing_key
            .as_ref()
            .map(|s| {
                crate::server::audit::decode_signing_key(s.expose())
                    .map_err(|e| anyhow::anyhow!("CLEARANCE_AUDIT_SIGNING_KEY: {e}"))
            })
            .transpose()
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Loopback only: a Prometheus on the same host, or an SSH tunnel.
fn default_metrics_allow() -> Vec<ipnet::IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|net| net.parse().ok())
        .collect()
}

const MINUTES_A_YEAR: u64 = 366 * 24 * 60;

/// A whole number in `min..=max` if set; anything else is an error naming the variable.
fn number(value: Option<String>, key: &str, min: u64, max: u64) -> anyhow::Result<Option<u64>> {
    let Some(v) = value else {
        return Ok(None);
    };
    match v.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => anyhow::bail!("{key}: '{v}' is not a whole number from {min} to {max}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, Secret};

    fn config_with(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars("127.0.0.1:3000".parse().unwrap(), |k| vars.get(k).cloned())
    }

    #[test]
    fn every_bad_number_stops_start_up_with_its_name() {
        for (name, bad) in [
            ("CLEARANCE_AUDIT_CHECKPOINT_MINUTES", "soon"),
            ("CLEARANCE_AUDIT_CHECKPOINT_MINUTES", "0"),
            ("CLEARANCE_DELIVERY_MAX_ATTEMPTS", "-1"),
            ("CLEARANCE_DELIVERY_MAX_ATTEMPTS", "99999999999999999999"),
            ("CLEARANCE_RETRY_BASE_MS", "2s"),
            ("CLEARANCE_BULK_PER_SECOND", "0"),
            ("CLEARANCE_SESSION_IDLE_MINUTES", "18446744073709551615"),
            ("CLEARANCE_SESSION_MAX_HOURS", "0"),
            ("CLEARANCE_PG_STATEMENT_TIMEOUT_MS", "4294967296"),
            ("CLEARANCE_RECONCILE_LOOKBACK_HOURS", "x"),
            ("CLEARANCE_ORDER_STALE_DAYS", "1.5"),
        ] {
            let err = config_with(&[(name, bad)]).unwrap_err().to_string();
            assert!(
                err.starts_with(name) && err.contains(bad),
                "{name}={bad}: {err}"
            );
        }
    }

    #[test]
    fn good_numbers_are_taken_and_unset_ones_default() {
        let c = config_with(&[
            ("CLEARANCE_AUDIT_CHECKPOINT_MINUTES", "15"),
            ("CLEARANCE_DELIVERY_MAX_ATTEMPTS", "3"),
            ("CLEARANCE_RETRY_BASE_MS", " 250 "),
            ("CLEARANCE_ORDER_STALE_DAYS", ""),
        ])
        .unwrap();
        assert_eq!(c.audit_checkpoint_every.as_secs(), 15 * 60);
        assert_eq!(c.delivery_max_attempts, 3);
        assert_eq!(c.retry_base.as_millis(), 250);
        let defaults = config_with(&[]).unwrap();
        assert_eq!(defaults.audit_checkpoint_every.as_secs(), 60 * 60);
        assert_eq!(defaults.delivery_max_attempts, 6);
        assert_eq!(c.order_stale_after, defaults.order_stale_after);
    }

    #[test]
    fn metrics_access_is_loopback_unless_configured_and_bad_values_stop_start_up() {
        let defaults = config_with(&[]).unwrap();
        let loopback: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let v6_loopback: std::net::IpAddr = "::1".parse().unwrap();
        let other: std::net::IpAddr = "10.1.2.3".parse().unwrap();
        assert!(defaults.metrics_allow.iter().any(|n| n.contains(&loopback)));
        assert!(defaults
            .metrics_allow
            .iter()
            .any(|n| n.contains(&v6_loopback)));
        assert!(!defaults.metrics_allow.iter().any(|n| n.contains(&other)));
        assert_eq!(defaults.metrics_addr, None);

        let c = config_with(&[
            ("CLEARANCE_METRICS_ALLOW", "10.0.0.0/8, 192.168.1.5"),
            ("CLEARANCE_METRICS_ADDR", "127.0.0.1:9464"),
        ])
        .unwrap();
        assert!(c.metrics_allow.iter().any(|n| n.contains(&other)));
        assert!(!c.metrics_allow.iter().any(|n| n.contains(&loopback)));
        assert_eq!(c.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));

        for (name, bad) in [
            ("CLEARANCE_METRICS_ALLOW", "10.0.0.0/33"),
            ("CLEARANCE_METRICS_ADDR", "localhost"),
        ] {
            let err = config_with(&[(name, bad)]).unwrap_err().to_string();
            assert!(err.starts_with(name) && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("whsec_supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
        assert_eq!(s.expose(), "whsec_supersecret");
    }
}

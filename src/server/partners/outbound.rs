//! Safe outbound calls to admin-entered partner and monitor URLs: https only (unless allowed), no
//! internal addresses (unless allow-listed, checked again at every DNS lookup), no redirects,
//! answers read up to a cap.
use super::PartnerProblem;
use crate::error::Invalid;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Largest catalog answer we read.
pub const CATALOG_CAP: usize = 1024 * 1024;
/// Largest page of the provider's session listing.
pub const LISTING_CAP: usize = 1024 * 1024;
/// Largest answer to anything else.
pub const ANSWER_CAP: usize = 64 * 1024;

/// Where partner and monitor calls may go (`CLEARANCE_ALLOW_HTTP_PARTNERS`, `CLEARANCE_PARTNER_ALLOWLIST`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    pub allow_http: bool,
    /// Internal addresses that may be called anyway (e.g. 127.0.0.1/32 for local simulators).
    pub allowlist: Vec<IpNet>,
}

/// Loopback, private, link-local, carrier-grade NAT, unique-local, unspecified or multicast.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

impl OutboundPolicy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allowlist.iter().any(|n| n.contains(&ip))
    }

    /// Checks a URL before any call: scheme, and the address when the host is an IP literal.
    pub fn check_url(&self, url: &str) -> Result<(), Invalid> {
        let parsed = reqwest::Url::parse(url).map_err(|_| format!("'{url}' is not a URL"))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(Invalid(format!(
                    "{url} is not https (plain http is allowed only with CLEARANCE_ALLOW_HTTP_PARTNERS=true)"
                )))
            }
            other => return Err(Invalid(format!("{url}: '{other}' URLs are not allowed"))),
        }
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                Some(IpAddr::from([127, 0, 0, 1]))
            }
            Some(url::Host::Domain(_)) => None,
            None => return Err(Invalid(format!("{url} has no host"))),
        };
        match ip {
            Some(ip) if !self.allows(ip) => Err(Invalid::from(internal_refusal(url))),
            _ => Ok(()),
        }
    }
}

fn internal_refusal(what: &str) -> String {
    format!(
        "{what} is an internal address (loopback, private or link-local); allow it with CLEARANCE_PARTNER_ALLOWLIST"
    )
}

/// Resolves host names and drops internal addresses the policy does not allow, at every lookup
/// (a name that later resolves to an internal address is refused then, not only when entered).
struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> = internal_refusal(&host).into();
                return Err(e);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for partner and monitor calls: no redirects, guarded DNS, time limits.
pub fn client(policy: &OutboundPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver {
            policy: Arc::new(policy.clone()),
        }))
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .user_agent(concat!("Clearance/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Reads an answer's body up to `cap` bytes; a longer one is refused, not read to the end.
pub async fn read_capped(mut res: reqwest::Response, cap: usize) -> Result<String, PartnerProblem> {
    if res.content_length().is_some_and(|n| n as usize > cap) {
        return Err(PartnerProblem::from(too_large(cap)));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|_| "the answer was cut off".to_string())?
    {
        if body.len() + chunk.len() > cap {
            return Err(PartnerProblem::from(too_large(cap)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn too_large(cap: usize) -> String {
    format!("the answer is larger than {} KB", cap / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_named() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "::ffff:93.184.216.34"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_and_internal_hosts() {
        let strict = OutboundPolicy::default();
        assert!(strict.check_url("https://partner.example/catalog").is_ok());
        assert!(strict
            .check_url("http://partner.example/catalog")
            .unwrap_err()
            .contains("not https"));
        assert!(strict.check_url("ftp://partner.example/x").is_err());
        assert!(strict
            .check_url("https://169.254.169.254/latest")
            .unwrap_err()
            .contains("internal"));
        assert!(strict.check_url("https://localhost:4200/").is_err());
        assert!(strict.check_url("https://[::1]:4200/").is_err());
        let local = OutboundPolicy {
            allow_http: true,
            allowlist: vec!["127.0.0.1/32".parse().unwrap()],
        };
        assert!(local.check_url("http://127.0.0.1:4200/catalog").is_ok());
        assert!(local.check_url("http://10.0.0.5/catalog").is_err());
    }
}

//! Request guards: cross-origin refusal, sign-in redirect for pages, safe error statuses, security headers.
use crate::error::AppError;
use crate::server::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// The scheme://host[:port] part of a URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// A browser request from another site: `Sec-Fetch-Site: cross-site`, or an `Origin` that is
/// neither our public URL nor the host the request was sent to.
pub fn is_cross_origin(
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
    host: Option<&str>,
    public_url: &str,
) -> bool {
    if sec_fetch_site.is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    let Some(origin) = origin else { return false };
    if origin.eq_ignore_ascii_case(origin_of(public_url)) {
        return false;
    }
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    !(host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host)))
}

/// Why a state-changing request (outside `/webhooks/` and `/api/v1/`) is refused, if it is: from another site,
/// or carrying neither `Origin` nor `Sec-Fetch-Site` — every browser sends one of them, so a
/// request without either cannot be shown to come from our pages (fail closed).
pub fn refuse_state_change(
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
    host: Option<&str>,
    public_url: &str,
) -> Option<&'static str> {
    if origin.is_none() && sec_fetch_site.is_none() {
        return Some("Requests that change something must say where they come from (Origin).");
    }
    is_cross_origin(origin, sec_fetch_site, host, public_url)
        .then_some("Cross-origin requests are refused.")
}

/// A download that writes to the audit log may only be fetched by our own pages or typed in the
/// address bar: `Sec-Fetch-Site`, when the browser sends it, must be `same-origin` or `none`.
pub fn fetched_from_elsewhere(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| !s.eq_ignore_ascii_case("same-origin") && !s.eq_ignore_ascii_case("none"))
}

pub async fn refuse_cross_origin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Webhooks answer to signatures and `/api/v1/` to integration keys (Authorization header):
    // neither uses the session cookie, so a forged cross-site request has nothing to ride on.
    let keyed = ["/webhooks/", "/api/v1/"]
        .iter()
        .any(|p| req.uri().path().starts_with(p));
    if state_changing && !keyed {
        let h = req.headers();
        let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        if let Some(reason) = refuse_state_change(
            get("origin"),
            get("sec-fetch-site"),
            get("host"),
            &state.config.public_url,
        ) {
            tracing::warn!(
                path = req.uri().path(),
                reason,
                "refused a state-changing request"
            );
            return (StatusCode::FORBIDDEN, reason).into_response();
        }
    }
    next.run(req).await
}

/// The address a request comes from: the peer, unless the peer is one of `trusted_proxies` —
/// then the right-most `X-Forwarded-For` entry that is not a trusted proxy.
pub fn client_ip(
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
    trusted_proxies: &[ipnet::IpNet],
) -> std::net::IpAddr {
    use std::net::IpAddr;
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    let mut client = canonical(peer);
    if trusted(&client) {
        if let Some(xff) = forwarded_for {
            for hop in xff.rsplit(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => {
                        client = canonical(ip);
                        if !trusted(&client) {
                            break;
                        }
                    }
                    // A hop we cannot read: stop at the last address we could.
                    Err(_) => break,
                }
            }
        }
    }
    client
}

/// The client address as a throttling key (see `client_ip`): an IPv6 client is counted by its
/// /64 (one customer's whole network), an IPv4 one by itself.
pub fn client_key(
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
    trusted_proxies: &[ipnet::IpNet],
) -> String {
    use std::net::IpAddr;
    match client_ip(peer, forwarded_for, trusted_proxies) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, as dual-stack sockets report) as IPv4.
pub fn canonical(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// A request path safe to write to logs: the background-check webhook's secret token is replaced.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    const WEBHOOK: &str = "/webhooks/background-checks/";
    if path.starts_with(WEBHOOK) {
        format!("{WEBHOOK}[token]").into()
    } else {
        path.into()
    }
}

/// `Strict-Transport-Security` on every response when Clearance is reached over https.
pub async fn strict_transport_security(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    if state.config.public_url.starts_with("https://") {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// Paths anyone may fetch without signing in.
pub fn is_public_path(path: &str) -> bool {
    const PUBLIC: [&str; 9] = [
        "/login",
        "/api/",
        "/widget/",
        "/pkg/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/webhooks/",
        "/favicon.ico",
    ];
    PUBLIC
        .iter()
        .any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)))
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}

/// Full page loads of app pages go to the sign-in page when nobody is signed in.
pub async fn require_sign_in_for_pages(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::GET && !is_public_path(req.uri().path()) {
        let signed_in = crate::server::auth::session_user_id(&session, &state.config)
            .await
            .is_some();
        if !signed_in {
            return Redirect::to("/login").into_response();
        }
    }
    next.run(req).await
}

/// Server-function errors leave server_fn as 500; give them the status their `AppError` means.
pub async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Content-Security-Policy for HTML pages; `nonce` is the one given to the hydration scripts.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Marks a response that may be framed where its own CSP `frame-ancestors` says (the embeddable
/// badge): `X-Frame-Options` cannot name origins, so it is left off such responses.
#[derive(Clone, Copy, Debug)]
pub struct FramedByCsp;

/// Takes `X-Frame-Options` off responses marked [`FramedByCsp`] (it runs outside the header layers).
pub async fn frame_options_by_csp(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if res.extensions().get::<FramedByCsp>().is_some() {
        res.headers_mut().remove(header::X_FRAME_OPTIONS);
    }
    res
}

/// Text made safe to put in HTML (element content or a quoted attribute), for the few pages
/// written without Leptos (printable notices, the badge, the simulators' pages).
pub use crate::model::escape_html;

pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

pub fn header_layers() -> [tower_http::set_header::SetResponseHeaderLayer<header::HeaderValue>; 4] {
    use tower_http::set_header::SetResponseHeaderLayer as L;
    [
        L::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        ),
        L::if_not_present(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("same-origin"),
        ),
        L::if_not_present(
            header::X_FRAME_OPTIONS,
            header::HeaderValue::from_static("DENY"),
        ),
        L::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(DEFAULT_CSP),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_and_non_browser_allowed() {
        assert!(!is_cross_origin(
            Some("http://127.0.0.1:3000"),
            Some("same-origin"),
            Some("127.0.0.1:3000"),
            "http://127.0.0.1:3000"
        ));
        assert!(!is_cross_origin(
            None,
            None,
            Some("127.0.0.1:3000"),
            "http://127.0.0.1:3000"
        ));
        assert!(!is_cross_origin(
            Some("https://clearance.example.com"),
            None,
            Some("internal:8080"),
            "https://clearance.example.com/"
        ));
    }

    #[test]
    fn foreign_origin_or_cross_site_refused() {
        assert!(is_cross_origin(
            Some("https://evil.example"),
            None,
            Some("127.0.0.1:3000"),
            "http://127.0.0.1:3000"
        ));
        assert!(is_cross_origin(
            None,
            Some("cross-site"),
            Some("127.0.0.1:3000"),
            "http://127.0.0.1:3000"
        ));
        assert!(is_cross_origin(
            Some("null"),
            None,
            Some("127.0.0.1:3000"),
            "http://127.0.0.1:3000"
        ));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = crate::server::config::parse_cidrs("T", "10.0.0.0/8, 192.168.1.5").unwrap();
        let peer = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // Straight from the internet: the header is the client's own words, ignored.
        assert_eq!(
            client_key(peer("203.0.113.9"), Some("1.2.3.4"), &proxies),
            "203.0.113.9"
        );
        // Through our proxy: the right-most address that is not one of ours.
        assert_eq!(
            client_key(
                peer("10.1.2.3"),
                Some("6.6.6.6, 198.51.100.7, 192.168.1.5"),
                &proxies
            ),
            "198.51.100.7"
        );
        assert_eq!(client_key(peer("10.1.2.3"), None, &proxies), "10.1.2.3");
        assert_eq!(
            client_key(peer("10.1.2.3"), Some("garbage"), &proxies),
            "10.1.2.3"
        );
        // No proxies configured: never believed.
        assert_eq!(
            client_key(peer("10.1.2.3"), Some("1.2.3.4"), &[]),
            "10.1.2.3"
        );
        // IPv6 clients count per /64; IPv4-mapped addresses as IPv4.
        assert_eq!(
            client_key(peer("2001:db8:1:2:aaaa::1"), None, &[]),
            client_key(peer("2001:db8:1:2:bbbb:cccc::9"), None, &[])
        );
        assert_eq!(
            client_key(peer("2001:db8:1:2:aaaa::1"), None, &[]),
            "2001:db8:1:2::/64"
        );
        assert_ne!(
            client_key(peer("2001:db8:1:2::1"), None, &[]),
            client_key(peer("2001:db8:1:3::1"), None, &[])
        );
        assert_eq!(
            client_key(peer("::ffff:198.51.100.7"), None, &[]),
            "198.51.100.7"
        );
        assert!(crate::server::config::parse_cidrs("T", "10.0.0.0/33").is_err());
    }

    #[test]
    fn state_changes_without_origin_or_fetch_metadata_are_refused() {
        let us = "http://127.0.0.1:3000";
        let host = Some("127.0.0.1:3000");
        assert!(refuse_state_change(None, None, host, us).is_some());
        assert!(refuse_state_change(Some(us), None, host, us).is_none());
        assert!(refuse_state_change(None, Some("same-origin"), host, us).is_none());
        assert!(refuse_state_change(None, Some("cross-site"), host, us).is_some());
        assert!(refuse_state_change(Some("https://evil.example"), None, host, us).is_some());
        let h = |v: Option<&str>| {
            let mut m = axum::http::HeaderMap::new();
            if let Some(v) = v {
                m.insert("sec-fetch-site", v.parse().unwrap());
            }
            m
        };
        assert!(!fetched_from_elsewhere(&h(None)));
        assert!(!fetched_from_elsewhere(&h(Some("same-origin"))));
        assert!(!fetched_from_elsewhere(&h(Some("none"))));
        assert!(fetched_from_elsewhere(&h(Some("cross-site"))));
        assert!(fetched_from_elsewhere(&h(Some("same-site"))));
    }

    #[test]
    fn webhook_tokens_never_reach_the_logs() {
        assert_eq!(
            loggable_path("/webhooks/background-checks/5f2a9c0e1d"),
            "/webhooks/background-checks/[token]"
        );
        assert_eq!(loggable_path("/candidates/7"), "/candidates/7");
    }

    #[test]
    fn public_paths() {
        assert!(is_public_path("/login"));
        assert!(is_public_path("/pkg/clearance.js"));
        assert!(is_public_path("/api/login"));
        assert!(!is_public_path("/candidates"));
        assert!(!is_public_path("/"));
        assert!(!is_public_path("/loginx"));
    }
}

//! Request guards: cross-origin refusal, sign-in redirect for pages, safe error statuses, security headers.
use crate::error::AppError;
use crate::server::{auth::SESSION_USER_KEY, state::AppState};
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

pub async fn refuse_cross_origin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if state_changing && !req.uri().path().starts_with("/webhooks/") {
        let h = req.headers();
        let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        if is_cross_origin(
            get("origin"),
            get("sec-fetch-site"),
            get("host"),
            &state.config.public_url,
        ) {
            tracing::warn!(path = req.uri().path(), "refused a cross-origin request");
            return (StatusCode::FORBIDDEN, "Cross-origin requests are refused.").into_response();
        }
    }
    next.run(req).await
}

/// Paths anyone may fetch without signing in.
pub fn is_public_path(path: &str) -> bool {
    const PUBLIC: [&str; 8] = [
        "/login",
        "/api/",
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
pub async fn require_sign_in_for_pages(session: Session, req: Request, next: Next) -> Response {
    if req.method() == Method::GET && !is_public_path(req.uri().path()) {
        let signed_in = matches!(session.get::<i64>(SESSION_USER_KEY).await, Ok(Some(_)));
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
    fn public_paths() {
        assert!(is_public_path("/login"));
        assert!(is_public_path("/pkg/clearance.js"));
        assert!(is_public_path("/api/login"));
        assert!(!is_public_path("/candidates"));
        assert!(!is_public_path("/"));
        assert!(!is_public_path("/loginx"));
    }
}

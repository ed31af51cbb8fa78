//! The HTTP side of the embeddable badge: `POST /api/v1/embed-tokens` (an ATS, with its
//! integration key), `GET /widget/badge?t=TOKEN` (the badge page an iframe shows, framed only by
//! the integration's origins) and `GET /widget/badge.json?t=TOKEN` (the same facts for scripts,
//! with CORS for those origins). Services decide; this file speaks HTTP.
use crate::server::clock;
use crate::server::embed_token;
use crate::server::services::embed::{self, Badge, EmbedRefusal};
use crate::server::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use sha2::Digest;

fn refused(r: &EmbedRefusal) -> Response {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (
        status,
        axum::Json(serde_json::json!({ "error": r.reason() })),
    )
        .into_response();
    if matches!(r, EmbedRefusal::TooMany) {
        // The allowance is per minute: it comes back when the next one starts.
        let wait = 60 - clock::now().timestamp().rem_euclid(60);
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    res
}

#[derive(Deserialize)]
struct TokenRequest {
    candidate_id: serde_json::Value,
    #[serde(default)]
    ttl_seconds: Option<serde_json::Value>,
}

/// `POST /api/v1/embed-tokens`: `201 {"token","expires_at","iframe_url"}`.
pub async fn issue(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let request = match serde_json::from_slice::<TokenRequest>(&body) {
        Ok(r) => r,
        Err(e) => {
            return refused(&EmbedRefusal::BadRequest(format!(
                "the body must be JSON like {{\"candidate_id\": 42}} ({e})"
            )))
        }
    };
    let Some(candidate_id) = whole_number(&request.candidate_id) else {
        return refused(&EmbedRefusal::BadRequest(
            "'candidate_id' must be a whole number".into(),
        ));
    };
    // JSON null is `None` here, as is a missing field.
    let ttl_seconds = match request.ttl_seconds.as_ref().map(whole_number) {
        Some(None) => {
            return refused(&EmbedRefusal::BadRequest(
                "'ttl_seconds' must be a whole number of seconds".into(),
            ))
        }
        given => given.flatten(),
    };
    match embed::issue_token(&state, bearer, candidate_id, ttl_seconds).await {
        Ok(issued) => (StatusCode::CREATED, axum::Json(issued)).into_response(),
        Err(r) => refused(&r),
    }
}

/// `42` or `"42"`.
fn whole_number(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    t: String,
}

/// The origins that may frame a token's page: its integration's, when the token names one.
async fn origins_of(state: &AppState, token: &str) -> Vec<String> {
    let Ok(claims) = embed_token::peek(token) else {
        return Vec::new();
    };
    match crate::server::db::integrations::find(&state.db, claims.integration_id).await {
        Ok(Some(i)) => serde_json::from_str(&i.allowed_origins).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn frame_ancestors(origins: &[String]) -> String {
    if origins.is_empty() {
        "'none'".into()
    } else {
        origins.join(" ")
    }
}

/// The badge's style, shared with the widget crate (which renders the same `<style>`, allowed by
/// the same hash).
const STYLE: &str = include_str!("../../widget/badge.css");

#[path = "../../widget/src/words.rs"]
mod words;

fn icon(b: &Badge) -> &'static str {
    words::icon(b.status.as_str())
}

use crate::server::security::escape_html as escape;

/// One style block (by its hash) and the widget's own scripts and WebAssembly from this origin;
/// only same-origin fetches; framed only by `origins`.
fn page_headers(origins: &[String]) -> Vec<(header::HeaderName, String)> {
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
    vec![
        (
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src 'sha256-{}'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; frame-ancestors {}",
                hash(STYLE),
                frame_ancestors(origins)
            ),
        ),
        (header::CACHE_CONTROL, "no-store".into()),
    ]
}

/// `GET /widget/badge?t=TOKEN`: the badge, or a neutral "Badge unavailable" for people.
pub async fn badge_page(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let (status, origins, inner) = match embed::badge(&state, &q.t, true, None).await {
        Ok((b, origins)) => {
            let (exact, rel) = b
                .last_updated
                .map(|at| {
                    (
                        at.format("%Y-%m-%d %H:%M UTC").to_string(),
                        format!("Updated {}", relative(clock::now() - at)),
                    )
                })
                .unwrap_or_default();
            let updated = format!("<span class=\"muted\" title=\"{exact}\">{rel}</span>");
            (
                StatusCode::OK,
                origins,
                // The widget takes this over (live updates, "Open in Clearance"); without
                // script it stays as it is.
                format!(
                    "<div id=\"clearance-badge-page\"><div class=\"badge s-{s}\" role=\"status\" aria-live=\"polite\">\
                     <span class=\"icon\" aria-hidden=\"true\">{icon}</span><div><div>{name}</div>\
                     <div class=\"status\">{label}</div><div>Next: {next}</div>{updated}</div></div></div>\
                     <script type=\"module\" src=\"/widget/clearance-badge.js\"></script>",
                    s = b.status.as_str(),
                    label = escape(&b.status_label),
                    icon = icon(&b),
                    name = escape(&b.name),
                    next = escape(&b.next_action),
                ),
            )
        }
        Err(r) => (
            StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST),
            origins_of(&state, &q.t).await,
            "<div class=\"badge\" role=\"status\">Badge unavailable</div>".to_string(),
        ),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Verification badge</title>\
         <style>{STYLE}</style></head><body>{inner}</body></html>"
    );
    let mut res = (status, Html(html)).into_response();
    for (k, v) in page_headers(&origins) {
        if let Ok(v) = HeaderValue::from_str(&v) {
            res.headers_mut().insert(k, v);
        }
    }
    // The integration's origins may frame it: X-Frame-Options cannot say that, CSP does.
    res.extensions_mut()
        .insert(crate::server::security::FramedByCsp);
    res
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago".
pub fn relative(d: chrono::Duration) -> String {
    words::relative_minutes(d.num_minutes())
}

/// `GET /widget/badge.json?t=TOKEN`: the badge's facts, readable by the integration's origins.
pub async fn badge_json(
    State(state): State<AppState>,
    signed_in: Option<crate::server::auth::SignedIn>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let viewer = signed_in.map(|s| s.0);
    let (mut res, origins) = match embed::badge(&state, &q.t, false, viewer.as_ref()).await {
        Ok((b, origins)) => (axum::Json(b).into_response(), origins),
        Err(r) => (refused(&r), origins_of(&state, &q.t).await),
    };
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if let Some(o) = origin.filter(|o| origins.iter().any(|a| a == o)) {
        if let Ok(v) = HeaderValue::from_str(o) {
            res.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            // The web component asks with the viewer's cookies (for "Open in Clearance").
            res.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            res.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The Trunk-built widget's glue script and WebAssembly in `dir` (their names carry content
/// hashes, so they are cached for good), or `None` when the widget is not built.
pub fn widget_assets(dir: &std::path::Path) -> Option<(String, String)> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("clearance-widget-"))
        .collect();
    let js = names.iter().find(|n| n.ends_with(".js"))?;
    let wasm = names.iter().find(|n| n.ends_with("_bg.wasm"))?;
    Some((js.clone(), wasm.clone()))
}

/// The script a host page includes (`<script type="module" src=".../widget/clearance-badge.js">`):
/// defines `<clearance-badge token="…">`, which shows the badge in its own shadow root so the
/// page's CSS cannot restyle it, and starts the widget on Clearance's own badge page.
pub fn loader_script(js: &str, wasm: &str) -> String {
    format!(
        "// Clearance verification badge: <clearance-badge token=\"…\"></clearance-badge>\n\
const base = new URL(import.meta.url).origin;\n\
const ready = import(base + '/widget/assets/{js}').then(async (m) => {{\n\
  await m.default({{ module_or_path: base + '/widget/assets/{wasm}' }});\n\
  return m;\n\
}});\n\
class ClearanceBadge extends HTMLElement {{\n\
  connectedCallback() {{\n\
    if (this.shadowRoot) return;\n\
    const root = this.attachShadow({{ mode: 'open' }});\n\
    const el = document.createElement('div');\n\
    el.textContent = 'Loading verification badge…';\n\
    root.appendChild(el);\n\
    const token = this.getAttribute('token') || '';\n\
    ready.then((m) => m.mount(el, token, base));\n\
  }}\n\
}}\n\
if (!customElements.get('clearance-badge')) customElements.define('clearance-badge', ClearanceBadge);\n"
    )
}

/// Headers every widget file carries: host pages on any origin load them (the badge's data is
/// what the token guards, not these files).
fn anyone_may_load(res: &mut Response) {
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// `GET /widget/clearance-badge.js`: the loader, naming this build's widget files.
pub async fn loader(State(state): State<AppState>) -> Response {
    let mut res = match widget_assets(&state.config.widget_dir) {
        Some((js, wasm)) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                // A new build names new files: host pages pick it up within five minutes.
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            loader_script(&js, &wasm),
        )
            .into_response(),
        None => {
            tracing::warn!(dir = %state.config.widget_dir.display(), "the badge widget is not built (run `trunk build`): embedded badges stay static");
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                "// The badge widget is not built on this server.\n",
            )
                .into_response()
        }
    };
    anyone_may_load(&mut res);
    res
}

/// `/widget/assets/…`: the Trunk build's files, under content-hashed names, cached for good.
pub fn asset_files(dir: &std::path::Path) -> axum::Router<AppState> {
    use axum::middleware::{self, Next};
    axum::Router::new()
        .nest_service("/widget/assets", tower_http::services::ServeDir::new(dir))
        .layer(middleware::from_fn(
            |req: axum::extract::Request, next: Next| async move {
                let mut res = next.run(req).await;
                if res.status().is_success() {
                    res.headers_mut().insert(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=31536000, immutable"),
                    );
                }
                anyone_may_load(&mut res);
                res
            },
        ))
}

#[cfg(test)]
mod tests {
    use super::{loader_script, relative, widget_assets};
    use chrono::Duration;

    #[test]
    fn the_loader_names_this_builds_files_and_defines_the_element_once() {
        let dir =
            std::env::temp_dir().join(format!("clearance-widget-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(widget_assets(&dir), None, "an empty directory is no build");
        for f in [
            "index.html",
            "clearance-widget-ab12.js",
            "clearance-widget-ab12_bg.wasm",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let (js, wasm) = widget_assets(&dir).unwrap();
        assert_eq!(js, "clearance-widget-ab12.js");
        assert_eq!(wasm, "clearance-widget-ab12_bg.wasm");
        std::fs::remove_dir_all(&dir).unwrap();

        let script = loader_script(&js, &wasm);
        assert!(script.contains("'/widget/assets/clearance-widget-ab12.js'"));
        assert!(script.contains("'/widget/assets/clearance-widget-ab12_bg.wasm'"));
        assert!(script.contains("attachShadow"));
        assert!(script.contains("if (!customElements.get('clearance-badge'))"));
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(Duration::seconds(20)), "just now");
        assert_eq!(relative(Duration::minutes(1)), "1 minute ago");
        assert_eq!(relative(Duration::minutes(45)), "45 minutes ago");
        assert_eq!(relative(Duration::minutes(150)), "2 hours ago");
        assert_eq!(relative(Duration::days(3)), "3 days ago");
    }
}

//! The HTTP side of the embeddable badge: `POST /api/v1/embed-tokens` (an ATS, with its
//! integration key), `GET /widget/badge?t=TOKEN` (the badge page an iframe shows, framed only by
//! the integration's origins) and `GET /widget/badge.json?t=TOKEN` (the same facts for scripts,
//! with CORS for those origins). Services decide; this file speaks HTTP.
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
    (
        status,
        axum::Json(serde_json::json!({ "error": r.reason() })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    candidate_id: serde_json::Value,
}

/// `POST /api/v1/embed-tokens`: `201 {"token","expires_at","iframe_url"}`.
pub async fn issue(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let candidate_id = match serde_json::from_slice::<TokenRequest>(&body) {
        Ok(TokenRequest {
            candidate_id: serde_json::Value::Number(n),
        }) if n.as_i64().is_some() => n.as_i64().unwrap_or_default(),
        Ok(TokenRequest {
            candidate_id: serde_json::Value::String(s),
        }) if s.parse::<i64>().is_ok() => s.parse().unwrap_or_default(),
        Ok(_) => {
            return refused(&EmbedRefusal::BadRequest(
                "'candidate_id' must be a whole number".into(),
            ))
        }
        Err(e) => {
            return refused(&EmbedRefusal::BadRequest(format!(
                "the body must be JSON like {{\"candidate_id\": 42}} ({e})"
            )))
        }
    };
    match embed::issue_token(&state, bearer, candidate_id).await {
        Ok(issued) => (StatusCode::CREATED, axum::Json(issued)).into_response(),
        Err(r) => refused(&r),
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

const STYLE: &str = "body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1b1b1b;background:transparent}\
.badge{display:inline-flex;gap:.6rem;align-items:flex-start;border:1px solid #ccc;border-radius:8px;padding:.6rem .8rem;background:#fff}\
.icon{font-size:1.2rem;line-height:1}.status{font-weight:600}.muted{color:#555;font-size:12px}\
.s-verified{border-color:#1a7f37}.s-verified .icon{color:#1a7f37}\
.s-needs_review,.s-in_progress{border-color:#9a6700}.s-needs_review .icon,.s-in_progress .icon{color:#9a6700}\
.s-failed,.s-expired{border-color:#cf222e}.s-failed .icon,.s-expired .icon{color:#cf222e}";

fn icon(b: &Badge) -> &'static str {
    use crate::model::VerificationStatus::*;
    match b.status {
        Verified => "✓",
        NeedsReview | InProgress => "…",
        Failed | Expired => "✕",
        NotStarted => "○",
    }
}

use crate::server::security::escape_html as escape;

/// Keeps the badge current without a reload: asks `/widget/badge.json` every 5 s, backing off
/// (×1.5 while nothing changes, ×2 on errors; at most 60 s) and starting over after a change.
/// Plain script, allowed by its hash — the Trunk-built widget will replace it.
const LIVE_JS: &str = "(function(){var t=new URLSearchParams(location.search).get('t'),d=5000,last=null;\
var icons={verified:'\\u2713',needs_review:'\\u2026',in_progress:'\\u2026',failed:'\\u2715',expired:'\\u2715',not_started:'\\u25CB'};\
function txt(id,v){var e=document.getElementById(id);if(e){e.textContent=v;}}\
function rel(ms){var m=Math.floor(ms/60000);if(m<1)return 'just now';if(m<60)return m+(m==1?' minute':' minutes')+' ago';\
var h=Math.floor(m/60);if(h<24)return h+(h==1?' hour':' hours')+' ago';var n=Math.floor(h/24);return n+(n==1?' day':' days')+' ago';}\
function show(b){document.getElementById('badge').className='badge s-'+b.status;txt('icon',icons[b.status]||'');\
txt('status',b.status_label);txt('next','Next: '+b.next_action);var u=document.getElementById('updated');\
if(u&&b.last_updated){var at=new Date(b.last_updated);u.textContent='Updated '+rel(Date.now()-at.getTime());\
u.title=at.toISOString().slice(0,16).replace('T',' ')+' UTC';}}\
function tick(){fetch('/widget/badge.json?t='+encodeURIComponent(t),{cache:'no-store'})\
.then(function(r){if(!r.ok)throw r.status;return r.json();})\
.then(function(b){var s=JSON.stringify(b);if(s!==last){show(b);if(last!==null){d=5000;}}else{d=Math.min(d*1.5,60000);}last=s;})\
.catch(function(){d=Math.min(d*2,60000);}).then(function(){setTimeout(tick,d);});}\
setTimeout(tick,1000);})();";

/// One style block and (on a badge) one script, each allowed by its hash; only same-origin
/// fetches; framed only by `origins`.
fn page_headers(origins: &[String]) -> Vec<(header::HeaderName, String)> {
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
    vec![
        (
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; connect-src 'self'; frame-ancestors {}",
                hash(STYLE),
                hash(LIVE_JS),
                frame_ancestors(origins)
            ),
        ),
        (header::CACHE_CONTROL, "no-store".into()),
    ]
}

/// `GET /widget/badge?t=TOKEN`: the badge, or a neutral "Badge unavailable" for people.
pub async fn badge_page(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let (status, origins, inner) = match embed::badge(&state, &q.t, true).await {
        Ok((b, origins)) => {
            let (exact, rel) = b
                .last_updated
                .map(|at| {
                    (
                        at.format("%Y-%m-%d %H:%M UTC").to_string(),
                        format!("Updated {}", relative(chrono::Utc::now() - at)),
                    )
                })
                .unwrap_or_default();
            let updated =
                format!("<span class=\"muted\" id=\"updated\" title=\"{exact}\">{rel}</span>");
            (
                StatusCode::OK,
                origins,
                format!(
                    "<div class=\"badge s-{s}\" id=\"badge\" role=\"status\" aria-live=\"polite\">\
                     <span class=\"icon\" id=\"icon\" aria-hidden=\"true\">{icon}</span><div><div>{name}</div>\
                     <div class=\"status\" id=\"status\">{label}</div><div id=\"next\">Next: {next}</div>{updated}</div></div>\
                     <script>{LIVE_JS}</script>",
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
    let m = d.num_minutes();
    match m {
        i64::MIN..=0 => "just now".into(),
        1 => "1 minute ago".into(),
        2..=59 => format!("{m} minutes ago"),
        60..=119 => "1 hour ago".into(),
        120..=1439 => format!("{} hours ago", m / 60),
        1440..=2879 => "1 day ago".into(),
        _ => format!("{} days ago", m / 1440),
    }
}

/// `GET /widget/badge.json?t=TOKEN`: the badge's facts, readable by the integration's origins.
pub async fn badge_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let (mut res, origins) = match embed::badge(&state, &q.t, false).await {
        Ok((b, origins)) => (axum::Json(b).into_response(), origins),
        Err(r) => (refused(&r), origins_of(&state, &q.t).await),
    };
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if let Some(o) = origin.filter(|o| origins.iter().any(|a| a == o)) {
        if let Ok(v) = HeaderValue::from_str(o) {
            res.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            res.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::relative;
    use chrono::Duration;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(Duration::seconds(20)), "just now");
        assert_eq!(relative(Duration::minutes(1)), "1 minute ago");
        assert_eq!(relative(Duration::minutes(45)), "45 minutes ago");
        assert_eq!(relative(Duration::minutes(150)), "2 hours ago");
        assert_eq!(relative(Duration::days(3)), "3 days ago");
    }
}

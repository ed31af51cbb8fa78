//! `GET /adverse-notices/{id}`: an adverse-action notice as a printable page (postal delivery),
//! and `GET /adverse-responses/{id}/document`: a candidate's response document. Both for roles
//! that see check results (never hiring managers).
use crate::error::AppError;
use crate::server::auth::SignedIn;
use crate::server::{services, state::AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use sha2::Digest;

const PRINT_CSS: &str = "body{font-family:Georgia,serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
.letter{white-space:pre-wrap}\
.meta{font-family:system-ui,sans-serif;font-size:.85rem;color:#444;border-top:1px solid #ccc;margin-top:2rem;padding-top:.5rem}\
.screen-only{font-family:system-ui,sans-serif;background:#eef;padding:.5rem 1rem;border-radius:4px}\
@media print{.screen-only{display:none} body{margin:0;max-width:none} @page{margin:2.5cm}}";

use crate::server::security::escape_html as escape;

fn refused(e: AppError) -> Response {
    match e {
        AppError::NotFound => StatusCode::NOT_FOUND.into_response(),
        AppError::Forbidden => StatusCode::FORBIDDEN.into_response(),
        _ => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

pub async fn notice_page(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let (notice, candidate) = match services::adverse::notice_for_print(&state, &user, id).await {
        Ok(found) => found,
        Err(e) => return refused(e),
    };
    let tz = state.config.business_calendar.tz;
    let address = [
        format!("{} {}", candidate.first_name, candidate.last_name),
        candidate.address.clone(),
        candidate.address_2.clone(),
        [
            candidate.city.as_str(),
            candidate.state.as_str(),
            candidate.zip.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" "),
    ]
    .into_iter()
    .filter(|l| !l.trim().is_empty())
    .map(|l| escape(&l))
    .collect::<Vec<_>>()
    .join("<br>");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{subject}</title><style>{PRINT_CSS}</style></head><body>\
         <p class=\"screen-only\">Printable notice for postal delivery: use your browser's Print command.</p>\
         <address>{address}</address><p>{date}</p><h1>{subject}</h1><div class=\"letter\">{body}</div>\
         <p class=\"meta\">{kind} · template version {version} · SHA-256 of the text {sha}</p></body></html>",
        subject = escape(&notice.subject),
        date = notice.created_at.with_timezone(&tz).format("%-d %B %Y"),
        body = escape(&notice.body),
        kind = notice.kind.label(),
        version = notice.template_version,
        sha = notice.sha256,
    );
    // No script at all; the one inline style block is allowed by its hash.
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; frame-ancestors 'none'",
        base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(PRINT_CSS.as_bytes()))
    );
    (
        [
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        Html(html),
    )
        .into_response()
}

pub async fn response_document(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Response {
    match services::adverse::response_document(&state, &user, id).await {
        Ok((name, bytes)) => {
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{safe}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => refused(e),
    }
}

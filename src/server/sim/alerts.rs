//! `clearance sim alerts`: where Support's alerts land in the demo and the tests — a
//! Slack-compatible incoming webhook (`POST /slack`) and a JSON webhook that checks Clearance's
//! Standard Webhooks signature (`POST /webhook`, 401 when it does not match); `GET /` lists what
//! arrived, newest first, and `GET /received` gives it as JSON.
use super::Shared;
use crate::server::clock;
use crate::server::security::escape_html as escape;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReceivedAlert {
    /// `slack` or `webhook`.
    pub via: String,
    /// The `webhook-id` (the JSON webhook), the same on every retry of one alert.
    pub id: Option<String>,
    /// The body as it came: Slack's `{"text": …}`, or the alert's JSON.
    pub body: serde_json::Value,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
pub struct Inner {
    received: Vec<ReceivedAlert>,
    /// The JSON webhook's signing secret; without it signatures are not checked.
    secret: Option<String>,
}

pub type AlertSink = Shared<Inner>;

impl AlertSink {
    pub fn new(webhook_secret: Option<String>) -> AlertSink {
        Shared::with(Inner {
            received: Vec::new(),
            secret: webhook_secret,
        })
    }

    pub fn received(&self) -> Vec<ReceivedAlert> {
        self.lock().received.clone()
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(page))
            .route("/received", get(received))
            .route("/slack", post(slack))
            .route("/webhook", post(webhook))
            .with_state(self)
    }
}

/// The body as JSON, or the 400 that says why not.
fn json_body(body: &Bytes) -> Result<serde_json::Value, (StatusCode, String)> {
    serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

async fn slack(State(sink): State<AlertSink>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(refused) => return refused.into_response(),
    };
    if !body.get("text").is_some_and(|t| t.is_string()) {
        return (StatusCode::BAD_REQUEST, "no text").into_response();
    }
    sink.lock().received.push(ReceivedAlert {
        via: "slack".into(),
        id: None,
        body,
        received_at: clock::now(),
    });
    "ok".into_response()
}

async fn webhook(State(sink): State<AlertSink>, headers: HeaderMap, bytes: Bytes) -> Response {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secret = sink.lock().secret.clone();
    if let Some(secret) = secret {
        let now = clock::now().timestamp();
        let checked = crate::server::partners::signature::verify(
            &secret,
            h("webhook-id"),
            h("webhook-timestamp"),
            h("webhook-signature"),
            &bytes,
            now,
        );
        if let Err(e) = checked {
            return (StatusCode::UNAUTHORIZED, e.to_string()).into_response();
        }
    }
    let body = match json_body(&bytes) {
        Ok(b) => b,
        Err(refused) => return refused.into_response(),
    };
    sink.lock().received.push(ReceivedAlert {
        via: "webhook".into(),
        id: h("webhook-id").map(str::to_string),
        body,
        received_at: clock::now(),
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn received(State(sink): State<AlertSink>) -> Json<Vec<ReceivedAlert>> {
    Json(sink.received())
}

async fn page(State(sink): State<AlertSink>) -> Html<String> {
    let list = sink.received();
    let articles = list.iter().map(|a| {
        let text = match a.body.get("text").and_then(|t| t.as_str()) {
            Some(text) => text.to_string(),
            None => serde_json::to_string_pretty(&a.body).unwrap_or_default(),
        };
        format!(
            "<article><h2>via {via} at {at}</h2><pre>{text}</pre></article>",
            via = escape(&a.via),
            at = a.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
            text = escape(&text),
        )
    });
    Html(super::received_page(
        "Received alerts",
        "What Clearance sent to Support, newest first.",
        "No alert yet.",
        articles.collect(),
    ))
}

/// `clearance sim alerts`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    webhook_secret: Option<String>,
) -> anyhow::Result<()> {
    axum::serve(listener, AlertSink::new(webhook_secret).router()).await?;
    Ok(())
}

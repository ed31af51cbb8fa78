//! The background-check partner, simulated exactly per seed 000: the catalog, strict order intake
//! with Basic auth, and the result webhook to each order's `webhook_url`, with switches for the
//! ways real partners misbehave.
use crate::server::clock;
use crate::server::partners::background::OrderPayload;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The seed's catalog: three packages and two add-ons.
pub const SEED_CATALOG: &str = r#"{
  "packages": [
    {"id": "PKG001", "name": "Basic Package", "price": "29.99",
     "description": "A basic background check screening",
     "screenings": ["Address to Federal Criminal History (7 year)"]},
    {"id": "PKG002", "name": "Standard Package", "price": "49.99",
     "description": "A basic background check screening",
     "screenings": ["Address to Federal Criminal History (7 year)", "Social Security Address/Alias Trace"]},
    {"id": "PKG003", "name": "Deluxe Package", "price": "69.99",
     "description": "A basic background check screening",
     "screenings": ["Address to Federal Criminal History (7 year)", "Social Security Address/Alias Trace",
                    "OFAC Specially Designated Nationals", "USA CriminalSearch and USA Offender"]}
  ],
  "add_on_packages": [
    {"id": "DRG01", "name": "Basic Drug Screening", "price": "29.99",
     "description": "A 7 panel urine test for prohibited substances"},
    {"id": "DRG02", "name": "Comprehensive Drug Screening", "price": "39.99",
     "description": "A comprehensive 10 panel urine test for prohibited substances"}
  ]
}"#;

/// How the simulator misbehaves; changeable at run time via `POST /control/settings`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Switches {
    /// Delay before answering any request, in milliseconds.
    pub latency_ms: u64,
    /// Share (0–1) of orders answered 500.
    pub failure_rate: f64,
    /// Answer the next this-many orders 500 (counts down).
    pub fail_next: u32,
    /// Down (503 to everything) until this time.
    pub down_until: Option<DateTime<Utc>>,
    /// Refuse every order with 422 and an error_message.
    pub reject_all: bool,
    /// Deliver every result webhook twice.
    pub duplicate: bool,
    /// Complete accepted orders on their own after `complete_after_ms`.
    pub auto_complete: bool,
    pub complete_after_ms: u64,
    /// The result automatic completions report.
    pub result: String,
    /// Results by applicant last name (exact), ahead of `result`: the demo's "Consider" and "Fail".
    #[serde(default)]
    pub results_by_last_name: std::collections::BTreeMap<String, String>,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            latency_ms: 0,
            failure_rate: 0.0,
            fail_next: 0,
            down_until: None,
            reject_all: false,
            duplicate: false,
            auto_complete: true,
            complete_after_ms: 3000,
            result: "Pass".into(),
            results_by_last_name: Default::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where the simulator is reachable (for result links).
    pub base_url: String,
    pub account_id: String,
    pub secret: String,
    pub switches: Switches,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimOrder {
    pub order: OrderPayload,
    pub status: String,
    pub result: Option<String>,
    pub received_at: DateTime<Utc>,
    /// How many times the same background_check_id was POSTed.
    pub posts: u32,
}

pub struct Inner {
    config: SimConfig,
    orders: Vec<SimOrder>,
    webhooks_sent: u64,
}

pub type Sim = super::Shared<Inner>;

impl Sim {
    pub fn new(config: SimConfig) -> Sim {
        Sim::with(Inner {
            config,
            orders: Vec::new(),
            webhooks_sent: 0,
        })
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/catalog", get(catalog))
            .route("/orders", post(create_order))
            .route("/results/{id}", get(result_page))
            .route("/control/orders", get(control_orders))
            .route("/control/orders/{id}/complete", post(control_complete))
            .route("/control/settings", get(get_settings).post(set_settings))
            .with_state(self)
    }

    pub fn orders(&self) -> Vec<SimOrder> {
        self.lock().orders.clone()
    }

    pub fn set_switches(&self, s: Switches) {
        self.lock().config.switches = s;
    }

    pub fn switches(&self) -> Switches {
        self.lock().config.switches.clone()
    }

    /// Finishes an order and POSTs the result to its webhook_url (twice with `duplicate`).
    pub async fn complete(
        &self,
        background_check_id: &str,
        status: &str,
        result: Option<&str>,
    ) -> Result<u16, String> {
        let (url, body, copies) = {
            let mut inner = self.lock();
            let base = inner.config.base_url.clone();
            let copies = if inner.config.switches.duplicate {
                2
            } else {
                1
            };
            let o = inner
                .orders
                .iter_mut()
                .find(|o| o.order.background_check_id == background_check_id)
                .ok_or("no such order")?;
            o.status = status.to_string();
            o.result = result.map(str::to_string);
            let body = serde_json::json!({
                "background_check_id": background_check_id,
                "status": status,
                "result": result,
                "result_link_url": format!("{base}/results/{background_check_id}"),
            });
            (o.order.webhook_url.clone(), body, copies)
        };
        let mut last = 0;
        for _ in 0..copies {
            let res = self
                .http
                .post(&url)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("could not deliver the result: {e}"))?;
            last = res.status().as_u16();
            self.lock().webhooks_sent += 1;
            tracing::info!(status = last, "partner simulator delivered a result");
        }
        Ok(last)
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error_message": message })),
    )
        .into_response()
}

/// Basic auth with the configured account id and secret.
fn authorized(sim: &Sim, headers: &HeaderMap) -> bool {
    let (account, secret) = {
        let inner = sim.lock();
        (inner.config.account_id.clone(), inner.config.secret.clone())
    };
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{account}:{secret}"))
    );
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

/// Latency and downtime, common to every partner endpoint.
async fn misbehave(sim: &Sim) -> Option<Response> {
    let s = sim.switches();
    if s.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(s.latency_ms)).await;
    }
    if s.down_until.is_some_and(|t| clock::now() < t) {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the partner is down for maintenance",
        ));
    }
    None
}

async fn catalog(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    if let Some(r) = misbehave(&sim).await {
        return r;
    }
    if !authorized(&sim, &headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid account id or API secret");
    }
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        SEED_CATALOG,
    )
        .into_response()
}

async fn create_order(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = misbehave(&sim).await {
        return r;
    }
    if !authorized(&sim, &headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid account id or API secret");
    }
    let switches = sim.switches();
    {
        let mut inner = sim.lock();
        if inner.config.switches.fail_next > 0 {
            inner.config.switches.fail_next -= 1;
            drop(inner);
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "simulated partner failure",
            );
        }
    }
    if switches.failure_rate > 0.0
        && rand::thread_rng().gen_bool(switches.failure_rate.clamp(0.0, 1.0))
    {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "simulated partner failure",
        );
    }
    let order: OrderPayload = match serde_json::from_slice(&body) {
        Ok(o) => o,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid order: {e}")),
    };
    let catalog: serde_json::Value = serde_json::from_str(SEED_CATALOG).unwrap_or_default();
    let known = |list: &str, id: &str| {
        catalog[list]
            .as_array()
            .is_some_and(|l| l.iter().any(|p| p["id"] == id))
    };
    let account = sim.lock().config.account_id.clone();
    let problem = if order.account_id != account {
        Some(format!(
            "account_id '{}' does not match the credentials",
            order.account_id
        ))
    } else if !known("packages", &order.package_id) {
        Some(format!("unknown package_id '{}'", order.package_id))
    } else if let Some(a) = order
        .add_on_package_ids
        .iter()
        .find(|a| !known("add_on_packages", a))
    {
        Some(format!("unknown add-on package id '{a}'"))
    } else if order.background_check_id.is_empty()
        || !(order.webhook_url.starts_with("http://") || order.webhook_url.starts_with("https://"))
    {
        Some("background_check_id and an http(s) webhook_url are required".into())
    } else {
        None
    };
    if let Some(p) = problem {
        return error(StatusCode::BAD_REQUEST, &p);
    }
    if switches.reject_all {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The applicant's address could not be validated (simulated rejection)",
        );
    }
    let id = order.background_check_id.clone();
    let result = switches
        .results_by_last_name
        .get(&order.applicant.last_name)
        .cloned()
        .unwrap_or_else(|| switches.result.clone());
    let first_time = {
        let mut inner = sim.lock();
        match inner
            .orders
            .iter_mut()
            .find(|o| o.order.background_check_id == id)
        {
            Some(existing) => {
                existing.posts += 1;
                false
            }
            None => {
                inner.orders.push(SimOrder {
                    order,
                    status: "pending".into(),
                    result: None,
                    received_at: clock::now(),
                    posts: 1,
                });
                true
            }
        }
    };
    if first_time && switches.auto_complete {
        let sim = sim.clone();
        let id = id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(switches.complete_after_ms)).await;
            if let Err(e) = sim.complete(&id, "complete", Some(&result)).await {
                tracing::warn!(error = %e, "partner simulator could not complete an order");
            }
        });
    }
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "background_check_id": id, "status": "pending" })),
    )
        .into_response()
}

use crate::server::security::escape_html as escape;

async fn result_page(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    let Some(o) = sim
        .orders()
        .into_iter()
        .find(|o| o.order.background_check_id == id)
    else {
        return (StatusCode::NOT_FOUND, "no such background check").into_response();
    };
    Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Background check result</title></head><body>\
         <h1>Background check {id} (simulator)</h1><p>Applicant: {first} {last}</p><p>Package: {pkg}</p>\
         <p>Status: {status}</p><p>Result: {result}</p></body></html>",
        id = escape(&id),
        first = escape(&o.order.applicant.first_name),
        last = escape(&o.order.applicant.last_name),
        pkg = escape(&o.order.package_id),
        status = escape(&o.status),
        result = escape(o.result.as_deref().unwrap_or("not yet")),
    ))
    .into_response()
}

async fn control_orders(State(sim): State<Sim>) -> Response {
    let inner = sim.lock();
    Json(serde_json::json!({ "orders": inner.orders, "webhooks_sent": inner.webhooks_sent }))
        .into_response()
}

#[derive(Deserialize)]
struct CompleteBody {
    #[serde(default = "complete")]
    status: String,
    result: Option<String>,
}

fn complete() -> String {
    "complete".into()
}

async fn control_complete(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(b): Json<CompleteBody>,
) -> Response {
    match sim.complete(&id, &b.status, b.result.as_deref()).await {
        Ok(status) => Json(serde_json::json!({ "delivered": status })).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn get_settings(State(sim): State<Sim>) -> Json<Switches> {
    Json(sim.switches())
}

async fn set_settings(State(sim): State<Sim>, Json(s): Json<Switches>) -> Json<Switches> {
    sim.set_switches(s.clone());
    Json(s)
}

/// Runs the simulator on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: SimConfig) -> anyhow::Result<()> {
    axum::serve(listener, Sim::new(config).router()).await?;
    Ok(())
}

//! The identity-verification provider, simulated: sessions, a page to complete them, signed
//! webhooks, the reconciliation listing, and switches for the ways real providers misbehave.
use crate::server::clock;
use crate::server::partners::verification::CreateSession;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How the simulator misbehaves; all off by default. Changeable at run time via `POST /control/settings`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Switches {
    /// Delay before answering `POST /sessions`, in milliseconds.
    pub latency_ms: u64,
    /// Share (0–1) of `POST /sessions` answered 503.
    pub failure_rate: f64,
    /// Deliver every webhook twice.
    pub duplicate: bool,
    /// Deliver a completion's events newest first.
    pub out_of_order: bool,
    /// Share (0–1) of webhooks silently dropped (reconciliation finds them later).
    pub drop_rate: f64,
    /// Sign webhooks with the wrong key.
    pub bad_signature: bool,
    /// Delay before answering each `GET /sessions` page, in milliseconds.
    pub list_latency_ms: u64,
    /// Sessions per listing page (0 = the default of 50).
    pub page_size: usize,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where the simulator is reachable (for candidate and evidence links).
    pub base_url: String,
    /// Clearance's `/webhooks/verification` URL.
    pub webhook_url: String,
    pub webhook_secret: String,
    pub api_key: String,
    pub switches: Switches,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimSession {
    pub session_id: String,
    pub candidate_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub policy_name: String,
    pub status: String,
    pub risk_tier: Option<String>,
    pub reason_codes: Vec<String>,
    pub evidence_pack_url: Option<String>,
    pub updated_at: DateTime<Utc>,
}

pub struct Inner {
    config: SimConfig,
    /// Session ids are this and a number: `vs_1`, `vs_2`, …
    id_prefix: String,
    sessions: Vec<SimSession>,
    delivered: u64,
    dropped: u64,
}

pub type Sim = super::Shared<Inner>;

impl Sim {
    pub fn new(config: SimConfig) -> Sim {
        Sim::with(Inner {
            config,
            id_prefix: "vs_".into(),
            sessions: Vec::new(),
            delivered: 0,
            dropped: 0,
        })
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/sessions", post(create_session).get(list_sessions))
            .route("/s/{id}", get(session_page))
            .route("/s/{id}/complete", post(complete_form))
            .route("/evidence/{id}", get(evidence))
            .route("/control/sessions", get(control_sessions))
            .route("/control/sessions/{id}/complete", post(complete_json))
            .route("/control/settings", get(get_settings).post(set_settings))
            .with_state(self)
    }

    /// Names its sessions `{prefix}1`, `{prefix}2`, … instead of `vs_1`, … (the demo story's
    /// simulator, so the demo's own provider simulator, counting from 1 again, names none the same).
    pub fn with_id_prefix(self, prefix: &str) -> Sim {
        self.lock().id_prefix = prefix.into();
        self
    }

    /// Changes how the simulator misbehaves (as `POST /control/settings` does).
    pub fn set_switches(&self, s: Switches) {
        self.lock().config.switches = s;
    }

    /// Adds sessions as they stand at the provider (benchmarks and large reconciliation tests).
    pub fn insert_sessions(&self, sessions: impl IntoIterator<Item = SimSession>) {
        self.lock().sessions.extend(sessions);
    }

    /// Moves a session to an outcome and tells Clearance: `verification.started`, then the outcome.
    pub async fn complete(
        &self,
        session_id: &str,
        outcome: &str,
        risk_tier: Option<String>,
        reason_codes: Vec<String>,
    ) -> Result<(), String> {
        let status = match outcome {
            "completed" | "verified" => "verified",
            "needs_review" => "needs_review",
            "failed" => "failed",
            "expired" => "expired",
            other => {
                return Err(format!(
                    "unknown outcome '{other}' (completed, needs_review, failed, expired)"
                ))
            }
        };
        let event_type = match status {
            "verified" => "verification.completed".to_string(),
            s => format!("verification.{s}"),
        };
        let now = clock::now();
        let (session, config) = {
            let mut inner = self.lock();
            let base = inner.config.base_url.clone();
            let s = inner
                .sessions
                .iter_mut()
                .find(|s| s.session_id == session_id)
                .ok_or("no such session")?;
            s.status = status.to_string();
            s.risk_tier = risk_tier;
            s.reason_codes = reason_codes;
            s.evidence_pack_url = Some(format!("{base}/evidence/{session_id}"));
            s.updated_at = now;
            (s.clone(), inner.config.clone())
        };
        let started = event_body("verification.started", &session, now - Duration::seconds(1));
        let finished = event_body(&event_type, &session, now);
        let mut events = vec![started, finished];
        if config.switches.out_of_order {
            events.reverse();
        }
        for body in events {
            self.deliver(&config, body).await;
        }
        Ok(())
    }

    /// The candidate opens the link and begins: `verification.started` alone (the outcome later).
    pub async fn start(&self, session_id: &str) -> Result<(), String> {
        let now = clock::now();
        let (session, config) = {
            let mut inner = self.lock();
            let s = inner
                .sessions
                .iter_mut()
                .find(|s| s.session_id == session_id)
                .ok_or("no such session")?;
            s.status = "in_progress".into();
            s.updated_at = now;
            (s.clone(), inner.config.clone())
        };
        self.deliver(&config, event_body("verification.started", &session, now))
            .await;
        Ok(())
    }

    async fn deliver(&self, config: &SimConfig, body: String) {
        if config.switches.drop_rate > 0.0
            && rand::thread_rng().gen_bool(config.switches.drop_rate.clamp(0.0, 1.0))
        {
            self.lock().dropped += 1;
            tracing::info!("simulator dropped a webhook on purpose");
            return;
        }
        let secret = if config.switches.bad_signature {
            "whsec_d3Jvbmcgc2VjcmV0IGtleQ=="
        } else {
            config.webhook_secret.as_str()
        };
        let Ok(hook) = super::SignedWebhook::new(secret, body) else {
            tracing::error!("simulator webhook secret is not a whsec_ secret");
            return;
        };
        let copies = if config.switches.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            let res = hook.send(&self.http, &config.webhook_url).await;
            match res {
                Ok(r) => tracing::info!(
                    status = r.status().as_u16(),
                    "simulator delivered a webhook"
                ),
                Err(e) => tracing::warn!(error = %e, "simulator could not deliver a webhook"),
            }
            self.lock().delivered += 1;
        }
    }
}

fn event_body(event_type: &str, s: &SimSession, at: DateTime<Utc>) -> String {
    serde_json::json!({
        "type": event_type,
        "timestamp": clock::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": {
            "candidate_id": s.candidate_id,
            "session_id": s.session_id,
            "event_created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "risk_tier": s.risk_tier,
            "reason_codes": s.reason_codes,
            "evidence_pack_url": s.evidence_pack_url,
            "policy_name": s.policy_name,
        }
    })
    .to_string()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

fn authorized(sim: &Sim, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", sim.lock().config.api_key);
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

async fn create_session(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !authorized(&sim, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let switches = sim.lock().config.switches.clone();
    if switches.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(switches.latency_ms)).await;
    }
    if switches.failure_rate > 0.0
        && rand::thread_rng().gen_bool(switches.failure_rate.clamp(0.0, 1.0))
    {
        return error(StatusCode::SERVICE_UNAVAILABLE, "simulated outage");
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        candidate_id: String,
        first_name: String,
        last_name: String,
        email: String,
        policy_name: String,
    }
    let b: Body = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("invalid session request: {e}"),
            )
        }
    };
    let req = CreateSession {
        candidate_id: b.candidate_id,
        first_name: b.first_name,
        last_name: b.last_name,
        email: b.email,
        policy_name: b.policy_name,
    };
    let mut inner = sim.lock();
    let session_id = format!("{}{}", inner.id_prefix, inner.sessions.len() + 1);
    let candidate_url = format!("{}/s/{session_id}", inner.config.base_url);
    inner.sessions.push(SimSession {
        session_id: session_id.clone(),
        candidate_id: req.candidate_id,
        first_name: req.first_name,
        last_name: req.last_name,
        email: req.email,
        policy_name: req.policy_name,
        status: "not_started".into(),
        risk_tier: None,
        reason_codes: Vec::new(),
        evidence_pack_url: None,
        updated_at: clock::now(),
    });
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "session_id": session_id, "candidate_url": candidate_url })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    updated_since: Option<String>,
    cursor: Option<String>,
}

pub const LIST_PAGE: usize = 50;

async fn list_sessions(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if !authorized(&sim, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let since = match q.updated_since.as_deref().map(DateTime::parse_from_rfc3339) {
        Some(Ok(t)) => Some(t.with_timezone(&Utc)),
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "updated_since must be RFC 3339"),
        None => None,
    };
    let start: usize = match q.cursor.as_deref().map(str::parse) {
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "unknown cursor"),
        None => 0,
    };
    let (delay, size) = {
        let s = &sim.lock().config.switches;
        (s.list_latency_ms, s.page_size)
    };
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let page_size = if size == 0 { LIST_PAGE } else { size };
    let inner = sim.lock();
    let matching: Vec<&SimSession> = inner
        .sessions
        .iter()
        .filter(|s| since.is_none_or(|t| s.updated_at >= t))
        .collect();
    let page: Vec<serde_json::Value> = matching
        .iter()
        .skip(start)
        .take(page_size)
        .map(|s| {
            serde_json::json!({
                "session_id": s.session_id, "candidate_id": s.candidate_id, "status": s.status,
                "risk_tier": s.risk_tier, "reason_codes": s.reason_codes,
                "evidence_pack_url": s.evidence_pack_url, "updated_at": s.updated_at,
            })
        })
        .collect();
    let next = (start + page_size < matching.len()).then(|| (start + page_size).to_string());
    Json(serde_json::json!({ "sessions": page, "next_cursor": next })).into_response()
}

use crate::server::security::escape_html as escape;

async fn session_page(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    let Some(s) = sim
        .lock()
        .sessions
        .iter()
        .find(|s| s.session_id == id)
        .cloned()
    else {
        return (StatusCode::NOT_FOUND, "no such session").into_response();
    };
    Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Verify your identity</title></head><body>\
         <h1>Identity verification (simulator)</h1><p>Session {sid} for {first} {last} — status {status}</p>\
         <form method=post action=\"/s/{sid}/complete\">\
         <label for=outcome>Outcome</label> <select id=outcome name=outcome>\
         <option value=completed>Verified</option><option value=needs_review>Needs review</option>\
         <option value=failed>Failed</option><option value=expired>Expired</option></select>\
         <label for=risk>Risk tier</label> <select id=risk name=risk_tier><option>low</option><option>medium</option><option>high</option></select>\
         <label for=codes>Reason codes</label> <input id=codes name=reason_codes placeholder=\"liveness_failed, document_mismatch\">\
         <button type=submit>Finish verification</button></form></body></html>",
        sid = escape(&s.session_id),
        first = escape(&s.first_name),
        last = escape(&s.last_name),
        status = escape(&s.status),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct CompleteForm {
    outcome: String,
    risk_tier: Option<String>,
    reason_codes: Option<String>,
}

fn codes(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

async fn complete_form(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Form(f): Form<CompleteForm>,
) -> Response {
    match sim
        .complete(
            &id,
            &f.outcome,
            f.risk_tier.filter(|r| !r.is_empty()),
            codes(f.reason_codes.as_deref()),
        )
        .await
    {
        Ok(()) => Redirect::to(&format!("/s/{id}")).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

#[derive(Deserialize)]
struct CompleteJson {
    outcome: String,
    risk_tier: Option<String>,
    #[serde(default)]
    reason_codes: Vec<String>,
}

async fn complete_json(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(b): Json<CompleteJson>,
) -> Response {
    match sim
        .complete(&id, &b.outcome, b.risk_tier, b.reason_codes)
        .await
    {
        Ok(()) => Json(serde_json::json!({ "status": "delivered" })).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn control_sessions(State(sim): State<Sim>) -> Response {
    let inner = sim.lock();
    Json(serde_json::json!({ "sessions": inner.sessions, "delivered": inner.delivered, "dropped": inner.dropped })).into_response()
}

async fn get_settings(State(sim): State<Sim>) -> Json<Switches> {
    Json(sim.lock().config.switches.clone())
}

async fn set_settings(State(sim): State<Sim>, Json(s): Json<Switches>) -> Json<Switches> {
    sim.lock().config.switches = s.clone();
    Json(s)
}

async fn evidence(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    match sim.lock().sessions.iter().find(|s| s.session_id == id) {
        Some(s) => Json(serde_json::json!({ "session_id": s.session_id, "status": s.status, "risk_tier": s.risk_tier, "reason_codes": s.reason_codes })).into_response(),
        None => (StatusCode::NOT_FOUND, "no such evidence pack").into_response(),
    }
}

/// Runs the simulator on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: SimConfig) -> anyhow::Result<()> {
    // Sessions named for this start (`vs_<start, hex seconds>_1`, …): a demo started again over
    // the same database never hands out a session id Clearance already has.
    let started = chrono::Utc::now().timestamp();
    let sim = Sim::new(config).with_id_prefix(&format!("vs_{started:x}_"));
    axum::serve(listener, sim.router()).await?;
    Ok(())
}

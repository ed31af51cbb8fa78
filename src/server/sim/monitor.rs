//! The interview-integrity monitor, simulated per SPEC §7: accepts interviews, and after their
//! time (or on demand) posts a signed report with a small PDF, a score, flags and consent.
use crate::server::clock;
use crate::server::partners::monitor::Announce;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::DateTime;
use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Switches {
    pub latency_ms: u64,
    /// Share (0–1) of announcements answered 503.
    pub failure_rate: f64,
    /// Post every report twice.
    pub duplicate: bool,
    /// Candidates decline monitoring.
    pub declined_consent: bool,
    /// Post reports on their own once an interview's time has come.
    pub auto_report: bool,
    /// Score and flags of automatic reports.
    pub score: i64,
    pub flags: Vec<String>,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            latency_ms: 0,
            failure_rate: 0.0,
            duplicate: false,
            declined_consent: false,
            auto_report: true,
            score: 87,
            flags: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub webhook_url: String,
    pub webhook_secret: String,
    pub api_key: String,
    pub switches: Switches,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimInterview {
    pub interview: Announce,
    pub monitor_session_id: String,
    pub cancelled: bool,
    pub reported: bool,
    /// How many times the same interview was announced.
    pub announcements: u32,
}

pub struct Inner {
    config: SimConfig,
    interviews: Vec<SimInterview>,
    reports_sent: u64,
}

pub type Sim = super::Shared<Inner>;

/// A small valid PDF saying which interview it is about.
pub fn report_pdf(interview_id: &str, score: i64) -> Vec<u8> {
    let text = format!("Integrity report - interview {interview_id} - score {score}")
        .replace(['(', ')', '\\'], "");
    let stream = format!("BT /F1 14 Tf 40 780 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

impl Sim {
    pub fn new(config: SimConfig) -> Sim {
        Sim::with(Inner {
            config,
            interviews: Vec::new(),
            reports_sent: 0,
        })
    }

    pub fn interviews(&self) -> Vec<SimInterview> {
        self.lock().interviews.clone()
    }

    pub fn set_switches(&self, s: Switches) {
        self.lock().config.switches = s;
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/interviews", post(announce))
            .route("/interviews/{id}", delete(cancel).get(show))
            .route("/", get(home))
            .route("/ui/interviews/{id}/report", post(form_report))
            .route("/control/interviews", get(control_list))
            .route("/control/interviews/{id}/report", post(control_report))
            .route(
                "/control/settings",
                get(|State(sim): State<Sim>| async move { Json(sim.lock().config.switches.clone()) })
                    .post(|State(sim): State<Sim>, Json(s): Json<Switches>| async move {
                        sim.set_switches(s.clone());
                        Json(s)
                    }),
            )
            .with_state(self)
    }

    /// Posts the signed report for an interview: `score`, `flags`, consent per the switches.
    pub async fn report(
        &self,
        interview_id: &str,
        score: i64,
        flags: Vec<String>,
        summary: &str,
    ) -> Result<u16, String> {
        let (config, session, candidate) = {
            let mut inner = self.lock();
            let config = inner.config.clone();
            let i = inner
                .interviews
                .iter_mut()
                .find(|i| i.interview.interview_id == interview_id)
                .ok_or("no such interview")?;
            i.reported = true;
            (
                config,
                i.monitor_session_id.clone(),
                i.interview.candidate_id.clone(),
            )
        };
        let consent = if config.switches.declined_consent {
            "declined"
        } else {
            "given"
        };
        let body = serde_json::json!({
            "type": "integrity.report_ready",
            "timestamp": clock::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": {
                "interview_id": interview_id, "monitor_session_id": session, "candidate_id": candidate,
                "generated_at": clock::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "consent": consent, "integrity_score": score, "flags": flags, "summary": summary,
                "report": {
                    "filename": format!("integrity-{interview_id}.pdf"), "content_type": "application/pdf",
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(report_pdf(interview_id, score)),
                }
            }
        })
        .to_string();
        let hook = super::SignedWebhook::new(&config.webhook_secret, body)?;
        let copies = if config.switches.duplicate { 2 } else { 1 };
        let mut last = 0;
        for _ in 0..copies {
            let res = hook
                .send(&self.http, &config.webhook_url)
                .await
                .map_err(|e| format!("could not deliver the report: {e}"))?;
            last = res.status().as_u16();
            self.lock().reports_sent += 1;
        }
        Ok(last)
    }

    /// Reports every interview whose time has come, once (the demo's "after the interview").
    pub fn spawn_auto_reporter(&self) {
        let sim = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let due: Vec<(String, i64, Vec<String>)> = {
                    let inner = sim.lock();
                    if !inner.config.switches.auto_report {
                        continue;
                    }
                    let now = clock::now();
                    inner
                        .interviews
                        .iter()
                        .filter(|i| !i.cancelled && !i.reported)
                        .filter(|i| {
                            DateTime::parse_from_rfc3339(&i.interview.scheduled_at)
                                .is_ok_and(|t| t <= now)
                        })
                        .map(|i| {
                            (
                                i.interview.interview_id.clone(),
                                inner.config.switches.score,
                                inner.config.switches.flags.clone(),
                            )
                        })
                        .collect()
                };
                for (id, score, flags) in due {
                    if let Err(e) = sim
                        .report(&id, score, flags, "Automatic report after the interview.")
                        .await
                    {
                        tracing::warn!(error = %e, "monitor simulator could not post a report");
                    }
                }
            }
        });
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

fn authorized(sim: &Sim, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", sim.lock().config.api_key);
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

async fn announce(State(sim): State<Sim>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !authorized(&sim, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let s = sim.lock().config.switches.clone();
    if s.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(s.latency_ms)).await;
    }
    if s.failure_rate > 0.0 && rand::thread_rng().gen_bool(s.failure_rate.clamp(0.0, 1.0)) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "simulated outage");
    }
    let a: Announce = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid interview: {e}")),
    };
    if DateTime::parse_from_rfc3339(&a.scheduled_at).is_err() {
        return error(StatusCode::BAD_REQUEST, "scheduled_at must be RFC 3339");
    }
    let mut inner = sim.lock();
    let n = inner.interviews.len() + 1;
    let session = match inner
        .interviews
        .iter_mut()
        .find(|i| i.interview.interview_id == a.interview_id)
    {
        Some(existing) => {
            existing.announcements += 1;
            existing.interview = a;
            existing.cancelled = false;
            existing.monitor_session_id.clone()
        }
        None => {
            let session = format!("ms_{n}");
            inner.interviews.push(SimInterview {
                interview: a,
                monitor_session_id: session.clone(),
                cancelled: false,
                reported: false,
                announcements: 1,
            });
            session
        }
    };
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "monitor_session_id": session })),
    )
        .into_response()
}

async fn cancel(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&sim, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    match sim
        .lock()
        .interviews
        .iter_mut()
        .find(|i| i.interview.interview_id == id)
    {
        Some(i) => {
            i.cancelled = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "no such interview"),
    }
}

async fn show(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&sim, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    match sim
        .interviews()
        .into_iter()
        .find(|i| i.interview.interview_id == id)
    {
        Some(i) => Json(i).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such interview"),
    }
}

use crate::server::security::escape_html as escape;

/// The demo page: every announced interview with a "Send report" button.
async fn home(State(sim): State<Sim>) -> Response {
    let rows: String = sim
        .interviews()
        .iter()
        .map(|i| {
            let id = escape(&i.interview.interview_id);
            format!(
                "<tr><td>{id}</td><td>{cand}</td><td>{stage}</td><td>{at}</td><td>{state}</td><td>\
                 <form method=post action=\"/ui/interviews/{id}/report\">\
                 <label for=score-{id}>Score</label> <input id=score-{id} name=score type=number min=0 max=100 value=87>\
                 <label for=flags-{id}>Flags</label> <input id=flags-{id} name=flags placeholder=\"tab_switch, second_voice\">\
                 <button type=submit>Send report</button></form></td></tr>",
                cand = escape(&i.interview.candidate_id),
                stage = escape(&i.interview.stage),
                at = escape(&i.interview.scheduled_at),
                state = if i.cancelled { "cancelled" } else if i.reported { "reported" } else { "waiting" },
            )
        })
        .collect();
    axum::response::Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Interview monitor (simulator)</title></head><body>\
         <h1>Interview-integrity monitor (simulator)</h1><table><thead><tr><th>Interview</th><th>Candidate</th><th>Stage</th>\
         <th>Scheduled</th><th>State</th><th>Report</th></tr></thead><tbody>{rows}</tbody></table></body></html>"
    ))
    .into_response()
}

#[derive(Deserialize)]
struct ReportForm {
    score: i64,
    #[serde(default)]
    flags: String,
}

async fn form_report(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ReportForm>,
) -> Response {
    let flags = f
        .flags
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    match sim
        .report(
            &id,
            f.score.clamp(0, 100),
            flags,
            "Sent from the simulator page.",
        )
        .await
    {
        Ok(_) => axum::response::Redirect::to("/").into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn control_list(State(sim): State<Sim>) -> Response {
    let inner = sim.lock();
    Json(serde_json::json!({ "interviews": inner.interviews, "reports_sent": inner.reports_sent }))
        .into_response()
}

#[derive(Deserialize)]
struct ReportRequest {
    #[serde(default = "default_score")]
    score: i64,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    summary: String,
}

fn default_score() -> i64 {
    87
}

async fn control_report(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(r): Json<ReportRequest>,
) -> Response {
    match sim.report(&id, r.score, r.flags, &r.summary).await {
        Ok(status) => Json(serde_json::json!({ "delivered": status })).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

/// Runs the simulator on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: SimConfig) -> anyhow::Result<()> {
    let sim = Sim::new(config);
    sim.spawn_auto_reporter();
    axum::serve(listener, sim.router()).await?;
    Ok(())
}

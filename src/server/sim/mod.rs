//! Partner simulators (`clearance sim …`): faithful local stand-ins for the demo and the tests.
pub mod alerts;
pub mod mail;
pub mod monitor;
pub mod partner;
pub mod story;
pub mod verification;

use crate::server::clock;
use std::sync::{Arc, Mutex, MutexGuard};

/// A simulator's state behind one lock, and the HTTP client its webhooks go out with. Each
/// simulator is a `Shared` of its own state (`pub type Sim = Shared<Inner>`).
pub struct Shared<I> {
    inner: Arc<Mutex<I>>,
    http: reqwest::Client,
}

impl<I> Clone for Shared<I> {
    fn clone(&self) -> Self {
        Shared {
            inner: self.inner.clone(),
            http: self.http.clone(),
        }
    }
}

impl<I> Shared<I> {
    fn with(state: I) -> Self {
        Shared {
            inner: Arc::new(Mutex::new(state)),
            http: crate::server::state::http_client(),
        }
    }

    /// The state; a handler that panicked while holding it leaves it usable.
    fn lock(&self) -> MutexGuard<'_, I> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One Standard Webhooks message: a fresh id, now's timestamp and the signature over the body.
struct SignedWebhook {
    id: String,
    timestamp: i64,
    signature: String,
    body: String,
}

impl SignedWebhook {
    fn new(secret: &str, body: String) -> Result<SignedWebhook, String> {
        use rand::Rng;
        let id = format!("msg_{:016x}", rand::thread_rng().gen::<u64>());
        let timestamp = clock::now().timestamp();
        let signature =
            crate::server::partners::signature::sign(secret, &id, timestamp, body.as_bytes())
                .map_err(|e| e.to_string())?;
        Ok(SignedWebhook {
            id,
            timestamp,
            signature,
            body,
        })
    }

    /// Posts it (again, for a duplicate: the same id, timestamp and signature).
    async fn send(&self, http: &reqwest::Client, url: &str) -> reqwest::Result<reqwest::Response> {
        http.post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &self.id)
            .header("webhook-timestamp", self.timestamp.to_string())
            .header("webhook-signature", &self.signature)
            .body(self.body.clone())
            .send()
            .await
    }
}

/// A simulator's page of what it received: `title`, one line of `intro`, then `articles` (HTML,
/// escaped by the caller) newest first, or `empty` when nothing arrived yet.
fn received_page(title: &str, intro: &str, empty: &str, articles: Vec<String>) -> String {
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         article{{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}}\
         pre{{white-space:pre-wrap}}dt{{font-weight:600}}</style></head><body>\
         <h1>{title}</h1><p>{intro}</p>"
    );
    if articles.is_empty() {
        html.push_str(&format!("<p>{empty}</p>"));
    }
    for a in articles.iter().rev() {
        html.push_str(a);
    }
    html.push_str("</body></html>");
    html
}

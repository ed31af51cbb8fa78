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

//! Now, for everything the server stores or compares with what it stored: the wall clock in UTC.
//!
//! With the `sim` feature the clock can be set back: `clearance demo-data --story` replays ninety
//! days of a company's history through the real paths (requests, signed webhooks, reviews, orders,
//! reconciliation), so every timestamp, deadline and audit entry it writes falls on the day the
//! story is at. Nothing else moves it; a lean production build (no `sim`) cannot.
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// How far the clock is set back or forward, in microseconds (zero except while a story runs).
static OFFSET_MICROS: AtomicI64 = AtomicI64::new(0);

/// The current time.
pub fn now() -> DateTime<Utc> {
    let offset = OFFSET_MICROS.load(Ordering::Relaxed);
    if offset == 0 {
        Utc::now()
    } else {
        Utc::now() + chrono::Duration::microseconds(offset)
    }
}

/// Sets the clock to `at` (for the demo story only); `reset` puts it back to the wall clock.
#[cfg(feature = "sim")]
pub fn set(at: DateTime<Utc>) {
    let offset = (at - Utc::now()).num_microseconds().unwrap_or(0);
    OFFSET_MICROS.store(offset, Ordering::Relaxed);
}

/// Back to the wall clock.
#[cfg(feature = "sim")]
pub fn reset() {
    OFFSET_MICROS.store(0, Ordering::Relaxed);
}

//! Readings kept per key under the data version they were read at.
//!
//! A kept value is served while the database still shows the version it was read at (any commit
//! that may change it moves the version), or when its reading began after the request arrived
//! (such a reading saw everything the request could have expected). One reading at a time per
//! key: requests that miss together wait for the reading in flight and take it — 64 people
//! opening the same page after a change cost one reading, not 64 at once.
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Readings<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
    /// Orders arrivals and readings.
    clock: AtomicU64,
    /// Keys kept at most: when full it starts over.
    max_entries: usize,
    /// For values that move with the clock as well as with the data.
    keep_at_most: Option<Duration>,
}

type Slot<V> = Arc<tokio::sync::Mutex<Option<Kept<V>>>>;

struct Kept<V> {
    version: String,
    started: u64,
    at: Instant,
    value: V,
}

impl<K: Eq + Hash + Clone, V: Clone> Readings<K, V> {
    pub fn new(max_entries: usize, keep_at_most: Option<Duration>) -> Self {
        Readings {
            slots: Mutex::default(),
            clock: AtomicU64::new(0),
            max_entries,
            keep_at_most,
        }
    }

    /// Marks a request's arrival: take it before reading the version the request compares with.
    pub fn arrive(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    /// The value for `key`: the kept one when still fresh for a request that `arrived` and read
    /// `version`, else `read()`'s, kept under the version `read` returns with it.
    pub async fn get<E, Fut>(
        &self,
        key: &K,
        arrived: u64,
        version: &str,
        read: impl FnOnce() -> Fut,
    ) -> Result<V, E>
    where
        Fut: Future<Output = Result<(String, V), E>>,
    {
        self.get_while(key, arrived, version, |_| true, read).await
    }

    /// As `get`, for a value that also goes stale on its own: a kept value is served only while
    /// `fresh` says so.
    pub async fn get_while<E, Fut>(
        &self,
        key: &K,
        arrived: u64,
        version: &str,
        fresh: impl Fn(&V) -> bool,
        read: impl FnOnce() -> Fut,
    ) -> Result<V, E>
    where
        Fut: Future<Output = Result<(String, V), E>>,
    {
        let slot = {
            let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= self.max_entries && !map.contains_key(key) {
                map.clear();
            }
            map.entry(key.clone()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        let young = |k: &Kept<V>| self.keep_at_most.is_none_or(|most| k.at.elapsed() < most);
        if let Some(k) = slot
            .as_ref()
            .filter(|k| (k.version == version || k.started > arrived) && young(k))
            .filter(|k| fresh(&k.value))
        {
            return Ok(k.value.clone());
        }
        let started = self.arrive();
        let at = Instant::now();
        let (version, value) = read().await?;
        *slot = Some(Kept {
            version,
            started,
            at,
            value: value.clone(),
        });
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    async fn reading(reads: &AtomicUsize, version: &str, value: i64) -> Result<(String, i64), ()> {
        reads.fetch_add(1, Ordering::SeqCst);
        Ok((version.to_string(), value))
    }

    #[tokio::test]
    async fn a_value_is_kept_until_the_version_moves() {
        let kept = Readings::<&str, i64>::new(8, None);
        let reads = AtomicUsize::new(0);
        let a = kept.arrive();
        assert_eq!(
            kept.get(&"k", a, "v1", || reading(&reads, "v1", 1)).await,
            Ok(1)
        );
        let b = kept.arrive();
        assert_eq!(
            kept.get(&"k", b, "v1", || reading(&reads, "v1", 2)).await,
            Ok(1)
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        let c = kept.arrive();
        assert_eq!(
            kept.get(&"k", c, "v2", || reading(&reads, "v2", 3)).await,
            Ok(3)
        );
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_reading_begun_after_arrival_is_fresh_enough() {
        let kept = Readings::<&str, i64>::new(8, None);
        let reads = AtomicUsize::new(0);
        // This request arrived before the other one's reading began.
        let early = kept.arrive();
        let late = kept.arrive();
        assert_eq!(
            kept.get(&"k", late, "v1", || reading(&reads, "v2", 7))
                .await,
            Ok(7)
        );
        // Kept under v2 but begun after `early` arrived: served though `early` read v1.
        assert_eq!(
            kept.get(&"k", early, "v1", || reading(&reads, "v1", 8))
                .await,
            Ok(7)
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // A request that arrives after the reading began and sees another version reads again.
        let after = kept.arrive();
        assert_eq!(
            kept.get(&"k", after, "v3", || reading(&reads, "v3", 9))
                .await,
            Ok(9)
        );
    }

    #[tokio::test]
    async fn an_old_value_is_read_again_when_it_moves_with_the_clock() {
        let kept = Readings::<&str, i64>::new(8, Some(Duration::ZERO));
        let reads = AtomicUsize::new(0);
        let a = kept.arrive();
        kept.get(&"k", a, "v1", || reading(&reads, "v1", 1))
            .await
            .unwrap();
        let b = kept.arrive();
        assert_eq!(
            kept.get(&"k", b, "v1", || reading(&reads, "v1", 2)).await,
            Ok(2)
        );
    }

    #[tokio::test]
    async fn a_full_cache_starts_over_and_errors_keep_nothing() {
        let kept = Readings::<i64, i64>::new(2, None);
        let reads = AtomicUsize::new(0);
        for k in 0..3 {
            let a = kept.arrive();
            kept.get(&k, a, "v", || reading(&reads, "v", k))
                .await
                .unwrap();
        }
        assert_eq!(kept.slots.lock().unwrap().len(), 1);
        let a = kept.arrive();
        let failed: Result<i64, &str> = kept.get(&9, a, "v", || async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        let b = kept.arrive();
        assert_eq!(
            kept.get(&9, b, "v", || reading(&reads, "v", 5)).await,
            Ok(5)
        );
    }
}

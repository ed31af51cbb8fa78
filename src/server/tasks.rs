//! The process's background tasks (delivery worker, nightly reconciliation, audit checkpoints,
//! session sweeper): started under one tracker, told to stop by one token, waited for on shutdown.
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Tasks {
    pub fn new() -> Tasks {
        Tasks::default()
    }

    /// Runs `task` until it returns; it should watch `stopping()` and end at its next safe point.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// Cancelled when the process is shutting down.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Sleeps for `period`, or less if shutdown begins: true when the task should go on.
    pub async fn pause(&self, period: Duration) -> bool {
        tokio::select! {
            _ = self.stop.cancelled() => false,
            _ = tokio::time::sleep(period) => true,
        }
    }

    /// Tells every task to stop and waits for them, at most `grace`: true when all ended in time
    /// (a delivery in flight finishes and is recorded; no new one starts).
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.stop.cancel();
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_stops_pausing_tasks_and_waits_for_them() {
        let tasks = Tasks::new();
        let finished = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..3 {
            let (t, finished) = (tasks.clone(), finished.clone());
            tasks.spawn(async move {
                while t.pause(Duration::from_secs(3600)).await {}
                finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        assert!(tasks.shutdown(Duration::from_secs(5)).await);
        assert_eq!(finished.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_stop_is_given_up_on_after_the_grace() {
        let tasks = Tasks::new();
        tasks.spawn(async { tokio::time::sleep(Duration::from_secs(3600)).await });
        let started = std::time::Instant::now();
        assert!(!tasks.shutdown(Duration::from_millis(200)).await);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

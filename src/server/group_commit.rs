//! Group commit: items that arrive together are written by one task in one transaction — one
//! commit (one fsync) for the lot — and each caller is answered only after that commit.
//!
//! Callers hand an item to the writer and await its outcome. The writer takes whatever has queued
//! while the previous batch was committing (up to `max_batch`), so batches grow with the load and a
//! lone item is written at once. A caller that goes away (the sender hung up) does not stop its item:
//! once queued it is written like the rest. A batch that fails — an error or a panic in the writer
//! function — answers `BatchFailed` to every item in it.
use futures::FutureExt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// Items that may wait for the writer before callers wait to queue.
const QUEUE_DEPTH: usize = 10_000;

/// The batch an item belonged to could not be written; nothing of it was kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the batch this item was written in failed")]
pub struct BatchFailed;

type Job<I, O> = (I, oneshot::Sender<Result<O, BatchFailed>>);
type WriteFn<I, O> = Arc<
    dyn Fn(Vec<I>) -> futures::future::BoxFuture<'static, anyhow::Result<Vec<O>>> + Send + Sync,
>;

/// A queue in front of one writer task, started on first use (inside the caller's runtime).
pub struct GroupCommit<I, O> {
    max_batch: usize,
    write: WriteFn<I, O>,
    queue: OnceLock<mpsc::Sender<Job<I, O>>>,
}

impl<I: Send + 'static, O: Send + 'static> GroupCommit<I, O> {
    /// `write` gets a batch and returns one outcome per item, in order.
    pub fn new<F, Fut>(max_batch: usize, write: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<Vec<O>>> + Send + 'static,
    {
        GroupCommit {
            max_batch: max_batch.max(1),
            write: Arc::new(move |items| write(items).boxed()),
            queue: OnceLock::new(),
        }
    }

    /// Queues `item` and waits until the batch it was written in has committed.
    pub async fn submit(&self, item: I) -> Result<O, BatchFailed> {
        let queue = self.queue.get_or_init(|| self.start());
        let (answer, outcome) = oneshot::channel();
        queue.send((item, answer)).await.map_err(|_| BatchFailed)?;
        outcome.await.unwrap_or(Err(BatchFailed))
    }

    fn start(&self) -> mpsc::Sender<Job<I, O>> {
        // Bounded: under a flood, callers wait to queue (nothing of theirs is stored yet).
        let (queue, mut jobs) = mpsc::channel::<Job<I, O>>(QUEUE_DEPTH);
        let (write, max_batch) = (self.write.clone(), self.max_batch);
        tokio::spawn(async move {
            let mut batch: Vec<Job<I, O>> = Vec::with_capacity(max_batch);
            while let Some(first) = jobs.recv().await {
                batch.push(first);
                while batch.len() < max_batch {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let (items, answers): (Vec<I>, Vec<_>) = batch.drain(..).unzip();
                let n = items.len();
                let written = std::panic::AssertUnwindSafe(write(items))
                    .catch_unwind()
                    .await;
                match written {
                    Ok(Ok(outcomes)) if outcomes.len() == n => {
                        for (answer, outcome) in answers.into_iter().zip(outcomes) {
                            let _ = answer.send(Ok(outcome));
                        }
                    }
                    failed => {
                        match failed {
                            Ok(Err(e)) => {
                                tracing::error!(error = %e, items = n, "a group-commit batch failed")
                            }
                            Ok(Ok(_)) => tracing::error!(
                                items = n,
                                "a group-commit batch returned the wrong number of outcomes"
                            ),
                            Err(_) => tracing::error!(items = n, "a group-commit batch panicked"),
                        }
                        for answer in answers {
                            let _ = answer.send(Err(BatchFailed));
                        }
                    }
                }
            }
        });
        queue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn items_that_arrive_together_share_a_batch_and_each_gets_its_own_outcome() {
        let batches = Arc::new(std::sync::Mutex::new(Vec::<usize>::new()));
        let seen = batches.clone();
        let gc = Arc::new(GroupCommit::new(64, move |items: Vec<u32>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(items.len());
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(items.into_iter().map(|i| i * 10).collect())
            }
        }));
        let answers = futures::future::join_all((0..50u32).map(|i| {
            let gc = gc.clone();
            async move { gc.submit(i).await }
        }))
        .await;
        for (i, a) in answers.into_iter().enumerate() {
            assert_eq!(a, Ok(i as u32 * 10));
        }
        let batches = batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 50);
        assert!(
            batches.len() < 50,
            "50 concurrent items took {} batches",
            batches.len()
        );
    }

    #[tokio::test]
    async fn a_failed_or_panicking_batch_fails_each_of_its_items_and_the_writer_goes_on() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let gc = GroupCommit::new(8, move |items: Vec<u32>| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 => anyhow::bail!("disk full"),
                    1 => panic!("writer bug"),
                    _ => Ok(items),
                }
            }
        });
        assert_eq!(gc.submit(1).await, Err(BatchFailed));
        assert_eq!(gc.submit(2).await, Err(BatchFailed));
        assert_eq!(gc.submit(3).await, Ok(3));
    }
}

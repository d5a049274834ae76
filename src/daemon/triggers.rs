//! Reasons to reconcile arrive from many places (file watcher, webhook, schedule, gate
//! re-polls) and at any time; reconciles run one at a time. `Triggers` coalesces everything that
//! arrives during a reconcile into exactly one more, and lets the worker sleep until either a
//! trigger or its next scheduled check, whichever comes first — no busy polling.
//!
//! Firing is synchronous (the file watcher's thread and the HTTP handlers call it); waiting is
//! async, so the sleeping worker holds no thread.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::sync::Notify;

#[derive(Default)]
pub struct Triggers {
    reasons: Mutex<Vec<String>>,
    shutdown: AtomicBool,
    /// One waiter (the worker); a wake-up sent while it is busy is kept for its next wait.
    wake: Notify,
}

/// Why the worker woke up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    Triggered(Vec<String>),
    Scheduled,
    Shutdown,
}

impl Triggers {
    /// Asks for a reconcile; several asks before the worker gets to it become one.
    pub fn fire(&self, reason: impl Into<String>) {
        if let Ok(mut reasons) = self.reasons.lock() {
            reasons.push(reason.into());
        }
        self.wake.notify_one();
    }

    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    fn take_reasons(&self) -> Vec<String> {
        self.reasons
            .lock()
            .map(|mut reasons| std::mem::take(&mut *reasons))
            .unwrap_or_default()
    }

    /// Sleeps until a trigger, shutdown, or `deadline`.
    pub async fn wait(&self, deadline: Option<Instant>) -> Wake {
        loop {
            if self.is_shutting_down() {
                return Wake::Shutdown;
            }
            let reasons = self.take_reasons();
            if !reasons.is_empty() {
                return Wake::Triggered(reasons);
            }
            match deadline {
                Some(deadline) => {
                    let deadline = tokio::time::Instant::from_std(deadline);
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep_until(deadline) => {
                            // A trigger or shutdown that raced the deadline still wins.
                            if self.is_shutting_down() {
                                return Wake::Shutdown;
                            }
                            let reasons = self.take_reasons();
                            if !reasons.is_empty() {
                                return Wake::Triggered(reasons);
                            }
                            return Wake::Scheduled;
                        }
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn triggers_that_arrive_together_coalesce_into_one_wake() {
        let triggers = Triggers::default();
        triggers.fire("a");
        triggers.fire("b");
        assert_eq!(
            triggers.wait(None).await,
            Wake::Triggered(vec!["a".into(), "b".into()])
        );
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(triggers.wait(Some(soon)).await, Wake::Scheduled);
    }

    #[tokio::test]
    async fn a_trigger_wakes_a_sleeping_worker() {
        let triggers = Arc::new(Triggers::default());
        let other = triggers.clone();
        let waiting = tokio::spawn(async move {
            other
                .wait(Some(Instant::now() + Duration::from_secs(30)))
                .await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        // From a plain thread, as the file watcher fires.
        let firing = triggers.clone();
        std::thread::spawn(move || firing.fire("push"))
            .join()
            .unwrap();
        assert_eq!(waiting.await.unwrap(), Wake::Triggered(vec!["push".into()]));
    }

    #[tokio::test]
    async fn shutdown_wins_over_pending_triggers() {
        let triggers = Triggers::default();
        triggers.fire("a");
        triggers.shutdown();
        assert_eq!(triggers.wait(None).await, Wake::Shutdown);
        assert!(triggers.is_shutting_down());
    }
}

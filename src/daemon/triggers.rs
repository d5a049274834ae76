//! Reasons to reconcile arrive from many places (file watcher, webhook, schedule, gate
//! re-polls) and at any time; reconciles run one at a time. `Triggers` coalesces everything that
//! arrives during a reconcile into exactly one more, and lets the worker sleep until either a
//! trigger or its next scheduled check, whichever comes first — no busy polling.

use std::sync::{Condvar, Mutex};
use std::time::Instant;

#[derive(Default)]
struct State {
    reasons: Vec<String>,
    shutdown: bool,
}

#[derive(Default)]
pub struct Triggers {
    state: Mutex<State>,
    wake: Condvar,
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
        if let Ok(mut state) = self.state.lock() {
            state.reasons.push(reason.into());
            self.wake.notify_all();
        }
    }

    pub fn shutdown(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.shutdown = true;
            self.wake.notify_all();
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.state.lock().map(|s| s.shutdown).unwrap_or(true)
    }

    /// Sleeps until a trigger, shutdown, or `deadline`.
    pub fn wait(&self, deadline: Option<Instant>) -> Wake {
        let Ok(mut state) = self.state.lock() else {
            return Wake::Shutdown;
        };
        loop {
            if state.shutdown {
                return Wake::Shutdown;
            }
            if !state.reasons.is_empty() {
                return Wake::Triggered(std::mem::take(&mut state.reasons));
            }
            match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Wake::Scheduled;
                    }
                    state = match self.wake.wait_timeout(state, deadline - now) {
                        Ok((guard, _)) => guard,
                        Err(_) => return Wake::Shutdown,
                    };
                }
                None => {
                    state = match self.wake.wait(state) {
                        Ok(guard) => guard,
                        Err(_) => return Wake::Shutdown,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn triggers_that_arrive_together_coalesce_into_one_wake() {
        let triggers = Triggers::default();
        triggers.fire("a");
        triggers.fire("b");
        assert_eq!(
            triggers.wait(None),
            Wake::Triggered(vec!["a".into(), "b".into()])
        );
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(triggers.wait(Some(soon)), Wake::Scheduled);
    }

    #[test]
    fn a_trigger_wakes_a_sleeping_worker() {
        let triggers = Arc::new(Triggers::default());
        let other = triggers.clone();
        let handle =
            std::thread::spawn(move || other.wait(Some(Instant::now() + Duration::from_secs(30))));
        std::thread::sleep(Duration::from_millis(20));
        triggers.fire("push");
        assert_eq!(handle.join().unwrap(), Wake::Triggered(vec!["push".into()]));
    }

    #[test]
    fn shutdown_wins_over_pending_triggers() {
        let triggers = Triggers::default();
        triggers.fire("a");
        triggers.shutdown();
        assert_eq!(triggers.wait(None), Wake::Shutdown);
        assert!(triggers.is_shutting_down());
    }
}

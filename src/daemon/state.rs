//! What the daemon knows about itself, shared between the reconcile worker (which writes it)
//! and the HTTP server (which shows it as JSON, as a page and as metrics). Counters live in
//! `metrics`; this is the state a person asks about.

use crate::plan::Plan;
use serde::Serialize;
use std::collections::VecDeque;

/// How many recent events the status page keeps.
const EVENTS_KEPT: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: String,
    pub message: String,
}

/// The outcome of the last reconcile, in one word a person and a metric label can share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Starting,
    Converged,
    Waiting,
    Blocked,
    Held,
    /// The desired state does not validate: nothing converges (fail closed).
    Invalid,
    Failed,
    Stopped,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Starting => "starting",
            Outcome::Converged => "converged",
            Outcome::Waiting => "waiting",
            Outcome::Blocked => "blocked",
            Outcome::Held => "held",
            Outcome::Invalid => "invalid",
            Outcome::Failed => "failed",
            Outcome::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DaemonState {
    pub started_at: String,
    /// True once the desired state has been read and the backends are up (or the first
    /// reconcile has ended, whatever its outcome).
    pub ready: bool,
    pub outcome: Outcome,
    /// One line: why it is in that state (the waiting step's reason, the first error…).
    pub reason: String,
    pub desired_commit: Option<String>,
    pub desired_version: Option<String>,
    pub live_version: Option<String>,
    pub plan: Option<Plan>,
    /// Validation problems of the desired state, when invalid.
    pub problems: Vec<String>,
    pub last_reconcile_at: Option<String>,
    pub next_check_at: Option<String>,
    pub events: VecDeque<Event>,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl DaemonState {
    pub fn new() -> Self {
        DaemonState {
            started_at: now(),
            ready: false,
            outcome: Outcome::Starting,
            reason: "the first reconcile has not finished yet".into(),
            desired_commit: None,
            desired_version: None,
            live_version: None,
            plan: None,
            problems: Vec::new(),
            last_reconcile_at: None,
            next_check_at: None,
            events: VecDeque::new(),
        }
    }

    pub fn event(&mut self, message: impl Into<String>) {
        self.events.push_front(Event {
            at: now(),
            message: message.into(),
        });
        self.events.truncate(EVENTS_KEPT);
    }
}

impl Default for DaemonState {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_the_newest_first_and_are_bounded() {
        let mut state = DaemonState::new();
        for i in 0..60 {
            state.event(format!("e{i}"));
        }
        assert_eq!(state.events.len(), EVENTS_KEPT);
        assert_eq!(state.events[0].message, "e59");
    }
}

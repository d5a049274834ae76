//! The reconcile worker: one thread, one reconcile at a time. Each reconcile reads the committed
//! desired state, refuses it whole if invalid, and runs the convergence loop until it converges,
//! blocks, is held, or reaches a gate; a gate is re-polled on its own backoff while the worker
//! sleeps on the triggers, so a webhook or a new commit is never kept waiting behind it.

use super::source::Source;
use super::state::{DaemonState, Outcome, now};
use super::triggers::{Triggers, Wake};
use crate::apply::{ApplyOptions, ApplyOutcome, Progress, apply};
use crate::backends::{self, Backends};
use crate::config::Config;
use crate::plan::{Plan, PlanOptions, Step};
use crate::validate::validate;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often things are looked at again.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First and longest pause before re-polling a waiting gate.
    pub gate_first: Duration,
    pub gate_max: Duration,
    /// First and longest pause after a failed reconcile.
    pub error_first: Duration,
    pub error_max: Duration,
    /// When `[daemon] resync` is not set.
    pub default_resync: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            gate_first: Duration::from_secs(5),
            gate_max: Duration::from_secs(60),
            error_first: Duration::from_secs(5),
            error_max: Duration::from_secs(300),
            default_resync: Duration::from_secs(300),
        }
    }
}

pub struct Worker {
    pub source: Source,
    pub triggers: Arc<Triggers>,
    pub state: Arc<Mutex<DaemonState>>,
    pub timing: Timing,
    backends: Option<(Config, Backends)>,
    gate_pause: Duration,
    error_pause: Duration,
}

/// Records what the loop does, and stops it between steps on shutdown.
struct Reporter<'a> {
    triggers: &'a Triggers,
    state: &'a Mutex<DaemonState>,
}

impl Reporter<'_> {
    fn record(&self, step: &Step, outcome: &'static str, what: &str) {
        if let Ok(mut state) = self.state.lock() {
            *state
                .counters
                .steps
                .entry((step.title(), outcome))
                .or_default() += 1;
            state.event(format!("{}: {what}", step.title()));
        }
    }
}

impl Progress for Reporter<'_> {
    fn should_stop(&mut self) -> bool {
        self.triggers.is_shutting_down()
    }

    fn acting(&mut self, step: &Step) {
        tracing::info!(step = %step.title(), reason = %step.reason, "acting");
    }

    fn acted(&mut self, step: &Step, what: &str) {
        tracing::info!(step = %step.title(), "{what}");
        self.record(step, "done", what);
    }

    fn failed(&mut self, step: &Step, what: &str) {
        tracing::error!(step = %step.title(), "{what}");
        self.record(step, "failed", what);
    }
}

impl Worker {
    pub fn new(
        source: Source,
        triggers: Arc<Triggers>,
        state: Arc<Mutex<DaemonState>>,
        timing: Timing,
    ) -> Self {
        Worker {
            source,
            triggers,
            state,
            gate_pause: timing.gate_first,
            error_pause: timing.error_first,
            timing,
            backends: None,
        }
    }

    /// Runs until shutdown.
    pub fn run(mut self) {
        let mut reasons = vec!["start".to_string()];
        loop {
            let started = Instant::now();
            tracing::info!(reasons = ?reasons, "reconcile");
            let (outcome, next) = self.reconcile();
            let elapsed = started.elapsed();
            if let Ok(mut state) = self.state.lock() {
                state.ready = true;
                state.last_reconcile_at = Some(now());
                *state
                    .counters
                    .reconciles
                    .entry(outcome.label())
                    .or_default() += 1;
                state.counters.reconcile_seconds_sum += elapsed.as_secs_f64();
                state.counters.reconcile_count += 1;
                state.next_check_at = next.map(|d| {
                    (chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or_default())
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                });
            }
            if outcome == Outcome::Stopped {
                break;
            }
            match self.triggers.wait(next.map(|d| Instant::now() + d)) {
                Wake::Shutdown => break,
                Wake::Triggered(why) => reasons = why,
                Wake::Scheduled => reasons = vec!["scheduled".into()],
            }
        }
        tracing::info!("reconcile worker stopped");
    }

    fn set(&self, outcome: Outcome, reason: String, plan: Option<Plan>) {
        if let Ok(mut state) = self.state.lock() {
            if let Some(plan) = &plan {
                state.live_version = plan.live.map(|v| v.to_string());
            }
            if state.outcome != outcome || state.reason != reason {
                state.event(format!("{}: {reason}", outcome.label()));
            }
            state.outcome = outcome;
            state.reason = reason;
            if plan.is_some() {
                state.plan = plan;
            }
        }
    }

    /// When to look again after a reconcile that ended calmly: the resync schedule.
    fn resync_after(&self, config: Option<&Config>) -> Duration {
        config
            .and_then(|c| c.daemon.resync.as_ref())
            .and_then(|resync| resync.next_after(&chrono::Utc::now()))
            .and_then(|t| (t - chrono::Utc::now()).to_std().ok())
            .unwrap_or(self.timing.default_resync)
    }

    /// One reconcile; returns its outcome and when to look again.
    fn reconcile(&mut self) -> (Outcome, Option<Duration>) {
        let snapshot = match self.source.read() {
            Ok(snapshot) => snapshot,
            Err(e) => return self.failed(format!("reading the desired state: {e}")),
        };
        let state = validate(&snapshot.files);
        let short = snapshot
            .commit
            .get(..7)
            .unwrap_or(&snapshot.commit)
            .to_string();
        if let Ok(mut s) = self.state.lock() {
            s.desired_commit = Some(snapshot.commit.clone());
            s.desired_version = state.newest().map(|r| r.version.to_string());
            s.problems = state
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{} {}: {}", d.location(), d.code, d.message))
                .collect();
        }
        let (Some(config), true) = (state.config.clone(), state.is_valid()) else {
            let reason = format!(
                "the desired state at {short} is invalid ({} problem(s)); nothing converges until a commit fixes it",
                state.errors()
            );
            tracing::error!(commit = %short, errors = state.errors(), "{reason}");
            self.set(Outcome::Invalid, reason, None);
            return (Outcome::Invalid, Some(self.resync_after(None)));
        };
        let Some(release) = state.newest().cloned() else {
            self.set(Outcome::Converged, "no releases declared".into(), None);
            return (Outcome::Converged, Some(self.resync_after(Some(&config))));
        };
        // Keep the backends (and so GitHub's ETag cache) across reconciles while the config holds.
        if self.backends.as_ref().is_none_or(|(c, _)| *c != config) {
            match backends::build(&config, &snapshot.dir) {
                Ok(built) => {
                    for line in &built.preflight {
                        tracing::info!("{line}");
                    }
                    self.backends = Some((config.clone(), built));
                }
                Err(e) => return self.failed(e.to_string()),
            }
        }
        let Some((_, backends)) = self.backends.as_ref() else {
            return self.failed("no backends".into());
        };
        // Ready once the desired state reads and the backends are up: a long first deploy must
        // not keep the pod out of service (and away from its webhooks).
        if let Ok(mut s) = self.state.lock() {
            s.ready = true;
        }
        let options = ApplyOptions {
            plan: PlanOptions {
                retry_deploy: false,
                window: crate::window::state(&config.daemon.windows, chrono::Utc::now()),
            },
            // Never sleep inside a reconcile: a gate ends it, and the worker re-polls later.
            gate_timeout: Duration::ZERO,
            poll_start: Duration::ZERO,
            poll_max: Duration::ZERO,
        };
        let mut reporter = Reporter {
            triggers: &self.triggers,
            state: &self.state,
        };
        let result = apply(
            &config,
            &release,
            &state.releases,
            &backends.as_apply(),
            &options,
            &mut reporter,
        );
        if let Ok(mut s) = self.state.lock() {
            for (service, status, n) in backends.request_counts() {
                s.counters.api_requests.insert((service, status), n);
            }
            s.counters.rate_limit_remaining = backends.rate_limit_remaining();
        }
        let outcome = match result {
            Err(e) => return self.failed(e.to_string()),
            Ok(outcome) => outcome,
        };
        self.error_pause = self.timing.error_first;
        let resync = self.resync_after(Some(&config));
        match outcome {
            ApplyOutcome::Converged { plan } => {
                self.gate_pause = self.timing.gate_first;
                self.set(
                    Outcome::Converged,
                    format!("{} is live", plan.version),
                    Some(plan),
                );
                (Outcome::Converged, Some(resync))
            }
            ApplyOutcome::TimedOut { plan, step } => {
                let pause = self.gate_pause;
                self.gate_pause = (self.gate_pause * 2).min(self.timing.gate_max);
                self.set(
                    Outcome::Waiting,
                    format!("{}: {}", step.title(), step.reason),
                    Some(plan),
                );
                (Outcome::Waiting, Some(pause.min(resync)))
            }
            ApplyOutcome::Blocked { plan, step } => {
                tracing::warn!(step = %step.title(), reason = %step.reason, "blocked");
                self.set(
                    Outcome::Blocked,
                    format!("{}: {}", step.title(), step.reason),
                    Some(plan),
                );
                (Outcome::Blocked, Some(resync))
            }
            ApplyOutcome::Held { plan, hold } => {
                // A closed window opens at a known time: look again then, not at the next resync
                // (which may come after the window has closed again).
                let opening = options
                    .plan
                    .window
                    .as_ref()
                    .and_then(|w| w.next_opening.as_deref())
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .and_then(|t| {
                        (t.with_timezone(&chrono::Utc) - chrono::Utc::now())
                            .to_std()
                            .ok()
                    })
                    // Past the second boundary, so the window is seen open when the worker wakes.
                    .map(|d| d + Duration::from_millis(50));
                self.set(Outcome::Held, hold.to_string(), Some(plan));
                (
                    Outcome::Held,
                    Some(opening.map_or(resync, |o| o.min(resync))),
                )
            }
            ApplyOutcome::Stopped | ApplyOutcome::Interrupted { .. } | ApplyOutcome::Declined => {
                self.set(Outcome::Stopped, "shutting down".into(), None);
                (Outcome::Stopped, None)
            }
        }
    }

    fn failed(&mut self, reason: String) -> (Outcome, Option<Duration>) {
        tracing::error!("reconcile failed: {reason}");
        let pause = self.error_pause;
        self.error_pause = (self.error_pause * 2).min(self.timing.error_max);
        self.set(Outcome::Failed, reason, None);
        (Outcome::Failed, Some(pause))
    }
}

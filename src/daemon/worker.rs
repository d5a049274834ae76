//! The reconcile worker, shaped like a kube-rs controller: `reconcile` reads the committed
//! desired state, refuses it whole if invalid, runs the convergence loop until it converges,
//! blocks, is held or reaches a gate, and says what should happen next as an `Action`; an
//! error goes through `error_policy`, which turns it into an `Action` too (a retry on a
//! growing backoff). The loop in `run` applies the action: it sleeps on the triggers until the
//! requeue time or, for `AwaitChange`, until the resync schedule, so a webhook or a new commit
//! is never kept waiting behind a gate.
//!
//! The planner and the apply loop are synchronous, so each reconcile runs on a blocking thread
//! of the runtime; the worker itself only awaits, and holds no thread while it sleeps.

use super::metrics::Metrics;
use super::source::{Source, SourceError};
use super::state::{DaemonState, Outcome, now};
use super::triggers::{Triggers, Wake};
use crate::apply::{ApplyError, ApplyOptions, ApplyOutcome, Memory, Progress, apply};
use crate::backends::{self, Backends, BackendsError};
use crate::config::Config;
use crate::plan::{Plan, PlanOptions, Step};
use crate::release::Release;
use crate::validate::{DesiredState, validate};
use crate::window::WindowState;
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

/// What a reconcile asks for next, as in kube-rs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Look again after this long (a gate's backoff, a window's opening, an error's backoff),
    /// or sooner if something triggers.
    Requeue(Duration),
    /// Nothing to do until something changes; the resync schedule still looks for drift.
    AwaitChange,
}

/// Why a reconcile could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("reading the desired state: {0}")]
    Source(#[source] SourceError),
    #[error(transparent)]
    Backends(#[from] BackendsError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

pub struct Worker {
    pub source: Source,
    pub triggers: Arc<Triggers>,
    pub state: Arc<Mutex<DaemonState>>,
    pub metrics: Arc<Metrics>,
    pub timing: Timing,
    backends: Option<(Config, Backends)>,
    /// What the loop remembers across reconciles (gate clocks, the pin commit it made).
    memory: Memory,
    /// The config of the last reconcile that read a valid one: its resync schedule applies.
    config: Option<Config>,
    gate_pause: Duration,
    error_pause: Duration,
}

/// Records what the loop does, and stops it between steps on shutdown.
struct Reporter<'a> {
    triggers: &'a Triggers,
    state: &'a Mutex<DaemonState>,
    metrics: &'a Metrics,
}

impl Reporter<'_> {
    fn record(&self, step: &Step, outcome: &'static str, what: &str) {
        self.metrics.step(&step.title(), outcome);
        if let Ok(mut state) = self.state.lock() {
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
        metrics: Arc<Metrics>,
        timing: Timing,
    ) -> Self {
        Worker {
            source,
            triggers,
            state,
            metrics,
            gate_pause: timing.gate_first,
            error_pause: timing.error_first,
            timing,
            backends: None,
            memory: Memory::default(),
            config: None,
        }
    }

    /// Runs until shutdown: one reconcile at a time, each on a blocking thread.
    pub async fn run(mut self) {
        let mut reasons = vec!["start".to_string()];
        loop {
            tracing::info!(reasons = ?reasons, "reconcile");
            let started = Instant::now();
            let reconciled = tokio::task::spawn_blocking(move || {
                let result = self.reconcile();
                let action = result.unwrap_or_else(|e| self.error_policy(&e));
                (self, action)
            })
            .await;
            let action;
            (self, action) = match reconciled {
                Ok(done) => done,
                Err(e) => {
                    tracing::error!("the reconcile worker panicked: {e}");
                    return;
                }
            };
            let deadline = self.deadline(action);
            self.finished(started.elapsed(), deadline);
            if self.triggers.is_shutting_down() {
                break;
            }
            match self.triggers.wait(deadline).await {
                Wake::Shutdown => break,
                Wake::Triggered(why) => reasons = why,
                Wake::Scheduled => reasons = vec!["scheduled".into()],
            }
        }
        tracing::info!("reconcile worker stopped");
    }

    /// When to look again: a requeue's own time, or the resync schedule.
    fn deadline(&self, action: Action) -> Option<Instant> {
        if self.triggers.is_shutting_down() {
            return None;
        }
        let after = match action {
            Action::Requeue(after) => after,
            Action::AwaitChange => self.resync_after(),
        };
        Some(Instant::now() + after)
    }

    fn finished(&self, took: Duration, deadline: Option<Instant>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        self.metrics.reconciled(state.outcome.label(), took);
        state.ready = true;
        state.last_reconcile_at = Some(now());
        state.next_check_at = deadline.map(|at| {
            let after = at.saturating_duration_since(Instant::now());
            (chrono::Utc::now() + chrono::Duration::from_std(after).unwrap_or_default())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
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

    /// How long until the resync schedule of the last valid config (or the default) fires, read
    /// in its `[daemon] timezone`.
    fn resync_after(&self) -> Duration {
        let now = chrono::Utc::now();
        self.config
            .as_ref()
            .and_then(|c| {
                let resync = c.daemon.resync.as_ref()?;
                resync.next_after(&now.with_timezone(&c.daemon.timezone))
            })
            .and_then(|t| (t.with_timezone(&chrono::Utc) - now).to_std().ok())
            .unwrap_or(self.timing.default_resync)
    }

    /// One reconcile: what the desired state asks for, done as far as it can be now.
    pub fn reconcile(&mut self) -> Result<Action, ReconcileError> {
        let snapshot = self.source.read().map_err(ReconcileError::Source)?;
        let state = validate(&snapshot.files);
        self.show_desired(&snapshot.commit, &state);
        let (Some(config), true) = (state.config.clone(), state.is_valid()) else {
            self.config = None;
            return Ok(self.invalid(&snapshot.commit, &state));
        };
        self.config = Some(config.clone());
        let Some(release) = state.newest().cloned() else {
            self.set(Outcome::Converged, "no releases declared".into(), None);
            return Ok(Action::AwaitChange);
        };
        let backends = self.backends_for(&config, &snapshot.dir)?;
        // Ready once the desired state reads and the backends are up: a long first deploy must
        // not keep the pod out of service (and away from its webhooks).
        if let Ok(mut s) = self.state.lock() {
            s.ready = true;
        }
        let window = crate::window::current(&config.daemon);
        let outcome = self.converge(&backends, &config, &release, &state.releases, &window);
        self.backends = Some((config, backends));
        let outcome = outcome?;
        self.error_pause = self.timing.error_first;
        Ok(self.next(outcome, window.as_ref()))
    }

    fn show_desired(&self, commit: &str, state: &DesiredState) {
        if let Ok(mut s) = self.state.lock() {
            s.desired_commit = Some(commit.to_string());
            s.desired_version = state.newest().map(|r| r.version.to_string());
            s.problems = state
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{} {}: {}", d.location(), d.code, d.message))
                .collect();
        }
    }

    /// A desired state that does not validate converges nothing, until a commit fixes it.
    fn invalid(&self, commit: &str, state: &DesiredState) -> Action {
        let short = commit.get(..7).unwrap_or(commit);
        let reason = format!(
            "the desired state at {short} is invalid ({} problem(s)); nothing converges until a commit fixes it",
            state.errors()
        );
        tracing::error!(commit = %short, errors = state.errors(), "{reason}");
        self.set(Outcome::Invalid, reason, None);
        Action::AwaitChange
    }

    /// The backends for `config`: the ones kept from the last reconcile while the config holds
    /// (and with them GitHub's ETag cache), else new ones. The caller puts them back.
    fn backends_for(
        &mut self,
        config: &Config,
        dir: &std::path::Path,
    ) -> Result<Backends, BackendsError> {
        if let Some((kept_for, backends)) = self.backends.take()
            && kept_for == *config
        {
            return Ok(backends);
        }
        let built = backends::build(config, dir)?;
        for line in &built.preflight {
            tracing::info!("{line}");
        }
        self.metrics.backends_replaced();
        Ok(built)
    }

    /// Runs the convergence loop once, without ever sleeping in it: a gate ends the reconcile
    /// and the worker re-polls later.
    fn converge(
        &self,
        backends: &Backends,
        config: &Config,
        release: &Release,
        releases: &[Release],
        window: &Option<WindowState>,
    ) -> Result<ApplyOutcome, ApplyError> {
        let options = ApplyOptions {
            plan: PlanOptions {
                window: window.clone(),
                ..PlanOptions::default()
            },
            memory: self.memory.clone(),
            // Never sleep inside a reconcile: a gate ends it, and the worker re-polls later.
            gate_timeout: Duration::ZERO,
            poll_start: Duration::ZERO,
            poll_max: Duration::ZERO,
        };
        let mut reporter = Reporter {
            triggers: &self.triggers,
            state: &self.state,
            metrics: &self.metrics,
        };
        let result = apply(
            config,
            release,
            releases,
            &backends.as_apply(),
            &options,
            &mut reporter,
        );
        self.metrics.api_requests(&backends.request_counts());
        self.metrics
            .rate_limit_remaining(backends.rate_limit_remaining());
        result
    }

    /// What an apply that ran calls for next.
    fn next(&mut self, outcome: ApplyOutcome, window: Option<&WindowState>) -> Action {
        match outcome {
            ApplyOutcome::Converged { plan } => {
                self.gate_pause = self.timing.gate_first;
                let reason = plan.live_words();
                self.set(Outcome::Converged, reason, Some(plan));
                Action::AwaitChange
            }
            ApplyOutcome::TimedOut { plan, step } => {
                let pause = self.gate_pause;
                self.gate_pause = (self.gate_pause * 2).min(self.timing.gate_max);
                let reason = format!("{}: {}", step.title(), step.reason);
                self.set(Outcome::Waiting, reason, Some(plan));
                Action::Requeue(pause.min(self.resync_after()))
            }
            ApplyOutcome::Blocked { plan, step } => {
                tracing::warn!(step = %step.title(), reason = %step.reason, "blocked");
                let reason = format!("{}: {}", step.title(), step.reason);
                self.set(Outcome::Blocked, reason, Some(plan));
                Action::AwaitChange
            }
            ApplyOutcome::Held { plan, hold } => {
                self.set(Outcome::Held, hold.to_string(), Some(plan));
                // A closed window opens at a known time: look again then, not at the next
                // resync (which may come after the window has closed again).
                match until_opening(window) {
                    Some(opening) => Action::Requeue(opening.min(self.resync_after())),
                    None => Action::AwaitChange,
                }
            }
            ApplyOutcome::Unsettled { what } => {
                tracing::warn!(%what, "deploy unclear; looking again before anything is sent");
                let pause = self.gate_pause;
                self.gate_pause = (self.gate_pause * 2).min(self.timing.gate_max);
                self.set(Outcome::Waiting, what, None);
                Action::Requeue(pause.min(self.resync_after()))
            }
            ApplyOutcome::Stopped | ApplyOutcome::Interrupted { .. } | ApplyOutcome::Declined => {
                self.set(Outcome::Stopped, "shutting down".into(), None);
                Action::AwaitChange
            }
        }
    }

    /// Every failed reconcile is retried, each time after twice the pause before (up to
    /// `error_max`); a reconcile that gets through resets the pause.
    pub fn error_policy(&mut self, error: &ReconcileError) -> Action {
        let reason = error.to_string();
        tracing::error!("reconcile failed: {reason}");
        let pause = self.error_pause;
        self.error_pause = (self.error_pause * 2).min(self.timing.error_max);
        self.set(Outcome::Failed, reason, None);
        Action::Requeue(pause)
    }
}

/// How long until a closed window next opens, when it is known.
fn until_opening(window: Option<&WindowState>) -> Option<Duration> {
    let opening = window?.next_opening.as_deref()?;
    let opening = chrono::DateTime::parse_from_rfc3339(opening).ok()?;
    let until = (opening.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()?;
    // Past the second boundary, so the window is seen open when the worker wakes.
    Some(until + Duration::from_millis(50))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn worker(dir: PathBuf) -> Worker {
        let timing = Timing::default();
        Worker::new(
            Source::Checkout {
                dir,
                rev: "HEAD".into(),
            },
            Arc::new(Triggers::default()),
            Arc::new(Mutex::new(DaemonState::new())),
            Arc::new(Metrics::new()),
            timing,
        )
    }

    #[test]
    fn errors_requeue_on_a_doubling_backoff_up_to_five_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let mut worker = worker(dir.path().join("no-such-checkout"));
        let mut pauses = Vec::new();
        for _ in 0..8 {
            let error = worker.reconcile().unwrap_err();
            assert!(matches!(error, ReconcileError::Source(_)), "{error}");
            match worker.error_policy(&error) {
                Action::Requeue(pause) => pauses.push(pause.as_secs()),
                other => panic!("an error requeues: {other:?}"),
            }
        }
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 300, 300]);
        let state = worker.state.lock().unwrap();
        assert_eq!(state.outcome, Outcome::Failed);
        assert!(
            state.reason.starts_with("reading the desired state: "),
            "{}",
            state.reason
        );
    }

    #[test]
    fn a_reconcile_that_gets_through_resets_the_error_backoff() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = crate::demo::build_sandbox(&dir.path().join("sandbox")).unwrap();
        let mut worker = worker(dir.path().join("missing"));
        for _ in 0..3 {
            let error = worker.reconcile().unwrap_err();
            worker.error_policy(&error);
        }
        worker.source = Source::Checkout {
            dir: sandbox.desired.clone(),
            rev: "HEAD".into(),
        };
        assert_eq!(worker.reconcile().unwrap(), Action::AwaitChange);
        assert_eq!(worker.state.lock().unwrap().outcome, Outcome::Converged);
        worker.source = Source::Checkout {
            dir: dir.path().join("missing"),
            rev: "HEAD".into(),
        };
        let error = worker.reconcile().unwrap_err();
        assert_eq!(
            worker.error_policy(&error),
            Action::Requeue(Duration::from_secs(5))
        );
    }

    #[test]
    fn a_window_that_opens_later_requeues_for_its_opening() {
        let opening = chrono::Utc::now() + chrono::Duration::seconds(30);
        let window = WindowState {
            open: false,
            next_opening: Some(opening.to_rfc3339()),
        };
        let until = until_opening(Some(&window)).unwrap();
        assert!(until > Duration::from_secs(28) && until <= Duration::from_secs(31));
        assert_eq!(until_opening(None), None);
    }
}

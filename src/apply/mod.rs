//! Executes a plan one step at a time. Before every side effect it observes and plans again, so
//! each decision is made from the world as it is now, not as it was when the run started: that
//! is what makes a crash or a concurrent change harmless. A step that loses a race (a conflict,
//! an "already exists") is never forced or blindly repeated; the next observation decides.

mod actions;
mod memory;
mod notes;

pub use memory::Memory;

pub use notes::release_body;

use crate::config::Config;
use crate::deploy::{Deployer, Verifier};
use crate::forge::{Forge, ForgeError};
use crate::observation::observe;
use crate::plan::{Action, Gate, Hold, Next, Plan, PlanOptions, Step, StepKind, plan};
use crate::release::Release;
use actions::{StepContext, StepResult};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// Where the loop reads and writes.
pub struct Backends<'a> {
    pub forge: &'a dyn Forge,
    pub deployer: Option<&'a dyn Deployer>,
    pub verifier: Option<&'a dyn Verifier>,
    /// Asks registries about the configured images; `None` when none are configured.
    pub registry: Option<&'a dyn crate::registry::Registry>,
}

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub plan: PlanOptions,
    /// What the loop remembers between observations; the daemon keeps it across reconciles.
    pub memory: Memory,
    /// How long to wait on a gate (CI, verification) before giving up for this run.
    pub gate_timeout: Duration,
    /// First and longest pause between polls of a waiting gate.
    pub poll_start: Duration,
    pub poll_max: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            plan: PlanOptions::default(),
            memory: Memory::default(),
            gate_timeout: Duration::from_secs(30 * 60),
            poll_start: Duration::from_secs(2),
            poll_max: Duration::from_secs(60),
        }
    }
}

/// Hears about progress; the CLI prints it, the daemon logs it, tests record it.
pub trait Progress {
    fn planned(&mut self, _plan: &Plan) {}
    /// Called once, before the first side effect of the run; returning false stops the run.
    fn confirm(&mut self, _plan: &Plan) -> bool {
        true
    }
    fn acting(&mut self, _step: &Step) {}
    fn acted(&mut self, _step: &Step, _what: &str) {}
    /// A step ran and failed (the failure is recorded; the next plan blocks on it).
    fn failed(&mut self, _step: &Step, _what: &str) {}
    fn waiting(&mut self, _step: &Step, _next_check: Duration) {}
    /// Asked before every observation and step: true stops the run there (a shutdown waits for
    /// the step in flight, never interrupts it).
    fn should_stop(&mut self) -> bool {
        false
    }
    /// Called after every side effect; `Break` stops the run right there (tests use it to
    /// simulate a crash at each point, since all state is re-derived from observation).
    fn after_side_effect(&mut self, _what: &str) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A `Progress` that says nothing.
pub struct Quiet;
impl Progress for Quiet {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    Converged {
        plan: Plan,
    },
    Blocked {
        plan: Plan,
        step: Step,
    },
    TimedOut {
        plan: Plan,
        step: Step,
    },
    /// The person declined at the prompt.
    Declined,
    /// Side effects are held (suspension, a closed deploy window): nothing this run could wait
    /// for would change that, so it stops.
    Held {
        plan: Plan,
        hold: Hold,
    },
    /// `Progress::should_stop` asked to stop (shutdown), between steps.
    Stopped,
    /// A `Progress` hook stopped the run after a side effect.
    Interrupted {
        after: String,
    },
    /// A deploy was sent and its fate is unknown (the answer was lost and the deployer did not
    /// find its job): the run stops rather than send it again, and the next run looks first.
    Unsettled {
        what: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("observing live state failed: {0}")]
    Observe(#[source] ForgeError),
    #[error("{step} failed: {error}")]
    Step {
        step: String,
        #[source]
        error: ForgeError,
    },
}

/// What converging would do, without doing any of it: one observation, one plan (`stackrel
/// plan`, the pull-request check, the demo).
pub fn preview(
    config: &Config,
    release: &Release,
    declared: &[Release],
    backends: &Backends<'_>,
    options: PlanOptions,
) -> Result<Plan, ForgeError> {
    let observed = observe(config, release, declared, backends)?;
    let options = PlanOptions {
        now: chrono::Utc::now(),
        ..options
    };
    Ok(plan(config, release, declared, &observed, options))
}

/// How many lost races in a row before giving up: something else is writing constantly.
const MAX_CONFLICTS: u32 = 5;

/// Runs the convergence loop for `release` until it converges, blocks, or a gate times out.
pub fn apply(
    config: &Config,
    release: &Release,
    declared: &[Release],
    backends: &Backends<'_>,
    options: &ApplyOptions,
    progress: &mut dyn Progress,
) -> Result<ApplyOutcome, ApplyError> {
    let mut run = Run {
        config,
        release,
        declared,
        backends,
        options,
        confirmed: false,
        conflicts: 0,
        poll: Poll::new(options),
    };
    loop {
        if progress.should_stop() {
            return Ok(ApplyOutcome::Stopped);
        }
        let observed = observe(config, release, declared, backends).map_err(ApplyError::Observe)?;
        let current = run.plan(&observed);
        progress.planned(&current);
        let (action, step) = match run.next(&current, progress) {
            ControlFlow::Break(outcome) => return Ok(outcome),
            ControlFlow::Continue(None) => continue,
            ControlFlow::Continue(Some(next)) => next,
        };
        if !run.confirmed {
            if !progress.confirm(&current) {
                return Ok(ApplyOutcome::Declined);
            }
            run.confirmed = true;
        }
        progress.acting(&step);
        if let Some(outcome) = run.act(action, &step, &current, &observed, progress)? {
            return Ok(outcome);
        }
    }
}

/// One `apply`: what it works on, and what it keeps between observations.
struct Run<'a> {
    config: &'a Config,
    release: &'a Release,
    declared: &'a [Release],
    backends: &'a Backends<'a>,
    options: &'a ApplyOptions,
    confirmed: bool,
    conflicts: u32,
    poll: Poll,
}

impl Run<'_> {
    fn plan(&self, observed: &crate::observation::Observation) -> Plan {
        let memory = &self.options.memory;
        let plan_options = memory.plan_options(&self.options.plan, self.release.version);
        let now = plan_options.now;
        let current = plan(
            self.config,
            self.release,
            self.declared,
            observed,
            plan_options,
        );
        memory.note(&current, now);
        current
    }

    /// What the plan calls for: an outcome (stop here), nothing yet (a gate was waited on:
    /// observe again), or an action to run.
    fn next(
        &mut self,
        current: &Plan,
        progress: &mut dyn Progress,
    ) -> ControlFlow<ApplyOutcome, Option<(Action, Step)>> {
        let plan = current.clone();
        match current.next() {
            Next::InSync => ControlFlow::Break(ApplyOutcome::Converged { plan }),
            Next::Blocked(step) => ControlFlow::Break(ApplyOutcome::Blocked {
                plan,
                step: step.clone(),
            }),
            Next::Wait(_) if let Some(hold) = current.held.clone() => {
                ControlFlow::Break(ApplyOutcome::Held { plan, hold })
            }
            Next::Wait(step) => {
                if self
                    .poll
                    .timed_out(gate_timeout(self.config, step, self.options))
                {
                    return ControlFlow::Break(ApplyOutcome::TimedOut {
                        plan,
                        step: step.clone(),
                    });
                }
                self.poll.wait(step, progress);
                ControlFlow::Continue(None)
            }
            Next::Act(action, step) => ControlFlow::Continue(Some((action, step.clone()))),
        }
    }

    /// Runs one action; `Some` when the run ends with it.
    fn act(
        &mut self,
        action: Action,
        step: &Step,
        current: &Plan,
        observed: &crate::observation::Observation,
        progress: &mut dyn Progress,
    ) -> Result<Option<ApplyOutcome>, ApplyError> {
        let options = self.options;
        let context = StepContext {
            config: self.config,
            release: self.release,
            observed,
            backends: self.backends,
            target: current.target.as_deref(),
            window_ignored: options.plan.ignore_window
                && options.plan.window.as_ref().is_some_and(|w| !w.open),
            memory: &options.memory,
        };
        match actions::execute(action, &context, progress) {
            Ok(StepResult::Ran { what, succeeded }) => {
                self.poll = Poll::new(options);
                if succeeded {
                    progress.acted(step, &what);
                } else {
                    // Recorded where the next observation finds it; the plan blocks on it.
                    progress.failed(step, &what);
                }
                Ok(progress
                    .after_side_effect(&what)
                    .is_break()
                    .then_some(ApplyOutcome::Interrupted { after: what }))
            }
            Ok(StepResult::Interrupted(what)) => {
                Ok(Some(ApplyOutcome::Interrupted { after: what }))
            }
            // Observing again at once could find no job yet and send the deploy twice.
            Ok(StepResult::Unsettled(what)) => {
                progress.failed(step, &what);
                Ok(Some(ApplyOutcome::Unsettled { what }))
            }
            Err(
                ForgeError::Conflict { .. }
                | ForgeError::AlreadyExists { .. }
                | ForgeError::Locked { .. }
                | ForgeError::Unclear(_),
            ) if self.conflicts < MAX_CONFLICTS => {
                // Lost a race: someone else wrote first, or is deploying now. Observe again; the
                // plan decides (and waits on a deploy in progress).
                self.conflicts += 1;
                Ok(None)
            }
            Err(error) => Err(ApplyError::Step {
                step: step.title(),
                error,
            }),
        }
    }
}

/// Waiting on a gate: since when, and how long the next pause is (doubling up to a limit).
struct Poll {
    since: Option<Instant>,
    pause: Duration,
    max: Duration,
}

impl Poll {
    fn new(options: &ApplyOptions) -> Self {
        Poll {
            since: None,
            pause: options.poll_start,
            max: options.poll_max,
        }
    }

    /// Whether the wait that starts (or goes on) now has lasted `timeout`.
    fn timed_out(&mut self, timeout: Duration) -> bool {
        self.since.get_or_insert_with(Instant::now).elapsed() >= timeout
    }

    fn wait(&mut self, step: &Step, progress: &mut dyn Progress) {
        progress.waiting(step, self.pause);
        std::thread::sleep(self.pause);
        self.pause = (self.pause * 2).min(self.max);
    }
}

/// How long a gate may be waited on: `[verify] timeout_seconds` for verification, the run's
/// gate timeout otherwise.
fn gate_timeout(config: &Config, step: &Step, options: &ApplyOptions) -> Duration {
    match (&step.kind, config.verify.as_ref().and_then(|v| v.timeout())) {
        (StepKind::Gate(Gate::Verify), Some(timeout)) => timeout,
        _ => options.gate_timeout,
    }
}

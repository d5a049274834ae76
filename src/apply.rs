//! Executes a plan one step at a time. Before every side effect it observes and plans again, so
//! each decision is made from the world as it is now, not as it was when the run started: that
//! is what makes a crash or a concurrent change harmless. A step that loses a race (a conflict,
//! an "already exists") is never forced or blindly repeated; the next observation decides.

use crate::config::{Config, render_template};
use crate::deploy::{Deployer, ReleaseContext, Verifier};
use crate::forge::{
    DeploymentRecord, DeploymentState, FileWrite, Forge, ForgeError, NewRelease, short,
};
use crate::observation::{Observation, observe};
use crate::pin::set_pins;
use crate::plan::{Next, Plan, PlanOptions, Step, StepKind, plan};
use crate::release::Release;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// Where the loop reads and writes.
pub struct Backends<'a> {
    pub forge: &'a dyn Forge,
    pub deployer: Option<&'a dyn Deployer>,
    pub verifier: Option<&'a dyn Verifier>,
}

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub plan: PlanOptions,
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
        reason: String,
    },
    /// `Progress::should_stop` asked to stop (shutdown), between steps.
    Stopped,
    /// A `Progress` hook stopped the run after a side effect.
    Interrupted {
        after: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("observing live state failed: {0}")]
    Observe(ForgeError),
    #[error("{step} failed: {message}")]
    Step { step: String, message: String },
}

/// How many lost races in a row before giving up: something else is writing constantly.
const MAX_CONFLICTS: u32 = 5;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Runs the convergence loop for `release` until it converges, blocks, or a gate times out.
pub fn apply(
    config: &Config,
    release: &Release,
    declared: &[Release],
    backends: &Backends<'_>,
    options: &ApplyOptions,
    progress: &mut dyn Progress,
) -> Result<ApplyOutcome, ApplyError> {
    let mut confirmed = false;
    let mut conflicts = 0;
    let mut waiting_since: Option<Instant> = None;
    let mut pause = options.poll_start;
    loop {
        if progress.should_stop() {
            return Ok(ApplyOutcome::Stopped);
        }
        let observed = observe(
            config,
            release,
            backends.forge,
            backends.deployer,
            backends.verifier,
        )
        .map_err(ApplyError::Observe)?;
        let current = plan(config, release, declared, &observed, options.plan.clone());
        progress.planned(&current);
        let step = match current.next() {
            Next::InSync => return Ok(ApplyOutcome::Converged { plan: current }),
            Next::Blocked(step) => {
                let step = step.clone();
                return Ok(ApplyOutcome::Blocked {
                    plan: current,
                    step,
                });
            }
            Next::Wait(_) if current.held.is_some() => {
                let reason = current.held.clone().unwrap_or_default();
                return Ok(ApplyOutcome::Held {
                    plan: current,
                    reason,
                });
            }
            Next::Wait(step) => {
                let started = *waiting_since.get_or_insert_with(Instant::now);
                if started.elapsed() >= gate_timeout(config, step, options) {
                    let step = step.clone();
                    return Ok(ApplyOutcome::TimedOut {
                        plan: current,
                        step,
                    });
                }
                progress.waiting(step, pause);
                std::thread::sleep(pause);
                pause = (pause * 2).min(options.poll_max);
                continue;
            }
            Next::Act(step) => step.clone(),
        };
        if !confirmed {
            if !progress.confirm(&current) {
                return Ok(ApplyOutcome::Declined);
            }
            confirmed = true;
        }
        progress.acting(&step);
        let result = execute(config, release, &observed, &step, backends, progress);
        match result {
            Ok(StepResult::Ran { what, succeeded }) => {
                waiting_since = None;
                pause = options.poll_start;
                if succeeded {
                    progress.acted(&step, &what);
                } else {
                    // Recorded where the next observation finds it; the plan blocks on it.
                    progress.failed(&step, &what);
                }
                if progress.after_side_effect(&what).is_break() {
                    return Ok(ApplyOutcome::Interrupted { after: what });
                }
            }
            Ok(StepResult::Interrupted(what)) => {
                return Ok(ApplyOutcome::Interrupted { after: what });
            }
            Ok(StepResult::NotYet(why)) => {
                let started = *waiting_since.get_or_insert_with(Instant::now);
                if started.elapsed() >= gate_timeout(config, &step, options) {
                    return Ok(ApplyOutcome::TimedOut {
                        plan: current,
                        step,
                    });
                }
                let waiting = Step {
                    reason: why,
                    ..step
                };
                progress.waiting(&waiting, pause);
                std::thread::sleep(pause);
                pause = (pause * 2).min(options.poll_max);
            }
            Err(
                ForgeError::Conflict { .. }
                | ForgeError::AlreadyExists { .. }
                | ForgeError::Unclear(_),
            ) if conflicts < MAX_CONFLICTS => {
                // Lost a race: someone else wrote first. Observe again; the plan decides.
                conflicts += 1;
            }
            Err(e) => {
                return Err(ApplyError::Step {
                    step: step.title(),
                    message: e.to_string(),
                });
            }
        }
    }
}

impl StepResult {
    fn done(what: String) -> Self {
        StepResult::Ran {
            what,
            succeeded: true,
        }
    }
}

/// How long a gate may be waited on: `[verify] timeout_seconds` for verification, the run's
/// gate timeout otherwise.
fn gate_timeout(config: &Config, step: &Step, options: &ApplyOptions) -> Duration {
    match (
        &step.kind,
        config.verify.as_ref().and_then(|v| v.timeout_seconds),
    ) {
        (StepKind::Verify, Some(seconds)) => Duration::from_secs(seconds),
        _ => options.gate_timeout,
    }
}

enum StepResult {
    /// The step ran; a failure (a deploy that failed) is recorded like a success.
    Ran {
        what: String,
        succeeded: bool,
    },
    /// A gate checked from inside a step is not open yet; wait like any other gate.
    NotYet(String),
    Interrupted(String),
}

fn context(release: &Release, commit: &str) -> ReleaseContext {
    ReleaseContext {
        version: release.version.to_string(),
        components: release.components.clone(),
        commit: commit.to_string(),
    }
}

fn stack_repo(config: &Config) -> Result<crate::config::RepoLocation, ForgeError> {
    crate::config::RepoLocation::parse(&config.stack.repo).map_err(ForgeError::Other)
}

fn execute(
    config: &Config,
    release: &Release,
    observed: &Observation,
    step: &Step,
    backends: &Backends<'_>,
    progress: &mut dyn Progress,
) -> Result<StepResult, ForgeError> {
    let forge = backends.forge;
    let repo = stack_repo(config)?;
    let version = release.version.to_string();
    match &step.kind {
        StepKind::Pin => {
            let head = &observed.stack.branch_head;
            let workflow = &config.stack.workflow;
            let file =
                forge
                    .read_file(&repo, head, workflow)?
                    .ok_or_else(|| ForgeError::NotFound {
                        what: format!("{workflow} on {}", config.stack.branch),
                    })?;
            let values: Vec<(&str, &str)> = config
                .components
                .iter()
                .filter_map(|(name, c)| {
                    release
                        .components
                        .get(name)
                        .map(|v| (c.pin.as_str(), v.as_str()))
                })
                .collect();
            let text = set_pins(&file.text, &values)
                .map_err(|e| ForgeError::Other(format!("{workflow}: {e}")))?;
            let message =
                render_template(&config.stack.commit_message, &version, &release.components);
            let commit = forge.write_file(
                &repo,
                &FileWrite {
                    branch: &config.stack.branch,
                    path: workflow,
                    content: &text,
                    expected_blob: &file.blob,
                    message: &message,
                },
            )?;
            Ok(StepResult::done(format!(
                "pinned in {} \"{message}\"",
                short(&commit)
            )))
        }
        StepKind::Release => {
            // A tag that exists already (its release object missing) fixes the commit.
            let commit = observed
                .stack
                .tag
                .as_ref()
                .map(|t| t.commit.as_str())
                .or(observed.stack.pin_commit.as_deref())
                .ok_or_else(|| ForgeError::Other("the pin commit is not known yet".into()))?;
            let body = release_body(release);
            forge.create_release(
                &repo,
                &NewRelease {
                    tag: &version,
                    commit,
                    title: &format!("Release {version}"),
                    body: &body,
                },
            )?;
            let mut did = format!("tagged {version} at {}", short(commit));
            if let Some(ticket) = &release.ticket {
                // Progress on the ticket is a courtesy here; the report step insists on it.
                let body = ticket_body(
                    release,
                    &format!("cut: tag {version} at {}; deploying", short(commit)),
                );
                let label = config.ticket.as_ref().and_then(|t| t.label.as_deref());
                match forge.report_ticket(ticket, &ticket_marker(release), &body, label) {
                    Ok(()) => did.push_str(&format!("; {ticket} updated")),
                    Err(e) => did.push_str(&format!("; {ticket} not updated: {e}")),
                }
            }
            Ok(StepResult::done(did))
        }
        StepKind::Deploy => {
            let commit = observed
                .stack
                .tag
                .as_ref()
                .map(|t| t.commit.clone())
                .unwrap_or_default();
            let Some(deployer) = backends.deployer else {
                return Err(ForgeError::Other(
                    "no deployer is configured for this backend".into(),
                ));
            };
            let record = |state, detail: String| DeploymentRecord {
                version: version.clone(),
                commit: commit.clone(),
                state,
                at: now(),
                detail,
            };
            // Record the attempt first: if the process dies during the deploy, the next run sees an
            // attempt without an outcome and asks production instead of deploying again.
            forge.record_deployment(&repo, &record(DeploymentState::Started, String::new()))?;
            if progress
                .after_side_effect("recorded deploy start")
                .is_break()
            {
                return Ok(StepResult::Interrupted("recorded deploy start".into()));
            }
            let outcome = deployer.deploy(&context(release, &commit));
            if progress.after_side_effect("ran deploy").is_break() {
                return Ok(StepResult::Interrupted("ran deploy".into()));
            }
            let (state, detail) = match &outcome {
                Ok(o) if o.succeeded => (DeploymentState::Succeeded, o.detail.clone()),
                Ok(o) => (DeploymentState::Failed, o.detail.clone()),
                Err(e) => (DeploymentState::Failed, e.clone()),
            };
            forge.record_deployment(&repo, &record(state, detail.clone()))?;
            Ok(match state {
                DeploymentState::Succeeded => StepResult::done(format!("deployed {version}")),
                _ => StepResult::Ran {
                    succeeded: false,
                    what: format!(
                        "deploy of {version} failed: {}",
                        detail.lines().last().unwrap_or_default()
                    ),
                },
            })
        }
        StepKind::Verify => {
            let Some(verifier) = backends.verifier else {
                return Err(ForgeError::Other(
                    "no verifier is configured for this backend".into(),
                ));
            };
            let commit = observed
                .stack
                .tag
                .as_ref()
                .map(|t| t.commit.clone())
                .unwrap_or_default();
            // One check: waiting for production is a gate, polled by the loop like CI.
            match verifier.verify(&context(release, &commit)) {
                Ok(o) if o.live => Ok(StepResult::done(format!("production reports {version}"))),
                Ok(o) => Ok(StepResult::NotYet(o.detail)),
                Err(e) => Ok(StepResult::NotYet(e)),
            }
        }
        StepKind::Report => {
            let commit = observed
                .stack
                .tag
                .as_ref()
                .map(|t| t.commit.clone())
                .unwrap_or_default();
            let mut did = format!("recorded {version} as live");
            if let Some(ticket) = &release.ticket {
                let body = ticket_body(
                    release,
                    &format!(
                        "live: production reports {version} (tag at {})",
                        short(&commit)
                    ),
                );
                let label = config.ticket.as_ref().and_then(|t| t.label.as_deref());
                match forge.report_ticket(ticket, &ticket_marker(release), &body, label) {
                    Ok(()) => did.push_str(&format!("; {ticket} updated")),
                    // Without GitHub there is nowhere to report; the plan said so already.
                    Err(ForgeError::Unsupported(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            forge.record_deployment(
                &repo,
                &DeploymentRecord {
                    version: version.clone(),
                    commit,
                    state: DeploymentState::Verified,
                    at: now(),
                    detail: String::new(),
                },
            )?;
            Ok(StepResult::done(did))
        }
        // Read-only steps are never "to do" when first in line; acting on one would loop.
        StepKind::Preflight { .. } | StepKind::Order | StepKind::Build => Err(ForgeError::Other(
            format!("{} has nothing to execute", step.title()),
        )),
    }
}

/// The hidden marker that finds stackrel's comment on a ticket, so it is edited, not reposted.
fn ticket_marker(release: &Release) -> String {
    format!("<!-- stackrel:release:{} -->", release.version)
}

/// The ticket comment: where the release stands, and what it contains.
fn ticket_body(release: &Release, state: &str) -> String {
    format!(
        "**stackrel: release {}** — {state}\n\n{}",
        release.version,
        release_body(release)
    )
}

/// The release notes: what it pins, and the author's notes.
pub fn release_body(release: &Release) -> String {
    let mut body = String::new();
    for (name, version) in &release.components {
        body.push_str(&format!("- {name}: {version}\n"));
    }
    if let Some(notes) = &release.notes {
        body.push('\n');
        body.push_str(notes);
        body.push('\n');
    }
    body
}

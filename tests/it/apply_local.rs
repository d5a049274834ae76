//! Specifies the convergence loop end to end on the embedded local backend: `apply` over the demo
//! sandbox's git repositories, with the command deployer and verifier. A release converges with
//! exactly one pin commit that changes only the pin values, one tag at that commit and one
//! deploy; a converged stack is left alone; a crash after any side effect resumes without
//! duplicates; bad input at every step stops with a clear reason and nothing written; gates wait
//! with a timeout and never let a deploy through early; and a push or a tag that races stackrel's
//! own writes is neither lost, overwritten, nor allowed to move the tag off the pin commit.

use git2::{Oid, Repository, Signature};
use stackrel::apply::{ApplyError, ApplyOptions, ApplyOutcome, Backends, Progress, Quiet, apply};
use stackrel::config::{Config, RepoLocation};
use stackrel::demo::{DEMO_WORKFLOW, Sandbox, release_text};
use stackrel::deploy::command::{CommandDeployer, CommandRunner, CommandVerifier};
use stackrel::deploy::{ReleaseContext, Verifier, VerifyError, VerifyOutcome};
use stackrel::forge::local::LocalForge;
use stackrel::forge::{
    CiStatus, CommitId, CommitRange, DeploymentRecord, DeploymentState, FileAtCommit, FileWrite,
    Forge, ForgeError, ForgeResult, NewRelease, ReleaseInfo, TagRef,
};
use stackrel::plan::{PlanOptions, Step};
use stackrel::release::Release;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;
use testkit::sandbox::{
    all_refs, assert_converged, changed_paths, commit_component, commits_since,
    deployment_records as records, file_at, load, master, pinned, push_to_stack, remove_from_stack,
    sandbox, tags,
};

const WORKFLOW: &str = ".github/workflows/build-main.yaml";

/// A fresh sandbox in its own temporary directory, and where its stack branch started.
struct World {
    _dir: TempDir,
    sandbox: Sandbox,
    start: Oid,
}

fn world() -> World {
    let (dir, sandbox) = sandbox();
    let start = master(&sandbox);
    World {
        _dir: dir,
        sandbox,
        start,
    }
}

fn options(retry_deploy: bool) -> ApplyOptions {
    ApplyOptions {
        plan: PlanOptions {
            retry_deploy,
            ..PlanOptions::default()
        },
        gate_timeout: Duration::from_secs(2),
        poll_start: Duration::from_millis(2),
        poll_max: Duration::from_millis(10),
        ..ApplyOptions::default()
    }
}

fn runner(sandbox: &Sandbox, script: &str) -> CommandRunner {
    CommandRunner {
        argv: [script, "{version}", "{backend}", "{frontend}"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        dir: sandbox.desired.clone(),
        timeout: Duration::from_secs(10),
    }
}

/// How quickly production shows a deploy.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Production {
    /// Live as soon as the deploy command returns.
    Prompt,
    /// The first check that would see the release live does not yet (a slow rollout), so the
    /// verify step itself has to wait for it.
    Lagging,
}

/// The demo's check-live command, optionally lagging one check behind.
struct LiveCheck {
    inner: CommandVerifier,
    lag: Cell<u32>,
}

impl Verifier for LiveCheck {
    fn verify(&self, release: &ReleaseContext) -> Result<VerifyOutcome, VerifyError> {
        let outcome = self.inner.verify(release)?;
        if outcome.live && self.lag.get() > 0 {
            self.lag.set(self.lag.get() - 1);
            return Ok(VerifyOutcome {
                live: false,
                detail: "rolling out".into(),
                reported: None,
            });
        }
        Ok(outcome)
    }
}

/// One `stackrel apply` process: new backends each time, as after a restart.
fn run_with(
    sandbox: &Sandbox,
    config: &Config,
    releases: &[Release],
    forge: &dyn Forge,
    production: Production,
    options: ApplyOptions,
    progress: &mut dyn Progress,
) -> Result<ApplyOutcome, ApplyError> {
    let deployer = CommandDeployer(runner(sandbox, "./deploy.sh"));
    let verifier = LiveCheck {
        inner: CommandVerifier(runner(sandbox, "./check-live.sh")),
        lag: Cell::new(u32::from(production == Production::Lagging)),
    };
    let backends = Backends {
        forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };
    let release = releases.last().expect("a release is declared");
    apply(config, release, releases, &backends, &options, progress)
}

fn run_in(
    sandbox: &Sandbox,
    production: Production,
    options: ApplyOptions,
    progress: &mut dyn Progress,
) -> Result<ApplyOutcome, ApplyError> {
    let (config, releases) = load(sandbox);
    let forge = LocalForge::new(&sandbox.desired);
    run_with(
        sandbox, &config, &releases, &forge, production, options, progress,
    )
}

fn run(
    sandbox: &Sandbox,
    options: ApplyOptions,
    progress: &mut dyn Progress,
) -> Result<ApplyOutcome, ApplyError> {
    run_in(sandbox, Production::Prompt, options, progress)
}

/// Records every side effect; stops the run after the `stop_after`-th (a crash there).
#[derive(Default)]
struct Effects {
    stop_after: Option<usize>,
    seen: Vec<String>,
}

impl Effects {
    fn crash_after(n: usize) -> Self {
        Effects {
            stop_after: Some(n),
            seen: Vec::new(),
        }
    }
    fn count(&self, prefix: &str) -> usize {
        self.seen.iter().filter(|e| e.starts_with(prefix)).count()
    }
}

impl Progress for Effects {
    fn after_side_effect(&mut self, what: &str) -> ControlFlow<()> {
        self.seen.push(what.to_string());
        if Some(self.seen.len()) == self.stop_after {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

fn last_state(sandbox: &Sandbox, version: &str) -> Option<DeploymentState> {
    records(sandbox)
        .iter()
        .rev()
        .find(|r| r.version == version)
        .map(|r| r.state)
}

/// The converged end state of release 2026.08.2 from a sandbox that started at `start`: one pin
/// commit, one tag at it, one deploy, a verified record. Returns what is wrong, if anything.
fn converged_once(sandbox: &Sandbox, start: Oid) -> Result<(), String> {
    let new = commits_since(sandbox, start);
    if new.len() != 1 {
        return Err(format!(
            "expected exactly one new commit on master, found {}",
            new.len()
        ));
    }
    let pin = new[0];
    let tags = tags(sandbox);
    let at_pin: Vec<&String> = tags
        .iter()
        .filter(|(_, c)| **c == pin)
        .map(|(n, _)| n)
        .collect();
    if at_pin != ["2026.08.2"] || tags.len() != 1 {
        return Err(format!(
            "expected only tag 2026.08.2, at the pin commit {pin}; tags are {tags:?}"
        ));
    }
    if sandbox.deploy_count() != 1 {
        return Err(format!(
            "expected one deploy, found {}",
            sandbox.deploy_count()
        ));
    }
    match last_state(sandbox, "2026.08.2") {
        Some(DeploymentState::Verified) => {}
        other => {
            return Err(format!(
                "expected the last deployment record to be verified, found {other:?}"
            ));
        }
    }
    if file_at(sandbox, pin, WORKFLOW).as_deref() != Some(pinned(DEMO_WORKFLOW).as_str()) {
        return Err(
            "the pin commit's workflow is not the old one with only the pins changed".into(),
        );
    }
    Ok(())
}

pub(crate) fn blocked_step(outcome: ApplyOutcome) -> Step {
    match outcome {
        ApplyOutcome::Blocked { step, .. } => step,
        other => panic!("expected a blocked release, got {other:#?}"),
    }
}

// --- A release converges --------------------------------------------------------------------

#[test]
fn a_release_converges_with_one_pin_commit_one_tag_and_one_deploy() {
    let w = world();
    let mut effects = Effects::default();
    let outcome = run(&w.sandbox, options(false), &mut effects).unwrap();
    match &outcome {
        ApplyOutcome::Converged { plan } => {
            assert_eq!(plan.version.to_string(), "2026.08.2");
            assert!(plan.in_sync());
        }
        other => panic!("expected convergence, got {other:#?}"),
    }
    converged_once(&w.sandbox, w.start).unwrap();
    let pin = master(&w.sandbox);
    assert_eq!(
        changed_paths(&w.sandbox, pin),
        [WORKFLOW],
        "the pin commit changes only the workflow file"
    );
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    assert_eq!(
        repo.find_commit(pin).unwrap().message().ok(),
        Some("build: Use of b/e 2026.08.1 f/e 2026.08.2")
    );
    assert_eq!(tags(&w.sandbox)["2026.08.2"], pin);
    let states: Vec<DeploymentState> = records(&w.sandbox).iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        [
            DeploymentState::Started,
            DeploymentState::Succeeded,
            DeploymentState::Verified
        ]
    );
    assert!(
        records(&w.sandbox)
            .iter()
            .all(|r| r.commit == pin.to_string())
    );
    assert_eq!(
        std::fs::read_to_string(w.sandbox.root.join("production.txt"))
            .unwrap()
            .trim(),
        "stack=2026.08.2 backend=2026.08.1 frontend=2026.08.2"
    );
}

#[test]
fn the_pin_commit_changes_only_the_bytes_of_the_two_pin_values() {
    let w = world();
    run(&w.sandbox, options(false), &mut Quiet).unwrap();
    let before = file_at(&w.sandbox, w.start, WORKFLOW).unwrap();
    let after = file_at(&w.sandbox, master(&w.sandbox), WORKFLOW).unwrap();
    assert_eq!(before, DEMO_WORKFLOW);
    assert_eq!(after, pinned(DEMO_WORKFLOW));
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        [
            ("  BE_IMAGE_TAG: 2026.07.1", "  BE_IMAGE_TAG: 2026.08.1"),
            ("  FE_IMAGE_TAG: 2026.08.1", "  FE_IMAGE_TAG: 2026.08.2")
        ]
    );
}

#[test]
fn a_second_apply_on_a_converged_stack_writes_nothing() {
    let w = world();
    assert_converged(&run(&w.sandbox, options(false), &mut Quiet).unwrap());
    let refs_before = all_refs(&w.sandbox);
    let records_before = records(&w.sandbox);
    let mut effects = Effects::default();
    let outcome = run(&w.sandbox, options(false), &mut effects).unwrap();
    assert_converged(&outcome);
    assert!(
        effects.seen.is_empty(),
        "no side effect on a converged stack, saw {:?}",
        effects.seen
    );
    assert_eq!(all_refs(&w.sandbox), refs_before, "no ref moved");
    assert_eq!(
        records(&w.sandbox),
        records_before,
        "no deployment record added"
    );
    assert_eq!(w.sandbox.deploy_count(), 1);
}

// --- Crash safety ---------------------------------------------------------------------------

/// The side effects of a whole run, in order, from a run that is never interrupted.
fn side_effects_of_a_full_run(production: Production) -> Vec<String> {
    let w = world();
    let mut effects = Effects::default();
    assert_converged(&run_in(&w.sandbox, production, options(false), &mut effects).unwrap());
    effects.seen
}

fn kinds(effects: &[String]) -> Vec<&str> {
    effects
        .iter()
        .map(|e| e.split(' ').next().unwrap_or_default())
        .collect()
}

#[test]
fn a_full_run_has_the_documented_side_effects_in_order() {
    let seen = side_effects_of_a_full_run(Production::Prompt);
    // Verification is read-only and part of every observation: when production already shows
    // the release after the deploy, the verify step is done without acting.
    assert_eq!(
        kinds(&seen),
        [
            "pinned", "tagged", "recorded", "ran", "deployed", "recorded"
        ],
        "{seen:?}"
    );
    assert_eq!(seen[2], "recorded deploy start");
    assert_eq!(seen[3], "ran deploy");
    assert_eq!(seen[5], "recorded 2026.08.2 as live");
}

#[test]
fn a_slow_rollout_makes_verify_wait_for_production_before_reporting() {
    let seen = side_effects_of_a_full_run(Production::Lagging);
    assert_eq!(
        kinds(&seen),
        [
            "pinned", "tagged", "recorded", "ran", "deployed", "recorded"
        ],
        "{seen:?}"
    );
    // Waiting for production is a gate, not a side effect: the report comes only once
    // production shows the release.
    assert_eq!(seen[5], "recorded 2026.08.2 as live");
}

/// Resumes after a crash as a person would: `apply` again, and `apply --retry-deploy` only if
/// the plan asks for it (a deploy attempt with no outcome that production does not show).
fn resume(sandbox: &Sandbox, effects: &mut Effects) -> Result<(), String> {
    let outcome =
        run(sandbox, options(false), effects).map_err(|e| format!("resuming failed: {e}"))?;
    let outcome = match outcome {
        ApplyOutcome::Converged { .. } => return Ok(()),
        ApplyOutcome::Blocked { step, .. }
            if step.title() == "deploy" && step.reason.to_string().contains("--retry-deploy") =>
        {
            if sandbox.deploy_count() != 0 {
                return Err(format!(
                    "blocked for a retry although the deploy ran: {}",
                    step.reason
                ));
            }
            run(sandbox, options(true), effects)
                .map_err(|e| format!("retrying the deploy failed: {e}"))?
        }
        other => return Err(format!("resuming did not converge: {other:?}")),
    };
    match outcome {
        ApplyOutcome::Converged { .. } => Ok(()),
        other => Err(format!("retrying the deploy did not converge: {other:?}")),
    }
}

/// Crashes a fresh sandbox's run after each side effect in turn, resumes, and checks the end
/// state. Returns K, the number of crash points; panics listing every crash point that failed.
fn crash_matrix(production: Production) -> usize {
    let full = side_effects_of_a_full_run(production);
    let k = full.len();
    let mut failures = Vec::new();
    for n in 1..=k {
        let w = world();
        let point = full[n - 1]
            .split(" in ")
            .next()
            .unwrap_or_default()
            .to_string();
        let mut first = Effects::crash_after(n);
        match run_in(&w.sandbox, production, options(false), &mut first) {
            Ok(ApplyOutcome::Interrupted { .. }) => {}
            other => {
                failures.push(format!(
                    "crash point {n} (after \"{point}\"): the run was not interrupted: {other:?}"
                ));
                continue;
            }
        }
        let mut second = Effects::default();
        let result = resume(&w.sandbox, &mut second)
            .and_then(|()| converged_once(&w.sandbox, w.start))
            .and_then(|()| {
                // No write may happen twice across the crash.
                let not_once: Vec<&str> = ["pinned", "tagged", "ran deploy"]
                    .into_iter()
                    .filter(|p| first.count(p) + second.count(p) != 1)
                    .collect();
                if not_once.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "not exactly once: {not_once:?}; before the crash {:?}, after {:?}",
                        first.seen, second.seen
                    ))
                }
            });
        if let Err(e) = result {
            failures.push(format!("crash point {n} (after \"{point}\"): {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{production:?} production, K = {k} crash points; failed:\n{}",
        failures.join("\n")
    );
    k
}

#[test]
fn a_crash_after_any_side_effect_resumes_to_one_pin_commit_one_tag_and_one_deploy() {
    let k = crash_matrix(Production::Prompt);
    assert_eq!(
        k, 6,
        "pin, tag, deploy start, deploy, deploy outcome, report"
    );
}

#[test]
fn a_crash_after_any_side_effect_during_a_slow_rollout_resumes_to_one_pin_commit_one_tag_and_one_deploy()
 {
    let k = crash_matrix(Production::Lagging);
    assert_eq!(
        k, 6,
        "pin, tag, deploy start, deploy, deploy outcome, report (verification only waits)"
    );
}

#[test]
fn a_crash_between_recording_and_running_a_deploy_blocks_until_a_retry_is_asked_for() {
    let w = world();
    let full = side_effects_of_a_full_run(Production::Prompt);
    let n = full
        .iter()
        .position(|e| e == "recorded deploy start")
        .unwrap()
        + 1;
    let outcome = run(&w.sandbox, options(false), &mut Effects::crash_after(n)).unwrap();
    assert_eq!(
        outcome,
        ApplyOutcome::Interrupted {
            after: "recorded deploy start".into()
        }
    );
    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    assert_eq!(step.title(), "deploy");
    assert_eq!(step.code(), "deploy-interrupted", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("no recorded outcome")
            && step.reason.to_string().contains("--retry-deploy"),
        "{}",
        step.reason
    );
    assert_eq!(w.sandbox.deploy_count(), 0);
    assert_converged(&run(&w.sandbox, options(true), &mut Quiet).unwrap());
    converged_once(&w.sandbox, w.start).unwrap();
}

#[test]
fn a_crash_after_the_deploy_ran_is_resolved_by_verification_without_deploying_again() {
    let w = world();
    let full = side_effects_of_a_full_run(Production::Prompt);
    let n = full.iter().position(|e| e == "ran deploy").unwrap() + 1;
    let outcome = run(&w.sandbox, options(false), &mut Effects::crash_after(n)).unwrap();
    assert_eq!(
        outcome,
        ApplyOutcome::Interrupted {
            after: "ran deploy".into()
        }
    );
    assert_eq!(
        last_state(&w.sandbox, "2026.08.2"),
        Some(DeploymentState::Started)
    );
    let mut effects = Effects::default();
    assert_converged(&run(&w.sandbox, options(false), &mut effects).unwrap());
    assert_eq!(effects.count("ran deploy"), 0, "{:?}", effects.seen);
    converged_once(&w.sandbox, w.start).unwrap();
}

// --- Bad input at every step ----------------------------------------------------------------

#[test]
fn a_workflow_with_a_pin_set_twice_blocks_the_pin_and_writes_nothing() {
    let w = world();
    let broken = DEMO_WORKFLOW.replace(
        "  BE_NAMESPACE: xchem\n",
        "  BE_NAMESPACE: xchem\n  BE_IMAGE_TAG: 2026.06.1\n",
    );
    push_to_stack(
        &w.sandbox.stack,
        &[(WORKFLOW, &broken)],
        "Set BE_IMAGE_TAG twice",
    );
    let before = all_refs(&w.sandbox);
    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    assert_eq!(step.title(), "pin");
    assert_eq!(step.code(), "pins-unreadable", "{}", step.reason);
    assert!(
        step.reason
            .to_string()
            .contains("BE_IMAGE_TAG appears twice"),
        "{}",
        step.reason
    );
    assert_eq!(all_refs(&w.sandbox), before);
    assert_eq!(w.sandbox.deploy_count(), 0);
}

#[test]
fn a_workflow_without_a_top_level_env_blocks_the_pin_and_writes_nothing() {
    let w = world();
    let broken = DEMO_WORKFLOW.replace("\nenv:\n", "\nvariables:\n");
    assert_ne!(broken, DEMO_WORKFLOW);
    push_to_stack(&w.sandbox.stack, &[(WORKFLOW, &broken)], "Rename env");
    let before = all_refs(&w.sandbox);
    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    assert_eq!(step.title(), "pin");
    assert_eq!(step.code(), "pins-unreadable", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("no top-level `env:`"),
        "{}",
        step.reason
    );
    assert_eq!(all_refs(&w.sandbox), before);
}

#[test]
fn a_stack_without_the_workflow_file_blocks_the_pin_and_writes_nothing() {
    let w = world();
    remove_from_stack(&w.sandbox.stack, WORKFLOW, "Remove the workflow");
    let before = all_refs(&w.sandbox);
    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    assert_eq!(step.title(), "pin");
    assert_eq!(step.code(), "pins-unreadable", "{}", step.reason);
    assert!(
        step.reason.to_string().contains(WORKFLOW)
            && step.reason.to_string().contains("does not exist"),
        "{}",
        step.reason
    );
    assert_eq!(all_refs(&w.sandbox), before);
}

#[test]
fn a_component_repository_path_that_does_not_exist_is_an_error_naming_the_path() {
    let w = world();
    let (mut config, releases) = load(&w.sandbox);
    config.components.get_mut("backend").unwrap().repo =
        RepoLocation::Local("../no-such-backend.git".into());
    let before = all_refs(&w.sandbox);
    let forge = LocalForge::new(&w.sandbox.desired);
    let err = run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        options(false),
        &mut Quiet,
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("no-such-backend.git"), "{message}");
    assert_eq!(all_refs(&w.sandbox), before);
    assert_eq!(w.sandbox.deploy_count(), 0);
}

#[test]
fn a_stack_repository_path_that_does_not_exist_is_an_error_naming_the_path() {
    let w = world();
    let (mut config, releases) = load(&w.sandbox);
    config.stack.repo = RepoLocation::Local("../no-such-stack.git".into());
    let before = all_refs(&w.sandbox);
    let forge = LocalForge::new(&w.sandbox.desired);
    let err = run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        options(false),
        &mut Quiet,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no-such-stack.git"), "{err}");
    assert_eq!(all_refs(&w.sandbox), before);
}

#[test]
fn a_stack_tag_already_at_a_wrong_commit_blocks_and_writes_nothing() {
    let w = world();
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    let old = repo.find_commit(w.start).unwrap();
    repo.tag_lightweight("2026.08.2", old.as_object(), false)
        .unwrap();
    let before = all_refs(&w.sandbox);
    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    // Whichever step apply stops at, its own reason says what is wrong and how to fix it.
    assert_eq!(step.code(), "tag-conflict", "{}", step.reason);
    for needle in [
        "2026.08.2 already exists",
        &w.start.to_string()[..7],
        "backend=2026.07.1",
        "delete or rename",
    ] {
        assert!(
            step.reason.to_string().contains(needle),
            "`{}` should mention `{needle}`",
            step.reason
        );
    }
    assert_eq!(all_refs(&w.sandbox), before);
    assert_eq!(w.sandbox.deploy_count(), 0);
}

#[test]
fn a_component_tag_that_is_not_on_production_blocks_and_writes_nothing() {
    let w = world();
    assert_converged(&run(&w.sandbox, options(false), &mut Quiet).unwrap());
    w.sandbox
        .commit_desired(
            &[(
                "releases/2026.08.3.toml",
                &release_text("2026.08.9", "2026.08.2", "Backend from staging"),
            )],
            "Release 2026.08.3",
        )
        .unwrap();
    let before = all_refs(&w.sandbox);
    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    assert_eq!(step.title(), "preflight backend");
    assert_eq!(step.code(), "tag-not-on-branch", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("2026.08.9")
            && step.reason.to_string().contains("not on branch production"),
        "{}",
        step.reason
    );
    assert_eq!(all_refs(&w.sandbox), before);
    assert_eq!(w.sandbox.deploy_count(), 1);
}

#[test]
fn a_component_tag_that_does_not_exist_blocks_and_writes_nothing() {
    let w = world();
    w.sandbox
        .commit_desired(
            &[(
                "releases/2026.08.3.toml",
                &release_text("2026.08.7", "2026.08.2", "Typo"),
            )],
            "Release 2026.08.3",
        )
        .unwrap();
    let before = all_refs(&w.sandbox);
    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    assert_eq!(step.title(), "preflight backend");
    assert_eq!(step.code(), "tag-missing", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("2026.08.7 does not exist"),
        "{}",
        step.reason
    );
    assert_eq!(all_refs(&w.sandbox), before);
}

#[test]
fn a_failing_deploy_is_recorded_blocks_the_next_apply_and_is_retried_once_when_asked() {
    let w = world();
    let script = w.sandbox.desired.join("deploy.sh");
    let good = std::fs::read_to_string(&script).unwrap();
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'cannot reach production' >&2\nexit 1\n",
    )
    .unwrap();

    let step = blocked_step(run(&w.sandbox, options(false), &mut Quiet).unwrap());
    assert_eq!(step.title(), "deploy");
    assert_eq!(step.code(), "deploy-failed", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("failed")
            && step.reason.to_string().contains("exited with status 1"),
        "{}",
        step.reason
    );
    assert!(
        step.reason.to_string().contains("--retry-deploy"),
        "{}",
        step.reason
    );
    assert_eq!(
        last_state(&w.sandbox, "2026.08.2"),
        Some(DeploymentState::Failed)
    );
    assert!(
        records(&w.sandbox)
            .last()
            .unwrap()
            .detail
            .contains("cannot reach production")
    );

    // The next apply does not deploy again on its own.
    let before = all_refs(&w.sandbox);
    let mut effects = Effects::default();
    let step = blocked_step(run(&w.sandbox, options(false), &mut effects).unwrap());
    assert_eq!(step.title(), "deploy");
    assert!(effects.seen.is_empty(), "{:?}", effects.seen);
    assert_eq!(all_refs(&w.sandbox), before);

    // Fixed, and asked to retry: exactly one more deploy.
    std::fs::write(&script, good).unwrap();
    let mut effects = Effects::default();
    assert_converged(&run(&w.sandbox, options(true), &mut effects).unwrap());
    assert_eq!(effects.count("ran deploy"), 1, "{:?}", effects.seen);
    converged_once(&w.sandbox, w.start).unwrap();
    let states: Vec<DeploymentState> = records(&w.sandbox).iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        [
            DeploymentState::Started,
            DeploymentState::Failed,
            DeploymentState::Started,
            DeploymentState::Succeeded,
            DeploymentState::Verified
        ]
    );
}

// --- Races ----------------------------------------------------------------------------------

/// When the racing push lands, relative to stackrel's own pin write.
#[derive(Clone, Copy, PartialEq)]
enum Race {
    /// An unrelated file is pushed between stackrel's observation and its write.
    UnrelatedBeforeWrite,
    /// The workflow file itself is edited (a comment) between observation and write.
    WorkflowBeforeWrite,
    /// An unrelated file is pushed right after the pin commit, before the release is cut.
    UnrelatedAfterWrite,
    /// Another writer cuts the release at the pin commit just before stackrel does.
    SameTagBeforeRelease,
    /// Another writer creates the release tag at the commit before the pin, just before stackrel.
    WrongTagBeforeRelease,
}

/// A forge whose stack branch gets a concurrent push around the first pin write.
struct Racing {
    inner: LocalForge,
    stack: PathBuf,
    race: Race,
    fired: Cell<bool>,
    pushed: RefCell<Option<Oid>>,
    conflicts: Cell<u32>,
}

impl Racing {
    fn new(sandbox: &Sandbox, race: Race) -> Self {
        Racing {
            inner: LocalForge::new(&sandbox.desired),
            stack: sandbox.stack.clone(),
            race,
            fired: Cell::new(false),
            pushed: RefCell::new(None),
            conflicts: Cell::new(0),
        }
    }

    fn push(&self) {
        let commit = match self.race {
            Race::WorkflowBeforeWrite => {
                let text = format!("# Reviewed by the release team.\n{DEMO_WORKFLOW}");
                push_to_stack(&self.stack, &[(WORKFLOW, &text)], "Comment on the workflow")
            }
            _ => push_to_stack(
                &self.stack,
                &[("README.md", "The stack.\n")],
                "Add a README",
            ),
        };
        *self.pushed.borrow_mut() = Some(commit);
    }
}

impl Forge for Racing {
    fn resolve_tag(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<CommitId>> {
        self.inner.resolve_tag(repo, tag)
    }
    fn branch_head(&self, repo: &RepoLocation, branch: &str) -> ForgeResult<CommitId> {
        self.inner.branch_head(repo, branch)
    }
    fn is_reachable(&self, repo: &RepoLocation, commit: &str, branch: &str) -> ForgeResult<bool> {
        self.inner.is_reachable(repo, commit, branch)
    }
    fn ci_status(
        &self,
        repo: &RepoLocation,
        commit: &str,
        workflow: &str,
    ) -> ForgeResult<CiStatus> {
        self.inner.ci_status(repo, commit, workflow)
    }
    fn read_file(
        &self,
        repo: &RepoLocation,
        commit: &str,
        path: &str,
    ) -> ForgeResult<Option<FileAtCommit>> {
        self.inner.read_file(repo, commit, path)
    }
    fn write_file(&self, repo: &RepoLocation, write: &FileWrite<'_>) -> ForgeResult<CommitId> {
        if matches!(
            self.race,
            Race::SameTagBeforeRelease | Race::WrongTagBeforeRelease
        ) {
            return self.inner.write_file(repo, write);
        }
        let first = !self.fired.replace(true);
        if first && self.race != Race::UnrelatedAfterWrite {
            self.push();
        }
        let result = self.inner.write_file(repo, write);
        if matches!(result, Err(ForgeError::Conflict { .. })) {
            self.conflicts.set(self.conflicts.get() + 1);
        }
        if first && self.race == Race::UnrelatedAfterWrite {
            self.push();
        }
        result
    }
    fn tags(&self, repo: &RepoLocation) -> ForgeResult<Vec<TagRef>> {
        self.inner.tags(repo)
    }
    fn commits_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<CommitRange> {
        self.inner.commits_between(repo, base, head, limit)
    }
    fn list_files(&self, repo: &RepoLocation, commit: &str, dir: &str) -> ForgeResult<Vec<String>> {
        self.inner.list_files(repo, commit, dir)
    }
    fn find_release(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<ReleaseInfo>> {
        self.inner.find_release(repo, tag)
    }

    fn create_release(&self, repo: &RepoLocation, release: &NewRelease<'_>) -> ForgeResult<()> {
        if matches!(
            self.race,
            Race::SameTagBeforeRelease | Race::WrongTagBeforeRelease
        ) && !self.fired.replace(true)
        {
            let stack = Repository::open(&self.stack).unwrap();
            let pin = stack
                .find_commit(Oid::from_str(release.commit).unwrap())
                .unwrap();
            let target = if self.race == Race::SameTagBeforeRelease {
                pin
            } else {
                pin.parent(0).unwrap()
            };
            stack
                .tag_lightweight(release.tag, target.as_object(), false)
                .unwrap();
            *self.pushed.borrow_mut() = Some(target.id());
        }
        let result = self.inner.create_release(repo, release);
        if matches!(result, Err(ForgeError::AlreadyExists { .. })) {
            self.conflicts.set(self.conflicts.get() + 1);
        }
        result
    }
    fn record_deployment(&self, repo: &RepoLocation, record: &DeploymentRecord) -> ForgeResult<()> {
        self.inner.record_deployment(repo, record)
    }
    fn deployments(&self, repo: &RepoLocation) -> ForgeResult<Vec<DeploymentRecord>> {
        self.inner.deployments(repo)
    }
}

fn race_outcome(w: &World, race: Race) -> (Racing, ApplyOutcome) {
    let (config, releases) = load(&w.sandbox);
    let forge = Racing::new(&w.sandbox, race);
    let outcome = run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        options(false),
        &mut Quiet,
    )
    .unwrap();
    (forge, outcome)
}

fn race(w: &World, race: Race) -> Racing {
    let (forge, outcome) = race_outcome(w, race);
    assert_converged(&outcome);
    forge
}

#[test]
fn an_edit_of_the_workflow_between_observe_and_write_conflicts_and_the_pin_lands_on_top_of_it() {
    let w = world();
    let forge = race(&w, Race::WorkflowBeforeWrite);
    assert_eq!(
        forge.conflicts.get(),
        1,
        "the compare-and-swap write must lose the race once"
    );
    let concurrent = forge.pushed.borrow().unwrap();
    let new = commits_since(&w.sandbox, w.start);
    assert_eq!(new.len(), 2, "the concurrent commit and one pin commit");
    let pin = new[0];
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    assert_eq!(
        repo.find_commit(pin).unwrap().parent_id(0).unwrap(),
        concurrent
    );
    let text = file_at(&w.sandbox, pin, WORKFLOW).unwrap();
    assert_eq!(
        text,
        format!("# Reviewed by the release team.\n{}", pinned(DEMO_WORKFLOW)),
        "their edit is kept"
    );
    assert_eq!(
        tags(&w.sandbox),
        BTreeMap::from([("2026.08.2".to_string(), pin)])
    );
    assert_eq!(w.sandbox.deploy_count(), 1);
}

#[test]
fn an_unrelated_push_between_observe_and_write_stays_beneath_the_pin_commit() {
    let w = world();
    let forge = race(&w, Race::UnrelatedBeforeWrite);
    let concurrent = forge.pushed.borrow().unwrap();
    let new = commits_since(&w.sandbox, w.start);
    assert_eq!(new.len(), 2, "the concurrent commit and one pin commit");
    let pin = new[0];
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    assert_eq!(
        repo.find_commit(pin).unwrap().parent_id(0).unwrap(),
        concurrent,
        "the pin commit is on top"
    );
    assert_eq!(
        file_at(&w.sandbox, pin, "README.md").as_deref(),
        Some("The stack.\n"),
        "their file is kept"
    );
    assert_eq!(changed_paths(&w.sandbox, pin), [WORKFLOW]);
    assert_eq!(
        tags(&w.sandbox),
        BTreeMap::from([("2026.08.2".to_string(), pin)])
    );
    assert_eq!(w.sandbox.deploy_count(), 1);
}

#[test]
fn a_push_right_after_the_pin_commit_does_not_move_the_tag_off_the_pin_commit() {
    let w = world();
    let forge = race(&w, Race::UnrelatedAfterWrite);
    let concurrent = forge.pushed.borrow().unwrap();
    assert_eq!(
        master(&w.sandbox),
        concurrent,
        "the concurrent commit is the branch tip"
    );
    let new = commits_since(&w.sandbox, w.start);
    assert_eq!(new.len(), 2);
    let pin = new[1];
    assert_eq!(changed_paths(&w.sandbox, pin), [WORKFLOW]);
    assert_eq!(
        tags(&w.sandbox),
        BTreeMap::from([("2026.08.2".to_string(), pin)]),
        "the tag is at the pin commit, not the tip"
    );
    assert_eq!(w.sandbox.deploy_count(), 1);
}

#[test]
fn a_release_cut_concurrently_at_the_pin_commit_counts_as_done() {
    let w = world();
    let forge = race(&w, Race::SameTagBeforeRelease);
    assert_eq!(
        forge.conflicts.get(),
        1,
        "stackrel's own create lost the race"
    );
    converged_once(&w.sandbox, w.start).unwrap();
}

#[test]
fn a_release_tag_created_concurrently_elsewhere_stops_the_release_before_deploying() {
    let w = world();
    let (forge, outcome) = race_outcome(&w, Race::WrongTagBeforeRelease);
    assert_eq!(forge.conflicts.get(), 1);
    let step = blocked_step(outcome);
    assert_eq!(step.code(), "tag-conflict", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("2026.08.2 already exists")
            && step.reason.to_string().contains("delete or rename"),
        "{}",
        step.reason
    );
    assert_eq!(
        tags(&w.sandbox)["2026.08.2"],
        w.start,
        "the other writer's tag is never moved"
    );
    assert_eq!(w.sandbox.deploy_count(), 0);
    assert!(records(&w.sandbox).is_empty());
}

// --- Gates ----------------------------------------------------------------------------------

fn add_ci_note(repo: &Path, commit: Oid, text: &str) {
    let repo = Repository::open(repo).unwrap();
    let sig = Signature::now("CI", "ci@example.org").unwrap();
    repo.note(
        &sig,
        &sig,
        Some(stackrel::forge::local::CI_NOTES_REF),
        commit,
        text,
        true,
    )
    .unwrap();
}

fn with_stack_ci(sandbox: &Sandbox) -> (Config, Vec<Release>) {
    let (mut config, releases) = load(sandbox);
    config.stack.ci = Some("build main".into());
    (config, releases)
}

fn gate_options() -> ApplyOptions {
    ApplyOptions {
        gate_timeout: Duration::from_millis(30),
        ..options(false)
    }
}

#[test]
fn the_stack_build_gate_times_out_without_deploying_and_a_later_apply_resumes_once_ci_succeeds() {
    let w = world();
    let (config, releases) = with_stack_ci(&w.sandbox);
    let forge = LocalForge::new(&w.sandbox.desired);
    let outcome = run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        gate_options(),
        &mut Quiet,
    )
    .unwrap();
    let ApplyOutcome::TimedOut { step, .. } = outcome else {
        panic!("expected a timeout at the build gate, got {outcome:#?}")
    };
    assert_eq!(step.title(), "build");
    assert_eq!(step.code(), "stack-ci-missing", "{}", step.reason);
    assert!(
        step.reason
            .to_string()
            .contains("no \"build main\" run on 2026.08.2"),
        "{}",
        step.reason
    );
    assert_eq!(w.sandbox.deploy_count(), 0);
    let tag = tags(&w.sandbox)["2026.08.2"];

    add_ci_note(&w.sandbox.stack, tag, "build main: success\n");
    let outcome = run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        gate_options(),
        &mut Quiet,
    )
    .unwrap();
    assert_converged(&outcome);
    converged_once(&w.sandbox, w.start).unwrap();
}

#[test]
fn a_failed_stack_build_blocks_the_deploy() {
    let w = world();
    let (config, releases) = with_stack_ci(&w.sandbox);
    let forge = LocalForge::new(&w.sandbox.desired);
    run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        gate_options(),
        &mut Quiet,
    )
    .unwrap();
    add_ci_note(
        &w.sandbox.stack,
        tags(&w.sandbox)["2026.08.2"],
        "build main: failure\n",
    );
    let outcome = run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        gate_options(),
        &mut Quiet,
    )
    .unwrap();
    let step = blocked_step(outcome);
    assert_eq!(step.title(), "build");
    assert_eq!(step.code(), "stack-ci-failed", "{}", step.reason);
    assert!(
        step.reason
            .to_string()
            .contains("\"build main\" failed on 2026.08.2"),
        "{}",
        step.reason
    );
    assert_eq!(w.sandbox.deploy_count(), 0);
}

#[test]
fn a_component_build_still_running_times_out_with_nothing_written() {
    let w = world();
    let backend = Repository::open(&w.sandbox.backend).unwrap();
    let commit = backend
        .revparse_single("refs/tags/2026.08.1")
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id();
    add_ci_note(&w.sandbox.backend, commit, "pending");
    let before = all_refs(&w.sandbox);
    let outcome = run_in(&w.sandbox, Production::Prompt, gate_options(), &mut Quiet).unwrap();
    let ApplyOutcome::TimedOut { step, .. } = outcome else {
        panic!("expected a timeout at the backend's CI, got {outcome:#?}")
    };
    assert_eq!(step.title(), "preflight backend");
    assert_eq!(step.code(), "ci-running", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("still running"),
        "{}",
        step.reason
    );
    assert_eq!(all_refs(&w.sandbox), before);
}

#[test]
fn a_suspended_stack_makes_no_change_at_all() {
    let w = world();
    let (mut config, releases) = load(&w.sandbox);
    config.daemon.suspended = true;
    let forge = LocalForge::new(&w.sandbox.desired);
    let before = all_refs(&w.sandbox);
    let mut effects = Effects::default();
    let outcome = run_with(
        &w.sandbox,
        &config,
        &releases,
        &forge,
        Production::Prompt,
        gate_options(),
        &mut effects,
    )
    .unwrap();
    // Suspension cannot lift during a run, so apply stops at once instead of waiting it out.
    let ApplyOutcome::Held { plan, .. } = outcome else {
        panic!("expected the run to stop as suspended, got {outcome:#?}")
    };
    let step = plan
        .steps
        .iter()
        .find(|s| s.status == stackrel::plan::Status::Waiting)
        .expect("a waiting step");
    assert_eq!(step.code(), "suspended", "{}", step.reason);
    assert!(
        step.reason.to_string().contains("suspended"),
        "{}",
        step.reason
    );
    assert!(effects.seen.is_empty(), "{:?}", effects.seen);
    assert_eq!(all_refs(&w.sandbox), before);
    assert_eq!(w.sandbox.deploy_count(), 0);
}

#[test]
fn a_long_range_of_local_commits_lists_its_newest_changes_and_counts_the_rest() {
    let (_dir, sandbox) = sandbox();
    let made: Vec<Oid> = (1..=80)
        .map(|n| {
            let tag = (n == 80).then_some(("2026.08.3", None));
            commit_component(
                &sandbox.frontend,
                "production",
                &format!("Change {n}"),
                None,
                tag,
            )
        })
        .collect();
    let forge = LocalForge::new(&sandbox.desired);
    let frontend = RepoLocation::Local(sandbox.frontend.to_string_lossy().into_owned());

    let changes = forge
        .changes_between(&frontend, "2026.08.2", "2026.08.3", 50)
        .unwrap();
    let listed: Vec<String> = changes.changes.iter().map(|c| c.commit.clone()).collect();
    let newest: Vec<String> = made[30..].iter().map(Oid::to_string).collect();
    assert_eq!(listed, newest, "the newest 50, oldest first");
    assert_eq!(changes.total, 80);
}

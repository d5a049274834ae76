//! Specifies deploys under concurrency and crashes, with real processes: two `stackrel apply`
//! started together on a release with only the deploy left deploy it once between them; a run
//! that arrives during another's deploy is told who is deploying and since when, and never
//! deploys too, even with `--retry-deploy`; and a run killed with SIGKILL in the middle of a
//! deploy leaves nothing that stops a later run from deploying.

use super::cli_plan_apply::stdout;
use stackrel::apply::{ApplyOptions, Backends, Progress, apply};
use stackrel::demo::Sandbox;
use stackrel::forge::local::LocalForge;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use testkit::sandbox::{deployment_records, load, sandbox, slow_deployer};

/// How many times the race is run; a third of trials deployed twice before the deploy was
/// decided under a lock.
const TRIALS: usize = 30;

/// Stops a run right after it tags the release: what is left is the deploy (and what follows).
struct StopAfterTag;

impl Progress for StopAfterTag {
    fn after_side_effect(&mut self, what: &str) -> ControlFlow<()> {
        if what.starts_with("tagged") {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// A fresh sandbox whose release 2026.08.2 is pinned and tagged, not deployed.
fn only_the_deploy_left() -> (tempfile::TempDir, Sandbox) {
    let (dir, sandbox) = sandbox();
    let (config, releases) = load(&sandbox);
    let forge = LocalForge::new(&sandbox.desired);
    let (deployer, verifier) = (sandbox.deployer(), sandbox.verifier());
    let backends = Backends {
        forge: &forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };
    let release = releases.last().unwrap();
    apply(
        &config,
        release,
        &releases,
        &backends,
        &ApplyOptions::default(),
        &mut StopAfterTag,
    )
    .unwrap();
    assert_eq!(sandbox.deploy_count(), 0);
    (dir, sandbox)
}

fn spawn_apply(dir: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .args(["apply", "--yes", "--timeout", "20"])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the stackrel binary runs")
}

fn all_output(output: &Output) -> String {
    format!(
        "{}{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Waits until `path` exists (the slow deployer touches it as it starts).
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn two_concurrent_applies_with_only_the_deploy_left_deploy_once() {
    let mut duplicates = Vec::new();
    for trial in 0..TRIALS {
        let (_dir, sandbox) = only_the_deploy_left();
        let first = spawn_apply(&sandbox.desired, &[]);
        let second = spawn_apply(&sandbox.desired, &[]);
        let outputs = [first, second].map(|c| c.wait_with_output().unwrap());
        for output in &outputs {
            assert!(
                output.status.success(),
                "trial {trial}: both runs converge; output:\n{}",
                all_output(output)
            );
        }
        if sandbox.deploy_count() != 1 {
            duplicates.push((trial, sandbox.deploy_count()));
        }
    }
    assert_eq!(duplicates, [], "trials that did not deploy exactly once");
}

#[cfg(unix)]
#[test]
fn a_run_arriving_during_a_deploy_is_told_who_deploys_since_when_and_does_not_deploy() {
    let (_dir, sandbox) = only_the_deploy_left();
    let started = slow_deployer(&sandbox, "2");
    let first = spawn_apply(&sandbox.desired, &[]);
    wait_for(&started);
    let plan = super::cli_plan_apply::stackrel(&sandbox.desired, &["plan"]);
    let text = stdout(&plan);
    assert!(
        text.contains("a deploy of 2026.08.2 is in progress")
            && text.contains(&format!("pid {}", first.id()))
            && text.contains("since 20"),
        "{text}"
    );
    let retry = spawn_apply(&sandbox.desired, &["--retry-deploy"])
        .wait_with_output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", all_output(&first));
    assert!(retry.status.success(), "{}", all_output(&retry));
    assert!(
        all_output(&retry).contains("in progress"),
        "the second run said it waited on the first: {}",
        all_output(&retry)
    );
    assert_eq!(sandbox.deploy_count(), 1);
}

#[cfg(unix)]
#[test]
fn a_run_killed_mid_deploy_leaves_nothing_that_stops_a_later_deploy() {
    let (_dir, sandbox) = only_the_deploy_left();
    let started = slow_deployer(&sandbox, "30");
    let mut victim = spawn_apply(&sandbox.desired, &[]);
    wait_for(&started);
    victim.kill().unwrap(); // SIGKILL: nothing of the run's own gets to clean up
    victim.wait().unwrap();
    let records = deployment_records(&sandbox);
    assert_eq!(
        records.last().map(|r| r.state),
        Some(stackrel::forge::DeploymentState::Started),
        "the killed run recorded the start and nothing after it"
    );
    slow_deployer(&sandbox, "0");
    let later = spawn_apply(&sandbox.desired, &["--retry-deploy"])
        .wait_with_output()
        .unwrap();
    assert!(later.status.success(), "{}", all_output(&later));
    assert_eq!(sandbox.deploy_count(), 1);
}

#[test]
fn a_records_lock_file_left_by_a_killed_run_does_not_stop_later_deploys() {
    let (_dir, sandbox) = only_the_deploy_left();
    // What a run killed while appending a record used to leave behind.
    std::fs::write(sandbox.stack.join("stackrel-deployments.lock"), "").unwrap();
    let output = spawn_apply(&sandbox.desired, &[])
        .wait_with_output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    assert_eq!(sandbox.deploy_count(), 1);
}

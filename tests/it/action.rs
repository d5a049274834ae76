//! Specifies `action.yml`'s `mode: apply` step by running its own script: the step's `run:`
//! block, read from the file, in bash on the demo sandbox with the environment GitHub Actions
//! gives it (`RUNNER_TEMP`, `GITHUB_STEP_SUMMARY`, the action's inputs as empty or set), and the
//! built `stackrel` first on the `PATH`.

use std::path::Path;
use std::process::{Command, Output};
use testkit::sandbox::{sandbox, tags};

const STEP: &str = "- name: Converge the merged release";

/// The `run: |` block of the apply step, unindented.
fn apply_script() -> String {
    let action = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml"))
        .expect("action.yml is read");
    let step = &action[action.find(STEP).expect("the apply step")..];
    let run = &step[step.find("run: |").expect("its run block")..];
    let body: Vec<&str> = run
        .lines()
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("        "))
        .collect();
    body.iter()
        .map(|l| l.strip_prefix("        ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_step(desired: &Path, scratch: &Path) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_stackrel")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg("-c")
        .arg(apply_script())
        .current_dir(desired)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("RUNNER_TEMP", scratch)
        .env("GITHUB_STEP_SUMMARY", scratch.join("summary.md"))
        .env("GITHUB_TOKEN", "")
        .env("GITHUB_APP_ID", "")
        .env("AWX_TOKEN", "")
        .env("TIMEOUT", "60")
        .env("STACKREL_TOKEN_IS_ACTIONS_TOKEN", "false")
        .output()
        .expect("bash runs")
}

#[test]
fn the_apply_mode_step_converges_the_release_and_writes_plan_and_outcome_to_the_summary() {
    let (_dir, sandbox) = sandbox();
    let scratch = tempfile::tempdir().unwrap();
    let output = run_step(&sandbox.desired, scratch.path());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{log}");
    assert!(tags(&sandbox).contains_key("2026.08.2"), "{log}");
    let summary = std::fs::read_to_string(scratch.path().join("summary.md")).unwrap();
    assert!(
        summary.starts_with("### stackrel apply: converged"),
        "{summary}"
    );
    assert!(summary.contains("#### Plan (before, exit 2)"), "{summary}");
    assert!(summary.contains("+ deploy"), "{summary}");
    assert!(summary.contains("tagged 2026.08.2"), "{summary}");
}

//! Specifies `stackrel demo`, `plan`, `apply` and `status` as a person and a script use them:
//! exit codes (`plan`: 0 in sync, 2 changes pending, 1 blocked or error), what they print, that
//! `--json` is JSON, that `apply --dry-run` changes nothing, and that only the committed desired
//! state counts. Its command-line helpers serve the other modules that run the binary.

use stackrel::demo::release_text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use testkit::sandbox::{commit_release, sandbox, sandbox_at, stack_refs};

pub(crate) fn stackrel(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the stackrel binary runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn both(output: &Output) -> String {
    format!(
        "{}{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
pub(crate) fn assert_exit(output: &Output, expected: i32) {
    assert_eq!(
        code(output),
        expected,
        "exit code; output:\n{}",
        both(output)
    );
}

fn demo(dir: &Path) -> (Output, PathBuf) {
    let root = dir.join("d");
    let output = stackrel(dir, &["demo", root.to_str().unwrap()]);
    (output, root)
}

#[test]
fn demo_runs_a_whole_release_and_leaves_a_blocked_one_to_try() {
    let dir = tempfile::tempdir().unwrap();
    let (output, root) = demo(dir.path());
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("converged"), "{text}");
    assert!(
        text.contains("2026.08.9"),
        "the demo shows the staging-only tag: {text}"
    );
    assert_eq!(sandbox_at(&root).deploy_count(), 1);
}

#[test]
fn demo_refuses_a_directory_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("d");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("keep.txt"), "mine").unwrap();
    let output = stackrel(dir.path(), &["demo", root.to_str().unwrap()]);
    assert_exit(&output, 1);
    assert!(both(&output).contains("not empty"), "{}", both(&output));
    assert_eq!(
        std::fs::read_to_string(root.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn the_demos_try_next_steps_work_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (output, root) = demo(dir.path());
    assert_exit(&output, 0);
    let sandbox = sandbox_at(&root);
    let desired = &sandbox.desired;

    let blocked = stackrel(desired, &["plan"]);
    assert_exit(&blocked, 1);
    let text = stdout(&blocked);
    assert!(text.contains("release 2026.08.3"), "{text}");
    assert!(text.contains("not on branch production"), "{text}");

    commit_release(&sandbox, "2026.08.3", "2026.08.1", "2026.08.2");
    assert_exit(&stackrel(desired, &["plan"]), 2);
    let applied = stackrel(desired, &["apply", "--yes"]);
    assert_exit(&applied, 0);
    assert!(
        stdout(&applied).contains("Converged: 2026.08.3 is live (verified)."),
        "{}",
        stdout(&applied)
    );
    let in_sync = stackrel(desired, &["plan"]);
    assert_exit(&in_sync, 0);
    assert!(stdout(&in_sync).contains("In sync"), "{}", stdout(&in_sync));
    assert_eq!(sandbox.deploy_count(), 2);
}

#[test]
fn plan_exits_2_when_changes_are_pending_and_says_how_to_converge() {
    let (_dir, sandbox) = sandbox();
    let output = stackrel(&sandbox.desired, &["plan"]);
    assert_exit(&output, 2);
    let text = stdout(&output);
    assert!(text.contains("release 2026.08.2"), "{text}");
    assert!(
        text.contains("BE_IMAGE_TAG 2026.07.1 → 2026.08.1"),
        "{text}"
    );
    assert!(text.contains("stackrel apply"), "{text}");
}

#[test]
fn plan_names_superseded_releases() {
    let (_dir, sandbox) = sandbox();
    let text = stdout(&stackrel(&sandbox.desired, &["plan"]));
    assert!(
        text.contains("superseded, not replayed: 2026.08.1"),
        "{text}"
    );
}

#[test]
fn plan_exits_1_when_the_release_is_blocked() {
    let (_dir, sandbox) = sandbox();
    commit_release(&sandbox, "2026.08.3", "2026.08.9", "2026.08.2");
    let output = stackrel(&sandbox.desired, &["plan"]);
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(
        text.contains("2026.08.9") && text.contains("not on branch production"),
        "{text}"
    );
    assert!(text.contains("Blocked at preflight backend"), "{text}");
}

#[test]
fn apply_yes_converges_and_then_plan_is_in_sync() {
    let (_dir, sandbox) = sandbox();
    let applied = stackrel(&sandbox.desired, &["apply", "--yes"]);
    assert_exit(&applied, 0);
    assert!(
        stdout(&applied).contains("Converged: 2026.08.2 is live (verified)."),
        "{}",
        stdout(&applied)
    );
    assert_exit(&stackrel(&sandbox.desired, &["plan"]), 0);
    assert_eq!(sandbox.deploy_count(), 1);
}

#[test]
fn apply_without_a_terminal_does_not_wait_for_an_answer() {
    let (_dir, sandbox) = sandbox();
    assert_exit(&stackrel(&sandbox.desired, &["apply"]), 0);
    assert_eq!(sandbox.deploy_count(), 1);
}

#[test]
fn apply_on_a_converged_stack_changes_no_refs() {
    let (_dir, sandbox) = sandbox();
    assert_exit(&stackrel(&sandbox.desired, &["apply", "--yes"]), 0);
    let before = stack_refs(&sandbox);
    assert_exit(&stackrel(&sandbox.desired, &["apply", "--yes"]), 0);
    assert_eq!(stack_refs(&sandbox), before);
    assert_eq!(sandbox.deploy_count(), 1);
}

#[test]
fn apply_exits_1_when_blocked_and_changes_nothing() {
    let (_dir, sandbox) = sandbox();
    commit_release(&sandbox, "2026.08.3", "2026.08.9", "2026.08.2");
    let before = stack_refs(&sandbox);
    let output = stackrel(&sandbox.desired, &["apply", "--yes"]);
    assert_exit(&output, 1);
    assert!(
        stdout(&output).contains("Blocked at preflight backend"),
        "{}",
        stdout(&output)
    );
    assert_eq!(stack_refs(&sandbox), before);
}

#[test]
fn apply_dry_run_shows_the_plan_and_changes_no_refs() {
    let (_dir, sandbox) = sandbox();
    let before = stack_refs(&sandbox);
    let output = stackrel(&sandbox.desired, &["apply", "--dry-run"]);
    assert_exit(&output, 2);
    assert!(
        stdout(&output).contains("release 2026.08.2"),
        "{}",
        stdout(&output)
    );
    assert_eq!(stack_refs(&sandbox), before);
    assert_eq!(sandbox.deploy_count(), 0);
}

#[test]
fn plan_json_is_a_json_plan() {
    let (_dir, sandbox) = sandbox();
    let output = stackrel(&sandbox.desired, &["plan", "--json"]);
    assert_exit(&output, 2);
    let plan: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("plan --json prints JSON only");
    assert_eq!(plan["version"], "2026.08.2");
    assert_eq!(plan["superseded"], serde_json::json!(["2026.08.1"]));
    let steps = plan["steps"].as_array().unwrap();
    let pin = steps.iter().find(|s| s["kind"] == "pin").unwrap();
    assert_eq!(pin["status"], "to do");
    assert!(steps.iter().all(|s| s["reason"].is_string()));
}

#[test]
fn status_lists_every_release_with_its_state() {
    let (_dir, sandbox) = sandbox();
    assert_exit(&stackrel(&sandbox.desired, &["apply", "--yes"]), 0);
    commit_release(&sandbox, "2026.08.3", "2026.08.9", "2026.08.2");
    let output = stackrel(&sandbox.desired, &["status"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let line = |version: &str| {
        text.lines()
            .find(|l| l.starts_with(version))
            .unwrap_or_else(|| panic!("no row for {version}:\n{text}"))
            .to_string()
    };
    assert!(line("2026.08.3").contains("desired"), "{text}");
    assert!(line("2026.08.2").contains("live"), "{text}");
    assert!(line("2026.08.1").contains("superseded"), "{text}");
}

#[test]
fn status_json_is_json() {
    let (_dir, sandbox) = sandbox();
    let output = stackrel(&sandbox.desired, &["status", "--json"]);
    assert_exit(&output, 0);
    let rows: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("status --json prints JSON only");
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

#[test]
fn the_repo_option_points_at_the_desired_state_from_anywhere() {
    let (dir, sandbox) = sandbox();
    let output = stackrel(
        dir.path(),
        &["--repo", sandbox.desired.to_str().unwrap(), "plan"],
    );
    assert_exit(&output, 2);
}

#[test]
fn apply_with_a_relative_repo_path_runs_the_deploy_and_verify_commands_from_the_desired_state() {
    let (dir, sandbox) = sandbox();
    let output = stackrel(dir.path(), &["--repo", "sandbox/desired", "apply", "--yes"]);
    assert_exit(&output, 0);
    assert_eq!(sandbox.deploy_count(), 1);
    assert_exit(
        &stackrel(dir.path(), &["--repo", "sandbox/desired", "plan"]),
        0,
    );
}

#[test]
fn plan_on_an_invalid_committed_desired_state_exits_1_and_prints_the_diagnostics() {
    let (_dir, sandbox) = sandbox();
    sandbox
        .commit_desired(
            &[(
                "releases/2026.08.3.toml",
                "backend = \"2026.08.1\"\nfrontend = 5\n",
            )],
            "Broken release",
        )
        .unwrap();
    let output = stackrel(&sandbox.desired, &["plan"]);
    assert_exit(&output, 1);
    let text = both(&output);
    assert!(
        text.contains("releases/2026.08.3.toml"),
        "the diagnostic names the file:\n{text}"
    );
    assert!(
        text.contains("frontend"),
        "the diagnostic names the key:\n{text}"
    );
    assert!(text.contains("invalid"), "{text}");
    assert!(
        text.contains("`stackrel validate --rev HEAD`"),
        "the help names the revision, not a placeholder:\n{text}"
    );
    assert!(!text.contains("{rev}"), "{text}");
}

#[test]
fn a_repo_that_does_not_exist_is_called_missing_not_outside_a_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent");
    let missing = missing.to_str().unwrap();
    for command in [
        &["--repo", missing, "validate"][..],
        &["--repo", missing, "plan"],
    ] {
        let output = stackrel(dir.path(), command);
        assert_exit(&output, 1);
        let text = both(&output);
        assert!(
            text.contains(&format!("{missing} does not exist")),
            "{text}"
        );
        assert!(!text.contains("not inside a git repository"), "{text}");
    }
}

#[test]
fn plan_reads_the_committed_desired_state_not_uncommitted_edits() {
    let (_dir, sandbox) = sandbox();
    std::fs::write(
        sandbox.desired.join("releases/2026.08.3.toml"),
        release_text("2026.08.9", "2026.08.2", "draft"),
    )
    .unwrap();
    let output = stackrel(&sandbox.desired, &["plan"]);
    assert_exit(&output, 2);
    assert!(
        stdout(&output).contains("release 2026.08.2"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn validate_of_a_working_tree_that_differs_from_head_says_plan_converges_the_commit() {
    let (_dir, sandbox) = sandbox();
    let release = sandbox.desired.join("releases/2026.08.4.toml");
    std::fs::write(
        &release,
        release_text("2026.08.1", "2026.08.2", "Not yet committed"),
    )
    .unwrap();
    let output = stackrel(&sandbox.desired, &["validate"]);
    assert_exit(&output, 0);
    let text = both(&output);
    assert!(text.contains("the newest is 2026.08.4"), "{text}");
    assert!(
        text.contains("this is the working tree, not HEAD")
            && text.contains("releases/2026.08.4.toml (not committed)")
            && text.contains("validate --rev HEAD"),
        "{text}"
    );

    std::fs::remove_file(&release).unwrap();
    let text = both(&stackrel(&sandbox.desired, &["validate"]));
    assert!(!text.contains("working tree"), "in step with HEAD: {text}");
}

#[test]
fn a_branch_that_does_not_exist_is_reported_naming_the_component_its_field_and_its_line() {
    let (_dir, sandbox) = sandbox();
    let config = std::fs::read_to_string(sandbox.desired.join("stackrel.toml")).unwrap();
    let broken = config.replacen("branch = \"production\"", "branch = \"prodution\"", 1);
    assert_ne!(
        broken, config,
        "the sandbox's config names a production branch"
    );
    sandbox
        .commit_desired(&[("stackrel.toml", broken.as_str())], "Typo in a branch")
        .unwrap();
    let output = stackrel(&sandbox.desired, &["plan"]);
    assert_exit(&output, 1);
    // miette wraps long lines: read the report as one line.
    let text = both(&output).replace("\n  │ ", " ");
    let (line, column) = position_of(&broken, "\"prodution\"");
    assert!(
        text.contains("branch prodution of component `backend`")
            && text.contains(&format!(
                "branch = \"prodution\" in [components.backend] of stackrel.toml:{line}:{column}"
            )),
        "{text}"
    );
}

/// The 1-based line and column where `needle` first starts in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).expect("the text holds it");
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[test]
fn a_repository_that_does_not_exist_is_reported_naming_the_component_its_field_and_its_line() {
    let (_dir, sandbox) = sandbox();
    let config = std::fs::read_to_string(sandbox.desired.join("stackrel.toml")).unwrap();
    let broken = config.replacen("\"../backend.git\"", "\"../backnd.git\"", 1);
    assert_ne!(broken, config, "the sandbox's backend is ../backend.git");
    sandbox
        .commit_desired(&[("stackrel.toml", broken.as_str())], "Typo in a repo")
        .unwrap();
    let output = stackrel(&sandbox.desired, &["plan"]);
    assert_exit(&output, 1);
    let text = both(&output).replace("\n  │ ", " ");
    let (line, column) = position_of(&broken, "\"../backnd.git\"");
    assert!(
        text.contains("of component `backend`")
            && text.contains(&format!(
                "repo = \"../backnd.git\" in [components.backend] of stackrel.toml:{line}:{column}"
            )),
        "{text}"
    );
}

#[test]
fn a_pin_only_in_a_job_env_is_reported_naming_the_workflow_file_the_line_and_the_yaml_path() {
    let (_dir, sandbox) = sandbox();
    let workflow = ".github/workflows/build-main.yaml";
    let text = testkit::sandbox::file_at(&sandbox, testkit::sandbox::master(&sandbox), workflow)
        .expect("the sandbox's stack has its workflow");
    let moved = text.replacen("  BE_IMAGE_TAG: 2026.07.1\n", "", 1);
    assert_ne!(
        moved, text,
        "the demo workflow pins the backend at the top level"
    );
    let line = 1 + moved
        .lines()
        .position(|l| l.trim_start().starts_with("BE_IMAGE_TAG:"))
        .expect("the build job's env sets BE_IMAGE_TAG too");
    testkit::sandbox::push_to_stack(&sandbox.stack, &[(workflow, &moved)], "Drop the pin");
    let output = stackrel(&sandbox.desired, &["plan"]);
    assert_exit(&output, 1);
    let text = both(&output).replace("\n  │ ", " ");
    for part in [
        format!("{workflow}: BE_IMAGE_TAG is not set under the top-level `env:`"),
        format!("line {line}, column 7, under `jobs.build.env`"),
        "move that line to the top-level `env:`".to_owned(),
    ] {
        assert!(text.contains(&part), "{part:?} in {text}");
    }
}

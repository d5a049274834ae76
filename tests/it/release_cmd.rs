//! Specifies `stackrel release` and `stackrel rollback` on the local backend: which component
//! versions a new release takes (the newest tag on its branch whose CI succeeded, skipping and
//! naming a failed one; an explicit version refused with its reason), the next stack version
//! across a month's end, notes from the commits between the live and the new tag with ticket
//! references written out in full, the file and plan printed or committed, bad input refused
//! with nothing written, and a rollback that converges back like any release.

use crate::cli_plan_apply::{assert_exit, stackrel, stdout};
use chrono::{DateTime, TimeZone, Utc};
use git2::Oid;
use stackrel::demo::Sandbox;
use stackrel::proposal::{Proposal, ProposalError, Request, propose, rollback, submit};
use std::path::Path;
use std::process::Output;
use testkit::sandbox::{commit_component, load, sandbox, stack_refs};

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 12, 0, 0).unwrap()
}

fn request(assignments: &[&str], now: DateTime<Utc>) -> Request {
    Request {
        assignments: assignments.iter().map(|s| s.to_string()).collect(),
        version: None,
        now,
    }
}

/// `propose` as `stackrel release` runs it, on the sandbox's committed desired state.
fn proposed(sandbox: &Sandbox, request: &Request) -> Result<Proposal, ProposalError> {
    let (config, releases) = load(sandbox);
    let backends = stackrel::backends::build(&config, &sandbox.desired).unwrap();
    propose(&config, &releases, &backends.as_apply(), request)
}

/// The error report as one line of words: miette wraps it to the terminal's width.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

fn desired_head(sandbox: &Sandbox) -> Oid {
    git2::Repository::open(&sandbox.desired)
        .unwrap()
        .head()
        .unwrap()
        .target()
        .unwrap()
}

/// A backend tag on production newer than every other, whose CI failed.
fn failed_backend_tag(sandbox: &Sandbox) {
    commit_component(
        &sandbox.backend,
        "production",
        "Risky change",
        None,
        Some(("2026.08.10", Some("failure"))),
    );
}

#[test]
fn the_release_takes_the_newest_green_tag_on_the_branch_and_names_the_failed_one_it_skipped() {
    let (_dir, sandbox) = sandbox();
    failed_backend_tag(&sandbox);
    let proposal = proposed(&sandbox, &request(&[], at(8, 20))).unwrap();
    // 2026.08.10 failed CI, 2026.08.9 is on staging only; 2026.09.1 of the frontend too.
    assert_eq!(proposal.release.components["backend"], "2026.08.1");
    assert_eq!(proposal.release.components["frontend"], "2026.08.2");
    let said: Vec<(String, &str)> = proposal.chosen["backend"]
        .worth_saying()
        .map(|s| (s.tag.clone(), s.why.code()))
        .collect();
    assert_eq!(said, [("2026.08.10".to_string(), "ci-failed")]);
    let skipped: Vec<&str> = proposal.chosen["backend"]
        .skipped
        .iter()
        .map(|s| s.why.code())
        .collect();
    assert_eq!(skipped, ["ci-failed", "not-on-branch"]);
}

#[test]
fn the_stack_version_is_the_next_of_the_month_and_rolls_over_with_it() {
    let (_dir, sandbox) = sandbox();
    // Declared: 2026.08.1 and 2026.08.2.
    let august = proposed(&sandbox, &request(&[], at(8, 31))).unwrap();
    assert_eq!(august.release.version.to_string(), "2026.08.3");
    assert_eq!(august.release.path, "releases/2026.08.3.toml");
    let september = proposed(&sandbox, &request(&[], at(9, 1))).unwrap();
    assert_eq!(september.release.version.to_string(), "2026.09.1");
}

#[test]
fn notes_list_the_commits_since_the_live_tag_with_bare_ticket_numbers_in_the_tickets_repository() {
    let (_dir, sandbox) = sandbox();
    let config = std::fs::read_to_string(sandbox.desired.join("stackrel.toml")).unwrap();
    let config = config.replace(
        "pin = \"FE_IMAGE_TAG\"\n",
        "pin = \"FE_IMAGE_TAG\"\ntickets = \"m2ms/fragalysis-frontend\"\n",
    );
    sandbox
        .commit_desired(
            &[("stackrel.toml", &config)],
            "Frontend tickets live in m2ms",
        )
        .unwrap();
    commit_component(
        &sandbox.frontend,
        "production",
        "Fix the RHS loader #1501",
        None,
        None,
    );
    commit_component(
        &sandbox.frontend,
        "production",
        "Faster scoring, see xchem/fragalysis-backend#9 (#77)",
        None,
        Some(("2026.08.3", Some("success"))),
    );
    let proposal = proposed(&sandbox, &request(&[], at(8, 20))).unwrap();
    assert_eq!(proposal.release.components["frontend"], "2026.08.3");
    let notes = proposal.release.notes.as_deref().unwrap();
    let frontend = notes
        .split("- frontend ")
        .nth(1)
        .expect("a frontend section");
    assert!(frontend.starts_with("2026.08.2...2026.08.3\n"), "{notes}");
    assert!(
        frontend.contains("  - Fix the RHS loader m2ms/fragalysis-frontend#1501 ("),
        "{notes}"
    );
    // The pull request's own number stays its own; a full reference is left alone.
    assert!(
        frontend.contains("  - Faster scoring, see xchem/fragalysis-backend#9 (#77)\n"),
        "{notes}"
    );
    assert!(
        notes.contains("- backend 2026.08.1: no changes\n"),
        "{notes}"
    );
    // The file carries them, and reads back as the release proposed.
    assert!(
        proposal.text.contains("notes = \"\"\"\n- backend"),
        "{}",
        proposal.text
    );
}

#[test]
fn an_explicit_version_gets_the_same_preflight_and_is_refused_with_its_reason() {
    let (_dir, sandbox) = sandbox();
    failed_backend_tag(&sandbox);
    for (tag, code) in [
        ("2026.08.9", "not-on-branch"),
        ("2026.08.10", "ci-failed"),
        ("2026.08.7", "no-such-tag"),
    ] {
        let assignment = format!("backend={tag}");
        match proposed(&sandbox, &request(&[&assignment], at(8, 20))) {
            Err(ProposalError::Refused { why, .. }) => assert_eq!(why.code(), code, "{tag}"),
            other => panic!("{tag}: expected a refusal, got {other:?}"),
        }
    }
    let ok = proposed(&sandbox, &request(&["backend=2026.07.1"], at(8, 20))).unwrap();
    assert_eq!(ok.release.components["backend"], "2026.07.1");
}

#[test]
fn a_refused_version_on_the_command_line_says_why_and_writes_nothing() {
    let (_dir, sandbox) = sandbox();
    let head = desired_head(&sandbox);
    let stack = stack_refs(&sandbox);
    let output = stackrel(
        &sandbox.desired,
        &["release", "backend=2026.08.9", "--commit"],
    );
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(
        text.contains("backend 2026.08.9 cannot be released: it is not on `production`"),
        "{text}"
    );
    assert!(text.contains("nothing was written"), "{text}");
    assert_eq!(desired_head(&sandbox), head);
    assert_eq!(stack_refs(&sandbox), stack);
    assert!(!sandbox.desired.join("releases/2026.12.1.toml").exists());
}

/// Runs `stackrel release ARGS` and expects a refusal naming `says`, with nothing written.
#[track_caller]
fn refused(sandbox: &Sandbox, args: &[&str], says: &str) {
    let head = desired_head(sandbox);
    let before = std::fs::read_dir(sandbox.desired.join("releases"))
        .unwrap()
        .count();
    let output = stackrel(&sandbox.desired, args);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains(says), "{args:?}: {text}");
    assert!(text.contains("nothing was written"), "{args:?}: {text}");
    assert_eq!(desired_head(sandbox), head, "{args:?}");
    let after = std::fs::read_dir(sandbox.desired.join("releases"))
        .unwrap()
        .count();
    assert_eq!(before, after, "{args:?}");
}

#[test]
fn bad_input_is_refused_with_the_fix_and_nothing_written() {
    let (_dir, sandbox) = sandbox();
    refused(
        &sandbox,
        &["release", "fronted=2026.08.2"],
        "`fronted` is not a component of stackrel.toml (components: backend, frontend)",
    );
    refused(
        &sandbox,
        &["release", "backend:2026.08.1"],
        "`backend:2026.08.1` is not COMPONENT=VERSION",
    );
    refused(
        &sandbox,
        &["release", "--version", "2026.8.3"],
        "--version `2026.8.3` is not a stack version",
    );
    refused(
        &sandbox,
        &["release", "--version", "2026.08.2"],
        "--version 2026.08.2 is not newer than 2026.08.2",
    );
    refused(
        &sandbox,
        &["release", "--pr"],
        "the desired-state checkout has no remote `origin`",
    );
    std::fs::write(sandbox.desired.join("notes.txt"), "scratch").unwrap();
    refused(
        &sandbox,
        &["release", "--commit"],
        "the desired-state checkout has uncommitted changes (notes.txt)",
    );
}

#[test]
fn without_flags_it_prints_the_file_and_the_plan_and_writes_nothing() {
    let (_dir, sandbox) = sandbox();
    let head = desired_head(&sandbox);
    let output = stackrel(&sandbox.desired, &["release", "--version", "2026.08.3"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.starts_with("Would write releases/2026.08.3.toml:\n\n    backend = \"2026.08.1\"\n    frontend = \"2026.08.2\"\n"), "{text}");
    assert!(
        text.contains("The plan it would cause:\n\nrelease 2026.08.3\n"),
        "{text}"
    );
    assert!(text.contains("+ release"), "{text}");
    assert_eq!(desired_head(&sandbox), head);
    assert!(!sandbox.desired.join("releases/2026.08.3.toml").exists());
}

#[test]
fn commit_writes_the_file_on_the_current_branch_and_it_validates() {
    let (_dir, sandbox) = sandbox();
    let head = desired_head(&sandbox);
    let output = stackrel(
        &sandbox.desired,
        &["release", "--version", "2026.08.3", "--commit"],
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("Committed releases/2026.08.3.toml"),
        "{}",
        stdout(&output)
    );
    let repo = git2::Repository::open(&sandbox.desired).unwrap();
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.parent_id(0).unwrap(), head);
    assert_eq!(commit.summary().unwrap(), Some("Release 2026.08.3"));
    let (_, releases) = load(&sandbox);
    let newest = releases.last().unwrap();
    assert_eq!(newest.version.to_string(), "2026.08.3");
    assert_eq!(newest.components["backend"], "2026.08.1");
    assert!(newest.notes.is_some());
    // The tree is clean again: the file is committed, not left beside the commit.
    assert_exit(&stackrel(&sandbox.desired, &["validate"]), 0);
}

fn apply(dir: &Path) {
    let output = stackrel(dir, &["apply", "--yes"]);
    assert_exit(&output, 0);
}

fn production(sandbox: &Sandbox) -> String {
    std::fs::read_to_string(sandbox.root.join("production.txt")).unwrap_or_default()
}

#[test]
fn rollback_returns_to_the_release_live_before_and_converges_like_any_release() {
    let (_dir, sandbox) = sandbox();
    apply(&sandbox.desired);
    assert_eq!(
        production(&sandbox).trim(),
        "stack=2026.08.2 backend=2026.08.1 frontend=2026.08.2"
    );
    commit_component(
        &sandbox.frontend,
        "production",
        "A change that breaks the viewer",
        None,
        Some(("2026.08.3", Some("success"))),
    );
    let output = stackrel(
        &sandbox.desired,
        &["release", "--version", "2026.08.3", "--commit"],
    );
    assert_exit(&output, 0);
    apply(&sandbox.desired);
    assert_eq!(
        production(&sandbox).trim(),
        "stack=2026.08.3 backend=2026.08.1 frontend=2026.08.3"
    );

    let (config, releases) = load(&sandbox);
    let backends = stackrel::backends::build(&config, &sandbox.desired).unwrap();
    let proposal = rollback(&config, &releases, &backends.as_apply(), None, at(8, 25)).unwrap();
    assert_eq!(proposal.release.version.to_string(), "2026.08.4");
    assert_eq!(proposal.release.components["frontend"], "2026.08.2");
    let notes = proposal.release.notes.as_deref().unwrap();
    assert!(notes.starts_with("Rolls back to 2026.08.2.\n"), "{notes}");
    assert!(notes.contains("A change that breaks the viewer"), "{notes}");
    submit::commit(&sandbox.desired, &proposal).unwrap();

    apply(&sandbox.desired);
    assert_eq!(
        production(&sandbox).trim(),
        "stack=2026.08.4 backend=2026.08.1 frontend=2026.08.2"
    );
    let tags = testkit::sandbox::tags(&sandbox);
    assert!(tags.contains_key("2026.08.4"), "{tags:?}");
    assert_eq!(sandbox.deploy_count(), 3);
}

#[test]
fn a_vanished_earlier_tag_leaves_nothing_to_compare_with_rather_than_failing() {
    let (_dir, sandbox) = sandbox();
    commit_component(
        &sandbox.frontend,
        "production",
        "After the deleted tag",
        None,
        Some(("2026.08.3", Some("success"))),
    );
    git2::Repository::open(&sandbox.frontend)
        .unwrap()
        .find_reference("refs/tags/2026.08.2")
        .unwrap()
        .delete()
        .unwrap();
    let proposal = proposed(&sandbox, &request(&[], at(8, 20))).unwrap();
    let notes = proposal.release.notes.unwrap();
    assert!(
        notes.contains("- frontend 2026.08.3: no earlier release to compare with\n"),
        "{notes}"
    );
}

#[test]
fn rollback_with_nothing_live_asks_for_the_release_to_return_to() {
    let (_dir, sandbox) = sandbox();
    let head = desired_head(&sandbox);
    let output = stackrel(&sandbox.desired, &["rollback", "--commit"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(
        text.contains("nothing is known to be live, so there is no release to roll back to"),
        "{text}"
    );
    assert!(text.contains("stackrel rollback --to VERSION"), "{text}");
    assert_eq!(desired_head(&sandbox), head);
}

#[test]
fn rollback_to_a_named_release_works_without_knowing_what_is_live() {
    let (_dir, sandbox) = sandbox();
    let output = stackrel(&sandbox.desired, &["rollback", "--to", "2026.08.1"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("    backend = \"2026.07.1\"\n"), "{text}");
    assert!(text.contains("    Rolls back to 2026.08.1.\n"), "{text}");
    // Undone: the backend's change from 2026.07.1 to 2026.08.1, the newest declared release's.
    assert!(text.contains("- backend 2026.07.1...2026.08.1\n"), "{text}");
    let missing = stackrel(&sandbox.desired, &["rollback", "--to", "2025.01.1"]);
    assert_exit(&missing, 1);
    assert!(stderr(&missing).contains("there is no release 2025.01.1 in releases/"));
}

//! Specifies that the project's own desired state — the Fragalysis `stackrel.toml` and the 68
//! release files reconstructed from the real history of xchem/fragalysis-stack — is valid, both
//! through the library and through `stackrel validate` as a person would run it, and that the
//! newest release (the desired state) is 2026.08.3.

use stackrel::tree::read_worktree;
use stackrel::validate::validate;
use std::path::Path;
use std::process::Command;

const PROJECT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn project_desired_state_is_valid_with_68_releases_the_newest_2026_08_3() {
    let files = read_worktree(Path::new(PROJECT)).expect("the project's files are readable");
    let state = validate(&files);
    assert!(state.diagnostics.is_empty(), "{:#?}", state.diagnostics);
    assert!(state.is_valid());
    assert_eq!(state.releases.len(), 68);
    assert_eq!(
        state.newest().map(|r| r.version.to_string()).as_deref(),
        Some("2026.08.3")
    );
}

#[test]
fn stackrel_validate_on_the_project_root_exits_zero_reporting_68_releases_and_the_newest() {
    let output = Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .args(["--repo", PROJECT, "validate"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the stackrel binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A second line notes a working tree that differs from HEAD, as a checkout being edited does.
    assert_eq!(
        stdout.lines().next().unwrap_or_default(),
        "ok: stackrel.toml and 68 releases are valid; the newest is 2026.08.3"
    );
}

#[test]
fn stackrel_validate_json_on_the_project_root_is_ok_with_no_diagnostics() {
    let output = Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .args(["--repo", PROJECT, "validate", "--format", "json"])
        .output()
        .expect("the stackrel binary runs");
    assert_eq!(output.status.code(), Some(0));
    let doc: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["warnings"], 0);
    assert_eq!(doc["diagnostics"].as_array().map(Vec::len), Some(0));
}

//! Specifies that text others wrote reaches the terminal escaped: a commit author's name or
//! message with escape sequences (`history`), and a deploy command's output (`apply`). Raw, they
//! could clear the screen, retitle the window or overwrite stackrel's own lines.

use super::cli_plan_apply::{stackrel, stdout};
use git2::{Repository, Signature};
use stackrel::demo::release_text;
use testkit::sandbox::sandbox;

const CLEAR: &str = "\u{1b}[2J";
const TITLE: &str = "\u{1b}]0;owned\u{7}";

#[track_caller]
fn assert_no_raw_escapes(text: &str) {
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters reached the terminal: {text:?}"
    );
}

#[test]
fn history_prints_escape_sequences_in_authors_and_messages_escaped() {
    let (_dir, sandbox) = sandbox();
    let repo = Repository::open(&sandbox.desired).unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    let mut index = repo.index().unwrap();
    let path = "releases/2026.08.3.toml";
    std::fs::write(
        sandbox.desired.join(path),
        release_text("2026.08.1", "2026.08.2", "n"),
    )
    .unwrap();
    index.add_path(std::path::Path::new(path)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let who = Signature::now(&format!("Mallory{CLEAR}"), "m@example.org").unwrap();
    let message = format!("Release 2026.08.3{TITLE}\n\nbody{CLEAR}\n");
    repo.commit(Some("HEAD"), &who, &who, &message, &tree, &[&parent])
        .unwrap();

    let output = stackrel(&sandbox.desired, &["history"]);
    let text = stdout(&output);
    assert_no_raw_escapes(&text);
    assert!(text.contains("Mallory\\x1b[2J"), "{text}");
    assert!(
        text.contains("Release 2026.08.3\\x1b]0;owned\\x07"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn apply_prints_a_deploy_commands_escape_sequences_escaped() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, sandbox) = sandbox();
    let script = format!(
        "#!/bin/sh\nprintf 'rolling out{}{}\\n'\nprintf 'failed\\033[1A\\r\\033[32m✓ deployed\\n'\nexit 3\n",
        "\\033[2J", "\\033]0;owned\\007"
    );
    let path = sandbox.desired.join("deploy.sh");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();

    let output = stackrel(&sandbox.desired, &["apply", "--yes"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_no_raw_escapes(&text);
    assert!(
        text.contains("failed\\x1b[1A\\r\\x1b[32m✓ deployed"),
        "the deploy's last line, escaped: {text}"
    );
}

//! Specifies credentials from the environment as the binary meets them: a token that cannot go
//! into an HTTP header (a `GITHUB_TOKEN_FILE` with a comment line, an `AWX_TOKEN` with a line
//! break) stops the command with a message saying which variable and where, never the token,
//! and never a panic.

use std::process::{Command, Stdio};
use testkit::github_world::{VERSION, config_text, serve};
use testkit::sandbox::sandbox;

const TOKEN: &str = "ghp_credentialsTestToken0123";
const AWX_TOKEN: &str = "awx-credentials-test-token";

fn plan_with(env: &[(&str, &str)]) -> (i32, String) {
    let (_dir, sandbox) = sandbox();
    let (github, awx) = serve(&sandbox, TOKEN, AWX_TOKEN, "2026.08.1");
    sandbox
        .commit_desired(
            &[
                ("stackrel.toml", &config_text(&github, &awx)),
                (
                    &format!("releases/{VERSION}.toml"),
                    "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n",
                ),
            ],
            "Release on GitHub",
        )
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .arg("plan")
        .current_dir(&sandbox.desired)
        .env_remove("GITHUB_TOKEN")
        .env_remove("AWX_TOKEN")
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // miette wraps the message; what is said matters, not where the lines break.
    let flat = text
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (output.status.code().unwrap_or(-1), flat)
}

#[test]
fn a_github_token_file_with_a_comment_line_is_refused_without_a_panic_or_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n# the ops bot's token\n")).unwrap();
    let (code, text) = plan_with(&[
        ("GITHUB_TOKEN_FILE", file.to_str().unwrap()),
        ("AWX_TOKEN", AWX_TOKEN),
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        text.contains("GITHUB_TOKEN_FILE") && text.contains("a line break at line 1"),
        "{text}"
    );
    assert!(!text.contains(TOKEN) && !text.contains("ops bot"), "{text}");
}

#[test]
fn an_awx_token_with_a_line_break_is_refused_without_a_panic_or_the_token() {
    let (code, text) = plan_with(&[
        ("GITHUB_TOKEN", TOKEN),
        ("AWX_TOKEN", &format!("{AWX_TOKEN}\nX-Injected: 1")),
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        text.contains("AWX_TOKEN holds a token with a line break"),
        "{text}"
    );
    assert!(
        !text.contains(AWX_TOKEN) && !text.contains("Injected"),
        "{text}"
    );
}

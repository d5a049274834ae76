//! Secrets never reach the daemon's logs, even at `RUST_LOG=trace`, where HTTP libraries dump
//! the bytes they send (the `authorization` header included) as hex, 16 bytes a line. The search
//! reads the logs as text, and also reassembles every hex dump, hex and character columns both,
//! across its lines.

use regex::Regex;
use testkit::daemon::{Daemon, SECRET};
use testkit::github_world::{STACK, VERSION, config_text, serve};
use testkit::sandbox::{sandbox, tag_commit};

const TOKEN: &str = "ghp_traceTestToken0123456789";
const AWX_TOKEN: &str = "awx-trace-test-token-9f8e7d";

/// Where `secret` shows in `logs`, if anywhere: as text, or in a hex dump.
fn leaked(logs: &str, secret: &str) -> Option<&'static str> {
    if logs.contains(secret) {
        return Some("as text");
    }
    // ureq's rows: eight groups of two bytes in hex (`--` past the end), then the characters.
    let row = Regex::new(r"((?:(?:[0-9a-f]{2}|--){2} ){8}) (\S{1,16})\s*$").unwrap();
    let (mut hex, mut chars) = (String::new(), String::new());
    for line in logs.lines() {
        if let Some(c) = row.captures(line) {
            hex.extend(c[1].chars().filter(char::is_ascii_hexdigit));
            chars.push_str(&c[2]);
        }
    }
    let secret_hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    if hex.contains(&secret_hex) {
        return Some("hex-encoded in a dump");
    }
    // The character column shows a dot for a space, as the header's `Bearer <token>` has.
    chars
        .contains(secret)
        .then_some("in a dump's character column")
}

#[test]
fn the_search_finds_a_token_split_across_hex_dump_lines() {
    let header = format!("authorization: Bearer {AWX_TOKEN}\r\n");
    let mut dump = String::new();
    for chunk in header.as_bytes().chunks(16) {
        let mut hex = String::new();
        for i in 0..16 {
            hex.push_str(&chunk.get(i).map_or("--".into(), |b| format!("{b:02x}")));
            if i % 2 == 1 {
                hex.push(' ');
            }
        }
        let text: String = chunk
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect();
        dump.push_str(&format!("TRACE ureq_proto::util: {hex} {text}\n"));
    }
    assert_eq!(leaked(&dump, AWX_TOKEN), Some("hex-encoded in a dump"));
    assert_eq!(leaked("nothing here", AWX_TOKEN), None);
}

#[test]
fn tokens_stay_out_of_trace_logs_of_a_whole_release_on_github_and_awx() {
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
            "Release 2026.08.3 on GitHub",
        )
        .unwrap();
    let mut daemon = Daemon::spawn_env(
        &sandbox,
        &sandbox.desired,
        &[],
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("AWX_TOKEN", AWX_TOKEN),
            ("RUST_LOG", "trace"),
        ],
    );
    daemon.wait_ready();
    daemon.wait_for("waiting for the stack build", |s| {
        s["outcome"] == "waiting"
            && s["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("build main")
    });
    let tag = tag_commit(&sandbox.stack, VERSION).expect("the release tag exists");
    github.set_run(
        STACK,
        &tag.to_string(),
        "build main",
        "completed",
        Some("success"),
    );
    let body = r#"{"action":"completed","workflow_run":{"name":"build main"}}"#;
    let signature = stackrel::webhook::sign(SECRET.as_bytes(), body.as_bytes());
    daemon.webhook("workflow_run", body, &signature);
    daemon.wait_converged(VERSION);
    assert_eq!(
        awx.jobs().len(),
        1,
        "the AWX job was launched, with the token"
    );

    let logs = daemon.logs();
    assert!(
        logs.contains("TRACE"),
        "the daemon logged at trace level: {}",
        &logs[..logs.len().min(2000)]
    );
    for (name, secret) in [("AWX_TOKEN", AWX_TOKEN), ("GITHUB_TOKEN", TOKEN)] {
        assert_eq!(leaked(&logs, secret), None, "{name} reached the logs");
    }
}

//! The daemon as a process against the GitHub and AWX emulators: a merged release is pinned,
//! tagged and released on GitHub, waits for the stack's CI, is woken by a `workflow_run`
//! webhook, launches one AWX job and is verified live — all decided by the daemon on its own.

use testkit::daemon::{Daemon, SECRET};
use testkit::github_world::{STACK, VERSION, config_text, serve};
use testkit::sandbox::{sandbox, tag_commit};

const TOKEN: &str = "ghp_daemonTestToken0123456789";
const AWX_TOKEN: &str = "awx-daemon-test-token";

#[test]
fn a_merged_release_converges_on_github_and_awx_and_a_ci_webhook_wakes_the_gate() {
    let (_dir, sandbox) = sandbox();
    // No CI on tag pushes: the stack's build finishes only when the test says so.
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
        &[("GITHUB_TOKEN", TOKEN), ("AWX_TOKEN", AWX_TOKEN)],
    );
    daemon.wait_ready();
    // The release is cut on GitHub, then waits for the stack's "build main" run on the tag.
    let status = daemon.wait_for("waiting for the stack build", |s| {
        s["outcome"] == "waiting"
            && s["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("build main")
    });
    assert_eq!(status["desired_version"], VERSION);
    assert_eq!(github.releases(STACK).len(), 1, "one GitHub release");
    assert!(
        awx.jobs().is_empty(),
        "nothing deploys before the build succeeds"
    );

    // CI finishes; GitHub tells the daemon, which re-checks the gate at once.
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
    let reply = daemon.webhook("workflow_run", body, &signature);
    assert_eq!(reply.status, 202, "{}", reply.body);

    daemon.wait_converged(VERSION);
    assert_eq!(awx.jobs().len(), 1, "exactly one AWX job");
    assert_eq!(github.releases(STACK).len(), 1, "still one GitHub release");
    let metrics = daemon.metrics();
    assert!(
        metrics.contains("stackrel_api_requests_total{service=\"github\""),
        "{metrics}"
    );
    assert!(
        daemon
            .logs()
            .contains("can read and push to xchem/fragalysis-stack"),
        "{}",
        daemon.logs()
    );
}

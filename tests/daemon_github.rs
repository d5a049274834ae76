//! The daemon as a process against the GitHub and AWX emulators: a merged release is pinned,
//! tagged and released on GitHub, waits for the stack's CI, is woken by a `workflow_run`
//! webhook, launches one AWX job and is verified live — all decided by the daemon on its own.

mod support;

use support::{Daemon, SECRET, sandbox};
use testkit::emulator::awx::AwxEmulator;
use testkit::emulator::github::GithubEmulator;

const TOKEN: &str = "ghp_daemonTestToken0123456789";
const AWX_TOKEN: &str = "awx-daemon-test-token";
const STACK: &str = "xchem/fragalysis-stack";
const VERSION: &str = "2026.08.3";

fn tag_commit(bare: &std::path::Path, tag: &str) -> Option<String> {
    let repo = git2::Repository::open(bare).ok()?;
    let reference = repo.find_reference(&format!("refs/tags/{tag}")).ok()?;
    Some(reference.peel_to_commit().ok()?.id().to_string())
}

#[test]
fn a_merged_release_converges_on_github_and_awx_and_a_ci_webhook_wakes_the_gate() {
    let (_dir, sandbox) = sandbox();
    let github = GithubEmulator::start(TOKEN).unwrap();
    for (name, path) in [
        (STACK, &sandbox.stack),
        ("xchem/fragalysis-backend", &sandbox.backend),
        ("xchem/fragalysis-frontend", &sandbox.frontend),
    ] {
        github.add_repo(name, path).unwrap();
    }
    for (name, path, tag) in [
        ("xchem/fragalysis-backend", &sandbox.backend, "2026.08.1"),
        ("xchem/fragalysis-frontend", &sandbox.frontend, "2026.08.2"),
    ] {
        let commit = tag_commit(path, tag).unwrap();
        github.set_run(
            name,
            &commit,
            "build production",
            "completed",
            Some("success"),
        );
    }
    let awx = AwxEmulator::start(AWX_TOKEN).unwrap();
    awx.add_template("Production Fragalysis Stack", "xchem", true, &[]);
    awx.set_polls_to_finish(1);
    awx.set_version_field("backend", "xchem:2026.08.1");
    let config = format!(
        r#"[stack]
repo = "{STACK}"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: Use of b/e {{backend}} f/e {{frontend}}"
ci = "build main"

[components.backend]
repo = "xchem/fragalysis-backend"
branch = "production"
pin = "BE_IMAGE_TAG"
ci = "build production"

[components.frontend]
repo = "xchem/fragalysis-frontend"
branch = "production"
pin = "FE_IMAGE_TAG"
ci = "build production"

[deploy]
kind = "awx"
url = "{awx}"
api_prefix = "{prefix}"
template = "Production Fragalysis Stack"
organization = "xchem"
variable = "stack_image_tag"

[verify]
url = "{awx}/version/"
expect = {{ "version.stack" = "xchem:{{version}}" }}

[github]
api_url = "{github}"
"#,
        awx = awx.url(),
        prefix = awx.prefix(),
        github = github.url(),
    );
    sandbox
        .commit_desired(
            &[
                ("stackrel.toml", &config),
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
    github.set_run(STACK, &tag, "build main", "completed", Some("success"));
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

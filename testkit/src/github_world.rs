//! A release on GitHub and AWX, for the end-to-end tests and the GitHub benchmark: the demo
//! sandbox's repositories served by the GitHub emulator as `xchem/fragalysis-*`, an AWX emulator
//! with the production template whose `/version/` page stands in for production, a release
//! ticket, and the committed desired state that releases `VERSION` through them. The real
//! clients (the octocrab forge, the AWX deployer, the HTTP verifier) are built here the way
//! `stackrel apply` builds them, with waits cut from seconds to milliseconds.
//!
//! CI takes no time: every component tag is built green from the start, and the stack's
//! "build main" run succeeds the moment stackrel creates its release tag.

use crate::emulator::awx::AwxEmulator;
use crate::emulator::github::{GithubEmulator, LoggedRequest};
use crate::registry::RegistryServer;
use crate::sandbox::{component_refs, load, master, tag_commit};
use git2::Oid;
use stackrel::apply::{ApplyError, ApplyOptions, ApplyOutcome, Backends, Progress, apply, preview};
use stackrel::config::{Config, Deploy, Verify};
use stackrel::credentials::{GithubAuth, Secret};
use stackrel::demo::{Sandbox, build_sandbox};
use stackrel::deploy::awx::AwxDeployer;
use stackrel::deploy::http_verify::HttpVerifier;
use stackrel::forge::Forge;
use stackrel::forge::github::{GithubForge, RequestPolicy};
use stackrel::plan::{Plan, PlanOptions};
use stackrel::release::{Release, TicketRef};
use std::collections::BTreeMap;
use std::time::Duration;
use tempfile::TempDir;

/// The emulators accept only these; no test prints them.
pub const TOKEN: &str = "ghp_e2eFragalysisToken0123456789abcdef";
pub const AWX_TOKEN: &str = "awx-e2e-token-5c4b3a";
pub const STACK: &str = "xchem/fragalysis-stack";
pub const BACKEND: &str = "xchem/fragalysis-backend";
pub const FRONTEND: &str = "xchem/fragalysis-frontend";
pub const WORKFLOW: &str = ".github/workflows/build-main.yaml";
pub const VERSION: &str = "2026.08.3";
pub const TEMPLATE: &str = "Production Fragalysis Stack";
pub const VARIABLE: &str = "stack_image_tag";
pub const LABEL: &str = "fragalysis-stack";
/// The hidden marker of stackrel's ticket comment for `VERSION`.
pub const MARKER: &str = "<!-- stackrel:release:2026.08.3 -->";

/// A sandbox served by a GitHub emulator, an AWX emulator with the production template, a
/// release ticket, and the committed desired state that releases `VERSION` on GitHub.
pub struct World {
    _dir: TempDir,
    pub sandbox: Sandbox,
    pub github: GithubEmulator,
    pub awx: AwxEmulator,
    pub config: Config,
    pub releases: Vec<Release>,
    /// The stack's master before the release.
    pub start: Oid,
    /// Every ref of the component repositories before the release.
    pub component_refs: BTreeMap<String, String>,
    pub ticket: TicketRef,
    /// The GitHub token the emulator accepts and `connect` uses.
    pub token: String,
}

pub fn world() -> World {
    world_with(("2026.08.1", "2026.08.2"))
}

/// A world whose release pins `backend` and `frontend`.
pub fn world_with(pins: (&str, &str)) -> World {
    world_as(pins, TOKEN)
}

/// A world whose GitHub credential is `token` (its prefix says what kind: `ghp_` classic,
/// `ghs_` the Actions token, `github_pat_` fine-grained).
pub fn world_as((backend, frontend): (&str, &str), token: &str) -> World {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sandbox = build_sandbox(&dir.path().join("sandbox")).expect("the sandbox builds");
    let (github, awx) = serve(&sandbox, token, AWX_TOKEN, backend);
    github.succeed_on_tag_push(STACK, "build main");
    let number = github.add_issue(STACK, &format!("Release {VERSION}"), "Planned release");
    let release_text = format!(
        "backend = \"{backend}\"\nfrontend = \"{frontend}\"\nticket = \"{STACK}#{number}\"\nnotes = \"End-to-end release\"\n"
    );
    sandbox
        .commit_desired(
            &[
                ("stackrel.toml", &config_text(&github, &awx)),
                (&format!("releases/{VERSION}.toml"), &release_text),
            ],
            "Release on GitHub and AWX",
        )
        .expect("the desired state commits");
    let (config, releases) = load(&sandbox);
    assert_eq!(releases.last().unwrap().version.to_string(), VERSION);
    let start = master(&sandbox);
    let component_refs = component_refs(&sandbox);
    World {
        _dir: dir,
        sandbox,
        github,
        awx,
        config,
        releases,
        start,
        component_refs,
        ticket: TicketRef {
            owner: "xchem".into(),
            repo: "fragalysis-stack".into(),
            number,
        },
        token: token.to_string(),
    }
}

/// The sandbox's repositories on a GitHub emulator, every component tag built green (the
/// staging-only ones too: what stops those is the branch rule, not CI), and an AWX emulator with
/// the production template whose jobs have ended by the first time anyone looks at them and
/// whose `/version/` page reports `live_backend` as the backend.
pub fn serve(
    sandbox: &Sandbox,
    token: &str,
    awx_token: &str,
    live_backend: &str,
) -> (GithubEmulator, AwxEmulator) {
    let github = GithubEmulator::start(token).expect("the GitHub emulator starts");
    for (name, path) in [
        (STACK, &sandbox.stack),
        (BACKEND, &sandbox.backend),
        (FRONTEND, &sandbox.frontend),
    ] {
        github.add_repo(name, path).expect("a bare repository");
    }
    for (name, path, tags) in [
        (
            BACKEND,
            &sandbox.backend,
            ["2026.07.1", "2026.08.1", "2026.08.9"],
        ),
        (
            FRONTEND,
            &sandbox.frontend,
            ["2026.08.1", "2026.08.2", "2026.09.1"],
        ),
    ] {
        for tag in tags {
            let commit = tag_commit(path, tag).expect("the demo tag exists");
            github.set_run(
                name,
                &commit.to_string(),
                "build production",
                "completed",
                Some("success"),
            );
        }
    }
    let awx = AwxEmulator::start(awx_token).expect("the AWX emulator starts");
    awx.add_template(TEMPLATE, "xchem", true, &[]);
    awx.set_polls_to_finish(1);
    awx.set_version_field("backend", &format!("xchem:{live_backend}"));
    (github, awx)
}

/// `stackrel.toml` for the world: the stack and components on `github`, deployed through the
/// template on `awx` and verified on its `/version/` page, the release ticket labelled.
pub fn config_text(github: &GithubEmulator, awx: &AwxEmulator) -> String {
    format!(
        r#"[stack]
repo = "{STACK}"
branch = "master"
workflow = "{WORKFLOW}"
commit_message = "build: Use of b/e {{backend}} f/e {{frontend}}"
ci = "build main"

[components.backend]
repo = "{BACKEND}"
branch = "production"
pin = "BE_IMAGE_TAG"
ci = "build production"

[components.frontend]
repo = "{FRONTEND}"
branch = "production"
pin = "FE_IMAGE_TAG"
ci = "build production"

[deploy]
kind = "awx"
url = "{awx}"
api_prefix = "{prefix}"
template = "{TEMPLATE}"
organization = "xchem"
variable = "{VARIABLE}"

[verify]
url = "{awx}/version/"
expect = {{ "version.stack" = "xchem:{{version}}", "version.backend" = "xchem:{{backend}}" }}
timeout_seconds = 5

[github]
api_url = "{github}"

[ticket]
label = "{LABEL}"
"#,
        awx = awx.url(),
        prefix = awx.prefix(),
        github = github.url(),
    )
}

impl World {
    pub fn release(&self) -> &Release {
        self.releases.last().expect("a release is declared")
    }

    pub fn component_refs_now(&self) -> BTreeMap<String, String> {
        component_refs(&self.sandbox)
    }
}

/// Tests wait milliseconds where production waits seconds.
pub fn policy() -> RequestPolicy {
    RequestPolicy {
        get_attempts: 4,
        backoff: Duration::from_millis(2),
        max_rate_limit_wait: Duration::from_secs(5),
        secondary_limit_wait: Duration::from_millis(10),
    }
}

/// A new GitHub client with an empty ETag cache: a process (re)starting.
pub fn connect(w: &World) -> GithubForge {
    connect_with(w, &w.token)
}

pub fn connect_with(w: &World, token: &str) -> GithubForge {
    connect_auth(w, &GithubAuth::Token(Secret::new(token)))
}

/// A client with these credentials (`GithubAuth::ActionsToken`: the workflow said it is its own).
pub fn connect_auth(w: &World, auth: &GithubAuth) -> GithubForge {
    GithubForge::connect(&w.github.url(), auth, policy()).expect("the GitHub client builds")
}

/// A fresh RSA key for an App, made by the system's `openssl` (the App's JWT is signed with it;
/// the emulator accepts any well-formed JWT, as a test stand-in for GitHub's check).
fn app_key() -> String {
    let out = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "2048"])
        .output()
        .expect("openssl makes a test key for the App");
    assert!(out.status.success(), "openssl genrsa failed");
    String::from_utf8(out.stdout).expect("a PEM key is text")
}

/// A new GitHub client authenticated as the emulator's App installation.
pub fn connect_app(w: &World) -> GithubForge {
    let auth = GithubAuth::App {
        app_id: 1,
        private_key: Secret::new(app_key()),
        installation_id: Some(crate::emulator::github::INSTALLATION_ID),
    };
    GithubForge::connect(&w.github.url(), &auth, policy()).expect("the GitHub App client builds")
}

pub fn awx_deployer(w: &World) -> AwxDeployer {
    let Deploy::Awx(awx) = &w.config.deploy else {
        panic!("the world deploys with AWX")
    };
    AwxDeployer::new(awx, AWX_TOKEN)
        .expect("the AWX deployer builds")
        .with_poll_interval(Duration::from_millis(1))
        .with_retry_backoff(Duration::from_millis(2))
        .with_deploy_timeout(Duration::from_secs(10))
}

pub fn verifier(w: &World) -> HttpVerifier {
    let Some(Verify::Http { url, expect, .. }) = &w.config.verify else {
        panic!("the world verifies over HTTP")
    };
    HttpVerifier::new(url, expect)
        .expect("the verifier builds")
        .with_request_timeout(Duration::from_secs(5))
}

pub fn options() -> ApplyOptions {
    ApplyOptions {
        plan: PlanOptions::default(),
        gate_timeout: Duration::from_secs(5),
        poll_start: Duration::from_millis(1),
        poll_max: Duration::from_millis(5),
        ..ApplyOptions::default()
    }
}

/// One `stackrel apply` process against the world through `forge`.
pub fn apply_with(
    w: &World,
    forge: &dyn Forge,
    progress: &mut dyn Progress,
) -> Result<ApplyOutcome, ApplyError> {
    let deployer = awx_deployer(w);
    let verifier = verifier(w);
    let backends = Backends {
        forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };
    apply(
        &w.config,
        w.release(),
        &w.releases,
        &backends,
        &options(),
        progress,
    )
}

/// A whole `stackrel apply` process: a new GitHub client, AWX client and verifier.
pub fn apply_fresh(w: &World, progress: &mut dyn Progress) -> Result<ApplyOutcome, ApplyError> {
    apply_with(w, &connect(w), progress)
}

/// `stackrel plan`: observe and plan, nothing else.
pub fn plan_with(w: &World, forge: &dyn Forge) -> Plan {
    let deployer = awx_deployer(w);
    let verifier = verifier(w);
    let backends = Backends {
        forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };
    preview(
        &w.config,
        w.release(),
        &w.releases,
        &backends,
        PlanOptions::default(),
    )
    .expect("observing succeeds")
}

// --- What the services saw ----------------------------------------------------------------------

pub fn awx_jobs_for(w: &World, version: &str) -> usize {
    w.awx
        .jobs()
        .iter()
        .filter(|j| j.variable(VARIABLE).as_deref() == Some(version))
        .count()
}

/// Every request that was not a GET, as `METHOD path -> status`.
pub fn writes(log: &[LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

pub fn count(log: &[LoggedRequest], method: &str, path_contains: &str) -> usize {
    log.iter()
        .filter(|r| r.method == method && r.path.contains(path_contains))
        .count()
}

// --- Release tickets ----------------------------------------------------------------------------

/// Where the Fragalysis team keeps its release tickets, and its board (orgs/m2ms/projects/2).
pub const TICKETS: &str = "m2ms/fragalysis-frontend";
pub const BOARD_OWNER: &str = "m2ms";
pub const BOARD_NUMBER: u64 = 2;
pub const COLUMN: &str = "push to production";
/// The board's columns, options of its "Status" field.
pub const COLUMNS: &[&str] = &["Todo", "In progress", COLUMN, "Done"];
/// The people who deal with releases: collaborators of the ticket repository.
pub const RELEASERS: &[&str] = &["alice", "bob"];

/// `[ticket]` as the Fragalysis team would write it: adopt or create `Release <version>` in
/// `TICKETS`, assigned to `RELEASERS`, labelled, on the board in `COLUMN`.
pub fn fragalysis_ticket_section() -> String {
    format!(
        "[ticket]\nrepo = \"{TICKETS}\"\ncreate = true\nassignees = [\"alice\", \"bob\"]\nlabel = \"{LABEL}\"\nproject = {{ owner = \"{BOARD_OWNER}\", number = {BOARD_NUMBER}, field = \"Status\", column = \"{COLUMN}\" }}\n"
    )
}

/// A world whose release file names no ticket, with `ticket_section` as `[ticket]`: the ticket
/// repository `TICKETS` (the frontend's git repository under the m2ms name) with `RELEASERS` as
/// collaborators, the m2ms board, and — when `registry` is given — every component's image in
/// it (`image` set in the config). Nothing else differs from `world()`.
pub fn ticket_world(ticket_section: &str, registry: Option<&RegistryServer>) -> World {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sandbox = build_sandbox(&dir.path().join("sandbox")).expect("the sandbox builds");
    let (github, awx) = serve(&sandbox, TOKEN, AWX_TOKEN, "2026.08.1");
    github.succeed_on_tag_push(STACK, "build main");
    github
        .add_repo(TICKETS, &sandbox.frontend)
        .expect("the ticket repository");
    for login in RELEASERS {
        github.add_collaborator(TICKETS, login);
    }
    github.add_project(
        BOARD_OWNER,
        true,
        BOARD_NUMBER,
        "Fragalysis",
        &[("Status", COLUMNS)],
    );
    let mut config = config_text(&github, &awx)
        .replace(&format!("[ticket]\nlabel = \"{LABEL}\"\n"), ticket_section);
    if let Some(registry) = registry {
        for (name, pin) in [("backend", "BE_IMAGE_TAG"), ("frontend", "FE_IMAGE_TAG")] {
            let image = registry.image(&format!("xchem/fragalysis-{name}"));
            config = config.replace(
                &format!("pin = \"{pin}\"\n"),
                &format!("pin = \"{pin}\"\nimage = \"{image}\"\n"),
            );
        }
        registry.push_image("xchem/fragalysis-backend", "2026.08.1");
        registry.push_image("xchem/fragalysis-frontend", "2026.08.2");
    }
    let release_text = "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nnotes = \"\"\"\n- m2ms/fragalysis-frontend#1523 RHS loader fix\n- xchem/fragalysis-backend#701 faster target upload\n\"\"\"\n";
    sandbox
        .commit_desired(
            &[
                ("stackrel.toml", &config),
                (&format!("releases/{VERSION}.toml"), release_text),
            ],
            "Release with a ticket kept on the board",
        )
        .expect("the desired state commits");
    let (config, releases) = load(&sandbox);
    let start = master(&sandbox);
    let component_refs = component_refs(&sandbox);
    World {
        _dir: dir,
        sandbox,
        github,
        awx,
        config,
        releases,
        start,
        component_refs,
        token: TOKEN.to_string(),
        // The ticket is found or opened by title; this names where it will be.
        ticket: TicketRef {
            owner: "m2ms".into(),
            repo: "fragalysis-frontend".into(),
            number: 0,
        },
    }
}

/// One `stackrel apply` process through `forge`, images asked of `registry` when given.
pub fn apply_with_registry(
    w: &World,
    forge: &dyn Forge,
    registry: Option<&dyn stackrel::registry::Registry>,
    progress: &mut dyn Progress,
) -> Result<ApplyOutcome, ApplyError> {
    let deployer = awx_deployer(w);
    let verifier = verifier(w);
    let backends = Backends {
        forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry,
    };
    apply(
        &w.config,
        w.release(),
        &w.releases,
        &backends,
        &options(),
        progress,
    )
}

//! What a release costs on GitHub and AWX (`cargo bench --bench github`): one whole release of
//! the Fragalysis-shaped demo stack through the real clients (octocrab forge, AWX deployer, HTTP
//! verifier) against the GitHub and AWX emulators on 127.0.0.1, with emulated CI and AWX jobs
//! taking zero time. Reports GitHub requests for the release by method (and how many counted
//! against the rate limit), the requests of an idle reconcile that count against the rate limit,
//! AWX requests per release, and wall time. The request counts are exact (every run is the
//! same); wall time is the median over several fresh worlds.

use stackrel::apply::{ApplyOutcome, Backends, Quiet, apply};
use stackrel::config::{Config, RepoLocation};
use stackrel::credentials::{GithubAuth, Secret};
use stackrel::demo::build_sandbox;
use stackrel::deploy::awx::AwxDeployer;
use stackrel::deploy::http_verify::HttpVerifier;
use stackrel::forge::github::{GithubForge, RequestPolicy};
use stackrel::forge::{
    CiStatus, CommitId, DeploymentRecord, FileAtCommit, FileWrite, Forge, ForgeResult, NewRelease,
};
use stackrel::observation::observe;
use stackrel::plan::{PlanOptions, plan};
use stackrel::release::{Release, TicketRef};
use stackrel::tree::DesiredRepo;
use stackrel::validate::validate;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::emulator::awx::AwxEmulator;
use testkit::emulator::github::{GithubEmulator, LoggedRequest};

const TOKEN: &str = "ghp_benchToken0123456789abcdef0123456789";
const AWX_TOKEN: &str = "awx-bench-token";
const STACK: &str = "xchem/fragalysis-stack";
const BACKEND: &str = "xchem/fragalysis-backend";
const FRONTEND: &str = "xchem/fragalysis-frontend";
const VERSION: &str = "2026.08.3";
const RUNS: usize = 7;

struct World {
    _dir: tempfile::TempDir,
    stack: std::path::PathBuf,
    github: GithubEmulator,
    awx: AwxEmulator,
    config: Config,
    releases: Vec<Release>,
}

fn tag_commit(bare: &Path, tag: &str) -> Option<String> {
    let repo = git2::Repository::open(bare).ok()?;
    let object = repo.revparse_single(&format!("refs/tags/{tag}")).ok()?;
    object.peel_to_commit().ok().map(|c| c.id().to_string())
}

/// The demo sandbox served as `xchem/fragalysis-*`, green component builds, a release ticket,
/// an AWX template whose jobs end at the first look, and the desired state releasing `VERSION`.
fn world() -> World {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sandbox = build_sandbox(&dir.path().join("sandbox")).expect("the sandbox builds");
    let github = GithubEmulator::start(TOKEN).expect("the GitHub emulator starts");
    github.add_repo(STACK, &sandbox.stack).unwrap();
    github.add_repo(BACKEND, &sandbox.backend).unwrap();
    github.add_repo(FRONTEND, &sandbox.frontend).unwrap();
    for (name, path, tag) in [
        (BACKEND, &sandbox.backend, "2026.08.1"),
        (FRONTEND, &sandbox.frontend, "2026.08.2"),
    ] {
        let commit = tag_commit(path, tag).expect("the demo tag exists");
        github.set_run(
            name,
            &commit,
            "build production",
            "completed",
            Some("success"),
        );
    }
    let number = github.add_issue(STACK, &format!("Release {VERSION}"), "Planned release");
    let awx = AwxEmulator::start(AWX_TOKEN).expect("the AWX emulator starts");
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
template = "Production Fragalysis Stack"
organization = "xchem"
variable = "stack_image_tag"

[verify]
url = "{awx}/version/"
expect = {{ "version.stack" = "xchem:{{version}}", "version.backend" = "xchem:{{backend}}" }}

[github]
api_url = "{github}"

[ticket]
label = "fragalysis-stack"
"#,
        awx = awx.url(),
        github = github.url(),
    );
    let release = format!(
        "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nticket = \"{STACK}#{number}\"\n"
    );
    sandbox
        .commit_desired(
            &[
                ("stackrel.toml", &config),
                (&format!("releases/{VERSION}.toml"), &release),
            ],
            "Release on GitHub and AWX",
        )
        .unwrap();
    let desired = DesiredRepo::open(&sandbox.desired).unwrap();
    let state = validate(
        &desired
            .read_commit(&desired.commit("HEAD").unwrap())
            .unwrap(),
    );
    assert!(state.is_valid(), "{:#?}", state.diagnostics);
    World {
        stack: sandbox.stack.clone(),
        config: state.config.unwrap(),
        releases: state.releases,
        github,
        awx,
        _dir: dir,
    }
}

/// GitHub as the loop sees it, plus the stack's CI: its run on the release tag succeeds the
/// instant the tag exists (zero build time).
struct WithCi<'a> {
    forge: &'a GithubForge,
    world: &'a World,
}

impl Forge for WithCi<'_> {
    fn resolve_tag(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<CommitId>> {
        self.forge.resolve_tag(repo, tag)
    }
    fn branch_head(&self, repo: &RepoLocation, branch: &str) -> ForgeResult<CommitId> {
        self.forge.branch_head(repo, branch)
    }
    fn is_reachable(&self, repo: &RepoLocation, commit: &str, branch: &str) -> ForgeResult<bool> {
        self.forge.is_reachable(repo, commit, branch)
    }
    fn ci_status(
        &self,
        repo: &RepoLocation,
        commit: &str,
        workflow: &str,
    ) -> ForgeResult<CiStatus> {
        self.forge.ci_status(repo, commit, workflow)
    }
    fn read_file(
        &self,
        repo: &RepoLocation,
        commit: &str,
        path: &str,
    ) -> ForgeResult<Option<FileAtCommit>> {
        self.forge.read_file(repo, commit, path)
    }
    fn write_file(&self, repo: &RepoLocation, write: &FileWrite<'_>) -> ForgeResult<CommitId> {
        self.forge.write_file(repo, write)
    }
    fn file_history(
        &self,
        repo: &RepoLocation,
        branch: &str,
        path: &str,
        limit: usize,
    ) -> ForgeResult<Vec<CommitId>> {
        self.forge.file_history(repo, branch, path, limit)
    }
    fn create_release(&self, repo: &RepoLocation, release: &NewRelease<'_>) -> ForgeResult<()> {
        let result = self.forge.create_release(repo, release);
        if let Some(commit) = tag_commit(&self.world.stack, VERSION) {
            self.world
                .github
                .set_run(STACK, &commit, "build main", "completed", Some("success"));
        }
        result
    }
    fn has_release(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<bool> {
        self.forge.has_release(repo, tag)
    }
    fn pin_overrides(&self, repo: &RepoLocation, pins: &[&str]) -> ForgeResult<Vec<String>> {
        self.forge.pin_overrides(repo, pins)
    }
    fn report_ticket(
        &self,
        ticket: &TicketRef,
        marker: &str,
        body: &str,
        label: Option<&str>,
    ) -> ForgeResult<()> {
        self.forge.report_ticket(ticket, marker, body, label)
    }
    fn record_deployment(&self, repo: &RepoLocation, record: &DeploymentRecord) -> ForgeResult<()> {
        self.forge.record_deployment(repo, record)
    }
    fn deployments(&self, repo: &RepoLocation) -> ForgeResult<Vec<DeploymentRecord>> {
        self.forge.deployments(repo)
    }
}

/// What one release cost.
struct Sample {
    wall: Duration,
    github: Vec<LoggedRequest>,
    awx_api: usize,
    awx_by_kind: BTreeMap<String, usize>,
    verify: usize,
    idle: Vec<LoggedRequest>,
    idle_wall: Duration,
}

fn one_release() -> Sample {
    let w = world();
    let policy = RequestPolicy {
        backoff: Duration::from_millis(2),
        secondary_limit_wait: Duration::from_millis(10),
        ..RequestPolicy::default()
    };
    let auth = GithubAuth::Token(Secret::new(TOKEN));
    let started = Instant::now();
    let forge = GithubForge::connect(&w.github.url(), &auth, policy).unwrap();
    let forge = WithCi {
        forge: &forge,
        world: &w,
    };
    let deployer = AwxDeployer::new(&w.config.deploy, AWX_TOKEN)
        .unwrap()
        .with_poll_interval(Duration::from_millis(1));
    let verifier = HttpVerifier::new(w.config.verify.as_ref().unwrap()).unwrap();
    let backends = Backends {
        forge: &forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
    };
    let options = stackrel::apply::ApplyOptions {
        gate_timeout: Duration::from_secs(10),
        poll_start: Duration::from_millis(1),
        poll_max: Duration::from_millis(5),
        ..Default::default()
    };
    let release = w.releases.last().unwrap();
    let outcome = apply(
        &w.config,
        release,
        &w.releases,
        &backends,
        &options,
        &mut Quiet,
    )
    .expect("the release applies");
    let wall = started.elapsed();
    assert!(
        matches!(outcome, ApplyOutcome::Converged { .. }),
        "{outcome:#?}"
    );
    let github = w.github.requests();
    let awx_log = w.awx.requests();
    let verify = awx_log.iter().filter(|r| r.path == "/version/").count();
    let mut awx_by_kind = BTreeMap::new();
    for r in awx_log.iter().filter(|r| r.path != "/version/") {
        let kind = r
            .path
            .trim_start_matches(&w.awx.prefix())
            .split('/')
            .map(generic)
            .collect::<Vec<_>>()
            .join("/");
        *awx_by_kind
            .entry(format!("{} {kind}", r.method))
            .or_default() += 1;
    }

    // An idle reconcile: the daemon's next observe + plan, with nothing to do.
    w.github.clear_log();
    let idle_started = Instant::now();
    let observed = observe(&w.config, release, &forge, Some(&deployer), Some(&verifier)).unwrap();
    let idle_plan = plan(
        &w.config,
        release,
        &w.releases,
        &observed,
        PlanOptions::default(),
    );
    let idle_wall = idle_started.elapsed();
    assert!(idle_plan.in_sync(), "{idle_plan:#?}");
    Sample {
        wall,
        awx_api: awx_log.len() - verify,
        awx_by_kind,
        verify,
        github,
        idle: w.github.requests(),
        idle_wall,
    }
}

/// A path segment with numeric ids and full commit SHAs elided, for grouping requests.
fn generic(segment: &str) -> String {
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        return ":id".into();
    }
    let mut out = String::new();
    let mut rest = segment;
    while !rest.is_empty() {
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 40 {
            out.push_str(":sha");
            rest = &rest[40..];
        } else {
            let keep = hex.max(1);
            let keep = rest.char_indices().nth(keep).map_or(rest.len(), |(i, _)| i);
            out.push_str(&rest[..keep]);
            rest = &rest[keep..];
        }
    }
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once as a smoke test.
    let runs = if std::env::args().any(|a| a == "--bench") {
        RUNS
    } else {
        1
    };
    let samples: Vec<Sample> = (0..runs).map(|_| one_release()).collect();
    let first = &samples[0];
    for s in &samples[1..] {
        assert_eq!(s.github.len(), first.github.len(), "request counts vary");
    }

    let mut by_method: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for r in &first.github {
        let entry = by_method.entry(r.method.clone()).or_default();
        entry.0 += 1;
        if r.counted {
            entry.1 += 1;
        }
        if r.status == 304 {
            entry.2 += 1;
        }
    }
    let total = first.github.len();
    let counted = first.github.iter().filter(|r| r.counted).count();
    println!(
        "stackrel on GitHub + AWX: one whole release of {VERSION} (demo stack, emulators on 127.0.0.1)"
    );
    println!();
    println!(
        "GitHub requests for a whole release: {counted} counted against the rate limit (target <= 30); {total} in all, the other {} free 304s",
        total - counted
    );
    println!(
        "  {:<6} {:>8} {:>9} {:>6}",
        "method", "requests", "counted", "304"
    );
    for (method, (n, c, nm)) in &by_method {
        println!("  {method:<6} {n:>8} {c:>9} {nm:>6}");
    }
    let mut by_endpoint: BTreeMap<String, usize> = BTreeMap::new();
    for r in &first.github {
        // `/repos/xchem/fragalysis-stack/contents/...` → `stack contents/...`, ids and SHAs elided.
        let mut segments = r.path.split('/').skip(3);
        let repo = segments
            .next()
            .unwrap_or_default()
            .trim_start_matches("fragalysis-");
        let rest: Vec<String> = segments.take(3).map(generic).collect();
        *by_endpoint
            .entry(format!("{} {repo} {}", r.method, rest.join("/")))
            .or_default() += 1;
    }
    println!("  by endpoint:");
    for (endpoint, n) in &by_endpoint {
        println!("    {n:>3}  {endpoint}");
    }
    let idle_counted = first.idle.iter().filter(|r| r.counted).count();
    let idle_304 = first.idle.iter().filter(|r| r.status == 304).count();
    println!();
    println!(
        "Idle reconcile (observe + plan when converged): {} GitHub requests, {idle_counted} counted against the rate limit (target 0), {idle_304} answered 304",
        first.idle.len()
    );
    println!();
    println!(
        "AWX API requests per release: {} (plus {} GETs of /version/ by the verifier)",
        first.awx_api, first.verify
    );
    for (kind, n) in &first.awx_by_kind {
        println!("    {n:>3}  {kind}");
    }
    println!();
    let walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    let idles: Vec<Duration> = samples.iter().map(|s| s.idle_wall).collect();
    println!(
        "Wall time of the release (CI and AWX jobs take zero time; debug = {}): median {} over {runs} runs (min {}, max {})",
        cfg!(debug_assertions),
        ms(median(walls.clone())),
        ms(*walls.iter().min().unwrap()),
        ms(*walls.iter().max().unwrap()),
    );
    println!(
        "Wall time of an idle reconcile: median {}",
        ms(median(idles))
    );
}

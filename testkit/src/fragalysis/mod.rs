//! A local replica of the real xchem/fragalysis-stack and its two components, for tests that must
//! meet the world stackrel was written for rather than the demo's two-commit toy: five years of
//! stack releases cut by hand, lightweight tags (two of them on one commit), a release tagged on a
//! merge commit after its pin commit with a later commit on top, tags that are not production
//! releases, component tags on the wrong branches and a hotfix tag no CI ever built.
//!
//! Built with git2 into the demo sandbox's layout (`stack.git`, `backend.git`, `frontend.git`,
//! `desired/`), so every helper of [`crate::sandbox`] works on it. The data is real and read at
//! build time, never copied: the project's own 68 release files and `stackrel.toml` (from the
//! crate root), and the workflow file, Dockerfiles and tag listing of the real repositories (from
//! `../shared/fixtures/fragalysis/`). Where the fixtures are absent (a user's machine), building
//! fails with [`ReplicaError::FixturesAbsent`] and [`replica`] says so and returns `None`.
//!
//! Deterministic: every commit has a fixed author and time (the real tag dates where known).

mod components;
mod desired;
mod git;
mod project;
mod stack;

use crate::sandbox::{load, sandbox_at};
use git2::Oid;
use stackrel::demo::Sandbox;
use std::path::{Path, PathBuf};

pub use project::{fixture_dir, project_root};

/// The release the real stack has live: tagged on a merge commit, after its pin commit.
pub const LIVE: &str = "2026.08.3";
/// A backend tag on `production` with green CI that no stack release pins yet.
pub const NEW_BACKEND: &str = "2026.08.2";
/// Component tags (backend and frontend alike) on `staging` only: never to be released.
pub const STAGING_ONLY: &str = "2026.09.1";
/// The real hotfix backend tag, on `production`, that its `build production` workflow never
/// builds (it runs only for `N.N` and `N.N.N` tags): it has no CI result.
pub const HOTFIX_BACKEND: &str = "2024.11.1-1";
/// Stack tags that are not production releases (`^[0-9]+\.[0-9]+\.[0-9]+$`), as in reality.
pub const NOT_PRODUCTION_TAGS: [&str; 2] = ["2022.11.2-rc.1", "2.4"];
/// A semver stack tag from before CalVer: production-grade by the pattern, numerically old.
pub const SEMVER_TAG: &str = "2.7.1";

/// How the replica's `stackrel.toml` differs from the project's (beyond its repositories, which
/// are on disk, and its deploy, which is a command).
#[derive(Debug, Clone)]
pub struct Options {
    /// `[verify] command = ["./check-live.sh", …]`: production (a file beside the repositories,
    /// see [`Replica::production_runs`]) is asked whether it runs a release.
    pub verify: bool,
    /// `[daemon] windows`, six-field cron expressions.
    pub windows: Vec<String>,
    /// `[daemon] timezone`, an IANA name; UTC when `None`.
    pub timezone: Option<String>,
    /// The components' `ci` gates (`build production`, read from CI notes).
    pub component_ci: bool,
    /// `[stack] ci` (`build main`): every release tag of the replica has a green run; a tag
    /// stackrel cuts has none until a test adds one.
    pub stack_ci: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verify: true,
            windows: Vec::new(),
            timezone: None,
            component_ci: true,
            stack_ci: false,
        }
    }
}

/// The replica, and the commits of the real shape a test asserts on.
pub struct Replica {
    pub sandbox: Sandbox,
    /// Like 005a791: the pin commit of `LIVE`, on a side branch.
    pub pin_commit: Oid,
    /// Like 067becd: the merge of the pin commit into master, tagged `LIVE`.
    pub merge: Oid,
    /// Like 428de6b: master's tip, one commit after the merge, changing only the Dockerfile.
    pub tip: Oid,
}

#[derive(Debug)]
pub enum ReplicaError {
    /// The real repositories' files are not there: the replica cannot be built.
    FixturesAbsent(PathBuf),
    /// The project's own desired state or the fixtures are not what the replica expects.
    Data(String),
    Io(PathBuf, std::io::Error),
    Git(git2::Error),
}

impl std::fmt::Display for ReplicaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplicaError::FixturesAbsent(dir) => write!(
                f,
                "the Fragalysis fixtures are absent ({}), so the replica of the real stack cannot be built",
                dir.display()
            ),
            ReplicaError::Data(why) => write!(f, "the replica's data: {why}"),
            ReplicaError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            ReplicaError::Git(e) => write!(f, "git: {}", e.message()),
        }
    }
}

impl std::error::Error for ReplicaError {}

impl From<git2::Error> for ReplicaError {
    fn from(e: git2::Error) -> Self {
        ReplicaError::Git(e)
    }
}

/// Builds the replica under `root` (which must not exist, or be empty).
pub fn build(root: &Path, options: &Options) -> Result<Replica, ReplicaError> {
    let fixtures = project::Fixtures::read()?;
    let project = project::Project::read()?;
    std::fs::create_dir_all(root).map_err(|e| ReplicaError::Io(root.to_path_buf(), e))?;
    let sandbox = sandbox_at(root);
    // The four repositories are independent: built side by side.
    let (project, fixtures) = (&project, &fixtures);
    let landmarks = std::thread::scope(|scope| {
        let backend =
            scope.spawn(|| components::build(&sandbox.backend, "backend", &project.releases));
        let frontend =
            scope.spawn(|| components::build(&sandbox.frontend, "frontend", &project.releases));
        let desired = scope.spawn(|| desired::build(&sandbox.desired, project, fixtures, options));
        let landmarks = stack::build(&sandbox.stack, project, fixtures, options.stack_ci);
        for built in [backend, frontend, desired] {
            built
                .join()
                .expect("building a repository does not panic")?;
        }
        landmarks
    })?;
    Ok(Replica {
        sandbox,
        pin_commit: landmarks.pin_commit,
        merge: landmarks.merge,
        tip: landmarks.tip,
    })
}

/// A fresh replica in a temporary directory; `None`, with the reason printed, when the fixtures
/// are absent. Any other failure is a broken test world, and panics.
pub fn replica(options: &Options) -> Option<(tempfile::TempDir, Replica)> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    match build(&dir.path().join("replica"), options) {
        Ok(replica) => Some((dir, replica)),
        Err(e @ ReplicaError::FixturesAbsent(_)) => {
            eprintln!("skipping: {e}");
            None
        }
        Err(e) => panic!("the Fragalysis replica builds: {e}"),
    }
}

impl Replica {
    /// Makes production run the declared release `version`, as its verifier will read it: what
    /// a deploy of it leaves behind, without one.
    pub fn production_runs(&self, version: &str) {
        let (_, releases) = load(&self.sandbox);
        let release = releases
            .iter()
            .find(|r| r.version.to_string() == version)
            .unwrap_or_else(|| panic!("{version} is declared"));
        std::fs::write(
            self.sandbox.root.join(desired::PRODUCTION_FILE),
            desired::production_line(version, &release.components),
        )
        .expect("the production file is writable");
    }
}

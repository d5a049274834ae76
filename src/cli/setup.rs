//! What `plan`, `apply` and `status` share: the desired state as committed (never the working
//! tree), refused whole if invalid, and the backends its config names.

use super::output::{print_diagnostics, tree_error};
use miette::{Report, miette};
use stackrel::config::{Config, DeployKind, RepoLocation};
use stackrel::deploy::command::{CommandDeployer, CommandRunner, CommandVerifier};
use stackrel::deploy::{Deployer, Verifier};
use stackrel::diagnostic::Format;
use stackrel::forge::local::LocalForge;
use stackrel::release::Release;
use stackrel::tree::DesiredRepo;
use stackrel::validate::{DesiredState, validate};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Loaded {
    pub config: Config,
    pub releases: Vec<Release>,
    pub dir: PathBuf,
}

impl Loaded {
    pub fn newest(&self) -> Option<&Release> {
        self.releases.last()
    }
}

/// Reads and validates the desired state at `rev`. Invalid: prints every problem and fails.
pub fn load(repo: &Path, rev: &str) -> Result<Loaded, Report> {
    let desired = DesiredRepo::open(repo).map_err(tree_error)?;
    let commit = desired.commit(rev).map_err(tree_error)?;
    let files = desired.read_commit(&commit).map_err(tree_error)?;
    let state: DesiredState = validate(&files);
    let short = commit.id().to_string()[..7].to_string();
    match state.config {
        Some(config) if state.errors() == 0 => Ok(Loaded {
            config,
            releases: state.releases,
            dir: repo.to_path_buf(),
        }),
        _ => {
            print_diagnostics(&state.diagnostics, Format::Human, repo, "");
            Err(miette!(
                help =
                    "fix the problems above and commit; `stackrel validate --rev {rev}` lists them",
                "the desired state at {rev} ({short}) is invalid, so nothing converges"
            ))
        }
    }
}

pub struct Backends {
    pub forge: LocalForge,
    pub deployer: Option<Box<dyn Deployer>>,
    pub verifier: Option<Box<dyn Verifier>>,
}

impl Backends {
    pub fn as_apply(&self) -> stackrel::apply::Backends<'_> {
        stackrel::apply::Backends {
            forge: &self.forge,
            deployer: self.deployer.as_deref(),
            verifier: self.verifier.as_deref(),
        }
    }
}

/// Builds the backends the config names. This build has the local backend; a config that names
/// GitHub repositories, AWX or an HTTP check gets a plain refusal rather than a half-run.
pub fn backends(loaded: &Loaded) -> Result<Backends, Report> {
    let config = &loaded.config;
    let repos =
        std::iter::once(&config.stack.repo).chain(config.components.values().map(|c| &c.repo));
    for repo in repos {
        if let Ok(RepoLocation::GitHub { .. }) = RepoLocation::parse(repo) {
            return Err(miette!(
                help = "use local repository paths (./stack) in stackrel.toml, or try `stackrel demo` for a local sandbox",
                "`{repo}` is a GitHub repository; this build converges local git repositories only"
            ));
        }
    }
    let runner = |argv: &Vec<String>, timeout: Option<u64>, default: u64| CommandRunner {
        argv: argv.clone(),
        dir: loaded.dir.clone(),
        timeout: Duration::from_secs(timeout.unwrap_or(default)),
    };
    let deployer: Option<Box<dyn Deployer>> = match config.deploy.kind {
        DeployKind::None => None,
        DeployKind::Command => {
            let argv = config.deploy.command.clone().unwrap_or_default();
            Some(Box::new(CommandDeployer(runner(
                &argv,
                config.deploy.timeout_seconds,
                1800,
            ))))
        }
        DeployKind::Awx => {
            return Err(miette!(
                help =
                    "use [deploy] kind = \"command\" with a script that launches the job, for now",
                "[deploy] kind = \"awx\" is not available in this build"
            ));
        }
    };
    let verifier: Option<Box<dyn Verifier>> = match &config.verify {
        None => None,
        Some(verify) => match &verify.command {
            Some(argv) => Some(Box::new(CommandVerifier(runner(argv, Some(60), 60)))),
            None => {
                return Err(miette!(
                    help = "use [verify] command = [\"./check-live.sh\", \"{{version}}\"] for now",
                    "[verify] url is not available in this build"
                ));
            }
        },
    };
    Ok(Backends {
        forge: LocalForge::new(loaded.dir.clone()),
        deployer,
        verifier,
    })
}

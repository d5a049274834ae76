//! What `plan`, `apply` and `status` share: the desired state as committed (never the working
//! tree), refused whole if invalid, and the backends its config names.

use super::output::{print_diagnostics, tree_error};
use miette::{Report, miette};
use stackrel::config::{Config, DeployKind, RepoLocation};
use stackrel::credentials::GithubAuth;
use stackrel::deploy::command::{CommandDeployer, CommandRunner, CommandVerifier};
use stackrel::deploy::{Deployer, Verifier};
use stackrel::diagnostic::Format;
use stackrel::forge::github::{GithubForge, RequestPolicy};
use stackrel::forge::local::LocalForge;
use stackrel::forge::router::Router;
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
    pub forge: Router,
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

fn repositories(config: &Config) -> Vec<RepoLocation> {
    std::iter::once(&config.stack.repo)
        .chain(config.components.values().map(|c| &c.repo))
        .filter_map(|r| RepoLocation::parse(r).ok())
        .collect()
}

/// Connects to GitHub when the config names GitHub repositories, and says plainly what the
/// credentials can and cannot do there before anything else happens.
fn github(config: &Config) -> Result<Option<GithubForge>, Report> {
    let on_github: Vec<RepoLocation> = repositories(config)
        .into_iter()
        .filter(|r| matches!(r, RepoLocation::GitHub { .. }))
        .collect();
    if on_github.is_empty() {
        return Ok(None);
    }
    let auth = GithubAuth::from_env()
        .map_err(|e| miette!(help = "see the README's Credentials section", "{e}"))?
        .ok_or_else(|| {
            miette!(
                help = "export GITHUB_TOKEN (or GITHUB_TOKEN_FILE), or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID",
                "stackrel.toml names GitHub repositories, but no GitHub credentials are set"
            )
        })?;
    let api_url = config
        .github
        .as_ref()
        .and_then(|g| g.api_url.clone())
        .unwrap_or_else(|| "https://api.github.com".into());
    let forge = GithubForge::connect(&api_url, &auth, RequestPolicy::default())
        .map_err(|e| miette!(help = "check [github] api_url and the credentials", "{e}"))?;
    let stack = RepoLocation::parse(&config.stack.repo).ok();
    for repo in &on_github {
        let name = match repo {
            RepoLocation::GitHub { owner, name } => format!("{owner}/{name}"),
            RepoLocation::Local(path) => path.clone(),
        };
        match forge.permissions(repo) {
            Ok((false, _)) => eprintln!(
                "github: cannot read {name} (not found, or the credentials have no access)"
            ),
            Ok((true, push)) if Some(repo) == stack.as_ref() && !push => {
                eprintln!(
                    "github: can read {name} but cannot push to it: the pin and release steps will be refused"
                )
            }
            Ok((true, _)) if Some(repo) == stack.as_ref() => {
                eprintln!("github: can read and push to {name}")
            }
            Ok((true, _)) => eprintln!("github: can read {name}"),
            Err(e) => {
                return Err(miette!(
                    help = "check the credentials and [github] api_url",
                    "github: {e}"
                ));
            }
        }
    }
    Ok(Some(forge))
}

/// Builds the backends the config names.
pub fn backends(loaded: &Loaded) -> Result<Backends, Report> {
    let config = &loaded.config;
    let github = github(config)?;
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
        forge: Router {
            local: LocalForge::new(loaded.dir.clone()),
            github,
        },
        deployer,
        verifier,
    })
}

//! Builds what a config names — the forge (local, GitHub, or both behind a router), the
//! deployer and the verifier — with credentials from the environment. Shared by the command
//! line and the daemon, so both run the same loop against the same things.

use crate::config::{Config, DeployKind, RepoLocation};
use crate::credentials::GithubAuth;
use crate::deploy::awx::AwxDeployer;
use crate::deploy::command::{CommandDeployer, CommandRunner, CommandVerifier};
use crate::deploy::http_verify::HttpVerifier;
use crate::deploy::{Deployer, Verifier};
use crate::forge::github::{GithubForge, RequestPolicy};
use crate::forge::local::LocalForge;
use crate::forge::router::Router;
use std::path::Path;
use std::time::Duration;

pub struct Backends {
    pub forge: Router,
    pub deployer: Option<Box<dyn Deployer + Send>>,
    pub verifier: Option<Box<dyn Verifier + Send>>,
    /// What the credentials can and cannot do, one line per repository, for the startup
    /// preflight (empty without GitHub).
    pub preflight: Vec<String>,
}

impl Backends {
    pub fn as_apply(&self) -> crate::apply::Backends<'_> {
        crate::apply::Backends {
            forge: &self.forge,
            deployer: self.deployer.as_deref().map(|d| d as &dyn Deployer),
            verifier: self.verifier.as_deref().map(|v| v as &dyn Verifier),
        }
    }

    /// API requests by service and status so far, for metrics and benchmarks.
    pub fn request_counts(&self) -> Vec<(String, String, u64)> {
        let mut counts = vec![(
            "git".to_string(),
            "ok".to_string(),
            self.forge.local.operations(),
        )];
        if let Some(github) = &self.forge.github {
            for (method_status, n) in github.stats().by_method_status {
                let status = method_status
                    .rsplit(' ')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                counts.push(("github".into(), status, n));
            }
        }
        counts
    }

    pub fn rate_limit_remaining(&self) -> Option<u64> {
        self.forge
            .github
            .as_ref()
            .and_then(|g| g.stats().rate_limit_remaining)
    }
}

fn repositories(config: &Config) -> Vec<RepoLocation> {
    std::iter::once(&config.stack.repo)
        .chain(config.components.values().map(|c| &c.repo))
        .filter_map(|r| RepoLocation::parse(r).ok())
        .collect()
}

/// Connects to GitHub when the config names GitHub repositories, and finds out what the
/// credentials can do there.
fn github(config: &Config, preflight: &mut Vec<String>) -> Result<Option<GithubForge>, String> {
    let on_github: Vec<RepoLocation> = repositories(config)
        .into_iter()
        .filter(|r| matches!(r, RepoLocation::GitHub { .. }))
        .collect();
    if on_github.is_empty() {
        return Ok(None);
    }
    let auth = GithubAuth::from_env()?.ok_or_else(|| {
        "stackrel.toml names GitHub repositories, but no GitHub credentials are set: export GITHUB_TOKEN (or GITHUB_TOKEN_FILE), or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID".to_string()
    })?;
    let api_url = config
        .github
        .as_ref()
        .and_then(|g| g.api_url.clone())
        .unwrap_or_else(|| "https://api.github.com".into());
    let forge = GithubForge::connect(&api_url, &auth, RequestPolicy::default())?;
    let stack = RepoLocation::parse(&config.stack.repo).ok();
    let mut seen = Vec::new();
    for repo in &on_github {
        if seen.contains(repo) {
            continue;
        }
        seen.push(repo.clone());
        let name = match repo {
            RepoLocation::GitHub { owner, name } => format!("{owner}/{name}"),
            RepoLocation::Local(path) => path.clone(),
        };
        let is_stack = Some(repo) == stack.as_ref();
        let (read, push) = forge
            .permissions(repo)
            .map_err(|e| format!("github: {e}"))?;
        preflight.push(match (read, push, is_stack) {
            (false, _, _) => format!("github: cannot read {name} (not found, or the credentials have no access)"),
            (true, false, true) => {
                format!("github: can read {name} but cannot push to it: the pin and release steps will be refused")
            }
            (true, true, true) => format!("github: can read and push to {name}"),
            (true, _, false) => format!("github: can read {name}"),
        });
    }
    Ok(Some(forge))
}

/// Builds the backends the config names. `dir` is the desired-state repository (relative
/// paths in the config and commands are relative to it).
pub fn build(config: &Config, dir: &Path) -> Result<Backends, String> {
    let mut preflight = Vec::new();
    let github = github(config, &mut preflight)?;
    let runner = |argv: &Vec<String>, timeout: Option<u64>, default: u64| CommandRunner {
        argv: argv.clone(),
        dir: dir.to_path_buf(),
        timeout: Duration::from_secs(timeout.unwrap_or(default)),
    };
    let deployer: Option<Box<dyn Deployer + Send>> = match config.deploy.kind {
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
            let token = crate::credentials::from_env("AWX_TOKEN")?.ok_or_else(|| {
                "[deploy] kind = \"awx\" needs AWX_TOKEN (or AWX_TOKEN_FILE): an AWX personal access token with write scope".to_string()
            })?;
            Some(Box::new(AwxDeployer::new(&config.deploy, token.expose())?))
        }
    };
    let verifier: Option<Box<dyn Verifier + Send>> = match &config.verify {
        None => None,
        Some(verify) => match &verify.command {
            Some(argv) => Some(Box::new(CommandVerifier(runner(argv, Some(60), 60)))),
            None => Some(Box::new(HttpVerifier::new(verify)?)),
        },
    };
    Ok(Backends {
        forge: Router {
            local: LocalForge::new(dir),
            github,
        },
        deployer,
        verifier,
        preflight,
    })
}

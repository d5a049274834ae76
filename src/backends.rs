//! Builds what a config names — the forge (local, GitHub, or both behind a router), the
//! deployer and the verifier — with credentials from the environment. Shared by the command
//! line and the daemon, so both run the same loop against the same things.

use crate::config::{Config, Deploy, RepoLocation, VERIFY_COMMAND_TIMEOUT, Verify};
use crate::credentials::{CredentialError, GithubAuth};
use crate::deploy::awx::AwxDeployer;
use crate::deploy::command::{CommandDeployer, CommandRunner, CommandVerifier};
use crate::deploy::http_verify::HttpVerifier;
use crate::deploy::{DeployError, Deployer, Verifier, VerifyError};
use crate::forge::ForgeError;
use crate::forge::github::{GithubForge, RequestPolicy};
use crate::forge::local::LocalForge;
use crate::forge::router::Router;
use crate::registry::{Logins, Registry, RegistryClient};
use std::path::Path;
use std::time::Duration;

/// Why the backends a config names cannot be built: missing or unusable credentials, or a
/// forge, deployer or verifier that refuses its settings.
#[derive(Debug, thiserror::Error)]
pub enum BackendsError {
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error(
        "stackrel.toml names GitHub repositories, but no GitHub credentials are set: export GITHUB_TOKEN (or GITHUB_TOKEN_FILE), or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID"
    )]
    NoGithubCredentials,
    #[error(
        "[deploy] kind = \"awx\" needs AWX_TOKEN (or AWX_TOKEN_FILE): an AWX personal access token with write scope"
    )]
    NoAwxToken,
    #[error(transparent)]
    GithubConnect(ForgeError),
    /// Asking GitHub what the credentials may do.
    #[error("github: {0}")]
    Github(#[source] ForgeError),
    #[error(transparent)]
    Deployer(#[from] DeployError),
    #[error(transparent)]
    Verifier(#[from] VerifyError),
    /// The registry logins in the environment cannot be read.
    #[error("{0}")]
    RegistryLogins(String),
}

pub struct Backends {
    pub forge: Router,
    pub deployer: Option<Box<dyn Deployer + Send>>,
    pub verifier: Option<Box<dyn Verifier + Send>>,
    /// Asks the registries of the configured images; `None` when no image is configured.
    pub registry: Option<Box<dyn Registry + Send + Sync>>,
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
            registry: self.registry.as_deref().map(|r| r as &dyn Registry),
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

/// Connects to GitHub when the config names GitHub repositories, and finds out what the
/// credentials can do there.
fn github(
    config: &Config,
    preflight: &mut Vec<String>,
) -> Result<Option<GithubForge>, BackendsError> {
    let on_github: Vec<&RepoLocation> = config
        .repositories()
        .into_iter()
        .filter(|r| r.is_github())
        .collect();
    if on_github.is_empty() {
        return Ok(None);
    }
    let auth = GithubAuth::from_env()?.ok_or(BackendsError::NoGithubCredentials)?;
    let forge = GithubForge::connect(&config.github.api_url, &auth, RequestPolicy::default())
        .map_err(BackendsError::GithubConnect)?;
    for repo in on_github {
        let is_stack = *repo == config.stack.repo;
        let access = forge.permissions(repo).map_err(BackendsError::Github)?;
        preflight.push(match (access.read, access.push, is_stack) {
            (false, _, _) => format!("github: cannot read {repo} (not found, or the credentials have no access)"),
            (true, false, true) => {
                format!("github: can read {repo} but cannot push to it: the pin and release steps will be refused")
            }
            (true, true, true) => format!("github: can read and push to {repo}"),
            (true, _, false) => format!("github: can read {repo}"),
        });
        if let Some(canonical) = &access.renamed_to {
            preflight.push(format!(
                "github: {repo} was renamed or transferred to {canonical}: stackrel uses {canonical}; update stackrel.toml to say so"
            ));
        }
        if is_stack && access.push {
            let workflow = forge
                .workflow_access(repo, &config.stack.workflow)
                .map_err(BackendsError::Github)?;
            preflight.push(format!("github: {workflow}"));
        }
    }
    preflight.extend(forge.ticket_access(&config.ticket).iter().map(|a| a.line()));
    Ok(Some(forge))
}

/// A registry client when the config names images, with the logins the environment gives.
fn registry(config: &Config) -> Result<Option<Box<dyn Registry + Send + Sync>>, BackendsError> {
    if config.images().next().is_none() {
        return Ok(None);
    }
    let logins = Logins::from_env().map_err(BackendsError::RegistryLogins)?;
    Ok(Some(Box::new(RegistryClient::new(logins))))
}

/// Builds the backends the config names. `dir` is the desired-state repository (relative
/// paths in the config and commands are relative to it).
pub fn build(config: &Config, dir: &Path) -> Result<Backends, BackendsError> {
    let mut preflight = Vec::new();
    let github = github(config, &mut preflight)?;
    let runner = |argv: &[String], timeout: Duration| CommandRunner {
        argv: argv.to_vec(),
        dir: dir.to_path_buf(),
        timeout,
    };
    let deployer: Option<Box<dyn Deployer + Send>> = match &config.deploy {
        Deploy::None => None,
        Deploy::Command(command) => Some(Box::new(CommandDeployer(runner(
            &command.argv,
            command.timeout,
        )))),
        Deploy::Awx(awx) => {
            let token = crate::credentials::token_from_env("AWX_TOKEN")?
                .ok_or(BackendsError::NoAwxToken)?;
            Some(Box::new(AwxDeployer::new(awx, token.expose())?))
        }
    };
    let verifier: Option<Box<dyn Verifier + Send>> = match &config.verify {
        None => None,
        Some(Verify::Command { argv, .. }) => Some(Box::new(CommandVerifier(runner(
            argv,
            VERIFY_COMMAND_TIMEOUT,
        )))),
        Some(Verify::Http { url, expect, .. }) => Some(Box::new(HttpVerifier::new(url, expect)?)),
    };
    Ok(Backends {
        forge: Router {
            local: LocalForge::new(dir),
            github,
        },
        deployer,
        verifier,
        registry: registry(config)?,
        preflight,
    })
}

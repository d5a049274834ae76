//! What is live: everything the planner needs to know about the forge, the deployer and
//! production, gathered in one pass of read-only calls. Keeping observation separate from
//! planning makes the planner a pure function (tested without I/O) and makes every decision
//! traceable to a value that can be printed.

use crate::calver::CalVer;
use crate::config::{Component, Config, Deploy};
use crate::deploy::{Deployer, DeployerView, ReleaseContext, Verifier};
use crate::forge::{CiStatus, CommitId, DeploymentRecord, Forge, ForgeError};
use crate::pin::read_pins;
use crate::release::Release;
use serde::Serialize;
use std::collections::BTreeMap;

/// One component's tag as seen on its forge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentObservation {
    pub tag: String,
    pub branch: String,
    /// `None`: no such tag.
    pub commit: Option<CommitId>,
    /// Whether the tag's commit is reachable from the component's branch.
    pub reachable: bool,
    /// `None` when no CI gate is configured.
    pub ci: Option<(String, CiStatus)>,
}

/// The stack repository: current pins, the release tag, and its build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackObservation {
    pub branch_head: CommitId,
    /// Component → value pinned on the branch tip; or why the workflow file could not be read.
    pub pins: Result<BTreeMap<String, String>, String>,
    /// The newest commit that changed the workflow file, when it pins the desired versions:
    /// the commit the release tag belongs on.
    pub pin_commit: Option<CommitId>,
    pub tag: Option<TagObservation>,
    /// The stack build on the tag, when `[stack] ci` is set and the tag exists.
    pub ci: Option<(String, CiStatus)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagObservation {
    pub commit: CommitId,
    /// The pins in the workflow file at the tag's commit (or why they could not be read).
    pub pins: Result<BTreeMap<String, String>, String>,
    pub on_branch: bool,
    /// Whether the forge's release object exists too (on GitHub a tag and a release are two
    /// things; a crash between creating them leaves a tag without a release).
    pub release: bool,
}

/// The deployment history and what production reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DeployObservation {
    /// The newest record for the desired version, if any.
    pub latest_for_version: Option<DeploymentRecord>,
    /// The newest version with a succeeded or verified deployment: what is live.
    pub live_version: Option<CalVer>,
    /// The result of one verification, taken only once a deploy has succeeded.
    pub verified: Option<Result<bool, String>>,
    pub verify_detail: String,
    /// What the deployer itself knows about this version (AWX job history), when it can tell.
    pub deployer: Option<DeployerView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub components: BTreeMap<String, ComponentObservation>,
    pub stack: StackObservation,
    pub deploy: DeployObservation,
    /// Things a person should know that do not stop the release (a secret shadowing a pin).
    pub warnings: Vec<String>,
}

/// Reads the pins of every component from workflow text, by component name.
pub fn pins_by_component(config: &Config, text: &str) -> Result<BTreeMap<String, String>, String> {
    let sites = read_pins(text, &config.pin_keys()).map_err(|e| e.to_string())?;
    Ok(config
        .components
        .keys()
        .zip(sites)
        .map(|(name, site)| (name.clone(), site.value))
        .collect())
}

/// Only the newest commit that changed the workflow file is the pin commit.
const PIN_HISTORY_LIMIT: usize = 1;

/// Observes everything the plan for `release` depends on. Read-only.
pub fn observe(
    config: &Config,
    release: &Release,
    forge: &dyn Forge,
    deployer: Option<&dyn Deployer>,
    verifier: Option<&dyn Verifier>,
) -> Result<Observation, ForgeError> {
    let mut components = BTreeMap::new();
    for (name, component) in &config.components {
        let tag = release.components.get(name).cloned().unwrap_or_default();
        components.insert(name.clone(), observe_component(forge, component, tag)?);
    }
    let stack = observe_stack(config, release, forge)?;
    let context = stack.tag.as_ref().map(|tag| ReleaseContext {
        version: release.version.to_string(),
        components: release.components.clone(),
        commit: tag.commit.clone(),
    });
    let deploy = observe_deploy(config, forge, deployer, verifier, release, context)?;
    Ok(Observation {
        warnings: pin_override_warnings(config, forge)?,
        components,
        stack,
        deploy,
    })
}

/// One component's tag: where it points, whether its branch holds it, its CI.
fn observe_component(
    forge: &dyn Forge,
    component: &Component,
    tag: String,
) -> Result<ComponentObservation, ForgeError> {
    let repo = &component.repo;
    let commit = forge.resolve_tag(repo, &tag)?;
    let (reachable, ci) = match &commit {
        Some(commit) => {
            let reachable = forge.is_reachable(repo, commit, &component.branch)?;
            let ci = match &component.ci {
                Some(workflow) => {
                    Some((workflow.clone(), forge.ci_status(repo, commit, workflow)?))
                }
                None => None,
            };
            (reachable, ci)
        }
        None => (false, None),
    };
    Ok(ComponentObservation {
        tag,
        branch: component.branch.clone(),
        commit,
        reachable,
        ci,
    })
}

/// The pins in the workflow file at a commit, or why they cannot be read.
fn pins_at(
    config: &Config,
    forge: &dyn Forge,
    commit: &str,
) -> Result<Result<BTreeMap<String, String>, String>, ForgeError> {
    let workflow = &config.stack.workflow;
    Ok(
        match forge.read_file(&config.stack.repo, commit, workflow)? {
            Some(file) => pins_by_component(config, &file.text),
            None => Err(format!(
                "{workflow} does not exist at {}",
                crate::forge::short(commit)
            )),
        },
    )
}

/// The stack branch's pins, the commit that set them, the release tag and its build.
fn observe_stack(
    config: &Config,
    release: &Release,
    forge: &dyn Forge,
) -> Result<StackObservation, ForgeError> {
    let repo = &config.stack.repo;
    let branch = &config.stack.branch;
    let branch_head = forge.branch_head(repo, branch)?;
    let pins = pins_at(config, forge, &branch_head)?;
    let pin_commit = if pins.as_ref().is_ok_and(|p| *p == release.components) {
        let history =
            forge.file_history(repo, branch, &config.stack.workflow, PIN_HISTORY_LIMIT)?;
        history.into_iter().next()
    } else {
        None
    };
    let version = release.version.to_string();
    let tag = match forge.resolve_tag(repo, &version)? {
        Some(commit) => Some(TagObservation {
            pins: pins_at(config, forge, &commit)?,
            // The branch's tip and the newest commit of its history are on it without asking.
            on_branch: commit == branch_head
                || pin_commit.as_deref() == Some(commit.as_str())
                || forge.is_reachable(repo, &commit, branch)?,
            release: forge.has_release(repo, &version)?,
            commit,
        }),
        None => None,
    };
    let ci = match (&config.stack.ci, &tag) {
        (Some(workflow), Some(tag)) => Some((
            workflow.clone(),
            forge.ci_status(repo, &tag.commit, workflow)?,
        )),
        _ => None,
    };
    Ok(StackObservation {
        branch_head,
        pins,
        pin_commit,
        tag,
        ci,
    })
}

/// The deployment records, the deployer's own view, and — once a deploy has started — what
/// production reports. `context` is the release as cut: `None` before its tag exists.
fn observe_deploy(
    config: &Config,
    forge: &dyn Forge,
    deployer: Option<&dyn Deployer>,
    verifier: Option<&dyn Verifier>,
    release: &Release,
    context: Option<ReleaseContext>,
) -> Result<DeployObservation, ForgeError> {
    let version = release.version.to_string();
    let records = forge.deployments(&config.stack.repo)?;
    let mut deploy = DeployObservation {
        latest_for_version: records.iter().rev().find(|r| r.version == version).cloned(),
        live_version: crate::forge::live_version(&records),
        ..DeployObservation::default()
    };
    let Some(context) = context else {
        return Ok(deploy);
    };
    if let Some(deployer) = deployer {
        deploy.deployer = deployer
            .observe(&context)
            .map_err(|e| ForgeError::Other(format!("asking the deployer about {version}: {e}")))?;
    }
    // Verify only once the release is cut and (if there is a deployer) a deploy has at least
    // started: before that, production cannot be running it, and the check would be wasted.
    let deploy_started = config.deploy == Deploy::None
        || deploy.latest_for_version.is_some()
        || deploy
            .deployer
            .as_ref()
            .is_some_and(|v| *v != DeployerView::NotLaunched);
    if let Some(verifier) = verifier
        && deploy_started
    {
        match verifier.verify(&context) {
            Ok(outcome) => {
                deploy.verified = Some(Ok(outcome.live));
                deploy.verify_detail = outcome.detail;
            }
            Err(e) => deploy.verified = Some(Err(e.to_string())),
        }
    }
    Ok(deploy)
}

/// A repository secret or variable named like a pin silently overrides it in the build.
fn pin_override_warnings(config: &Config, forge: &dyn Forge) -> Result<Vec<String>, ForgeError> {
    let workflow = &config.stack.workflow;
    Ok(forge
        .pin_overrides(&config.stack.repo, &config.pin_keys())?
        .into_iter()
        .map(|name| {
            format!(
                "a repository secret or variable named {name} overrides the pin in {workflow}: the build would not use the pinned version; delete it"
            )
        })
        .collect())
}

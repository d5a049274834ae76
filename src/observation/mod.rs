//! What is live: everything the planner needs to know about the forge, the deployer and
//! production, gathered in one pass of read-only calls. Keeping observation separate from
//! planning makes the planner a pure function (tested without I/O) and makes every decision
//! traceable to a value that can be printed.

mod evidence;
mod images;

pub use images::{ImageObservation, ImageState, digests};

use crate::apply::Backends;
use crate::calver::CalVer;
use crate::config::{Component, Config, Deploy, LaunchedBy};
use crate::deploy::DeployerView;
use crate::forge::{
    CiStatus, CommitId, CommitRange, DeploymentRecord, DeploymentState, Forge, ForgeError, TagRef,
};
use crate::pin::read_pins;
use crate::release::Release;
use crate::workflow::{TagTrigger, Workflow, find_named};
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
    /// Why the CI run can never come, when it is missing and the workflow, read at the tag,
    /// says a push of this tag does not start it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci_never_runs: Option<String>,
}

/// The stack repository: current pins, the release tag, and its build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackObservation {
    pub branch_head: CommitId,
    /// Component → value pinned on the branch tip; or why the workflow file could not be read.
    pub pins: Result<BTreeMap<String, String>, String>,
    pub tag: Option<TagObservation>,
    /// The stack build on the tag, when `[stack] ci` is set and the tag exists.
    pub ci: Option<(String, CiStatus)>,
    /// The stack's production tags (`[stack] production_tags`), which say what was released.
    pub released: Released,
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
    /// Whether stackrel cut it (its tag message or release notes say so), rather than a person.
    pub by_stackrel: bool,
}

/// What the stack's production tags say was released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Released {
    /// Every production tag.
    pub tags: Vec<TagRef>,
    /// The newest production tag other than the release's own, by number.
    pub newest_other: Option<TagRef>,
    /// The newest production tag older than the release: the previous release.
    pub previous: Option<TagRef>,
    /// What the release adds to the previous one, once the commit it will be cut at is known
    /// and it is not cut yet.
    pub adds: Option<CommitRange>,
}

/// The deployment history and what production reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DeployObservation {
    /// The newest record for the desired version, if any.
    pub latest_for_version: Option<DeploymentRecord>,
    /// What production runs, by the strongest evidence there is.
    pub live: Option<Live>,
    /// The result of one verification of the desired release, taken once a deploy of it has
    /// at least started, or whenever it shows the release live (a person released it): before a
    /// deploy, a "not live" only says that nothing was deployed yet.
    pub verified: Option<Result<bool, String>>,
    pub verify_detail: String,
    /// What the deployer itself knows about this version (AWX job history), when it can tell.
    pub deployer: Option<DeployerView>,
    /// Who holds the deploy lock, when another run is deploying right now.
    pub in_progress: Option<crate::lock::Holder>,
}

impl DeployObservation {
    /// The version production runs, by whatever evidence.
    pub fn live_version(&self) -> Option<CalVer> {
        self.live.as_ref().map(|l| l.version)
    }
}

/// A version production runs, and what says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Live {
    pub version: CalVer,
    pub evidence: Evidence,
}

/// Where knowledge of what is live comes from, strongest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", content = "detail", rename_all = "snake_case")]
pub enum Evidence {
    /// The verifier read it off production.
    Verified,
    /// The deployer's own history: `AWX job 4711`.
    Deployer(String),
    /// A deployment record: stackrel's own (deployed, verified, reported) or a person's
    /// `stackrel adopt`.
    Record(DeploymentState),
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evidence::Verified => f.write_str("verified"),
            Evidence::Deployer(source) => f.write_str(source),
            Evidence::Record(DeploymentState::Adopted) => f.write_str("adopted"),
            Evidence::Record(DeploymentState::Verified) => f.write_str("verified when deployed"),
            Evidence::Record(DeploymentState::Reported) => f.write_str("deployed, not verified"),
            Evidence::Record(_) => f.write_str("recorded as deployed"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub components: BTreeMap<String, ComponentObservation>,
    pub stack: StackObservation,
    pub deploy: DeployObservation,
    /// The configured images at the release's tags, by component name (`stack` for the stack's
    /// own): what the registry said, and the digest when found. Only the images the release's
    /// state lets be asked about are here (see `images`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, ImageObservation>,
    /// Things a person should know that do not stop the release (a secret shadowing a pin).
    pub warnings: Vec<String>,
}

impl Observation {
    /// The digest of each image found, by component name (`stack` for the stack's own): for
    /// the ticket, the plan and the deployment record.
    pub fn image_digests(&self) -> BTreeMap<String, crate::registry::ImageDigest> {
        digests(&self.images)
    }
}

/// Reads the pins of every component from workflow text, by component name; an error names
/// the workflow file, since the pin editor's positions are in it.
pub fn pins_by_component(config: &Config, text: &str) -> Result<BTreeMap<String, String>, String> {
    let sites = read_pins(text, &config.pin_keys())
        .map_err(|e| format!("{}: {e}", config.stack.workflow))?;
    Ok(config
        .components
        .keys()
        .zip(sites)
        .map(|(name, site)| (name.clone(), site.observed()))
        .collect())
}

/// How many of the commits a release adds are listed by name.
const ADDS_LISTED: usize = 10;

/// Observes everything the plan for `release` depends on. Read-only. `declared` is every valid
/// release, for asking production about the newest released one.
pub fn observe(
    config: &Config,
    release: &Release,
    declared: &[Release],
    backends: &Backends<'_>,
) -> Result<Observation, ForgeError> {
    let forge = backends.forge;
    let mut components = BTreeMap::new();
    for (name, component) in &config.components {
        let tag = release.components.get(name).cloned().unwrap_or_default();
        let observed = observe_component(forge, component, tag)
            .map_err(|e| in_component(e, name, component))?;
        components.insert(name.clone(), observed);
    }
    let stack = observe_stack(config, release, forge)?;
    let deploy = evidence::observe_deploy(config, release, declared, &stack, backends)?;
    let mut warnings = pin_override_warnings(config, forge)?;
    warnings.extend(double_deploy_warning(config, forge, &stack.branch_head)?);
    let seen = images::Seen {
        components: &components,
        stack: &stack,
        deploy: &deploy,
    };
    let images = images::observe_images(config, release, &seen, backends.registry);
    Ok(Observation {
        warnings,
        components,
        stack,
        deploy,
        images,
    })
}

/// One component's tag: where it points, whether its branch holds it, its CI.
/// Names the component and the `stackrel.toml` fields behind a missing branch or repository:
/// "branch prodution not found" alone leaves a person to guess which of several it was.
fn in_component(error: ForgeError, name: &str, component: &Component) -> ForgeError {
    let ForgeError::NotFound { what } = error else {
        return error;
    };
    let (field, place) = if what.starts_with("branch ") {
        let field = format!("branch = \"{}\"", component.branch);
        (field, &component.places.branch)
    } else {
        (
            format!("repo = \"{}\"", component.repo),
            &component.places.repo,
        )
    };
    let at = place
        .as_ref()
        .map(|p| format!(":{}:{}", p.line, p.column))
        .unwrap_or_default();
    ForgeError::NotFound {
        what: format!(
            "{what} of component `{name}` ({field} in [components.{name}] of stackrel.toml{at})"
        ),
    }
}

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
    // Only a missing run is worth explaining: read the workflow then, not on every look.
    let ci_never_runs = match (&commit, &ci) {
        (Some(commit), Some((workflow, CiStatus::Missing))) => {
            never_runs(forge, repo, commit, workflow, &tag)?
        }
        _ => None,
    };
    Ok(ComponentObservation {
        tag,
        branch: component.branch.clone(),
        commit,
        reachable,
        ci,
        ci_never_runs,
    })
}

/// Where GitHub Actions workflows live in a repository.
const WORKFLOWS_DIR: &str = ".github/workflows";

/// Why a push of `tag` never starts the workflow named `name`, by the workflow file as it is at
/// the tag's commit; `None` when it would, or when no single readable file has that name.
fn never_runs(
    forge: &dyn Forge,
    repo: &crate::config::RepoLocation,
    commit: &str,
    name: &str,
    tag: &str,
) -> Result<Option<String>, ForgeError> {
    let mut files = Vec::new();
    for path in forge.list_files(repo, commit, WORKFLOWS_DIR)? {
        if (path.ends_with(".yml") || path.ends_with(".yaml"))
            && let Some(file) = forge.read_file(repo, commit, &path)?
        {
            files.push((path, file.text));
        }
    }
    let named = find_named(files.iter().map(|(p, t)| (p.as_str(), t.as_str())), name);
    let [(path, workflow)] = named.found.as_slice() else {
        return Ok(None);
    };
    Ok(match workflow.tag_trigger(tag) {
        TagTrigger::Runs => None,
        never => Some(format!("{path}: {never}")),
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

/// The stack branch's pins, the release tag and its build, and what was released before.
fn observe_stack(
    config: &Config,
    release: &Release,
    forge: &dyn Forge,
) -> Result<StackObservation, ForgeError> {
    let repo = &config.stack.repo;
    let branch = &config.stack.branch;
    let branch_head = forge.branch_head(repo, branch)?;
    let pins = pins_at(config, forge, &branch_head)?;
    let version = release.version.to_string();
    let tag = match forge.resolve_tag(repo, &version)? {
        Some(commit) => Some(observe_tag(config, forge, &version, commit, &branch_head)?),
        None => None,
    };
    let ci = match (&config.stack.ci, &tag) {
        (Some(workflow), Some(tag)) => Some((
            workflow.clone(),
            forge.ci_status(repo, &tag.commit, workflow)?,
        )),
        _ => None,
    };
    // The commit the release would be cut at, when it is not cut yet: the tip, if it pins it.
    let target = (tag.is_none() && pins.as_ref().is_ok_and(|p| *p == release.components))
        .then_some(branch_head.as_str());
    let released = observe_released(config, forge, &version, target)?;
    Ok(StackObservation {
        branch_head,
        pins,
        tag,
        ci,
        released,
    })
}

fn observe_tag(
    config: &Config,
    forge: &dyn Forge,
    version: &str,
    commit: CommitId,
    branch_head: &str,
) -> Result<TagObservation, ForgeError> {
    let repo = &config.stack.repo;
    let release = forge.find_release(repo, version)?;
    Ok(TagObservation {
        pins: pins_at(config, forge, &commit)?,
        // The branch's tip is on it without asking.
        on_branch: commit == branch_head
            || forge.is_reachable(repo, &commit, &config.stack.branch)?,
        release: release.is_some(),
        by_stackrel: release.is_some_and(|r| r.by_stackrel),
        commit,
    })
}

/// A tag's version as numbers (`2026.08.3` → [2026, 8, 3]), so that tags of any numeric scheme
/// order as numbers; `None` for tags that are not dotted numbers.
pub fn tag_number(tag: &str) -> Option<Vec<u64>> {
    tag.split('.').map(|part| part.parse().ok()).collect()
}

/// The production tags, the newest other than `version`, the previous release, and what the
/// release adds to it when cut at `target`.
fn observe_released(
    config: &Config,
    forge: &dyn Forge,
    version: &str,
    target: Option<&str>,
) -> Result<Released, ForgeError> {
    let repo = &config.stack.repo;
    let tags: Vec<TagRef> = forge
        .tags(repo)?
        .into_iter()
        .filter(|t| config.stack.production_tags.matches(&t.name))
        .collect();
    let own = tag_number(version);
    let newest = |filter: &dyn Fn(&[u64]) -> bool| {
        tags.iter()
            .filter_map(|t| Some((tag_number(&t.name)?, t)))
            .filter(|(n, t)| t.name != version && filter(n))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, t)| t.clone())
    };
    let newest_other = newest(&|_| true);
    let previous = newest(&|n| own.as_deref().is_some_and(|own| n < own));
    let adds = match (&previous, target) {
        (Some(previous), Some(target)) => {
            Some(forge.commits_between(repo, &previous.commit, target, ADDS_LISTED)?)
        }
        _ => None,
    };
    Ok(Released {
        tags,
        newest_other,
        previous,
        adds,
    })
}

/// With `launched_by = "stackrel"`, a stack workflow that launches the same AWX template itself
/// (Fragalysis' `deploy-production` job) would deploy every release twice.
fn double_deploy_warning(
    config: &Config,
    forge: &dyn Forge,
    branch_head: &str,
) -> Result<Option<String>, ForgeError> {
    let Deploy::Awx(awx) = &config.deploy else {
        return Ok(None);
    };
    if awx.launched_by != LaunchedBy::Stackrel {
        return Ok(None);
    }
    let path = &config.stack.workflow;
    let Some(file) = forge.read_file(&config.stack.repo, branch_head, path)? else {
        return Ok(None);
    };
    let Ok(workflow) = Workflow::parse(&file.text) else {
        return Ok(None);
    };
    Ok(workflow
        .awx_launches()
        .iter()
        .find(|l| l.template.as_ref().and_then(|t| t.known()) == Some(awx.template.as_str()))
        .map(|launch| {
            format!(
                "{path} launches the AWX template \"{}\" itself (job {}), and [deploy] launched_by = \"stackrel\" launches it too: every release would deploy twice; set launched_by = \"ci\" to follow the workflow's job instead",
                awx.template, launch.job
            )
        }))
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

//! Why a step stands where it does, as data. The planner decides with values; this module is the
//! one place they become English (Terraform's plan reasons work the same way), and each reason
//! has a stable machine-readable `code` that `plan --json` prints beside the text, so scripts and
//! tests never depend on wording.

use crate::calver::CalVer;
use crate::forge::{CommitId, CommitRange, short};
use crate::observation::Evidence;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// One pin that the pin commit will change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinChange {
    /// The env key, e.g. `BE_IMAGE_TAG`.
    pub pin: String,
    /// The value on the branch now; `None` when the component has no value there.
    pub from: Option<String>,
    pub to: String,
}

/// What a release adds to the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adds {
    /// The previous release's tag.
    pub since: String,
    pub commits: CommitRange,
}

/// Why an existing tag cannot be the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagProblem {
    /// The workflow file at the tag cannot be read.
    PinsUnreadable(String),
    /// The tag's commit pins other versions.
    PinsDiffer(BTreeMap<String, String>),
    /// The tag's commit is not on the stack branch.
    NotOnBranch(String),
}

/// A registry that could not say whether an image exists: never taken as a yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryTrouble {
    /// `docker.io/xchem/fragalysis-backend:2026.08.1`
    pub image: String,
    /// Where the image is configured: `components.backend.image`, `stack.image`.
    pub setting: String,
    /// What went wrong, naming the registry (and the credentials' setting, when it is them).
    pub why: String,
}

/// Why a step stands where it does: one family per step, so each renders with an exhaustive match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Component(ComponentReason),
    Order(OrderReason),
    Pin(PinReason),
    Release(ReleaseReason),
    /// The release tag exists, but it cannot be this release (both pin and release say so).
    TagConflict(TagConflict),
    Build(BuildReason),
    Deploy(DeployReason),
    Verify(VerifyReason),
    Report(ReportReason),
    /// Held back: what the step will do once the hold lifts is `then`.
    Held {
        hold: Hold,
        then: Box<Reason>,
    },
}

/// `preflight <component>`: the component's tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentReason {
    TagMissing {
        component: String,
        tag: String,
    },
    TagNotOnBranch {
        tag: String,
        commit: CommitId,
        branch: String,
    },
    TagOnBranch {
        tag: String,
        commit: CommitId,
        branch: String,
    },
    CiSucceeded {
        tag: String,
        commit: CommitId,
        branch: String,
        workflow: String,
    },
    CiFailed {
        tag: String,
        workflow: String,
        why: String,
    },
    CiRunning {
        tag: String,
        workflow: String,
    },
    CiMissing {
        tag: String,
        workflow: String,
    },
    /// The release file waives this component's CI gate.
    CiWaived {
        tag: String,
        commit: CommitId,
        branch: String,
        workflow: String,
    },
    /// The component's workflow does not run for this tag at all: the run can never come.
    CiNeverRuns {
        tag: String,
        workflow: String,
        component: String,
        why: String,
    },
    /// The run stayed missing (or unfinished) past `ci_timeout`.
    CiTimedOut {
        tag: String,
        workflow: String,
        component: String,
        waited: Duration,
        running: bool,
    },
    /// The tag is fine, but its image is not in the registry.
    ImageMissing {
        component: String,
        image: String,
    },
    RegistryUnreachable(RegistryTrouble),
}

/// `preflight order`: the declared version against what is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderReason {
    LiveIsNewer {
        live: CalVer,
        version: CalVer,
    },
    IsLive {
        version: CalVer,
    },
    NewerThanLive {
        version: CalVer,
        live: CalVer,
    },
    NothingDeployed,
    /// A production tag is as new or newer than the release.
    OlderThanReleased {
        version: CalVer,
        tag: String,
    },
    /// Newer than every production tag; what is live is not known.
    NewerThanReleased {
        version: CalVer,
        tag: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinReason {
    Pinned {
        commit: CommitId,
        pins: BTreeMap<String, String>,
    },
    Unreadable {
        why: String,
    },
    ToCommit {
        changes: Vec<PinChange>,
        branch: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseReason {
    Tagged {
        version: CalVer,
        commit: CommitId,
    },
    ToPublish {
        version: CalVer,
        commit: CommitId,
    },
    /// `at`: the commit it will be cut at, once the pins are there; `adds`: what it brings.
    ToTag {
        version: CalVer,
        at: Option<CommitId>,
        adds: Option<Adds>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagConflict {
    pub version: CalVer,
    pub commit: CommitId,
    pub problem: TagProblem,
    pub wanted: BTreeMap<String, String>,
    /// The release is older than what was released since: its tag and file are the record,
    /// to be left as they are.
    pub historic: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildReason {
    NoGate,
    ToWaitFor {
        workflow: String,
        version: CalVer,
    },
    Succeeded {
        workflow: String,
        version: CalVer,
    },
    Failed {
        workflow: String,
        version: CalVer,
        why: String,
    },
    Running {
        workflow: String,
        version: CalVer,
    },
    Missing {
        workflow: String,
        version: CalVer,
    },
    Waived {
        workflow: String,
        version: CalVer,
    },
    TimedOut {
        workflow: String,
        version: CalVer,
        waited: Duration,
        running: bool,
    },
    /// The build is done, but the stack's image is not in the registry; `waited` when there is
    /// no CI gate and it stayed missing past the stack's `ci_timeout`.
    StackImageMissing {
        image: String,
        waited: Option<Duration>,
    },
    /// No CI gate says the build is done: the stack's image is waited for.
    StackImagePending {
        image: String,
    },
    RegistryUnreachable(RegistryTrouble),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployReason {
    NoDeployer,
    /// The deployer's own history (AWX) says what happened; `detail` is in its words.
    DeployerSucceeded {
        detail: String,
    },
    DeployerRunning {
        detail: String,
    },
    DeployerFailed {
        detail: String,
    },
    RetryAfterFailure {
        detail: String,
    },
    LaunchFailed {
        version: CalVer,
        last_line: String,
    },
    Launch {
        template: String,
        version: CalVer,
    },
    RunCommand {
        version: CalVer,
    },
    Deployed {
        version: CalVer,
    },
    UnrecordedButLive,
    RetryInterrupted {
        version: CalVer,
    },
    Interrupted {
        version: CalVer,
        started_at: String,
    },
    /// Another run holds the deploy lock: it is deploying now.
    InProgress {
        version: CalVer,
        holder: crate::lock::Holder,
    },
    RetryFailed {
        version: CalVer,
    },
    Failed {
        version: CalVer,
        last_line: String,
    },
    /// Released without stackrel, and evidence shows it live: nothing to deploy.
    LiveByEvidence {
        version: CalVer,
        evidence: Evidence,
    },
    /// Released without stackrel, and nothing shows whether it is live.
    Unknown {
        version: CalVer,
    },
    /// `launched_by = "ci"`: the stack's CI launches the template; stackrel waits for its job.
    CiLaunches {
        template: String,
        version: CalVer,
    },
    /// The stack's CI has not launched the template within the stack's `ci_timeout`.
    CiLaunchMissing {
        template: String,
        version: CalVer,
        waited: Duration,
    },
    /// The job the stack's CI launched failed (a green workflow notwithstanding).
    CiDeployFailed {
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyReason {
    NoVerifier,
    Live { version: CalVer },
    NotLiveYet { version: CalVer, last_line: String },
    CheckFailed { why: String },
    ToCheck { version: CalVer },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportReason {
    /// `verified`: a verifier saw it live; otherwise it is deployed, not verified.
    Recorded {
        version: CalVer,
        verified: bool,
    },
    ToRecord {
        version: CalVer,
        ticket: Option<String>,
        verified: bool,
    },
    WithoutStackrel {
        version: CalVer,
        evidence: Evidence,
    },
}

/// What holds side effects back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Outside `[daemon] windows`; the next opening, RFC 3339, when the schedules have one.
    Window { next_opening: Option<String> },
    /// `[daemon] suspended = true`.
    Suspended,
}

impl Reason {
    /// A stable identifier for scripts and tests; never reworded.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Component(r) => r.code(),
            Reason::Order(r) => r.code(),
            Reason::Pin(r) => r.code(),
            Reason::Release(r) => r.code(),
            Reason::TagConflict(_) => "tag-conflict",
            Reason::Build(r) => r.code(),
            Reason::Deploy(r) => r.code(),
            Reason::Verify(r) => r.code(),
            Reason::Report(r) => r.code(),
            Reason::Held { hold, .. } => hold.code(),
        }
    }

    /// The reason beneath any hold: what the step will do once the hold lifts.
    pub fn underlying(&self) -> &Reason {
        match self {
            Reason::Held { then, .. } => then.underlying(),
            other => other,
        }
    }
}

impl ComponentReason {
    fn code(&self) -> &'static str {
        match self {
            ComponentReason::TagMissing { .. } => "tag-missing",
            ComponentReason::TagNotOnBranch { .. } => "tag-not-on-branch",
            ComponentReason::TagOnBranch { .. } => "tag-on-branch",
            ComponentReason::CiSucceeded { .. } => "ci-succeeded",
            ComponentReason::CiFailed { .. } => "ci-failed",
            ComponentReason::CiRunning { .. } => "ci-running",
            ComponentReason::CiMissing { .. } => "ci-missing",
            ComponentReason::CiWaived { .. } => "ci-waived",
            ComponentReason::CiNeverRuns { .. } => "ci-never-runs",
            ComponentReason::CiTimedOut { .. } => "ci-timed-out",
            ComponentReason::ImageMissing { .. } => "image-missing",
            ComponentReason::RegistryUnreachable(_) => "registry-unreachable",
        }
    }
}

impl OrderReason {
    fn code(&self) -> &'static str {
        match self {
            OrderReason::LiveIsNewer { .. } => "live-is-newer",
            OrderReason::IsLive { .. } => "is-live",
            OrderReason::NewerThanLive { .. } => "newer-than-live",
            OrderReason::NothingDeployed => "nothing-deployed",
            OrderReason::OlderThanReleased { .. } => "older-than-released",
            OrderReason::NewerThanReleased { .. } => "newer-than-released",
        }
    }
}

impl PinReason {
    fn code(&self) -> &'static str {
        match self {
            PinReason::Pinned { .. } => "pinned",
            PinReason::Unreadable { .. } => "pins-unreadable",

            PinReason::ToCommit { .. } => "pin-to-commit",
        }
    }
}

impl ReleaseReason {
    fn code(&self) -> &'static str {
        match self {
            ReleaseReason::Tagged { .. } => "tagged",
            ReleaseReason::ToPublish { .. } => "release-to-publish",
            ReleaseReason::ToTag { .. } => "tag-to-create",
        }
    }
}

impl BuildReason {
    fn code(&self) -> &'static str {
        match self {
            BuildReason::NoGate => "no-stack-ci",
            BuildReason::ToWaitFor { .. } => "stack-ci-to-wait-for",
            BuildReason::Succeeded { .. } => "stack-ci-succeeded",
            BuildReason::Failed { .. } => "stack-ci-failed",
            BuildReason::Running { .. } => "stack-ci-running",
            BuildReason::Missing { .. } => "stack-ci-missing",
            BuildReason::Waived { .. } => "stack-ci-waived",
            BuildReason::TimedOut { .. } => "stack-ci-timed-out",
            BuildReason::StackImageMissing { .. } => "stack-image-missing",
            BuildReason::StackImagePending { .. } => "stack-image-pending",
            BuildReason::RegistryUnreachable(_) => "registry-unreachable",
        }
    }
}

impl DeployReason {
    fn code(&self) -> &'static str {
        match self {
            DeployReason::NoDeployer => "no-deployer",
            DeployReason::DeployerSucceeded { .. } => "deployer-succeeded",
            DeployReason::DeployerRunning { .. } => "deploy-running",
            DeployReason::DeployerFailed { .. } => "deployer-failed",
            DeployReason::RetryAfterFailure { .. } => "retry-after-failure",
            DeployReason::LaunchFailed { .. } => "launch-failed",
            DeployReason::Launch { .. } => "launch",
            DeployReason::RunCommand { .. } => "run-deploy-command",
            DeployReason::Deployed { .. } => "deployed",
            DeployReason::UnrecordedButLive => "outcome-unrecorded-but-live",
            DeployReason::RetryInterrupted { .. } => "retry-interrupted",
            DeployReason::Interrupted { .. } => "deploy-interrupted",
            DeployReason::InProgress { .. } => "deploy-in-progress",
            DeployReason::RetryFailed { .. } => "retry-failed",
            DeployReason::Failed { .. } => "deploy-failed",
            DeployReason::LiveByEvidence { .. } => "live-by-evidence",
            DeployReason::Unknown { .. } => "deploy-unknown",
            DeployReason::CiLaunches { .. } => "waiting-for-ci-deploy",
            DeployReason::CiLaunchMissing { .. } => "ci-deploy-missing",
            DeployReason::CiDeployFailed { .. } => "ci-deploy-failed",
        }
    }
}

impl VerifyReason {
    fn code(&self) -> &'static str {
        match self {
            VerifyReason::NoVerifier => "no-verifier",
            VerifyReason::Live { .. } => "verified",
            VerifyReason::NotLiveYet { .. } => "not-live-yet",
            VerifyReason::CheckFailed { .. } => "verify-failed",
            VerifyReason::ToCheck { .. } => "to-verify",
        }
    }
}

impl ReportReason {
    fn code(&self) -> &'static str {
        match self {
            ReportReason::Recorded { .. } => "recorded-live",
            ReportReason::ToRecord { .. } => "to-record",
            ReportReason::WithoutStackrel { .. } => "released-without-stackrel",
        }
    }
}

impl Hold {
    fn code(&self) -> &'static str {
        match self {
            Hold::Window { .. } => "waiting-for-window",
            Hold::Suspended => "suspended",
        }
    }
}

/// `backend=2026.08.1 frontend=2026.08.2`
pub(crate) fn pins_text(pins: &BTreeMap<String, String>) -> String {
    pins.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What every retryable deploy failure ends with.
const RETRY_HINT: &str = "fix the cause, then run `stackrel apply --retry-deploy`";

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Component(r) => r.fmt(f),
            Reason::Order(r) => r.fmt(f),
            Reason::Pin(r) => r.fmt(f),
            Reason::Release(r) => r.fmt(f),
            Reason::TagConflict(r) => r.fmt(f),
            Reason::Build(r) => r.fmt(f),
            Reason::Deploy(r) => r.fmt(f),
            Reason::Verify(r) => r.fmt(f),
            Reason::Report(r) => r.fmt(f),
            Reason::Held { hold, then } => match hold {
                Hold::Window {
                    next_opening: Some(t),
                } => {
                    write!(f, "waiting for window; next opening {t}; then {then}")
                }
                Hold::Window { next_opening: None } => write!(f, "waiting for window; then {then}"),
                Hold::Suspended => write!(f, "suspended by [daemon] suspended = true; {then}"),
            },
        }
    }
}

impl fmt::Display for ComponentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComponentReason::TagMissing { component, tag } => {
                write!(f, "tag {tag} does not exist in the {component} repository")
            }
            ComponentReason::TagNotOnBranch {
                tag,
                commit,
                branch,
            } => write!(
                f,
                "tag {tag} ({}) is not on branch {branch}; only tags on {branch} may be released",
                short(commit)
            ),
            ComponentReason::TagOnBranch {
                tag,
                commit,
                branch,
            } => {
                write!(f, "{tag} is {} on {branch}", short(commit))
            }
            ComponentReason::CiSucceeded {
                tag,
                commit,
                branch,
                workflow,
            } => write!(
                f,
                "{tag} is {} on {branch}; \"{workflow}\" succeeded",
                short(commit)
            ),
            ComponentReason::CiFailed { tag, workflow, why } => {
                write!(f, "\"{workflow}\" failed for {tag}: {why}")
            }
            ComponentReason::CiRunning { tag, workflow } => {
                write!(f, "\"{workflow}\" is still running for {tag}")
            }
            ComponentReason::CiMissing { tag, workflow } => {
                write!(f, "no \"{workflow}\" run for {tag} yet")
            }
            ComponentReason::CiWaived {
                tag,
                commit,
                branch,
                workflow,
            } => write!(
                f,
                "{tag} is {} on {branch}; \"{workflow}\" waived by the release file",
                short(commit)
            ),
            ComponentReason::CiNeverRuns {
                tag,
                workflow,
                component,
                why,
            } => write!(
                f,
                "no \"{workflow}\" run for {tag} can come ({why}); release a tag the workflow builds, or, if {tag} was built another way, waive the gate with `waive_ci = [\"{component}\"]` in the release file"
            ),
            ComponentReason::CiTimedOut {
                tag,
                workflow,
                component,
                waited,
                running,
            } => {
                let what = if *running {
                    format!("\"{workflow}\" is still running for {tag}")
                } else {
                    format!("no \"{workflow}\" run for {tag}")
                };
                write!(
                    f,
                    "{what} after {}; check the component's CI, or waive the gate with `waive_ci = [\"{component}\"]` in the release file",
                    waited_text(*waited)
                )
            }
            ComponentReason::ImageMissing { .. } | ComponentReason::RegistryUnreachable(_) => {
                self.fmt_image(f)
            }
        }
    }
}

impl fmt::Display for OrderReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderReason::LiveIsNewer { live, version } => write!(
                f,
                "{live} is live, newer than the declared {version}; to roll back, add a new release with the old versions"
            ),
            OrderReason::IsLive { version } => write!(f, "{version} is live"),
            OrderReason::NewerThanLive { version, live } => {
                write!(f, "{version} is newer than the live {live}")
            }
            OrderReason::NothingDeployed => f.write_str("nothing deployed yet"),
            OrderReason::OlderThanReleased { version, tag } => write!(
                f,
                "{version} is not newer than the stack tag {tag}: a release must be newer than every production release; release a version above {tag}"
            ),
            OrderReason::NewerThanReleased { version, tag } => write!(
                f,
                "{version} is newer than every release (the newest is {tag}); what is live is not known"
            ),
        }
    }
}

impl fmt::Display for PinReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinReason::Pinned { commit, pins } => {
                write!(f, "{} pins {}", short(commit), pins_text(pins))
            }
            PinReason::Unreadable { why } => write!(f, "cannot read the pins: {why}"),

            PinReason::ToCommit { changes, branch } => {
                let changes: Vec<String> = changes
                    .iter()
                    .map(|c| format!("{} {} → {}", c.pin, c.from.as_deref().unwrap_or("?"), c.to))
                    .collect();
                write!(f, "commit {} on {branch}", changes.join(", "))
            }
        }
    }
}

impl fmt::Display for ReleaseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseReason::Tagged { version, commit } => {
                write!(f, "tag {version} is at {}", short(commit))
            }
            ReleaseReason::ToPublish { version, commit } => write!(
                f,
                "publish the release for tag {version} (at {})",
                short(commit)
            ),
            ReleaseReason::ToTag {
                version,
                at: Some(commit),
                adds,
            } => {
                write!(f, "tag {version} at {}", short(commit))?;
                match adds {
                    Some(adds) => write!(f, ", {adds}"),
                    None => Ok(()),
                }
            }
            ReleaseReason::ToTag {
                version, at: None, ..
            } => {
                write!(f, "tag {version} at the pin commit")
            }
        }
    }
}

impl fmt::Display for TagConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match &self.problem {
            TagProblem::PinsUnreadable(e) => format!("its workflow file cannot be read: {e}"),
            TagProblem::PinsDiffer(pins) => format!(
                "it pins {} instead of {}",
                pins_text(pins),
                pins_text(&self.wanted)
            ),
            TagProblem::NotOnBranch(branch) => format!("that commit is not on {branch}"),
        };
        let advice = if self.historic {
            "both are the record of an old release: leave them as they are, and release a new version"
        } else {
            "delete or rename that tag, or release a new version"
        };
        write!(
            f,
            "tag {} already exists at {}, but {why}; {advice}",
            self.version,
            short(&self.commit)
        )
    }
}

impl fmt::Display for BuildReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildReason::NoGate => f.write_str("no stack CI gate configured"),
            BuildReason::ToWaitFor { workflow, version } => {
                write!(f, "wait for \"{workflow}\" on tag {version}")
            }
            BuildReason::Succeeded { workflow, version } => {
                write!(f, "\"{workflow}\" succeeded on {version}")
            }
            BuildReason::Failed {
                workflow,
                version,
                why,
            } => {
                write!(f, "\"{workflow}\" failed on {version}: {why}")
            }
            BuildReason::Running { workflow, version } => {
                write!(f, "\"{workflow}\" is running on {version}")
            }
            BuildReason::Missing { workflow, version } => {
                write!(f, "no \"{workflow}\" run on {version} yet")
            }
            BuildReason::Waived { workflow, version } => {
                write!(f, "\"{workflow}\" on {version} waived by the release file")
            }
            BuildReason::TimedOut {
                workflow,
                version,
                waited,
                running,
            } => {
                let what = if *running {
                    "is still running"
                } else {
                    "has not started"
                };
                write!(
                    f,
                    "\"{workflow}\" {what} on {version} after {}; check the stack's CI, or waive the gate with `waive_ci = [\"stack\"]` in a new release",
                    waited_text(*waited)
                )
            }
            BuildReason::StackImageMissing { .. }
            | BuildReason::StackImagePending { .. }
            | BuildReason::RegistryUnreachable(_) => self.fmt_image(f),
        }
    }
}

impl fmt::Display for DeployReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeployReason::NoDeployer => f.write_str("no deployer configured"),
            DeployReason::DeployerSucceeded { detail }
            | DeployReason::DeployerRunning { detail } => f.write_str(detail),
            DeployReason::DeployerFailed { detail } => write!(f, "{detail}; {RETRY_HINT}"),
            DeployReason::RetryAfterFailure { detail } => write!(f, "retry after: {detail}"),
            DeployReason::LaunchFailed { version, last_line } => {
                write!(
                    f,
                    "the launch of {version} failed: {last_line}; {RETRY_HINT}"
                )
            }
            DeployReason::Launch { template, version } => {
                write!(f, "launch \"{template}\" with {version}")
            }
            DeployReason::RunCommand { version } => {
                write!(f, "run the deploy command for {version}")
            }
            DeployReason::Deployed { version } => write!(f, "{version} deployed"),
            DeployReason::UnrecordedButLive => {
                f.write_str("the deploy's outcome was not recorded, but verification sees it live")
            }
            DeployReason::RetryInterrupted { version } => {
                write!(f, "retry the interrupted deploy of {version}")
            }
            DeployReason::Interrupted {
                version,
                started_at,
            } => write!(
                f,
                "a deploy of {version} started at {started_at} has no recorded outcome and {version} is not verified live; check production, then run `stackrel apply --retry-deploy`"
            ),
            DeployReason::InProgress { version, holder } => write!(
                f,
                "a deploy of {version} is in progress: {holder} is deploying; waiting for it to finish (nothing is deployed twice)"
            ),
            DeployReason::RetryFailed { version } => {
                write!(f, "retry the failed deploy of {version}")
            }
            DeployReason::Failed { version, last_line } => {
                write!(
                    f,
                    "the deploy of {version} failed: {last_line}; {RETRY_HINT}"
                )
            }
            DeployReason::LiveByEvidence { version, evidence } => {
                write!(
                    f,
                    "{version} is live ({evidence}); released without stackrel"
                )
            }
            DeployReason::Unknown { version } => write!(
                f,
                "{version} was released without stackrel and nothing shows whether it is live (no verifier, deployer history or deployment record says what production runs); if it is live, run `stackrel adopt {version}`; to deploy it, run `stackrel apply --retry-deploy`"
            ),
            DeployReason::CiLaunches { template, version } => write!(
                f,
                "the stack's CI launches \"{template}\" for {version}; waiting for its job"
            ),
            DeployReason::CiLaunchMissing {
                template,
                version,
                waited,
            } => write!(
                f,
                "the stack's CI has not launched \"{template}\" for {version} after {}; check its deploy job, or run `stackrel apply --retry-deploy` to launch it from stackrel",
                waited_text(*waited)
            ),
            DeployReason::CiDeployFailed { detail } => write!(
                f,
                "{detail} (launched by the stack's CI, whatever its workflow shows); fix the cause and re-run that deploy job, or run `stackrel apply --retry-deploy` to launch it from stackrel"
            ),
        }
    }
}

impl fmt::Display for VerifyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyReason::NoVerifier => f.write_str("no verification configured"),
            VerifyReason::Live { version } => write!(f, "production reports {version}"),
            VerifyReason::NotLiveYet { version, last_line } => {
                write!(f, "production does not report {version} yet: {last_line}")
            }
            VerifyReason::CheckFailed { why } => write!(f, "the last check failed: {why}"),
            VerifyReason::ToCheck { version } => {
                write!(f, "check that production reports {version}")
            }
        }
    }
}

impl fmt::Display for ReportReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportReason::Recorded {
                version,
                verified: true,
            } => {
                write!(f, "{version} recorded as live")
            }
            ReportReason::Recorded {
                version,
                verified: false,
            } => {
                write!(f, "{version} recorded as deployed (not verified)")
            }
            ReportReason::ToRecord {
                version,
                ticket,
                verified,
            } => {
                let state = if *verified {
                    "live"
                } else {
                    "deployed (not verified)"
                };
                write!(f, "record {version} as {state}")?;
                match ticket {
                    Some(ticket) => write!(f, " and on {ticket}"),
                    None => Ok(()),
                }
            }
            ReportReason::WithoutStackrel { version, evidence } => {
                write!(
                    f,
                    "{version} is live ({evidence}); it was released without stackrel"
                )
            }
        }
    }
}

/// Why a run stops without acting (the plan's `held`).
impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hold::Window {
                next_opening: Some(t),
            } => write!(
                f,
                "outside the deploy windows of [daemon] windows; next opening {t}"
            ),
            Hold::Window { next_opening: None } => {
                f.write_str("outside the deploy windows of [daemon] windows")
            }
            Hold::Suspended => {
                f.write_str("suspended by [daemon] suspended = true in stackrel.toml")
            }
        }
    }
}

/// The image families of the preflight and build reasons.
impl ComponentReason {
    fn fmt_image(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComponentReason::ImageMissing { component, image } => write!(
                f,
                "{image} is not in its registry: push it (its build may have failed to), or release a tag whose image exists; `components.{component}.image` names the image"
            ),
            ComponentReason::RegistryUnreachable(trouble) => write!(f, "{trouble}"),
            _ => Ok(()),
        }
    }
}

impl BuildReason {
    fn fmt_image(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildReason::StackImageMissing { image, waited } => {
                write!(f, "{image} is not in its registry")?;
                if let Some(waited) = waited {
                    write!(f, " after {}", waited_text(*waited))?;
                }
                f.write_str(
                    ": check that the stack's build pushes it; `stack.image` names the image",
                )
            }
            BuildReason::StackImagePending { image } => {
                write!(f, "waiting for the stack's build to push {image}")
            }
            BuildReason::RegistryUnreachable(trouble) => write!(f, "{trouble}"),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for RegistryTrouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot tell whether {} exists: {} (the image is `{}`; a registry that cannot answer blocks the release)",
            self.image, self.why, self.setting
        )
    }
}

/// `adding 3 commits since 2026.08.2: Fix X; Add Y; …and 1 more`
impl fmt::Display for Adds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 5;
        let total = self.commits.total;
        let noun = if total == 1 { "commit" } else { "commits" };
        if total == 0 {
            return write!(
                f,
                "adding no commits since {} (the same commit)",
                self.since
            );
        }
        write!(f, "adding {total} {noun} since {}", self.since)?;
        let subjects: Vec<&str> = self
            .commits
            .commits
            .iter()
            .take(SHOWN)
            .map(|c| c.subject.as_str())
            .collect();
        if !subjects.is_empty() {
            write!(f, ": {}", subjects.join("; "))?;
        }
        if total > subjects.len() {
            write!(f, "; …and {} more", total - subjects.len())?;
        }
        Ok(())
    }
}

/// A wait as people say it, to the second: `1h 5m`.
fn waited_text(waited: Duration) -> String {
    humantime::format_duration(Duration::from_secs(waited.as_secs())).to_string()
}

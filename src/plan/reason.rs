//! Why a step stands where it does, as data. The planner decides with values; this module is the
//! one place they become English (Terraform's plan reasons work the same way), and each reason
//! has a stable machine-readable `code` that `plan --json` prints beside the text, so scripts and
//! tests never depend on wording.

use crate::calver::CalVer;
use crate::forge::{CommitId, short};
use std::collections::BTreeMap;
use std::fmt;

/// One pin that the pin commit will change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinChange {
    /// The env key, e.g. `BE_IMAGE_TAG`.
    pub pin: String,
    /// The value on the branch now; `None` when the component has no value there.
    pub from: Option<String>,
    pub to: String,
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
}

/// `preflight order`: the declared version against what is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderReason {
    LiveIsNewer { live: CalVer, version: CalVer },
    IsLive { version: CalVer },
    NewerThanLive { version: CalVer, live: CalVer },
    NothingDeployed,
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
    CommitNotFound,
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
    /// `at`: the pin commit, once it exists.
    ToTag {
        version: CalVer,
        at: Option<CommitId>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagConflict {
    pub version: CalVer,
    pub commit: CommitId,
    pub problem: TagProblem,
    pub wanted: BTreeMap<String, String>,
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
    RetryFailed {
        version: CalVer,
    },
    Failed {
        version: CalVer,
        last_line: String,
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
    Recorded {
        version: CalVer,
    },
    ToRecord {
        version: CalVer,
        ticket: Option<String>,
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
        }
    }
}

impl PinReason {
    fn code(&self) -> &'static str {
        match self {
            PinReason::Pinned { .. } => "pinned",
            PinReason::Unreadable { .. } => "pins-unreadable",
            PinReason::CommitNotFound => "pin-commit-not-found",
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
            DeployReason::RetryFailed { .. } => "retry-failed",
            DeployReason::Failed { .. } => "deploy-failed",
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
            PinReason::CommitNotFound => {
                f.write_str("the pins match but the commit that set them was not found")
            }
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
            } => {
                write!(f, "tag {version} at {}", short(commit))
            }
            ReleaseReason::ToTag { version, at: None } => {
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
        write!(
            f,
            "tag {} already exists at {}, but {why}; delete or rename that tag, or release a new version",
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
            DeployReason::RetryFailed { version } => {
                write!(f, "retry the failed deploy of {version}")
            }
            DeployReason::Failed { version, last_line } => {
                write!(
                    f,
                    "the deploy of {version} failed: {last_line}; {RETRY_HINT}"
                )
            }
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
            ReportReason::Recorded { version } => write!(f, "{version} recorded as live"),
            ReportReason::ToRecord {
                version,
                ticket: Some(ticket),
            } => {
                write!(f, "record {version} as live and on {ticket}")
            }
            ReportReason::ToRecord {
                version,
                ticket: None,
            } => {
                write!(f, "record {version} as live")
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

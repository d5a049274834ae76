//! The planner: a pure function from what is declared (the newest release) and what is observed
//! to an ordered list of steps, each done, to do, waiting or blocked, with a typed reason.
//! Because it is a value, the plan can be printed (`stackrel plan`), serialized (`--json`, with a
//! stable code per reason), asserted on in tests, and executed one action at a time by `apply`,
//! which observes and plans again before every side effect.
//!
//! Steps are of two kinds. Gates (preflight, order, build, verify) only read: they are done,
//! waiting or blocked, and nothing executes them. Actions (pin, release, deploy, report) change
//! the world when they are first in line and to do. Keeping the two apart makes `apply`'s
//! dispatch exhaustive: it can only ever be asked to run an action.

pub mod reason;
mod steps;

use crate::calver::CalVer;
use crate::config::Config;
use crate::forge::{CommitId, DeploymentState};
use crate::observation::Evidence;
use crate::observation::Observation;
use crate::registry::ImageDigest;
use crate::release::Release;
use chrono::{DateTime, Utc};
pub use reason::{Hold, Reason};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Done,
    /// An action to run; for a gate, a check that comes once the steps before it are done.
    #[serde(rename = "to do")]
    ToDo,
    Waiting,
    Blocked,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Done => "done",
            Status::ToDo => "to do",
            Status::Waiting => "waiting",
            Status::Blocked => "blocked",
        })
    }
}

/// A read-only step: what it checks is observed, never executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Gate {
    /// One component's tag: exists, on its branch, its CI green.
    Preflight { component: String },
    /// The declared version is newer than what is live.
    Order,
    /// The stack's CI run on the release tag.
    Build,
    /// Production reports the declared versions.
    Verify,
}

/// A step with a side effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Action {
    /// Commit the new pins to the workflow file.
    Pin,
    /// Tag the pin commit and publish the release.
    Release,
    Deploy,
    /// Record the release as live and update its ticket.
    Report,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum StepKind {
    Gate(Gate),
    Action(Action),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub status: Status,
    pub reason: Reason,
}

impl Step {
    pub fn title(&self) -> String {
        match &self.kind {
            StepKind::Gate(Gate::Preflight { component }) => format!("preflight {component}"),
            StepKind::Gate(Gate::Order) => "preflight order".into(),
            StepKind::Gate(Gate::Build) => "build".into(),
            StepKind::Gate(Gate::Verify) => "verify".into(),
            StepKind::Action(Action::Pin) => "pin".into(),
            StepKind::Action(Action::Release) => "release".into(),
            StepKind::Action(Action::Deploy) => "deploy".into(),
            StepKind::Action(Action::Report) => "report".into(),
        }
    }

    /// The stable code of the step's reason (`tag-not-on-branch`, `waiting-for-window`, …).
    pub fn code(&self) -> &'static str {
        self.reason.code()
    }

    pub fn is_action(&self, action: Action) -> bool {
        self.kind == StepKind::Action(action)
    }
}

/// `{"kind": "pin", "status": "to do", "reason": "commit …", "code": "pin-to-commit"}`, with a
/// preflight's `component` beside its kind.
impl Serialize for Step {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            kind: &'a StepKind,
            status: Status,
            reason: String,
            code: &'static str,
        }
        Shown {
            kind: &self.kind,
            status: self.status,
            reason: self.reason.to_string(),
            code: self.code(),
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub version: CalVer,
    /// The version production runs, by the strongest evidence there is.
    pub live: Option<CalVer>,
    /// What says so: the verifier, `AWX job 4711`, a record, an adoption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_evidence: Option<Evidence>,
    /// The commit the release is cut at (or will be, once pinned), in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<CommitId>,
    /// Declared releases newer than what is live but older than the desired one: never replayed.
    pub superseded: Vec<CalVer>,
    pub steps: Vec<Step>,
    /// The digest of each configured image found in its registry, by component name (`stack`
    /// for the stack's own).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, ImageDigest>,
    /// Things a person should know that do not stop the release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why side effects are held back (suspension, a closed deploy window), if they are:
    /// waiting that no amount of polling within a run will end.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_hold"
    )]
    pub held: Option<Hold>,
}

fn serialize_hold<S: Serializer>(hold: &Option<Hold>, serializer: S) -> Result<S::Ok, S::Error> {
    match hold {
        Some(hold) => serializer.collect_str(hold),
        None => serializer.serialize_none(),
    }
}

/// What `apply` should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<'a> {
    InSync,
    Act(Action, &'a Step),
    Wait(&'a Step),
    Blocked(&'a Step),
}

impl Plan {
    pub fn in_sync(&self) -> bool {
        self.steps.iter().all(|s| s.status == Status::Done)
    }

    /// The first step that is not done decides: blocked stops, waiting waits, an action to do
    /// acts. A gate still to do is waited on: the observation after the steps before it will
    /// answer it.
    pub fn next(&self) -> Next<'_> {
        let Some(step) = self.steps.iter().find(|s| s.status != Status::Done) else {
            return Next::InSync;
        };
        match (step.status, &step.kind) {
            (Status::Blocked, _) => Next::Blocked(step),
            (Status::ToDo, StepKind::Action(action)) => Next::Act(*action, step),
            _ => Next::Wait(step),
        }
    }

    pub fn blocked(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == Status::Blocked)
    }

    /// Where the release stands once converged, in honest words: `2026.08.3 is live
    /// (verified)`, `2026.08.3 is live (AWX job 4711)`, or `2026.08.3 is deployed (not
    /// verified)` when nothing checks production.
    pub fn live_words(&self) -> String {
        let version = self.version;
        match &self.live_evidence {
            _ if self.live != Some(version) => format!("{version} is deployed"),
            Some(Evidence::Record(DeploymentState::Reported)) => {
                format!("{version} is deployed (not verified)")
            }
            Some(evidence) => format!("{version} is live ({evidence})"),
            None => format!("{version} is live"),
        }
    }

    /// Steps still to run (to do or waiting).
    pub fn pending(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.status, Status::ToDo | Status::Waiting))
            .count()
    }
}

/// What a plan is decided with besides the observation: options a person gave, the time, and
/// what this run remembers.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Treat a failed or interrupted deploy as to do again (`apply --retry-deploy`).
    pub retry_deploy: bool,
    /// The deploy windows at planning time; `None` when none are configured.
    pub window: Option<crate::window::WindowState>,
    /// Let a release through closed deploy windows (`apply --ignore-window`).
    pub ignore_window: bool,
    /// The commit this run made to pin the release: the release is cut there, even if the
    /// branch has moved on since.
    pub pinned: Option<CommitId>,
    /// Whether this run set out to cut the release (so its tag is stackrel's whoever wrote it).
    pub cutting: bool,
    /// The time the plan is made at, for gates that time out.
    pub now: DateTime<Utc>,
    /// When each gate (by step title) was first seen waiting, by whoever runs the loop.
    pub waiting_since: BTreeMap<String, DateTime<Utc>>,
}

/// Everything a step is decided from.
struct Facts<'a> {
    config: &'a Config,
    release: &'a Release,
    observed: &'a Observation,
    options: &'a PlanOptions,
}

/// Plans the convergence of `release` (the newest declared) given what was observed.
/// `declared` is every valid release, for naming the superseded ones.
pub fn plan(
    config: &Config,
    release: &Release,
    declared: &[Release],
    observed: &Observation,
    options: PlanOptions,
) -> Plan {
    let facts = Facts {
        config,
        release,
        observed,
        options: &options,
    };
    let mut steps: Vec<Step> = observed
        .components
        .iter()
        .map(|(name, component)| steps::preflight(&facts, name, component))
        .collect();
    steps.extend([
        steps::order(&facts),
        steps::pin(&facts),
        steps::release(&facts),
        steps::build(&facts),
        steps::deploy(&facts),
        steps::verify(&facts),
        steps::report(&facts),
    ]);
    let held = steps::hold(&mut steps, &facts);
    let live = observed.deploy.live.as_ref();
    let live_version = live.map(|l| l.version);
    let released = &observed.stack.released.tags;
    // Older releases that were never cut, and are newer than what is live: never replayed.
    let superseded = declared
        .iter()
        .map(|r| r.version)
        .filter(|v| *v < release.version && live_version.is_none_or(|l| *v > l))
        .filter(|v| {
            let name = v.to_string();
            !released.iter().any(|t| t.name == name)
        })
        .collect();
    Plan {
        version: release.version,
        live: live_version,
        live_evidence: live.map(|l| l.evidence.clone()),
        target: steps::target(&facts).map(String::from),
        superseded,
        steps,
        images: observed.image_digests(),
        warnings: steps::warnings(&facts),
        held,
    }
}

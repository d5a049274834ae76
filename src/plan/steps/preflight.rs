//! The read-only checks before anything is written: each component's tag (it exists, is on its
//! branch, its CI succeeded — or the release waives that — and its image is in the registry), and the release's order against what
//! is live and everything released.

use super::{Facts, gate};
use crate::forge::CiStatus;
use crate::observation::{ComponentObservation, ImageState, tag_number};
use crate::plan::reason::{ComponentReason, OrderReason, Reason, RegistryTrouble};
use crate::plan::{Gate, Status, Step};

/// A component's tag: it exists, is on the component's branch, and its CI succeeded.
pub(in crate::plan) fn preflight(
    facts: &Facts<'_>,
    name: &str,
    component: &ComponentObservation,
) -> Step {
    let kind = Gate::Preflight {
        component: name.to_string(),
    };
    let tag = component.tag.clone();
    let branch = component.branch.clone();
    let (status, reason) = match &component.commit {
        None => (
            Status::Blocked,
            ComponentReason::TagMissing {
                component: name.to_string(),
                tag,
            },
        ),
        Some(commit) if !component.reachable => (
            Status::Blocked,
            ComponentReason::TagNotOnBranch {
                tag,
                commit: commit.clone(),
                branch,
            },
        ),
        Some(commit) => match &component.ci {
            None => (
                Status::Done,
                ComponentReason::TagOnBranch {
                    tag,
                    commit: commit.clone(),
                    branch,
                },
            ),
            Some((workflow, _)) if facts.release.waives_ci(name) => (
                Status::Done,
                ComponentReason::CiWaived {
                    tag,
                    commit: commit.clone(),
                    branch,
                    workflow: workflow.clone(),
                },
            ),
            Some((workflow, CiStatus::Missing)) if component.ci_never_runs.is_some() => (
                Status::Blocked,
                ComponentReason::CiNeverRuns {
                    tag,
                    workflow: workflow.clone(),
                    component: name.to_string(),
                    why: component.ci_never_runs.clone().unwrap_or_default(),
                },
            ),
            Some((workflow, status)) => {
                let ci = CiFacts {
                    component: name,
                    tag,
                    commit,
                    branch,
                    workflow: workflow.clone(),
                };
                component_ci(facts, ci, status)
            }
        },
    };
    let (status, reason) = with_image(facts, name, status, reason);
    gate(kind, status, Reason::Component(reason))
}

/// A tag that is fine so far is still blocked by an image problem.
fn with_image(
    facts: &Facts<'_>,
    name: &str,
    status: Status,
    reason: ComponentReason,
) -> (Status, ComponentReason) {
    match (status, image_problem(facts, name)) {
        (Status::Done, Some(problem)) => (Status::Blocked, problem),
        _ => (status, reason),
    }
}

/// What stops a component whose tag is otherwise fine: its image missing from the registry,
/// or a registry that cannot say. Only before the release is cut: after that the images are
/// settled, whatever the registry says now.
fn image_problem(facts: &Facts<'_>, name: &str) -> Option<ComponentReason> {
    if facts.observed.stack.tag.is_some() {
        return None;
    }
    let observed = facts.observed.images.get(name)?;
    match &observed.state {
        ImageState::Missing => Some(ComponentReason::ImageMissing {
            component: name.to_string(),
            image: observed.image.clone(),
        }),
        ImageState::Unreachable { why, .. } => {
            Some(ComponentReason::RegistryUnreachable(RegistryTrouble {
                image: observed.image.clone(),
                setting: format!("components.{name}.image"),
                why: why.clone(),
            }))
        }
        ImageState::Found { .. } | ImageState::Unknown => None,
    }
}

/// One component's CI gate, as words.
struct CiFacts<'a> {
    component: &'a str,
    tag: String,
    commit: &'a str,
    branch: String,
    workflow: String,
}

fn component_ci(
    facts: &Facts<'_>,
    ci: CiFacts<'_>,
    status: &CiStatus,
) -> (Status, ComponentReason) {
    let CiFacts {
        component,
        tag,
        commit,
        branch,
        workflow,
    } = ci;
    let running = matches!(status, CiStatus::Pending);
    if matches!(status, CiStatus::Pending | CiStatus::Missing) {
        let limit = facts
            .config
            .components
            .get(component)
            .map_or(crate::config::CI_TIMEOUT, |c| c.ci_timeout);
        if let Some(waited) = facts.waited_past(&format!("preflight {component}"), limit) {
            return (
                Status::Blocked,
                ComponentReason::CiTimedOut {
                    tag,
                    workflow,
                    component: component.to_string(),
                    waited,
                    running,
                },
            );
        }
    }
    match status {
        CiStatus::Success => (
            Status::Done,
            ComponentReason::CiSucceeded {
                tag,
                commit: commit.to_string(),
                branch,
                workflow,
            },
        ),
        CiStatus::Failure(why) => (
            Status::Blocked,
            ComponentReason::CiFailed {
                tag,
                workflow,
                why: why.clone(),
            },
        ),
        CiStatus::Pending => (
            Status::Waiting,
            ComponentReason::CiRunning { tag, workflow },
        ),
        CiStatus::Missing => (
            Status::Waiting,
            ComponentReason::CiMissing { tag, workflow },
        ),
    }
}

/// The declared version must be newer than what is live and than every production tag: a
/// rollback is a new, higher version re-declaring older components.
pub(in crate::plan) fn order(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let live = facts.observed.deploy.live_version();
    let newest = facts.observed.stack.released.newest_other.as_ref();
    let not_newer = newest.filter(|t| tag_number(&t.name) >= tag_number(&version.to_string()));
    let (status, reason) = match (live, not_newer) {
        (Some(live), _) if live > version => {
            (Status::Blocked, OrderReason::LiveIsNewer { live, version })
        }
        (_, Some(tag)) => (
            Status::Blocked,
            OrderReason::OlderThanReleased {
                version,
                tag: tag.name.clone(),
            },
        ),
        (Some(live), None) if live == version => (Status::Done, OrderReason::IsLive { version }),
        (Some(live), None) => (Status::Done, OrderReason::NewerThanLive { version, live }),
        (None, None) => match newest {
            Some(tag) => (
                Status::Done,
                OrderReason::NewerThanReleased {
                    version,
                    tag: tag.name.clone(),
                },
            ),
            None => (Status::Done, OrderReason::NothingDeployed),
        },
    };
    gate(Gate::Order, status, Reason::Order(reason))
}

//! Cutting the release: the pins on the stack branch, the tag at exactly the commit that holds
//! them, and the stack's build of that tag (with its image, when `[stack] image` is set).

use super::{Facts, action, gate};
use crate::forge::CiStatus;
use crate::observation::{ImageState, TagObservation};
use crate::plan::reason::{
    Adds, BuildReason, PinChange, PinReason, Reason, RegistryTrouble, ReleaseReason, TagConflict,
    TagProblem,
};
use crate::plan::{Action, Gate, Status, Step};
use crate::release::STACK;

/// The release tag, when it exists: fine if it is on the branch and pins this release, a
/// conflict otherwise. A tag that exists decides the pin and release steps on its own: what it
/// points at is what was (or will be) built, whatever the branch has done since.
fn existing_tag<'a>(facts: &Facts<'a>) -> Option<Result<&'a TagObservation, TagConflict>> {
    let tag = facts.observed.stack.tag.as_ref()?;
    let wanted = &facts.release.components;
    let problem = match &tag.pins {
        Err(e) => Some(TagProblem::PinsUnreadable(e.clone())),
        Ok(pins) if pins != wanted => Some(TagProblem::PinsDiffer(pins.clone())),
        Ok(_) if !tag.on_branch => Some(TagProblem::NotOnBranch(facts.config.stack.branch.clone())),
        Ok(_) => None,
    };
    Some(match problem {
        None => Ok(tag),
        Some(problem) => Err(TagConflict {
            version: facts.release.version,
            commit: tag.commit.clone(),
            problem,
            wanted: wanted.clone(),
            historic: facts.is_historic(),
        }),
    })
}

/// The commit the release is cut at: the tag's, once it exists; else the commit this run
/// pinned; else the branch tip, when its pins are the release's (a person merged them, or the
/// release changes only the stack). Never an older commit than that: what landed on the branch
/// after the pins belongs in the release.
pub(in crate::plan) fn target<'a>(facts: &Facts<'a>) -> Option<&'a str> {
    let stack = &facts.observed.stack;
    if let Some(tag) = &stack.tag {
        return Some(&tag.commit);
    }
    if let Some(pinned) = &facts.options.pinned {
        return Some(pinned);
    }
    stack
        .pins
        .as_ref()
        .is_ok_and(|pins| *pins == facts.release.components)
        .then_some(stack.branch_head.as_str())
}

/// The pins on the stack branch: already the release's, or a commit to make.
pub(in crate::plan) fn pin(facts: &Facts<'_>) -> Step {
    let pinned = |commit: &str| {
        Reason::Pin(PinReason::Pinned {
            commit: commit.to_string(),
            pins: facts.release.components.clone(),
        })
    };
    let (status, reason) = match existing_tag(facts) {
        Some(Ok(tag)) => (Status::Done, pinned(&tag.commit)),
        // Both steps carry the whole reason: `apply` reports only the first blocked step.
        Some(Err(conflict)) => (Status::Blocked, Reason::TagConflict(conflict)),
        None => match target(facts) {
            Some(commit) => (Status::Done, pinned(commit)),
            None => pin_to_commit(facts),
        },
    };
    action(Action::Pin, status, reason)
}

fn pin_to_commit(facts: &Facts<'_>) -> (Status, Reason) {
    let current = match &facts.observed.stack.pins {
        Err(why) => {
            return (
                Status::Blocked,
                Reason::Pin(PinReason::Unreadable { why: why.clone() }),
            );
        }
        Ok(current) => current,
    };
    let changes = facts
        .release
        .components
        .iter()
        .filter(|(name, value)| current.get(*name) != Some(value))
        .map(|(name, value)| PinChange {
            pin: facts
                .config
                .components
                .get(name)
                .map_or(name.clone(), |c| c.pin.clone()),
            from: current.get(name).cloned(),
            to: value.clone(),
        })
        .collect();
    (
        Status::ToDo,
        Reason::Pin(PinReason::ToCommit {
            changes,
            branch: facts.config.stack.branch.clone(),
        }),
    )
}

/// The stack tag at the release's commit, and the forge's release object for it.
pub(in crate::plan) fn release(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let (status, reason) = match existing_tag(facts) {
        Some(Ok(tag)) if tag.release => (
            Status::Done,
            Reason::Release(ReleaseReason::Tagged {
                version,
                commit: tag.commit.clone(),
            }),
        ),
        Some(Ok(tag)) => (
            Status::ToDo,
            Reason::Release(ReleaseReason::ToPublish {
                version,
                commit: tag.commit.clone(),
            }),
        ),
        Some(Err(conflict)) => (Status::Blocked, Reason::TagConflict(conflict)),
        None => (
            Status::ToDo,
            Reason::Release(ReleaseReason::ToTag {
                version,
                at: target(facts).map(String::from),
                adds: adds(facts),
            }),
        ),
    };
    action(Action::Release, status, reason)
}

/// What the release adds to the previous one, when the observation counted it.
fn adds(facts: &Facts<'_>) -> Option<Adds> {
    let released = &facts.observed.stack.released;
    Some(Adds {
        since: released.previous.as_ref()?.name.clone(),
        commits: released.adds.clone()?,
    })
}

/// The stack's CI run on the release tag, when `[stack] ci` names one.
pub(in crate::plan) fn build(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let stack = &facts.config.stack;
    let (status, reason) = match (&stack.ci, &facts.observed.stack.ci) {
        (None, _) => (Status::Done, BuildReason::NoGate),
        (Some(workflow), _) if facts.release.waives_ci(STACK) => (
            Status::Done,
            BuildReason::Waived {
                workflow: workflow.clone(),
                version,
            },
        ),
        (Some(workflow), None) => (
            Status::ToDo,
            BuildReason::ToWaitFor {
                workflow: workflow.clone(),
                version,
            },
        ),
        (Some(_), Some((workflow, ci))) => stack_ci(facts, workflow.clone(), ci),
    };
    let (status, reason) = match status {
        Status::Done => stack_image(facts).unwrap_or((status, reason)),
        _ => (status, reason),
    };
    gate(Gate::Build, status, Reason::Build(reason))
}

/// Once the build is done, the stack's own image (`[stack] image`) must be in the registry.
/// Without a CI gate nothing says when the build ends, so a missing image is waited for within
/// the stack's `ci_timeout`; after a gate that succeeded, it is missing for good.
fn stack_image(facts: &Facts<'_>) -> Option<(Status, BuildReason)> {
    let observed = facts.observed.images.get(STACK)?;
    let image = observed.image.clone();
    Some(match &observed.state {
        ImageState::Found { .. } | ImageState::Unknown => return None,
        ImageState::Unreachable { why, .. } => (
            Status::Blocked,
            BuildReason::RegistryUnreachable(RegistryTrouble {
                image,
                setting: "stack.image".into(),
                why: why.clone(),
            }),
        ),
        ImageState::Missing if facts.config.stack.ci.is_some() => (
            Status::Blocked,
            BuildReason::StackImageMissing {
                image,
                waited: None,
            },
        ),
        ImageState::Missing => match facts.waited_past("build", facts.config.stack.ci_timeout) {
            Some(waited) => (
                Status::Blocked,
                BuildReason::StackImageMissing {
                    image,
                    waited: Some(waited),
                },
            ),
            None => (Status::Waiting, BuildReason::StackImagePending { image }),
        },
    })
}

fn stack_ci(facts: &Facts<'_>, workflow: String, ci: &CiStatus) -> (Status, BuildReason) {
    let version = facts.release.version;
    let running = matches!(ci, CiStatus::Pending);
    if matches!(ci, CiStatus::Pending | CiStatus::Missing)
        && let Some(waited) = facts.waited_past("build", facts.config.stack.ci_timeout)
    {
        return (
            Status::Blocked,
            BuildReason::TimedOut {
                workflow,
                version,
                waited,
                running,
            },
        );
    }
    match ci {
        CiStatus::Success => (Status::Done, BuildReason::Succeeded { workflow, version }),
        CiStatus::Failure(why) => (
            Status::Blocked,
            BuildReason::Failed {
                workflow,
                version,
                why: why.clone(),
            },
        ),
        CiStatus::Pending => (Status::Waiting, BuildReason::Running { workflow, version }),
        CiStatus::Missing => (Status::Waiting, BuildReason::Missing { workflow, version }),
    }
}

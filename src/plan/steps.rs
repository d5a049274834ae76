//! One function per step of the plan, each deciding its step from the observed facts alone, in
//! the order the convergence loop runs them; plus the hold that windows and suspension put on
//! side effects, and the warnings that stop nothing.

use super::reason::{
    BuildReason, ComponentReason, DeployReason, Hold, OrderReason, PinChange, PinReason, Reason,
    ReleaseReason, ReportReason, TagConflict, TagProblem, VerifyReason,
};
use super::{Action, Facts, Gate, Status, Step, StepKind};
use crate::config::Deploy;
use crate::deploy::DeployerView;
use crate::forge::{CiStatus, DeploymentState};
use crate::observation::{ComponentObservation, TagObservation};

fn gate(gate: Gate, status: Status, reason: Reason) -> Step {
    Step {
        kind: StepKind::Gate(gate),
        status,
        reason,
    }
}

fn action(action: Action, status: Status, reason: Reason) -> Step {
    Step {
        kind: StepKind::Action(action),
        status,
        reason,
    }
}

/// A component's tag: it exists, is on the component's branch, and its CI succeeded.
pub(super) fn preflight(name: &str, component: &ComponentObservation) -> Step {
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
            Some((workflow, ci)) => component_ci(tag, commit, branch, workflow.clone(), ci),
        },
    };
    gate(kind, status, Reason::Component(reason))
}

fn component_ci(
    tag: String,
    commit: &str,
    branch: String,
    workflow: String,
    ci: &CiStatus,
) -> (Status, ComponentReason) {
    match ci {
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

/// The declared version must be newer than what is live; a rollback is a new, higher version.
pub(super) fn order(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let (status, reason) = match facts.observed.deploy.live_version {
        Some(live) if live > version => {
            (Status::Blocked, OrderReason::LiveIsNewer { live, version })
        }
        Some(live) if live == version => (Status::Done, OrderReason::IsLive { version }),
        Some(live) => (Status::Done, OrderReason::NewerThanLive { version, live }),
        None => (Status::Done, OrderReason::NothingDeployed),
    };
    gate(Gate::Order, status, Reason::Order(reason))
}

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
        }),
    })
}

/// The pins on the stack branch: already the release's, or a commit to make.
pub(super) fn pin(facts: &Facts<'_>) -> Step {
    let (status, reason) = match existing_tag(facts) {
        Some(Ok(tag)) => (
            Status::Done,
            Reason::Pin(PinReason::Pinned {
                commit: tag.commit.clone(),
                pins: facts.release.components.clone(),
            }),
        ),
        // Both steps carry the whole reason: `apply` reports only the first blocked step.
        Some(Err(conflict)) => (Status::Blocked, Reason::TagConflict(conflict)),
        None => {
            let (status, reason) = pin_on_branch(facts);
            (status, Reason::Pin(reason))
        }
    };
    action(Action::Pin, status, reason)
}

fn pin_on_branch(facts: &Facts<'_>) -> (Status, PinReason) {
    let stack = &facts.observed.stack;
    let wanted = &facts.release.components;
    match &stack.pins {
        Err(why) => (Status::Blocked, PinReason::Unreadable { why: why.clone() }),
        Ok(current) if current == wanted => match &stack.pin_commit {
            Some(commit) => (
                Status::Done,
                PinReason::Pinned {
                    commit: commit.clone(),
                    pins: wanted.clone(),
                },
            ),
            None => (Status::Blocked, PinReason::CommitNotFound),
        },
        Ok(current) => {
            let changes = wanted
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
                PinReason::ToCommit {
                    changes,
                    branch: facts.config.stack.branch.clone(),
                },
            )
        }
    }
}

/// The stack tag at the pin commit, and the forge's release object for it.
pub(super) fn release(facts: &Facts<'_>) -> Step {
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
                at: facts.observed.stack.pin_commit.clone(),
            }),
        ),
    };
    action(Action::Release, status, reason)
}

/// The stack's CI run on the release tag, when `[stack] ci` names one.
pub(super) fn build(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let (status, reason) = match (&facts.config.stack.ci, &facts.observed.stack.ci) {
        (None, _) => (Status::Done, BuildReason::NoGate),
        (Some(workflow), None) => (
            Status::ToDo,
            BuildReason::ToWaitFor {
                workflow: workflow.clone(),
                version,
            },
        ),
        (Some(_), Some((workflow, ci))) => {
            let workflow = workflow.clone();
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
    };
    gate(Gate::Build, status, Reason::Build(reason))
}

/// The deploy: decided by the deployer's own history where it keeps one, by stackrel's
/// deployment records otherwise.
pub(super) fn deploy(facts: &Facts<'_>) -> Step {
    let (status, reason) = match (&facts.config.deploy, &facts.observed.deploy.deployer) {
        (Deploy::None, _) => (Status::Done, DeployReason::NoDeployer),
        // A deployer that keeps its own history is the authority on what it did.
        (_, Some(view)) => deploy_from_deployer(facts, view),
        (_, None) => deploy_from_records(facts),
    };
    action(Action::Deploy, status, Reason::Deploy(reason))
}

fn last_line(detail: &str) -> String {
    detail.lines().last().unwrap_or_default().to_string()
}

fn launch(facts: &Facts<'_>) -> DeployReason {
    let version = facts.release.version;
    match &facts.config.deploy {
        Deploy::Awx(awx) => DeployReason::Launch {
            template: awx.template.clone(),
            version,
        },
        _ => DeployReason::RunCommand { version },
    }
}

fn deploy_from_deployer(facts: &Facts<'_>, view: &DeployerView) -> (Status, DeployReason) {
    let retry = facts.options.retry_deploy;
    let record = facts.observed.deploy.latest_for_version.as_ref();
    match view {
        DeployerView::Succeeded(detail) => (
            Status::Done,
            DeployReason::DeployerSucceeded {
                detail: detail.clone(),
            },
        ),
        DeployerView::Running(detail) => (
            Status::Waiting,
            DeployReason::DeployerRunning {
                detail: detail.clone(),
            },
        ),
        DeployerView::Failed(detail) if retry => (
            Status::ToDo,
            DeployReason::RetryAfterFailure {
                detail: detail.clone(),
            },
        ),
        DeployerView::Failed(detail) => (
            Status::Blocked,
            DeployReason::DeployerFailed {
                detail: detail.clone(),
            },
        ),
        DeployerView::NotLaunched => match record {
            Some(r) if r.state == DeploymentState::Failed && !retry => (
                Status::Blocked,
                DeployReason::LaunchFailed {
                    version: facts.release.version,
                    last_line: last_line(&r.detail),
                },
            ),
            _ => (Status::ToDo, launch(facts)),
        },
    }
}

fn deploy_from_records(facts: &Facts<'_>) -> (Status, DeployReason) {
    let version = facts.release.version;
    let retry = facts.options.retry_deploy;
    let verified_live = matches!(facts.observed.deploy.verified, Some(Ok(true)));
    let Some(record) = facts.observed.deploy.latest_for_version.as_ref() else {
        return (Status::ToDo, launch(facts));
    };
    match record.state {
        DeploymentState::Succeeded | DeploymentState::Verified => {
            (Status::Done, DeployReason::Deployed { version })
        }
        DeploymentState::Started if verified_live => {
            (Status::Done, DeployReason::UnrecordedButLive)
        }
        DeploymentState::Started if retry => {
            (Status::ToDo, DeployReason::RetryInterrupted { version })
        }
        DeploymentState::Started => (
            Status::Blocked,
            DeployReason::Interrupted {
                version,
                started_at: record.at.clone(),
            },
        ),
        DeploymentState::Failed if retry => (Status::ToDo, DeployReason::RetryFailed { version }),
        DeploymentState::Failed => (
            Status::Blocked,
            DeployReason::Failed {
                version,
                last_line: last_line(&record.detail),
            },
        ),
    }
}

/// Production reports the declared versions, when `[verify]` says how to ask.
pub(super) fn verify(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let deploy = &facts.observed.deploy;
    let (status, reason) = match (&facts.config.verify, &deploy.verified) {
        (None, _) => (Status::Done, VerifyReason::NoVerifier),
        (Some(_), Some(Ok(true))) => (Status::Done, VerifyReason::Live { version }),
        // The deploy is done and production has been asked: what is left is waiting for it.
        (Some(_), Some(Ok(false))) => (
            Status::Waiting,
            VerifyReason::NotLiveYet {
                version,
                last_line: last_line(&deploy.verify_detail),
            },
        ),
        (Some(_), Some(Err(e))) => (
            Status::Waiting,
            VerifyReason::CheckFailed { why: e.clone() },
        ),
        (Some(_), None) => (Status::ToDo, VerifyReason::ToCheck { version }),
    };
    gate(Gate::Verify, status, Reason::Verify(reason))
}

/// The release recorded as live, and its ticket told.
pub(super) fn report(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let reported = facts
        .observed
        .deploy
        .latest_for_version
        .as_ref()
        .is_some_and(|r| r.state == DeploymentState::Verified);
    let (status, reason) = if reported {
        (Status::Done, ReportReason::Recorded { version })
    } else {
        (
            Status::ToDo,
            ReportReason::ToRecord {
                version,
                ticket: facts.release.ticket.as_ref().map(ToString::to_string),
            },
        )
    };
    action(Action::Report, status, Reason::Report(reason))
}

/// Holds side effects back: a closed window holds the start of a new release (its pin commit),
/// so a release already under way is finished rather than left half done; suspension holds
/// every side effect. Returns why, when anything is held.
pub(super) fn hold(steps: &mut [Step], facts: &Facts<'_>) -> Option<Hold> {
    let mut held = None;
    let starting = steps
        .iter()
        .any(|s| s.is_action(Action::Pin) && s.status == Status::ToDo);
    if let Some(window) = facts.options.window.as_ref().filter(|w| !w.open)
        && starting
    {
        let hold = Hold::Window {
            next_opening: window.next_opening.clone(),
        };
        for s in steps
            .iter_mut()
            .filter(|s| s.is_action(Action::Pin) && s.status == Status::ToDo)
        {
            hold_step(s, &hold);
        }
        held = Some(hold);
    }
    if facts.config.daemon.suspended {
        for s in steps.iter_mut().filter(|s| s.status == Status::ToDo) {
            hold_step(s, &Hold::Suspended);
        }
        held = Some(Hold::Suspended);
    }
    held
}

fn hold_step(step: &mut Step, hold: &Hold) {
    step.status = Status::Waiting;
    let then = step.reason.clone();
    step.reason = Reason::Held {
        hold: hold.clone(),
        then: Box::new(then),
    };
}

/// What a person should know that stops nothing.
pub(super) fn warnings(facts: &Facts<'_>) -> Vec<String> {
    let mut warnings = facts.observed.warnings.clone();
    if facts.release.ticket.is_some() && !facts.config.stack.repo.is_github() {
        warnings.push(
            "the release names a ticket, but tickets are reported only when the stack is on GitHub"
                .into(),
        );
    }
    warnings
}

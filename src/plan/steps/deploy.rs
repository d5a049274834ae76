//! Putting the cut release into production and confirming it: the deploy (launched by stackrel,
//! or by the stack's CI and followed), verification, and the report. What is already live is
//! decided from evidence, so a release made by hand is never deployed again.

use super::{Facts, action, gate};
use crate::config::{Deploy, LaunchedBy};
use crate::deploy::DeployerView;
use crate::forge::DeploymentState;
use crate::observation::Evidence;
use crate::plan::reason::{DeployReason, Reason, ReportReason, VerifyReason};
use crate::plan::{Action, Gate, Status, Step};

/// The deploy: decided by the deployer's own history where it keeps one, by stackrel's
/// deployment records otherwise; for a release cut by a person, by the evidence of what is live.
pub(in crate::plan) fn deploy(facts: &Facts<'_>) -> Step {
    let retry = facts.options.retry_deploy;
    let (status, reason) = match &facts.config.deploy {
        Deploy::None => (Status::Done, DeployReason::NoDeployer),
        // Another run is deploying: whatever this one would decide, it waits for that outcome.
        _ if let Some(holder) = &facts.observed.deploy.in_progress => (
            Status::Waiting,
            DeployReason::InProgress {
                version: facts.release.version,
                holder: holder.clone(),
            },
        ),
        Deploy::Awx(awx) if awx.launched_by == LaunchedBy::Ci && !retry => {
            follow_ci(facts, &awx.template)
        }
        _ => match released_by_hand(facts) {
            Some(decided) => decided,
            None => match &facts.observed.deploy.deployer {
                // A deployer that keeps its own history is the authority on what it did.
                Some(view) => deploy_from_deployer(facts, view),
                None => deploy_from_records(facts),
            },
        },
    };
    action(Action::Deploy, status, Reason::Deploy(reason))
}

/// The evidence that the release itself is live, if that is what it shows.
fn live_evidence<'a>(facts: &Facts<'a>) -> Option<&'a Evidence> {
    let live = facts.observed.deploy.live.as_ref()?;
    (live.version == facts.release.version).then_some(&live.evidence)
}

/// A release tag a person cut, of which stackrel has no record.
fn is_by_hand(facts: &Facts<'_>) -> bool {
    !facts.options.cutting
        && facts
            .observed
            .stack
            .tag
            .as_ref()
            .is_some_and(|t| !t.by_stackrel)
        && facts.observed.deploy.latest_for_version.is_none()
}

/// A release a person cut: live by evidence, or settled by the deployer's history or by
/// evidence that another version is live, or unknown — never guessed. `None` when it is not
/// such a release, when it is to be deployed like any other, or when a retry was asked for.
fn released_by_hand(facts: &Facts<'_>) -> Option<(Status, DeployReason)> {
    if !is_by_hand(facts) {
        return None;
    }
    let version = facts.release.version;
    if let Some(evidence) = live_evidence(facts) {
        let evidence = evidence.clone();
        return Some((
            Status::Done,
            DeployReason::LiveByEvidence { version, evidence },
        ));
    }
    let seen_by_deployer = facts
        .observed
        .deploy
        .deployer
        .as_ref()
        .is_some_and(|v| *v != DeployerView::NotLaunched);
    if seen_by_deployer || shown_not_live(facts) || facts.options.retry_deploy {
        return None;
    }
    Some((Status::Blocked, DeployReason::Unknown { version }))
}

/// Whether production itself (the verifier) or the deployer's history shows another version
/// live: then the release was cut and never deployed, and deploying it is no guess. A record
/// of stackrel's is no such evidence: the release may have been deployed since without it.
fn shown_not_live(facts: &Facts<'_>) -> bool {
    facts.observed.deploy.live.as_ref().is_some_and(|live| {
        live.version != facts.release.version && !matches!(live.evidence, Evidence::Record(_))
    })
}

/// `launched_by = "ci"`: the stack's CI launches the template for the tag; stackrel follows
/// the job it launched to its end and reports what really happened.
fn follow_ci(facts: &Facts<'_>, template: &str) -> (Status, DeployReason) {
    let version = facts.release.version;
    let waiting = DeployReason::CiLaunches {
        template: template.to_string(),
        version,
    };
    match &facts.observed.deploy.deployer {
        None => (Status::Waiting, waiting),
        Some(DeployerView::Succeeded(detail)) => (
            Status::Done,
            DeployReason::DeployerSucceeded {
                detail: detail.clone(),
            },
        ),
        Some(DeployerView::Running(detail)) => (
            Status::Waiting,
            DeployReason::DeployerRunning {
                detail: detail.clone(),
            },
        ),
        Some(DeployerView::Failed(detail)) => (
            Status::Blocked,
            DeployReason::CiDeployFailed {
                detail: detail.clone(),
            },
        ),
        Some(DeployerView::NotLaunched) => {
            if let Some(evidence) = live_evidence(facts) {
                let evidence = evidence.clone();
                return (
                    Status::Done,
                    DeployReason::LiveByEvidence { version, evidence },
                );
            }
            match facts.waited_past("deploy", facts.config.stack.ci_timeout) {
                Some(waited) => (
                    Status::Blocked,
                    DeployReason::CiLaunchMissing {
                        template: template.to_string(),
                        version,
                        waited,
                    },
                ),
                None => (Status::Waiting, waiting),
            }
        }
    }
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
    if record.is_some_and(|r| r.state == DeploymentState::Adopted) {
        return adopted(facts);
    }
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

/// A person said the release is live (`stackrel adopt`).
fn adopted(facts: &Facts<'_>) -> (Status, DeployReason) {
    (
        Status::Done,
        DeployReason::LiveByEvidence {
            version: facts.release.version,
            evidence: Evidence::Record(DeploymentState::Adopted),
        },
    )
}

fn deploy_from_records(facts: &Facts<'_>) -> (Status, DeployReason) {
    let version = facts.release.version;
    let retry = facts.options.retry_deploy;
    let verified_live = matches!(facts.observed.deploy.verified, Some(Ok(true)));
    let Some(record) = facts.observed.deploy.latest_for_version.as_ref() else {
        return (Status::ToDo, launch(facts));
    };
    match record.state {
        DeploymentState::Adopted => adopted(facts),
        DeploymentState::Succeeded | DeploymentState::Verified | DeploymentState::Reported => {
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
pub(in crate::plan) fn verify(facts: &Facts<'_>) -> Step {
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

/// The release recorded as done — live if verified, deployed (not verified) otherwise — and
/// its ticket told. A release made by hand that evidence shows live needs no report of ours.
pub(in crate::plan) fn report(facts: &Facts<'_>) -> Step {
    let version = facts.release.version;
    let record = facts.observed.deploy.latest_for_version.as_ref();
    let (status, reason) = match record.map(|r| r.state) {
        Some(DeploymentState::Adopted) => (
            Status::Done,
            ReportReason::WithoutStackrel {
                version,
                evidence: Evidence::Record(DeploymentState::Adopted),
            },
        ),
        Some(state) if state.is_final() => (
            Status::Done,
            ReportReason::Recorded {
                version,
                verified: state == DeploymentState::Verified,
            },
        ),
        _ => match live_evidence(facts).filter(|_| is_by_hand(facts)) {
            Some(evidence) => (
                Status::Done,
                ReportReason::WithoutStackrel {
                    version,
                    evidence: evidence.clone(),
                },
            ),
            None => (
                Status::ToDo,
                ReportReason::ToRecord {
                    version,
                    ticket: facts
                        .release
                        .ticket
                        .as_ref()
                        .map(ToString::to_string)
                        .or_else(|| {
                            let repo = facts.config.ticket.repo.as_ref()?;
                            Some(format!(
                                "{repo} \"{}\"",
                                crate::ticket::title(facts.release)
                            ))
                        }),
                    verified: facts.config.verify.is_some(),
                },
            ),
        },
    };
    action(Action::Report, status, Reason::Report(reason))
}

//! The planner: a pure function from what is declared (the newest release) and what is observed
//! to an ordered list of steps, each done, to do, waiting or blocked, with a one-line reason.
//! Because it is a value, the plan can be printed (`stackrel plan`), serialized (`--json`),
//! asserted on in tests, and executed one step at a time by `apply`, which observes and plans
//! again before every side effect.

use crate::calver::CalVer;
use crate::config::{Config, DeployKind};
use crate::deploy::DeployerView;
use crate::forge::{CiStatus, DeploymentState, short};
use crate::observation::Observation;
use crate::release::Release;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Done,
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

/// What a step does when executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StepKind {
    /// Read-only checks of one component's tag.
    Preflight {
        component: String,
    },
    /// Read-only: the declared version must be newer than what is live.
    Order,
    Pin,
    Release,
    Build,
    Deploy,
    Verify,
    Report,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub kind: StepKind,
    pub status: Status,
    pub reason: String,
}

impl Step {
    pub fn title(&self) -> String {
        match &self.kind {
            StepKind::Preflight { component } => format!("preflight {component}"),
            StepKind::Order => "preflight order".into(),
            StepKind::Pin => "pin".into(),
            StepKind::Release => "release".into(),
            StepKind::Build => "build".into(),
            StepKind::Deploy => "deploy".into(),
            StepKind::Verify => "verify".into(),
            StepKind::Report => "report".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub version: CalVer,
    /// The version production runs, as far as the deployment records show.
    pub live: Option<CalVer>,
    /// Declared releases newer than what is live but older than the desired one: never replayed.
    pub superseded: Vec<CalVer>,
    pub steps: Vec<Step>,
    /// Things a person should know that do not stop the release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why side effects are held back (suspension, a closed deploy window), if they are:
    /// waiting that no amount of polling within a run will end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

/// What `apply` should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<'a> {
    InSync,
    Act(&'a Step),
    Wait(&'a Step),
    Blocked(&'a Step),
}

impl Plan {
    pub fn in_sync(&self) -> bool {
        self.steps.iter().all(|s| s.status == Status::Done)
    }

    /// The first step that is not done decides: blocked stops, waiting waits, to-do acts.
    pub fn next(&self) -> Next<'_> {
        match self.steps.iter().find(|s| s.status != Status::Done) {
            None => Next::InSync,
            Some(step) => match step.status {
                Status::Blocked => Next::Blocked(step),
                Status::Waiting => Next::Wait(step),
                _ => Next::Act(step),
            },
        }
    }

    pub fn blocked(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == Status::Blocked)
    }

    /// Steps still to run (to do or waiting).
    pub fn pending(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.status, Status::ToDo | Status::Waiting))
            .count()
    }
}

/// Options a person can give that change decisions.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Treat a failed or interrupted deploy as to do again (`apply --retry-deploy`).
    pub retry_deploy: bool,
    /// The deploy windows at planning time; `None` when none are configured.
    pub window: Option<crate::window::WindowState>,
}

fn step(kind: StepKind, status: Status, reason: impl Into<String>) -> Step {
    Step {
        kind,
        status,
        reason: reason.into(),
    }
}

fn describe_pins(pins: &std::collections::BTreeMap<String, String>) -> String {
    pins.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
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
    let version = release.version;
    let mut steps = Vec::new();

    for (name, component) in &observed.components {
        let kind = StepKind::Preflight {
            component: name.clone(),
        };
        let tag = &component.tag;
        let s = match &component.commit {
            None => step(
                kind,
                Status::Blocked,
                format!("tag {tag} does not exist in the {name} repository"),
            ),
            Some(commit) if !component.reachable => step(
                kind,
                Status::Blocked,
                format!(
                    "tag {tag} ({}) is not on branch {}; only tags on {} may be released",
                    short(commit),
                    component.branch,
                    component.branch
                ),
            ),
            Some(commit) => match &component.ci {
                None => step(
                    kind,
                    Status::Done,
                    format!("{tag} is {} on {}", short(commit), component.branch),
                ),
                Some((workflow, CiStatus::Success)) => step(
                    kind,
                    Status::Done,
                    format!(
                        "{tag} is {} on {}; \"{workflow}\" succeeded",
                        short(commit),
                        component.branch
                    ),
                ),
                Some((workflow, CiStatus::Failure(why))) => step(
                    kind,
                    Status::Blocked,
                    format!("\"{workflow}\" failed for {tag}: {why}"),
                ),
                Some((workflow, CiStatus::Pending)) => step(
                    kind,
                    Status::Waiting,
                    format!("\"{workflow}\" is still running for {tag}"),
                ),
                Some((workflow, CiStatus::Missing)) => step(
                    kind,
                    Status::Waiting,
                    format!("no \"{workflow}\" run for {tag} yet"),
                ),
            },
        };
        steps.push(s);
    }

    let live = observed.deploy.live_version;
    steps.push(match live {
        Some(live) if live > version => step(
            StepKind::Order,
            Status::Blocked,
            format!("{live} is live, newer than the declared {version}; to roll back, add a new release with the old versions"),
        ),
        Some(live) if live == version => step(StepKind::Order, Status::Done, format!("{version} is live")),
        Some(live) => step(StepKind::Order, Status::Done, format!("{version} is newer than the live {live}")),
        None => step(StepKind::Order, Status::Done, "nothing deployed yet"),
    });

    let stack = &observed.stack;
    let pins_wanted = describe_pins(&release.components);
    // A tag that exists decides the pin and release steps on its own: what it points at is what
    // was (or will be) built, whatever the branch has done since.
    let (pin_step, release_step) = match &stack.tag {
        Some(tag) => {
            let pins_match = tag.pins.as_ref().is_ok_and(|p| *p == release.components);
            if pins_match && tag.on_branch {
                let release_step = if tag.release {
                    step(
                        StepKind::Release,
                        Status::Done,
                        format!("tag {version} is at {}", short(&tag.commit)),
                    )
                } else {
                    step(
                        StepKind::Release,
                        Status::ToDo,
                        format!(
                            "publish the release for tag {version} (at {})",
                            short(&tag.commit)
                        ),
                    )
                };
                (
                    step(
                        StepKind::Pin,
                        Status::Done,
                        format!("{} pins {pins_wanted}", short(&tag.commit)),
                    ),
                    release_step,
                )
            } else {
                let why = match &tag.pins {
                    Err(e) => format!("its workflow file cannot be read: {e}"),
                    Ok(p) if !pins_match => {
                        format!("it pins {} instead of {pins_wanted}", describe_pins(p))
                    }
                    Ok(_) => format!("that commit is not on {}", config.stack.branch),
                };
                // Both steps carry the whole reason: `apply` reports only the first blocked step.
                let conflict = format!(
                    "tag {version} already exists at {}, but {why}; delete or rename that tag, or release a new version",
                    short(&tag.commit)
                );
                (
                    step(StepKind::Pin, Status::Blocked, conflict.clone()),
                    step(StepKind::Release, Status::Blocked, conflict),
                )
            }
        }
        None => {
            let pin = match &stack.pins {
                Err(e) => step(
                    StepKind::Pin,
                    Status::Blocked,
                    format!("cannot read the pins: {e}"),
                ),
                Ok(current) if *current == release.components => match &stack.pin_commit {
                    Some(commit) => step(
                        StepKind::Pin,
                        Status::Done,
                        format!("{} pins {pins_wanted}", short(commit)),
                    ),
                    None => step(
                        StepKind::Pin,
                        Status::Blocked,
                        "the pins match but the commit that set them was not found",
                    ),
                },
                Ok(current) => {
                    let changes: Vec<String> = release
                        .components
                        .iter()
                        .filter(|(name, value)| current.get(*name) != Some(value))
                        .map(|(name, value)| {
                            let pin = config
                                .components
                                .get(name)
                                .map_or(name.as_str(), |c| c.pin.as_str());
                            format!(
                                "{pin} {} → {value}",
                                current.get(name).map_or("?", String::as_str)
                            )
                        })
                        .collect();
                    step(
                        StepKind::Pin,
                        Status::ToDo,
                        format!("commit {} on {}", changes.join(", "), config.stack.branch),
                    )
                }
            };
            let target = stack
                .pin_commit
                .as_deref()
                .map_or("the pin commit".to_string(), |c| short(c).to_string());
            let release_step = step(
                StepKind::Release,
                Status::ToDo,
                format!("tag {version} at {target}"),
            );
            (pin, release_step)
        }
    };
    steps.push(pin_step);
    steps.push(release_step);

    steps.push(match (&config.stack.ci, &stack.ci) {
        (None, _) => step(StepKind::Build, Status::Done, "no stack CI gate configured"),
        (Some(workflow), None) => step(
            StepKind::Build,
            Status::ToDo,
            format!("wait for \"{workflow}\" on tag {version}"),
        ),
        (Some(_), Some((workflow, status))) => match status {
            CiStatus::Success => step(
                StepKind::Build,
                Status::Done,
                format!("\"{workflow}\" succeeded on {version}"),
            ),
            CiStatus::Failure(why) => step(
                StepKind::Build,
                Status::Blocked,
                format!("\"{workflow}\" failed on {version}: {why}"),
            ),
            CiStatus::Pending => step(
                StepKind::Build,
                Status::Waiting,
                format!("\"{workflow}\" is running on {version}"),
            ),
            CiStatus::Missing => step(
                StepKind::Build,
                Status::Waiting,
                format!("no \"{workflow}\" run on {version} yet"),
            ),
        },
    });

    let deploy = &observed.deploy;
    let verified_live = matches!(deploy.verified, Some(Ok(true)));
    let record = deploy.latest_for_version.as_ref();
    let deployer_view = deploy.deployer.as_ref();
    steps.push(match (config.deploy.kind, record.map(|r| r.state)) {
        (DeployKind::None, _) => step(StepKind::Deploy, Status::Done, "no deployer configured"),
        // A deployer that keeps its own history is the authority on what it did.
        (_, state) if deployer_view.is_some() => match deployer_view {
            Some(DeployerView::Succeeded(detail)) => step(StepKind::Deploy, Status::Done, detail.clone()),
            Some(DeployerView::Running(detail)) => step(StepKind::Deploy, Status::Waiting, detail.clone()),
            Some(DeployerView::Failed(detail)) if options.retry_deploy => {
                step(StepKind::Deploy, Status::ToDo, format!("retry after: {detail}"))
            }
            Some(DeployerView::Failed(detail)) => step(
                StepKind::Deploy,
                Status::Blocked,
                format!("{detail}; fix the cause, then run `stackrel apply --retry-deploy`"),
            ),
            _ if state == Some(DeploymentState::Failed) && !options.retry_deploy => step(
                StepKind::Deploy,
                Status::Blocked,
                format!(
                    "the launch of {version} failed: {}; fix the cause, then run `stackrel apply --retry-deploy`",
                    record.map_or("", |r| r.detail.lines().last().unwrap_or_default())
                ),
            ),
            _ => step(
                StepKind::Deploy,
                Status::ToDo,
                format!(
                    "launch \"{}\" with {version}",
                    config.deploy.template.as_deref().unwrap_or("the deploy")
                ),
            ),
        },
        (_, Some(DeploymentState::Succeeded | DeploymentState::Verified)) => {
            step(StepKind::Deploy, Status::Done, format!("{version} deployed"))
        }
        (_, Some(DeploymentState::Started)) if verified_live => {
            step(StepKind::Deploy, Status::Done, "the deploy's outcome was not recorded, but verification sees it live")
        }
        (_, Some(DeploymentState::Started)) if options.retry_deploy => {
            step(StepKind::Deploy, Status::ToDo, format!("retry the interrupted deploy of {version}"))
        }
        (_, Some(DeploymentState::Started)) => step(
            StepKind::Deploy,
            Status::Blocked,
            format!(
                "a deploy of {version} started at {} has no recorded outcome and {version} is not verified live; check production, then run `stackrel apply --retry-deploy`",
                record.map_or("", |r| r.at.as_str())
            ),
        ),
        (_, Some(DeploymentState::Failed)) if options.retry_deploy => {
            step(StepKind::Deploy, Status::ToDo, format!("retry the failed deploy of {version}"))
        }
        (_, Some(DeploymentState::Failed)) => step(
            StepKind::Deploy,
            Status::Blocked,
            format!(
                "the deploy of {version} failed: {}; fix the cause, then run `stackrel apply --retry-deploy`",
                record.map_or("", |r| r.detail.lines().last().unwrap_or_default())
            ),
        ),
        (kind, None) => step(
            StepKind::Deploy,
            Status::ToDo,
            match kind {
                DeployKind::Awx => format!("launch \"{}\" with {version}", config.deploy.template.as_deref().unwrap_or("?")),
                _ => format!("run the deploy command for {version}"),
            },
        ),
    });

    steps.push(match (&config.verify, &deploy.verified) {
        (None, _) => step(StepKind::Verify, Status::Done, "no verification configured"),
        (Some(_), Some(Ok(true))) => step(
            StepKind::Verify,
            Status::Done,
            format!("production reports {version}"),
        ),
        // The deploy is done and production has been asked: what is left is waiting for it.
        (Some(_), Some(Ok(false))) => step(
            StepKind::Verify,
            Status::Waiting,
            format!(
                "production does not report {version} yet: {}",
                deploy.verify_detail.lines().last().unwrap_or_default()
            ),
        ),
        (Some(_), Some(Err(e))) => step(
            StepKind::Verify,
            Status::Waiting,
            format!("the last check failed: {e}"),
        ),
        (Some(_), None) => step(
            StepKind::Verify,
            Status::ToDo,
            format!("check that production reports {version}"),
        ),
    });

    let reported = record.is_some_and(|r| r.state == DeploymentState::Verified);
    steps.push(if reported {
        step(
            StepKind::Report,
            Status::Done,
            format!("{version} recorded as live"),
        )
    } else {
        let ticket = release
            .ticket
            .as_ref()
            .map(|t| format!(" and on {t}"))
            .unwrap_or_default();
        step(
            StepKind::Report,
            Status::ToDo,
            format!("record {version} as live{ticket}"),
        )
    });

    let mut held = None;
    // A release starts with its pin commit; a closed window holds only that start, so a
    // release already under way is finished rather than left half done.
    let starting = steps
        .iter()
        .any(|s| s.kind == StepKind::Pin && s.status == Status::ToDo);
    if let Some(window) = options.window.as_ref().filter(|w| !w.open)
        && starting
    {
        let next = window
            .next_opening
            .as_deref()
            .map_or(String::new(), |t| format!("; next opening {t}"));
        let reason = format!("outside the deploy windows of [daemon] windows{next}");
        for s in steps
            .iter_mut()
            .filter(|s| s.kind == StepKind::Pin && s.status == Status::ToDo)
        {
            s.status = Status::Waiting;
            s.reason = format!("waiting for window{next}; then {}", s.reason);
        }
        held = Some(reason);
    }
    if config.daemon.suspended {
        for s in steps.iter_mut().filter(|s| s.status == Status::ToDo) {
            s.status = Status::Waiting;
            s.reason = format!("suspended by [daemon] suspended = true; {}", s.reason);
        }
        held = Some("suspended by [daemon] suspended = true in stackrel.toml".into());
    }

    let superseded = declared
        .iter()
        .map(|r| r.version)
        .filter(|v| *v < version && live.is_none_or(|l| *v > l))
        .collect();
    let mut warnings = observed.warnings.clone();
    if release.ticket.is_some()
        && crate::config::RepoLocation::parse(&config.stack.repo)
            .is_ok_and(|r| matches!(r, crate::config::RepoLocation::Local(_)))
    {
        warnings.push(
            "the release names a ticket, but tickets are reported only when the stack is on GitHub"
                .into(),
        );
    }
    Plan {
        version,
        live,
        superseded,
        steps,
        warnings,
        held,
    }
}

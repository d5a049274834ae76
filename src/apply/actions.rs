//! The four actions of a plan, each in its own function over one shared context: what was
//! observed, the release, the backends. Every action is decided from the observation it is given
//! and writes with a condition (compare-and-swap, create-if-absent), so a lost race or a crash
//! never does the work twice: the next observation decides what is left.

use super::notes::published_notes;
use super::{Backends, Memory, Progress};
use crate::config::{Config, render_template};
use crate::deploy::{DeployError, ReleaseContext};
use crate::forge::{DeploymentRecord, DeploymentState, FileWrite, ForgeError, NewRelease, short};
use crate::observation::Observation;
use crate::pin::set_pins;
use crate::plan::Action;
use crate::release::Release;

/// What an action needs, looked up once.
pub(super) struct StepContext<'a> {
    pub config: &'a Config,
    pub release: &'a Release,
    pub observed: &'a Observation,
    pub backends: &'a Backends<'a>,
    /// The commit the plan cuts the release at, by full SHA.
    pub target: Option<&'a str>,
    /// Whether a person let this run through closed deploy windows.
    pub window_ignored: bool,
    pub memory: &'a Memory,
}

pub(super) enum StepResult {
    /// The action ran; a failure (a deploy that failed) is recorded like a success.
    Ran { what: String, succeeded: bool },
    /// A progress hook stopped the run inside the action, after a side effect.
    Interrupted(String),
    /// A deploy was sent and nobody can say yet whether it runs: stop, and look later.
    Unsettled(String),
}

impl StepResult {
    fn done(what: String) -> Self {
        StepResult::Ran {
            what,
            succeeded: true,
        }
    }
}

impl StepContext<'_> {
    fn version(&self) -> String {
        self.release.version.to_string()
    }

    /// The commit the release tag points at, once it exists.
    fn tag_commit(&self) -> Result<&str, ForgeError> {
        self.observed
            .stack
            .tag
            .as_ref()
            .map(|t| t.commit.as_str())
            .ok_or_else(|| ForgeError::Other(format!("tag {} does not exist yet", self.version())))
    }

    /// What the deployment record keeps of a person letting the release through closed deploy
    /// windows: who, and that it was deliberate.
    fn window_override(&self) -> String {
        if !self.window_ignored {
            return String::new();
        }
        let who = crate::adopt::who();
        format!("started outside the deploy windows: {who} ran `stackrel apply --ignore-window`")
    }

    fn release_context(&self, commit: &str) -> ReleaseContext {
        ReleaseContext {
            version: self.version(),
            components: self.release.components.clone(),
            commit: commit.to_string(),
        }
    }

    fn record(&self, commit: &str, state: DeploymentState, detail: String) -> DeploymentRecord {
        DeploymentRecord {
            version: self.version(),
            commit: commit.to_string(),
            state,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            detail,
            images: self.observed.image_digests(),
        }
    }

    /// Keeps the release ticket current (found, or opened, assigned, commented on, on the
    /// board), when the release names one or `[ticket] repo` says where to find it.
    fn report_ticket(&self, state: &str) -> Option<(String, Result<(), ForgeError>)> {
        let settings = &self.config.ticket;
        let named = self.release.ticket.as_ref();
        let which = match (named, &settings.repo) {
            (Some(ticket), _) => ticket.to_string(),
            (None, Some(repo)) => format!("{repo} \"{}\"", crate::ticket::title(self.release)),
            (None, None) => return None,
        };
        let Some(desk) = self.backends.forge.tickets() else {
            let why =
                format!("{which} is a GitHub issue; reporting on it needs the GitHub backend");
            return Some((which, Err(ForgeError::Unsupported(why))));
        };
        let summary = self.ticket_summary();
        let report = crate::ticket::TicketReport {
            release: self.release,
            settings,
            summary: &summary,
            state,
        };
        match crate::ticket::keep(desk, &report) {
            Ok(Some(ticket)) => Some((ticket.to_string(), Ok(()))),
            Ok(None) => None,
            Err(e) => Some((which, Err(e))),
        }
    }

    /// The release as its ticket shows it: versions linked to their tags, notes, digests.
    fn ticket_summary(&self) -> String {
        let github =
            |repo: &crate::config::RepoLocation| repo.is_github().then(|| repo.to_string());
        let links = self
            .config
            .components
            .iter()
            .map(|(name, c)| (name.clone(), github(&c.repo)))
            .collect();
        crate::ticket::summary(
            self.release,
            &self.config.github.web_url(),
            github(&self.config.stack.repo).as_deref(),
            &links,
            &self.observed.image_digests(),
        )
    }
}

/// Runs one action. Gates are never executed: the type says so.
pub(super) fn execute(
    action: Action,
    context: &StepContext<'_>,
    progress: &mut dyn Progress,
) -> Result<StepResult, ForgeError> {
    match action {
        Action::Pin => pin(context),
        Action::Release => release(context),
        Action::Deploy => deploy(context, progress),
        Action::Report => report(context),
    }
}

/// Commits the release's pins to the workflow file, only if the file is still what was read.
fn pin(context: &StepContext<'_>) -> Result<StepResult, ForgeError> {
    let config = context.config;
    let forge = context.backends.forge;
    let workflow = &config.stack.workflow;
    let file = forge
        .read_file(
            &config.stack.repo,
            &context.observed.stack.branch_head,
            workflow,
        )?
        .ok_or_else(|| ForgeError::NotFound {
            what: format!("{workflow} on {}", config.stack.branch),
        })?;
    let values: Vec<(&str, &str)> = config
        .components
        .iter()
        .filter_map(|(name, c)| {
            context
                .release
                .components
                .get(name)
                .map(|v| (c.pin.as_str(), v.as_str()))
        })
        .collect();
    let text =
        set_pins(&file.text, &values).map_err(|e| ForgeError::Other(format!("{workflow}: {e}")))?;
    let message = render_template(
        &config.stack.commit_message,
        &context.version(),
        &context.release.components,
    );
    let commit = forge.write_file(
        &config.stack.repo,
        &FileWrite {
            branch: &config.stack.branch,
            path: workflow,
            content: &text,
            expected_blob: &file.blob,
            message: &message,
        },
    )?;
    let did = format!("pinned in {} \"{message}\"", short(&commit));
    context.memory.pinned(commit);
    Ok(StepResult::done(did))
}

/// Tags the pin commit and publishes the release; tells the ticket, as a courtesy.
fn release(context: &StepContext<'_>) -> Result<StepResult, ForgeError> {
    let version = context.version();
    // The plan names the commit: the existing tag's (its release object missing), the pin
    // commit, or the branch tip that holds the pins — never "the branch" by name.
    let commit = context
        .target
        .ok_or_else(|| ForgeError::Other("the commit to release is not known yet".into()))?;
    context.memory.cutting();
    context.backends.forge.create_release(
        &context.config.stack.repo,
        &NewRelease {
            tag: &version,
            commit,
            title: &format!("Release {version}"),
            body: &published_notes(context.release),
        },
    )?;
    let mut did = format!("tagged {version} at {}", short(commit));
    // Progress on the ticket is a courtesy here; the report step insists on it.
    let state = format!("cut: tag {version} at {}; deploying", short(commit));
    match context.report_ticket(&state) {
        Some((ticket, Ok(()))) => did.push_str(&format!("; {ticket} updated")),
        Some((ticket, Err(e))) => did.push_str(&format!("; {ticket} not updated: {e}")),
        None => {}
    }
    Ok(StepResult::done(did))
}

/// Runs the deploy, recording the attempt first: if the process dies during the deploy, the
/// next run sees an attempt without an outcome and asks production instead of deploying again.
/// The deploy lock is held from before the records are read again to after the outcome is
/// recorded, and the deploy goes ahead only if the records are still what the plan was made
/// from: two runs that both planned a deploy deploy once.
fn deploy(
    context: &StepContext<'_>,
    progress: &mut dyn Progress,
) -> Result<StepResult, ForgeError> {
    let Some(deployer) = context.backends.deployer else {
        return Err(ForgeError::Other(
            "no deployer is configured for this backend".into(),
        ));
    };
    let forge = context.backends.forge;
    let repo = &context.config.stack.repo;
    let commit = context.tag_commit()?;
    let version = context.version();
    let _lock = forge.lock_deploys(repo, &crate::lock::Holder::this_process())?;
    still_as_observed(context)?;
    forge.record_deployment(
        repo,
        &context.record(commit, DeploymentState::Started, context.window_override()),
    )?;
    if progress
        .after_side_effect("recorded deploy start")
        .is_break()
    {
        return Ok(StepResult::Interrupted("recorded deploy start".into()));
    }
    let outcome = deployer.deploy(&context.release_context(commit));
    if progress.after_side_effect("ran deploy").is_break() {
        return Ok(StepResult::Interrupted("ran deploy".into()));
    }
    let (state, detail) = match outcome {
        // The start record stays the newest: the next plan asks the deployer what became of
        // the launch before anything is sent again.
        Err(DeployError::Unclear(why)) => {
            return Ok(StepResult::Unsettled(format!(
                "deploy of {version} unclear: {why}"
            )));
        }
        Ok(o) if o.succeeded => (DeploymentState::Succeeded, o.detail),
        Ok(o) => (DeploymentState::Failed, o.detail),
        Err(e) => (DeploymentState::Failed, e.to_string()),
    };
    let last_line = detail.lines().last().unwrap_or_default().to_string();
    forge.record_deployment(repo, &context.record(commit, state, detail))?;
    Ok(match state {
        DeploymentState::Succeeded => StepResult::done(format!("deployed {version}")),
        _ => {
            let mut what = format!("deploy of {version} failed: {last_line}");
            // The ticket says so too: no report step follows a failed deploy.
            match context.report_ticket(&format!("deploy failed: {last_line}")) {
                Some((ticket, Ok(()))) => what.push_str(&format!("; {ticket} updated")),
                Some((ticket, Err(e))) => what.push_str(&format!("; {ticket} not updated: {e}")),
                None => {}
            }
            StepResult::Ran {
                succeeded: false,
                what,
            }
        }
    })
}

/// The compare in the deploy's compare-and-swap: the newest record of the release, read again
/// under the lock, is the one the plan saw.
fn still_as_observed(context: &StepContext<'_>) -> Result<(), ForgeError> {
    let version = context.version();
    let records = context
        .backends
        .forge
        .deployments(&context.config.stack.repo)?;
    let now = records.into_iter().rev().find(|r| r.version == version);
    let seen = context.observed.deploy.latest_for_version.as_ref();
    if now.as_ref() == seen {
        return Ok(());
    }
    let describe = |r: Option<&DeploymentRecord>| {
        r.map_or("no record".to_string(), |r| {
            format!("{:?} at {}", r.state, r.at).to_lowercase()
        })
    };
    Err(ForgeError::Conflict {
        what: format!("the deployment records of {version}"),
        expected: describe(seen),
        found: describe(now.as_ref()),
    })
}

/// Records the release as live and says so on its ticket.
fn report(context: &StepContext<'_>) -> Result<StepResult, ForgeError> {
    let version = context.version();
    let commit = context.tag_commit()?;
    let verified = context.config.verify.is_some();
    let (mut did, state) = if verified {
        (
            format!("recorded {version} as live"),
            format!(
                "live: production reports {version} (tag at {})",
                short(commit)
            ),
        )
    } else {
        (
            format!("recorded {version} as deployed (not verified)"),
            format!(
                "deployed: {version} (tag at {}); no verification is configured",
                short(commit)
            ),
        )
    };
    match context.report_ticket(&state) {
        Some((ticket, Ok(()))) => did.push_str(&format!("; {ticket} updated")),
        // Without GitHub there is nowhere to report; the plan said so already.
        Some((_, Err(ForgeError::Unsupported(_)))) | None => {}
        Some((_, Err(e))) => return Err(e),
    }
    context.backends.forge.record_deployment(
        &context.config.stack.repo,
        &context.record(
            commit,
            if verified {
                DeploymentState::Verified
            } else {
                DeploymentState::Reported
            },
            String::new(),
        ),
    )?;
    Ok(StepResult::done(did))
}

//! One function per step of the plan, each deciding its step from the observed facts alone, in
//! the order the convergence loop runs them (`preflight`, `cut`, `deploy`), plus the hold that
//! windows and suspension put on side effects (`hold`), and the warnings that stop nothing.

mod cut;
mod deploy;
mod hold;
mod preflight;

pub(super) use cut::{build, pin, release, target};
pub(super) use deploy::{deploy, report, verify};
pub(super) use hold::hold;
pub(super) use preflight::{order, preflight};

use super::{Action, Facts, Gate, Reason, Status, Step, StepKind};
use std::time::Duration;

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

impl Facts<'_> {
    /// How long the step with this title has been waiting, when the loop's clock knows.
    fn waited(&self, title: &str) -> Option<Duration> {
        let since = self.options.waiting_since.get(title)?;
        (self.options.now - *since).to_std().ok()
    }

    /// Whether the release is older than something released since (`plan --rev` on history).
    fn is_historic(&self) -> bool {
        let version = self.release.version;
        let newest = self.observed.stack.released.newest_other.as_ref();
        self.observed
            .deploy
            .live_version()
            .is_some_and(|l| l > version)
            || newest.is_some_and(|t| {
                crate::observation::tag_number(&t.name)
                    > crate::observation::tag_number(&version.to_string())
            })
    }

    /// Whether the step with this title has waited longer than `limit`.
    fn waited_past(&self, title: &str, limit: Duration) -> Option<Duration> {
        self.waited(title).filter(|waited| *waited > limit)
    }
}

/// What a person should know that stops nothing.
pub(super) fn warnings(facts: &Facts<'_>) -> Vec<String> {
    let mut warnings = facts.observed.warnings.clone();
    let has_ticket = facts.release.ticket.is_some() || facts.config.ticket.repo.is_some();
    if has_ticket && !facts.config.stack.repo.is_github() {
        warnings.push(
            "the release names a ticket, but tickets are reported only when the stack is on GitHub"
                .into(),
        );
    }
    if facts.options.ignore_window && facts.options.window.as_ref().is_some_and(|w| !w.open) {
        warnings.push(
            "the deploy windows of [daemon] windows are closed; --ignore-window lets this release through"
                .into(),
        );
    }
    for name in &facts.release.waive_ci {
        warnings.push(format!(
            "the release file waives the CI gate of {name} (waive_ci)"
        ));
    }
    warnings
}

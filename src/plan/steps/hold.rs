//! What holds side effects back. A closed deploy window holds every side effect of a release —
//! its pin, its tag, its deploy — whoever made the pin commit, unless a person says
//! `--ignore-window`; suspension holds everything. The report is not held: it only records
//! what already happened.

use super::Facts;
use crate::plan::reason::{Hold, Reason};
use crate::plan::{Action, Status, Step, StepKind};

fn holds(step: &Step) -> bool {
    step.status == Status::ToDo
        && matches!(
            step.kind,
            StepKind::Action(Action::Pin | Action::Release | Action::Deploy)
        )
}

/// Holds what is to be held; returns why, when anything is.
pub(in crate::plan) fn hold(steps: &mut [Step], facts: &Facts<'_>) -> Option<Hold> {
    let mut held = None;
    if let Some(window) = facts.options.window.as_ref().filter(|w| !w.open)
        && !facts.options.ignore_window
        && steps.iter().any(holds)
    {
        let hold = Hold::Window {
            next_opening: window.next_opening.clone(),
        };
        for step in steps.iter_mut().filter(|s| holds(s)) {
            hold_step(step, &hold);
        }
        held = Some(hold);
    }
    if facts.config.daemon.suspended {
        for step in steps.iter_mut().filter(|s| s.status == Status::ToDo) {
            hold_step(step, &Hold::Suspended);
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

//! What a convergence loop remembers between its observations — and, in the daemon, between
//! reconciles: when each gate was first seen waiting (so that CI which never comes times out
//! instead of being waited on for ever), the commit the loop pinned (so that the release is cut
//! there even if the branch moves on), and that it set out to cut the release (so that a tag a
//! concurrent run made is not taken for a person's). Everything else is observed afresh.

use crate::calver::CalVer;
use crate::forge::CommitId;
use crate::plan::{Plan, PlanOptions, Reason, Status};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct Memory(Arc<Mutex<Remembered>>);

#[derive(Debug, Default)]
struct Remembered {
    version: Option<CalVer>,
    waiting_since: BTreeMap<String, DateTime<Utc>>,
    pinned: Option<CommitId>,
    cutting: bool,
}

impl Memory {
    fn with<T>(&self, f: impl FnOnce(&mut Remembered) -> T) -> T {
        let mut remembered = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut remembered)
    }

    /// The options to plan `version` with now: `base` plus what is remembered of it.
    pub fn plan_options(&self, base: &PlanOptions, version: CalVer) -> PlanOptions {
        self.with(|r| {
            if r.version != Some(version) {
                // Another release is desired now: nothing remembered is about it.
                *r = Remembered {
                    version: Some(version),
                    ..Remembered::default()
                };
            }
            PlanOptions {
                now: Utc::now(),
                waiting_since: r.waiting_since.clone(),
                pinned: r.pinned.clone(),
                cutting: r.cutting,
                ..base.clone()
            }
        })
    }

    /// Starts the clock of each step that waits (held steps excepted: a hold is not a gate),
    /// and stops it for each that does not.
    pub fn note(&self, plan: &Plan, now: DateTime<Utc>) {
        self.with(|r| {
            for step in &plan.steps {
                let waiting =
                    step.status == Status::Waiting && !matches!(step.reason, Reason::Held { .. });
                if waiting {
                    r.waiting_since.entry(step.title()).or_insert(now);
                } else {
                    r.waiting_since.remove(&step.title());
                }
            }
        });
    }

    /// Remembers that this loop set out to cut the release: a tag that appears meanwhile is
    /// this release's, not one a person made.
    pub fn cutting(&self) {
        self.with(|r| r.cutting = true);
    }

    /// Remembers the commit this loop made to pin the release.
    pub fn pinned(&self, commit: CommitId) {
        self.with(|r| r.pinned = Some(commit));
    }
}

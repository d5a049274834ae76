//! A cron schedule from `[daemon]` (`resync`, `windows`), parsed once when the config is
//! resolved instead of on every reconcile. It keeps the text it was written as, for messages and
//! for telling two configs apart.

use chrono::{DateTime, TimeZone};
use std::fmt;
use std::str::FromStr;

#[derive(Clone)]
pub struct Schedule {
    source: String,
    schedule: cron::Schedule,
}

impl Schedule {
    /// Parses a six- or seven-field expression, or a shorthand such as `@daily`, as the `cron`
    /// crate reads it (weekday numbers count from Sunday = 1).
    pub fn parse(expression: &str) -> Result<Schedule, cron::error::Error> {
        Ok(Schedule {
            source: expression.to_string(),
            schedule: cron::Schedule::from_str(expression)?,
        })
    }

    /// Whether the second `at` matches every field.
    pub fn includes<Tz: TimeZone>(&self, at: DateTime<Tz>) -> bool {
        self.schedule.includes(at)
    }

    /// The first time the schedule fires strictly after `at`.
    pub fn next_after<Tz: TimeZone>(&self, at: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        self.schedule.after(at).next()
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.source)
    }
}

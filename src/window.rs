//! Deploy windows: `[daemon] windows` are cron expressions saying when a *new* release may
//! start (a release already under way finishes). Evaluated in UTC, at second granularity, as the
//! `cron` crate reads six-field expressions; the planner gets the answer as a plain value.

use chrono::{DateTime, Utc};
use std::str::FromStr;

/// Whether a new release may start now, and if not, when it next may.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WindowState {
    pub open: bool,
    /// RFC 3339, when closed and a next opening exists within the schedules.
    pub next_opening: Option<String>,
}

/// The window state at `now`; `None` when no windows are configured (always open). Invalid
/// expressions are refused by validation before this is ever asked.
pub fn state(windows: &[String], now: DateTime<Utc>) -> Option<WindowState> {
    if windows.is_empty() {
        return None;
    }
    let schedules: Vec<cron::Schedule> = windows
        .iter()
        .filter_map(|w| cron::Schedule::from_str(w).ok())
        .collect();
    // A schedule "includes" a time when that second matches every field.
    let open = schedules.iter().any(|s| s.includes(now));
    let next_opening = if open {
        None
    } else {
        schedules
            .iter()
            .filter_map(|s| s.after(&now).next())
            .min()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    Some(WindowState { open, next_opening })
}

/// The next time a cron schedule fires after `now` (for `[daemon] resync`).
pub fn next_fire(expression: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron::Schedule::from_str(expression)
        .ok()?
        .after(&now)
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn no_windows_means_always_open() {
        assert_eq!(state(&[], at("2026-08-20T03:00:00Z")), None);
    }

    #[test]
    fn inside_a_window_is_open() {
        let windows = vec!["* * 9-16 * * Mon-Thu".to_string()];
        // 2026-08-20 is a Thursday.
        let s = state(&windows, at("2026-08-20T10:15:00Z")).unwrap();
        assert!(s.open);
        assert_eq!(s.next_opening, None);
    }

    #[test]
    fn outside_a_window_names_the_next_opening() {
        let windows = vec!["* * 9-16 * * Mon-Thu".to_string()];
        // Friday evening: the next opening is Monday 09:00.
        let s = state(&windows, at("2026-08-21T18:00:00Z")).unwrap();
        assert!(!s.open);
        assert_eq!(s.next_opening.as_deref(), Some("2026-08-24T09:00:00Z"));
    }

    #[test]
    fn resync_fires_on_schedule() {
        let next = next_fire("0 */5 * * * *", at("2026-08-20T10:02:30Z")).unwrap();
        assert_eq!(next, at("2026-08-20T10:05:00Z"));
    }
}

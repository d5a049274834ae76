//! Deploy windows: `[daemon] windows` are cron expressions saying when a *new* release may
//! start (a release already under way finishes). Evaluated in UTC, at second granularity, as the
//! `cron` crate reads six-field expressions; the planner gets the answer as a plain value.

use crate::config::Schedule;
use chrono::{DateTime, Utc};

/// Whether a new release may start now, and if not, when it next may.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WindowState {
    pub open: bool,
    /// RFC 3339, when closed and a next opening exists within the schedules.
    pub next_opening: Option<String>,
}

/// The window state at `now`; `None` when no windows are configured (always open). Invalid
/// expressions are refused by validation before this is ever asked.
pub fn state(windows: &[Schedule], now: DateTime<Utc>) -> Option<WindowState> {
    if windows.is_empty() {
        return None;
    }
    // A schedule "includes" a time when that second matches every field.
    let open = windows.iter().any(|s| s.includes(now));
    let next_opening = if open {
        None
    } else {
        windows
            .iter()
            .filter_map(|s| s.next_after(&now))
            .min()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    Some(WindowState { open, next_opening })
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
        // 2026-08-20 is a Thursday.
        let s = state(&windows("* * 9-16 * * Mon-Thu"), at("2026-08-20T10:15:00Z")).unwrap();
        assert!(s.open);
        assert_eq!(s.next_opening, None);
    }

    #[test]
    fn outside_a_window_names_the_next_opening() {
        // Friday evening: the next opening is Monday 09:00.
        let s = state(&windows("* * 9-16 * * Mon-Thu"), at("2026-08-21T18:00:00Z")).unwrap();
        assert!(!s.open);
        assert_eq!(s.next_opening.as_deref(), Some("2026-08-24T09:00:00Z"));
    }

    fn windows(expression: &str) -> Vec<Schedule> {
        vec![Schedule::parse(expression).unwrap()]
    }

    #[test]
    fn resync_fires_on_schedule() {
        let resync = Schedule::parse("0 */5 * * * *").unwrap();
        let next = resync.next_after(&at("2026-08-20T10:02:30Z")).unwrap();
        assert_eq!(next, at("2026-08-20T10:05:00Z"));
    }
}

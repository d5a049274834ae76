//! Deploy windows: `[daemon] windows` are cron expressions saying when a release may change
//! anything (pin, tag, deploy). Evaluated in `[daemon] timezone` (UTC unless set), at second
//! granularity, as the `cron` crate reads six-field expressions; the planner gets the answer as a
//! plain value, with times shown in that zone and with their offset.

use crate::config::Schedule;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Whether a new release may start now, and if not, when it next may.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WindowState {
    pub open: bool,
    /// RFC 3339 in the configured zone (`Z` only when that zone is UTC), when closed and a next
    /// opening exists within the schedules.
    pub next_opening: Option<String>,
}

/// A time as people in `zone` read it: RFC 3339 with the zone's offset; `Z` for UTC itself.
pub fn show(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, zone == chrono_tz::UTC)
}

/// The window state of `[daemon] windows` right now, in `[daemon] timezone`.
pub fn current(daemon: &crate::config::Daemon) -> Option<WindowState> {
    state(&daemon.windows, daemon.timezone, Utc::now())
}

/// The window state at `now`; `None` when no windows are configured (always open). Invalid
/// expressions are refused by validation before this is ever asked.
pub fn state(windows: &[Schedule], zone: Tz, now: DateTime<Utc>) -> Option<WindowState> {
    if windows.is_empty() {
        return None;
    }
    let local = now.with_timezone(&zone);
    // A schedule "includes" a time when that second matches every field.
    let open = windows.iter().any(|s| s.includes(local));
    let next_opening = if open {
        None
    } else {
        windows
            .iter()
            .filter_map(|s| s.next_after(&local))
            .min()
            .map(|t| show(t.with_timezone(&Utc), zone))
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
        assert_eq!(state(&[], chrono_tz::UTC, at("2026-08-20T03:00:00Z")), None);
    }

    #[test]
    fn inside_a_window_is_open() {
        // 2026-08-20 is a Thursday.
        let s = state(
            &windows("* * 9-16 * * Mon-Thu"),
            chrono_tz::UTC,
            at("2026-08-20T10:15:00Z"),
        )
        .unwrap();
        assert!(s.open);
        assert_eq!(s.next_opening, None);
    }

    #[test]
    fn outside_a_window_names_the_next_opening() {
        // Friday evening: the next opening is Monday 09:00.
        let s = state(
            &windows("* * 9-16 * * Mon-Thu"),
            chrono_tz::UTC,
            at("2026-08-21T18:00:00Z"),
        )
        .unwrap();
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

    #[test]
    fn windows_are_read_in_the_configured_zone() {
        let london = chrono_tz::Europe::London;
        // 08:30 UTC on a summer Thursday is 09:30 in London (BST, +01:00): open there, not in UTC.
        let now = at("2026-08-20T08:30:00Z");
        assert!(
            !state(&windows("* * 9-16 * * Mon-Thu"), chrono_tz::UTC, now)
                .unwrap()
                .open
        );
        assert!(
            state(&windows("* * 9-16 * * Mon-Thu"), london, now)
                .unwrap()
                .open
        );
    }

    #[test]
    fn next_opening_is_shown_with_the_zone_offset() {
        let london = chrono_tz::Europe::London;
        // Tuesday 19:08 BST: the next opening is Wednesday 09:00 BST.
        let s = state(
            &windows("* * 9-16 * * Mon-Thu"),
            london,
            at("2026-08-18T18:08:00Z"),
        )
        .unwrap();
        assert_eq!(s.next_opening.as_deref(), Some("2026-08-19T09:00:00+01:00"));
        // In winter London is on +00:00, still shown as an offset, not as UTC's `Z`.
        let s = state(
            &windows("* * 9-16 * * Mon-Thu"),
            london,
            at("2026-12-01T18:00:00Z"),
        )
        .unwrap();
        assert_eq!(s.next_opening.as_deref(), Some("2026-12-02T09:00:00+00:00"));
    }
}

//! The version a new release takes: the next `YYYY.MM.N` of the current month, above every
//! release file and every production-grade stack tag, or one a person chose, checked the same
//! way. The clock is an argument, so a month's rollover is tested without waiting for it.

use crate::calver::{CalVer, CalVerError};
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use std::fmt;

/// Why a chosen stack version cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionProblem {
    Shape { given: String, why: CalVerError },
    NotNewer { given: CalVer, newest: CalVer },
}

impl fmt::Display for VersionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionProblem::Shape { given, why } => {
                write!(f, "--version `{given}` is not a stack version: {why}")
            }
            VersionProblem::NotNewer { given, newest } => write!(
                f,
                "--version {given} is not newer than {newest}, the newest release file or production tag"
            ),
        }
    }
}

/// The month of `now` where the stack's people live.
fn this_month(now: DateTime<Utc>, zone: Tz) -> (u16, u8) {
    let local = now.with_timezone(&zone);
    (
        u16::try_from(local.year()).unwrap_or(u16::MAX),
        u8::try_from(local.month()).unwrap_or(1),
    )
}

/// The next stack version: `N + 1` after the newest of this month, or `.1` when this month has
/// none. If something newer than this month exists already (a clock behind, a version chosen
/// ahead), the version follows it rather than going backwards.
pub fn next_version(now: DateTime<Utc>, zone: Tz, taken: &[CalVer]) -> CalVer {
    let (year, month) = this_month(now, zone);
    let first = CalVer::new(year, month, 1);
    match taken.iter().max() {
        Some(newest) if *newest >= first => newest.next_iteration(),
        _ => first,
    }
}

/// A version a person chose: a stack version newer than everything taken.
pub fn check_chosen(given: &str, taken: &[CalVer]) -> Result<CalVer, VersionProblem> {
    let version: CalVer = given.parse().map_err(|why| VersionProblem::Shape {
        given: given.to_string(),
        why,
    })?;
    match taken.iter().max() {
        Some(newest) if *newest >= version => Err(VersionProblem::NotNewer {
            given: version,
            newest: *newest,
        }),
        _ => Ok(version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn v(s: &str) -> CalVer {
        s.parse().unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn next_in_the_month_follows_the_newest() {
        let taken = [v("2026.08.2"), v("2026.08.10"), v("2026.07.4")];
        assert_eq!(
            next_version(at(2026, 8, 20, 12), chrono_tz::UTC, &taken),
            v("2026.08.11")
        );
    }

    #[test]
    fn a_new_month_starts_at_one() {
        let taken = [v("2026.08.3")];
        assert_eq!(
            next_version(at(2026, 9, 1, 0), chrono_tz::UTC, &taken),
            v("2026.09.1")
        );
    }

    #[test]
    fn the_month_is_read_in_the_configured_zone() {
        // 22:30 UTC on 31 August is already September in Sydney, still August in London (BST).
        let now = Utc.with_ymd_and_hms(2026, 8, 31, 22, 30, 0).unwrap();
        let taken = [v("2026.08.3")];
        assert_eq!(
            next_version(now, chrono_tz::Australia::Sydney, &taken),
            v("2026.09.1")
        );
        assert_eq!(
            next_version(now, chrono_tz::Europe::London, &taken),
            v("2026.08.4")
        );
    }

    #[test]
    fn a_version_ahead_of_the_clock_is_followed_not_undercut() {
        let taken = [v("2026.10.1")];
        assert_eq!(
            next_version(at(2026, 9, 5, 9), chrono_tz::UTC, &taken),
            v("2026.10.2")
        );
    }

    #[test]
    fn a_chosen_version_must_be_calver_and_newer() {
        let taken = [v("2026.08.3")];
        assert!(matches!(
            check_chosen("2026.8.4", &taken),
            Err(VersionProblem::Shape { .. })
        ));
        assert_eq!(
            check_chosen("2026.08.3", &taken),
            Err(VersionProblem::NotNewer {
                given: v("2026.08.3"),
                newest: v("2026.08.3")
            })
        );
        assert_eq!(check_chosen("2026.08.5", &taken), Ok(v("2026.08.5")));
    }
}

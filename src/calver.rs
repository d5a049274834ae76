//! Stack versions are calendar versions, `YYYY.MM.N`, and they are the names of release files and
//! of the tags that deploy to production. `semver` rejects them (`2023.06.2` has a "leading zero"),
//! and string order is wrong (`2023.06.10` < `2023.06.9`), so they get a type of their own that
//! parses strictly, prints back exactly, and orders numerically.

use std::fmt;
use std::str::FromStr;

/// A stack version: four-digit year, zero-padded month `01`–`12`, iteration from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalVer {
    // Field order is the ordering key: derived `Ord` compares year, then month, then iteration.
    pub year: u16,
    pub month: u8,
    pub iteration: u32,
}

/// Why a string is not a stack version; worded so that it can follow "`x` is not a stack
/// version: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalVerError {
    #[error("expected three dot-separated numbers YYYY.MM.N")]
    Shape,
    #[error("the year must be four digits")]
    Year,
    #[error("the month must be two digits from 01 to 12")]
    Month,
    #[error("the iteration must be a number from 1 without leading zeros")]
    Iteration,
}

impl CalVer {
    pub fn new(year: u16, month: u8, iteration: u32) -> Self {
        CalVer {
            year,
            month,
            iteration,
        }
    }

    /// A `semver::Version` with the same ordering, for code that wants a generic version key.
    pub fn to_semver(self) -> semver::Version {
        semver::Version::new(
            u64::from(self.year),
            u64::from(self.month),
            u64::from(self.iteration),
        )
    }

    /// The version with the iteration one higher: the usual "next release" suggestion.
    pub fn next_iteration(self) -> Self {
        CalVer {
            iteration: self.iteration.saturating_add(1),
            ..self
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl FromStr for CalVer {
    type Err = CalVerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('.');
        let (Some(y), Some(m), Some(n), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CalVerError::Shape);
        };
        if !all_digits(y) || !all_digits(m) || !all_digits(n) {
            return Err(CalVerError::Shape);
        }
        if y.len() != 4 || y.starts_with('0') {
            return Err(CalVerError::Year);
        }
        if m.len() != 2 {
            return Err(CalVerError::Month);
        }
        let month: u8 = m.parse().map_err(|_| CalVerError::Month)?;
        if !(1..=12).contains(&month) {
            return Err(CalVerError::Month);
        }
        if n.starts_with('0') || n.len() > 9 {
            return Err(CalVerError::Iteration);
        }
        let iteration: u32 = n.parse().map_err(|_| CalVerError::Iteration)?;
        let year: u16 = y.parse().map_err(|_| CalVerError::Year)?;
        Ok(CalVer::new(year, month, iteration))
    }
}

impl fmt::Display for CalVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}.{:02}.{}", self.year, self.month, self.iteration)
    }
}

impl serde::Serialize for CalVer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> CalVer {
        s.parse().unwrap()
    }

    #[test]
    fn parses_zero_padded_month_that_semver_rejects() {
        assert_eq!(v("2023.06.2"), CalVer::new(2023, 6, 2));
        assert!(semver::Version::parse("2023.06.2").is_err());
    }

    #[test]
    fn prints_back_exactly() {
        for s in ["2023.06.2", "2026.08.3", "2024.12.10", "2030.01.1"] {
            assert_eq!(v(s).to_string(), s);
        }
    }

    #[test]
    fn orders_months_numerically() {
        assert!(v("2023.09.1") < v("2023.10.1"));
    }

    #[test]
    fn orders_iterations_numerically() {
        assert!(v("2023.06.2") < v("2023.06.10"));
    }

    #[test]
    fn orders_years_before_months() {
        assert!(v("2023.12.9") < v("2024.01.1"));
    }

    #[test]
    fn semver_key_orders_the_same_way() {
        let mut versions = [
            v("2023.06.10"),
            v("2023.10.1"),
            v("2023.06.2"),
            v("2022.12.1"),
        ];
        let mut by_semver = versions;
        versions.sort();
        by_semver.sort_by_key(|c| c.to_semver());
        assert_eq!(versions, by_semver);
    }

    #[test]
    fn rejects_single_digit_month() {
        assert_eq!("2023.6.2".parse::<CalVer>(), Err(CalVerError::Month));
    }

    #[test]
    fn rejects_month_thirteen_and_zero() {
        assert_eq!("2023.13.1".parse::<CalVer>(), Err(CalVerError::Month));
        assert_eq!("2023.00.1".parse::<CalVer>(), Err(CalVerError::Month));
    }

    #[test]
    fn rejects_iteration_zero_and_leading_zero() {
        assert_eq!("2022.11.0".parse::<CalVer>(), Err(CalVerError::Iteration));
        assert_eq!("2022.11.01".parse::<CalVer>(), Err(CalVerError::Iteration));
    }

    #[test]
    fn rejects_prefix_suffix_and_wrong_shape() {
        for s in [
            "v2023.06.2",
            "2023.06.2-1",
            "2023.06",
            "2023.06.2.1",
            "",
            "..",
            "2023.06.x",
            " 2023.06.2",
        ] {
            assert!(s.parse::<CalVer>().is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn rejects_short_year() {
        assert_eq!("23.06.2".parse::<CalVer>(), Err(CalVerError::Year));
    }

    #[test]
    fn huge_iteration_is_an_error_not_a_panic() {
        assert!("2023.06.99999999999999999999".parse::<CalVer>().is_err());
    }
}

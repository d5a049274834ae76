//! Which component version a new release takes. Without an explicit version it is the newest tag
//! that matches the component's rule, is reachable from its branch and whose CI succeeded; an
//! explicit version must pass the same checks. The judgements are pure: the shell observes each
//! candidate (where it points, its branch, its CI) and this module decides.

use crate::component_tag::TagRule;
use crate::forge::{CiStatus, TagRef};
use std::cmp::Ordering;
use std::fmt;

/// One candidate tag as the forge showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub tag: String,
    /// `None`: there is no such tag.
    pub commit: Option<String>,
    pub reachable: bool,
    /// `None` when the component has no CI gate.
    pub ci: Option<(String, CiStatus)>,
}

/// Why a tag cannot be released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoSuchTag,
    /// Not the component's version shape (its rule says why).
    Rule(String),
    NotOnBranch(String),
    CiFailed {
        workflow: String,
        detail: String,
    },
    CiPending(String),
    CiMissing(String),
}

impl Refusal {
    /// A stable name for scripts and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoSuchTag => "no-such-tag",
            Refusal::Rule(_) => "not-a-version",
            Refusal::NotOnBranch(_) => "not-on-branch",
            Refusal::CiFailed { .. } => "ci-failed",
            Refusal::CiPending(_) => "ci-pending",
            Refusal::CiMissing(_) => "ci-missing",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoSuchTag => f.write_str("there is no such tag"),
            Refusal::Rule(why) => f.write_str(why),
            Refusal::NotOnBranch(branch) => write!(f, "it is not on `{branch}`"),
            Refusal::CiFailed { workflow, detail } => {
                write!(f, "its CI \"{workflow}\" failed ({detail})")
            }
            Refusal::CiPending(workflow) => write!(f, "its CI \"{workflow}\" has not finished"),
            Refusal::CiMissing(workflow) => write!(f, "its CI \"{workflow}\" never ran"),
        }
    }
}

/// Whether a candidate can be released, and if not, why.
pub fn judge(rule: &TagRule, branch: &str, candidate: &Candidate) -> Result<(), Refusal> {
    rule.check(&candidate.tag).map_err(Refusal::Rule)?;
    if candidate.commit.is_none() {
        return Err(Refusal::NoSuchTag);
    }
    if !candidate.reachable {
        return Err(Refusal::NotOnBranch(branch.to_string()));
    }
    match &candidate.ci {
        None | Some((_, CiStatus::Success)) => Ok(()),
        Some((workflow, CiStatus::Failure(detail))) => Err(Refusal::CiFailed {
            workflow: workflow.clone(),
            detail: detail.clone(),
        }),
        Some((workflow, CiStatus::Pending)) => Err(Refusal::CiPending(workflow.clone())),
        Some((workflow, CiStatus::Missing)) => Err(Refusal::CiMissing(workflow.clone())),
    }
}

/// A part of a tag for ordering: numbers compare as numbers, anything else as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Number(u64),
    Text(String),
}

fn order_key(tag: &str) -> Vec<Part> {
    tag.split(['.', '-', '_'])
        .map(|p| match p.parse::<u64>() {
            Ok(n) => Part::Number(n),
            Err(_) => Part::Text(p.to_string()),
        })
        .collect()
}

/// Orders tags as versions: `2023.06.10` after `2023.06.9`, `2024.11.1-1` after `2024.11.1`.
pub fn compare_tags(a: &str, b: &str) -> Ordering {
    order_key(a).cmp(&order_key(b)).then_with(|| a.cmp(b))
}

/// The tags that follow the component's rule, newest first: the order candidates are tried in.
pub fn candidates(rule: &TagRule, tags: &[TagRef]) -> Vec<TagRef> {
    let mut matching: Vec<TagRef> = tags
        .iter()
        .filter(|t| rule.matches(&t.name))
        .cloned()
        .collect();
    matching.sort_by(|a, b| compare_tags(&b.name, &a.name));
    matching
}

/// A tag passed over while looking for the newest releasable one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub tag: String,
    pub why: Refusal,
}

/// What the search for a component's version found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub tag: String,
    /// Newer tags passed over; only the ones a person should hear about (CI that did not
    /// succeed) are said, a staging-only tag is just not a production version.
    pub skipped: Vec<Skipped>,
}

impl Chosen {
    /// The skipped tags worth saying: those whose CI did not succeed.
    pub fn worth_saying(&self) -> impl Iterator<Item = &Skipped> {
        self.skipped.iter().filter(|s| {
            matches!(
                s.why,
                Refusal::CiFailed { .. } | Refusal::CiPending(_) | Refusal::CiMissing(_)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str) -> TagRef {
        TagRef {
            name: name.into(),
            commit: "c".repeat(40),
        }
    }

    fn candidate(reachable: bool, ci: Option<CiStatus>) -> Candidate {
        Candidate {
            tag: "2026.08.1".into(),
            commit: Some("c".repeat(40)),
            reachable,
            ci: ci.map(|c| ("build production".to_string(), c)),
        }
    }

    #[test]
    fn candidates_are_newest_first_numerically_and_follow_the_rule() {
        let tags = [
            "2026.08.9",
            "2026.08.10",
            "2.0.60",
            "2024.11.1-1",
            "2024.11.1",
            "latest",
        ]
        .map(tag);
        let names: Vec<String> = candidates(&TagRule::CalVerWithHotfix, &tags)
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(
            names,
            ["2026.08.10", "2026.08.9", "2024.11.1-1", "2024.11.1"]
        );
    }

    #[test]
    fn a_tag_off_the_branch_is_refused_naming_the_branch() {
        let refusal = judge(
            &TagRule::CalVerWithHotfix,
            "production",
            &candidate(false, None),
        )
        .unwrap_err();
        assert_eq!(refusal.code(), "not-on-branch");
        assert!(refusal.to_string().contains("production"));
    }

    #[test]
    fn failed_ci_is_refused_and_worth_saying() {
        let refusal = judge(
            &TagRule::CalVerWithHotfix,
            "production",
            &candidate(true, Some(CiStatus::Failure("exit 1".into()))),
        )
        .unwrap_err();
        assert_eq!(refusal.code(), "ci-failed");
        let chosen = Chosen {
            tag: "2026.07.1".into(),
            skipped: vec![
                Skipped {
                    tag: "2026.08.9".into(),
                    why: Refusal::NotOnBranch("production".into()),
                },
                Skipped {
                    tag: "2026.08.1".into(),
                    why: refusal,
                },
            ],
        };
        let said: Vec<&str> = chosen.worth_saying().map(|s| s.tag.as_str()).collect();
        assert_eq!(said, ["2026.08.1"]);
    }

    #[test]
    fn a_missing_tag_is_refused() {
        let mut c = candidate(false, None);
        c.commit = None;
        assert_eq!(
            judge(&TagRule::CalVerWithHotfix, "production", &c),
            Err(Refusal::NoSuchTag)
        );
    }

    #[test]
    fn green_reachable_tag_passes_and_no_gate_means_no_ci_check() {
        let rule = TagRule::CalVerWithHotfix;
        assert!(
            judge(
                &rule,
                "production",
                &candidate(true, Some(CiStatus::Success))
            )
            .is_ok()
        );
        assert!(judge(&rule, "production", &candidate(true, None)).is_ok());
    }
}

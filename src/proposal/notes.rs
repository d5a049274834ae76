//! A new release's notes: for each component, what changed between the live release's version
//! and the new one — merged pull requests on GitHub, commit subjects elsewhere — as a Markdown
//! list with the compare range. Ticket references are written out in full (`#1501` in a
//! frontend commit is an issue of the frontend's tickets repository), so the notes read the same
//! wherever they are shown. Pure: the changes are observed by the shell.

use crate::forge::{Change, Changes, PullSummary, short};
use regex::Regex;
use std::sync::LazyLock;

/// How many entries a component lists; the rest are counted.
pub const LISTED: usize = 50;

/// One component's changes, as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentChanges {
    pub name: String,
    /// `owner/name` of the component's own repository, for pull-request numbers; `None` on disk.
    pub repo: Option<String>,
    /// `owner/name` where a bare `#N` points.
    pub tickets: Option<String>,
    /// The version live before; `None` when nothing earlier is known.
    pub from: Option<String>,
    pub to: String,
    pub changes: Changes,
    /// `to` is older than `from`: `changes` are the ones going back undoes (`to...from`).
    pub backwards: bool,
}

/// `Merge pull request #12 from owner/branch` (its title is the message's body) or a squash
/// merge's `Title (#12)`: the pull request a commit message names, if any.
pub fn pull_named_in(message: &str) -> Option<PullSummary> {
    static MERGE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^Merge pull request #(\d+) from (\S+)").expect("valid"));
    static SQUASH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(.*\S)\s+\(#(\d+)\)$").expect("valid"));
    let mut lines = message.lines();
    let subject = lines.next().unwrap_or_default().trim();
    if let Some(m) = MERGE.captures(subject) {
        let title = lines
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or(&m[2])
            .to_string();
        return Some(PullSummary {
            number: m[1].parse().ok()?,
            title,
        });
    }
    SQUASH.captures(subject).and_then(|m| {
        Some(PullSummary {
            number: m[2].parse().ok()?,
            title: m[1].to_string(),
        })
    })
}

/// `#1501` → `owner/repo#1501`, leaving references that already name a repository alone.
pub fn resolve_references(text: &str, tickets: Option<&str>) -> String {
    static BARE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(^|[^\w/#&.-])#(\d+)\b").expect("valid"));
    match tickets {
        Some(repo) => BARE
            .replace_all(text, |c: &regex::Captures<'_>| {
                format!("{}{repo}#{}", &c[1], &c[2])
            })
            .into_owned(),
        None => text.to_string(),
    }
}

/// One line of text: a line break would end the Markdown list item.
/// One line of others' text as the notes keep it: line breaks as spaces, and control and
/// bidirectional-override characters written visibly, so that a reviewer reads what is there.
fn plain(text: &str) -> String {
    let joined = text.replace(['\n', '\r'], " ");
    crate::escape::line(joined.trim()).into_owned()
}

/// A component's entries: each pull request once (in the order its first commit came), and the
/// commits that belong to none.
fn entries(component: &ComponentChanges) -> Vec<String> {
    let tickets = component.tickets.as_deref();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for change in &component.changes.changes {
        let pull = change
            .pull
            .clone()
            .or_else(|| pull_named_in(&change.message));
        match pull {
            Some(pull) if seen.contains(&pull.number) => {}
            Some(pull) => {
                seen.push(pull.number);
                let own = match &component.repo {
                    Some(repo) => format!("{repo}#{}", pull.number),
                    None => format!("#{}", pull.number),
                };
                let title = resolve_references(&plain(&pull.title), tickets);
                out.push(format!("{title} ({own})"));
            }
            None => out.push(commit_entry(change, tickets)),
        }
    }
    out
}

fn commit_entry(change: &Change, tickets: Option<&str>) -> String {
    let subject = change.message.lines().next().unwrap_or_default();
    let subject = resolve_references(&plain(subject), tickets);
    format!("{subject} ({})", short(&change.commit))
}

/// One component's part of the list.
fn component_section(component: &ComponentChanges) -> String {
    let name = &component.name;
    let Some(from) = &component.from else {
        return format!(
            "- {name} {}: no earlier release to compare with\n",
            component.to
        );
    };
    if *from == component.to {
        return format!("- {name} {from}: no changes\n");
    }
    if component.changes.total == 0 {
        return format!("- {name} {from}...{}: no changes\n", component.to);
    }
    let verb = if component.backwards {
        ", back to an older version; undoes:"
    } else {
        ""
    };
    let mut out = format!("- {name} {from}...{}{verb}\n", component.to);
    let listed = entries(component);
    for entry in listed.iter().take(LISTED) {
        out.push_str(&format!("  - {entry}\n"));
    }
    let listed_commits = component.changes.changes.len();
    let more = component.changes.total.saturating_sub(listed_commits)
        + listed.len().saturating_sub(LISTED);
    if more > 0 {
        out.push_str(&format!("  - … and {more} more\n"));
    }
    out
}

/// The notes of a new release: the changes of every component, in name order.
pub fn render(components: &[ComponentChanges]) -> String {
    components.iter().map(component_section).collect()
}

/// The notes of a rollback: what it returns to, and the changes it undoes (each component's
/// range runs from the version rolled back to, to the one live now).
pub fn render_rollback(to: &str, undone: &[ComponentChanges]) -> String {
    let mut out = format!("Rolls back to {to}.\n\nUndoes:\n");
    for component in undone {
        out.push_str(&component_section(component));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: char, message: &str) -> Change {
        Change {
            commit: id.to_string().repeat(40),
            message: message.into(),
            pull: None,
        }
    }

    fn frontend(changes: Vec<Change>) -> ComponentChanges {
        ComponentChanges {
            name: "frontend".into(),
            repo: Some("xchem/fragalysis-frontend".into()),
            tickets: Some("m2ms/fragalysis-frontend".into()),
            from: Some("2026.08.1".into()),
            to: "2026.08.2".into(),
            changes: Changes {
                total: changes.len(),
                changes,
            },
            backwards: false,
        }
    }

    #[test]
    fn going_back_to_an_older_version_says_what_it_undoes() {
        let mut back = frontend(vec![change('d', "The change going away")]);
        back.backwards = true;
        assert_eq!(
            render(&[back]),
            "- frontend 2026.08.1...2026.08.2, back to an older version; undoes:\n  \
             - The change going away (ddddddd)\n"
        );
    }

    #[test]
    fn bare_ticket_numbers_point_at_the_tickets_repository() {
        assert_eq!(
            resolve_references(
                "Fix RHS loader #1501, see xchem/other#3 and #12",
                Some("m2ms/f")
            ),
            "Fix RHS loader m2ms/f#1501, see xchem/other#3 and m2ms/f#12"
        );
        assert_eq!(resolve_references("(#7)", Some("a/b")), "(a/b#7)");
        assert_eq!(
            resolve_references("colour &#35; no", Some("a/b")),
            "colour &#35; no"
        );
        assert_eq!(resolve_references("#9", None), "#9");
    }

    #[test]
    fn merge_and_squash_messages_name_their_pull_request() {
        assert_eq!(
            pull_named_in("Merge pull request #12 from xchem/fix-rhs\n\nFix the RHS loader #1501"),
            Some(PullSummary {
                number: 12,
                title: "Fix the RHS loader #1501".into()
            })
        );
        assert_eq!(
            pull_named_in("Faster scoring (#40)\n\nbody"),
            Some(PullSummary {
                number: 40,
                title: "Faster scoring".into()
            })
        );
        assert_eq!(pull_named_in("Fix #1501 in the loader"), None);
    }

    #[test]
    fn a_pull_request_keeps_its_own_repository_and_its_title_refers_to_tickets() {
        let notes = render(&[frontend(vec![
            change('a', "Fix the loader #1501"),
            change(
                'b',
                "Merge pull request #12 from xchem/x\n\nNew viewer, closes #1502",
            ),
        ])]);
        assert_eq!(
            notes,
            "- frontend 2026.08.1...2026.08.2\n  \
             - Fix the loader m2ms/fragalysis-frontend#1501 (aaaaaaa)\n  \
             - New viewer, closes m2ms/fragalysis-frontend#1502 (xchem/fragalysis-frontend#12)\n"
        );
    }

    #[test]
    fn a_pull_request_is_listed_once_however_many_commits_it_brought() {
        let pull = Some(PullSummary {
            number: 5,
            title: "Rework".into(),
        });
        let mut one = change('a', "wip");
        one.pull = pull.clone();
        let mut two = change('b', "more wip");
        two.pull = pull;
        let notes = render(&[frontend(vec![one, two])]);
        assert_eq!(notes.matches("Rework").count(), 1, "{notes}");
    }

    #[test]
    fn an_unchanged_component_says_no_changes() {
        let mut same = frontend(Vec::new());
        same.from = Some("2026.08.2".into());
        assert_eq!(render(&[same]), "- frontend 2026.08.2: no changes\n");
    }

    #[test]
    fn a_long_range_is_counted_beyond_the_listed() {
        let mut many = frontend(vec![change('a', "one")]);
        many.changes.total = 80;
        assert!(render(&[many]).ends_with("  - … and 79 more\n"));
    }

    #[test]
    fn rollback_notes_say_what_they_return_to_and_undo() {
        let notes = render_rollback("2026.08.1", &[frontend(vec![change('c', "Broke it")])]);
        assert!(
            notes.starts_with("Rolls back to 2026.08.1.\n\nUndoes:\n- frontend"),
            "{notes}"
        );
        assert!(notes.contains("Broke it"), "{notes}");
    }

    #[test]
    fn control_and_bidi_characters_in_subjects_are_written_visibly() {
        assert_eq!(
            plain("Fix \u{1b}[2Jthe \u{202e}loader\r\n"),
            "Fix \\x1b[2Jthe \\u{202e}loader"
        );
    }
}

//! The words stackrel leaves with a release it cuts: its notes, ending with the line that marks it
//! as stackrel's (the ticket's words are `crate::ticket`'s).

use crate::forge::RELEASED_BY;
use crate::release::Release;

/// The release notes: what it pins, and the author's notes.
pub fn release_body(release: &Release) -> String {
    let mut body = String::new();
    for (name, version) in &release.components {
        body.push_str(&format!("- {name}: {version}\n"));
    }
    if let Some(notes) = &release.notes {
        body.push('\n');
        body.push_str(notes);
        body.push('\n');
    }
    body
}

/// The release's notes as published with its tag, ending with the line that marks it as cut by
/// stackrel.
pub(super) fn published_notes(release: &Release) -> String {
    format!("{}\n{RELEASED_BY}\n", release_body(release))
}

//! The words stackrel leaves on the forge: the release's notes, and the one comment it keeps
//! current on the release ticket (found again by a hidden marker, so it is edited, not reposted).

use crate::forge::RELEASED_BY;
use crate::release::Release;

/// The hidden marker that finds stackrel's comment on a ticket.
pub(super) fn ticket_marker(release: &Release) -> String {
    format!("<!-- stackrel:release:{} -->", release.version)
}

/// The ticket comment: where the release stands, and what it contains.
pub(super) fn ticket_body(release: &Release, state: &str) -> String {
    format!(
        "**stackrel: release {}** — {state}\n\n{}",
        release.version,
        release_body(release)
    )
}

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

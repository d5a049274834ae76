//! The text of a new release file: one `name = "version"` line per component and the notes as a
//! multi-line string, read back through the release parser before anyone sees it, so that
//! stackrel never proposes a file `validate` would refuse.

use crate::diagnostic::{Diagnostic, Source};
use crate::release::{ComponentRules, Release, parse_release};

/// A TOML basic string's body: quotes, backslashes and control characters escaped; line breaks
/// kept when `multiline`.
fn escape(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if multiline => out.push('\n'),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The file's text.
pub fn render(release: &Release) -> String {
    let mut text = String::new();
    for (name, version) in &release.components {
        text.push_str(&format!("{name} = \"{}\"\n", escape(version, false)));
    }
    if let Some(ticket) = &release.ticket {
        text.push_str(&format!("ticket = \"{ticket}\"\n"));
    }
    if let Some(notes) = &release.notes {
        let notes = notes.trim_end_matches('\n');
        text.push_str(&format!(
            "notes = \"\"\"\n{}\n\"\"\"\n",
            escape(notes, true)
        ));
    }
    text
}

/// The text, checked by the parser every release file goes through.
pub fn render_checked(
    release: &Release,
    rules: &ComponentRules,
) -> Result<String, Vec<Diagnostic>> {
    let text = render(release);
    let source = Source::new(release.path.clone(), text.as_str());
    match parse_release(&source, Some(rules)) {
        (Some(_), _) => Ok(text),
        (None, diagnostics) => Err(diagnostics),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component_tag::TagRule;
    use std::collections::BTreeMap;

    #[test]
    fn notes_with_quotes_and_backslashes_read_back_exactly() {
        let notes = "- frontend 2026.08.1...2026.08.2\n  - Say \"hi\" \\ \"\"\" (#3)\n";
        let release = Release {
            version: "2026.08.3".parse().unwrap(),
            path: "releases/2026.08.3.toml".into(),
            components: BTreeMap::from([("frontend".to_string(), "2026.08.2".to_string())]),
            ticket: None,
            notes: Some(notes.into()),
            waive_ci: Vec::new(),
        };
        let rules = ComponentRules {
            rules: BTreeMap::from([("frontend".to_string(), TagRule::CalVerWithHotfix)]),
        };
        let text = render_checked(&release, &rules).unwrap();
        let (read, _) = parse_release(
            &Source::new(release.path.clone(), text.as_str()),
            Some(&rules),
        );
        assert_eq!(read.unwrap().notes.as_deref(), Some(notes));
    }
}

//! Templates in the config (`commit_message`, deploy and verify argv, `expect` values) name the
//! stack version and each component as `{version}` and `{backend}`. One renderer, so a commit
//! message and a deploy command can never read a placeholder differently.

use std::collections::BTreeMap;

/// Fills `{version}` and `{component}` placeholders. Unknown placeholders are left as written;
/// validation reports them before anything is rendered.
pub fn render_template(
    template: &str,
    version: &str,
    components: &BTreeMap<String, String>,
) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match (name, components.get(name)) {
                    ("version", _) => out.push_str(version),
                    (_, Some(value)) => out.push_str(value),
                    _ => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a template uses, for validation.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        found.push(&after[..close]);
        rest = &after[close + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_fills_version_and_components() {
        let components = BTreeMap::from([
            ("backend".to_string(), "2026.08.1".to_string()),
            ("frontend".to_string(), "2026.08.2".to_string()),
        ]);
        assert_eq!(
            render_template(
                "build: Use of b/e {backend} f/e {frontend} ({version})",
                "2026.08.3",
                &components
            ),
            "build: Use of b/e 2026.08.1 f/e 2026.08.2 (2026.08.3)"
        );
    }

    #[test]
    fn template_keeps_unknown_placeholders_and_lone_braces() {
        let components = BTreeMap::new();
        assert_eq!(
            render_template("{x} { {version", "1", &components),
            "{x} { {version"
        );
        assert_eq!(placeholders("a {x} {version} {"), vec!["x", "version"]);
    }
}

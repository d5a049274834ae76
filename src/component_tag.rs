//! Component versions are the image tags a release pins. They are wider than stack versions:
//! production has used hotfix tags such as `2024.11.1-1`, and older history other schemes, so the
//! rule is CalVer with an optional numeric hotfix suffix by default and a per-component pattern
//! where a project needs more. Whatever the rule, the value must be usable as an image tag, since
//! the pipeline pulls `<image>:<tag>`.

use crate::calver::CalVer;
use regex::Regex;

/// How a component's versions are judged.
#[derive(Debug, Clone)]
pub enum TagRule {
    /// `YYYY.MM.N`, optionally followed by `-K` (a hotfix number).
    CalVerWithHotfix,
    /// A project-specific regular expression that must match the whole tag.
    Pattern(Regex),
    /// Only the image-tag grammar: used while a configured pattern is itself invalid, so that
    /// one config mistake is reported once rather than again on every release.
    ImageTagOnly,
}

/// Two rules are the same when they accept the same way: the same variant, the same pattern.
impl PartialEq for TagRule {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TagRule::Pattern(a), TagRule::Pattern(b)) => a.as_str() == b.as_str(),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

/// The image-tag grammar of the OCI distribution spec.
const IMAGE_TAG_MAX: usize = 128;

/// Why a tag is refused; worded to follow "`x` is not a valid <component> version: ".
pub fn check_image_tag(tag: &str) -> Result<(), String> {
    let Some(first) = tag.chars().next() else {
        return Err("it is empty".into());
    };
    if tag.len() > IMAGE_TAG_MAX {
        return Err(format!("image tags are at most {IMAGE_TAG_MAX} characters"));
    }
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return Err("an image tag must start with a letter, digit or underscore".into());
    }
    if let Some(bad) = tag
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "{bad:?} cannot appear in an image tag (allowed: letters, digits, `_`, `.`, `-`)"
        ));
    }
    Ok(())
}

impl TagRule {
    /// Builds a rule from an optional configured pattern, anchoring it so that it must match the
    /// whole tag (a pattern that matched a substring would let `2024.10.1-evil` through).
    pub fn from_pattern(pattern: Option<&str>) -> Result<TagRule, regex::Error> {
        match pattern {
            None => Ok(TagRule::CalVerWithHotfix),
            Some(p) => {
                // Alone first: an unbalanced `a)|(b` would otherwise close our group and escape
                // the anchors.
                Regex::new(p)?;
                Regex::new(&format!("^(?:{p})$")).map(TagRule::Pattern)
            }
        }
    }

    /// The configured tag_pattern, as written, when the rule is one.
    pub fn pattern(&self) -> Option<&str> {
        match self {
            TagRule::Pattern(re) => Some(
                re.as_str()
                    .trim_start_matches("^(?:")
                    .trim_end_matches(")$"),
            ),
            _ => None,
        }
    }

    /// Whether a tag is one of this rule's, without saying why not.
    pub fn matches(&self, tag: &str) -> bool {
        self.check(tag).is_ok()
    }

    /// Checks a tag against this rule and the image-tag grammar.
    pub fn check(&self, tag: &str) -> Result<(), String> {
        check_image_tag(tag)?;
        match self {
            TagRule::CalVerWithHotfix => {
                let (base, hotfix) = match tag.split_once('-') {
                    Some((base, hotfix)) => (base, Some(hotfix)),
                    None => (tag, None),
                };
                base.parse::<CalVer>()
                    .map_err(|e| format!("expected YYYY.MM.N or YYYY.MM.N-K: {e}"))?;
                if let Some(h) = hotfix
                    && (h.is_empty()
                        || !h.bytes().all(|b| b.is_ascii_digit())
                        || h.starts_with('0'))
                {
                    return Err(
                        "the hotfix suffix after `-` must be a number from 1, as in 2024.11.1-1"
                            .into(),
                    );
                }
                Ok(())
            }
            TagRule::ImageTagOnly => Ok(()),
            TagRule::Pattern(re) => {
                if re.is_match(tag) {
                    Ok(())
                } else {
                    // Strip our own anchoring so the message shows what the user wrote.
                    let shown = re
                        .as_str()
                        .trim_start_matches("^(?:")
                        .trim_end_matches(")$");
                    Err(format!(
                        "it does not match the component's tag_pattern `{shown}`"
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rule_accepts_calver_and_hotfix() {
        let rule = TagRule::CalVerWithHotfix;
        assert!(rule.check("2026.08.1").is_ok());
        assert!(rule.check("2024.11.1-1").is_ok());
    }

    #[test]
    fn default_rule_rejects_other_schemes() {
        let rule = TagRule::CalVerWithHotfix;
        for tag in [
            "2.0.60",
            "2023.2.0",
            "1.0.5-rc.1",
            "latest",
            "2024.11.1-",
            "2024.11.1-01",
            "2024.11.1-rc1",
        ] {
            assert!(rule.check(tag).is_err(), "{tag} should be refused");
        }
    }

    #[test]
    fn pattern_must_match_the_whole_tag() {
        let rule = TagRule::from_pattern(Some(r"\d{4}\.\d{2}\.\d+")).unwrap();
        assert!(rule.check("2022.11.0").is_ok());
        let err = rule.check("2022.11.0-evil").unwrap_err();
        assert!(err.contains(r"\d{4}\.\d{2}\.\d+"), "{err}");
    }

    #[test]
    fn any_rule_requires_an_image_tag() {
        let rule = TagRule::from_pattern(Some(".*")).unwrap();
        assert!(rule.check("has space").is_err());
        assert!(rule.check(".hidden").is_err());
        assert!(rule.check(&"a".repeat(129)).is_err());
        assert!(rule.check(&"a".repeat(128)).is_ok());
        assert!(rule.check("").is_err());
    }
}

//! Stack versions and component tags of arbitrary text: parsing never panics; a version that
//! parses prints as what was written and parses back equal; the next iteration is higher; a tag
//! rule built from the text as a pattern judges tags without panicking.

use stackrel::calver::CalVer;
use stackrel::component_tag::{TagRule, check_image_tag};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(version) = text.parse::<CalVer>() {
        assert_eq!(version.to_string(), text, "a version prints as written");
        assert_eq!(version.to_string().parse::<CalVer>().ok(), Some(version));
        let _ = version.to_semver();
        assert!(version.next_iteration() >= version);
    }
    let _ = check_image_tag(text);
    let default = TagRule::from_pattern(None).expect("the default rule builds");
    let _ = default.check(text);
    if text.len() <= 256
        && let Ok(rule) = TagRule::from_pattern(Some(text))
    {
        for tag in ["2026.08.3", "2024.11.1-1", "1.0.5-rc.1", text] {
            let _ = rule.check(tag);
        }
    }
}

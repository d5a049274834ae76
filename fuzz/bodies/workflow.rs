//! A GitHub Actions workflow of arbitrary text: parsing never panics, and what a parsed
//! workflow answers (its name, which tags start it, its AWX launches) never panics either.

use stackrel::workflow::{FilterPattern, Workflow};

const TAGS: [&str; 5] = ["2026.08.3", "2024.11.1-1", "v1.0", "", "a/b/**"];

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(workflow) = Workflow::parse(text) {
        let _ = workflow.name();
        for tag in TAGS {
            let _ = workflow.tag_trigger(tag);
        }
        let _ = workflow.runs_on_push();
        let _ = workflow.other_events();
        for launch in workflow.awx_launches() {
            let _ = launch.may_hide_failure();
        }
    }
    // Each line as a tag filter pattern, matched against each tag.
    for line in text.lines().take(64) {
        if let Ok(pattern) = FilterPattern::parse(line) {
            for tag in TAGS {
                let _ = pattern.matches(tag);
            }
        }
    }
}

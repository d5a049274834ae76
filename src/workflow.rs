//! What a GitHub Actions workflow file says about when it runs and what it deploys.
//!
//! stackrel gates a release on CI runs it cannot always see coming, and follows deploys it
//! does not launch itself. Both need the workflow file read the way GitHub reads it:
//! - A component's `build production` workflow may never run for a tag: the backend's runs
//!   only for tags matching `[0-9]+.[0-9]+` or `[0-9]+.[0-9]+.[0-9]+`, so its hotfix tag
//!   `2024.11.1-1` never gets a run and a gate waiting for one waits for ever. [`TagTrigger`]
//!   says so at once, naming the patterns.
//! - The stack's `build main` launches the AWX template "Production Fragalysis Stack" itself
//!   (with `continue-on-error: true`, so a failed deploy still shows green). [`AwxLaunch`] lists
//!   those launches so that stackrel neither launches a second deploy nor trusts a green run.
//!
//! The file is parsed with saphyr, a YAML 1.2 loader: YAML 1.1 loaders read the key `on` as the
//! boolean `true`. Scalars are kept as written (`2024.10` stays that text, not a float), as
//! GitHub's reader treats them. This module does no I/O; callers hand it the file's text.
//!
//! How `on:` decides a tag push, from "Workflow syntax for GitHub Actions" (docs.github.com,
//! `on.push.<branches|tags|branches-ignore|tags-ignore>` and `on.push.<paths|paths-ignore>`):
//! - With `tags` or `tags-ignore`, only they decide (`branches` filters branch pushes only).
//! - "If you define only `tags`/`tags-ignore` or only `branches`/`branches-ignore`, the workflow
//!   won't run for events affecting the undefined Git ref": `branches` alone means no tag runs.
//! - "If you define neither …, the workflow will run for events affecting either branches or
//!   tags", and "path filters are not evaluated for pushes of tags": a bare `push`, or one with
//!   only `paths`/`paths-ignore`, runs for every tag (actions/runner#3932 shows it happening).
//! - Other events (`workflow_dispatch`, `schedule`, `workflow_run`, …) are not tag pushes and
//!   are reported as [`Event`]s. `create` and `release` also fire for new tags or releases;
//!   they are reported, not counted, so a caller can decide what they mean for its gate.
//!
//! The filter pattern syntax itself, with its sources, is in [`pattern`].
//!
//! Hostile input is bounded: at most [`MAX_FILE_BYTES`] of text, [`MAX_DEPTH`] levels of
//! nesting (the loader's tree is built and dropped recursively), saphyr's own budget on alias
//! expansion, and pattern matching in time proportional to the tag's length times the
//! pattern's. No input makes it panic.

mod awx;
pub mod pattern;
mod yaml;

use std::fmt;

use saphyr::{MarkedYaml, YamlData};

pub use awx::{AwxLaunch, ContinueOnError, TemplateName};
pub use pattern::{FilterPattern, PatternError};
use yaml::{Mapping, as_mapping, entries, get, is_null, location, text, wrong_shape};

/// The largest workflow file read. Real ones are tens of kilobytes; this bounds the time and
/// memory spent on anything larger.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The deepest nesting of mappings and sequences read. Real workflows nest about eight deep
/// (`jobs` → job → `steps` → step → `with` → value).
pub const MAX_DEPTH: usize = 64;

/// A workflow file, read for the questions stackrel asks of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    name: Option<String>,
    push: Option<PushFilter>,
    other_events: Vec<Event>,
    awx_launches: Vec<AwxLaunch>,
}

/// Whether a push of one tag starts a run of a workflow, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagTrigger {
    /// A push of the tag starts a run.
    Runs,
    /// The workflow runs on pushes, but never on a push of this tag.
    Never {
        reason: NoTagRun,
        /// Events other than `push` that can still start it.
        other_events: Vec<Event>,
    },
    /// The workflow has no `push` trigger at all.
    NotOnPush {
        /// The events that can start it (none when `on:` is missing or empty).
        other_events: Vec<Event>,
    },
}

/// Why a workflow that runs on pushes does not run on a push of a given tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoTagRun {
    /// No pattern of `on.push.tags` includes the tag.
    NotInTags {
        /// Every pattern of `on.push.tags`, as written.
        patterns: Vec<String>,
        /// The `!pattern` that excluded the tag after an earlier pattern included it.
        excluded_by: Option<String>,
    },
    /// A pattern of `on.push.tags-ignore` matches the tag.
    IgnoredBy { pattern: String },
    /// `on.push` filters branches only, which leaves every tag out.
    BranchesOnly,
}

/// An event other than `push` that starts a workflow, by its name in `on:`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// Run by hand, from the Actions tab or the API.
    WorkflowDispatch,
    /// Run through the API's repository dispatch.
    RepositoryDispatch,
    /// Called by another workflow.
    WorkflowCall,
    /// Run when another workflow's run completes.
    WorkflowRun,
    /// Run on a cron schedule.
    Schedule,
    /// Run when a branch or tag is created.
    Create,
    /// Run on release activity, such as publishing a release.
    Release,
    /// Any other event, by its name (`pull_request`, `issues`, …).
    Other(String),
}

/// Where something starts in the file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// The workflows of several files whose name is the one looked for.
#[derive(Debug)]
pub struct NamedWorkflows<'a> {
    /// Each file whose workflow has the name, with the workflow, in the order given.
    pub found: Vec<(&'a str, Workflow)>,
    /// Files that could not be read, any of which might have had the name.
    pub unreadable: Vec<(&'a str, WorkflowError)>,
}

/// Why a file is not a workflow this module can read. Variants about a place in the file
/// carry where it is; messages quote key names, patterns and positions only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("the file is {bytes} bytes, more than the {limit} bytes read of a workflow file")]
    TooLarge { bytes: usize, limit: usize },

    #[error("the file is not valid YAML: {message} at {location}")]
    NotYaml { message: String, location: Location },

    #[error("the file nests more than {limit} levels deep at {location}")]
    TooDeep { limit: usize, location: Location },

    #[error(
        "the YAML tag `{tag}` at {location} is not allowed in a workflow file; quote the value \
         if it is meant as text"
    )]
    UnexpectedTag { tag: String, location: Location },

    #[error("the file holds no YAML document; a workflow is a mapping with `on:` and `jobs:`")]
    Empty,

    #[error("the file holds more than one YAML document (the second starts at {location})")]
    SeveralDocuments { location: Location },

    #[error("the file is {found}, not a mapping of `name:`, `on:` and `jobs:` ({location})")]
    NotAMapping {
        found: &'static str,
        location: Location,
    },

    #[error("`{key}` at {location} is {found}; it should be {expected}")]
    WrongShape {
        key: String,
        expected: &'static str,
        found: &'static str,
        location: Location,
    },

    #[error("`{event}` at {location} has both `{first}` and `{second}`; GitHub allows only one")]
    ConflictingFilters {
        event: &'static str,
        first: &'static str,
        second: &'static str,
        location: Location,
    },

    #[error("the pattern '{pattern}' of `{key}` at {location} is invalid: {problem}")]
    InvalidPattern {
        key: String,
        pattern: String,
        problem: PatternError,
        location: Location,
    },
}

/// What `on.push` filters, as far as tags are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PushFilter {
    tags: TagFilter,
    /// `branches` or `branches-ignore` is present.
    filters_branches: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TagFilter {
    Unfiltered,
    Tags(Vec<FilterPattern>),
    TagsIgnore(Vec<FilterPattern>),
}

impl Workflow {
    /// Reads a workflow file's text.
    pub fn parse(text: &str) -> Result<Workflow, WorkflowError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(WorkflowError::TooLarge {
                bytes: text.len(),
                limit: MAX_FILE_BYTES,
            });
        }
        let root = yaml::load_document(text)?;
        let YamlData::Mapping(top) = &root.data else {
            return Err(WorkflowError::NotAMapping {
                found: yaml::kind(&root),
                location: location(&root),
            });
        };
        let name = match get(top, "name") {
            Some(node) => yaml::optional_text(node, "name")?,
            None => None,
        };
        let (push, other_events) = read_on(get(top, "on"))?;
        let workflow_env = awx::read_env(get(top, "env"));
        let awx_launches = awx::read_jobs(get(top, "jobs"), &workflow_env)?;
        Ok(Workflow {
            name,
            push,
            other_events,
            awx_launches,
        })
    }

    /// The workflow's `name:`. `None` when the file has none: GitHub then shows the file's
    /// path instead, which only the caller knows.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether a push of the tag `tag` (its short name, `2026.08.1`, not `refs/tags/…`)
    /// starts a run.
    pub fn tag_trigger(&self, tag: &str) -> TagTrigger {
        let other_events = self.other_events.clone();
        let Some(push) = &self.push else {
            return TagTrigger::NotOnPush { other_events };
        };
        let reason = match &push.tags {
            TagFilter::Tags(patterns) => match pattern::decisive_match(patterns, tag) {
                Some(decisive) if !decisive.is_negated() => return TagTrigger::Runs,
                excluding => NoTagRun::NotInTags {
                    patterns: written(patterns),
                    excluded_by: excluding.map(|p| p.as_written().to_owned()),
                },
            },
            TagFilter::TagsIgnore(patterns) => match pattern::decisive_match(patterns, tag) {
                Some(decisive) if !decisive.is_negated() => NoTagRun::IgnoredBy {
                    pattern: decisive.as_written().to_owned(),
                },
                _ => return TagTrigger::Runs,
            },
            TagFilter::Unfiltered if push.filters_branches => NoTagRun::BranchesOnly,
            TagFilter::Unfiltered => return TagTrigger::Runs,
        };
        TagTrigger::Never {
            reason,
            other_events,
        }
    }

    /// Whether `on:` has a `push` event at all.
    pub fn runs_on_push(&self) -> bool {
        self.push.is_some()
    }

    /// The events other than `push` in `on:`, in the file's order.
    pub fn other_events(&self) -> &[Event] {
        &self.other_events
    }

    /// Every step, in every job, that launches an AWX job template, in the file's order.
    pub fn awx_launches(&self) -> &[AwxLaunch] {
        &self.awx_launches
    }
}

fn written(patterns: &[FilterPattern]) -> Vec<String> {
    patterns.iter().map(|p| p.as_written().to_owned()).collect()
}

/// Of several `(path, text)` workflow files, those whose workflow is named `name`, the way
/// GitHub names a workflow: its `name:`, or its path when it has none.
pub fn find_named<'a, 'b>(
    files: impl IntoIterator<Item = (&'a str, &'b str)>,
    name: &str,
) -> NamedWorkflows<'a> {
    let mut named = NamedWorkflows {
        found: Vec::new(),
        unreadable: Vec::new(),
    };
    for (path, text) in files {
        match Workflow::parse(text) {
            Ok(workflow) if workflow.name().unwrap_or(path) == name => {
                named.found.push((path, workflow));
            }
            Ok(_) => {}
            Err(error) => named.unreadable.push((path, error)),
        }
    }
    named
}

impl<'a> NamedWorkflows<'a> {
    /// The path of the one file with the name; `None` when none or several have it.
    pub fn path(&self) -> Option<&'a str> {
        match self.found.as_slice() {
            [(path, _)] => Some(path),
            _ => None,
        }
    }
}

impl Event {
    /// The event for its name in `on:`.
    pub fn from_name(name: &str) -> Event {
        match name {
            "workflow_dispatch" => Event::WorkflowDispatch,
            "repository_dispatch" => Event::RepositoryDispatch,
            "workflow_call" => Event::WorkflowCall,
            "workflow_run" => Event::WorkflowRun,
            "schedule" => Event::Schedule,
            "create" => Event::Create,
            "release" => Event::Release,
            other => Event::Other(other.to_owned()),
        }
    }

    /// The event's name in `on:`.
    pub fn name(&self) -> &str {
        match self {
            Event::WorkflowDispatch => "workflow_dispatch",
            Event::RepositoryDispatch => "repository_dispatch",
            Event::WorkflowCall => "workflow_call",
            Event::WorkflowRun => "workflow_run",
            Event::Schedule => "schedule",
            Event::Create => "create",
            Event::Release => "release",
            Event::Other(name) => name,
        }
    }

    /// Whether a person can start the workflow by hand through it.
    pub fn is_manual(&self) -> bool {
        *self == Event::WorkflowDispatch
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl fmt::Display for NoTagRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoTagRun::NotInTags {
                patterns,
                excluded_by: Some(negation),
            } => write!(
                f,
                "its `on.push.tags` pattern '{negation}' excludes the tag (patterns: {})",
                quoted(patterns)
            ),
            NoTagRun::NotInTags { patterns, .. } if patterns.is_empty() => {
                f.write_str("its `on.push.tags` lists no pattern, so no tag push starts it")
            }
            NoTagRun::NotInTags { patterns, .. } => write!(
                f,
                "no `on.push.tags` pattern matches the tag (patterns: {})",
                quoted(patterns)
            ),
            NoTagRun::IgnoredBy { pattern } => {
                write!(
                    f,
                    "its `on.push.tags-ignore` pattern '{pattern}' matches the tag"
                )
            }
            NoTagRun::BranchesOnly => {
                f.write_str("its `on.push` filters branches only, so no tag push starts it")
            }
        }
    }
}

impl fmt::Display for TagTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let other_events = match self {
            TagTrigger::Runs => return f.write_str("a push of the tag starts a run"),
            TagTrigger::Never {
                reason,
                other_events,
            } => {
                write!(f, "a push of the tag never starts a run: {reason}")?;
                other_events
            }
            TagTrigger::NotOnPush { other_events } => {
                f.write_str("a push of the tag never starts a run: it does not run on push")?;
                other_events
            }
        };
        if other_events.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = other_events
            .iter()
            .map(|event| match event.is_manual() {
                true => format!("{event} (by hand)"),
                false => event.to_string(),
            })
            .collect();
        write!(f, "; other events can still start it: {}", names.join(", "))
    }
}

fn quoted(patterns: &[String]) -> String {
    let quoted: Vec<String> = patterns.iter().map(|p| format!("'{p}'")).collect();
    quoted.join(", ")
}

// ---------------------------------------------------------------------------------------------
// `on:`

/// `on:` as the push filter (when `push` is one of its events) and the other events.
fn read_on(on: Option<&MarkedYaml>) -> Result<(Option<PushFilter>, Vec<Event>), WorkflowError> {
    let Some(on) = on.filter(|node| !is_null(node)) else {
        return Ok((None, Vec::new()));
    };
    let mut push = None;
    let mut others = Vec::new();
    let mut add = |name: &str, filters: Option<&MarkedYaml>| -> Result<(), WorkflowError> {
        if name == "push" {
            push = Some(read_push(filters)?);
        } else if !others.iter().any(|e: &Event| e.name() == name) {
            others.push(Event::from_name(name));
        }
        Ok(())
    };
    match &on.data {
        YamlData::Mapping(events) => {
            for (name, filters) in entries(events) {
                add(name, Some(filters))?;
            }
        }
        YamlData::Sequence(names) => {
            for name in names {
                add(event_name(name)?, None)?;
            }
        }
        _ => add(event_name(on)?, None)?,
    }
    Ok((push, others))
}

fn event_name<'n>(node: &'n MarkedYaml) -> Result<&'n str, WorkflowError> {
    text(node).ok_or_else(|| wrong_shape("on", "an event name or a list of event names", node))
}

/// `on.push`: null (or written as a bare event name) for "every push", or a mapping of
/// filters.
fn read_push(filters: Option<&MarkedYaml>) -> Result<PushFilter, WorkflowError> {
    let unfiltered = PushFilter {
        tags: TagFilter::Unfiltered,
        filters_branches: false,
    };
    let Some(node) = filters.filter(|node| !is_null(node)) else {
        return Ok(unfiltered);
    };
    let filters = as_mapping(node, "on.push")?;
    let present = |key| get(filters, key);
    refuse_both(filters, node, "branches", "branches-ignore")?;
    refuse_both(filters, node, "tags", "tags-ignore")?;
    let tags = match (present("tags"), present("tags-ignore")) {
        (Some(tags), _) => TagFilter::Tags(read_patterns(tags, "on.push.tags")?),
        (None, Some(ignore)) => {
            TagFilter::TagsIgnore(read_patterns(ignore, "on.push.tags-ignore")?)
        }
        (None, None) => TagFilter::Unfiltered,
    };
    Ok(PushFilter {
        tags,
        filters_branches: present("branches").is_some() || present("branches-ignore").is_some(),
    })
}

fn refuse_both(
    filters: &Mapping,
    push: &MarkedYaml,
    first: &'static str,
    second: &'static str,
) -> Result<(), WorkflowError> {
    if get(filters, first).is_some() && get(filters, second).is_some() {
        return Err(WorkflowError::ConflictingFilters {
            event: "on.push",
            first,
            second,
            location: location(push),
        });
    }
    Ok(())
}

/// A filter's patterns: a list of patterns, or one pattern on its own (`tags: '*'`).
fn read_patterns(node: &MarkedYaml, key: &str) -> Result<Vec<FilterPattern>, WorkflowError> {
    let expected = "a pattern or a list of patterns";
    let items: Vec<&MarkedYaml> = match &node.data {
        YamlData::Sequence(items) => items.iter().collect(),
        _ if text(node).is_some() => vec![node],
        _ => return Err(wrong_shape(key, expected, node)),
    };
    items
        .into_iter()
        .map(|item| {
            let written = text(item).ok_or_else(|| wrong_shape(key, expected, item))?;
            FilterPattern::parse(written).map_err(|problem| WorkflowError::InvalidPattern {
                key: key.to_owned(),
                pattern: written.to_owned(),
                problem,
                location: location(item),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn parse(text: &str) -> Workflow {
        Workflow::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn trigger(text: &str, tag: &str) -> TagTrigger {
        parse(text).tag_trigger(tag)
    }

    fn runs(text: &str, tag: &str) -> bool {
        trigger(text, tag) == TagTrigger::Runs
    }

    // Reading the file.

    #[test]
    fn name_is_read() {
        assert_eq!(
            parse("name: build main\non: push\n").name(),
            Some("build main")
        );
    }

    #[test]
    fn a_missing_or_empty_name_is_none() {
        assert_eq!(parse("on: push\n").name(), None);
        assert_eq!(parse("name:\non: push\n").name(), None);
    }

    #[test]
    fn text_that_is_not_yaml_is_an_error_with_its_place() {
        let error = Workflow::parse("name: a\non:\n  push: [\n    tags\n  x: 'y\n").unwrap_err();
        let WorkflowError::NotYaml { location, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(location.line >= 3, "{location}");
        assert!(error.to_string().contains("line"), "{error}");
    }

    #[test]
    fn a_list_at_the_top_is_not_a_workflow() {
        let error = Workflow::parse("- on: push\n").unwrap_err();
        assert_eq!(
            error,
            WorkflowError::NotAMapping {
                found: "a list",
                location: Location { line: 1, column: 1 }
            }
        );
        assert!(matches!(
            Workflow::parse("just text"),
            Err(WorkflowError::NotAMapping {
                found: "a single value",
                ..
            })
        ));
    }

    #[test]
    fn a_file_with_no_document_is_an_error() {
        assert_eq!(Workflow::parse(""), Err(WorkflowError::Empty));
        assert_eq!(
            Workflow::parse("# only a comment\n"),
            Err(WorkflowError::Empty)
        );
        assert!(matches!(
            Workflow::parse("---\n"),
            Err(WorkflowError::NotAMapping { found: "empty", .. })
        ));
    }

    #[test]
    fn several_documents_are_an_error() {
        let error = Workflow::parse("on: push\n---\non: push\n").unwrap_err();
        assert!(
            matches!(error, WorkflowError::SeveralDocuments { location } if location.line == 2),
            "{error:?}"
        );
    }

    #[test]
    fn a_custom_yaml_tag_is_an_error_but_a_core_one_is_not() {
        let error = Workflow::parse("on:\n  push:\n    branches: [!main]\n").unwrap_err();
        assert_eq!(
            error,
            WorkflowError::UnexpectedTag {
                tag: "!main".to_owned(),
                location: Location {
                    line: 3,
                    column: 16
                }
            }
        );
        assert!(runs("on: !!str push\n", "v1"));
    }

    #[test]
    fn duplicate_keys_are_an_error() {
        let error = Workflow::parse("on: push\non: workflow_dispatch\n").unwrap_err();
        assert!(matches!(error, WorkflowError::NotYaml { .. }), "{error:?}");
    }

    #[test]
    fn nesting_too_deep_is_an_error() {
        let text = format!(
            "on: {}{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(
            Workflow::parse(&text),
            Err(WorkflowError::TooDeep {
                limit: MAX_DEPTH,
                ..
            })
        ));
        let block = format!("on: push\njobs:\n{}x\n", "- ".repeat(200));
        assert!(matches!(
            Workflow::parse(&block),
            Err(WorkflowError::TooDeep { .. })
        ));
    }

    #[test]
    fn a_file_over_the_limit_is_an_error() {
        let text = format!("on: push\n#{}\n", "x".repeat(MAX_FILE_BYTES));
        assert!(matches!(
            Workflow::parse(&text),
            Err(WorkflowError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_value_of_the_wrong_shape_names_its_key() {
        let error = Workflow::parse("on:\n  push:\n    tags:\n      a: b\n").unwrap_err();
        assert_eq!(
            error,
            WorkflowError::WrongShape {
                key: "on.push.tags".to_owned(),
                expected: "a pattern or a list of patterns",
                found: "a mapping",
                location: Location { line: 4, column: 7 }
            }
        );
    }

    #[test]
    fn an_invalid_tag_pattern_is_an_error_naming_it() {
        let error = Workflow::parse("on:\n  push:\n    tags: ['v[0-9']\n").unwrap_err();
        assert_eq!(
            error,
            WorkflowError::InvalidPattern {
                key: "on.push.tags".to_owned(),
                pattern: "v[0-9".to_owned(),
                problem: PatternError::UnclosedBrackets { position: 2 },
                location: Location {
                    line: 3,
                    column: 12
                }
            }
        );
        assert!(error.to_string().contains("'v[0-9'"), "{error}");
    }

    #[test]
    fn tags_and_tags_ignore_together_are_an_error() {
        let error =
            Workflow::parse("on:\n  push:\n    tags: ['a']\n    tags-ignore: ['b']\n").unwrap_err();
        assert!(
            matches!(
                error,
                WorkflowError::ConflictingFilters {
                    first: "tags",
                    second: "tags-ignore",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    // Every shape of `on:`.

    #[test]
    fn on_push_as_one_event_name_runs_for_every_tag() {
        assert!(runs("on: push\n", "2026.08.1"));
        assert!(runs("on: push\n", "feature/x"));
    }

    #[test]
    fn on_as_a_list_runs_for_every_tag_and_keeps_the_other_events() {
        let workflow = parse("on: [push, workflow_dispatch]\n");
        assert_eq!(workflow.tag_trigger("v1"), TagTrigger::Runs);
        assert_eq!(workflow.other_events(), &[Event::WorkflowDispatch]);
        assert!(workflow.runs_on_push());
    }

    #[test]
    fn on_push_with_nothing_under_it_runs_for_every_tag() {
        assert!(runs("on:\n  push:\n  workflow_dispatch:\n", "v1"));
        assert!(runs("on:\n  push: ~\n", "v1"));
        assert!(runs("on:\n  push: {}\n", "v1"));
    }

    #[test]
    fn a_flow_mapping_of_filters_is_read() {
        let text = "on: { push: { tags: ['v[0-9]+'] }, workflow_dispatch: {} }\n";
        assert!(runs(text, "v12"));
        assert!(!runs(text, "w12"));
    }

    #[test]
    fn a_tag_must_match_one_of_the_tags_patterns() {
        let text = "on:\n  push:\n    tags:\n    - 'v*'\n    - release-[0-9]+\n";
        assert!(runs(text, "v1.0"));
        assert!(runs(text, "release-42"));
        assert_eq!(
            trigger(text, "nightly"),
            TagTrigger::Never {
                reason: NoTagRun::NotInTags {
                    patterns: vec!["v*".to_owned(), "release-[0-9]+".to_owned()],
                    excluded_by: None
                },
                other_events: vec![]
            }
        );
    }

    #[test]
    fn a_single_pattern_may_stand_instead_of_a_list() {
        let text = "on:\n  push:\n    tags: 'v*'\n";
        assert!(runs(text, "v2"));
        assert!(!runs(text, "x2"));
    }

    #[test]
    fn an_empty_tags_list_runs_for_no_tag() {
        assert!(!runs("on:\n  push:\n    tags: []\n", "v1"));
    }

    #[test]
    fn a_later_negation_in_tags_names_the_excluding_pattern() {
        let text = "on:\n  push:\n    tags: ['v*', '!v*-rc*']\n";
        assert!(runs(text, "v1.0"));
        assert_eq!(
            trigger(text, "v1.0-rc1"),
            TagTrigger::Never {
                reason: NoTagRun::NotInTags {
                    patterns: vec!["v*".to_owned(), "!v*-rc*".to_owned()],
                    excluded_by: Some("!v*-rc*".to_owned())
                },
                other_events: vec![]
            }
        );
    }

    #[test]
    fn tags_ignore_leaves_out_the_tags_it_matches() {
        let text = "on:\n  push:\n    tags-ignore:\n    - '[0-9]+.[0-9]+.[0-9]+'\n";
        assert!(runs(text, "1.0.5-rc.1"));
        assert_eq!(
            trigger(text, "2026.08.1"),
            TagTrigger::Never {
                reason: NoTagRun::IgnoredBy {
                    pattern: "[0-9]+.[0-9]+.[0-9]+".to_owned()
                },
                other_events: vec![]
            }
        );
    }

    #[test]
    fn branches_alone_leave_out_every_tag() {
        for filter in ["branches: [main]", "branches-ignore: [wip]"] {
            let text = format!("on:\n  push:\n    {filter}\n  workflow_dispatch:\n");
            assert_eq!(
                trigger(&text, "v1"),
                TagTrigger::Never {
                    reason: NoTagRun::BranchesOnly,
                    other_events: vec![Event::WorkflowDispatch]
                },
                "{filter}"
            );
        }
    }

    #[test]
    fn paths_alone_do_not_filter_tag_pushes() {
        assert!(runs("on:\n  push:\n    paths: ['src/**']\n", "v1"));
        assert!(runs("on:\n  push:\n    paths-ignore: ['**']\n", "v1"));
    }

    #[test]
    fn with_branches_and_tags_only_the_tags_decide() {
        let text = "on:\n  push:\n    branches: [production]\n    tags: ['[0-9]+.[0-9]+']\n";
        assert!(runs(text, "2023.2"));
        assert!(!runs(text, "production"));
    }

    #[test]
    fn a_workflow_without_push_reports_its_events() {
        let text = "on:\n  workflow_dispatch:\n  schedule:\n  - cron: '0 0 * * 0'\n  \
                    workflow_run:\n    workflows: [build]\n  pull_request:\n";
        let workflow = parse(text);
        assert!(!workflow.runs_on_push());
        assert_eq!(
            workflow.tag_trigger("v1"),
            TagTrigger::NotOnPush {
                other_events: vec![
                    Event::WorkflowDispatch,
                    Event::Schedule,
                    Event::WorkflowRun,
                    Event::Other("pull_request".to_owned())
                ]
            }
        );
    }

    #[test]
    fn a_workflow_without_on_never_runs() {
        assert_eq!(
            trigger("name: x\njobs: {}\n", "v1"),
            TagTrigger::NotOnPush {
                other_events: vec![]
            }
        );
    }

    #[test]
    fn the_on_key_is_text_not_a_yaml_1_1_boolean() {
        assert!(runs("'on': push\n", "v1"));
        assert!(!parse("true: push\n").runs_on_push());
    }

    #[test]
    fn patterns_are_read_as_written_not_as_numbers() {
        let text = "on:\n  push:\n    tags: [1.10, 2.0]\n";
        assert!(runs(text, "1.10"));
        assert!(!runs(text, "1.1"));
        assert!(runs(text, "2.0"));
    }

    #[test]
    fn a_trigger_explains_itself() {
        let never = trigger(
            "on:\n  push:\n    tags: ['[0-9]+.[0-9]+']\n  workflow_dispatch:\n",
            "2024.11.1-1",
        );
        assert_eq!(
            never.to_string(),
            "a push of the tag never starts a run: no `on.push.tags` pattern matches the tag \
             (patterns: '[0-9]+.[0-9]+'); other events can still start it: workflow_dispatch \
             (by hand)"
        );
        let ignored = trigger("on:\n  push:\n    tags-ignore: ['v*']\n", "v1");
        assert!(ignored.to_string().contains("'v*'"), "{ignored}");
        assert_eq!(
            TagTrigger::Runs.to_string(),
            "a push of the tag starts a run"
        );
    }

    // Finding the named workflow.

    #[test]
    fn find_named_returns_the_file_with_that_name() {
        let files = [
            ("a.yaml", "name: build staging\non: push\n"),
            ("b.yaml", "name: build production\non: push\n"),
        ];
        let named = find_named(files, "build production");
        assert_eq!(named.path(), Some("b.yaml"));
        assert!(named.unreadable.is_empty());
    }

    #[test]
    fn find_named_names_a_nameless_workflow_by_its_path() {
        let files = [(".github/workflows/ci.yaml", "on: push\n")];
        assert_eq!(
            find_named(files, ".github/workflows/ci.yaml").path(),
            Some(".github/workflows/ci.yaml")
        );
        assert_eq!(find_named(files, "ci").path(), None);
    }

    #[test]
    fn find_named_reports_several_matches_and_unreadable_files() {
        let files = [
            ("a.yaml", "name: ci\non: push\n"),
            ("b.yaml", "name: [\n"),
            ("c.yaml", "name: ci\non: workflow_dispatch\n"),
        ];
        let named = find_named(files, "ci");
        assert_eq!(named.path(), None);
        let paths: Vec<&str> = named.found.iter().map(|(path, _)| *path).collect();
        assert_eq!(paths, ["a.yaml", "c.yaml"]);
        assert_eq!(named.unreadable.len(), 1);
        assert_eq!(named.unreadable[0].0, "b.yaml");
    }

    // Hostile input.

    fn within_seconds<T>(seconds: u64, work: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let result = work();
        let elapsed = started.elapsed();
        assert!(elapsed.as_secs() < seconds, "took {elapsed:?}");
        result
    }

    #[test]
    fn deep_nesting_of_a_megabyte_is_refused_quickly() {
        for text in ["[".repeat(MAX_FILE_BYTES), "- ".repeat(MAX_FILE_BYTES / 2)] {
            let result = within_seconds(5, || Workflow::parse(&text));
            // The scanner's own limit of 255 open brackets may answer first.
            assert!(
                matches!(
                    result,
                    Err(WorkflowError::TooDeep { .. } | WorkflowError::NotYaml { .. })
                ),
                "{result:?}"
            );
        }
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_owned();
        for (name, previous) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d"), ("f", "e")] {
            let aliases = vec![format!("*{previous}"); 8].join(", ");
            text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
        }
        let result = within_seconds(5, || Workflow::parse(&text));
        assert!(
            matches!(result, Err(WorkflowError::NotYaml { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_megabyte_of_keys_is_read_in_bounded_time() {
        let mut text = "on: push\n".to_owned();
        let mut i = 0;
        while text.len() < MAX_FILE_BYTES - 32 {
            text.push_str(&format!("k{i:09}: v\n"));
            i += 1;
        }
        let workflow = within_seconds(10, || Workflow::parse(&text)).expect("valid YAML");
        assert!(workflow.runs_on_push());
    }

    #[test]
    fn a_huge_tag_pattern_matches_in_bounded_time() {
        let pattern = "*a".repeat(MAX_FILE_BYTES / 8);
        let text = format!("on:\n  push:\n    tags: ['{pattern}b']\n");
        let workflow = within_seconds(10, || Workflow::parse(&text)).expect("valid YAML");
        let trigger = within_seconds(10, || workflow.tag_trigger(&"a".repeat(255)));
        assert!(matches!(trigger, TagTrigger::Never { .. }));
    }

    // The real Fragalysis workflow files.

    pub(super) fn fixture_dir() -> Option<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/fragalysis");
        if dir.is_dir() {
            Some(dir)
        } else {
            eprintln!("skipping: fixture folder {} is absent", dir.display());
            None
        }
    }

    pub(super) fn fixture(dir: &Path, name: &str) -> Workflow {
        let text = std::fs::read_to_string(dir.join(name)).expect("fixture is readable");
        Workflow::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// (file name, text) of every workflow fixture.
    pub(super) fn workflow_fixtures(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .expect("fixture folder is readable")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".yaml") && !name.ends_with(".action.yaml"))
            .map(|name| {
                let text = std::fs::read_to_string(dir.join(&name)).expect("fixture is UTF-8");
                (name, text)
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_backend_build_production_never_runs_for_its_hotfix_tag() {
        let Some(dir) = fixture_dir() else { return };
        let workflow = fixture(&dir, "backend-build-production.4d5f6c0.yaml");
        assert_eq!(workflow.name(), Some("build production"));
        assert_eq!(workflow.tag_trigger("2026.08.1"), TagTrigger::Runs);
        assert_eq!(workflow.tag_trigger("2023.2"), TagTrigger::Runs);
        let patterns = vec![
            "[0-9]+.[0-9]+".to_owned(),
            "[0-9]+.[0-9]+.[0-9]+".to_owned(),
        ];
        for tag in ["2024.11.1-1", "1.0.5-rc.1"] {
            assert_eq!(
                workflow.tag_trigger(tag),
                TagTrigger::Never {
                    reason: NoTagRun::NotInTags {
                        patterns: patterns.clone(),
                        excluded_by: None
                    },
                    other_events: vec![]
                },
                "{tag}"
            );
        }
    }

    #[test]
    fn the_frontend_build_production_runs_for_tags_by_its_tag_filter_only() {
        let Some(dir) = fixture_dir() else { return };
        let workflow = fixture(&dir, "frontend-build-production.df41858.yaml");
        assert_eq!(workflow.name(), Some("build production"));
        assert_eq!(workflow.tag_trigger("2026.08.2"), TagTrigger::Runs);
        assert!(matches!(
            workflow.tag_trigger("2024.11.1-1"),
            TagTrigger::Never {
                reason: NoTagRun::NotInTags { .. },
                ..
            }
        ));
        assert!(
            matches!(workflow.tag_trigger("production"), TagTrigger::Never { .. }),
            "a tag named like the branch is still only a tag"
        );
    }

    #[test]
    fn the_backend_build_staging_ignores_production_tags() {
        let Some(dir) = fixture_dir() else { return };
        let workflow = fixture(&dir, "backend-build-staging.4d5f6c0.yaml");
        assert_eq!(workflow.name(), Some("build staging"));
        assert_eq!(workflow.tag_trigger("1.0.5-rc.1"), TagTrigger::Runs);
        assert_eq!(
            workflow.tag_trigger("2026.08.1"),
            TagTrigger::Never {
                reason: NoTagRun::IgnoredBy {
                    pattern: "[0-9]+.[0-9]+.[0-9]+".to_owned()
                },
                other_events: vec![Event::Schedule]
            }
        );
    }

    #[test]
    fn every_stack_build_main_runs_for_every_tag() {
        let Some(dir) = fixture_dir() else { return };
        let build_mains: Vec<_> = workflow_fixtures(&dir)
            .into_iter()
            .filter(|(name, _)| name.starts_with("build-main."))
            .collect();
        assert_eq!(build_mains.len(), 15);
        for (name, text) in build_mains {
            let workflow = Workflow::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(workflow.name(), Some("build main"), "{name}");
            for tag in ["2026.08.3", "2024.11.1-1", "stack/odd/tag"] {
                assert_eq!(workflow.tag_trigger(tag), TagTrigger::Runs, "{name} {tag}");
            }
        }
    }

    #[test]
    fn the_stack_build_latest_never_runs_for_tags() {
        let Some(dir) = fixture_dir() else { return };
        let workflow = fixture(&dir, "build-latest.9f96c31.yaml");
        assert_eq!(
            workflow.tag_trigger("2021.03.1"),
            TagTrigger::Never {
                reason: NoTagRun::BranchesOnly,
                other_events: vec![Event::Schedule]
            }
        );
    }

    #[test]
    fn build_main_since_2023_08_can_also_be_run_by_hand() {
        let Some(dir) = fixture_dir() else { return };
        let workflow = fixture(&dir, "build-main.e782fc5.yaml");
        assert!(workflow.other_events().iter().any(Event::is_manual));
        let first = fixture(&dir, "build-main.fb9465a.yaml");
        assert_eq!(first.other_events(), &[Event::Schedule]);
    }

    #[test]
    fn find_named_picks_build_production_among_the_backend_workflows() {
        let Some(dir) = fixture_dir() else { return };
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("readable");
        let staging = read("backend-build-staging.4d5f6c0.yaml");
        let production = read("backend-build-production.4d5f6c0.yaml");
        let files = [
            (".github/workflows/build-staging.yaml", staging.as_str()),
            (
                ".github/workflows/build-production.yaml",
                production.as_str(),
            ),
        ];
        assert_eq!(
            find_named(files, "build production").path(),
            Some(".github/workflows/build-production.yaml")
        );
    }

    /// Text to splice into a fixture: YAML's indicators and the odd characters a damaged file
    /// may hold.
    const GARBAGE: [&str; 18] = [
        "\t",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        "*a ",
        "&a ",
        "!x ",
        "\"",
        "'",
        "\u{0}",
        "%YAML 1.2\n",
        "---\n",
        "? ",
        "|\n",
        "\u{feff}é",
    ];

    #[test]
    fn damaged_fixtures_never_panic() {
        let Some(dir) = fixture_dir() else { return };
        for (name, text) in workflow_fixtures(&dir) {
            let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(211).collect();
            for &cut in &cuts {
                let _ = Workflow::parse(&text[..cut]);
                let garbage = GARBAGE[cut % GARBAGE.len()];
                let spliced = format!("{}{garbage}{}", &text[..cut], &text[cut..]);
                if let Ok(workflow) = Workflow::parse(&spliced) {
                    let _ = workflow.tag_trigger("2026.08.1").to_string();
                }
            }
            let _ = find_named([(name.as_str(), text.as_str())], "build main");
        }
    }
}

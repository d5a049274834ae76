//! A release file, `releases/<version>.toml`: one version per component plus optional ticket and
//! notes. The file name *is* the stack version, so two files can never claim one version and
//! `git log releases/` is the audit trail. This module turns one file's text into a `Release`
//! or a list of precise diagnostics; it does no I/O.

use crate::calver::CalVer;
use crate::component_tag::{TagRule, check_image_tag};
use crate::diagnostic::{Diagnostic, Source, did_you_mean};
use crate::toml_schema::describe_value;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use toml::de::{DeTable, DeValue};

pub const FILE_NAME: &str = "stackrel::release::file-name";
pub const COMPONENT_VERSION: &str = "stackrel::release::component-version";
pub const MISSING_COMPONENT: &str = "stackrel::release::missing-component";
pub const UNKNOWN_KEY: &str = "stackrel::release::unknown-key";
pub const WRONG_TYPE: &str = "stackrel::release::wrong-type";
pub const TICKET: &str = "stackrel::release::ticket";
pub const TOML_SYNTAX: &str = "stackrel::toml-syntax";

/// The directory release files live in, relative to the desired-state repository.
pub const RELEASES_DIR: &str = "releases";

/// A release as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    pub version: CalVer,
    /// Path relative to the desired-state repository.
    pub path: String,
    /// Component name → version (image tag).
    pub components: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A GitHub issue reference, `owner/repo#N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRef {
    pub owner: String,
    pub repo: String,
    pub number: u64,
}

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}#{}", self.owner, self.repo, self.number)
    }
}

impl Serialize for TicketRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for TicketRef {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (repo_part, number) = s.split_once('#').ok_or(())?;
        let (owner, repo) = repo_part.split_once('/').ok_or(())?;
        let name_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !name_ok(owner) || !name_ok(repo) || number.starts_with('0') {
            return Err(());
        }
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let number = number.parse().map_err(|_| ())?;
        Ok(TicketRef {
            owner: owner.into(),
            repo: repo.into(),
            number,
        })
    }
}

/// What a release file is checked against: the configured component names and their rules.
#[derive(Debug, Clone, Default)]
pub struct ComponentRules {
    pub rules: BTreeMap<String, TagRule>,
}

/// The stack version a release file's path names, or why it names none. `path` is relative to
/// the desired-state repository (`releases/2026.08.3.toml`).
pub fn version_from_path(path: &str) -> Result<CalVer, String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(stem) = name.strip_suffix(".toml") else {
        return Err(format!("`{name}` is not a `.toml` file"));
    };
    stem.parse::<CalVer>().map_err(|e| {
        let mut message = format!("`{name}` is not a stack version: {e}");
        if let Some(fixed) = suggest_version(stem) {
            message.push_str(&format!(" (did you mean `{fixed}`?)"));
        }
        message
    })
}

/// A best guess at the version someone meant: `v2023.6.2` → `2023.06.2`.
pub fn suggest_version(stem: &str) -> Option<CalVer> {
    let stem = stem.trim_start_matches(['v', 'V']);
    let mut parts = stem.split('.');
    let (y, m, n) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let candidate = CalVer::new(y.parse().ok()?, m.parse().ok()?, n.parse().ok()?);
    candidate.to_string().parse::<CalVer>().ok()
}

/// Parses and checks one release file. Returns the release when the file has no errors, and
/// every diagnostic found either way. Without `rules` (the config itself is broken), component
/// names cannot be judged, so only syntax, types, ticket and image-tag shape are checked.
pub fn parse_release(
    source: &Source,
    rules: Option<&ComponentRules>,
) -> (Option<Release>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let version = match version_from_path(&source.path) {
        Ok(v) => Some(v),
        Err(message) => {
            let stem = source.path.rsplit('/').next().unwrap_or(&source.path);
            let help = match suggest_version(stem.trim_end_matches(".toml")) {
                Some(v) => format!("rename the file to `{RELEASES_DIR}/{v}.toml`"),
                None => format!(
                    "name release files `{RELEASES_DIR}/YYYY.MM.N.toml` after the stack version they release, e.g. `{RELEASES_DIR}/2026.08.3.toml`"
                ),
            };
            diagnostics.push(
                source
                    .error(FILE_NAME, format!("file name {message}"))
                    .at(0..0, "this file's name must be YYYY.MM.N.toml")
                    .help(help),
            );
            None
        }
    };

    let (document, syntax_errors) = DeTable::parse_recoverable(&source.text);
    let syntax_failed = !syntax_errors.is_empty();
    for error in syntax_errors {
        let span = error.span().unwrap_or(0..0);
        diagnostics.push(
            source
                .error(
                    TOML_SYNTAX,
                    format!("invalid TOML: {}", error.message().trim()),
                )
                .at(span, "here")
                .help("fix the TOML syntax; a release file is `name = \"version\"` lines"),
        );
    }
    if syntax_failed {
        return (None, diagnostics);
    }

    let mut components = BTreeMap::new();
    let mut ticket = None;
    let mut notes = None;
    for (key, value) in document.get_ref().iter() {
        let name: &str = key.get_ref();
        let DeValue::String(text) = value.get_ref() else {
            let hint = match value.get_ref() {
                DeValue::Float(f) => format!("{name} = \"{}\"", f.as_str()),
                DeValue::Integer(i) => format!("{name} = \"{}\"", i.as_str()),
                _ => format!("{name} = \"...\""),
            };
            diagnostics.push(
                source
                    .error(
                        WRONG_TYPE,
                        format!(
                            "`{name}` must be a string, not {}",
                            describe_value(value.get_ref())
                        ),
                    )
                    .at(value.span(), "expected a quoted string")
                    .help(format!("quote the value: {hint}")),
            );
            continue;
        };
        let text: &str = text;
        match name {
            "ticket" => match text.parse::<TicketRef>() {
                Ok(t) => ticket = Some(t),
                Err(()) => diagnostics.push(
                    source
                        .error(TICKET, format!("`ticket` must be `owner/repo#N`, not \"{text}\""))
                        .at(value.span(), "not owner/repo#N")
                        .help("name the GitHub issue like `m2ms/fragalysis-frontend#1523`"),
                ),
            },
            "notes" => notes = Some(text.to_string()),
            component => match rules {
                Some(rules) => match rules.rules.get(component) {
                    Some(rule) => match rule.check(text) {
                        Ok(()) => {
                            components.insert(component.to_string(), text.to_string());
                        }
                        Err(why) => diagnostics.push(
                            source
                                .error(
                                    COMPONENT_VERSION,
                                    format!("\"{text}\" is not a valid {component} version: {why}"),
                                )
                                .at(value.span(), "invalid version")
                                .help(format!(
                                    "use the {component} image tag to release, e.g. \"2026.08.1\"; a different scheme needs `tag_pattern` in [components.{component}]"
                                )),
                        ),
                    },
                    None => {
                        let known: Vec<&str> = rules
                            .rules
                            .keys()
                            .map(String::as_str)
                            .chain(["ticket", "notes"])
                            .collect();
                        let help = match did_you_mean(component, known.iter().copied()) {
                            Some(guess) => format!("did you mean `{guess}`?"),
                            None => format!(
                                "a release names the components of stackrel.toml ({}) and optionally `ticket` and `notes`",
                                rules.rules.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        };
                        diagnostics.push(
                            source
                                .error(UNKNOWN_KEY, format!("unknown key `{component}`"))
                                .at(key.span(), "not a component or known key")
                                .help(help),
                        );
                    }
                },
                None => {
                    if let Err(why) = check_image_tag(text) {
                        diagnostics.push(
                            source
                                .error(COMPONENT_VERSION, format!("\"{text}\" is not a valid image tag: {why}"))
                                .at(value.span(), "invalid image tag")
                                .help("use the image tag to release, e.g. \"2026.08.1\""),
                        );
                    }
                }
            },
        }
    }
    if let Some(rules) = rules {
        for name in rules.rules.keys() {
            if !document.get_ref().keys().any(|k| k.get_ref() == name) {
                diagnostics.push(
                    source
                        .error(MISSING_COMPONENT, format!("missing component `{name}`"))
                        .at(0..0, format!("add `{name} = \"...\"` to this file"))
                        .help(format!(
                            "every release pins every component; add `{name} = \"<version>\"` (the current one if it does not change)"
                        )),
                );
            }
        }
    }
    let release = match (version, diagnostics.iter().any(Diagnostic::is_error)) {
        (Some(version), false) => Some(Release {
            version,
            path: source.path.clone(),
            components,
            ticket,
            notes,
        }),
        _ => None,
    };
    (release, diagnostics)
}

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
pub const WAIVE: &str = "stackrel::release::waive-ci";

/// The release-file key that waives CI gates.
pub const WAIVE_CI: &str = "waive_ci";
/// The name `waive_ci` uses for the stack's own CI gate.
pub const STACK: &str = "stack";

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
    /// The CI gates this release passes over: component names, or `stack`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waive_ci: Vec<String>,
}

impl Release {
    /// Whether the release waives the CI gate of `name` (a component, or `stack`).
    pub fn waives_ci(&self, name: &str) -> bool {
        self.waive_ci.iter().any(|w| w == name)
    }
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
    let version = file_version(source, &mut diagnostics);
    let Some(document) = parse_document(source, &mut diagnostics) else {
        return (None, diagnostics);
    };
    let mut fields = Fields {
        source,
        rules,
        diagnostics,
        components: BTreeMap::new(),
        ticket: None,
        notes: None,
        waive_ci: Vec::new(),
    };
    for (key, value) in document.get_ref().iter() {
        fields.entry(key, value);
    }
    fields.missing_components(document.get_ref());
    let Fields {
        diagnostics,
        components,
        ticket,
        notes,
        waive_ci,
        ..
    } = fields;
    let release = match (version, diagnostics.iter().any(Diagnostic::is_error)) {
        (Some(version), false) => Some(Release {
            version,
            path: source.path.clone(),
            components,
            ticket,
            notes,
            waive_ci,
        }),
        _ => None,
    };
    (release, diagnostics)
}

/// How to write a component's version: by its `tag_pattern` when it has one, else CalVer.
fn version_help(component: &str, tag_pattern: Option<&str>) -> String {
    match tag_pattern {
        Some(pattern) => format!(
            "use a {component} image tag matching its tag_pattern `{}` in [components.{component}]",
            crate::diagnostic::name(pattern)
        ),
        None => format!(
            "use the {component} image tag to release, e.g. \"2026.08.1\"; a different scheme needs `tag_pattern` in [components.{component}]"
        ),
    }
}

/// The stack version the file's name declares.
fn file_version(source: &Source, diagnostics: &mut Vec<Diagnostic>) -> Option<CalVer> {
    let message = match version_from_path(&source.path) {
        Ok(v) => return Some(v),
        Err(message) => message,
    };
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

/// The TOML document, or `None` (with the syntax errors) when it does not parse.
fn parse_document<'i>(
    source: &'i Source,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<toml::Spanned<DeTable<'i>>> {
    let (document, syntax_errors) = DeTable::parse_recoverable(&source.text);
    // Only the first syntax error: after it the parser's guesses cascade into noise.
    let Some(error) = syntax_errors.first() else {
        return Some(document);
    };
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
    None
}

/// A release file's keys as they are read, and what is wrong with them.
struct Fields<'a> {
    source: &'a Source,
    rules: Option<&'a ComponentRules>,
    diagnostics: Vec<Diagnostic>,
    components: BTreeMap<String, String>,
    ticket: Option<TicketRef>,
    notes: Option<String>,
    waive_ci: Vec<String>,
}

type Key<'i> = toml::Spanned<std::borrow::Cow<'i, str>>;
type Value<'i> = toml::Spanned<DeValue<'i>>;

impl Fields<'_> {
    fn entry(&mut self, key: &Key<'_>, value: &Value<'_>) {
        let name: &str = key.get_ref();
        if name == WAIVE_CI {
            self.waive(value);
            return;
        }
        let DeValue::String(text) = value.get_ref() else {
            self.not_a_string(name, value);
            return;
        };
        let text: &str = text;
        match name {
            "ticket" => self.ticket(text, value),
            "notes" => self.notes = Some(text.to_string()),
            component => self.component(key, component, text, value),
        }
    }

    fn not_a_string(&mut self, name: &str, value: &Value<'_>) {
        let hint = match value.get_ref() {
            DeValue::Float(f) => format!("{name} = \"{}\"", f.as_str()),
            DeValue::Integer(i) => format!("{name} = \"{}\"", i.as_str()),
            _ => format!("{name} = \"...\""),
        };
        self.diagnostics.push(
            self.source
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
    }

    fn ticket(&mut self, text: &str, value: &Value<'_>) {
        match text.parse::<TicketRef>() {
            Ok(t) => self.ticket = Some(t),
            Err(()) => self.diagnostics.push(
                self.source
                    .error(
                        TICKET,
                        format!("`ticket` must be `owner/repo#N`, not \"{text}\""),
                    )
                    .at(value.span(), "not owner/repo#N")
                    .help("name the GitHub issue like `m2ms/fragalysis-frontend#1523`"),
            ),
        }
    }

    fn component(&mut self, key: &Key<'_>, component: &str, text: &str, value: &Value<'_>) {
        let Some(rules) = self.rules else {
            if let Err(why) = check_image_tag(text) {
                self.diagnostics.push(
                    self.source
                        .error(
                            COMPONENT_VERSION,
                            format!("\"{text}\" is not a valid image tag: {why}"),
                        )
                        .at(value.span(), "invalid image tag")
                        .help("use the image tag to release, e.g. \"2026.08.1\""),
                );
            }
            return;
        };
        let Some(rule) = rules.rules.get(component) else {
            let help = self.unknown_key_help(component);
            self.diagnostics.push(
                self.source
                    .error(
                        UNKNOWN_KEY,
                        format!("unknown key `{}`", crate::diagnostic::name(component)),
                    )
                    .at(key.span(), "not a component or known key")
                    .help(help),
            );
            return;
        };
        match rule.check(text) {
            Ok(()) => {
                self.components
                    .insert(component.to_string(), text.to_string());
            }
            Err(why) => self.diagnostics.push(
                self.source
                    .error(
                        COMPONENT_VERSION,
                        format!("\"{text}\" is not a valid {component} version: {why}"),
                    )
                    .at(value.span(), "invalid version")
                    .help(version_help(component, rule.pattern())),
            ),
        }
    }

    fn unknown_key_help(&self, key: &str) -> String {
        let names: Vec<&str> = self
            .rules
            .map(|r| r.rules.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let known = names.iter().copied().chain(["ticket", "notes", WAIVE_CI]);
        match did_you_mean(key, known) {
            Some(guess) => format!("did you mean `{guess}`?"),
            None => format!(
                "a release names the components of stackrel.toml ({}) and optionally `ticket`, `notes` and `{WAIVE_CI}`",
                names.join(", ")
            ),
        }
    }

    /// `waive_ci = ["backend"]`: gates a person chose to pass over, visibly.
    fn waive(&mut self, value: &Value<'_>) {
        let DeValue::Array(items) = value.get_ref() else {
            self.diagnostics.push(
                self.source
                    .error(WRONG_TYPE, format!("`{WAIVE_CI}` must be a list of names, not {}", describe_value(value.get_ref())))
                    .at(value.span(), "expected a list")
                    .help(format!("write {WAIVE_CI} = [\"backend\"]: the components (or \"stack\") whose CI gate this release waives")),
            );
            return;
        };
        for item in items {
            self.waived(item);
        }
    }

    fn waived(&mut self, item: &Value<'_>) {
        let known: Vec<&str> = self.rules.map_or_else(Vec::new, |r| {
            r.rules.keys().map(String::as_str).chain([STACK]).collect()
        });
        let name = match item.get_ref() {
            DeValue::String(name) => name.to_string(),
            other => {
                let message = format!("`{WAIVE_CI}` lists names, not {}", describe_value(other));
                self.diagnostics.push(
                    self.source
                        .error(WRONG_TYPE, message)
                        .at(item.span(), "expected a quoted name")
                        .help("quote the component's name, e.g. \"backend\""),
                );
                return;
            }
        };
        if self.rules.is_some() && !known.contains(&name.as_str()) {
            let help = match did_you_mean(&name, known.iter().copied()) {
                Some(guess) => format!("did you mean \"{guess}\"?"),
                None => format!("name one of {}", known.join(", ")),
            };
            self.diagnostics.push(
                self.source
                    .error(WAIVE, format!("`{WAIVE_CI}` names \"{name}\", which is neither a component nor \"{STACK}\""))
                    .at(item.span(), "unknown name")
                    .help(help),
            );
            return;
        }
        if !self.waive_ci.contains(&name) {
            self.waive_ci.push(name);
        }
    }

    fn missing_components(&mut self, document: &DeTable<'_>) {
        let Some(rules) = self.rules else { return };
        for name in rules.rules.keys() {
            if !document.keys().any(|k| k.get_ref() == name) {
                self.diagnostics.push(
                    self.source
                        .error(MISSING_COMPONENT, format!("missing component `{name}`"))
                        .at(0..0, format!("add `{name} = \"...\"` to this file"))
                        .help(format!(
                            "every release pins every component; add `{name} = \"<version>\"` (the current one if it does not change)"
                        )),
                );
            }
        }
    }
}

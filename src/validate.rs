//! Judges a desired-state tree — `stackrel.toml` plus `releases/*.toml` — as a whole and returns
//! either a usable `DesiredState` or every problem in it. It is pure: callers hand it the files
//! (from the working tree or from a commit), so the same rules serve `validate`, the pull-request
//! check, the planner and the daemon, and tests need no disk.

use crate::component_tag::TagRule;
use crate::config::{Config, DeployKind, RESERVED_NAMES, RepoLocation, placeholders};
use crate::diagnostic::{Diagnostic, Source};
use crate::release::{ComponentRules, RELEASES_DIR, Release, TOML_SYNTAX, parse_release};
use crate::toml_schema::SchemaChecker;
use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;
use std::sync::OnceLock;
use toml::de::{DeTable, DeValue};

pub const CONFIG_FILE: &str = "stackrel.toml";
/// Release files and the config are small; anything larger is a mistake (a binary committed by
/// accident) and is refused before parsing.
pub const MAX_FILE_BYTES: usize = 64 * 1024;

pub const CONFIG_MISSING: &str = "stackrel::config::missing";
pub const FILE_TOO_LARGE: &str = "stackrel::file::too-large";
pub const FILE_NOT_UTF8: &str = "stackrel::file::not-utf8";
pub const NOT_A_RELEASE_FILE: &str = "stackrel::releases::not-a-release-file";
pub const REPO: &str = "stackrel::config::repo";
pub const COMPONENT_NAME: &str = "stackrel::config::component-name";
pub const NO_COMPONENTS: &str = "stackrel::config::no-components";
pub const DUPLICATE_PIN: &str = "stackrel::config::duplicate-pin";
pub const PIN_NAME: &str = "stackrel::config::pin-name";
pub const TAG_PATTERN: &str = "stackrel::config::tag-pattern";
pub const PLACEHOLDER: &str = "stackrel::config::placeholder";
pub const CRON: &str = "stackrel::config::cron";
pub const CRON_WEEKDAY_NUMBER: &str = "stackrel::config::cron-weekday-number";
pub const DEPLOY: &str = "stackrel::config::deploy";
pub const VERIFY: &str = "stackrel::config::verify";
pub const PATH: &str = "stackrel::config::path";

/// One file of the desired-state tree, path relative to its root with `/` separators.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The outcome of validation: what could be read, and every problem found.
#[derive(Debug, Clone, Default)]
pub struct DesiredState {
    pub config: Option<Config>,
    /// Valid releases, oldest first.
    pub releases: Vec<Release>,
    pub diagnostics: Vec<Diagnostic>,
}

impl DesiredState {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Valid means nothing may converge otherwise: a desired state with any error is refused whole.
    pub fn is_valid(&self) -> bool {
        self.errors() == 0 && self.config.is_some()
    }

    /// The release that is desired: the highest version.
    pub fn newest(&self) -> Option<&Release> {
        self.releases.last()
    }
}

/// Whether a path belongs to the desired state (the rest of the repository is none of our
/// business).
pub fn is_desired_state_path(path: &str) -> bool {
    path == CONFIG_FILE || path.starts_with(&format!("{RELEASES_DIR}/"))
}

/// Validates a desired-state tree.
pub fn validate(files: &[InputFile]) -> DesiredState {
    let mut state = DesiredState::default();
    let mut release_sources = Vec::new();
    let mut config_source = None;
    for file in files {
        let Some(source) = readable_source(file, &mut state.diagnostics) else {
            continue;
        };
        if file.path == CONFIG_FILE {
            config_source = Some(source);
        } else if let Some(name) = file.path.strip_prefix(&format!("{RELEASES_DIR}/")) {
            if name.starts_with('.') && !name.contains('/') {
                // `.gitkeep` and editor droppings are not releases and not mistakes.
                continue;
            }
            if name.contains('/') || !name.ends_with(".toml") {
                state.diagnostics.push(
                    Diagnostic::error(
                        NOT_A_RELEASE_FILE,
                        format!("`{}` is not a release file: `{RELEASES_DIR}/` holds only `<version>.toml` files", file.path),
                    )
                    .in_file(&source)
                    .help(format!("move it out of `{RELEASES_DIR}/`, or name it `{RELEASES_DIR}/YYYY.MM.N.toml` if it is a release")),
                );
                continue;
            }
            release_sources.push(source);
        }
    }

    let rules = match &config_source {
        Some(source) => {
            let (config, diagnostics) = parse_config(source);
            state.diagnostics.extend(diagnostics);
            let rules = config.as_ref().map(component_rules);
            state.config = config;
            rules
        }
        None => {
            state.diagnostics.push(
                Diagnostic::error(CONFIG_MISSING, format!("no `{CONFIG_FILE}` in the desired-state repository"))
                    .help(format!("create `{CONFIG_FILE}` at the repository root; `stackrel demo` writes a working example")),
            );
            None
        }
    };

    for source in &release_sources {
        let (release, diagnostics) = parse_release(source, rules.as_ref());
        state.diagnostics.extend(diagnostics);
        state.releases.extend(release);
    }
    state.releases.sort_by_key(|r| r.version);
    state
        .diagnostics
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    state
}

/// Size and encoding come first: a file that fails them is not parsed at all.
fn readable_source(file: &InputFile, diagnostics: &mut Vec<Diagnostic>) -> Option<Source> {
    if !is_desired_state_path(&file.path) {
        return None;
    }
    if file.bytes.len() > MAX_FILE_BYTES {
        diagnostics.push(
            Diagnostic::error(
                FILE_TOO_LARGE,
                format!("`{}` is {} bytes; desired-state files are at most {} KiB", file.path, file.bytes.len(), MAX_FILE_BYTES / 1024),
            )
            .in_path(&file.path)
            .help("a release file is a few lines of TOML: check that the right file was committed"),
        );
        return None;
    }
    match std::str::from_utf8(&file.bytes) {
        Ok(text) => Some(Source::new(file.path.clone(), text)),
        Err(e) => {
            let valid = &file.bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let column = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            diagnostics.push(
                Diagnostic::error(
                    FILE_NOT_UTF8,
                    format!("`{}` is not UTF-8 text (invalid byte at offset {})", file.path, e.valid_up_to()),
                )
                .in_path(&file.path)
                .at_position(line, column)
                .help("save the file as UTF-8"),
            );
            None
        }
    }
}

fn component_rules(config: &Config) -> ComponentRules {
    let rules = config
        .components
        .iter()
        .map(|(name, component)| {
            // An invalid pattern is reported on the config; judge versions by image-tag shape only
            // rather than pile a second error on every release.
            let rule = TagRule::from_pattern(component.tag_pattern.as_deref())
                .unwrap_or_else(|_| TagRule::Pattern(regex::Regex::new(".*").expect("static regex")));
            (name.clone(), rule)
        })
        .collect();
    ComponentRules { rules }
}

fn config_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default())
}

/// Parses `stackrel.toml`: syntax, then shape against the schema, then meaning.
pub fn parse_config(source: &Source) -> (Option<Config>, Vec<Diagnostic>) {
    let (document, syntax_errors) = DeTable::parse_recoverable(&source.text);
    if !syntax_errors.is_empty() {
        let diagnostics = syntax_errors
            .into_iter()
            .map(|e| {
                source
                    .error(TOML_SYNTAX, format!("invalid TOML: {}", e.message().trim()))
                    .at(e.span().unwrap_or(0..0), "here")
                    .help("fix the TOML syntax")
            })
            .collect();
        return (None, diagnostics);
    }
    let mut checker = SchemaChecker::new(config_schema(), source);
    checker.check_root(&document);
    let mut diagnostics = checker.diagnostics;
    if !diagnostics.is_empty() {
        return (None, diagnostics);
    }
    let config: Config = match toml::from_str(&source.text) {
        Ok(config) => config,
        Err(e) => {
            // The schema check should have caught it; report rather than panic if it did not.
            diagnostics.push(
                source
                    .error(crate::toml_schema::WRONG_TYPE, e.message().to_string())
                    .at(e.span().unwrap_or(0..0), "here"),
            );
            return (None, diagnostics);
        }
    };
    let spans = Spans { doc: document.get_ref() };
    check_config_meaning(source, &config, &spans, &mut diagnostics);
    (Some(config), diagnostics)
}

/// Looks up where a key or its value sits, for diagnostics about meaning.
struct Spans<'a, 'i> {
    doc: &'a DeTable<'i>,
}

impl Spans<'_, '_> {
    fn entry(&self, path: &[&str]) -> Option<(Range<usize>, &toml::Spanned<DeValue<'_>>)> {
        let (last, parents) = path.split_last()?;
        let mut table = self.doc;
        for part in parents {
            match table.get(*part)?.get_ref() {
                DeValue::Table(t) => table = t,
                _ => return None,
            }
        }
        let (key, value) = table.get_key_value(*last)?;
        Some((key.span(), value))
    }

    fn value(&self, path: &[&str]) -> Range<usize> {
        self.entry(path).map_or(0..0, |(_, v)| v.span())
    }

    fn key(&self, path: &[&str]) -> Range<usize> {
        self.entry(path).map_or(0..0, |(k, _)| k)
    }

    fn item(&self, path: &[&str], index: usize) -> Range<usize> {
        match self.entry(path).map(|(_, v)| v.get_ref()) {
            Some(DeValue::Array(items)) => items.get(index).map_or(0..0, |v| v.span()),
            _ => self.value(path),
        }
    }
}

fn is_component_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn is_env_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_config_meaning(source: &Source, config: &Config, spans: &Spans, out: &mut Vec<Diagnostic>) {
    let mut check_repo = |path: &[&str], repo: &str| {
        if let Err(why) = RepoLocation::parse(repo) {
            out.push(
                source
                    .error(REPO, format!("`{}` = \"{repo}\" is not a repository: {why}", path.join(".")))
                    .at(spans.value(path), "neither owner/name nor a local path")
                    .help("write `owner/name` for GitHub (e.g. \"xchem/fragalysis-stack\") or `./path` for a local git repository"),
            );
        }
    };
    check_repo(&["stack", "repo"], &config.stack.repo);
    for (name, component) in &config.components {
        check_repo(&["components", name, "repo"], &component.repo);
    }

    let workflow = &config.stack.workflow;
    if workflow.starts_with('/') || workflow.split('/').any(|p| p == ".." || p.is_empty()) {
        out.push(
            source
                .error(PATH, format!("`stack.workflow` = \"{workflow}\" must be a path inside the stack repository"))
                .at(spans.value(&["stack", "workflow"]), "not a repository-relative path")
                .help("write it relative to the stack repository root, e.g. \".github/workflows/build-main.yaml\""),
        );
    }

    if config.components.is_empty() {
        out.push(
            source
                .error(NO_COMPONENTS, "no components: a release needs at least one `[components.<name>]`")
                .at(spans.value(&["components"]), "empty")
                .help("add a table such as [components.backend] with repo, branch and pin"),
        );
    }
    let mut pins: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, component) in &config.components {
        if RESERVED_NAMES.contains(&name.as_str()) || !is_component_name(name) {
            let why = if RESERVED_NAMES.contains(&name.as_str()) {
                format!("`{name}` is reserved: it is already a release-file key or template placeholder")
            } else {
                format!("`{name}` is not a valid component name")
            };
            out.push(
                source
                    .error(COMPONENT_NAME, why)
                    .at(spans.key(&["components", name]), "choose another name")
                    .help(format!(
                        "component names are lowercase letters, digits, `-` and `_`, starting with a letter, and not one of {}",
                        RESERVED_NAMES.join(", ")
                    )),
            );
        }
        if !is_env_key(&component.pin) {
            out.push(
                source
                    .error(PIN_NAME, format!("`{}` is not a workflow env key", component.pin))
                    .at(spans.value(&["components", name, "pin"]), "not an env key")
                    .help("a pin is a key under the workflow's top-level `env:`, e.g. \"BE_IMAGE_TAG\""),
            );
        } else if let Some(first) = pins.insert(component.pin.as_str(), name.as_str()) {
            out.push(
                source
                    .error(DUPLICATE_PIN, format!("components `{first}` and `{name}` both pin `{}`", component.pin))
                    .at(spans.value(&["components", name, "pin"]), "pinned twice")
                    .help("each component needs its own env key in the workflow file"),
            );
        }
        if let Some(pattern) = &component.tag_pattern
            && let Err(e) = TagRule::from_pattern(Some(pattern))
        {
            let detail = e.to_string();
            let detail = detail.lines().last().unwrap_or_default().trim().to_string();
            out.push(
                source
                    .error(TAG_PATTERN, format!("`tag_pattern` of `{name}` is not a valid regular expression: {detail}"))
                    .at(spans.value(&["components", name, "tag_pattern"]), "invalid regex")
                    .help("write a Rust `regex` pattern in a literal string ('...'), e.g. '\\d{4}\\.\\d{2}\\.\\d+'"),
            );
        }
    }

    let known: Vec<&str> = config.components.keys().map(String::as_str).chain(["version"]).collect();
    let mut check_template = |path: &[&str], index: Option<usize>, template: &str| {
        for name in placeholders(template) {
            if !known.contains(&name) {
                let span = match index {
                    Some(i) => spans.item(path, i),
                    None => spans.value(path),
                };
                out.push(
                    source
                        .error(PLACEHOLDER, format!("unknown placeholder `{{{name}}}` in `{}`", path.join(".")))
                        .at(span, "unknown placeholder")
                        .help(format!(
                            "placeholders are {}",
                            known.iter().map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", ")
                        )),
                );
            }
        }
    };
    check_template(&["stack", "commit_message"], None, &config.stack.commit_message);
    if let Some(command) = &config.deploy.command {
        for (i, arg) in command.iter().enumerate() {
            check_template(&["deploy", "command"], Some(i), arg);
        }
    }
    if let Some(verify) = &config.verify {
        for (key, expected) in &verify.expect {
            check_template(&["verify", "expect", key], None, expected);
        }
        for (i, arg) in verify.command.iter().flatten().enumerate() {
            check_template(&["verify", "command"], Some(i), arg);
        }
    }

    check_deploy(source, config, spans, out);
    check_verify(source, config, spans, out);

    if let Some(resync) = &config.daemon.resync {
        check_cron(source, resync, spans.value(&["daemon", "resync"]), "daemon.resync", out);
    }
    for (i, window) in config.daemon.windows.iter().enumerate() {
        check_cron(source, window, spans.item(&["daemon", "windows"], i), "daemon.windows", out);
    }
}

fn check_deploy(source: &Source, config: &Config, spans: &Spans, out: &mut Vec<Diagnostic>) {
    let deploy = &config.deploy;
    let field_span = |field: &str| spans.value(&["deploy", field]);
    let kind_span = spans.value(&["deploy", "kind"]);
    let mut need = |present: bool, field: &str, example: &str| {
        if !present {
            out.push(
                source
                    .error(DEPLOY, format!("`deploy.{field}` is required when kind = \"{}\"", kind_name(deploy.kind)))
                    .at(kind_span.clone(), format!("needs `{field}`"))
                    .help(format!("add {field} = {example} to [deploy]")),
            );
        }
    };
    match deploy.kind {
        DeployKind::Awx => {
            need(deploy.url.is_some(), "url", "\"https://awx.example.org\"");
            need(deploy.template.is_some(), "template", "\"Production Fragalysis Stack\"");
            need(deploy.variable.is_some(), "variable", "\"stack_image_tag\"");
        }
        DeployKind::Command => {
            need(
                deploy.command.as_ref().is_some_and(|c| !c.is_empty()),
                "command",
                "[\"./deploy.sh\", \"{version}\"]",
            );
        }
        DeployKind::None => {}
    }
    let awx_only = [
        ("url", deploy.url.is_some()),
        ("api_prefix", deploy.api_prefix.is_some()),
        ("template", deploy.template.is_some()),
        ("organization", deploy.organization.is_some()),
        ("variable", deploy.variable.is_some()),
    ];
    for (field, present) in awx_only {
        if present && deploy.kind != DeployKind::Awx {
            out.push(
                source
                    .warning(DEPLOY, format!("`deploy.{field}` is only used when kind = \"awx\""))
                    .at(field_span(field), "ignored")
                    .help("remove it, or set kind = \"awx\""),
            );
        }
    }
    if deploy.command.is_some() && deploy.kind != DeployKind::Command {
        out.push(
            source
                .warning(DEPLOY, "`deploy.command` is only used when kind = \"command\"")
                .at(field_span("command"), "ignored")
                .help("remove it, or set kind = \"command\""),
        );
    }
    if let Some(url) = &deploy.url {
        check_url(source, url, field_span("url"), "deploy.url", out);
    }
}

fn check_verify(source: &Source, config: &Config, spans: &Spans, out: &mut Vec<Diagnostic>) {
    let Some(verify) = &config.verify else { return };
    match (&verify.url, &verify.command) {
        (Some(_), Some(_)) => out.push(
            source
                .error(VERIFY, "[verify] has both `url` and `command`; use one")
                .at(spans.value(&["verify", "command"]), "one too many")
                .help("keep `url` with `expect` to check an HTTP endpoint, or `command` to run a check"),
        ),
        (None, None) => out.push(
            source
                .error(VERIFY, "[verify] needs `url` (with `expect`) or `command`")
                .at(spans.key(&["verify"]), "nothing to verify with")
                .help("add url = \"https://…/version/\" and expect = { \"version.stack\" = \"{version}\" }, or remove [verify]"),
        ),
        (Some(url), None) => {
            check_url(source, url, spans.value(&["verify", "url"]), "verify.url", out);
            if verify.expect.is_empty() {
                out.push(
                    source
                        .error(VERIFY, "[verify] `url` needs `expect`: which JSON fields must show which versions")
                        .at(spans.value(&["verify", "url"]), "nothing expected of it")
                        .help("add expect = { \"version.stack\" = \"{version}\" }"),
                );
            }
        }
        (None, Some(command)) if command.is_empty() => out.push(
            source
                .error(VERIFY, "`verify.command` is empty")
                .at(spans.value(&["verify", "command"]), "empty argv")
                .help("give the program and its arguments, e.g. [\"./check-live.sh\", \"{version}\"]"),
        ),
        (None, Some(_)) => {}
    }
}

fn check_url(source: &Source, url: &str, span: Range<usize>, field: &str, out: &mut Vec<Diagnostic>) {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
        out.push(
            source
                .error(PATH, format!("`{field}` = \"{url}\" is not an http(s) URL"))
                .at(span, "not a URL")
                .help("write the full URL, starting with https://"),
        );
    }
}

fn kind_name(kind: DeployKind) -> &'static str {
    match kind {
        DeployKind::Awx => "awx",
        DeployKind::Command => "command",
        DeployKind::None => "none",
    }
}

/// Checks a cron expression the way the `cron` crate will read it, and warns about numeric
/// weekdays, which that crate counts from Sunday = 1 (so `1-5` means Sunday to Thursday).
fn check_cron(source: &Source, expression: &str, span: Range<usize>, field: &str, out: &mut Vec<Diagnostic>) {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let shorthand = expression.trim_start().starts_with('@');
    if !shorthand && !(fields.len() == 6 || fields.len() == 7) {
        out.push(
            source
                .error(CRON, format!("`{field}` = \"{expression}\" has {} fields; stackrel's cron needs six", fields.len()))
                .at(span, "not a six-field cron expression")
                .help("write `sec min hour day-of-month month weekday`, e.g. \"0 */5 * * * *\" (every five minutes) or \"* * 9-16 * * Mon-Thu\""),
        );
        return;
    }
    if let Err(e) = cron::Schedule::from_str(expression) {
        out.push(
            source
                .error(CRON, format!("`{field}` = \"{expression}\" is not a valid cron expression: {e}"))
                .at(span, "invalid cron")
                .help("fields are `sec min hour day-of-month month weekday`; weekdays by name (Mon-Fri) are clearest"),
        );
        return;
    }
    if let Some(weekday) = fields.get(5)
        && weekday.bytes().any(|b| b.is_ascii_digit())
    {
        out.push(
            source
                .warning(CRON_WEEKDAY_NUMBER, format!("`{field}` uses a numeric weekday `{weekday}`: here 1 is Sunday, so 1-5 means Sunday to Thursday"))
                .at(span, "numeric weekday")
                .help("use weekday names, e.g. Mon-Fri"),
        );
    }
}

//! Judges a desired-state tree — `stackrel.toml` plus `releases/*.toml` — as a whole and returns
//! either a usable `DesiredState` or every problem in it. It is pure: callers hand it the files
//! (from the working tree or from a commit), so the same rules serve `validate`, the pull-request
//! check, the planner and the daemon, and tests need no disk.

use crate::component_tag::TagRule;
use crate::config::{Config, ConfigFile, FieldPlace, RESERVED_NAMES, RepoLocation, placeholders};
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
pub const TIMEZONE: &str = "stackrel::config::timezone";
pub const DURATION: &str = "stackrel::config::duration";
pub const IMAGE: &str = "stackrel::config::image";
pub const TICKET: &str = "stackrel::config::ticket";

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
    path == CONFIG_FILE
        || path
            .strip_prefix(RELEASES_DIR)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Validates a desired-state tree.
pub fn validate(files: &[InputFile]) -> DesiredState {
    let mut state = DesiredState::default();
    let mut release_sources = Vec::new();
    let mut config_source = None;
    for file in files {
        let release_name = file
            .path
            .strip_prefix(RELEASES_DIR)
            .and_then(|rest| rest.strip_prefix('/'));
        // The name is judged before the bytes: a stray binary is misplaced, not mis-encoded.
        if let Some(name) = release_name {
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
                    .in_path(&file.path)
                    .help(format!("move it out of `{RELEASES_DIR}/`, or name it `{RELEASES_DIR}/YYYY.MM.N.toml` if it is a release")),
                );
                continue;
            }
        }
        let Some(source) = readable_source(file, &mut state.diagnostics) else {
            continue;
        };
        if file.path == CONFIG_FILE {
            config_source = Some(source);
        } else if release_name.is_some() {
            release_sources.push(source);
        }
    }

    let rules = match &config_source {
        Some(source) => {
            let (config, rules, diagnostics) = parse_config(source);
            state.diagnostics.extend(diagnostics);
            state.config = config;
            rules
        }
        // Present but refused unread (too large, not UTF-8): reported as such, not as missing.
        None if files.iter().any(|f| f.path == CONFIG_FILE) => None,
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
    state.diagnostics = crate::diagnostic::limit_per_file(std::mem::take(&mut state.diagnostics));
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
                format!(
                    "`{}` is {} bytes; desired-state files are at most {} KiB",
                    file.path,
                    file.bytes.len(),
                    MAX_FILE_BYTES / 1024
                ),
            )
            .in_path(&file.path)
            .help("a release file is a few lines of TOML: check that the right file was committed"),
        );
        return None;
    }
    match std::str::from_utf8(&file.bytes) {
        Ok(text) => Some(Source::new(file.path.clone(), text)),
        Err(e) => {
            // Counted like every other diagnostic's position: in characters, not bytes.
            let valid = std::str::from_utf8(&file.bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = Source::new(file.path.clone(), valid).line_col(valid.len());
            diagnostics.push(
                Diagnostic::error(
                    FILE_NOT_UTF8,
                    format!(
                        "`{}` is not UTF-8 text (invalid byte at offset {})",
                        file.path,
                        e.valid_up_to()
                    ),
                )
                .in_path(&file.path)
                .at_position(line, column)
                .help("save the file as UTF-8"),
            );
            None
        }
    }
}

fn config_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA
        .get_or_init(|| serde_json::to_value(schemars::schema_for!(ConfigFile)).unwrap_or_default())
}

/// Validates and resolves `stackrel.toml` text on its own (tests, tools): the config, or every
/// error found in it.
pub fn config_from_str(text: &str) -> Result<Config, Vec<Diagnostic>> {
    let (config, _, diagnostics) = parse_config(&Source::new(CONFIG_FILE.to_string(), text));
    match config {
        Some(config) if !diagnostics.iter().any(Diagnostic::is_error) => Ok(config),
        _ => Err(diagnostics),
    }
}

/// Parses `stackrel.toml`: syntax, then shape against the schema, then meaning. The checks of
/// meaning read the document leniently (every value that has the right type), so a typo in one
/// table does not hide a bad cron expression in another. Also returns the component rules the
/// releases are checked against, read the same lenient way.
pub fn parse_config(source: &Source) -> (Option<Config>, Option<ComponentRules>, Vec<Diagnostic>) {
    let (document, syntax_errors) = DeTable::parse_recoverable(&source.text);
    // Only the first syntax error: after it the parser's guesses cascade into noise.
    if let Some(e) = syntax_errors.first() {
        let diagnostic = source
            .error(TOML_SYNTAX, format!("invalid TOML: {}", e.message().trim()))
            .at(e.span().unwrap_or(0..0), "here")
            .help("fix the TOML syntax");
        return (None, None, vec![diagnostic]);
    }
    let mut checker = SchemaChecker::new(config_schema(), source);
    checker.check_root(&document);
    let mut diagnostics = checker.diagnostics;
    let view = View {
        doc: document.get_ref(),
    };
    check_config_meaning(source, &view, &mut diagnostics);
    let rules = component_rules(&view);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, rules, diagnostics);
    }
    match toml::from_str::<ConfigFile>(&source.text) {
        Ok(file) => match Config::resolve(&file) {
            Ok(mut config) => {
                locate_component_fields(source, &view, &mut config);
                (Some(config), rules, diagnostics)
            }
            Err(why) => {
                // Validation should have refused whatever resolving could not use.
                diagnostics.push(
                    source
                        .error(crate::toml_schema::WRONG_TYPE, why)
                        .at(0..0, "here")
                        .help("fix this field; `stackrel schema` describes every field"),
                );
                (None, rules, diagnostics)
            }
        },
        Err(e) => {
            // The schema check should have caught it; report rather than panic if it did not.
            diagnostics.push(
                source
                    .error(crate::toml_schema::WRONG_TYPE, e.message().to_string())
                    .at(e.span().unwrap_or(0..0), "here")
                    .help("give this field a value of the type it takes; `stackrel schema` prints them all"),
            );
            (None, rules, diagnostics)
        }
    }
}

/// Records where each component's `repo` and `branch` values are written, for the diagnostics
/// about what they name that only a look at the repository can find (a branch that is not there).
fn locate_component_fields(source: &Source, view: &View, config: &mut Config) {
    let place = |name: &str, field: &str| {
        let span = view.entry(&["components", name, field])?.1.span();
        let (line, column) = source.line_col(span.start);
        Some(FieldPlace { span, line, column })
    };
    for (name, component) in &mut config.components {
        component.places.repo = place(name, "repo");
        component.places.branch = place(name, "branch");
    }
}

/// The component rules of a (possibly partly broken) config; `None` without a components table.
fn component_rules(view: &View) -> Option<ComponentRules> {
    let names = view.keys(&["components"])?;
    let rules = names
        .into_iter()
        .filter(|name| !RESERVED_NAMES.contains(name))
        .map(|name| {
            // An invalid pattern is reported on the config; judge versions by image-tag shape only
            // rather than pile a second error on every release.
            let pattern = view.str(&["components", name, "tag_pattern"]);
            let rule = TagRule::from_pattern(pattern).unwrap_or(TagRule::ImageTagOnly);
            (name.to_string(), rule)
        })
        .collect();
    Some(ComponentRules { rules })
}

/// Reads values and their places out of the parsed document, tolerating wrong types (those are
/// the schema check's to report).
struct View<'a, 'i> {
    doc: &'a DeTable<'i>,
}

impl View<'_, '_> {
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

    fn str(&self, path: &[&str]) -> Option<&str> {
        match self.entry(path)?.1.get_ref() {
            DeValue::String(s) => Some(s),
            _ => None,
        }
    }

    fn strs(&self, path: &[&str]) -> Option<Vec<&str>> {
        match self.entry(path)?.1.get_ref() {
            DeValue::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| match v.get_ref() {
                        DeValue::String(s) => Some(&**s),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The string items of an array with their indexes in it: items of another type are skipped
    /// without renumbering the rest, so each string can still be pointed at with `item`.
    fn indexed_strs(&self, path: &[&str]) -> Vec<(usize, &str)> {
        match self.entry(path).map(|(_, v)| v.get_ref()) {
            Some(DeValue::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match v.get_ref() {
                    DeValue::String(s) => Some((i, &**s)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn keys(&self, path: &[&str]) -> Option<Vec<&str>> {
        match self.entry(path)?.1.get_ref() {
            DeValue::Table(t) => Some(t.keys().map(|k| &**k.get_ref()).collect()),
            _ => None,
        }
    }

    fn has(&self, path: &[&str]) -> bool {
        self.entry(path).is_some()
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
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_config_meaning(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    check_repos(source, view, out);
    check_workflow_path(source, view, out);
    check_components(source, view, out);
    check_templates(source, view, out);
    check_deploy(source, view, out);
    check_verify(source, view, out);
    check_daemon(source, view, out);
    check_timeouts(source, view, out);
    check_images(source, view, out);
    check_ticket(source, view, out);
    if let Some(pattern) = view.str(&["stack", "production_tags"]) {
        check_pattern(source, view, &["stack", "production_tags"], pattern, out);
    }
}

fn check_repos(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    let components = view.keys(&["components"]).unwrap_or_default();
    let mut check_repo = |path: &[&str]| {
        let Some(repo) = view.str(path) else { return };
        if let Err(why) = RepoLocation::parse(repo) {
            out.push(
                source
                    .error(REPO, format!("`{}` = \"{repo}\" is not a repository: {why}", path.join(".")))
                    .at(view.value(path), "neither owner/name nor a local path")
                    .help("write `owner/name` for GitHub (e.g. \"xchem/fragalysis-stack\") or `./path` for a local git repository"),
            );
        }
    };
    check_repo(&["stack", "repo"]);
    for name in &components {
        check_repo(&["components", name, "repo"]);
    }
    for name in &components {
        check_tickets(source, view, name, out);
    }
}

/// `tickets` names the GitHub repository a component's bare `#N` references point at.
fn check_tickets(source: &Source, view: &View, name: &str, out: &mut Vec<Diagnostic>) {
    let path = ["components", name, "tickets"];
    let Some(tickets) = view.str(&path) else {
        return;
    };
    if !matches!(
        RepoLocation::parse(tickets),
        Ok(RepoLocation::GitHub { .. })
    ) {
        out.push(
            source
                .error(REPO, format!("`components.{name}.tickets` = \"{tickets}\" is not a GitHub repository"))
                .at(view.value(&path), "not owner/name")
                .help("write the repository whose issues `#N` means, e.g. \"m2ms/fragalysis-frontend\""),
        );
    }
}

fn check_workflow_path(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    if let Some(workflow) = view.str(&["stack", "workflow"])
        && (workflow.starts_with('/') || workflow.split('/').any(|p| p == ".." || p.is_empty()))
    {
        out.push(
            source
                .error(PATH, format!("`stack.workflow` = \"{workflow}\" must be a path inside the stack repository"))
                .at(view.value(&["stack", "workflow"]), "not a repository-relative path")
                .help("write it relative to the stack repository root, e.g. \".github/workflows/build-main.yaml\""),
        );
    }
}

fn check_components(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    let components = view.keys(&["components"]).unwrap_or_default();
    if view.has(&["components"]) && components.is_empty() {
        out.push(
            source
                .error(
                    NO_COMPONENTS,
                    "no components: a release needs at least one `[components.<name>]`",
                )
                .at(view.value(&["components"]), "empty")
                .help("add a table such as [components.backend] with repo, branch and pin"),
        );
    }
    let mut pins: BTreeMap<&str, &str> = BTreeMap::new();
    for name in &components {
        check_component_name(source, view, name, out);
        if let Some(pin) = view.str(&["components", name, "pin"]) {
            check_pin(source, view, name, pin, &mut pins, out);
        }
        if let Some(pattern) = view.str(&["components", name, "tag_pattern"]) {
            check_pattern(
                source,
                view,
                &["components", name, "tag_pattern"],
                pattern,
                out,
            );
        }
    }
}

fn check_component_name(source: &Source, view: &View, name: &str, out: &mut Vec<Diagnostic>) {
    if !RESERVED_NAMES.contains(&name) && is_component_name(name) {
        return;
    }
    let why = if RESERVED_NAMES.contains(&name) {
        format!("`{name}` is reserved: it is already a release-file key or template placeholder")
    } else {
        format!("`{name}` is not a valid component name")
    };
    out.push(
        source
            .error(COMPONENT_NAME, why)
            .at(view.key(&["components", name]), "choose another name")
            .help(format!(
                "component names are lowercase letters, digits, `-` and `_`, starting with a letter, and not one of {}",
                RESERVED_NAMES.join(", ")
            )),
    );
}

fn check_pin<'a>(
    source: &Source,
    view: &View,
    name: &'a str,
    pin: &'a str,
    pins: &mut BTreeMap<&'a str, &'a str>,
    out: &mut Vec<Diagnostic>,
) {
    if !is_env_key(pin) {
        out.push(
            source
                .error(PIN_NAME, format!("`{pin}` is not a workflow env key"))
                .at(view.value(&["components", name, "pin"]), "not an env key")
                .help(
                    "a pin is a key under the workflow's top-level `env:`, e.g. \"BE_IMAGE_TAG\"",
                ),
        );
    } else if let Some(first) = pins.insert(pin, name) {
        out.push(
            source
                .error(
                    DUPLICATE_PIN,
                    format!("components `{first}` and `{name}` both pin `{pin}`"),
                )
                .at(view.value(&["components", name, "pin"]), "pinned twice")
                .help("each component needs its own env key in the workflow file"),
        );
    }
}

/// A `tag_pattern` or `production_tags` regular expression.
fn check_pattern(
    source: &Source,
    view: &View,
    path: &[&str],
    pattern: &str,
    out: &mut Vec<Diagnostic>,
) {
    let Err(e) = TagRule::from_pattern(Some(pattern)) else {
        return;
    };
    let detail = e.to_string();
    let detail = detail.lines().last().unwrap_or_default().trim().to_string();
    let field = match path {
        ["components", name, _] => format!("`tag_pattern` of `{name}`"),
        _ => format!("`{}`", path.join(".")),
    };
    out.push(
        source
            .error(TAG_PATTERN, format!("{field} is not a valid regular expression: {detail}"))
            .at(view.value(path), "invalid regex")
            .help("write a Rust `regex` pattern in a literal string ('...'), e.g. '\\d{4}\\.\\d{2}\\.\\d+'"),
    );
}

fn check_templates(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    let components = view.keys(&["components"]).unwrap_or_default();
    let known: Vec<&str> = components.iter().copied().chain(["version"]).collect();
    let mut check_template = |path: &[&str], index: Option<usize>, template: &str| {
        for name in placeholders(template) {
            if known.contains(&name) {
                continue;
            }
            let span = match index {
                Some(i) => view.item(path, i),
                None => view.value(path),
            };
            let diagnostic = source
                .error(
                    PLACEHOLDER,
                    format!("unknown placeholder `{{{name}}}` in `{}`", path.join(".")),
                )
                .at(span, "unknown placeholder");
            out.push(
                match crate::diagnostic::did_you_mean(name, known.iter().copied()) {
                    Some(guess) => diagnostic.help(format!("did you mean `{{{guess}}}`?")),
                    None => diagnostic.help(format!(
                        "placeholders are {}",
                        known
                            .iter()
                            .map(|k| format!("{{{k}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                },
            );
        }
    };
    if let Some(message) = view.str(&["stack", "commit_message"]) {
        check_template(&["stack", "commit_message"], None, message);
    }
    for (i, arg) in view.indexed_strs(&["deploy", "command"]) {
        check_template(&["deploy", "command"], Some(i), arg);
    }
    for key in view.keys(&["verify", "expect"]).unwrap_or_default() {
        if let Some(expected) = view.str(&["verify", "expect", key]) {
            check_template(&["verify", "expect", key], None, expected);
        }
    }
    for (i, arg) in view.indexed_strs(&["verify", "command"]) {
        check_template(&["verify", "command"], Some(i), arg);
    }
}

fn check_daemon(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    if let Some(resync) = view.str(&["daemon", "resync"]) {
        check_cron(
            source,
            resync,
            view.value(&["daemon", "resync"]),
            "daemon.resync",
            out,
        );
    }
    for (i, window) in view.indexed_strs(&["daemon", "windows"]) {
        check_cron(
            source,
            window,
            view.item(&["daemon", "windows"], i),
            &format!("daemon.windows[{i}]"),
            out,
        );
    }
    if let Some(zone) = view.str(&["daemon", "timezone"])
        && zone.parse::<chrono_tz::Tz>().is_err()
    {
        let help = match crate::diagnostic::did_you_mean(
            zone,
            chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()),
        ) {
            Some(guess) => format!("did you mean \"{guess}\"?"),
            None => "use an IANA time zone name such as \"Europe/London\" or \"UTC\"".to_string(),
        };
        out.push(
            source
                .error(
                    TIMEZONE,
                    format!("`daemon.timezone` = \"{zone}\" is not an IANA time zone"),
                )
                .at(view.value(&["daemon", "timezone"]), "unknown time zone")
                .help(help),
        );
    }
}

/// `stack.FIELD`, then `components.NAME.FIELD` for each component.
fn stack_and_component_paths<'v>(view: &'v View, field: &'v str) -> Vec<Vec<&'v str>> {
    let components = view.keys(&["components"]).unwrap_or_default();
    std::iter::once(vec!["stack", field])
        .chain(
            components
                .into_iter()
                .map(|name| vec!["components", name, field]),
        )
        .collect()
}

/// `ci_timeout` of the stack and each component: a duration such as "45m".
fn check_timeouts(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    for path in stack_and_component_paths(view, "ci_timeout") {
        let Some(text) = view.str(&path) else {
            continue;
        };
        if let Err(why) = crate::config::parse_duration(text) {
            out.push(
                source
                    .error(
                        DURATION,
                        format!("`{}` = \"{text}\" is not a duration: {why}", path.join(".")),
                    )
                    .at(view.value(&path), "not a duration")
                    .help("write a number with a unit, e.g. \"45m\", \"1h 30m\" or \"90s\""),
            );
        }
    }
    check_timeout_seconds(source, view, out);
}

/// `[deploy]` and `[verify]` `timeout_seconds`: at most a week.
fn check_timeout_seconds(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    let max = crate::config::MAX_TIMEOUT_SECONDS;
    for (section, code) in [("deploy", DEPLOY), ("verify", VERIFY)] {
        let path = [section, "timeout_seconds"];
        let Some((_, value)) = view.entry(&path) else {
            continue;
        };
        let DeValue::Integer(n) = value.get_ref() else {
            continue;
        };
        let Some(seconds) = n.as_str().parse::<u64>().ok().filter(|&s| s > max) else {
            continue;
        };
        out.push(
            source
                .error(
                    code,
                    format!(
                        "`{section}.timeout_seconds` = {seconds} is more than a week ({max} seconds)"
                    ),
                )
                .at(view.value(&path), "too long")
                .help("write how many seconds it may really take, e.g. 1800 for half an hour"),
        );
    }
}

/// `image` of the stack and each component: a repository reference without a tag.
fn check_images(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    for path in stack_and_component_paths(view, "image") {
        let Some(text) = view.str(&path) else {
            continue;
        };
        if let Err(why) = crate::registry::ImageRef::parse(text) {
            out.push(
                source
                    .error(
                        IMAGE,
                        format!(
                            "`{}` = \"{text}\" is not an image reference: {why}",
                            path.join(".")
                        ),
                    )
                    .at(view.value(&path), "not an image reference")
                    .help(why.help()),
            );
        }
    }
}

/// Whether `login` can be a GitHub user or organisation name: letters, digits and single
/// hyphens, not at either end, at most 39 characters.
fn is_github_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 39
        && !login.starts_with('-')
        && !login.ends_with('-')
        && !login.contains("--")
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `[ticket]`: where tickets live must be a GitHub repository, `create` needs it, assignees and
/// the board's owner must be GitHub logins, and the board needs a number and a column.
fn check_ticket(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    let repo = view.str(&["ticket", "repo"]);
    if let Some(repo) = repo
        && !RepoLocation::parse(repo).is_ok_and(|r| r.is_github())
    {
        out.push(
            source
                .error(TICKET, format!("`ticket.repo` = \"{repo}\" is not a GitHub repository"))
                .at(view.value(&["ticket", "repo"]), "tickets are GitHub issues")
                .help("write the `owner/name` whose issues hold the release tickets, e.g. \"m2ms/fragalysis-frontend\""),
        );
    }
    if matches!(
        view.entry(&["ticket", "create"]).map(|(_, v)| v.get_ref()),
        Some(DeValue::Boolean(true))
    ) && repo.is_none()
    {
        out.push(
            source
                .error(
                    TICKET,
                    "`ticket.create` = true, but there is no `ticket.repo` to create tickets in",
                )
                .at(view.value(&["ticket", "create"]), "needs `repo`")
                .help("add repo = \"owner/name\" to [ticket], e.g. \"m2ms/fragalysis-frontend\""),
        );
    }
    for (index, login) in view.indexed_strs(&["ticket", "assignees"]) {
        if !is_github_login(login) {
            out.push(
                source
                    .error(
                        TICKET,
                        format!("`ticket.assignees` has \"{login}\", which is not a GitHub login"),
                    )
                    .at(view.item(&["ticket", "assignees"], index), "not a login")
                    .help("write GitHub user names without `@`, e.g. [\"alanbchristie\"]"),
            );
        }
    }
    check_ticket_board(source, view, out);
}

fn check_ticket_board(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    let path = |field| ["ticket", "project", field];
    if let Some(owner) = view.str(&path("owner"))
        && !is_github_login(owner)
    {
        out.push(
            source
                .error(
                    TICKET,
                    format!(
                        "`ticket.project.owner` = \"{owner}\" is not a GitHub organisation or user"
                    ),
                )
                .at(view.value(&path("owner")), "not a login")
                .help("write the owner in the board's URL: github.com/orgs/OWNER/projects/N"),
        );
    }
    if let Some((_, value)) = view.entry(&path("number"))
        && matches!(value.get_ref(), DeValue::Integer(n) if n.as_str() == "0")
    {
        out.push(
            source
                .error(
                    TICKET,
                    "`ticket.project.number` = 0: project numbers start at 1",
                )
                .at(view.value(&path("number")), "no such project")
                .help("write the number in the board's URL: github.com/orgs/OWNER/projects/NUMBER"),
        );
    }
    for field in ["field", "column"] {
        if view.str(&path(field)).is_some_and(|v| v.trim().is_empty()) {
            out.push(
                source
                    .error(TICKET, format!("`ticket.project.{field}` is empty"))
                    .at(view.value(&path(field)), "empty")
                    .help(if field == "field" {
                        "name the board's single-select field, e.g. \"Status\" (or leave it out: \"Status\" is the default)"
                    } else {
                        "name the column (an option of the field) the ticket goes in, e.g. \"push to production\""
                    }),
            );
        }
    }
}

fn check_deploy(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    let kind = view.str(&["deploy", "kind"]).unwrap_or("none");
    let kind_span = view.value(&["deploy", "kind"]);
    let has = |field: &str| view.has(&["deploy", field]);
    let mut need = |present: bool, field: &str, example: &str| {
        if !present {
            out.push(
                source
                    .error(
                        DEPLOY,
                        format!("`deploy.{field}` is required when kind = \"{kind}\""),
                    )
                    .at(kind_span.clone(), format!("needs `{field}`"))
                    .help(format!("add {field} = {example} to [deploy]")),
            );
        }
    };
    match kind {
        "awx" => {
            need(has("url"), "url", "\"https://awx.example.org\"");
            need(
                has("template"),
                "template",
                "\"Production Fragalysis Stack\"",
            );
            need(has("variable"), "variable", "\"stack_image_tag\"");
        }
        "command" => need(
            view.strs(&["deploy", "command"])
                .is_some_and(|c| !c.is_empty()),
            "command",
            "[\"./deploy.sh\", \"{version}\"]",
        ),
        _ => {}
    }
    let ignored = |field: &str| match field {
        "command" => kind != "command",
        _ => kind != "awx",
    };
    for field in [
        "url",
        "api_prefix",
        "template",
        "organization",
        "variable",
        "launched_by",
        "command",
    ] {
        if has(field) && ignored(field) && matches!(kind, "awx" | "command" | "none") {
            let wanted = if field == "command" { "command" } else { "awx" };
            out.push(
                source
                    .warning(
                        DEPLOY,
                        format!("`deploy.{field}` is only used when kind = \"{wanted}\""),
                    )
                    .at(view.value(&["deploy", field]), "ignored")
                    .help(format!("remove it, or set kind = \"{wanted}\"")),
            );
        }
    }
    if let Some(url) = view.str(&["deploy", "url"]) {
        check_url(
            source,
            url,
            view.value(&["deploy", "url"]),
            "deploy.url",
            out,
        );
    }
}

fn check_verify(source: &Source, view: &View, out: &mut Vec<Diagnostic>) {
    if !view.has(&["verify"]) {
        return;
    }
    let url = view.str(&["verify", "url"]);
    let command = view.strs(&["verify", "command"]);
    match (url, command) {
        (Some(_), Some(_)) => out.push(
            source
                .error(VERIFY, "[verify] has both `url` and `command`; use one")
                .at(view.value(&["verify", "command"]), "one too many")
                .help("keep `url` with `expect` to check an HTTP endpoint, or `command` to run a check"),
        ),
        (None, None) => out.push(
            source
                .error(VERIFY, "[verify] needs `url` (with `expect`) or `command`")
                .at(view.key(&["verify"]), "nothing to verify with")
                .help("add url = \"https://…/version/\" and expect = { \"version.stack\" = \"{version}\" }, or remove [verify]"),
        ),
        (Some(url), None) => {
            check_url(source, url, view.value(&["verify", "url"]), "verify.url", out);
            if view.keys(&["verify", "expect"]).is_none_or(|k| k.is_empty()) {
                out.push(
                    source
                        .error(VERIFY, "[verify] `url` needs `expect`: which JSON fields must show which versions")
                        .at(view.value(&["verify", "url"]), "nothing expected of it")
                        .help("add expect = { \"version.stack\" = \"{version}\" }"),
                );
            }
        }
        (None, Some(command)) if command.is_empty() => out.push(
            source
                .error(VERIFY, "`verify.command` is empty")
                .at(view.value(&["verify", "command"]), "empty argv")
                .help("give the program and its arguments, e.g. [\"./check-live.sh\", \"{version}\"]"),
        ),
        (None, Some(_)) => {}
    }
}

fn check_url(
    source: &Source,
    url: &str,
    span: Range<usize>,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
        out.push(
            source
                .error(PATH, format!("`{field}` = \"{url}\" is not an http(s) URL"))
                .at(span, "not a URL")
                .help("write the full URL, starting with https://"),
        );
    }
}

/// Whether a weekday field names days by number (`1-5`, `2,4`), not counting step sizes
/// (`Mon-Fri/2`, `*/2`), which are not days.
fn numeric_weekday(field: &str) -> bool {
    field.split(',').any(|part| {
        let days = part.split('/').next().unwrap_or_default();
        days.bytes().any(|b| b.is_ascii_digit())
    })
}

/// Checks a cron expression the way the `cron` crate will read it, and warns about numeric
/// weekdays, which that crate counts from Sunday = 1 (so `1-5` means Sunday to Thursday).
fn check_cron(
    source: &Source,
    expression: &str,
    span: Range<usize>,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let shorthand = expression.trim_start().starts_with('@');
    if !(shorthand || fields.len() == 6 || fields.len() == 7) {
        out.push(
            source
                .error(CRON, format!("`{field}` = \"{expression}\" has {} fields; stackrel's cron needs six", fields.len()))
                .at(span, "not a six-field cron expression")
                .help("write `sec min hour day-of-month month weekday`, e.g. \"0 */5 * * * *\" (every five minutes) or \"* * 9-16 * * Mon-Thu\""),
        );
        return;
    }
    if let Err(e) = cron::Schedule::from_str(expression) {
        // The cron crate's message spans several lines (the input, a caret, the reason); the last
        // line says what is wrong, and our label already points at the place.
        let reason = e.to_string();
        let reason = reason
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .trim()
            .to_string();
        out.push(
            source
                .error(CRON, format!("`{field}` = \"{expression}\" is not a valid cron expression: {reason}"))
                .at(span, "invalid cron")
                .help("fields are `sec min hour day-of-month month weekday`; weekdays by name (Mon-Fri) are clearest"),
        );
        return;
    }
    if let Some(weekday) = fields.get(5)
        && numeric_weekday(weekday)
    {
        out.push(
            source
                .warning(CRON_WEEKDAY_NUMBER, format!("`{field}` uses a numeric weekday `{weekday}`: here weekdays count from Sunday = 1, so 2 is Monday and 6 is Friday"))
                .at(span, "numeric weekday")
                .help("use weekday names, e.g. Mon-Fri"),
        );
    }
}

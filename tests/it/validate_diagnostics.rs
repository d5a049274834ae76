//! Specifies every diagnostic `validate` can report on a desired-state tree: for each one, a
//! small in-memory tree — a valid base config and releases with exactly one thing broken — and
//! the diagnostic it must produce: its stable code, severity, the line and column a person is
//! sent to (1-based, counted in characters), and a help line saying how to fix it.
//!
//! The base config's line numbers are listed next to `BASE_CONFIG`; edits keep the lines of
//! everything they do not touch where they were, so each expected position can be read off it.

use stackrel::check;
use stackrel::diagnostic::{Diagnostic, Severity};
use stackrel::release::{
    self, COMPONENT_VERSION, FILE_NAME, MISSING_COMPONENT, TICKET, TOML_SYNTAX,
};
use stackrel::toml_schema::{self, MISSING_KEY, NOT_ALLOWED};
use stackrel::validate::{
    COMPONENT_NAME, CONFIG_MISSING, CRON, CRON_WEEKDAY_NUMBER, DEPLOY, DUPLICATE_PIN, DesiredState,
    FILE_NOT_UTF8, FILE_TOO_LARGE, InputFile, MAX_FILE_BYTES, NO_COMPONENTS, NOT_A_RELEASE_FILE,
    PATH, PIN_NAME, PLACEHOLDER, REPO, TAG_PATTERN, VERIFY, validate,
};

/// A valid `stackrel.toml`. Line numbers, for reading the expected positions:
///
/// ```text
///  1 [stack]                                  19 [deploy]
///  2 repo = "xchem/fragalysis-stack"          20 kind = "awx"
///  3 branch = "master"                        21 url = "https://awx.example.org"
///  4 workflow = ".github/workflows/…"         22 template = "Production Fragalysis Stack"
///  5 commit_message = "build: Use of …"       23 variable = "stack_image_tag"
///  6 ci = "build main"                        24
///  7                                          25 [verify]
///  8 [components.backend]                     26 url = "https://fragalysis.example.org/version/"
///  9 repo = "xchem/fragalysis-backend"        27 expect = { "version.stack" = …, "version.backend" = … }
/// 10 branch = "production"                    28
/// 11 pin = "BE_IMAGE_TAG"                     29 [ticket]
/// 12 ci = "build production"                  30 label = "fragalysis-stack"
/// 13                                          31
/// 14 [components.frontend]                    32 [daemon]
/// 15 repo = "xchem/fragalysis-frontend"       33 resync = "0 */5 * * * *"
/// 16 branch = "production"                    34 windows = ["* * 9-16 * * Mon-Thu"]
/// 17 pin = "FE_IMAGE_TAG"                     35 suspended = false
/// 18
/// ```
const BASE_CONFIG: &str = r#"[stack]
repo = "xchem/fragalysis-stack"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: Use of b/e {backend} f/e {frontend}"
ci = "build main"

[components.backend]
repo = "xchem/fragalysis-backend"
branch = "production"
pin = "BE_IMAGE_TAG"
ci = "build production"

[components.frontend]
repo = "xchem/fragalysis-frontend"
branch = "production"
pin = "FE_IMAGE_TAG"

[deploy]
kind = "awx"
url = "https://awx.example.org"
template = "Production Fragalysis Stack"
variable = "stack_image_tag"

[verify]
url = "https://fragalysis.example.org/version/"
expect = { "version.stack" = "xchem:{version}", "version.backend" = "xchem:{backend}" }

[ticket]
label = "fragalysis-stack"

[daemon]
resync = "0 */5 * * * *"
windows = ["* * 9-16 * * Mon-Thu"]
suspended = false
"#;

const OLDER: &str = "releases/2026.08.2.toml";
const OLDER_RELEASE: &str = "backend = \"2026.07.1\"\nfrontend = \"2026.08.2\"\n";

/// The newest release; lines: 1 backend, 2 frontend, 3 ticket, 4 notes.
const NEWEST: &str = "releases/2026.08.3.toml";
const NEWEST_RELEASE: &str = r#"backend = "2026.08.1"
frontend = "2026.08.2"
ticket = "m2ms/fragalysis-frontend#1523"
notes = "Fixes the RHS loader"
"#;

/// A desired-state tree under construction.
#[derive(Clone)]
struct Tree(Vec<InputFile>);

impl Tree {
    fn base() -> Tree {
        Tree(vec![
            file("stackrel.toml", BASE_CONFIG),
            file(OLDER, OLDER_RELEASE),
            file(NEWEST, NEWEST_RELEASE),
        ])
    }

    /// Adds a file, or replaces the one at `path`.
    fn with(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Tree {
        self.0.retain(|f| f.path != path);
        self.0.push(InputFile {
            path: path.into(),
            bytes: bytes.as_ref().to_vec(),
        });
        self
    }

    fn without(mut self, path: &str) -> Tree {
        let before = self.0.len();
        self.0.retain(|f| f.path != path);
        assert_eq!(self.0.len(), before - 1, "no file {path} to remove");
        self
    }

    /// Replaces the one occurrence of `old` in the file at `path` with `new`.
    fn edit(self, path: &str, old: &str, new: &str) -> Tree {
        let text = self.text(path);
        assert_eq!(
            text.matches(old).count(),
            1,
            "`{old}` must occur exactly once in {path}"
        );
        let edited = text.replace(old, new);
        self.with(path, edited)
    }

    fn edit_config(self, old: &str, new: &str) -> Tree {
        self.edit("stackrel.toml", old, new)
    }

    fn append_config(self, extra: &str) -> Tree {
        let text = self.text("stackrel.toml") + extra;
        self.with("stackrel.toml", text)
    }

    fn text(&self, path: &str) -> String {
        let file = self
            .0
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("no file {path}"));
        String::from_utf8(file.bytes.clone()).expect("test files are UTF-8")
    }

    fn validate(&self) -> DesiredState {
        validate(&self.0)
    }
}

fn file(path: &str, text: &str) -> InputFile {
    InputFile {
        path: path.into(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn listing(state: &DesiredState) -> String {
    state
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "  {} {:?} at {} — {}\n",
                d.code,
                d.severity,
                d.location(),
                d.message
            )
        })
        .collect()
}

/// The tree's single diagnostic, which must have `code`.
fn the_only(state: &DesiredState, code: &str) -> Diagnostic {
    assert_eq!(
        state.diagnostics.len(),
        1,
        "expected only {code}, got:\n{}",
        listing(state)
    );
    let d = state.diagnostics[0].clone();
    assert_eq!(d.code, code, "got:\n{}", listing(state));
    d
}

/// The one diagnostic with `code` among others.
fn the_one(state: &DesiredState, code: &str) -> Diagnostic {
    let found: Vec<&Diagnostic> = state
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {code}, got:\n{}",
        listing(state)
    );
    found[0].clone()
}

fn codes(state: &DesiredState) -> Vec<&'static str> {
    state.diagnostics.iter().map(|d| d.code).collect()
}

/// Asserts where a diagnostic points and that it says how to fix the problem.
#[track_caller]
fn assert_at(d: &Diagnostic, severity: Severity, file: &str, line: usize, column: usize) {
    assert_eq!(d.severity, severity, "severity of {d:?}");
    assert_eq!(d.file.as_deref(), Some(file), "file of {d:?}");
    assert_eq!(
        (d.line, d.column),
        (Some(line), Some(column)),
        "line and column of {d:?}"
    );
    assert_has_help(d);
}

#[track_caller]
fn assert_unpositioned(d: &Diagnostic, severity: Severity, file: Option<&str>) {
    assert_eq!(d.severity, severity, "severity of {d:?}");
    assert_eq!(d.file.as_deref(), file, "file of {d:?}");
    assert_eq!(
        (d.line, d.column),
        (None, None),
        "{d:?} has no place in a text to point at"
    );
    assert_has_help(d);
}

#[track_caller]
fn assert_has_help(d: &Diagnostic) {
    assert!(
        d.help.as_deref().is_some_and(|h| !h.trim().is_empty()),
        "{} has no help: {d:?}",
        d.code
    );
    assert!(!d.message.trim().is_empty(), "{d:?} has no message");
}

#[track_caller]
fn assert_help(d: &Diagnostic, expected: &str) {
    assert_eq!(d.help.as_deref(), Some(expected), "help of {d:?}");
}

#[track_caller]
fn assert_help_contains(d: &Diagnostic, fragment: &str) {
    let help = d.help.as_deref().unwrap_or_default();
    assert!(
        help.contains(fragment),
        "help of {} should contain {fragment:?}: {help:?}",
        d.code
    );
}

#[track_caller]
fn assert_message_contains(d: &Diagnostic, fragment: &str) {
    assert!(
        d.message.contains(fragment),
        "message of {} should contain {fragment:?}: {:?}",
        d.code,
        d.message
    );
}

// ---------------------------------------------------------------------------------------------
// A valid tree
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_tree_has_no_diagnostics_and_is_valid() {
    let state = Tree::base().validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
    assert!(state.is_valid());
    assert!(state.config.is_some());
    assert_eq!(state.releases.len(), 2);
    let newest = state.newest().expect("a newest release");
    assert_eq!(newest.version.to_string(), "2026.08.3");
    assert_eq!(newest.components["backend"], "2026.08.1");
    assert_eq!(
        newest.ticket.as_ref().map(ToString::to_string).as_deref(),
        Some("m2ms/fragalysis-frontend#1523")
    );
    assert_eq!(newest.notes.as_deref(), Some("Fixes the RHS loader"));
}

#[test]
fn newest_is_the_highest_version_numerically_not_in_string_order() {
    let state = Tree::base()
        .without(OLDER)
        .without(NEWEST)
        .with("releases/2023.06.9.toml", OLDER_RELEASE)
        .with("releases/2023.06.10.toml", OLDER_RELEASE)
        .with("releases/2023.06.2.toml", OLDER_RELEASE)
        .validate();
    assert!(state.is_valid(), "{}", listing(&state));
    assert_eq!(
        state.newest().map(|r| r.version.to_string()).as_deref(),
        Some("2023.06.10")
    );
    let order: Vec<String> = state
        .releases
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(
        order,
        ["2023.06.2", "2023.06.9", "2023.06.10"],
        "releases are oldest first"
    );
}

#[test]
fn gitkeep_in_releases_is_ignored() {
    let state = Tree::base().with("releases/.gitkeep", "").validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
    assert_eq!(state.releases.len(), 2);
}

#[test]
fn binary_dotfile_in_releases_is_ignored_like_gitkeep() {
    // macOS leaves `.DS_Store` (binary) in directories a person has opened in Finder.
    let state = Tree::base()
        .with("releases/.DS_Store", b"\0\0\0\x01Bud1\xff\xfe\0\0")
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
    assert!(state.is_valid());
}

#[test]
fn files_outside_config_and_releases_are_not_judged() {
    let state = Tree::base()
        .with("README.md", "not toml = = at all")
        .with(".github/workflows/check.yaml", b"\xff\xfe binary")
        .with("releases.toml", "[[[")
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
}

#[test]
fn config_with_crlf_line_endings_is_valid() {
    let state = Tree::base()
        .with("stackrel.toml", BASE_CONFIG.replace('\n', "\r\n"))
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
}

#[test]
fn local_repository_paths_are_accepted_as_repos() {
    let state = Tree::base()
        .edit_config("repo = \"xchem/fragalysis-stack\"", "repo = \"./stack\"")
        .edit_config(
            "repo = \"xchem/fragalysis-backend\"",
            "repo = \"file:///srv/git/backend\"",
        )
        .edit_config(
            "repo = \"xchem/fragalysis-frontend\"",
            "repo = \"../frontend\"",
        )
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
}

// ---------------------------------------------------------------------------------------------
// TOML syntax
// ---------------------------------------------------------------------------------------------

#[test]
fn toml_syntax_error_in_config_is_reported_at_the_offending_character() {
    let state = Tree::base()
        .edit_config("branch = \"master\"", "branch = = \"master\"")
        .validate();
    assert!(state.config.is_none());
    assert!(!state.is_valid());
    assert!(
        codes(&state).iter().all(|c| *c == TOML_SYNTAX),
        "{}",
        listing(&state)
    );
    // `branch = = "master"`: the second `=` is at column 10 of line 3.
    assert_at(
        &state.diagnostics[0],
        Severity::Error,
        "stackrel.toml",
        3,
        10,
    );
    assert_message_contains(&state.diagnostics[0], "invalid TOML");
}

#[test]
fn unterminated_string_in_config_is_reported_at_the_end_of_its_line() {
    let state = Tree::base()
        .edit_config("branch = \"master\"", "branch = \"master")
        .validate();
    let d = the_only(&state, TOML_SYNTAX);
    // `branch = "master` is 16 characters; the closing quote is missing at column 17.
    assert_at(&d, Severity::Error, "stackrel.toml", 3, 17);
}

#[test]
fn toml_syntax_error_in_a_release_is_reported_at_its_line_and_column() {
    let state = Tree::base()
        .edit(NEWEST, "frontend = \"2026.08.2\"", "frontend = \"2026.08.2")
        .validate();
    let d = the_only(&state, TOML_SYNTAX);
    assert_at(&d, Severity::Error, NEWEST, 2, 22);
    assert_eq!(
        state.releases.len(),
        1,
        "the broken release is not among the releases"
    );
}

#[test]
fn config_syntax_error_still_checks_releases_for_image_tag_shape() {
    let state = Tree::base()
        .edit_config("[deploy]", "[deploy")
        .edit(NEWEST, "backend = \"2026.08.1\"", "backend = \"2026.08 1\"")
        .validate();
    let d = the_one(&state, COMPONENT_VERSION);
    assert_at(&d, Severity::Error, NEWEST, 1, 11);
    assert_message_contains(&d, "not a valid image tag");
}

// ---------------------------------------------------------------------------------------------
// Unknown keys
// ---------------------------------------------------------------------------------------------

#[test]
fn misspelt_config_key_is_unknown_with_did_you_mean() {
    let state = Tree::base().edit_config("label = ", "lable = ").validate();
    let d = the_only(&state, toml_schema::UNKNOWN_KEY);
    assert_at(&d, Severity::Error, "stackrel.toml", 30, 1);
    assert_message_contains(&d, "`ticket.lable`");
    assert_help(&d, "did you mean `label`?");
}

#[test]
fn unknown_config_key_without_a_close_match_lists_the_known_keys() {
    let state = Tree::base().append_config("colour = \"red\"\n").validate();
    let d = the_only(&state, toml_schema::UNKNOWN_KEY);
    // Appended after `suspended = false` (line 35), so it belongs to [daemon].
    assert_at(&d, Severity::Error, "stackrel.toml", 36, 1);
    assert_help_contains(&d, "known keys in [daemon]: ");
    assert_help_contains(&d, "resync");
}

#[test]
fn misspelt_component_in_a_release_is_unknown_with_did_you_mean_and_the_component_missing() {
    let state = Tree::base()
        .edit(NEWEST, "frontend = ", "fronted = ")
        .validate();
    let unknown = the_one(&state, release::UNKNOWN_KEY);
    assert_at(&unknown, Severity::Error, NEWEST, 2, 1);
    assert_help(&unknown, "did you mean `frontend`?");
    let missing = the_one(&state, MISSING_COMPONENT);
    assert_at(&missing, Severity::Error, NEWEST, 1, 1);
    assert_eq!(state.diagnostics.len(), 2, "{}", listing(&state));
}

#[test]
fn misspelt_ticket_key_in_a_release_is_unknown_with_did_you_mean() {
    let state = Tree::base()
        .edit(NEWEST, "ticket = ", "tiket = ")
        .validate();
    let d = the_only(&state, release::UNKNOWN_KEY);
    assert_at(&d, Severity::Error, NEWEST, 3, 1);
    assert_help(&d, "did you mean `ticket`?");
}

#[test]
fn unknown_release_key_without_a_close_match_lists_the_components() {
    let state = Tree::base()
        .edit(NEWEST, "notes = ", "database = ")
        .validate();
    let d = the_only(&state, release::UNKNOWN_KEY);
    assert_at(&d, Severity::Error, NEWEST, 4, 1);
    assert_help_contains(&d, "(backend, frontend)");
}

// ---------------------------------------------------------------------------------------------
// Missing keys
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_stack_branch_is_reported_at_the_stack_table_header() {
    let state = Tree::base()
        .edit_config("branch = \"master\"", "# no branch")
        .validate();
    let d = the_only(&state, MISSING_KEY);
    assert_at(&d, Severity::Error, "stackrel.toml", 1, 1);
    assert_message_contains(&d, "missing required key `branch` in [stack]");
    assert_help_contains(&d, "add `branch`");
    assert!(state.config.is_none());
}

#[test]
fn missing_component_pin_is_reported_at_the_component_table_header() {
    let state = Tree::base()
        .edit_config("pin = \"FE_IMAGE_TAG\"", "# no pin")
        .validate();
    let d = the_only(&state, MISSING_KEY);
    assert_at(&d, Severity::Error, "stackrel.toml", 14, 1);
    assert_message_contains(&d, "missing required key `pin` in [components.frontend]");
}

#[test]
fn config_without_a_stack_table_is_missing_it_at_the_top_of_the_file() {
    let config = BASE_CONFIG
        .split_once("\n\n")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let state = Tree::base().with("stackrel.toml", config).validate();
    let d = the_only(&state, MISSING_KEY);
    assert_at(&d, Severity::Error, "stackrel.toml", 1, 1);
    assert_message_contains(&d, "`stack`");
}

#[test]
fn release_without_a_component_is_missing_it() {
    let state = Tree::base()
        .edit(NEWEST, "frontend = \"2026.08.2\"\n", "")
        .validate();
    let d = the_only(&state, MISSING_COMPONENT);
    assert_at(&d, Severity::Error, NEWEST, 1, 1);
    assert_message_contains(&d, "missing component `frontend`");
    assert_help_contains(&d, "frontend = \"<version>\"");
    assert_eq!(
        state.newest().map(|r| r.version.to_string()).as_deref(),
        Some("2026.08.2")
    );
}

// ---------------------------------------------------------------------------------------------
// Wrong types and values not allowed
// ---------------------------------------------------------------------------------------------

#[test]
fn float_component_version_is_a_wrong_type_at_its_column() {
    let state = Tree::base()
        .edit(NEWEST, "frontend = \"2026.08.2\"", "frontend = 2024.10")
        .validate();
    let d = the_only(&state, release::WRONG_TYPE);
    assert_at(&d, Severity::Error, NEWEST, 2, 12);
    assert_message_contains(&d, "the number 2024.10");
    assert_help(&d, "quote the value: frontend = \"2024.10\"");
}

#[test]
fn integer_stack_branch_is_a_wrong_type_at_its_column() {
    let state = Tree::base()
        .edit_config("branch = \"master\"", "branch = 3")
        .validate();
    let d = the_only(&state, toml_schema::WRONG_TYPE);
    assert_at(&d, Severity::Error, "stackrel.toml", 3, 10);
    assert_message_contains(&d, "`stack.branch` must be a string, not the integer 3");
    assert_help_contains(&d, "branch = \"...\"");
}

#[test]
fn array_in_place_of_a_component_table_is_a_wrong_type() {
    let state = Tree::base()
        .edit_config("[components.frontend]", "[[components.frontend]]")
        .validate();
    let d = the_one(&state, toml_schema::WRONG_TYPE);
    assert_eq!(d.line, Some(14), "{d:?}");
    assert_message_contains(&d, "must be a table");
    assert_has_help(&d);
}

#[test]
fn negative_timeout_is_not_allowed_at_its_value() {
    let state = Tree::base()
        .edit_config(
            "variable = \"stack_image_tag\"",
            "variable = \"stack_image_tag\"\ntimeout_seconds = -5",
        )
        .validate();
    let d = the_only(&state, NOT_ALLOWED);
    // Line 24 is the inserted `timeout_seconds = -5`.
    assert_at(&d, Severity::Error, "stackrel.toml", 24, 19);
    assert_message_contains(&d, "at least 0");
}

#[test]
fn timeout_beyond_the_integer_range_is_refused_at_its_value() {
    let state = Tree::base()
        .edit_config(
            "variable = \"stack_image_tag\"",
            "variable = \"stack_image_tag\"\ntimeout_seconds = 99999999999999999999",
        )
        .validate();
    assert!(state.config.is_none());
    let d = the_only(&state, toml_schema::WRONG_TYPE);
    assert_at(&d, Severity::Error, "stackrel.toml", 24, 19);
}

// ---------------------------------------------------------------------------------------------
// Release file names
// ---------------------------------------------------------------------------------------------

#[test]
fn single_digit_month_file_name_suggests_the_zero_padded_name() {
    let state = Tree::base()
        .with("releases/2023.6.2.toml", OLDER_RELEASE)
        .validate();
    let d = the_only(&state, FILE_NAME);
    assert_at(&d, Severity::Error, "releases/2023.6.2.toml", 1, 1);
    assert_help(&d, "rename the file to `releases/2023.06.2.toml`");
    assert_eq!(state.releases.len(), 2, "a misnamed file is not a release");
}

#[test]
fn month_thirteen_file_name_suggests_no_name_but_the_scheme() {
    let state = Tree::base()
        .with("releases/2023.13.1.toml", OLDER_RELEASE)
        .validate();
    let d = the_only(&state, FILE_NAME);
    assert_at(&d, Severity::Error, "releases/2023.13.1.toml", 1, 1);
    assert_message_contains(&d, "month");
    assert!(
        !d.help
            .as_deref()
            .unwrap_or_default()
            .contains("rename the file to"),
        "{d:?}"
    );
    assert_help_contains(&d, "releases/YYYY.MM.N.toml");
}

#[test]
fn v_prefixed_file_name_suggests_the_bare_version() {
    let state = Tree::base()
        .with("releases/v2023.06.2.toml", OLDER_RELEASE)
        .validate();
    let d = the_only(&state, FILE_NAME);
    assert_at(&d, Severity::Error, "releases/v2023.06.2.toml", 1, 1);
    assert_help(&d, "rename the file to `releases/2023.06.2.toml`");
}

// ---------------------------------------------------------------------------------------------
// Component versions
// ---------------------------------------------------------------------------------------------

#[test]
fn component_version_outside_the_default_rule_is_refused_at_its_value() {
    let state = Tree::base()
        .edit(NEWEST, "backend = \"2026.08.1\"", "backend = \"2.0.60\"")
        .validate();
    let d = the_only(&state, COMPONENT_VERSION);
    assert_at(&d, Severity::Error, NEWEST, 1, 11);
    assert_message_contains(&d, "\"2.0.60\" is not a valid backend version");
    assert_help_contains(&d, "tag_pattern");
}

#[test]
fn hotfix_suffix_is_accepted_by_the_default_rule() {
    let state = Tree::base()
        .edit(
            NEWEST,
            "backend = \"2026.08.1\"",
            "backend = \"2024.11.1-1\"",
        )
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
}

#[test]
fn component_version_failing_its_tag_pattern_is_refused_naming_the_pattern() {
    let state = Tree::base()
        .edit_config(
            "ci = \"build production\"",
            "tag_pattern = '\\d{4}\\.\\d{2}\\.\\d+'",
        )
        .edit(
            NEWEST,
            "backend = \"2026.08.1\"",
            "backend = \"2026.08.1-1\"",
        )
        .validate();
    let d = the_only(&state, COMPONENT_VERSION);
    assert_at(&d, Severity::Error, NEWEST, 1, 11);
    assert_message_contains(&d, "tag_pattern `\\d{4}\\.\\d{2}\\.\\d+`");
    // The pattern is set: the help points at it rather than suggesting one.
    assert_help_contains(&d, "matching its tag_pattern `\\d{4}\\.\\d{2}\\.\\d+`");
    assert!(
        !d.help.as_deref().unwrap().contains("needs `tag_pattern`"),
        "{d:?}"
    );
}

#[test]
fn tag_pattern_admits_versions_the_default_rule_refuses() {
    let state = Tree::base()
        .edit_config(
            "ci = \"build production\"",
            "tag_pattern = '\\d+\\.\\d+\\.\\d+'",
        )
        .edit(NEWEST, "backend = \"2026.08.1\"", "backend = \"2.0.60\"")
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
}

#[test]
fn tag_pattern_must_match_the_whole_version() {
    let state = Tree::base()
        .edit_config(
            "ci = \"build production\"",
            "tag_pattern = '\\d{4}\\.\\d{2}\\.\\d+'",
        )
        .edit(
            NEWEST,
            "backend = \"2026.08.1\"",
            "backend = \"x2026.08.1\"",
        )
        .validate();
    the_only(&state, COMPONENT_VERSION);
}

#[test]
fn tag_pattern_cannot_escape_its_anchoring_with_an_unbalanced_group() {
    // Wrapped naively as `^(?:…)$`, `\d+)|(.*` would become `^(?:\d+)|(.*)$`, which matches
    // anything; a pattern that is not a regular expression on its own must be refused.
    let state = Tree::base()
        .edit_config("ci = \"build production\"", "tag_pattern = '\\d+)|(.*'")
        .edit(NEWEST, "backend = \"2026.08.1\"", "backend = \"latest\"")
        .validate();
    let d = the_one(&state, TAG_PATTERN);
    assert_at(&d, Severity::Error, "stackrel.toml", 12, 15);
    assert!(!state.is_valid());
}

// ---------------------------------------------------------------------------------------------
// Component names, pins and tag patterns in the config
// ---------------------------------------------------------------------------------------------

#[test]
fn each_reserved_component_name_is_refused_at_the_table_name() {
    for name in ["ticket", "notes", "version"] {
        let state = Tree::base()
            .append_config(&format!("\n[components.{name}]\nrepo = \"xchem/{name}\"\nbranch = \"main\"\npin = \"X_TAG\"\n"))
            .validate();
        let d = the_only(&state, COMPONENT_NAME);
        // `[components.` is 12 characters: the name starts at column 13 of line 37.
        assert_at(&d, Severity::Error, "stackrel.toml", 37, 13);
        assert_message_contains(&d, &format!("`{name}` is reserved"));
        assert_help_contains(&d, "ticket, notes, version");
    }
}

#[test]
fn invalid_component_name_is_refused_at_the_table_name() {
    let state = Tree::base()
        .append_config(
            "\n[components.Database]\nrepo = \"xchem/db\"\nbranch = \"main\"\npin = \"DB_TAG\"\n",
        )
        .edit(
            OLDER,
            "frontend = ",
            "Database = \"2026.01.1\"\nfrontend = ",
        )
        .edit(
            NEWEST,
            "frontend = ",
            "Database = \"2026.01.1\"\nfrontend = ",
        )
        .validate();
    let d = the_only(&state, COMPONENT_NAME);
    assert_at(&d, Severity::Error, "stackrel.toml", 37, 13);
    assert_message_contains(&d, "`Database` is not a valid component name");
    assert_help_contains(&d, "lowercase letters");
}

#[test]
fn two_components_pinning_one_env_key_are_a_duplicate_pin() {
    let state = Tree::base()
        .edit_config("pin = \"FE_IMAGE_TAG\"", "pin = \"BE_IMAGE_TAG\"")
        .validate();
    let d = the_only(&state, DUPLICATE_PIN);
    assert_at(&d, Severity::Error, "stackrel.toml", 17, 7);
    assert_message_contains(
        &d,
        "components `backend` and `frontend` both pin `BE_IMAGE_TAG`",
    );
}

#[test]
fn pin_that_is_not_an_env_key_is_refused_at_its_value() {
    let state = Tree::base()
        .edit_config("pin = \"BE_IMAGE_TAG\"", "pin = \"BE-IMAGE-TAG\"")
        .validate();
    let d = the_only(&state, PIN_NAME);
    assert_at(&d, Severity::Error, "stackrel.toml", 11, 7);
    assert_message_contains(&d, "`BE-IMAGE-TAG` is not a workflow env key");
}

#[test]
fn invalid_tag_pattern_is_refused_once_at_its_value_not_again_on_every_release() {
    let state = Tree::base()
        .edit_config("ci = \"build production\"", "tag_pattern = '(unclosed'")
        .validate();
    let d = the_only(&state, TAG_PATTERN);
    // `tag_pattern = ` is 14 characters: the value starts at column 15.
    assert_at(&d, Severity::Error, "stackrel.toml", 12, 15);
    assert_message_contains(&d, "not a valid regular expression");
}

#[test]
fn empty_components_table_is_refused() {
    let config = "[stack]\nrepo = \"xchem/fragalysis-stack\"\nbranch = \"master\"\nworkflow = \"build.yaml\"\ncommit_message = \"release {version}\"\n\n[components]\n";
    let state = Tree(vec![file("stackrel.toml", config)]).validate();
    let d = the_only(&state, NO_COMPONENTS);
    assert_at(&d, Severity::Error, "stackrel.toml", 7, 1);
}

// ---------------------------------------------------------------------------------------------
// What may live in releases/
// ---------------------------------------------------------------------------------------------

#[test]
fn non_toml_file_in_releases_is_not_a_release_file() {
    let state = Tree::base()
        .with("releases/README.md", "# Releases\n")
        .validate();
    let d = the_only(&state, NOT_A_RELEASE_FILE);
    assert_unpositioned(&d, Severity::Error, Some("releases/README.md"));
    assert_help_contains(&d, "move it out of `releases/`");
}

#[test]
fn binary_non_toml_file_in_releases_is_not_a_release_file_rather_than_bad_utf8() {
    let state = Tree::base()
        .with("releases/diagram.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
        .validate();
    let d = the_only(&state, NOT_A_RELEASE_FILE);
    assert_unpositioned(&d, Severity::Error, Some("releases/diagram.png"));
}

#[test]
fn nested_directory_in_releases_is_not_a_release_file() {
    let state = Tree::base()
        .with("releases/2026/2026.09.1.toml", OLDER_RELEASE)
        .validate();
    let d = the_only(&state, NOT_A_RELEASE_FILE);
    assert_unpositioned(&d, Severity::Error, Some("releases/2026/2026.09.1.toml"));
}

#[test]
fn file_over_64_kib_is_refused_unparsed() {
    let mut bytes = b"backend = = not even toml\n".to_vec();
    bytes.resize(MAX_FILE_BYTES + 1, b'#');
    let state = Tree::base()
        .with("releases/2026.09.1.toml", &bytes)
        .validate();
    let d = the_only(&state, FILE_TOO_LARGE);
    assert_unpositioned(&d, Severity::Error, Some("releases/2026.09.1.toml"));
    assert_message_contains(&d, "64 KiB");
}

#[test]
fn file_of_exactly_64_kib_is_read() {
    let mut text = String::from(OLDER_RELEASE);
    text.push_str("notes = \"");
    let padding = MAX_FILE_BYTES - text.len() - 2;
    text.push_str(&"x".repeat(padding));
    text.push_str("\"\n");
    assert_eq!(text.len(), MAX_FILE_BYTES);
    let state = Tree::base()
        .with("releases/2026.09.1.toml", text)
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
}

#[test]
fn non_utf8_release_is_refused_at_the_line_and_column_of_the_bad_byte() {
    // Latin-1 `é` (0xE9) where UTF-8 needs two bytes: `notes = "caf` is 12 characters.
    let state = Tree::base()
        .with(
            "releases/2026.09.1.toml",
            b"backend = \"2026.08.1\"\nnotes = \"caf\xe9\"\n",
        )
        .validate();
    let d = the_only(&state, FILE_NOT_UTF8);
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.file.as_deref(), Some("releases/2026.09.1.toml"));
    assert_eq!((d.line, d.column), (Some(2), Some(13)), "{d:?}");
    assert_has_help(&d);
}

#[test]
fn non_utf8_column_counts_characters_like_every_other_diagnostic() {
    // `notes = "été ` is 13 characters but 15 bytes; the bad byte is the 14th character.
    let state = Tree::base()
        .with(
            "releases/2026.09.1.toml",
            b"backend = \"2026.08.1\"\nnotes = \"\xc3\xa9t\xc3\xa9 \xff\"\n",
        )
        .validate();
    let d = the_only(&state, FILE_NOT_UTF8);
    assert_eq!((d.line, d.column), (Some(2), Some(14)), "{d:?}");
}

#[test]
fn crlf_line_endings_do_not_shift_lines_or_columns() {
    let release = NEWEST_RELEASE
        .replace('\n', "\r\n")
        .replace("frontend = \"2026.08.2\"", "frontend = 2024.10");
    let state = Tree::base().with(NEWEST, release).validate();
    let d = the_only(&state, release::WRONG_TYPE);
    assert_at(&d, Severity::Error, NEWEST, 2, 12);
}

#[test]
fn byte_order_mark_does_not_count_as_a_column() {
    // Editors hide a leading BOM; `backend = ` is 10 characters, so the value is at column 11.
    let release = format!(
        "\u{feff}{}",
        NEWEST_RELEASE.replace("backend = \"2026.08.1\"", "backend = 2026")
    );
    let state = Tree::base().with(NEWEST, release).validate();
    let d = the_only(&state, release::WRONG_TYPE);
    assert_at(&d, Severity::Error, NEWEST, 1, 11);
}

// ---------------------------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------------------------

#[test]
fn ticket_that_is_not_owner_repo_number_is_refused_at_its_value() {
    let state = Tree::base()
        .edit(
            NEWEST,
            "m2ms/fragalysis-frontend#1523",
            "fragalysis-frontend#1523",
        )
        .validate();
    let d = the_only(&state, TICKET);
    assert_at(&d, Severity::Error, NEWEST, 3, 10);
    assert_message_contains(&d, "owner/repo#N");
}

#[test]
fn ticket_number_zero_is_refused() {
    let state = Tree::base().edit(NEWEST, "#1523", "#0").validate();
    the_only(&state, TICKET);
}

// ---------------------------------------------------------------------------------------------
// Cron expressions
// ---------------------------------------------------------------------------------------------

#[test]
fn resync_with_five_fields_is_refused_at_its_value() {
    let state = Tree::base()
        .edit_config("resync = \"0 */5 * * * *\"", "resync = \"*/5 * * * *\"")
        .validate();
    let d = the_only(&state, CRON);
    assert_at(&d, Severity::Error, "stackrel.toml", 33, 10);
    assert_message_contains(&d, "has 5 fields");
}

#[test]
fn resync_with_an_invalid_field_is_refused_at_its_value() {
    let state = Tree::base()
        .edit_config(
            "resync = \"0 */5 * * * *\"",
            "resync = \"0 */5 * * * Funday\"",
        )
        .validate();
    let d = the_only(&state, CRON);
    assert_at(&d, Severity::Error, "stackrel.toml", 33, 10);
    assert_message_contains(&d, "not a valid cron expression");
}

#[test]
fn invalid_window_is_reported_at_the_column_of_its_item() {
    // `windows = ["* * 9-16 * * Mon-Thu", ` is 35 characters: the second item is at column 36.
    let state = Tree::base()
        .edit_config(
            "windows = [\"* * 9-16 * * Mon-Thu\"]",
            "windows = [\"* * 9-16 * * Mon-Thu\", \"* * 25 * * *\"]",
        )
        .validate();
    let d = the_only(&state, CRON);
    assert_at(&d, Severity::Error, "stackrel.toml", 34, 36);
    assert_message_contains(&d, "`daemon.windows[1]`");
}

#[test]
fn window_with_five_fields_is_reported_at_its_item() {
    let state = Tree::base()
        .edit_config(
            "windows = [\"* * 9-16 * * Mon-Thu\"]",
            "windows = [\"* * 9-16 * * Mon-Thu\", \"* 9-16 * * Mon-Thu\"]",
        )
        .validate();
    let d = the_only(&state, CRON);
    assert_at(&d, Severity::Error, "stackrel.toml", 34, 36);
    assert_message_contains(&d, "has 5 fields");
}

#[test]
fn window_after_a_wrongly_typed_item_is_reported_at_its_own_column() {
    // `windows = [1, ` is 14 characters: the string item is at column 15, the integer at 12.
    let state = Tree::base()
        .edit_config(
            "windows = [\"* * 9-16 * * Mon-Thu\"]",
            "windows = [1, \"* * 25 * * *\"]",
        )
        .validate();
    let wrong_type = the_one(&state, toml_schema::WRONG_TYPE);
    assert_at(&wrong_type, Severity::Error, "stackrel.toml", 34, 12);
    let cron = the_one(&state, CRON);
    assert_at(&cron, Severity::Error, "stackrel.toml", 34, 15);
}

#[test]
fn numeric_weekday_is_a_warning_that_leaves_the_state_valid() {
    let state = Tree::base()
        .edit_config(
            "windows = [\"* * 9-16 * * Mon-Thu\"]",
            "windows = [\"* * 9-16 * * 2-5\"]",
        )
        .validate();
    let d = the_only(&state, CRON_WEEKDAY_NUMBER);
    assert_at(&d, Severity::Warning, "stackrel.toml", 34, 12);
    assert_message_contains(&d, "Sunday = 1");
    assert_help_contains(&d, "Mon-Fri");
    assert!(state.is_valid(), "warnings do not make the state invalid");
    assert!(state.config.is_some());
    assert_eq!(state.errors(), 0);
}

// ---------------------------------------------------------------------------------------------
// Repositories and paths
// ---------------------------------------------------------------------------------------------

#[test]
fn component_repo_that_is_neither_owner_name_nor_a_local_path_is_refused() {
    let state = Tree::base()
        .edit_config(
            "repo = \"xchem/fragalysis-backend\"",
            "repo = \"fragalysis-backend\"",
        )
        .validate();
    let d = the_only(&state, REPO);
    assert_at(&d, Severity::Error, "stackrel.toml", 9, 8);
    assert_message_contains(&d, "`components.backend.repo`");
    assert_help_contains(&d, "owner/name");
}

#[test]
fn stack_repo_given_as_a_url_is_refused() {
    let state = Tree::base()
        .edit_config(
            "repo = \"xchem/fragalysis-stack\"",
            "repo = \"https://github.com/xchem/fragalysis-stack\"",
        )
        .validate();
    let d = the_only(&state, REPO);
    assert_at(&d, Severity::Error, "stackrel.toml", 2, 8);
}

#[test]
fn workflow_path_escaping_the_stack_repository_is_refused() {
    let state = Tree::base()
        .edit_config(
            "workflow = \".github/workflows/build-main.yaml\"",
            "workflow = \"../shared/build-main.yaml\"",
        )
        .validate();
    let d = the_only(&state, PATH);
    assert_at(&d, Severity::Error, "stackrel.toml", 4, 12);
    assert_message_contains(&d, "inside the stack repository");
}

#[test]
fn absolute_workflow_path_is_refused() {
    let state = Tree::base()
        .edit_config(
            "workflow = \".github/workflows/build-main.yaml\"",
            "workflow = \"/etc/build-main.yaml\"",
        )
        .validate();
    let d = the_only(&state, PATH);
    assert_at(&d, Severity::Error, "stackrel.toml", 4, 12);
}

// ---------------------------------------------------------------------------------------------
// Placeholders
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_placeholder_in_commit_message_suggests_the_closest_name() {
    let state = Tree::base()
        .edit_config("b/e {backend}", "b/e {backnd}")
        .validate();
    let d = the_only(&state, PLACEHOLDER);
    assert_at(&d, Severity::Error, "stackrel.toml", 5, 18);
    assert_message_contains(
        &d,
        "unknown placeholder `{backnd}` in `stack.commit_message`",
    );
    assert_help(&d, "did you mean `{backend}`?");
}

#[test]
fn unknown_placeholder_without_a_close_match_lists_the_placeholders() {
    let state = Tree::base()
        .edit_config("b/e {backend}", "b/e {sha}")
        .validate();
    let d = the_only(&state, PLACEHOLDER);
    assert_at(&d, Severity::Error, "stackrel.toml", 5, 18);
    assert_help_contains(&d, "{backend}, {frontend}, {version}");
}

#[test]
fn unknown_placeholder_in_deploy_command_is_reported_at_its_argument() {
    let state = Tree::base()
        .edit_config(
            "kind = \"awx\"\nurl = \"https://awx.example.org\"\ntemplate = \"Production Fragalysis Stack\"\nvariable = \"stack_image_tag\"\n",
            "kind = \"command\"\ncommand = [\"./deploy.sh\", \"{verison}\"]\n\n\n",
        )
        .validate();
    let d = the_only(&state, PLACEHOLDER);
    // `command = ["./deploy.sh", ` is 26 characters: the second argument is at column 27.
    assert_at(&d, Severity::Error, "stackrel.toml", 21, 27);
    assert_help(&d, "did you mean `{version}`?");
}

#[test]
fn unknown_placeholder_after_a_wrongly_typed_argument_is_reported_at_its_own_argument() {
    let state = Tree::base()
        .edit_config(
            "kind = \"awx\"\nurl = \"https://awx.example.org\"\ntemplate = \"Production Fragalysis Stack\"\nvariable = \"stack_image_tag\"\n",
            "kind = \"command\"\ncommand = [7, \"{verison}\"]\n\n\n",
        )
        .validate();
    let wrong_type = the_one(&state, toml_schema::WRONG_TYPE);
    assert_at(&wrong_type, Severity::Error, "stackrel.toml", 21, 12);
    // `command = [7, ` is 14 characters: the placeholder's argument is at column 15.
    let placeholder = the_one(&state, PLACEHOLDER);
    assert_at(&placeholder, Severity::Error, "stackrel.toml", 21, 15);
}

#[test]
fn unknown_placeholder_in_verify_expect_is_reported_at_its_value() {
    let state = Tree::base()
        .edit_config("xchem:{backend}", "xchem:{backed}")
        .validate();
    let d = the_only(&state, PLACEHOLDER);
    // `expect = { "version.stack" = "xchem:{version}", "version.backend" = ` is 68 characters.
    assert_at(&d, Severity::Error, "stackrel.toml", 27, 69);
    assert_help(&d, "did you mean `{backend}`?");
}

// ---------------------------------------------------------------------------------------------
// [deploy]
// ---------------------------------------------------------------------------------------------

#[test]
fn awx_deploy_without_a_template_is_reported_at_the_kind() {
    let state = Tree::base()
        .edit_config(
            "template = \"Production Fragalysis Stack\"",
            "# no template",
        )
        .validate();
    let d = the_only(&state, DEPLOY);
    assert_at(&d, Severity::Error, "stackrel.toml", 20, 8);
    assert_message_contains(&d, "`deploy.template` is required when kind = \"awx\"");
    assert_help_contains(&d, "add template = ");
}

#[test]
fn command_deploy_without_a_command_is_reported_at_the_kind() {
    let state = Tree::base()
        .edit_config(
            "kind = \"awx\"\nurl = \"https://awx.example.org\"\ntemplate = \"Production Fragalysis Stack\"\nvariable = \"stack_image_tag\"\n",
            "kind = \"command\"\n\n\n\n",
        )
        .validate();
    let d = the_only(&state, DEPLOY);
    assert_at(&d, Severity::Error, "stackrel.toml", 20, 8);
    assert_message_contains(&d, "`deploy.command` is required when kind = \"command\"");
}

#[test]
fn unknown_deploy_kind_suggests_the_closest_kind() {
    let state = Tree::base()
        .edit_config("kind = \"awx\"", "kind = \"awz\"")
        .validate();
    let d = the_only(&state, NOT_ALLOWED);
    assert_at(&d, Severity::Error, "stackrel.toml", 20, 8);
    assert_message_contains(
        &d,
        "`deploy.kind` must be one of \"awx\", \"command\", \"none\"",
    );
    assert_help(&d, "did you mean \"awx\"?");
}

#[test]
fn unknown_deploy_kind_without_a_close_match_is_refused_with_help() {
    let state = Tree::base()
        .edit_config("kind = \"awx\"", "kind = \"kubernetes\"")
        .validate();
    let d = the_only(&state, NOT_ALLOWED);
    assert_at(&d, Severity::Error, "stackrel.toml", 20, 8);
}

#[test]
fn deploy_field_of_another_kind_is_a_warning_at_that_field() {
    let state = Tree::base()
        .edit_config(
            "kind = \"awx\"\nurl = \"https://awx.example.org\"\n",
            "kind = \"command\"\ncommand = [\"./deploy.sh\", \"{version}\"]\n",
        )
        .edit_config("variable = \"stack_image_tag\"\n", "\n")
        .validate();
    let d = the_only(&state, DEPLOY);
    assert_at(&d, Severity::Warning, "stackrel.toml", 22, 12);
    assert_message_contains(&d, "`deploy.template` is only used when kind = \"awx\"");
    assert!(state.is_valid());
}

#[test]
fn deploy_url_that_is_not_http_is_refused_at_its_value() {
    let state = Tree::base()
        .edit_config(
            "url = \"https://awx.example.org\"",
            "url = \"awx.example.org\"",
        )
        .validate();
    let d = the_only(&state, PATH);
    assert_at(&d, Severity::Error, "stackrel.toml", 21, 7);
    assert_message_contains(&d, "not an http(s) URL");
}

// ---------------------------------------------------------------------------------------------
// [verify]
// ---------------------------------------------------------------------------------------------

#[test]
fn verify_with_both_url_and_command_is_refused_at_the_command() {
    let state = Tree::base()
        .edit_config(
            "\n\n[ticket]",
            "\ncommand = [\"./check-live.sh\"]\n[ticket]",
        )
        .validate();
    let d = the_only(&state, VERIFY);
    assert_at(&d, Severity::Error, "stackrel.toml", 28, 11);
    assert_message_contains(&d, "both `url` and `command`");
}

#[test]
fn verify_with_neither_url_nor_command_is_refused_at_the_table_name() {
    let state = Tree::base()
        .edit_config(
            "url = \"https://fragalysis.example.org/version/\"\nexpect = {",
            "timeout_seconds = 60\n# expect = {",
        )
        .validate();
    let d = the_only(&state, VERIFY);
    // `[verify]`: the table name starts at column 2 of line 25.
    assert_at(&d, Severity::Error, "stackrel.toml", 25, 2);
    assert_message_contains(&d, "needs `url` (with `expect`) or `command`");
}

#[test]
fn verify_url_without_expect_is_refused_at_the_url() {
    let state = Tree::base()
        .edit_config("expect = {", "# expect = {")
        .validate();
    let d = the_only(&state, VERIFY);
    assert_at(&d, Severity::Error, "stackrel.toml", 26, 7);
    assert_message_contains(&d, "`url` needs `expect`");
}

#[test]
fn empty_verify_command_is_refused_at_its_value() {
    let state = Tree::base()
        .edit_config(
            "url = \"https://fragalysis.example.org/version/\"\nexpect = {",
            "command = []\n# expect = {",
        )
        .validate();
    let d = the_only(&state, VERIFY);
    assert_at(&d, Severity::Error, "stackrel.toml", 26, 11);
}

// ---------------------------------------------------------------------------------------------
// The config file itself
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_stackrel_toml_is_reported_without_a_file_or_position() {
    let state = Tree::base().without("stackrel.toml").validate();
    let d = the_only(&state, CONFIG_MISSING);
    assert_unpositioned(&d, Severity::Error, None);
    assert_help_contains(&d, "create `stackrel.toml`");
    assert!(state.config.is_none());
    assert!(!state.is_valid());
}

#[test]
fn unreadable_stackrel_toml_is_reported_as_unreadable_not_as_missing() {
    let state = Tree::base()
        .with("stackrel.toml", b"[stack]\nrepo = \"caf\xe9\"\n")
        .validate();
    let d = the_only(&state, FILE_NOT_UTF8);
    assert_eq!((d.line, d.column), (Some(2), Some(12)), "{d:?}");
    assert!(!state.is_valid());
}

#[test]
fn oversized_stackrel_toml_is_reported_as_too_large_not_as_missing() {
    let mut bytes = BASE_CONFIG.as_bytes().to_vec();
    bytes.resize(MAX_FILE_BYTES + 1, b'\n');
    let state = Tree::base().with("stackrel.toml", bytes).validate();
    let d = the_only(&state, FILE_TOO_LARGE);
    assert_unpositioned(&d, Severity::Error, Some("stackrel.toml"));
    assert!(!state.is_valid());
}

#[test]
fn a_tree_that_is_entirely_empty_is_missing_its_config() {
    let state = validate(&[]);
    assert_eq!(codes(&state), [CONFIG_MISSING]);
    assert!(!state.is_valid());
}

// ---------------------------------------------------------------------------------------------
// Every problem at once
// ---------------------------------------------------------------------------------------------

#[test]
fn every_problem_in_every_file_is_reported_at_once() {
    let state = Tree::base()
        .edit_config("label = ", "lable = ")
        .edit_config("pin = \"FE_IMAGE_TAG\"", "pin = \"BE_IMAGE_TAG\"")
        .edit_config("resync = \"0 */5 * * * *\"", "resync = \"*/5 * * * *\"")
        .edit(NEWEST, "frontend = \"2026.08.2\"", "frontend = 2024.10")
        .edit(NEWEST, "m2ms/fragalysis-frontend#1523", "#1523")
        .with("releases/2026.8.4.toml", OLDER_RELEASE)
        .validate();
    let found: Vec<(String, usize, usize, &str)> = state
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.file.clone().unwrap_or_default(),
                d.line.unwrap_or(0),
                d.column.unwrap_or(0),
                d.code,
            )
        })
        .collect();
    let expected = [
        (
            "releases/2026.08.3.toml".to_string(),
            2,
            12,
            release::WRONG_TYPE,
        ),
        ("releases/2026.08.3.toml".to_string(), 3, 10, TICKET),
        ("releases/2026.8.4.toml".to_string(), 1, 1, FILE_NAME),
        ("stackrel.toml".to_string(), 17, 7, DUPLICATE_PIN),
        ("stackrel.toml".to_string(), 30, 1, toml_schema::UNKNOWN_KEY),
        ("stackrel.toml".to_string(), 33, 10, CRON),
    ];
    assert_eq!(
        found,
        expected,
        "every problem, sorted by file, line and column:\n{}",
        listing(&state)
    );
    assert!(
        state
            .diagnostics
            .iter()
            .all(|d| d.is_error() && d.help.is_some())
    );
    assert!(state.config.is_none(), "a config with errors is not used");
    assert!(!state.is_valid());
    assert_eq!(
        state.releases.len(),
        1,
        "only the untouched release is valid"
    );
}

// ---------------------------------------------------------------------------------------------
// The pull-request check's own codes, for completeness of the code list
// ---------------------------------------------------------------------------------------------

#[test]
fn check_codes_are_in_the_stackrel_namespace() {
    for code in [
        check::RELEASE_MODIFIED,
        check::RELEASE_DELETED,
        check::NOT_NEWER,
        check::SEVERAL_RELEASES,
    ] {
        assert!(code.starts_with("stackrel::check::"), "{code}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile files: what one file can make `validate` (and the pull-request check) print is bounded
// ---------------------------------------------------------------------------------------------

/// A 62 KB release whose one line lists 31,000 wrong items: one finding each.
fn hostile_release() -> String {
    format!(
        "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nwaive_ci = [{}]\n",
        vec!["1"; 31_000].join(",")
    )
}

#[test]
fn a_release_file_with_thousands_of_problems_reports_twenty_and_counts_the_rest() {
    let state = Tree::base()
        .with("releases/2026.09.1.toml", hostile_release())
        .validate();
    assert!(!state.is_valid());
    let in_file: Vec<_> = state
        .diagnostics
        .iter()
        .filter(|d| d.file.as_deref() == Some("releases/2026.09.1.toml"))
        .collect();
    assert_eq!(in_file.len(), stackrel::diagnostic::MAX_PER_FILE + 1);
    let summary = in_file.last().unwrap();
    assert_eq!(summary.code, stackrel::diagnostic::TOO_MANY);
    assert_message_contains(summary, "30980 more problems in `releases/2026.09.1.toml`");
}

#[test]
fn the_report_of_a_hostile_release_file_quotes_windows_of_its_line_not_the_line() {
    let state = Tree::base()
        .with("releases/2026.09.1.toml", hostile_release())
        .validate();
    let human: String = state
        .diagnostics
        .iter()
        .map(|d| stackrel::diagnostic::render_human(d, false))
        .collect();
    let json = stackrel::diagnostic::render_json(&state.diagnostics);
    // Before the bounds, the report of this one file was about 1 GB.
    assert!(human.len() < 16 * 1024, "{} bytes", human.len());
    assert!(json.len() < 16 * 1024, "{} bytes", json.len());
    assert!(human.contains("releases/2026.09.1.toml:3:13"), "{human}");
}

#[test]
fn only_the_first_syntax_error_of_a_file_is_reported() {
    let garbage = format!("backend = \"2026.08.1\" {}\n", "x ".repeat(20_000));
    let state = Tree::base()
        .with("releases/2026.09.1.toml", &garbage)
        .with("stackrel.toml", format!("{BASE_CONFIG}\n{garbage}"))
        .validate();
    assert_eq!(
        codes(&state),
        vec![TOML_SYNTAX, TOML_SYNTAX],
        "{}",
        listing(&state)
    );
}

#[test]
fn a_very_long_unknown_key_is_quoted_cut_short_and_offered_no_suggestion() {
    let key = "b".repeat(60_000);
    let state = Tree::base()
        .edit(NEWEST, "notes = ", &format!("{key} = \"x\"\nnotes = "))
        .validate();
    let d = the_only(&state, release::UNKNOWN_KEY);
    assert!(d.message.chars().count() < 100, "{}", d.message);
    assert!(!d.help.as_deref().unwrap_or("").contains("did you mean"));
    let rendered = stackrel::diagnostic::render_human(&d, false);
    assert!(rendered.len() < 4096, "{} bytes", rendered.len());
}

// --- [ticket] ---------------------------------------------------------------------------------

const TICKET_LINES: &str = "[ticket]\nlabel = \"fragalysis-stack\"\n";

#[test]
fn the_fragalysis_ticket_section_is_valid() {
    let state = Tree::base()
        .edit_config(
            TICKET_LINES,
            "[ticket]\nrepo = \"m2ms/fragalysis-frontend\"\ncreate = true\nassignees = [\"alice\", \"bob\"]\nlabel = \"fragalysis-stack\"\nproject = { owner = \"m2ms\", number = 2, field = \"Status\", column = \"push to production\" }\n",
        )
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
    let ticket = &state.config.as_ref().unwrap().ticket;
    assert_eq!(
        ticket.repo.as_ref().unwrap().to_string(),
        "m2ms/fragalysis-frontend"
    );
    assert_eq!(
        ticket.project.as_ref().unwrap().column,
        "push to production"
    );
}

#[test]
fn a_ticket_board_without_a_field_uses_status() {
    let state = Tree::base()
        .edit_config(
            TICKET_LINES,
            "[ticket]\nproject = { owner = \"m2ms\", number = 2, column = \"push to production\" }\n",
        )
        .validate();
    assert!(state.diagnostics.is_empty(), "{}", listing(&state));
    let board = state.config.unwrap().ticket.project.unwrap();
    assert_eq!(board.field, "Status");
}

#[test]
fn a_local_ticket_repository_is_refused_at_its_value() {
    let state = Tree::base()
        .edit_config(TICKET_LINES, "[ticket]\nrepo = \"./tickets\"\n")
        .validate();
    let d = the_only(&state, stackrel::validate::TICKET);
    assert_at(&d, Severity::Error, "stackrel.toml", 30, 8);
    assert_help_contains(&d, "m2ms/fragalysis-frontend");
}

#[test]
fn creating_tickets_without_a_repository_is_refused_at_create() {
    let state = Tree::base()
        .edit_config(TICKET_LINES, "[ticket]\ncreate = true\n")
        .validate();
    let d = the_only(&state, stackrel::validate::TICKET);
    assert_at(&d, Severity::Error, "stackrel.toml", 30, 10);
    assert_help_contains(&d, "add repo = ");
}

#[test]
fn an_assignee_that_is_not_a_github_login_is_reported_at_its_item() {
    let state = Tree::base()
        .edit_config(
            TICKET_LINES,
            "[ticket]\nassignees = [\"alice\", \"@bob\"]\n",
        )
        .validate();
    let d = the_only(&state, stackrel::validate::TICKET);
    // `assignees = ["alice", ` is 22 characters: the second login is at column 23.
    assert_at(&d, Severity::Error, "stackrel.toml", 30, 23);
    assert_message_contains(&d, "\"@bob\"");
    assert_help_contains(&d, "without `@`");
}

#[test]
fn a_board_numbered_zero_is_reported_at_the_number() {
    let state = Tree::base()
        .edit_config(
            TICKET_LINES,
            "[ticket]\nproject = { owner = \"m2ms\", number = 0, column = \"push to production\" }\n",
        )
        .validate();
    let d = the_only(&state, stackrel::validate::TICKET);
    assert_at(&d, Severity::Error, "stackrel.toml", 30, 38);
    assert_help_contains(&d, "github.com/orgs/OWNER/projects/NUMBER");
}

#[test]
fn a_board_without_a_column_is_missing_the_key() {
    let state = Tree::base()
        .edit_config(
            TICKET_LINES,
            "[ticket]\nproject = { owner = \"m2ms\", number = 2 }\n",
        )
        .validate();
    let d = the_only(&state, MISSING_KEY);
    assert_message_contains(&d, "column");
}

#[test]
fn an_empty_column_is_reported_at_its_value() {
    let state = Tree::base()
        .edit_config(
            TICKET_LINES,
            "[ticket]\nproject = { owner = \"m2ms\", number = 2, column = \" \" }\n",
        )
        .validate();
    let d = the_only(&state, stackrel::validate::TICKET);
    assert_message_contains(&d, "`ticket.project.column` is empty");
    assert_has_help(&d);
}

// Local repositories: what `validate` can find only by looking at disk.

/// `stackrel validate --format json` run on the sandbox with its working-tree config edited
/// from `old` to `new`: the exit code, the parsed report, and where `needle` starts in the
/// edited config (1-based line and column).
fn validate_sandbox_with(
    old: &str,
    new: &str,
    needle: &str,
) -> (i32, serde_json::Value, (usize, usize)) {
    let (_dir, sandbox) = testkit::sandbox::sandbox();
    let path = sandbox.desired.join("stackrel.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let edited = config.replacen(old, new, 1);
    assert_ne!(edited, config, "the sandbox's config holds {old}");
    std::fs::write(&path, &edited).unwrap();
    let output =
        crate::cli_plan_apply::stackrel(&sandbox.desired, &["validate", "--format", "json"]);
    let report = serde_json::from_slice(&output.stdout).expect("validate prints JSON");
    let at = edited
        .find(needle)
        .expect("the edited config holds the needle");
    let before = &edited[..at];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let place = (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    );
    (output.status.code().unwrap(), report, place)
}

fn the_json_diagnostic<'r>(report: &'r serde_json::Value, code: &str) -> &'r serde_json::Value {
    let all = report["diagnostics"]
        .as_array()
        .expect("a list of diagnostics");
    let found: Vec<_> = all.iter().filter(|d| d["code"] == code).collect();
    assert_eq!(found.len(), 1, "one {code} in {report:#}");
    found[0]
}

#[test]
fn local_component_branch_that_does_not_exist_is_refused_at_its_value_with_a_suggestion() {
    let (code, report, (line, column)) = validate_sandbox_with(
        "branch = \"production\"",
        "branch = \"prodution\"",
        "\"prodution\"",
    );
    assert_eq!(code, 1, "{report:#}");
    let d = the_json_diagnostic(&report, stackrel::repo_check::BRANCH_NOT_FOUND);
    assert_eq!(
        (&d["file"], &d["line"], &d["column"], &d["severity"]),
        (
            &"stackrel.toml".into(),
            &line.into(),
            &column.into(),
            &"error".into()
        ),
        "{d:#}"
    );
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("branch `prodution` of component `"),
        "{message}"
    );
    let help = d["help"].as_str().unwrap();
    assert!(help.contains("did you mean `production`?"), "{help}");
}

#[test]
fn local_component_repository_that_does_not_open_is_refused_at_its_value() {
    let (code, report, (line, column)) = validate_sandbox_with(
        "\"../backend.git\"",
        "\"../backnd.git\"",
        "\"../backnd.git\"",
    );
    assert_eq!(code, 1, "{report:#}");
    let d = the_json_diagnostic(&report, stackrel::repo_check::REPO_NOT_FOUND);
    assert_eq!(
        (&d["file"], &d["line"], &d["column"]),
        (&"stackrel.toml".into(), &line.into(), &column.into()),
        "{d:#}"
    );
    let message = d["message"].as_str().unwrap();
    assert!(message.contains("component `backend`"), "{message}");
    assert!(d["help"].as_str().unwrap().contains("[components.backend]"));
}

#[test]
fn local_repositories_that_open_with_their_branches_add_no_diagnostic() {
    let (code, report, _) = validate_sandbox_with("[stack]", "# unchanged\n[stack]", "[stack]");
    assert_eq!((code, &report["errors"]), (0, &0.into()), "{report:#}");
}

#[test]
fn github_repositories_are_not_checked_offline() {
    let state = Tree::base().validate();
    let config = state.config.expect("the base config is valid");
    let nowhere = tempfile::tempdir().unwrap();
    let found = stackrel::repo_check::check_local_repos(&config, BASE_CONFIG, nowhere.path());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_deploy_timeout_of_more_than_a_week_is_reported_at_its_value() {
    let state = Tree::base()
        .edit_config(
            "variable = \"stack_image_tag\"\n",
            "variable = \"stack_image_tag\"\ntimeout_seconds = 18446744073709551615\n",
        )
        .validate();
    let d = the_only(&state, DEPLOY);
    assert_at(&d, Severity::Error, "stackrel.toml", 24, 19);
    assert_message_contains(
        &d,
        "`deploy.timeout_seconds` = 18446744073709551615 is more than a week",
    );
    assert_help_contains(&d, "e.g. 1800");
}

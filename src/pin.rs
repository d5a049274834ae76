//! Reads and rewrites the component versions that a stack's GitHub Actions workflow pins under
//! its top-level `env:` mapping (`BE_IMAGE_TAG: 2026.08.1`, `FE_IMAGE_TAG: ...`).
//!
//! A release is a pull request that a person reviews as a diff of a hand-maintained file, so a
//! YAML library's load-and-dump round trip is not an option: it would drop comments, re-indent,
//! re-quote and re-wrap the whole file. Instead this module finds each pin's value token with a
//! line-oriented scan of the small part of YAML that can hold a pin, and splices new bytes into
//! exactly that token. Whatever it cannot read with certainty (flow mappings, multi-line values,
//! anchors, expressions, duplicate keys, odd indentation) is refused with an error saying how to
//! fix the file, because a wrong guess would silently release the wrong version.
//!
//! The same names also occur in comments, shell lines (`${{ env.BE_IMAGE_TAG }}`), `build-args`
//! and job- or step-level `env:` blocks. Only keys directly under the `env` key at column 1 are
//! pins: that mapping is the workflow-wide environment the build reads its defaults from. A pin
//! set only in a nested `env:` is reported with where it is (line, YAML path), since moving it
//! there by hand is the likely mistake. An anchored (`env: &pins`) or `!!map`-tagged top-level
//! `env:` is the same mapping and is edited; one whose anchor is aliased elsewhere, or with
//! another tag, is refused: the edit would change other places, or mean something else.
//!
//! # A YAML parser confirms every reading and every edit
//!
//! The scanner is not trusted alone: [`yaml`] reads the same text with a conforming YAML 1.2
//! parser (saphyr-parser). A pin is read only when the parser finds it under the first and only
//! document's top-level `env:` at the byte the scanner found, with the same value and quoting;
//! an edit is returned only when the parser reads the new text exactly as the old one except at
//! the pins, and each pin as exactly its new string. Before either, the file is refused when it
//! holds a line break the scanner does not split on (a lone CR; NEL, U+2028 and U+2029, which
//! YAML 1.1 readers break on) or a second document: there, readers disagree about which keys
//! exist, so no single reading can be confirmed.
//!
//! Why the scanner still locates the values rather than the parser: neither YAML crate that was
//! tried keeps this module's behaviour. saphyr-parser's event spans count characters, and the
//! span of a quoted scalar followed by a comment runs on over the comment (`"x"   # c`), while a
//! block scalar's starts at its content, not at `|`; and it reports malformed input as one
//! generic syntax error, where the scanner names the entry, its line and column and the fix
//! (bad indentation, a tab, text after a closing quote), which pull-request annotations show.
//! yaml-edit gives exact byte ranges, but it recovers from errors silently: it reads
//! `env:\n    A: x\n  B: y` without error and without `B`, and `A: x:` as the string `x:`, which a
//! conforming parser rejects, so it cannot be the reader that confirms anything. The scanner
//! locates; the parser, which reads what GitHub Actions reads, decides whether that is right.
//!
//! # Which values are strings
//!
//! GitHub Actions resolves a plain scalar with the YAML 1.2 core schema and passes a number on
//! as its canonical string: `FE_IMAGE_TAG: 1.10` reaches the job as `1.1`, `0x1F` as `31`,
//! `null` as an empty string. A pin's [`PinSite::value`] is that string, and [`PinSite::yaml_type`]
//! says what YAML made of it. Other tools read workflows with YAML 1.1 (`yes`, `on`, `1_000`,
//! `2024-10-01` are not strings there), so the type is the most conservative of both schemas:
//! only a value that every one reads as a string can count as pinned to a release's version, and
//! a value written plain is quoted whenever either schema would read it as anything else.
//!
//! Known limit: the scan follows multi-line quoted scalars only where they start on a top-level
//! or `env:`-entry line. A multi-line quoted scalar nested deeper whose continuation lines are
//! (leniently, against the YAML spec) dedented to column 1 or to the `env:` entries could be
//! mistaken for keys; the parser's confirmation refuses such a file rather than editing it.

mod yaml;

use std::ops::Range;

/// One pin as found in the file: where its value sits, for diagnostics and splicing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinSite {
    /// The key under the top-level `env:`, e.g. `BE_IMAGE_TAG`.
    pub key: String,
    /// The string GitHub Actions passes to the job: quotes removed and escapes decoded; for a
    /// plain number, boolean or null, the string the runner makes of it (`1.10` → `1.1`).
    pub value: String,
    /// What YAML makes of the value; only [`YamlType::String`] can count as pinned.
    pub yaml_type: YamlType,
    /// Byte range of the value token in the file, quotes included.
    pub value_range: Range<usize>,
    /// 1-based line of the value.
    pub line: usize,
    /// 1-based column of the value, in characters (a byte order mark is not counted).
    pub column: usize,
    /// How the value is written, so that a rewrite can keep it.
    pub style: ScalarStyle,
}

impl PinSite {
    /// Whether the pin holds exactly `version`, as a string in every YAML schema: a plain
    /// `1.10` does not hold "1.10" (GitHub Actions passes `1.1`), nor does `yes` hold "yes".
    pub fn is_pinned_to(&self, version: &str) -> bool {
        self.yaml_type == YamlType::String && self.value == version
    }

    /// The pin as a plan shows and compares it: the value when it is a string; otherwise the
    /// value with what YAML reads it as, which contains a space and so equals no image tag.
    pub fn observed(&self) -> String {
        match self.yaml_type {
            YamlType::String => self.value.clone(),
            YamlType::Null => "null (a YAML null, not a string)".to_owned(),
            other => format!("{} (a {}, not a string)", self.value, other.describe()),
        }
    }
}

/// What YAML makes of a pin's value. Quoted values are strings; a plain one is typed by the
/// YAML 1.2 core schema (what GitHub Actions applies) and then by YAML 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlType {
    /// A string to every YAML reader.
    String,
    /// `null`, `~`: GitHub Actions passes an empty string.
    Null,
    /// `true`, `False`.
    Boolean,
    /// `1.10`, `012`, `1e3`, `0x1F`, `.inf`: GitHub Actions passes the canonical number.
    Number,
    /// `yes`, `on`, `n`: a string to YAML 1.2 and GitHub Actions, a boolean to YAML 1.1.
    Yaml11Boolean,
    /// `1_000`, `0b101`, `1:30`, `-0x1F`: a string to YAML 1.2, a number to YAML 1.1.
    Yaml11Number,
    /// `2024-10-01`: a string to YAML 1.2, a timestamp to YAML 1.1.
    Yaml11Timestamp,
    /// `=`, `<<`: a string to YAML 1.2, the value or merge key to YAML 1.1.
    Yaml11Key,
}

impl YamlType {
    fn describe(self) -> &'static str {
        match self {
            YamlType::String => "string",
            YamlType::Null => "YAML null",
            YamlType::Boolean => "YAML boolean",
            YamlType::Number => "YAML number",
            YamlType::Yaml11Boolean => "YAML 1.1 boolean",
            YamlType::Yaml11Number => "YAML 1.1 number",
            YamlType::Yaml11Timestamp => "YAML 1.1 timestamp",
            YamlType::Yaml11Key => "YAML 1.1 merge or value key",
        }
    }
}

/// How a scalar value is written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// `BE_IMAGE_TAG: 2026.08.1`
    Plain,
    /// `BE_IMAGE_TAG: '2026.08.1'`
    SingleQuoted,
    /// `BE_IMAGE_TAG: "2026.08.1"`
    DoubleQuoted,
}

/// Why pins could not be read or written. Variants about a place in the file carry the key
/// (`env` when the shape of the `env:` mapping, or of the whole file, is wrong) and a 1-based
/// line and column.
/// Messages quote nothing but key names, YAML paths, tags, aliases (those cut short) and
/// positions, so they are safe to show anywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error(
        "the file has no top-level `env:` mapping to hold {key}; add a line `env:` at column 1 \
         with `  {key}: <value>` beneath it"
    )]
    NoTopLevelEnv { key: String },

    #[error(
        "the top-level `env:` appears twice (lines {first_line} and {line}); merge them into one \
         mapping"
    )]
    DuplicateEnv {
        key: String,
        line: usize,
        column: usize,
        first_line: usize,
    },

    #[error(
        "the top-level `env:` at line {line}, column {column} is a flow mapping (`{{ ... }}`), \
         which stackrel does not edit; rewrite it as a block mapping, `env:` followed by one \
         indented `KEY: value` line per variable"
    )]
    FlowEnv {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "the top-level `env:` (value at line {line}, column {column}) is not a block mapping; \
         write `env:` alone on its line, followed by indented `KEY: value` lines"
    )]
    EnvNotMapping {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "line {line}, column {column} under the top-level `env:` is indented differently from \
         the entries above it (they start at column {expected_column}); indent every entry by \
         the same number of spaces"
    )]
    BadIndentation {
        key: String,
        line: usize,
        column: usize,
        expected_column: usize,
    },

    #[error(
        "line {line}, column {column} under the top-level `env:` is indented with a tab, which \
         YAML forbids; indent with spaces"
    )]
    TabIndentation {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "line {line}, column {column} under the top-level `env:` is {what}, not a `KEY: value` \
         entry; rewrite it as `KEY: value`"
    )]
    UnsupportedEntry {
        key: String,
        line: usize,
        column: usize,
        what: &'static str,
    },

    #[error(
        "{key} is not set under the top-level `env:` (line {line}); add a line `{key}: <value>` \
         to that mapping"
    )]
    MissingKey {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "{key} is not set under the top-level `env:`{top}, where stackrel reads and edits the \
         pins; it is set only in a nested `env:`, at line {line}, column {column}, under \
         `{path}`{more}; move that line to the top-level `env:` (the mapping at column 1 that \
         the whole workflow reads), or set the component's `pin` in stackrel.toml to a key that \
         is there", top = match env_line {
            Some(env) => format!(" (line {env})"),
            None => " (the file has no top-level `env:`)".to_owned(),
        }, more = match others {
            0 => String::new(),
            n => format!(" (and {n} more nested place{})", if *n == 1 { "" } else { "s" }),
        }
    )]
    OnlyNested {
        key: String,
        line: usize,
        column: usize,
        /// The YAML path of the nested mapping, e.g. `jobs.build.env`.
        path: String,
        /// The line of the top-level `env:`, when there is one.
        env_line: Option<usize>,
        /// How many other nested places set it too.
        others: usize,
    },

    #[error(
        "the top-level `env:` carries the anchor that {alias} at line {line}, column {column} \
         refers to, so an edit of a pin there would change that place too; stackrel does not \
         edit it: write the entries out where {alias} is, instead of the alias"
    )]
    EnvAliased {
        key: String,
        line: usize,
        column: usize,
        /// The alias as written (`*pins`).
        alias: String,
    },

    #[error(
        "the top-level `env:` at line {line}, column {column} is tagged `{tag}`, which tells a \
         YAML reader to make something other than a plain mapping of it; stackrel does not \
         edit it: remove the tag (or write `!!map`, which changes nothing)"
    )]
    EnvTagged {
        key: String,
        line: usize,
        column: usize,
        /// The tag as written (`!custom`).
        tag: String,
    },

    #[error(
        "the top-level key `env` at line {line}, column {column} is written with a tag or an \
         anchor before it (`!!str env:`, `&a env:`), which stackrel does not read as the `env:` \
         that holds the pins; write it plain, `env:` at column 1"
    )]
    EnvKeyDecorated {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "{key} appears twice under the top-level `env:` (lines {first_line} and {line}); keep one"
    )]
    DuplicateKey {
        key: String,
        line: usize,
        column: usize,
        first_line: usize,
    },

    #[error(
        "{key} at line {line}, column {column} has no value (YAML reads it as null); write the \
         value on the same line, as `{key}: <value>`"
    )]
    EmptyValue {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "{key} at line {line}, column {column} has {what} as its value, not a single string; \
         write one plain or quoted value on the same line, as `{key}: <value>`"
    )]
    NotScalar {
        key: String,
        line: usize,
        column: usize,
        what: &'static str,
    },

    #[error(
        "the value of {key} at line {line}, column {column} spans more than one line ({what}); \
         write the whole value on line {line}"
    )]
    MultiLine {
        key: String,
        line: usize,
        column: usize,
        what: String,
    },

    #[error("the value of {key} at line {line}, column {column} cannot be read: {problem}; {fix}")]
    InvalidValue {
        key: String,
        line: usize,
        column: usize,
        problem: &'static str,
        fix: &'static str,
    },

    #[error(
        "the value of {key} at line {line}, column {column} is a GitHub Actions expression \
         (`${{{{ ... }}}}`), not a literal version; replace it with a literal value, or stop \
         managing {key} with stackrel"
    )]
    Expression {
        key: String,
        line: usize,
        column: usize,
    },

    #[error("the new value for {key} {problem}; pass a single-line literal string")]
    InvalidNewValue { key: String, problem: &'static str },

    #[error("{key} is requested twice; pass each key once")]
    RepeatedKey { key: String },

    #[error(
        "internal error: after rewriting, {key} at line {line}, column {column} did not read back \
         as its new value; nothing should be written (please report this)"
    )]
    RewriteMismatch {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "line {line}, column {column} holds {what}, which YAML readers treat as a line break \
         (YAML 1.1 ones at least) but stackrel's editor does not, so the two would see different \
         keys; replace it with a plain newline, or remove it"
    )]
    LineBreak {
        key: String,
        line: usize,
        column: usize,
        what: &'static str,
    },

    #[error(
        "a second YAML document starts at line {line}, column {column} (after `---` or `...`); \
         GitHub Actions reads a workflow as one document, so remove the marker and what follows \
         it, or move that part to a file of its own"
    )]
    SecondDocument {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "the file is not valid YAML: a YAML parser stops at line {line}, column {column}; fix the \
         file there (GitHub Actions would reject the workflow too)"
    )]
    InvalidYaml {
        key: String,
        line: usize,
        column: usize,
    },

    #[error(
        "a YAML parser {what} for {key} (line {line}, column {column}), unlike stackrel's editor, \
         so stackrel does not touch it; write the entry as `{key}: <value>` on one line directly \
         under the top-level `env:` (please report this if it already is)"
    )]
    ParserDisagrees {
        key: String,
        line: usize,
        column: usize,
        what: &'static str,
    },

    #[error(
        "internal error: after rewriting {key}, a YAML parser {what} (line {line}, column \
         {column}); nothing should be written (please report this)"
    )]
    Unconfirmed {
        key: String,
        line: usize,
        column: usize,
        what: &'static str,
    },
}

impl PinError {
    /// The key the error is about; `env` when the shape of the `env:` mapping itself is wrong.
    pub fn key(&self) -> &str {
        match self {
            PinError::NoTopLevelEnv { key }
            | PinError::DuplicateEnv { key, .. }
            | PinError::FlowEnv { key, .. }
            | PinError::EnvNotMapping { key, .. }
            | PinError::BadIndentation { key, .. }
            | PinError::TabIndentation { key, .. }
            | PinError::UnsupportedEntry { key, .. }
            | PinError::MissingKey { key, .. }
            | PinError::OnlyNested { key, .. }
            | PinError::EnvAliased { key, .. }
            | PinError::EnvTagged { key, .. }
            | PinError::EnvKeyDecorated { key, .. }
            | PinError::DuplicateKey { key, .. }
            | PinError::EmptyValue { key, .. }
            | PinError::NotScalar { key, .. }
            | PinError::MultiLine { key, .. }
            | PinError::InvalidValue { key, .. }
            | PinError::Expression { key, .. }
            | PinError::InvalidNewValue { key, .. }
            | PinError::RepeatedKey { key }
            | PinError::RewriteMismatch { key, .. }
            | PinError::LineBreak { key, .. }
            | PinError::SecondDocument { key, .. }
            | PinError::InvalidYaml { key, .. }
            | PinError::ParserDisagrees { key, .. }
            | PinError::Unconfirmed { key, .. } => key,
        }
    }

    /// The 1-based line and column the error points at, when it concerns a place in the file.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        match self {
            PinError::NoTopLevelEnv { .. }
            | PinError::InvalidNewValue { .. }
            | PinError::RepeatedKey { .. } => None,
            PinError::DuplicateEnv { line, column, .. }
            | PinError::FlowEnv { line, column, .. }
            | PinError::EnvNotMapping { line, column, .. }
            | PinError::BadIndentation { line, column, .. }
            | PinError::TabIndentation { line, column, .. }
            | PinError::UnsupportedEntry { line, column, .. }
            | PinError::MissingKey { line, column, .. }
            | PinError::OnlyNested { line, column, .. }
            | PinError::EnvAliased { line, column, .. }
            | PinError::EnvTagged { line, column, .. }
            | PinError::EnvKeyDecorated { line, column, .. }
            | PinError::DuplicateKey { line, column, .. }
            | PinError::EmptyValue { line, column, .. }
            | PinError::NotScalar { line, column, .. }
            | PinError::MultiLine { line, column, .. }
            | PinError::InvalidValue { line, column, .. }
            | PinError::Expression { line, column, .. }
            | PinError::RewriteMismatch { line, column, .. }
            | PinError::LineBreak { line, column, .. }
            | PinError::SecondDocument { line, column, .. }
            | PinError::InvalidYaml { line, column, .. }
            | PinError::ParserDisagrees { line, column, .. }
            | PinError::Unconfirmed { line, column, .. } => Some((*line, *column)),
        }
    }
}

/// Reads the current values of `keys` (the "live" side of a diff), in the order of `keys`.
pub fn read_pins(text: &str, keys: &[&str]) -> Result<Vec<PinSite>, PinError> {
    read_confirmed(text, keys).map(|(sites, _)| sites)
}

/// Returns the new file text with each key's value replaced; the text unchanged if already equal.
///
/// Only the bytes of the value tokens change. A value keeps its quoting style, except that a
/// plain value YAML would not read back as the same string is written double-quoted. A value
/// YAML reads as something other than a string never counts as equal, so it is rewritten quoted.
pub fn set_pins(text: &str, values: &[(&str, &str)]) -> Result<String, PinError> {
    let keys: Vec<&str> = values.iter().map(|&(key, _)| key).collect();
    reject_repeated(&keys)?;
    for &(key, value) in values {
        check_new_value(key, value)?;
    }
    let (sites, before) = read_confirmed(text, &keys)?;
    let mut edits: Vec<(Range<usize>, String)> = sites
        .iter()
        .zip(values)
        .filter(|(site, (_, value))| !site.is_pinned_to(value))
        .map(|(site, &(_, value))| (site.value_range.clone(), render(value, site.style)))
        .collect();
    if edits.is_empty() {
        return Ok(text.to_owned());
    }
    edits.sort_by_key(|(range, _)| range.start);

    let grown: usize = edits.iter().map(|(_, new)| new.len()).sum();
    let mut out = String::with_capacity(text.len() + grown);
    let mut at = 0;
    for (range, new) in &edits {
        out.push_str(text.get(at..range.start).unwrap_or_default());
        out.push_str(new);
        at = range.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());

    // The caller writes this text to a release branch; reading it back is cheap insurance that
    // the splice and the quoting did what was meant, first as the scanner reads it...
    let reread = read_confirmed(&out, &keys);
    for (i, (site, &(_, value))) in sites.iter().zip(values).enumerate() {
        let ok = match &reread {
            Ok((new_sites, _)) => new_sites.get(i).is_some_and(|s| s.is_pinned_to(value)),
            Err(_) => false,
        };
        if !ok {
            return Err(PinError::RewriteMismatch {
                key: site.key.clone(),
                line: site.line,
                column: site.column,
            });
        }
    }
    // ...then as a YAML parser does, over the whole document.
    if let Ok((_, after)) = &reread {
        confirm_readings(&before, after, values)?;
    }
    Ok(out)
}

/// Confirms with a YAML parser that `after` reads exactly as `before` except that each key of
/// `values` under the top-level `env:` reads as its new value, a string in every YAML schema.
/// [`set_pins`] checks its own result this way; this is for anyone holding both texts.
pub fn confirm_edit(before: &str, after: &str, values: &[(&str, &str)]) -> Result<(), PinError> {
    let first = values.first().map_or("env", |&(key, _)| key);
    let unreadable =
        |failure| unconfirmed(first, failure_position(failure), "cannot read the file");
    let before = yaml::Reading::parse(before).map_err(unreadable)?;
    let after = yaml::Reading::parse(after).map_err(unreadable)?;
    confirm_readings(&before, &after, values)
}

fn confirm_readings(
    before: &yaml::Reading<'_>,
    after: &yaml::Reading<'_>,
    values: &[(&str, &str)],
) -> Result<(), PinError> {
    let mut pins = Vec::with_capacity(values.len());
    for &(key, value) in values {
        let yaml::Found::Scalar { index, .. } = before.env_value(key) else {
            return Err(unconfirmed(
                key,
                (1, 1),
                "finds no such pin in the original",
            ));
        };
        let yaml::Found::Scalar {
            index: new_index,
            value: new_value,
            style,
            ..
        } = after.env_value(key)
        else {
            return Err(unconfirmed(key, after.position(index), "finds no such pin"));
        };
        let typed = style == Some(ScalarStyle::Plain) && plain_type(new_value) != YamlType::String;
        if new_index != index || new_value != value || style.is_none() || typed {
            let what = "reads something other than the new string";
            return Err(unconfirmed(key, after.position(new_index), what));
        }
        pins.push(index);
    }
    if let Some(at) = before.first_difference(after, &pins) {
        let key = values.first().map_or("env", |&(key, _)| key);
        let what = "reads a change outside the pins";
        return Err(unconfirmed(key, after.position(at), what));
    }
    Ok(())
}

fn unconfirmed(key: &str, (line, column): (usize, usize), what: &'static str) -> PinError {
    PinError::Unconfirmed {
        key: key.to_owned(),
        line,
        column,
        what,
    }
}

fn failure_position(failure: yaml::Failure) -> (usize, usize) {
    match failure {
        yaml::Failure::Syntax { line, column } | yaml::Failure::SecondDocument { line, column } => {
            (line, column)
        }
    }
}

/// Reads `keys` with the scanner and confirms each with the parser; also returns the parser's
/// reading, so that an edit can be compared with it.
fn read_confirmed<'t>(
    text: &'t str,
    keys: &[&str],
) -> Result<(Vec<PinSite>, yaml::Reading<'t>), PinError> {
    let Some(first) = keys.first() else {
        return Ok((Vec::new(), yaml::Reading::empty(text)));
    };
    reject_repeated(keys)?;
    check_line_breaks(text)?;
    // A second document is reported before the scanner's findings, which it would explain
    // (a second `env:` is "the top-level `env:` appears twice" to the scanner). A syntax error
    // is reported after them: the scanner names most of them better.
    let parsed = yaml::Reading::parse(text);
    if let Err(yaml::Failure::SecondDocument { line, column }) = parsed {
        return Err(PinError::SecondDocument {
            key: "env".to_owned(),
            line,
            column,
        });
    }
    let explain = |e| explain_missing(e, parsed.as_ref().ok());
    let env = scan_env(text, first).map_err(explain)?;
    let sites = keys
        .iter()
        .map(|key| env.site(key).map_err(explain))
        .collect::<Result<Vec<_>, _>>()?;
    let reading = parsed.map_err(|failure| {
        let (line, column) = failure_position(failure);
        PinError::InvalidYaml {
            key: "env".to_owned(),
            line,
            column,
        }
    })?;
    if let Some((line, column, alias)) = reading.env_alias() {
        return Err(PinError::EnvAliased {
            key: "env".to_owned(),
            line,
            column,
            alias,
        });
    }
    for site in &sites {
        confirm_site(text, &reading, site)?;
    }
    Ok((sites, reading))
}

/// Says where a pin the scanner finds no top-level `env:` or key for is, when the parser finds
/// it somewhere else: under a nested `env:`, or under an `env` key it does not recognise.
fn explain_missing(error: PinError, reading: Option<&yaml::Reading<'_>>) -> PinError {
    let Some(reading) = reading else {
        return error;
    };
    let (key, env_line) = match &error {
        PinError::MissingKey { key, line, .. } => (key, Some(*line)),
        PinError::NoTopLevelEnv { key } => {
            if let Some((line, column)) = reading.decorated_env_key() {
                let key = "env".to_owned();
                return PinError::EnvKeyDecorated { key, line, column };
            }
            (key, None)
        }
        _ => return error,
    };
    let nested = reading.nested_env_keys(key);
    let Some(first) = nested.first() else {
        return error;
    };
    PinError::OnlyNested {
        key: key.clone(),
        line: first.line,
        column: first.column,
        path: first.path.clone(),
        env_line,
        others: nested.len() - 1,
    }
}

/// Checks that the parser reads `site` as the scanner did: same place, quoting and text.
fn confirm_site(text: &str, reading: &yaml::Reading<'_>, site: &PinSite) -> Result<(), PinError> {
    let what = match reading.env_value(&site.key) {
        yaml::Found::Missing => "finds no such key under the top-level `env:`",
        yaml::Found::Twice => "finds the key more than once",
        yaml::Found::NotPlainScalar { .. } => "reads a value that is not a single scalar",
        yaml::Found::Scalar {
            start,
            value,
            style,
            ..
        } => {
            // A plain value's `site.value` may be the number GitHub Actions makes of it; the
            // parser reports what is written.
            let written = match site.style {
                ScalarStyle::Plain => text.get(site.value_range.clone()).unwrap_or_default(),
                ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => site.value.as_str(),
            };
            if start != site.value_range.start || style != Some(site.style) {
                "finds the value somewhere else"
            } else if value != written {
                "reads another value"
            } else {
                return Ok(());
            }
        }
    };
    Err(PinError::ParserDisagrees {
        key: site.key.clone(),
        line: site.line,
        column: site.column,
        what,
    })
}

/// Refuses line breaks that YAML readers see and the scanner (which splits at `\n` and
/// strips a `\r` before it) does not. YAML 1.2 breaks lines at a lone CR; YAML 1.1 also at NEL,
/// U+2028 and U+2029. Anywhere in the file they can move a key into or out of a comment or value.
fn check_line_breaks(text: &str) -> Result<(), PinError> {
    let (mut line, mut line_start) = (1, 0);
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let what = match c {
            '\n' => {
                (line, line_start) = (line + 1, at + 1);
                continue;
            }
            '\r' if chars.peek().is_some_and(|&(_, next)| next == '\n') => continue,
            '\r' => "a carriage return not followed by a newline",
            '\u{85}' => "a next-line character (U+0085)",
            '\u{2028}' => "a line separator (U+2028)",
            '\u{2029}' => "a paragraph separator (U+2029)",
            _ => continue,
        };
        let before = text.get(line_start..at).unwrap_or_default();
        let before = match line {
            1 => before.strip_prefix('\u{feff}').unwrap_or(before),
            _ => before,
        };
        let column = before.chars().count() + 1;
        return Err(PinError::LineBreak {
            key: "env".to_owned(),
            line,
            column,
            what,
        });
    }
    Ok(())
}

fn reject_repeated(keys: &[&str]) -> Result<(), PinError> {
    for (i, key) in keys.iter().enumerate() {
        if keys.iter().take(i).any(|earlier| earlier == key) {
            return Err(PinError::RepeatedKey {
                key: (*key).to_owned(),
            });
        }
    }
    Ok(())
}

fn check_new_value(key: &str, value: &str) -> Result<(), PinError> {
    let problem = if value.chars().any(is_forbidden_char) {
        "contains a line break, tab or other control character"
    } else if value.contains("${{") {
        "contains `${{`, which GitHub Actions would evaluate as an expression"
    } else {
        return Ok(());
    };
    Err(PinError::InvalidNewValue {
        key: key.to_owned(),
        problem,
    })
}

/// Characters that cannot sit in a one-line value: C0/C1 controls (tab and line breaks
/// included), the Unicode line and paragraph separators, a stray BOM and the two non-characters
/// YAML excludes from its printable set.
fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn render(value: &str, style: ScalarStyle) -> String {
    match style {
        ScalarStyle::Plain if !plain_needs_quotes(value) => value.to_owned(),
        ScalarStyle::SingleQuoted => format!("'{}'", value.replace('\'', "''")),
        ScalarStyle::Plain | ScalarStyle::DoubleQuoted => {
            let mut out = String::with_capacity(value.len() + 2);
            out.push('"');
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            out
        }
    }
}

/// Whether `value`, written plain after `KEY: `, would fail to read back as that same string:
/// either it is not a valid single plain scalar, or a YAML 1.1 or 1.2 (core schema) reader would
/// resolve it to something other than a string. Both schemas count because tools that read the
/// workflow differ; quoting a string needlessly is harmless, missing one is not.
fn plain_needs_quotes(value: &str) -> bool {
    let (Some(first), Some(last)) = (value.chars().next(), value.chars().next_back()) else {
        return true;
    };
    first.is_whitespace()
        || last.is_whitespace()
        || "-?:#&*!|>%@`'\"[]{},".contains(first)
        || value.contains(": ")
        || value.contains(" #")
        || value.ends_with(':')
        || plain_type(value) != YamlType::String
}

/// What a plain scalar reads as: first by the YAML 1.2 core schema, as GitHub Actions applies
/// it, then by YAML 1.1 for what that schema leaves a string.
fn plain_type(value: &str) -> YamlType {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => YamlType::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => YamlType::Boolean,
        _ if core_number(value).is_some() => YamlType::Number,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "on" | "On" | "ON"
        | "off" | "Off" | "OFF" => YamlType::Yaml11Boolean,
        "=" | "<<" => YamlType::Yaml11Key,
        _ if is_yaml_number(value) => YamlType::Yaml11Number,
        _ if is_yaml_timestamp(value) => YamlType::Yaml11Timestamp,
        _ => YamlType::String,
    }
}

/// The string GitHub Actions passes to a job for a plain scalar of type `yaml_type`: a string,
/// or a YAML 1.1-only type, as written; null as an empty string; a boolean in lower case; a
/// number as the runner formats it. Err for a number the runner refuses (an out-of-range
/// hexadecimal or octal integer).
fn github_string(written: &str, yaml_type: YamlType) -> Result<String, &'static str> {
    Ok(match yaml_type {
        YamlType::Null => String::new(),
        YamlType::Boolean => written.to_ascii_lowercase(),
        YamlType::Number => match core_number(written) {
            Some(Ok(number)) => format_g15(number),
            Some(Err(problem)) => return Err(problem),
            None => written.to_owned(),
        },
        _ => written.to_owned(),
    })
}

/// A number of the YAML 1.2 core schema, parsed as GitHub Actions' runner does: integers and
/// floats into a double, `0x` and `0o` integers into 32 bits (two's complement, as .NET's parse
/// of a hexadecimal string does). `None` when `value` is not such a number.
fn core_number(value: &str) -> Option<Result<f64, &'static str>> {
    const TOO_BIG: &str = "it is a hexadecimal or octal number too large for GitHub Actions";
    match value {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(Ok(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Some(Ok(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Ok(f64::NAN)),
        _ => {}
    }
    let radix = |digits: &str, radix: u32| {
        let digits = digits.trim_start_matches('0');
        let bits = u64::from_str_radix(if digits.is_empty() { "0" } else { digits }, radix);
        match bits.ok().and_then(|b| u32::try_from(b).ok()) {
            Some(bits) => Ok(f64::from(bits.cast_signed())),
            None => Err(TOO_BIG),
        }
    };
    if let Some(hex) = value.strip_prefix("0x") {
        let ok = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        return ok.then(|| radix(hex, 16));
    }
    if let Some(octal) = value.strip_prefix("0o") {
        let ok = !octal.is_empty() && octal.bytes().all(|b| matches!(b, b'0'..=b'7'));
        return ok.then(|| radix(octal, 8));
    }
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, which covers [-+]?[0-9]+ too.
    let body = value.strip_prefix(['-', '+']).unwrap_or(value);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && (!whole.is_empty() || !fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    let unreadable = "it is a number GitHub Actions cannot read";
    (mantissa_ok && exponent_ok).then(|| value.parse::<f64>().map_err(|_| unreadable))
}

/// Formats a number as .NET's `ToString("G15")`, which GitHub Actions' runner uses to turn a
/// number into a string: at most 15 significant digits, trailing zeros dropped, and scientific
/// notation (`1E+15`, `1E-05`) when the exponent is 15 or more, or -5 or less.
fn format_g15(number: f64) -> String {
    if number.is_nan() {
        return "NaN".to_owned();
    }
    if number.is_infinite() {
        return if number > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_owned();
    }
    let sign = if number.is_sign_negative() { "-" } else { "" };
    if number == 0.0 {
        return format!("{sign}0");
    }
    // `{:.14e}` rounds to 15 significant digits: `d.ddddddddddddddde<exp>`.
    let scientific = format!("{:.14e}", number.abs());
    let (mantissa, exp) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let (first, rest) = digits.split_at(1.min(digits.len()));
    if !(-4..15).contains(&exp) {
        let point = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{point}{rest}E{exp_sign}{:02}", exp.abs());
    }
    let body = if exp < 0 {
        format!("0.{}{digits}", "0".repeat(exp.unsigned_abs() as usize - 1))
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    format!("{sign}{body}")
}

/// Integers and floats of YAML 1.1 (as PyYAML resolves them: `012` octal, `1_000`, `0b101`,
/// `1:30` sexagesimal) and of the 1.2 core schema (`0o17`, `1e3`), signed or not.
fn is_yaml_number(value: &str) -> bool {
    let body = value.strip_prefix(['+', '-']).unwrap_or(value);
    if matches!(body, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let all = |s: &str, ok: fn(u8) -> bool| !s.is_empty() && s.bytes().all(ok);
    if let Some(digits) = body.strip_prefix("0x") {
        return all(digits, |b| b.is_ascii_hexdigit() || b == b'_');
    }
    if let Some(digits) = body.strip_prefix("0o") {
        return all(digits, |b| matches!(b, b'0'..=b'7' | b'_'));
    }
    if let Some(digits) = body.strip_prefix("0b") {
        return all(digits, |b| matches!(b, b'0' | b'1' | b'_'));
    }
    if body.contains(':') {
        // Base 60: `190:20:30` or `190:20:30.15`.
        let mut parts = body.split(':');
        let head_ok = parts.next().is_some_and(|h| {
            h.starts_with(|c: char| c.is_ascii_digit()) && all(h, is_digit_or_underscore)
        });
        let rest: Vec<&str> = parts.collect();
        let tail_ok = rest.iter().enumerate().all(|(i, part)| {
            let whole = if i + 1 == rest.len() {
                part.split_once('.').map_or(*part, |(whole, frac)| {
                    if all(frac, is_digit_or_underscore) || frac.is_empty() {
                        whole
                    } else {
                        ""
                    }
                })
            } else {
                part
            };
            (1..=2).contains(&whole.len()) && all(whole, |b| b.is_ascii_digit())
        });
        return head_ok && tail_ok;
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(exp) = exponent {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if !all(digits, |b| b.is_ascii_digit()) {
            return false;
        }
    }
    all(mantissa, |b| is_digit_or_underscore(b) || b == b'.')
        && mantissa.bytes().filter(|&b| b == b'.').count() <= 1
        && mantissa.bytes().any(is_digit_or_underscore)
}

fn is_digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// YAML 1.1 timestamps: `2024-10-01`, or that date followed by a time. Anything that starts like
/// a date and continues with a time separator is treated as one.
fn is_yaml_timestamp(value: &str) -> bool {
    let b = value.as_bytes();
    let digits = |from: usize, min: usize, max: usize| {
        let n = b
            .iter()
            .skip(from)
            .take(max)
            .take_while(|d| d.is_ascii_digit())
            .count();
        (n >= min).then_some(from + n)
    };
    let date_end = digits(0, 4, 4)
        .filter(|&i| b.get(i) == Some(&b'-'))
        .and_then(|i| digits(i + 1, 1, 2))
        .filter(|&i| b.get(i) == Some(&b'-'))
        .and_then(|i| digits(i + 1, 1, 2));
    match date_end {
        Some(end) => matches!(b.get(end), None | Some(b'T' | b't' | b' ' | b'\t')),
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning

/// A line of the file without its terminator (`\n` or `\r\n`) and, on line 1, without a BOM.
struct Line<'a> {
    /// Byte offset of `text` in the file.
    start: usize,
    text: &'a str,
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let body = raw.strip_suffix('\n').unwrap_or(raw);
        let body = body.strip_suffix('\r').unwrap_or(body);
        let (skip, body) = match body.strip_prefix('\u{feff}') {
            Some(rest) if start == 0 => ('\u{feff}'.len_utf8(), rest),
            _ => (0, body),
        };
        lines.push(Line {
            start: start + skip,
            text: body,
        });
        start += raw.len();
    }
    lines
}

/// One `KEY: ...` line directly under the top-level `env:`.
struct Entry<'a> {
    key: String,
    line: usize,
    text: &'a str,
    /// Byte offset of `text` in the file.
    start: usize,
    key_at: usize,
    /// Byte offset in `text` just past the `:` that ends the key.
    after_colon: usize,
    /// Nothing but whitespace or a comment follows the colon.
    inline_empty: bool,
    /// The first following line that still belongs to this entry's value (1-based), with its text.
    continuation: Option<(usize, &'a str)>,
}

struct EnvBlock<'a> {
    /// 1-based line of the `env:` key.
    line: usize,
    entries: Vec<Entry<'a>>,
}

fn scan_env<'a>(text: &'a str, first_key: &str) -> Result<EnvBlock<'a>, PinError> {
    let lines = split_lines(text);
    let (env_index, env_after_colon) = find_top_level_env(&lines, first_key)?;
    let env_line = env_index + 1;
    let env_text = lines.get(env_index).map_or("", |l| l.text);
    let v = skip_properties(env_text, skip_ws(env_text, env_after_colon), env_line)?;
    match env_text.as_bytes().get(v) {
        None | Some(b'#') => {}
        Some(b'{') => return Err(flow_env(env_line, column_at(env_text, v))),
        Some(_) => return Err(env_not_mapping(env_line, column_at(env_text, v))),
    }

    let mut entries: Vec<Entry<'a>> = Vec::new();
    let mut entry_indent: Option<usize> = None;
    let mut i = env_index;
    loop {
        i += 1;
        let Some(line) = lines.get(i) else { break };
        let t = line.text;
        let line_no = i + 1;
        if is_blank_or_comment(t) {
            continue;
        }
        let indent = t.bytes().take_while(|&b| b == b' ').count();
        let rest = &t[indent..];
        let tab_led = rest.starts_with('\t');
        if indent == 0 && !tab_led {
            // Column 1 content ends the mapping (a comment there does not, and was skipped).
            if entry_indent.is_none() && is_sequence_item(rest) {
                return Err(env_not_mapping(line_no, 1));
            }
            break;
        }
        if let Some(m) = entry_indent
            && indent > m
        {
            if let Some(last) = entries.last_mut() {
                last.continuation.get_or_insert((line_no, t));
            }
            continue;
        }
        if tab_led {
            return Err(PinError::TabIndentation {
                key: "env".to_owned(),
                line: line_no,
                column: indent + 1,
            });
        }
        let m = *entry_indent.get_or_insert(indent);
        if indent < m {
            return Err(PinError::BadIndentation {
                key: "env".to_owned(),
                line: line_no,
                column: indent + 1,
                expected_column: m + 1,
            });
        }
        i = push_entry(&lines, i, indent, &mut entries)?;
    }
    Ok(EnvBlock {
        line: env_line,
        entries,
    })
}

/// Skips the anchor (`&pins`) and tag of the `env:` value starting at byte `v` of its line,
/// returning where what follows them starts. An anchored mapping is still the mapping (where
/// it is aliased is refused later, by the parser's reading); a tag other than `!!map` changes
/// what a YAML reader makes of it, so it is refused.
fn skip_properties(t: &str, mut v: usize, line: usize) -> Result<usize, PinError> {
    while let Some(&b @ (b'&' | b'!')) = t.as_bytes().get(v) {
        let end = t[v..]
            .find(|c: char| c.is_whitespace())
            .map_or(t.len(), |n| v + n);
        let token = &t[v..end];
        if b == b'!' && !matches!(token, "!!map" | "!<tag:yaml.org,2002:map>") {
            return Err(PinError::EnvTagged {
                key: "env".to_owned(),
                line,
                column: column_at(t, v),
                tag: token.chars().take(64).collect(),
            });
        }
        v = skip_ws(t, end);
    }
    Ok(v)
}

/// Reads the entry line `i` (indented by `indent`, the entries' indentation) into `entries`,
/// or as a continuation of the last one; returns the index of the line the entry ends on.
fn push_entry<'a>(
    lines: &[Line<'a>],
    i: usize,
    indent: usize,
    entries: &mut Vec<Entry<'a>>,
) -> Result<usize, PinError> {
    let Some(line) = lines.get(i) else {
        return Ok(i);
    };
    let (t, line_no) = (line.text, i + 1);
    let rest = &t[indent..];
    let column = column_at(t, indent);
    if is_sequence_item(rest) {
        return match entries.last_mut() {
            // `KEY:` followed by `- item` at the same indentation is a valid compact
            // sequence value of KEY.
            Some(last) if last.inline_empty => {
                last.continuation.get_or_insert((line_no, t));
                Ok(i)
            }
            Some(_) => Err(unsupported(line_no, column, "a sequence item (`- `)")),
            None => Err(env_not_mapping(line_no, column)),
        };
    }
    if entries.is_empty() {
        if rest.starts_with('{') {
            return Err(flow_env(line_no, column));
        }
        if rest.starts_with('[') {
            return Err(env_not_mapping(line_no, column));
        }
    }
    if rest.starts_with('?') && rest.as_bytes().get(1).is_none_or(|&b| is_ws(b)) {
        return Err(unsupported(line_no, column, "an explicit key (`? `)"));
    }
    if rest.starts_with(['!', '&']) {
        let what = "a key with a tag or an anchor before it (`!!str KEY:`, `&a KEY:`)";
        return Err(unsupported(line_no, column, what));
    }
    let Some(key) = parse_key(rest) else {
        return Err(if entries.is_empty() {
            env_not_mapping(line_no, column)
        } else {
            unsupported(line_no, column, "a line without a `KEY:` at its start")
        });
    };
    let after_colon = indent + key.after_colon;
    let v = skip_ws(t, after_colon);
    let last = last_line_of_value(lines, i, after_colon);
    let continuation = lines
        .get(i + 1)
        .filter(|_| last > i)
        .map(|next| (i + 2, next.text));
    entries.push(Entry {
        key: key.key,
        line: line_no,
        text: t,
        start: line.start,
        key_at: indent,
        after_colon,
        inline_empty: t.as_bytes().get(v).is_none_or(|&b| b == b'#'),
        continuation,
    });
    Ok(last)
}

/// Finds the `env` key at column 1, returning its line index and the offset past its colon.
fn find_top_level_env(lines: &[Line<'_>], first_key: &str) -> Result<(usize, usize), PinError> {
    let mut found: Option<usize> = None;
    let mut env = None;
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        let t = line.text;
        let top_level = !t.is_empty() && !t.starts_with([' ', '\t', '#']) && !is_document_marker(t);
        if top_level && let Some(key) = parse_key(t) {
            if key.key == "env" {
                if let Some(first) = found {
                    return Err(PinError::DuplicateEnv {
                        key: "env".to_owned(),
                        line: i + 1,
                        column: 1,
                        first_line: first + 1,
                    });
                }
                found = Some(i);
                env = Some((i, key.after_colon));
            }
            // A quoted value may run over lines that look like top-level keys.
            i = last_line_of_value(lines, i, key.after_colon);
        }
        i += 1;
    }
    env.ok_or_else(|| PinError::NoTopLevelEnv {
        key: first_key.to_owned(),
    })
}

/// The index of the last line of the value that starts after `after_colon` on line `i`: later
/// than `i` only for a quoted scalar left open on line `i`.
fn last_line_of_value(lines: &[Line<'_>], i: usize, after_colon: usize) -> usize {
    let Some(t) = lines.get(i).map(|l| l.text) else {
        return i;
    };
    let v = skip_ws(t, after_colon);
    let quote = match t.as_bytes().get(v) {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => return i,
    };
    if quote_end(t, v + 1, quote).is_some() {
        return i;
    }
    for (j, line) in lines.iter().enumerate().skip(i + 1) {
        if quote_end(line.text, 0, quote).is_some() {
            return j;
        }
    }
    lines.len().saturating_sub(1).max(i)
}

/// Where the quoted scalar continuing at byte `from` closes on this line (the offset past the
/// closing quote), if it does.
fn quote_end(s: &str, from: usize, quote: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = from;
    while let Some(&c) = b.get(i) {
        if c == quote {
            if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += if quote == b'"' && c == b'\\' { 2 } else { 1 };
    }
    None
}

struct KeyToken {
    key: String,
    /// Offset just past the `:` that ends the key.
    after_colon: usize,
}

/// Parses `KEY:` at the start of `s` (plain, single- or double-quoted key).
fn parse_key(s: &str) -> Option<KeyToken> {
    let b = s.as_bytes();
    let first = *b.first()?;
    let (key, end) = match first {
        b'"' => match scan_double(s, 0) {
            Ok(Quoted::Closed { value, end }) => (value, end),
            _ => return None,
        },
        b'\'' => match scan_single(s, 0) {
            Quoted::Closed { value, end } => (value, end),
            Quoted::Unterminated => return None,
        },
        // Anchored, tagged, aliased, flow or block-indicated keys are not plain `KEY:` lines.
        b'&' | b'*' | b'!' | b'[' | b']' | b'{' | b'}' | b'|' | b'>' | b'%' | b'@' | b'`'
        | b',' | b'#' => return None,
        b'-' | b'?' | b':' if b.get(1).is_none_or(|&c| is_ws(c)) => return None,
        _ => {
            let mut i = 0;
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b':') if b.get(i + 1).is_none_or(|&c| is_ws(c)) => break,
                    Some(b'#') if i > 0 && b.get(i - 1).is_some_and(|&c| is_ws(c)) => {
                        return None;
                    }
                    _ => i += 1,
                }
            }
            let key = s[..i].trim_end_matches([' ', '\t']);
            return Some(KeyToken {
                key: key.to_owned(),
                after_colon: i + 1,
            });
        }
    };
    let colon = skip_ws(s, end);
    let ends_key = b.get(colon) == Some(&b':') && b.get(colon + 1).is_none_or(|&c| is_ws(c));
    ends_key.then(|| KeyToken {
        key,
        after_colon: colon + 1,
    })
}

enum Quoted {
    /// `end` is the offset just past the closing quote.
    Closed { value: String, end: usize },
    /// The closing quote is not on this line.
    Unterminated,
}

/// Decodes the single-quoted scalar opening at `open` (`''` stands for `'`).
fn scan_single(s: &str, open: usize) -> Quoted {
    let b = s.as_bytes();
    let mut value = String::new();
    let mut piece = open + 1;
    let mut i = open + 1;
    loop {
        match b.get(i) {
            None => return Quoted::Unterminated,
            Some(b'\'') if b.get(i + 1) == Some(&b'\'') => {
                value.push_str(&s[piece..=i]);
                i += 2;
                piece = i;
            }
            Some(b'\'') => {
                value.push_str(&s[piece..i]);
                return Quoted::Closed { value, end: i + 1 };
            }
            Some(_) => i += 1,
        }
    }
}

/// Decodes the double-quoted scalar opening at `open`, with every YAML 1.2 escape.
fn scan_double(s: &str, open: usize) -> Result<Quoted, &'static str> {
    let body = &s[open + 1..];
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                return Ok(Quoted::Closed {
                    value,
                    end: open + 1 + i + 1,
                });
            }
            '\\' => {
                // A backslash ending the line escapes the line break: a multi-line scalar.
                let Some((_, escaped)) = chars.next() else {
                    return Ok(Quoted::Unterminated);
                };
                value.push(match escaped {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex_escape(&mut chars, 2)?,
                    'u' => hex_escape(&mut chars, 4)?,
                    'U' => hex_escape(&mut chars, 8)?,
                    _ => return Err("it contains a backslash escape YAML does not define"),
                });
            }
            _ => value.push(c),
        }
    }
    Ok(Quoted::Unterminated)
}

fn hex_escape(chars: &mut std::str::CharIndices<'_>, digits: usize) -> Result<char, &'static str> {
    let mut code: u32 = 0;
    for _ in 0..digits {
        let digit = chars
            .next()
            .and_then(|(_, c)| c.to_digit(16))
            .ok_or("it contains a `\\x`, `\\u` or `\\U` escape without enough hex digits")?;
        code = code * 16 + digit;
    }
    char::from_u32(code).ok_or("it contains an escape for a code point that is not a character")
}

impl EnvBlock<'_> {
    fn site(&self, key: &str) -> Result<PinSite, PinError> {
        let mut matches = self.entries.iter().filter(|e| e.key == key);
        let Some(entry) = matches.next() else {
            return Err(PinError::MissingKey {
                key: key.to_owned(),
                line: self.line,
                column: 1,
            });
        };
        if let Some(again) = matches.next() {
            return Err(PinError::DuplicateKey {
                key: key.to_owned(),
                line: again.line,
                column: column_at(again.text, again.key_at),
                first_line: entry.line,
            });
        }
        entry.site()
    }
}

const QUOTE_IT: &str = "put the value in double quotes";

impl Entry<'_> {
    fn site(&self) -> Result<PinSite, PinError> {
        let t = self.text;
        let v = skip_ws(t, self.after_colon);
        let column = column_at(t, v);
        if self.inline_empty || v >= t.len() {
            return Err(self.missing_value());
        }
        let (value, end, style) = self.value_token(v, column)?;
        self.check_around_token(v, end, style, column)?;
        if value.contains("${{") {
            return Err(PinError::Expression {
                key: self.key.clone(),
                line: self.line,
                column,
            });
        }
        let yaml_type = match style {
            ScalarStyle::Plain => plain_type(&value),
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => YamlType::String,
        };
        let value = github_string(&value, yaml_type)
            .map_err(|problem| self.invalid(column, problem, QUOTE_IT))?;
        Ok(PinSite {
            key: self.key.clone(),
            value,
            yaml_type,
            value_range: self.start + v..self.start + end,
            line: self.line,
            column,
            style,
        })
    }

    /// The error for an entry with nothing after its colon: empty, or a value below its key.
    fn missing_value(&self) -> PinError {
        let (key, line) = (self.key.clone(), self.line);
        let column = column_at(self.text, self.key_at);
        match self.continuation {
            None => PinError::EmptyValue { key, line, column },
            Some((next_line, next)) => match block_value_kind(next) {
                Some(what) => PinError::NotScalar {
                    key,
                    line,
                    column,
                    what,
                },
                None => PinError::MultiLine {
                    key,
                    line,
                    column,
                    what: format!("it starts on line {next_line}, below its key"),
                },
            },
        }
    }

    /// Reads the value token starting at byte `v`: its value, its end and its style.
    fn value_token(
        &self,
        v: usize,
        column: usize,
    ) -> Result<(String, usize, ScalarStyle), PinError> {
        let (t, b) = (self.text, self.text.as_bytes());
        let multi = |what: &str| self.multi(column, what);
        let not_scalar = |what| self.not_scalar(column, what);
        let invalid = |problem, fix| self.invalid(column, problem, fix);
        let indicator_alone = b.get(v + 1).is_none_or(|&c| is_ws(c));
        Ok(match b.get(v).copied().unwrap_or_default() {
            b'"' => match scan_double(t, v) {
                Err(problem) => {
                    return Err(invalid(
                        problem,
                        "write `\\\\` for a backslash, `\\\"` for a quote",
                    ));
                }
                Ok(Quoted::Unterminated) => {
                    return Err(multi("its closing `\"` is not on the same line"));
                }
                Ok(Quoted::Closed { value, end }) => (value, end, ScalarStyle::DoubleQuoted),
            },
            b'\'' => match scan_single(t, v) {
                Quoted::Unterminated => {
                    return Err(multi("its closing `'` is not on the same line"));
                }
                Quoted::Closed { value, end } => (value, end, ScalarStyle::SingleQuoted),
            },
            b'|' => return Err(multi("a literal block scalar, `|`")),
            b'>' => return Err(multi("a folded block scalar, `>`")),
            b'&' => return Err(not_scalar("an anchor (`&name`)")),
            b'*' => return Err(not_scalar("an alias (`*name`)")),
            b'!' => return Err(not_scalar("a tag (`!tag`)")),
            b'{' => return Err(not_scalar("a flow mapping (`{ }`)")),
            b'[' => return Err(not_scalar("a flow sequence (`[ ]`)")),
            b'-' if indicator_alone => return Err(not_scalar("a sequence item (`- `)")),
            b'?' | b':' if indicator_alone => {
                return Err(invalid(
                    "it starts with `? ` or `: `, which YAML reads as part of a complex key",
                    QUOTE_IT,
                ));
            }
            b'%' | b'@' | b'`' | b',' | b']' | b'}' => {
                return Err(invalid(
                    "it starts with a character YAML reserves (`%`, `@`, a backquote, `,`, `]` \
                     or `}`)",
                    QUOTE_IT,
                ));
            }
            _ => {
                let end = plain_end(t, v);
                let raw = &t[v..end];
                if raw.contains(": ") || raw.contains(":\t") || raw.ends_with(':') {
                    return Err(invalid(
                        "it contains `: ` or ends with `:`, which YAML reads as a nested mapping",
                        QUOTE_IT,
                    ));
                }
                (raw.to_owned(), end, ScalarStyle::Plain)
            }
        })
    }

    /// Refuses control characters in the token, text after a closing quote, and a value that
    /// goes on below its line.
    fn check_around_token(
        &self,
        v: usize,
        end: usize,
        style: ScalarStyle,
        column: usize,
    ) -> Result<(), PinError> {
        let t = self.text;
        if t[v..end].chars().any(|c| c != '\t' && is_forbidden_char(c)) {
            return Err(self.invalid(
                column,
                "it contains a control character",
                "remove it, or write it as an escape inside double quotes",
            ));
        }
        if style != ScalarStyle::Plain {
            let after = skip_ws(t, end);
            let ok = match t.as_bytes().get(after) {
                None => true,
                Some(b'#') => after > end,
                Some(_) => false,
            };
            if !ok {
                return Err(self.invalid(
                    column,
                    "text follows its closing quote",
                    "remove it, or make it a comment with a space before `#`",
                ));
            }
        }
        if let Some((next_line, _)) = self.continuation {
            return Err(self.multi(column, &format!("it continues on line {next_line}")));
        }
        Ok(())
    }

    fn multi(&self, column: usize, what: &str) -> PinError {
        PinError::MultiLine {
            key: self.key.clone(),
            line: self.line,
            column,
            what: what.to_owned(),
        }
    }

    fn not_scalar(&self, column: usize, what: &'static str) -> PinError {
        PinError::NotScalar {
            key: self.key.clone(),
            line: self.line,
            column,
            what,
        }
    }

    fn invalid(&self, column: usize, problem: &'static str, fix: &'static str) -> PinError {
        PinError::InvalidValue {
            key: self.key.clone(),
            line: self.line,
            column,
            problem,
            fix,
        }
    }
}

/// What a value that starts on the line below its key is, when it is not a scalar.
fn block_value_kind(next: &str) -> Option<&'static str> {
    let rest = next.trim_start_matches(' ');
    if is_sequence_item(rest) {
        Some("a block sequence")
    } else if rest.starts_with('{') {
        Some("a flow mapping")
    } else if rest.starts_with('[') {
        Some("a flow sequence")
    } else if rest.starts_with(['&', '*', '!']) {
        Some("an anchor, alias or tag")
    } else if parse_key(rest).is_some() {
        Some("a nested mapping")
    } else {
        None
    }
}

/// End of a plain scalar starting at `from`: before a ` #` comment and trailing whitespace.
fn plain_end(t: &str, from: usize) -> usize {
    let b = t.as_bytes();
    let mut end = (from + 1..b.len())
        .find(|&i| b.get(i) == Some(&b'#') && b.get(i - 1).is_some_and(|&c| is_ws(c)))
        .unwrap_or(b.len());
    while end > from && b.get(end - 1).is_some_and(|&c| is_ws(c)) {
        end -= 1;
    }
    end
}

fn flow_env(line: usize, column: usize) -> PinError {
    PinError::FlowEnv {
        key: "env".to_owned(),
        line,
        column,
    }
}

fn env_not_mapping(line: usize, column: usize) -> PinError {
    PinError::EnvNotMapping {
        key: "env".to_owned(),
        line,
        column,
    }
}

fn unsupported(line: usize, column: usize, what: &'static str) -> PinError {
    PinError::UnsupportedEntry {
        key: "env".to_owned(),
        line,
        column,
        what,
    }
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_ws(s: &str, from: usize) -> usize {
    let b = s.as_bytes();
    let mut i = from;
    while b.get(i).is_some_and(|&c| is_ws(c)) {
        i += 1;
    }
    i
}

fn is_blank_or_comment(t: &str) -> bool {
    let rest = t.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with('#')
}

fn is_sequence_item(s: &str) -> bool {
    s.starts_with('-') && s.as_bytes().get(1).is_none_or(|&b| is_ws(b))
}

fn is_document_marker(t: &str) -> bool {
    (t.starts_with("---") || t.starts_with("...")) && t.as_bytes().get(3).is_none_or(|&b| is_ws(b))
}

/// 1-based character column of byte offset `at` in a line.
fn column_at(t: &str, at: usize) -> usize {
    t.get(..at).map_or(at, |before| before.chars().count()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    const SAMPLE: &str = "\
name: build main
on:
  push:
    tags:
    - '**'
# BE_IMAGE_TAG            optional - default is a valid version
env:
  # The backend image tag
  BE_IMAGE_TAG: 2026.08.1
  FE_IMAGE_TAG: 2026.08.2
  BE_NAMESPACE: xchem

jobs:
  build:
    env:
      BE_IMAGE_TAG: nested
    steps:
    - run: |
        BE_IMAGE_TAG=\"${{ env.BE_IMAGE_TAG }}\"
";

    fn read_one(text: &str, key: &str) -> Result<PinSite, PinError> {
        read_pins(text, &[key]).map(|mut sites| sites.remove(0))
    }

    fn value_of(text: &str, key: &str) -> String {
        read_one(text, key).expect("pin should read").value
    }

    fn env_with(line: &str) -> String {
        format!("on: push\nenv:\n  {line}\njobs: {{}}\n")
    }

    fn set_one(text: &str, key: &str, value: &str) -> Result<String, PinError> {
        set_pins(text, &[(key, value)])
    }

    /// Asserts that `new` equals `old` with only the value ranges replaced.
    fn assert_only_values_changed(
        old: &str,
        old_sites: &[PinSite],
        new: &str,
        new_sites: &[PinSite],
    ) {
        let mut pairs: Vec<(&PinSite, &PinSite)> = old_sites.iter().zip(new_sites).collect();
        pairs.sort_by_key(|(o, _)| o.value_range.start);
        let (mut old_at, mut new_at) = (0, 0);
        for (o, n) in &pairs {
            assert_eq!(
                old[old_at..o.value_range.start],
                new[new_at..n.value_range.start]
            );
            old_at = o.value_range.end;
            new_at = n.value_range.end;
        }
        assert_eq!(old[old_at..], new[new_at..]);
        if let (Some((first, _)), Some((last, _))) = (pairs.first(), pairs.last()) {
            let prefix = old
                .bytes()
                .zip(new.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            let suffix = old
                .bytes()
                .rev()
                .zip(new.bytes().rev())
                .take_while(|(a, b)| a == b)
                .count();
            assert!(
                prefix >= first.value_range.start,
                "a byte before the first value changed"
            );
            assert!(
                suffix >= old.len() - last.value_range.end,
                "a byte after the last value changed"
            );
        }
    }

    // Rule 1: only keys directly under the top-level `env:`.

    #[test]
    fn reads_pins_under_top_level_env_in_key_order() {
        let sites = read_pins(SAMPLE, &["FE_IMAGE_TAG", "BE_IMAGE_TAG"]).unwrap();
        assert_eq!(sites[0].value, "2026.08.2");
        assert_eq!(sites[1].value, "2026.08.1");
    }

    #[test]
    fn ignores_same_key_in_comments_shell_lines_and_nested_env_blocks() {
        let site = read_one(SAMPLE, "BE_IMAGE_TAG").unwrap();
        assert_eq!((site.value.as_str(), site.line), ("2026.08.1", 9));
    }

    #[test]
    fn finds_no_pin_when_key_exists_only_in_nested_env() {
        let text = "env:\n  A: 1\njobs:\n  b:\n    env:\n      ONLY_NESTED: x\n";
        assert!(matches!(
            read_one(text, "ONLY_NESTED"),
            Err(PinError::OnlyNested { .. })
        ));
    }

    /// The current Fragalysis workflow with `BE_IMAGE_TAG` moved from the top-level `env:` into
    /// the `env:` of the build job's second step.
    fn fragalysis_with_be_in_step_env(dir: &Path) -> String {
        let text = std::fs::read_to_string(dir.join("build-main.005a791.yaml")).unwrap();
        let pin = "  BE_IMAGE_TAG: 2026.08.1\n";
        let step_env = "        DOCKERHUB_USERNAME: ${{ secrets.DOCKERHUB_USERNAME }}\n";
        assert!(text.contains(pin) && text.contains(step_env));
        text.replacen(pin, "", 1)
            .replacen(step_env, &format!("{step_env}      {pin}"), 1)
    }

    #[test]
    fn pin_only_in_a_step_env_is_reported_where_it_is_and_how_to_fix() {
        let Some(dir) = fixture_dir() else { return };
        let text = fragalysis_with_be_in_step_env(&dir);
        let line = 1 + text
            .lines()
            .position(|l| l == "        BE_IMAGE_TAG: 2026.08.1")
            .unwrap();
        let err = read_pins(&text, &["BE_IMAGE_TAG", "FE_IMAGE_TAG"]).unwrap_err();
        assert_eq!(
            err,
            PinError::OnlyNested {
                key: "BE_IMAGE_TAG".into(),
                line,
                column: 9,
                path: "jobs.build.steps[1].env".into(),
                env_line: Some(84),
                others: 0,
            }
        );
        let message = err.to_string();
        for part in [
            "not set under the top-level `env:` (line 84)",
            &format!("line {line}, column 9, under `jobs.build.steps[1].env`"),
            "move that line to the top-level `env:`",
            "`pin` in stackrel.toml",
        ] {
            assert!(message.contains(part), "{part:?} in {message}");
        }
        assert!(matches!(
            set_pins(&text, &[("BE_IMAGE_TAG", "2026.09.1")]),
            Err(PinError::OnlyNested { .. })
        ));
    }

    #[test]
    fn pin_only_in_a_job_env_of_a_file_without_top_level_env_names_the_job() {
        let text = "on: push\njobs:\n  build:\n    env:\n      BE_IMAGE_TAG: 1.0\n  deploy:\n    \
                    env:\n      BE_IMAGE_TAG: 2.0\n";
        let err = read_one(text, "BE_IMAGE_TAG").unwrap_err();
        assert_eq!(
            err,
            PinError::OnlyNested {
                key: "BE_IMAGE_TAG".into(),
                line: 5,
                column: 7,
                path: "jobs.build.env".into(),
                env_line: None,
                others: 1,
            }
        );
        let message = err.to_string();
        assert!(
            message.contains("(the file has no top-level `env:`)"),
            "{message}"
        );
        assert!(message.contains("(and 1 more nested place)"), "{message}");
    }

    #[test]
    fn accepts_any_consistent_indentation() {
        let text = "env:\n    A: one\n    B: two\njobs:\n";
        assert_eq!(value_of(text, "B"), "two");
        let text = "env:\n A: one\n";
        assert_eq!(value_of(text, "A"), "one");
    }

    #[test]
    fn does_not_treat_keys_of_a_nested_mapping_as_pins() {
        let text = "env:\n  GROUP:\n    BE_IMAGE_TAG: 1.2.3\n  OTHER: x\n";
        assert!(matches!(
            read_one(text, "BE_IMAGE_TAG"),
            Err(PinError::MissingKey { .. })
        ));
        assert_eq!(value_of(text, "OTHER"), "x");
    }

    #[test]
    fn env_block_ends_at_next_top_level_key() {
        let text = "env:\n  A: 1.2.3\njobs:\n  B: x\n";
        assert!(matches!(
            read_one(text, "B"),
            Err(PinError::MissingKey { .. })
        ));
    }

    #[test]
    fn comment_at_column_one_does_not_end_env_block() {
        let text = "env:\n  A: 1.2.3\n# a comment\n  B: 4.5.6\n";
        assert_eq!(value_of(text, "B"), "4.5.6");
    }

    #[test]
    fn reads_key_written_with_quotes_or_space_before_colon() {
        let text = "env:\n  \"A\": 1.2.3\n  'B': 4.5.6\n  C : 7.8.9\n";
        assert_eq!(value_of(text, "A"), "1.2.3");
        assert_eq!(value_of(text, "B"), "4.5.6");
        assert_eq!(value_of(text, "C"), "7.8.9");
    }

    #[test]
    fn reads_env_after_document_start_marker() {
        assert_eq!(value_of("---\nenv:\n  A: x\n...\n", "A"), "x");
    }

    #[test]
    fn rejects_flow_mapping_env() {
        let err = read_one("env: { A: b }\n", "A").unwrap_err();
        assert!(
            matches!(
                err,
                PinError::FlowEnv {
                    line: 1,
                    column: 6,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("block mapping"));
        let err = read_one("env:\n  { A: b }\n", "A").unwrap_err();
        assert!(matches!(err, PinError::FlowEnv { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn rejects_file_without_top_level_env() {
        let text = "jobs:\n  build:\n    env:\n      B: x\n";
        let err = read_one(text, "A").unwrap_err();
        assert_eq!(err, PinError::NoTopLevelEnv { key: "A".into() });
        assert!(err.to_string().contains("add a line `env:`"));
    }

    #[test]
    fn rejects_env_that_is_a_scalar_or_sequence() {
        for text in [
            "env: x\n",
            "env:\n- A\n",
            "env:\n  - A\n",
            "env:\n  [A]\n",
            "env: &e x\n",
        ] {
            let err = read_one(text, "A").unwrap_err();
            assert!(
                matches!(err, PinError::EnvNotMapping { .. }),
                "{text:?}: {err:?}"
            );
        }
    }

    // Anchors and tags on the `env:` mapping itself.

    #[test]
    fn anchored_top_level_env_is_a_block_mapping_and_is_edited() {
        let text = "on: push\nenv: &pins   # shared\n  A: 1.2.3\n  B: x\njobs: {}\n";
        assert_eq!(value_of(text, "A"), "1.2.3");
        let out = set_one(text, "A", "2.0.0").unwrap();
        assert_eq!(out, text.replace("1.2.3", "2.0.0"));
    }

    #[test]
    fn top_level_env_tagged_map_is_a_block_mapping_and_is_edited() {
        for head in ["env: !!map", "env: !!map &pins", "env: &pins !!map"] {
            let text = format!("{head}\n  A: 1.2.3\n");
            let out = set_one(&text, "A", "2.0.0").unwrap();
            assert_eq!(out, text.replace("1.2.3", "2.0.0"), "{head}");
        }
    }

    #[test]
    fn anchored_env_aliased_elsewhere_is_refused_naming_the_alias() {
        let text = "env: &pins\n  A: 1.2.3\njobs:\n  b:\n    env: *pins\n";
        let err = set_one(text, "A", "2.0.0").unwrap_err();
        assert_eq!(
            err,
            PinError::EnvAliased {
                key: "env".into(),
                line: 5,
                column: 10,
                alias: "*pins".into(),
            }
        );
        let message = err.to_string();
        assert!(message.contains("*pins at line 5, column 10"), "{message}");
        assert!(message.contains("would change that place too"), "{message}");
        assert!(!message.contains("not a block mapping"), "{message}");
    }

    #[test]
    fn anchored_env_merged_elsewhere_is_refused_too() {
        let text = "env: &pins\n  A: 1.2.3\njobs:\n  b:\n    env:\n      <<: *pins\n      C: y\n";
        assert!(matches!(
            read_one(text, "A"),
            Err(PinError::EnvAliased { line: 6, .. })
        ));
    }

    #[test]
    fn top_level_env_with_a_tag_other_than_map_is_refused_naming_the_tag() {
        for (head, tag) in [("env: !custom", "!custom"), ("env: &p !!omap", "!!omap")] {
            let text = format!("{head}\n  A: 1.2.3\n");
            let err = read_one(&text, "A").unwrap_err();
            assert!(
                matches!(&err, PinError::EnvTagged { tag: t, line: 1, .. } if t == tag),
                "{head}: {err:?}"
            );
            let message = err.to_string();
            assert!(message.contains(&format!("tagged `{tag}`")), "{message}");
            assert!(!message.contains("not a block mapping"), "{message}");
        }
    }

    #[test]
    fn top_level_env_key_with_a_tag_is_refused_saying_so() {
        let err = read_one("on: push\n!!str env:\n  A: 1.2.3\n", "A").unwrap_err();
        assert!(
            matches!(err, PinError::EnvKeyDecorated { line: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("write it plain, `env:`"), "{err}");
    }

    #[test]
    fn tagged_key_under_env_is_refused_saying_so() {
        let err = read_one("env:\n  B: x\n  !!str A: 1.2.3\n", "A").unwrap_err();
        assert!(
            matches!(err, PinError::UnsupportedEntry { line: 3, column: 3, what, .. }
                if what.contains("a tag or an anchor")),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_top_level_env_appearing_twice() {
        let err = read_one("env:\n  A: x\njobs: {}\nenv:\n  B: y\n", "A").unwrap_err();
        assert!(
            matches!(
                err,
                PinError::DuplicateEnv {
                    line: 4,
                    first_line: 1,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_inconsistent_indentation_in_env() {
        let err = read_one("env:\n    A: x\n  B: y\n", "A").unwrap_err();
        assert!(
            matches!(
                err,
                PinError::BadIndentation {
                    line: 3,
                    column: 3,
                    expected_column: 5,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_tab_indentation_in_env() {
        let err = read_one("env:\n\tA: x\n", "A").unwrap_err();
        assert!(
            matches!(err, PinError::TabIndentation { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_explicit_key_entry_in_env() {
        let err = read_one("env:\n  ? A\n  : x\n", "A").unwrap_err();
        assert!(
            matches!(err, PinError::UnsupportedEntry { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn skips_over_multi_line_quoted_value_of_another_key() {
        // PyYAML reads OTHER as "foo BE_IMAGE_TAG: x"; there is no BE_IMAGE_TAG key.
        let text = "env:\n  OTHER: \"foo\n  BE_IMAGE_TAG: x\"\n  FE_IMAGE_TAG: y\n";
        assert!(matches!(
            read_one(text, "BE_IMAGE_TAG"),
            Err(PinError::MissingKey { .. })
        ));
        // YAML 1.2 wants the continuation indented deeper than its key, and the confirming
        // parser holds to that: this file is refused, and the spec-conforming one is read.
        assert!(matches!(
            read_one(text, "FE_IMAGE_TAG"),
            Err(PinError::InvalidYaml { line: 2, .. })
        ));
        let text = "env:\n  OTHER: \"foo\n    BE_IMAGE_TAG: x\"\n  FE_IMAGE_TAG: y\n";
        assert!(matches!(
            read_one(text, "BE_IMAGE_TAG"),
            Err(PinError::MissingKey { .. })
        ));
        assert_eq!(value_of(text, "FE_IMAGE_TAG"), "y");
    }

    // Rule 2: everything but the value bytes stays byte-for-byte.

    #[test]
    fn keeps_trailing_comment_after_value() {
        let text = env_with("A: 1.2.3   # the backend  ");
        let out = set_one(&text, "A", "4.5.6").unwrap();
        assert_eq!(out, env_with("A: 4.5.6   # the backend  "));
    }

    #[test]
    fn keeps_trailing_whitespace_after_value() {
        let out = set_one("env:\n  A: 1.2.3 \t\n", "A", "4.5.6").unwrap();
        assert_eq!(out, "env:\n  A: 4.5.6 \t\n");
    }

    #[test]
    fn keeps_crlf_line_endings() {
        let text = "env:\r\n  A: 1.2.3\r\n  B: 'x'\r\njobs:\r\n";
        let site = read_one(text, "A").unwrap();
        assert_eq!(site.value, "1.2.3");
        let out = set_pins(text, &[("A", "4.5.6"), ("B", "y")]).unwrap();
        assert_eq!(out, "env:\r\n  A: 4.5.6\r\n  B: 'y'\r\njobs:\r\n");
    }

    #[test]
    fn keeps_missing_final_newline() {
        let out = set_one("env:\n  A: 1.2.3", "A", "4.5.6").unwrap();
        assert_eq!(out, "env:\n  A: 4.5.6");
        let out = set_one("env:\r\n  A: 1.2.3 # c", "A", "4.5.6").unwrap();
        assert_eq!(out, "env:\r\n  A: 4.5.6 # c");
    }

    #[test]
    fn keeps_utf8_bom() {
        let text = "\u{feff}env:\n  A: 1.2.3\n";
        assert_eq!(read_one(text, "A").unwrap().column, 6);
        let out = set_one(text, "A", "4.5.6").unwrap();
        assert_eq!(out, "\u{feff}env:\n  A: 4.5.6\n");
    }

    #[test]
    fn uses_byte_offsets_and_character_columns_with_non_ascii_text() {
        let text = "# Größe ✓\nenv:\n  # ünïcødé\n  ÄPFEL: 'ß' # π\n  A: 1.2.3 # ✓\n";
        let site = read_one(text, "ÄPFEL").unwrap();
        assert_eq!(&text[site.value_range.clone()], "'ß'");
        assert_eq!((site.line, site.column, site.value.as_str()), (4, 10, "ß"));
        let out = set_pins(text, &[("ÄPFEL", "ü"), ("A", "4.5.6")]).unwrap();
        assert_eq!(
            out,
            "# Größe ✓\nenv:\n  # ünïcødé\n  ÄPFEL: 'ü' # π\n  A: 4.5.6 # ✓\n"
        );
    }

    #[test]
    fn keeps_blank_lines_comments_and_key_order() {
        let text = "env:\n\n  # one\n  B: 1.0.0\n\n  # two\n  A: 2.0.0\n\n";
        let out = set_pins(text, &[("A", "3.0.0"), ("B", "4.0.0")]).unwrap();
        assert_eq!(
            out,
            "env:\n\n  # one\n  B: 4.0.0\n\n  # two\n  A: 3.0.0\n\n"
        );
    }

    #[test]
    fn reports_one_based_line_column_and_value_range() {
        let site = read_one(SAMPLE, "FE_IMAGE_TAG").unwrap();
        assert_eq!((site.line, site.column), (10, 17));
        assert_eq!(&SAMPLE[site.value_range], "2026.08.2");
        assert_eq!(site.style, ScalarStyle::Plain);
    }

    // Rule 3: quoting style is kept; plain values that would not read back as strings get quoted.

    #[test]
    fn keeps_single_quoted_style() {
        let out = set_one(&env_with("A: '1.2.3'"), "A", "2024.10").unwrap();
        assert_eq!(out, env_with("A: '2024.10'"));
    }

    #[test]
    fn doubles_single_quote_inside_single_quoted_value() {
        let out = set_one(&env_with("A: 'x'"), "A", "it's").unwrap();
        assert_eq!(out, env_with("A: 'it''s'"));
        assert_eq!(value_of(&out, "A"), "it's");
    }

    #[test]
    fn keeps_double_quoted_style() {
        let out = set_one(&env_with("A: \"1.2.3\""), "A", "4.5.6").unwrap();
        assert_eq!(out, env_with("A: \"4.5.6\""));
    }

    #[test]
    fn escapes_quote_and_backslash_in_double_quoted_value() {
        let out = set_one(&env_with("A: \"x\""), "A", r#"a"b\c"#).unwrap();
        assert_eq!(out, env_with(r#"A: "a\"b\\c""#));
        assert_eq!(value_of(&out, "A"), r#"a"b\c"#);
    }

    #[test]
    fn keeps_plain_style_for_version_with_two_dots() {
        let out = set_one(&env_with("A: latest"), "A", "2026.08.1").unwrap();
        assert_eq!(out, env_with("A: 2026.08.1"));
    }

    #[test]
    fn double_quotes_plain_value_yaml_reads_as_float() {
        let out = set_one(&env_with("A: 1.2.3"), "A", "2024.10").unwrap();
        assert_eq!(out, env_with("A: \"2024.10\""));
        let site = read_one(&out, "A").unwrap();
        assert_eq!(
            (site.value.as_str(), site.style),
            ("2024.10", ScalarStyle::DoubleQuoted)
        );
    }

    #[test]
    fn double_quotes_plain_values_yaml_reads_as_non_strings() {
        let non_strings = [
            "2024.10",
            "1e3",
            "1E-3",
            ".5",
            "-.5",
            "+1",
            "-1",
            "42",
            "0x1F",
            "0o17",
            "012",
            "09",
            "1_000",
            "0b101",
            "1:30",
            "190:20:30.15",
            "3.",
            "true",
            "False",
            "TRUE",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "null",
            "Null",
            "NULL",
            "~",
            "",
            ".inf",
            "-.Inf",
            ".NaN",
            "=",
            "<<",
            "2024-10-01",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
        ];
        for value in non_strings {
            let out = set_one(&env_with("A: x.y.z"), "A", value).unwrap();
            let quoted = format!("A: {}", render(value, ScalarStyle::DoubleQuoted));
            assert_eq!(out, env_with(&quoted), "{value:?} should be quoted");
            assert_eq!(value_of(&out, "A"), value);
        }
    }

    #[test]
    fn double_quotes_plain_values_that_are_not_valid_plain_scalars() {
        let invalid_plain = [
            "-x", "- x", "?x", ":x", "#x", "&x", "*x", "!x", "|x", ">x", "%x", "@x", "`x", "'x",
            "\"x", "[x", "]x", "{x", "}x", ",x", "a: b", "a #b", "a:", " a", "a ",
        ];
        for value in invalid_plain {
            let out = set_one(&env_with("A: x.y.z"), "A", value).unwrap();
            let quoted = format!("A: {}", render(value, ScalarStyle::DoubleQuoted));
            assert_eq!(out, env_with(&quoted), "{value:?} should be quoted");
            assert_eq!(value_of(&out, "A"), value);
        }
    }

    #[test]
    fn leaves_string_values_plain() {
        let strings = [
            "2026.08.1",
            "2024.11.1-1",
            "3.0.0",
            "latest",
            "stable",
            "production",
            "master",
            "v1.2",
            "1.2.3-rc.1",
            "2024-10-01-rc",
            "a b",
            "a:b",
            "a#b",
            "x-1",
            "e3",
            "._x",
            "1e3-x",
            "ÄPFEL",
        ];
        for value in strings {
            let out = set_one(&env_with("A: x.y.z"), "A", value).unwrap();
            assert_eq!(
                out,
                env_with(&format!("A: {value}")),
                "{value:?} should stay plain"
            );
            assert_eq!(value_of(&out, "A"), value);
        }
    }

    // Rule 4: errors, with nothing returned.

    #[test]
    fn rejects_missing_key() {
        let err = set_one(SAMPLE, "NO_SUCH_KEY", "1.2.3").unwrap_err();
        assert!(
            matches!(
                err,
                PinError::MissingKey {
                    line: 7,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("add a line `NO_SUCH_KEY: <value>`")
        );
    }

    #[test]
    fn rejects_key_appearing_twice_in_env() {
        let text = "env:\n  A: 1.2.3\n  B: x\n  A: 4.5.6\n";
        let err = set_one(text, "A", "7.8.9").unwrap_err();
        assert!(matches!(
            err,
            PinError::DuplicateKey {
                line: 4,
                column: 3,
                first_line: 2,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "A appears twice under the top-level `env:` (lines 2 and 4); keep one"
        );
    }

    #[test]
    fn rejects_empty_value() {
        for line in ["A:", "A:   # nothing"] {
            let err = read_one(&env_with(line), "A").unwrap_err();
            assert!(
                matches!(
                    err,
                    PinError::EmptyValue {
                        line: 3,
                        column: 3,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn rejects_nested_mapping_value() {
        let err = read_one("env:\n  A:\n    B: x\n", "A").unwrap_err();
        assert!(
            matches!(
                err,
                PinError::NotScalar {
                    what: "a nested mapping",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_sequence_values() {
        for text in [
            "env:\n  A:\n    - x\n",
            "env:\n  A:\n  - x\n",
            "env:\n  A: [x]\n",
            "env:\n  A: {x: y}\n",
        ] {
            let err = read_one(text, "A").unwrap_err();
            assert!(
                matches!(err, PinError::NotScalar { .. }),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_anchor_alias_and_tag_values() {
        for line in ["A: &a 1.2.3", "A: *a", "A: !!str 1.2.3"] {
            let err = read_one(&env_with(line), "A").unwrap_err();
            assert!(
                matches!(err, PinError::NotScalar { .. }),
                "{line:?}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_block_scalar_value() {
        for text in ["env:\n  A: |\n    1.2.3\n", "env:\n  A: >-\n    1.2.3\n"] {
            let err = read_one(text, "A").unwrap_err();
            assert!(
                matches!(
                    err,
                    PinError::MultiLine {
                        line: 2,
                        column: 6,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn rejects_quoted_value_continuing_on_next_line() {
        for text in [
            "env:\n  A: \"1.2\n    .3\"\n",
            "env:\n  A: '1.2\n    .3'\n",
            "env:\n  A: \"1.2\\\n    .3\"\n",
        ] {
            let err = read_one(text, "A").unwrap_err();
            assert!(
                matches!(err, PinError::MultiLine { .. }),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_plain_value_continuing_on_next_line() {
        for text in [
            "env:\n  A: 1.2\n    .3\n",
            "env:\n  A:\n    1.2.3\n",
            "env:\n  A: 1\n\n    2\n",
        ] {
            let err = read_one(text, "A").unwrap_err();
            assert!(
                matches!(err, PinError::MultiLine { .. }),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn allows_comment_lines_after_value() {
        assert_eq!(
            value_of("env:\n  A: 1.2.3\n    # more indented comment\n", "A"),
            "1.2.3"
        );
    }

    #[test]
    fn rejects_expression_value() {
        for line in ["A: ${{ secrets.TAG }}", "A: \"v${{ inputs.tag }}\""] {
            let err = read_one(&env_with(line), "A").unwrap_err();
            assert!(
                matches!(
                    err,
                    PinError::Expression {
                        line: 3,
                        column: 6,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn rejects_invalid_plain_or_trailing_text() {
        for line in [
            "A: a: b",
            "A: x:",
            "A: @x",
            "A: \"x\" y",
            "A: 'x'#c",
            "A: ? x",
        ] {
            let err = read_one(&env_with(line), "A").unwrap_err();
            assert!(
                matches!(err, PinError::InvalidValue { .. }),
                "{line:?}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_new_value_with_line_break_or_control_character() {
        for value in [
            "1.2\n3",
            "1.2.3\r",
            "a\tb",
            "a\u{0}",
            "a\u{85}",
            "a\u{2028}",
            "\u{feff}a",
        ] {
            let err = set_one(SAMPLE, "BE_IMAGE_TAG", value).unwrap_err();
            assert!(
                matches!(err, PinError::InvalidNewValue { .. }),
                "{value:?}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_new_value_with_expression() {
        let err = set_one(SAMPLE, "BE_IMAGE_TAG", "${{ inputs.tag }}").unwrap_err();
        assert!(matches!(err, PinError::InvalidNewValue { .. }), "{err:?}");
        assert!(
            !err.to_string().contains("inputs.tag"),
            "errors must not echo the new value"
        );
    }

    #[test]
    fn rejects_same_key_requested_twice() {
        let err = read_pins(SAMPLE, &["BE_IMAGE_TAG", "BE_IMAGE_TAG"]).unwrap_err();
        assert_eq!(
            err,
            PinError::RepeatedKey {
                key: "BE_IMAGE_TAG".into()
            }
        );
        let err = set_pins(
            SAMPLE,
            &[("BE_IMAGE_TAG", "1.2.3"), ("BE_IMAGE_TAG", "1.2.4")],
        );
        assert!(matches!(err, Err(PinError::RepeatedKey { .. })));
    }

    #[test]
    fn fails_whole_set_when_one_key_fails() {
        let err = set_pins(SAMPLE, &[("BE_IMAGE_TAG", "1.2.3"), ("MISSING", "1.2.4")]).unwrap_err();
        assert!(matches!(err, PinError::MissingKey { .. }));
    }

    #[test]
    fn error_carries_key_and_position() {
        let err = read_one("env:\n  A: |\n    x\n", "A").unwrap_err();
        assert_eq!((err.key(), err.line_column()), ("A", Some((2, 6))));
        let err = read_one("env: {}\n", "A").unwrap_err();
        assert_eq!((err.key(), err.line_column()), ("env", Some((1, 6))));
    }

    // Rule 5: reading unquotes.

    #[test]
    fn unquotes_single_quoted_value() {
        let site = read_one(&env_with("A: 'it''s ''x'''"), "A").unwrap();
        assert_eq!(
            (site.value.as_str(), site.style),
            ("it's 'x'", ScalarStyle::SingleQuoted)
        );
    }

    #[test]
    fn unescapes_double_quoted_value() {
        let site = read_one(&env_with(r#"A: "a\"b\\c\n\t\x41\u00e9\U0001F600\/""#), "A").unwrap();
        assert_eq!(site.value, "a\"b\\c\n\tAé😀/");
        assert_eq!(site.style, ScalarStyle::DoubleQuoted);
    }

    #[test]
    fn rejects_unknown_or_short_escape() {
        for line in [r#"A: "\q""#, r#"A: "\x4""#, r#"A: "\UFFFFFFFF""#] {
            let err = read_one(&env_with(line), "A").unwrap_err();
            assert!(
                matches!(err, PinError::InvalidValue { .. }),
                "{line:?}: {err:?}"
            );
        }
    }

    // Rule 6: round trip and idempotence.

    #[test]
    fn set_then_read_returns_new_values() {
        let out = set_pins(
            SAMPLE,
            &[
                ("BE_IMAGE_TAG", "2031.01.7"),
                ("FE_IMAGE_TAG", "2031.02.9-1"),
            ],
        )
        .unwrap();
        let sites = read_pins(&out, &["BE_IMAGE_TAG", "FE_IMAGE_TAG"]).unwrap();
        assert_eq!(sites[0].value, "2031.01.7");
        assert_eq!(sites[1].value, "2031.02.9-1");
        assert!(out.contains("BE_IMAGE_TAG: nested"));
    }

    #[test]
    fn set_with_current_values_returns_identical_text() {
        let out = set_pins(
            SAMPLE,
            &[("BE_IMAGE_TAG", "2026.08.1"), ("FE_IMAGE_TAG", "2026.08.2")],
        )
        .unwrap();
        assert_eq!(out, SAMPLE);
    }

    #[test]
    fn set_with_current_value_keeps_its_spelling() {
        let text = env_with(r#"A: "1.2.3""#);
        assert_eq!(set_one(&text, "A", "1.2.3").unwrap(), text);
        let text = env_with("A: 2026.08.1");
        assert_eq!(set_one(&text, "A", "2026.08.1").unwrap(), text);
        // A plain `2024.10` is the number 2024.1, not the string: see the YAML-type tests.
    }

    #[test]
    fn set_with_no_values_returns_text_unchanged() {
        assert_eq!(set_pins("anything: [", &[]).unwrap(), "anything: [");
        assert_eq!(read_pins("anything: [", &[]).unwrap(), Vec::new());
    }

    // Robustness: user files never make this module panic.

    #[test]
    fn odd_inputs_never_panic() {
        let odd = [
            "",
            "\n",
            "env",
            "env:",
            "env:\n",
            "env: ",
            "env:\r",
            "\r\r\r",
            " ",
            "\t",
            "\u{feff}",
            "\u{feff}\u{feff}env:\n",
            "\u{feff}env:\n  A: x",
            "env:\n\tA: x",
            "env:\n \t",
            "env:\n  A: \"unterminated",
            "env:\n  A: 'unterminated",
            "env:\n  A: \"\\",
            "env:\n  A: \"\\u12\"",
            "env:\n  A: \"\\U00110000\"",
            "env:\r\n  A: x\r",
            "env:\n  A:",
            "env:\n  A:#",
            "env:\n  :",
            "env:\n  : x",
            "env:\n  - a",
            "env:\n  ? A\n  : x",
            "env: {A: x",
            "env:\n  \"A",
            "env:\n  'A': 'x''",
            "env:\n  A: é\u{0}",
            "env:\n    A: x\n  B: y",
            "env:\n  A: x\nenv:",
            "env:\n  A: ${{",
            "env:\n  A: |",
            "env:\n  A: x:",
            "€env:\n",
            "env:\n  €: x",
            "env:\n  A: #",
            "env:\n  A: 'a'b",
            "env:\n  A: \"a\"#b",
            "env:\n  A:\n  - x\n  - y",
            "env:\n  A: \"",
            "env:\n  A: '",
            "env:\n  A: -",
            "env:\n  A: ''",
            "env:\n  A: \"\"",
            "\"env\":\n  A: x",
            "\"env",
            "env:\n  \"A\\",
            "env:\n  A: ☃\u{2028}",
            "---\n...\n",
            "env:\n  A: \"\\\u{e9}\"",
            "env:\n  A: x\n   \u{a0}B: y",
            "env:\n  A: \"é\n  é\"",
            "env:\n  A: 'é\n  é'",
        ];
        for text in odd {
            let _ = read_pins(text, &["A", "B"]);
            for value in ["1.2.3", "", "x'\"\\", "2024.10", "é"] {
                if let Ok(out) = set_pins(text, &[("A", value)]) {
                    assert_eq!(value_of(&out, "A"), value, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn every_prefix_of_a_tricky_file_reads_without_panic() {
        let text = "\u{feff}env:\r\n  # ü\r\n  A: 'x''é' # ✓\r\n  B: \"a\\\"\\u00e9\\\nb\"\r\n  C: plain # c\n";
        for (end, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let prefix = &text[..end];
            let _ = read_pins(prefix, &["A", "B", "C"]);
            let _ = set_pins(prefix, &[("A", "2024.10"), ("C", "1.2.3")]);
        }
    }

    // Rule 7: a plain value is what YAML and GitHub Actions read, not what is written.

    /// (written plain, what YAML reads it as, the string GitHub Actions passes on).
    const TYPED_PLAIN: &[(&str, YamlType, &str)] = &[
        ("1.10", YamlType::Number, "1.1"),
        ("2024.10", YamlType::Number, "2024.1"),
        ("012", YamlType::Number, "12"),
        ("09", YamlType::Number, "9"),
        ("1e3", YamlType::Number, "1000"),
        ("1E-3", YamlType::Number, "0.001"),
        ("0x1F", YamlType::Number, "31"),
        ("0xFFFFFFFF", YamlType::Number, "-1"),
        ("0o17", YamlType::Number, "15"),
        (".inf", YamlType::Number, "Infinity"),
        ("-.Inf", YamlType::Number, "-Infinity"),
        (".NaN", YamlType::Number, "NaN"),
        ("+1", YamlType::Number, "1"),
        ("-0", YamlType::Number, "-0"),
        ("3.", YamlType::Number, "3"),
        (".5", YamlType::Number, "0.5"),
        ("0.00001", YamlType::Number, "1E-05"),
        ("1e20", YamlType::Number, "1E+20"),
        (
            "123456789012345678",
            YamlType::Number,
            "1.23456789012346E+17",
        ),
        ("true", YamlType::Boolean, "true"),
        ("False", YamlType::Boolean, "false"),
        ("null", YamlType::Null, ""),
        ("NULL", YamlType::Null, ""),
        ("~", YamlType::Null, ""),
        ("yes", YamlType::Yaml11Boolean, "yes"),
        ("No", YamlType::Yaml11Boolean, "No"),
        ("on", YamlType::Yaml11Boolean, "on"),
        ("OFF", YamlType::Yaml11Boolean, "OFF"),
        ("y", YamlType::Yaml11Boolean, "y"),
        ("1_000", YamlType::Yaml11Number, "1_000"),
        ("0b101", YamlType::Yaml11Number, "0b101"),
        ("1:30", YamlType::Yaml11Number, "1:30"),
        ("-0x1F", YamlType::Yaml11Number, "-0x1F"),
        ("2024-10-01", YamlType::Yaml11Timestamp, "2024-10-01"),
        (
            "2001-12-14t21:59:43.10-05:00",
            YamlType::Yaml11Timestamp,
            "2001-12-14t21:59:43.10-05:00",
        ),
        ("<<", YamlType::Yaml11Key, "<<"),
    ];

    #[test]
    fn reads_plain_values_as_yaml_and_github_actions_do() {
        for &(written, yaml_type, value) in TYPED_PLAIN {
            let site = read_one(&env_with(&format!("A: {written}")), "A").unwrap();
            assert_eq!(
                (site.yaml_type, site.value.as_str()),
                (yaml_type, value),
                "{written:?}"
            );
            assert!(!site.is_pinned_to(written), "{written:?} counts as pinned");
            assert!(!site.is_pinned_to(value), "{written:?} counts as pinned");
        }
        for written in [
            "2026.08.1",
            "2024.11.1-1",
            "latest",
            "1.2.3",
            "v1.10",
            "0x",
            "1e",
        ] {
            let site = read_one(&env_with(&format!("A: {written}")), "A").unwrap();
            assert_eq!(site.yaml_type, YamlType::String, "{written:?}");
            assert!(site.is_pinned_to(written), "{written:?}");
        }
    }

    #[test]
    fn quoted_values_are_strings_whatever_they_look_like() {
        for line in [r#"A: "1.10""#, "A: '1.10'", "A: 'yes'", r#"A: "null""#] {
            let site = read_one(&env_with(line), "A").unwrap();
            assert_eq!(site.yaml_type, YamlType::String, "{line:?}");
        }
        assert!(
            read_one(&env_with(r#"A: "1.10""#), "A")
                .unwrap()
                .is_pinned_to("1.10")
        );
    }

    #[test]
    fn typed_plain_value_is_not_pinned_to_its_own_spelling_and_is_rewritten_quoted() {
        for &(written, _, _) in TYPED_PLAIN {
            let text = env_with(&format!("A: {written}"));
            let out = set_one(&text, "A", written).unwrap();
            let quoted = format!("A: {}", render(written, ScalarStyle::DoubleQuoted));
            assert_eq!(out, env_with(&quoted), "{written:?}");
            let site = read_one(&out, "A").unwrap();
            assert!(site.is_pinned_to(written), "{written:?}");
            assert_eq!(set_one(&out, "A", written).unwrap(), out, "{written:?}");
        }
    }

    #[test]
    fn release_declaring_a_string_re_pins_a_plain_number() {
        // The issue's case: `1.10` reads as 1.1, so a release of "1.10" is not done yet.
        let text = "env:\n  BE_IMAGE_TAG: 2026.08.1\n  FE_IMAGE_TAG: 1.10\n";
        let site = read_one(text, "FE_IMAGE_TAG").unwrap();
        assert_eq!(site.observed(), "1.1 (a YAML number, not a string)");
        assert_ne!(site.observed(), "1.10");
        let out = set_pins(
            text,
            &[("BE_IMAGE_TAG", "2026.08.1"), ("FE_IMAGE_TAG", "1.10")],
        );
        assert_eq!(
            out.unwrap(),
            "env:\n  BE_IMAGE_TAG: 2026.08.1\n  FE_IMAGE_TAG: \"1.10\"\n"
        );
        let yes = read_one(&env_with("A: yes"), "A").unwrap();
        assert_eq!(yes.observed(), "yes (a YAML 1.1 boolean, not a string)");
        let null = read_one(&env_with("A: ~"), "A").unwrap();
        assert_eq!(null.observed(), "null (a YAML null, not a string)");
    }

    #[test]
    fn rejects_hexadecimal_or_octal_number_github_actions_refuses() {
        for line in ["A: 0x100000000", "A: 0o40000000000"] {
            let err = read_one(&env_with(line), "A").unwrap_err();
            assert!(
                matches!(
                    err,
                    PinError::InvalidValue {
                        line: 3,
                        column: 6,
                        ..
                    }
                ),
                "{line:?}: {err:?}"
            );
        }
    }

    // Rule 8: files whose line breaks or documents YAML readers see differently are refused.

    #[test]
    fn rejects_line_breaks_the_scanner_does_not_split_on() {
        let cases = [
            // A lone CR ends the comment for YAML: `B` is a key YAML sees and a scanner doesn't.
            ("env:\n  A: x # c\r  B: y\n", 2, 11, "carriage return"),
            // ...or hides a duplicate of `A` inside what a scanner takes for A's value.
            ("env:\n  A: x\r  A: y\n", 2, 7, "carriage return"),
            ("env:\n  A: x # c\u{85}  B: y\n", 2, 11, "U+0085"),
            ("env:\n  A: 'x\u{2028}y'\n", 2, 8, "U+2028"),
            ("# ü\u{2029}\nenv:\n  A: x\n", 1, 4, "U+2029"),
            ("\u{feff}env:\r", 1, 5, "carriage return"),
        ];
        for (text, line, column, what) in cases {
            for keys in [&["A"][..], &["B"][..], &["A", "B"][..]] {
                let err = read_pins(text, keys).unwrap_err();
                assert_eq!(err.line_column(), Some((line, column)), "{text:?}: {err:?}");
                assert!(err.to_string().contains(what), "{text:?}: {err}");
                assert!(err.to_string().contains("replace it with a plain newline"));
            }
            assert!(matches!(
                set_one(text, "A", "1.2.3"),
                Err(PinError::LineBreak { .. })
            ));
        }
        // CRLF is a line break to both.
        assert_eq!(value_of("env:\r\n  A: x # c\r\n  B: y\r\n", "B"), "y");
    }

    #[test]
    fn rejects_every_line_break_kind_in_a_comment_a_plain_value_and_a_quoted_value() {
        let kinds = [
            ('\r', "carriage return"),
            ('\u{85}', "U+0085"),
            ('\u{2028}', "U+2028"),
            ('\u{2029}', "U+2029"),
        ];
        for (c, what) in kinds {
            let places = [
                format!("env:\n  A: x # c{c}  A: y\n"),
                format!("env:\n  A: x{c}  B: y\n"),
                format!("env:\n  A: 'x{c}y'\n"),
                format!("env:\n  A: \"x{c}y\"\n"),
                format!("# c{c}env:\nenv:\n  A: x\n"),
            ];
            for text in places {
                let err = read_one(&text, "A").unwrap_err();
                assert!(
                    matches!(err, PinError::LineBreak { .. }) && err.to_string().contains(what),
                    "{text:?}: {err:?}"
                );
                assert_eq!(set_one(&text, "A", "2026.08.1"), Err(err), "{text:?}");
            }
        }
    }

    #[test]
    fn rejects_a_second_document() {
        let cases = [
            ("env:\n  A: x\n---\nenv:\n  A: y\n", 3, 1),
            ("env:\n  A: x\n...\nenv:\n  A: y\n", 4, 1),
            ("---\nenv:\n  A: x\n--- # again\njobs: {}\n", 4, 1),
        ];
        for (text, line, column) in cases {
            let err = set_one(text, "A", "1.2.3").unwrap_err();
            assert!(
                matches!(err, PinError::SecondDocument { .. }),
                "{text:?}: {err:?}"
            );
            assert_eq!(err.line_column(), Some((line, column)), "{text:?}");
            assert!(err.to_string().contains("one document"), "{err}");
        }
        assert_eq!(value_of("---\nenv:\n  A: x\n...\n# the end\n", "A"), "x");
    }

    #[test]
    fn rejects_file_that_is_not_yaml_elsewhere() {
        let text = "env:\n  A: x\njobs:\n  build: [unclosed\n";
        let err = read_one(text, "A").unwrap_err();
        assert!(matches!(err, PinError::InvalidYaml { .. }), "{err:?}");
        assert_eq!(err.line_column().map(|(line, _)| line), Some(5));
        assert!(matches!(
            set_one(text, "A", "1.2.3"),
            Err(PinError::InvalidYaml { .. })
        ));
    }

    // Rule 9: a YAML parser confirms what the scanner reads, and every edit.

    #[test]
    fn refuses_pin_the_parser_does_not_find_where_the_scanner_does() {
        // The scanner does not take `? env` for the key `env`, so it pins the second `env:`;
        // YAML reads two `env` keys, and which one GitHub Actions uses is anyone's guess.
        let text = "? env\n: A: x\nenv:\n  A: y\n";
        let err = read_one(text, "A").unwrap_err();
        assert!(
            matches!(
                err,
                PinError::ParserDisagrees {
                    line: 4,
                    column: 6,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("finds no such key"), "{err}");
        assert!(matches!(
            set_one(text, "A", "1.2.3"),
            Err(PinError::ParserDisagrees { .. })
        ));
    }

    #[test]
    fn refuses_file_where_a_nested_quoted_value_runs_over_column_one() {
        // The scanner does not follow a quoted scalar that starts this deep, so it takes the
        // continuation lines for the top-level `env:`; the parser reads no such key.
        let text = "jobs:\n  b:\n    steps:\n    - run: \"echo\nenv:\n  A: x\n  B: y\"\n";
        let err = read_one(text, "A").unwrap_err();
        assert!(
            matches!(
                err,
                PinError::InvalidYaml { .. } | PinError::ParserDisagrees { .. }
            ),
            "{err:?}"
        );
        assert!(set_one(text, "A", "1.2.3").is_err());
    }

    #[test]
    fn confirm_edit_accepts_an_edit_of_the_pins_only() {
        let before = "env:\n  A: x # c\n  B: y\njobs:\n  j: {}\n";
        let after = "env:\n  A: \"1.10\"   # c\n  B: y\njobs:\n  j: {}\n";
        assert_eq!(confirm_edit(before, after, &[("A", "1.10")]), Ok(()));
        let out = set_one(before, "A", "1.10").unwrap();
        assert_eq!(confirm_edit(before, &out, &[("A", "1.10")]), Ok(()));
    }

    #[test]
    fn confirm_edit_refuses_what_the_parser_reads_differently() {
        let before = "env:\n  A: x\n  B: y\njobs:\n  j: {}\n";
        let cases = [
            // The new value is written plain, where YAML reads a number.
            (
                "env:\n  A: 1.10\n  B: y\njobs:\n  j: {}\n",
                (2, 6),
                "other than the new",
            ),
            // A comment swallowed the value.
            (
                "env:\n  A: #1.10\n  B: y\njobs:\n  j: {}\n",
                (2, 4),
                "other than the new",
            ),
            // Another value changed too.
            (
                "env:\n  A: \"1.10\"\n  B: z\njobs:\n  j: {}\n",
                (3, 6),
                "outside the pins",
            ),
            // The splice broke a line: a new key appeared.
            (
                "env:\n  A: \"1.10\"\n  C: d\n  B: y\njobs:\n  j: {}\n",
                (3, 3),
                "outside the pins",
            ),
            // Something outside `env:` changed.
            (
                "env:\n  A: \"1.10\"\n  B: y\njobs:\n  k: {}\n",
                (5, 3),
                "outside the pins",
            ),
            // The pin moved under another key.
            (
                "env:\n  B: y\n  C:\n    A: \"1.10\"\njobs:\n  j: {}\n",
                (2, 6),
                "no such pin",
            ),
            // The result is not YAML.
            ("env:\n  A: \"1.10\n  B: y\n", (2, 6), "cannot read"),
        ];
        for (after, position, what) in cases {
            let err = confirm_edit(before, after, &[("A", "1.10")]).unwrap_err();
            assert!(
                matches!(err, PinError::Unconfirmed { .. }),
                "{after:?}: {err:?}"
            );
            assert!(err.to_string().contains(what), "{after:?}: {err}");
            assert_eq!(err.line_column(), Some(position), "{after:?}");
            assert!(
                !err.to_string().contains("1.10"),
                "errors must not echo values"
            );
        }
    }

    // Fixtures: real workflow files from five years of xchem/fragalysis-stack.

    fn fixture_dir() -> Option<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/fragalysis");
        if dir.is_dir() {
            Some(dir)
        } else {
            eprintln!("skipping: fixture folder {} is absent", dir.display());
            None
        }
    }

    /// (file name, commit, text) of every build-main / build-latest workflow fixture.
    fn workflow_fixtures(dir: &Path) -> Vec<(String, String, String)> {
        let mut files: Vec<(String, String, String)> = std::fs::read_dir(dir)
            .expect("fixture folder is readable")
            .map(|entry| {
                entry
                    .expect("fixture entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| {
                (name.starts_with("build-main.") || name.starts_with("build-latest."))
                    && name.ends_with(".yaml")
            })
            .map(|name| {
                let commit = name
                    .split('.')
                    .nth(1)
                    .expect("name has a commit")
                    .to_owned();
                let text = std::fs::read_to_string(dir.join(&name)).expect("fixture is UTF-8");
                (name, commit, text)
            })
            .collect();
        files.sort();
        assert!(
            files.len() >= 16,
            "expected the workflow fixtures, found {}",
            files.len()
        );
        files
    }

    struct HistoryRow {
        be_line: usize,
        be_value: String,
        fe_var: String,
        fe_line: usize,
        fe_value: String,
    }

    fn history(dir: &Path) -> HashMap<String, HistoryRow> {
        let text = std::fs::read_to_string(dir.join("stack-build-main-image-tag-history.txt"))
            .expect("history listing");
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let cols: Vec<&str> = line.split('\t').collect();
                let row = HistoryRow {
                    be_line: cols[3].parse().expect("be_line"),
                    be_value: cols[4].to_owned(),
                    fe_var: cols[5].to_owned(),
                    fe_line: cols[6].parse().expect("fe_line"),
                    fe_value: cols[7].to_owned(),
                };
                (cols[0].to_owned(), row)
            })
            .collect()
    }

    /// The frontend pin a fixture uses: FE_IMAGE_TAG from late 2023, FE_BRANCH before.
    fn fe_key(text: &str) -> &'static str {
        match read_pins(text, &["FE_IMAGE_TAG"]) {
            Ok(_) => "FE_IMAGE_TAG",
            Err(_) => "FE_BRANCH",
        }
    }

    #[test]
    fn fixtures_read_pins_match_history() {
        let Some(dir) = fixture_dir() else { return };
        let history = history(&dir);
        let mut compared = 0;
        for (name, commit, text) in workflow_fixtures(&dir) {
            let fe = fe_key(&text);
            let sites =
                read_pins(&text, &["BE_IMAGE_TAG", fe]).unwrap_or_else(|e| panic!("{name}: {e}"));
            let other = if fe == "FE_IMAGE_TAG" {
                "FE_BRANCH"
            } else {
                "FE_IMAGE_TAG"
            };
            assert!(
                matches!(read_pins(&text, &[other]), Err(PinError::MissingKey { .. })),
                "{name}: {other} should not be under the top-level env"
            );
            // The names also occur elsewhere, so finding them at all proves little.
            assert!(text.matches("BE_IMAGE_TAG").count() > 1, "{name}");
            if let Some(row) = history.get(&commit) {
                assert_eq!(fe, row.fe_var, "{name}");
                assert_eq!(
                    (sites[0].line, sites[0].value.as_str()),
                    (row.be_line, row.be_value.as_str()),
                    "{name}"
                );
                assert_eq!(
                    (sites[1].line, sites[1].value.as_str()),
                    (row.fe_line, row.fe_value.as_str()),
                    "{name}"
                );
                compared += 1;
            }
            for site in &sites {
                assert_eq!(site.style, ScalarStyle::Plain, "{name}");
                assert_eq!(site.column, site.key.chars().count() + 5, "{name}");
            }
        }
        assert!(
            compared >= 16,
            "only {compared} fixtures were listed in the history"
        );
    }

    #[test]
    fn fixtures_set_pins_changes_only_value_bytes() {
        let Some(dir) = fixture_dir() else { return };
        for (name, _, text) in workflow_fixtures(&dir) {
            let fe = fe_key(&text);
            let keys = ["BE_IMAGE_TAG", fe];
            let before = read_pins(&text, &keys).unwrap_or_else(|e| panic!("{name}: {e}"));
            let new = [("BE_IMAGE_TAG", "2031.01.7"), (fe, "2031.02.9-1")];
            let out = set_pins(&text, &new).unwrap_or_else(|e| panic!("{name}: {e}"));
            let after = read_pins(&out, &keys).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(after[0].value, "2031.01.7", "{name}");
            assert_eq!(after[1].value, "2031.02.9-1", "{name}");
            assert_eq!(&out[after[0].value_range.clone()], "2031.01.7", "{name}");
            assert_eq!(&out[after[1].value_range.clone()], "2031.02.9-1", "{name}");
            assert_only_values_changed(&text, &before, &out, &after);
            assert_eq!(out.lines().count(), text.lines().count(), "{name}");
            assert_eq!(
                set_pins(&out, &new).unwrap(),
                out,
                "{name}: setting again changed it"
            );
        }
    }

    #[test]
    fn fixtures_quote_float_like_value() {
        let Some(dir) = fixture_dir() else { return };
        for (name, _, text) in workflow_fixtures(&dir) {
            let before = read_pins(&text, &["BE_IMAGE_TAG"]).unwrap();
            let out = set_pins(&text, &[("BE_IMAGE_TAG", "2024.10")]).unwrap();
            let after = read_pins(&out, &["BE_IMAGE_TAG"]).unwrap();
            assert_eq!(&out[after[0].value_range.clone()], "\"2024.10\"", "{name}");
            assert_eq!(after[0].style, ScalarStyle::DoubleQuoted, "{name}");
            assert_eq!(after[0].value, "2024.10", "{name}");
            assert!(out.contains("\n  BE_IMAGE_TAG: \"2024.10\"\n"), "{name}");
            assert_only_values_changed(&text, &before, &out, &after);
            assert_eq!(
                set_pins(&out, &[("BE_IMAGE_TAG", "2024.10")]).unwrap(),
                out,
                "{name}"
            );
        }
    }

    #[test]
    fn fixtures_keep_crlf_and_bom_when_rewritten() {
        let Some(dir) = fixture_dir() else { return };
        for (name, _, text) in workflow_fixtures(&dir) {
            let text = format!("\u{feff}{}", text.replace('\n', "\r\n"));
            let fe = fe_key(&text);
            let keys = ["BE_IMAGE_TAG", fe];
            let before = read_pins(&text, &keys).unwrap_or_else(|e| panic!("{name}: {e}"));
            let out =
                set_pins(&text, &[("BE_IMAGE_TAG", "2031.01.7"), (fe, "2031.02.9-1")]).unwrap();
            let after = read_pins(&out, &keys).unwrap();
            assert_eq!(after[0].value, "2031.01.7", "{name}");
            assert_only_values_changed(&text, &before, &out, &after);
            assert!(out.starts_with('\u{feff}'), "{name}");
            assert_eq!(
                out.matches("\r\n").count(),
                text.matches("\r\n").count(),
                "{name}"
            );
        }
    }

    // Robustness at scale: mutants of the real fixtures never make the editor panic, and every
    // edit that succeeds is one the YAML parser confirms.

    /// xorshift64*: deterministic, so a failing mutant is reproduced from its seed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
            usize::try_from(self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n).unwrap_or(0)
        }
    }

    /// What a mutation may insert: control characters, every line break YAML knows, a BOM,
    /// tabs, and YAML's indicators.
    const NOISE: &[&str] = &[
        "\0", "\t", "\r", "\r\n", "\n", "\u{b}", "\u{c}", "\u{1b}", "\u{7f}", "\u{85}", "\u{2028}",
        "\u{2029}", "\u{feff}", "\"", "'", "#", ": ", " #", "- ", "? ", "{", "}", "[", "]", "|",
        ">", "&a ", "*a", "!!str ", "---\n", "...\n", " ", "\\", "é", "${{",
    ];

    /// One to three mutations of `text`, half of them aimed at the lines around the pins.
    fn mutate(text: &str, rng: &mut Rng) -> String {
        let mut out = text.to_owned();
        let env = out.find("\nenv:").unwrap_or(0);
        for _ in 0..=rng.below(3) {
            let near = if rng.below(2) == 0 {
                env + rng.below(600)
            } else {
                rng.below(out.len() + 1)
            };
            let at = (0..=near.min(out.len()))
                .rev()
                .find(|&i| out.is_char_boundary(i))
                .unwrap_or(0);
            let line_start = out[..at].rfind('\n').map_or(0, |i| i + 1);
            match rng.below(8) {
                0 => out.truncate(at),
                1 | 2 => out.insert_str(at, NOISE[rng.below(NOISE.len())]),
                3 => {
                    let ends = ["\n", "\r\n", "\n", "\r\n", "\r"];
                    out = out
                        .split('\n')
                        .map(|line| line.strip_suffix('\r').unwrap_or(line).to_owned())
                        .collect::<Vec<_>>()
                        .iter()
                        .enumerate()
                        .map(|(i, line)| {
                            let end = if i == 0 {
                                ""
                            } else {
                                ends[rng.below(ends.len())]
                            };
                            format!("{end}{line}")
                        })
                        .collect();
                }
                4 => out.insert(0, '\u{feff}'),
                5 => out.insert(line_start, '\t'),
                6 => {
                    let end = out[at..].find('\n').map_or(out.len(), |i| at + i);
                    out.replace_range(at..end, "");
                }
                _ => {
                    let end = out[at..].find('\n').map_or(out.len(), |i| at + i + 1);
                    let line = out[line_start..end].to_owned();
                    out.insert_str(line_start, &line);
                }
            }
        }
        out
    }

    /// Reads and edits one mutant; returns whether an edit succeeded. Panics on a broken promise.
    fn check_mutant(text: &str, keys: &[&str]) -> bool {
        let _ = read_pins(text, keys);
        let mut edited = false;
        for new in [["2031.01.7", "2031.02.9-1"], ["1.10", "yes"]] {
            let values: Vec<(&str, &str)> = keys.iter().copied().zip(new).collect();
            let Ok(out) = set_pins(text, &values) else {
                continue;
            };
            edited = true;
            assert_eq!(confirm_edit(text, &out, &values), Ok(()));
            let sites = read_pins(&out, keys).expect("an edit reads back");
            for (site, (_, value)) in sites.iter().zip(&values) {
                assert!(
                    site.is_pinned_to(value),
                    "{} reads back as {:?}",
                    site.key,
                    site.value
                );
            }
            assert_eq!(
                set_pins(&out, &values).as_ref(),
                Ok(&out),
                "setting again changed it"
            );
        }
        edited
    }

    #[test]
    fn mutants_of_the_fixtures_never_panic_and_every_edit_is_confirmed() {
        let Some(dir) = fixture_dir() else { return };
        const MUTANTS_PER_FIXTURE: u64 = 32;
        let (mut mutants, mut edited) = (0, 0);
        for (name, _, text) in workflow_fixtures(&dir) {
            let keys = ["BE_IMAGE_TAG", fe_key(&text)];
            for seed in 1..=MUTANTS_PER_FIXTURE {
                let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
                let mutant = mutate(&text, &mut rng);
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check_mutant(&mutant, &keys)
                }));
                match outcome {
                    Ok(ok) => edited += usize::from(ok),
                    Err(_) => panic!("{name}, mutant seed {seed}: see the panic above"),
                }
                mutants += 1;
            }
        }
        // Most mutations leave the pins readable; if almost none edits, the corpus tests little.
        assert!(
            edited * 4 > mutants,
            "only {edited} of {mutants} mutants could be edited"
        );
        eprintln!("{mutants} mutants, {edited} edited and confirmed");
    }
}

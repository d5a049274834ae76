//! Every problem stackrel finds in a user's files is a `Diagnostic`: a stable code, the file, the
//! exact place, what is wrong and how to fix it. Collecting them as values (rather than failing on
//! the first) lets `validate` list every problem at once, and lets one set of findings render as a
//! miette report for people, JSON for scripts, or workflow annotations for pull requests.

use serde::Serialize;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A message or help longer than this is cut: they quote names and values from the files, and
/// a hostile file's names are as long as the file.
pub const MAX_TEXT_CHARS: usize = 400;
const MAX_LABEL_CHARS: usize = 120;
/// Diagnostics shown per file; the rest are counted in one more.
pub const MAX_PER_FILE: usize = 20;
/// A quoted line longer than this is shown as a window around the column.
pub const WINDOW_CHARS: usize = 120;
/// Characters of the window before the column.
const WINDOW_BEFORE: usize = 40;
/// Names longer than this are not offered "did you mean" (no known name is that long).
const MAX_SUGGESTED_CHARS: usize = 64;
pub const TOO_MANY: &str = "stackrel::too_many_problems";

/// `text` cut to at most `max` characters, marked with `…` where it was cut.
pub fn clip(text: String, max: usize) -> String {
    // No more bytes than `max`, so no more characters.
    if text.len() <= max {
        return text;
    }
    match text.char_indices().nth(max) {
        None => text,
        Some((end, _)) => {
            let mut cut = text[..end].to_string();
            cut.push('…');
            cut
        }
    }
}

/// A name from a file as diagnostics quote it: at most 64 characters.
pub fn name(text: &str) -> String {
    clip(text.to_string(), MAX_SUGGESTED_CHARS)
}

/// Keeps the first `MAX_PER_FILE` diagnostics of each file (they come sorted by file and
/// position) and says how many more there were, so one hostile file cannot flood the output.
pub fn limit_per_file(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    let mut counts: std::collections::BTreeMap<Option<String>, usize> = Default::default();
    for diagnostic in diagnostics {
        let count = counts.entry(diagnostic.file.clone()).or_default();
        *count += 1;
        if *count <= MAX_PER_FILE {
            kept.push(diagnostic);
        }
    }
    for (file, count) in counts {
        let (Some(file), true) = (file, count > MAX_PER_FILE) else {
            continue;
        };
        let hidden = count - MAX_PER_FILE;
        let position = kept
            .iter()
            .rposition(|d| d.file.as_deref() == Some(file.as_str()));
        let summary = Diagnostic::new(
            Severity::Error,
            TOO_MANY,
            format!("{hidden} more problems in `{file}` are not shown"),
        )
        .in_path(&file)
        .help("fix the problems shown and validate again");
        kept.insert(position.map_or(kept.len(), |p| p + 1), summary);
    }
    kept
}

/// A file a diagnostic points into; shared so that many diagnostics can cite one text cheaply.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: Arc<str>,
    /// Where each line starts, and whether it is ASCII (its columns are then its bytes): a
    /// hostile file can hold thousands of findings on one long line, and each finding's
    /// position must not cost a scan from the start of the file.
    lines: Arc<[(usize, bool)]>,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut lines = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            lines.push((start, line.is_ascii()));
            start += line.len();
        }
        // The empty line after a final newline (or of an empty file) has a place too.
        if text.is_empty() || text.ends_with('\n') {
            lines.push((start, true));
        }
        Source {
            path: path.into(),
            text,
            lines: lines.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let index = self
            .lines
            .partition_point(|(start, _)| *start <= offset)
            .saturating_sub(1);
        let (line_start, ascii) = self.lines.get(index).copied().unwrap_or((0, true));
        let line_text = &self.text[line_start..offset];
        // A leading byte-order mark is invisible in editors: it takes no column.
        let line_text = match line_start {
            0 => line_text.strip_prefix('\u{feff}').unwrap_or(line_text),
            _ => line_text,
        };
        let column = if ascii {
            line_text.len()
        } else {
            line_text.chars().count()
        } + 1;
        (index + 1, column)
    }

    pub fn error(&self, code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message).in_file(self)
    }

    pub fn warning(&self, code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message).in_file(self)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One finding. Built with `Source::error(..).at(span, label).help(..)`.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub label: Option<String>,
    pub help: Option<String>,
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    #[serde(skip)]
    source: Option<Source>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            file: None,
            line: None,
            column: None,
            message: clip(message.into(), MAX_TEXT_CHARS),
            label: None,
            help: None,
            span: None,
            source: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic::new(Severity::Error, code, message)
    }

    pub fn in_file(mut self, source: &Source) -> Self {
        self.file = Some(source.path.clone());
        self.source = Some(source.clone());
        self
    }

    /// Names a file whose text cannot be shown (too large, not UTF-8).
    pub fn in_path(mut self, path: &str) -> Self {
        self.file = Some(path.to_string());
        self
    }

    /// Points at a line and column when there is no text to excerpt.
    pub fn at_position(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Points at a byte range of the file, with a short label under it.
    pub fn at(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        if let Some(source) = &self.source {
            let (line, column) = source.line_col(span.start);
            self.line = Some(line);
            self.column = Some(column);
        }
        self.span = Some(span);
        self.label = Some(clip(label.into(), MAX_LABEL_CHARS));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(clip(help.into(), MAX_TEXT_CHARS));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` (as much of it as is known), for one-line summaries.
    pub fn location(&self) -> String {
        match (&self.file, self.line, self.column) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}"),
            (Some(f), _, _) => f.clone(),
            _ => String::new(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source
            .as_ref()
            .map(|s| &s.text as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        let label = miette::LabeledSpan::new_with_span(self.label.clone(), span);
        Some(Box::new(std::iter::once(label)))
    }
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// miette reports with source excerpts, for people.
    Human,
    /// One JSON document, for scripts.
    Json,
    /// GitHub Actions workflow commands, which become pull-request annotations.
    Github,
}

/// Renders one diagnostic as a miette report: the file name, the excerpt with a labelled caret,
/// and the help line.
pub fn render_human(diagnostic: &Diagnostic, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if let Some(location) = diagnostic.file.as_ref().map(|_| diagnostic.location()) {
        out.push_str(&format!("{location}\n"));
    }
    // Writing into a String cannot fail.
    let _ = match Windowed::of(diagnostic) {
        Some(windowed) => handler.render_report(&mut out, &windowed),
        None => handler.render_report(&mut out, diagnostic),
    };
    out
}

/// A diagnostic whose line (or a neighbour miette would show) is too long to quote whole: its
/// excerpt is a window of that one line around the column.
#[derive(Debug)]
struct Windowed<'a> {
    diagnostic: &'a Diagnostic,
    excerpt: Excerpt,
    span: Range<usize>,
}

/// One line of a file, cut to a window; `line` is 0-based, as miette counts.
#[derive(Debug)]
struct Excerpt {
    text: String,
    line: usize,
}

impl<'a> Windowed<'a> {
    fn of(diagnostic: &'a Diagnostic) -> Option<Windowed<'a>> {
        let source = diagnostic.source.as_ref()?;
        let span = diagnostic.span.clone()?;
        let text: &str = &source.text;
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let before = text[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let after = text[line_end..]
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '\n')
            .map_or(text.len(), |(i, _)| line_end + i);
        // Bytes bound characters from above: a line this short in bytes is short.
        let long = text[before..after].lines().any(|l| l.len() > WINDOW_CHARS);
        if !long {
            return None;
        }
        let line = &text[line_start..line_end];
        let column = line[..start - line_start].chars().count();
        let first = column.saturating_sub(WINDOW_BEFORE);
        let byte = |i: usize| line.char_indices().nth(i).map_or(line.len(), |(b, _)| b);
        let (from_byte, to_byte) = (byte(first), byte(first + WINDOW_CHARS));
        let mut excerpt = String::new();
        if from_byte > 0 {
            excerpt.push('…');
        }
        let shift = excerpt.len();
        excerpt.push_str(&line[from_byte..to_byte]);
        let window_end = excerpt.len();
        if to_byte < line.len() {
            excerpt.push('…');
        }
        let from = shift + (start - line_start - from_byte);
        let end = span.end.min(line_start + to_byte);
        let to = (shift + end.saturating_sub(line_start + from_byte)).clamp(from, window_end);
        let line_number = text[..line_start].matches('\n').count();
        Some(Windowed {
            diagnostic,
            excerpt: Excerpt {
                text: excerpt,
                line: line_number,
            },
            span: from..to,
        })
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        _span: &miette::SourceSpan,
        _before: usize,
        _after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        Ok(Box::new(miette::MietteSpanContents::new(
            self.text.as_bytes(),
            (0..self.text.len()).into(),
            self.line,
            0,
            1,
        )))
    }
}

impl fmt::Display for Windowed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diagnostic.fmt(f)
    }
}

impl std::error::Error for Windowed<'_> {}

impl miette::Diagnostic for Windowed<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        miette::Diagnostic::code(self.diagnostic)
    }

    fn severity(&self) -> Option<miette::Severity> {
        miette::Diagnostic::severity(self.diagnostic)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        miette::Diagnostic::help(self.diagnostic)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let label = self.diagnostic.label.clone();
        let span = miette::LabeledSpan::new_with_span(label, self.span.clone());
        Some(Box::new(std::iter::once(span)))
    }
}

/// Renders as a GitHub Actions workflow command (`::error file=…,line=…,col=…::message`).
pub fn render_github(diagnostic: &Diagnostic, path_prefix: &str) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(file) = &diagnostic.file {
        props.push(format!(
            "file={}",
            escape_property(&format!("{path_prefix}{file}"))
        ));
    }
    if let Some(line) = diagnostic.line {
        props.push(format!("line={line}"));
    }
    if let Some(col) = diagnostic.column {
        props.push(format!("col={col}"));
    }
    props.push(format!("title={}", escape_property(diagnostic.code)));
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!("::{command} {}::{}", props.join(","), escape_data(&message))
}

// GitHub's workflow-command escaping: data escapes %, CR, LF; properties also `:` and `,`.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The JSON document `--format json` prints.
pub fn render_json(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let doc = serde_json::json!({
        "ok": errors == 0,
        "errors": errors,
        "warnings": diagnostics.len() - errors,
        "diagnostics": diagnostics,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Suggests the closest known name for a misspelt one, if any is close enough to be likely.
pub fn did_you_mean<'a>(
    unknown: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = unknown.chars().count();
    if length > MAX_SUGGESTED_CHARS {
        return None;
    }
    let unknown_lower = unknown.to_lowercase();
    known
        .into_iter()
        // The distance is at least the difference in length: no need to compute it then.
        .filter(|k| length.abs_diff(k.chars().count()) <= (k.chars().count() / 3).max(1))
        .map(|k| (edit_distance(&unknown_lower, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= (k.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before_prev: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut distance = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            // Two swapped neighbours (`lable` for `label`) are one slip, not two.
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                distance = distance.min(before_prev[j - 1] + 1);
            }
            cur.push(distance);
        }
        before_prev = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let src = Source::new("a.toml", "# café\nkey = 1\n  ü = 2\n");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(src.text.find("key").unwrap()), (2, 1));
        assert_eq!(src.line_col(src.text.find('=').unwrap()), (2, 5));
        let after_u = src.text.find(" = 2").unwrap();
        assert_eq!(src.line_col(after_u), (3, 4));
        assert_eq!(src.line_col(src.text.len()), (4, 1));
        assert_eq!(Source::new("b.toml", "\u{feff}x").line_col(4), (1, 2));
    }

    #[test]
    fn github_annotation_escapes_newlines_and_properties() {
        let src = Source::new("releases/a,b.toml", "x");
        let d = src
            .error("stackrel::test", "bad\nvalue 100%")
            .at(0..1, "here");
        assert_eq!(
            render_github(&d, ""),
            "::error file=releases/a%2Cb.toml,line=1,col=1,title=stackrel%3A%3Atest::bad%0Avalue 100%25"
        );
    }

    #[test]
    fn a_long_line_is_quoted_as_a_window_around_the_column() {
        let line = format!("waive_ci = [{}]", "1,".repeat(5000));
        let src = Source::new("releases/2026.09.1.toml", format!("a = 1\n{line}\n"));
        let at = src.text.find("1,1,").unwrap() + 3000;
        let d = src.error("stackrel::test", "bad").at(at..at + 1, "here");
        let out = render_human(&d, false);
        assert!(out.len() < 2000, "{} bytes:\n{out}", out.len());
        assert!(out.contains("releases/2026.09.1.toml:2:"), "{out}");
        assert!(out.contains("…1,1,"), "{out}");
        assert!(out.contains("here"), "{out}");
    }

    #[test]
    fn short_lines_are_quoted_whole_with_their_neighbours() {
        let src = Source::new("a.toml", "one = 1\ntwo = 2\nthree = 3\n");
        let at = src.text.find("two").unwrap();
        let out = render_human(
            &src.error("stackrel::test", "bad").at(at..at + 3, "here"),
            false,
        );
        assert!(
            out.contains("one = 1") && out.contains("three = 3"),
            "{out}"
        );
    }

    #[test]
    fn messages_are_capped_and_files_show_a_limited_number_of_problems() {
        let src = Source::new("a.toml", "x");
        let d = src.error("stackrel::test", "y".repeat(10_000));
        assert_eq!(d.message.chars().count(), MAX_TEXT_CHARS + 1);
        let many: Vec<_> = (0..100)
            .map(|_| src.error("stackrel::test", "bad"))
            .collect();
        let limited = limit_per_file(many);
        assert_eq!(limited.len(), MAX_PER_FILE + 1);
        assert_eq!(limited[MAX_PER_FILE].code, TOO_MANY);
        assert!(
            limited[MAX_PER_FILE]
                .message
                .starts_with("80 more problems")
        );
    }

    #[test]
    fn a_very_long_unknown_name_gets_no_suggestion() {
        let long = "b".repeat(60_000);
        assert_eq!(did_you_mean(&long, ["backend"]), None);
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["backend", "frontend", "ticket", "notes"];
        assert_eq!(did_you_mean("backnd", known), Some("backend"));
        assert_eq!(did_you_mean("Ticket", known), Some("ticket"));
        assert_eq!(did_you_mean("database", known), None);
    }
}

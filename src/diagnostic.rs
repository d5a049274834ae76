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

/// A file a diagnostic points into; shared so that many diagnostics can cite one text cheaply.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: Arc<str>,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        // A leading byte-order mark is invisible in editors: it takes no column.
        let line_text = &before[line_start..];
        let line_text = match line_start {
            0 => line_text.strip_prefix('\u{feff}').unwrap_or(line_text),
            _ => line_text,
        };
        let column = line_text.chars().count() + 1;
        (line, column)
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
            message: message.into(),
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
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
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
    let _ = handler.render_report(&mut out, diagnostic);
    out
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
    let unknown_lower = unknown.to_lowercase();
    known
        .into_iter()
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
    fn suggests_close_names_only() {
        let known = ["backend", "frontend", "ticket", "notes"];
        assert_eq!(did_you_mean("backnd", known), Some("backend"));
        assert_eq!(did_you_mean("Ticket", known), Some("ticket"));
        assert_eq!(did_you_mean("database", known), None);
    }
}

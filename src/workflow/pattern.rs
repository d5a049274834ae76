//! GitHub Actions filter patterns: the glob-like syntax of `on.push.tags`, `branches` and
//! `paths`, which decides whether a pushed tag starts a workflow run.
//!
//! The syntax is the one of "Workflow syntax for GitHub Actions → Filter pattern cheat sheet"
//! (docs.github.com, `content/actions/reference/workflows-and-actions/workflow-syntax.md` in the
//! github/docs repository), and it is not a regular expression and not a shell glob:
//! - `*` matches zero or more characters but not `/`; `**` matches zero or more of any
//!   character. The cheat sheet's own example has `'**/README.md'` match `README.md`, so `**/`
//!   also matches nothing at all: it reads as "nothing, or anything that ends in `/`".
//! - `?` matches zero or one of the preceding character and `+` one or more of it (so in
//!   `'*.jsx?'` the `?` makes the `x` optional, and `[0-9]+` is one or more digits).
//! - `[]` matches one alphanumeric character listed in the brackets or in a range; "ranges can
//!   only include `a-z`, `A-Z`, and `0-9`" (`[0-9a-z]`, `[CB]at`, `[1-2]00`).
//! - `!` at the start negates the pattern; elsewhere it has no special meaning. In a list the
//!   order matters: "a matching negative pattern after a positive match will exclude the Git
//!   ref; a matching positive pattern after a negative match will include it again" (the
//!   "Including and excluding branches and tags" reusable of the same docs).
//! - A special character is matched literally when escaped with `\` (docs, `on.push.tags`).
//! - Every other character is literal: `.` is a dot, `{2}` is the two characters `{2}`.
//!
//! The docs leave a few corners open; this module decides them as follows, as nektos/act's
//! re-implementation does where it has a rule: a `?` or `+` with no preceding character (the
//! start of the pattern) is literal; one after a wildcard or after another quantifier changes
//! nothing; anything in brackets other than letters, digits and ranges between two of the same
//! kind is an invalid pattern, and so are `[]`, an unclosed `[` and a trailing `\`.
//!
//! Matching compiles a pattern into a small automaton and runs it over the name one character
//! at a time with the set of live states (a Pike VM), so it takes time proportional to the
//! name's length times the pattern's length whatever the pattern holds: no backtracking, no
//! exponential case for hostile input such as `*a*a*a*a*a*b`.

use std::fmt;
use std::ops::RangeInclusive;

/// One filter pattern as written in a workflow file, ready to match names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPattern {
    written: String,
    negated: bool,
    program: Vec<Op>,
}

/// Why a filter pattern is not one GitHub accepts. Positions count characters from 1, the
/// leading `!` included, so that a message can point into the pattern as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("the `[` at character {position} is never closed with `]`")]
    UnclosedBrackets { position: usize },

    #[error("the brackets `[]` at character {position} list no character")]
    EmptyBrackets { position: usize },

    #[error(
        "`{found}` at character {position} cannot stand in brackets: only letters, digits and \
         ranges `a-z`, `A-Z`, `0-9` may (escape it with `\\` outside brackets instead)"
    )]
    NotAlphanumeric { found: char, position: usize },

    #[error(
        "the range `{from}-{to}` at character {position} is not within one of `a-z`, `A-Z` or \
         `0-9` in ascending order"
    )]
    BadRange {
        from: char,
        to: char,
        position: usize,
    },

    #[error("the `-` at character {position} must stand between two letters or two digits")]
    DanglingDash { position: usize },

    #[error("the pattern ends with a `\\` that escapes nothing")]
    TrailingBackslash,
}

impl FilterPattern {
    /// Reads a pattern as written in the file, a leading `!` included.
    pub fn parse(written: &str) -> Result<Self, PatternError> {
        let (negated, body, offset) = match written.strip_prefix('!') {
            Some(rest) => (true, rest, 1),
            None => (false, written, 0),
        };
        let pieces = parse_pieces(body, offset)?;
        Ok(FilterPattern {
            written: written.to_owned(),
            negated,
            program: compile(&pieces),
        })
    }

    /// The pattern exactly as the file wrote it, `!` included.
    pub fn as_written(&self) -> &str {
        &self.written
    }

    /// Whether the pattern starts with `!`, so that a match excludes the name.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Whether the whole of `name` matches the pattern (the `!` aside).
    pub fn matches(&self, name: &str) -> bool {
        run(&self.program, name)
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// The pattern of `patterns` that decides about `name`: read in order, the last one that
/// matches wins, so a later `!pattern` excludes what an earlier pattern included and a later
/// pattern includes it again. `None` when no pattern matches.
///
/// For `tags:` the name is included when the decisive pattern is a positive one. For
/// `tags-ignore:` the same reading applies to ignoring (GitHub documents no `!` there; "ignore
/// these, except" is its natural meaning and, without `!`, it is "any pattern matches").
pub fn decisive_match<'p>(patterns: &'p [FilterPattern], name: &str) -> Option<&'p FilterPattern> {
    patterns.iter().rev().find(|pattern| pattern.matches(name))
}

/// Which characters one step of a pattern accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CharSet {
    Exactly(char),
    AnyButSlash,
    Any,
    OneOf(Vec<RangeInclusive<char>>),
}

impl CharSet {
    fn accepts(&self, c: char) -> bool {
        match self {
            CharSet::Exactly(expected) => c == *expected,
            CharSet::AnyButSlash => c != '/',
            CharSet::Any => true,
            CharSet::OneOf(ranges) => ranges.iter().any(|range| range.contains(&c)),
        }
    }
}

/// A pattern read into steps, before compiling: each step is one character set with how often
/// it may repeat, or the `**/` prefix of directories.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    One(CharSet),
    Optional(CharSet),
    OneOrMore(CharSet),
    ZeroOrMore(CharSet),
    /// `**/`: nothing, or anything that ends in `/`.
    AnyDirectories,
}

fn parse_pieces(body: &str, offset: usize) -> Result<Vec<Piece>, PatternError> {
    let chars: Vec<char> = body.chars().collect();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let position = offset + i + 1;
        match chars[i] {
            '*' => {
                let (piece, width) = wildcard(&chars[i..]);
                pieces.push(piece);
                i += width;
            }
            quantifier @ ('?' | '+') => {
                apply_quantifier(&mut pieces, quantifier);
                i += 1;
            }
            '[' => {
                let (set, width) = brackets(&chars[i..], position)?;
                pieces.push(Piece::One(set));
                i += width;
            }
            '\\' => {
                let escaped = *chars.get(i + 1).ok_or(PatternError::TrailingBackslash)?;
                pieces.push(Piece::One(CharSet::Exactly(escaped)));
                i += 2;
            }
            literal => {
                pieces.push(Piece::One(CharSet::Exactly(literal)));
                i += 1;
            }
        }
    }
    Ok(pieces)
}

/// `*`, `**` or `**/` at the start of `rest`, and how many characters it takes.
fn wildcard(rest: &[char]) -> (Piece, usize) {
    match rest {
        ['*', '*', '/', ..] => (Piece::AnyDirectories, 3),
        ['*', '*', ..] => (Piece::ZeroOrMore(CharSet::Any), 2),
        _ => (Piece::ZeroOrMore(CharSet::AnyButSlash), 1),
    }
}

/// `?` or `+` applies to the single character before it. With none before it (the start of
/// the pattern) it is literal; after a wildcard or another quantifier it changes nothing.
fn apply_quantifier(pieces: &mut Vec<Piece>, quantifier: char) {
    match pieces.pop() {
        None => pieces.push(Piece::One(CharSet::Exactly(quantifier))),
        Some(Piece::One(set)) if quantifier == '?' => pieces.push(Piece::Optional(set)),
        Some(Piece::One(set)) => pieces.push(Piece::OneOrMore(set)),
        Some(other) => pieces.push(other),
    }
}

/// The bracket expression at the start of `rest` (which starts with `[`), and its width.
fn brackets(rest: &[char], position: usize) -> Result<(CharSet, usize), PatternError> {
    let close = rest
        .iter()
        .position(|&c| c == ']')
        .ok_or(PatternError::UnclosedBrackets { position })?;
    let inside = &rest[1..close];
    if inside.is_empty() {
        return Err(PatternError::EmptyBrackets { position });
    }
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < inside.len() {
        let at = position + 1 + i;
        let from = member(inside[i], at)?;
        match inside.get(i + 1) {
            Some('-') => {
                let to = inside.get(i + 2).copied();
                let to = to.ok_or(PatternError::DanglingDash { position: at + 1 })?;
                let to = member(to, at + 2)?;
                if !same_kind_ascending(from, to) {
                    return Err(PatternError::BadRange {
                        from,
                        to,
                        position: at,
                    });
                }
                ranges.push(from..=to);
                i += 3;
            }
            _ => {
                ranges.push(from..=from);
                i += 1;
            }
        }
    }
    Ok((CharSet::OneOf(ranges), close + 1))
}

/// A character listed in brackets: an ASCII letter or digit.
fn member(c: char, position: usize) -> Result<char, PatternError> {
    match c {
        '-' => Err(PatternError::DanglingDash { position }),
        c if c.is_ascii_alphanumeric() => Ok(c),
        found => Err(PatternError::NotAlphanumeric { found, position }),
    }
}

fn same_kind_ascending(from: char, to: char) -> bool {
    let same_kind = (from.is_ascii_lowercase() && to.is_ascii_lowercase())
        || (from.is_ascii_uppercase() && to.is_ascii_uppercase())
        || (from.is_ascii_digit() && to.is_ascii_digit());
    same_kind && from <= to
}

/// One instruction of the compiled automaton; indices point into the program.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// Consume one character the set accepts, then continue at `next`.
    Step { set: CharSet, next: usize },
    /// Continue at both places without consuming anything.
    Fork(usize, usize),
    /// The whole name has matched if the input ends here.
    Done,
}

fn compile(pieces: &[Piece]) -> Vec<Op> {
    let mut program = Vec::new();
    for piece in pieces {
        let here = program.len();
        match piece {
            Piece::One(set) => program.push(step(set, here + 1)),
            Piece::Optional(set) => {
                program.push(Op::Fork(here + 1, here + 2));
                program.push(step(set, here + 2));
            }
            Piece::OneOrMore(set) => {
                program.push(step(set, here + 1));
                program.push(Op::Fork(here, here + 2));
            }
            Piece::ZeroOrMore(set) => {
                program.push(Op::Fork(here + 1, here + 2));
                program.push(step(set, here));
            }
            // (.*/)? : skip it all, or any characters and then a slash.
            Piece::AnyDirectories => {
                program.push(Op::Fork(here + 1, here + 4));
                program.push(Op::Fork(here + 2, here + 3));
                program.push(step(&CharSet::Any, here + 1));
                program.push(step(&CharSet::Exactly('/'), here + 4));
            }
        }
    }
    program.push(Op::Done);
    program
}

fn step(set: &CharSet, next: usize) -> Op {
    Op::Step {
        set: set.clone(),
        next,
    }
}

/// Runs the automaton over `name` with the set of live states: each character moves every
/// live state at most once, so the work is bounded by `name` length × `program` length.
fn run(program: &[Op], name: &str) -> bool {
    let mut live = StateSet::new(program.len());
    let mut next = StateSet::new(program.len());
    live.add_reachable(program, 0);
    for c in name.chars() {
        next.clear();
        for &state in &live.states {
            if let Op::Step { set, next: to } = &program[state]
                && set.accepts(c)
            {
                next.add_reachable(program, *to);
            }
        }
        if next.states.is_empty() {
            return false;
        }
        std::mem::swap(&mut live, &mut next);
    }
    live.states.iter().any(|&state| program[state] == Op::Done)
}

/// The states an automaton is in: a list for order and a membership table for speed.
struct StateSet {
    states: Vec<usize>,
    member: Vec<bool>,
    pending: Vec<usize>,
}

impl StateSet {
    fn new(size: usize) -> Self {
        StateSet {
            states: Vec::with_capacity(size),
            member: vec![false; size],
            pending: Vec::new(),
        }
    }

    fn clear(&mut self) {
        for &state in &self.states {
            self.member[state] = false;
        }
        self.states.clear();
    }

    /// Adds `start` and every state reachable from it without consuming a character. Uses
    /// an explicit stack, so a long run of forks cannot exhaust the call stack.
    fn add_reachable(&mut self, program: &[Op], start: usize) {
        self.pending.push(start);
        while let Some(state) = self.pending.pop() {
            if std::mem::replace(&mut self.member[state], true) {
                continue;
            }
            self.states.push(state);
            if let Op::Fork(first, second) = program[state] {
                self.pending.push(second);
                self.pending.push(first);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        FilterPattern::parse(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .matches(name)
    }

    fn included(patterns: &[&str], name: &str) -> bool {
        let patterns: Vec<FilterPattern> = patterns
            .iter()
            .map(|p| FilterPattern::parse(p).expect("valid pattern"))
            .collect();
        decisive_match(&patterns, name).is_some_and(|p| !p.is_negated())
    }

    // Each rule with the examples of the docs' cheat sheet ("Patterns to match branches and
    // tags" and "Patterns to match file paths").

    #[test]
    fn star_matches_any_characters_but_not_a_slash() {
        assert!(matches("feature/*", "feature/my-branch"));
        assert!(matches("feature/*", "feature/your-branch"));
        assert!(matches("Octo*", "Octocat"));
        assert!(matches("*", "main"));
        assert!(matches("*", "releases"));
        assert!(!matches("*", "all/the/branches"));
        assert!(!matches("feature/*", "feature/beta-a/my-branch"));
    }

    #[test]
    fn star_matches_nothing_too() {
        assert!(matches("*feature", "feature"));
        assert!(matches("*feature", "mona-feature"));
        assert!(matches("*feature", "ver-10-feature"));
        assert!(matches("v2*", "v2"));
        assert!(matches("v2*", "v2.0"));
        assert!(matches("v2*", "v2.9"));
    }

    #[test]
    fn double_star_matches_any_characters_including_slashes() {
        assert!(matches("feature/**", "feature/beta-a/my-branch"));
        assert!(matches("feature/**", "feature/mona/the/octocat"));
        assert!(matches("**", "all/the/branches"));
        assert!(matches("**", "every/tag"));
        assert!(matches("**", ""));
        assert!(matches("**.js", "src/js/app.js"));
    }

    #[test]
    fn double_star_slash_matches_no_directory_at_all() {
        assert!(matches("**/README.md", "README.md"));
        assert!(matches("**/README.md", "js/README.md"));
        assert!(matches("**/docs/**", "docs/hello.md"));
        assert!(matches("**/docs/**", "space/docs/plan/space.doc"));
        assert!(matches("docs/**/*.md", "docs/README.md"));
        assert!(matches("docs/**/*.md", "docs/a/markdown/file.md"));
        assert!(!matches("**/README.md", "XREADME.md"));
    }

    #[test]
    fn question_mark_makes_the_preceding_character_optional() {
        assert!(matches("*.jsx?", "page.js"));
        assert!(matches("*.jsx?", "page.jsx"));
        assert!(!matches("*.jsx?", "page.jsxx"));
        assert!(matches("colou?r", "color"));
        assert!(!matches("colou?r", "colouur"));
    }

    #[test]
    fn plus_repeats_the_preceding_character_or_bracket() {
        assert!(matches("v[12].[0-9]+.[0-9]+", "v1.10.1"));
        assert!(matches("v[12].[0-9]+.[0-9]+", "v2.0.0"));
        assert!(!matches("v[12].[0-9]+.[0-9]+", "v3.0.0"));
        assert!(!matches("v[12].[0-9]+.[0-9]+", "v1..1"));
        assert!(matches("ab+c", "abbbc"));
        assert!(!matches("ab+c", "ac"));
    }

    #[test]
    fn brackets_match_one_listed_character_or_range() {
        assert!(matches("[CB]at", "Cat"));
        assert!(matches("[CB]at", "Bat"));
        assert!(!matches("[CB]at", "Hat"));
        assert!(matches("[1-2]00", "100"));
        assert!(matches("[1-2]00", "200"));
        assert!(!matches("[1-2]00", "300"));
        assert!(matches("[0-9a-z]", "q"));
        assert!(!matches("[0-9a-z]", "Q"));
        assert!(!matches("[CB]at", "CBat"));
    }

    #[test]
    fn dot_and_other_characters_are_literal() {
        assert!(matches("[0-9]+.[0-9]+", "2023.2"));
        assert!(!matches("[0-9]+.[0-9]+", "2023x2"));
        assert!(matches("v{2}", "v{2}"));
        assert!(!matches("v{2}", "vv"));
        assert!(matches("a!b", "a!b"));
        assert!(matches("release-(x)|y", "release-(x)|y"));
    }

    #[test]
    fn backslash_escapes_a_special_character() {
        assert!(matches("\\!file", "!file"));
        assert!(matches("v1\\+build", "v1+build"));
        assert!(!matches("v1\\+build", "v11build"));
        assert!(matches("a\\*", "a*"));
        assert!(!matches("a\\*", "ab"));
        assert!(matches("escape\\\\backslash", "escape\\backslash"));
    }

    #[test]
    fn a_pattern_matches_the_whole_name_only() {
        assert!(!matches("main", "main2"));
        assert!(!matches("main", "xmain"));
        assert!(matches("main", "main"));
        assert!(!matches("Main", "main"));
    }

    #[test]
    fn a_quantifier_with_nothing_before_it_is_literal() {
        assert!(matches("+1", "+1"));
        assert!(matches("?", "?"));
        assert!(matches("!+", "+"));
    }

    #[test]
    fn a_quantifier_after_a_wildcard_changes_nothing() {
        assert!(matches("a*+", "abc"));
        assert!(matches("a*?", "a"));
        assert!(matches("a+?", "aaa"));
    }

    #[test]
    fn the_backend_production_patterns_leave_out_hotfix_and_rc_tags() {
        let production = ["[0-9]+.[0-9]+", "[0-9]+.[0-9]+.[0-9]+"];
        assert!(included(&production, "2026.08.1"));
        assert!(included(&production, "2023.2"));
        assert!(included(&production, "2.0.60"));
        assert!(!included(&production, "2024.11.1-1"));
        assert!(!included(&production, "1.0.5-rc.1"));
        assert!(!included(&production, "v2026.08.1"));
    }

    // Negation and order.

    #[test]
    fn a_later_negative_pattern_excludes() {
        let patterns = ["releases/**", "!releases/**-alpha"];
        assert!(included(&patterns, "releases/10"));
        assert!(included(&patterns, "releases/beta/mona"));
        assert!(!included(&patterns, "releases/10-alpha"));
        assert!(!included(&patterns, "releases/beta/3-alpha"));
    }

    #[test]
    fn a_later_positive_pattern_includes_again() {
        let patterns = ["*.md", "!README.md", "README*"];
        assert!(included(&patterns, "hello.md"));
        assert!(included(&patterns, "README.md"));
        assert!(included(&patterns, "README.doc"));
        assert!(!included(&["*.md", "!README.md"], "README.md"));
        assert!(!included(&["*.md", "!README.md"], "docs/hello.md"));
    }

    #[test]
    fn a_negative_pattern_before_the_positive_one_excludes_nothing() {
        assert!(included(&["!v1*", "v*"], "v1.0"));
    }

    #[test]
    fn only_negative_patterns_include_nothing() {
        assert!(!included(&["!v1*"], "v2.0"));
        assert!(!included(&[], "v2.0"));
    }

    #[test]
    fn negation_counts_only_at_the_start() {
        let pattern = FilterPattern::parse("!v1").expect("valid");
        assert!(pattern.is_negated());
        assert!(pattern.matches("v1"));
        assert_eq!(pattern.as_written(), "!v1");
        assert!(!FilterPattern::parse("v!1").expect("valid").is_negated());
    }

    // Invalid patterns.

    #[test]
    fn unclosed_brackets_are_an_error() {
        assert_eq!(
            FilterPattern::parse("v[0-9"),
            Err(PatternError::UnclosedBrackets { position: 2 })
        );
    }

    #[test]
    fn empty_brackets_are_an_error() {
        assert_eq!(
            FilterPattern::parse("!a[]"),
            Err(PatternError::EmptyBrackets { position: 3 })
        );
    }

    #[test]
    fn brackets_hold_only_letters_digits_and_ranges() {
        assert_eq!(
            FilterPattern::parse("[a._]"),
            Err(PatternError::NotAlphanumeric {
                found: '.',
                position: 3
            })
        );
        assert_eq!(
            FilterPattern::parse("[a-Z]"),
            Err(PatternError::BadRange {
                from: 'a',
                to: 'Z',
                position: 2
            })
        );
        assert_eq!(
            FilterPattern::parse("[9-0]"),
            Err(PatternError::BadRange {
                from: '9',
                to: '0',
                position: 2
            })
        );
        assert_eq!(
            FilterPattern::parse("[a-]"),
            Err(PatternError::DanglingDash { position: 3 })
        );
        assert_eq!(
            FilterPattern::parse("[-a]"),
            Err(PatternError::DanglingDash { position: 2 })
        );
    }

    #[test]
    fn a_trailing_backslash_is_an_error() {
        assert_eq!(
            FilterPattern::parse("v1\\"),
            Err(PatternError::TrailingBackslash)
        );
    }

    #[test]
    fn errors_say_where_in_the_pattern() {
        let message = FilterPattern::parse("v[0-9")
            .expect_err("invalid")
            .to_string();
        assert!(message.contains("character 2"), "{message}");
    }

    // Bounded work.

    #[test]
    fn hostile_patterns_match_in_linear_time() {
        let pattern = format!("{}b", "*a".repeat(300));
        let name = "a".repeat(5_000);
        let started = std::time::Instant::now();
        assert!(!matches(&pattern, &name));
        let nested = format!("{}x", "a?".repeat(400));
        assert!(!matches(&nested, &"a".repeat(400)));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn long_runs_of_wildcards_do_not_exhaust_the_stack() {
        let pattern = "**/".repeat(20_000);
        assert!(matches(&pattern, ""));
        assert!(matches(&pattern, "a/b/"));
        assert!(!matches(&pattern, "a/b"));
    }
}

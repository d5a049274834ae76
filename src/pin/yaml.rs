//! The second opinion on every pin: what a YAML 1.2 parser (saphyr-parser, which sets out to be
//! fully compliant) reads in the workflow file, as a flat list of parse events.
//!
//! The line scanner in the parent module finds the pins and explains what it cannot edit; this
//! module does not trust it. Before an edit, the parser must find each pin under the first
//! document's top-level `env:` at the very byte the scanner found, with the same value and
//! quoting. After the edit, the parser must read the same events as before except at the pins,
//! and each pin as exactly its new string. The events carry no comments or spacing, so this
//! compares meaning; the parent module's splice is what keeps the other bytes.
//!
//! Positions from saphyr-parser count characters, not bytes, and a quoted scalar's span runs on
//! over a comment that follows it; only span starts are used here, converted to byte offsets.

use saphyr_parser::{Event, Parser, ScalarStyle as YamlStyle, Span};

use super::ScalarStyle;

/// Why the parser could not give a reading of the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// The text is not YAML from this 1-based line and column on.
    Syntax { line: usize, column: usize },
    /// A second document starts at this 1-based line and column.
    SecondDocument { line: usize, column: usize },
}

/// A pin variable set under a nested `env:` mapping: where, and the mapping's YAML path
/// (`jobs.build.env`, `jobs.build.steps[1].env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Nested {
    pub line: usize,
    pub column: usize,
    pub path: String,
}

/// The parser's reading of one file: every event with its span, and the text they index.
pub(super) struct Reading<'a> {
    text: &'a str,
    events: Vec<(Event<'a>, Span)>,
}

/// What the parser finds under the top-level `env:` for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Found<'r> {
    /// No top-level `env:` mapping, or no such key in it; or `env` itself appears twice.
    Missing,
    /// The key appears more than once.
    Twice,
    /// The value is not a scalar free of anchors and tags.
    NotPlainScalar { line: usize, column: usize },
    /// A scalar value: the index of its event, where it starts, and how it reads.
    Scalar {
        index: usize,
        start: usize,
        value: &'r str,
        style: Option<ScalarStyle>,
    },
}

impl<'a> Reading<'a> {
    /// Parses the whole text; a file with more than one document is refused, because GitHub
    /// Actions reads exactly one and an editor that knew only the first would edit blind.
    pub(super) fn parse(text: &'a str) -> Result<Self, Failure> {
        let mut events = Vec::new();
        let mut documents = 0;
        for item in Parser::new_from_str(text) {
            let (event, span) = item.map_err(|e| Failure::Syntax {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            })?;
            if matches!(event, Event::DocumentStart(_)) {
                documents += 1;
                if documents > 1 {
                    return Err(Failure::SecondDocument {
                        line: span.start.line(),
                        column: span.start.col() + 1,
                    });
                }
            }
            let end = matches!(event, Event::StreamEnd);
            events.push((event, span));
            if end {
                break;
            }
        }
        Ok(Reading { text, events })
    }

    /// The reading of a file nobody asked about: no events, so no pins.
    pub(super) fn empty(text: &'a str) -> Self {
        Reading {
            text,
            events: Vec::new(),
        }
    }

    /// Finds `key` directly under the top-level `env:` mapping of the (only) document.
    pub(super) fn env_value(&self, key: &str) -> Found<'_> {
        let Some(env) = self.env_mapping() else {
            return Found::Missing;
        };
        let mut found = Found::Missing;
        for (key_index, value_index) in self.entries(env) {
            if !self.is_scalar(key_index, key) {
                continue;
            }
            if found != Found::Missing {
                return Found::Twice;
            }
            found = self.scalar_value(value_index);
        }
        found
    }

    /// The index of the first event, from `other`, whose reading differs from this one's, other
    /// than at `skip` (the pins' value events). `Some(len)` when one reading is longer.
    pub(super) fn first_difference(&self, other: &Reading<'_>, skip: &[usize]) -> Option<usize> {
        let shared = self.events.len().min(other.events.len());
        let differs = (0..shared).find(|i| {
            !skip.contains(i)
                && self.events.get(*i).map(|(e, _)| e) != other.events.get(*i).map(|(e, _)| e)
        });
        differs.or((self.events.len() != other.events.len()).then_some(shared))
    }

    /// The 1-based line and column (in characters) where event `index` starts.
    pub(super) fn position(&self, index: usize) -> (usize, usize) {
        self.events
            .get(index)
            .or(self.events.last())
            .map_or((1, 1), |(_, span)| {
                (span.start.line(), span.start.col() + 1)
            })
    }

    /// The scalar event at `index`, as [`Found`] reports it.
    pub(super) fn scalar_value(&self, index: usize) -> Found<'_> {
        let (line, column) = self.position(index);
        match self.events.get(index) {
            Some((Event::Scalar(value, style, 0, None), span)) => Found::Scalar {
                index,
                start: byte_offset(self.text, span.start.index()),
                value,
                style: match style {
                    YamlStyle::Plain => Some(ScalarStyle::Plain),
                    YamlStyle::SingleQuoted => Some(ScalarStyle::SingleQuoted),
                    YamlStyle::DoubleQuoted => Some(ScalarStyle::DoubleQuoted),
                    YamlStyle::Literal | YamlStyle::Folded => None,
                },
            },
            _ => Found::NotPlainScalar { line, column },
        }
    }

    /// Every place `key` is set under an `env:` mapping other than the top-level one (a job's,
    /// a step's), in file order: for saying where a pin that is missing at the top level is.
    pub(super) fn nested_env_keys(&self, key: &str) -> Vec<Nested> {
        let mut found = Vec::new();
        // An explicit stack: the nesting depth is the file's to choose, the call stack is not.
        let mut stack = vec![(2usize, String::new())];
        while let Some((node, path)) = stack.pop() {
            match self.events.get(node) {
                Some((Event::MappingStart(..), _)) => {
                    for (k, v) in self.entries(node) {
                        let Some((Event::Scalar(name, ..), _)) = self.events.get(k) else {
                            continue;
                        };
                        let here = match path.is_empty() {
                            true => name.to_string(),
                            false => format!("{path}.{name}"),
                        };
                        if name != "env" {
                            stack.push((v, here));
                        } else if !path.is_empty()
                            && matches!(self.events.get(v), Some((Event::MappingStart(..), _)))
                        {
                            let keys = self.entries(v).filter(|&(k, _)| self.is_scalar(k, key));
                            found.extend(keys.map(|(k, _)| {
                                let (line, column) = self.position(k);
                                Nested {
                                    line,
                                    column,
                                    path: here.clone(),
                                }
                            }));
                        }
                    }
                }
                Some((Event::SequenceStart(..), _)) => {
                    let mut at = node + 1;
                    let mut i = 0;
                    while !matches!(self.events.get(at), None | Some((Event::SequenceEnd, _))) {
                        stack.push((at, format!("{path}[{i}]")));
                        at = self.node_end(at);
                        i += 1;
                    }
                }
                _ => {}
            }
        }
        found.sort_by_key(|n| (n.line, n.column));
        found
    }

    /// Where the top-level `env:` mapping's anchor is used again as an alias (`*name`), with
    /// the alias as written: editing the mapping would change that place too.
    pub(super) fn env_alias(&self) -> Option<(usize, usize, String)> {
        let env = self.env_mapping()?;
        let Some((Event::MappingStart(anchor, _), _)) = self.events.get(env) else {
            return None;
        };
        if *anchor == 0 {
            return None;
        }
        self.events
            .iter()
            .enumerate()
            .find_map(|(i, (event, span))| {
                if !matches!(event, Event::Alias(id) if id == anchor) {
                    return None;
                }
                let rest = self
                    .text
                    .get(byte_offset(self.text, span.start.index())..)?;
                let end = rest
                    .find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
                    .unwrap_or(rest.len());
                let alias: String = rest.get(..end)?.chars().take(64).collect();
                let (line, column) = self.position(i);
                Some((line, column, alias))
            })
    }

    /// The position of a top-level `env` key written with a tag or an anchor (`!!str env:`),
    /// which the scanner does not take for the `env` key.
    pub(super) fn decorated_env_key(&self) -> Option<(usize, usize)> {
        if !matches!(self.events.get(2), Some((Event::MappingStart(..), _))) {
            return None;
        }
        self.entries(2).find_map(|(k, _)| match self.events.get(k) {
            Some((Event::Scalar(name, _, anchor, tag), _))
                if name == "env" && (*anchor != 0 || tag.is_some()) =>
            {
                Some(self.position(k))
            }
            _ => None,
        })
    }

    /// The index of the `MappingStart` that is the value of the document's only top-level
    /// `env` key; `None` when there is none, or more than one.
    fn env_mapping(&self) -> Option<usize> {
        // Events: StreamStart, DocumentStart, then the document's root node.
        let root = 2;
        if !matches!(self.events.get(root), Some((Event::MappingStart(..), _))) {
            return None;
        }
        let mut envs = self
            .entries(root)
            .filter(|&(key, _)| self.is_scalar(key, "env"))
            .map(|(_, value)| value);
        let env = envs.next()?;
        let single = envs.next().is_none();
        let mapping = matches!(self.events.get(env), Some((Event::MappingStart(..), _)));
        (single && mapping).then_some(env)
    }

    /// The (key, value) event indices of the mapping whose `MappingStart` is at `start`.
    fn entries(&self, start: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut at = start + 1;
        std::iter::from_fn(move || {
            if matches!(self.events.get(at), None | Some((Event::MappingEnd, _))) {
                return None;
            }
            let key = at;
            let value = self.node_end(key);
            at = self.node_end(value);
            Some((key, value))
        })
    }

    /// The index just past the node that starts at `index`.
    fn node_end(&self, index: usize) -> usize {
        let mut depth = 0usize;
        let mut at = index;
        while let Some((event, _)) = self.events.get(at) {
            at += 1;
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
        at
    }

    fn is_scalar(&self, index: usize, text: &str) -> bool {
        matches!(self.events.get(index), Some((Event::Scalar(value, ..), _)) if value == text)
    }
}

/// The byte offset of the character at `char_index` (the end of the text past the last one).
fn byte_offset(text: &str, char_index: usize) -> usize {
    text.char_indices()
        .nth(char_index)
        .map_or(text.len(), |(byte, _)| byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found<'r>(reading: &'r Reading<'_>, key: &str) -> Found<'r> {
        reading.env_value(key)
    }

    #[test]
    fn finds_env_values_with_byte_offsets_after_non_ascii_text() {
        let text = "\u{feff}# Größe ✓\nenv:\n  # ünï\n  A: \"ß\"   # π\n  B: 1.10\n";
        let reading = Reading::parse(text).unwrap();
        let Found::Scalar {
            start,
            value,
            style,
            ..
        } = found(&reading, "A")
        else {
            panic!("A should be a scalar");
        };
        assert_eq!((&text[start..start + 4], value), ("\"ß\"", "ß"));
        assert_eq!(style, Some(ScalarStyle::DoubleQuoted));
        let Found::Scalar { start, value, .. } = found(&reading, "B") else {
            panic!("B should be a scalar");
        };
        assert_eq!((&text[start..], value), ("1.10\n", "1.10"));
    }

    #[test]
    fn reports_missing_repeated_and_non_scalar_values() {
        let reading =
            Reading::parse("env:\n  A: x\n  A: y\n  B: &b z\n  C: [1]\n  D: !!str q\n").unwrap();
        assert_eq!(found(&reading, "A"), Found::Twice);
        assert_eq!(found(&reading, "Z"), Found::Missing);
        for key in ["B", "C", "D"] {
            assert!(
                matches!(found(&reading, key), Found::NotPlainScalar { .. }),
                "{key}"
            );
        }
        let nested = Reading::parse("jobs:\n  b:\n    env:\n      A: x\n").unwrap();
        assert_eq!(found(&nested, "A"), Found::Missing);
        let twice = Reading::parse("env:\n  A: x\njobs: {}\nenv:\n  A: y\n").unwrap();
        assert_eq!(found(&twice, "A"), Found::Missing);
    }

    #[test]
    fn refuses_second_document_and_syntax_errors_with_positions() {
        assert_eq!(
            Reading::parse("env:\n  A: x\n---\nenv:\n  A: y\n").err(),
            Some(Failure::SecondDocument { line: 3, column: 1 })
        );
        assert_eq!(
            Reading::parse("env:\n    A: x\n  B: y\n").err(),
            Some(Failure::Syntax { line: 3, column: 3 })
        );
        assert!(Reading::parse("---\nenv:\n  A: x\n...\n# only a comment\n").is_ok());
    }

    #[test]
    fn first_difference_skips_only_the_given_events() {
        let before = Reading::parse("env:\n  A: x\n  B: y\n").unwrap();
        let pin = match found(&before, "A") {
            Found::Scalar { index, .. } => index,
            other => panic!("{other:?}"),
        };
        let same_but_pin = Reading::parse("env:\n  A: \"1\"   # new\n  B: y\n").unwrap();
        assert_eq!(before.first_difference(&same_but_pin, &[pin]), None);
        let other_value = Reading::parse("env:\n  A: x\n  B: z\n").unwrap();
        let at = before.first_difference(&other_value, &[pin]).unwrap();
        assert_eq!(other_value.position(at), (3, 6));
        let longer = Reading::parse("env:\n  A: x\n  B: y\n  C: z\n").unwrap();
        assert!(before.first_difference(&longer, &[pin]).is_some());
    }
}

//! Checks a parsed TOML document against a JSON Schema generated from our own types, keeping the
//! source spans. serde stops at the first problem and knows nothing of "did you mean"; walking the
//! spanned document against the schema lets validation report every unknown key, missing key and
//! wrong type at once, each at its exact line and column, while the types stay the only
//! definition of the file format.

use crate::diagnostic::{Diagnostic, Source, did_you_mean};
use serde_json::Value as Json;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Stable diagnostic codes for shape problems.
pub const UNKNOWN_KEY: &str = "stackrel::unknown-key";
pub const MISSING_KEY: &str = "stackrel::missing-key";
pub const WRONG_TYPE: &str = "stackrel::wrong-type";
pub const NOT_ALLOWED: &str = "stackrel::value-not-allowed";

/// A schema plus the root it was generated with, so `$ref`s can be resolved.
pub struct SchemaChecker<'s> {
    root: &'s Json,
    source: &'s Source,
    /// Dotted path of the document (`stackrel.toml` tables), for messages.
    pub diagnostics: Vec<Diagnostic>,
}

impl<'s> SchemaChecker<'s> {
    pub fn new(root: &'s Json, source: &'s Source) -> Self {
        SchemaChecker {
            root,
            source,
            diagnostics: Vec::new(),
        }
    }

    /// Checks the whole document; `table_span` is where missing root keys are reported.
    pub fn check_root(&mut self, table: &Spanned<DeTable<'_>>) {
        let root = self.root;
        self.check_table(table.get_ref(), table.span(), root, "");
    }

    fn resolve(&self, mut schema: &'s Json) -> &'s Json {
        // `$ref`s are local (`#/$defs/Name`); a bounded loop guards against a cycle.
        for _ in 0..16 {
            let Some(reference) = schema.get("$ref").and_then(Json::as_str) else {
                break;
            };
            let pointer = reference.trim_start_matches('#');
            match self.root.pointer(pointer) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    fn check_value(&mut self, value: &Spanned<DeValue<'_>>, schema: &'s Json, path: &str) {
        let schema = self.resolve(schema);
        let alternatives = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array);
        if let Some(alternatives) = alternatives {
            self.check_alternatives(value, alternatives, path);
            return;
        }
        if let Some(expected) = type_names(schema)
            && !expected.iter().any(|t| value_has_type(value.get_ref(), t))
        {
            let shown: Vec<&str> = expected.iter().filter(|t| **t != "null").copied().collect();
            self.push(
                self.source
                    .error(
                        WRONG_TYPE,
                        format!(
                            "`{path}` must be {}, not {}",
                            describe_types(&shown),
                            describe_value(value.get_ref())
                        ),
                    )
                    .at(value.span(), format!("expected {}", describe_types(&shown)))
                    .help(type_help(path, &shown, schema)),
            );
            return;
        }
        if let Some(constant) = schema.get("const")
            && !json_equals_toml(constant, value.get_ref())
        {
            self.push(
                self.source
                    .error(NOT_ALLOWED, format!("`{path}` must be {constant}"))
                    .at(value.span(), "not allowed here"),
            );
            return;
        }
        match value.get_ref() {
            DeValue::Table(table) => self.check_table(table, value.span(), schema, path),
            DeValue::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check_value(item, item_schema, &format!("{path}[{i}]"));
                    }
                }
            }
            DeValue::Integer(_) => {
                if let Some(min) = schema.get("minimum").and_then(Json::as_f64)
                    && value_as_f64(value.get_ref()).is_some_and(|v| v < min)
                {
                    self.push(
                        self.source
                            .error(NOT_ALLOWED, format!("`{path}` must be at least {min}"))
                            .at(value.span(), "too small")
                            .help(format!("write a number from {min}")),
                    );
                }
            }
            _ => {}
        }
    }

    /// `anyOf`/`oneOf`: accept the value if any alternative accepts it. Enumerations of constants
    /// (our enums) get one message listing the choices instead of one per alternative.
    fn check_alternatives(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        alternatives: &'s [Json],
        path: &str,
    ) {
        let mut best: Option<Vec<Diagnostic>> = None;
        for alternative in alternatives {
            let alternative = self.resolve(alternative);
            if type_names(alternative).is_some_and(|t| t == ["null"]) {
                continue;
            }
            let saved = std::mem::take(&mut self.diagnostics);
            self.check_value(value, alternative, path);
            let found = std::mem::replace(&mut self.diagnostics, saved);
            if found.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        let constants: Vec<String> = alternatives
            .iter()
            .filter_map(|a| self.resolve(a).get("const"))
            .map(|c| c.to_string())
            .collect();
        if !constants.is_empty() {
            let choices = constants.join(", ");
            let mut diagnostic = self
                .source
                .error(NOT_ALLOWED, format!("`{path}` must be one of {choices}"))
                .at(value.span(), "not one of the choices");
            if let DeValue::String(s) = value.get_ref() {
                let names: Vec<&str> = constants.iter().map(|c| c.trim_matches('"')).collect();
                if let Some(guess) = did_you_mean(s, names.iter().copied()) {
                    diagnostic = diagnostic.help(format!("did you mean \"{guess}\"?"));
                }
            }
            if diagnostic.help.is_none() {
                diagnostic = diagnostic.help(format!("write one of {choices}"));
            }
            self.push(diagnostic);
        } else if let Some(found) = best {
            self.diagnostics.extend(found);
        }
    }

    fn check_table(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        schema: &'s Json,
        path: &str,
    ) {
        let properties = schema.get("properties").and_then(Json::as_object);
        let additional = schema.get("additionalProperties");
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            let child_path = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            if let Some(property) = properties.and_then(|p| p.get(name)) {
                self.check_value(value, property, &child_path);
                continue;
            }
            match additional {
                Some(Json::Bool(false)) => {
                    let known =
                        properties.map(|p| p.keys().map(String::as_str).collect::<Vec<_>>());
                    let mut diagnostic = self
                        .source
                        .error(UNKNOWN_KEY, format!("unknown key `{child_path}`"))
                        .at(key.span(), "not a known key");
                    let known = known.unwrap_or_default();
                    diagnostic = match did_you_mean(name, known.iter().copied()) {
                        Some(guess) => diagnostic.help(format!("did you mean `{guess}`?")),
                        None => diagnostic.help(format!(
                            "known keys{}: {}",
                            if path.is_empty() {
                                String::new()
                            } else {
                                format!(" in [{path}]")
                            },
                            known.join(", ")
                        )),
                    };
                    self.push(diagnostic);
                }
                Some(extra) if extra.is_object() => self.check_value(value, extra, &child_path),
                _ => {}
            }
        }
        if let Some(required) = schema.get("required").and_then(Json::as_array) {
            for name in required.iter().filter_map(Json::as_str) {
                if table.keys().any(|k| k.get_ref() == name) {
                    continue;
                }
                let description = properties
                    .and_then(|p| p.get(name))
                    .and_then(|p| p.get("description"))
                    .and_then(Json::as_str)
                    .map(first_sentence);
                let where_ = if path.is_empty() {
                    "the file".to_string()
                } else {
                    format!("[{path}]")
                };
                let mut diagnostic = self
                    .source
                    .error(
                        MISSING_KEY,
                        format!("missing required key `{name}` in {where_}"),
                    )
                    .at(span.clone(), format!("`{name}` is missing here"));
                diagnostic = diagnostic.help(match description {
                    Some(d) => format!("add `{name}`: {d}"),
                    None => format!("add `{name}`"),
                });
                self.push(diagnostic);
            }
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

/// The first sentence of a schema description, for help lines ("e.g." does not end one).
fn first_sentence(text: &str) -> String {
    let flat = text.replace('\n', " ");
    let mut from = 0;
    while let Some(i) = flat[from..].find(". ").map(|i| i + from) {
        if !(flat[..i].ends_with("e.g") || flat[..i].ends_with("i.e")) {
            return flat[..=i].to_string();
        }
        from = i + 2;
    }
    flat
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if !s.starts_with('`') => c.to_lowercase().chain(chars).collect(),
        _ => s.to_string(),
    }
}

fn type_names(schema: &Json) -> Option<Vec<&str>> {
    match schema.get("type")? {
        Json::String(s) => Some(vec![s.as_str()]),
        Json::Array(list) => Some(list.iter().filter_map(Json::as_str).collect()),
        _ => None,
    }
}

fn value_has_type(value: &DeValue<'_>, ty: &str) -> bool {
    matches!(
        (ty, value),
        ("string", DeValue::String(_))
            | ("integer", DeValue::Integer(_))
            | ("number", DeValue::Integer(_) | DeValue::Float(_))
            | ("boolean", DeValue::Boolean(_))
            | ("array", DeValue::Array(_))
            | ("object", DeValue::Table(_))
    )
}

fn value_as_f64(value: &DeValue<'_>) -> Option<f64> {
    match value {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str().replace('_', "").as_str(), i.radix())
            .ok()
            .map(|v| v as f64),
        _ => None,
    }
}

fn json_equals_toml(constant: &Json, value: &DeValue<'_>) -> bool {
    match (constant, value) {
        (Json::String(c), DeValue::String(v)) => c == v.as_ref(),
        (Json::Bool(c), DeValue::Boolean(v)) => c == v,
        _ => false,
    }
}

fn describe_types(types: &[&str]) -> String {
    let words: Vec<&str> = types
        .iter()
        .map(|t| match *t {
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "true or false",
            "array" => "an array",
            "object" => "a table",
            other => other,
        })
        .collect();
    words.join(" or ")
}

/// What a value is, as a person would say it: `a table`, `the integer 3`.
pub fn describe_value(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("the string \"{s}\""),
        DeValue::Integer(i) => format!("the integer {}", i.as_str()),
        DeValue::Float(f) => format!("the number {}", f.as_str()),
        DeValue::Boolean(b) => format!("{b}"),
        DeValue::Datetime(d) => format!("the date {d}"),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

fn type_help(path: &str, types: &[&str], schema: &Json) -> String {
    let key = path.rsplit('.').next().unwrap_or(path);
    let example = match types.first().copied() {
        Some("string") => format!("{key} = \"...\" (quote the value)"),
        Some("boolean") => format!("{key} = true"),
        Some("integer") => format!("{key} = 600"),
        Some("array") => format!("{key} = [\"...\"]"),
        Some("object") => format!("a [{path}] table"),
        _ => key.to_string(),
    };
    match schema.get("description").and_then(Json::as_str) {
        Some(d) => format!("write {example}; {}", lowercase_first(&first_sentence(d))),
        None => format!("write {example}"),
    }
}

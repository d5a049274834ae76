//! Loads a workflow file into saphyr's tree with positions, within bounds, and reads its nodes.
//!
//! saphyr's event parser is fed to saphyr's loader one event at a time, so that nesting depth
//! and YAML tags are checked before the tree is built: the loader's own `load` recurses once per
//! level of nesting, and the tree is dropped recursively, so unbounded depth would exhaust the
//! stack. Scalars stay `Representation`s, the text as written (`early_parse(false)`), because
//! GitHub reads `1.10` as the text `1.10`, not as a float.

pub(super) use saphyr::MarkedYaml;
use saphyr::{ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::{Event, Parser, ScanError, Span, SpannedEventReceiver, Tag};

use super::{Location, MAX_DEPTH, WorkflowError};

pub(super) type Mapping<'input> = saphyr::AnnotatedMapping<'input, MarkedYaml<'input>>;

pub(super) fn load_document(text: &str) -> Result<MarkedYaml<'_>, WorkflowError> {
    let mut loader: YamlLoader<MarkedYaml> = YamlLoader::default();
    // Keep every scalar as written: GitHub reads `1.10` as the text `1.10`, not a float.
    loader.early_parse(false);
    let mut depth = 0usize;
    let mut documents = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| not_yaml(&error))?;
        match &event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(WorkflowError::SeveralDocuments {
                        location: start(span),
                    });
                }
            }
            Event::MappingStart(_, tag) | Event::SequenceStart(_, tag) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(WorkflowError::TooDeep {
                        limit: MAX_DEPTH,
                        location: start(span),
                    });
                }
                refuse_tag(tag.as_deref(), span)?;
            }
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            Event::Scalar(_, _, _, tag) => refuse_tag(tag.as_deref(), span)?,
            _ => {}
        }
        loader.on_event(event, span);
        if let Some(error) = loader.error() {
            return Err(not_yaml(error));
        }
    }
    loader.into_documents().pop().ok_or(WorkflowError::Empty)
}

/// GitHub refuses tags such as `!main` ("Unexpected tag"); YAML's own `!!str`, `!!int`… only
/// restate what a scalar is and are let through.
fn refuse_tag(tag: Option<&Tag>, span: Span) -> Result<(), WorkflowError> {
    match tag {
        Some(tag) if !tag.is_yaml_core_schema() => Err(WorkflowError::UnexpectedTag {
            tag: tag.to_string(),
            location: start(span),
        }),
        _ => Ok(()),
    }
}

fn not_yaml(error: &ScanError) -> WorkflowError {
    WorkflowError::NotYaml {
        message: error.info().to_owned(),
        location: marker_location(error.marker()),
    }
}

fn start(span: Span) -> Location {
    marker_location(&span.start)
}

fn marker_location(marker: &saphyr::Marker) -> Location {
    Location {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

pub(super) fn location(node: &MarkedYaml) -> Location {
    start(node.span)
}

/// What a node is, for messages.
pub(super) fn kind(node: &MarkedYaml) -> &'static str {
    match &node.data {
        YamlData::Mapping(_) => "a mapping",
        YamlData::Sequence(_) => "a list",
        _ if is_null(node) => "empty",
        YamlData::Representation(..) | YamlData::Value(_) => "a single value",
        _ => "an unreadable value",
    }
}

/// Whether a node is YAML's null: nothing, `~` or `null` written plain (`''` is text).
pub(super) fn is_null(node: &MarkedYaml) -> bool {
    match &node.data {
        YamlData::Representation(text, ScalarStyle::Plain, _) => {
            matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL")
        }
        YamlData::BadValue => true,
        YamlData::Value(scalar) => scalar.is_null(),
        _ => false,
    }
}

/// A scalar's text as written; `None` for null and for collections.
pub(super) fn text<'n>(node: &'n MarkedYaml) -> Option<&'n str> {
    match &node.data {
        _ if is_null(node) => None,
        YamlData::Representation(text, ..) => Some(text.as_ref()),
        _ => None,
    }
}

/// A value that must be text when present (`name:`); null reads as absent.
pub(super) fn optional_text(node: &MarkedYaml, key: &str) -> Result<Option<String>, WorkflowError> {
    if is_null(node) {
        return Ok(None);
    }
    match text(node) {
        Some(text) => Ok(Some(text.trim().to_owned())),
        None => Err(wrong_shape(key, "a single value", node)),
    }
}

pub(super) fn wrong_shape(key: &str, expected: &'static str, node: &MarkedYaml) -> WorkflowError {
    WorkflowError::WrongShape {
        key: key.to_owned(),
        expected,
        found: kind(node),
        location: location(node),
    }
}

/// The value of `key` in a mapping whose keys are written as text.
pub(super) fn get<'m, 'input>(
    mapping: &'m Mapping<'input>,
    key: &str,
) -> Option<&'m MarkedYaml<'input>> {
    mapping
        .iter()
        .find(|(candidate, _)| text(candidate) == Some(key))
        .map(|(_, value)| value)
}

/// A mapping's entries whose keys are text, in the file's order.
pub(super) fn entries<'m, 'input>(
    mapping: &'m Mapping<'input>,
) -> impl Iterator<Item = (&'m str, &'m MarkedYaml<'input>)> {
    mapping
        .iter()
        .filter_map(|(key, value)| Some((text(key)?, value)))
}

pub(super) fn as_mapping<'m, 'input>(
    node: &'m MarkedYaml<'input>,
    key: &str,
) -> Result<&'m Mapping<'input>, WorkflowError> {
    match &node.data {
        YamlData::Mapping(mapping) => Ok(mapping),
        _ => Err(wrong_shape(key, "a mapping", node)),
    }
}

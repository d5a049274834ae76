//! JSON Schemas for `stackrel.toml` and release files, generated from the Rust types so that
//! editors (Taplo, Even Better TOML) complete and check exactly what stackrel accepts. The
//! committed copies in `schema/` are kept fresh by a test.

use crate::config::ConfigFile;
use schemars::JsonSchema;
use std::collections::BTreeMap;

/// The shape of a release file for editors. Component names come from `stackrel.toml`, so the
/// schema can only say "other keys are version strings"; `stackrel validate` checks the names.
#[derive(JsonSchema)]
#[schemars(
    title = "stackrel release file",
    description = "releases/<version>.toml: one image tag per component of stackrel.toml, plus optional ticket and notes. The file name is the stack version (YYYY.MM.N)."
)]
#[allow(dead_code)] // exists only to generate the schema
struct ReleaseFile {
    /// The GitHub issue to report progress on, `owner/repo#N`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#[1-9][0-9]*$"))]
    ticket: Option<String>,
    /// Free text about the release, e.g. what it fixes.
    notes: Option<String>,
    /// CI gates this release passes over, visibly: component names, or "stack".
    waive_ci: Option<Vec<String>>,
    /// Component name → image tag to release, e.g. backend = "2026.08.1".
    #[serde(flatten)]
    components: BTreeMap<String, ComponentVersion>,
}

/// An image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; by default `YYYY.MM.N` or `YYYY.MM.N-K`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ComponentVersion(
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))] String,
);

/// Which schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// `stackrel.toml`.
    Config,
    /// `releases/<version>.toml`.
    Release,
}

impl SchemaKind {
    /// The committed file name under `schema/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Config => "stackrel.schema.json",
            SchemaKind::Release => "release.schema.json",
        }
    }
}

/// The schema as pretty JSON with a final newline, exactly as committed.
pub fn schema_json(kind: SchemaKind) -> String {
    let schema = match kind {
        SchemaKind::Config => schemars::schema_for!(ConfigFile),
        SchemaKind::Release => schemars::schema_for!(ReleaseFile),
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

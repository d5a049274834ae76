//! The committed JSON Schemas in `schema/` are exactly what the Rust types generate, so editors
//! never check files against a stale shape.

use stackrel::schema::{SchemaKind, schema_json};

#[test]
fn committed_schemas_match_the_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    for kind in [SchemaKind::Config, SchemaKind::Release] {
        let path = dir.join(kind.file_name());
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == schema_json(kind),
            "{} is stale: run `cargo run -- schema --write` and commit the result",
            path.display()
        );
    }
}

#[test]
fn config_schema_rejects_unknown_keys_and_requires_stack_and_components() {
    let schema: serde_json::Value = serde_json::from_str(&schema_json(SchemaKind::Config)).unwrap();
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
    assert_eq!(
        schema["required"],
        serde_json::json!(["stack", "components"])
    );
}

#[test]
fn release_schema_describes_ticket_and_version_strings() {
    let schema: serde_json::Value =
        serde_json::from_str(&schema_json(SchemaKind::Release)).unwrap();
    assert!(
        schema["properties"]["ticket"]
            .to_string()
            .contains("#[1-9]")
    );
    assert!(schema["additionalProperties"].is_object());
}

//! GitHub's published GraphQL schema, for checking the documents stackrel sends: a field-name
//! typo in a query must fail a test, not a release. The schema is `schema.graphql` of the npm
//! package `@octokit/graphql-schema` (MIT); `testkit/graphql/github-schema.graphql` is the part of
//! it stackrel's board documents use, cut out by `extract` (see `testkit/graphql/README.md` for
//! the command), so every kept field is GitHub's own, verbatim. Documents are validated with
//! apollo-compiler, as a GraphQL server would before executing them.

use apollo_compiler::ast::{Definition, Document, FieldDefinition, Type};
use apollo_compiler::{ExecutableDocument, Node, Schema};
use std::collections::{BTreeMap, BTreeSet};

/// The first lines of the extract: where it comes from.
pub const HEADER: &str = "# The part of GitHub's GraphQL schema that stackrel's documents use, cut verbatim from\n# schema.graphql of the npm package @octokit/graphql-schema 15.26.1 (MIT, see\n# LICENSE-octokit-graphql-schema.md). Regenerate: see README.md beside this file.\n\n";

/// The extract, as committed.
pub const EXTRACT: &str = include_str!("../graphql/github-schema.graphql");

/// The fields kept of each object and interface type. Every other type a kept field reaches is
/// kept whole (inputs, enums, scalars, unions), except union members not listed here, which keep
/// only `id` (or their first field).
const KEEP: &[(&str, &[&str])] = &[
    ("Query", &["node", "organization", "user"]),
    (
        "Mutation",
        &["addProjectV2ItemById", "updateProjectV2ItemFieldValue"],
    ),
    ("Node", &["id"]),
    ("Organization", &["id", "login", "projectV2"]),
    ("User", &["id", "login", "projectV2"]),
    ("ProjectV2", &["id", "number", "title", "field", "fields"]),
    (
        "ProjectV2FieldConfigurationConnection",
        &["nodes", "totalCount"],
    ),
    (
        "ProjectV2SingleSelectField",
        &["id", "name", "dataType", "options"],
    ),
    ("ProjectV2SingleSelectFieldOption", &["id", "name"]),
    ("Issue", &["id", "number", "title", "projectItems"]),
    ("ProjectV2ItemConnection", &["nodes", "totalCount"]),
    ("ProjectV2Item", &["id", "project", "fieldValueByName"]),
    (
        "ProjectV2ItemFieldSingleSelectValue",
        &["id", "name", "optionId"],
    ),
    ("AddProjectV2ItemByIdPayload", &["clientMutationId", "item"]),
    (
        "UpdateProjectV2ItemFieldValuePayload",
        &["clientMutationId", "projectV2Item"],
    ),
];

/// The kept part of GitHub's full `schema.graphql`, as SDL; an error names a kept field or type
/// that the full schema does not have.
pub fn extract(full: &str) -> Result<String, String> {
    let document = Document::parse(full, "schema.graphql").map_err(|e| e.errors.to_string())?;
    let by_name: BTreeMap<String, Definition> = document
        .definitions
        .iter()
        .filter_map(|d| Some((d.name()?.to_string(), d.clone())))
        .collect();
    let keep: BTreeMap<&str, &[&str]> = KEEP.iter().copied().collect();
    let mut out: BTreeMap<String, Definition> = BTreeMap::new();
    let mut todo: Vec<String> = keep.keys().map(|k| k.to_string()).collect();
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) || is_builtin(&name) {
            continue;
        }
        let definition = by_name
            .get(&name)
            .ok_or_else(|| format!("GitHub's schema has no type {name}"))?;
        let kept = cut(definition, keep.get(name.as_str()).copied())?;
        todo.extend(referenced(&kept));
        out.insert(name, kept);
    }
    let interfaces: BTreeMap<String, BTreeSet<String>> = out
        .iter()
        .filter_map(|(name, d)| match d {
            Definition::InterfaceTypeDefinition(i) => Some((
                name.clone(),
                i.fields.iter().map(|f| f.name.to_string()).collect(),
            )),
            _ => None,
        })
        .collect();
    let mut text = String::new();
    for definition in out.into_values() {
        text.push_str(&keep_interfaces(definition, &interfaces).to_string());
        text.push_str("\n\n");
    }
    Ok(text)
}

fn is_builtin(name: &str) -> bool {
    matches!(name, "String" | "Int" | "Float" | "Boolean" | "ID")
}

/// A definition with only the listed fields (all, when not listed, for inputs, enums, scalars
/// and unions; `id` or the first field for other object types), directives dropped.
fn cut(definition: &Definition, fields: Option<&[&str]>) -> Result<Definition, String> {
    let choose = |type_name: &str, all: &[Node<FieldDefinition>]| {
        let wanted: Vec<&str> = match fields {
            Some(listed) => listed.to_vec(),
            None if all.iter().any(|f| f.name == "id") => vec!["id"],
            None => all.first().map(|f| f.name.as_str()).into_iter().collect(),
        };
        let mut kept = Vec::new();
        for name in wanted {
            let field = all
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| format!("GitHub's type {type_name} has no field {name}"))?;
            let mut field = field.clone();
            field.make_mut().directives = Default::default();
            kept.push(field);
        }
        Ok::<_, String>(kept)
    };
    let mut definition = definition.clone();
    match &mut definition {
        Definition::ObjectTypeDefinition(object) => {
            let fields = choose(&object.name, &object.fields)?;
            let object = object.make_mut();
            object.fields = fields;
            object.directives = Default::default();
        }
        Definition::InterfaceTypeDefinition(interface) => {
            let fields = choose(&interface.name, &interface.fields)?;
            let interface = interface.make_mut();
            interface.fields = fields;
            interface.directives = Default::default();
            interface.implements_interfaces.clear();
        }
        Definition::InputObjectTypeDefinition(input) => {
            let input = input.make_mut();
            input.directives = Default::default();
            for field in &mut input.fields {
                field.make_mut().directives = Default::default();
            }
        }
        Definition::EnumTypeDefinition(e) => {
            let e = e.make_mut();
            e.directives = Default::default();
            for value in &mut e.values {
                value.make_mut().directives = Default::default();
            }
        }
        Definition::UnionTypeDefinition(u) => u.make_mut().directives = Default::default(),
        Definition::ScalarTypeDefinition(s) => s.make_mut().directives = Default::default(),
        other => return Err(format!("unexpected definition {:?}", other.name())),
    }
    Ok(definition)
}

fn named(ty: &Type) -> String {
    ty.inner_named_type().to_string()
}

/// The types a kept definition names: field types, argument types, input fields, union members.
fn referenced(definition: &Definition) -> Vec<String> {
    let of_fields = |fields: &[Node<FieldDefinition>]| {
        fields
            .iter()
            .flat_map(|f| {
                std::iter::once(named(&f.ty)).chain(f.arguments.iter().map(|a| named(&a.ty)))
            })
            .collect::<Vec<_>>()
    };
    match definition {
        Definition::ObjectTypeDefinition(o) => of_fields(&o.fields),
        Definition::InterfaceTypeDefinition(i) => of_fields(&i.fields),
        Definition::InputObjectTypeDefinition(i) => i.fields.iter().map(|f| named(&f.ty)).collect(),
        Definition::UnionTypeDefinition(u) => u.members.iter().map(|m| m.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Keeps an object's `implements` only for interfaces in the extract whose kept fields it kept.
fn keep_interfaces(
    mut definition: Definition,
    interfaces: &BTreeMap<String, BTreeSet<String>>,
) -> Definition {
    if let Definition::ObjectTypeDefinition(object) = &mut definition {
        let fields: BTreeSet<String> = object.fields.iter().map(|f| f.name.to_string()).collect();
        object.make_mut().implements_interfaces.retain(|i| {
            interfaces
                .get(i.as_str())
                .is_some_and(|needed| needed.is_subset(&fields))
        });
    }
    definition
}

/// Validates a query or mutation against the extract, as GitHub would before running it.
pub fn validate(document: &str) -> Result<(), String> {
    let schema = Schema::parse_and_validate(EXTRACT, "github-schema.graphql")
        .map_err(|e| format!("the committed extract does not validate: {}", e.errors))?;
    ExecutableDocument::parse_and_validate(&schema, document, "document.graphql")
        .map(|_| ())
        .map_err(|e| e.errors.to_string())
}

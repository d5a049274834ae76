//! The part of GitHub's GraphQL API (`POST /graphql`) that project boards need: an organisation's
//! or user's `projectV2(number:)` with its fields and single-select options, an issue's
//! `projectItems` with `fieldValueByName`, and the `addProjectV2ItemById` and
//! `updateProjectV2ItemFieldValue` mutations. Documents are parsed (apollo-compiler's AST) and
//! executed over the emulator's state, answering only the fields asked for. Failures come back as
//! GitHub sends them: HTTP 200 with `{"errors": [...]}` (`type: NOT_FOUND` with a `path` for an
//! unknown organisation, user, project or node; `undefinedField` for a field that does not
//! exist, with no `data`, since GitHub validates before executing). An App installation's token
//! reaches organisation boards only with the installation's `organization_projects` permission
//! (read to see them, write to change them); without it GitHub answers `type: FORBIDDEN`,
//! "Resource not accessible by integration", with the field `null`.

use super::{Answer, Identity, State, body_object, error};
use crate::http_server::{Request, Response};
use apollo_compiler::ast::{self, Definition, OperationType, Selection};
use serde_json::{Map, Value, json};

/// A project (the new Projects) on the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub owner: String,
    /// Whether the owner is an organisation (else a user).
    pub organization: bool,
    pub number: u64,
    pub title: String,
    pub fields: Vec<ProjectField>,
    pub items: Vec<ProjectItem>,
}

/// A single-select field and its options, `(id, name)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectField {
    pub id: String,
    pub name: String,
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectItem {
    pub id: String,
    /// The node id of the issue it is.
    pub content: String,
    /// Field id → option id.
    pub values: Vec<(String, String)>,
}

/// What a GraphQL field resolves to.
#[derive(Debug, Clone)]
enum Node {
    Owner { login: String, organization: bool },
    Project(usize),
    Field(usize, usize),
    Option(usize, usize, usize),
    Item(usize, usize),
    ItemValue(usize, usize, usize),
    Issue(String),
    Connection(Vec<Node>),
    Payload(Vec<(&'static str, Node)>),
    Leaf(Value),
    List(Vec<Node>),
    Null,
}

/// An error in GitHub's shape; `fatal` ones (a field that does not exist) drop `data`.
struct GqlError {
    value: Value,
    fatal: bool,
}

fn not_found(path: &[String], message: String) -> GqlError {
    GqlError {
        value: json!({"type": "NOT_FOUND", "path": path, "locations": [], "message": message}),
        fatal: false,
    }
}

fn undefined(type_name: &str, field: &str) -> GqlError {
    GqlError {
        value: json!({
            "path": ["query"],
            "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": field},
            "locations": [],
            "message": format!("Field '{field}' doesn't exist on type '{type_name}'"),
        }),
        fatal: true,
    }
}

fn forbidden(path: &[String]) -> GqlError {
    GqlError {
        value: json!({
            "type": "FORBIDDEN",
            "path": path,
            "extensions": {"saml_failure": false},
            "locations": [],
            "message": "Resource not accessible by integration",
        }),
        fatal: false,
    }
}

struct Exec<'a> {
    state: &'a mut State,
    /// For an App installation's token, its `organization_projects` level (`None`: absent);
    /// `None` for a personal token.
    integration: Option<Option<String>>,
    variables: Map<String, Value>,
    errors: Vec<GqlError>,
}

impl State {
    /// `POST /graphql`.
    pub(super) fn graphql(&mut self, req: &Request, identity: Identity) -> Answer {
        let body = body_object(req)?;
        let Some(query) = body.get("query").and_then(Value::as_str) else {
            return Err(error(400, "Problems parsing JSON"));
        };
        let variables = match body.get("variables") {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        let document = match ast::Document::parse(query, "query.graphql") {
            Ok(document) => document,
            Err(with_errors) => {
                let message = with_errors.errors.to_string();
                return Ok(Response::json(
                    200,
                    &json!({"errors": [{"message": format!("Parse error: {message}"), "locations": []}]}),
                ));
            }
        };
        let Some(operation) = document.definitions.iter().find_map(|d| match d {
            Definition::OperationDefinition(op) => Some(op.clone()),
            _ => None,
        }) else {
            return Ok(Response::json(
                200,
                &json!({"errors": [{"message": "No operations given"}]}),
            ));
        };
        if let Some(refusal) = self.insufficient_scopes(&operation) {
            return Ok(Response::json(200, &json!({ "errors": [refusal] })));
        }
        let integration = (identity == Identity::Installation).then(|| {
            self.installation_permissions
                .get("organization_projects")
                .cloned()
        });
        let mut exec = Exec {
            state: self,
            integration,
            variables,
            errors: Vec::new(),
        };
        let root = match operation.operation_type {
            OperationType::Mutation => "Mutation",
            _ => "Query",
        };
        let data = exec.select_root(root, &operation.selection_set);
        let errors: Vec<Value> = exec.errors.iter().map(|e| e.value.clone()).collect();
        let answer = if exec.errors.iter().any(|e| e.fatal) {
            json!({ "errors": errors })
        } else if errors.is_empty() {
            json!({ "data": data })
        } else {
            json!({ "data": data, "errors": errors })
        };
        Ok(Response::json(200, &answer))
    }
}

impl State {
    /// A classic token (one with `x-oauth-scopes`) needs `read:project` to read boards and
    /// `project` to change them; GitHub refuses the whole document otherwise.
    fn insufficient_scopes(&self, operation: &ast::OperationDefinition) -> Option<Value> {
        if self.token_kind() != super::TokenKind::Classic {
            return None;
        }
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let (field, needed): (&str, &[&str]) = match operation.operation_type {
            OperationType::Mutation => (
                operation.selection_set.iter().find_map(|s| match s {
                    Selection::Field(f) => Some(f.name.as_str()),
                    _ => None,
                })?,
                &["project"],
            ),
            _ => ("id", &["read:project", "project"]),
        };
        if needed.iter().any(|n| scopes.contains(n)) {
            return None;
        }
        let wanted: Vec<String> = needed.iter().map(|n| format!("'{n}'")).collect();
        let granted: Vec<String> = scopes.iter().map(|n| format!("'{n}'")).collect();
        Some(json!({
            "type": "INSUFFICIENT_SCOPES",
            "locations": [],
            "message": format!(
                "Your token has not been granted the required scopes to execute this query. The '{field}' field requires one of the following scopes: [{}], but your token has only been granted the: [{}] scopes. Please modify your token's scopes at: https://github.com/settings/tokens.",
                wanted.join(", "),
                granted.join(", ")
            ),
        }))
    }
}

impl Exec<'_> {
    fn value(&self, value: &ast::Value) -> Value {
        match value {
            ast::Value::Null => Value::Null,
            ast::Value::Enum(name) => json!(name.as_str()),
            ast::Value::Variable(name) => self
                .variables
                .get(name.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            ast::Value::String(s) => json!(s),
            ast::Value::Float(f) => json!(f.try_to_f64().unwrap_or(0.0)),
            ast::Value::Int(i) => json!(i.try_to_i32().unwrap_or(0)),
            ast::Value::Boolean(b) => json!(b),
            ast::Value::List(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            ast::Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), self.value(v)))
                    .collect(),
            ),
        }
    }

    fn args(&self, field: &ast::Field) -> Map<String, Value> {
        field
            .arguments
            .iter()
            .map(|a| (a.name.to_string(), self.value(&a.value)))
            .collect()
    }

    fn select_root(&mut self, root: &str, selections: &[Selection]) -> Value {
        let mut out = Map::new();
        for selection in selections {
            let Selection::Field(field) = selection else {
                continue;
            };
            let key = field.alias.as_ref().unwrap_or(&field.name).to_string();
            let path = vec![key.clone()];
            let args = self.args(field);
            let node = self.root_field(root, field.name.as_str(), &args, &path);
            let value = self.render(&node, &field.selection_set, &path);
            out.insert(key, value);
        }
        Value::Object(out)
    }

    fn root_field(
        &mut self,
        root: &str,
        name: &str,
        args: &Map<String, Value>,
        path: &[String],
    ) -> Node {
        let login = || {
            args.get("login")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        match (root, name) {
            ("Query", "organization") => self.owner(login(), true, path),
            ("Query", "user") => self.owner(login(), false, path),
            ("Query", "node") => {
                let id = args.get("id").and_then(Value::as_str).unwrap_or("");
                self.node(id, path)
            }
            ("Mutation", "addProjectV2ItemById" | "updateProjectV2ItemFieldValue")
                if !self.may_change_projects() =>
            {
                self.errors.push(forbidden(path));
                Node::Null
            }
            ("Mutation", "addProjectV2ItemById") => self.add_item(&args["input"], path),
            ("Mutation", "updateProjectV2ItemFieldValue") => self.set_value(&args["input"], path),
            _ => {
                self.errors.push(undefined(root, name));
                Node::Null
            }
        }
    }

    /// Whether the caller may change boards: a personal token (its scopes were checked before
    /// executing), or an installation with `organization_projects` write or admin.
    fn may_change_projects(&self) -> bool {
        match &self.integration {
            None => true,
            Some(level) => matches!(level.as_deref(), Some("write" | "admin")),
        }
    }

    fn owner(&mut self, login: String, organization: bool, path: &[String]) -> Node {
        let known = if organization {
            self.state
                .organizations
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&login))
        } else {
            login == super::TOKEN_USER
                || self
                    .state
                    .projects
                    .iter()
                    .any(|p| !p.organization && p.owner.eq_ignore_ascii_case(&login))
        };
        if !known {
            let kind = if organization { "Organization" } else { "User" };
            self.errors.push(not_found(
                path,
                format!("Could not resolve to an {kind} with the login of '{login}'.")
                    .replace("an User", "a User"),
            ));
            return Node::Null;
        }
        Node::Owner {
            login,
            organization,
        }
    }

    fn node(&mut self, id: &str, path: &[String]) -> Node {
        let issue = self
            .state
            .repos
            .values()
            .flat_map(|r| r.issues.iter())
            .any(|i| super::issue_node_id(i.id) == id);
        if issue {
            return Node::Issue(id.to_string());
        }
        self.errors.push(not_found(
            path,
            format!("Could not resolve to a node with the global id of '{id}'"),
        ));
        Node::Null
    }

    fn project_index(&self, id: &str) -> Option<usize> {
        self.state.projects.iter().position(|p| p.id == id)
    }

    fn add_item(&mut self, input: &Value, path: &[String]) -> Node {
        let project = input["projectId"].as_str().unwrap_or("");
        let content = input["contentId"].as_str().unwrap_or("").to_string();
        let Some(p) = self.project_index(project) else {
            self.errors.push(not_found(
                path,
                format!("Could not resolve to a node with the global id of '{project}'"),
            ));
            return Node::Null;
        };
        if matches!(self.node(&content, path), Node::Null) {
            return Node::Null;
        }
        // Adding what is already on the board answers the existing item.
        let existing = self.state.projects[p]
            .items
            .iter()
            .position(|i| i.content == content);
        let i = match existing {
            Some(i) => i,
            None => {
                let id = format!("PVTI_emu{}", self.state.next_id());
                let items = &mut self.state.projects[p].items;
                items.push(ProjectItem {
                    id,
                    content,
                    values: Vec::new(),
                });
                items.len() - 1
            }
        };
        Node::Payload(vec![
            ("item", Node::Item(p, i)),
            ("clientMutationId", Node::Leaf(Value::Null)),
        ])
    }

    fn set_value(&mut self, input: &Value, path: &[String]) -> Node {
        let unknown =
            |id: &str| format!("Could not resolve to a node with the global id of '{id}'");
        let project = input["projectId"].as_str().unwrap_or("");
        let Some(p) = self.project_index(project) else {
            self.errors.push(not_found(path, unknown(project)));
            return Node::Null;
        };
        let item = input["itemId"].as_str().unwrap_or("");
        let field = input["fieldId"].as_str().unwrap_or("");
        let option = input["value"]["singleSelectOptionId"]
            .as_str()
            .unwrap_or("");
        let project = &self.state.projects[p];
        let Some(i) = project.items.iter().position(|it| it.id == item) else {
            self.errors.push(not_found(path, unknown(item)));
            return Node::Null;
        };
        let Some(f) = project.fields.iter().find(|f| f.id == field) else {
            self.errors.push(not_found(path, unknown(field)));
            return Node::Null;
        };
        if !f.options.iter().any(|(id, _)| id == option) {
            self.errors.push(GqlError {
                value: json!({"type": "UNPROCESSABLE", "path": path, "locations": [], "message": format!("The single select option Id does not belong to the field")}),
                fatal: false,
            });
            return Node::Null;
        }
        let values = &mut self.state.projects[p].items[i].values;
        values.retain(|(fid, _)| fid != field);
        values.push((field.to_string(), option.to_string()));
        Node::Payload(vec![
            ("projectV2Item", Node::Item(p, i)),
            ("clientMutationId", Node::Leaf(Value::Null)),
        ])
    }

    fn type_name(&self, node: &Node) -> &'static str {
        match node {
            Node::Owner {
                organization: true, ..
            } => "Organization",
            Node::Owner { .. } => "User",
            Node::Project(_) => "ProjectV2",
            Node::Field(..) => "ProjectV2SingleSelectField",
            Node::Option(..) => "ProjectV2SingleSelectFieldOption",
            Node::Item(..) => "ProjectV2Item",
            Node::ItemValue(..) => "ProjectV2ItemFieldSingleSelectValue",
            Node::Issue(_) => "Issue",
            Node::Connection(_) => "Connection",
            Node::Payload(_) => "Payload",
            Node::Leaf(_) | Node::List(_) | Node::Null => "",
        }
    }

    /// Whether a fragment `... on condition` applies to a node of type `type_name`.
    fn applies(type_name: &str, condition: &str) -> bool {
        let abstracts: &[(&str, &[&str])] = &[
            (
                "Node",
                &[
                    "Organization",
                    "User",
                    "ProjectV2",
                    "ProjectV2SingleSelectField",
                    "ProjectV2Item",
                    "ProjectV2ItemFieldSingleSelectValue",
                    "Issue",
                ],
            ),
            ("ProjectV2Owner", &["Organization", "User"]),
            ("RepositoryOwner", &["Organization", "User"]),
            ("ProjectV2FieldCommon", &["ProjectV2SingleSelectField"]),
            (
                "ProjectV2FieldConfiguration",
                &["ProjectV2SingleSelectField"],
            ),
            (
                "ProjectV2ItemFieldValue",
                &["ProjectV2ItemFieldSingleSelectValue"],
            ),
            (
                "ProjectV2ItemFieldValueCommon",
                &["ProjectV2ItemFieldSingleSelectValue"],
            ),
        ];
        condition == type_name
            || abstracts
                .iter()
                .any(|(name, members)| *name == condition && members.contains(&type_name))
    }

    fn render(&mut self, node: &Node, selections: &[Selection], path: &[String]) -> Value {
        match node {
            Node::Null => Value::Null,
            Node::Leaf(v) => v.clone(),
            Node::List(items) => Value::Array(
                items
                    .iter()
                    .map(|n| self.render(n, selections, path))
                    .collect(),
            ),
            _ => {
                let mut out = Map::new();
                self.render_into(node, selections, path, &mut out);
                Value::Object(out)
            }
        }
    }

    fn render_into(
        &mut self,
        node: &Node,
        selections: &[Selection],
        path: &[String],
        out: &mut Map<String, Value>,
    ) {
        let type_name = self.type_name(node);
        for selection in selections {
            match selection {
                Selection::Field(field) => {
                    let key = field.alias.as_ref().unwrap_or(&field.name).to_string();
                    let mut here = path.to_vec();
                    here.push(key.clone());
                    let args = self.args(field);
                    let child = self.field(node, field.name.as_str(), &args, &here);
                    let value = self.render(&child, &field.selection_set, &here);
                    out.insert(key, value);
                }
                Selection::InlineFragment(fragment) => {
                    let applies = fragment
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| Self::applies(type_name, c.as_str()));
                    if applies {
                        self.render_into(node, &fragment.selection_set, path, out);
                    }
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }

    /// A field of a node; one that does not exist is GitHub's `undefinedField`.
    fn field(
        &mut self,
        node: &Node,
        name: &str,
        args: &Map<String, Value>,
        path: &[String],
    ) -> Node {
        let type_name = self.type_name(node);
        if name == "__typename" {
            return Node::Leaf(json!(type_name));
        }
        let found = match node {
            Node::Owner {
                login,
                organization,
            } => self.owner_field(login, *organization, name, args, path),
            Node::Project(p) => self.project_field(*p, name, args),
            Node::Field(p, f) => {
                let field = &self.state.projects[*p].fields[*f];
                match name {
                    "id" => Some(Node::Leaf(json!(field.id))),
                    "name" => Some(Node::Leaf(json!(field.name))),
                    "dataType" => Some(Node::Leaf(json!("SINGLE_SELECT"))),
                    "options" => Some(Node::List(
                        (0..field.options.len())
                            .map(|o| Node::Option(*p, *f, o))
                            .collect(),
                    )),
                    _ => None,
                }
            }
            Node::Option(p, f, o) => {
                let (id, option) = &self.state.projects[*p].fields[*f].options[*o];
                match name {
                    "id" => Some(Node::Leaf(json!(id))),
                    "name" => Some(Node::Leaf(json!(option))),
                    _ => None,
                }
            }
            Node::Item(p, i) => self.item_field(*p, *i, name, args),
            Node::ItemValue(p, i, f) => {
                let project = &self.state.projects[*p];
                let field = &project.fields[*f];
                let option = project.items[*i]
                    .values
                    .iter()
                    .find(|(fid, _)| *fid == field.id)
                    .map(|(_, o)| o.clone());
                let option_name = field
                    .options
                    .iter()
                    .find(|(id, _)| Some(id) == option.as_ref())
                    .map(|(_, n)| n.clone());
                match name {
                    "optionId" => Some(Node::Leaf(json!(option))),
                    "name" => Some(Node::Leaf(json!(option_name))),
                    _ => None,
                }
            }
            Node::Issue(id) => match name {
                "id" => Some(Node::Leaf(json!(id))),
                "projectItems" => {
                    let mut items = Vec::new();
                    for (p, project) in self.state.projects.iter().enumerate() {
                        for (i, item) in project.items.iter().enumerate() {
                            if item.content == *id {
                                items.push(Node::Item(p, i));
                            }
                        }
                    }
                    Some(Node::Connection(items))
                }
                _ => None,
            },
            Node::Connection(items) => match name {
                "nodes" => Some(Node::List(items.clone())),
                "totalCount" => Some(Node::Leaf(json!(items.len()))),
                _ => None,
            },
            Node::Payload(fields) => fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone()),
            Node::Leaf(_) | Node::List(_) | Node::Null => Some(Node::Null),
        };
        found.unwrap_or_else(|| {
            self.errors.push(undefined(type_name, name));
            Node::Null
        })
    }

    fn owner_field(
        &mut self,
        login: &str,
        organization: bool,
        name: &str,
        args: &Map<String, Value>,
        path: &[String],
    ) -> Option<Node> {
        match name {
            "login" => Some(Node::Leaf(json!(login))),
            "projectV2" if organization && matches!(self.integration, Some(None)) => {
                self.errors.push(forbidden(path));
                Some(Node::Null)
            }
            "projectV2" => {
                let number = args.get("number").and_then(Value::as_u64).unwrap_or(0);
                let found = self.state.projects.iter().position(|p| {
                    p.organization == organization
                        && p.owner.eq_ignore_ascii_case(login)
                        && p.number == number
                });
                Some(match found {
                    Some(p) => Node::Project(p),
                    None => {
                        self.errors.push(not_found(
                            path,
                            format!("Could not resolve to a ProjectV2 with the number {number}."),
                        ));
                        Node::Null
                    }
                })
            }
            _ => None,
        }
    }

    fn project_field(&self, p: usize, name: &str, args: &Map<String, Value>) -> Option<Node> {
        let project = &self.state.projects[p];
        match name {
            "id" => Some(Node::Leaf(json!(project.id))),
            "title" => Some(Node::Leaf(json!(project.title))),
            "number" => Some(Node::Leaf(json!(project.number))),
            "field" => {
                let wanted = args.get("name").and_then(Value::as_str).unwrap_or("");
                Some(
                    project
                        .fields
                        .iter()
                        .position(|f| f.name == wanted)
                        .map_or(Node::Null, |f| Node::Field(p, f)),
                )
            }
            "fields" => Some(Node::Connection(
                (0..project.fields.len())
                    .map(|f| Node::Field(p, f))
                    .collect(),
            )),
            _ => None,
        }
    }

    fn item_field(
        &self,
        p: usize,
        i: usize,
        name: &str,
        args: &Map<String, Value>,
    ) -> Option<Node> {
        let project = &self.state.projects[p];
        let item = &project.items[i];
        match name {
            "id" => Some(Node::Leaf(json!(item.id))),
            "project" => Some(Node::Project(p)),
            "fieldValueByName" => {
                let wanted = args.get("name").and_then(Value::as_str).unwrap_or("");
                let field = project.fields.iter().position(|f| f.name == wanted);
                Some(match field {
                    Some(f)
                        if item
                            .values
                            .iter()
                            .any(|(fid, _)| *fid == project.fields[f].id) =>
                    {
                        Node::ItemValue(p, i, f)
                    }
                    _ => Node::Null,
                })
            }
            _ => None,
        }
    }
}

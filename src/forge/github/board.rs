//! The project board (GitHub Projects), which only GitHub's GraphQL API reaches: the project,
//! its column field and the configured column are looked up once by owner and number; the
//! ticket's item is read from the issue; `addProjectV2ItemById` adds it and
//! `updateProjectV2ItemFieldValue` puts it in the column. The documents are public so that tests
//! check them against GitHub's published schema: a misspelled field fails a test, not a release.

use super::GithubForge;
use crate::config::ProjectBoard;
use crate::forge::{ForgeError, ForgeResult, github_access};
use crate::ticket::{BoardIds, BoardItem, Issue, TicketError};
use serde_json::{Value, json};

/// The project by number under an organisation, with the named field and its options, and the
/// names of the single-select fields (for a diagnostic when the name is wrong).
pub const ORGANIZATION_BOARD: &str = r#"query StackrelOrganizationBoard($owner: String!, $number: Int!, $field: String!) {
  organization(login: $owner) {
    projectV2(number: $number) {
      id
      field(name: $field) {
        __typename
        ... on ProjectV2SingleSelectField { id name options { id name } }
      }
      fields(first: 50) {
        nodes { ... on ProjectV2SingleSelectField { name } }
      }
    }
  }
}"#;

/// The same, for a project a user owns.
pub const USER_BOARD: &str = r#"query StackrelUserBoard($owner: String!, $number: Int!, $field: String!) {
  user(login: $owner) {
    projectV2(number: $number) {
      id
      field(name: $field) {
        __typename
        ... on ProjectV2SingleSelectField { id name options { id name } }
      }
      fields(first: 50) {
        nodes { ... on ProjectV2SingleSelectField { name } }
      }
    }
  }
}"#;

/// The issue's items on boards, with the option each has in the column field.
pub const BOARD_ITEM: &str = r#"query StackrelBoardItem($issue: ID!, $field: String!) {
  node(id: $issue) {
    ... on Issue {
      projectItems(first: 100) {
        nodes {
          id
          project { id }
          fieldValueByName(name: $field) {
            ... on ProjectV2ItemFieldSingleSelectValue { optionId }
          }
        }
      }
    }
  }
}"#;

pub const ADD_ITEM: &str = r#"mutation StackrelAddItem($project: ID!, $content: ID!) {
  addProjectV2ItemById(input: { projectId: $project, contentId: $content }) {
    item { id }
  }
}"#;

pub const MOVE_ITEM: &str = r#"mutation StackrelMoveItem($project: ID!, $item: ID!, $field: ID!, $option: String!) {
  updateProjectV2ItemFieldValue(
    input: { projectId: $project, itemId: $item, fieldId: $field, value: { singleSelectOptionId: $option } }
  ) {
    projectV2Item { id }
  }
}"#;

/// Every document stackrel sends to GitHub's GraphQL API.
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("organization board", ORGANIZATION_BOARD),
    ("user board", USER_BOARD),
    ("board item", BOARD_ITEM),
    ("add item", ADD_ITEM),
    ("move item", MOVE_ITEM),
];

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

impl GithubForge {
    /// The board's ids, asked once per process: the organisation's project, else the user's.
    pub(super) fn board_ids(&self, board: &ProjectBoard) -> ForgeResult<BoardIds> {
        let key = format!(
            "{}/{}/{}/{}",
            board.owner, board.number, board.field, board.column
        );
        if let Some(ids) = self.desk().boards.get(&key) {
            return Ok(ids.clone());
        }
        let variables =
            json!({ "owner": board.owner, "number": board.number, "field": board.field });
        let mut answer = self.graphql(
            "looking up the project",
            ORGANIZATION_BOARD,
            variables.clone(),
        )?;
        let mut project = answer.data.pointer("/organization/projectV2").cloned();
        if project.as_ref().is_none_or(Value::is_null) && answer.not_found() {
            answer = self.graphql("looking up the project", USER_BOARD, variables)?;
            project = answer.data.pointer("/user/projectV2").cloned();
        }
        if let Some(e) = answer.failure("looking up the project") {
            return Err(e);
        }
        let ids = read_board(board, project.unwrap_or(Value::Null))?;
        self.desk().boards.insert(key, ids.clone());
        Ok(ids)
    }

    pub(super) fn item_on_board(
        &self,
        issue: &Issue,
        board: &ProjectBoard,
        ids: &BoardIds,
    ) -> ForgeResult<Option<BoardItem>> {
        let answer = self.graphql(
            "reading the ticket's board item",
            BOARD_ITEM,
            json!({ "issue": issue.node_id, "field": board.field }),
        )?;
        if let Some(e) = answer.failure("reading the ticket's board item") {
            return Err(e);
        }
        let items = answer
            .data
            .pointer("/node/projectItems/nodes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(items
            .iter()
            .find(|item| str_at(item, "/project/id") == Some(ids.project.as_str()))
            .and_then(|item| {
                Some(BoardItem {
                    id: str_at(item, "/id")?.to_string(),
                    option: str_at(item, "/fieldValueByName/optionId").map(str::to_string),
                })
            }))
    }

    /// Refuses a board change an App's installation may not make, before GitHub is asked: its
    /// GraphQL answer ("Resource not accessible by integration") says nothing of the cause.
    fn may_change_board(&self, ids: &BoardIds) -> ForgeResult<()> {
        let Some(permissions) = self.app_permissions()? else {
            return Ok(());
        };
        match github_access::app_board(&ids.owner, ids.number, &permissions) {
            Some(missing) => Err(missing.into()),
            None => Ok(()),
        }
    }

    pub(super) fn add_item(&self, issue: &Issue, ids: &BoardIds) -> ForgeResult<String> {
        self.may_change_board(ids)?;
        let what = format!("adding {} to the project", issue.reference);
        let answer = self.graphql(
            &what,
            ADD_ITEM,
            json!({ "project": ids.project, "content": issue.node_id }),
        )?;
        if let Some(e) = answer.failure(&what) {
            return Err(e);
        }
        str_at(&answer.data, "/addProjectV2ItemById/item/id")
            .map(str::to_string)
            .ok_or_else(|| ForgeError::Other(format!("{what}: GitHub answered no item")))
    }

    pub(super) fn move_item(&self, item: &str, ids: &BoardIds) -> ForgeResult<()> {
        self.may_change_board(ids)?;
        let what = "putting the ticket in its column";
        let answer = self.graphql(
            what,
            MOVE_ITEM,
            json!({ "project": ids.project, "item": item, "field": ids.field, "option": ids.option }),
        )?;
        match answer.failure(what) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The ids of the project, its field and the configured option, or which setting is wrong.
fn read_board(board: &ProjectBoard, project: Value) -> ForgeResult<BoardIds> {
    let Some(project_id) = str_at(&project, "/id") else {
        return Err(TicketError::UnknownProject {
            owner: board.owner.clone(),
            number: board.number,
        }
        .into());
    };
    let field = &project["field"];
    let Some(field_id) = str_at(field, "/id")
        .filter(|_| str_at(field, "/__typename") == Some("ProjectV2SingleSelectField"))
    else {
        let available = project
            .pointer("/fields/nodes")
            .and_then(Value::as_array)
            .map(|nodes| {
                nodes
                    .iter()
                    .filter_map(|n| str_at(n, "/name").map(|s| format!("\"{s}\"")))
                    .collect()
            })
            .unwrap_or_default();
        return Err(TicketError::UnknownField {
            owner: board.owner.clone(),
            number: board.number,
            field: board.field.clone(),
            available,
        }
        .into());
    };
    let options = field["options"].as_array().cloned().unwrap_or_default();
    let chosen = options
        .iter()
        .find(|o| str_at(o, "/name") == Some(board.column.as_str()))
        .or_else(|| {
            options
                .iter()
                .find(|o| str_at(o, "/name").is_some_and(|n| n.eq_ignore_ascii_case(&board.column)))
        });
    let Some(option) = chosen.and_then(|o| str_at(o, "/id")) else {
        return Err(TicketError::UnknownColumn {
            field: board.field.clone(),
            column: board.column.clone(),
            available: options
                .iter()
                .filter_map(|o| str_at(o, "/name").map(|s| format!("\"{s}\"")))
                .collect(),
        }
        .into());
    };
    Ok(BoardIds {
        owner: board.owner.clone(),
        number: board.number,
        project: project_id.to_string(),
        field: field_id.to_string(),
        option: option.to_string(),
    })
}

//! The release ticket's issue on GitHub, through the REST API: found by number or by its exact
//! title among the open issues, opened, its body edited, assignees checked and added. The
//! decisions (which issue, when to open one, what to write) are in `crate::ticket`; this only
//! asks and writes, through the forge's two doors (`get`, `write`).

use super::{Fetched, GithubForge, RepoAccess, refusal};
use crate::config::{GithubRepo, ProjectBoard};
use crate::credentials::TicketAccess;
use crate::forge::{Forge, ForgeError, ForgeResult, github_access};
use crate::release::TicketRef;
use crate::ticket::{BoardIds, BoardItem, Issue, TicketDesk, TicketError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// Open issues looked through for a ticket's title, newest first: 5 pages of 100. A release
/// ticket is written shortly before its release, so it is among the newest.
const TITLE_PAGES: u32 = 5;
const PAGE: usize = 100;

/// What the desk learned that GitHub need not be asked for again.
#[derive(Default)]
pub(super) struct DeskMemory {
    /// `owner/name` → the number of the issue titled `title`, once found or opened.
    pub titled: HashMap<String, u64>,
    /// Logins GitHub said may be assigned in a repository (`owner/name:login`).
    pub assignable: HashSet<String>,
    /// A board's ids, by `owner/number/field/column`.
    pub boards: HashMap<String, BoardIds>,
    /// Items this forge put in their column, by `issue node/project`: not asked about again in
    /// this process (nor moved back, should a person move them on).
    pub placed: HashMap<String, String>,
}

/// An issue as `GET /repos/{o}/{r}/issues…` answers it (only what the desk reads).
#[derive(Debug, Deserialize)]
struct IssueAnswer {
    number: u64,
    #[serde(default)]
    node_id: String,
    #[serde(default)]
    title: String,
    body: Option<String>,
    #[serde(default)]
    assignees: Vec<Login>,
    /// Set on pull requests, which the issues list includes.
    pull_request: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct Login {
    login: String,
}

impl IssueAnswer {
    fn into_issue(self, repo: &GithubRepo) -> Issue {
        Issue {
            reference: TicketRef {
                owner: repo.owner.clone(),
                repo: repo.name.clone(),
                number: self.number,
            },
            node_id: self.node_id,
            body: self.body.unwrap_or_default(),
            assignees: self.assignees.into_iter().map(|a| a.login).collect(),
        }
    }
}

fn repo_of(ticket: &TicketRef) -> GithubRepo {
    GithubRepo {
        owner: ticket.owner.clone(),
        name: ticket.repo.clone(),
    }
}

impl GithubForge {
    pub(super) fn desk(&self) -> std::sync::MutexGuard<'_, DeskMemory> {
        self.desk
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The open issue titled exactly `title`, among the newest open issues.
    fn find_titled(&self, repo: &GithubRepo, title: &str) -> ForgeResult<Option<Issue>> {
        for page in 1..=TITLE_PAGES {
            let uri = format!(
                "{}/issues?state=open&sort=created&direction=desc&per_page={PAGE}&page={page}",
                self.path_of(&repo.owner, &repo.name)
            );
            let issues: Vec<IssueAnswer> = self.get(&uri)?.ok_or_else(|| ForgeError::NotFound {
                what: format!("repository {repo} (`ticket.repo`)"),
            })?;
            let full = issues.len() == PAGE;
            if let Some(found) = issues
                .into_iter()
                .find(|i| i.pull_request.is_none() && i.title == title)
            {
                return Ok(Some(found.into_issue(repo)));
            }
            if !full {
                break;
            }
        }
        Ok(None)
    }

    /// Refuses an issue write an App's installation may not make, before GitHub's bare 403.
    fn may_write_issues(&self, repo: &GithubRepo) -> ForgeResult<()> {
        let Some(permissions) = self.app_permissions()? else {
            return Ok(());
        };
        match github_access::app_issues(&repo.to_string(), &permissions) {
            Some(missing) => Err(missing.into()),
            None => Ok(()),
        }
    }

    /// Whether GitHub will assign `login` to issues in `repo` (204 yes, 404 no).
    fn check_assignable(&self, repo: &GithubRepo, login: &str) -> ForgeResult<()> {
        let key = format!("{repo}:{login}");
        if self.desk().assignable.contains(&key) {
            return Ok(());
        }
        match self.fetch(&format!(
            "{}/assignees/{login}",
            self.path_of(&repo.owner, &repo.name)
        ))? {
            Fetched::Found(_) => {
                self.desk().assignable.insert(key);
                Ok(())
            }
            Fetched::Missing => Err(ForgeError::Ticket(TicketError::AssigneeRefused {
                login: login.to_string(),
                repo: repo.to_string(),
            })),
            Fetched::Refused { error, .. } => Err(error),
        }
    }
}

/// The preflight of the release ticket: issues on `ticket.repo`, the board, the assignees.
impl GithubForge {
    pub fn ticket_access(&self, ticket: &crate::config::Ticket) -> Vec<TicketAccess> {
        let mut found = Vec::new();
        let mut scopes = None;
        let app = match self.app_permissions() {
            Ok(app) => app,
            Err(e) => {
                found.push(TicketAccess::Unasked(e.to_string()));
                None
            }
        };
        if let Some(repo) = &ticket.repo {
            found.push(self.issues_access(repo, app.as_ref()));
            scopes = self.classic_scopes(&self.path_of(&repo.owner, &repo.name));
            for login in &ticket.assignees {
                if let Err(e) = self.check_assignable(repo, login) {
                    found.push(TicketAccess::Assignee(e.to_string()));
                }
            }
        }
        if let Some(board) = &ticket.project {
            found.push(TicketAccess::Board {
                board: format!("{}/{}", board.owner, board.number),
                found: self.board_ids(board).map(|_| ()).map_err(|e| e.to_string()),
                scopes,
            });
            if let Some(missing) = app
                .as_ref()
                .and_then(|p| github_access::app_board(&board.owner, board.number, p))
            {
                found.push(TicketAccess::AppLacks(missing));
            }
        }
        found
    }

    /// Whether the credentials may write issues on `repo`: a token's push access says it, an
    /// App's installation permissions do (`app`).
    fn issues_access(
        &self,
        repo: &GithubRepo,
        app: Option<&std::collections::BTreeMap<String, String>>,
    ) -> TicketAccess {
        let location = crate::config::RepoLocation::GitHub {
            owner: repo.owner.clone(),
            name: repo.name.clone(),
        };
        let write = match self.permissions(&location) {
            Ok(RepoAccess {
                read: true, push, ..
            }) => Some(push),
            _ => None,
        };
        if let (Some(_), Some(permissions)) = (write, app) {
            if let Some(missing) = github_access::app_issues(&repo.to_string(), permissions) {
                return TicketAccess::AppLacks(missing);
            }
            return TicketAccess::Issues {
                repo: repo.to_string(),
                write: Some(true),
            };
        }
        TicketAccess::Issues {
            repo: repo.to_string(),
            write,
        }
    }

    /// A classic token's scopes, which GitHub lists in `x-oauth-scopes` on every answer (kept
    /// from the last one recorded; asked for with `uri` when none was); `None` for other
    /// credentials (fine-grained tokens, Apps), which do not say.
    fn classic_scopes(&self, uri: &str) -> Option<Vec<String>> {
        if self.known().scopes.is_none() {
            let answer = self.block_on(self.send("GET", uri, None, None)).ok()?;
            self.record("GET", &answer);
        }
        let header = self.known().scopes.clone()?;
        Some(crate::forge::github_access::scope_list(&header))
    }
}

/// The login a 422 on creating an issue names as an invalid assignee.
fn refused_assignee(body: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(body).ok()?;
    body.get("errors")?.as_array()?.iter().find_map(|e| {
        let field = e.get("field")?.as_str()?;
        (field.starts_with("assignee") && e.get("code")?.as_str()? == "invalid").then(|| {
            e.get("value")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        })
    })
}

impl TicketDesk for GithubForge {
    fn issue(&self, ticket: &TicketRef) -> ForgeResult<Option<Issue>> {
        let uri = format!(
            "{}/issues/{}",
            self.path_of(&ticket.owner, &ticket.repo),
            ticket.number
        );
        let found: Option<IssueAnswer> = self.get(&uri)?;
        Ok(found.map(|i| i.into_issue(&repo_of(ticket))))
    }

    fn open_issue_titled(&self, repo: &GithubRepo, title: &str) -> ForgeResult<Option<Issue>> {
        let key = format!("{repo}#{title}");
        let remembered = self.desk().titled.get(&key).copied();
        if let Some(number) = remembered {
            let ticket = TicketRef {
                owner: repo.owner.clone(),
                repo: repo.name.clone(),
                number,
            };
            if let Some(issue) = self.issue(&ticket)? {
                return Ok(Some(issue));
            }
        }
        let found = self.find_titled(repo, title)?;
        if let Some(issue) = &found {
            self.desk().titled.insert(key, issue.reference.number);
        }
        Ok(found)
    }

    fn create_issue(
        &self,
        repo: &GithubRepo,
        title: &str,
        body: &str,
        assignees: &[String],
    ) -> ForgeResult<Issue> {
        self.may_write_issues(repo)?;
        for login in assignees {
            self.check_assignable(repo, login)?;
        }
        let uri = format!("{}/issues", self.path_of(&repo.owner, &repo.name));
        let answer = self.write(
            "POST",
            &uri,
            &json!({ "title": title, "body": body, "assignees": assignees }),
        )?;
        if answer.status == 422
            && let Some(login) = refused_assignee(&answer.body)
        {
            return Err(ForgeError::Ticket(TicketError::AssigneeRefused {
                login,
                repo: repo.to_string(),
            }));
        }
        let created: IssueAnswer = self.expect_ok("POST", &uri, answer)?;
        let issue = created.into_issue(repo);
        self.desk()
            .titled
            .insert(format!("{repo}#{title}"), issue.reference.number);
        Ok(issue)
    }

    fn edit_body(&self, ticket: &TicketRef, body: &str) -> ForgeResult<()> {
        self.may_write_issues(&repo_of(ticket))?;
        let uri = format!(
            "{}/issues/{}",
            self.path_of(&ticket.owner, &ticket.repo),
            ticket.number
        );
        let answer = self.write("PATCH", &uri, &json!({ "body": body }))?;
        self.expect_ok::<serde::de::IgnoredAny>("PATCH", &uri, answer)?;
        Ok(())
    }

    fn assign(&self, ticket: &TicketRef, logins: &[String]) -> ForgeResult<()> {
        let repo = repo_of(ticket);
        self.may_write_issues(&repo)?;
        for login in logins {
            self.check_assignable(&repo, login)?;
        }
        let uri = format!(
            "{}/issues/{}/assignees",
            self.path_of(&ticket.owner, &ticket.repo),
            ticket.number
        );
        let answer = self.write("POST", &uri, &json!({ "assignees": logins }))?;
        match answer.status {
            200..=299 => Ok(()),
            _ => Err(refusal("POST", &uri, &answer)),
        }
    }

    fn comment(
        &self,
        ticket: &TicketRef,
        marker: &str,
        body: &str,
        label: Option<&str>,
    ) -> ForgeResult<()> {
        self.may_write_issues(&repo_of(ticket))?;
        Forge::report_ticket(self, ticket, marker, body, label)
    }

    fn board(&self, board: &ProjectBoard) -> ForgeResult<BoardIds> {
        self.board_ids(board)
    }

    fn board_item(
        &self,
        issue: &Issue,
        board: &ProjectBoard,
        ids: &BoardIds,
    ) -> ForgeResult<Option<BoardItem>> {
        let placed = self
            .desk()
            .placed
            .get(&format!("{}/{}", issue.node_id, ids.project))
            .cloned();
        if let Some(id) = placed {
            return Ok(Some(BoardItem {
                id,
                option: Some(ids.option.clone()),
            }));
        }
        self.item_on_board(issue, board, ids)
    }

    fn add_to_board(&self, issue: &Issue, ids: &BoardIds) -> ForgeResult<String> {
        self.add_item(issue, ids)
    }

    fn set_column(&self, issue: &Issue, item: &str, ids: &BoardIds) -> ForgeResult<()> {
        self.move_item(item, ids)?;
        self.desk().placed.insert(
            format!("{}/{}", issue.node_id, ids.project),
            item.to_string(),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    #[test]
    fn an_invalid_assignee_is_read_from_githubs_422() {
        let body = br#"{"message":"Validation Failed","errors":[{"value":"nobody","resource":"Issue","field":"assignees","code":"invalid"}],"status":"422"}"#;
        assert_eq!(refused_assignee(body).as_deref(), Some("nobody"));
        assert_eq!(
            refused_assignee(br#"{"message":"Validation Failed"}"#),
            None
        );
    }

    #[test]
    fn decode_reads_an_issue_list() {
        let issues: Vec<IssueAnswer> = decode(
            "GET",
            "/issues",
            br#"[{"number":3,"node_id":"I_1","title":"Release 2026.08.3","body":null,"assignees":[{"login":"a"}]}]"#,
        )
        .unwrap();
        assert_eq!(issues[0].assignees[0].login, "a");
    }
}

//! The release ticket: which issue it is (the one the release file names, else the open
//! `Release <version>` issue in `[ticket] repo`, created when allowed), what stackrel writes on
//! it, who it is assigned to, and where it stands on the project board. The decisions are here,
//! over the small `TicketDesk` trait; the GitHub adapter (`forge/github/ticket.rs` for issues,
//! `forge/github/board.rs` for the board, through GraphQL) only asks and writes. Every creating
//! write is preceded by a look, and an unclear one is settled by looking again, so a lost answer
//! never makes a second ticket or a second board item.

use crate::config::{GithubRepo, ProjectBoard, Ticket as TicketSettings};
use crate::forge::{ForgeError, ForgeResult};
use crate::registry::ImageDigest;
use crate::release::{Release, TicketRef};
use std::collections::BTreeMap;

/// An issue as the ticket logic needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub reference: TicketRef,
    /// GraphQL's id for it, which the board's mutations take.
    pub node_id: String,
    pub body: String,
    pub assignees: Vec<String>,
}

/// A board's ids, looked up once: the project, its column field and the configured column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardIds {
    /// The board's owner and number, as `ticket.project` names it.
    pub owner: String,
    pub number: u64,
    pub project: String,
    pub field: String,
    pub option: String,
}

/// The ticket's item on the board, and the option (column) it is in, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardItem {
    pub id: String,
    pub option: Option<String>,
}

/// Why GitHub would not take a `[ticket]` setting: each says which setting and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error(
        "`ticket.project`: {owner} has no project number {number} that these credentials can see; set `number` to the one in the board's URL (github.com/orgs/{owner}/projects/NUMBER), and give the token the `project` scope (or the App the organisation Projects permission)"
    )]
    UnknownProject { owner: String, number: u64 },
    #[error(
        "`ticket.project.field` = \"{field}\": project {owner}/{number} has no single-select field of that name; use one of: {}",
        .available.join(", ")
    )]
    UnknownField {
        owner: String,
        number: u64,
        field: String,
        available: Vec<String>,
    },
    #[error(
        "`ticket.project.column` = \"{column}\": the field \"{field}\" has no such option; use one of: {}",
        .available.join(", ")
    )]
    UnknownColumn {
        field: String,
        column: String,
        available: Vec<String>,
    },
    #[error(
        "`ticket.assignees`: GitHub will not assign {login} to issues in {repo}; remove it, or make {login} a collaborator of {repo}"
    )]
    AssigneeRefused { login: String, repo: String },
}

/// What stackrel asks of wherever tickets live.
pub trait TicketDesk {
    /// The issue, or `None` when there is none.
    fn issue(&self, ticket: &TicketRef) -> ForgeResult<Option<Issue>>;
    /// The open issue titled exactly `title` in `repo`, if any.
    fn open_issue_titled(&self, repo: &GithubRepo, title: &str) -> ForgeResult<Option<Issue>>;
    /// Opens an issue, assigned to `assignees`; `Unclear` when the answer was lost.
    fn create_issue(
        &self,
        repo: &GithubRepo,
        title: &str,
        body: &str,
        assignees: &[String],
    ) -> ForgeResult<Issue>;
    /// Replaces the body of an issue stackrel wrote.
    fn edit_body(&self, ticket: &TicketRef, body: &str) -> ForgeResult<()>;
    /// Adds assignees (people already assigned stay).
    fn assign(&self, ticket: &TicketRef, logins: &[String]) -> ForgeResult<()>;
    /// Keeps stackrel's one comment current and adds the label (`Forge::report_ticket`).
    fn comment(
        &self,
        ticket: &TicketRef,
        marker: &str,
        body: &str,
        label: Option<&str>,
    ) -> ForgeResult<()>;
    /// The board's ids; the settings are GitHub's to refuse (`TicketError`).
    fn board(&self, board: &ProjectBoard) -> ForgeResult<BoardIds>;
    /// The issue's item on the board, if it is on it.
    fn board_item(
        &self,
        issue: &Issue,
        board: &ProjectBoard,
        ids: &BoardIds,
    ) -> ForgeResult<Option<BoardItem>>;
    /// Adds the issue to the board; the new item's id.
    fn add_to_board(&self, issue: &Issue, ids: &BoardIds) -> ForgeResult<String>;
    /// Puts the issue's item in the configured column.
    fn set_column(&self, issue: &Issue, item: &str, ids: &BoardIds) -> ForgeResult<()>;
}

/// What the report on a ticket says, and about which release.
pub struct TicketReport<'a> {
    pub release: &'a Release,
    pub settings: &'a TicketSettings,
    /// The ticket's summary of the release (the body of a ticket stackrel opens).
    pub summary: &'a str,
    /// Where the release stands, for the comment.
    pub state: &'a str,
}

/// The title of a release's ticket, as the written release process has it.
pub fn title(release: &Release) -> String {
    format!("Release {}", release.version)
}

/// The hidden marker that finds stackrel's comment (and a body it wrote) on a ticket.
pub fn marker(release: &Release) -> String {
    format!("<!-- stackrel:release:{} -->", release.version)
}

/// Where each component's tag is, for links: `owner/name` on GitHub, `None` for a local one.
pub type TagLinks = BTreeMap<String, Option<String>>;

/// The ticket's summary of a release: the stack version, each component's version linked to its
/// tag, the release notes, and the image digests.
pub fn summary(
    release: &Release,
    web: &str,
    stack: Option<&str>,
    components: &TagLinks,
    images: &BTreeMap<String, ImageDigest>,
) -> String {
    let link = |repo: Option<&str>, tag: &str| match repo {
        Some(repo) => format!("[{tag}]({web}/{repo}/releases/tag/{tag})"),
        None => format!("`{tag}`"),
    };
    let version = release.version.to_string();
    let mut text = format!("Stack {}\n\n", link(stack, &version));
    for (name, tag) in &release.components {
        let repo = components.get(name).cloned().flatten();
        text.push_str(&format!("- {name}: {}\n", link(repo.as_deref(), tag)));
    }
    if let Some(notes) = release.notes.as_deref().map(str::trim)
        && !notes.is_empty()
    {
        text.push_str(&format!("\n### Release notes\n\n{notes}\n"));
    }
    if !images.is_empty() {
        text.push_str("\n### Images\n\n");
        for (name, image) in images {
            text.push_str(&format!("- {name}: `{}@{}`\n", image.image, image.digest));
        }
    }
    text
}

/// The comment: where the release stands (the deploy outcome), then the summary.
pub fn comment(release: &Release, state: &str, summary: &str) -> String {
    format!(
        "**stackrel: release {}** — {state}\n\n{summary}",
        release.version
    )
}

/// The body of a ticket stackrel opens (and keeps current, being its author): the summary, the
/// outcome, and the marker that says stackrel wrote it.
fn body(report: &TicketReport<'_>) -> String {
    format!(
        "{}\n**Outcome:** {}\n\n{}",
        report.summary,
        report.state,
        marker(report.release)
    )
}

/// Finds (or opens) the release's ticket, writes the report on it, assigns it and puts it on the
/// board. `Ok(None)`: there is no ticket to report on (none named, none open, none to create).
pub fn keep(desk: &dyn TicketDesk, report: &TicketReport<'_>) -> ForgeResult<Option<TicketRef>> {
    let Some(issue) = find_or_open(desk, report)? else {
        return Ok(None);
    };
    let ticket = issue.reference.clone();
    let marker = marker(report.release);
    if issue.body.contains(&marker) {
        let current = body(report);
        if issue.body.trim_end() != current.trim_end() {
            desk.edit_body(&ticket, &current)?;
        }
    }
    let missing: Vec<String> = report
        .settings
        .assignees
        .iter()
        .filter(|login| {
            !issue
                .assignees
                .iter()
                .any(|a| a.eq_ignore_ascii_case(login))
        })
        .cloned()
        .collect();
    if !missing.is_empty() {
        desk.assign(&ticket, &missing)?;
    }
    let text = comment(report.release, report.state, report.summary);
    desk.comment(&ticket, &marker, &text, report.settings.label.as_deref())?;
    if let Some(board) = &report.settings.project {
        place(desk, &issue, board)?;
    }
    Ok(Some(ticket))
}

/// The ticket the release file names, else the open `Release <version>` issue, else (when
/// allowed) a new one — opened once: an unclear create is settled by looking again.
fn find_or_open(desk: &dyn TicketDesk, report: &TicketReport<'_>) -> ForgeResult<Option<Issue>> {
    if let Some(named) = &report.release.ticket {
        // Only assignees and the board need to know the issue; a comment and a label do not.
        if report.settings.assignees.is_empty() && report.settings.project.is_none() {
            return Ok(Some(Issue {
                reference: named.clone(),
                node_id: String::new(),
                body: String::new(),
                assignees: Vec::new(),
            }));
        }
        return desk
            .issue(named)?
            .map(Some)
            .ok_or_else(|| ForgeError::NotFound {
                what: format!("issue {named} (the release file's `ticket`)"),
            });
    }
    let Some(repo) = &report.settings.repo else {
        return Ok(None);
    };
    let title = title(report.release);
    if let Some(found) = desk.open_issue_titled(repo, &title)? {
        return Ok(Some(found));
    }
    if !report.settings.create {
        return Ok(None);
    }
    let text = body(report);
    match desk.create_issue(repo, &title, &text, &report.settings.assignees) {
        Ok(created) => Ok(Some(created)),
        Err(ForgeError::Unclear(what)) => match desk.open_issue_titled(repo, &title)? {
            Some(found) => Ok(Some(found)),
            None => Err(ForgeError::Unclear(what)),
        },
        Err(e) => Err(e),
    }
}

/// Puts the ticket on the board in the configured column: added only when it is not on the board
/// (a lost answer to the add leaves it there, found next time), moved only when elsewhere.
fn place(desk: &dyn TicketDesk, issue: &Issue, board: &ProjectBoard) -> ForgeResult<()> {
    let ids = desk.board(board)?;
    let item = match desk.board_item(issue, board, &ids)? {
        Some(item) if item.option.as_deref() == Some(ids.option.as_str()) => return Ok(()),
        Some(item) => item.id,
        None => desk.add_to_board(issue, &ids)?,
    };
    desk.set_column(issue, &item, &ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> Release {
        Release {
            version: "2026.08.3".parse().unwrap(),
            path: "releases/2026.08.3.toml".into(),
            components: [
                ("backend".to_string(), "2026.08.1".to_string()),
                ("frontend".to_string(), "2026.08.2".to_string()),
            ]
            .into(),
            ticket: None,
            notes: Some("- m2ms/fragalysis-frontend#1523".into()),
            waive_ci: Vec::new(),
        }
    }

    #[test]
    fn summary_links_tags_and_lists_digests() {
        let links: TagLinks = [
            (
                "backend".to_string(),
                Some("xchem/fragalysis-backend".into()),
            ),
            ("frontend".to_string(), None),
        ]
        .into();
        let images = [(
            "backend".to_string(),
            ImageDigest {
                image: "docker.io/xchem/fragalysis-backend:2026.08.1".into(),
                digest: "sha256:abc".into(),
            },
        )]
        .into();
        let text = summary(
            &release(),
            "https://github.com",
            Some("xchem/fragalysis-stack"),
            &links,
            &images,
        );
        assert!(
            text.contains(
                "[2026.08.1](https://github.com/xchem/fragalysis-backend/releases/tag/2026.08.1)"
            ),
            "{text}"
        );
        assert!(text.contains("- frontend: `2026.08.2`"), "{text}");
        assert!(text.contains("m2ms/fragalysis-frontend#1523"), "{text}");
        assert!(
            text.contains("`docker.io/xchem/fragalysis-backend:2026.08.1@sha256:abc`"),
            "{text}"
        );
    }

    /// A desk that answers from fixed facts and records what was asked of it.
    #[derive(Default)]
    struct FakeDesk {
        open: std::cell::RefCell<Option<Issue>>,
        create_is_unclear_but_happens: bool,
        item: Option<BoardItem>,
        calls: std::cell::RefCell<Vec<String>>,
    }

    fn issue(body: &str) -> Issue {
        Issue {
            reference: TicketRef {
                owner: "m2ms".into(),
                repo: "fragalysis-frontend".into(),
                number: 7,
            },
            node_id: "I_7".into(),
            body: body.into(),
            assignees: vec!["alice".into()],
        }
    }

    impl FakeDesk {
        fn called(&self, what: &str) {
            self.calls.borrow_mut().push(what.to_string());
        }
        fn calls(&self) -> Vec<String> {
            self.calls.borrow().clone()
        }
    }

    impl TicketDesk for FakeDesk {
        fn issue(&self, _: &TicketRef) -> ForgeResult<Option<Issue>> {
            self.called("issue");
            Ok(Some(issue("")))
        }
        fn open_issue_titled(&self, _: &GithubRepo, _: &str) -> ForgeResult<Option<Issue>> {
            self.called("find");
            Ok(self.open.borrow().clone())
        }
        fn create_issue(
            &self,
            _: &GithubRepo,
            _: &str,
            body: &str,
            _: &[String],
        ) -> ForgeResult<Issue> {
            self.called("create");
            if self.create_is_unclear_but_happens {
                *self.open.borrow_mut() = Some(issue(body));
                return Err(ForgeError::Unclear("POST /issues".into()));
            }
            Err(ForgeError::Unclear("POST /issues".into()))
        }
        fn edit_body(&self, _: &TicketRef, _: &str) -> ForgeResult<()> {
            self.called("edit body");
            Ok(())
        }
        fn assign(&self, _: &TicketRef, logins: &[String]) -> ForgeResult<()> {
            self.called(&format!("assign {}", logins.join(",")));
            Ok(())
        }
        fn comment(&self, _: &TicketRef, _: &str, _: &str, _: Option<&str>) -> ForgeResult<()> {
            self.called("comment");
            Ok(())
        }
        fn board(&self, _: &ProjectBoard) -> ForgeResult<BoardIds> {
            Ok(BoardIds {
                owner: "m2ms".into(),
                number: 2,
                project: "P".into(),
                field: "F".into(),
                option: "push".into(),
            })
        }
        fn board_item(
            &self,
            _: &Issue,
            _: &ProjectBoard,
            _: &BoardIds,
        ) -> ForgeResult<Option<BoardItem>> {
            Ok(self.item.clone())
        }
        fn add_to_board(&self, _: &Issue, _: &BoardIds) -> ForgeResult<String> {
            self.called("add");
            Ok("item".into())
        }
        fn set_column(&self, _: &Issue, item: &str, _: &BoardIds) -> ForgeResult<()> {
            self.called(&format!("move {item}"));
            Ok(())
        }
    }

    fn settings(create: bool, board: bool) -> TicketSettings {
        TicketSettings {
            label: Some("fragalysis-stack".into()),
            repo: Some(GithubRepo {
                owner: "m2ms".into(),
                name: "fragalysis-frontend".into(),
            }),
            create,
            assignees: vec!["alice".into(), "bob".into()],
            project: board.then(|| ProjectBoard {
                owner: "m2ms".into(),
                number: 2,
                field: "Status".into(),
                column: "push to production".into(),
            }),
        }
    }

    fn run(
        desk: &FakeDesk,
        release: &Release,
        settings: &TicketSettings,
    ) -> ForgeResult<Option<TicketRef>> {
        keep(
            desk,
            &TicketReport {
                release,
                settings,
                summary: "summary",
                state: "live",
            },
        )
    }

    #[test]
    fn a_named_ticket_without_assignees_or_board_is_commented_on_unread() {
        let desk = FakeDesk::default();
        let mut release = release();
        release.ticket = Some("xchem/fragalysis-stack#3".parse().unwrap());
        let mut plain = settings(false, false);
        plain.assignees.clear();
        assert!(run(&desk, &release, &plain).unwrap().is_some());
        assert_eq!(desk.calls(), ["comment"]);
    }

    #[test]
    fn an_unclear_create_is_settled_by_looking_for_the_title_again() {
        let desk = FakeDesk {
            create_is_unclear_but_happens: true,
            ..FakeDesk::default()
        };
        let found = run(&desk, &release(), &settings(true, false)).unwrap();
        assert_eq!(found.map(|t| t.number), Some(7));
        assert_eq!(
            desk.calls(),
            ["find", "create", "find", "assign bob", "comment"]
        );
    }

    #[test]
    fn an_unclear_create_that_did_not_happen_stays_unclear_and_is_not_resent() {
        let desk = FakeDesk::default();
        let error = run(&desk, &release(), &settings(true, false)).unwrap_err();
        assert!(matches!(error, ForgeError::Unclear(_)), "{error:?}");
        assert_eq!(desk.calls(), ["find", "create", "find"]);
    }

    #[test]
    fn without_create_and_without_an_open_issue_there_is_no_ticket() {
        let desk = FakeDesk::default();
        assert_eq!(
            run(&desk, &release(), &settings(false, true)).unwrap(),
            None
        );
        assert_eq!(desk.calls(), ["find"]);
    }

    #[test]
    fn a_person_s_body_is_not_edited_and_only_missing_assignees_are_added() {
        let desk = FakeDesk::default();
        *desk.open.borrow_mut() = Some(issue("written by a person"));
        run(&desk, &release(), &settings(true, false)).unwrap();
        assert_eq!(desk.calls(), ["find", "assign bob", "comment"]);
    }

    #[test]
    fn the_board_is_changed_only_where_the_ticket_is_not_yet_placed() {
        let placed = |item: Option<BoardItem>| {
            let desk = FakeDesk {
                item,
                ..FakeDesk::default()
            };
            *desk.open.borrow_mut() = Some(issue(""));
            run(&desk, &release(), &settings(false, true)).unwrap();
            desk.calls()
                .into_iter()
                .filter(|c| c == "add" || c.starts_with("move"))
                .collect::<Vec<_>>()
        };
        assert_eq!(placed(None), ["add", "move item"]);
        let elsewhere = BoardItem {
            id: "it".into(),
            option: Some("todo".into()),
        };
        assert_eq!(placed(Some(elsewhere)), ["move it"]);
        let there = BoardItem {
            id: "it".into(),
            option: Some("push".into()),
        };
        assert!(placed(Some(there)).is_empty());
    }

    #[test]
    fn the_title_is_the_release_process_one() {
        assert_eq!(title(&release()), "Release 2026.08.3");
    }
}

//! Whether the credentials may write `.github/workflows/*`, decided from what GitHub tells about
//! them. Writing a workflow file needs the classic `workflow` scope, a GitHub App's
//! `workflows: write` or a fine-grained token's Workflows permission; without it GitHub answers
//! the pin commit with a bare 404 (tokens) or 403 (Apps), which says nothing of the cause. The
//! Actions `GITHUB_TOKEN` can never write workflow files, and tags it pushes start no workflows.
//! So the preflight decides it here, before anything is written, and says how to grant it.
//! The release ticket is decided the same way for an App, whose installation lists its
//! permissions: `issues` on the ticket repository and `organization_projects` for the board
//! (GitHub's GraphQL API refuses an App's board mutation only with "Resource not accessible by
//! integration").

use std::collections::BTreeMap;
use std::fmt;

/// What kind of credential a `GITHUB_TOKEN` is, by GitHub's documented token prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `ghp_`, or a 40-hex token of older GitHub Enterprise Server: scopes in `X-OAuth-Scopes`.
    Classic,
    /// `github_pat_`: permissions are not reported by the API.
    FineGrained,
    /// `gho_`/`ghu_`: an OAuth or user-to-server token, scoped like a classic one.
    OAuth,
    /// `ghs_`: an installation token — an App's (which may write workflow files with
    /// `workflows: write`), or the GitHub Actions workflow's `GITHUB_TOKEN` (which never can).
    Installation,
    /// The GitHub Actions workflow's own `GITHUB_TOKEN`, as the workflow said.
    Actions,
    Unknown,
}

impl TokenKind {
    pub fn of(token: &str) -> TokenKind {
        if token.starts_with("ghp_") {
            TokenKind::Classic
        } else if token.starts_with("github_pat_") {
            TokenKind::FineGrained
        } else if token.starts_with("gho_") || token.starts_with("ghu_") {
            TokenKind::OAuth
        } else if token.starts_with("ghs_") {
            TokenKind::Installation
        } else if token.len() == 40 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
            TokenKind::Classic
        } else {
            TokenKind::Unknown
        }
    }
}

/// What the preflight found about writing workflow files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowAccess {
    Granted,
    Missing(MissingPermission),
    /// GitHub does not say (a fine-grained token): the person is told what it needs.
    Unknown(&'static str),
}

/// The permission to write workflow files that the credentials lack, and how to grant it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MissingPermission {
    #[error(
        "the GitHub token cannot write {path}: it lacks the `workflow` scope (its scopes: {}); GitHub would refuse the pin commit with a bare 404. Grant it: edit the token at https://github.com/settings/tokens and tick `workflow`, or use a fine-grained token with Workflows: read and write",
        if .scopes.is_empty() { "none".to_string() } else { .scopes.join(", ") }
    )]
    ClassicScope { path: String, scopes: Vec<String> },
    #[error(
        "the GitHub App cannot write {path}: its installation has workflows: {}, not write; GitHub would refuse the pin commit with 403. Grant it: in the App's settings, Permissions → Repository permissions → Workflows: Read and write, then accept the new permission on the installation",
        .has.as_deref().unwrap_or("none")
    )]
    AppPermission { path: String, has: Option<String> },
    #[error(
        "GITHUB_TOKEN is the GitHub Actions GITHUB_TOKEN: that token can never write {path} (a workflow's `permissions:` has no workflows key), and tags it pushes start no workflows, so the stack would never build. Use a personal access token with the `workflow` scope, or a GitHub App with workflows: write (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY_FILE, GITHUB_APP_INSTALLATION_ID)"
    )]
    ActionsToken { path: String },
}

/// The scopes an `X-OAuth-Scopes` header lists (`"repo, workflow"`).
pub fn scope_list(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A classic token's access, from the `X-OAuth-Scopes` header GitHub sends on every answer.
pub fn from_scopes(path: &str, header: &str) -> WorkflowAccess {
    let scopes = scope_list(header);
    if scopes.iter().any(|s| s == "workflow") {
        WorkflowAccess::Granted
    } else {
        WorkflowAccess::Missing(MissingPermission::ClassicScope {
            path: path.to_string(),
            scopes,
        })
    }
}

/// An App's access, from its installation's `permissions`.
pub fn from_installation(path: &str, permissions: &BTreeMap<String, String>) -> WorkflowAccess {
    match permissions.get("workflows").map(String::as_str) {
        Some("write") => WorkflowAccess::Granted,
        has => WorkflowAccess::Missing(MissingPermission::AppPermission {
            path: path.to_string(),
            has: has.map(str::to_string),
        }),
    }
}

/// A token's access from its kind alone, when the answers say nothing more: `None` when the
/// scopes header decides it (classic and OAuth tokens).
pub fn from_token_kind(path: &str, kind: TokenKind) -> Option<WorkflowAccess> {
    match kind {
        TokenKind::Actions => Some(WorkflowAccess::Missing(MissingPermission::ActionsToken {
            path: path.to_string(),
        })),
        TokenKind::Installation => Some(WorkflowAccess::Unknown(
            "an installation token (ghs_…) does not report its permissions: a GitHub App's token needs Contents and Workflows: read and write on the stack repository; if it is the GitHub Actions GITHUB_TOKEN, it can never write workflow files and tags it pushes start no workflows (stackrel's action says so when it is: STACKREL_TOKEN_IS_ACTIONS_TOKEN)",
        )),
        TokenKind::FineGrained => Some(WorkflowAccess::Unknown(
            "a fine-grained token does not report its permissions: it needs Contents and Workflows: read and write on the stack repository",
        )),
        TokenKind::Classic | TokenKind::OAuth | TokenKind::Unknown => None,
    }
}

/// A permission of an App's installation that the release ticket needs, with the level it has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MissingAppPermission {
    #[error(
        "the GitHub App cannot write issues on {repo} (`ticket.repo`): its installation has issues: {}, not write, so GitHub would refuse opening, commenting on and assigning the release ticket. Grant it: in the App's settings, Permissions → Repository permissions → Issues: Read and write; then the owner of {owner} accepts the new permissions on the installation",
        .has.as_deref().unwrap_or("none"),
        owner = .repo.split('/').next().unwrap_or_default()
    )]
    Issues { repo: String, has: Option<String> },
    #[error(
        "the GitHub App cannot add the release ticket to project {owner}/{number} (`ticket.project`) or move it: its installation has organization_projects: {}, not write, and GitHub refuses the board's changes with \"Resource not accessible by integration\". Grant it: in the App's settings, Permissions → Organization permissions → Projects: Read and write; then an owner of the {owner} organisation accepts the new permissions on the installation",
        .has.as_deref().unwrap_or("none")
    )]
    OrganizationProjects {
        owner: String,
        number: u64,
        has: Option<String>,
    },
}

/// Whether a permission level (`read`, `write`, `admin`) includes writing.
fn writes(level: Option<&String>) -> bool {
    matches!(level.map(String::as_str), Some("write" | "admin"))
}

/// What an App installation lacks to write issues on `repo`, if anything.
pub fn app_issues(
    repo: &str,
    permissions: &BTreeMap<String, String>,
) -> Option<MissingAppPermission> {
    let has = permissions.get("issues");
    (!writes(has)).then(|| MissingAppPermission::Issues {
        repo: repo.to_string(),
        has: has.cloned(),
    })
}

/// What an App installation lacks to change project `number` of `owner`, if anything.
pub fn app_board(
    owner: &str,
    number: u64,
    permissions: &BTreeMap<String, String>,
) -> Option<MissingAppPermission> {
    let has = permissions.get("organization_projects");
    (!writes(has)).then(|| MissingAppPermission::OrganizationProjects {
        owner: owner.to_string(),
        number,
        has: has.cloned(),
    })
}

impl fmt::Display for WorkflowAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkflowAccess::Granted => f.write_str("can write workflow files"),
            WorkflowAccess::Missing(missing) => write!(f, "{missing}"),
            WorkflowAccess::Unknown(why) => f.write_str(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_told_apart_by_their_prefix() {
        assert_eq!(TokenKind::of("ghp_abc"), TokenKind::Classic);
        assert_eq!(TokenKind::of("github_pat_11abc"), TokenKind::FineGrained);
        assert_eq!(TokenKind::of("ghs_abc"), TokenKind::Installation);
        assert_eq!(TokenKind::of("gho_abc"), TokenKind::OAuth);
        assert_eq!(TokenKind::of(&"a".repeat(40)), TokenKind::Classic);
        assert_eq!(TokenKind::of("whatever"), TokenKind::Unknown);
    }

    #[test]
    fn a_classic_token_needs_the_workflow_scope() {
        let path = ".github/workflows/build-main.yaml";
        assert_eq!(from_scopes(path, "repo, workflow"), WorkflowAccess::Granted);
        let missing = from_scopes(path, "repo, read:org").to_string();
        assert!(missing.contains("lacks the `workflow` scope"), "{missing}");
        assert!(missing.contains("repo, read:org"), "{missing}");
        assert!(missing.contains("settings/tokens"), "{missing}");
        assert!(from_scopes(path, "").to_string().contains("scopes: none"));
    }

    #[test]
    fn an_app_needs_workflows_write() {
        let mut permissions = BTreeMap::new();
        permissions.insert("contents".to_string(), "write".to_string());
        let text = from_installation("w.yaml", &permissions).to_string();
        assert!(text.contains("workflows: none"), "{text}");
        permissions.insert("workflows".to_string(), "write".to_string());
        assert_eq!(
            from_installation("w.yaml", &permissions),
            WorkflowAccess::Granted
        );
    }

    #[test]
    fn an_app_needs_issues_write_on_the_ticket_repository() {
        let mut permissions = BTreeMap::new();
        permissions.insert("issues".to_string(), "read".to_string());
        let missing = app_issues("m2ms/fragalysis-frontend", &permissions).unwrap();
        let text = missing.to_string();
        assert!(
            text.contains("its installation has issues: read, not write"),
            "{text}"
        );
        assert!(
            text.contains("Repository permissions → Issues: Read and write"),
            "{text}"
        );
        assert!(text.contains("the owner of m2ms accepts"), "{text}");
        permissions.insert("issues".to_string(), "write".to_string());
        assert_eq!(app_issues("m2ms/fragalysis-frontend", &permissions), None);
    }

    #[test]
    fn an_app_needs_organization_projects_write_for_the_board() {
        let mut permissions = BTreeMap::new();
        let text = app_board("m2ms", 2, &permissions).unwrap().to_string();
        assert!(
            text.contains("organization_projects: none, not write"),
            "{text}"
        );
        assert!(
            text.contains("Organization permissions → Projects: Read and write"),
            "{text}"
        );
        assert!(
            text.contains("an owner of the m2ms organisation accepts"),
            "{text}"
        );
        permissions.insert("organization_projects".to_string(), "read".to_string());
        assert!(app_board("m2ms", 2, &permissions).is_some());
        for level in ["write", "admin"] {
            permissions.insert("organization_projects".to_string(), level.to_string());
            assert_eq!(app_board("m2ms", 2, &permissions), None, "{level}");
        }
    }

    #[test]
    fn the_actions_token_is_refused_naming_it() {
        let access = from_token_kind("w.yaml", TokenKind::Actions).unwrap();
        assert!(matches!(access, WorkflowAccess::Missing(_)));
        let text = access.to_string();
        assert!(text.contains("GitHub Actions GITHUB_TOKEN"), "{text}");
        assert!(text.contains("start no workflows"), "{text}");
    }

    #[test]
    fn an_apps_installation_token_is_not_refused_but_told_what_it_needs() {
        let access = from_token_kind("w.yaml", TokenKind::Installation).unwrap();
        assert!(matches!(access, WorkflowAccess::Unknown(_)));
        assert!(access.to_string().contains("Workflows: read and write"));
    }
}

//! Whether the credentials may write `.github/workflows/*`, decided from what GitHub tells about
//! them. Writing a workflow file needs the classic `workflow` scope, a GitHub App's
//! `workflows: write` or a fine-grained token's Workflows permission; without it GitHub answers
//! the pin commit with a bare 404 (tokens) or 403 (Apps), which says nothing of the cause. The
//! Actions `GITHUB_TOKEN` can never write workflow files, and tags it pushes start no workflows.
//! So the preflight decides it here, before anything is written, and says how to grant it.

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

/// A classic token's access, from the `X-OAuth-Scopes` header GitHub sends on every answer.
pub fn from_scopes(path: &str, header: &str) -> WorkflowAccess {
    let scopes: Vec<String> = header
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
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

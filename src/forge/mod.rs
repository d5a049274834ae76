//! The forge is wherever the component and stack repositories live: git repositories on disk
//! (the embedded default) or GitHub. The convergence loop needs only the handful of operations
//! in `Forge`, so each backend is a thin adapter and the loop is the same everywhere. Every
//! writing operation is conditional (compare-and-swap, create-if-absent) so that a retry after an
//! unclear outcome can never do the work twice.

pub mod github;
pub mod github_access;
mod github_answers;
pub mod local;
pub mod router;

use crate::config::RepoLocation;
use crate::release::TicketRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A full commit id (40 hex digits for SHA-1 repositories).
pub type CommitId = String;

/// The outcome of a CI workflow for a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "lowercase")]
pub enum CiStatus {
    Success,
    Failure(String),
    /// Queued or running.
    Pending,
    /// No run of that workflow for that commit (yet).
    Missing,
}

/// A file as read from a branch or commit: its text and the token that a compare-and-swap write
/// must present (the blob id), plus the commit it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAtCommit {
    pub text: String,
    pub blob: String,
    pub commit: CommitId,
}

/// A release as the forge holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// Whether stackrel cut it: its notes (or tag message) carry `RELEASED_BY`.
    pub by_stackrel: bool,
}

/// The line stackrel ends a release's notes with, so that a release cut by a person can be told
/// from one of its own (which it must finish) without any record.
pub const RELEASED_BY: &str = "Released-by: stackrel";

/// A tag and the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagRef {
    pub name: String,
    pub commit: CommitId,
}

/// A commit as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitSummary {
    pub id: CommitId,
    /// The first line of its message.
    pub subject: String,
}

/// What a range of history adds: how many commits in all, and the first of them, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CommitRange {
    pub total: usize,
    pub commits: Vec<CommitSummary>,
}

/// A pull request as a release's notes name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullSummary {
    pub number: u64,
    pub title: String,
}

/// A commit of a range with what a release's notes need: its whole message, and the merged pull
/// request that brought it when the forge knows one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub commit: CommitId,
    pub message: String,
    pub pull: Option<PullSummary>,
}

/// The changes a range of history holds: how many commits in all, and the first of them,
/// oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Changes {
    pub total: usize,
    pub changes: Vec<Change>,
}

/// A pull request that exists, as `stackrel release --pr` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    pub number: u64,
    /// Where a person reads it.
    pub url: String,
}

/// A pull request to open.
#[derive(Debug, Clone)]
pub struct NewPull<'a> {
    /// The branch with the changes, in the same repository.
    pub head: &'a str,
    /// The branch they are to be merged into.
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// What a deploy attempt left behind. Recorded before a deploy starts and again when it ends,
/// so that a crash in between is visible as an attempt without an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub version: String,
    /// The stack commit the release tag points at.
    pub commit: CommitId,
    pub state: DeploymentState,
    /// RFC 3339.
    pub at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The digest of each configured image the release deployed, by component name (`stack`
    /// for the stack's own). Absent from records written before images were checked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, crate::registry::ImageDigest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// A deploy was launched; no outcome recorded yet.
    Started,
    Succeeded,
    Failed,
    /// Verification saw the release live, and the release was reported done.
    Verified,
    /// The release was reported done with no verification configured: deployed, not verified.
    Reported,
    /// A person said the release is live (`stackrel adopt`), for a stack released without
    /// stackrel; nothing was deployed.
    Adopted,
}

impl DeploymentState {
    /// Whether a record in this state says the version went live.
    pub fn is_live(self) -> bool {
        !matches!(self, DeploymentState::Started | DeploymentState::Failed)
    }

    /// Whether the release is done: nothing of stackrel's follows this record.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeploymentState::Verified | DeploymentState::Reported | DeploymentState::Adopted
        )
    }
}

/// Why a forge operation did not do what was asked. The first variants are answers the loop
/// acts on (a lost race, a missing thing); the ones with a source say which layer failed —
/// git, the HTTP exchange, or reading an answer — so callers can tell them apart. Messages say
/// what was attempted and what failed, and never include a credential.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// A compare-and-swap write lost: the file or branch moved since it was read.
    #[error("{what} changed since it was read (expected {expected}, found {found})")]
    Conflict {
        what: String,
        expected: String,
        found: String,
    },
    /// Create-if-absent found it present.
    #[error("{what} already exists")]
    AlreadyExists { what: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{0}")]
    Unsupported(String),
    /// A creating request whose outcome is unknown (the connection dropped, a 5xx after the
    /// body was sent). Never resent blindly: the caller observes again to learn what happened.
    #[error("the outcome of {0} is unknown; observing again before anything is retried")]
    Unclear(String),
    /// A git operation on a local repository failed.
    #[error("{what}: {}", .source.message())]
    Git {
        what: String,
        #[source]
        source: git2::Error,
    },
    /// A request got no usable answer (after its retries, for a read).
    #[error("{request}: {source}")]
    Http {
        request: String,
        #[source]
        source: HttpError,
    },
    /// An answer, or a record, that does not read as what it should be.
    #[error("{what}: {source}")]
    Decode {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// The credentials lack a permission the write needs; found before anything was sent.
    #[error(transparent)]
    Permission(#[from] github_access::MissingPermission),
    /// An App installation lacks a permission the release ticket needs (checked before the
    /// write GitHub would refuse).
    #[error(transparent)]
    AppPermission(#[from] github_access::MissingAppPermission),
    /// Another process holds the lock the operation needs (a deploy in progress).
    #[error("{what} is locked: {holder} holds it")]
    Locked {
        what: String,
        holder: Box<crate::lock::Holder>,
    },
    /// GitHub refused a `[ticket]` setting (an unknown board or column, an assignee it will not
    /// take): which setting, and how to fix it.
    #[error(transparent)]
    Ticket(#[from] crate::ticket::TicketError),
    /// Anything else, with a message that says what was attempted.
    #[error("{0}")]
    Other(String),
}

impl ForgeError {
    pub fn other(context: impl std::fmt::Display, e: impl std::fmt::Display) -> Self {
        ForgeError::Other(format!("{context}: {e}"))
    }

    pub fn git(what: impl Into<String>, source: git2::Error) -> Self {
        ForgeError::Git {
            what: what.into(),
            source,
        }
    }

    pub fn decode(what: impl Into<String>, source: serde_json::Error) -> Self {
        ForgeError::Decode {
            what: what.into(),
            source,
        }
    }
}

/// The HTTP client's own failure: no answer, or an answer whose body could not be read.
/// Boxed, since the client's error is large and errors travel in every `Result` here.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{}", describe_chain(.0))]
    Send(#[source] Box<octocrab::Error>),
    #[error("reading the response: {}", describe_body_error(.0.as_ref()))]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An answer larger than any stackrel needs: cut off unread, so a broken or hostile server
    /// cannot fill memory.
    #[error(
        "the answer of {url} is larger than {limit} bytes, more than any answer stackrel reads; it was not read"
    )]
    TooLarge { url: String, limit: usize },
}

/// A body error: octocrab's described as `describe_chain` does, any other by its causes.
fn describe_body_error(e: &(dyn std::error::Error + 'static)) -> String {
    if let Some(octo) = e.downcast_ref::<octocrab::Error>() {
        return describe_chain(octo);
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// octocrab's own `Display` is terse (`GitHub`, `Hyper`): say what GitHub answered, or walk the
/// chain of causes of a transport error.
fn describe_chain(e: &octocrab::Error) -> String {
    if let octocrab::Error::GitHub { source, .. } = e {
        return format!("GitHub {}: {}", source.status_code, source.message);
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

pub type ForgeResult<T> = Result<T, ForgeError>;

/// The operations the convergence loop needs from wherever the repositories live.
pub trait Forge {
    /// The commit a tag points at (peeling annotated tags), or `None` if there is no such tag.
    fn resolve_tag(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<CommitId>>;
    /// The commit at the tip of a branch.
    fn branch_head(&self, repo: &RepoLocation, branch: &str) -> ForgeResult<CommitId>;
    /// Whether `commit` is `branch`'s tip or one of its ancestors.
    fn is_reachable(&self, repo: &RepoLocation, commit: &str, branch: &str) -> ForgeResult<bool>;
    /// The result of the named CI workflow for a commit.
    fn ci_status(&self, repo: &RepoLocation, commit: &str, workflow: &str)
    -> ForgeResult<CiStatus>;
    /// A file at a commit, or `None` if the path does not exist there.
    fn read_file(
        &self,
        repo: &RepoLocation,
        commit: &str,
        path: &str,
    ) -> ForgeResult<Option<FileAtCommit>>;
    /// Commits a file to a branch, only if the branch's copy is still the blob `expected_blob`
    /// read earlier; otherwise `Conflict`. Returns the new commit.
    fn write_file(&self, repo: &RepoLocation, write: &FileWrite<'_>) -> ForgeResult<CommitId>;
    /// Every tag, with the commit it points at (annotated tags peeled).
    fn tags(&self, repo: &RepoLocation) -> ForgeResult<Vec<TagRef>>;
    /// The commits reachable from `head` and not from `base`: how many, and at most `limit` of
    /// them, oldest first.
    fn commits_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<CommitRange>;
    /// The paths of the files directly in directory `dir` at a commit (empty when it has none).
    fn list_files(&self, repo: &RepoLocation, commit: &str, dir: &str) -> ForgeResult<Vec<String>>;
    /// Creates the release tag at exactly `commit`; `AlreadyExists` if the tag exists (wherever
    /// it points: the caller re-observes to tell "done" from "conflict").
    fn create_release(&self, repo: &RepoLocation, release: &NewRelease<'_>) -> ForgeResult<()>;
    /// The release (not just the tag), if it exists; on forges where a tag is the release, the
    /// tag.
    fn find_release(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<ReleaseInfo>>;
    /// Names among `pins` that a repository secret or variable would silently override in the
    /// workflow (GitHub substitutes them). Empty where the forge has no such thing.
    fn pin_overrides(&self, _repo: &RepoLocation, _pins: &[&str]) -> ForgeResult<Vec<String>> {
        Ok(Vec::new())
    }
    /// Keeps one comment on the release ticket current (found by `marker`, edited in place) and
    /// adds `label` if given.
    fn report_ticket(
        &self,
        ticket: &TicketRef,
        marker: &str,
        body: &str,
        label: Option<&str>,
    ) -> ForgeResult<()> {
        let _ = (marker, body, label);
        Err(ForgeError::Unsupported(format!(
            "{ticket} is a GitHub issue; reporting on it needs the GitHub backend"
        )))
    }
    /// Where release tickets are found, opened and put on the board; `None` where the forge has
    /// no issues (tickets are GitHub issues whatever the repositories are).
    fn tickets(&self) -> Option<&dyn crate::ticket::TicketDesk> {
        None
    }
    /// Appends a deployment record for the stack repository.
    fn record_deployment(&self, repo: &RepoLocation, record: &DeploymentRecord) -> ForgeResult<()>;
    /// Every deployment record, oldest first.
    fn deployments(&self, repo: &RepoLocation) -> ForgeResult<Vec<DeploymentRecord>>;
    /// Takes the stack's deploy lock, if this forge keeps one: a deploy is decided, recorded and
    /// run under it, so two runs never both deploy. `ForgeError::Locked` names who holds it.
    fn lock_deploys(
        &self,
        _repo: &RepoLocation,
        _holder: &crate::lock::Holder,
    ) -> ForgeResult<Option<crate::lock::Lock>> {
        Ok(None)
    }
    /// Who holds the stack's deploy lock now: a deploy in progress.
    fn deploy_lock_holder(&self, _repo: &RepoLocation) -> ForgeResult<Option<crate::lock::Holder>> {
        Ok(None)
    }
    /// The commits reachable from `head` and not from `base` with their messages and, where the
    /// forge keeps them, the merged pull requests that brought them: how many, and at most
    /// `limit`, oldest first.
    fn changes_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<Changes> {
        let _ = (base, head, limit);
        Err(ForgeError::Unsupported(format!(
            "listing the changes of {repo} is not supported here"
        )))
    }
    /// Creates `branch` at `commit`; `AlreadyExists` if there is a branch of that name
    /// (wherever it points: the caller looks before it decides).
    fn create_branch(&self, repo: &RepoLocation, branch: &str, commit: &str) -> ForgeResult<()> {
        let _ = (branch, commit);
        Err(ForgeError::Unsupported(format!(
            "creating a branch on {repo} is not supported here"
        )))
    }
    /// The open pull request from `head` into `base`, if there is one.
    fn find_pull(
        &self,
        repo: &RepoLocation,
        head: &str,
        base: &str,
    ) -> ForgeResult<Option<PullRequest>> {
        let _ = (head, base);
        Err(ForgeError::Unsupported(format!(
            "{repo} has no pull requests: opening one needs a GitHub repository"
        )))
    }
    /// Opens a pull request; `AlreadyExists` when one from the same head is open.
    fn create_pull(&self, repo: &RepoLocation, pull: &NewPull<'_>) -> ForgeResult<PullRequest> {
        let _ = pull;
        Err(ForgeError::Unsupported(format!(
            "{repo} has no pull requests: opening one needs a GitHub repository"
        )))
    }
}

/// A compare-and-swap write of one file.
#[derive(Debug, Clone)]
pub struct FileWrite<'a> {
    pub branch: &'a str,
    pub path: &'a str,
    pub content: &'a str,
    pub expected_blob: &'a str,
    pub message: &'a str,
}

/// A release to cut.
#[derive(Debug, Clone)]
pub struct NewRelease<'a> {
    pub tag: &'a str,
    pub commit: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// The newest version with a succeeded or verified deployment: what production runs, as far as
/// the records show.
pub fn live_version(records: &[DeploymentRecord]) -> Option<crate::calver::CalVer> {
    records
        .iter()
        .filter(|r| r.state.is_live())
        .filter_map(|r| r.version.parse().ok())
        .max()
}

/// Short form of a commit id for people.
pub fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

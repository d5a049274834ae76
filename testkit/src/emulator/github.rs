//! A stateful GitHub REST API (v3) emulator for tests: the real octocrab-based client is pointed
//! at it (`api_url` = [`GithubEmulator::url`]) and must cope with what GitHub really answers.
//!
//! Repositories are real bare git repositories on disk, read and written with git2, so refs,
//! commits, blobs and ancestry are real and a test can inspect the outcome with git2 directly.
//! Everything GitHub keeps outside git (releases, workflow runs, deployments, issues, secrets)
//! lives in memory. One mutex guards all of it, so writes are serialized and concurrent clients
//! see a consistent compare-and-swap, as on GitHub.
//!
//! The status codes and error bodies follow what GitHub is documented or observed to send (see
//! `reference/github-awx-crates.md` §1): 409 on a stale blob SHA for PUT contents, 422
//! "Reference already exists", 422 `already_exists` for a second release on a tag, 304 on a
//! matching ETag that does not count against the rate limit, rate-limit headers on every
//! response. Faults (5xx, secondary rate limits, dropped connections, a response lost *after* the
//! side effect) can be injected for the next N matching requests, and every request is logged.
//! Two hooks stand in for the world around stackrel, so that a test needs no wrapper around the
//! client: a workflow that a tag push triggers can succeed the moment the tag is created, and
//! someone else can act just before a chosen request is answered.

mod graphql;
mod pulls;

pub use graphql::{Project, ProjectField, ProjectItem};
pub use pulls::PullRequest;

use crate::http_server::{self, Reply, Request, Response, Server};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use git2::{ErrorCode, ObjectType, Oid, Repository};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

const DOCS: &str = "https://docs.github.com/rest";
const HTML: &str = "https://github.com";
/// The default rate limit of a personal access token.
pub const DEFAULT_RATE_LIMIT: u32 = 5000;
/// The login the emulator reports for the configured token, and the id of the one installation.
pub const TOKEN_USER: &str = "stackrel-bot";
pub const INSTALLATION_ID: u64 = 1;
const APP_BOT: &str = "stackrel[bot]";

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status and GitHub's body for it; the request's side effect is not performed.
    Status(u16),
    /// A secondary rate limit: 403 or 429, with `retry-after` when given (GitHub often sends
    /// none: "wait at least a minute"); no side effect.
    RateLimited {
        status: u16,
        retry_after_secs: Option<u64>,
    },
    /// Close the connection without answering; no side effect.
    DropConnection,
    /// Perform the request (side effect included), then close the connection without answering:
    /// the write happened but the client cannot know it.
    LoseResponse,
}

/// A fault applied to the next `times` requests whose path contains `path_contains` (and whose
/// method is `method`, when given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub method: Option<String>,
    pub path_contains: String,
    pub kind: FaultKind,
    pub times: u32,
}

/// Something done once, by someone else, just before the next request that matches is answered.
struct Before {
    method: String,
    path_contains: String,
    action: Box<dyn FnOnce() + Send>,
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The status answered (or that would have been, for a lost response); 0 when the connection
    /// was dropped before any handling.
    pub status: u16,
    /// Whether the request spent one unit of the primary rate limit.
    pub counted: bool,
    /// Whether the client got no response (an injected `DropConnection` or `LoseResponse`).
    pub dropped: bool,
    /// The request body, lossily decoded, for assertions on what a client sent.
    pub body: String,
}

/// The token's permissions on a repository, as `GET /repos/{o}/{r}` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepoPermissions {
    pub admin: bool,
    pub push: bool,
    pub pull: bool,
}

impl Default for RepoPermissions {
    fn default() -> Self {
        RepoPermissions {
            admin: false,
            push: true,
            pull: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub make_latest: Option<String>,
    pub author: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    pub id: u64,
    pub run_number: u64,
    pub name: String,
    pub head_sha: String,
    pub head_branch: String,
    pub event: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    /// The `ref` the client asked for (branch, tag or SHA).
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub original_environment: String,
    pub description: Option<String>,
    pub payload: Value,
    pub transient_environment: bool,
    pub production_environment: bool,
    pub creator: String,
    pub created_at: String,
    pub updated_at: String,
    /// Oldest first.
    pub statuses: Vec<DeploymentStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: String,
    pub description: Option<String>,
    pub environment: String,
    pub target_url: Option<String>,
    pub log_url: Option<String>,
    pub environment_url: Option<String>,
    pub creator: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub user: String,
    /// Oldest first.
    pub comments: Vec<IssueComment>,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    pub body: String,
    pub user: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The emulator; the server stops when this is dropped.
pub struct GithubEmulator {
    state: Arc<Mutex<State>>,
    server: Server,
}

impl GithubEmulator {
    /// Serves on `127.0.0.1` on a free port; requests must carry `token`.
    pub fn start(token: &str) -> io::Result<GithubEmulator> {
        let state = Arc::new(Mutex::new(State::new(token)));
        let handler_state = state.clone();
        let server = http_server::serve(
            "127.0.0.1:0",
            Arc::new(move |req: Request| {
                // Outside the lock: the action may push to a repository, or ask the emulator.
                let before = lock(&handler_state).take_before(&req);
                if let Some(before) = before {
                    (before.action)();
                }
                lock(&handler_state).handle(req)
            }),
        )?;
        lock(&state).base_url = server.url();
        Ok(GithubEmulator { state, server })
    }

    /// The API base URL (`api_url`), e.g. `http://127.0.0.1:PORT` (or `…/api/v3` once serving
    /// GitHub Enterprise Server's layout); no trailing slash.
    pub fn url(&self) -> String {
        lock(&self.state).base_url.clone()
    }

    /// Serves GitHub Enterprise Server's layout from now on: the REST API under `/api/v3`
    /// (`url()` says so, and so do the URLs in answers), GraphQL at `/api/graphql`; any other
    /// path, `/graphql` and `/api/v3/graphql` among them, is 404 as GHES answers it.
    pub fn serve_enterprise_layout(&self) {
        let mut st = lock(&self.state);
        st.enterprise = true;
        st.base_url = format!("{}{ENTERPRISE_REST}", self.server.url());
    }

    /// Serves the bare git repository at `bare_repo_path` as `owner/name`. The default branch is
    /// the repository's `HEAD` (`main` when that cannot be read).
    pub fn add_repo(&self, owner_name: &str, bare_repo_path: impl AsRef<Path>) -> io::Result<()> {
        let (owner, name) = owner_name
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`{owner_name}` is not owner/name"),
                )
            })?;
        let path = bare_repo_path.as_ref().to_path_buf();
        let repo = Repository::open(&path).map_err(|e| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: {}", path.display(), e.message()),
            )
        })?;
        let default_branch = repo
            .find_reference("HEAD")
            .ok()
            .and_then(|r| r.symbolic_target_bytes().map(|t| lossy(t).to_string()))
            .and_then(|t| t.strip_prefix("refs/heads/").map(str::to_string))
            .unwrap_or_else(|| "main".to_string());
        let mut st = lock(&self.state);
        let id = st.next_id();
        st.repos.insert(
            owner_name.to_ascii_lowercase(),
            RepoState {
                id,
                owner: owner.to_string(),
                name: name.to_string(),
                path,
                permissions: RepoPermissions::default(),
                default_branch,
                created_at: iso(now_secs()),
                releases: Vec::new(),
                runs: Vec::new(),
                deployments: Vec::new(),
                issues: Vec::new(),
                pulls: Vec::new(),
                labels: BTreeMap::new(),
                secrets: Vec::new(),
                variables: Vec::new(),
                collaborators: Vec::new(),
            },
        );
        Ok(())
    }

    /// Closes an issue as someone else would.
    pub fn close_issue(&self, repo: &str, number: u64) {
        let now = iso(now_secs());
        if let Some(issue) = lock(&self.state)
            .repo_mut(repo)
            .and_then(|r| r.issues.iter_mut().find(|i| i.number == number))
        {
            issue.state = "closed".into();
            issue.closed_at = Some(now);
        }
    }

    /// Lets `login` be assigned to issues in `repo` (GitHub: anyone with push access).
    pub fn add_collaborator(&self, repo: &str, login: &str) {
        if let Some(r) = lock(&self.state).repo_mut(repo) {
            r.collaborators.push(login.to_string());
        }
    }

    /// Creates a project numbered `number` owned by `owner` (an organisation, or a user), with
    /// single-select fields `(name, options)`; returns its node id.
    pub fn add_project(
        &self,
        owner: &str,
        organization: bool,
        number: u64,
        title: &str,
        fields: &[(&str, &[&str])],
    ) -> String {
        let mut st = lock(&self.state);
        let id = format!("PVT_emu{}", st.next_id());
        let fields = fields
            .iter()
            .map(|(name, options)| {
                let field = format!("PVTSSF_emu{}", st.next_id());
                let options = options
                    .iter()
                    .map(|o| (format!("{:08x}", st.next_id()), (*o).to_string()))
                    .collect();
                ProjectField {
                    id: field,
                    name: (*name).to_string(),
                    options,
                }
            })
            .collect();
        if organization && !st.organizations.iter().any(|o| o == owner) {
            st.organizations.push(owner.to_string());
        }
        st.projects.push(Project {
            id: id.clone(),
            owner: owner.to_string(),
            organization,
            number,
            title: title.to_string(),
            fields,
            items: Vec::new(),
        });
        id
    }

    /// Makes the token a classic one with these scopes (`"repo, project"`), which GitHub lists in
    /// `x-oauth-scopes` on every answer.
    pub fn set_token_scopes(&self, scopes: &str) {
        lock(&self.state).scopes = scopes.split(',').map(|s| s.trim().to_string()).collect();
    }

    /// Every project, with its items.
    pub fn projects(&self) -> Vec<Project> {
        lock(&self.state).projects.clone()
    }

    /// The next `times` GraphQL requests whose document contains `field` get `kind`.
    pub fn inject_graphql(&self, field: &str, kind: FaultKind, times: u32) {
        lock(&self.state)
            .graphql_faults
            .push((field.to_string(), kind, times));
    }

    /// The bare repository behind `owner/name`, for inspection with git2.
    pub fn repo_path(&self, repo: &str) -> Option<PathBuf> {
        lock(&self.state).repo(repo).map(|r| r.path.clone())
    }

    pub fn set_permissions(&self, repo: &str, permissions: RepoPermissions) {
        if let Some(r) = lock(&self.state).repo_mut(repo) {
            r.permissions = permissions;
        }
    }

    pub fn set_default_branch(&self, repo: &str, branch: &str) {
        if let Some(r) = lock(&self.state).repo_mut(repo) {
            r.default_branch = branch.to_string();
        }
    }

    /// Records a workflow run named `name` on `head_sha`, or updates the run with that name on that
    /// commit in place (as a re-run does); returns its id. `head_branch` defaults to a tag at
    /// `head_sha` (tag pushes are what build releases), else a branch whose tip it is, else the
    /// default branch; `event` is `push`. Returns 0 for an unknown repository.
    pub fn set_run(
        &self,
        repo: &str,
        head_sha: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
    ) -> u64 {
        lock(&self.state).set_run(repo, head_sha, name, status, conclusion)
    }

    /// CI that takes no time: from now on, each tag created through the API in `repo` gets a
    /// successful run of `workflow` at its commit the moment it exists, as a tag push triggers
    /// the stack's workflow on GitHub. Tags written to the repository directly (someone else's
    /// push) trigger nothing.
    pub fn succeed_on_tag_push(&self, repo: &str, workflow: &str) {
        lock(&self.state)
            .on_tag_push
            .push((repo.to_ascii_lowercase(), workflow.to_string()));
    }

    /// Runs `action` once, just before the next request with `method` whose path contains
    /// `path_contains` is answered: someone else acting while the client's request is in flight.
    pub fn before_request(
        &self,
        method: &str,
        path_contains: &str,
        action: impl FnOnce() + Send + 'static,
    ) {
        lock(&self.state).before.push(Before {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            action: Box::new(action),
        });
    }

    /// Updates a run's status and conclusion by id; false when there is no such run.
    pub fn update_run(&self, id: u64, status: &str, conclusion: Option<&str>) -> bool {
        let mut st = lock(&self.state);
        let now = iso(now_secs());
        for r in st.repos.values_mut() {
            if let Some(run) = r.runs.iter_mut().find(|run| run.id == id) {
                run.status = status.to_string();
                run.conclusion = conclusion.map(str::to_string);
                run.updated_at = now;
                return true;
            }
        }
        false
    }

    /// Sets what triggered a run (`head_branch` is the branch or tag name, `event` e.g. `push`).
    pub fn set_run_trigger(&self, id: u64, head_branch: &str, event: &str) -> bool {
        let mut st = lock(&self.state);
        for r in st.repos.values_mut() {
            if let Some(run) = r.runs.iter_mut().find(|run| run.id == id) {
                run.head_branch = head_branch.to_string();
                run.event = event.to_string();
                return true;
            }
        }
        false
    }

    pub fn runs(&self, repo: &str) -> Vec<WorkflowRun> {
        lock(&self.state)
            .repo(repo)
            .map(|r| r.runs.clone())
            .unwrap_or_default()
    }

    /// Releases, oldest first.
    pub fn releases(&self, repo: &str) -> Vec<Release> {
        lock(&self.state)
            .repo(repo)
            .map(|r| r.releases.clone())
            .unwrap_or_default()
    }

    /// Deployments with their statuses, oldest first.
    pub fn deployments(&self, repo: &str) -> Vec<Deployment> {
        lock(&self.state)
            .repo(repo)
            .map(|r| r.deployments.clone())
            .unwrap_or_default()
    }

    /// A deployment another tool made (its payload is not stackrel's) to `environment` at
    /// `sha`, with one `success` status; returns its id (0 for an unknown repository).
    pub fn add_foreign_deployment(&self, repo: &str, sha: &str, environment: &str) -> u64 {
        let mut st = lock(&self.state);
        let (id, status_id) = (st.next_id(), st.next_id());
        let now = st.stamp();
        let Some(r) = st.repo_mut(repo) else { return 0 };
        r.deployments.push(Deployment {
            id,
            sha: sha.to_string(),
            git_ref: sha.to_string(),
            task: "deploy".into(),
            environment: environment.to_string(),
            original_environment: environment.to_string(),
            description: Some("deployed by another tool".into()),
            payload: json!({ "tool": "argo" }),
            transient_environment: false,
            production_environment: environment == "production",
            creator: "octocat".into(),
            created_at: now.clone(),
            updated_at: now.clone(),
            statuses: vec![DeploymentStatus {
                id: status_id,
                state: "success".into(),
                description: None,
                environment: environment.to_string(),
                target_url: None,
                log_url: None,
                environment_url: None,
                creator: "octocat".into(),
                created_at: now,
            }],
        });
        id
    }

    /// Issues with their comments, in number order.
    pub fn issues(&self, repo: &str) -> Vec<Issue> {
        lock(&self.state)
            .repo(repo)
            .map(|r| r.issues.clone())
            .unwrap_or_default()
    }

    /// Comments on an issue as `user` would; false for an unknown issue.
    pub fn add_comment(&self, repo: &str, number: u64, user: &str, body: &str) -> bool {
        let mut st = lock(&self.state);
        let id = st.next_id();
        let now = iso(now_secs());
        let Some(issue) = st
            .repo_mut(repo)
            .and_then(|r| r.issues.iter_mut().find(|i| i.number == number))
        else {
            return false;
        };
        issue.comments.push(IssueComment {
            id,
            body: body.to_string(),
            user: user.to_string(),
            created_at: now.clone(),
            updated_at: now,
        });
        true
    }

    /// Opens an issue as someone else would; returns its number (0 for an unknown repository).
    pub fn add_issue(&self, repo: &str, title: &str, body: &str) -> u64 {
        let mut st = lock(&self.state);
        let id = st.next_id();
        let now = iso(now_secs());
        let Some(meta) = repo.split_once('/').and_then(|(o, n)| st.meta(o, n)) else {
            return 0;
        };
        let number = st.next_number(&meta);
        let Some(r) = st.repo_mut(repo) else { return 0 };
        r.issues.push(Issue {
            id,
            number,
            title: title.to_string(),
            body: Some(body.to_string()),
            state: "open".to_string(),
            labels: Vec::new(),
            assignees: Vec::new(),
            user: "octocat".to_string(),
            comments: Vec::new(),
            created_at: now.clone(),
            updated_at: now,
            closed_at: None,
        });
        number
    }

    pub fn add_secret(&self, repo: &str, name: &str) {
        let now = iso(now_secs());
        if let Some(r) = lock(&self.state).repo_mut(repo) {
            r.secrets.retain(|(n, _)| n != name);
            r.secrets.push((name.to_string(), now));
        }
    }

    pub fn add_variable(&self, repo: &str, name: &str, value: &str) {
        let now = iso(now_secs());
        if let Some(r) = lock(&self.state).repo_mut(repo) {
            r.variables.retain(|(n, _, _)| n != name);
            r.variables.push((name.to_string(), value.to_string(), now));
        }
    }

    /// Sets the primary rate limit and starts a fresh hour with all of it remaining.
    pub fn set_rate_limit(&self, limit: u32) {
        let mut st = lock(&self.state);
        st.rate = RateWindow::new(limit, now_secs());
    }

    pub fn rate_limit_remaining(&self) -> u32 {
        lock(&self.state).rate.remaining
    }

    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            lock(&self.state).faults.push(fault);
        }
    }

    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.state).log.clone()
    }

    pub fn clear_log(&self) {
        lock(&self.state).log.clear();
    }

    pub fn installation_id(&self) -> u64 {
        INSTALLATION_ID
    }

    /// The configured token's classic scopes (default `repo, workflow`); for a fine-grained
    /// token, `workflow` stands for its Workflows permission.
    pub fn set_scopes(&self, scopes: &[&str]) {
        lock(&self.state).scopes = scopes.iter().map(|s| s.to_string()).collect();
    }

    /// Sets (or with `None` removes) one of the App installation's permissions.
    pub fn set_installation_permission(&self, name: &str, level: Option<&str>) {
        let mut st = lock(&self.state);
        match level {
            Some(level) => {
                st.installation_permissions
                    .insert(name.to_string(), level.to_string());
            }
            None => {
                st.installation_permissions.remove(name);
            }
        }
    }

    /// Renames (or transfers) `old` to `new` (`owner/name`): the old name redirects, as on
    /// GitHub — reads with 301, writes with 307 — to `/repositories/{id}`.
    pub fn rename(&self, old: &str, new: &str) {
        let mut st = lock(&self.state);
        let (old_key, new_key) = (old.to_ascii_lowercase(), new.to_ascii_lowercase());
        let Some(mut repo) = st.repos.remove(&old_key) else {
            return;
        };
        if let Some((owner, name)) = new.split_once('/') {
            repo.owner = owner.to_string();
            repo.name = name.to_string();
        }
        st.repos.insert(new_key.clone(), repo);
        for key in st.moved.values_mut() {
            if *key == old_key {
                *key = new_key.clone();
            }
        }
        st.moved.insert(old_key, new_key.clone());
        st.on_tag_push
            .iter_mut()
            .filter(|(repo, _)| *repo == old.to_ascii_lowercase())
            .for_each(|(repo, _)| *repo = new_key.clone());
    }

    /// Lists deployments and deployment statuses oldest first: GitHub lists them newest first,
    /// but does not document it.
    pub fn list_oldest_first(&self) {
        lock(&self.state).oldest_first = true;
    }

    /// Comparisons whose diff touches more than `files` files answer 503 ("this diff is taking
    /// too long to generate"), as GitHub does for large diffs.
    pub fn set_diff_limit(&self, files: usize) {
        lock(&self.state).diff_limit = Some(files);
    }

    /// Stamps everything written through the API from now on with this second, for measuring
    /// a release whose requests must not depend on where second boundaries fall (GitHub bumps
    /// a deployment's `updated_at` with each status, which changes the deployments list).
    pub fn freeze_clock(&self) {
        lock(&self.state).frozen = Some(now_secs());
    }

    /// The answers so far that GitHub's OpenAPI description says GitHub would not give.
    pub fn schema_violations(&self) -> Vec<String> {
        lock(&self.state).violations.clone()
    }

    /// Makes every minted installation token expired, so the next use gets 401.
    pub fn expire_installation_tokens(&self) {
        for token in lock(&self.state).installation_tokens.values_mut() {
            *token = 0;
        }
    }
}

/// A test that saw an answer GitHub's description rules out fails, whatever it asserted.
impl Drop for GithubEmulator {
    fn drop(&mut self) {
        let violations = self.schema_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the GitHub emulator answered unlike GitHub's OpenAPI description:\n{}",
                violations.join("\n")
            );
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave git half-written (git2 writes are atomic), so a
    // poisoned lock is still usable.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

struct RepoState {
    id: u64,
    owner: String,
    name: String,
    path: PathBuf,
    permissions: RepoPermissions,
    default_branch: String,
    created_at: String,
    releases: Vec<Release>,
    runs: Vec<WorkflowRun>,
    deployments: Vec<Deployment>,
    issues: Vec<Issue>,
    /// Pull requests, numbered with the issues.
    pulls: Vec<PullRequest>,
    /// Label name → (id, color); labels are created when first applied, as GitHub does.
    labels: BTreeMap<String, (u64, String)>,
    /// (name, created_at)
    secrets: Vec<(String, String)>,
    /// (name, value, created_at)
    variables: Vec<(String, String, String)>,
    /// Logins that may be assigned to issues, besides the token's own user.
    collaborators: Vec<String>,
}

/// What the handlers need to know about a repository, copied out so the state can be borrowed
/// mutably while a request is answered.
#[derive(Clone)]
struct RepoMeta {
    key: String,
    id: u64,
    owner: String,
    name: String,
    path: PathBuf,
    permissions: RepoPermissions,
    default_branch: String,
    created_at: String,
}

impl RepoMeta {
    fn full(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

struct RateWindow {
    limit: u32,
    remaining: u32,
    reset: i64,
}

impl RateWindow {
    fn new(limit: u32, now: i64) -> Self {
        RateWindow {
            limit,
            remaining: limit,
            reset: now + 3600,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    /// The configured token (a personal access token).
    Token,
    /// A minted installation token (`ghs_…`).
    Installation,
    /// An App JWT, only accepted on the App endpoints.
    App,
}

/// Where GitHub Enterprise Server serves its REST API and its GraphQL API.
const ENTERPRISE_REST: &str = "/api/v3";
const ENTERPRISE_GRAPHQL: &str = "/api/graphql";

struct State {
    base_url: String,
    /// Serving GitHub Enterprise Server's layout (`serve_enterprise_layout`).
    enterprise: bool,
    token: String,
    repos: BTreeMap<String, RepoState>,
    next_id: u64,
    rate: RateWindow,
    faults: Vec<Fault>,
    before: Vec<Before>,
    /// (repository key, workflow name): runs that a tag created through the API completes.
    on_tag_push: Vec<(String, String)>,
    log: Vec<LoggedRequest>,
    /// Minted installation token → expiry (epoch seconds).
    installation_tokens: BTreeMap<String, i64>,
    request_counter: u64,
    /// Projects (the new boards) and the organisations that exist, for `POST /graphql`.
    projects: Vec<Project>,
    organizations: Vec<String>,
    /// Faults for GraphQL requests whose document names a field (`addProjectV2ItemById`).
    graphql_faults: Vec<(String, FaultKind, u32)>,
    /// The configured token's classic scopes (sent as `X-OAuth-Scopes` for a classic token).
    scopes: Vec<String>,
    /// The App installation's permissions (`GET /app/installations/{id}`, minted tokens).
    installation_permissions: BTreeMap<String, String>,
    /// Renamed or transferred repositories: old lower-cased `owner/name` → current key.
    moved: BTreeMap<String, String>,
    /// Lists deployments and their statuses oldest first, which GitHub's description allows.
    oldest_first: bool,
    /// A comparison whose diff touches more files than this answers 503, as GitHub does when
    /// a diff takes too long to generate.
    diff_limit: Option<usize>,
    /// Answers that disagree with GitHub's OpenAPI description (see `crate::openapi`).
    violations: Vec<String>,
    /// The second every timestamp the API writes carries, when frozen.
    frozen: Option<i64>,
}

/// What kind of credential the configured token is, by GitHub's token prefixes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// `ghp_…` (and anything else): scopes in `X-OAuth-Scopes`.
    Classic,
    /// `github_pat_…`: permissions not reported; Workflows when `scopes` has `workflow`.
    FineGrained,
    /// `ghs_…`: the GitHub Actions `GITHUB_TOKEN`, which never writes workflow files and
    /// whose tag pushes start no workflows.
    Actions,
}

type Answer = Result<Response, Response>;

impl State {
    fn new(token: &str) -> Self {
        State {
            base_url: String::new(),
            enterprise: false,
            token: token.to_string(),
            repos: BTreeMap::new(),
            next_id: 1000,
            rate: RateWindow::new(DEFAULT_RATE_LIMIT, now_secs()),
            faults: Vec::new(),
            before: Vec::new(),
            on_tag_push: Vec::new(),
            log: Vec::new(),
            installation_tokens: BTreeMap::new(),
            request_counter: 0,
            projects: Vec::new(),
            organizations: Vec::new(),
            graphql_faults: Vec::new(),
            scopes: vec!["repo".into(), "workflow".into(), "project".into()],
            installation_permissions: [
                ("actions", "read"),
                ("contents", "write"),
                ("deployments", "write"),
                ("issues", "write"),
                ("metadata", "read"),
                ("organization_projects", "write"),
                ("secrets", "read"),
                ("workflows", "write"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            moved: BTreeMap::new(),
            oldest_first: false,
            diff_limit: None,
            violations: Vec::new(),
            frozen: None,
        }
    }

    /// The timestamp of something written now (GitHub's are to the second).
    fn stamp(&self) -> String {
        iso(self.frozen.unwrap_or_else(now_secs))
    }

    fn token_kind(&self) -> TokenKind {
        if self.token.starts_with("ghs_") {
            TokenKind::Actions
        } else if self.token.starts_with("github_pat_") {
            TokenKind::FineGrained
        } else {
            TokenKind::Classic
        }
    }

    /// Whether `identity` may create or update files under `.github/workflows/`: GitHub answers
    /// a bare 404 to tokens without the `workflow` scope, 403 to Apps without `workflows: write`.
    fn may_write_workflows(&self, identity: Identity) -> Result<(), Response> {
        match identity {
            Identity::Installation | Identity::App => {
                match self
                    .installation_permissions
                    .get("workflows")
                    .map(String::as_str)
                {
                    Some("write") => Ok(()),
                    _ => Err(error(403, "Resource not accessible by integration")),
                }
            }
            Identity::Token => match self.token_kind() {
                TokenKind::Actions => Err(error(403, "Resource not accessible by integration")),
                TokenKind::FineGrained if !self.scopes.iter().any(|s| s == "workflow") => Err(
                    error(403, "Resource not accessible by personal access token"),
                ),
                TokenKind::Classic if !self.scopes.iter().any(|s| s == "workflow") => {
                    Err(not_found())
                }
                _ => Ok(()),
            },
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn repo(&self, full: &str) -> Option<&RepoState> {
        self.repos.get(&full.to_ascii_lowercase())
    }

    fn repo_mut(&mut self, full: &str) -> Option<&mut RepoState> {
        self.repos.get_mut(&full.to_ascii_lowercase())
    }

    fn meta(&self, owner: &str, name: &str) -> Option<RepoMeta> {
        let key = format!("{owner}/{name}").to_ascii_lowercase();
        self.repos.get(&key).map(|r| RepoMeta {
            key: key.clone(),
            id: r.id,
            owner: r.owner.clone(),
            name: r.name.clone(),
            path: r.path.clone(),
            permissions: r.permissions,
            default_branch: r.default_branch.clone(),
            created_at: r.created_at.clone(),
        })
    }

    fn meta_by_id(&self, id: &str) -> Option<RepoMeta> {
        let id: u64 = id.parse().ok()?;
        let (owner, name) = self
            .repos
            .values()
            .find(|r| r.id == id)
            .map(|r| (r.owner.clone(), r.name.clone()))?;
        self.meta(&owner, &name)
    }

    /// The answer for a repository that is not here under this name: a renamed or transferred
    /// one redirects to `/repositories/{id}` — 301 for reads, 307 for writes — else 404.
    fn moved_answer(&self, req: &Request, owner: &str, name: &str, rest: &[&str]) -> Response {
        let old = format!("{owner}/{name}").to_ascii_lowercase();
        let Some(id) = self
            .moved
            .get(&old)
            .and_then(|key| self.repos.get(key))
            .map(|r| r.id)
        else {
            return not_found();
        };
        let mut url = format!("{}/repositories/{id}", self.base_url);
        for segment in rest {
            url.push('/');
            url.push_str(segment);
        }
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&req.query);
        }
        let status = if matches!(req.method.as_str(), "GET" | "HEAD") {
            301
        } else {
            307
        };
        Response::json(
            status,
            &json!({
                "message": "Moved Permanently",
                "url": url,
                "documentation_url": "https://docs.github.com/v3/#http-redirects",
            }),
        )
        .with_header("location", url)
    }

    fn app_installation_json(&self) -> Value {
        json!({
            "id": INSTALLATION_ID,
            "account": user_json(&self.base_url, "xchem", 2, "Organization"),
            "access_tokens_url": format!("{}/app/installations/{INSTALLATION_ID}/access_tokens", self.base_url),
            "repositories_url": format!("{}/installation/repositories", self.base_url),
            "html_url": format!("{HTML}/organizations/xchem/settings/installations/{INSTALLATION_ID}"),
            "app_id": 1,
            "app_slug": "stackrel",
            "target_id": 2,
            "target_type": "Organization",
            "permissions": self.installation_permissions,
            "events": [],
            "repository_selection": "selected",
            "single_file_name": null,
            "has_multiple_single_files": false,
            "single_file_paths": [],
            "suspended_by": null,
            "suspended_at": null,
            "created_at": iso(0),
            "updated_at": iso(0),
        })
    }

    /// The repository state for a request already known to be about an existing repository.
    fn rs(&mut self, meta: &RepoMeta) -> Result<&mut RepoState, Response> {
        self.repos.get_mut(&meta.key).ok_or_else(not_found)
    }

    fn api(&self, meta: &RepoMeta, suffix: &str) -> String {
        if suffix.is_empty() {
            format!("{}/repos/{}", self.base_url, meta.full())
        } else {
            format!("{}/repos/{}/{suffix}", self.base_url, meta.full())
        }
    }

    fn set_run(
        &mut self,
        repo: &str,
        head_sha: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
    ) -> u64 {
        let now = self.stamp();
        let Some(r) = self.repo_mut(repo) else {
            return 0;
        };
        if let Some(run) = r
            .runs
            .iter_mut()
            .find(|run| run.head_sha == head_sha && run.name == name)
        {
            run.status = status.to_string();
            run.conclusion = conclusion.map(str::to_string);
            run.updated_at = now;
            return run.id;
        }
        let head_branch = guess_head_branch(&r.path, head_sha).unwrap_or(r.default_branch.clone());
        let run_number = r.runs.iter().filter(|run| run.name == name).count() as u64 + 1;
        let id = self.next_id();
        if let Some(r) = self.repo_mut(repo) {
            r.runs.push(WorkflowRun {
                id,
                run_number,
                name: name.to_string(),
                head_sha: head_sha.to_string(),
                head_branch,
                event: "push".to_string(),
                status: status.to_string(),
                conclusion: conclusion.map(str::to_string),
                created_at: now.clone(),
                updated_at: now,
            });
        }
        id
    }

    /// A tag now exists at `commit`: the workflows that its push triggers have succeeded —
    /// unless the Actions token pushed it, whose events start no workflows.
    fn tag_pushed(&mut self, meta: &RepoMeta, commit: Oid) {
        if self.token_kind() == TokenKind::Actions {
            return;
        }
        let commit = commit.to_string();
        let workflows: Vec<String> = self
            .on_tag_push
            .iter()
            .filter(|(repo, _)| *repo == meta.key)
            .map(|(_, workflow)| workflow.clone())
            .collect();
        for workflow in workflows {
            self.set_run(&meta.key, &commit, &workflow, "completed", Some("success"));
        }
    }

    fn take_before(&mut self, req: &Request) -> Option<Before> {
        let index = self.before.iter().position(|b| {
            b.method.eq_ignore_ascii_case(&req.method) && req.path.contains(&b.path_contains)
        })?;
        Some(self.before.remove(index))
    }

    // ----- the request pipeline -----

    /// The path as github.com lays it out, for a request on GitHub Enterprise Server's layout;
    /// `None` when nothing is served there.
    fn unprefixed(&self, path: &str) -> Option<String> {
        if !self.enterprise {
            return Some(path.to_string());
        }
        if path == ENTERPRISE_GRAPHQL {
            return Some("/graphql".to_string());
        }
        let rest = path.strip_prefix(ENTERPRISE_REST)?;
        (rest.starts_with('/') && rest != "/graphql").then(|| rest.to_string())
    }

    fn handle(&mut self, mut req: Request) -> Reply {
        let sent_to = req.path.clone();
        let Some(path) = self.unprefixed(&req.path) else {
            self.log.push(LoggedRequest {
                method: req.method.clone(),
                path: sent_to,
                query: req.query.clone(),
                status: 404,
                counted: false,
                dropped: false,
                body: String::from_utf8_lossy(&req.body).into_owned(),
            });
            return Reply::Respond(Response::json(
                404,
                &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/enterprise-server/rest"}),
            ));
        };
        req.path = path;
        let now = now_secs();
        if now >= self.rate.reset {
            self.rate = RateWindow::new(self.rate.limit, now);
        }
        self.request_counter += 1;
        let mut entry = LoggedRequest {
            method: req.method.clone(),
            path: sent_to,
            query: req.query.clone(),
            status: 0,
            counted: false,
            dropped: false,
            body: String::from_utf8_lossy(&req.body).into_owned(),
        };
        let fault = self.take_fault(&req);
        match fault {
            Some(FaultKind::DropConnection) => {
                entry.dropped = true;
                self.log.push(entry);
                return Reply::Drop;
            }
            Some(FaultKind::Status(code)) => {
                let response = self.with_rate_headers(fault_response(code));
                entry.status = response.status;
                self.log.push(entry);
                return Reply::Respond(response);
            }
            Some(FaultKind::RateLimited {
                status,
                retry_after_secs,
            }) => {
                let message = format!(
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {}.",
                    self.request_id()
                );
                let mut response = self.with_rate_headers(Response::json(
                    status,
                    &json!({
                        "message": message,
                        "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                        "status": status.to_string(),
                    }),
                ));
                if let Some(seconds) = retry_after_secs {
                    response = response.with_header("retry-after", seconds.to_string());
                }
                entry.status = response.status;
                self.log.push(entry);
                return Reply::Respond(response);
            }
            Some(FaultKind::LoseResponse) | None => {}
        }
        let (response, counted) = self.respond(&req);
        if let Some(wrong) =
            crate::openapi::check(&req.method, &req.path, response.status, &response.body)
        {
            self.violations
                .push(format!("{} {}: {wrong}", req.method, req.path));
        }
        entry.status = response.status;
        entry.counted = counted;
        if fault == Some(FaultKind::LoseResponse) {
            entry.dropped = true;
            self.log.push(entry);
            return Reply::Drop;
        }
        self.log.push(entry);
        Reply::Respond(response)
    }

    fn take_fault(&mut self, req: &Request) -> Option<FaultKind> {
        if req.path == "/graphql"
            && let Some(index) = self.graphql_faults.iter().position(|(field, _, times)| {
                *times > 0 && String::from_utf8_lossy(&req.body).contains(field.as_str())
            })
        {
            let fault = &mut self.graphql_faults[index];
            fault.2 -= 1;
            let kind = fault.1.clone();
            if fault.2 == 0 {
                self.graphql_faults.remove(index);
            }
            return Some(kind);
        }
        let index = self.faults.iter().position(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(&req.method))
                && req.path.contains(&f.path_contains)
        })?;
        let fault = &mut self.faults[index];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(kind)
    }

    /// Answers a request that reached the API: auth, rate limit, routing, ETag. Returns the
    /// response and whether it spent rate limit.
    fn respond(&mut self, req: &Request) -> (Response, bool) {
        let segments = split_path(&req.path);
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let identity = match self.authenticate(req, &segs) {
            Ok(identity) => identity,
            // Unauthenticated requests are charged to the caller's IP, not to this token.
            Err(response) => return (self.with_rate_headers(response), false),
        };
        if req.method == "GET" && segs == ["rate_limit"] {
            // GitHub: "Accessing this endpoint does not count against your REST API rate limit."
            let body = self.rate_limit_body();
            return (self.with_rate_headers(body), false);
        }
        if self.rate.remaining == 0 {
            let who = match identity {
                Identity::Installation => format!("installation ID {INSTALLATION_ID}"),
                _ => "user ID 1".to_string(),
            };
            let message = format!(
                "API rate limit exceeded for {who}. If you reach out to GitHub Support for help, please include the request ID {} and timestamp {}.",
                self.request_id(),
                self.stamp()
            );
            let response = Response::json(
                403,
                &json!({
                    "message": message,
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                    "status": "403",
                }),
            );
            return (self.with_rate_headers(response), false);
        }
        let mut response = match self.route(req, &segs, identity) {
            Ok(r) | Err(r) => r,
        };
        if identity == Identity::Token && self.token_kind() == TokenKind::Classic {
            response = response
                .with_header("x-oauth-scopes", self.scopes.join(", "))
                .with_header("x-accepted-oauth-scopes", "repo");
        }
        if req.method == "GET" && response.status == 200 {
            let etag = format!("W/\"{:016x}\"", fnv1a(&response.body));
            if etag_matches(req.header("if-none-match"), &etag) {
                // "Making a conditional request does not count against your primary rate limit if
                // a 304 response is returned."
                let mut headers = vec![("etag".to_string(), etag)];
                headers.extend(
                    response
                        .headers
                        .iter()
                        .filter(|(name, _)| {
                            name.starts_with("x-oauth") || name.starts_with("x-accepted")
                        })
                        .cloned(),
                );
                let not_modified = Response {
                    status: 304,
                    headers,
                    body: Vec::new(),
                };
                return (self.with_rate_headers(not_modified), false);
            }
            response = response.with_header("etag", etag);
        }
        self.rate.remaining = self.rate.remaining.saturating_sub(1);
        (self.with_rate_headers(response), true)
    }

    fn authenticate(&self, req: &Request, segs: &[&str]) -> Result<Identity, Response> {
        let app_endpoint = segs.first() == Some(&"app")
            || (segs.len() == 4 && segs[0] == "repos" && segs[3] == "installation");
        let Some(header) = req.header("authorization") else {
            return Err(error(401, "Requires authentication"));
        };
        let credential = match header.trim().split_once(' ') {
            Some((scheme, rest))
                if scheme.eq_ignore_ascii_case("bearer")
                    || scheme.eq_ignore_ascii_case("token") =>
            {
                rest.trim()
            }
            _ => return Err(error(401, "Bad credentials")),
        };
        if app_endpoint {
            return if is_jwt(credential) {
                Ok(Identity::App)
            } else {
                Err(error(401, "A JSON web token could not be decoded"))
            };
        }
        if credential == self.token {
            return Ok(Identity::Token);
        }
        match self.installation_tokens.get(credential) {
            Some(expiry) if *expiry > now_secs() => Ok(Identity::Installation),
            _ => Err(error(401, "Bad credentials")),
        }
    }

    fn request_id(&self) -> String {
        format!("E0E0:{:X}:{:X}", std::process::id(), self.request_counter)
    }

    fn with_rate_headers(&self, response: Response) -> Response {
        let used = self.rate.limit.saturating_sub(self.rate.remaining);
        response
            .with_header("x-ratelimit-limit", self.rate.limit.to_string())
            .with_header("x-ratelimit-remaining", self.rate.remaining.to_string())
            .with_header("x-ratelimit-used", used.to_string())
            .with_header("x-ratelimit-reset", self.rate.reset.to_string())
            .with_header("x-ratelimit-resource", "core")
            .with_header("x-github-request-id", self.request_id())
            .with_header("x-github-api-version-selected", "2022-11-28")
    }

    fn rate_limit_body(&self) -> Response {
        let core = json!({
            "limit": self.rate.limit,
            "remaining": self.rate.remaining,
            "reset": self.rate.reset,
            "used": self.rate.limit.saturating_sub(self.rate.remaining),
            "resource": "core",
        });
        let fixed = |limit: u32| json!({"limit": limit, "remaining": limit, "reset": self.rate.reset, "used": 0});
        Response::json(
            200,
            &json!({
                "resources": {
                    "core": core,
                    "search": fixed(30),
                    "graphql": fixed(5000),
                    "integration_manifest": fixed(5000),
                    "code_search": fixed(10),
                },
                "rate": core,
            }),
        )
    }

    // ----- routing -----

    fn route(&mut self, req: &Request, segs: &[&str], identity: Identity) -> Answer {
        let method = req.method.as_str();
        match (method, segs) {
            ("GET", ["user"]) => match identity {
                Identity::Token => ok(user_json(&self.base_url, TOKEN_USER, 1, "User")),
                _ => Err(error(403, "Resource not accessible by integration")),
            },
            ("POST", ["app", "installations", id, "access_tokens"]) => {
                if *id != INSTALLATION_ID.to_string() {
                    return Err(not_found());
                }
                self.mint_installation_token()
            }
            ("GET", ["app", "installations", id]) => {
                if *id != INSTALLATION_ID.to_string() {
                    return Err(not_found());
                }
                ok(self.app_installation_json())
            }
            ("POST", ["graphql"]) => self.graphql(req, identity),
            (_, ["repos", owner, name, rest @ ..]) => {
                let Some(meta) = self.meta(owner, name) else {
                    return Err(self.moved_answer(req, owner, name, rest));
                };
                if !meta.permissions.pull {
                    return Err(not_found());
                }
                self.route_repo(req, &meta, rest, identity)
            }
            // Where a renamed repository's redirect points.
            (_, ["repositories", id, rest @ ..]) => {
                let meta = self.meta_by_id(id).ok_or_else(not_found)?;
                if !meta.permissions.pull {
                    return Err(not_found());
                }
                self.route_repo(req, &meta, rest, identity)
            }
            _ => Err(not_found()),
        }
    }

    fn route_repo(
        &mut self,
        req: &Request,
        meta: &RepoMeta,
        rest: &[&str],
        identity: Identity,
    ) -> Answer {
        let method = req.method.as_str();
        let writes = !matches!(method, "GET" | "HEAD");
        if identity == Identity::App && rest != ["installation"] {
            return Err(error(401, "Bad credentials"));
        }
        if writes && !meta.permissions.push {
            return Err(error(403, "Resource not accessible by integration"));
        }
        // An installation writes issues (comments, labels, assignees) only with issues: write.
        if writes
            && identity == Identity::Installation
            && rest.first() == Some(&"issues")
            && self
                .installation_permissions
                .get("issues")
                .map(String::as_str)
                != Some("write")
        {
            return Err(error(403, "Resource not accessible by integration"));
        }
        match (method, rest) {
            ("GET", []) => ok(self.repo_json(meta)),
            ("GET", ["installation"]) => ok(self.installation_json(meta)),
            ("GET", ["git", "ref", kind, name @ ..])
            | ("GET", ["git", "refs", kind, name @ ..])
                if !name.is_empty() =>
            {
                self.get_ref(meta, &format!("refs/{kind}/{}", name.join("/")))
            }
            ("GET", ["git", "matching-refs", prefix @ ..]) => {
                self.matching_refs(meta, &prefix.join("/"))
            }
            ("POST", ["git", "refs"]) => self.create_ref(req, meta),
            ("GET", ["git", "tags", sha]) => self.get_tag(meta, sha),
            ("GET", ["git", "commits", sha]) => self.get_git_commit(meta, sha),
            ("GET", ["git", "blobs", sha]) => self.get_blob(meta, sha),
            ("GET", ["compare", spec @ ..]) if !spec.is_empty() => {
                self.compare(req, meta, &spec.join("/"))
            }
            ("GET", ["contents", path @ ..]) => self.get_contents(req, meta, &path.join("/")),
            ("PUT", ["contents", path @ ..]) if !path.is_empty() => {
                if path.len() > 2 && path[0] == ".github" && path[1] == "workflows" {
                    self.may_write_workflows(identity)?;
                }
                self.put_contents(req, meta, &path.join("/"))
            }
            ("GET", ["commits", sha, "pulls"]) => self.commit_pulls(req, meta, sha),
            ("GET", ["pulls"]) => self.list_pulls(req, meta),
            ("POST", ["pulls"]) => self.create_pull(req, meta, identity),
            ("GET", ["commits"]) => self.list_commits(req, meta),
            ("GET", ["commits", spec @ ..]) if !spec.is_empty() => {
                self.get_commit(meta, &spec.join("/"))
            }
            ("GET", ["releases"]) => self.list_releases(req, meta),
            ("POST", ["releases"]) => self.create_release(req, meta, identity),
            ("GET", ["releases", "tags", tag @ ..]) if !tag.is_empty() => {
                self.release_by_tag(meta, &tag.join("/"))
            }
            ("GET", ["releases", id]) => self.release_by_id(meta, id),
            ("GET", ["actions", "runs"]) => self.list_runs(req, meta),
            ("GET", ["actions", "runs", id]) => self.get_run(meta, id),
            ("GET", ["actions", "secrets"]) => self.list_secrets(req, meta),
            ("GET", ["actions", "variables"]) => self.list_variables(req, meta),
            ("GET", ["deployments"]) => self.list_deployments(req, meta),
            ("POST", ["deployments"]) => self.create_deployment(req, meta, identity),
            ("GET", ["deployments", id]) => self.get_deployment(meta, id),
            ("GET", ["deployments", id, "statuses"]) => {
                self.list_deployment_statuses(req, meta, id)
            }
            ("POST", ["deployments", id, "statuses"]) => {
                self.create_deployment_status(req, meta, id, identity)
            }
            ("GET", ["issues"]) => self.list_issues(req, meta),
            ("POST", ["issues"]) => self.create_issue(req, meta, identity),
            ("GET", ["issues", "comments", id]) => self.get_comment(meta, id),
            // GitHub accepts POST for its PATCH endpoints, and octocrab's `update_comment` uses it.
            ("PATCH" | "POST", ["issues", "comments", id]) => self.edit_comment(req, meta, id),
            ("GET", ["issues", number]) => self.get_issue(meta, number),
            ("PATCH" | "POST", ["issues", number]) => self.edit_issue(req, meta, number),
            ("GET", ["issues", number, "comments"]) => self.list_comments(req, meta, number),
            ("POST", ["issues", number, "comments"]) => {
                self.create_comment(req, meta, number, identity)
            }
            ("GET", ["issues", number, "labels"]) => self.issue_labels(meta, number),
            ("POST", ["issues", number, "labels"]) => self.add_labels(req, meta, number),
            ("GET", ["assignees", login]) => self.check_assignee(meta, login),
            ("POST", ["issues", number, "assignees"]) => self.add_assignees(req, meta, number),
            _ => Err(not_found()),
        }
    }

    // ----- repository, refs, tags -----

    /// A `minimal-repository`, as in a workflow run's `repository`.
    fn minimal_repo_json(&self, meta: &RepoMeta) -> Value {
        let api = self.api(meta, "");
        let full = meta.full();
        let mut repo = json!({
            "id": meta.id,
            "node_id": format!("R_emu{}", meta.id),
            "name": meta.name,
            "full_name": full,
            "private": true,
            "owner": user_json(&self.base_url, &meta.owner, 2, "Organization"),
            "html_url": format!("{HTML}/{full}"),
            "description": null,
            "fork": false,
            "url": api,
        });
        let urls = [
            ("archive_url", "/{archive_format}{/ref}"),
            ("assignees_url", "/assignees{/user}"),
            ("blobs_url", "/git/blobs{/sha}"),
            ("branches_url", "/branches{/branch}"),
            ("collaborators_url", "/collaborators{/collaborator}"),
            ("comments_url", "/comments{/number}"),
            ("commits_url", "/commits{/sha}"),
            ("compare_url", "/compare/{base}...{head}"),
            ("contents_url", "/contents/{+path}"),
            ("contributors_url", "/contributors"),
            ("deployments_url", "/deployments"),
            ("downloads_url", "/downloads"),
            ("events_url", "/events"),
            ("forks_url", "/forks"),
            ("git_commits_url", "/git/commits{/sha}"),
            ("git_refs_url", "/git/refs{/sha}"),
            ("git_tags_url", "/git/tags{/sha}"),
            ("hooks_url", "/hooks"),
            ("issue_comment_url", "/issues/comments{/number}"),
            ("issue_events_url", "/issues/events{/number}"),
            ("issues_url", "/issues{/number}"),
            ("keys_url", "/keys{/key_id}"),
            ("labels_url", "/labels{/name}"),
            ("languages_url", "/languages"),
            ("merges_url", "/merges"),
            ("milestones_url", "/milestones{/number}"),
            (
                "notifications_url",
                "/notifications{?since,all,participating}",
            ),
            ("pulls_url", "/pulls{/number}"),
            ("releases_url", "/releases{/id}"),
            ("stargazers_url", "/stargazers"),
            ("statuses_url", "/statuses/{sha}"),
            ("subscribers_url", "/subscribers"),
            ("subscription_url", "/subscription"),
            ("tags_url", "/tags"),
            ("teams_url", "/teams"),
            ("trees_url", "/git/trees{/sha}"),
        ];
        for (key, suffix) in urls {
            repo[key] = json!(format!("{api}{suffix}"));
        }
        repo
    }

    /// A `full-repository`, as `GET /repos/{owner}/{repo}` answers it.
    fn repo_json(&self, meta: &RepoMeta) -> Value {
        let p = meta.permissions;
        let full = meta.full();
        let mut repo = self.minimal_repo_json(meta);
        merge(
            &mut repo,
            json!({
                "clone_url": format!("{HTML}/{full}.git"),
                "git_url": format!("git://github.com/{full}.git"),
                "ssh_url": format!("git@github.com:{full}.git"),
                "svn_url": format!("{HTML}/{full}"),
                "mirror_url": null,
                "homepage": null,
                "language": null,
                "license": null,
                "forks": 0,
                "forks_count": 0,
                "stargazers_count": 0,
                "watchers": 0,
                "watchers_count": 0,
                "subscribers_count": 1,
                "network_count": 0,
                "open_issues": 0,
                "open_issues_count": 0,
                "size": 1,
                "has_issues": true,
                "has_projects": true,
                "has_wiki": false,
                "has_pages": false,
                "has_downloads": true,
                "has_discussions": false,
                "topics": [],
                "is_template": false,
                "allow_forking": true,
                "web_commit_signoff_required": false,
            }),
        );
        merge(
            &mut repo,
            json!({
                "id": meta.id,
                "node_id": format!("R_emu{}", meta.id),
                "name": meta.name,
                "full_name": meta.full(),
                "private": true,
                "owner": user_json(&self.base_url, &meta.owner, 2, "Organization"),
                "html_url": format!("{HTML}/{}", meta.full()),
                "description": null,
                "fork": false,
                "url": self.api(meta, ""),
                "default_branch": meta.default_branch,
                "visibility": "private",
                "archived": false,
                "disabled": false,
                "created_at": meta.created_at,
                "updated_at": meta.created_at,
                "pushed_at": meta.created_at,
                "permissions": {
                    "admin": p.admin,
                    "maintain": p.admin,
                    "push": p.push,
                    "triage": p.push,
                    "pull": p.pull,
                },
            }),
        );
        repo
    }

    fn installation_json(&self, meta: &RepoMeta) -> Value {
        json!({
            "id": INSTALLATION_ID,
            "account": user_json(&self.base_url, &meta.owner, 2, "Organization"),
            "access_tokens_url": format!("{}/app/installations/{INSTALLATION_ID}/access_tokens", self.base_url),
            "repositories_url": format!("{}/installation/repositories", self.base_url),
            "html_url": format!("{HTML}/organizations/{}/settings/installations/{INSTALLATION_ID}", meta.owner),
            "app_id": 1,
            "target_id": 2,
            "target_type": "Organization",
            "permissions": self.installation_permissions,
            "events": [],
            "repository_selection": "selected",
            "single_file_name": null,
            "app_slug": "stackrel",
            "suspended_by": null,
            "suspended_at": null,
            "created_at": meta.created_at,
            "updated_at": meta.created_at,
        })
    }

    fn mint_installation_token(&mut self) -> Answer {
        let n = self.installation_tokens.len() + 1;
        let token = format!("ghs_emu{n:0>33}");
        let expiry = now_secs() + 3600;
        self.installation_tokens.insert(token.clone(), expiry);
        Ok(Response::json(
            201,
            &json!({
                "token": token,
                "expires_at": iso(expiry),
                "permissions": self.installation_permissions,
                "repository_selection": "selected",
            }),
        ))
    }

    fn ref_json(&self, meta: &RepoMeta, repo: &Repository, name: &str, target: Oid) -> Value {
        let kind = match repo.find_object(target, None).ok().and_then(|o| o.kind()) {
            Some(ObjectType::Tag) => "tag",
            Some(ObjectType::Tree) => "tree",
            Some(ObjectType::Blob) => "blob",
            _ => "commit",
        };
        let object_path = match kind {
            "tag" => "tags",
            "tree" => "trees",
            "blob" => "blobs",
            _ => "commits",
        };
        json!({
            "ref": name,
            "node_id": format!("REF_emu{:x}", fnv1a(name.as_bytes())),
            "url": self.api(meta, &format!("git/{name}")),
            "object": {
                "sha": target.to_string(),
                "type": kind,
                "url": self.api(meta, &format!("git/{object_path}/{target}")),
            },
        })
    }

    fn get_ref(&self, meta: &RepoMeta, name: &str) -> Answer {
        let repo = open(meta)?;
        match repo.find_reference(name) {
            Ok(reference) => {
                let target = reference.target().ok_or_else(not_found)?;
                ok(self.ref_json(meta, &repo, name, target))
            }
            Err(e) if is_missing(&e) => Err(not_found()),
            Err(e) => Err(git_error(e)),
        }
    }

    fn matching_refs(&self, meta: &RepoMeta, prefix: &str) -> Answer {
        let repo = open(meta)?;
        let wanted = format!("refs/{prefix}");
        let mut refs = Vec::new();
        for reference in repo.references().map_err(git_error)?.flatten() {
            let name = lossy(reference.name_bytes()).to_string();
            if let (true, Some(target)) = (name.starts_with(&wanted), reference.target()) {
                refs.push(self.ref_json(meta, &repo, &name, target));
            }
        }
        refs.sort_by(|a, b| a["ref"].as_str().cmp(&b["ref"].as_str()));
        ok(Value::Array(refs))
    }

    fn create_ref(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        let body = body_object(req)?;
        let name = required_str(&body, "ref")?;
        let sha = required_str(&body, "sha")?;
        if !name.starts_with("refs/")
            || name.matches('/').count() < 2
            || !git2::Reference::is_valid_name(&name)
        {
            return Err(error(422, &format!("{name} is not a valid ref name.")));
        }
        let repo = open(meta)?;
        let target = Oid::from_str(&sha)
            .ok()
            .filter(|oid| sha.len() == 40 && repo.find_object(*oid, None).is_ok())
            .ok_or_else(|| error(422, "Object does not exist"))?;
        match repo.reference(&name, target, false, "emulator: create ref") {
            Ok(_) => {}
            Err(e) if e.code() == ErrorCode::Exists => {
                return Err(error(422, "Reference already exists"));
            }
            Err(e) => return Err(git_error(e)),
        }
        if name.starts_with("refs/tags/")
            && let Ok(commit) = repo
                .find_object(target, None)
                .and_then(|o| o.peel_to_commit())
        {
            self.tag_pushed(meta, commit.id());
        }
        let url = self.api(meta, &format!("git/{name}"));
        Ok(
            Response::json(201, &self.ref_json(meta, &repo, &name, target))
                .with_header("location", url),
        )
    }

    fn get_tag(&self, meta: &RepoMeta, sha: &str) -> Answer {
        let repo = open(meta)?;
        let oid = Oid::from_str(sha).map_err(|_| not_found())?;
        let tag = repo.find_tag(oid).map_err(|_| not_found())?;
        let target_kind = match tag.target_type() {
            Some(ObjectType::Tag) => "tag",
            Some(ObjectType::Tree) => "tree",
            Some(ObjectType::Blob) => "blob",
            _ => "commit",
        };
        let target_path = format!("{target_kind}s");
        let tagger = tag.tagger().map(|s| signature_json(&s));
        ok(json!({
            "node_id": format!("TAG_emu{oid}"),
            "sha": oid.to_string(),
            "url": self.api(meta, &format!("git/tags/{oid}")),
            "tag": lossy(tag.name_bytes()),
            "message": tag.message_bytes().map(lossy).unwrap_or_default(),
            "tagger": tagger,
            "object": {
                "sha": tag.target_id().to_string(),
                "type": target_kind,
                "url": self.api(meta, &format!("git/{target_path}/{}", tag.target_id())),
            },
            "verification": unsigned(),
        }))
    }

    fn get_git_commit(&self, meta: &RepoMeta, sha: &str) -> Answer {
        let repo = open(meta)?;
        let oid = Oid::from_str(sha).map_err(|_| not_found())?;
        let commit = repo.find_commit(oid).map_err(|_| not_found())?;
        let parents: Vec<Value> = commit
            .parent_ids()
            .map(|p| {
                json!({
                    "sha": p.to_string(),
                    "url": self.api(meta, &format!("git/commits/{p}")),
                    "html_url": format!("{HTML}/{}/commit/{p}", meta.full()),
                })
            })
            .collect();
        ok(json!({
            "sha": oid.to_string(),
            "node_id": format!("C_emu{oid}"),
            "url": self.api(meta, &format!("git/commits/{oid}")),
            "html_url": format!("{HTML}/{}/commit/{oid}", meta.full()),
            "author": signature_json(&commit.author()),
            "committer": signature_json(&commit.committer()),
            "message": lossy(commit.message_bytes()),
            "tree": {"sha": commit.tree_id().to_string(), "url": self.api(meta, &format!("git/trees/{}", commit.tree_id()))},
            "parents": parents,
            "verification": unsigned(),
        }))
    }

    fn get_blob(&self, meta: &RepoMeta, sha: &str) -> Answer {
        let repo = open(meta)?;
        let oid = Oid::from_str(sha).map_err(|_| not_found())?;
        let blob = repo.find_blob(oid).map_err(|_| not_found())?;
        ok(json!({
            "sha": oid.to_string(),
            "node_id": format!("B_emu{oid}"),
            "size": blob.size(),
            "url": self.api(meta, &format!("git/blobs/{oid}")),
            "content": github_base64(blob.content()),
            "encoding": "base64",
        }))
    }

    // ----- commits and compare -----

    /// A commit in the shape of the commits and compare endpoints.
    fn commit_json(&self, meta: &RepoMeta, commit: &git2::Commit<'_>) -> Value {
        let oid = commit.id();
        let parents: Vec<Value> = commit
            .parent_ids()
            .map(|p| {
                json!({
                    "sha": p.to_string(),
                    "url": self.api(meta, &format!("commits/{p}")),
                    "html_url": format!("{HTML}/{}/commit/{p}", meta.full()),
                })
            })
            .collect();
        json!({
            "sha": oid.to_string(),
            "node_id": format!("C_emu{oid}"),
            "url": self.api(meta, &format!("commits/{oid}")),
            "html_url": format!("{HTML}/{}/commit/{oid}", meta.full()),
            "comments_url": self.api(meta, &format!("commits/{oid}/comments")),
            "commit": {
                "url": self.api(meta, &format!("git/commits/{oid}")),
                "author": signature_json(&commit.author()),
                "committer": signature_json(&commit.committer()),
                "message": lossy(commit.message_bytes()),
                "comment_count": 0,
                "tree": {
                    "sha": commit.tree_id().to_string(),
                    "url": self.api(meta, &format!("git/trees/{}", commit.tree_id())),
                },
                "verification": unsigned(),
            },
            // GitHub fills these with the GitHub accounts of the emails, when it knows them.
            "author": null,
            "committer": null,
            "parents": parents,
        })
    }

    fn compare(&self, req: &Request, meta: &RepoMeta, spec: &str) -> Answer {
        let (base_spec, head_spec) = spec.split_once("...").ok_or_else(not_found)?;
        let repo = open(meta)?;
        let base = resolve_commitish(&repo, base_spec).ok_or_else(not_found)?;
        let head = resolve_commitish(&repo, head_spec).ok_or_else(not_found)?;
        let merge_base = match repo.merge_base(base, head) {
            Ok(oid) => oid,
            Err(e) if e.code() == ErrorCode::NotFound => {
                return Err(error(
                    404,
                    &format!("No common ancestor between {base_spec} and {head_spec}."),
                ));
            }
            Err(e) => return Err(git_error(e)),
        };
        if let Some(limit) = self.diff_limit {
            let files = diff_files(&repo, merge_base, head).map_err(git_error)?;
            if files > limit {
                return Err(Response::json(
                    503,
                    &json!({
                        "message": "Server Error: Sorry, this diff is taking too long to generate.",
                        "errors": [{"resource": "Repository", "field": "diff", "code": "not_available"}],
                        "documentation_url": DOCS,
                        "status": "503",
                    }),
                ));
            }
        }
        let (ahead, behind) = repo.graph_ahead_behind(head, base).map_err(git_error)?;
        let status = match (ahead, behind) {
            (0, 0) => "identical",
            (_, 0) => "ahead",
            (0, _) => "behind",
            _ => "diverged",
        };
        // The commits in head and not in base, oldest first, paginated (250 by default).
        let mut walk = repo.revwalk().map_err(git_error)?;
        walk.push(head).map_err(git_error)?;
        walk.hide(base).map_err(git_error)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(git_error)?;
        let mut ids: Vec<Oid> = walk.flatten().collect();
        // Up to 250 commits unpaginated, the newest 250 ("the last commit in the list is the
        // most recent of the entire comparison"); asked for pages, at most 100 a page, the
        // whole range oldest first.
        let paged = req.query_param("per_page").is_some() || req.query_param("page").is_some();
        if !paged && ids.len() > 250 {
            ids.drain(..ids.len() - 250);
        }
        let (default, max) = if paged { (30, 100) } else { (250, 250) };
        let (page_ids, link) = self.paginate(req, ids, default, max);
        let commits: Vec<Value> = page_ids
            .iter()
            .filter_map(|oid| repo.find_commit(*oid).ok())
            .map(|c| self.commit_json(meta, &c))
            .collect();
        let base_commit = repo.find_commit(base).map_err(git_error)?;
        let merge_base_commit = repo.find_commit(merge_base).map_err(git_error)?;
        let full = meta.full();
        let response = Response::json(
            200,
            &json!({
                "url": self.api(meta, &format!("compare/{spec}")),
                "html_url": format!("{HTML}/{full}/compare/{spec}"),
                "permalink_url": format!("{HTML}/{full}/compare/{full}:{base}...{full}:{head}"),
                "diff_url": format!("{HTML}/{full}/compare/{spec}.diff"),
                "patch_url": format!("{HTML}/{full}/compare/{spec}.patch"),
                "base_commit": self.commit_json(meta, &base_commit),
                "merge_base_commit": self.commit_json(meta, &merge_base_commit),
                "status": status,
                "ahead_by": ahead,
                "behind_by": behind,
                "total_commits": ahead,
                "commits": commits,
                "files": [],
            }),
        );
        Ok(with_link(response, link))
    }

    fn list_commits(&self, req: &Request, meta: &RepoMeta) -> Answer {
        let repo = open(meta)?;
        let start_spec = req
            .query_param("sha")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| meta.default_branch.clone());
        let start = resolve_commitish(&repo, &start_spec)
            .ok_or_else(|| error(404, &format!("No commit found for SHA: {start_spec}")))?;
        let path = req.query_param("path").filter(|p| !p.is_empty());
        let ids: Vec<Oid> = match &path {
            // First-parent walk: the branch's own line, as it was pushed.
            Some(path) => {
                let path = path.trim_matches('/');
                let entry_at = |c: &git2::Commit<'_>| {
                    c.tree()
                        .ok()
                        .and_then(|t| t.get_path(Path::new(path)).ok())
                        .map(|e| e.id())
                };
                let mut found = Vec::new();
                let mut current = repo.find_commit(start).ok();
                while let Some(commit) = current {
                    let parent = commit.parent(0).ok();
                    if entry_at(&commit) != parent.as_ref().and_then(entry_at) {
                        found.push(commit.id());
                    }
                    current = parent;
                }
                found
            }
            None => {
                let mut walk = repo.revwalk().map_err(git_error)?;
                walk.push(start).map_err(git_error)?;
                walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
                    .map_err(git_error)?;
                walk.flatten().collect()
            }
        };
        let (page_ids, link) = self.paginate(req, ids, 30, 100);
        let commits: Vec<Value> = page_ids
            .iter()
            .filter_map(|oid| repo.find_commit(*oid).ok())
            .map(|c| self.commit_json(meta, &c))
            .collect();
        Ok(with_link(Response::json(200, &Value::Array(commits)), link))
    }

    fn get_commit(&self, meta: &RepoMeta, spec: &str) -> Answer {
        let repo = open(meta)?;
        let oid = resolve_commitish(&repo, spec)
            .ok_or_else(|| error(422, &format!("No commit found for SHA: {spec}")))?;
        let commit = repo.find_commit(oid).map_err(git_error)?;
        ok(self.commit_json(meta, &commit))
    }

    // ----- contents -----

    fn content_links(
        &self,
        meta: &RepoMeta,
        path: &str,
        git_ref: &str,
        sha: Oid,
        dir: bool,
    ) -> Value {
        let kind = if dir { "tree" } else { "blob" };
        let git_kind = if dir { "trees" } else { "blobs" };
        json!({
            "url": self.api(meta, &format!("contents/{path}?ref={git_ref}")),
            "git_url": self.api(meta, &format!("git/{git_kind}/{sha}")),
            "html_url": format!("{HTML}/{}/{kind}/{git_ref}/{path}", meta.full()),
            "_links": {
                "self": self.api(meta, &format!("contents/{path}?ref={git_ref}")),
                "git": self.api(meta, &format!("git/{git_kind}/{sha}")),
                "html": format!("{HTML}/{}/{kind}/{git_ref}/{path}", meta.full()),
            },
        })
    }

    fn file_json(
        &self,
        meta: &RepoMeta,
        path: &str,
        git_ref: &str,
        sha: Oid,
        content: &[u8],
    ) -> Value {
        let mut value = json!({
            "type": "file",
            "encoding": "base64",
            "size": content.len(),
            "name": path.rsplit('/').next().unwrap_or(path),
            "path": path,
            "content": github_base64(content),
            "sha": sha.to_string(),
            "download_url": format!("https://raw.githubusercontent.com/{}/{git_ref}/{path}", meta.full()),
        });
        merge(
            &mut value,
            self.content_links(meta, path, git_ref, sha, false),
        );
        value
    }

    fn get_contents(&self, req: &Request, meta: &RepoMeta, path: &str) -> Answer {
        let repo = open(meta)?;
        let git_ref = req
            .query_param("ref")
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| meta.default_branch.clone());
        let commit = resolve_commitish(&repo, &git_ref)
            .and_then(|oid| repo.find_commit(oid).ok())
            .ok_or_else(|| error(404, &format!("No commit found for the ref {git_ref}")))?;
        let tree = commit.tree().map_err(git_error)?;
        let path = path.trim_matches('/');
        let (kind, oid) = if path.is_empty() {
            (Some(ObjectType::Tree), tree.id())
        } else {
            let entry = tree.get_path(Path::new(path)).map_err(|_| not_found())?;
            (entry.kind(), entry.id())
        };
        match kind {
            Some(ObjectType::Blob) => {
                let blob = repo.find_blob(oid).map_err(git_error)?;
                let accept = req.header("accept").unwrap_or_default();
                if accept.contains(".raw") {
                    return Ok(Response::new(
                        200,
                        "text/plain; charset=utf-8",
                        blob.content().to_vec(),
                    ));
                }
                ok(self.file_json(meta, path, &git_ref, oid, blob.content()))
            }
            Some(ObjectType::Tree) => {
                let dir = repo.find_tree(oid).map_err(git_error)?;
                let mut items = Vec::new();
                for entry in dir.iter() {
                    let name = lossy(entry.name_bytes()).to_string();
                    let child = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}/{name}")
                    };
                    let (kind, size) = match entry.kind() {
                        Some(ObjectType::Tree) => ("dir", 0),
                        Some(ObjectType::Commit) => ("submodule", 0),
                        _ => (
                            "file",
                            repo.find_blob(entry.id()).map(|b| b.size()).unwrap_or(0),
                        ),
                    };
                    let mut item = json!({
                        "type": kind,
                        "size": size,
                        "name": name,
                        "path": child,
                        "sha": entry.id().to_string(),
                        "download_url": if kind == "file" {
                            json!(format!("https://raw.githubusercontent.com/{}/{git_ref}/{child}", meta.full()))
                        } else {
                            Value::Null
                        },
                    });
                    merge(
                        &mut item,
                        self.content_links(meta, &child, &git_ref, entry.id(), kind == "dir"),
                    );
                    items.push(item);
                }
                ok(Value::Array(items))
            }
            _ => Err(not_found()),
        }
    }

    fn put_contents(&mut self, req: &Request, meta: &RepoMeta, path: &str) -> Answer {
        let body = body_object(req)?;
        let path = path.trim_matches('/').to_string();
        let message = required_str(&body, "message")?;
        let content = required_str(&body, "content")?;
        let sha = optional_str(&body, "sha")?;
        let branch = optional_str(&body, "branch")?.unwrap_or_else(|| meta.default_branch.clone());
        let compact: String = content
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let bytes = STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| error(422, "content is not valid Base64"))?;
        let committer = person(&body, "committer")?;
        let author = person(&body, "author")?.or_else(|| committer.clone());
        let default = ("GitHub".to_string(), "noreply@github.com".to_string());
        let committer = committer.unwrap_or_else(|| default.clone());
        let author = author.unwrap_or(default);

        let repo = open(meta)?;
        let branch_ref = format!("refs/heads/{branch}");
        let tip = match repo.refname_to_id(&branch_ref) {
            Ok(oid) => oid,
            Err(_) => return Err(error(404, &format!("Branch {branch} not found"))),
        };
        let tip_commit = repo.find_commit(tip).map_err(git_error)?;
        let tree = tip_commit.tree().map_err(git_error)?;
        let current = tree.get_path(Path::new(&path)).ok();
        if let Some(entry) = &current {
            if entry.kind() == Some(ObjectType::Tree) {
                return Err(error(
                    422,
                    &format!("Invalid request.\n\n\"{path}\" is a directory."),
                ));
            }
            match &sha {
                None => return Err(invalid("\"sha\" wasn't supplied.")),
                Some(given) if *given != entry.id().to_string() => {
                    return Err(error(409, &format!("{path} does not match {given}")));
                }
                Some(_) => {}
            }
        }
        // A `sha` for a path that does not exist is ignored and the file is created.
        let blob = repo.blob(&bytes).map_err(git_error)?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        update.upsert(&path, blob, git2::FileMode::Blob);
        let new_tree_id = update.create_updated(&repo, &tree).map_err(git_error)?;
        let new_tree = repo.find_tree(new_tree_id).map_err(git_error)?;
        let committer_sig = git2::Signature::now(&committer.0, &committer.1).map_err(git_error)?;
        let author_sig = git2::Signature::now(&author.0, &author.1).map_err(git_error)?;
        let commit_id = repo
            .commit(
                None,
                &author_sig,
                &committer_sig,
                &message,
                &new_tree,
                &[&tip_commit],
            )
            .map_err(git_error)?;
        // Someone may have pushed to the bare repository behind the emulator's back: move the
        // branch only from where it was read, and answer like GitHub when it moved.
        match repo.reference_matching(&branch_ref, commit_id, true, tip, "emulator: contents API") {
            Ok(_) => {}
            Err(e) if matches!(e.code(), ErrorCode::Modified | ErrorCode::Locked) => {
                let now_at = repo
                    .refname_to_id(&branch_ref)
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                return Err(error(
                    409,
                    &format!("{branch_ref} is at {now_at} but expected {tip}"),
                ));
            }
            Err(e) => return Err(git_error(e)),
        }
        let commit = repo.find_commit(commit_id).map_err(git_error)?;
        let mut content_json = json!({
            "type": "file",
            "name": path.rsplit('/').next().unwrap_or(&path),
            "path": path,
            "sha": blob.to_string(),
            "size": bytes.len(),
            "download_url": format!("https://raw.githubusercontent.com/{}/{branch}/{path}", meta.full()),
        });
        merge(
            &mut content_json,
            self.content_links(meta, &path, &branch, blob, false),
        );
        let commit_json = json!({
            "sha": commit_id.to_string(),
            "node_id": format!("C_emu{commit_id}"),
            "url": self.api(meta, &format!("git/commits/{commit_id}")),
            "html_url": format!("{HTML}/{}/commit/{commit_id}", meta.full()),
            "author": signature_json(&commit.author()),
            "committer": signature_json(&commit.committer()),
            "message": message,
            "tree": {"sha": new_tree_id.to_string(), "url": self.api(meta, &format!("git/trees/{new_tree_id}"))},
            "parents": [{
                "sha": tip.to_string(),
                "url": self.api(meta, &format!("git/commits/{tip}")),
                "html_url": format!("{HTML}/{}/commit/{tip}", meta.full()),
            }],
            "verification": unsigned(),
        });
        let status = if current.is_some() { 200 } else { 201 };
        Ok(Response::json(
            status,
            &json!({"content": content_json, "commit": commit_json}),
        ))
    }

    // ----- releases -----

    fn release_json(&self, meta: &RepoMeta, release: &Release) -> Value {
        let id = release.id;
        let tag = &release.tag_name;
        let full = meta.full();
        json!({
            "url": self.api(meta, &format!("releases/{id}")),
            "html_url": format!("{HTML}/{full}/releases/tag/{tag}"),
            "assets_url": self.api(meta, &format!("releases/{id}/assets")),
            "upload_url": format!("{}/repos/{full}/releases/{id}/assets{{?name,label}}", self.base_url),
            "tarball_url": self.api(meta, &format!("tarball/{tag}")),
            "zipball_url": self.api(meta, &format!("zipball/{tag}")),
            "id": id,
            "node_id": format!("RE_emu{id}"),
            "tag_name": tag,
            "target_commitish": release.target_commitish,
            "name": release.name,
            "body": release.body,
            "draft": release.draft,
            "prerelease": release.prerelease,
            "immutable": false,
            "created_at": release.created_at,
            "published_at": if release.draft { Value::Null } else { json!(release.created_at) },
            "author": self.actor_json(&release.author),
            "assets": [],
        })
    }

    fn create_release(&mut self, req: &Request, meta: &RepoMeta, identity: Identity) -> Answer {
        let body = body_object(req)?;
        let tag = optional_str(&body, "tag_name")?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                validation_failed(
                    json!([{"resource": "Release", "code": "missing_field", "field": "tag_name"}]),
                )
            })?;
        let target = optional_str(&body, "target_commitish")?.filter(|t| !t.is_empty());
        let name = optional_str(&body, "name")?;
        let text = optional_str(&body, "body")?;
        let draft = optional_bool(&body, "draft")?.unwrap_or(false);
        let prerelease = optional_bool(&body, "prerelease")?.unwrap_or(false);
        let make_latest = match body.get("make_latest") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if matches!(s.as_str(), "true" | "false" | "legacy") => {
                Some(s.clone())
            }
            Some(other) => {
                return Err(invalid(&format!(
                    "For 'properties/make_latest', {other} is not one of [\"true\", \"false\", \"legacy\"]."
                )));
            }
        };
        if !git2::Reference::is_valid_name(&format!("refs/tags/{tag}")) {
            return Err(validation_failed(
                json!([{"resource": "Release", "code": "invalid", "field": "tag_name"}]),
            ));
        }
        let existing = self
            .rs(meta)?
            .releases
            .iter()
            .any(|r| r.tag_name == tag && !r.draft);
        if existing && !draft {
            return Err(validation_failed(
                json!([{"resource": "Release", "code": "already_exists", "field": "tag_name"}]),
            ));
        }
        let repo = open(meta)?;
        let tag_ref = format!("refs/tags/{tag}");
        let tag_exists = repo.find_reference(&tag_ref).is_ok();
        let target_commitish = target
            .clone()
            .unwrap_or_else(|| meta.default_branch.clone());
        if !tag_exists {
            // The tag is created from target_commitish, which must be a branch name or a full
            // SHA: tag names, `refs/…`, `HEAD` and short SHAs are refused (cli/cli#5855).
            let commit = match repo.refname_to_id(&format!("refs/heads/{target_commitish}")) {
                Ok(oid) => Some(oid),
                Err(_) if target_commitish.len() == 40 => Oid::from_str(&target_commitish)
                    .ok()
                    .filter(|oid| repo.find_commit(*oid).is_ok()),
                Err(_) => None,
            };
            let commit = commit.ok_or_else(|| {
                validation_failed(json!([{"resource": "Release", "code": "invalid", "field": "target_commitish"}]))
            })?;
            // A draft does not create its tag until it is published.
            if !draft {
                match repo.reference(&tag_ref, commit, false, "emulator: release tag") {
                    Ok(_) => self.tag_pushed(meta, commit),
                    Err(e) if e.code() == ErrorCode::Exists => {}
                    Err(e) => return Err(git_error(e)),
                }
            }
        }
        let id = self.next_id();
        let release = Release {
            id,
            tag_name: tag,
            target_commitish,
            name,
            body: text,
            draft,
            prerelease,
            make_latest,
            author: actor_login(identity).to_string(),
            created_at: self.stamp(),
        };
        let value = self.release_json(meta, &release);
        self.rs(meta)?.releases.push(release);
        Ok(Response::json(201, &value)
            .with_header("location", self.api(meta, &format!("releases/{id}"))))
    }

    fn release_by_tag(&mut self, meta: &RepoMeta, tag: &str) -> Answer {
        // Drafts are not returned by tag.
        let release = self
            .rs(meta)?
            .releases
            .iter()
            .find(|r| r.tag_name == tag && !r.draft)
            .cloned()
            .ok_or_else(not_found)?;
        ok(self.release_json(meta, &release))
    }

    fn release_by_id(&mut self, meta: &RepoMeta, id: &str) -> Answer {
        let id: u64 = id.parse().map_err(|_| not_found())?;
        let release = self
            .rs(meta)?
            .releases
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or_else(not_found)?;
        ok(self.release_json(meta, &release))
    }

    fn list_releases(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        let mut releases = self.rs(meta)?.releases.clone();
        releases.reverse();
        let (page, link) = self.paginate(req, releases, 30, 100);
        let items: Vec<Value> = page.iter().map(|r| self.release_json(meta, r)).collect();
        Ok(with_link(Response::json(200, &Value::Array(items)), link))
    }

    // ----- actions -----

    fn run_json(&self, meta: &RepoMeta, repo: Option<&Repository>, run: &WorkflowRun) -> Value {
        let id = run.id;
        let workflow_id = fnv1a(run.name.as_bytes()) % 1_000_000_000;
        let commit = repo.and_then(|r| {
            Oid::from_str(&run.head_sha)
                .ok()
                .and_then(|o| r.find_commit(o).ok())
        });
        let head_commit = match commit {
            Some(c) => json!({
                "id": run.head_sha,
                "tree_id": c.tree_id().to_string(),
                "message": lossy(c.message_bytes()),
                "timestamp": iso(c.committer().when().seconds()),
                "author": {"name": lossy(c.author().name_bytes()), "email": lossy(c.author().email_bytes())},
                "committer": {"name": lossy(c.committer().name_bytes()), "email": lossy(c.committer().email_bytes())},
            }),
            None => json!({
                "id": run.head_sha,
                "tree_id": "0".repeat(40),
                "message": "",
                "timestamp": run.created_at,
                "author": {"name": "GitHub", "email": "noreply@github.com"},
                "committer": {"name": "GitHub", "email": "noreply@github.com"},
            }),
        };
        let run_url = self.api(meta, &format!("actions/runs/{id}"));
        json!({
            "id": id,
            "name": run.name,
            "display_title": run.name,
            "node_id": format!("WFR_emu{id}"),
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": format!(".github/workflows/{workflow_id}.yaml"),
            "run_number": run.run_number,
            "run_attempt": 1,
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": workflow_id,
            "url": run_url,
            "html_url": format!("{HTML}/{}/actions/runs/{id}", meta.full()),
            "pull_requests": [],
            "created_at": run.created_at,
            "updated_at": run.updated_at,
            "run_started_at": run.created_at,
            "jobs_url": format!("{run_url}/jobs"),
            "logs_url": format!("{run_url}/logs"),
            "check_suite_url": self.api(meta, &format!("check-suites/{id}")),
            "artifacts_url": format!("{run_url}/artifacts"),
            "cancel_url": format!("{run_url}/cancel"),
            "rerun_url": format!("{run_url}/rerun"),
            "workflow_url": self.api(meta, &format!("actions/workflows/{workflow_id}")),
            "head_commit": head_commit,
            "repository": self.minimal_repo_json(meta),
            "head_repository": self.minimal_repo_json(meta),
        })
    }

    fn list_runs(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        let filter = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
        let head_sha = filter("head_sha");
        let branch = filter("branch");
        let event = filter("event");
        let status = filter("status");
        let mut runs: Vec<WorkflowRun> = self
            .rs(meta)?
            .runs
            .iter()
            .filter(|r| head_sha.as_ref().is_none_or(|s| &r.head_sha == s))
            .filter(|r| branch.as_ref().is_none_or(|b| &r.head_branch == b))
            .filter(|r| event.as_ref().is_none_or(|e| &r.event == e))
            // The status filter accepts statuses and conclusions alike.
            .filter(|r| {
                status
                    .as_ref()
                    .is_none_or(|s| &r.status == s || r.conclusion.as_ref() == Some(s))
            })
            .cloned()
            .collect();
        runs.sort_by_key(|run| std::cmp::Reverse(run.id));
        let total = runs.len();
        let (page, link) = self.paginate(req, runs, 30, 100);
        let repo = Repository::open(&meta.path).ok();
        let items: Vec<Value> = page
            .iter()
            .map(|r| self.run_json(meta, repo.as_ref(), r))
            .collect();
        Ok(with_link(
            Response::json(200, &json!({"total_count": total, "workflow_runs": items})),
            link,
        ))
    }

    fn get_run(&mut self, meta: &RepoMeta, id: &str) -> Answer {
        let id: u64 = id.parse().map_err(|_| not_found())?;
        let run = self
            .rs(meta)?
            .runs
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or_else(not_found)?;
        let repo = Repository::open(&meta.path).ok();
        ok(self.run_json(meta, repo.as_ref(), &run))
    }

    fn list_secrets(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        if !meta.permissions.admin {
            return Err(error(403, "Resource not accessible by integration"));
        }
        let secrets: Vec<Value> = self
            .rs(meta)?
            .secrets
            .iter()
            .map(|(name, at)| json!({"name": name, "created_at": at, "updated_at": at}))
            .collect();
        let total = secrets.len();
        let (page, link) = self.paginate(req, secrets, 30, 100);
        Ok(with_link(
            Response::json(200, &json!({"total_count": total, "secrets": page})),
            link,
        ))
    }

    fn list_variables(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        if !meta.permissions.admin {
            return Err(error(403, "Resource not accessible by integration"));
        }
        let variables: Vec<Value> = self
            .rs(meta)?
            .variables
            .iter()
            .map(|(name, value, at)| {
                json!({"name": name, "value": value, "created_at": at, "updated_at": at})
            })
            .collect();
        let total = variables.len();
        let (page, link) = self.paginate(req, variables, 10, 30);
        Ok(with_link(
            Response::json(200, &json!({"total_count": total, "variables": page})),
            link,
        ))
    }

    // ----- deployments -----

    fn deployment_json(&self, meta: &RepoMeta, d: &Deployment) -> Value {
        let id = d.id;
        json!({
            "url": self.api(meta, &format!("deployments/{id}")),
            "id": id,
            "node_id": format!("DE_emu{id}"),
            "sha": d.sha,
            "ref": d.git_ref,
            "task": d.task,
            "payload": d.payload,
            "original_environment": d.original_environment,
            "environment": d.environment,
            "description": d.description,
            "creator": self.actor_json(&d.creator),
            "created_at": d.created_at,
            "updated_at": d.updated_at,
            "statuses_url": self.api(meta, &format!("deployments/{id}/statuses")),
            "repository_url": self.api(meta, ""),
            "transient_environment": d.transient_environment,
            "production_environment": d.production_environment,
        })
    }

    fn status_json(&self, meta: &RepoMeta, deployment: u64, s: &DeploymentStatus) -> Value {
        let id = s.id;
        json!({
            "url": self.api(meta, &format!("deployments/{deployment}/statuses/{id}")),
            "id": id,
            "node_id": format!("DES_emu{id}"),
            "state": s.state,
            "creator": self.actor_json(&s.creator),
            "description": s.description.clone().unwrap_or_default(),
            "environment": s.environment,
            "target_url": s.target_url.clone().or_else(|| s.log_url.clone()).unwrap_or_default(),
            "log_url": s.log_url.clone().or_else(|| s.target_url.clone()).unwrap_or_default(),
            "environment_url": s.environment_url.clone().unwrap_or_default(),
            "created_at": s.created_at,
            "updated_at": s.created_at,
            "deployment_url": self.api(meta, &format!("deployments/{deployment}")),
            "repository_url": self.api(meta, ""),
        })
    }

    fn create_deployment(&mut self, req: &Request, meta: &RepoMeta, identity: Identity) -> Answer {
        let body = body_object(req)?;
        let git_ref = required_str(&body, "ref")?;
        let environment =
            optional_str(&body, "environment")?.unwrap_or_else(|| "production".into());
        let task = optional_str(&body, "task")?.unwrap_or_else(|| "deploy".into());
        let description = optional_str(&body, "description")?;
        // The payload may be sent as an object or as a JSON string; GitHub answers the object.
        let payload = match body.get("payload") {
            None | Some(Value::Null) => json!({}),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|_| invalid("For 'properties/payload', the string is not valid JSON."))?,
            Some(v @ Value::Object(_)) => v.clone(),
            Some(other) => {
                return Err(invalid(&format!(
                    "For 'properties/payload', {other} is not an object or a string."
                )));
            }
        };
        let transient = optional_bool(&body, "transient_environment")?.unwrap_or(false);
        let production =
            optional_bool(&body, "production_environment")?.unwrap_or(environment == "production");
        // `required_contexts` and `auto_merge` are accepted but not enforced: the emulator has no
        // commit statuses to check and never merges.
        if let Some(v) = body.get("required_contexts")
            && !v.is_array()
            && !v.is_null()
        {
            return Err(invalid(&format!(
                "For 'properties/required_contexts', {v} is not an array."
            )));
        }
        let repo = open(meta)?;
        let sha = resolve_commitish(&repo, &git_ref)
            .ok_or_else(|| error(422, &format!("No ref found for: {git_ref}")))?;
        let id = self.next_id();
        let now = self.stamp();
        let deployment = Deployment {
            id,
            sha: sha.to_string(),
            git_ref,
            task,
            original_environment: environment.clone(),
            environment,
            description,
            payload,
            transient_environment: transient,
            production_environment: production,
            creator: actor_login(identity).to_string(),
            created_at: now.clone(),
            updated_at: now,
            statuses: Vec::new(),
        };
        let value = self.deployment_json(meta, &deployment);
        self.rs(meta)?.deployments.push(deployment);
        Ok(Response::json(201, &value))
    }

    fn list_deployments(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        let filter = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
        let (sha, git_ref, task, environment) = (
            filter("sha"),
            filter("ref"),
            filter("task"),
            filter("environment"),
        );
        let mut deployments: Vec<Deployment> = self
            .rs(meta)?
            .deployments
            .iter()
            .filter(|d| sha.as_ref().is_none_or(|s| &d.sha == s))
            .filter(|d| git_ref.as_ref().is_none_or(|r| &d.git_ref == r))
            .filter(|d| task.as_ref().is_none_or(|t| &d.task == t))
            .filter(|d| environment.as_ref().is_none_or(|e| &d.environment == e))
            .cloned()
            .collect();
        if !self.oldest_first {
            deployments.reverse();
        }
        let (page, link) = self.paginate(req, deployments, 30, 100);
        let items: Vec<Value> = page.iter().map(|d| self.deployment_json(meta, d)).collect();
        Ok(with_link(Response::json(200, &Value::Array(items)), link))
    }

    fn find_deployment(&mut self, meta: &RepoMeta, id: &str) -> Result<Deployment, Response> {
        let id: u64 = id.parse().map_err(|_| not_found())?;
        self.rs(meta)?
            .deployments
            .iter()
            .find(|d| d.id == id)
            .cloned()
            .ok_or_else(not_found)
    }

    fn get_deployment(&mut self, meta: &RepoMeta, id: &str) -> Answer {
        let deployment = self.find_deployment(meta, id)?;
        ok(self.deployment_json(meta, &deployment))
    }

    fn list_deployment_statuses(&mut self, req: &Request, meta: &RepoMeta, id: &str) -> Answer {
        let deployment = self.find_deployment(meta, id)?;
        let mut statuses = deployment.statuses.clone();
        if !self.oldest_first {
            statuses.reverse();
        }
        let (page, link) = self.paginate(req, statuses, 30, 100);
        let items: Vec<Value> = page
            .iter()
            .map(|s| self.status_json(meta, deployment.id, s))
            .collect();
        Ok(with_link(Response::json(200, &Value::Array(items)), link))
    }

    fn create_deployment_status(
        &mut self,
        req: &Request,
        meta: &RepoMeta,
        id: &str,
        identity: Identity,
    ) -> Answer {
        let deployment = self.find_deployment(meta, id)?;
        let body = body_object(req)?;
        let state = required_str(&body, "state")?;
        const STATES: [&str; 7] = [
            "error",
            "failure",
            "inactive",
            "in_progress",
            "queued",
            "pending",
            "success",
        ];
        if !STATES.contains(&state.as_str()) {
            return Err(invalid(&format!(
                "For 'properties/state', \"{state}\" is not one of [\"error\", \"failure\", \"inactive\", \"in_progress\", \"queued\", \"pending\", \"success\"]."
            )));
        }
        let description = optional_str(&body, "description")?;
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 140)
        {
            return Err(validation_failed(json!([{
                "resource": "DeploymentStatus",
                "code": "custom",
                "field": "description",
                "message": "description is too long (maximum is 140 characters)",
            }])));
        }
        let target_url = optional_str(&body, "target_url")?;
        let log_url = optional_str(&body, "log_url")?;
        let environment_url = optional_str(&body, "environment_url")?;
        let environment = optional_str(&body, "environment")?
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| deployment.environment.clone());
        let auto_inactive = optional_bool(&body, "auto_inactive")?.unwrap_or(true);
        let status_id = self.next_id();
        let now = self.stamp();
        let creator = actor_login(identity).to_string();
        let status = DeploymentStatus {
            id: status_id,
            state: state.clone(),
            description,
            environment: environment.clone(),
            target_url,
            log_url,
            environment_url,
            creator: creator.clone(),
            created_at: now.clone(),
        };
        let value = self.status_json(meta, deployment.id, &status);
        // auto_inactive: a success marks prior successful deployments to the same environment
        // inactive, but only non-transient, non-production ones (GitHub's documented rule).
        let mut inactive_ids = Vec::new();
        if state == "success" && auto_inactive {
            for d in &self.rs(meta)?.deployments {
                let was_success = d.statuses.last().is_some_and(|s| s.state == "success");
                if d.id != deployment.id
                    && d.environment == environment
                    && !d.transient_environment
                    && !d.production_environment
                    && was_success
                {
                    inactive_ids.push(d.id);
                }
            }
        }
        let mut extra = Vec::new();
        for d in &inactive_ids {
            extra.push((*d, self.next_id()));
        }
        let repo_state = self.rs(meta)?;
        for (deployment_id, status_id) in extra {
            if let Some(d) = repo_state
                .deployments
                .iter_mut()
                .find(|d| d.id == deployment_id)
            {
                d.statuses.push(DeploymentStatus {
                    id: status_id,
                    state: "inactive".into(),
                    description: None,
                    environment: d.environment.clone(),
                    target_url: None,
                    log_url: None,
                    environment_url: None,
                    creator: creator.clone(),
                    created_at: now.clone(),
                });
                d.updated_at = now.clone();
            }
        }
        if let Some(d) = repo_state
            .deployments
            .iter_mut()
            .find(|d| d.id == deployment.id)
        {
            d.environment = environment;
            d.updated_at = now;
            d.statuses.push(status);
        }
        Ok(Response::json(201, &value))
    }

    // ----- issues -----

    fn label_json(&self, meta: &RepoMeta, name: &str, id: u64, color: &str) -> Value {
        json!({
            "id": id,
            "node_id": format!("LA_emu{id}"),
            "url": self.api(meta, &format!("labels/{name}")),
            "name": name,
            "color": color,
            "default": false,
            "description": null,
        })
    }

    fn issue_json(
        &self,
        meta: &RepoMeta,
        labels: &BTreeMap<String, (u64, String)>,
        issue: &Issue,
    ) -> Value {
        let n = issue.number;
        let labels: Vec<Value> = issue
            .labels
            .iter()
            .map(|name| {
                let (id, color) = labels.get(name).cloned().unwrap_or((0, "ededed".into()));
                self.label_json(meta, name, id, &color)
            })
            .collect();
        let assignees: Vec<Value> = issue.assignees.iter().map(|a| self.actor_json(a)).collect();
        json!({
            "id": issue.id,
            "node_id": issue_node_id(issue.id),
            "url": self.api(meta, &format!("issues/{n}")),
            "repository_url": self.api(meta, ""),
            "labels_url": self.api(meta, &format!("issues/{n}/labels{{/name}}")),
            "comments_url": self.api(meta, &format!("issues/{n}/comments")),
            "events_url": self.api(meta, &format!("issues/{n}/events")),
            "html_url": format!("{HTML}/{}/issues/{n}", meta.full()),
            "number": n,
            "state": issue.state,
            "state_reason": if issue.state == "closed" { json!("completed") } else { Value::Null },
            "title": issue.title,
            "body": issue.body,
            "user": self.actor_json(&issue.user),
            "labels": labels,
            "assignee": assignees.first().cloned().unwrap_or(Value::Null),
            "assignees": assignees,
            "milestone": null,
            "locked": false,
            "active_lock_reason": null,
            "comments": issue.comments.len(),
            "closed_at": issue.closed_at,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "author_association": "MEMBER",
        })
    }

    fn comment_json(&self, meta: &RepoMeta, number: u64, c: &IssueComment) -> Value {
        json!({
            "id": c.id,
            "node_id": format!("IC_emu{}", c.id),
            "url": self.api(meta, &format!("issues/comments/{}", c.id)),
            "html_url": format!("{HTML}/{}/issues/{number}#issuecomment-{}", meta.full(), c.id),
            "issue_url": self.api(meta, &format!("issues/{number}")),
            "body": c.body,
            "user": self.actor_json(&c.user),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": "MEMBER",
        })
    }

    fn find_issue(&mut self, meta: &RepoMeta, number: &str) -> Result<Issue, Response> {
        let number: u64 = number.parse().map_err(|_| not_found())?;
        self.rs(meta)?
            .issues
            .iter()
            .find(|i| i.number == number)
            .cloned()
            .ok_or_else(not_found)
    }

    fn issue_response(&mut self, meta: &RepoMeta, status: u16, number: u64) -> Answer {
        let rs = self.rs(meta)?;
        let labels = rs.labels.clone();
        let issue = rs
            .issues
            .iter()
            .find(|i| i.number == number)
            .cloned()
            .ok_or_else(not_found)?;
        Ok(Response::json(
            status,
            &self.issue_json(meta, &labels, &issue),
        ))
    }

    /// Makes sure each label exists (GitHub creates unknown labels when they are applied).
    fn ensure_labels(&mut self, meta: &RepoMeta, names: &[String]) -> Result<(), Response> {
        for name in names {
            if !self.rs(meta)?.labels.contains_key(name) {
                let id = self.next_id();
                self.rs(meta)?
                    .labels
                    .insert(name.clone(), (id, "ededed".into()));
            }
        }
        Ok(())
    }

    fn get_issue(&mut self, meta: &RepoMeta, number: &str) -> Answer {
        let issue = self.find_issue(meta, number)?;
        self.issue_response(meta, 200, issue.number)
    }

    fn create_issue(&mut self, req: &Request, meta: &RepoMeta, identity: Identity) -> Answer {
        let body = body_object(req)?;
        let title = optional_str(&body, "title")?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                validation_failed(
                    json!([{"resource": "Issue", "code": "missing_field", "field": "title"}]),
                )
            })?;
        let text = optional_str(&body, "body")?;
        let labels = label_names(&body)?.unwrap_or_default();
        let assignees = optional_str_list(&body, "assignees")?.unwrap_or_default();
        if let Some(refused) = assignees.iter().find(|a| !self.assignable(meta, a)) {
            return Err(validation_failed(
                json!([{"value": refused, "resource": "Issue", "field": "assignees", "code": "invalid"}]),
            ));
        }
        self.ensure_labels(meta, &labels)?;
        let id = self.next_id();
        let now = self.stamp();
        let number = self.next_number(meta);
        let rs = self.rs(meta)?;
        rs.issues.push(Issue {
            id,
            number,
            title,
            body: text,
            state: "open".into(),
            labels: dedup(labels),
            assignees: dedup(assignees),
            user: actor_login(identity).to_string(),
            comments: Vec::new(),
            created_at: now.clone(),
            updated_at: now,
            closed_at: None,
        });
        let response = self.issue_response(meta, 201, number)?;
        Ok(response.with_header("location", self.api(meta, &format!("issues/{number}"))))
    }

    fn edit_issue(&mut self, req: &Request, meta: &RepoMeta, number: &str) -> Answer {
        let issue = self.find_issue(meta, number)?;
        let body = body_object(req)?;
        let title = optional_str(&body, "title")?;
        let text = match body.get("body") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(other) => {
                return Err(invalid(&format!(
                    "For 'properties/body', {other} is not a string or null."
                )));
            }
        };
        let state = optional_str(&body, "state")?;
        if let Some(s) = &state
            && s != "open"
            && s != "closed"
        {
            return Err(validation_failed(
                json!([{"resource": "Issue", "code": "invalid", "field": "state"}]),
            ));
        }
        let labels = label_names(&body)?;
        let assignees = optional_str_list(&body, "assignees")?;
        if let Some(labels) = &labels {
            self.ensure_labels(meta, labels)?;
        }
        let now = self.stamp();
        let rs = self.rs(meta)?;
        if let Some(i) = rs.issues.iter_mut().find(|i| i.number == issue.number) {
            if let Some(title) = title {
                i.title = title;
            }
            if let Some(text) = text {
                i.body = text;
            }
            if let Some(state) = state {
                i.closed_at = (state == "closed").then(|| now.clone());
                i.state = state;
            }
            if let Some(labels) = labels {
                i.labels = dedup(labels);
            }
            if let Some(assignees) = assignees {
                i.assignees = dedup(assignees);
            }
            i.updated_at = now;
        }
        self.issue_response(meta, 200, issue.number)
    }

    fn list_issues(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        let state = req.query_param("state").unwrap_or_else(|| "open".into());
        let wanted: Vec<String> = req
            .query_param("labels")
            .map(|l| {
                l.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let rs = self.rs(meta)?;
        let labels = rs.labels.clone();
        let mut issues: Vec<Issue> = rs
            .issues
            .iter()
            .filter(|i| state == "all" || i.state == state)
            .filter(|i| wanted.iter().all(|w| i.labels.contains(w)))
            .cloned()
            .collect();
        issues.reverse();
        let (page, link) = self.paginate(req, issues, 30, 100);
        let items: Vec<Value> = page
            .iter()
            .map(|i| self.issue_json(meta, &labels, i))
            .collect();
        Ok(with_link(Response::json(200, &Value::Array(items)), link))
    }

    fn list_comments(&mut self, req: &Request, meta: &RepoMeta, number: &str) -> Answer {
        let issue = self.find_issue(meta, number)?;
        let (page, link) = self.paginate(req, issue.comments.clone(), 30, 100);
        let items: Vec<Value> = page
            .iter()
            .map(|c| self.comment_json(meta, issue.number, c))
            .collect();
        Ok(with_link(Response::json(200, &Value::Array(items)), link))
    }

    fn create_comment(
        &mut self,
        req: &Request,
        meta: &RepoMeta,
        number: &str,
        identity: Identity,
    ) -> Answer {
        let issue = self.find_issue(meta, number)?;
        let body = body_object(req)?;
        let text = required_str(&body, "body")?;
        let id = self.next_id();
        let now = self.stamp();
        let comment = IssueComment {
            id,
            body: text,
            user: actor_login(identity).to_string(),
            created_at: now.clone(),
            updated_at: now.clone(),
        };
        let value = self.comment_json(meta, issue.number, &comment);
        if let Some(i) = self
            .rs(meta)?
            .issues
            .iter_mut()
            .find(|i| i.number == issue.number)
        {
            i.comments.push(comment);
            i.updated_at = now;
        }
        Ok(Response::json(201, &value)
            .with_header("location", self.api(meta, &format!("issues/comments/{id}"))))
    }

    fn find_comment(&mut self, meta: &RepoMeta, id: &str) -> Result<(u64, IssueComment), Response> {
        let id: u64 = id.parse().map_err(|_| not_found())?;
        self.rs(meta)?
            .issues
            .iter()
            .find_map(|i| {
                i.comments
                    .iter()
                    .find(|c| c.id == id)
                    .map(|c| (i.number, c.clone()))
            })
            .ok_or_else(not_found)
    }

    fn get_comment(&mut self, meta: &RepoMeta, id: &str) -> Answer {
        let (number, comment) = self.find_comment(meta, id)?;
        ok(self.comment_json(meta, number, &comment))
    }

    fn edit_comment(&mut self, req: &Request, meta: &RepoMeta, id: &str) -> Answer {
        let (number, mut comment) = self.find_comment(meta, id)?;
        let body = body_object(req)?;
        comment.body = required_str(&body, "body")?;
        comment.updated_at = self.stamp();
        if let Some(c) = self
            .rs(meta)?
            .issues
            .iter_mut()
            .flat_map(|i| i.comments.iter_mut())
            .find(|c| c.id == comment.id)
        {
            *c = comment.clone();
        }
        ok(self.comment_json(meta, number, &comment))
    }

    fn labels_of(&mut self, meta: &RepoMeta, number: u64) -> Answer {
        let rs = self.rs(meta)?;
        let labels = rs.labels.clone();
        let names = rs
            .issues
            .iter()
            .find(|i| i.number == number)
            .map(|i| i.labels.clone())
            .unwrap_or_default();
        let items: Vec<Value> = names
            .iter()
            .map(|name| {
                let (id, color) = labels.get(name).cloned().unwrap_or((0, "ededed".into()));
                self.label_json(meta, name, id, &color)
            })
            .collect();
        ok(Value::Array(items))
    }

    fn issue_labels(&mut self, meta: &RepoMeta, number: &str) -> Answer {
        let issue = self.find_issue(meta, number)?;
        self.labels_of(meta, issue.number)
    }

    fn add_labels(&mut self, req: &Request, meta: &RepoMeta, number: &str) -> Answer {
        let issue = self.find_issue(meta, number)?;
        // Both `{"labels": [..]}` and a bare array are accepted, as on GitHub.
        let value = parse_body(req)?;
        let names = match &value {
            Value::Array(_) => {
                let wrapped = json!({"labels": value});
                label_names(
                    wrapped
                        .as_object()
                        .ok_or_else(|| error(400, "Problems parsing JSON"))?,
                )?
            }
            Value::Object(map) => label_names(map)?,
            _ => return Err(error(400, "Problems parsing JSON")),
        }
        .ok_or_else(|| invalid("\"labels\" wasn't supplied."))?;
        if names.is_empty() {
            // The description: `labels` has `minItems: 1`.
            return Err(invalid(
                "For 'properties/labels', [] has fewer items than the minimum of 1.",
            ));
        }
        self.ensure_labels(meta, &names)?;
        let now = self.stamp();
        if let Some(i) = self
            .rs(meta)?
            .issues
            .iter_mut()
            .find(|i| i.number == issue.number)
        {
            for name in names {
                if !i.labels.contains(&name) {
                    i.labels.push(name);
                }
            }
            i.updated_at = now;
        }
        self.labels_of(meta, issue.number)
    }

    /// Whether `login` may be assigned to issues in the repository: the token's user, or a
    /// collaborator.
    fn assignable(&self, meta: &RepoMeta, login: &str) -> bool {
        login.eq_ignore_ascii_case(TOKEN_USER)
            || self.repos.get(&meta.key).is_some_and(|r| {
                r.collaborators
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(login))
            })
    }

    /// `GET /repos/{o}/{r}/assignees/{login}`: 204 when assignable, else 404.
    fn check_assignee(&mut self, meta: &RepoMeta, login: &str) -> Answer {
        if self.assignable(meta, login) {
            Ok(Response {
                status: 204,
                headers: Vec::new(),
                body: Vec::new(),
            })
        } else {
            Err(not_found())
        }
    }

    /// `POST /repos/{o}/{r}/issues/{n}/assignees`: adds those who may be assigned (others are
    /// ignored, as on GitHub); 201 with the issue.
    fn add_assignees(&mut self, req: &Request, meta: &RepoMeta, number: &str) -> Answer {
        let issue = self.find_issue(meta, number)?;
        let body = body_object(req)?;
        let logins = optional_str_list(&body, "assignees")?.unwrap_or_default();
        let logins: Vec<String> = logins
            .into_iter()
            .filter(|l| self.assignable(meta, l))
            .collect();
        let now = iso(now_secs());
        if let Some(i) = self
            .rs(meta)?
            .issues
            .iter_mut()
            .find(|i| i.number == issue.number)
        {
            for login in logins {
                if !i.assignees.contains(&login) {
                    i.assignees.push(login);
                }
            }
            i.updated_at = now;
        }
        self.issue_response(meta, 201, issue.number)
    }

    // ----- shared helpers -----

    fn actor_json(&self, login: &str) -> Value {
        let (id, kind) = match login {
            TOKEN_USER => (1, "User"),
            APP_BOT => (3, "Bot"),
            other => (10_000 + fnv1a(other.as_bytes()) % 1_000_000, "User"),
        };
        user_json(&self.base_url, login, id, kind)
    }

    /// One page of `items` by the request's `per_page` and `page`, and the `link` header GitHub
    /// would send with it.
    fn paginate<T>(
        &self,
        req: &Request,
        items: Vec<T>,
        default: usize,
        max: usize,
    ) -> (Vec<T>, Option<String>) {
        let per_page = req
            .query_param("per_page")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
            .min(max);
        let page = req
            .query_param("page")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(1);
        let total = items.len();
        let last = total.div_ceil(per_page).max(1);
        let slice: Vec<T> = items
            .into_iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect();
        if last <= 1 {
            return (slice, None);
        }
        // GitHub's links name the repository by id: `/repositories/{id}/…`.
        let segments = split_path(&req.path);
        let path = match segments.as_slice() {
            [repos, owner, name, rest @ ..] if repos == "repos" => match self.meta(owner, name) {
                Some(meta) => format!("/repositories/{}/{}", meta.id, rest.join("/")),
                None => req.path.clone(),
            },
            _ => req.path.clone(),
        };
        let url = |n: usize| {
            let mut pairs: Vec<&str> = req
                .query
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("page="))
                .collect();
            let page_pair = format!("page={n}");
            pairs.push(&page_pair);
            format!("<{}{}?{}>", self.base_url, path, pairs.join("&"))
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(format!("{}; rel=\"prev\"", url(page - 1)));
        }
        if page < last {
            links.push(format!("{}; rel=\"next\"", url(page + 1)));
            links.push(format!("{}; rel=\"last\"", url(last)));
        }
        if page > 1 {
            links.push(format!("{}; rel=\"first\"", url(1)));
        }
        (slice, (!links.is_empty()).then(|| links.join(", ")))
    }
}

// ----- free helpers -----

/// The GraphQL node id of the issue with this database id.
pub fn issue_node_id(id: u64) -> String {
    format!("I_emu{id}")
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// FNV-1a: a stable hash for ETags (no hashing crate is a dependency, and `std`'s hasher is not
/// guaranteed stable).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn etag_matches(header: Option<&str>, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header.is_some_and(|h| {
        h.split(',')
            .any(|candidate| candidate.trim() == "*" || strip(candidate) == strip(etag))
    })
}

/// Base64 as GitHub sends file contents: a newline after every 60 characters and at the end.
fn github_base64(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % 60 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    if !encoded.is_empty() {
        out.push('\n');
    }
    out
}

/// Path segments, percent-decoded (`+` stays a plus in a path).
fn split_path(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| http_server::percent_decode(&s.replace('+', "%2B")))
        .collect()
}

fn is_jwt(credential: &str) -> bool {
    let parts: Vec<&str> = credential.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty())
}

fn is_missing(e: &git2::Error) -> bool {
    matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec)
}

fn open(meta: &RepoMeta) -> Result<Repository, Response> {
    Repository::open(&meta.path).map_err(git_error)
}

/// A branch name, a tag name (peeled) or a commit SHA (full or abbreviated) to a commit.
fn resolve_commitish(repo: &Repository, spec: &str) -> Option<Oid> {
    for name in [format!("refs/heads/{spec}"), format!("refs/tags/{spec}")] {
        if let Ok(reference) = repo.find_reference(&name)
            && let Ok(commit) = reference.peel_to_commit()
        {
            return Some(commit.id());
        }
    }
    if (4..=40).contains(&spec.len()) && spec.chars().all(|c| c.is_ascii_hexdigit()) {
        return repo
            .revparse_single(spec)
            .ok()
            .and_then(|o| o.peel_to_commit().ok())
            .map(|c| c.id());
    }
    None
}

/// The ref a run on `sha` was most likely triggered by: a tag at it, else a branch at it.
fn guess_head_branch(path: &Path, sha: &str) -> Option<String> {
    let repo = Repository::open(path).ok()?;
    let oid = Oid::from_str(sha).ok()?;
    let mut branch = None;
    for reference in repo.references().ok()?.flatten() {
        let name = lossy(reference.name_bytes()).to_string();
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        if commit.id() != oid {
            continue;
        }
        if let Some(tag) = name.strip_prefix("refs/tags/") {
            return Some(tag.to_string());
        }
        if let Some(b) = name.strip_prefix("refs/heads/") {
            branch.get_or_insert_with(|| b.to_string());
        }
    }
    branch
}

/// How many files differ between two commits' trees.
fn diff_files(repo: &Repository, from: Oid, to: Oid) -> Result<usize, git2::Error> {
    let from = repo.find_commit(from)?.tree()?;
    let to = repo.find_commit(to)?.tree()?;
    Ok(repo
        .diff_tree_to_tree(Some(&from), Some(&to), None)?
        .deltas()
        .len())
}

fn signature_json(sig: &git2::Signature<'_>) -> Value {
    json!({
        "name": lossy(sig.name_bytes()),
        "email": lossy(sig.email_bytes()),
        "date": iso(sig.when().seconds()),
    })
}

fn unsigned() -> Value {
    json!({"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null})
}

fn actor_login(identity: Identity) -> &'static str {
    match identity {
        Identity::Installation | Identity::App => APP_BOT,
        Identity::Token => TOKEN_USER,
    }
}

fn user_json(base: &str, login: &str, id: u64, kind: &str) -> Value {
    let users = format!("{base}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_emu{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": users,
        "html_url": format!("{HTML}/{login}"),
        "followers_url": format!("{users}/followers"),
        "following_url": format!("{users}/following"),
        "gists_url": format!("{users}/gists"),
        "starred_url": format!("{users}/starred"),
        "subscriptions_url": format!("{users}/subscriptions"),
        "organizations_url": format!("{users}/orgs"),
        "repos_url": format!("{users}/repos"),
        "events_url": format!("{users}/events"),
        "received_events_url": format!("{users}/received_events"),
        "type": kind,
        "site_admin": false,
    })
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn with_link(response: Response, link: Option<String>) -> Response {
    match link {
        Some(link) => response.with_header("link", link),
        None => response,
    }
}

fn ok(value: Value) -> Answer {
    Ok(Response::json(200, &value))
}

fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"message": message, "documentation_url": DOCS, "status": status.to_string()}),
    )
}

fn not_found() -> Response {
    error(404, "Not Found")
}

/// GitHub's wording for a request body that does not fit the endpoint's schema.
fn invalid(detail: &str) -> Response {
    error(422, &format!("Invalid request.\n\n{detail}"))
}

fn validation_failed(errors: Value) -> Response {
    Response::json(
        422,
        &json!({"message": "Validation Failed", "errors": errors, "documentation_url": DOCS, "status": "422"}),
    )
}

fn git_error(e: git2::Error) -> Response {
    error(
        500,
        &format!("Server Error (emulator git: {})", e.message()),
    )
}

/// GitHub's bodies for injected statuses: HTML from the front end for 502/503, JSON otherwise.
fn fault_response(code: u16) -> Response {
    match code {
        502 => Response::new(
            502,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html>\n  <head>\n    <title>Unicorn! &middot; GitHub</title>\n  </head>\n  <body>\n    <p><strong>We had issues producing the response to your request.</strong></p>\n    <p>Sorry about that. Please try refreshing and contact us if the problem persists.</p>\n  </body>\n</html>\n",
        ),
        503 => Response::new(
            503,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html>\n  <body>\n    <p>No server is currently available to service your request.</p>\n    <p>Sorry about that. Please try refreshing and contact us if the problem persists.</p>\n  </body>\n</html>\n",
        ),
        504 => error(
            504,
            "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
        ),
        500 => error(500, "Server Error"),
        other => {
            let reason = hyper::StatusCode::from_u16(other)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            error(other, reason)
        }
    }
}

// ----- request bodies -----

fn parse_body(req: &Request) -> Result<Value, Response> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body).map_err(|_| error(400, "Problems parsing JSON"))
}

fn body_object(req: &Request) -> Result<Map<String, Value>, Response> {
    match parse_body(req)? {
        Value::Object(map) => Ok(map),
        _ => Err(error(400, "Problems parsing JSON")),
    }
}

fn optional_str(body: &Map<String, Value>, key: &str) -> Result<Option<String>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(&format!(
            "For 'properties/{key}', {other} is not a string."
        ))),
    }
}

fn required_str(body: &Map<String, Value>, key: &str) -> Result<String, Response> {
    optional_str(body, key)?.ok_or_else(|| invalid(&format!("\"{key}\" wasn't supplied.")))
}

fn optional_bool(body: &Map<String, Value>, key: &str) -> Result<Option<bool>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(invalid(&format!(
            "For 'properties/{key}', {other} is not a boolean."
        ))),
    }
}

fn optional_str_list(
    body: &Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(invalid(&format!("For 'items', {other} is not a string."))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(invalid(&format!(
            "For 'properties/{key}', {other} is not an array."
        ))),
    }
}

/// Labels as names or as `{"name": …}` objects, both of which GitHub accepts.
fn label_names(body: &Map<String, Value>) -> Result<Option<Vec<String>>, Response> {
    match body.get("labels") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Object(o) => match o.get("name") {
                    Some(Value::String(s)) => Ok(s.clone()),
                    _ => Err(invalid("For 'items', a label needs a \"name\".")),
                },
                other => Err(invalid(&format!(
                    "For 'items', {other} is not a string or object."
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(invalid(&format!(
            "For 'properties/labels', {other} is not an array."
        ))),
    }
}

/// A `committer`/`author` object: (name, email).
fn person(body: &Map<String, Value>, key: &str) -> Result<Option<(String, String)>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => {
            let name = optional_str(o, "name")?.filter(|n| !n.trim().is_empty());
            let email = optional_str(o, "email")?.filter(|e| !e.trim().is_empty());
            match (name, email) {
                (Some(name), Some(email)) => Ok(Some((name, email))),
                _ => Err(invalid(&format!(
                    "For 'properties/{key}', \"name\" and \"email\" are required."
                ))),
            }
        }
        Some(other) => Err(invalid(&format!(
            "For 'properties/{key}', {other} is not an object."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_wraps_at_60_like_github() {
        let text = github_base64(&[b'a'; 100]);
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        assert_eq!(lines[0].len(), 60);
        assert!(text.ends_with('\n'));
        assert_eq!(github_base64(b""), "");
        let compact: String = text.chars().filter(|c| *c != '\n').collect();
        assert_eq!(STANDARD.decode(compact).unwrap(), vec![b'a'; 100]);
    }

    #[test]
    fn etags_compare_weakly_and_in_lists() {
        assert!(etag_matches(Some("W/\"ab\""), "W/\"ab\""));
        assert!(etag_matches(Some("\"x\", \"ab\""), "W/\"ab\""));
        assert!(etag_matches(Some("*"), "W/\"ab\""));
        assert!(!etag_matches(Some("\"ac\""), "W/\"ab\""));
        assert!(!etag_matches(None, "W/\"ab\""));
    }

    #[test]
    fn path_segments_decode_percent_but_keep_plus() {
        assert_eq!(
            split_path("/repos/o/r/git/ref/tags/a%2Fb+c"),
            ["repos", "o", "r", "git", "ref", "tags", "a/b+c"]
        );
    }

    #[test]
    fn only_three_part_tokens_are_jwts() {
        assert!(is_jwt("a.b.c"));
        assert!(!is_jwt("a.b"));
        assert!(!is_jwt("a..c"));
    }
}

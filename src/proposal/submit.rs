//! Where a proposed release file goes: committed on the current branch of the desired-state
//! checkout (`--commit`), or proposed as a pull request on its GitHub repository (`--pr`). Both
//! refuse before writing anything when they cannot finish cleanly: a dirty working tree, a
//! detached HEAD, no remote. The pull request is made by observe-then-act steps, so an answer
//! lost on the way (the branch made, the response dropped) is found on the next look instead of
//! being made twice.

use super::Proposal;
use crate::config::RepoLocation;
use crate::forge::{FileWrite, Forge, ForgeError, NewPull, PullRequest};
use git2::{Repository, Status, StatusOptions};
use std::path::Path;

/// Why a proposal could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the desired-state checkout has uncommitted changes ({})", .0.join(", "))]
    Dirty(Vec<String>),
    #[error("the desired-state checkout is not on a branch (HEAD is detached)")]
    Detached,
    #[error("{0} already exists")]
    Exists(String),
    #[error("the desired-state checkout has no remote `origin`")]
    NoRemote,
    #[error("the remote `origin` ({0}) is not a GitHub repository")]
    NotGithub(String),
    #[error("{branch} on {repo} already holds a different {path}")]
    Diverged {
        repo: String,
        branch: String,
        path: String,
    },
    #[error("the pull request could not be settled after {0} attempts; run the command again")]
    Unsettled(u32),
    #[error("{what}: {}", .source.message())]
    Git {
        what: &'static str,
        #[source]
        source: git2::Error,
    },
    #[error("{0}")]
    Forge(#[from] ForgeError),
}

impl SubmitError {
    pub fn help(&self) -> String {
        match self {
            SubmitError::Dirty(_) => {
                "commit or discard those changes first (`git status`), then run again".into()
            }
            SubmitError::Detached => "check out the desired-state branch, e.g. `git switch main`".into(),
            SubmitError::Exists(_) => {
                "the release is written already; `stackrel plan` shows what it causes".into()
            }
            SubmitError::NoRemote | SubmitError::NotGithub(_) => {
                "add the desired-state repository on GitHub: `git remote add origin https://github.com/OWNER/NAME`".into()
            }
            SubmitError::Diverged { branch, .. } => {
                format!("someone else proposed it: review that branch, or delete {branch} and run again")
            }
            SubmitError::Unsettled(_) => "GitHub's answers kept getting lost; nothing is duplicated".into(),
            SubmitError::Git { .. } => "check the desired-state checkout with `git status`".into(),
            SubmitError::Forge(_) => "check GITHUB_TOKEN and its permissions on the desired-state repository (contents and pull requests: write)".into(),
        }
    }
}

fn git(what: &'static str) -> impl Fn(git2::Error) -> SubmitError {
    move |source| SubmitError::Git { what, source }
}

/// The paths with uncommitted changes (untracked files included: a stray release file there
/// would be committed by the next person).
fn dirty_paths(repo: &Repository) -> Result<Vec<String>, SubmitError> {
    let mut options = StatusOptions::new();
    options.include_untracked(true).include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(git("reading the working tree's status"))?;
    Ok(statuses
        .iter()
        .filter(|s| s.status() != Status::CURRENT)
        .map(|s| s.path().unwrap_or("?").to_string())
        .collect())
}

/// The current branch's name, refusing a detached HEAD.
pub fn current_branch(repo: &Repository) -> Result<String, SubmitError> {
    let head = repo.head().map_err(git("reading HEAD"))?;
    if !head.is_branch() {
        return Err(SubmitError::Detached);
    }
    head.shorthand()
        .map(str::to_string)
        .map_err(|_| SubmitError::Detached)
}

/// Checks that the checkout can take a commit: on a branch, nothing uncommitted.
pub fn check_checkout(desired: &Path) -> Result<Repository, SubmitError> {
    let repo = Repository::open(desired).map_err(git("opening the desired-state checkout"))?;
    current_branch(&repo)?;
    let mut dirty = dirty_paths(&repo)?;
    if !dirty.is_empty() {
        dirty.truncate(5);
        return Err(SubmitError::Dirty(dirty));
    }
    Ok(repo)
}

/// Checks that `--commit` could write this proposal, without writing.
pub fn check_commit(desired: &Path, proposal: &Proposal) -> Result<Repository, SubmitError> {
    let repo = check_checkout(desired)?;
    if desired.join(&proposal.release.path).exists() {
        return Err(SubmitError::Exists(proposal.release.path.clone()));
    }
    Ok(repo)
}

/// Writes the file and commits it on the current branch; returns the commit.
pub fn commit(desired: &Path, proposal: &Proposal) -> Result<String, SubmitError> {
    let repo = check_commit(desired, proposal)?;
    let path = &proposal.release.path;
    let full = desired.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SubmitError::Git {
            what: "creating releases/",
            source: git2::Error::from_str(&e.to_string()),
        })?;
    }
    std::fs::write(&full, &proposal.text).map_err(|e| SubmitError::Git {
        what: "writing the release file",
        source: git2::Error::from_str(&e.to_string()),
    })?;
    let mut index = repo.index().map_err(git("reading the index"))?;
    index
        .add_path(Path::new(path))
        .map_err(git("adding the release file"))?;
    index.write().map_err(git("writing the index"))?;
    let tree = repo
        .find_tree(index.write_tree().map_err(git("writing the tree"))?)
        .map_err(git("reading the tree"))?;
    let parent = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(git("reading HEAD"))?;
    let signature = repo
        .signature()
        .or_else(|_| git2::Signature::now("stackrel", "stackrel@localhost"))
        .map_err(git("making a commit signature"))?;
    let message = commit_message(proposal);
    let id = repo
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            &message,
            &tree,
            &[&parent],
        )
        .map_err(git("committing the release file"))?;
    Ok(id.to_string())
}

fn commit_message(proposal: &Proposal) -> String {
    let pins: Vec<String> = proposal
        .release
        .components
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    format!(
        "Release {}\n\n{}\n",
        proposal.release.version,
        pins.join(", ")
    )
}

/// The GitHub repository the checkout's `origin` names: `https://github.com/o/r(.git)`,
/// `git@github.com:o/r.git`, or any URL whose last two segments are owner and name.
pub fn origin_repository(desired: &Path) -> Result<RepoLocation, SubmitError> {
    let repo = Repository::open(desired).map_err(git("opening the desired-state checkout"))?;
    let remote = repo
        .find_remote("origin")
        .map_err(|_| SubmitError::NoRemote)?;
    let url = remote.url().map_err(|_| SubmitError::NoRemote)?.to_string();
    let path = url
        .rsplit_once(':')
        .filter(|(scheme, _)| !scheme.contains('/'))
        .map_or(url.as_str(), |(_, path)| path);
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let (Some(name), Some(owner)) = (parts.next(), parts.next()) else {
        return Err(SubmitError::NotGithub(url.clone()));
    };
    match RepoLocation::parse(&format!("{owner}/{name}")) {
        Ok(found @ RepoLocation::GitHub { .. }) => Ok(found),
        _ => Err(SubmitError::NotGithub(url.clone())),
    }
}

/// The branch a release's pull request comes from.
pub fn branch_name(proposal: &Proposal) -> String {
    format!("release/{}", proposal.release.version)
}

/// How many observe-then-act rounds a pull request may take: branch, file, pull request, and
/// room for lost answers.
const ROUNDS: u32 = 8;

/// What `--pr` found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub pull: PullRequest,
    /// False when the pull request was open already (an earlier run made it).
    pub opened: bool,
}

/// Opens the release's pull request on `repo` into `base`, with `body`: the branch
/// `release/<version>` from `base`'s tip, the file committed on it, the pull request. Each round
/// looks first and does the one thing missing, so a lost answer is found, not repeated.
pub fn pull_request(
    forge: &dyn Forge,
    repo: &RepoLocation,
    base: &str,
    proposal: &Proposal,
    body: &str,
) -> Result<Proposed, SubmitError> {
    let branch = branch_name(proposal);
    let path = proposal.release.path.as_str();
    let title = format!("Release {}", proposal.release.version);
    let mut opened = false;
    for _ in 0..ROUNDS {
        if let Some(pull) = forge.find_pull(repo, &branch, base)? {
            return Ok(Proposed { pull, opened });
        }
        let tip = match forge.branch_head(repo, &branch) {
            Ok(tip) => tip,
            Err(ForgeError::NotFound { .. }) => {
                let from = forge.branch_head(repo, base)?;
                settled(forge.create_branch(repo, &branch, &from))?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match forge.read_file(repo, &tip, path)? {
            Some(file) if file.text == proposal.text => {}
            Some(_) => {
                return Err(SubmitError::Diverged {
                    repo: repo.to_string(),
                    branch,
                    path: path.to_string(),
                });
            }
            None => {
                let write = FileWrite {
                    branch: &branch,
                    path,
                    content: &proposal.text,
                    expected_blob: "",
                    message: &commit_message(proposal),
                };
                // A conflict means the branch moved: the next round reads it again.
                match forge.write_file(repo, &write) {
                    Ok(_) | Err(ForgeError::Unclear(_) | ForgeError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
        }
        let pull = NewPull {
            head: &branch,
            base,
            title: &title,
            body,
        };
        match forge.create_pull(repo, &pull) {
            Ok(pull) => return Ok(Proposed { pull, opened: true }),
            Err(ForgeError::Unclear(_) | ForgeError::AlreadyExists { .. }) => opened = true,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SubmitError::Unsettled(ROUNDS))
}

/// A creating request whose outcome the next look settles: made, already there, or unclear.
fn settled(result: Result<(), ForgeError>) -> Result<(), SubmitError> {
    match result {
        Ok(()) | Err(ForgeError::AlreadyExists { .. } | ForgeError::Unclear(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

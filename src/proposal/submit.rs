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

/// The GitHub repository the checkout's `origin` names, on the GitHub whose web address is
/// `github_web` (`https://github.com`, or a GitHub Enterprise host).
pub fn origin_repository(desired: &Path, github_web: &str) -> Result<RepoLocation, SubmitError> {
    let repo = Repository::open(desired).map_err(git("opening the desired-state checkout"))?;
    let remote = repo
        .find_remote("origin")
        .map_err(|_| SubmitError::NoRemote)?;
    let url = remote.url().map_err(|_| SubmitError::NoRemote)?;
    github_remote(url, github_web)
        .ok_or_else(|| SubmitError::NotGithub(without_userinfo(url).into_owned()))
}

/// `https://github.com/o/r(.git)`, `ssh://git@github.com/o/r`, `git@github.com:o/r.git` → `o/r`,
/// when the host is GitHub's (`github_web`'s host); anything else is not a GitHub repository.
fn github_remote(url: &str, github_web: &str) -> Option<RepoLocation> {
    let expected = host_and_path(github_web)?.0;
    let (host, path) = match url.split_once("://") {
        Some(_) => host_and_path(url)?,
        // scp-like syntax: `[user@]host:path`.
        None => {
            let (authority, path) = url.split_once(':')?;
            (authority.rsplit('@').next()?, path)
        }
    };
    if !host.eq_ignore_ascii_case(expected) {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = path.split_once('/')?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    (valid(owner) && valid(name)).then(|| RepoLocation::GitHub {
        owner: owner.to_string(),
        name: name.to_string(),
    })
}

/// `scheme://[user@]host[:port]/path` → (`host`, `path`).
fn host_and_path(url: &str) -> Option<(&str, &str)> {
    let rest = url.split_once("://")?.1;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit('@').next()?;
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    };
    Some((host, path))
}

/// A remote's URL as it may be printed: without a password or token in it.
fn without_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split('/').next().and_then(|a| a.rsplit_once('@')) {
            Some((_, host)) => {
                let path = rest.split_once('/').map_or("", |(_, p)| p);
                format!("{scheme}://{host}/{path}").into()
            }
            None => url.into(),
        },
        None => url.into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn located(url: &str, web: &str) -> Option<String> {
        github_remote(url, web).map(|r| r.to_string())
    }

    #[test]
    fn remotes_on_github_name_their_repository_in_every_url_form() {
        for url in [
            "https://github.com/xchem/fragalysis-stack.git",
            "https://x-access-token:ghp_secret@github.com/xchem/fragalysis-stack",
            "ssh://git@github.com:22/xchem/fragalysis-stack.git",
            "git@github.com:xchem/fragalysis-stack.git",
        ] {
            assert_eq!(
                located(url, "https://github.com").as_deref(),
                Some("xchem/fragalysis-stack"),
                "{url}"
            );
        }
    }

    #[test]
    fn a_remote_on_another_host_is_not_taken_for_a_github_repository() {
        for url in [
            "https://gitlab.com/xchem/fragalysis-stack",
            "git@gitlab.com:xchem/fragalysis-stack.git",
            "https://github.com.evil.example/xchem/fragalysis-stack",
            "/srv/git/stack.git",
            "https://github.com/only-owner",
        ] {
            assert_eq!(located(url, "https://github.com"), None, "{url}");
        }
        assert_eq!(
            located("https://ghe.example.org/a/b.git", "https://ghe.example.org").as_deref(),
            Some("a/b")
        );
    }

    #[test]
    fn a_remote_is_printed_without_its_credentials() {
        let shown = without_userinfo("https://x-access-token:ghp_secret@gitlab.com/a/b");
        assert_eq!(shown, "https://gitlab.com/a/b");
        assert_eq!(without_userinfo("git@gitlab.com:a/b"), "git@gitlab.com:a/b");
    }
}

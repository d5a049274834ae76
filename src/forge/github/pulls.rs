//! What `stackrel release` asks of GitHub beyond the convergence loop: the merged pull requests
//! between two versions (one compare, and the commits-to-pulls lookup only for a mainline commit
//! whose message names no pull request), and a branch and pull request on the desired-state
//! repository, each created only after looking, so a lost answer never makes a second one.

use super::{Answer, GithubForge, encode_path, refusal};
use crate::config::RepoLocation;
use crate::forge::github_answers::ErrorEntry;
use crate::forge::{Change, Changes, ForgeError, ForgeResult, NewPull, PullRequest, PullSummary};
use crate::proposal::notes::pull_named_in;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// `GET /repos/{o}/{r}/compare/{base}...{head}`, with what the mainline walk needs.
#[derive(Debug, Deserialize)]
struct Comparison {
    #[serde(default)]
    total_commits: u64,
    #[serde(default)]
    commits: Vec<ComparedCommit>,
}

#[derive(Debug, Deserialize)]
struct ComparedCommit {
    sha: String,
    commit: Message,
    #[serde(default)]
    parents: Vec<Parent>,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct Parent {
    sha: String,
}

/// A pull request in a list (`pull-request-simple`).
#[derive(Debug, Deserialize)]
struct Pull {
    number: u64,
    #[serde(default)]
    title: String,
    html_url: Option<String>,
    merged_at: Option<String>,
    base: Option<Base>,
}

#[derive(Debug, Deserialize)]
struct Base {
    repo: Option<BaseRepo>,
}

#[derive(Debug, Deserialize)]
struct BaseRepo {
    full_name: Option<String>,
}

/// What a validation failure says in its `errors` (GitHub puts a pull request's refusals, such
/// as "A pull request already exists for owner:branch.", in their `message`).
fn error_messages(answer: &Answer) -> String {
    let entries = answer
        .error_body()
        .and_then(|b| b.errors)
        .unwrap_or_default();
    let messages: Vec<String> = entries
        .iter()
        .filter_map(|e| match e {
            ErrorEntry::Fields {
                message: Some(m), ..
            } => Some(m.clone()),
            _ => None,
        })
        .collect();
    messages.join("; ")
}

/// A refusal, with the errors' own words when GitHub gave any.
fn refused(method: &str, uri: &str, answer: &Answer) -> ForgeError {
    match (refusal(method, uri, answer), error_messages(answer)) {
        (ForgeError::Other(text), said) if !said.is_empty() => {
            ForgeError::Other(format!("{text}: {said}"))
        }
        (e, _) => e,
    }
}

/// The most commits one compare lists.
const PAGE: usize = 100;

/// The mainline of a compared range, oldest first: from `head`, first parents only, while they
/// are in the range. A merge commit stands for its pull request's own commits, which are left
/// out; empty when `head` is not in the list.
fn mainline<'a>(commits: &'a [ComparedCommit], head: &str) -> Vec<&'a ComparedCommit> {
    let by_sha: HashMap<&str, &ComparedCommit> =
        commits.iter().map(|c| (c.sha.as_str(), c)).collect();
    let mut chain = Vec::new();
    let mut at = by_sha.get(head).copied();
    while let Some(commit) = at {
        chain.push(commit);
        if chain.len() > commits.len() {
            break;
        }
        at = commit
            .parents
            .first()
            .and_then(|p| by_sha.get(p.sha.as_str()).copied());
    }
    chain.reverse();
    chain
}

impl GithubForge {
    /// The mainline changes between two commits, each with its pull request.
    pub(super) fn mainline_changes(
        &self,
        repo: &RepoLocation,
        base_commit: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<Changes> {
        let base = self.repo_path(repo)?;
        let compare = self.newest_compared(repo, &base, base_commit, head, limit)?;
        // `head` may be a tag's name rather than its commit: the range then ends at the last
        // commit listed (compare lists oldest first).
        let tip = match compare.commits.iter().any(|c| c.sha == head) {
            true => head,
            false => compare.commits.last().map_or(head, |c| c.sha.as_str()),
        };
        let chain = mainline(&compare.commits, tip);
        let beyond = usize::try_from(compare.total_commits)
            .unwrap_or(usize::MAX)
            .saturating_sub(compare.commits.len());
        let full_name = repo.to_string();
        let mut changes = Changes {
            total: chain.len().saturating_add(beyond),
            changes: Vec::new(),
        };
        // The newest `limit`, still oldest first: the notes are about what this release brings.
        let skip = chain.len().saturating_sub(limit);
        for commit in chain.into_iter().skip(skip) {
            let message = commit.commit.message.clone();
            let pull = match pull_named_in(&message) {
                Some(named) => Some(named),
                None => self.merged_pull_of(&base, &full_name, &commit.sha)?,
            };
            changes.changes.push(Change {
                commit: commit.sha.clone(),
                message,
                pull,
            });
        }
        Ok(changes)
    }

    /// The newest commits of a compared range, oldest first. A paged compare lists the
    /// range oldest first, so the newest are on its last page (found from `total_commits`),
    /// with the page before it when the last one holds fewer than `limit`: at most three reads.
    fn newest_compared(
        &self,
        repo: &RepoLocation,
        base: &str,
        base_commit: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<Comparison> {
        let uri = format!("{base}/compare/{base_commit}...{head}?per_page={PAGE}");
        let page = |n: usize| -> ForgeResult<Comparison> {
            let uri = if n == 1 {
                uri.clone()
            } else {
                format!("{uri}&page={n}")
            };
            self.get(&uri)?.ok_or_else(|| ForgeError::NotFound {
                what: format!("commit {base_commit} or {head} in {repo}"),
            })
        };
        let first = page(1)?;
        let total = usize::try_from(first.total_commits).unwrap_or(usize::MAX);
        let last = total.div_ceil(PAGE).max(1);
        if last == 1 {
            return Ok(first);
        }
        let mut newest = page(last)?;
        newest.total_commits = first.total_commits;
        if newest.commits.len() < limit {
            let before = if last - 1 == 1 {
                first
            } else {
                page(last - 1)?
            };
            let mut commits = before.commits;
            commits.append(&mut newest.commits);
            newest.commits = commits;
        }
        Ok(newest)
    }

    /// The merged pull request of this repository that brought `sha`, if any.
    fn merged_pull_of(
        &self,
        base: &str,
        full_name: &str,
        sha: &str,
    ) -> ForgeResult<Option<PullSummary>> {
        let pulls: Vec<Pull> = self
            .get(&format!("{base}/commits/{sha}/pulls?per_page=100"))?
            .unwrap_or_default();
        Ok(pulls
            .into_iter()
            .filter(|p| p.merged_at.is_some())
            .find(|p| {
                p.base
                    .as_ref()
                    .and_then(|b| b.repo.as_ref())
                    .and_then(|r| r.full_name.as_deref())
                    .is_none_or(|name| name.eq_ignore_ascii_case(full_name))
            })
            .map(|p| PullSummary {
                number: p.number,
                title: p.title,
            }))
    }

    pub(super) fn create_branch_ref(
        &self,
        repo: &RepoLocation,
        branch: &str,
        commit: &str,
    ) -> ForgeResult<()> {
        let uri = format!("{}/git/refs", self.repo_path(repo)?);
        let answer = self.write(
            "POST",
            &uri,
            &json!({ "ref": format!("refs/heads/{branch}"), "sha": commit }),
        )?;
        match answer.status {
            201 => Ok(()),
            422 if answer.message().contains("already exists") => Err(ForgeError::AlreadyExists {
                what: format!("branch {branch}"),
            }),
            _ => Err(refusal("POST", &uri, &answer)),
        }
    }

    pub(super) fn open_pull(
        &self,
        repo: &RepoLocation,
        head: &str,
        base_branch: &str,
    ) -> ForgeResult<Option<PullRequest>> {
        let RepoLocation::GitHub { owner, .. } = repo else {
            return Err(ForgeError::Unsupported(format!("{repo} is not on GitHub")));
        };
        let uri = format!(
            "{}/pulls?state=open&head={}&base={}&per_page=100",
            self.repo_path(repo)?,
            encode_path(&format!("{owner}:{head}")),
            encode_path(base_branch)
        );
        let pulls: Vec<Pull> = self.get(&uri)?.unwrap_or_default();
        Ok(pulls.into_iter().next().map(|p| PullRequest {
            url: p.html_url.unwrap_or_default(),
            number: p.number,
        }))
    }

    pub(super) fn post_pull(
        &self,
        repo: &RepoLocation,
        pull: &NewPull<'_>,
    ) -> ForgeResult<PullRequest> {
        let uri = format!("{}/pulls", self.repo_path(repo)?);
        let answer = self.write(
            "POST",
            &uri,
            &json!({
                "title": pull.title,
                "head": pull.head,
                "base": pull.base,
                "body": pull.body,
            }),
        )?;
        match answer.status {
            201 => {
                let created: Pull = super::decode("POST", &uri, &answer.body)?;
                Ok(PullRequest {
                    number: created.number,
                    url: created.html_url.unwrap_or_default(),
                })
            }
            422 if error_messages(&answer).contains("already exists") => {
                Err(ForgeError::AlreadyExists {
                    what: format!("a pull request from {}", pull.head),
                })
            }
            _ => Err(refused("POST", &uri, &answer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(sha: &str, parents: &[&str]) -> ComparedCommit {
        ComparedCommit {
            sha: sha.into(),
            commit: Message {
                message: sha.into(),
            },
            parents: parents
                .iter()
                .map(|p| Parent { sha: p.to_string() })
                .collect(),
        }
    }

    #[test]
    fn the_mainline_leaves_out_a_merged_branch_own_commits() {
        // base - a - m(a, b2) - c ; b1 - b2 on the pull request's branch (from base).
        let commits = [
            commit("a", &["base"]),
            commit("b1", &["base"]),
            commit("b2", &["b1"]),
            commit("m", &["a", "b2"]),
            commit("c", &["m"]),
        ];
        let shas: Vec<&str> = mainline(&commits, "c")
            .iter()
            .map(|c| c.sha.as_str())
            .collect();
        assert_eq!(shas, ["a", "m", "c"]);
    }
}

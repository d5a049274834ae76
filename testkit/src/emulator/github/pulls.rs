//! Pull requests, as GitHub answers for them: `POST /repos/{o}/{r}/pulls` (201 with the pull
//! request; 422 "Validation Failed" for a missing head or base, no commits between them, or an
//! open pull request from the same head), `GET /repos/{o}/{r}/pulls` (`state`, `head` as
//! `owner:branch`, `base`; newest first, paginated) and `GET /repos/{o}/{r}/commits/{sha}/pulls`
//! (the merged pull request that brought a commit of the default branch; for other commits, the
//! merged and open ones that hold it). Pull requests share the issues' numbering, as on GitHub.

use super::{
    Answer, GithubEmulator, HTML, Identity, RepoMeta, Request, Response, State, actor_login,
    body_object, error, iso, lock, now_secs, open, optional_str, resolve_commitish,
    validation_failed, with_link,
};
use git2::Oid;
use serde_json::{Value, json};

/// A pull request the emulator keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub base_sha: String,
    /// The commits it holds (head's, not base's), oldest first.
    pub commits: Vec<String>,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub user: String,
    pub created_at: String,
}

impl GithubEmulator {
    /// Records a pull request merged into the default branch, as someone else merged it:
    /// `commits` are its own commits, `merge_commit` the commit that landed (the merge commit,
    /// the squashed commit, or the last rebased one). Returns its number (0 for an unknown
    /// repository).
    pub fn add_merged_pull(
        &self,
        repo: &str,
        title: &str,
        head_ref: &str,
        commits: &[&str],
        merge_commit: &str,
    ) -> u64 {
        let mut st = lock(&self.state);
        let id = st.next_id();
        let Some(meta) = repo.split_once('/').and_then(|(o, n)| st.meta(o, n)) else {
            return 0;
        };
        let number = st.next_number(&meta);
        let now = iso(now_secs());
        let Some(r) = st.repo_mut(repo) else { return 0 };
        r.pulls.push(PullRequest {
            id,
            number,
            title: title.to_string(),
            body: None,
            state: "closed".into(),
            head_ref: head_ref.to_string(),
            head_sha: commits.last().unwrap_or(&merge_commit).to_string(),
            base_ref: meta.default_branch.clone(),
            base_sha: String::new(),
            commits: commits.iter().map(|c| c.to_string()).collect(),
            merged_at: Some(now.clone()),
            merge_commit_sha: Some(merge_commit.to_string()),
            user: "octocat".into(),
            created_at: now,
        });
        number
    }

    /// The pull requests of a repository, in number order.
    pub fn pulls(&self, repo: &str) -> Vec<PullRequest> {
        lock(&self.state)
            .repo(repo)
            .map(|r| r.pulls.clone())
            .unwrap_or_default()
    }
}

impl State {
    /// The next issue or pull request number of a repository.
    pub(super) fn next_number(&self, meta: &RepoMeta) -> u64 {
        self.repos.get(&meta.key).map_or(1, |r| {
            let issues = r.issues.iter().map(|i| i.number);
            let pulls = r.pulls.iter().map(|p| p.number);
            issues.chain(pulls).max().unwrap_or(0) + 1
        })
    }

    fn pull_json(&self, meta: &RepoMeta, p: &PullRequest) -> Value {
        let n = p.number;
        let full = meta.full();
        let repo = self.repo_json(meta);
        let owner = self.actor_json(&meta.owner);
        let side = |r: &str, sha: &str| {
            json!({
                "label": format!("{}:{r}", meta.owner),
                "ref": r,
                "sha": sha,
                "user": owner,
                "repo": repo,
            })
        };
        let link = |href: String| json!({ "href": href });
        let links = json!({
            "self": link(self.api(meta, &format!("pulls/{n}"))),
            "html": link(format!("{HTML}/{full}/pull/{n}")),
            "issue": link(self.api(meta, &format!("issues/{n}"))),
            "comments": link(self.api(meta, &format!("issues/{n}/comments"))),
            "review_comments": link(self.api(meta, &format!("pulls/{n}/comments"))),
            "review_comment": link(self.api(meta, "pulls/comments{/number}")),
            "commits": link(self.api(meta, &format!("pulls/{n}/commits"))),
            "statuses": link(self.api(meta, &format!("statuses/{}", p.head_sha))),
        });
        json!({
            "url": self.api(meta, &format!("pulls/{n}")),
            "id": p.id,
            "node_id": format!("PR_emu{}", p.id),
            "html_url": format!("{HTML}/{full}/pull/{n}"),
            "diff_url": format!("{HTML}/{full}/pull/{n}.diff"),
            "patch_url": format!("{HTML}/{full}/pull/{n}.patch"),
            "issue_url": self.api(meta, &format!("issues/{n}")),
            "commits_url": self.api(meta, &format!("pulls/{n}/commits")),
            "review_comments_url": self.api(meta, &format!("pulls/{n}/comments")),
            "review_comment_url": self.api(meta, "pulls/comments{/number}"),
            "comments_url": self.api(meta, &format!("issues/{n}/comments")),
            "statuses_url": self.api(meta, &format!("statuses/{}", p.head_sha)),
            "number": n,
            "state": p.state,
            "locked": false,
            "title": p.title,
            "user": self.actor_json(&p.user),
            "body": p.body,
            "labels": [],
            "milestone": null,
            "active_lock_reason": null,
            "created_at": p.created_at,
            "updated_at": p.merged_at.clone().unwrap_or_else(|| p.created_at.clone()),
            "closed_at": p.merged_at,
            "merged_at": p.merged_at,
            "merge_commit_sha": p.merge_commit_sha,
            "assignee": null,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": side(&p.head_ref, &p.head_sha),
            "base": side(&p.base_ref, &p.base_sha),
            "_links": links,
            "author_association": "MEMBER",
            "auto_merge": null,
            "draft": false,
        })
    }

    /// The full pull request, as creating one answers: the simple fields and the counts.
    fn full_pull_json(&self, meta: &RepoMeta, p: &PullRequest) -> Value {
        let mut value = self.pull_json(meta, p);
        if let Some(object) = value.as_object_mut() {
            for (key, extra) in [
                ("merged", json!(p.merged_at.is_some())),
                ("mergeable", Value::Null),
                ("rebaseable", Value::Null),
                ("mergeable_state", json!("unknown")),
                ("merged_by", Value::Null),
                ("comments", json!(0)),
                ("review_comments", json!(0)),
                ("maintainer_can_modify", json!(false)),
                ("commits", json!(p.commits.len())),
                ("additions", json!(0)),
                ("deletions", json!(0)),
                ("changed_files", json!(0)),
            ] {
                object.insert(key.to_string(), extra);
            }
        }
        value
    }

    pub(super) fn create_pull(
        &mut self,
        req: &Request,
        meta: &RepoMeta,
        identity: Identity,
    ) -> Answer {
        if !meta.permissions.push {
            return Err(error(
                403,
                "Resource not accessible by personal access token",
            ));
        }
        let body = body_object(req)?;
        let invalid = |field: &str, code: &str| {
            validation_failed(json!([{"resource": "PullRequest", "field": field, "code": code}]))
        };
        let custom = |message: String| {
            validation_failed(
                json!([{"resource": "PullRequest", "code": "custom", "message": message}]),
            )
        };
        let title = optional_str(&body, "title")?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| invalid("title", "missing_field"))?;
        let head = optional_str(&body, "head")?.ok_or_else(|| invalid("head", "missing_field"))?;
        let base = optional_str(&body, "base")?.ok_or_else(|| invalid("base", "missing_field"))?;
        // `owner:branch` names the head in the same network; only this repository's is kept.
        let head_ref = match head.split_once(':') {
            Some((owner, branch)) if owner.eq_ignore_ascii_case(&meta.owner) => branch.to_string(),
            Some(_) => return Err(invalid("head", "invalid")),
            None => head.clone(),
        };
        let repo = open(meta)?;
        let tip = |name: &str| repo.refname_to_id(&format!("refs/heads/{name}")).ok();
        let head_sha = tip(&head_ref).ok_or_else(|| invalid("head", "invalid"))?;
        let base_sha = tip(&base).ok_or_else(|| invalid("base", "invalid"))?;
        let commits = range(&repo, base_sha, head_sha);
        if commits.is_empty() {
            return Err(custom(format!("No commits between {base} and {head_ref}")));
        }
        let open_already = self
            .rs(meta)?
            .pulls
            .iter()
            .any(|p| p.state == "open" && p.head_ref == head_ref && p.base_ref == base);
        if open_already {
            return Err(custom(format!(
                "A pull request already exists for {}:{head_ref}.",
                meta.owner
            )));
        }
        let id = self.next_id();
        let number = self.next_number(meta);
        let pull = PullRequest {
            id,
            number,
            title,
            body: optional_str(&body, "body")?,
            state: "open".into(),
            head_ref,
            head_sha: head_sha.to_string(),
            base_ref: base,
            base_sha: base_sha.to_string(),
            commits,
            merged_at: None,
            merge_commit_sha: None,
            user: actor_login(identity).to_string(),
            created_at: iso(now_secs()),
        };
        let value = self.full_pull_json(meta, &pull);
        self.rs(meta)?.pulls.push(pull);
        Ok(Response::json(201, &value)
            .with_header("location", self.api(meta, &format!("pulls/{number}"))))
    }

    pub(super) fn list_pulls(&mut self, req: &Request, meta: &RepoMeta) -> Answer {
        let state = req.query_param("state").unwrap_or_else(|| "open".into());
        if !matches!(state.as_str(), "open" | "closed" | "all") {
            return Err(validation_failed(
                json!([{"resource": "Search", "field": "state", "code": "invalid"}]),
            ));
        }
        // `head` is `user:ref-name`; a head without the user matches nothing, as on GitHub.
        let head = req.query_param("head");
        let base = req.query_param("base");
        let mut pulls: Vec<PullRequest> = self
            .rs(meta)?
            .pulls
            .iter()
            .filter(|p| state == "all" || p.state == state)
            .filter(|p| {
                head.as_deref().is_none_or(|h| {
                    h.split_once(':').is_some_and(|(owner, branch)| {
                        owner.eq_ignore_ascii_case(&meta.owner) && branch == p.head_ref
                    })
                })
            })
            .filter(|p| base.as_deref().is_none_or(|b| b == p.base_ref))
            .cloned()
            .collect();
        pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
        let (page, link) = self.paginate(req, pulls, 30, 100);
        let items: Vec<Value> = page.iter().map(|p| self.pull_json(meta, p)).collect();
        Ok(with_link(Response::json(200, &Value::Array(items)), link))
    }

    pub(super) fn commit_pulls(&mut self, req: &Request, meta: &RepoMeta, sha: &str) -> Answer {
        let repo = open(meta)?;
        let commit = resolve_commitish(&repo, sha)
            .ok_or_else(|| error(422, &format!("No commit found for SHA: {sha}")))?;
        let on_default = repo
            .refname_to_id(&format!("refs/heads/{}", meta.default_branch))
            .is_ok_and(|tip| {
                tip == commit || repo.graph_descendant_of(tip, commit).unwrap_or(false)
            });
        let id = commit.to_string();
        let pulls: Vec<PullRequest> = self
            .rs(meta)?
            .pulls
            .iter()
            .filter(|p| p.commits.contains(&id) || p.merge_commit_sha.as_deref() == Some(&id))
            .filter(|p| p.merged_at.is_some() || (!on_default && p.state == "open"))
            .cloned()
            .collect();
        let (page, link) = self.paginate(req, pulls, 30, 100);
        let items: Vec<Value> = page.iter().map(|p| self.pull_json(meta, p)).collect();
        Ok(with_link(Response::json(200, &Value::Array(items)), link))
    }
}

/// The commits `head` has and `base` lacks, oldest first.
fn range(repo: &git2::Repository, base: Oid, head: Oid) -> Vec<String> {
    let Ok(mut walk) = repo.revwalk() else {
        return Vec::new();
    };
    if walk.push(head).is_err() || walk.hide(base).is_err() {
        return Vec::new();
    }
    let _ = walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE);
    walk.flatten().map(|o| o.to_string()).collect()
}

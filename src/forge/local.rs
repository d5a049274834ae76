//! The embedded local forge: component and stack repositories are git repositories on disk, read
//! and written with git2. CI results are git notes (`refs/notes/ci`), so gates are real and a test
//! or a person can flip them with `git notes --ref ci add -m success <commit>`; deployment
//! records are notes too (`refs/notes/stackrel-deployments`), so `stackrel status` reads back what
//! was deployed from the repository itself. Every write is conditional, like on GitHub.

use super::{
    Change, Changes, CiStatus, CommitId, CommitRange, CommitSummary, DeploymentRecord,
    FileAtCommit, FileWrite, Forge, ForgeError, ForgeResult, NewRelease, ReleaseInfo, TagRef,
};
use crate::config::RepoLocation;
use crate::lock::{Holder, Lock, LockError};
use git2::{ErrorCode, Oid, Repository};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const CI_NOTES_REF: &str = "refs/notes/ci";
pub const DEPLOYMENTS_NOTES_REF: &str = "refs/notes/stackrel-deployments";

pub struct LocalForge {
    /// Relative repository paths are relative to the desired-state repository.
    base_dir: PathBuf,
    /// git2 operations performed, for the benchmark's "operations per reconcile".
    operations: Cell<u64>,
}

impl LocalForge {
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        LocalForge {
            base_dir: base_dir.into(),
            operations: Cell::new(0),
        }
    }

    pub fn operations(&self) -> u64 {
        self.operations.get()
    }

    fn path_of(&self, repo: &RepoLocation) -> ForgeResult<PathBuf> {
        match repo {
            RepoLocation::Local(path) => {
                let path = Path::new(path);
                Ok(if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    self.base_dir.join(path)
                })
            }
            RepoLocation::GitHub { owner, name } => Err(ForgeError::Unsupported(format!(
                "{owner}/{name} is a GitHub repository, but this run uses the local backend; write a local path (./…) in stackrel.toml"
            ))),
        }
    }

    fn open(&self, repo: &RepoLocation) -> ForgeResult<Repository> {
        self.count();
        let path = self.path_of(repo)?;
        Repository::open(&path).map_err(|e| ForgeError::NotFound {
            what: format!("git repository {} ({})", path.display(), e.message()),
        })
    }

    /// The names of the repository's local branches, for suggesting one when a configured
    /// branch is not there.
    pub fn branches(&self, repo: &RepoLocation) -> ForgeResult<Vec<String>> {
        let r = self.open(repo)?;
        self.count();
        let branches = r
            .branches(Some(git2::BranchType::Local))
            .map_err(git("listing branches"))?;
        Ok(branches
            .filter_map(|b| b.ok()?.0.name().ok()?.map(str::to_owned))
            .collect())
    }

    fn count(&self) {
        self.operations.set(self.operations.get() + 1);
    }
}

fn git(context: &str) -> impl Fn(git2::Error) -> ForgeError + '_ {
    move |e| ForgeError::git(context, e)
}

fn oid(commit: &str) -> ForgeResult<Oid> {
    Oid::from_str(commit).map_err(|_| ForgeError::Other(format!("`{commit}` is not a commit id")))
}

fn branch_oid(repo: &Repository, branch: &str) -> ForgeResult<Oid> {
    let name = format!("refs/heads/{branch}");
    match repo.refname_to_id(&name) {
        Ok(id) => Ok(id),
        Err(e) if e.code() == ErrorCode::NotFound => Err(ForgeError::NotFound {
            what: format!("branch {branch}"),
        }),
        Err(e) => Err(ForgeError::git(format!("reading branch {branch}"), e)),
    }
}

fn signature(repo: &Repository) -> ForgeResult<git2::Signature<'static>> {
    // The repository's configured identity if any, so pin commits look like the team's own.
    repo.signature()
        .or_else(|_| git2::Signature::now("stackrel", "stackrel@localhost"))
        .map_err(git("making a commit signature"))
}

impl Forge for LocalForge {
    fn resolve_tag(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<CommitId>> {
        let r = self.open(repo)?;
        self.count();
        let reference = match r.find_reference(&format!("refs/tags/{tag}")) {
            Ok(reference) => reference,
            Err(e) if e.code() == ErrorCode::NotFound || e.code() == ErrorCode::InvalidSpec => {
                return Ok(None);
            }
            Err(e) => return Err(ForgeError::git(format!("reading tag {tag}"), e)),
        };
        let commit = reference
            .peel_to_commit()
            .map_err(git("peeling the tag to a commit"))?;
        Ok(Some(commit.id().to_string()))
    }

    fn branch_head(&self, repo: &RepoLocation, branch: &str) -> ForgeResult<CommitId> {
        let r = self.open(repo)?;
        self.count();
        Ok(branch_oid(&r, branch)?.to_string())
    }

    fn is_reachable(&self, repo: &RepoLocation, commit: &str, branch: &str) -> ForgeResult<bool> {
        let r = self.open(repo)?;
        self.count();
        let head = branch_oid(&r, branch)?;
        let commit = oid(commit)?;
        Ok(head == commit
            || r.graph_descendant_of(head, commit)
                .map_err(git("checking ancestry"))?)
    }

    fn ci_status(
        &self,
        repo: &RepoLocation,
        commit: &str,
        workflow: &str,
    ) -> ForgeResult<CiStatus> {
        let r = self.open(repo)?;
        self.count();
        let note = match r.find_note(Some(CI_NOTES_REF), oid(commit)?) {
            Ok(note) => note,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(CiStatus::Missing),
            Err(e) => return Err(ForgeError::git("reading CI notes", e)),
        };
        let text = note.message().unwrap_or_default().to_string();
        Ok(parse_ci_note(&text, workflow))
    }

    fn read_file(
        &self,
        repo: &RepoLocation,
        commit: &str,
        path: &str,
    ) -> ForgeResult<Option<FileAtCommit>> {
        let r = self.open(repo)?;
        self.count();
        let commit_obj = r
            .find_commit(oid(commit)?)
            .map_err(git("finding the commit"))?;
        let tree = commit_obj
            .tree()
            .map_err(git("reading the commit's tree"))?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(ForgeError::git(format!("looking up {path}"), e)),
        };
        let blob = r.find_blob(entry.id()).map_err(git("reading the file"))?;
        let text = String::from_utf8(blob.content().to_vec()).map_err(|_| {
            ForgeError::Other(format!(
                "{path} at {} is not UTF-8 text",
                super::short(commit)
            ))
        })?;
        Ok(Some(FileAtCommit {
            text,
            blob: entry.id().to_string(),
            commit: commit.to_string(),
        }))
    }

    fn write_file(&self, repo: &RepoLocation, write: &FileWrite<'_>) -> ForgeResult<CommitId> {
        let r = self.open(repo)?;
        self.count();
        let head = branch_oid(&r, write.branch)?;
        let head_commit = r.find_commit(head).map_err(git("reading the branch tip"))?;
        let tree = head_commit
            .tree()
            .map_err(git("reading the branch tip's tree"))?;
        let current = tree
            .get_path(Path::new(write.path))
            .map(|e| e.id().to_string())
            .unwrap_or_default();
        if current != write.expected_blob {
            return Err(ForgeError::Conflict {
                what: format!("{} on {}", write.path, write.branch),
                expected: write.expected_blob.to_string(),
                found: current,
            });
        }
        let blob = r
            .blob(write.content.as_bytes())
            .map_err(git("storing the new file"))?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        update.upsert(write.path, blob, git2::FileMode::Blob);
        let new_tree_id = update
            .create_updated(&r, &tree)
            .map_err(git("building the new tree"))?;
        let new_tree = r
            .find_tree(new_tree_id)
            .map_err(git("reading the new tree"))?;
        let sig = signature(&r)?;
        let commit = r
            .commit(None, &sig, &sig, write.message, &new_tree, &[&head_commit])
            .map_err(git("creating the pin commit"))?;
        // Move the branch only if it is still where we read it: a push that landed in between
        // makes this fail, and the caller re-reads and re-plans.
        match r.reference_matching(
            &format!("refs/heads/{}", write.branch),
            commit,
            true,
            head,
            "stackrel: pin",
        ) {
            Ok(_) => Ok(commit.to_string()),
            Err(e) if e.code() == ErrorCode::Modified || e.code() == ErrorCode::Locked => {
                Err(ForgeError::Conflict {
                    what: format!("branch {}", write.branch),
                    expected: head.to_string(),
                    found: branch_oid(&r, write.branch)
                        .map(|o| o.to_string())
                        .unwrap_or_default(),
                })
            }
            Err(e) => Err(ForgeError::git("moving the branch", e)),
        }
    }

    fn tags(&self, repo: &RepoLocation) -> ForgeResult<Vec<TagRef>> {
        let r = self.open(repo)?;
        self.count();
        let references = r
            .references_glob("refs/tags/*")
            .map_err(git("listing tags"))?;
        let mut tags = Vec::new();
        for reference in references {
            let reference = reference.map_err(git("listing tags"))?;
            let Ok(name) = reference.shorthand() else {
                continue;
            };
            // A tag of something other than a commit (a tree, a blob) is no release.
            if let Ok(commit) = reference.peel_to_commit() {
                tags.push(TagRef {
                    name: name.to_string(),
                    commit: commit.id().to_string(),
                });
            }
        }
        Ok(tags)
    }

    fn commits_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<CommitRange> {
        let r = self.open(repo)?;
        self.count();
        let mut walk = r.revwalk().map_err(git("walking history"))?;
        walk.push(oid(head)?).map_err(git("walking history"))?;
        walk.hide(oid(base)?).map_err(git("walking history"))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(git("walking history"))?;
        let mut range = CommitRange::default();
        for id in walk {
            let id = id.map_err(git("walking history"))?;
            range.total += 1;
            if range.commits.len() < limit {
                let commit = r.find_commit(id).map_err(git("reading a commit"))?;
                range.commits.push(CommitSummary {
                    id: id.to_string(),
                    subject: commit
                        .summary()
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        }
        Ok(range)
    }

    fn list_files(&self, repo: &RepoLocation, commit: &str, dir: &str) -> ForgeResult<Vec<String>> {
        let r = self.open(repo)?;
        self.count();
        let tree = r
            .find_commit(oid(commit)?)
            .and_then(|c| c.tree())
            .map_err(git("reading the commit's tree"))?;
        let dir_tree = match tree.get_path(Path::new(dir)) {
            Ok(entry) => entry.to_object(&r).and_then(|o| o.peel_to_tree()),
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ForgeError::other(format!("looking up {dir}"), e.message())),
        };
        let Ok(dir_tree) = dir_tree else {
            return Ok(Vec::new());
        };
        Ok(dir_tree
            .iter()
            .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
            .filter_map(|e| e.name().ok().map(|name| format!("{dir}/{name}")))
            .collect())
    }

    fn create_release(&self, repo: &RepoLocation, release: &NewRelease<'_>) -> ForgeResult<()> {
        let r = self.open(repo)?;
        self.count();
        let target = r
            .find_object(oid(release.commit)?, Some(git2::ObjectType::Commit))
            .map_err(git("finding the pin commit"))?;
        let sig = signature(&r)?;
        let message = format!("{}\n\n{}", release.title, release.body);
        // `force = false`: never move an existing tag. Its absence was observed, but another
        // writer may have created it since; the caller re-observes on AlreadyExists.
        match r.tag(release.tag, &target, &sig, &message, false) {
            Ok(_) => Ok(()),
            Err(e) if e.code() == ErrorCode::Exists => Err(ForgeError::AlreadyExists {
                what: format!("tag {}", release.tag),
            }),
            Err(e) => Err(ForgeError::git(format!("creating tag {}", release.tag), e)),
        }
    }

    fn find_release(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<ReleaseInfo>> {
        // Locally the tag is the release; stackrel's are annotated, with its notes as message.
        let r = self.open(repo)?;
        self.count();
        let reference = match r.find_reference(&format!("refs/tags/{tag}")) {
            Ok(reference) => reference,
            Err(e) if e.code() == ErrorCode::NotFound || e.code() == ErrorCode::InvalidSpec => {
                return Ok(None);
            }
            Err(e) => return Err(ForgeError::other(format!("reading tag {tag}"), e.message())),
        };
        let message = reference
            .peel_to_tag()
            .ok()
            .and_then(|t| t.message().ok().flatten().map(String::from))
            .unwrap_or_default();
        Ok(Some(ReleaseInfo {
            by_stackrel: message.lines().any(|l| l.trim() == super::RELEASED_BY),
        }))
    }

    fn record_deployment(&self, repo: &RepoLocation, record: &DeploymentRecord) -> ForgeResult<()> {
        let r = self.open(repo)?;
        self.count();
        // Appending is read-modify-write of one note, and libgit2 replaces notes unconditionally:
        // hold a lock file so a daemon and a person's `apply` cannot lose each other's records.
        let _lock = records_lock(r.path())?;
        let target = oid(&record.commit)?;
        let mut records: Vec<DeploymentRecord> = match r
            .find_note(Some(DEPLOYMENTS_NOTES_REF), target)
        {
            Ok(note) => serde_json::from_str(note.message().unwrap_or("[]")).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        records.push(record.clone());
        let text = serde_json::to_string_pretty(&records)
            .map_err(|e| ForgeError::other("encoding the record", e))?;
        let sig = signature(&r)?;
        r.note(&sig, &sig, Some(DEPLOYMENTS_NOTES_REF), target, &text, true)
            .map_err(git("writing the deployment record"))?;
        Ok(())
    }

    fn changes_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<Changes> {
        let r = self.open(repo)?;
        self.count();
        // A commit id, or a tag's name: the range's ends are often the component's tags.
        let commit_of = |spec: &str| match r.revparse_single(spec).and_then(|o| o.peel_to_commit())
        {
            Ok(commit) => Ok(commit.id()),
            Err(e) if e.code() == ErrorCode::NotFound => Err(ForgeError::NotFound {
                what: format!("{spec} in {repo}"),
            }),
            Err(e) => Err(ForgeError::git(format!("finding {spec}"), e)),
        };
        let mut walk = r.revwalk().map_err(git("walking history"))?;
        walk.push(commit_of(head)?)
            .map_err(git("walking history"))?;
        walk.hide(commit_of(base)?)
            .map_err(git("walking history"))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(git("walking history"))?;
        // The mainline only: a merge commit stands for the commits it merged.
        walk.simplify_first_parent()
            .map_err(git("walking history"))?;
        let ids: Vec<Oid> = walk
            .collect::<Result<_, _>>()
            .map_err(git("walking history"))?;
        let mut changes = Changes {
            total: ids.len(),
            changes: Vec::new(),
        };
        // The newest `limit`, still oldest first: the notes are about what this release brings.
        for &id in &ids[ids.len().saturating_sub(limit)..] {
            let commit = r.find_commit(id).map_err(git("reading a commit"))?;
            changes.changes.push(Change {
                commit: id.to_string(),
                message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
                // On disk there are no pull requests; a merge commit's message may name one.
                pull: None,
            });
        }
        Ok(changes)
    }

    fn create_branch(&self, repo: &RepoLocation, branch: &str, commit: &str) -> ForgeResult<()> {
        let r = self.open(repo)?;
        self.count();
        let target = r
            .find_commit(oid(commit)?)
            .map_err(git("finding the branch's commit"))?;
        match r.branch(branch, &target, false) {
            Ok(_) => Ok(()),
            Err(e) if e.code() == ErrorCode::Exists => Err(ForgeError::AlreadyExists {
                what: format!("branch {branch}"),
            }),
            Err(e) => Err(ForgeError::git(format!("creating branch {branch}"), e)),
        }
    }

    fn deployments(&self, repo: &RepoLocation) -> ForgeResult<Vec<DeploymentRecord>> {
        let r = self.open(repo)?;
        self.count();
        let notes = match r.notes(Some(DEPLOYMENTS_NOTES_REF)) {
            Ok(notes) => notes,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ForgeError::git("listing deployment records", e)),
        };
        let mut records = Vec::new();
        for item in notes {
            let (note_id, _annotated) = item.map_err(git("listing deployment records"))?;
            let blob = r
                .find_blob(note_id)
                .map_err(git("reading a deployment record"))?;
            let parsed: Vec<DeploymentRecord> = serde_json::from_slice(blob.content())
                .map_err(|e| ForgeError::decode("a deployment record is not valid JSON", e))?;
            records.extend(parsed);
        }
        // RFC 3339 timestamps in UTC sort as text.
        records.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(records)
    }

    fn lock_deploys(&self, repo: &RepoLocation, holder: &Holder) -> ForgeResult<Option<Lock>> {
        let mut result = Err(ForgeError::Other("no place for the deploy lock".into()));
        for path in self.deploy_lock_paths(repo)? {
            result = match Lock::try_acquire(&path, holder) {
                Ok(lock) => return Ok(Some(lock)),
                Err(LockError::Held { holder, .. }) => {
                    return Err(ForgeError::Locked {
                        what: format!("deploying {repo}"),
                        holder: Box::new(holder),
                    });
                }
                // A checkout that cannot be written: the next place, if there is one.
                Err(e) => Err(ForgeError::other("taking the deploy lock", e)),
            };
        }
        result
    }

    fn deploy_lock_holder(&self, repo: &RepoLocation) -> ForgeResult<Option<Holder>> {
        for path in self.deploy_lock_paths(repo)? {
            match Lock::holder(&path) {
                Ok(Some(holder)) => return Ok(Some(holder)),
                Ok(None) => {}
                Err(e) => return Err(ForgeError::other("reading the deploy lock", e)),
            }
        }
        Ok(None)
    }
}

impl LocalForge {
    /// Where the stack's deploy lock may be, in order: in its git directory when it is local;
    /// in the desired-state checkout's when it is on GitHub, so that runs sharing one checkout
    /// exclude each other, or, when that checkout cannot be written (a read-only mount), in the
    /// temporary directory, shared by the runs on this machine.
    fn deploy_lock_paths(&self, repo: &RepoLocation) -> ForgeResult<Vec<PathBuf>> {
        Ok(match repo {
            RepoLocation::Local(_) => vec![self.open(repo)?.commondir().join(DEPLOY_LOCK)],
            RepoLocation::GitHub { owner, name } => {
                let checkout = Repository::discover(&self.base_dir)
                    .map(|r| r.commondir().to_path_buf())
                    .unwrap_or_else(|_| self.base_dir.clone());
                let shared = format!("stackrel-deploy-{owner}-{name}.lock");
                let mut paths = vec![checkout.join(DEPLOY_LOCK)];
                paths.extend(private_temp_dir().map(|dir| dir.join(shared)));
                paths
            }
        })
    }
}

/// This user's own directory under the temporary directory (created 0700), for the deploy lock
/// of a read-only checkout: a lock in a directory others can write could be held, or replaced
/// by a symbolic link, by another user. `None` when it is not this user's alone.
#[cfg(unix)]
fn private_temp_dir() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("stackrel-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    let private = meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o077 == 0;
    private.then_some(dir)
}

#[cfg(not(unix))]
fn private_temp_dir() -> Option<PathBuf> {
    Some(std::env::temp_dir())
}

/// The file of the deploy lock, beside the records' lock.
const DEPLOY_LOCK: &str = "stackrel-deploy.lock";

/// Appending a record is read-modify-write of one note: held by a live process only for that.
fn records_lock(git_dir: &Path) -> ForgeResult<Lock> {
    let path = git_dir.join("stackrel-deployments.lock");
    Lock::acquire(&path, &Holder::this_process(), Duration::from_secs(10)).map_err(|e| match e {
        LockError::Held { holder, .. } => ForgeError::Locked {
            what: "the deployment records".into(),
            holder: Box::new(holder),
        },
        e => ForgeError::other("locking the deployment records", e),
    })
}

/// A CI note is `success`, `failure`, `pending`, or lines of `<workflow>: <state>` when several
/// workflows report on one commit.
pub fn parse_ci_note(text: &str, workflow: &str) -> CiStatus {
    let mut general = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.rsplit_once(':') {
            Some((name, state)) if name.trim() == workflow => return ci_state(state.trim()),
            Some(_) => {}
            None => general = Some(ci_state(line)),
        }
    }
    general.unwrap_or(CiStatus::Missing)
}

fn ci_state(word: &str) -> CiStatus {
    match word {
        "success" => CiStatus::Success,
        "pending" | "queued" | "in_progress" => CiStatus::Pending,
        other => CiStatus::Failure(format!("CI note says `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_note_word_applies_to_any_workflow() {
        assert_eq!(
            parse_ci_note("success\n", "build production"),
            CiStatus::Success
        );
        assert_eq!(parse_ci_note("pending", "x"), CiStatus::Pending);
        assert!(matches!(
            parse_ci_note("failure", "x"),
            CiStatus::Failure(_)
        ));
    }

    #[test]
    fn ci_note_lines_name_workflows() {
        let note = "build production: failure\nbuild main: success\n";
        assert_eq!(parse_ci_note(note, "build main"), CiStatus::Success);
        assert!(matches!(
            parse_ci_note(note, "build production"),
            CiStatus::Failure(_)
        ));
        assert_eq!(parse_ci_note(note, "lint"), CiStatus::Missing);
    }
}

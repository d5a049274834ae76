//! The demo sandbox as tests see it: built fresh in a temporary directory, read the way
//! `stackrel` reads it, changed the way a person or another writer would change it, and inspected
//! with git2 directly, so that what a test asserts comes from the repositories themselves and not
//! from stackrel's own view of them.

use git2::{Oid, Repository, Signature};
use stackrel::apply::ApplyOutcome;
use stackrel::config::{Config, RepoLocation};
use stackrel::demo::{Sandbox, build_sandbox, release_text};
use stackrel::forge::local::LocalForge;
use stackrel::forge::{DeploymentRecord, Forge};
use stackrel::release::Release;
use stackrel::tree::DesiredRepo;
use stackrel::validate::validate;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Building and reading
// ---------------------------------------------------------------------------------------------

/// A fresh sandbox in a temporary directory: a stack, two components, and a desired-state
/// repository whose newest release, 2026.08.2, is valid and not yet live.
pub fn sandbox() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sandbox = build_sandbox(&dir.path().join("sandbox")).expect("the sandbox builds");
    (dir, sandbox)
}

/// The sandbox layout under `root` (which must exist), as `stackrel demo DIR` leaves it and as
/// the Fragalysis replica builds it.
pub fn sandbox_at(root: &Path) -> Sandbox {
    let root = root.canonicalize().expect("the sandbox's root exists");
    Sandbox {
        desired: root.join("desired"),
        stack: root.join("stack.git"),
        backend: root.join("backend.git"),
        frontend: root.join("frontend.git"),
        root,
    }
}

/// The committed desired state, as `stackrel apply` reads it; it must be valid.
pub fn load(sandbox: &Sandbox) -> (Config, Vec<Release>) {
    let desired = DesiredRepo::open(&sandbox.desired).unwrap();
    let head = desired.commit("HEAD").unwrap();
    let state = validate(&desired.read_commit(&head).unwrap());
    assert!(
        state.is_valid(),
        "the desired state is valid: {:#?}",
        state.diagnostics
    );
    (state.config.unwrap(), state.releases)
}

#[track_caller]
pub fn assert_converged(outcome: &ApplyOutcome) {
    assert!(
        matches!(outcome, ApplyOutcome::Converged { .. }),
        "expected convergence, got {outcome:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Changing it as a person would
// ---------------------------------------------------------------------------------------------

pub fn commit_release(sandbox: &Sandbox, version: &str, backend: &str, frontend: &str) {
    let path = format!("releases/{version}.toml");
    sandbox
        .commit_desired(
            &[(&path, &release_text(backend, frontend, "test"))],
            &format!("Release {version}"),
        )
        .unwrap();
}

/// Declares 2026.08.3 with the backend tag 2026.08.9, which is on staging only: preflight
/// blocks it, so a daemon started on this sandbox is ready without having changed anything.
pub fn commit_blocked_release(sandbox: &Sandbox) {
    commit_release(sandbox, "2026.08.3", "2026.08.9", "2026.08.2");
}

/// Commits stackrel.toml with `extra` appended (the demo config has no `[daemon]` table).
pub fn commit_config_with(sandbox: &Sandbox, extra: &str, message: &str) {
    let config = std::fs::read_to_string(sandbox.desired.join("stackrel.toml")).unwrap();
    let config = format!("{config}\n{extra}\n");
    sandbox
        .commit_desired(&[("stackrel.toml", &config)], message)
        .unwrap();
}

#[cfg(unix)]
/// Replaces the demo deployer in the working directory (the command runs from there; it is
/// not read from git) with one that announces itself, then takes `seconds` before deploying.
pub fn slow_deployer(sandbox: &Sandbox, seconds: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let started = sandbox.root.join("deploy-started");
    let script = format!(
        "#!/bin/sh\nset -eu\ntouch ../deploy-started\nsleep {seconds}\n\
         echo \"stack=$1 backend=$2 frontend=$3\" > ../production.txt\n\
         echo \"$1\" >> ../deploys.log\necho \"deployed stack $1\"\n"
    );
    let path = sandbox.desired.join("deploy.sh");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    started
}

#[cfg(unix)]
/// Does what a git-sync sidecar does on each sync: checks the desired state's current commit
/// out into a new worktree beside the others, then atomically swaps the `current` symlink to it.
/// Worktrees sit beside the sandbox's repositories, so the config's `../stack.git` still
/// resolves.
pub fn git_sync(sandbox: &Sandbox, n: u32) -> PathBuf {
    let worktree = sandbox.root.join(format!(".worktree-{n}"));
    Repository::clone(sandbox.desired.to_str().unwrap(), &worktree).unwrap();
    let link = sandbox.root.join("current");
    let staged = sandbox.root.join("current.tmp");
    std::os::unix::fs::symlink(&worktree, &staged).unwrap();
    std::fs::rename(&staged, &link).unwrap();
    link
}

/// Commits files onto the stack's master as someone else would push them.
pub fn push_to_stack(stack: &Path, files: &[(&str, &str)], message: &str) -> Oid {
    commit_as_someone_else(stack, message, |repo, update| {
        for (path, text) in files {
            update.upsert(
                *path,
                repo.blob(text.as_bytes()).unwrap(),
                git2::FileMode::Blob,
            );
        }
    })
}

/// Removes a file from the stack's master as someone else would.
pub fn remove_from_stack(stack: &Path, path: &str, message: &str) -> Oid {
    commit_as_someone_else(stack, message, |_, update| {
        update.remove(path);
    })
}

fn commit_as_someone_else(
    stack: &Path,
    message: &str,
    edit: impl FnOnce(&Repository, &mut git2::build::TreeUpdateBuilder),
) -> Oid {
    let repo = Repository::open(stack).unwrap();
    let parent = repo
        .find_reference("refs/heads/master")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    edit(&repo, &mut update);
    let tree = repo
        .find_tree(
            update
                .create_updated(&repo, &parent.tree().unwrap())
                .unwrap(),
        )
        .unwrap();
    let sig = Signature::now("Someone Else", "someone@example.org").unwrap();
    repo.commit(
        Some("refs/heads/master"),
        &sig,
        &sig,
        message,
        &tree,
        &[&parent],
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Looking at it with git2
// ---------------------------------------------------------------------------------------------

/// Every ref of a repository (branches, tags, notes) and what it points at.
pub fn refs(path: &Path) -> BTreeMap<String, String> {
    let repo = Repository::open(path).unwrap();
    let mut out = BTreeMap::new();
    for reference in repo.references().unwrap() {
        let reference = reference.unwrap();
        let target = reference
            .target()
            .map(|o| o.to_string())
            .or_else(|| {
                reference
                    .symbolic_target()
                    .ok()
                    .flatten()
                    .map(str::to_string)
            })
            .unwrap_or_default();
        out.insert(reference.name().unwrap().to_string(), target);
    }
    out
}

/// Every ref of the stack repository: pins are commits, releases are tags.
pub fn stack_refs(sandbox: &Sandbox) -> BTreeMap<String, String> {
    refs(&sandbox.stack)
}

/// The refs of the backend and frontend repositories, which stackrel only ever reads.
pub fn component_refs(sandbox: &Sandbox) -> BTreeMap<String, String> {
    named_refs(&[
        ("backend", &sandbox.backend),
        ("frontend", &sandbox.frontend),
    ])
}

/// The refs of every repository stackrel could write to.
pub fn all_refs(sandbox: &Sandbox) -> BTreeMap<String, String> {
    named_refs(&[
        ("stack", &sandbox.stack),
        ("backend", &sandbox.backend),
        ("frontend", &sandbox.frontend),
    ])
}

fn named_refs(repos: &[(&str, &PathBuf)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, path) in repos {
        for (r, target) in refs(path) {
            out.insert(format!("{name}:{r}"), target);
        }
    }
    out
}

/// The stack's deployment records, oldest first, as stackrel keeps them (git notes).
pub fn deployment_records(sandbox: &Sandbox) -> Vec<DeploymentRecord> {
    let stack = RepoLocation::Local(sandbox.stack.to_string_lossy().into_owned());
    LocalForge::new(&sandbox.desired)
        .deployments(&stack)
        .expect("the deployment records are readable")
}

/// The tip of the stack's master.
pub fn master(sandbox: &Sandbox) -> Oid {
    Repository::open(&sandbox.stack)
        .unwrap()
        .refname_to_id("refs/heads/master")
        .unwrap()
}

/// The commit a tag of the repository at `path` points at, if the tag exists.
pub fn tag_commit(path: &Path, tag: &str) -> Option<Oid> {
    let repo = Repository::open(path).ok()?;
    let object = repo.revparse_single(&format!("refs/tags/{tag}")).ok()?;
    object.peel_to_commit().ok().map(|c| c.id())
}

/// The stack's tags (peeled to commits) by name.
pub fn tags(sandbox: &Sandbox) -> BTreeMap<String, Oid> {
    let repo = Repository::open(&sandbox.stack).unwrap();
    let names = repo.tag_names(None).unwrap();
    names
        .iter()
        .map(|name| name.unwrap().unwrap())
        .map(|name| (name.to_string(), tag_commit(&sandbox.stack, name).unwrap()))
        .collect()
}

/// Commits on the stack's master since `start`, newest first.
pub fn commits_since(sandbox: &Sandbox, start: Oid) -> Vec<Oid> {
    let repo = Repository::open(&sandbox.stack).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_ref("refs/heads/master").unwrap();
    walk.hide(start).unwrap();
    walk.map(Result::unwrap).collect()
}

/// A file of the stack at a commit, if it is there.
pub fn file_at(sandbox: &Sandbox, commit: Oid, path: &str) -> Option<String> {
    let repo = Repository::open(&sandbox.stack).unwrap();
    let tree = repo.find_commit(commit).unwrap().tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).unwrap();
    Some(String::from_utf8(blob.content().to_vec()).unwrap())
}

/// Paths that differ between a stack commit and its first parent.
pub fn changed_paths(sandbox: &Sandbox, commit: Oid) -> Vec<String> {
    let repo = Repository::open(&sandbox.stack).unwrap();
    let commit = repo.find_commit(commit).unwrap();
    let parent = commit.parent(0).unwrap();
    let diff = repo
        .diff_tree_to_tree(
            Some(&parent.tree().unwrap()),
            Some(&commit.tree().unwrap()),
            None,
        )
        .unwrap();
    diff.deltas()
        .map(|d| d.new_file().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// A demo workflow `text` with its two top-level pins moved from what the sandbox starts with
/// (backend 2026.07.1, frontend 2026.08.1) to backend 2026.08.1 and frontend 2026.08.2, and
/// nothing else changed: what a pin commit must contain.
pub fn pinned(text: &str) -> String {
    let be = "  BE_IMAGE_TAG: 2026.07.1\n";
    let fe = "  FE_IMAGE_TAG: 2026.08.1\n";
    assert_eq!(text.matches(be).count(), 1);
    assert_eq!(text.matches(fe).count(), 1);
    text.replace(be, "  BE_IMAGE_TAG: 2026.08.1\n")
        .replace(fe, "  FE_IMAGE_TAG: 2026.08.2\n")
}

/// Commits onto `branch` of a component's bare repository as its developers would, with
/// `message` (a merge commit when `second_parent` is given), and tags it `tag` with a CI note
/// (`success`, `failure`, …) when `ci` is given. Returns the commit.
pub fn commit_component(
    path: &Path,
    branch: &str,
    message: &str,
    second_parent: Option<Oid>,
    tag: Option<(&str, Option<&str>)>,
) -> Oid {
    let repo = Repository::open(path).unwrap();
    let refname = format!("refs/heads/{branch}");
    let parent = repo
        .find_reference(&refname)
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    let blob = repo.blob(message.as_bytes()).unwrap();
    update.upsert("CHANGES", blob, git2::FileMode::Blob);
    let tree = repo
        .find_tree(
            update
                .create_updated(&repo, &parent.tree().unwrap())
                .unwrap(),
        )
        .unwrap();
    let sig = Signature::now("A Developer", "dev@example.org").unwrap();
    let other = second_parent.map(|o| repo.find_commit(o).unwrap());
    let mut parents = vec![&parent];
    parents.extend(other.as_ref());
    let commit = repo
        .commit(Some(&refname), &sig, &sig, message, &tree, &parents)
        .unwrap();
    if let Some((tag, ci)) = tag {
        repo.reference(&format!("refs/tags/{tag}"), commit, false, "tag")
            .unwrap();
        if let Some(ci) = ci {
            repo.note(
                &sig,
                &sig,
                Some(stackrel::forge::local::CI_NOTES_REF),
                commit,
                ci,
                true,
            )
            .unwrap();
        }
    }
    commit
}

/// A commit on a side branch of a component (a pull request's own commit), off `from`.
pub fn side_commit(path: &Path, from: Oid, message: &str) -> Oid {
    let repo = Repository::open(path).unwrap();
    let parent = repo.find_commit(from).unwrap();
    let sig = Signature::now("A Developer", "dev@example.org").unwrap();
    let tree = parent.tree().unwrap();
    repo.commit(None, &sig, &sig, message, &tree, &[&parent])
        .unwrap()
}

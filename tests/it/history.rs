//! `stackrel history` is the audit trail of production releases, so it is checked against real
//! git histories built commit by commit: merges (true and fast-forward), renames, deletions,
//! edits after the fact, broken files and a desired state living in a subdirectory. Each test
//! names the behaviour it pins down and asserts exact commits, people and times.

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, RepositoryInitOptions, Signature, Time};
use stackrel::calver::CalVer;
use stackrel::history::{ChangeKind, HistoryEntry, history, render_table};
use stackrel::tree::{DesiredRepo, TreeError};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tempfile::TempDir;

/// 2026-08-06T07:06:40Z; every helper commit is a day after the previous one, so times in
/// assertions follow from the order of the test's steps.
const T0: i64 = 1_786_000_000;
const DAY: i64 = 86_400;

const RELEASE_2: &str = "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n";
const RELEASE_3: &str = "backend = \"2026.08.1\"\nfrontend = \"2026.08.3\"\n";

/// A scratch repository whose branches are moved by hand, so each test controls the exact graph.
struct Sandbox {
    dir: TempDir,
    repo: Repository,
    clock: Cell<i64>,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = TempDir::new().unwrap();
        let mut options = RepositoryInitOptions::new();
        options.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &options).unwrap();
        Sandbox {
            dir,
            repo,
            clock: Cell::new(T0),
        }
    }

    fn signature(&self, who: &str) -> Signature<'static> {
        let time = Time::new(self.clock.get(), 120);
        self.clock.set(self.clock.get() + DAY);
        Signature::new(who, &format!("{}@example.org", who.to_lowercase()), &time).unwrap()
    }

    fn tip(&self, branch: &str) -> Option<Oid> {
        self.repo
            .find_reference(&format!("refs/heads/{branch}"))
            .ok()
            .and_then(|r| r.target())
    }

    /// Commits `changes` (path → new content, or `None` to delete) on top of `branch`.
    fn commit(
        &self,
        branch: &str,
        who: &str,
        message: &str,
        changes: &[(&str, Option<&str>)],
    ) -> Oid {
        let parent = self
            .tip(branch)
            .map(|id| self.repo.find_commit(id).unwrap());
        let baseline = match &parent {
            Some(p) => p.tree().unwrap(),
            None => {
                let empty = self.repo.treebuilder(None).unwrap().write().unwrap();
                self.repo.find_tree(empty).unwrap()
            }
        };
        let mut update = TreeUpdateBuilder::new();
        for (path, content) in changes {
            match content {
                Some(text) => {
                    let blob = self.repo.blob(text.as_bytes()).unwrap();
                    update.upsert(*path, blob, FileMode::Blob);
                }
                None => {
                    update.remove(*path);
                }
            }
        }
        let tree = self
            .repo
            .find_tree(update.create_updated(&self.repo, &baseline).unwrap())
            .unwrap();
        let sig = self.signature(who);
        let parents: Vec<_> = parent.iter().collect();
        self.repo
            .commit(
                Some(&format!("refs/heads/{branch}")),
                &sig,
                &sig,
                message,
                &tree,
                &parents,
            )
            .unwrap()
    }

    fn branch(&self, name: &str, from: &str) {
        let commit = self.repo.find_commit(self.tip(from).unwrap()).unwrap();
        self.repo.branch(name, &commit, false).unwrap();
    }

    /// A real two-parent merge of `from` into `into`, committed by `who`.
    fn merge(&self, into: &str, from: &str, who: &str, message: &str) -> Oid {
        let ours = self.repo.find_commit(self.tip(into).unwrap()).unwrap();
        let theirs = self.repo.find_commit(self.tip(from).unwrap()).unwrap();
        let mut index = self.repo.merge_commits(&ours, &theirs, None).unwrap();
        assert!(!index.has_conflicts(), "test merges are meant to be clean");
        let tree = self
            .repo
            .find_tree(index.write_tree_to(&self.repo).unwrap())
            .unwrap();
        let sig = self.signature(who);
        self.repo
            .commit(
                Some(&format!("refs/heads/{into}")),
                &sig,
                &sig,
                message,
                &tree,
                &[&ours, &theirs],
            )
            .unwrap()
    }

    fn fast_forward(&self, into: &str, from: &str) {
        let target = self.tip(from).unwrap();
        self.repo
            .reference(&format!("refs/heads/{into}"), target, true, "fast-forward")
            .unwrap();
    }

    fn desired(&self) -> DesiredRepo {
        DesiredRepo::open(self.dir.path()).unwrap()
    }

    fn history(&self) -> Vec<HistoryEntry> {
        history(&self.desired(), "main").unwrap()
    }
}

fn v(s: &str) -> Option<CalVer> {
    Some(s.parse().unwrap())
}

fn components(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn lists_release_added_on_main() {
    let s = Sandbox::new();
    let text = format!(
        "{RELEASE_2}ticket = \"m2ms/fragalysis-frontend#1523\"\nnotes = \"Fixes the RHS loader\"\n"
    );
    let added = s.commit(
        "main",
        "Alice",
        "Release 2026.08.2\n\nWith a body that is not the subject.",
        &[
            ("stackrel.toml", Some("[stack]\n")),
            ("releases/2026.08.2.toml", Some(&text)),
        ],
    );

    let entries = s.history();

    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.path, "releases/2026.08.2.toml");
    assert_eq!(e.version, v("2026.08.2"));
    assert_eq!(e.problem, None);
    assert_eq!(
        e.components,
        components(&[("backend", "2026.08.1"), ("frontend", "2026.08.2")])
    );
    assert_eq!(e.ticket.as_deref(), Some("m2ms/fragalysis-frontend#1523"));
    assert_eq!(e.notes.as_deref(), Some("Fixes the RHS loader"));
    assert_eq!(e.entered.sha, added.to_string());
    assert!(e.entered.short.len() >= 7 && e.entered.sha.starts_with(&e.entered.short));
    assert_eq!(e.entered.subject, "Release 2026.08.2");
    assert_eq!(e.entered.author, "Alice");
    assert_eq!(e.entered.author_email, "alice@example.org");
    assert_eq!(e.entered.committer, "Alice");
    assert_eq!(e.entered.time, "2026-08-06T09:06:40+02:00");
    assert_eq!(e.authored, None);
    assert!(e.is_intact());
    assert_eq!(e.current_components, None);
}

#[test]
fn merge_commit_is_entry_and_side_commit_is_authored() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Start",
        &[("stackrel.toml", Some("[stack]\n"))],
    );
    s.branch("release-2026.08.2", "main");
    let written = s.commit(
        "release-2026.08.2",
        "Carol",
        "Release 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    // Main moves on, so the merge cannot be a fast-forward.
    s.commit("main", "Alice", "Docs", &[("README.md", Some("hello\n"))]);
    let merge = s.merge(
        "main",
        "release-2026.08.2",
        "Bob",
        "Merge pull request #7 from release-2026.08.2",
    );

    let entries = s.history();

    assert_eq!(
        entries.len(),
        1,
        "the side commit is not a second entry: {entries:#?}"
    );
    let e = &entries[0];
    assert_eq!(e.version, v("2026.08.2"));
    assert_eq!(e.entered.sha, merge.to_string());
    assert_eq!(e.entered.author, "Bob");
    assert_eq!(
        e.entered.subject,
        "Merge pull request #7 from release-2026.08.2"
    );
    let authored = e
        .authored
        .as_ref()
        .expect("the side commit that wrote the file");
    assert_eq!(authored.sha, written.to_string());
    assert_eq!(authored.author, "Carol");
    assert_eq!(authored.subject, "Release 2026.08.2");
    assert!(e.is_intact());
}

#[test]
fn authored_looks_through_a_merge_inside_the_side_branch() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Start",
        &[("stackrel.toml", Some("[stack]\n"))],
    );
    s.branch("feature", "main");
    s.branch("sub", "main");
    let written = s.commit(
        "sub",
        "Carol",
        "Write 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    s.commit("feature", "Dave", "Unrelated", &[("notes.md", Some("x\n"))]);
    s.merge("feature", "sub", "Dave", "Merge sub into feature");
    s.commit("main", "Alice", "Docs", &[("README.md", Some("hello\n"))]);
    let merge = s.merge("main", "feature", "Bob", "Merge feature");

    let entries = s.history();

    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].entered.sha, merge.to_string());
    assert_eq!(
        entries[0].authored.as_ref().map(|c| c.sha.clone()),
        Some(written.to_string())
    );
}

#[test]
fn readded_on_side_branch_credits_the_addition_that_was_merged() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Start",
        &[("stackrel.toml", Some("[stack]\n"))],
    );
    s.branch("feature", "main");
    s.commit(
        "feature",
        "Carol",
        "First try",
        &[("releases/2026.08.2.toml", Some(RELEASE_3))],
    );
    s.commit(
        "feature",
        "Carol",
        "Not yet",
        &[("releases/2026.08.2.toml", None)],
    );
    let readded = s.commit(
        "feature",
        "Dave",
        "Second try",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    s.commit("main", "Alice", "Docs", &[("README.md", Some("hello\n"))]);
    s.merge("main", "feature", "Bob", "Merge feature");

    let entries = s.history();

    assert_eq!(entries.len(), 1);
    let authored = entries[0].authored.as_ref().unwrap();
    assert_eq!(
        (authored.sha.as_str(), authored.author.as_str()),
        (readded.to_string().as_str(), "Dave")
    );
    assert_eq!(entries[0].components["frontend"], "2026.08.2");
}

#[test]
fn fast_forward_merge_enters_with_the_side_commit() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Start",
        &[("stackrel.toml", Some("[stack]\n"))],
    );
    s.branch("release", "main");
    let written = s.commit(
        "release",
        "Carol",
        "Release 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    s.fast_forward("main", "release");

    let entries = s.history();

    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].entered.sha, written.to_string());
    assert_eq!(entries[0].entered.author, "Carol");
    assert_eq!(entries[0].authored, None);
}

#[test]
fn modified_release_is_flagged_with_the_modifying_commit() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Release 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    let edited = s.commit(
        "main",
        "Bob",
        "Quietly bump backend",
        &[(
            "releases/2026.08.2.toml",
            Some("backend = \"2026.08.9\"\nfrontend = \"2026.08.2\"\n"),
        )],
    );

    let entries = s.history();

    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert!(!e.is_intact());
    assert_eq!(
        e.components,
        components(&[("backend", "2026.08.1"), ("frontend", "2026.08.2")])
    );
    assert_eq!(
        e.current_components,
        Some(components(&[
            ("backend", "2026.08.9"),
            ("frontend", "2026.08.2")
        ]))
    );
    assert_eq!(e.changes.len(), 1);
    assert_eq!(e.changes[0].kind, ChangeKind::Modified);
    assert_eq!(e.changes[0].commit.sha, edited.to_string());
    assert_eq!(e.changes[0].commit.author, "Bob");
    assert_eq!(e.changes[0].commit.subject, "Quietly bump backend");
    assert_eq!(e.changes[0].commit.time, "2026-08-07T09:06:40+02:00");
    assert!(
        render_table(&entries).contains("\n    ! now: backend=2026.08.9 frontend=2026.08.2\n"),
        "{}",
        render_table(&entries)
    );
}

#[test]
fn deleted_release_is_flagged() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Release 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    s.commit(
        "main",
        "Bob",
        "Edit",
        &[("releases/2026.08.2.toml", Some(RELEASE_3))],
    );
    let deleted = s.commit(
        "main",
        "Bob",
        "Remove 2026.08.2",
        &[("releases/2026.08.2.toml", None)],
    );

    let entries = s.history();

    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    let kinds: Vec<_> = e.changes.iter().map(|c| c.kind.clone()).collect();
    assert_eq!(kinds, [ChangeKind::Modified, ChangeKind::Deleted]);
    assert_eq!(e.changes[1].commit.sha, deleted.to_string());
    assert_eq!(
        e.current_components, None,
        "a deleted file has no current components"
    );
    assert_eq!(e.components["frontend"], "2026.08.2");
}

#[test]
fn rename_marks_old_entry_and_adds_new_one() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Release 2026.8.3",
        &[("releases/2026.8.3.toml", Some(RELEASE_3))],
    );
    let renamed = s.commit(
        "main",
        "Bob",
        "Fix the release file name",
        &[
            ("releases/2026.8.3.toml", None),
            ("releases/2026.08.3.toml", Some(RELEASE_3)),
        ],
    );

    let entries = s.history();

    assert_eq!(entries.len(), 2, "{entries:#?}");
    let (old, new) = (&entries[0], &entries[1]);
    assert_eq!(old.path, "releases/2026.8.3.toml");
    assert_eq!(old.version, None);
    assert!(
        old.problem
            .as_deref()
            .unwrap()
            .contains("did you mean `2026.08.3`"),
        "{:?}",
        old.problem
    );
    assert_eq!(old.changes.len(), 1);
    assert_eq!(
        old.changes[0].kind,
        ChangeKind::Renamed {
            to: "releases/2026.08.3.toml".into()
        }
    );
    assert_eq!(old.changes[0].commit.sha, renamed.to_string());

    assert_eq!(new.path, "releases/2026.08.3.toml");
    assert_eq!(new.version, v("2026.08.3"));
    assert_eq!(new.problem, None);
    assert_eq!(new.entered.sha, renamed.to_string());
    assert_eq!(new.components["frontend"], "2026.08.3");
    assert!(new.is_intact());
}

#[test]
fn readded_file_gives_two_entries() {
    let s = Sandbox::new();
    let first = s.commit(
        "main",
        "Alice",
        "Release 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    let deleted = s.commit(
        "main",
        "Bob",
        "Revert release",
        &[("releases/2026.08.2.toml", None)],
    );
    let second = s.commit(
        "main",
        "Carol",
        "Release 2026.08.2 again",
        &[("releases/2026.08.2.toml", Some(RELEASE_3))],
    );

    let entries = s.history();

    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].entered.sha, first.to_string());
    assert_eq!(entries[0].changes.len(), 1);
    assert_eq!(entries[0].changes[0].kind, ChangeKind::Deleted);
    assert_eq!(entries[0].changes[0].commit.sha, deleted.to_string());
    assert_eq!(entries[1].entered.sha, second.to_string());
    assert_eq!(entries[1].components["frontend"], "2026.08.3");
    assert!(entries[1].is_intact());
    assert!(entries.iter().all(|e| e.version == v("2026.08.2")));
}

#[test]
fn invalid_file_is_listed_with_its_problem() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "A mixed bag",
        &[
            ("releases/2026.08.2.toml", Some(RELEASE_2)),
            (
                "releases/2026.08.4.toml",
                Some("backend = \"2026.08.1\"\nfrontend = \n"),
            ),
            ("releases/2026.08.5.toml", Some("backend = 2026.08\n")),
            ("releases/notes.txt", Some("hello\n")),
            ("releases/old/2026.07.1.toml", Some(RELEASE_2)),
        ],
    );
    let blob = s.repo.blob(&[0xff, 0xfe, 0x00]).unwrap();
    let main = s.repo.find_commit(s.tip("main").unwrap()).unwrap();
    let mut update = TreeUpdateBuilder::new();
    update.upsert("releases/2026.08.6.toml", blob, FileMode::Blob);
    let tree = s
        .repo
        .find_tree(
            update
                .create_updated(&s.repo, &main.tree().unwrap())
                .unwrap(),
        )
        .unwrap();
    let sig = s.signature("Bob");
    s.repo
        .commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "Binary",
            &tree,
            &[&main],
        )
        .unwrap();

    let entries = s.history();

    let by_path: BTreeMap<&str, &HistoryEntry> =
        entries.iter().map(|e| (e.path.as_str(), e)).collect();
    assert_eq!(
        by_path.keys().copied().collect::<Vec<_>>(),
        [
            "releases/2026.08.2.toml",
            "releases/2026.08.4.toml",
            "releases/2026.08.5.toml",
            "releases/2026.08.6.toml",
            "releases/notes.txt",
            "releases/old/2026.07.1.toml"
        ]
    );
    assert_eq!(by_path["releases/2026.08.2.toml"].problem, None);

    let bad_toml = by_path["releases/2026.08.4.toml"];
    assert_eq!(
        bad_toml.version,
        v("2026.08.4"),
        "the name is still a version"
    );
    assert!(
        bad_toml
            .problem
            .as_deref()
            .unwrap()
            .starts_with("invalid TOML at line 2"),
        "{:?}",
        bad_toml.problem
    );
    assert!(bad_toml.components.is_empty());

    let not_string = by_path["releases/2026.08.5.toml"];
    assert_eq!(
        not_string.problem.as_deref(),
        Some("`backend` must be a string, not the number 2026.08")
    );

    let binary = by_path["releases/2026.08.6.toml"];
    assert_eq!(
        binary.problem.as_deref(),
        Some("is not UTF-8 text (invalid byte at offset 0)")
    );
    assert_eq!(binary.entered.author, "Bob");

    let bad_name = by_path["releases/notes.txt"];
    assert_eq!(bad_name.version, None);
    assert_eq!(
        bad_name.problem.as_deref(),
        Some(
            "`notes.txt` is not a `.toml` file; invalid TOML at line 1: key with no value, expected `=`"
        )
    );

    let nested = by_path["releases/old/2026.07.1.toml"];
    assert_eq!(nested.version, None);
    assert!(
        nested
            .problem
            .as_deref()
            .unwrap()
            .contains("not subdirectories")
    );
    assert_eq!(nested.components["backend"], "2026.08.1");
}

#[test]
fn desired_state_in_subdirectory() {
    let s = Sandbox::new();
    let added = s.commit(
        "main",
        "Alice",
        "Release 2026.08.2",
        &[
            ("deploy/stackrel.toml", Some("[stack]\n")),
            ("deploy/releases/2026.08.2.toml", Some(RELEASE_2)),
            // Outside the desired-state root: not ours.
            ("releases/2026.01.1.toml", Some(RELEASE_2)),
        ],
    );
    let renamed = s.commit(
        "main",
        "Bob",
        "Rename",
        &[
            ("deploy/releases/2026.08.2.toml", None),
            ("deploy/releases/2026.08.3.toml", Some(RELEASE_2)),
        ],
    );
    let deploy: PathBuf = s.dir.path().join("deploy");
    std::fs::create_dir_all(&deploy).unwrap();
    let repo = DesiredRepo::open(&deploy).unwrap();
    assert_eq!(repo.prefix, "deploy/");

    let entries = history(&repo, "main").unwrap();

    assert_eq!(entries.len(), 2, "{entries:#?}");
    assert_eq!(entries[0].path, "releases/2026.08.2.toml");
    assert_eq!(entries[0].entered.sha, added.to_string());
    assert_eq!(
        entries[0].changes[0].kind,
        ChangeKind::Renamed {
            to: "releases/2026.08.3.toml".into()
        }
    );
    assert_eq!(entries[1].path, "releases/2026.08.3.toml");
    assert_eq!(entries[1].entered.sha, renamed.to_string());
}

#[test]
fn unrelated_files_are_ignored() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Scaffold",
        &[
            ("stackrel.toml", Some("[stack]\n")),
            ("README.md", Some("hello\n")),
            ("releases/.gitkeep", Some("")),
            ("docs/releases/2026.01.1.toml", Some(RELEASE_2)),
            ("releases.toml", Some(RELEASE_2)),
        ],
    );
    let added = s.commit(
        "main",
        "Alice",
        "Release",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    s.commit(
        "main",
        "Bob",
        "Housekeeping",
        &[
            ("README.md", Some("bye\n")),
            ("stackrel.toml", Some("[stack]\nrepo = \"x/y\"\n")),
            ("releases/.gitkeep", None),
        ],
    );

    let entries = s.history();

    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].path, "releases/2026.08.2.toml");
    assert_eq!(entries[0].entered.sha, added.to_string());
    assert!(entries[0].is_intact());
}

#[test]
fn bad_revision_is_an_error_not_a_panic() {
    let s = Sandbox::new();
    let repo = s.desired();
    assert!(
        matches!(history(&repo, "main"), Err(TreeError::BadRevision { .. })),
        "no commits yet"
    );
    s.commit(
        "main",
        "Alice",
        "Start",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    assert!(matches!(
        history(&repo, "no-such-branch"),
        Err(TreeError::BadRevision { .. })
    ));
    assert!(matches!(
        history(&repo, "main~5"),
        Err(TreeError::BadRevision { .. })
    ));
    assert_eq!(history(&repo, "main").unwrap().len(), 1);
}

#[test]
fn history_of_an_older_revision_ignores_later_commits() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Release 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    s.commit(
        "main",
        "Bob",
        "Release 2026.08.3",
        &[("releases/2026.08.3.toml", Some(RELEASE_3))],
    );
    s.commit(
        "main",
        "Bob",
        "Delete",
        &[("releases/2026.08.2.toml", None)],
    );

    let entries = history(&s.desired(), "main~2").unwrap();

    assert_eq!(entries.len(), 1);
    assert!(entries[0].is_intact());
}

#[test]
fn render_table_shows_releases_changes_and_summary() {
    let s = Sandbox::new();
    let a = s.commit(
        "main",
        "Alice",
        "Release 2026.08.2",
        &[("releases/2026.08.2.toml", Some(RELEASE_2))],
    );
    s.branch("feature", "main");
    let c = s.commit(
        "feature",
        "Carol",
        "Release 2026.08.3",
        &[("releases/2026.08.3.toml", Some(RELEASE_3))],
    );
    s.commit("main", "Alice", "Docs", &[("README.md", Some("hello\n"))]);
    let m = s.merge("main", "feature", "Bob", "Merge feature");
    let b = s.commit(
        "main",
        "Bob",
        "Bump backend",
        &[(
            "releases/2026.08.2.toml",
            Some("backend = \"2026.08.9\"\nfrontend = \"2026.08.2\"\n"),
        )],
    );
    let d = s.commit(
        "main",
        "Dave",
        "Drop 2026.08.2",
        &[("releases/2026.08.2.toml", None)],
    );
    let short = |id: Oid| {
        s.repo
            .find_object(id, None)
            .unwrap()
            .short_id()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };

    let table = render_table(&s.history());

    let expected = format!(
        "RELEASE    COMPONENTS                            ENTERED     COMMIT   BY     SUBJECT\n\
         2026.08.2  backend=2026.08.1 frontend=2026.08.2  2026-08-06  {a}  Alice  Release 2026.08.2\n\
         \x20   ! modified in {b} by Bob on 2026-08-10: Bump backend\n\
         \x20   ! deleted in {d} by Dave on 2026-08-11: Drop 2026.08.2\n\
                  2026.08.3  backend=2026.08.1 frontend=2026.08.3  2026-08-09  {m}  Bob    Merge feature\n\
         \x20   authored in {c} by Carol on 2026-08-07: Release 2026.08.3\n\
         2 releases, 1 changed after release\n",
        a = short(a),
        b = short(b),
        c = short(c),
        d = short(d),
        m = short(m),
    );
    assert_eq!(table, expected);
}

#[test]
fn render_table_of_no_history_is_just_the_summary() {
    assert_eq!(render_table(&[]), "0 releases, 0 changed after release\n");
}

#[test]
fn json_names_change_kinds_in_lowercase() {
    let s = Sandbox::new();
    s.commit(
        "main",
        "Alice",
        "Add",
        &[("releases/2026.8.3.toml", Some(RELEASE_3))],
    );
    s.commit(
        "main",
        "Bob",
        "Rename",
        &[
            ("releases/2026.8.3.toml", None),
            ("releases/2026.08.3.toml", Some(RELEASE_3)),
        ],
    );

    let json = serde_json::to_value(s.history()).unwrap();

    assert_eq!(json[0]["changes"][0]["kind"], "renamed");
    assert_eq!(json[0]["changes"][0]["to"], "releases/2026.08.3.toml");
    assert_eq!(json[0]["changes"][0]["commit"]["author"], "Bob");
    assert_eq!(json[1]["version"], "2026.08.3");
    assert_eq!(json[0]["version"], serde_json::Value::Null);
}

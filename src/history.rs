//! The audit trail behind `stackrel history`. A release is only as trustworthy as the record of
//! how it got there: this module walks the desired-state branch and reports each release file as
//! it landed — what it pinned, who merged it and when, who wrote it on a feature branch — and
//! flags every file someone changed, renamed or deleted afterwards, because a release edited after
//! the fact is no longer what was deployed.
//!
//! Only the first-parent chain counts as "the branch": a release lands when the commit that puts
//! it there (often a merge) reaches the branch, not when someone wrote it on a side branch. Each
//! step is a tree-to-tree diff restricted to `releases/`, and blobs are read only for files that
//! appear or change, so the walk stays cheap over long histories.
//!
//! History is reported, not judged: a file that is not a valid release is still listed, with its
//! problem, and nothing in one file's content can stop the walk.

use crate::calver::CalVer;
use crate::forge::{DeploymentRecord, DeploymentState, TagRef, short};
use crate::release::{RELEASES_DIR, WAIVE_CI, version_from_path};
use crate::toml_schema::describe_value;
use crate::tree::{DesiredRepo, TreeError};
use crate::validate::MAX_FILE_BYTES;
use chrono::{DateTime, FixedOffset, Offset, Utc};
use git2::{
    Commit, Delta, DiffFindOptions, ErrorCode, FileMode, ObjectType, Oid, Repository, Sort, Tree,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use toml::de::{DeTable, DeValue};

/// One commit as a person reads it in an audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub sha: String,
    /// The shortest unambiguous abbreviation, at least 7 characters.
    pub short: String,
    pub subject: String,
    pub author: String,
    pub author_email: String,
    pub committer: String,
    /// RFC 3339 with the committer's own offset, from the committer time: when the commit was
    /// made, which for a merge is when the release landed.
    pub time: String,
}

impl CommitInfo {
    /// `YYYY-MM-DD`, for tables.
    pub fn date(&self) -> &str {
        self.time.get(..10).unwrap_or(&self.time)
    }
}

/// What happened to a release file after it entered the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ChangeKind {
    Modified,
    Deleted,
    /// Moved to `to` (relative to the desired-state root); the new path is an entry of its own.
    Renamed {
        to: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(flatten)]
    pub kind: ChangeKind,
    pub commit: CommitInfo,
}

/// A release file as it entered the desired-state branch, and what happened to it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Relative to the desired-state root, e.g. `releases/2026.08.3.toml`.
    pub path: String,
    /// The version the file name claims; `None` when the name is not `YYYY.MM.N.toml`.
    pub version: Option<CalVer>,
    /// Why the file is not a valid release (name, encoding, TOML), as it entered.
    pub problem: Option<String>,
    /// Component → version as written when the file entered.
    pub components: BTreeMap<String, String>,
    pub ticket: Option<String>,
    pub notes: Option<String>,
    /// The first-parent commit that put the file on the branch (for a merged branch, the merge).
    pub entered: CommitInfo,
    /// The side-branch commit that wrote the file, when it differs from `entered`.
    pub authored: Option<CommitInfo>,
    /// Later changes on the branch, oldest first.
    pub changes: Vec<Change>,
    /// The components now, when the file was modified and is still there.
    pub current_components: Option<BTreeMap<String, String>>,
    /// The CI gates the release waived (`waive_ci`), as written when it entered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waive_ci: Vec<String>,
    /// The stack tag and the deploy state, when the stack repository could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<StackState>,
}

/// What the stack repository says of a release: its tag, and the newest deployment record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackState {
    pub tag: Option<TagRef>,
    /// `verified`, `deployed (not verified)`, `adopted`, `failed`, …; `released` for a tag with
    /// no record; `-` for neither.
    pub deploy: String,
}

/// Adds to each entry its stack tag and deploy state, from the stack's tags and records.
pub fn with_stack_state(
    entries: &mut [HistoryEntry],
    tags: &[TagRef],
    records: &[DeploymentRecord],
) {
    for entry in entries.iter_mut() {
        let Some(version) = entry.version.map(|v| v.to_string()) else {
            continue;
        };
        let tag = tags.iter().find(|t| t.name == version).cloned();
        let record = records.iter().rev().find(|r| r.version == version);
        let deploy = match (record.map(|r| r.state), &tag) {
            (Some(DeploymentState::Reported), _) => "deployed (not verified)".to_string(),
            (Some(state), _) => format!("{state:?}").to_lowercase(),
            (None, Some(_)) => "released".to_string(),
            (None, None) => "-".to_string(),
        };
        entry.stack = Some(StackState { tag, deploy });
    }
}

impl HistoryEntry {
    /// Whether the file is still exactly what entered the branch.
    pub fn is_intact(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Every release file that entered the first-parent history of `rev`, oldest first (files that
/// entered in the same commit by path).
pub fn history(repo: &DesiredRepo, rev: &str) -> Result<Vec<HistoryEntry>, TreeError> {
    let chain = first_parent_chain(repo, rev)?;
    let mut walker = Walker::new(&repo.repo, &repo.prefix);
    let mut trail = Trail::default();
    // The `releases/` subtree of the previous commit on the chain, which is the current one's
    // first parent: carried over so each version of that (possibly large) tree is read once.
    let mut previous: Option<Tree<'_>> = None;
    for commit in &chain {
        let current = walker.releases_tree(commit)?;
        if current.as_ref().map(Tree::id) == previous.as_ref().map(Tree::id) {
            continue;
        }
        let deltas = walker.release_deltas(previous.as_ref(), current.as_ref(), true)?;
        previous = current;
        if deltas.is_empty() {
            continue;
        }
        let info = walker.info(commit);
        let arrivals = trail.departures(deltas, &info, &mut walker);
        trail.arrivals(arrivals, commit, &info, &mut walker)?;
    }
    Ok(trail.entries)
}

/// The branch's own line, oldest first: the tip and its first parents.
fn first_parent_chain<'r>(repo: &'r DesiredRepo, rev: &str) -> Result<Vec<Commit<'r>>, TreeError> {
    let tip = repo.commit(rev)?;
    let mut chain = vec![tip.clone()];
    let mut current = tip;
    while current.parent_count() > 0 {
        current = current.parent(0)?;
        chain.push(current.clone());
    }
    chain.reverse();
    Ok(chain)
}

/// The entries so far, and which entry currently occupies each path.
#[derive(Default)]
struct Trail {
    entries: Vec<HistoryEntry>,
    open: HashMap<String, usize>,
}

impl Trail {
    /// Records deletions, renames and modifications of one commit; returns the files that
    /// arrive with it. Departures come first, so a path is never reopened before the entry it
    /// replaces is closed, whatever order git lists the deltas in.
    fn departures(
        &mut self,
        deltas: Vec<ReleaseDelta>,
        info: &CommitInfo,
        walker: &mut Walker<'_>,
    ) -> Vec<ReleaseDelta> {
        let mut arrivals = Vec::new();
        for delta in deltas {
            match delta.status {
                Delta::Deleted => self.close(&delta.old, ChangeKind::Deleted, info),
                Delta::Renamed => {
                    let to = delta.new.clone();
                    self.close(&delta.old, ChangeKind::Renamed { to }, info);
                    arrivals.push(delta);
                }
                Delta::Modified | Delta::Typechange => match self.open.get(&delta.new) {
                    Some(&index) => {
                        let parsed = walker.read(&delta.new, delta.new_id, delta.new_mode);
                        let entry = &mut self.entries[index];
                        entry.changes.push(Change {
                            kind: ChangeKind::Modified,
                            commit: info.clone(),
                        });
                        entry.current_components = Some(parsed.components);
                    }
                    // Cannot happen on a complete history; if it does (a grafted or shallow
                    // root), the file is at least listed from the first commit that shows it.
                    None => arrivals.push(delta),
                },
                Delta::Added | Delta::Copied => arrivals.push(delta),
                _ => {}
            }
        }
        arrivals
    }

    /// Opens an entry for each file that arrives with `commit`, crediting the side-branch
    /// commit that wrote it when `commit` is a merge.
    fn arrivals(
        &mut self,
        mut arrivals: Vec<ReleaseDelta>,
        commit: &Commit<'_>,
        info: &CommitInfo,
        walker: &mut Walker<'_>,
    ) -> Result<(), TreeError> {
        if arrivals.is_empty() {
            return Ok(());
        }
        arrivals.sort_by(|a, b| a.new.cmp(&b.new));
        let authored = if commit.parent_count() > 1 {
            let wanted: Vec<&str> = arrivals.iter().map(|d| d.new.as_str()).collect();
            walker.find_authored(commit, &wanted)?
        } else {
            HashMap::new()
        };
        for delta in arrivals {
            let parsed = walker.read(&delta.new, delta.new_id, delta.new_mode);
            let authored = authored.get(&delta.new).map(|c| walker.info(c));
            self.open.insert(delta.new.clone(), self.entries.len());
            self.entries.push(HistoryEntry {
                path: delta.new,
                version: parsed.version,
                problem: parsed.problem,
                components: parsed.components,
                ticket: parsed.ticket,
                notes: parsed.notes,
                entered: info.clone(),
                authored,
                changes: Vec::new(),
                current_components: None,
                waive_ci: parsed.waive_ci,
                stack: None,
            });
        }
        Ok(())
    }

    fn close(&mut self, path: &str, kind: ChangeKind, info: &CommitInfo) {
        if let Some(index) = self.open.remove(path) {
            let entry = &mut self.entries[index];
            entry.changes.push(Change {
                kind,
                commit: info.clone(),
            });
            entry.current_components = None;
        }
    }
}

/// One change to a file under `releases/`, paths relative to the desired-state root.
struct ReleaseDelta {
    status: Delta,
    old: String,
    new: String,
    new_id: Oid,
    new_mode: FileMode,
}

/// A release file's content, read leniently: whatever can be told about it, plus what is wrong.
struct Parsed {
    version: Option<CalVer>,
    problem: Option<String>,
    components: BTreeMap<String, String>,
    ticket: Option<String>,
    notes: Option<String>,
    waive_ci: Vec<String>,
}

struct Walker<'r> {
    repo: &'r Repository,
    prefix: &'r str,
    /// `<prefix>releases`, the subtree whose id tells whether a commit touched any release.
    releases_dir: String,
    infos: HashMap<Oid, CommitInfo>,
}

impl<'r> Walker<'r> {
    fn new(repo: &'r Repository, prefix: &'r str) -> Self {
        Walker {
            repo,
            prefix,
            releases_dir: format!("{prefix}{RELEASES_DIR}"),
            infos: HashMap::new(),
        }
    }

    /// The id of a commit's `releases/` subtree, without reading the subtree itself.
    fn releases_id(&self, commit: &Commit<'_>) -> Result<Option<Oid>, TreeError> {
        match commit.tree()?.get_path(Path::new(&self.releases_dir)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => Ok(Some(entry.id())),
            // A file named `releases` holds no releases.
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn releases_tree(&self, commit: &Commit<'_>) -> Result<Option<Tree<'r>>, TreeError> {
        match self.releases_id(commit)? {
            Some(id) => Ok(Some(self.repo.find_tree(id)?)),
            None => Ok(None),
        }
    }

    /// The changes to release files between two `releases/` subtrees. Diffing the subtrees
    /// rather than whole commits skips the rest of the repository and any path matching. Dot
    /// files directly in `releases/` (`.gitkeep`) are not releases and are left out, as
    /// validation does.
    fn release_deltas(
        &self,
        old: Option<&Tree<'_>>,
        new: Option<&Tree<'_>>,
        renames: bool,
    ) -> Result<Vec<ReleaseDelta>, TreeError> {
        if old.is_none() && new.is_none() {
            return Ok(Vec::new());
        }
        let mut diff = self.repo.diff_tree_to_tree(old, new, None)?;
        if renames {
            diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
        }
        let relative = |path: Option<&[u8]>| -> Option<String> {
            let rel = String::from_utf8_lossy(path?);
            if rel.starts_with('.') && !rel.contains('/') {
                return None;
            }
            Some(format!("{RELEASES_DIR}/{rel}"))
        };
        let mut deltas = Vec::new();
        for delta in diff.deltas() {
            let old = relative(delta.old_file().path_bytes());
            let new = relative(delta.new_file().path_bytes());
            let (old, new, status) = match (old, new, delta.status()) {
                (Some(old), Some(new), status) => (old, new, status),
                // A rename out of or into a dot file is, for releases, a deletion or an addition.
                (Some(old), None, _) => (old.clone(), old, Delta::Deleted),
                (None, Some(new), _) => (new.clone(), new, Delta::Added),
                (None, None, _) => continue,
            };
            deltas.push(ReleaseDelta {
                status,
                old,
                new,
                new_id: delta.new_file().id(),
                new_mode: delta.new_file().mode(),
            });
        }
        Ok(deltas)
    }

    fn info(&mut self, commit: &Commit<'_>) -> CommitInfo {
        self.infos
            .entry(commit.id())
            .or_insert_with(|| {
                let sha = commit.id().to_string();
                let short = commit
                    .as_object()
                    .short_id()
                    .ok()
                    .and_then(|b| b.as_str().ok().map(str::to_string))
                    .unwrap_or_else(|| sha.chars().take(7).collect());
                let author = commit.author();
                let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                CommitInfo {
                    short,
                    subject: commit.summary_bytes().map(lossy).unwrap_or_default(),
                    author: lossy(author.name_bytes()),
                    author_email: lossy(author.email_bytes()),
                    committer: lossy(commit.committer().name_bytes()),
                    time: format_time(commit.time()),
                    sha,
                }
            })
            .clone()
    }

    /// For the release paths a merge brought onto the branch, the side-branch commit that wrote
    /// each: walking the merged-in commits newest first, the first one that has the path while
    /// none of its parents does. Newest first, so a file added, deleted and added again on the
    /// branch is credited to the addition that was merged; "none of its parents", so a merge
    /// inside the side branch passes the credit on to the commit it merged.
    fn find_authored(
        &self,
        merge: &Commit<'_>,
        wanted: &[&str],
    ) -> Result<HashMap<String, Commit<'r>>, TreeError> {
        let mut found = HashMap::new();
        let mut unresolved: HashSet<&str> = wanted.iter().copied().collect();
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL)?;
        for parent in merge.parent_ids().skip(1) {
            walk.push(parent)?;
        }
        walk.hide(merge.parent_id(0)?)?;
        for id in walk {
            let commit = self.repo.find_commit(id?)?;
            let first_parent = commit.parents().next();
            let before = match &first_parent {
                Some(parent) => self.releases_id(parent)?,
                None => None,
            };
            if before == self.releases_id(&commit)? {
                continue;
            }
            let before = match &first_parent {
                Some(parent) => self.releases_tree(parent)?,
                None => None,
            };
            let deltas = self.release_deltas(
                before.as_ref(),
                self.releases_tree(&commit)?.as_ref(),
                false,
            )?;
            for delta in deltas {
                if delta.status != Delta::Added || !unresolved.contains(delta.new.as_str()) {
                    continue;
                }
                let full = format!("{}{}", self.prefix, delta.new);
                let mut others = commit.parents().skip(1);
                if others.any(|p| p.tree().is_ok_and(|t| t.get_path(Path::new(&full)).is_ok())) {
                    continue;
                }
                unresolved.remove(delta.new.as_str());
                found.insert(delta.new, commit.clone());
            }
            if unresolved.is_empty() {
                break;
            }
        }
        Ok(found)
    }

    /// Reads a release file leniently. Never fails: whatever cannot be read becomes its problem.
    fn read(&self, path: &str, id: Oid, mode: FileMode) -> Parsed {
        let mut problems = Vec::new();
        let name = path
            .strip_prefix(&format!("{RELEASES_DIR}/"))
            .unwrap_or(path);
        let version = if name.contains('/') {
            problems.push(format!("not a release file: `{RELEASES_DIR}/` holds only `<version>.toml` files, not subdirectories"));
            None
        } else {
            version_from_path(path).map_err(|e| problems.push(e)).ok()
        };
        let mut parsed = Parsed {
            version,
            problem: None,
            components: BTreeMap::new(),
            ticket: None,
            notes: None,
            waive_ci: Vec::new(),
        };
        match self.content(id, mode) {
            Ok(text) => parse_content(&text, &mut parsed, &mut problems),
            Err(problem) => problems.push(problem),
        }
        if !problems.is_empty() {
            parsed.problem = Some(problems.join("; "));
        }
        parsed
    }

    fn content(&self, id: Oid, mode: FileMode) -> Result<String, String> {
        match mode {
            FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable => {}
            FileMode::Link => return Err("is a symbolic link, not a file".into()),
            FileMode::Commit => return Err("is a submodule, not a file".into()),
            _ => return Err("is not a regular file".into()),
        }
        let unreadable = |e: git2::Error| format!("cannot read the file from git: {}", e.message());
        // The header gives the size without loading the blob, so an accidental binary is not read.
        let (size, _) = self
            .repo
            .odb()
            .and_then(|odb| odb.read_header(id))
            .map_err(unreadable)?;
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "is {size} bytes; release files are at most {} KiB",
                MAX_FILE_BYTES / 1024
            ));
        }
        let blob = self.repo.find_blob(id).map_err(unreadable)?;
        String::from_utf8(blob.content().to_vec()).map_err(|e| {
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        })
    }
}

/// Fills what a release file's text says, recording instead of refusing what is wrong with it.
fn parse_content(text: &str, parsed: &mut Parsed, problems: &mut Vec<String>) {
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(e) => {
            let line = e.span().map(|span| {
                text.as_bytes()
                    .iter()
                    .take(span.start)
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            });
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            problems.push(format!("invalid TOML{at}: {}", e.message().trim()));
            return;
        }
    };
    for (key, value) in document.get_ref().iter() {
        let key: &str = key.get_ref();
        if key == WAIVE_CI
            && let DeValue::Array(items) = value.get_ref()
        {
            parsed.waive_ci = items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::String(name) => Some(name.to_string()),
                    _ => None,
                })
                .collect();
            continue;
        }
        let DeValue::String(text) = value.get_ref() else {
            problems.push(format!(
                "`{key}` must be a string, not {}",
                describe_value(value.get_ref())
            ));
            continue;
        };
        let text = text.to_string();
        match key {
            "ticket" => parsed.ticket = Some(text),
            "notes" => parsed.notes = Some(text),
            component => {
                parsed.components.insert(component.to_string(), text);
            }
        }
    }
}

fn format_time(time: git2::Time) -> String {
    let offset = FixedOffset::east_opt(time.offset_minutes().saturating_mul(60))
        .unwrap_or_else(|| Utc.fix());
    match DateTime::from_timestamp(time.seconds(), 0) {
        Some(utc) => utc.with_timezone(&offset).to_rfc3339(),
        // Only a corrupt or hand-crafted commit has a time chrono cannot represent.
        None => format!("@{}", time.seconds()),
    }
}

/// The human view: a header, one line per release, then lines for whatever happened to it
/// since; with the stack's tag and deploy state when they were read.
pub fn render_table(entries: &[HistoryEntry]) -> String {
    let with_stack = entries.iter().any(|e| e.stack.is_some());
    // Authors, subjects and file names are anyone's text: escaped before widths are measured.
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            columns(e, with_stack)
                .iter()
                .map(|cell| crate::escape::line(cell).into_owned())
                .collect()
        })
        .collect();
    let mut header: Vec<String> = ["RELEASE", "COMPONENTS", "ENTERED", "COMMIT", "BY"]
        .map(String::from)
        .to_vec();
    if with_stack {
        header.extend(["TAG", "DEPLOY"].map(String::from));
    }
    header.push("SUBJECT".into());
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    if !entries.is_empty() {
        push_row(&mut out, &header, &widths);
    }
    for (entry, row) in entries.iter().zip(&rows) {
        push_row(&mut out, row, &widths);
        let mut notes = String::new();
        push_notes(&mut notes, entry);
        out.push_str(&crate::escape::text(&notes));
    }
    let changed = entries.iter().filter(|e| !e.is_intact()).count();
    let plural = if entries.len() == 1 { "" } else { "s" };
    let _ = write!(
        out,
        "{} release{plural}, {changed} changed after release",
        entries.len()
    );
    let invalid = entries.iter().filter(|e| e.problem.is_some()).count();
    if invalid > 0 {
        let _ = write!(out, ", {invalid} not valid");
    }
    out.push('\n');
    out
}

fn pins(components: &BTreeMap<String, String>) -> String {
    components
        .iter()
        .map(|(name, version)| format!("{name}={version}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An entry's cells, in the header's order (the stack's two only when it was read).
fn columns(entry: &HistoryEntry, with_stack: bool) -> Vec<String> {
    let c = &entry.entered;
    let label = entry
        .version
        .map(|v| v.to_string())
        .unwrap_or_else(|| entry.path.clone());
    let mut row = vec![
        label,
        pins(&entry.components),
        c.date().to_string(),
        c.short.clone(),
        c.author.clone(),
    ];
    if with_stack {
        let tag = entry
            .stack
            .as_ref()
            .and_then(|s| s.tag.as_ref())
            .map_or("-".to_string(), |t| {
                format!("{}@{}", t.name, short(&t.commit))
            });
        let deploy = entry.stack.as_ref().map_or("-", |s| s.deploy.as_str());
        row.extend([tag, deploy.to_string()]);
    }
    row.push(c.subject.clone());
    row
}

fn push_row(out: &mut String, cells: &[String], widths: &[usize]) {
    let line: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:width$}"))
        .collect();
    let _ = writeln!(out, "{}", line.join("  ").trim_end());
}

/// What happened to a release after it entered, and what it waived.
fn push_notes(out: &mut String, entry: &HistoryEntry) {
    if let Some(a) = &entry.authored {
        let _ = writeln!(
            out,
            "    authored in {} by {} on {}: {}",
            a.short,
            a.author,
            a.date(),
            a.subject
        );
    }
    if !entry.waive_ci.is_empty() {
        let _ = writeln!(out, "    waives CI: {}", entry.waive_ci.join(", "));
    }
    if let Some(problem) = &entry.problem {
        let _ = writeln!(out, "    ! not a valid release: {problem}");
    }
    for change in &entry.changes {
        let what = match &change.kind {
            ChangeKind::Modified => "modified".to_string(),
            ChangeKind::Deleted => "deleted".to_string(),
            ChangeKind::Renamed { to } => format!("renamed to {to}"),
        };
        let c = &change.commit;
        let _ = writeln!(
            out,
            "    ! {what} in {} by {} on {}: {}",
            c.short,
            c.author,
            c.date(),
            c.subject
        );
    }
    if let Some(current) = &entry.current_components
        && *current != entry.components
    {
        let _ = writeln!(out, "    ! now: {}", pins(current));
    }
}

//! Writing the replica's history with git2: commits with a fixed author at a given time, built
//! from a parent's tree without an index or a working tree, so that building five years of
//! releases takes milliseconds and gives the same objects every time.

use git2::{FileMode, Oid, Repository, Signature, Time};

/// One file of a commit.
pub(super) struct Entry<'a> {
    pub path: &'a str,
    pub bytes: &'a [u8],
    pub mode: FileMode,
}

impl<'a> Entry<'a> {
    pub fn file(path: &'a str, bytes: &'a [u8]) -> Self {
        Entry {
            path,
            bytes,
            mode: FileMode::Blob,
        }
    }

    pub fn script(path: &'a str, bytes: &'a [u8]) -> Self {
        Entry {
            path,
            bytes,
            mode: FileMode::BlobExecutable,
        }
    }
}

/// The one person who made the replica's history.
pub(super) fn signature(when: Time) -> Result<Signature<'static>, git2::Error> {
    Signature::new("Fragalysis Maintainer", "maintainer@example.org", &when)
}

/// A time from RFC 3339, keeping its offset (`2026-08-20T13:06:25+01:00`).
pub(super) fn time(rfc3339: &str) -> Option<Time> {
    let at = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(Time::new(
        at.timestamp(),
        at.offset().local_minus_utc() / 60,
    ))
}

/// Commits `files` on top of the first parent's tree (an empty tree without parents); moves no
/// ref. Returns the commit.
pub(super) fn commit(
    repo: &Repository,
    parents: &[Oid],
    files: &[Entry<'_>],
    message: &str,
    when: Time,
) -> Result<Oid, git2::Error> {
    let parents: Vec<git2::Commit<'_>> = parents
        .iter()
        .map(|id| repo.find_commit(*id))
        .collect::<Result<_, _>>()?;
    let base = match parents.first() {
        Some(parent) => parent.tree()?,
        None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    for entry in files {
        update.upsert(entry.path, repo.blob(entry.bytes)?, entry.mode);
    }
    let tree = repo.find_tree(update.create_updated(repo, &base)?)?;
    let sig = signature(when)?;
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, &sig, &sig, message, &tree, &parents)
}

/// A lightweight tag, as all of the real stack's and components' tags are.
pub(super) fn tag(repo: &Repository, name: &str, commit: Oid) -> Result<(), git2::Error> {
    repo.reference(&format!("refs/tags/{name}"), commit, false, "tag")?;
    Ok(())
}

pub(super) fn branch(repo: &Repository, name: &str, commit: Oid) -> Result<(), git2::Error> {
    repo.reference(&format!("refs/heads/{name}"), commit, true, "branch")?;
    Ok(())
}

/// CI results as the local forge reads them (`refs/notes/ci`), in one notes commit rather than
/// one per note: a note is a blob named by the commit it annotates.
pub(super) fn ci_notes(
    repo: &Repository,
    results: &[(Oid, &str)],
    when: Time,
) -> Result<(), git2::Error> {
    let mut notes = repo.treebuilder(None)?;
    for (commit, text) in results {
        let blob = repo.blob(text.as_bytes())?;
        notes.insert(commit.to_string(), blob, FileMode::Blob.into())?;
    }
    let tree = repo.find_tree(notes.write()?)?;
    let sig = signature(when)?;
    let notes_ref = Some(stackrel::forge::local::CI_NOTES_REF);
    repo.commit(notes_ref, &sig, &sig, "CI results", &tree, &[])?;
    Ok(())
}

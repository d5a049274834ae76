//! The replicas of xchem/fragalysis-backend and xchem/fragalysis-frontend: a `production` branch
//! with a commit and a lightweight tag for every version the releases pin (each built green, as
//! CI notes say, except the real hotfix tag no workflow ever built), then the tags that the
//! preflight must refuse: one only on `staging` and one only on `production-f1`, as real tags
//! are.

use super::git::{Entry, branch, ci_notes, commit, tag};
use super::{HOTFIX_BACKEND, NEW_BACKEND, ReplicaError, STAGING_ONLY};
use git2::{Oid, Repository, Time};
use stackrel::release::Release;
use std::path::Path;

/// What a component has besides the tags the releases pin.
struct Extras {
    /// On `production`, built, and pinned by no release yet.
    unreleased: &'static [&'static str],
    /// `production-f1` leaves `production` at this tag's commit…
    f1_base: &'static str,
    /// …and holds this tag, which `production` does not (real tags of hotfix branches).
    f1_only: &'static str,
}

fn extras(component: &str) -> Extras {
    match component {
        "backend" => Extras {
            unreleased: &[NEW_BACKEND],
            f1_base: "2023.09.1",
            f1_only: "2023.09.1-1",
        },
        _ => Extras {
            unreleased: &[],
            f1_base: "2023.11.1",
            f1_only: "2023.11.1-1",
        },
    }
}

/// The first commit's time; each later version comes a day after the one before.
const FIRST_COMMIT_SECONDS: i64 = 1_666_872_000; // 2022-10-27T12:00:00Z
const DAY_SECONDS: i64 = 86_400;

pub(super) fn build(path: &Path, name: &str, releases: &[Release]) -> Result<(), ReplicaError> {
    let repo = Repository::init_bare(path)?;
    let extras = extras(name);
    let pinned = pinned_tags(name, releases);
    let versions = pinned
        .iter()
        .map(String::as_str)
        .chain(extras.unreleased.iter().copied());
    let mut commits: Vec<(&str, Oid)> = Vec::new();
    for version in versions {
        let parent = commits.last().map(|(_, commit)| *commit);
        let made = version_commit(&repo, parent, name, version, day(commits.len()))?;
        commits.push((version, made));
    }
    let Some(&(_, head)) = commits.last() else {
        return Err(ReplicaError::Data(format!("no release pins {name}")));
    };
    branch(&repo, "production", head)?;
    let f1_base = commits.iter().find(|(v, _)| *v == extras.f1_base);
    let later = day(commits.len());
    let f1_parent = f1_base.map_or(head, |(_, commit)| *commit);
    let f1 = version_commit(&repo, Some(f1_parent), name, extras.f1_only, later)?;
    branch(&repo, "production-f1", f1)?;
    let staging = version_commit(&repo, Some(head), name, STAGING_ONLY, later)?;
    branch(&repo, "staging", staging)?;
    commits.extend([(extras.f1_only, f1), (STAGING_ONLY, staging)]);
    // Every tag was built green, but the hotfix tag, which its workflow never builds.
    let built: Vec<(Oid, &str)> = commits
        .iter()
        .filter(|(version, _)| !(name == "backend" && *version == HOTFIX_BACKEND))
        .map(|(_, commit)| (*commit, "success"))
        .collect();
    ci_notes(&repo, &built, later)?;
    // The real default branch.
    repo.set_head("refs/heads/staging")?;
    Ok(())
}

/// Every version of `component` the releases pin, in the order they were first pinned.
fn pinned_tags(component: &str, releases: &[Release]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for version in releases.iter().filter_map(|r| r.components.get(component)) {
        if !tags.contains(version) {
            tags.push(version.clone());
        }
    }
    tags
}

fn day(n: usize) -> Time {
    let n = i64::try_from(n).unwrap_or(i64::MAX / DAY_SECONDS - 1);
    Time::new(FIRST_COMMIT_SECONDS + n * DAY_SECONDS, 0)
}

/// A commit that makes `version`, and its tag.
fn version_commit(
    repo: &Repository,
    parent: Option<Oid>,
    component: &str,
    version: &str,
    at: Time,
) -> Result<Oid, ReplicaError> {
    let file = [Entry::file("VERSION", version.as_bytes())];
    let parents: Vec<Oid> = parent.into_iter().collect();
    let subject = format!("{component} {version}");
    let made = commit(repo, &parents, &file, &subject, at)?;
    tag(repo, version, made)?;
    Ok(made)
}

//! What the replica is made of, read at build time and never copied: the project's own desired
//! state (its `stackrel.toml` and 68 release files), and the real repositories' files in the
//! shared fixtures (the stack's workflow and Dockerfiles, and the listing of its tags with their
//! commits and dates).

use super::ReplicaError;
use git2::Time;
use stackrel::config::Config;
use stackrel::release::Release;
use stackrel::validate::{InputFile, validate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stackrel crate's root, where the project's `stackrel.toml` and `releases/` are.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits inside the project")
        .to_path_buf()
}

/// Where the real Fragalysis files are: `../shared/fixtures/fragalysis` beside the project.
pub fn fixture_dir() -> PathBuf {
    project_root().join("../shared/fixtures/fragalysis")
}

/// The project's desired state, as validation reads it.
pub(super) struct Project {
    /// `stackrel.toml` and `releases/*.toml`, byte for byte.
    pub files: Vec<InputFile>,
    pub config: Config,
    /// Oldest first.
    pub releases: Vec<Release>,
}

impl Project {
    pub fn read() -> Result<Project, ReplicaError> {
        let root = project_root();
        let files = stackrel::tree::read_worktree(&root)
            .map_err(|e| ReplicaError::Data(format!("reading the project's desired state: {e}")))?;
        let state = validate(&files);
        let config = match state.config {
            Some(config) if state.is_valid() => config,
            _ => {
                return Err(ReplicaError::Data(format!(
                    "the project's desired state is not valid: {:?}",
                    state.diagnostics
                )));
            }
        };
        Ok(Project {
            files,
            config,
            releases: state.releases,
        })
    }

    /// The workflow's pin keys with the release's value of each (`BE_IMAGE_TAG` = `2026.08.1`).
    pub fn pins<'a>(&'a self, release: &'a Release) -> Vec<(&'a str, &'a str)> {
        self.config
            .components
            .iter()
            .filter_map(|(name, component)| {
                let value = release.components.get(name)?;
                Some((component.pin.as_str(), value.as_str()))
            })
            .collect()
    }
}

/// A tag of the real stack repository: the commit it is on (abbreviated) and that commit's date.
pub(super) struct RealTag {
    pub commit: String,
    pub at: Time,
}

/// The real stack repository's files the replica is built from.
pub(super) struct Fixtures {
    /// `build-main.yaml` as of 005a791, the pins of each release set into it.
    pub workflow: String,
    /// The Dockerfile before 2023-11 (c5a00c0) and the current one (428de6b).
    pub old_dockerfile: String,
    pub dockerfile: String,
    /// Every tag of the real stack repository, by name.
    pub tags: BTreeMap<String, RealTag>,
}

impl Fixtures {
    pub fn read() -> Result<Fixtures, ReplicaError> {
        Fixtures::read_from(fixture_dir())
    }

    fn read_from(dir: PathBuf) -> Result<Fixtures, ReplicaError> {
        if !dir.is_dir() {
            return Err(ReplicaError::FixturesAbsent(dir));
        }
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| ReplicaError::Io(path, e))
        };
        Ok(Fixtures {
            workflow: read("build-main.005a791.yaml")?,
            old_dockerfile: read("stack-Dockerfile.c5a00c0.txt")?,
            dockerfile: read("stack-Dockerfile.428de6b.txt")?,
            tags: parse_tag_listing(&read("tags-fragalysis-stack.txt")?)?,
        })
    }

    /// The real tag `name`, which the replica must have.
    pub fn tag(&self, name: &str) -> Result<&RealTag, ReplicaError> {
        self.tags.get(name).ok_or_else(|| {
            ReplicaError::Data(format!(
                "the real stack has no tag {name} (tags-fragalysis-stack.txt)"
            ))
        })
    }
}

/// `tag  kind  date  commit  on_production  branches`, tab-separated; `#` starts a comment.
fn parse_tag_listing(text: &str) -> Result<BTreeMap<String, RealTag>, ReplicaError> {
    let mut tags = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let columns: Vec<&str> = line.split('\t').collect();
        let (Some(name), Some(date), Some(commit)) =
            (columns.first(), columns.get(2), columns.get(3))
        else {
            return Err(ReplicaError::Data(format!("a tag listing line: {line}")));
        };
        let at = super::git::time(date)
            .ok_or_else(|| ReplicaError::Data(format!("the date of tag {name}: {date}")))?;
        let commit = commit.to_string();
        tags.insert(name.to_string(), RealTag { commit, at });
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fixtures_are_an_error_that_names_the_folder() {
        let dir = PathBuf::from("/nonexistent/shared/fixtures/fragalysis");
        match Fixtures::read_from(dir.clone()) {
            Err(ReplicaError::FixturesAbsent(named)) => assert_eq!(named, dir),
            Err(other) => panic!("expected the fixtures absent, got {other}"),
            Ok(_) => panic!("read fixtures from a folder that does not exist"),
        }
    }
}

//! Where a repository lives, as a `repo` field names it: on GitHub (`owner/name`) or on disk.
//! Parsed once, while the config is resolved; everything downstream passes the typed value.

use std::fmt;

/// Where a repository lives, as written in a `repo` field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RepoLocation {
    GitHub {
        owner: String,
        name: String,
    },
    /// A path, relative to the desired-state repository unless absolute.
    Local(String),
}

impl RepoLocation {
    /// Reads a `repo` field: `./`, `../`, `/` or `file://` make it local, otherwise it must be
    /// `owner/name` as GitHub spells them.
    pub fn parse(repo: &str) -> Result<RepoLocation, String> {
        if let Some(path) = repo.strip_prefix("file://") {
            if path.is_empty() {
                return Err("`file://` needs a path after it".into());
            }
            return Ok(RepoLocation::Local(path.to_string()));
        }
        if repo.starts_with("./") || repo.starts_with("../") || repo.starts_with('/') {
            return Ok(RepoLocation::Local(repo.to_string()));
        }
        let valid_part = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match repo.split_once('/') {
            Some((owner, name)) if valid_part(owner) && valid_part(name) => {
                Ok(RepoLocation::GitHub {
                    owner: owner.to_string(),
                    name: name.trim_end_matches(".git").to_string(),
                })
            }
            _ => Err(
                "expected `owner/name` (a GitHub repository) or a local path starting with `./`, `../`, `/` or `file://`"
                    .into(),
            ),
        }
    }

    pub fn is_github(&self) -> bool {
        matches!(self, RepoLocation::GitHub { .. })
    }
}

/// `owner/name`, or the path as written.
impl fmt::Display for RepoLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoLocation::GitHub { owner, name } => write!(f, "{owner}/{name}"),
            RepoLocation::Local(path) => f.write_str(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_owner_name_is_github() {
        assert_eq!(
            RepoLocation::parse("xchem/fragalysis-stack"),
            Ok(RepoLocation::GitHub {
                owner: "xchem".into(),
                name: "fragalysis-stack".into()
            })
        );
    }

    #[test]
    fn repo_paths_are_local() {
        for repo in ["./stack", "../stack", "/srv/git/stack"] {
            assert_eq!(
                RepoLocation::parse(repo),
                Ok(RepoLocation::Local(repo.into()))
            );
        }
        assert_eq!(
            RepoLocation::parse("file:///srv/git/stack"),
            Ok(RepoLocation::Local("/srv/git/stack".into()))
        );
    }

    #[test]
    fn repo_that_is_neither_is_refused() {
        for repo in [
            "stack",
            "a/b/c",
            "https://github.com/xchem/stack",
            "",
            "owner/",
            "a b/c",
        ] {
            assert!(RepoLocation::parse(repo).is_err(), "{repo}");
        }
    }

    #[test]
    fn repo_prints_as_written() {
        assert_eq!(
            RepoLocation::parse("xchem/fragalysis-stack.git")
                .unwrap()
                .to_string(),
            "xchem/fragalysis-stack"
        );
        assert_eq!(RepoLocation::Local("./s".into()).to_string(), "./s");
    }
}

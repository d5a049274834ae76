//! Reads the desired-state files — `stackrel.toml` and `releases/` — either from a working
//! directory (what a person is editing) or from a commit (what is merged, which is the only thing
//! that may deploy). Both produce the same `InputFile` list, so validation never knows or cares
//! where the bytes came from.

use crate::release::RELEASES_DIR;
use crate::validate::{CONFIG_FILE, InputFile, MAX_FILE_BYTES};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{dir} is not inside a git repository")]
    NotARepository { dir: PathBuf },
    #[error("{dir} does not exist")]
    NoSuchDirectory { dir: PathBuf },
    #[error("{dir} is not a directory")]
    NotADirectory { dir: PathBuf },
    #[error("`{rev}` does not name a commit in {repo}: {message}")]
    BadRevision {
        rev: String,
        repo: PathBuf,
        message: String,
    },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

impl TreeError {
    /// How to get past the error, for the help line of the report.
    pub fn help(&self) -> String {
        match self {
            TreeError::Io { .. } => "check the path given with --repo and its permissions".into(),
            TreeError::NoSuchDirectory { .. } | TreeError::NotADirectory { .. } => {
                "pass --repo the desired-state repository's checkout (the directory holding stackrel.toml)".into()
            }
            TreeError::NotARepository { .. } => {
                "run inside the desired-state repository's checkout, or pass --repo DIR; `git init` makes one".into()
            }
            TreeError::BadRevision { .. } => {
                "give a branch, tag or commit that exists, e.g. `main` or `origin/main`; `git log --oneline` lists them".into()
            }
            TreeError::Git(_) => "check that the repository is intact (`git fsck`)".into(),
        }
    }
}

/// How a working tree's desired-state files differ from a commit's: `path (how)`, sorted.
pub fn differences(worktree: &[InputFile], committed: &[InputFile]) -> Vec<String> {
    use std::collections::BTreeMap;
    let map = |files: &[InputFile]| -> BTreeMap<String, Vec<u8>> {
        files
            .iter()
            .map(|f| (f.path.clone(), f.bytes.clone()))
            .collect()
    };
    let (work, commit) = (map(worktree), map(committed));
    let mut changed = Vec::new();
    for (path, bytes) in &work {
        match commit.get(path) {
            None => changed.push(format!("{path} (not committed)")),
            Some(committed) if committed != bytes => changed.push(format!("{path} (modified)")),
            Some(_) => {}
        }
    }
    for path in commit.keys().filter(|p| !work.contains_key(*p)) {
        changed.push(format!("{path} (deleted, still committed)"));
    }
    changed.sort();
    changed
}

/// Said as it is: a mistyped --repo is neither "not inside a git repository" nor a repository
/// without `stackrel.toml`.
fn existing_dir(dir: &Path) -> Result<(), TreeError> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(TreeError::NoSuchDirectory {
            dir: dir.to_path_buf(),
        }),
        Ok(meta) if !meta.is_dir() => Err(TreeError::NotADirectory {
            dir: dir.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Reads the files under `root` as they are on disk, committed or not.
pub fn read_worktree(root: &Path) -> Result<Vec<InputFile>, TreeError> {
    existing_dir(root)?;
    let mut files = Vec::new();
    let config = root.join(CONFIG_FILE);
    if config.exists() {
        files.push(read_capped(&config, CONFIG_FILE.to_string())?);
    }
    let releases = root.join(RELEASES_DIR);
    if releases.is_dir() {
        collect_dir(&releases, RELEASES_DIR, &mut files)?;
    }
    Ok(files)
}

fn collect_dir(dir: &Path, relative: &str, files: &mut Vec<InputFile>) -> Result<(), TreeError> {
    let io = |source| TreeError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel = format!("{relative}/{name}");
        if path.is_dir() {
            collect_dir(&path, &rel, files)?;
        } else {
            files.push(read_capped(&path, rel)?);
        }
    }
    Ok(())
}

/// Reads at most one byte past the size limit: enough to know a file is too large without
/// loading a multi-gigabyte accident into memory.
fn read_capped(path: &Path, relative: String) -> Result<InputFile, TreeError> {
    let io = |source| TreeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(InputFile {
        path: relative,
        bytes,
    })
}

/// A git repository holding a desired state, possibly in a subdirectory of it.
pub struct DesiredRepo {
    pub repo: git2::Repository,
    /// The desired-state root inside the repository, `""` or `"deploy/"`.
    pub prefix: String,
    pub dir: PathBuf,
}

impl DesiredRepo {
    /// Finds the git repository containing `dir`; `dir` is the desired-state root.
    pub fn open(dir: &Path) -> Result<DesiredRepo, TreeError> {
        existing_dir(dir)?;
        let repo = git2::Repository::discover(dir).map_err(|_| TreeError::NotARepository {
            dir: dir.to_path_buf(),
        })?;
        let prefix = match (repo.workdir(), dir.canonicalize()) {
            (Some(workdir), Ok(dir)) => {
                let workdir = workdir
                    .canonicalize()
                    .unwrap_or_else(|_| workdir.to_path_buf());
                match dir.strip_prefix(&workdir) {
                    Ok(rel) if rel.as_os_str().is_empty() => String::new(),
                    Ok(rel) => format!("{}/", rel.to_string_lossy().replace('\\', "/")),
                    Err(_) => String::new(),
                }
            }
            _ => String::new(),
        };
        Ok(DesiredRepo {
            repo,
            prefix,
            dir: dir.to_path_buf(),
        })
    }

    pub fn commit(&self, rev: &str) -> Result<git2::Commit<'_>, TreeError> {
        self.repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| TreeError::BadRevision {
                rev: rev.to_string(),
                repo: self.dir.clone(),
                message: e.message().to_string(),
            })
    }

    /// Reads the desired-state files of a commit.
    pub fn read_commit(&self, commit: &git2::Commit<'_>) -> Result<Vec<InputFile>, TreeError> {
        let tree = commit.tree()?;
        read_tree(&self.repo, &tree, &self.prefix)
    }

    /// The bytes of one desired-state file at a commit, if it exists there.
    pub fn file_at(
        &self,
        commit: &git2::Commit<'_>,
        path: &str,
    ) -> Result<Option<Vec<u8>>, TreeError> {
        let tree = commit.tree()?;
        let entry = match tree.get_path(Path::new(&format!("{}{path}", self.prefix))) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let blob = self.repo.find_blob(entry.id())?;
        Ok(Some(blob.content().to_vec()))
    }
}

/// Reads `stackrel.toml` and everything under `releases/` from a tree.
pub fn read_tree(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
) -> Result<Vec<InputFile>, TreeError> {
    let root = if prefix.is_empty() {
        tree.clone()
    } else {
        match tree.get_path(Path::new(prefix.trim_end_matches('/'))) {
            Ok(entry) => repo.find_tree(entry.id())?,
            Err(_) => return Ok(Vec::new()),
        }
    };
    let mut files = Vec::new();
    let odb = repo.odb()?;
    if let Some(entry) = root.get_name(CONFIG_FILE) {
        files.push(read_blob(&odb, entry.id(), CONFIG_FILE.to_string())?);
    }
    if let Some(entry) = root.get_name(RELEASES_DIR)
        && entry.kind() == Some(git2::ObjectType::Tree)
    {
        let releases = repo.find_tree(entry.id())?;
        collect_tree(repo, &odb, &releases, RELEASES_DIR, &mut files)?;
    }
    Ok(files)
}

fn collect_tree(
    repo: &git2::Repository,
    odb: &git2::Odb<'_>,
    tree: &git2::Tree<'_>,
    relative: &str,
    files: &mut Vec<InputFile>,
) -> Result<(), TreeError> {
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        let rel = format!("{relative}/{name}");
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                let subtree = repo.find_tree(entry.id())?;
                collect_tree(repo, odb, &subtree, &rel, files)?;
            }
            Some(git2::ObjectType::Blob) => files.push(read_blob(odb, entry.id(), rel)?),
            // Submodules (commits) are not files; show them as empty so validation names them.
            _ => files.push(InputFile {
                path: rel,
                bytes: Vec::new(),
            }),
        }
    }
    Ok(())
}

fn read_blob(odb: &git2::Odb<'_>, id: git2::Oid, path: String) -> Result<InputFile, TreeError> {
    // Check the size from the object header first, so a huge blob is refused unread.
    let (size, _) = odb.read_header(id)?;
    if size > MAX_FILE_BYTES {
        return Ok(InputFile {
            path,
            bytes: vec![0; MAX_FILE_BYTES + 1],
        });
    }
    let object = odb.read(id)?;
    Ok(InputFile {
        path,
        bytes: object.data().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> InputFile {
        InputFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn new_modified_and_deleted_files_are_named() {
        let committed = [file("stackrel.toml", "a"), file("releases/1.toml", "x")];
        let worktree = [file("stackrel.toml", "b"), file("releases/2.toml", "y")];
        assert_eq!(
            differences(&worktree, &committed),
            vec![
                "releases/1.toml (deleted, still committed)",
                "releases/2.toml (not committed)",
                "stackrel.toml (modified)",
            ]
        );
        assert!(differences(&committed, &committed).is_empty());
    }
}

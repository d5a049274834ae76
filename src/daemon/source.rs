//! Where the daemon reads the desired state: a local checkout (for instance kept current by a
//! git-sync sidecar, which swaps the checkout by symlink) watched for changes, or a remote URL
//! the daemon clones and fetches itself. Either way only committed trees are read, never a
//! working tree's uncommitted edits.

use crate::credentials::Secret;
use crate::tree::{DesiredRepo, TreeError, read_tree};
use crate::validate::InputFile;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why the desired state could not be read. The remote's URL may carry credentials, so no
/// message here includes it where git might have put them; git's own messages never do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Checkout(#[from] TreeError),
    #[error("cannot create the cache repository {}: {}", .path.display(), .source.message())]
    Cache {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("`{url}` is not a usable remote: {}", .source.message())]
    Remote {
        url: String,
        #[source]
        source: git2::Error,
    },
    #[error("fetching {branch} from the desired-state remote failed: {}", .source.message())]
    Fetch {
        branch: String,
        #[source]
        source: git2::Error,
    },
    #[error("{url} has no branch {branch}: {}", .source.message())]
    NoBranch {
        url: String,
        branch: String,
        #[source]
        source: git2::Error,
    },
    #[error("{}", .0.message())]
    Git(#[source] git2::Error),
}

/// Why the checkout cannot be watched (the daemon then relies on webhooks and the schedule).
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch files: {0}")]
    Start(#[source] notify::Error),
    #[error("cannot watch {}: {source}", .path.display())]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
}

/// A desired state read at one commit.
pub struct Snapshot {
    pub commit: String,
    pub files: Vec<InputFile>,
    /// Where relative paths in the config are resolved: the checkout, or for a remote the
    /// daemon's working directory (a bare clone has no files to run or point at).
    pub dir: PathBuf,
}

pub enum Source {
    /// A checkout on disk; `rev` is a branch or `HEAD`.
    Checkout { dir: PathBuf, rev: String },
    /// A remote repository fetched into `cache` (a bare repository).
    Remote {
        url: String,
        branch: String,
        cache: PathBuf,
        token: Option<Secret>,
    },
}

impl Source {
    /// The branch webhooks must name to count, when known.
    pub fn branch(&self) -> Option<&str> {
        match self {
            Source::Checkout { rev, .. } if rev != "HEAD" => Some(rev),
            Source::Checkout { .. } => None,
            Source::Remote { branch, .. } => Some(branch),
        }
    }

    /// Reads the committed desired state (fetching first, for a remote).
    pub fn read(&self) -> Result<Snapshot, SourceError> {
        match self {
            Source::Checkout { dir, rev } => {
                let desired = DesiredRepo::open(dir)?;
                let commit = desired.commit(rev)?;
                let files = desired.read_commit(&commit)?;
                Ok(Snapshot {
                    commit: commit.id().to_string(),
                    files,
                    dir: dir.clone(),
                })
            }
            Source::Remote {
                url,
                branch,
                cache,
                token,
            } => {
                let repo = fetch(url, branch, cache, token.as_ref())?;
                let reference = format!("refs/heads/{branch}");
                let commit = repo
                    .find_reference(&reference)
                    .and_then(|r| r.peel_to_commit())
                    .map_err(|source| SourceError::NoBranch {
                        url: url.clone(),
                        branch: branch.clone(),
                        source,
                    })?;
                let tree = commit.tree().map_err(SourceError::Git)?;
                let files = read_tree(&repo, &tree, "")?;
                Ok(Snapshot {
                    commit: commit.id().to_string(),
                    files,
                    dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
                })
            }
        }
    }
}

/// Clones (the first time) and fetches the branch into a bare cache repository.
fn fetch(
    url: &str,
    branch: &str,
    cache: &Path,
    token: Option<&Secret>,
) -> Result<git2::Repository, SourceError> {
    let repo = match git2::Repository::open_bare(cache) {
        Ok(repo) => repo,
        Err(_) => git2::Repository::init_bare(cache).map_err(|source| SourceError::Cache {
            path: cache.to_path_buf(),
            source,
        })?,
    };
    let mut callbacks = git2::RemoteCallbacks::new();
    if let Some(token) = token {
        let token = token.clone();
        callbacks.credentials(move |_url, _user, _allowed| {
            git2::Cred::userpass_plaintext("x-access-token", token.expose())
        });
    }
    let mut options = git2::FetchOptions::new();
    options.remote_callbacks(callbacks);
    let refspec = format!("+refs/heads/{branch}:refs/heads/{branch}");
    {
        let mut remote = repo
            .remote_anonymous(url)
            .map_err(|source| SourceError::Remote {
                url: url.to_string(),
                source,
            })?;
        // The URL may carry credentials; the message of a git error never includes it, ours neither.
        remote
            .fetch(&[refspec.as_str()], Some(&mut options), None)
            .map_err(|source| SourceError::Fetch {
                branch: branch.to_string(),
                source,
            })?;
    }
    Ok(repo)
}

/// Watches a checkout for anything that may change what is committed: its git directory (refs,
/// HEAD, packed refs) and its parent directory (a symlink swapped by git-sync). Everything else
/// — objects being written, files read, the neighbours of the checkout — is ignored, so the
/// daemon's own reading never wakes it. Sends one notification per burst of changes.
pub struct ChangeWatcher {
    watcher: RecommendedWatcher,
    watched_git_dir: Arc<Mutex<Option<PathBuf>>>,
}

/// Whether an event can change the committed desired state.
fn relevant(event: &notify::Event, checkout: &Path, git_dir: Option<&Path>) -> bool {
    use notify::EventKind;
    if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
        return false;
    }
    event.paths.iter().any(|path| {
        if path == checkout
            || (path.file_name() == checkout.file_name() && path.parent() == checkout.parent())
        {
            return true;
        }
        let Some(inside) = git_dir.and_then(|g| path.strip_prefix(g).ok()) else {
            return false;
        };
        let text = inside.to_string_lossy();
        !text.ends_with(".lock")
            && (text == "HEAD" || text == "packed-refs" || text.starts_with("refs/"))
    })
}

impl ChangeWatcher {
    /// Starts watching; `on_change` is called (on a blocking thread of the runtime) after each
    /// burst settles. Must be called within the runtime, whose task does the debouncing.
    pub fn start(
        dir: &Path,
        debounce: Duration,
        on_change: impl Fn() + Send + Sync + 'static,
    ) -> Result<ChangeWatcher, WatchError> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let watched_git_dir: Arc<Mutex<Option<PathBuf>>> = Arc::new(Mutex::new(None));
        let git_dir_for_events = watched_git_dir.clone();
        let checkout = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                let git_dir = git_dir_for_events.lock().ok().and_then(|g| g.clone());
                if relevant(&event, &checkout, git_dir.as_deref()) {
                    let _ = tx.send(());
                }
            })
            .map_err(WatchError::Start)?;
        tokio::spawn(debounced(rx, debounce, Arc::new(on_change)));
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let parent = absolute.parent().unwrap_or(Path::new("/")).to_path_buf();
        watcher
            .watch(&parent, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError::Watch {
                path: parent.clone(),
                source,
            })?;
        let mut change_watcher = ChangeWatcher {
            watcher,
            watched_git_dir,
        };
        change_watcher.follow(dir);
        Ok(change_watcher)
    }

    /// (Re)targets the git directory of `dir`, which moves when git-sync swaps the checkout.
    ///
    /// notify's `watch` and `unwatch` wait for its event thread, and that thread runs the event
    /// handler, which reads `watched_git_dir`: holding that lock across a call into notify
    /// deadlocks as soon as an event arrives meanwhile. So the lock is only ever held to read or
    /// write the path, never while notify is called.
    pub fn follow(&mut self, dir: &Path) {
        let git_dir = git2::Repository::discover(dir).ok().map(|r| {
            r.path()
                .canonicalize()
                .unwrap_or_else(|_| r.path().to_path_buf())
        });
        let old = self.watched_git_dir.lock().ok().and_then(|w| w.clone());
        if git_dir == old {
            return;
        }
        if let Some(old) = &old {
            let _ = self.watcher.unwatch(old);
        }
        // Named before it is watched, so its first events are not judged against the old one.
        self.set_watched(git_dir.clone());
        if let Some(new) = git_dir
            && self.watcher.watch(&new, RecursiveMode::Recursive).is_err()
        {
            self.set_watched(None);
        }
    }

    fn set_watched(&self, git_dir: Option<PathBuf>) {
        if let Ok(mut watched) = self.watched_git_dir.lock() {
            *watched = git_dir;
        }
    }
}

/// Lets each burst of changes settle (a commit touches several files), then reports it once.
/// Ends when the watcher, and with it the sending side, is dropped.
async fn debounced(
    mut changes: tokio::sync::mpsc::UnboundedReceiver<()>,
    debounce: Duration,
    on_change: Arc<dyn Fn() + Send + Sync>,
) {
    while changes.recv().await.is_some() {
        tokio::time::sleep(debounce).await;
        while changes.try_recv().is_ok() {}
        let on_change = on_change.clone();
        // It re-reads where the checkout's git directory is: file system work.
        let _ = tokio::task::spawn_blocking(move || on_change()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind};
    use notify::{Event, EventKind};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn ref_updates_and_checkout_swaps_count() {
        let checkout = Path::new("/srv/desired");
        let git = Some(Path::new("/srv/desired/.git"));
        let modify = EventKind::Modify(ModifyKind::Any);
        assert!(relevant(
            &event(modify, "/srv/desired/.git/refs/heads/main"),
            checkout,
            git
        ));
        assert!(relevant(
            &event(modify, "/srv/desired/.git/HEAD"),
            checkout,
            git
        ));
        assert!(relevant(
            &event(EventKind::Create(CreateKind::Any), "/srv/desired"),
            checkout,
            git
        ));
    }

    #[test]
    fn objects_locks_reads_and_neighbours_do_not() {
        let checkout = Path::new("/srv/desired");
        let git = Some(Path::new("/srv/desired/.git"));
        let modify = EventKind::Modify(ModifyKind::Any);
        assert!(!relevant(
            &event(modify, "/srv/desired/.git/objects/ab/cdef"),
            checkout,
            git
        ));
        assert!(!relevant(
            &event(modify, "/srv/desired/.git/refs/heads/main.lock"),
            checkout,
            git
        ));
        assert!(!relevant(
            &event(EventKind::Access(AccessKind::Any), "/srv/desired/.git/HEAD"),
            checkout,
            git
        ));
        assert!(!relevant(
            &event(modify, "/srv/production.txt"),
            checkout,
            git
        ));
    }
}

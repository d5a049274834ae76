//! Exclusive locks that the operating system releases when their holder dies. A lock file
//! created and removed by its holder outlives a `kill -9` and then stops every later run; an
//! advisory lock (`flock`) on a file that is never removed cannot: the kernel drops it with the
//! process. The holder writes who it is into the file, so that a run that finds the lock taken
//! can say by whom and since when.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Who holds a lock: enough for a person to find the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub user: String,
    /// RFC 3339, UTC.
    pub since: String,
}

impl Holder {
    /// This process, from now.
    pub fn this_process() -> Holder {
        Holder {
            pid: std::process::id(),
            host: host_name(),
            user: crate::adopt::who(),
            since: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// Said of a lock found taken whose holder has not written its name yet.
    fn unknown() -> Holder {
        Holder {
            pid: 0,
            host: String::new(),
            user: String::new(),
            since: String::new(),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pid == 0 {
            return f.write_str("another stackrel (it has not said who it is yet)");
        }
        write!(
            f,
            "{} (pid {} on {}), since {}",
            self.user, self.pid, self.host, self.since
        )
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into())
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{} is locked by {holder}", path.display())]
    Held { path: PathBuf, holder: Holder },
    #[error("cannot use the lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A held lock; dropping it (or the process dying) releases it.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

/// How long a lock found taken but still nameless is given to name its holder: a holder writes
/// its name right after taking the lock, and someone asking who holds it never writes one.
const NAMELESS_GRACE: Duration = Duration::from_secs(2);

impl Lock {
    /// Takes the lock at `path` if it is free, naming `holder` in it.
    pub fn try_acquire(path: &Path, holder: &Holder) -> Result<Lock, LockError> {
        Lock::try_take(path, Some(holder))
    }

    /// Takes the lock if it is free; names a holder in it only when given one, so that asking
    /// who holds a lock never writes a name a taker could mistake for a holder's.
    fn try_take(path: &Path, holder: Option<&Holder>) -> Result<Lock, LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        let deadline = Instant::now() + NAMELESS_GRACE;
        loop {
            let mut file = open(path, holder.is_some()).map_err(io)?;
            match file.try_lock() {
                Ok(()) => {
                    if let Some(holder) = holder {
                        file.set_len(0).map_err(io)?;
                        let text = serde_json::to_string(holder).unwrap_or_default();
                        file.write_all(text.as_bytes()).map_err(io)?;
                    }
                    return Ok(Lock { file });
                }
                Err(TryLockError::WouldBlock) => match read_holder(&mut file) {
                    Some(holder) => {
                        return Err(LockError::Held {
                            path: path.to_path_buf(),
                            holder,
                        });
                    }
                    None if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    None => {
                        return Err(LockError::Held {
                            path: path.to_path_buf(),
                            holder: Holder::unknown(),
                        });
                    }
                },
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }

    /// Takes the lock at `path`, waiting up to `patience` for its holder to let go.
    pub fn acquire(path: &Path, holder: &Holder, patience: Duration) -> Result<Lock, LockError> {
        let deadline = Instant::now() + patience;
        loop {
            match Lock::try_acquire(path, holder) {
                Err(LockError::Held { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => return other,
            }
        }
    }

    /// Who holds the lock at `path` now, if anyone (a missing file is a free lock). Asking
    /// only reads: it works where the file cannot be written.
    pub fn holder(path: &Path) -> Result<Option<Holder>, LockError> {
        match Lock::try_take(path, None) {
            Err(LockError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Ok(lock) => {
                lock.release();
                Ok(None)
            }
            Err(LockError::Held { holder, .. }) => Ok(Some(holder)),
            Err(e) => Err(e),
        }
    }

    /// Lets go of the lock, emptying the file first so that no one reads a stale holder.
    pub fn release(self) {
        drop(self);
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Fails, harmlessly, on a file opened only to ask who holds it.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Opens the lock file: to take it (created if absent), or only to ask about it.
fn open(path: &Path, to_take: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(to_take)
        .create(to_take)
        .truncate(false);
    // A symbolic link where the lock should be is refused: truncating and writing through it
    // would change whatever file it points at.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(path)
}

/// The holder a locked file names; `None` while it names none yet.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str::<Holder>(&text)
        .ok()
        .filter(|h| h.pid != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_lock_names_its_holder_and_is_free_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let me = Holder::this_process();
        let lock = Lock::try_acquire(&path, &me).unwrap();
        assert_eq!(Lock::holder(&path).unwrap(), Some(me.clone()));
        match Lock::try_acquire(&path, &me) {
            Err(LockError::Held { holder, .. }) => assert_eq!(holder, me),
            other => panic!("expected the lock to be held, got {other:?}"),
        }
        drop(lock);
        assert_eq!(Lock::holder(&path).unwrap(), None);
        assert!(Lock::try_acquire(&path, &me).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn who_holds_a_lock_is_read_from_a_file_that_cannot_be_written() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        assert_eq!(Lock::holder(&path).unwrap(), None, "no file, no lock");
        let me = Holder::this_process();
        let lock = Lock::try_acquire(&path, &me).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        assert_eq!(Lock::holder(&path).unwrap(), Some(me));
        drop(lock);
        assert_eq!(Lock::holder(&path).unwrap(), None);
    }

    #[test]
    fn a_lock_file_left_behind_is_no_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        std::fs::write(&path, r#"{"pid":1,"host":"h","user":"u","since":"s"}"#).unwrap();
        assert_eq!(Lock::holder(&path).unwrap(), None);
        assert!(Lock::try_acquire(&path, &Holder::this_process()).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_where_the_lock_should_be_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let path = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(Lock::try_acquire(&path, &Holder::this_process()).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }
}

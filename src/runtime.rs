//! The process's one tokio runtime. The daemon serves HTTP, listens for signals and waits on
//! triggers on it, and the GitHub client's requests run on it; a command-line run that talks
//! to GitHub uses the same one. It is built on first use, so commands that never leave the
//! disk (`validate`, `history`) never start it.
//!
//! The planner and the apply loop are synchronous by design, so async work is reached from the
//! blocking side with `Handle::block_on`. That is only allowed off the runtime's async worker
//! threads: from `main`, from a plain thread, or from a `spawn_blocking` task (where the
//! daemon's reconcile runs) — never from inside a future, where tokio panics.

use std::sync::OnceLock;
use tokio::runtime::{Builder, Handle, Runtime};

/// Async worker threads. The daemon's async side is small (an HTTP port, a signal, a timer);
/// two keep the status page answering while the other drives a GitHub response, and a fixed
/// number keeps a pod on a large node from starting one per core.
const WORKER_THREADS: usize = 2;

/// Threads for blocking work (the reconcile, a changed checkout being re-read). They are made
/// on demand and end after a short idle spell, so an idle daemon keeps none.
const MAX_BLOCKING_THREADS: usize = 8;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, built the first time it is asked for.
pub fn get() -> std::io::Result<&'static Runtime> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_name("stackrel-rt")
        .enable_all()
        .build()?;
    // Two threads racing here both build one; the loser's is dropped unused.
    Ok(RUNTIME.get_or_init(|| built))
}

/// A handle to the runtime this thread runs on (a `spawn_blocking` task's, say), or else to
/// the process's own.
pub fn handle() -> std::io::Result<Handle> {
    match Handle::try_current() {
        Ok(handle) => Ok(handle),
        Err(_) => get().map(|runtime| runtime.handle().clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_caller_gets_the_same_runtime() {
        let first = get().unwrap() as *const Runtime;
        let second = std::thread::spawn(|| get().unwrap() as *const Runtime as usize)
            .join()
            .unwrap();
        assert_eq!(first as usize, second);
    }

    #[test]
    fn blocking_tasks_may_block_on_the_runtime_they_run_on() {
        let runtime = get().unwrap();
        let answer = runtime.block_on(async {
            tokio::task::spawn_blocking(|| {
                let handle = handle().unwrap();
                handle.block_on(async { 42 })
            })
            .await
            .unwrap()
        });
        assert_eq!(answer, 42);
    }
}

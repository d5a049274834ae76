//! `stackrel run`: the long-running service. It wires a desired-state source, its change
//! watcher, a reconcile worker and the HTTP server together, and shuts down between steps,
//! never in the middle of a side effect.

pub mod page;
pub mod server;
pub mod source;
pub mod state;
pub mod triggers;
pub mod worker;

use crate::credentials::Secret;
use crate::http_server::{Handler, Server, serve};
use server::Routes;
use source::{ChangeWatcher, Source};
use state::DaemonState;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use triggers::Triggers;
use worker::{Timing, Worker};

pub struct DaemonOptions {
    pub source: Source,
    pub listen: String,
    pub webhook_secret: Option<Secret>,
    pub timing: Timing,
    /// How long a burst of file changes may last before it counts as one change.
    pub debounce: Duration,
    /// Watch a checkout for changes (off where inotify does not work, e.g. some network file
    /// systems; the schedule and webhooks still trigger).
    pub watch: bool,
}

/// A running daemon. `shutdown` stops it between steps and waits for the worker.
pub struct Daemon {
    pub server: Server,
    pub triggers: Arc<Triggers>,
    pub state: Arc<Mutex<DaemonState>>,
    worker: Option<std::thread::JoinHandle<()>>,
    _watcher: Arc<Mutex<Option<ChangeWatcher>>>,
}

impl Daemon {
    pub fn start(options: DaemonOptions) -> Result<Daemon, String> {
        let triggers = Arc::new(Triggers::default());
        let state = Arc::new(Mutex::new(DaemonState::new()));
        // The watcher re-targets itself on each change (git-sync swaps in a new checkout with a
        // git directory of its own), so it lives where its own callback can reach it.
        let watcher: Arc<Mutex<Option<ChangeWatcher>>> = Arc::new(Mutex::new(None));
        if let (Source::Checkout { dir, .. }, true) = (&options.source, options.watch) {
            let fire = triggers.clone();
            let slot = watcher.clone();
            let followed = dir.clone();
            let started = ChangeWatcher::start(dir, options.debounce, move || {
                if let Ok(mut slot) = slot.lock()
                    && let Some(watcher) = slot.as_mut()
                {
                    watcher.follow(&followed);
                }
                fire.fire("desired-state change")
            })?;
            if let Ok(mut slot) = watcher.lock() {
                *slot = Some(started);
            }
        }
        let routes = Arc::new(Routes {
            state: state.clone(),
            triggers: triggers.clone(),
            webhook_secret: options.webhook_secret,
            branch: options.source.branch().map(String::from),
        });
        let handler: Handler = Arc::new(move |request| routes.handle(request));
        let server = serve(&options.listen, handler)
            .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
        let worker = Worker::new(
            options.source,
            triggers.clone(),
            state.clone(),
            options.timing,
        );
        let worker = std::thread::Builder::new()
            .name("reconcile".into())
            .spawn(move || worker.run())
            .map_err(|e| format!("cannot start the reconcile worker: {e}"))?;
        Ok(Daemon {
            server,
            triggers,
            state,
            worker: Some(worker),
            _watcher: watcher,
        })
    }

    /// Asks the worker to stop after the step in flight and waits for it.
    pub fn shutdown(mut self) {
        self.triggers.shutdown();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

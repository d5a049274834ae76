//! `stackrel run`: the long-running service. It wires a desired-state source, its change
//! watcher, a reconcile worker and the HTTP server together on the process's runtime, and shuts
//! down between steps, never in the middle of a side effect.

pub mod body;
pub mod listener;
pub mod metrics;
pub mod page;
pub mod server;
pub mod source;
pub mod state;
pub mod triggers;
pub mod worker;

use crate::credentials::Secret;
use metrics::Metrics;
use server::Shared;
use source::{ChangeWatcher, Source, WatchError};
use state::DaemonState;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use triggers::Triggers;
use worker::{Timing, Worker};

/// How long open HTTP connections may take to finish once the worker has stopped.
const HTTP_DRAIN: Duration = Duration::from_secs(5);

pub struct DaemonOptions {
    pub source: Source,
    pub listen: String,
    /// A port of its own for the webhook (the one to expose to GitHub); `listen` then serves
    /// everything else.
    pub listen_webhook: Option<String>,
    pub webhook_secret: Option<Secret>,
    pub timing: Timing,
    /// How long a burst of file changes may last before it counts as one change.
    pub debounce: Duration,
    /// Watch a checkout for changes (off where inotify does not work, e.g. some network file
    /// systems; the schedule and webhooks still trigger).
    pub watch: bool,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {listen}: {source}")]
    Listen {
        listen: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Watch(#[from] WatchError),
}

/// A running daemon. `shutdown` stops it between steps and waits for the worker.
pub struct Daemon {
    pub addr: SocketAddr,
    pub webhook_addr: Option<SocketAddr>,
    pub triggers: Arc<Triggers>,
    pub state: Arc<Mutex<DaemonState>>,
    worker: JoinHandle<()>,
    servers: Vec<JoinHandle<()>>,
    stop_server: tokio::sync::watch::Sender<bool>,
    _watcher: Arc<Mutex<Option<ChangeWatcher>>>,
}

impl Daemon {
    /// Starts serving and reconciling on the current runtime.
    pub async fn start(options: DaemonOptions) -> Result<Daemon, StartError> {
        let triggers = Arc::new(Triggers::default());
        let state = Arc::new(Mutex::new(DaemonState::new()));
        let metrics = Arc::new(Metrics::new());
        let watcher = watch(&options, &triggers).await?;
        let listener = bind(&options.listen).await?;
        let public = match &options.listen_webhook {
            Some(listen) => Some(bind(listen).await?),
            None => None,
        };
        let shared = Arc::new(Shared {
            state: state.clone(),
            metrics: metrics.clone(),
            triggers: triggers.clone(),
            webhook_secret: options.webhook_secret,
            branch: options.source.branch().map(String::from),
            bodies: Arc::default(),
        });
        let (stop_server, stopped) = tokio::sync::watch::channel(false);
        let serve = |(listener, _): (tokio::net::TcpListener, SocketAddr), routes| {
            let mut stopped = stopped.clone();
            let router = server::router(shared.clone(), routes);
            tokio::spawn(listener::serve(listener, router, async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }))
        };
        let addr = listener.1;
        let webhook_addr = public.as_ref().map(|(_, addr)| *addr);
        let mut servers = Vec::new();
        match public {
            Some(public) => {
                servers.push(serve(listener, server::Routes::Private));
                servers.push(serve(public, server::Routes::Public));
            }
            None => servers.push(serve(listener, server::Routes::All)),
        }
        let worker = Worker::new(
            options.source,
            triggers.clone(),
            state.clone(),
            metrics,
            options.timing,
        );
        let worker = tokio::spawn(worker.run());
        Ok(Daemon {
            addr,
            webhook_addr,
            triggers,
            state,
            worker,
            servers,
            stop_server,
            _watcher: watcher,
        })
    }

    /// Asks the worker to stop after the step in flight, waits for it, then stops serving.
    pub async fn shutdown(self) {
        self.triggers.shutdown();
        let _ = self.worker.await;
        let _ = self.stop_server.send(true);
        let aborts: Vec<_> = self.servers.iter().map(JoinHandle::abort_handle).collect();
        if tokio::time::timeout(HTTP_DRAIN, join_all(self.servers))
            .await
            .is_err()
        {
            tracing::warn!("HTTP connections still open after {HTTP_DRAIN:?}; closing them");
            for abort in aborts {
                abort.abort();
            }
        }
    }
}

/// Waits for every server task to end.
async fn join_all(servers: Vec<JoinHandle<()>>) {
    for server in servers {
        let _ = server.await;
    }
}

/// Binds one of the daemon's ports.
async fn bind(listen: &str) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
    let failed = |source| StartError::Listen {
        listen: listen.to_string(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(failed)?;
    let addr = listener.local_addr().map_err(failed)?;
    Ok((listener, addr))
}

/// Watches a checkout, when asked to. The watcher re-targets itself on each change (git-sync
/// swaps in a new checkout with a git directory of its own), so it lives where its own
/// callback can reach it.
async fn watch(
    options: &DaemonOptions,
    triggers: &Arc<Triggers>,
) -> Result<Arc<Mutex<Option<ChangeWatcher>>>, WatchError> {
    let slot: Arc<Mutex<Option<ChangeWatcher>>> = Arc::new(Mutex::new(None));
    let (Source::Checkout { dir, .. }, true) = (&options.source, options.watch) else {
        return Ok(slot);
    };
    let fire = triggers.clone();
    let callback_slot = slot.clone();
    let followed = dir.clone();
    let on_change = move || {
        if let Ok(mut slot) = callback_slot.lock()
            && let Some(watcher) = slot.as_mut()
        {
            watcher.follow(&followed);
        }
        fire.fire("desired-state change")
    };
    let dir = dir.clone();
    let debounce = options.debounce;
    // Finding the checkout's git directory reads the file system: not on an async worker.
    let started =
        tokio::task::spawn_blocking(move || ChangeWatcher::start(&dir, debounce, on_change))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    if let Ok(mut watcher) = slot.lock() {
        *watcher = Some(started);
    }
    Ok(slot)
}

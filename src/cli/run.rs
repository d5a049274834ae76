//! `stackrel run`: the daemon. Problems with the configuration or the credentials are reported
//! before the server starts; after that, a broken desired state fails closed and is reported
//! while the service keeps running.

use clap::{Args, ValueEnum};
use stackrel::credentials::from_env;
use stackrel::daemon::source::Source;
use stackrel::daemon::worker::Timing;
use stackrel::daemon::{Daemon, DaemonOptions};
use stackrel::validate::validate;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct RunArgs {
    /// Address for /healthz, /readyz, /metrics, /api/status, / and (without --listen-webhook)
    /// POST /webhooks/github.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: String,
    /// A separate address serving only POST /webhooks/github (and /healthz): the one port to
    /// expose to GitHub, keeping the status page, /api/status and /metrics off it.
    #[arg(long, value_name = "ADDR")]
    listen_webhook: Option<String>,
    /// Log format on standard error.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// The desired-state branch to follow (default: whatever HEAD is, as with a git-sync checkout).
    #[arg(long)]
    branch: Option<String>,
    /// Follow a remote desired-state repository instead of the checkout at --repo (cloned and
    /// fetched by the daemon with GITHUB_TOKEN; needs --branch). Relative paths in its
    /// stackrel.toml resolve against the working directory.
    #[arg(long)]
    source: Option<String>,
    /// Do not watch the checkout for changes; rely on webhooks and the resync schedule.
    #[arg(long)]
    no_watch: bool,
    /// Where to keep the clone of --source.
    #[arg(long, default_value = ".stackrel-cache")]
    cache: PathBuf,
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{FilterExt, filter_fn};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        .and(filter_fn(stackrel::logging::allowed));
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry();
    let _ = match format {
        LogFormat::Text => registry.with(layer.with_filter(filter)).try_init(),
        LogFormat::Json => registry
            .with(layer.json().flatten_event(true).with_filter(filter))
            .try_init(),
    };
}

/// Listens for SIGTERM and SIGINT from the moment it is made; `wait` returns when one arrives.
/// Made before the daemon starts, so a signal can never find the process without a handler
/// (which would kill it in the middle of a step).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    /// Must be called on the runtime, which delivers the signals.
    fn listen() -> Result<Signals, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let term = signal(SignalKind::terminate())
                .map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
            let interrupt = signal(SignalKind::interrupt())
                .map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
            Ok(Signals { term, interrupt })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.interrupt.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Where the desired state comes from: `--source`, or the checkout at `--repo`.
fn source(repo: &Path, args: &RunArgs) -> miette::Result<Source> {
    let Some(url) = &args.source else {
        return Ok(Source::Checkout {
            dir: repo.to_path_buf(),
            rev: args.branch.clone().unwrap_or_else(|| "HEAD".into()),
        });
    };
    let branch = args.branch.clone().ok_or_else(|| {
        miette::miette!(
            help = "add --branch main (or your desired-state branch)",
            "--source needs --branch"
        )
    })?;
    Ok(Source::Remote {
        url: url.clone(),
        branch,
        cache: args.cache.clone(),
        token: stackrel::credentials::token_from_env("GITHUB_TOKEN")
            .map_err(|e| miette::miette!("{e}"))?,
    })
}

/// Before serving anything: the desired state must read, and its config and credentials work.
fn preflight(repo: &Path, source: &Source) -> miette::Result<()> {
    let snapshot = source.read().map_err(|e| {
        miette::miette!(
            help = "check --repo / --source and --branch",
            "cannot read the desired state: {e}"
        )
    })?;
    let state = validate(&snapshot.files);
    let (Some(config), true) = (&state.config, state.is_valid()) else {
        super::output::print_diagnostics(
            &state.diagnostics,
            stackrel::diagnostic::Format::Human,
            repo,
            "",
        );
        return Err(miette::miette!(
            help = "fix the problems above and commit; the daemon refuses to start on an invalid desired state",
            "the desired state is invalid"
        ));
    };
    let backends = stackrel::backends::build(config, &snapshot.dir).map_err(|e| {
        miette::miette!(
            help = "check stackrel.toml and the credentials in the environment",
            "{e}"
        )
    })?;
    for line in &backends.preflight {
        tracing::info!("{line}");
    }
    Ok(())
}

pub fn run(repo: &Path, args: RunArgs) -> miette::Result<ExitCode> {
    init_logging(args.log_format);
    let webhook_secret = from_env("STACKREL_WEBHOOK_SECRET").map_err(|e| miette::miette!("{e}"))?;
    let source = source(repo, &args)?;
    preflight(repo, &source)?;
    if webhook_secret.is_none() {
        tracing::info!("STACKREL_WEBHOOK_SECRET is not set: POST /webhooks/github is disabled");
    }
    let options = DaemonOptions {
        source,
        listen: args.listen.clone(),
        listen_webhook: args.listen_webhook.clone(),
        webhook_secret,
        timing: Timing::default(),
        debounce: Duration::from_millis(100),
        watch: !args.no_watch,
    };
    let runtime = stackrel::runtime::get()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    runtime.block_on(serve(options))
}

/// The daemon's life on the runtime: serve until SIGTERM or SIGINT, then stop between steps.
/// A signal while it is still starting (watching a checkout, binding the port) ends it there:
/// nothing has been done yet that a step could be in the middle of.
async fn serve(options: DaemonOptions) -> miette::Result<ExitCode> {
    let mut signals = Signals::listen().map_err(|e| miette::miette!("{e}"))?;
    let daemon = tokio::select! {
        started = Daemon::start(options) => started.map_err(|e| miette::miette!("{e}"))?,
        () = signals.wait() => {
            tracing::info!("stopped while starting");
            return Ok(ExitCode::SUCCESS);
        }
    };
    match daemon.webhook_addr {
        Some(webhook) => {
            tracing::info!(listen = %daemon.addr, listen_webhook = %webhook, "stackrel is running")
        }
        None => tracing::info!(listen = %daemon.addr, "stackrel is running"),
    }
    signals.wait().await;
    tracing::info!("shutting down after the step in flight");
    daemon.shutdown().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

//! `stackrel apply`: converge, showing each step as it happens; asks once before the first side
//! effect when run on a terminal.

use super::plan::render;
use super::setup::{backends, load};
use clap::Args;
use stackrel::apply::{ApplyOptions, ApplyOutcome, Progress, apply};
use stackrel::escape;
use stackrel::plan::{Plan, PlanOptions, Step};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct ApplyArgs {
    /// The desired-state commit to converge to.
    #[arg(long, default_value = "HEAD")]
    rev: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Show the plan and stop: change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Run a deploy again after a failed or interrupted one (once you have checked production).
    #[arg(long)]
    retry_deploy: bool,
    /// Release even outside `[daemon] windows`, deliberately; said in the output and kept in
    /// the deployment record.
    #[arg(long)]
    ignore_window: bool,
    /// How long to wait on CI or verification before giving up, in seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
}

struct Terminal {
    ask: bool,
}

impl Progress for Terminal {
    fn confirm(&mut self, plan: &Plan) -> bool {
        print!("{}", escape::text(&render(plan)));
        if !self.ask {
            return true;
        }
        print!(
            "\nApply {} step(s) to converge on {}? [y/N] ",
            plan.pending(),
            plan.version
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes")
    }

    fn acting(&mut self, step: &Step) {
        println!(
            "→ {}",
            escape::line(&format!("{}: {}", step.title(), step.reason))
        );
    }

    fn acted(&mut self, _step: &Step, what: &str) {
        println!("  ✓ {}", escape::line(what));
    }

    fn failed(&mut self, _step: &Step, what: &str) {
        println!("  ✗ {}", escape::line(what));
    }

    fn waiting(&mut self, step: &Step, next_check: Duration) {
        let reason = format!("{}: {}", step.title(), step.reason);
        println!(
            "  … {} (checking again in {}s)",
            escape::line(&reason),
            next_check.as_secs().max(1)
        );
    }
}

pub fn run(repo: &Path, args: ApplyArgs) -> miette::Result<ExitCode> {
    if args.dry_run {
        return super::plan::run(
            repo,
            super::plan::PlanArgs {
                rev: args.rev,
                json: false,
            },
        );
    }
    let loaded = load(repo, &args.rev)?;
    let Some(release) = loaded.newest() else {
        println!("no releases declared in releases/: nothing to converge");
        return Ok(ExitCode::SUCCESS);
    };
    let backends = backends(&loaded)?;
    let options = ApplyOptions {
        plan: PlanOptions {
            retry_deploy: args.retry_deploy,
            ignore_window: args.ignore_window,
            window: stackrel::window::current(&loaded.config.daemon),
            ..PlanOptions::default()
        },
        gate_timeout: Duration::from_secs(args.timeout),
        poll_start: Duration::from_millis(500),
        poll_max: Duration::from_secs(30),
        ..ApplyOptions::default()
    };
    if args.ignore_window && options.plan.window.as_ref().is_some_and(|w| !w.open) {
        println!("Ignoring the closed deploy windows of [daemon] windows (--ignore-window).");
    }
    let mut terminal = Terminal {
        ask: !args.yes && std::io::stdin().is_terminal(),
    };
    let outcome = apply(
        &loaded.config,
        release,
        &loaded.releases,
        &backends.as_apply(),
        &options,
        &mut terminal,
    )
    .map_err(|e| {
        miette::miette!(
            help = "nothing after the failed step was done; run `stackrel plan` to see the state",
            "{e}"
        )
    })?;
    match outcome {
        ApplyOutcome::Converged { plan } => {
            println!("Converged: {}.", plan.live_words());
            Ok(ExitCode::SUCCESS)
        }
        ApplyOutcome::Blocked { step, .. } => {
            let reason = format!("{}: {}", step.title(), step.reason);
            println!("Blocked at {}", escape::line(&reason));
            Ok(ExitCode::from(1))
        }
        ApplyOutcome::TimedOut { step, .. } => {
            let reason = format!("{}: {}", step.title(), step.reason);
            println!(
                "Gave up waiting at {}; run `stackrel apply` again to resume.",
                escape::line(&reason)
            );
            Ok(ExitCode::from(2))
        }
        ApplyOutcome::Declined => {
            println!("Nothing changed.");
            Ok(ExitCode::from(1))
        }
        ApplyOutcome::Held { hold, .. } => {
            println!("Held: {hold}; nothing changed.");
            Ok(ExitCode::from(2))
        }
        ApplyOutcome::Stopped => {
            println!("Stopped between steps; run `stackrel apply` again to resume.");
            Ok(ExitCode::from(1))
        }
        ApplyOutcome::Unsettled { what } => {
            println!(
                "Stopped: {}; nothing is sent again until it is known. Run `stackrel apply` again in a minute: it looks for the deploy first.",
                escape::line(&what)
            );
            Ok(ExitCode::from(1))
        }
        ApplyOutcome::Interrupted { after } => {
            println!(
                "Stopped after: {}; run `stackrel apply` again to resume.",
                escape::line(&after)
            );
            Ok(ExitCode::from(1))
        }
    }
}

//! The `stackrel` command line: argument parsing and dispatch only. Each command lives in
//! `cli/<command>.rs` and calls into the library, which knows nothing of terminals or exit codes.

mod cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stackrel",
    version,
    about = "Declarative production releases for container stacks: merge a release file, and it deploys."
)]
struct Args {
    /// The desired-state repository (holding stackrel.toml and releases/).
    #[arg(long, global = true, default_value = ".")]
    repo: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check stackrel.toml and every release file; list every problem at once.
    Validate(cli::validate::ValidateArgs),
    /// The audit trail: each release as it entered the desired-state branch.
    History(cli::history::HistoryArgs),
    /// Pull-request check: validate the head and judge the change against the base.
    Check(cli::check::CheckArgs),
    /// Show what converging would do (exit 0 in sync, 2 changes pending, 1 error or blocked).
    Plan(cli::plan::PlanArgs),
    /// Converge: pin, release, build, deploy, verify, report.
    Apply(cli::apply::ApplyArgs),
    /// Propose the next release file: the newest releasable tags, the next version, the notes.
    Release(cli::release::ReleaseArgs),
    /// Propose a release that returns to an earlier one's versions.
    Rollback(cli::rollback::RollbackArgs),
    /// Run as a service: watch, schedule, webhook, health, metrics, status page.
    Run(cli::run::RunArgs),
    /// Desired versus live, per release.
    Status(cli::status::StatusArgs),
    /// Record a release a person made as live, without deploying it.
    Adopt(cli::adopt::AdoptArgs),
    /// Build a local sandbox shaped like the Fragalysis stack and run a whole release in it.
    Demo(cli::demo::DemoArgs),
    /// Print the JSON Schema of stackrel.toml or of release files.
    Schema(cli::schema::SchemaArgs),
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, which turns `stackrel history | head` into a panic on the next
    // print; a command-line tool should just stop, as every Unix tool does.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = Args::parse();
    let result = match args.command {
        Command::Validate(a) => cli::validate::run(&args.repo, a),
        Command::History(a) => cli::history::run(&args.repo, a),
        Command::Check(a) => cli::check::run(&args.repo, a),
        Command::Plan(a) => cli::plan::run(&args.repo, a),
        Command::Apply(a) => cli::apply::run(&args.repo, a),
        Command::Release(a) => cli::release::run(&args.repo, a),
        Command::Rollback(a) => cli::rollback::run(&args.repo, a),
        Command::Status(a) => cli::status::run(&args.repo, a),
        Command::Adopt(a) => cli::adopt::run(&args.repo, a),
        Command::Run(a) => cli::run::run(&args.repo, a),
        Command::Demo(a) => cli::demo::run(a),
        Command::Schema(a) => cli::schema::run(&args.repo, a),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

//! `stackrel history`: the audit trail of releases from git.

use super::output::tree_error;
use clap::Args;
use stackrel::history::{history, render_table};
use stackrel::tree::DesiredRepo;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct HistoryArgs {
    /// The desired-state branch or commit to read.
    #[arg(long, default_value = "HEAD")]
    rev: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(repo: &Path, args: HistoryArgs) -> miette::Result<ExitCode> {
    let desired = DesiredRepo::open(repo).map_err(tree_error)?;
    let entries = history(&desired, &args.rev).map_err(tree_error)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
    } else {
        print!("{}", render_table(&entries));
    }
    Ok(ExitCode::SUCCESS)
}

//! `stackrel history`: the audit trail of releases from git, with each release's stack tag and
//! deploy state when the stack repository can be read.

use super::output::tree_error;
use clap::Args;
use stackrel::forge::Forge;
use stackrel::history::{HistoryEntry, history, render_table, with_stack_state};
use stackrel::tree::DesiredRepo;
use stackrel::validate::validate;
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
    let mut entries = history(&desired, &args.rev).map_err(tree_error)?;
    if let Err(why) = add_stack_state(&desired, &args.rev, repo, &mut entries) {
        eprintln!("(stack tags and deploy states are not shown: {why})");
    }
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

/// The stack's tags and deployment records, read through the backends the config names. The
/// history itself needs only git; this part needs the stack repository (and credentials for it).
fn add_stack_state(
    desired: &DesiredRepo,
    rev: &str,
    dir: &Path,
    entries: &mut [HistoryEntry],
) -> Result<(), String> {
    let commit = desired.commit(rev).map_err(|e| e.to_string())?;
    let files = desired.read_commit(&commit).map_err(|e| e.to_string())?;
    let config = validate(&files)
        .config
        .ok_or("stackrel.toml is not valid at this commit")?;
    let backends = stackrel::backends::build(&config, dir).map_err(|e| e.to_string())?;
    let forge: &dyn Forge = &backends.forge;
    let tags = forge.tags(&config.stack.repo).map_err(|e| e.to_string())?;
    let records = forge
        .deployments(&config.stack.repo)
        .map_err(|e| e.to_string())?;
    with_stack_state(entries, &tags, &records);
    Ok(())
}

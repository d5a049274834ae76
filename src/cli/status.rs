//! `stackrel status`: desired versus live, per release.

use super::setup::{backends, load};
use clap::Args;
use stackrel::status::{render, status};
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct StatusArgs {
    /// The desired-state commit.
    #[arg(long, default_value = "HEAD")]
    rev: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(repo: &Path, args: StatusArgs) -> miette::Result<ExitCode> {
    let loaded = load(repo, &args.rev)?;
    let backends = backends(&loaded)?;
    let rows = status(&loaded.config, &loaded.releases, &backends.as_apply()).map_err(|e| {
        miette::miette!(
            help = "check the repository paths in stackrel.toml",
            "reading live state failed: {e}"
        )
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else {
        print!("{}", stackrel::escape::text(&render(&rows)));
    }
    Ok(ExitCode::SUCCESS)
}

//! `stackrel rollback [--to V] [--commit | --pr] [--dry-run]`: a new release (the next version)
//! that re-declares the components of `V`, by default the release live before the current one.
//! It converges like any release; only its file is made for you.

use super::release::{Output, deliver, precheck, proposal_error};
use super::setup::{backends, load};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct RollbackArgs {
    /// The release to return to (default: the one live before the current one).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

pub fn run(repo: &Path, args: RollbackArgs) -> miette::Result<ExitCode> {
    let loaded = load(repo, "HEAD")?;
    let pr = precheck(repo, args.output, &loaded.config.github.web_url())?;
    let backends = backends(&loaded)?;
    let proposal = stackrel::proposal::rollback(
        &loaded.config,
        &loaded.releases,
        &backends.as_apply(),
        args.to.as_deref(),
        chrono::Utc::now(),
    )
    .map_err(proposal_error)?;
    deliver(&loaded, &backends, &proposal, args.output, pr)
}

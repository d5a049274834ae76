//! `stackrel check`: the pull-request gate — validate the head commit and judge what the change
//! does to released history.

use super::output::{count_summary, plural, print_diagnostics, tree_error};
use clap::Args;
use stackrel::check::judge_change;
use stackrel::diagnostic::Format;
use stackrel::tree::DesiredRepo;
use stackrel::validate::validate;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
    /// The target branch of the pull request, e.g. `origin/main`.
    #[arg(long)]
    base: String,
    /// The pull request's head.
    #[arg(long, default_value = "HEAD")]
    head: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn run(repo: &Path, args: CheckArgs) -> miette::Result<ExitCode> {
    let desired = DesiredRepo::open(repo).map_err(tree_error)?;
    let base = desired.commit(&args.base).map_err(tree_error)?;
    let head = desired.commit(&args.head).map_err(tree_error)?;
    // Judge only what the branch changed: compare with where it left the base, not the base tip.
    let fork = match desired.repo.merge_base(base.id(), head.id()) {
        Ok(oid) => desired
            .repo
            .find_commit(oid)
            .map_err(|e| tree_error(e.into()))?,
        Err(_) => base.clone(),
    };
    let base_files = desired.read_commit(&base).map_err(tree_error)?;
    let fork_files = desired.read_commit(&fork).map_err(tree_error)?;
    let head_files = desired.read_commit(&head).map_err(tree_error)?;

    let state = validate(&head_files);
    let (change, summary) = judge_change(&base_files, &fork_files, &head_files);
    let mut diagnostics = state.diagnostics.clone();
    diagnostics.extend(change);
    let (errors, warnings) = count_summary(&diagnostics);
    let mut line = format!(
        "{} added, {} modified, {} deleted",
        plural(summary.added.len(), "release"),
        summary.modified.len(),
        summary.deleted.len()
    );
    if errors == 0 {
        let deploys = state
            .newest()
            .map(|r| format!("; merging deploys {}", r.version))
            .unwrap_or_default();
        line.push_str(&format!(": ok{deploys}"));
    } else {
        line.push_str(&format!(
            ": {} and {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ));
    }
    print_diagnostics(&diagnostics, args.format, repo, &line);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

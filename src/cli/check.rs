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
    /// Also run the read-only preflight against live state (needs the credentials the config
    /// needs, e.g. GITHUB_TOKEN) and plan what merging would do.
    #[arg(long)]
    online: bool,
    /// With --online: write the plan as Markdown to this file, for a pull-request comment.
    #[arg(long, requires = "online")]
    markdown: Option<std::path::PathBuf>,
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
    if errors > 0 {
        return Ok(ExitCode::from(1));
    }
    if !args.online {
        return Ok(ExitCode::SUCCESS);
    }
    online(repo, &state, args.markdown.as_deref())
}

/// The online part: what merging would do against live state, without changing anything.
fn online(
    repo: &Path,
    state: &stackrel::validate::DesiredState,
    markdown: Option<&Path>,
) -> miette::Result<ExitCode> {
    let (Some(config), Some(release)) = (state.config.as_ref(), state.newest()) else {
        println!("no release declared: nothing to plan");
        return Ok(ExitCode::SUCCESS);
    };
    let loaded = super::setup::Loaded {
        config: config.clone(),
        releases: state.releases.clone(),
        dir: repo.to_path_buf(),
    };
    let backends = super::setup::backends(&loaded)?;
    let plan = stackrel::apply::preview(
        config,
        release,
        &state.releases,
        &backends.as_apply(),
        stackrel::plan::PlanOptions {
            window: stackrel::window::current(&config.daemon),
            ..Default::default()
        },
    )
    .map_err(|e| {
        miette::miette!(
            help = "check the credentials and repositories",
            "preflight against live state failed: {e}"
        )
    })?;
    print!("\n{}", super::plan::render(&plan));
    if let Some(path) = markdown {
        std::fs::write(path, super::plan::render_markdown(&plan))
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
    }
    Ok(match plan.blocked() {
        Some(step) => {
            println!("\nMerging would block at {}: {}", step.title(), step.reason);
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    })
}

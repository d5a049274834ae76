//! `stackrel validate`: the desired state judged as a whole, every problem listed at once.

use super::output::{count_summary, plural, print_diagnostics, tree_error};
use clap::Args;
use stackrel::diagnostic::Format;
use stackrel::repo_check::check_local_repos;
use stackrel::tree::{DesiredRepo, differences, read_worktree};
use stackrel::validate::{CONFIG_FILE, validate};
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct ValidateArgs {
    /// Validate a commit (branch, tag, SHA) instead of the working tree.
    #[arg(long)]
    rev: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn run(repo: &Path, args: ValidateArgs) -> miette::Result<ExitCode> {
    let files = match &args.rev {
        None => read_worktree(repo).map_err(tree_error)?,
        Some(rev) => {
            let desired = DesiredRepo::open(repo).map_err(tree_error)?;
            let commit = desired.commit(rev).map_err(tree_error)?;
            desired.read_commit(&commit).map_err(tree_error)?
        }
    };
    let mut state = validate(&files);
    // Local repositories can be looked at too: a branch or path mistyped there would otherwise
    // pass here and fail only at `plan`.
    let config_text = files
        .iter()
        .find(|f| f.path == CONFIG_FILE)
        .and_then(|f| std::str::from_utf8(&f.bytes).ok());
    if let (Some(config), Some(text)) = (&state.config, config_text) {
        let found = check_local_repos(config, text, repo);
        state.diagnostics.extend(found);
    }
    let (errors, warnings) = count_summary(&state.diagnostics);
    let summary = if errors == 0 {
        let newest = state
            .newest()
            .map(|r| format!("; the newest is {}", r.version))
            .unwrap_or_default();
        format!(
            "ok: stackrel.toml and {} are valid{newest}{}",
            plural(state.releases.len(), "release"),
            if warnings > 0 {
                format!(" ({})", plural(warnings, "warning"))
            } else {
                String::new()
            }
        )
    } else {
        format!(
            "{} and {} in {}: nothing will converge until they are fixed",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(files.len(), "file")
        )
    };
    let summary = match &args.rev {
        None => summary + &uncommitted_note(repo, &files),
        Some(_) => summary,
    };
    print_diagnostics(&state.diagnostics, args.format, repo, &summary);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// When the working tree validated is not what is committed, says so: `plan`, `apply` and `run`
/// converge the commit, never the working tree.
fn uncommitted_note(repo: &Path, worktree: &[stackrel::validate::InputFile]) -> String {
    let Ok(desired) = DesiredRepo::open(repo) else {
        return String::new();
    };
    let Ok(commit) = desired.commit("HEAD") else {
        return String::new();
    };
    let Ok(committed) = desired.read_commit(&commit) else {
        return String::new();
    };
    let changed = differences(worktree, &committed);
    if changed.is_empty() {
        return String::new();
    }
    let short: String = commit.id().to_string().chars().take(7).collect();
    format!(
        "\nnote: this is the working tree, not HEAD ({short}), which is what plan, apply and run converge; it differs in {}: {}; commit, or run `stackrel validate --rev HEAD` to judge what will converge",
        plural(changed.len(), "file"),
        changed.join(", ")
    )
}

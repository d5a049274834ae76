//! What `validate` can find out only by looking at disk: that each component's local repository
//! (a path in `stackrel.toml`) opens as a git repository and holds the configured `branch`.
//! Validation proper is pure and cannot see either, so a typo there (`branch = "prodution"`)
//! passed `validate` and failed only at `plan`. GitHub repositories cannot be checked offline,
//! and are not.

use crate::config::{Component, Config, FieldPlace, RepoLocation};
use crate::diagnostic::{Diagnostic, Source, did_you_mean};
use crate::forge::local::LocalForge;
use crate::forge::{Forge, ForgeError};
use crate::validate::CONFIG_FILE;
use std::path::Path;

pub const REPO_NOT_FOUND: &str = "stackrel::config::repo-not-found";
pub const BRANCH_NOT_FOUND: &str = "stackrel::config::branch-not-found";

/// Checks every component whose `repo` is a local path; `config_text` is the `stackrel.toml`
/// the config was resolved from, and `base_dir` the desired-state repository that relative
/// paths start from.
pub fn check_local_repos(config: &Config, config_text: &str, base_dir: &Path) -> Vec<Diagnostic> {
    let source = Source::new(CONFIG_FILE, config_text);
    let forge = LocalForge::new(base_dir);
    config
        .components
        .iter()
        .filter(|(_, c)| matches!(c.repo, RepoLocation::Local(_)))
        .filter_map(|(name, c)| check_component(&forge, &source, name, c))
        .collect()
}

fn check_component(
    forge: &LocalForge,
    source: &Source,
    name: &str,
    component: &Component,
) -> Option<Diagnostic> {
    let repo = &component.repo;
    let why = match forge.branch_head(repo, &component.branch) {
        Ok(_) => return None,
        Err(ForgeError::NotFound { what }) if what.starts_with("branch ") => {
            let branch = &component.branch;
            let diagnostic = source.error(
                BRANCH_NOT_FOUND,
                format!("branch `{branch}` of component `{name}` is not in its repository {repo}"),
            );
            let known = forge.branches(repo).unwrap_or_default();
            let help = match did_you_mean(branch, known.iter().map(String::as_str)) {
                Some(close) => format!(
                    "did you mean `{close}`? set `branch` in [components.{name}] to a branch of {repo}"
                ),
                None => format!(
                    "set `branch` in [components.{name}] to a branch of {repo}, or create the branch there"
                ),
            };
            return Some(at(diagnostic, &component.places.branch, "no such branch").help(help));
        }
        Err(other) => other,
    };
    let diagnostic = source.error(
        REPO_NOT_FOUND,
        format!("the repository of component `{name}` cannot be opened: {why}"),
    );
    let help = format!(
        "set `repo` in [components.{name}] to the path of its git repository (relative to the desired-state repository, or absolute)"
    );
    Some(at(diagnostic, &component.places.repo, "not a git repository").help(help))
}

fn at(diagnostic: Diagnostic, place: &Option<FieldPlace>, label: &str) -> Diagnostic {
    match place {
        Some(place) => diagnostic.at(place.span.clone(), label),
        None => diagnostic,
    }
}

//! The replica's desired-state repository: the project's 68 release files, byte for byte, each
//! entering the branch in a commit of its own at its stack tag's real date, and a `stackrel.toml`
//! that is the project's own with its repositories on disk, its deploy and verify as commands
//! standing in for AWX and the `/version/` endpoint, and the variations a test asks for.
//!
//! The commands keep the demo sandbox's conventions, so `Sandbox::deploy_count` and friends
//! work: a deploy writes what production runs to `../production.txt` and appends the version to
//! `../deploys.log`; the check compares that file with the release it is asked about.

use super::git::{Entry, branch, commit};
use super::project::{Fixtures, Project};
use super::{Options, ReplicaError};
use git2::{Repository, Time};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// Beside the repositories: what production runs, as the deploy command left it.
pub(super) const PRODUCTION_FILE: &str = "production.txt";
const BRANCH: &str = "main";
/// How long before its stack tag each release file was merged.
const MERGED_BEFORE_TAG_SECONDS: i64 = 10 * 60;
const DAY_SECONDS: i64 = 86_400;

/// What production runs, one line: `stack=2026.08.3 backend=2026.08.1 frontend=2026.08.2`.
pub(super) fn production_line(version: &str, components: &BTreeMap<String, String>) -> String {
    let mut line = format!("stack={version}");
    for (name, value) in components {
        let _ = write!(line, " {name}={value}");
    }
    line.push('\n');
    line
}

pub(super) fn build(
    path: &Path,
    project: &Project,
    fixtures: &Fixtures,
    options: &Options,
) -> Result<(), ReplicaError> {
    let repo = Repository::init(path)?;
    let (deploy, check) = scripts(project);
    let config = config_text(project, options);
    let first = project
        .releases
        .first()
        .ok_or_else(|| ReplicaError::Data("the project declares no release".into()))?;
    let declared_at = earlier(fixtures.tag(&first.version.to_string())?.at, DAY_SECONDS);
    let files = [
        Entry::file(stackrel::validate::CONFIG_FILE, config.as_bytes()),
        Entry::script("deploy.sh", deploy.as_bytes()),
        Entry::script("check-live.sh", check.as_bytes()),
    ];
    let message = "Declare the Fragalysis stack";
    let mut head = commit(&repo, &[], &files, message, declared_at)?;
    for release in &project.releases {
        let version = release.version.to_string();
        let bytes = project
            .files
            .iter()
            .find(|f| f.path == release.path)
            .map(|f| f.bytes.as_slice())
            .unwrap_or_default();
        let at = earlier(fixtures.tag(&version)?.at, MERGED_BEFORE_TAG_SECONDS);
        let file = [Entry::file(&release.path, bytes)];
        head = commit(&repo, &[head], &file, &format!("Release {version}"), at)?;
    }
    branch(&repo, BRANCH, head)?;
    repo.set_head(&format!("refs/heads/{BRANCH}"))?;
    // The commands run from the working tree, and tests commit into it.
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
    Ok(())
}

fn earlier(at: Time, seconds: i64) -> Time {
    Time::new(at.seconds() - seconds, at.offset_minutes())
}

/// `deploy.sh` and `check-live.sh`, taking the version and then each component's version.
fn scripts(project: &Project) -> (String, String) {
    let mut running = String::from("stack=$1");
    for (i, name) in project.config.components.keys().enumerate() {
        let _ = write!(running, " {name}=${}", i + 2);
    }
    let deploy = format!(
        "#!/bin/sh\n# Stands in for AWX's production template: production now runs these versions.\nset -eu\necho \"{running}\" > ../{PRODUCTION_FILE}\necho \"$1\" >> ../deploys.log\necho \"deployed stack $1\"\n"
    );
    let check = format!(
        "#!/bin/sh\n# Stands in for the backend's /version/ endpoint: exit 0 when production runs these versions.\nset -eu\ntest \"$(cat ../{PRODUCTION_FILE} 2>/dev/null)\" = \"{running}\"\n"
    );
    (deploy, check)
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// The project's `stackrel.toml`, with its repositories on disk beside this one.
fn config_text(project: &Project, options: &Options) -> String {
    let config = &project.config;
    let stack = &config.stack;
    let mut out = String::from(
        "# The project's stackrel.toml, its repositories replicated on disk beside this one.\n\n[stack]\n",
    );
    let _ = writeln!(out, "repo = \"../stack.git\"");
    let _ = writeln!(out, "branch = {}", quoted(&stack.branch));
    let _ = writeln!(out, "workflow = {}", quoted(&stack.workflow));
    let _ = writeln!(out, "commit_message = {}", quoted(&stack.commit_message));
    if let (true, Some(ci)) = (options.stack_ci, &stack.ci) {
        let _ = writeln!(out, "ci = {}", quoted(ci));
    }
    for (name, component) in &config.components {
        let _ = write!(out, "\n[components.{name}]\nrepo = \"../{name}.git\"\n");
        let _ = writeln!(out, "branch = {}", quoted(&component.branch));
        let _ = writeln!(out, "pin = {}", quoted(&component.pin));
        if let (true, Some(ci)) = (options.component_ci, &component.ci) {
            let _ = writeln!(out, "ci = {}", quoted(ci));
        }
        if let stackrel::component_tag::TagRule::Pattern(pattern) = &component.tag_rule {
            let _ = writeln!(out, "tag_pattern = {}", quoted(pattern.as_str()));
        }
    }
    out.push_str(&commands_text(project, options));
    out
}

/// `[deploy]` and `[verify]` as commands, and `[daemon]` as the options say.
fn commands_text(project: &Project, options: &Options) -> String {
    let mut argv = vec![quoted("{version}")];
    for name in project.config.components.keys() {
        argv.push(quoted(&format!("{{{name}}}")));
    }
    let argv = argv.join(", ");
    let mut out = format!("\n[deploy]\nkind = \"command\"\ncommand = [\"./deploy.sh\", {argv}]\n");
    if options.verify {
        let _ = write!(out, "\n[verify]\ncommand = [\"./check-live.sh\", {argv}]\n");
    }
    if !options.windows.is_empty() || options.timezone.is_some() {
        let windows: Vec<String> = options.windows.iter().map(|w| quoted(w)).collect();
        let _ = write!(out, "\n[daemon]\nwindows = [{}]\n", windows.join(", "));
        if let Some(zone) = &options.timezone {
            let _ = writeln!(out, "timezone = {}", quoted(zone));
        }
    }
    out
}

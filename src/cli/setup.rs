//! What `plan`, `apply` and `status` share: the desired state as committed (never the working
//! tree), refused whole if invalid, and the backends its config names.

use super::output::{print_diagnostics, tree_error};
use miette::{Report, miette};
pub use stackrel::backends::Backends;
use stackrel::config::Config;
use stackrel::diagnostic::Format;
use stackrel::release::Release;
use stackrel::tree::DesiredRepo;
use stackrel::validate::{DesiredState, validate};
use std::path::{Path, PathBuf};

pub struct Loaded {
    pub config: Config,
    pub releases: Vec<Release>,
    pub dir: PathBuf,
}

impl Loaded {
    pub fn newest(&self) -> Option<&Release> {
        self.releases.last()
    }
}

/// Reads and validates the desired state at `rev`. Invalid: prints every problem and fails.
pub fn load(repo: &Path, rev: &str) -> Result<Loaded, Report> {
    let desired = DesiredRepo::open(repo).map_err(tree_error)?;
    let commit = desired.commit(rev).map_err(tree_error)?;
    let files = desired.read_commit(&commit).map_err(tree_error)?;
    let state: DesiredState = validate(&files);
    let short = commit.id().to_string()[..7].to_string();
    match state.config {
        Some(config) if state.errors() == 0 => Ok(Loaded {
            config,
            releases: state.releases,
            dir: repo.to_path_buf(),
        }),
        _ => {
            print_diagnostics(&state.diagnostics, Format::Human, repo, "");
            Err(miette!(
                help = format!(
                    "fix the problems above and commit; `stackrel validate --rev {rev}` lists them"
                ),
                "the desired state at {rev} ({short}) is invalid, so nothing converges"
            ))
        }
    }
}

/// Builds the backends and prints the credential preflight.
pub fn backends(loaded: &Loaded) -> Result<Backends, Report> {
    let backends = stackrel::backends::build(&loaded.config, &loaded.dir).map_err(|e| {
        miette!(
            help = "check stackrel.toml and the credentials in the environment",
            "{e}"
        )
    })?;
    for line in &backends.preflight {
        eprintln!("{line}");
    }
    Ok(backends)
}

//! `stackrel release [COMPONENT=VERSION ...] [--version V] [--commit | --pr] [--dry-run]`: the
//! next release file, proposed from what the repositories hold. Without `--commit` or `--pr` it
//! prints the file and the plan it would cause; `--commit` commits it on the current branch;
//! `--pr` opens a pull request on the desired-state repository. Shared with `rollback`.

use super::plan::{render, render_markdown};
use super::setup::{Backends, Loaded, backends, load};
use clap::Args;
use miette::{Report, miette};
use stackrel::config::RepoLocation;
use stackrel::credentials::GithubAuth;
use stackrel::escape;
use stackrel::forge::Forge;
use stackrel::forge::github::{GithubForge, RequestPolicy};
use stackrel::proposal::submit::{self, SubmitError};
use stackrel::proposal::{Proposal, ProposalError, Request, propose};
use std::path::Path;
use std::process::ExitCode;

/// Where a proposed release goes.
#[derive(Args, Clone, Copy)]
pub struct Output {
    /// Write the file and commit it on the current branch of the desired-state checkout.
    #[arg(long, conflicts_with = "pr")]
    pub commit: bool,
    /// Push a branch `release/<version>` and open a pull request on the desired-state
    /// repository (GitHub), with the notes and the plan in its body.
    #[arg(long)]
    pub pr: bool,
    /// With --commit or --pr: check and show what would be written, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args)]
pub struct ReleaseArgs {
    /// Versions to release instead of the newest releasable tags, e.g. backend=2026.08.1.
    #[arg(value_name = "COMPONENT=VERSION")]
    pub assignments: Vec<String>,
    /// The stack version (default: the next YYYY.MM.N of this month).
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

pub fn proposal_error(e: ProposalError) -> Report {
    miette!(help = e.help(), "{e}; nothing was written")
}

fn submit_error(e: SubmitError) -> Report {
    miette!(help = e.help(), "{e}; nothing was written")
}

/// What can be refused before anything is observed: a dirty tree, a missing remote.
pub fn precheck(
    repo: &Path,
    output: Output,
    github_web: &str,
) -> Result<Option<(RepoLocation, String)>, Report> {
    if output.commit {
        submit::check_checkout(repo).map_err(submit_error)?;
    }
    if output.pr {
        let github = submit::origin_repository(repo, github_web).map_err(submit_error)?;
        let checkout = git2::Repository::open(repo)
            .map_err(|e| miette!("{}: {}", repo.display(), e.message()))?;
        let base = submit::current_branch(&checkout).map_err(submit_error)?;
        return Ok(Some((github, base)));
    }
    Ok(None)
}

/// Prints the proposal: the file, the tags passed over, and the plan.
fn show(proposal: &Proposal, verb: &str) {
    // Commit subjects, pull-request titles and CI details are others' text: printed escaped.
    println!("{verb} {}:\n", escape::line(&proposal.release.path));
    for line in proposal.text.lines() {
        println!("    {}", escape::line(line));
    }
    for (name, chosen) in &proposal.chosen {
        for skipped in chosen.worth_saying() {
            let said = format!(
                "skipped {} ({}); took {}",
                skipped.tag, skipped.why, chosen.tag
            );
            println!("\n{name}: {}", escape::line(&said));
        }
    }
    println!("\nThe plan it would cause:\n");
    print!("{}", escape::text(&render(&proposal.plan)));
}

/// The pull request's description: the notes and the plan.
pub fn pull_body(proposal: &Proposal) -> String {
    format!(
        "Proposed by stackrel. Merging this deploys {}.\n\n#### Changes\n\n{}\n{}",
        proposal.release.version,
        proposal.release.notes.as_deref().unwrap_or(""),
        render_markdown(&proposal.plan)
    )
}

/// A GitHub forge for the desired-state repository: the one the config's repositories use, or
/// one made for it.
fn github_for_pr(backends: &Backends, loaded: &Loaded) -> Result<Option<GithubForge>, Report> {
    if backends.forge.github.is_some() {
        return Ok(None);
    }
    let auth = GithubAuth::from_env()
        .map_err(|e| miette!("{e}"))?
        .ok_or_else(|| {
            miette!(
                help = "export GITHUB_TOKEN (or a GitHub App's GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID)",
                "--pr opens a pull request on GitHub, and no GitHub credentials are set; nothing was written"
            )
        })?;
    GithubForge::connect(
        &loaded.config.github.api_url,
        &auth,
        RequestPolicy::default(),
    )
    .map(Some)
    .map_err(|e| miette!("{e}"))
}

/// Writes the proposal where `output` says, or prints it.
pub fn deliver(
    loaded: &Loaded,
    backends: &Backends,
    proposal: &Proposal,
    output: Output,
    pr: Option<(RepoLocation, String)>,
) -> Result<ExitCode, Report> {
    if output.commit && !output.dry_run {
        let commit = submit::commit(&loaded.dir, proposal).map_err(submit_error)?;
        show(proposal, "Committed");
        println!(
            "\nCommitted {} ({}). Push it to start the release.",
            proposal.release.path,
            &commit[..7]
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let (Some((repo, base)), false) = (&pr, output.dry_run) {
        let own = github_for_pr(backends, loaded)?;
        let forge: &dyn Forge = match &own {
            Some(github) => github,
            None => &backends.forge,
        };
        let proposed = submit::pull_request(forge, repo, base, proposal, &pull_body(proposal))
            .map_err(submit_error)?;
        show(proposal, "Proposed");
        let how = if proposed.opened {
            "Opened"
        } else {
            "Already open:"
        };
        println!(
            "\n{how} pull request #{} on {repo} from {}: {}",
            proposed.pull.number,
            submit::branch_name(proposal),
            proposed.pull.url
        );
        return Ok(ExitCode::SUCCESS);
    }
    show(proposal, "Would write");
    let next = match (output.commit, pr.is_some()) {
        (true, _) => "\nDry run: nothing was written. Without --dry-run, --commit commits it.",
        (_, true) => {
            "\nDry run: nothing was written. Without --dry-run, --pr opens its pull request."
        }
        _ => "\nNothing was written: --commit commits it, --pr opens a pull request for it.",
    };
    println!("{next}");
    Ok(ExitCode::SUCCESS)
}

pub fn run(repo: &Path, args: ReleaseArgs) -> miette::Result<ExitCode> {
    let loaded = load(repo, "HEAD")?;
    let pr = precheck(repo, args.output, &loaded.config.github.web_url())?;
    let backends = backends(&loaded)?;
    let request = Request {
        assignments: args.assignments,
        version: args.version,
        now: chrono::Utc::now(),
    };
    let proposal = propose(
        &loaded.config,
        &loaded.releases,
        &backends.as_apply(),
        &request,
    )
    .map_err(proposal_error)?;
    deliver(&loaded, &backends, &proposal, args.output, pr)
}

//! `stackrel adopt [VERSION]`: record a release a person made as live, without deploying.

use super::setup::{backends, load};
use clap::Args;
use stackrel::adopt::{Adoption, adoption, who};
use stackrel::calver::CalVer;
use stackrel::forge::Forge;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct AdoptArgs {
    /// The stack version that is live (default: the newest declared release that was cut).
    version: Option<CalVer>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
}

fn confirmed(version: &str) -> bool {
    print!("Record {version} as live, without deploying anything? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

pub fn run(repo: &Path, args: AdoptArgs) -> miette::Result<ExitCode> {
    let loaded = load(repo, "HEAD")?;
    let backends = backends(&loaded)?;
    let forge: &dyn Forge = &backends.forge;
    let decided = adoption(
        &loaded.config,
        &loaded.releases,
        args.version,
        forge,
        &who(),
    )
    .map_err(|e| {
        miette::miette!(
            help = "`stackrel status` shows what is cut and what is live",
            "{e}"
        )
    })?;
    let record = match decided {
        Adoption::AlreadyLive(state) => {
            println!(
                "Nothing to adopt: a record already says so ({}).",
                format!("{state:?}").to_lowercase()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Adoption::Record(record) => record,
    };
    let ask = !args.yes && std::io::stdin().is_terminal();
    if ask && !confirmed(&record.version) {
        println!("Nothing changed.");
        return Ok(ExitCode::from(1));
    }
    forge
        .record_deployment(&loaded.config.stack.repo, &record)
        .map_err(|e| miette::miette!("recording the adoption failed: {e}"))?;
    println!(
        "Adopted {}: recorded as live ({}); nothing was deployed.",
        record.version, record.detail
    );
    Ok(ExitCode::SUCCESS)
}

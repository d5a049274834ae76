//! `stackrel demo`: builds a local sandbox and runs a whole release in it, narrating.

use super::plan::render;
use clap::Args;
use stackrel::apply::{ApplyOptions, ApplyOutcome, Backends, Progress, apply, preview};
use stackrel::demo::{Sandbox, build_sandbox, release_text};
use stackrel::deploy::command::CommandVerifier;
use stackrel::forge::local::LocalForge;
use stackrel::plan::{Plan, PlanOptions, Step};
use stackrel::status::{render as render_status, status};
use stackrel::tree::DesiredRepo;
use stackrel::validate::validate;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct DemoArgs {
    /// Where to build the sandbox (must not exist yet); a new temporary directory by default.
    dir: Option<PathBuf>,
}

struct Narrator;

impl Progress for Narrator {
    fn acting(&mut self, step: &Step) {
        println!("  → {}: {}", step.title(), step.reason);
    }
    fn acted(&mut self, _step: &Step, what: &str) {
        println!("    ✓ {what}");
    }
    fn failed(&mut self, _step: &Step, what: &str) {
        println!("    ✗ {what}");
    }
    fn waiting(&mut self, step: &Step, next: Duration) {
        println!("    … {} (again in {}ms)", step.reason, next.as_millis());
    }
}

fn heading(text: &str) {
    println!("\n== {text}");
}

fn fail(context: &str, e: impl std::fmt::Display) -> miette::Report {
    miette::miette!("demo: {context}: {e}")
}

/// Reads the committed desired state and plans, as `stackrel plan` would.
fn current_plan(
    sandbox: &Sandbox,
    forge: &LocalForge,
    verifier: &CommandVerifier,
) -> miette::Result<Plan> {
    let (config, releases) = load_committed(&sandbox.desired)?;
    let release = releases
        .last()
        .ok_or_else(|| fail("planning", "no release declared"))?;
    let backends = Backends {
        forge,
        deployer: None,
        verifier: Some(verifier),
        registry: None,
    };
    preview(
        &config,
        release,
        &releases,
        &backends,
        PlanOptions::default(),
    )
    .map_err(|e| fail("observing", e))
}

pub fn run(args: DemoArgs) -> miette::Result<ExitCode> {
    let started = Instant::now();
    let root = sandbox_dir(args.dir)?;
    heading("Building a sandbox shaped like the Fragalysis stack");
    let sandbox = build_sandbox(&root).map_err(|e| fail("building the sandbox", e.message()))?;
    describe(&sandbox);

    let forge = LocalForge::new(&sandbox.desired);
    let deployer = sandbox.deployer();
    let verifier = sandbox.verifier();
    let backends = Backends {
        forge: &forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };

    heading("stackrel plan");
    let first = current_plan(&sandbox, &forge, &verifier)?;
    print!("{}", render(&first));

    release_twice(&sandbox, &backends)?;
    refuse_a_staging_backend(&sandbox, &forge, &verifier)?;

    heading("stackrel status");
    let (config, releases) = load_committed(&sandbox.desired)?;
    let rows = status(&config, &releases, &backends).map_err(|e| fail("status", e))?;
    print!("{}", render_status(&rows));

    try_next(&sandbox);
    println!("\ndemo finished in {:.1}s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Where the sandbox goes: a new or empty directory the person named, or a temporary one.
fn sandbox_dir(dir: Option<PathBuf>) -> miette::Result<PathBuf> {
    let Some(dir) = dir else {
        return Ok(std::env::temp_dir().join(format!(
            "stackrel-demo-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp()
        )));
    };
    let not_empty = dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
    if not_empty {
        return Err(miette::miette!(
            help = "give a new directory, or omit DIR for a temporary one",
            "{} already exists and is not empty",
            dir.display()
        ));
    }
    Ok(dir)
}

fn describe(sandbox: &Sandbox) {
    println!("  {}", sandbox.root.display());
    println!(
        "  backend.git, frontend.git   production branches, tags with CI notes, one tag only on staging"
    );
    println!(
        "  stack.git                   .github/workflows/build-main.yaml pins BE_IMAGE_TAG=2026.07.1 FE_IMAGE_TAG=2026.08.1"
    );
    println!(
        "  desired/                    stackrel.toml, releases/2026.08.1.toml and releases/2026.08.2.toml"
    );
}

/// The whole release, then a second apply that finds nothing to do.
fn release_twice(sandbox: &Sandbox, backends: &Backends<'_>) -> miette::Result<()> {
    heading("stackrel apply");
    let options = ApplyOptions {
        gate_timeout: Duration::from_secs(30),
        poll_start: Duration::from_millis(50),
        poll_max: Duration::from_millis(500),
        ..ApplyOptions::default()
    };
    let (config, releases) = load_committed(&sandbox.desired)?;
    let release = releases
        .last()
        .cloned()
        .ok_or_else(|| fail("planning", "no release"))?;
    let run = || {
        apply(
            &config,
            &release,
            &releases,
            backends,
            &options,
            &mut Narrator,
        )
        .map_err(|e| fail("applying", e))
    };
    match run()? {
        ApplyOutcome::Converged { plan } => println!("  converged: {}", plan.live_words()),
        other => return Err(fail("applying", format!("did not converge: {other:?}"))),
    }
    heading("A second apply changes nothing");
    let again = run()?;
    println!(
        "  {}",
        if matches!(again, ApplyOutcome::Converged { .. }) {
            "in sync: no side effects"
        } else {
            "unexpected: not in sync"
        }
    );
    Ok(())
}

fn refuse_a_staging_backend(
    sandbox: &Sandbox,
    forge: &LocalForge,
    verifier: &CommandVerifier,
) -> miette::Result<()> {
    heading("A release that must not ship: backend 2026.08.9 is tagged on staging, not production");
    sandbox
        .commit_desired(
            &[(
                "releases/2026.08.3.toml",
                &release_text("2026.08.9", "2026.08.2", "Backend from staging"),
            )],
            "Release 2026.08.3",
        )
        .map_err(|e| fail("committing", e.message()))?;
    let blocked = current_plan(sandbox, forge, verifier)?;
    print!("{}", render(&blocked));
    if let Some(step) = blocked.blocked() {
        println!(
            "  stackrel refuses: nothing is pinned, tagged or deployed while {} is blocked",
            step.title()
        );
    }
    Ok(())
}

fn try_next(sandbox: &Sandbox) {
    heading("Try next");
    let dir = sandbox.desired.display();
    println!("  cd {dir}");
    println!("  stackrel plan                      # see why 2026.08.3 is blocked (exit 1)");
    println!(
        "  sed -i 's/2026.08.9/2026.08.1/' releases/2026.08.3.toml && git commit -am 'Use a production backend'"
    );
    println!("  stackrel apply --yes               # converge on 2026.08.3");
    println!(
        "  git -C ../stack.git log --oneline  # the pin commits; `git -C ../stack.git tag` the releases"
    );
    println!("  stackrel history                   # the audit trail");
    println!("  stackrel status                    # what is live, and what says so");
}

fn load_committed(
    dir: &Path,
) -> miette::Result<(stackrel::config::Config, Vec<stackrel::release::Release>)> {
    let desired = DesiredRepo::open(dir).map_err(|e| fail("opening the desired state", e))?;
    let head = desired
        .commit("HEAD")
        .map_err(|e| fail("reading HEAD", e))?;
    let state = validate(
        &desired
            .read_commit(&head)
            .map_err(|e| fail("reading files", e))?,
    );
    match state.config {
        Some(config) if state.is_valid() => Ok((config, state.releases)),
        _ => Err(fail("validating", "the demo's desired state is invalid")),
    }
}

//! `stackrel plan`: what converging would do, like a terraform plan. Exit 0 in sync, 2 when
//! changes are pending, 1 on error or when the release is blocked.

use super::setup::{backends, load};
use clap::Args;
use stackrel::apply::preview;
use stackrel::plan::{Plan, PlanOptions, Status};
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct PlanArgs {
    /// The desired-state commit to plan for.
    #[arg(long, default_value = "HEAD")]
    pub rev: String,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn symbol(status: Status) -> &'static str {
    match status {
        Status::Done => "✓",
        Status::ToDo => "+",
        Status::Waiting => "…",
        Status::Blocked => "✗",
    }
}

/// How many superseded releases are named one by one; more are folded into a count.
const SUPERSEDED_LISTED: usize = 5;

/// `superseded, not replayed: 2026.08.1`, or for a long history
/// `67 older releases superseded, not replayed (2022.11.1 to 2026.08.2)`.
fn superseded(plan: &Plan) -> String {
    let list = &plan.superseded;
    match (list.first(), list.last()) {
        (Some(first), Some(last)) if list.len() > SUPERSEDED_LISTED => format!(
            "{} older releases superseded, not replayed ({first} to {last})",
            list.len()
        ),
        _ => {
            let names: Vec<String> = list.iter().map(|v| v.to_string()).collect();
            format!("superseded, not replayed: {}", names.join(", "))
        }
    }
}

/// The plan as a person reads it.
pub fn render(plan: &Plan) -> String {
    let mut out = format!("release {}\n", plan.version);
    for warning in &plan.warnings {
        out.push_str(&format!("  ! {warning}\n"));
    }
    if !plan.superseded.is_empty() {
        out.push_str(&format!("  {}\n", superseded(plan)));
    }
    let width = plan
        .steps
        .iter()
        .map(|s| s.title().len())
        .max()
        .unwrap_or(0);
    for step in &plan.steps {
        out.push_str(&format!(
            "  {} {:width$}  {}\n",
            symbol(step.status),
            step.title(),
            step.reason
        ));
    }
    for (name, image) in &plan.images {
        out.push_str(&format!(
            "  image {name}: {}@{}\n",
            image.image, image.digest
        ));
    }
    out
}

/// The plan as Markdown, for a pull-request comment.
pub fn render_markdown(plan: &Plan) -> String {
    let escape = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("### stackrel: merging deploys {}\n\n", plan.version);
    if let Some(live) = plan.live {
        out.push_str(&format!("Live now: **{live}**.\n\n"));
    }
    for warning in &plan.warnings {
        out.push_str(&format!("> ⚠️ {}\n\n", escape(warning)));
    }
    out.push_str("| | step | status | reason |\n|---|---|---|---|\n");
    for step in &plan.steps {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            symbol(step.status),
            escape(&step.title()),
            step.status,
            escape(&step.reason.to_string())
        ));
    }
    if !plan.superseded.is_empty() {
        let line = superseded(plan);
        let mut chars = line.chars();
        let first = chars
            .next()
            .map(|c| c.to_uppercase().to_string())
            .unwrap_or_default();
        out.push_str(&format!("\n{first}{}.\n", chars.as_str()));
    }
    out.push_str(&match plan.blocked() {
        Some(step) => format!(
            "\n**Blocked at {}**: merging would change nothing until this is fixed.\n",
            step.title()
        ),
        None if plan.in_sync() => "\nAlready in sync.\n".to_string(),
        None => format!(
            "\nMerging starts the release: {} step(s) to run.\n",
            plan.pending()
        ),
    });
    out
}

pub fn exit_code(plan: &Plan) -> ExitCode {
    if plan.blocked().is_some() {
        ExitCode::from(1)
    } else if plan.in_sync() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

pub fn run(repo: &Path, args: PlanArgs) -> miette::Result<ExitCode> {
    let loaded = load(repo, &args.rev)?;
    let Some(release) = loaded.newest() else {
        println!("no releases declared in releases/: nothing to converge");
        return Ok(ExitCode::SUCCESS);
    };
    let backends = backends(&loaded)?;
    let plan = preview(
        &loaded.config,
        release,
        &loaded.releases,
        &backends.as_apply(),
        PlanOptions {
            window: stackrel::window::current(&loaded.config.daemon),
            ..PlanOptions::default()
        },
    )
    .map_err(|e| {
        miette::miette!(
            help = "check the repository paths in stackrel.toml",
            "observing live state failed: {e}"
        )
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
    } else {
        print!("{}", stackrel::escape::text(&render(&plan)));
        let count = |s: Status| plan.steps.iter().filter(|x| x.status == s).count();
        let summary = if let Some(step) = plan.blocked() {
            format!(
                "Blocked at {}: fix that first; nothing will be changed.",
                step.title()
            )
        } else if plan.in_sync() {
            format!("In sync: {}.", plan.live_words())
        } else {
            format!(
                "Plan: {} to do, {} waiting. Run `stackrel apply` to converge.",
                count(Status::ToDo),
                count(Status::Waiting)
            )
        };
        println!("\n{summary}");
    }
    Ok(exit_code(&plan))
}

//! What `stackrel release` costs (`cargo bench --bench release`): on a local stack with 70
//! release files, the proposal in-process and the command as a process; on GitHub, the
//! requests one proposal sends through the real octocrab forge to the emulator, by kind, so the
//! compares and commits-to-pulls lookups can be told from the preflight and the plan's
//! observation. Plain timing with medians; request counts are exact.

use chrono::{TimeZone, Utc};
use stackrel::apply::{Backends, preview};
use stackrel::demo::{Sandbox, release_text};
use stackrel::plan::PlanOptions;
use stackrel::proposal::{Request, choose_versions, propose};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::github_world::{FRONTEND, awx_deployer, connect, verifier, world};
use testkit::sandbox::{commit_component, load, sandbox};

const RUNS: usize = 9;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn request() -> Request {
    Request {
        assignments: Vec::new(),
        version: None,
        now: Utc.with_ymd_and_hms(2026, 8, 20, 12, 0, 0).unwrap(),
    }
}

/// The demo sandbox with 68 older release files beside its two (70 in all), and 20 frontend
/// commits since the live tag, the newest tagged with green CI.
fn seventy_releases() -> (tempfile::TempDir, Sandbox) {
    let (dir, sandbox) = sandbox();
    let files: Vec<(String, String)> = (0..68)
        .map(|i| {
            let (year, month, n) = (2020 + i / 12, 1 + i % 12, 1);
            (
                format!("releases/{year}.{month:02}.{n}.toml"),
                release_text("2026.07.1", "2026.08.1", &format!("release {i}")),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    sandbox
        .commit_desired(&refs, "68 older releases")
        .expect("commit");
    for i in 0..20 {
        let tag = (i == 19).then_some(("2026.08.3", Some("success")));
        commit_component(
            &sandbox.frontend,
            "production",
            &format!("Change {i} for #{}", 1500 + i),
            None,
            tag,
        );
    }
    (dir, sandbox)
}

fn local(runs: usize) {
    let (_dir, sandbox) = seventy_releases();
    let (config, releases) = load(&sandbox);
    assert_eq!(releases.len(), 70);
    let mut in_process = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let backends = stackrel::backends::build(&config, &sandbox.desired).expect("backends");
        let proposal =
            propose(&config, &releases, &backends.as_apply(), &request()).expect("a proposal");
        in_process.push(started.elapsed());
        assert_eq!(proposal.release.components["frontend"], "2026.08.3");
    }
    let mut process = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_stackrel"))
            .args(["release", "--version", "2026.08.3"])
            .current_dir(&sandbox.desired)
            .stdin(Stdio::null())
            .output()
            .expect("stackrel runs");
        process.push(started.elapsed());
        assert!(output.status.success(), "{output:?}");
    }
    println!("local stack, 70 release files, 20 frontend commits in the notes:");
    println!(
        "  propose in-process (load excluded, backends built, one verify command run): {}",
        ms(median(in_process))
    );
    println!(
        "  `stackrel release` as a process (load, validate, propose, print): {}",
        ms(median(process))
    );
}

/// A request's kind: its path with owner/repo, SHAs and tag names elided.
fn kind(method: &str, path: &str) -> String {
    let parts: Vec<&str> = path.split('/').skip(4).collect();
    let first = parts.first().copied().unwrap_or("repo");
    let what = match (first, parts.get(2).copied()) {
        ("commits", Some("pulls")) => "commits/{sha}/pulls".to_string(),
        ("git", _) => format!("git/{}", parts.get(1).copied().unwrap_or("")),
        ("actions", _) => format!("actions/{}", parts.get(1).copied().unwrap_or("")),
        _ => first.to_string(),
    };
    format!("{method} {what}")
}

fn github() {
    let w = world();
    let path = &w.sandbox.frontend;
    // A merge commit (named in its message), a rebased pull request (looked up), a direct push.
    let rebased = commit_component(path, "production", "Add the viewer", None, None);
    w.github.add_merged_pull(
        FRONTEND,
        "New viewer",
        "viewer",
        &[&rebased.to_string()],
        &rebased.to_string(),
    );
    commit_component(
        path,
        "production",
        "Merge pull request #9 from xchem/loader\n\nFix the loader",
        None,
        None,
    );
    let tip = commit_component(
        path,
        "production",
        "Direct fix",
        None,
        Some(("2026.08.3", None)),
    );
    w.github.set_run(
        FRONTEND,
        &tip.to_string(),
        "build production",
        "completed",
        Some("success"),
    );
    let deployer = awx_deployer(&w);
    let verifier = verifier(&w);
    // Each phase on a fresh client (an empty ETag cache), so each count stands alone.
    let forge = connect(&w);
    w.github.clear_log();
    choose_versions(&w.config, &forge, &BTreeMap::new()).expect("versions");
    let preflight = w.github.requests().len();
    let forge = connect(&w);
    let backends = Backends {
        forge: &forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };
    w.github.clear_log();
    let proposal = propose(&w.config, &w.releases, &backends, &request()).expect("a proposal");
    assert_eq!(proposal.release.components["frontend"], "2026.08.3");
    let log = w.github.requests();
    let forge = connect(&w);
    let backends = Backends {
        forge: &forge,
        ..backends
    };
    let mut all = w.releases.clone();
    all.push(proposal.release.clone());
    w.github.clear_log();
    preview(
        &w.config,
        &proposal.release,
        &all,
        &backends,
        PlanOptions::default(),
    )
    .expect("a plan");
    let plan = w.github.requests().len();
    println!(
        "GitHub phases alone: the versions' preflight {preflight} requests, the plan's observation {plan}"
    );
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for r in &log {
        *by_kind.entry(kind(&r.method, &r.path)).or_default() += 1;
    }
    println!(
        "GitHub: one proposal (2 components; frontend has 3 mainline commits, 2 naming no pull request): {} requests",
        log.len()
    );
    for (k, n) in &by_kind {
        println!("  {n:>3}  {k}");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once as a smoke test.
    let runs = if std::env::args().any(|a| a == "--bench") {
        RUNS
    } else {
        1
    };
    local(runs);
    github();
}

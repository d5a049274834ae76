//! Benchmarks behind the figures in BENCHMARKS.md (`cargo bench --bench stackrel`):
//! validating N release files read from a git tree, `plan` on a converged local stack (with the
//! git2 operations one reconcile costs), and the demo's release end to end. Plain timing with
//! medians over repeated runs: the targets are coarse (milliseconds), so no statistics crate.

use stackrel::apply::{ApplyOptions, Backends, Quiet, apply, preview};
use stackrel::forge::local::LocalForge;
use stackrel::plan::PlanOptions;
use stackrel::tree::DesiredRepo;
use stackrel::validate::validate;
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::sandbox::{load, sandbox};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

const CONFIG: &str = r#"
[stack]
repo = "./stack"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: b/e {backend} f/e {frontend}"

[components.backend]
repo = "./backend"
branch = "production"
pin = "BE_IMAGE_TAG"

[components.frontend]
repo = "./frontend"
branch = "production"
pin = "FE_IMAGE_TAG"
"#;

/// A desired-state repository with `count` releases in one commit, built with git2 directly.
fn synthetic_repo(dir: &Path, count: usize) {
    let repo = git2::Repository::init(dir).expect("init");
    let mut releases = repo.treebuilder(None).expect("treebuilder");
    for i in 0..count {
        let (year, month, iteration) = (2000 + i / 1200, 1 + (i / 100) % 12, 1 + i % 100);
        let text = format!(
            "backend = \"{year}.{month:02}.{iteration}\"\nfrontend = \"{year}.{month:02}.{iteration}-1\"\nnotes = \"synthetic release {i}\"\n"
        );
        let blob = repo.blob(text.as_bytes()).expect("blob");
        releases
            .insert(
                format!("{year}.{month:02}.{iteration}.toml"),
                blob,
                0o100644,
            )
            .expect("insert");
    }
    let releases = releases.write().expect("write");
    let mut root = repo.treebuilder(None).expect("treebuilder");
    root.insert("releases", releases, 0o040000).expect("insert");
    root.insert(
        "stackrel.toml",
        repo.blob(CONFIG.as_bytes()).expect("blob"),
        0o100644,
    )
    .expect("insert");
    let tree = repo.find_tree(root.write().expect("write")).expect("tree");
    let sig = git2::Signature::now("bench", "bench@example.org").expect("sig");
    repo.commit(Some("HEAD"), &sig, &sig, "releases", &tree, &[])
        .expect("commit");
}

fn bench_validate() {
    println!("validate: N release files read from a git tree (read + parse + check), median of 7");
    for count in [1_000, 5_000, 10_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        synthetic_repo(dir.path(), count);
        let desired = DesiredRepo::open(dir.path()).expect("open");
        let samples = (0..7)
            .map(|_| {
                let started = Instant::now();
                let commit = desired.commit("HEAD").expect("commit");
                let files = desired.read_commit(&commit).expect("read");
                let state = validate(&files);
                assert_eq!(state.errors(), 0, "{:?}", state.diagnostics.first());
                assert_eq!(state.releases.len(), count);
                started.elapsed()
            })
            .collect();
        let m = median(samples);
        println!(
            "  {count:>6} files: {:>7.1} ms  ({:.1} µs per file)",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e6 / count as f64
        );
    }
}

fn bench_plan_and_demo() {
    let runs = 5;
    let mut release_times = Vec::new();
    let mut plan_times = Vec::new();
    let mut operations = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let (_dir, sandbox) = sandbox();
        let (config, releases) = load(&sandbox);
        let release = releases.last().expect("release").clone();
        let forge = LocalForge::new(&sandbox.desired);
        let deployer = sandbox.deployer();
        let verifier = sandbox.verifier();
        let backends = Backends {
            forge: &forge,
            deployer: Some(&deployer),
            verifier: Some(&verifier),
            registry: None,
        };
        let options = ApplyOptions {
            gate_timeout: Duration::from_secs(10),
            poll_start: Duration::from_millis(10),
            poll_max: Duration::from_millis(100),
            ..ApplyOptions::default()
        };
        apply(
            &config, &release, &releases, &backends, &options, &mut Quiet,
        )
        .expect("apply");
        release_times.push(started.elapsed());

        // A converged reconcile: observe (including the verify command) and plan.
        for _ in 0..5 {
            let before = forge.operations();
            let started = Instant::now();
            let observing = Backends {
                forge: &forge,
                deployer: None,
                verifier: Some(&verifier),
                registry: None,
            };
            let p = preview(
                &config,
                &release,
                &releases,
                &observing,
                PlanOptions::default(),
            )
            .expect("observe");
            plan_times.push(started.elapsed());
            assert!(p.in_sync());
            operations = forge.operations() - before;
        }
    }
    let plan_no_verify = {
        let (_dir, sandbox) = sandbox();
        let (config, releases) = load(&sandbox);
        let release = releases.last().expect("release").clone();
        let forge = LocalForge::new(&sandbox.desired);
        let samples = (0..20)
            .map(|_| {
                let started = Instant::now();
                let observing = Backends {
                    forge: &forge,
                    deployer: None,
                    verifier: None,
                    registry: None,
                };
                let _ = preview(
                    &config,
                    &release,
                    &releases,
                    &observing,
                    PlanOptions::default(),
                )
                .expect("observe");
                started.elapsed()
            })
            .collect();
        median(samples)
    };
    println!(
        "plan on a converged local stack (observe + plan), median of {}:",
        plan_times.len()
    );
    println!(
        "  with the verify command:    {:>6.2} ms",
        median(plan_times).as_secs_f64() * 1e3
    );
    println!(
        "  observation without verify: {:>6.2} ms",
        plan_no_verify.as_secs_f64() * 1e3
    );
    println!("  git2 operations per reconcile: {operations}");
    println!(
        "demo release end to end (build sandbox + converge 2026.08.2), median of {runs}: {:.1} ms",
        median(release_times).as_secs_f64() * 1e3
    );
}

fn main() {
    bench_validate();
    bench_plan_and_demo();
}

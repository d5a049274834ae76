//! What a release costs on GitHub and AWX (`cargo bench --bench github`): one whole release of
//! the Fragalysis-shaped demo stack through the real clients (octocrab forge, AWX deployer, HTTP
//! verifier) against the GitHub and AWX emulators on 127.0.0.1, with emulated CI and AWX jobs
//! taking zero time. Reports GitHub requests for the release by method (and how many counted
//! against the rate limit), the requests of an idle reconcile that count against the rate limit,
//! AWX requests per release, and wall time. The request counts are exact (every run is the
//! same); wall time is the median over several fresh worlds. The world is the end-to-end tests'
//! (`testkit::github_world`), so the figures are those of the release the tests specify.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use testkit::emulator::github::LoggedRequest;
use testkit::github_world::{VERSION, World, apply_with, connect, plan_with, world};
use testkit::sandbox::assert_converged;

const RUNS: usize = 7;

/// What one release cost.
struct Sample {
    wall: Duration,
    github: Vec<LoggedRequest>,
    awx_api: usize,
    awx_by_kind: BTreeMap<String, usize>,
    verify: usize,
    idle: Vec<LoggedRequest>,
    idle_wall: Duration,
}

fn one_release() -> Sample {
    let w = world();
    let started = Instant::now();
    let forge = connect(&w);
    let outcome = apply_with(&w, &forge, &mut stackrel::apply::Quiet).expect("the release applies");
    let wall = started.elapsed();
    assert_converged(&outcome);
    let github = w.github.requests();
    let awx_log = w.awx.requests();
    let verify = awx_log.iter().filter(|r| r.path == "/version/").count();
    let awx_by_kind = awx_by_kind(&w, &awx_log);

    // An idle reconcile: the daemon's next observe + plan, with nothing to do.
    w.github.clear_log();
    let idle_started = Instant::now();
    let idle_plan = plan_with(&w, &forge);
    let idle_wall = idle_started.elapsed();
    assert!(idle_plan.in_sync(), "{idle_plan:#?}");
    Sample {
        wall,
        awx_api: awx_log.len() - verify,
        awx_by_kind,
        verify,
        github,
        idle: w.github.requests(),
        idle_wall,
    }
}

/// AWX API requests by method and path, ids elided (the verifier's `/version/` left out).
fn awx_by_kind(
    w: &World,
    log: &[testkit::emulator::awx::LoggedRequest],
) -> BTreeMap<String, usize> {
    let mut by_kind = BTreeMap::new();
    for r in log.iter().filter(|r| r.path != "/version/") {
        let kind = r
            .path
            .trim_start_matches(&w.awx.prefix())
            .split('/')
            .map(generic)
            .collect::<Vec<_>>()
            .join("/");
        *by_kind.entry(format!("{} {kind}", r.method)).or_default() += 1;
    }
    by_kind
}

/// A path segment with numeric ids and full commit SHAs elided, for grouping requests.
fn generic(segment: &str) -> String {
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        return ":id".into();
    }
    let mut out = String::new();
    let mut rest = segment;
    while !rest.is_empty() {
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 40 {
            out.push_str(":sha");
            rest = &rest[40..];
        } else {
            let keep = hex.max(1);
            let keep = rest.char_indices().nth(keep).map_or(rest.len(), |(i, _)| i);
            out.push_str(&rest[..keep]);
            rest = &rest[keep..];
        }
    }
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once as a smoke test.
    let runs = if std::env::args().any(|a| a == "--bench") {
        RUNS
    } else {
        1
    };
    let samples: Vec<Sample> = (0..runs).map(|_| one_release()).collect();
    let first = &samples[0];
    for s in &samples[1..] {
        assert_eq!(s.github.len(), first.github.len(), "request counts vary");
    }

    let mut by_method: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for r in &first.github {
        let entry = by_method.entry(r.method.clone()).or_default();
        entry.0 += 1;
        if r.counted {
            entry.1 += 1;
        }
        if r.status == 304 {
            entry.2 += 1;
        }
    }
    let total = first.github.len();
    let counted = first.github.iter().filter(|r| r.counted).count();
    println!(
        "stackrel on GitHub + AWX: one whole release of {VERSION} (demo stack, emulators on 127.0.0.1)"
    );
    println!();
    println!(
        "GitHub requests for a whole release: {counted} counted against the rate limit (target <= 25); {total} in all, the other {} free 304s",
        total - counted
    );
    println!(
        "  {:<6} {:>8} {:>9} {:>6}",
        "method", "requests", "counted", "304"
    );
    for (method, (n, c, nm)) in &by_method {
        println!("  {method:<6} {n:>8} {c:>9} {nm:>6}");
    }
    let mut by_endpoint: BTreeMap<String, usize> = BTreeMap::new();
    for r in &first.github {
        // `/repos/xchem/fragalysis-stack/contents/...` → `stack contents/...`, ids and SHAs elided.
        let mut segments = r.path.split('/').skip(3);
        let repo = segments
            .next()
            .unwrap_or_default()
            .trim_start_matches("fragalysis-");
        let rest: Vec<String> = segments.take(3).map(generic).collect();
        *by_endpoint
            .entry(format!("{} {repo} {}", r.method, rest.join("/")))
            .or_default() += 1;
    }
    println!("  by endpoint:");
    for (endpoint, n) in &by_endpoint {
        println!("    {n:>3}  {endpoint}");
    }
    let idle_counted = first.idle.iter().filter(|r| r.counted).count();
    let idle_304 = first.idle.iter().filter(|r| r.status == 304).count();
    println!();
    println!(
        "Idle reconcile (observe + plan when converged): {} GitHub requests, {idle_counted} counted against the rate limit (target 0), {idle_304} answered 304",
        first.idle.len()
    );
    println!();
    println!(
        "AWX API requests per release: {} (plus {} GETs of /version/ by the verifier)",
        first.awx_api, first.verify
    );
    for (kind, n) in &first.awx_by_kind {
        println!("    {n:>3}  {kind}");
    }
    println!();
    let walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    let idles: Vec<Duration> = samples.iter().map(|s| s.idle_wall).collect();
    println!(
        "Wall time of the release (CI and AWX jobs take zero time; debug = {}): median {} over {runs} runs (min {}, max {})",
        cfg!(debug_assertions),
        ms(median(walls.clone())),
        ms(*walls.iter().min().unwrap()),
        ms(*walls.iter().max().unwrap()),
    );
    println!(
        "Wall time of an idle reconcile: median {}",
        ms(median(idles))
    );
}

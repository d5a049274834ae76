//! Daemon figures for BENCHMARKS.md (`cargo bench --bench daemon`): commit-to-first-side-effect
//! latency through the file watcher and through the webhook, and idle memory and CPU. Runs the
//! real binary against a local sandbox; only 127.0.0.1.

use stackrel::demo::{Sandbox, release_text};
use std::time::{Duration, Instant};
use testkit::daemon::{Daemon, SECRET};
use testkit::http::try_http;
use testkit::sandbox::{sandbox, tag_commit};

/// The daemon on `sandbox`, ready and past its first reconcile, logging only warnings (as a
/// quiet production daemon would).
fn start(sandbox: &Sandbox, run_args: &[&str]) -> Daemon {
    let mut daemon =
        Daemon::spawn_env(sandbox, &sandbox.desired, run_args, &[("RUST_LOG", "warn")]);
    daemon.wait_ready();
    daemon
}

fn wait_for_tag(sandbox: &Sandbox, tag: &str, since: Instant) -> Duration {
    let deadline = since + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tag_commit(&sandbox.stack, tag).is_some() {
            return since.elapsed();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("tag {tag} never appeared");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Alternates the frontend between its two production tags so every release pins something new.
fn release(i: usize) -> (String, String) {
    let frontend = if i.is_multiple_of(2) {
        "2026.08.1"
    } else {
        "2026.08.2"
    };
    (
        format!("2026.09.{}", i + 1),
        release_text("2026.08.1", frontend, "bench"),
    )
}

fn bench_watcher(rounds: usize) -> Vec<Duration> {
    let (_dir, sandbox) = sandbox();
    let _daemon = start(&sandbox, &[]);
    let mut samples = Vec::new();
    for i in 0..rounds {
        let (version, text) = release(i);
        let started = Instant::now();
        sandbox
            .commit_desired(
                &[(&format!("releases/{version}.toml"), &text)],
                &format!("Release {version}"),
            )
            .expect("commit");
        samples.push(wait_for_tag(&sandbox, &version, started));
        std::thread::sleep(Duration::from_millis(300));
    }
    samples
}

fn bench_webhook(rounds: usize) -> Vec<Duration> {
    let (_dir, sandbox) = sandbox();
    // Without the watcher, only the webhook can wake the daemon before its schedule.
    let daemon = start(&sandbox, &["--no-watch"]);
    let mut samples = Vec::new();
    for i in 0..rounds {
        let (version, text) = release(i);
        sandbox
            .commit_desired(
                &[(&format!("releases/{version}.toml"), &text)],
                &format!("Release {version}"),
            )
            .expect("commit");
        let body = r#"{"ref":"refs/heads/master"}"#;
        let signature = stackrel::webhook::sign(SECRET.as_bytes(), body.as_bytes());
        let started = Instant::now();
        let answer = daemon.webhook("push", body, &signature);
        assert_eq!(answer.status, 202, "{}", answer.body);
        samples.push(wait_for_tag(&sandbox, &version, started));
        std::thread::sleep(Duration::from_millis(300));
    }
    samples
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let rounds = 9;
    let watcher = bench_watcher(rounds);
    println!(
        "commit → first side effect (pin commit + tag) through the file watcher, {rounds} releases: median {:.0} ms, min {:.0} ms, max {:.0} ms",
        ms(median(watcher.clone())),
        ms(*watcher.iter().min().unwrap_or(&Duration::ZERO)),
        ms(*watcher.iter().max().unwrap_or(&Duration::ZERO))
    );
    let webhook = bench_webhook(rounds);
    println!(
        "webhook → first side effect (pin commit + tag), {rounds} releases: median {:.0} ms, min {:.0} ms, max {:.0} ms",
        ms(median(webhook.clone())),
        ms(*webhook.iter().min().unwrap_or(&Duration::ZERO)),
        ms(*webhook.iter().max().unwrap_or(&Duration::ZERO))
    );

    // Idle: a converged daemon, left alone.
    let (_dir, sandbox) = sandbox();
    let daemon = start(&sandbox, &[]);
    std::thread::sleep(Duration::from_secs(2));
    let ticks_before = daemon.cpu_ticks().unwrap_or(0);
    let idle = Duration::from_secs(10);
    std::thread::sleep(idle);
    let ticks = daemon.cpu_ticks().unwrap_or(0).saturating_sub(ticks_before);
    // Clock ticks are 1/100 s on Linux.
    println!(
        "idle after converging: RSS {:.1} MB; CPU {} ticks ({:.2}% of one core) over {}s",
        rss_kib(daemon.pid()) as f64 / 1024.0,
        ticks,
        ticks as f64 / (idle.as_secs_f64() * 100.0) * 100.0,
        idle.as_secs()
    );
    let _ = try_http(daemon.port, "GET", "/metrics", &[], b"");
}

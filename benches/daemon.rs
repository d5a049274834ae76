//! Daemon figures for BENCHMARKS.md (`cargo bench --bench daemon`): commit-to-first-side-effect
//! latency through the file watcher and through the webhook, and idle memory and CPU. Runs the
//! real binary against a local sandbox; only 127.0.0.1.

use stackrel::demo::{build_sandbox, release_text};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    Some((status, body))
}

fn start(args: &[&str], dir: &Path, port: u16, run_args: &[&str]) -> Daemon {
    let child = Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .args(args)
        .args(["run", "--listen", &format!("127.0.0.1:{port}")])
        .args(run_args)
        .current_dir(dir)
        .env("STACKREL_WEBHOOK_SECRET", "bench-secret")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn stackrel run");
    let daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if http(port, "GET", "/readyz", &[], b"").is_some_and(|(s, _)| s == 200) {
            return daemon;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("daemon did not become ready");
}

fn tag_exists(stack: &Path, tag: &str) -> bool {
    git2::Repository::open(stack)
        .map(|r| r.find_reference(&format!("refs/tags/{tag}")).is_ok())
        .unwrap_or(false)
}

fn wait_for_tag(stack: &Path, tag: &str, since: Instant) -> Duration {
    let deadline = since + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tag_exists(stack, tag) {
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

fn bench_watcher(rounds: usize) -> (Vec<Duration>, u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = build_sandbox(&dir.path().join("s")).expect("sandbox");
    let port = free_port();
    let daemon = start(&[], &sandbox.desired, port, &[]);
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
        samples.push(wait_for_tag(&sandbox.stack, &version, started));
        std::thread::sleep(Duration::from_millis(300));
    }
    (samples, daemon.0.id())
}

fn bench_webhook(rounds: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = build_sandbox(&dir.path().join("s")).expect("sandbox");
    let port = free_port();
    // Without the watcher, only the webhook can wake the daemon before its schedule.
    let _daemon = start(
        &["--repo", &sandbox.desired.to_string_lossy()],
        &sandbox.desired,
        port,
        &["--no-watch"],
    );
    let mut samples = Vec::new();
    for i in 0..rounds {
        let (version, text) = release(i);
        sandbox
            .commit_desired(
                &[(&format!("releases/{version}.toml"), &text)],
                &format!("Release {version}"),
            )
            .expect("commit");
        let body = br#"{"ref":"refs/heads/master"}"#;
        let signature = stackrel::webhook::sign(b"bench-secret", body);
        let started = Instant::now();
        let answer = http(
            port,
            "POST",
            "/webhooks/github",
            &[
                ("x-github-event", "push".into()),
                ("x-hub-signature-256", signature),
                ("content-type", "application/json".into()),
            ],
            body,
        );
        assert_eq!(answer.map(|(s, _)| s), Some(202));
        samples.push(wait_for_tag(&sandbox.stack, &version, started));
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

fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rsplit(')').next()?.to_string();
            let fields: Vec<&str> = after.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn main() {
    let rounds = 9;
    let (watcher, _) = bench_watcher(rounds);
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
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = build_sandbox(&dir.path().join("s")).expect("sandbox");
    let port = free_port();
    let daemon = start(&[], &sandbox.desired, port, &[]);
    std::thread::sleep(Duration::from_secs(2));
    let pid = daemon.0.id();
    let ticks_before = cpu_ticks(pid);
    let idle = Duration::from_secs(10);
    std::thread::sleep(idle);
    let ticks = cpu_ticks(pid).saturating_sub(ticks_before);
    // Clock ticks are 1/100 s on Linux.
    println!(
        "idle after converging: RSS {:.1} MB; CPU {} ticks ({:.2}% of one core) over {}s",
        rss_kib(pid) as f64 / 1024.0,
        ticks,
        ticks as f64 / (idle.as_secs_f64() * 100.0) * 100.0,
        idle.as_secs()
    );
    let _ = http(port, "GET", "/metrics", &[], b"");
}

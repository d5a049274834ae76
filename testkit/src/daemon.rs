//! `stackrel run` as a child process, observed only from outside: its HTTP port, its exit
//! status and its logs. `Daemon` is killed (and reaped) when dropped, so a failing test leaves
//! nothing running, and every wait is bounded and fails naming what it waited for, with the last
//! `/api/status` and the daemon's output.

use crate::http::{Reply, free_port, http, try_http};
use serde_json::Value;
use stackrel::demo::Sandbox;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const SECRET: &str = "test webhook secret";
/// How long the daemon may take to finish its first reconcile and serve `/readyz`.
pub const READY_WITHIN: Duration = Duration::from_secs(20);
/// How long a condition on `/api/status` may take to become true.
pub const CONVERGE_WITHIN: Duration = Duration::from_secs(15);
/// How long a signalled daemon may take to exit.
pub const EXIT_WITHIN: Duration = Duration::from_secs(15);
pub const POLL: Duration = Duration::from_millis(25);
/// A `push` delivery for the desired-state repository's branch.
pub const PUSH: &str =
    r#"{"ref":"refs/heads/master","after":"0000000000000000000000000000000000000000"}"#;

/// The `stackrel` binary that cargo built for the running test or benchmark. Cargo names it to
/// the root package's tests and benchmarks only (`CARGO_BIN_EXE_stackrel`, which recent cargo
/// also sets at run time); older cargo leaves it beside the `deps/` directory the test runs from.
pub fn stackrel_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_stackrel") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe.parent().expect("the test sits in a directory");
    let dir = if dir.ends_with("deps") {
        dir.parent().expect("deps/ sits in the profile directory")
    } else {
        dir
    };
    let bin = dir.join(format!("stackrel{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "the stackrel binary is built at {}",
        bin.display()
    );
    bin
}

/// A running `stackrel run`; killed (and reaped) on drop, whatever happened.
pub struct Daemon {
    child: Child,
    pub port: u16,
    stdout: PathBuf,
    stderr: PathBuf,
    exited: Option<ExitStatus>,
}

impl Daemon {
    /// Spawns the daemon on `sandbox` without waiting for it.
    pub fn spawn(sandbox: &Sandbox, extra: &[&str]) -> Daemon {
        Self::spawn_at(sandbox, &sandbox.desired, extra)
    }

    /// Spawns the daemon on the desired-state checkout at `checkout`.
    pub fn spawn_at(sandbox: &Sandbox, checkout: &Path, extra: &[&str]) -> Daemon {
        Self::spawn_env(sandbox, checkout, extra, &[])
    }

    /// Spawns the daemon with extra environment variables (credentials for the emulators, a log
    /// level).
    pub fn spawn_env(
        sandbox: &Sandbox,
        checkout: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let n = std::fs::read_dir(&sandbox.root).unwrap().count();
        let stdout = sandbox.root.join(format!("daemon-{port}-{n}.out"));
        let stderr = sandbox.root.join(format!("daemon-{port}-{n}.err"));
        let child = Command::new(stackrel_bin())
            .arg("--repo")
            .arg(checkout)
            .args(["run", "--listen", &listen])
            .args(extra)
            .current_dir(checkout)
            .env("STACKREL_WEBHOOK_SECRET", SECRET)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("the stackrel binary starts");
        Daemon {
            child,
            port,
            stdout,
            stderr,
            exited: None,
        }
    }

    /// Spawns the daemon allowed at most `files` open file descriptors (`RLIMIT_NOFILE`).
    #[cfg(unix)]
    pub fn spawn_with_file_limit(sandbox: &Sandbox, files: u64) -> Daemon {
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let stdout = sandbox.root.join(format!("daemon-{port}-limited.out"));
        let stderr = sandbox.root.join(format!("daemon-{port}-limited.err"));
        let mut command = Command::new(stackrel_bin());
        command
            .arg("--repo")
            .arg(&sandbox.desired)
            .args(["run", "--listen", &listen])
            .current_dir(&sandbox.desired)
            .env("STACKREL_WEBHOOK_SECRET", SECRET)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let limit = libc::rlimit {
            rlim_cur: files,
            rlim_max: files,
        };
        // SAFETY: setrlimit(2) is async-signal-safe and touches only the child's own limits.
        unsafe {
            command.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        let child = command.spawn().expect("the stackrel binary starts");
        Daemon {
            child,
            port,
            stdout,
            stderr,
            exited: None,
        }
    }

    /// The daemon's resident memory (`VmRSS`) in KiB, where /proc tells.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// How many file descriptors the daemon has open, where /proc tells.
    pub fn open_files(&self) -> Option<usize> {
        Some(
            std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
                .ok()?
                .count(),
        )
    }

    /// Spawns the daemon and waits until it is ready and its first reconcile has finished.
    pub fn start(sandbox: &Sandbox) -> Daemon {
        Self::start_with(sandbox, &[])
    }

    pub fn start_with(sandbox: &Sandbox, extra: &[&str]) -> Daemon {
        let mut daemon = Self::spawn(sandbox, extra);
        daemon.wait_ready();
        daemon
    }

    pub fn start_at(sandbox: &Sandbox, checkout: &Path) -> Daemon {
        let mut daemon = Self::spawn_at(sandbox, checkout, &[]);
        daemon.wait_ready();
        daemon
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.exited = Some(status);
                panic!(
                    "the daemon exited with {status} before it was ready\n{}",
                    self.logs()
                );
            }
            // Ready means serving (the backends are up); the tests also want the first
            // reconcile's outcome, which a long first deploy may keep them waiting for.
            if try_http(self.port, "GET", "/readyz", &[], b"").is_ok_and(|r| r.status == 200)
                && try_http(self.port, "GET", "/api/status", &[], b"")
                    .ok()
                    .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
                    .is_some_and(|s| !s["last_reconcile_at"].is_null())
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "awaited /readyz 200 for {READY_WITHIN:?}; last /api/status: {}\n{}",
                self.last_status(),
                self.logs()
            );
            std::thread::sleep(POLL);
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        http(self.port, "GET", path, &[], b"")
    }

    pub fn status(&self) -> Value {
        let reply = self.get("/api/status");
        assert_eq!(reply.status, 200, "/api/status: {}", reply.body);
        serde_json::from_str(&reply.body).expect("/api/status is JSON")
    }

    pub fn last_status(&self) -> String {
        try_http(self.port, "GET", "/api/status", &[], b"")
            .map(|r| r.body)
            .unwrap_or_else(|e| format!("(unavailable: {e})"))
    }

    /// Polls `/api/status` until `condition` holds; panics naming `what` and the last status.
    pub fn wait_for(&self, what: &str, condition: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + CONVERGE_WITHIN;
        loop {
            let status = self.status();
            if condition(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "awaited {what} for {CONVERGE_WITHIN:?}; last /api/status:\n{}\n{}",
                serde_json::to_string_pretty(&status).unwrap(),
                self.logs()
            );
            std::thread::sleep(POLL);
        }
    }

    pub fn wait_converged(&self, version: &str) -> Value {
        self.wait_for(&format!("converged with {version} desired and live"), |s| {
            s["outcome"] == "converged"
                && s["desired_version"] == version
                && s["live_version"] == version
        })
    }

    pub fn webhook(&self, event: &str, body: &str, signature: &str) -> Reply {
        http(
            self.port,
            "POST",
            "/webhooks/github",
            &[
                ("Content-Type", "application/json"),
                ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
                ("X-Hub-Signature-256", signature),
            ],
            body.as_bytes(),
        )
    }

    pub fn metrics(&self) -> String {
        let reply = self.get("/metrics");
        assert_eq!(reply.status, 200, "/metrics: {}", reply.body);
        reply.body
    }

    /// `stackrel_reconciles_total`, summed over outcomes.
    pub fn reconciles(&self) -> f64 {
        samples(&self.metrics())
            .iter()
            .filter(|(name, _)| name.starts_with("stackrel_reconciles_total{"))
            .map(|(_, value)| value)
            .sum()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the process has used so far, in clock ticks (user + system), where /proc tells.
    pub fn cpu_ticks(&self) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // The command name (field 2) may hold spaces; fields 14 and 15 follow it.
        let after = stat.get(stat.rfind(')')? + 2..)?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    }

    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// Waits (bounded) for the process to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + EXIT_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.exited = Some(status);
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "awaited the daemon's exit for {EXIT_WITHIN:?}\n{}",
                self.logs()
            );
            std::thread::sleep(POLL);
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn logs(&self) -> String {
        format!(
            "--- daemon stdout ---\n{}--- daemon stderr ---\n{}---",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            self.stderr()
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The samples of a Prometheus text exposition: (name with labels, value).
pub fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("a sample line is `name value`: {l:?}"));
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("a sample's value is a number: {l:?}"));
            (name.to_string(), value)
        })
        .collect()
}

pub fn sample(text: &str, name: &str) -> Option<f64> {
    samples(text)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

pub fn events(status: &Value) -> Vec<String> {
    status["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

pub fn step<'a>(status: &'a Value, kind: &str) -> &'a Value {
    status["plan"]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("a plan in {status}"))
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("a {kind} step in {status}"))
}

/// Files created, renamed and removed in a directory as fast as one thread can, until dropped:
/// the neighbours of a checkout that a busy volume (git-sync's own scratch files, logs) keeps
/// changing while the daemon sets up its watches.
pub struct Churn {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Churn {
    pub fn start(dir: &Path) -> Churn {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let dir = dir.to_path_buf();
        let thread = std::thread::spawn(move || {
            let mut changes = 0u64;
            while !stopped.load(Ordering::Relaxed) {
                let path = dir.join(format!("churn-{}", changes % 50));
                let moved = path.with_extension("moved");
                let _ = std::fs::write(&path, b"x")
                    .and_then(|()| std::fs::rename(&path, &moved))
                    .and_then(|()| std::fs::remove_file(&moved));
                changes += 1;
            }
            changes
        });
        Churn {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops churning; the number of rounds made.
    pub fn stop(mut self) -> u64 {
        self.halt()
    }

    fn halt(&mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread
            .take()
            .map_or(0, |thread| thread.join().unwrap_or(0))
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.halt();
    }
}

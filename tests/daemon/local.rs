//! Specifies `stackrel run`, the daemon, as a process an operator runs: it is spawned from the
//! built binary against the local backend (a sandbox of git repositories on disk and a command
//! deployer), and observed only from outside — its HTTP port (`/readyz`, `/healthz`,
//! `/api/status`, `/metrics`, `POST /webhooks/github`), its exit status, its logs, and what the
//! sandbox's repositories and deploy log show. Each test states one behaviour of issue 5: a
//! committed release converges without a webhook (also through a git-sync symlink swap), a
//! forged webhook changes nothing, SIGTERM waits for the step in flight and a restart resumes,
//! deploy windows hold a release until they open and suspension holds every side effect, a
//! broken desired state fails closed and recovers, metrics are Prometheus text, logs can be
//! JSON, and a configuration error stops the daemon before it serves.
//!
//! Every wait is bounded and fails with what it waited for and the last status seen; every
//! child process is killed when its guard drops, so a failing test leaves nothing running. The
//! helpers are the test kit's (`testkit::daemon`, `testkit::sandbox`).
#![cfg(unix)]

use serde_json::Value;
use stackrel::webhook::sign;
use std::time::{Duration, Instant};
use testkit::daemon::*;
use testkit::http::try_http;
use testkit::sandbox::{
    commit_blocked_release, commit_config_with, commit_release, git_sync, sandbox, slow_deployer,
    stack_refs,
};

#[test]
fn a_committed_release_converges_through_the_file_watcher_without_a_webhook() {
    let (_dir, sandbox) = sandbox();
    commit_blocked_release(&sandbox);
    let daemon = Daemon::start(&sandbox);
    let status = daemon.status();
    assert_eq!(status["outcome"], "blocked", "{status}");
    assert_eq!(sandbox.deploy_count(), 0);

    let committed = Instant::now();
    commit_release(&sandbox, "2026.08.4", "2026.08.1", "2026.08.2");
    let status = daemon.wait_converged("2026.08.4");
    let elapsed = committed.elapsed();

    assert_eq!(sandbox.deploy_count(), 1, "exactly one deploy");
    assert_eq!(status["reason"], "2026.08.4 is live (verified)");
    assert!(
        stack_refs(&sandbox).contains_key("refs/tags/2026.08.4"),
        "the release is tagged in the stack: {:?}",
        stack_refs(&sandbox)
    );
    // The resync schedule is minutes away: only the watcher can have woken the worker.
    assert!(
        daemon.stderr().contains("desired-state change"),
        "the reconcile names the file watcher as its reason\n{}",
        daemon.logs()
    );
    assert!(elapsed < CONVERGE_WITHIN, "converged in {elapsed:?}");
}

#[test]
fn a_webhook_with_a_bad_signature_is_refused_with_401_and_changes_nothing() {
    let (_dir, sandbox) = sandbox();
    let daemon = Daemon::start(&sandbox);
    daemon.wait_converged("2026.08.2");
    assert_eq!(sandbox.deploy_count(), 1);
    let before = daemon.reconciles();
    let refs = stack_refs(&sandbox);

    let forged = sign(b"not the secret", PUSH.as_bytes());
    let reply = daemon.webhook("push", PUSH, &forged);
    assert_eq!(reply.status, 401, "forged signature: {}", reply.body);
    let reply = daemon.webhook("push", PUSH, "sha256=");
    assert_eq!(reply.status, 401, "empty signature: {}", reply.body);
    let tampered = sign(SECRET.as_bytes(), PUSH.as_bytes());
    let reply = daemon.webhook("push", &PUSH.replace("master", "main"), &tampered);
    assert_eq!(
        reply.status, 401,
        "body changed after signing: {}",
        reply.body
    );

    let huge = format!(
        "{{\"ref\":\"refs/heads/master\",\"pad\":\"{}\"}}",
        "x".repeat(1 << 20)
    );
    let reply = daemon.webhook("push", &huge, &sign(SECRET.as_bytes(), huge.as_bytes()));
    assert_eq!(reply.status, 413, "a body over the size limit, even signed");

    // Give a wrongly accepted trigger time to show.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(daemon.reconciles(), before, "no reconcile was triggered");
    assert_eq!(sandbox.deploy_count(), 1, "no deploy");
    assert_eq!(stack_refs(&sandbox), refs, "the stack is untouched");
    let metrics = daemon.metrics();
    assert_eq!(
        sample(
            &metrics,
            "stackrel_webhooks_total{event=\"unverified\",result=\"unauthorized\"}"
        ),
        Some(3.0),
        "{metrics}"
    );

    let reply = daemon.webhook("push", PUSH, &sign(SECRET.as_bytes(), PUSH.as_bytes()));
    assert_eq!(reply.status, 202, "signed push: {}", reply.body);
    let deadline = Instant::now() + CONVERGE_WITHIN;
    while daemon.reconciles() <= before {
        assert!(
            Instant::now() < deadline,
            "awaited a reconcile after a signed push; last /api/status: {}",
            daemon.last_status()
        );
        std::thread::sleep(POLL);
    }
    assert!(
        daemon
            .stderr()
            .contains("webhook: push to refs/heads/master")
    );

    let ping = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let reply = daemon.webhook("ping", ping, &sign(SECRET.as_bytes(), ping.as_bytes()));
    assert_eq!(reply.status, 200, "ping: {}", reply.body);
    assert_eq!(sandbox.deploy_count(), 1, "nothing was redeployed");
}

#[test]
fn sigterm_during_a_deploy_finishes_that_step_exits_0_and_a_restart_resumes_without_redeploying() {
    let (_dir, sandbox) = sandbox();
    commit_blocked_release(&sandbox);
    let started = slow_deployer(&sandbox, "1.5");
    let mut daemon = Daemon::start(&sandbox);

    commit_release(&sandbox, "2026.08.4", "2026.08.1", "2026.08.2");
    let deadline = Instant::now() + CONVERGE_WITHIN;
    while !started.exists() {
        assert!(
            Instant::now() < deadline,
            "awaited the deploy command's start; last /api/status: {}\n{}",
            daemon.last_status(),
            daemon.logs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sandbox.deploy_count(), 0, "the deploy is still running");
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "clean exit\n{}", daemon.logs());
    assert_eq!(
        sandbox.deploy_count(),
        1,
        "the deploy in flight ran to its end before the exit\n{}",
        daemon.logs()
    );
    let logs = daemon.stderr();
    assert!(
        logs.contains("shutting down after the step in flight"),
        "{logs}"
    );
    assert!(logs.contains("reconcile worker stopped"), "{logs}");
    assert!(logs.contains("deployed 2026.08.4"), "{logs}");
    assert!(
        !logs.contains("recorded 2026.08.4 as live"),
        "no step after the deploy ran once SIGTERM had arrived: {logs}"
    );
    drop(daemon);

    let daemon = Daemon::start(&sandbox);
    let status = daemon.wait_converged("2026.08.4");
    assert_eq!(
        sandbox.deploy_count(),
        1,
        "the restart did not deploy again"
    );
    let events = events(&status);
    assert!(
        events
            .iter()
            .any(|e| e == "report: recorded 2026.08.4 as live"),
        "the restart went on from where the first run stopped: {events:?}"
    );
    assert!(
        !events.iter().any(|e| e.starts_with("deploy")),
        "the restart did not deploy: {events:?}"
    );
}

#[test]
fn outside_every_deploy_window_a_new_release_waits_for_the_window_and_nothing_is_pinned() {
    let (_dir, sandbox) = sandbox();
    // Midnight on New Year's Day 2099 (the cron crate's optional seventh field is the year).
    commit_config_with(
        &sandbox,
        "[daemon]\nwindows = [\"0 0 0 1 1 * 2099\"]",
        "Deploy only in 2099",
    );
    let refs = stack_refs(&sandbox);
    let daemon = Daemon::start(&sandbox);

    let status = daemon.wait_for("held outside the window", |s| s["outcome"] == "held");
    assert_eq!(status["desired_version"], "2026.08.2");
    assert!(status["live_version"].is_null(), "{status}");
    let reason = status["reason"].as_str().unwrap();
    assert!(reason.contains("outside the deploy windows"), "{reason}");
    let pin = step(&status, "pin");
    assert_eq!(pin["status"], "waiting", "{pin}");
    let pin_reason = pin["reason"].as_str().unwrap();
    assert!(pin_reason.starts_with("waiting for window"), "{pin_reason}");
    assert!(
        pin_reason.contains("2099-01-01T00:00:00Z"),
        "names the next opening: {pin_reason}"
    );
    assert_eq!(stack_refs(&sandbox), refs, "nothing pinned or tagged");
    assert_eq!(sandbox.deploy_count(), 0);

    // Held, it sleeps until the window or the resync: no reconcile, (almost) no CPU.
    let (reconciles, ticks) = (daemon.reconciles(), daemon.cpu_ticks());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(daemon.reconciles(), reconciles, "no reconcile while held");
    if let (Some(before), Some(after)) = (ticks, daemon.cpu_ticks()) {
        let used = after - before;
        assert!(used <= 5, "{used} clock ticks of CPU in a second of idling");
    }
}

#[test]
fn a_suspended_daemon_has_no_side_effects_even_when_asked_to_reconcile() {
    let (_dir, sandbox) = sandbox();
    commit_config_with(&sandbox, "[daemon]\nsuspended = true", "Suspend releases");
    let refs = stack_refs(&sandbox);
    let daemon = Daemon::start(&sandbox);
    let status = daemon.wait_for("held by suspension", |s| s["outcome"] == "held");
    assert!(
        status["reason"].as_str().unwrap().contains("suspended"),
        "{status}"
    );

    // A push asks for another reconcile: still nothing.
    let before = daemon.reconciles();
    let reply = daemon.webhook("push", PUSH, &sign(SECRET.as_bytes(), PUSH.as_bytes()));
    assert_eq!(reply.status, 202, "{}", reply.body);
    let deadline = Instant::now() + CONVERGE_WITHIN;
    while daemon.reconciles() <= before {
        assert!(
            Instant::now() < deadline,
            "awaited the pushed reconcile; last /api/status: {}",
            daemon.last_status()
        );
        std::thread::sleep(POLL);
    }
    let status = daemon.status();
    assert_eq!(status["outcome"], "held", "{status}");
    for s in status["plan"]["steps"].as_array().unwrap() {
        assert_ne!(s["status"], "to do", "every pending step waits: {s}");
    }
    assert_eq!(stack_refs(&sandbox), refs, "the stack's refs are unchanged");
    assert_eq!(sandbox.deploy_count(), 0, "no deploy");
    assert!(!sandbox.root.join("production.txt").exists());
    let metrics = daemon.metrics();
    assert!(
        !metrics.contains("stackrel_steps_total{"),
        "no step was executed: {metrics}"
    );
}

#[test]
fn a_broken_release_file_fails_closed_and_is_reported_until_the_next_commit_fixes_it() {
    let (_dir, sandbox) = sandbox();
    let daemon = Daemon::start(&sandbox);
    daemon.wait_converged("2026.08.2");
    let refs = stack_refs(&sandbox);

    sandbox
        .commit_desired(
            &[(
                "releases/2026.08.3.toml",
                "backend = \"2026.08.1\"\nfrontend = 42\ncolour = \"red\"\n",
            )],
            "Release 2026.08.3 (broken)",
        )
        .unwrap();
    let status = daemon.wait_for("the invalid outcome", |s| s["outcome"] == "invalid");
    let problems: Vec<&str> = status["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(!problems.is_empty(), "problems are listed: {status}");
    assert!(
        problems
            .iter()
            .all(|p| p.contains("releases/2026.08.3.toml")),
        "each problem names the file: {problems:?}"
    );
    assert!(
        status["reason"].as_str().unwrap().contains("invalid"),
        "{status}"
    );
    let metrics = daemon.metrics();
    assert_eq!(
        sample(&metrics, "stackrel_state{outcome=\"invalid\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert!(sample(&metrics, "stackrel_reconciles_total{outcome=\"invalid\"}") >= Some(1.0));
    assert_eq!(daemon.get("/healthz").status, 200, "still healthy");
    assert_eq!(stack_refs(&sandbox), refs, "nothing converged");
    assert_eq!(sandbox.deploy_count(), 1);

    commit_release(&sandbox, "2026.08.3", "2026.08.1", "2026.08.2");
    let status = daemon.wait_converged("2026.08.3");
    assert_eq!(status["problems"], serde_json::json!([]), "{status}");
    assert_eq!(sandbox.deploy_count(), 2);
    let metrics = daemon.metrics();
    assert_eq!(
        sample(&metrics, "stackrel_state{outcome=\"converged\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&metrics, "stackrel_state{outcome=\"invalid\"}"),
        None
    );
}

#[test]
fn metrics_are_prometheus_text_named_stackrel_with_reconciles_steps_requests_and_versions() {
    let (_dir, sandbox) = sandbox();
    let daemon = Daemon::start(&sandbox);
    daemon.wait_converged("2026.08.2");
    let reply = daemon.get("/metrics");
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .headers
            .contains("content-type: text/plain; version=0.0.4"),
        "{}",
        reply.headers
    );
    let text = reply.body;
    for line in text.lines() {
        if let Some(rest) = line
            .strip_prefix("# HELP ")
            .or_else(|| line.strip_prefix("# TYPE "))
        {
            assert!(rest.starts_with("stackrel_"), "{line}");
        } else {
            assert!(line.starts_with("stackrel_"), "{line}");
        }
    }
    let samples = samples(&text);
    let has = |prefix: &str| samples.iter().any(|(name, _)| name.starts_with(prefix));
    assert!(sample(&text, "stackrel_reconciles_total{outcome=\"converged\"}") >= Some(1.0));
    assert!(sample(&text, "stackrel_reconcile_duration_seconds_count") >= Some(1.0));
    assert!(sample(&text, "stackrel_reconcile_duration_seconds_sum") > Some(0.0));
    assert_eq!(
        sample(
            &text,
            "stackrel_steps_total{step=\"deploy\",outcome=\"done\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(has("stackrel_api_requests_total{service=\""), "{text}");
    assert_eq!(
        sample(
            &text,
            "stackrel_desired_version_info{version=\"2026.08.2\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "stackrel_live_version_info{version=\"2026.08.2\"}"),
        Some(1.0)
    );
    assert_eq!(sample(&text, "stackrel_ready"), Some(1.0));
    for family in [
        "reconciles_total counter",
        "reconcile_duration_seconds summary",
        "steps_total counter",
        "api_requests_total counter",
    ] {
        assert!(
            text.contains(&format!("# TYPE stackrel_{family}")),
            "{family}: {text}"
        );
    }
}

#[test]
fn log_format_json_writes_one_json_object_per_line_on_stderr() {
    let (_dir, sandbox) = sandbox();
    let mut daemon = Daemon::start_with(&sandbox, &["--log-format", "json"]);
    daemon.wait_converged("2026.08.2");
    daemon.signal(libc::SIGTERM);
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.logs());
    let logs = daemon.stderr();
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect();
    assert!(lines.len() >= 3, "{logs}");
    for line in &lines {
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["level"].is_string(), "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "acting" && l["step"] == "deploy"),
        "the deploy step is logged with its fields: {logs}"
    );
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "{logs}");
}

#[test]
fn an_invalid_desired_state_at_startup_exits_1_before_serving_with_the_diagnostic() {
    let (_dir, sandbox) = sandbox();
    sandbox
        .commit_desired(
            &[("releases/2026.08.3.toml", "backend = \"2026.08.1\"\n")],
            "Release 2026.08.3 without a frontend",
        )
        .unwrap();
    let mut daemon = Daemon::spawn(&sandbox, &[]);
    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(1), "{}", daemon.logs());
    let output = daemon.logs();
    assert!(output.contains("releases/2026.08.3.toml"), "{output}");
    assert!(output.contains("frontend"), "{output}");
    assert!(output.contains("the desired state is invalid"), "{output}");
    assert!(
        try_http(daemon.port, "GET", "/healthz", &[], b"").is_err(),
        "nothing serves on the port"
    );
}

#[test]
fn a_release_held_by_a_closed_window_starts_when_the_window_opens_without_waiting_for_resync() {
    let (_dir, sandbox) = sandbox();
    // A window of three seconds that opens about five seconds from now, every minute; the
    // resync schedule (five minutes by default) is far later.
    let now = chrono::Utc::now().timestamp();
    let opens = now + 5;
    let seconds: Vec<String> = (opens..opens + 3).map(|t| (t % 60).to_string()).collect();
    commit_config_with(
        &sandbox,
        &format!("[daemon]\nwindows = [\"{} * * * * *\"]", seconds.join(",")),
        "Deploy in a short window",
    );
    let daemon = Daemon::start(&sandbox);
    let status = daemon.status();
    if chrono::Utc::now().timestamp() < opens {
        assert_eq!(status["outcome"], "held", "{status}");
        assert_eq!(sandbox.deploy_count(), 0);
    } else {
        println!("note: the daemon became ready only after the window opened");
    }
    daemon.wait_converged("2026.08.2");
    assert_eq!(sandbox.deploy_count(), 1);
}

#[test]
fn a_checkout_swapped_by_symlink_as_git_sync_does_is_followed_swap_after_swap() {
    let (_dir, sandbox) = sandbox();
    commit_blocked_release(&sandbox);
    let current = git_sync(&sandbox, 1);
    let daemon = Daemon::start_at(&sandbox, &current);
    let status = daemon.status();
    assert_eq!(status["outcome"], "blocked", "{status}");

    commit_release(&sandbox, "2026.08.4", "2026.08.1", "2026.08.2");
    git_sync(&sandbox, 2);
    daemon.wait_converged("2026.08.4");
    assert_eq!(sandbox.deploy_count(), 1);

    commit_release(&sandbox, "2026.08.5", "2026.08.1", "2026.08.2");
    git_sync(&sandbox, 3);
    daemon.wait_converged("2026.08.5");
    assert_eq!(sandbox.deploy_count(), 2);
}

#[test]
fn a_remote_source_is_fetched_and_converged_when_a_push_webhook_arrives() {
    let (_dir, sandbox) = sandbox();
    commit_blocked_release(&sandbox);
    // With a remote source, relative paths in the config resolve against the daemon's working
    // directory, here the checkout (where deploy.sh is).
    let url = format!("file://{}", sandbox.desired.display());
    let cache = sandbox.root.join("desired-cache.git");
    let cache_arg = cache.to_string_lossy().into_owned();
    let mut daemon = Daemon::spawn_env(
        &sandbox,
        &sandbox.desired,
        &[
            "--source", &url, "--branch", "master", "--cache", &cache_arg,
        ],
        &[],
    );
    daemon.wait_ready();
    assert_eq!(daemon.status()["outcome"], "blocked");

    commit_release(&sandbox, "2026.08.4", "2026.08.1", "2026.08.2");
    // No watcher follows a remote: the push webhook is what fetches the new commit.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        daemon.status()["desired_version"],
        "2026.08.3",
        "not fetched before the webhook"
    );
    let body = r#"{"ref":"refs/heads/master"}"#;
    let reply = daemon.webhook("push", body, &sign(SECRET.as_bytes(), body.as_bytes()));
    assert_eq!(reply.status, 202, "{}", reply.body);
    daemon.wait_converged("2026.08.4");
    assert_eq!(sandbox.deploy_count(), 1);
    assert!(
        cache.join("HEAD").exists(),
        "the daemon keeps its own clone"
    );
}

//! Specifies the daemon under load, faults and hostile clients, as a process on its own port:
//! it starts and stops while the files beside its checkout churn, and its HTTP port bounds
//! what any client can make it hold (memory, connections, time, metric series) before a
//! delivery's signature is checked.
#![cfg(unix)]

use std::time::{Duration, Instant};
use testkit::daemon::*;
use testkit::http::try_http;
use testkit::sandbox::{commit_release, git_sync, sandbox};

/// How long a started daemon may take to answer `/healthz` (it serves before reconciling).
const SERVING_WITHIN: Duration = Duration::from_secs(10);

/// Polls `/healthz` until it answers 200; panics with the logs if it never does.
fn wait_serving(daemon: &mut Daemon) {
    let deadline = Instant::now() + SERVING_WITHIN;
    while !try_http(daemon.port, "GET", "/healthz", &[], b"").is_ok_and(|r| r.status == 200) {
        assert!(
            Instant::now() < deadline,
            "/healthz did not answer within {SERVING_WITHIN:?}\n{}",
            daemon.logs()
        );
        std::thread::sleep(POLL);
    }
}

#[test]
fn a_daemon_started_while_files_beside_its_checkout_churn_serves_and_stops_on_sigterm() {
    let (_dir, sandbox) = sandbox();
    let churn = Churn::start(&sandbox.root);
    // Set-up races the churn's events; one start-up in several hung before the fix.
    for attempt in 0..8 {
        let mut daemon = Daemon::spawn(&sandbox, &[]);
        wait_serving(&mut daemon);
        daemon.signal(libc::SIGTERM);
        let status = daemon.wait_exit();
        assert!(
            status.success(),
            "attempt {attempt}: {status}\n{}",
            daemon.logs()
        );
    }
    assert!(churn.stop() > 0, "the files did churn");
}

#[test]
fn a_git_sync_swap_amid_churn_is_followed_and_sigterm_still_stops_the_daemon() {
    let (_dir, sandbox) = sandbox();
    let current = git_sync(&sandbox, 1);
    let mut daemon = Daemon::spawn_at(&sandbox, &current, &[]);
    daemon.wait_ready();
    let _churn = Churn::start(&sandbox.root);
    for (n, version) in [(2, "2026.08.4"), (3, "2026.08.5")] {
        commit_release(&sandbox, version, "2026.08.1", "2026.08.2");
        git_sync(&sandbox, n);
        daemon.wait_converged(version);
    }
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit().success(), "{}", daemon.logs());
}

#[test]
fn forged_deliveries_with_made_up_event_names_add_no_metric_series() {
    let (_dir, sandbox) = sandbox();
    let daemon = Daemon::start(&sandbox);
    let forged = stackrel::webhook::sign(b"not the secret", PUSH.as_bytes());
    for n in 0..1000 {
        let reply = daemon.webhook(&format!("made-up-{n}"), PUSH, &forged);
        assert_eq!(reply.status, 401, "{}", reply.body);
    }
    let signed = stackrel::webhook::sign(SECRET.as_bytes(), b"{}");
    let reply = daemon.webhook("made-up-but-signed", "{}", &signed);
    assert_eq!(reply.status, 202, "{}", reply.body);

    let metrics = daemon.metrics();
    let mut webhook_series: Vec<_> = samples(&metrics)
        .into_iter()
        .filter(|(name, _)| name.starts_with("stackrel_webhooks_total{"))
        .collect();
    webhook_series.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        webhook_series,
        vec![
            (
                r#"stackrel_webhooks_total{event="other",result="ignored"}"#.to_string(),
                1.0
            ),
            (
                r#"stackrel_webhooks_total{event="unverified",result="unauthorized"}"#.to_string(),
                1000.0
            ),
        ],
        "{metrics}"
    );
    assert!(!metrics.contains("made-up"), "{metrics}");
}

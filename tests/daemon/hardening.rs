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

/// A `push` delivery that declares a body of nearly 1 MB and sends only `sent` bytes of it,
/// signed with a signature of the right shape (so it is not refused before its body is read).
fn unfinished_delivery(port: u16, sent: usize) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256={}\r\nContent-Length: 1000000\r\n\r\n",
        "0".repeat(64)
    );
    stream.write_all(head.as_bytes()).unwrap();
    // A daemon at its connection cap reads nothing yet: write what the socket takes.
    stream.set_nonblocking(true).unwrap();
    let chunk = vec![b'x'; sent];
    let _ = stream.write(&chunk);
    stream.set_nonblocking(false).unwrap();
    stream
}

/// The status code of the answer on `stream`, or `None` if it closed without one.
fn answer(stream: &mut std::net::TcpStream, within: Duration) -> Option<u16> {
    use std::io::Read;
    stream.set_read_timeout(Some(within)).unwrap();
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head[..n]);
    text.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn hundreds_of_unfinished_webhook_bodies_take_bounded_memory_and_time_out() {
    let (_dir, sandbox) = sandbox();
    let daemon = Daemon::start(&sandbox);
    let idle = daemon.rss_kib().expect("/proc tells the daemon's memory");
    let files_before = daemon.open_files().unwrap();

    let mut streams: Vec<_> = (0..300)
        .map(|_| unfinished_delivery(daemon.port, 64 * 1024))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let loaded = daemon.rss_kib().unwrap();
    let files = daemon.open_files().unwrap();

    // Before the bound, each body was buffered up to 1 MiB: 300 of them took ~300 MB.
    assert!(
        loaded.saturating_sub(idle) < 48 * 1024,
        "RSS grew from {idle} KiB to {loaded} KiB"
    );
    assert!(
        files <= files_before + 256 + 8,
        "{files} files open with 300 clients (cap 256; {files_before} before)"
    );
    let mut answers = std::collections::BTreeMap::new();
    for stream in &mut streams {
        let code = answer(stream, Duration::from_secs(40));
        *answers.entry(code).or_insert(0) += 1;
    }
    // Those that got a share of the body budget wait out the body timeout; the others are
    // told to come back.
    let timed_out = answers.get(&Some(408)).copied().unwrap_or(0);
    let busy = answers.get(&Some(503)).copied().unwrap_or(0);
    assert!(
        timed_out > 0 && busy > 0 && timed_out + busy == 300,
        "answers: {answers:?}"
    );
    assert_eq!(daemon.get("/healthz").status, 200);
}

#[test]
fn a_half_sent_header_and_an_idle_kept_alive_connection_are_closed_after_the_header_timeout() {
    use std::io::{Read, Write};
    let (_dir, sandbox) = sandbox();
    let mut daemon = Daemon::spawn(&sandbox, &[]);
    wait_serving(&mut daemon);

    let mut half = std::net::TcpStream::connect(("127.0.0.1", daemon.port)).unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let mut idle = std::net::TcpStream::connect(("127.0.0.1", daemon.port)).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    assert_eq!(answer(&mut idle, Duration::from_secs(5)), Some(200));

    let sent = Instant::now();
    for stream in [&mut half, &mut idle] {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut rest = Vec::new();
        // Closed by the daemon: the read ends (EOF or reset) rather than timing out.
        let closed = match stream.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(closed, "still open after {:?}", sent.elapsed());
    }
    let held = sent.elapsed();
    assert!(held < Duration::from_secs(20), "held for {held:?}");
}

#[test]
fn out_of_file_descriptors_the_daemon_backs_off_instead_of_spinning_and_recovers() {
    let (_dir, sandbox) = sandbox();
    let mut daemon = Daemon::spawn_with_file_limit(&sandbox, 64);
    wait_serving(&mut daemon);
    let clients: Vec<_> = (0..100)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", daemon.port)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = daemon
        .cpu_ticks()
        .expect("/proc tells the daemon's CPU time");
    std::thread::sleep(Duration::from_secs(2));
    let spent = daemon.cpu_ticks().unwrap() - before;
    // Spinning on accept would take a whole core: ~200 ticks in 2 s.
    assert!(spent < 40, "{spent} clock ticks in 2 s at the file limit");
    assert!(
        daemon.stderr().contains("cannot accept a connection"),
        "the daemon did run out of file descriptors\n{}",
        daemon.logs()
    );
    drop(clients);
    wait_serving(&mut daemon);
}

/// Sends `raw` as it is and returns the whole answer.
fn exchange(port: u16, raw: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_malformed_chunked_webhook_body_is_400_not_413() {
    let (_dir, sandbox) = sandbox();
    let mut daemon = Daemon::spawn(&sandbox, &[]);
    wait_serving(&mut daemon);
    for body in ["zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcdef\r\n0\r\n\r\n"] {
        let request = format!(
            "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256={}\r\nTransfer-Encoding: chunked\r\n\r\n{body}",
            "0".repeat(64)
        );
        let answer = exchange(daemon.port, request.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 400 "), "{body:?}: {answer}");
        assert!(answer.contains("malformed"), "{answer}");
    }
}

#[test]
fn head_requests_answer_like_get_without_a_body() {
    let (_dir, sandbox) = sandbox();
    let mut daemon = Daemon::spawn(&sandbox, &[]);
    wait_serving(&mut daemon);
    for path in ["/", "/healthz", "/api/status", "/metrics"] {
        let request =
            format!("HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let answer = exchange(daemon.port, request.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 200 "), "HEAD {path}: {answer}");
        let (_, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(body.is_empty(), "HEAD {path} has no body: {body:?}");
    }
}

#[test]
fn with_listen_webhook_the_public_port_serves_only_the_webhook_and_the_other_port_the_rest() {
    let (_dir, sandbox) = sandbox();
    let public = testkit::http::free_port();
    let listen_webhook = format!("127.0.0.1:{public}");
    let mut daemon = Daemon::spawn(&sandbox, &["--listen-webhook", &listen_webhook]);
    daemon.wait_ready();

    let push = PUSH.as_bytes();
    let signed = stackrel::webhook::sign(SECRET.as_bytes(), push);
    let headers = [
        ("X-GitHub-Event", "push"),
        ("X-Hub-Signature-256", signed.as_str()),
    ];
    let reply = testkit::http::http(public, "POST", "/webhooks/github", &headers, push);
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(
        testkit::http::http(public, "GET", "/healthz", &[], b"").status,
        200
    );
    for path in ["/", "/api/status", "/metrics", "/readyz"] {
        let reply = testkit::http::http(public, "GET", path, &[], b"");
        assert_eq!(
            reply.status, 404,
            "{path} on the public port: {}",
            reply.body
        );
    }

    assert_eq!(daemon.get("/api/status").status, 200);
    assert_eq!(daemon.get("/metrics").status, 200);
    let reply = daemon.webhook("push", PUSH, &signed);
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.body.contains("--listen-webhook"), "{}", reply.body);
}

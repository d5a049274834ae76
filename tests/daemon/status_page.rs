//! Specifies the daemon's status page (`/`) as a person sees it: rendered by headless Chromium
//! (Debian package `chromium`) from a running `stackrel run`, once in sync and once blocked.
//! The rendered DOM must show the desired and live versions, the badge, the blocked step with
//! its reason, and text from the outside world (here, a deploy command's output) escaped, never
//! markup. A screenshot of the blocked page is kept at `target/status-page.png` (and the in-sync
//! one at `target/status-page-in-sync.png`) for a person to look at.
//!
//! Without `chromium` on the PATH the tests say why and pass (a user's machine); CI installs it.
#![cfg(unix)]

use stackrel::demo::Sandbox;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::daemon::Daemon;
use testkit::sandbox::{commit_release, sandbox};

/// How long one Chromium run may take.
const CHROMIUM_WITHIN: Duration = Duration::from_secs(60);

/// What the failing deployer prints last: markup and an ampersand that must reach the page as
/// text.
const HOSTILE: &str = r#"<script>document.title="pwned"</script><b>bold</b> & <img src=x>"#;

fn chromium_available() -> bool {
    Command::new("chromium")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where the build keeps its output: the binary is `<target>/<profile>/stackrel`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_stackrel"))
        .parent()
        .and_then(Path::parent)
        .expect("the binary sits in <target>/<profile>/")
        .to_path_buf()
}

/// A Chromium process, killed on drop if it outlives its time.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs headless Chromium on `url` with `action` (`--screenshot=…` or `--dump-dom`), in a
/// fresh profile, and returns what it printed on stdout.
fn chromium(url: &str, action: &str, scratch: &Path) -> String {
    let profile = tempfile::tempdir_in(scratch).unwrap();
    let stdout = scratch.join("chromium.out");
    let stderr = scratch.join("chromium.err");
    let child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--window-size=1200,900")
        .arg(action)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("chromium starts");
    let mut browser = Browser(child);
    let deadline = Instant::now() + CHROMIUM_WITHIN;
    let status = loop {
        if let Some(status) = browser.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "awaited chromium {action} {url} for {CHROMIUM_WITHIN:?}; stderr:\n{}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium {action} {url}: {status}; stderr:\n{}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    std::fs::read_to_string(&stdout).unwrap()
}

/// Takes a screenshot of `url` into `target/<name>` and checks it is a real 1200×900 PNG.
fn screenshot(url: &str, name: &str, scratch: &Path) -> PathBuf {
    let shot = scratch.join(name);
    chromium(url, &format!("--screenshot={}", shot.display()), scratch);
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 900), "the window size");
    assert!(
        png.len() > 10 * 1024,
        "{} bytes: a blank page would be smaller",
        png.len()
    );
    let kept = target_dir().join(name);
    std::fs::copy(&shot, &kept).unwrap();
    println!("screenshot: {}", kept.display());
    kept
}

/// Replaces the deployer in the working directory with one that fails, printing `HOSTILE`.
fn failing_deployer(sandbox: &Sandbox) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!("#!/bin/sh\necho 'starting the deploy'\necho '{HOSTILE}'\nexit 1\n");
    let path = sandbox.desired.join("deploy.sh");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn an_in_sync_daemon_shows_the_same_desired_and_live_version_under_an_in_sync_badge() {
    if !chromium_available() {
        println!("skipped: `chromium` is not installed (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_sandbox_dir, sandbox) = sandbox();
    let daemon = Daemon::start(&sandbox);
    daemon.wait_converged("2026.08.2");
    let url = format!("http://127.0.0.1:{}/", daemon.port);

    let dom = chromium(&url, "--dump-dom", dir.path());
    assert!(
        dom.contains(r#"<span class="badge ok">in sync</span>"#),
        "{dom}"
    );
    assert!(
        dom.contains("<title>stackrel — 2026.08.2 in sync</title>"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("<b>2026.08.2</b>").count(),
        2,
        "desired and live both read 2026.08.2: {dom}"
    );
    assert!(dom.contains("2026.08.2 is live"), "the reason: {dom}");
    assert!(dom.contains("report: recorded 2026.08.2 as live"), "{dom}");
    assert!(!dom.contains(r#"class="bad""#), "no step is blocked: {dom}");

    screenshot(&url, "status-page-in-sync.png", dir.path());
}

#[test]
fn a_blocked_daemon_shows_the_blocked_step_and_its_reason_with_outside_text_escaped() {
    if !chromium_available() {
        println!("skipped: `chromium` is not installed (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_sandbox_dir, sandbox) = sandbox();
    let daemon = Daemon::start(&sandbox);
    daemon.wait_converged("2026.08.2");
    failing_deployer(&sandbox);
    commit_release(&sandbox, "2026.08.3", "2026.08.1", "2026.08.2");
    daemon.wait_for("blocked on the failed deploy of 2026.08.3", |s| {
        s["outcome"] == "blocked" && s["desired_version"] == "2026.08.3"
    });
    let url = format!("http://127.0.0.1:{}/", daemon.port);

    let dom = chromium(&url, "--dump-dom", dir.path());
    assert!(
        dom.contains(r#"<span class="badge bad">blocked</span>"#),
        "{dom}"
    );
    assert!(dom.contains("desired<b>2026.08.3</b>"), "{dom}");
    assert!(dom.contains("live<b>2026.08.2</b>"), "{dom}");
    let row = dom
        .lines()
        .find(|l| l.starts_with(r#"<tr class="bad">"#))
        .unwrap_or_else(|| panic!("a blocked step row: {dom}"));
    assert!(row.contains("deploy"), "{row}");
    assert!(row.contains("the deploy of 2026.08.3 failed"), "{row}");
    assert!(
        row.contains("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x&gt;"),
        "the deploy's output is shown as text: {row}"
    );
    assert!(!dom.contains("<script"), "no script element: {dom}");
    assert!(!dom.contains("<img"), "no image element: {dom}");
    assert!(!dom.contains("<b>bold"), "no bold element: {dom}");
    assert!(!dom.contains("pwned</title>"), "nothing ran: {dom}");

    screenshot(&url, "status-page.png", dir.path());
}

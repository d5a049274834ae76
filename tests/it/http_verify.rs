//! The HTTP verifier against a stand-in for Fragalysis' `/version/` page whose answer each test
//! sets: one behaviour per test. A wrong or unreadable answer is "not live, and here is what was
//! seen" (verification is polled); only an unreachable URL is an error.

use stackrel::deploy::http_verify::HttpVerifier;
use stackrel::deploy::{ReleaseContext, Verifier};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::http_server::{self, Reply, Request, Response, Server};

const FRAGALYSIS: &str = r#"{"version": {"backend": "xchem:2026.08.1", "frontend": "xchem:2026.08.2", "stack": "xchem:2026.08.3"}}"#;

/// A server answering whatever status and body the test puts in the returned slot.
fn version_page(status: u16, body: &str) -> (Server, Arc<Mutex<(u16, String)>>) {
    let answer = Arc::new(Mutex::new((status, body.to_string())));
    let shared = answer.clone();
    let server = http_server::serve(
        "127.0.0.1:0",
        Arc::new(move |_: Request| {
            let (status, body) = shared.lock().map(|a| a.clone()).unwrap_or_default();
            Reply::Respond(Response::new(status, "application/json", body))
        }),
    )
    .unwrap();
    (server, answer)
}

fn verifier(url: String, expect: &[(&str, &str)]) -> HttpVerifier {
    let expect = expect
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    HttpVerifier::new(&url, &expect)
        .unwrap()
        .with_request_timeout(Duration::from_secs(5))
}

fn fragalysis_verifier(server: &Server) -> HttpVerifier {
    verifier(
        format!("{}/version/", server.url()),
        &[
            ("version.stack", "xchem:{version}"),
            ("version.backend", "xchem:{backend}"),
            ("version.frontend", "xchem:{frontend}"),
        ],
    )
}

fn release(version: &str) -> ReleaseContext {
    ReleaseContext {
        version: version.into(),
        components: BTreeMap::from([
            ("backend".into(), "2026.08.1".into()),
            ("frontend".into(), "2026.08.2".into()),
        ]),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
    }
}

#[test]
fn matching_versions_are_live() {
    let (server, _) = version_page(200, FRAGALYSIS);
    let outcome = fragalysis_verifier(&server)
        .verify(&release("2026.08.3"))
        .unwrap();
    assert!(outcome.live, "{}", outcome.detail);
    assert!(
        outcome.detail.contains("version.stack = xchem:2026.08.3"),
        "{}",
        outcome.detail
    );
}

#[test]
fn a_mismatch_says_what_was_seen_and_what_was_wanted() {
    let (server, _) = version_page(200, FRAGALYSIS);
    let outcome = fragalysis_verifier(&server)
        .verify(&release("2026.08.4"))
        .unwrap();
    assert!(!outcome.live);
    assert!(
        outcome
            .detail
            .contains("version.stack = xchem:2026.08.3, want xchem:2026.08.4"),
        "{}",
        outcome.detail
    );
    // The fields that do match are reported too.
    assert!(
        outcome.detail.contains("version.backend = xchem:2026.08.1"),
        "{}",
        outcome.detail
    );
}

#[test]
fn a_missing_field_is_not_live() {
    let (server, _) = version_page(200, r#"{"version": {"stack": "xchem:2026.08.3"}}"#);
    let outcome = fragalysis_verifier(&server)
        .verify(&release("2026.08.3"))
        .unwrap();
    assert!(!outcome.live);
    assert!(
        outcome
            .detail
            .contains("version.backend is missing, want xchem:2026.08.1"),
        "{}",
        outcome.detail
    );
}

#[test]
fn a_non_json_answer_is_not_live() {
    let (server, _) = version_page(200, "<html><body>Fragalysis is starting</body></html>");
    let outcome = fragalysis_verifier(&server)
        .verify(&release("2026.08.3"))
        .unwrap();
    assert!(!outcome.live);
    assert!(
        outcome.detail.contains("did not answer JSON"),
        "{}",
        outcome.detail
    );
    assert!(
        outcome.detail.contains("Fragalysis is starting"),
        "{}",
        outcome.detail
    );
}

#[test]
fn an_error_status_is_not_live_and_then_recovers() {
    let (server, answer) = version_page(503, "upstream connect error");
    let verifier = fragalysis_verifier(&server);
    let outcome = verifier.verify(&release("2026.08.3")).unwrap();
    assert!(!outcome.live);
    assert!(outcome.detail.contains("HTTP 503"), "{}", outcome.detail);

    *answer.lock().unwrap() = (200, FRAGALYSIS.to_string());
    assert!(verifier.verify(&release("2026.08.3")).unwrap().live);
}

#[test]
fn an_unreachable_url_is_an_error_naming_it() {
    // A port that was free a moment ago and has nobody listening now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/version/");
    let err = verifier(url.clone(), &[("version.stack", "xchem:{version}")])
        .verify(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&url), "{err}");
}

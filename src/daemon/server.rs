//! The daemon's one HTTP port: health and readiness for Kubernetes, Prometheus metrics, the
//! status as JSON and as a page, and the GitHub webhook, whose deliveries are verified before
//! anything in them is believed. Each handler only reads or nudges shared state, so none of
//! them blocks the runtime.

use super::metrics::{CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics};
use super::page;
use super::state::DaemonState;
use super::triggers::Triggers;
use crate::credentials::Secret;
use crate::webhook::{WebhookAction, event_label, route, verify_signature};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::{Arc, Mutex};

/// Request bodies above this are refused with 413 (webhook deliveries are small).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the handlers share.
pub struct Shared {
    pub state: Arc<Mutex<DaemonState>>,
    pub metrics: Arc<Metrics>,
    pub triggers: Arc<Triggers>,
    pub webhook_secret: Option<Secret>,
    /// The desired-state branch that pushes must name, when known.
    pub branch: Option<String>,
}

type AppState = State<Arc<Shared>>;

/// Every route; a known path asked with the wrong method answers 405 with `Allow`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz).fallback(wrong_method))
        .route("/readyz", get(readyz).fallback(wrong_method))
        .route("/metrics", get(metrics).fallback(wrong_method))
        .route("/api/status", get(status).fallback(wrong_method))
        .route("/", get(status_page).fallback(wrong_method))
        .route("/webhooks/github", post(webhook).fallback(post_only))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

/// axum adds the `Allow` header to what a route's fallback answers.
async fn wrong_method() -> Response {
    text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
}

async fn post_only() -> Response {
    text(StatusCode::METHOD_NOT_ALLOWED, "POST only\n")
}

async fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "not found\n")
}

async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n")
}

async fn readyz(State(shared): AppState) -> Response {
    let ready = shared.state.lock().map(|s| s.ready).unwrap_or(false);
    if ready {
        text(StatusCode::OK, "ready\n")
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the desired state has not been read or the backends are not up yet\n",
        )
    }
}

async fn metrics(State(shared): AppState) -> Response {
    let text = shared
        .state
        .lock()
        .map(|s| shared.metrics.render(&s))
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response()
}

async fn status(State(shared): AppState) -> Response {
    let value = shared
        .state
        .lock()
        .map(|s| serde_json::to_value(&*s).unwrap_or_default())
        .unwrap_or_default();
    json(StatusCode::OK, &value)
}

async fn status_page(State(shared): AppState) -> Response {
    let html = shared
        .state
        .lock()
        .map(|s| page::render(&s))
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn webhook(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let event = header_text(&headers, "x-github-event").unwrap_or("unknown");
    let (result, response) = delivery(&shared, event, &headers, &body);
    let verified = !matches!(result, "disabled" | "unauthorized");
    shared.metrics.webhook(event_label(event, verified), result);
    response
}

/// What a delivery comes to: its result for the metrics, and the answer.
fn delivery(
    shared: &Shared,
    event: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> (&'static str, Response) {
    let Some(secret) = &shared.webhook_secret else {
        let why = "webhooks are disabled: set STACKREL_WEBHOOK_SECRET\n";
        return ("disabled", text(StatusCode::NOT_FOUND, why));
    };
    let signature = header_text(headers, "x-hub-signature-256");
    if let Err(e) = verify_signature(secret.expose().as_bytes(), signature, body) {
        tracing::warn!(event = %event, "webhook refused: {e}");
        return (
            "unauthorized",
            text(StatusCode::UNAUTHORIZED, format!("{e}\n")),
        );
    }
    match route(event, body, shared.branch.as_deref()) {
        Ok(WebhookAction::Pong) => (
            "pong",
            json(StatusCode::OK, &serde_json::json!({ "pong": true })),
        ),
        Ok(WebhookAction::Reconcile(why)) | Ok(WebhookAction::RecheckGates(why)) => {
            tracing::info!(event = %event, "webhook: {why}");
            shared.triggers.fire(format!("webhook: {why}"));
            let accepted = serde_json::json!({ "accepted": why });
            ("accepted", json(StatusCode::ACCEPTED, &accepted))
        }
        Ok(WebhookAction::Ignore(why)) => {
            let ignored = serde_json::json!({ "ignored": why });
            ("ignored", json(StatusCode::ACCEPTED, &ignored))
        }
        Err(e) => (
            "bad_request",
            text(StatusCode::BAD_REQUEST, format!("{e}\n")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::sign;

    const SECRET: &str = "unit test secret";

    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            state: Arc::new(Mutex::new(DaemonState::new())),
            metrics: Arc::new(Metrics::new()),
            triggers: Arc::new(Triggers::default()),
            webhook_secret: Some(Secret::new(SECRET)),
            branch: Some("master".into()),
        })
    }

    /// Serves the router on a free port of 127.0.0.1 and sends one request by hand.
    async fn ask(shared: Arc<Shared>, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(shared)).await });
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nx-github-event: push\r\nx-hub-signature-256: {}\r\ncontent-length: {}\r\n\r\n",
            sign(SECRET.as_bytes(), body),
            body.len()
        );
        let mut raw = request.into_bytes();
        raw.extend_from_slice(body);
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(&raw).unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
            (status, answer.to_ascii_lowercase())
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_wrong_method_is_405_with_allow() {
        let (status, answer) = ask(shared(), "GET", "/webhooks/github", b"").await;
        assert_eq!(status, 405, "{answer}");
        assert!(answer.contains("\r\nallow: post\r\n"), "{answer}");
        let (status, answer) = ask(shared(), "POST", "/healthz", b"").await;
        assert_eq!(status, 405, "{answer}");
        assert!(answer.contains("\r\nallow: get,head\r\n"), "{answer}");
        let (status, _) = ask(shared(), "GET", "/nowhere", b"").await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413_and_counts_no_delivery() {
        let shared = shared();
        let big = vec![b'x'; MAX_BODY_BYTES + 1];
        let (status, answer) = ask(shared.clone(), "POST", "/webhooks/github", &big).await;
        assert_eq!(status, 413, "{answer}");
        let text = shared.metrics.render(&DaemonState::new());
        assert!(!text.contains("stackrel_webhooks_total{"), "{text}");
        assert!(
            shared.triggers.wait(Some(std::time::Instant::now())).await
                == super::super::triggers::Wake::Scheduled
        );
    }

    #[tokio::test]
    async fn a_signed_push_fires_a_trigger_and_is_counted() {
        let shared = shared();
        let push = br#"{"ref":"refs/heads/master"}"#;
        let (status, answer) = ask(shared.clone(), "POST", "/webhooks/github", push).await;
        assert_eq!(status, 202, "{answer}");
        let text = shared.metrics.render(&DaemonState::new());
        assert!(
            text.contains("stackrel_webhooks_total{event=\"push\",result=\"accepted\"} 1"),
            "{text}"
        );
        let woke = shared.triggers.wait(Some(std::time::Instant::now())).await;
        assert!(
            matches!(woke, super::super::triggers::Wake::Triggered(_)),
            "{woke:?}"
        );
    }
}

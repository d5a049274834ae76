//! The daemon's one HTTP port: health and readiness for Kubernetes, Prometheus metrics, the
//! status as JSON and as a page, and the GitHub webhook, whose deliveries are verified before
//! anything in them is believed. Each handler only reads or nudges shared state, so none of
//! them blocks the runtime.

use super::body::{self, BodyError, Budget, MAX_BODY_BYTES};
use super::metrics::{CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics};
use super::page;
use super::state::DaemonState;
use super::triggers::Triggers;
use crate::credentials::Secret;
use crate::webhook::{SignatureCheck, WebhookAction, event_label, route, uses_body};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use std::sync::{Arc, Mutex};

/// What the handlers share.
pub struct Shared {
    pub state: Arc<Mutex<DaemonState>>,
    pub metrics: Arc<Metrics>,
    pub triggers: Arc<Triggers>,
    pub webhook_secret: Option<Secret>,
    /// The desired-state branch that pushes must name, when known.
    pub branch: Option<String>,
    /// The memory webhook bodies may take, all together.
    pub bodies: Arc<Budget>,
}

type AppState = State<Arc<Shared>>;

/// What a port serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// Everything: health, metrics, status, the page and the webhook.
    All,
    /// Everything but the webhook, which has a port of its own.
    Private,
    /// Only the webhook (and `/healthz`, for a load balancer's check): the port that faces
    /// GitHub, and with it the internet.
    Public,
}

/// The routes of one port; a known path asked with the wrong method answers 405 with `Allow`.
pub fn router(shared: Arc<Shared>, routes: Routes) -> Router {
    let mut router = Router::new().route("/healthz", get(healthz).fallback(wrong_method));
    if routes != Routes::Public {
        router = router
            .route("/readyz", get(readyz).fallback(wrong_method))
            .route("/metrics", get(metrics).fallback(wrong_method))
            .route("/api/status", get(status).fallback(wrong_method))
            .route("/", get(status_page).fallback(wrong_method));
    }
    router = match routes {
        Routes::All | Routes::Public => {
            router.route("/webhooks/github", post(webhook).fallback(post_only))
        }
        Routes::Private => router.route("/webhooks/github", any(elsewhere)),
    };
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

async fn elsewhere() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "webhooks are served on the --listen-webhook port\n",
    )
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

async fn webhook(State(shared): AppState, headers: HeaderMap, body: Body) -> Response {
    let event = header_text(&headers, "x-github-event").unwrap_or("unknown");
    let (result, response) = delivery(&shared, event, &headers, body).await;
    let verified = matches!(result, "pong" | "accepted" | "ignored" | "bad_request");
    shared.metrics.webhook(event_label(event, verified), result);
    response
}

/// What a delivery comes to: its result for the metrics, and the answer. The signature header
/// is judged before the body is read, and the body is kept only when the event needs it.
async fn delivery(
    shared: &Shared,
    event: &str,
    headers: &HeaderMap,
    body: Body,
) -> (&'static str, Response) {
    let Some(secret) = &shared.webhook_secret else {
        let why = "webhooks are disabled: set STACKREL_WEBHOOK_SECRET\n";
        return ("disabled", text(StatusCode::NOT_FOUND, why));
    };
    let signature = header_text(headers, "x-hub-signature-256");
    let check = match SignatureCheck::new(secret.expose().as_bytes(), signature) {
        Ok(check) => check,
        Err(e) => return refused(event, &e),
    };
    let declared = header_text(headers, "content-length").and_then(|n| n.parse().ok());
    let read = match body::read(body, declared, check, uses_body(event), &shared.bodies).await {
        Ok(read) => read,
        Err(e) => return unread(&e),
    };
    if let Err(e) = read.check.verify() {
        return refused(event, &e);
    }
    match route(event, &read.bytes, shared.branch.as_deref()) {
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

fn refused(event: &str, e: &crate::webhook::WebhookError) -> (&'static str, Response) {
    // The event name is the sender's word, unverified: logged bounded.
    let event: String = event.chars().take(40).collect();
    tracing::warn!(event = %event.escape_debug(), "webhook refused: {e}");
    (
        "unauthorized",
        text(StatusCode::UNAUTHORIZED, format!("{e}\n")),
    )
}

/// A body that could not be read to its end: counted by why, its delivery never believed.
fn unread(e: &BodyError) -> (&'static str, Response) {
    let (result, status) = match e {
        BodyError::TooLarge => ("too_large", StatusCode::PAYLOAD_TOO_LARGE),
        BodyError::TooSlow => ("too_slow", StatusCode::REQUEST_TIMEOUT),
        BodyError::Busy => ("busy", StatusCode::SERVICE_UNAVAILABLE),
        BodyError::Malformed(_) => ("malformed", StatusCode::BAD_REQUEST),
    };
    let mut response = text(status, format!("{e}\n"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    (result, response)
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
            bodies: Arc::new(Budget::default()),
        })
    }

    /// Serves the router on a free port of 127.0.0.1 and sends one request by hand.
    async fn ask(shared: Arc<Shared>, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::future::pending::<()>();
        tokio::spawn(super::super::listener::serve(
            listener,
            router(shared, Routes::All),
            stop,
        ));
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
    async fn a_body_over_the_limit_is_413_and_counted_as_unverified_and_too_large() {
        let shared = shared();
        let big = vec![b'x'; MAX_BODY_BYTES + 1];
        let (status, answer) = ask(shared.clone(), "POST", "/webhooks/github", &big).await;
        assert_eq!(status, 413, "{answer}");
        let text = shared.metrics.render(&DaemonState::new());
        assert!(
            text.contains("stackrel_webhooks_total{event=\"unverified\",result=\"too_large\"} 1"),
            "{text}"
        );
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

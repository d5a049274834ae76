//! The daemon's one HTTP port: health and readiness for Kubernetes, Prometheus metrics, the
//! status as JSON and as a page, and the GitHub webhook, whose deliveries are verified before
//! anything in them is believed.

use super::page;
use super::state::{DaemonState, metrics};
use super::triggers::Triggers;
use crate::credentials::Secret;
use crate::http_server::{Reply, Request, Response};
use crate::webhook::{WebhookAction, route, verify_signature};
use std::sync::{Arc, Mutex};

pub struct Routes {
    pub state: Arc<Mutex<DaemonState>>,
    pub triggers: Arc<Triggers>,
    pub webhook_secret: Option<Secret>,
    /// The desired-state branch that pushes must name, when known.
    pub branch: Option<String>,
}

impl Routes {
    pub fn handle(&self, request: Request) -> Reply {
        Reply::Respond(match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/healthz") => Response::text(200, "ok\n"),
            ("GET", "/readyz") => {
                let ready = self.state.lock().map(|s| s.ready).unwrap_or(false);
                if ready {
                    Response::text(200, "ready\n")
                } else {
                    Response::text(
                        503,
                        "not ready: the desired state has not been read or the backends are not up yet\n",
                    )
                }
            }
            ("GET", "/metrics") => {
                let text = self.state.lock().map(|s| metrics(&s)).unwrap_or_default();
                Response::new(200, "text/plain; version=0.0.4; charset=utf-8", text)
            }
            ("GET", "/api/status") => {
                let json = self
                    .state
                    .lock()
                    .map(|s| serde_json::to_value(&*s).unwrap_or_default())
                    .unwrap_or_default();
                Response::json(200, &json)
            }
            ("GET", "/") => {
                let html = self
                    .state
                    .lock()
                    .map(|s| page::render(&s))
                    .unwrap_or_default();
                Response::new(200, "text/html; charset=utf-8", html)
            }
            ("POST", "/webhooks/github") => self.webhook(&request),
            (_, "/webhooks/github") => {
                Response::text(405, "POST only\n").with_header("allow", "POST")
            }
            _ => Response::text(404, "not found\n"),
        })
    }

    fn count_webhook(&self, event: &str, result: &'static str) {
        if let Ok(mut state) = self.state.lock() {
            *state
                .counters
                .webhooks
                .entry((event.to_string(), result))
                .or_default() += 1;
        }
    }

    fn webhook(&self, request: &Request) -> Response {
        let event = request
            .header("x-github-event")
            .unwrap_or("unknown")
            .to_string();
        let Some(secret) = &self.webhook_secret else {
            self.count_webhook(&event, "disabled");
            return Response::text(404, "webhooks are disabled: set STACKREL_WEBHOOK_SECRET\n");
        };
        if let Err(e) = verify_signature(
            secret.expose().as_bytes(),
            request.header("x-hub-signature-256"),
            &request.body,
        ) {
            tracing::warn!(event = %event, "webhook refused: {e}");
            self.count_webhook(&event, "unauthorized");
            return Response::text(401, &format!("{e}\n"));
        }
        match route(&event, &request.body, self.branch.as_deref()) {
            Ok(WebhookAction::Pong) => {
                self.count_webhook(&event, "pong");
                Response::json(200, &serde_json::json!({ "pong": true }))
            }
            Ok(WebhookAction::Reconcile(why)) | Ok(WebhookAction::RecheckGates(why)) => {
                self.count_webhook(&event, "accepted");
                tracing::info!(event = %event, "webhook: {why}");
                self.triggers.fire(format!("webhook: {why}"));
                Response::json(202, &serde_json::json!({ "accepted": why }))
            }
            Ok(WebhookAction::Ignore(why)) => {
                self.count_webhook(&event, "ignored");
                Response::json(202, &serde_json::json!({ "ignored": why }))
            }
            Err(e) => {
                self.count_webhook(&event, "bad_request");
                Response::text(400, &format!("{e}\n"))
            }
        }
    }
}

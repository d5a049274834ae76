//! GitHub webhooks: verify that a delivery came from GitHub (HMAC-SHA256 of the raw body with
//! the shared secret, compared in constant time) and decide what it asks of the daemon. Pure:
//! the server hands it headers and bytes, so every case is tested without a network.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAction {
    /// `ping`: GitHub checking the hook; answer, do nothing.
    Pong,
    /// A push to the desired-state branch: reconcile now.
    Reconcile(String),
    /// A completed workflow run: re-check waiting gates now.
    RecheckGates(String),
    /// Anything else: acknowledged and ignored.
    Ignore(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing X-Hub-Signature-256 header")]
    MissingSignature,
    #[error("the signature does not match the body")]
    BadSignature,
    #[error("the body is not JSON: {0}")]
    BadBody(String),
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against the body.
pub fn verify_signature(
    secret: &[u8],
    signature_header: Option<&str>,
    body: &[u8],
) -> Result<(), WebhookError> {
    let mut check = SignatureCheck::new(secret, signature_header)?;
    check.update(body);
    check.verify()
}

/// A signature checked as the body arrives, so a body need not be kept to be verified, and a
/// delivery without a well-formed signature is refused before its body is read at all.
pub struct SignatureCheck {
    mac: Hmac<Sha256>,
    expected: Vec<u8>,
}

impl SignatureCheck {
    pub fn new(secret: &[u8], signature_header: Option<&str>) -> Result<Self, WebhookError> {
        let header = signature_header.ok_or(WebhookError::MissingSignature)?;
        let hex = header
            .strip_prefix("sha256=")
            .ok_or(WebhookError::BadSignature)?;
        let expected = decode_hex(hex)
            .filter(|bytes| bytes.len() == 32)
            .ok_or(WebhookError::BadSignature)?;
        let mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::BadSignature)?;
        Ok(SignatureCheck { mac, expected })
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.mac.update(chunk);
    }

    pub fn verify(self) -> Result<(), WebhookError> {
        // `verify_slice` compares in constant time.
        self.mac
            .verify_slice(&self.expected)
            .map_err(|_| WebhookError::BadSignature)
    }
}

/// Whether deciding about `event` reads its payload; the others are verified as they stream
/// past and never kept.
pub fn uses_body(event: &str) -> bool {
    matches!(event, "push" | "workflow_run")
}

/// The header value GitHub would send for `body` (for tests and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The `X-GitHub-Event` names counted under their own label; any other verified event counts
/// as `other`. A fixed set, so no sender can add series to `/metrics`.
const COUNTED_EVENTS: &[&str] = &[
    "ping",
    "push",
    "workflow_run",
    "workflow_job",
    "check_run",
    "check_suite",
    "status",
    "pull_request",
    "release",
    "create",
    "delete",
    "deployment",
    "deployment_status",
];

/// The metrics label of a delivery's event: a delivery whose signature was not verified says
/// nothing trustworthy about its event, so all of them share `unverified`.
pub fn event_label(event: &str, verified: bool) -> &'static str {
    if !verified {
        return "unverified";
    }
    COUNTED_EVENTS
        .iter()
        .find(|known| **known == event)
        .copied()
        .unwrap_or("other")
}

/// Decides what a verified delivery asks for. `branch` is the desired-state branch (`None`:
/// any branch counts, e.g. when the daemon follows a detached checkout).
pub fn route(
    event: &str,
    body: &[u8],
    branch: Option<&str>,
) -> Result<WebhookAction, WebhookError> {
    if event == "ping" {
        return Ok(WebhookAction::Pong);
    }
    if !uses_body(event) {
        return Ok(WebhookAction::Ignore(format!(
            "{event} events are not used"
        )));
    }
    let payload: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::BadBody(e.to_string()))?;
    Ok(match event {
        "push" => {
            let pushed = payload["ref"].as_str().unwrap_or_default();
            let wanted = branch.map(|b| format!("refs/heads/{b}"));
            if wanted.as_deref().is_none_or(|w| w == pushed) {
                WebhookAction::Reconcile(format!("push to {pushed}"))
            } else {
                WebhookAction::Ignore(format!("push to {pushed}, not the desired-state branch"))
            }
        }
        "workflow_run" if payload["action"].as_str() == Some("completed") => {
            let name = payload["workflow_run"]["name"]
                .as_str()
                .unwrap_or("a workflow");
            WebhookAction::RecheckGates(format!("\"{name}\" completed"))
        }
        "workflow_run" => WebhookAction::Ignore("only completed workflow runs are used".into()),
        other => WebhookAction::Ignore(format!("{other} events are not used")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_own_test_vector_verifies() {
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            verify_signature(
                b"It's a Secret to Everybody",
                Some(header),
                b"Hello, World!"
            ),
            Ok(())
        );
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            header
        );
    }

    #[test]
    fn a_changed_body_or_wrong_secret_is_refused() {
        let header = sign(b"secret", b"body");
        assert_eq!(
            verify_signature(b"secret", Some(&header), b"body!"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature(b"other", Some(&header), b"body"),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn missing_or_malformed_signatures_are_refused() {
        assert_eq!(
            verify_signature(b"s", None, b""),
            Err(WebhookError::MissingSignature)
        );
        for header in ["sha1=abcd", "sha256=zz", "sha256=abc", ""] {
            assert_eq!(
                verify_signature(b"s", Some(header), b""),
                Err(WebhookError::BadSignature),
                "{header}"
            );
        }
    }

    #[test]
    fn push_to_the_desired_branch_reconciles() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        assert!(matches!(
            route("push", body, Some("main")),
            Ok(WebhookAction::Reconcile(_))
        ));
        assert!(matches!(
            route("push", body, Some("release")),
            Ok(WebhookAction::Ignore(_))
        ));
        assert!(matches!(
            route("push", body, None),
            Ok(WebhookAction::Reconcile(_))
        ));
    }

    #[test]
    fn completed_workflow_runs_recheck_gates() {
        let body = br#"{"action":"completed","workflow_run":{"name":"build main"}}"#;
        assert_eq!(
            route("workflow_run", body, None),
            Ok(WebhookAction::RecheckGates(
                "\"build main\" completed".into()
            ))
        );
        let requested = br#"{"action":"requested","workflow_run":{"name":"build main"}}"#;
        assert!(matches!(
            route("workflow_run", requested, None),
            Ok(WebhookAction::Ignore(_))
        ));
    }

    #[test]
    fn only_verified_known_events_get_a_label_of_their_own() {
        assert_eq!(event_label("push", true), "push");
        assert_eq!(event_label("workflow_run", true), "workflow_run");
        assert_eq!(event_label("made-up-1234", true), "other");
        assert_eq!(event_label("push", false), "unverified");
        assert_eq!(event_label("made-up-1234", false), "unverified");
    }

    #[test]
    fn ping_answers_and_bad_json_is_an_error() {
        assert_eq!(route("ping", b"not json", None), Ok(WebhookAction::Pong));
        assert!(matches!(
            route("push", b"not json", None),
            Err(WebhookError::BadBody(_))
        ));
    }
}

//! Verifying a release over HTTP: production says what it runs (Fragalysis' `/version/` answers
//! `{"version": {"backend": "xchem:2026.08.1", "frontend": …, "stack": "xchem:2026.08.3"}}`), and
//! `[verify] expect` names the JSON fields that must show the declared versions.
//!
//! A green CI run or a successful AWX job does not prove a deploy (the stack's workflow deploys
//! with `continue-on-error`); only production's own answer does. Verification is polled until
//! it passes or times out, so an answer that is not yet right (wrong version, an error page while
//! the service restarts, a missing field) is "not live" with a detail saying what was seen, and
//! only a failure to reach the URL at all is an error.

use super::{ReleaseContext, Verifier, VerifyError, VerifyOutcome};
use crate::config::render_template;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Bound on one check: a version endpoint answers at once or is not answering.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an unexpected body is quoted in the detail.
const MAX_QUOTED_CHARS: usize = 200;
/// A version endpoint's answer is small; anything bigger is not one.
const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// `[verify] url` + `expect`.
#[derive(Debug)]
pub struct HttpVerifier {
    agent: ureq::Agent,
    url: String,
    expect: BTreeMap<String, String>,
}

fn build_agent(request_timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        // An error page is an answer to describe, not a transport failure.
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(request_timeout))
        .user_agent(concat!("stackrel/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

impl HttpVerifier {
    /// A verifier for `[verify] url` with its `expect`ed fields.
    pub fn new(url: &str, expect: &BTreeMap<String, String>) -> Result<Self, VerifyError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(VerifyError::Setup(
                "[verify] url is required to verify over HTTP".into(),
            ));
        }
        if expect.is_empty() {
            return Err(VerifyError::Setup(
                "[verify] expect is empty: name the JSON fields that must show the versions, e.g. { \"version.stack\" = \"xchem:{version}\" }"
                    .into(),
            ));
        }
        Ok(HttpVerifier {
            agent: build_agent(DEFAULT_REQUEST_TIMEOUT),
            url: url.to_string(),
            expect: expect.clone(),
        })
    }

    /// The bound on a single check.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.agent = build_agent(timeout);
        self
    }

    fn not_live(detail: String) -> VerifyOutcome {
        VerifyOutcome {
            live: false,
            detail,
            reported: None,
        }
    }

    /// The stack version the answer reports: read through the `expect` field whose template
    /// names `{version}` (`"version.stack" = "xchem:{version}"` reads `xchem:2026.08.3` as
    /// 2026.08.3), so what is live is known even when it is not the release asked about.
    fn reported_version(&self, json: &Value) -> Option<String> {
        self.expect.iter().find_map(|(path, template)| {
            let (prefix, suffix) = template.split_once("{version}")?;
            if prefix.contains('{') || suffix.contains('{') {
                // Other placeholders around it: the version cannot be cut out with certainty.
                return None;
            }
            let text = as_text(lookup(json, path)?);
            let version = text.strip_prefix(prefix)?.strip_suffix(suffix)?;
            (!version.is_empty()).then(|| version.to_string())
        })
    }
}

impl Verifier for HttpVerifier {
    fn verify(&self, release: &ReleaseContext) -> Result<VerifyOutcome, VerifyError> {
        let url = &self.url;
        let mut response = self
            .agent
            .get(url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| VerifyError::Unreachable {
                url: url.clone(),
                source: Box::new(e),
            })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .lossy_utf8(true)
            .read_to_string()
            .map_err(|e| VerifyError::Read {
                url: url.clone(),
                source: Box::new(e),
            })?;
        if !(200..300).contains(&status) {
            return Ok(Self::not_live(format!(
                "{url} answered HTTP {status}: {}",
                quote(&body)
            )));
        }
        let Ok(json) = serde_json::from_str::<Value>(&body) else {
            return Ok(Self::not_live(format!(
                "{url} did not answer JSON (HTTP {status}): {}",
                quote(&body)
            )));
        };
        let mut live = true;
        let mut seen = Vec::with_capacity(self.expect.len());
        for (path, template) in &self.expect {
            let want = render_template(template, &release.version, &release.components);
            match lookup(&json, path) {
                None => {
                    live = false;
                    seen.push(format!("{path} is missing, want {want}"));
                }
                Some(value) => {
                    let got = as_text(value);
                    if got == want {
                        seen.push(format!("{path} = {got}, as wanted"));
                    } else {
                        live = false;
                        seen.push(format!("{path} = {got}, want {want}"));
                    }
                }
            }
        }
        Ok(VerifyOutcome {
            live,
            detail: format!("{url}: {}", seen.join("; ")),
            reported: self.reported_version(&json),
        })
    }
}

/// Follows a dotted path (`version.stack`); a segment that is a number indexes an array.
fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |node, segment| match node {
        Value::Object(fields) => fields.get(segment),
        Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
        _ => None,
    })
}

/// A field's value as the text compared with the template: strings as they are, anything else
/// as compact JSON (so a number compares as `3`, a null as `null`).
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quote(body: &str) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        "(empty body)".into()
    } else if one_line.chars().count() > MAX_QUOTED_CHARS {
        format!(
            "{}…",
            one_line.chars().take(MAX_QUOTED_CHARS).collect::<String>()
        )
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths_reach_nested_fields_and_array_items() {
        let json = json!({"version": {"stack": "xchem:1", "list": [{"a": 3}]}});
        assert_eq!(lookup(&json, "version.stack"), Some(&json!("xchem:1")));
        assert_eq!(lookup(&json, "version.list.0.a"), Some(&json!(3)));
        assert_eq!(lookup(&json, "version.backend"), None);
        assert_eq!(lookup(&json, "version.stack.deeper"), None);
    }

    #[test]
    fn non_strings_compare_as_json_text() {
        assert_eq!(as_text(&json!(3)), "3");
        assert_eq!(as_text(&Value::Null), "null");
        assert_eq!(as_text(&json!("x")), "x");
    }

    fn fragalysis_verifier() -> HttpVerifier {
        let expect = BTreeMap::from([
            ("version.stack".to_string(), "xchem:{version}".to_string()),
            ("version.backend".to_string(), "xchem:{backend}".to_string()),
        ]);
        HttpVerifier::new("http://127.0.0.1:1/version/", &expect).unwrap()
    }

    #[test]
    fn the_reported_stack_version_is_read_through_its_template() {
        let json = json!({"version": {"stack": "xchem:2026.08.3", "backend": "xchem:2026.08.1"}});
        assert_eq!(
            fragalysis_verifier().reported_version(&json),
            Some("2026.08.3".to_string())
        );
    }

    #[test]
    fn a_value_outside_the_template_reports_nothing() {
        let json = json!({"version": {"stack": "latest"}});
        assert_eq!(fragalysis_verifier().reported_version(&json), None);
        assert_eq!(fragalysis_verifier().reported_version(&json!({})), None);
    }
}

//! GitHub's own description of its REST API, as the judge of the GitHub emulator: every answer
//! the emulator gives is checked against the response schema that GitHub's OpenAPI
//! description (`@octokit/openapi`, a pinned extract in `testkit/openapi/`) documents for that
//! operation and status, so a test cannot pass because the emulator answers more kindly, or in
//! another shape, than GitHub does.
//!
//! An answer is judged when its operation is in the extract: a 2xx status the operation does
//! not document is wrong, and a documented status's body must match its schema. Errors GitHub
//! sends from every endpoint (401, rate limits, injected 5xx) and redirects are not per
//! operation, so an undocumented non-2xx status is not judged.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

const EXTRACT: &str = include_str!("../openapi/github-operations.json");

struct Description {
    doc: Value,
    /// (method, template segments, "METHOD /template")
    operations: Vec<(String, Vec<String>, String)>,
    validators: Mutex<HashMap<(String, String), std::sync::Arc<jsonschema::Validator>>>,
}

fn description() -> &'static Description {
    static DESCRIPTION: OnceLock<Description> = OnceLock::new();
    DESCRIPTION.get_or_init(|| {
        let doc: Value = serde_json::from_str(EXTRACT).expect("the OpenAPI extract is JSON");
        let operations = doc["operations"]
            .as_object()
            .expect("operations")
            .keys()
            .filter_map(|key| {
                let (method, template) = key.split_once(' ')?;
                let segments = template
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_string)
                    .collect();
                Some((method.to_string(), segments, key.clone()))
            })
            .collect();
        Description {
            doc,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// The operation (`"GET /repos/{owner}/{repo}"`) a request is for. A template's last
/// parameter, when it may hold slashes, takes the rest of the path (`contents/{path}`, `git/ref/{ref}`); the template
/// with the most literal segments wins (`releases/tags/{tag}` over `releases/{release_id}`).
pub fn operation(method: &str, path: &str) -> Option<String> {
    let mut segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // A renamed repository's redirect target stands for `/repos/{owner}/{repo}`.
    if segments.first() == Some(&"repositories") && segments.len() >= 2 {
        segments.splice(0..2, ["repos", "_", "_"]);
    }
    description()
        .operations
        .iter()
        .filter(|(m, _, _)| m.eq_ignore_ascii_case(method))
        .filter(|(_, template, _)| matches(template, &segments))
        .map(|(_, template, key)| {
            let literals = template.iter().filter(|s| !s.starts_with('{')).count();
            (literals, key)
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, key)| key.clone())
}

/// The parameters that may hold slashes: file paths, refs, `base...head`.
const GREEDY: [&str; 3] = ["{path}", "{ref}", "{basehead}"];

fn matches(template: &[String], segments: &[&str]) -> bool {
    let greedy = template
        .last()
        .is_some_and(|s| GREEDY.contains(&s.as_str()));
    if segments.len() < template.len() || (!greedy && segments.len() != template.len()) {
        return false;
    }
    template
        .iter()
        .zip(segments)
        .all(|(t, s)| t.starts_with('{') || t == s)
        && segments[..template.len()].iter().all(|s| !s.is_empty())
}

/// What is wrong with an answer by GitHub's description, if anything (`None` when the
/// operation is not in the extract, or the status is not judged).
pub fn check(method: &str, path: &str, status: u16, body: &[u8]) -> Option<String> {
    if (300..400).contains(&status) {
        return None;
    }
    let key = operation(method, path)?;
    let d = description();
    let responses = &d.doc["operations"][&key]["responses"];
    let documented = responses.get(status.to_string());
    let schema = match documented {
        None if (200..300).contains(&status) => {
            return Some(format!("{key}: GitHub does not answer {status}"));
        }
        None | Some(Value::Null) => return None,
        Some(schema) => schema,
    };
    let instance: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return Some(format!("{key} {status}: the body is not JSON ({e})")),
    };
    let validator = validator(d, &key, status, schema);
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .map(|e| e.chars().take(300).collect())
        .collect();
    (!errors.is_empty()).then(|| format!("{key} {status}: {}", errors.join("; ")))
}

fn validator(
    d: &Description,
    key: &str,
    status: u16,
    schema: &Value,
) -> std::sync::Arc<jsonschema::Validator> {
    let id = (key.to_string(), status.to_string());
    let mut cache = d
        .validators
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(id)
        .or_insert_with(|| {
            let root = serde_json::json!({
                "allOf": [schema],
                "components": d.doc["components"],
            });
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(false)
                .build(&root)
                .unwrap_or_else(|e| panic!("the schema of {key} {status} compiles: {e}"));
            std::sync::Arc::new(validator)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_operation() {
        let op = |m, p| operation(m, p).unwrap_or_default();
        assert_eq!(op("GET", "/repos/o/r"), "GET /repos/{owner}/{repo}");
        assert_eq!(
            op("GET", "/repos/o/r/releases/tags/2026.08.3"),
            "GET /repos/{owner}/{repo}/releases/tags/{tag}"
        );
        assert_eq!(
            op("GET", "/repos/o/r/contents/.github/workflows/a.yaml"),
            "GET /repos/{owner}/{repo}/contents/{path}"
        );
        assert_eq!(
            op("PATCH", "/repos/o/r/issues/comments/12"),
            "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
        );
        assert_eq!(
            op("GET", "/repositories/7/git/matching-refs/tags"),
            "GET /repos/{owner}/{repo}/git/matching-refs/{ref}"
        );
        assert_eq!(operation("GET", "/nowhere"), None);
    }

    #[test]
    fn a_body_missing_required_fields_is_named() {
        let wrong = check("GET", "/repos/o/r/issues/comments/1", 200, br#"{"id": 1}"#);
        assert!(wrong.is_some_and(|w| w.contains("required")));
        let undocumented = check("POST", "/repos/o/r/releases", 200, b"{}");
        assert!(undocumented.is_some_and(|w| w.contains("does not answer 200")));
    }
}

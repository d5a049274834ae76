//! What the GitHub forge reads from GitHub's REST answers: only the fields it uses, each as
//! lenient as GitHub is loose. octocrab has models for most of these, but some break on real
//! answers (a workflow run's `name` and `head_branch` can be null; its job enums are strict and
//! lack newer conclusions), and the forge reads raw bodies anyway to keep its own ETag cache.
//! So these are small structs of our own, with `Option` wherever GitHub may leave a field out
//! or null.

use crate::registry::ImageDigest;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;

/// `GET /repos/{o}/{r}`: its canonical name (after a rename or transfer), and what the
/// credentials may do there.
#[derive(Debug, Deserialize)]
pub struct Repository {
    pub full_name: Option<String>,
    pub permissions: Option<Permissions>,
}

/// `GET /app/installations/{id}`: what the App's installation may do.
#[derive(Debug, Deserialize)]
pub struct Installation {
    #[serde(default)]
    pub permissions: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct Permissions {
    pub push: Option<bool>,
}

/// A ref, from `git/ref/…` or `git/matching-refs/…`.
#[derive(Debug, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub object: GitObject,
}

/// What a ref or an annotated tag points at.
#[derive(Debug, Clone, Deserialize)]
pub struct GitObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
}

/// `GET /repos/{o}/{r}/git/tags/{sha}`: an annotated tag object.
#[derive(Debug, Deserialize)]
pub struct TagObject {
    pub object: GitObject,
}

/// `GET /repos/{o}/{r}/compare/{base}...{head}`.
#[derive(Debug, Deserialize)]
pub struct Comparison {
    /// `identical`, `ahead`, `behind` or `diverged`.
    pub status: Option<String>,
    /// All the commits `head` has and `base` lacks, however many `commits` lists.
    #[serde(default)]
    pub total_commits: u64,
    /// The first of them (a page), oldest first.
    #[serde(default)]
    pub commits: Vec<ComparedCommit>,
}

#[derive(Debug, Deserialize)]
pub struct ComparedCommit {
    pub sha: String,
    pub commit: CommitDetail,
}

#[derive(Debug, Deserialize)]
pub struct CommitDetail {
    #[serde(default)]
    pub message: String,
}

/// An item of a directory listing, `GET /repos/{o}/{r}/contents/{dir}?ref=`.
#[derive(Debug, Deserialize)]
pub struct ContentEntry {
    pub path: String,
    /// `file`, `dir`, `symlink` or `submodule`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET /repos/{o}/{r}/releases/tags/{tag}`: only what tells who cut it.
#[derive(Debug, Deserialize)]
pub struct Release {
    pub body: Option<String>,
}

/// `GET /repos/{o}/{r}/actions/runs`.
#[derive(Debug, Deserialize)]
pub struct WorkflowRuns {
    #[serde(default)]
    pub workflow_runs: Vec<WorkflowRun>,
}

#[derive(Debug, Deserialize)]
pub struct WorkflowRun {
    #[serde(default)]
    pub id: u64,
    /// Null for some runs (dispatch-triggered ones).
    pub name: Option<String>,
    pub status: Option<String>,
    /// Null until the run completes.
    pub conclusion: Option<String>,
}

/// `GET /repos/{o}/{r}/contents/{path}?ref=`: a file's base64 content and blob id.
#[derive(Debug, Deserialize)]
pub struct Content {
    /// Absent for files over 1 MB.
    pub content: Option<String>,
    pub sha: String,
}

/// `PUT /repos/{o}/{r}/contents/{path}`: the commit made, and the file's new blob.
#[derive(Debug, Deserialize)]
pub struct FileUpdate {
    pub commit: Option<Sha>,
    pub content: Option<Sha>,
}

#[derive(Debug, Deserialize)]
pub struct Sha {
    pub sha: Option<String>,
}

/// `GET …/actions/secrets` and `…/actions/variables`: only the names.
#[derive(Debug, Deserialize)]
pub struct Secrets {
    #[serde(default)]
    pub secrets: Vec<Named>,
    #[serde(default)]
    pub variables: Vec<Named>,
}

#[derive(Debug, Deserialize)]
pub struct Named {
    pub name: String,
}

/// An issue comment.
#[derive(Debug, Deserialize)]
pub struct Comment {
    pub id: u64,
    pub body: Option<String>,
}

/// Anything created that answers with its id (a comment, a deployment).
#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: u64,
}

/// An item of `GET /repos/{o}/{r}/deployments`.
#[derive(Debug, Clone, Deserialize)]
pub struct Deployment {
    #[serde(default)]
    pub id: u64,
    pub sha: Option<String>,
    #[serde(default)]
    pub payload: DeploymentPayload,
    pub created_at: Option<String>,
}

impl Deployment {
    /// The version in stackrel's payload, when stackrel made this deployment.
    pub fn version(&self) -> Option<&str> {
        match &self.payload {
            DeploymentPayload::Stackrel { version, .. } => Some(version),
            DeploymentPayload::Other(_) => None,
        }
    }

    /// The image digests stackrel recorded with it (none on older deployments).
    pub fn images(&self) -> BTreeMap<String, ImageDigest> {
        match &self.payload {
            DeploymentPayload::Stackrel { images, .. } => images.clone(),
            DeploymentPayload::Other(_) => BTreeMap::new(),
        }
    }
}

/// A deployment's payload: an object or a string, whatever its creator sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DeploymentPayload {
    Stackrel {
        version: String,
        #[serde(default)]
        images: BTreeMap<String, ImageDigest>,
    },
    Other(IgnoredAny),
}

impl Default for DeploymentPayload {
    fn default() -> Self {
        DeploymentPayload::Other(IgnoredAny)
    }
}

/// A deployment status, as listed or as answered to the one stackrel posts.
#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentStatus {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub state: String,
    pub description: Option<String>,
    pub created_at: Option<String>,
}

/// GitHub's error body: `message`, and for validation failures a list of `errors`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub message: Option<String>,
    pub errors: Option<Vec<ErrorEntry>>,
}

/// One of `errors`: mostly `{resource, field, code}`, sometimes `{message}` or a bare string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ErrorEntry {
    Fields {
        code: Option<String>,
        message: Option<String>,
    },
    Other(IgnoredAny),
}

impl ErrorEntry {
    /// The code, else the message: what names the failure shortest.
    pub fn summary(&self) -> &str {
        match self {
            ErrorEntry::Fields { code, message } => {
                code.as_deref().or(message.as_deref()).unwrap_or("?")
            }
            ErrorEntry::Other(_) => "?",
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            ErrorEntry::Fields { code, .. } => code.as_deref(),
            ErrorEntry::Other(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_without_a_name_still_reads() {
        let runs: WorkflowRuns = serde_json::from_str(
            r#"{"total_count": 2, "workflow_runs": [
                {"id": 7, "name": null, "head_branch": null, "status": "completed", "conclusion": "startup_failure"},
                {"id": 8, "name": "build main", "status": "in_progress", "conclusion": null}
            ]}"#,
        )
        .unwrap();
        assert_eq!(runs.workflow_runs[0].name, None);
        assert_eq!(
            runs.workflow_runs[0].conclusion.as_deref(),
            Some("startup_failure")
        );
        assert_eq!(runs.workflow_runs[1].name.as_deref(), Some("build main"));
    }

    #[test]
    fn deployments_of_others_with_string_payloads_read_without_a_version() {
        let listed: Vec<Deployment> = serde_json::from_str(
            r#"[{"id": 1, "ref": "2026.08.3", "sha": "abc", "payload": {"version": "2026.08.3", "commit": "abc"}},
                {"id": 2, "ref": "main", "sha": "def", "payload": ""},
                {"id": 3, "ref": "main", "sha": "def", "payload": {"other": 1}}]"#,
        )
        .unwrap();
        let versions: Vec<Option<&str>> = listed.iter().map(Deployment::version).collect();
        assert_eq!(versions, [Some("2026.08.3"), None, None]);
    }

    #[test]
    fn error_entries_of_any_shape_are_summarised() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"message": "Validation Failed", "errors": [
                {"resource": "Release", "code": "already_exists", "field": "tag_name"},
                {"message": "custom"}, "bare text"]}"#,
        )
        .unwrap();
        let summaries: Vec<&str> = body
            .errors
            .iter()
            .flatten()
            .map(ErrorEntry::summary)
            .collect();
        assert_eq!(summaries, ["already_exists", "custom", "?"]);
    }
}

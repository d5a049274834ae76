//! Deployers put a cut release into production; verifiers confirm what production runs. Both are
//! small traits so the loop does not care whether it is AWX, a local command or an HTTP check.

pub mod awx;
pub mod command;
pub mod http_verify;

pub use command::CommandError;
use std::collections::BTreeMap;

/// Why a deploy, or a look at the deployer's own record, could not be done. A deploy that ran
/// and failed is not an error: it is a `DeployOutcome` that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The configuration or credentials cannot work; nothing was attempted.
    #[error("{0}")]
    Setup(String),
    /// A request got no answer: refused, timed out, or cut off.
    #[error("{what}: {source}")]
    Http {
        what: String,
        #[source]
        source: Box<ureq::Error>,
    },
    /// An answer that is not what the API documents.
    #[error("{what}")]
    Decode {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// The deployer answered and said no, or the deploy cannot be brought to an end from
    /// here; the message says what to do about it.
    #[error("{0}")]
    Refused(String),
    /// A launch was sent and its answer lost: it may have started a job or not. Nothing is sent
    /// again until the deployer's own record (`observe`) has been looked at once more.
    #[error("{0}")]
    Unclear(String),
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// Why a verification could not be done at all (a production that answers, but not with the
/// release, is a `VerifyOutcome` that is not live).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The configuration cannot work; nothing was attempted.
    #[error("{0}")]
    Setup(String),
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("reading the answer of {url}: {source}")]
    Read {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// What a deployer or verifier needs to know about the release.
#[derive(Debug, Clone)]
pub struct ReleaseContext {
    pub version: String,
    pub components: BTreeMap<String, String>,
    pub commit: String,
}

/// The end of a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOutcome {
    pub succeeded: bool,
    /// The tail of the deploy's output, for the record and for errors.
    pub detail: String,
}

/// What a deployer that keeps its own history (AWX) knows about a version. This is what settles
/// an unclear outcome: a launch whose answer was lost either shows up here or did not happen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum DeployerView {
    NotLaunched,
    Running(String),
    Succeeded(String),
    Failed(String),
}

pub trait Deployer {
    /// Runs one deploy to its end. Callers record the attempt before calling, so this is never
    /// called twice for one release unless a person asks for a retry (or the deployer's own
    /// view shows no launch happened).
    fn deploy(&self, release: &ReleaseContext) -> Result<DeployOutcome, DeployError>;

    /// The deployer's own record of this version, if it keeps one; `None` when it cannot tell
    /// (a local command leaves no trace to ask).
    fn observe(&self, _release: &ReleaseContext) -> Result<Option<DeployerView>, DeployError> {
        Ok(None)
    }

    /// The newest version the deployer's history shows deployed successfully, and where it
    /// says so (`AWX job 4711`); `None` when it keeps no history or shows no success.
    fn last_deployed(&self) -> Result<Option<Deployed>, DeployError> {
        Ok(None)
    }
}

/// A successful deploy in the deployer's own history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deployed {
    /// The stack version, as the deploy's variable named it.
    pub version: String,
    /// Where the history says so, for people: `AWX job 4711`.
    pub source: String,
}

/// What a verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// Whether production runs the release asked about.
    pub live: bool,
    pub detail: String,
    /// The stack version production reports, when the verifier can read it off (an endpoint
    /// such as Fragalysis' `/version/`); `None` when it can only answer yes or no.
    pub reported: Option<String>,
}

pub trait Verifier {
    /// Checks once whether the release is live. Read-only, so it may be called freely.
    fn verify(&self, release: &ReleaseContext) -> Result<VerifyOutcome, VerifyError>;
}

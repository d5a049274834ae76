//! `stackrel.toml` as written: the document's shape. These types are the single source of truth
//! for that shape: serde reads them, schemars turns them into the JSON Schema that editors use,
//! and the validator checks documents against that same schema, so the three cannot drift apart.
//! Nothing downstream of validation reads them; it takes the resolved `Config` instead.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The desired-state repository's configuration, `stackrel.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "stackrel.toml")]
pub struct ConfigFile {
    /// The stack repository: where the version pins live and where releases are cut.
    pub stack: StackConfig,
    /// The component images a release pins, by name. Each name becomes a key of every release
    /// file and a `{name}` placeholder in templates.
    pub components: BTreeMap<String, ComponentConfig>,
    /// How a cut release reaches production.
    #[serde(default)]
    pub deploy: DeployConfig,
    /// How stackrel confirms what is live after a deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyConfig>,
    /// GitHub connection settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubConfig>,
    /// How release tickets are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketConfig>,
    /// The long-running service's schedule and switches.
    #[serde(default)]
    pub daemon: DaemonConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackConfig {
    /// `owner/name` on GitHub, or a local git repository path starting with `./`, `../`, `/` or
    /// `file://` (relative to the desired-state repository).
    pub repo: String,
    /// The branch the pins are committed to and releases are cut from, e.g. `master`.
    pub branch: String,
    /// Path of the workflow file whose top-level `env:` holds the pins.
    pub workflow: String,
    /// Message of the pin commit. Placeholders: `{version}` and each component name.
    pub commit_message: String,
    /// Name of the workflow whose run on the release tag must succeed before deploying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<String>,
    /// How long the `ci` run on the release tag may be missing or unfinished before the release
    /// is blocked instead of waited on, e.g. "45m" or "1h 30m" (default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_timeout: Option<String>,
    /// A regular expression for the stack tags that are production releases; a new release must
    /// be newer than every one of them. Default `^[0-9]+\.[0-9]+\.[0-9]+$`, the tags the
    /// Fragalysis stack workflow deploys to production.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_tags: Option<String>,
    /// The image the stack's build pushes, tagged with the stack version, e.g.
    /// "docker.io/xchem/fragalysis-stack": once the stack build succeeds it must be in its
    /// registry, and its digest is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// `owner/name` on GitHub, or a local git repository path.
    pub repo: String,
    /// A release's tag for this component must be reachable from this branch, e.g. `production`.
    pub branch: String,
    /// The key under the stack workflow's top-level `env:` that pins this component's version.
    pub pin: String,
    /// Name of the workflow whose run on the tag's commit must have succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<String>,
    /// How long the `ci` run on the tag may be missing or unfinished before the release is
    /// blocked instead of waited on, e.g. "30m" (default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_timeout: Option<String>,
    /// A regular expression a version must match in full, replacing the default rule
    /// (`YYYY.MM.N` with an optional numeric hotfix suffix `-K`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_pattern: Option<String>,
    /// The image this component's tags name, e.g. "docker.io/xchem/fragalysis-backend" (no tag:
    /// each release gives it). Preflight checks that `IMAGE:TAG` is in its registry, and its
    /// digest is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The GitHub repository (`owner/name`) whose issues a bare `#N` in this component's commits
    /// and pull requests means, e.g. "m2ms/fragalysis-frontend"; `stackrel release` writes them
    /// out in full in the notes. Default: the component's own repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tickets: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeployKind {
    /// Launch an AWX (Ansible Automation Platform) job template.
    Awx,
    /// Run a local command.
    Command,
    /// Do not deploy: the release is done once it is cut (and verified, if configured).
    #[default]
    None,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// `awx`, `command` or `none`.
    #[serde(default)]
    pub kind: DeployKind,
    /// AWX: the controller, e.g. `https://awx.example.org`: its API is found from `/api/`
    /// (behind the AAP gateway, `/api/controller/`). A URL that ends in the API's path
    /// (`https://aap.example.org/api/controller/v2`) names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// AWX: API path under `url` (`/api/v2`, `/api/controller/v2` behind the AAP gateway);
    /// found from `/api/` when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_prefix: Option<String>,
    /// AWX: name of the job template to launch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// AWX: organization that owns the template (template names are unique per organization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// AWX: the extra variable that carries the stack version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// AWX: who launches the job template. `stackrel` (the default) launches it; `ci` means the
    /// stack's own workflow launches it for the release tag, and stackrel only follows that job
    /// to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched_by: Option<LaunchedBy>,
    /// command: argv (no shell), with `{version}` and component placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// How long a deploy may run before it counts as failed, in seconds (default 1800).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LaunchedBy {
    /// stackrel launches the job template.
    #[default]
    Stackrel,
    /// The stack's CI launches it; stackrel follows the job.
    Ci,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    /// URL that reports the live versions as JSON, e.g. Fragalysis' `/version/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Dotted JSON paths and the value each must show, with placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expect: BTreeMap<String, String>,
    /// Or: argv of a command that exits 0 when the declared versions are live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// How long to keep checking before the release counts as not live, in seconds (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// REST API root: `https://api.github.com`, or GitHub Enterprise's `https://HOST/api/v3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketConfig {
    /// `owner/name` of the GitHub repository where `Release <version>` tickets live, e.g.
    /// "m2ms/fragalysis-frontend". A release file that names no `ticket` reports on the open
    /// issue titled exactly `Release <version>` there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Create the `Release <version>` issue in `repo` when none is open (default false: only
    /// adopt one a person wrote).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create: bool,
    /// GitHub logins the release ticket is assigned to: the people who deal with releases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignees: Vec<String>,
    /// Label added to a release's ticket once the release is cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The project board (GitHub Projects) the ticket is added to, and the column it is put in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectBoardConfig>,
}

/// A GitHub project (Projects, the new boards) and the single-select field whose option is the
/// board column, e.g. `{ owner = "m2ms", number = 2, field = "Status", column = "push to
/// production" }` for github.com/orgs/m2ms/projects/2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBoardConfig {
    /// The organisation or user that owns the project.
    pub owner: String,
    /// The project's number, as in its URL (github.com/orgs/OWNER/projects/NUMBER).
    pub number: u64,
    /// The single-select field whose options are the board's columns (default "Status").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The option of `field` the ticket is put in, e.g. "push to production".
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Cron schedule (six fields, `sec min hour day month weekday`) for drift re-checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync: Option<String>,
    /// Cron expressions for when a release may change anything (pin, tag, deploy); empty means
    /// any time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<String>,
    /// The IANA time zone `windows` and `resync` are read in, e.g. "Europe/London" (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Stops every side effect while true; committed, so it is audited like everything else.
    #[serde(default)]
    pub suspended: bool,
}

//! Deploying by launching an AWX (Ansible Tower / AAP controller) job template over its REST API
//! v2, with the stack version as an extra variable.
//!
//! AWX has three traps this module exists to avoid:
//! - A launch with a variable the template does not prompt for still answers 201 and runs the
//!   job *without* it, listing the variable in `ignored_fields`. So the template is checked
//!   before launching (the launch preflight) and a non-empty `ignored_fields` counts as a failed
//!   launch whose job is canceled at once.
//! - AWX never de-duplicates launches, and refuses (403) to filter jobs on `extra_vars`. So the
//!   template's recent jobs are listed and their `extra_vars` (a JSON *string*) parsed here: a job
//!   for this version that is running is followed, one that succeeded means there is nothing to do.
//! - A launch whose answer is lost may still have created the job. So an unclear outcome is
//!   settled by looking for the job, and only when there is none is the launch sent again (once).
//!   GETs are retried on transport errors and 5xx; POSTs never are.
//!
//! - A job's output is served by renderers chosen with `?format=`; the `Accept` header must
//!   admit the chosen one (`text/plain` for `txt`) or AWX answers 406, and output over its
//!   display limit comes back as a "too large" message, so the tail is then read from the
//!   download instead.
//!
//! What a process has learnt and need not ask again — where the API is (`GET /api/` names it,
//! and behind the AAP 2.5+ gateway it is `/api/controller/v2/`) and the template's id — is kept
//! for the deployer's life; a template that answers 404 is looked up again.
//!
//! The bearer token never appears in errors, details or `Debug` output.

mod output;

use super::{DeployError, DeployOutcome, Deployed, Deployer, DeployerView, ReleaseContext};
use crate::config::{AwxApi, AwxDeploy, DISCOVERY_ROOTS};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often a running job is polled: AWX jobs take minutes, there is no hurry.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Bound on one request (connect, send, answer): AWX answers API calls in well under this.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries per GET (the first plus retries), backing off from `retry_backoff`, doubling each time.
const GET_ATTEMPTS: u32 = 3;
const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// Jobs asked for per page: AWX's `MAX_PAGE_SIZE` (`awx/settings/defaults.py`); a larger
/// `page_size` is cut to it.
const JOBS_PAGE_SIZE: &str = "200";
/// How many of the template's newest jobs are searched for one of this version, following
/// `next`. A deploy older than the last 1000 jobs of its template is history, not something
/// to follow.
const MAX_JOBS_SCANNED: usize = 1000;
/// The most of one JSON answer that is read (a page of 200 jobs is well under a MiB); a job's
/// output is tailed from a stream, not read whole.
const MAX_ANSWER_BYTES: u64 = 8 * 1024 * 1024;
/// Looks at the template's jobs, a poll interval apart, for the job of a launch whose answer
/// was lost: a controller behind a gateway that gave up may still be creating it.
const UNCLEAR_LOOKS: u32 = 3;
/// Pages of jobs read for one question: the bound when AWX's page size is set low, or when a
/// broken AWX or proxy links page after page without end.
const MAX_JOB_PAGES: usize = 50;
/// Pages of templates read for one name (a name is unique per organization).
const MAX_TEMPLATE_PAGES: usize = 10;
/// Enough of a failed job's output to see the failing task and the play recap.
const STDOUT_TAIL_LINES: usize = 20;
/// The end of a job's `result_traceback` that goes into the report.
const TRACEBACK_TAIL_LINES: usize = 10;
/// `format=txt` admits only a text renderer: this Accept header must admit it (else 406).
const ACCEPT_TEXT: &str = "text/plain";
const ACCEPT_JSON: &str = "application/json";
/// Bodies of error answers are cut to this in messages: enough for AWX's JSON, not a whole page.
const MAX_ERROR_BODY_CHARS: usize = 300;

/// `UnifiedJob.ACTIVE_STATES` in AWX: a job that may still run (and may be canceled).
const ACTIVE_STATUSES: &[&str] = &["new", "pending", "waiting", "running"];
/// A job in one of these states has ended for good.
const TERMINAL_STATUSES: &[&str] = &["successful", "failed", "error", "canceled"];

/// AWX's list views: `{"count": …, "next": …, "previous": …, "results": [...]}`; `next` is a
/// path (`/api/v2/…?page=2`) or null.
#[derive(Debug, Deserialize)]
struct Listing<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
    next: Option<String>,
}

/// `GET /api/`: the versions root, naming the current API root.
#[derive(Debug, Deserialize)]
struct VersionsRoot {
    current_version: Option<String>,
}

/// `GET /api/v2/`: the API root, listing its resources; the controller's lists job templates.
#[derive(Debug, Deserialize)]
struct ApiRoot {
    job_templates: Option<String>,
}

/// A job template in `GET /job_templates/`.
#[derive(Debug, Deserialize)]
struct TemplateItem {
    id: Option<u64>,
    name: Option<String>,
    #[serde(default)]
    summary_fields: TemplateSummary,
}

#[derive(Debug, Default, Deserialize)]
struct TemplateSummary {
    organization: Option<Named>,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: Option<String>,
}

/// `GET /job_templates/{id}/launch/`: whether a launch may set variables.
#[derive(Debug, Deserialize)]
struct LaunchSettings {
    ask_variables_on_launch: Option<bool>,
    survey_enabled: Option<bool>,
}

/// `GET /job_templates/{id}/survey_spec/`.
#[derive(Debug, Deserialize)]
struct Survey {
    spec: Option<Vec<Question>>,
}

#[derive(Debug, Deserialize)]
struct Question {
    variable: Option<String>,
}

/// The answer to a launch: the job's id (`job`, or `id` in the full job serializer) and what
/// AWX ignored.
#[derive(Debug, Deserialize)]
struct Launched {
    job: Option<u64>,
    id: Option<u64>,
    ignored_fields: Option<Value>,
}

/// A job in a list or detail view. Everything is optional: an entry without an id or status
/// is not taken for a job.
#[derive(Debug, Deserialize)]
struct JobPayload {
    id: Option<u64>,
    status: Option<String>,
    /// A JSON string in AWX's job views (an object is accepted too).
    #[serde(default)]
    extra_vars: Value,
    created: Option<String>,
    job_explanation: Option<String>,
    started: Option<String>,
    finished: Option<String>,
    elapsed: Option<f64>,
    result_traceback: Option<String>,
}

/// AWX's error bodies: `{"detail": "..."}`, or field → messages (400s), or anything else.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorBody {
    Detail { detail: String },
    Fields(BTreeMap<String, Value>),
    Other(Value),
}

/// One AWX job of the template, as seen from its list or detail view.
#[derive(Debug, Clone, PartialEq)]
pub struct AwxJob {
    pub id: u64,
    /// `new|pending|waiting|running|successful|failed|error|canceled`.
    pub status: String,
    /// The value of the version variable in the job's `extra_vars`, when it has one.
    pub version: Option<String>,
    pub created: String,
    pub job_explanation: String,
    /// When it started and finished running (ISO 8601), when it has.
    pub started: Option<String>,
    pub finished: Option<String>,
    /// Seconds it ran.
    pub elapsed: Option<f64>,
    /// The controller's own traceback for a job that ended `error`.
    pub result_traceback: String,
}

impl AwxJob {
    pub fn is_active(&self) -> bool {
        ACTIVE_STATUSES.contains(&self.status.as_str())
    }

    pub fn is_terminal(&self) -> bool {
        TERMINAL_STATUSES.contains(&self.status.as_str())
    }

    pub fn succeeded(&self) -> bool {
        self.status == "successful"
    }

    /// Reads a job from AWX's JSON; `None` when it has no id or status (not a job).
    fn from_json(value: Value, variable: &str) -> Option<AwxJob> {
        let job: JobPayload = serde_json::from_value(value).ok()?;
        Some(AwxJob {
            id: job.id?,
            status: job.status?,
            version: variable_in(&job.extra_vars, variable),
            created: job.created.unwrap_or_default(),
            job_explanation: job.job_explanation.unwrap_or_default(),
            started: job.started.filter(|s| !s.is_empty()),
            finished: job.finished.filter(|s| !s.is_empty()),
            elapsed: job.elapsed,
            result_traceback: job.result_traceback.unwrap_or_default(),
        })
    }

    /// `started …, finished …, ran 12.3s`, from what the job has.
    fn timing(&self) -> String {
        let mut parts = Vec::new();
        if let Some(started) = &self.started {
            parts.push(format!("started {started}"));
        }
        if let Some(finished) = &self.finished {
            parts.push(format!("finished {finished}"));
        }
        if let Some(elapsed) = self.elapsed.filter(|e| *e > 0.0) {
            parts.push(format!("ran {elapsed:.1}s"));
        }
        parts.join(", ")
    }
}

/// The variable's value in a job's `extra_vars`: a JSON string in AWX's job views (an object
/// is accepted too). Launches through the UI may have written YAML; that does not parse here,
/// which can only make a job unrecognised, never misattributed.
fn variable_in(extra_vars: &Value, variable: &str) -> Option<String> {
    let parsed;
    let vars = match extra_vars {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    match vars.get(variable)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Which of the version's jobs matters, from a newest-first list: one still running (it will
/// decide the outcome), else one that succeeded (the version is deployed), else the newest.
fn relevant_job<'a>(jobs: &'a [AwxJob], version: &str) -> Option<&'a AwxJob> {
    let mut mine = jobs
        .iter()
        .filter(|job| job.version.as_deref() == Some(version));
    let first = mine.clone().next()?;
    mine.clone()
        .find(|job| job.is_active())
        .or_else(|| mine.find(|job| job.succeeded()))
        .or(Some(first))
}

#[derive(Debug, Clone)]
struct Template {
    id: u64,
    name: String,
}

/// An HTTP answer, whatever its status.
struct Answer {
    status: u16,
    body: String,
    location: Option<String>,
}

/// Why a job's output could not be read; it only goes into the job's report.
#[derive(Debug, thiserror::Error)]
enum OutputError {
    #[error("no answer: {0}")]
    NoAnswer(ureq::Error),
    #[error("HTTP {0}: {1}")]
    Status(u16, String),
    #[error("reading it failed: {0}")]
    Read(std::io::Error),
}

/// What became of a launch request.
enum Launch {
    /// AWX created this job, with every variable accepted.
    Started(u64),
    /// No usable answer: the job may or may not exist.
    Unclear(String),
}

/// `[deploy] kind = "awx"`.
pub struct AwxDeployer {
    agent: ureq::Agent,
    /// `https://awx.example.org`: where the API and the links AWX answers (`next`) are.
    origin: String,
    /// How the API root is found under the origin.
    api: AwxApi,
    /// The API root once found, without a trailing slash: `/api/v2`, `/api/controller/v2`.
    api_root: OnceLock<String>,
    /// The template once found; forgotten when AWX answers 404 for it.
    known_template: Mutex<Option<Template>>,
    token: String,
    template: String,
    organization: Option<String>,
    variable: String,
    deploy_timeout: Duration,
    poll_interval: Duration,
    retry_backoff: Duration,
    requests: AtomicU64,
}

impl std::fmt::Debug for AwxDeployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwxDeployer")
            .field("origin", &self.origin)
            .field("api", &self.api)
            .field("token", &"<redacted>")
            .field("template", &self.template)
            .field("organization", &self.organization)
            .field("variable", &self.variable)
            .field("deploy_timeout", &self.deploy_timeout)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

fn build_agent(request_timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        // AWX's error bodies carry the reason; read them instead of getting a bare status.
        .http_status_as_error(false)
        // A redirect (http → https, a moved controller) is reported rather than followed: a
        // followed 301 would turn the launch POST into a GET.
        .max_redirects(0)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(request_timeout))
        .user_agent(concat!("stackrel/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

impl AwxDeployer {
    /// A deployer for `[deploy]`; `token` is `AWX_TOKEN` (an OAuth2 / personal access token).
    pub fn new(config: &AwxDeploy, token: &str) -> Result<Self, DeployError> {
        if token.trim().is_empty() {
            return Err(DeployError::Setup(
                "AWX_TOKEN is empty: AWX needs a bearer token to launch jobs".into(),
            ));
        }
        Ok(AwxDeployer {
            agent: build_agent(DEFAULT_REQUEST_TIMEOUT),
            origin: config.url.clone(),
            api: config.api.clone(),
            api_root: OnceLock::new(),
            known_template: Mutex::new(None),
            token: token.trim().to_string(),
            template: config.template.clone(),
            organization: config.organization.clone(),
            variable: config.variable.clone(),
            deploy_timeout: config.timeout,
            poll_interval: DEFAULT_POLL_INTERVAL,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            requests: AtomicU64::new(0),
        })
    }

    /// How often a running job is polled (tests use milliseconds).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long a deploy may take, overriding `timeout_seconds` (tests use milliseconds).
    pub fn with_deploy_timeout(mut self, timeout: Duration) -> Self {
        self.deploy_timeout = timeout;
        self
    }

    /// The first pause before a GET is retried; it doubles on each further try.
    pub fn with_retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// The bound on a single request.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.agent = build_agent(timeout);
        self
    }

    /// HTTP requests sent so far, retries included (for benchmarks).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The version of the template's newest successful job: the live version as AWX knows it.
    pub fn last_successful_version(&self) -> Result<Option<String>, DeployError> {
        Ok(self.last_successful_job()?.map(|(_, version)| version))
    }

    /// The template's newest successful job that names a version, and that version.
    fn last_successful_job(&self) -> Result<Option<(u64, String)>, DeployError> {
        let run = || {
            let (_, jobs) = self.template_jobs(Some("successful"), &mut |job| {
                job.succeeded() && job.version.is_some()
            })?;
            Ok(jobs
                .into_iter()
                .filter(AwxJob::succeeded)
                .find_map(|job| Some((job.id, job.version?))))
        };
        run().map_err(|e| self.redact_error(e))
    }

    /// The job that decides this version's deploy, if any: a running one, else one that
    /// succeeded, else the newest (failed or canceled).
    pub fn job_for_version(&self, version: &str) -> Result<Option<AwxJob>, DeployError> {
        let run = || {
            let (_, jobs) = self.jobs_for_version(version)?;
            Ok(relevant_job(&jobs, version).cloned())
        };
        run().map_err(|e| self.redact_error(e))
    }

    /// The template and its newest jobs, newest first, read until one for `version` that is
    /// active or succeeded settles the question (a newer one of those outranks older ones).
    fn jobs_for_version(&self, version: &str) -> Result<(Template, Vec<AwxJob>), DeployError> {
        self.template_jobs(None, &mut |job| {
            job.version.as_deref() == Some(version) && (job.is_active() || job.succeeded())
        })
    }

    fn deploy_version(&self, version: &str) -> Result<DeployOutcome, DeployError> {
        let started = Instant::now();
        let (template, jobs) = self.jobs_for_version(version)?;
        if let Some(job) = relevant_job(&jobs, version) {
            if job.is_active() {
                tracing::info!(
                    job = job.id,
                    version,
                    "following the AWX job already deploying this version"
                );
                return self.follow(&template, job.id, version, started);
            }
            if job.succeeded() {
                return Ok(DeployOutcome {
                    succeeded: true,
                    detail: format!(
                        "AWX job #{} of \"{}\" already deployed {version}; not launched again",
                        job.id, template.name
                    ),
                });
            }
        }
        self.preflight(&template)?;
        // Any job for this version with a higher id than these was launched by us from here on.
        let newest_seen = jobs.iter().map(|job| job.id).max().unwrap_or(0);
        match self.launch(&template, version)? {
            Launch::Started(job) => self.follow(&template, job, version, started),
            Launch::Unclear(why) => {
                self.settle_unclear(&template, version, newest_seen, started, &why)
            }
        }
    }

    /// A launch whose answer was lost: the job it started, if AWX already lists it, is
    /// followed; otherwise the deploy is unclear. It is never sent again from here: a gateway's
    /// 502 or 504 often means the controller is still creating the job, and only a later look
    /// (the next reconcile's `observe`) can tell a launch that did not happen from a slow one.
    fn settle_unclear(
        &self,
        template: &Template,
        version: &str,
        newest_seen: u64,
        started: Instant,
        why: &str,
    ) -> Result<DeployOutcome, DeployError> {
        tracing::warn!(
            version,
            why,
            "AWX launch outcome unclear; looking for the job"
        );
        for look in 1..=UNCLEAR_LOOKS {
            let (_, jobs) = self.template_jobs(None, &mut |job| job.id <= newest_seen)?;
            let launched = jobs
                .iter()
                .filter(|job| job.id > newest_seen)
                .filter(|job| job.version.as_deref() == Some(version))
                .max_by_key(|job| job.id);
            if let Some(job) = launched {
                return self.follow(template, job.id, version, started);
            }
            if look < UNCLEAR_LOOKS {
                std::thread::sleep(self.poll_interval);
            }
        }
        Err(DeployError::Unclear(self.redact(format!(
            "launching AWX job template \"{}\" for {version} got no clear answer ({why}) and no job for {version} is listed yet; not launched again: the next reconcile looks at the template's jobs before launching anything",
            template.name
        ))))
    }

    /// The API root, found once: written in the configuration, or named by a versions root.
    fn api_root(&self) -> Result<&str, DeployError> {
        if let Some(root) = self.api_root.get() {
            return Ok(root);
        }
        let root = match &self.api {
            AwxApi::Root(root) => root.clone(),
            AwxApi::Versions(versions) => self.discover(&[versions.as_str()])?,
            AwxApi::Discover => self.discover(DISCOVERY_ROOTS)?,
        };
        Ok(self.api_root.get_or_init(|| root))
    }

    /// The first of `candidates` (versions roots) whose `current_version` is a controller API.
    fn discover(&self, candidates: &[&str]) -> Result<String, DeployError> {
        let mut tried = Vec::new();
        for versions in candidates {
            match self.controller_root(versions) {
                Ok(root) => {
                    tracing::info!(root, "found the AWX controller's API");
                    return Ok(root);
                }
                Err(why) => tried.push(format!("{}{versions} {why}", self.origin)),
            }
        }
        Err(DeployError::Refused(self.redact(format!(
            "cannot find the AWX controller's API: {}; set [deploy] url to the API itself, e.g. {origin}/api/v2 (AWX) or {origin}/api/controller/v2 (behind the AAP gateway)",
            tried.join("; "),
            origin = self.origin
        ))))
    }

    /// The API root a versions root names in `current_version`, if that root lists job
    /// templates (the AAP gateway's own `/api/` names the gateway's API, not the controller's).
    fn controller_root(&self, versions: &str) -> Result<String, String> {
        let read = |url: &str| -> Result<String, String> {
            let answer = self
                .get(url, &[], ACCEPT_JSON)
                .map_err(|e| format!("got no answer ({e})"))?;
            if (200..300).contains(&answer.status) {
                Ok(answer.body)
            } else {
                Err(format!(
                    "answered HTTP {} ({})",
                    answer.status,
                    describe_body(&answer.body)
                ))
            }
        };
        let body = read(&format!("{}{versions}", self.origin))?;
        let current = serde_json::from_str::<VersionsRoot>(&body)
            .ok()
            .and_then(|root| root.current_version)
            .ok_or("names no current_version")?;
        let root = self
            .same_origin_path(&current)
            .ok_or_else(|| format!("names {current}, which is not under {}", self.origin))?
            .trim_end_matches('/')
            .to_string();
        let listing = read(&format!("{}{root}/", self.origin))?;
        match serde_json::from_str::<ApiRoot>(&listing) {
            Ok(ApiRoot {
                job_templates: Some(_),
            }) => Ok(root),
            _ => Err(format!(
                "names {root}/, which lists no job_templates: not the controller's API"
            )),
        }
    }

    /// The path of a link AWX answered: a path already, or a URL on the configured origin.
    /// Anything elsewhere is not followed: the token is only ever sent to the origin.
    fn same_origin_path<'a>(&self, link: &'a str) -> Option<&'a str> {
        if link.starts_with('/') {
            return Some(link);
        }
        link.strip_prefix(self.origin.as_str())
            .filter(|path| path.starts_with('/'))
    }

    /// `https://awx.example.org/api/v2{path}` (the origin alone before the root is known).
    fn url(&self, path: &str) -> String {
        let root = self.api_root.get().map_or("", String::as_str);
        format!("{}{root}{path}", self.origin)
    }

    /// The template, looked up once per process.
    fn template(&self) -> Result<Template, DeployError> {
        let known = self
            .known_template
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(template) = known {
            return Ok(template);
        }
        let template = self.find_template()?;
        *self
            .known_template
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(template.clone());
        Ok(template)
    }

    /// After a 404 for the template: it was deleted or recreated, so look it up again.
    fn forget_template(&self) {
        *self
            .known_template
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Every template of that name (and organization), following `next`.
    fn templates_named(&self, what: &str) -> Result<Vec<TemplateItem>, DeployError> {
        let mut query = vec![("name", self.template.clone())];
        if let Some(organization) = &self.organization {
            query.push(("organization__name", organization.clone()));
        }
        self.api_root()?;
        let mut url = self.url("/job_templates/");
        let mut found = Vec::new();
        for _ in 0..MAX_TEMPLATE_PAGES {
            let listing: Listing<TemplateItem> = self.get_json(&url, &query, what)?;
            found.extend(listing.results);
            match listing.next {
                Some(next) => url = self.next_page(&next, what)?,
                None => break,
            }
            query.clear();
        }
        Ok(found)
    }

    /// The URL of the `next` page AWX linked to.
    fn next_page(&self, next: &str, what: &str) -> Result<String, DeployError> {
        match self.same_origin_path(next) {
            Some(path) => Ok(format!("{}{path}", self.origin)),
            None => Err(DeployError::Refused(self.redact(format!(
                "{what}: AWX linked the next page to {next}, which is not under {}; the token is not sent there. Set [deploy] url to the address AWX knows itself by",
                self.origin
            )))),
        }
    }

    /// The template by its exact name (and organization, when configured).
    fn find_template(&self) -> Result<Template, DeployError> {
        let what = format!("looking up AWX job template \"{}\"", self.template);
        let listed = self.templates_named(&what)?;
        // `name` filters exactly in current AWX, but older releases matched loosely: re-check.
        let matches: Vec<&TemplateItem> = listed
            .iter()
            .filter(|t| t.name.as_deref() == Some(self.template.as_str()))
            .collect();
        match matches.as_slice() {
            [] => Err(DeployError::Refused(self.no_template())),
            [one] => Ok(Template {
                id: one.id.ok_or_else(|| {
                    DeployError::Refused(format!("{what}: AWX listed it without an id"))
                })?,
                name: self.template.clone(),
            }),
            several => Err(DeployError::Refused(self.several_templates(several))),
        }
    }

    fn in_organization(&self) -> String {
        match &self.organization {
            Some(org) => format!(" in organization \"{org}\""),
            None => String::new(),
        }
    }

    fn no_template(&self) -> String {
        format!(
            "AWX at {} has no job template named \"{}\"{} that this token can see; check [deploy] template{}",
            self.url(""),
            self.template,
            self.in_organization(),
            if self.organization.is_some() {
                " and organization"
            } else {
                ""
            }
        )
    }

    fn several_templates(&self, several: &[&TemplateItem]) -> String {
        let organizations: Vec<String> = several
            .iter()
            .map(|t| {
                let organization = t.summary_fields.organization.as_ref();
                match organization.and_then(|o| o.name.as_deref()) {
                    Some(name) => format!("\"{name}\""),
                    None => format!("id {}", t.id.map_or("null".into(), |id| id.to_string())),
                }
            })
            .collect();
        format!(
            "AWX has {} job templates named \"{}\"{} (organizations {}); set [deploy] organization to say which one",
            several.len(),
            self.template,
            self.in_organization(),
            organizations.join(", ")
        )
    }

    /// Refuses a template that would run the job without the version variable.
    fn preflight(&self, template: &Template) -> Result<(), DeployError> {
        let launch_path = format!("/job_templates/{}/launch/", template.id);
        let info: LaunchSettings = self.get_json(
            &self.url(&launch_path),
            &[],
            &format!(
                "reading the launch settings of AWX job template \"{}\"",
                template.name
            ),
        )?;
        if info.ask_variables_on_launch.unwrap_or(false) {
            return Ok(());
        }
        if info.survey_enabled.unwrap_or(false) {
            let survey: Survey = self.get_json(
                &self.url(&format!("/job_templates/{}/survey_spec/", template.id)),
                &[],
                &format!(
                    "reading the survey of AWX job template \"{}\"",
                    template.name
                ),
            )?;
            let covered = survey
                .spec
                .unwrap_or_default()
                .iter()
                .any(|question| question.variable.as_deref() == Some(self.variable.as_str()));
            if covered {
                return Ok(());
            }
        }
        Err(DeployError::Refused(format!(
            "AWX job template \"{}\" would silently drop the extra variable `{}`: it does not prompt for variables on launch and no survey question sets `{}`, so a job would run without the version. Fix the template: enable \"Prompt on launch\" for Variables (ask_variables_on_launch), or add a survey question for `{}`",
            template.name, self.variable, self.variable, self.variable
        )))
    }

    fn launch(&self, template: &Template, version: &str) -> Result<Launch, DeployError> {
        let path = format!("/job_templates/{}/launch/", template.id);
        let body = json!({ "extra_vars": { self.variable.as_str(): version } });
        tracing::info!(
            template = template.id,
            version,
            "launching AWX job template"
        );
        let answer = match self.post(&path, &body) {
            Ok(answer) => answer,
            Err(e) => return Ok(Launch::Unclear(format!("no answer: {e}"))),
        };
        if answer.status >= 500 {
            return Ok(Launch::Unclear(format!("HTTP {}", answer.status)));
        }
        if answer.status == 400 {
            // The survey (type, choices, length, required) or another launch check said no.
            return Err(DeployError::Refused(self.redact(format!(
                "AWX refused to launch job template \"{}\" with `{}` = \"{version}\" (HTTP 400: {}); nothing was launched. Fix the template's survey question for `{}` (its type, choices or length) so that it accepts the version",
                template.name,
                self.variable,
                describe_body(&answer.body),
                self.variable
            ))));
        }
        if !(200..300).contains(&answer.status) {
            return Err(self.refusal(
                &format!("launching AWX job template \"{}\"", template.name),
                &self.url(&path),
                &answer,
            ));
        }
        let Ok(reply) = serde_json::from_str::<Launched>(&answer.body) else {
            return Ok(Launch::Unclear(format!(
                "HTTP {} without a JSON body",
                answer.status
            )));
        };
        let Some(job) = reply.job.or(reply.id) else {
            return Ok(Launch::Unclear(format!(
                "HTTP {} without a job id",
                answer.status
            )));
        };
        let ignored = describe_ignored(reply.ignored_fields.as_ref());
        if !ignored.is_empty() {
            let cancel = self.cancel(job);
            return Err(DeployError::Refused(format!(
                "AWX launched job #{job} of \"{}\" but ignored {ignored}, so it would deploy without the version; {cancel}. Fix the template: enable \"Prompt on launch\" for Variables (ask_variables_on_launch), or add a survey question for `{}`",
                template.name, self.variable
            )));
        }
        Ok(Launch::Started(job))
    }

    /// Cancels a job launched wrongly; says what happened, for the error that follows.
    fn cancel(&self, job: u64) -> String {
        match self.post(&format!("/jobs/{job}/cancel/"), &json!({})) {
            Ok(answer) if (200..300).contains(&answer.status) => {
                format!("job #{job} was canceled")
            }
            Ok(answer) => format!(
                "canceling job #{job} failed (HTTP {}: {}); cancel it in AWX",
                answer.status,
                describe_body(&answer.body)
            ),
            Err(e) => format!("canceling job #{job} got no answer ({e}); check it in AWX"),
        }
    }

    /// Polls the job to its end, or to the deploy's deadline.
    fn follow(
        &self,
        template: &Template,
        job_id: u64,
        version: &str,
        started: Instant,
    ) -> Result<DeployOutcome, DeployError> {
        // A timeout past what `Instant` can hold is no deadline at all, not a panic.
        let deadline = started.checked_add(self.deploy_timeout);
        let path = format!("/jobs/{job_id}/");
        loop {
            let value = self.get_json(
                &self.url(&path),
                &[],
                &format!("following AWX job #{job_id}"),
            )?;
            let job = AwxJob::from_json(value, &self.variable).ok_or_else(|| {
                DeployError::Refused(format!(
                    "AWX job #{job_id} has no id or status in its answer"
                ))
            })?;
            if job.is_terminal() {
                return Ok(self.finished(template, &job, version));
            }
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                return Err(DeployError::Refused(format!(
                    "AWX job #{job_id} of \"{}\" for {version} did not finish within {:?} (still {}); it keeps running in AWX and the next deploy follows it rather than launching another: {}",
                    template.name,
                    self.deploy_timeout,
                    job.status,
                    self.url(&path)
                )));
            }
            let left = deadline.map_or(self.poll_interval, |deadline| deadline - now);
            std::thread::sleep(self.poll_interval.min(left));
        }
    }

    fn finished(&self, template: &Template, job: &AwxJob, version: &str) -> DeployOutcome {
        if job.succeeded() {
            return DeployOutcome {
                succeeded: true,
                detail: format!(
                    "AWX job #{} of \"{}\" deployed {version}",
                    job.id, template.name
                ),
            };
        }
        let mut detail = format!(
            "AWX job #{} of \"{}\" for {version} ended {}",
            job.id, template.name, job.status
        );
        let timing = job.timing();
        if !timing.is_empty() {
            detail.push_str(&format!(" ({timing})"));
        }
        if !job.job_explanation.trim().is_empty() {
            detail.push_str(&format!(": {}", job.job_explanation.trim()));
        }
        let traceback =
            output::tail(job.result_traceback.as_bytes(), TRACEBACK_TAIL_LINES).unwrap_or_default();
        if !traceback.is_empty() {
            detail.push_str("\nits traceback ends:\n");
            detail.push_str(&traceback);
        }
        match self.output_tail(job.id) {
            Ok(tail) if !tail.is_empty() => {
                detail.push_str("\nlast lines of its output:\n");
                detail.push_str(&tail);
            }
            Ok(_) => {}
            Err(e) => detail.push_str(&format!("\n(its output could not be read: {e})")),
        }
        DeployOutcome {
            succeeded: false,
            detail,
        }
    }

    /// The last lines of a job's output. `format=txt` is served with `text/plain` only, and
    /// output over AWX's display limit is a "too large" message in every format but the
    /// downloads: then the tail is read from `txt_download`, streamed, in bounded memory.
    fn output_tail(&self, job: u64) -> Result<String, OutputError> {
        let url = self.url(&format!("/jobs/{job}/stdout/"));
        let text = self.read_output(&url, "txt")?;
        if !output::is_too_large(&text) {
            return Ok(text);
        }
        tracing::info!(
            job,
            "AWX job output too large to display; reading the download"
        );
        self.read_output(&url, "txt_download")
    }

    /// The tail of one stdout format, retried like any GET.
    fn read_output(&self, url: &str, format: &str) -> Result<String, OutputError> {
        let query = [("format", format.to_string())];
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.read_output_once(url, &query);
            let retryable = match &result {
                Err(OutputError::NoAnswer(_)) => true,
                Err(OutputError::Status(status, _)) => *status >= 500,
                _ => false,
            };
            if !retryable || attempt >= GET_ATTEMPTS {
                return result;
            }
            std::thread::sleep(self.retry_backoff * 2u32.pow(attempt - 1));
        }
    }

    fn read_output_once(&self, url: &str, query: &[(&str, String)]) -> Result<String, OutputError> {
        let mut response = self
            .request(url, query, ACCEPT_TEXT)
            .call()
            .map_err(OutputError::NoAnswer)?;
        let status = response.status().as_u16();
        let reader = response.body_mut().as_reader();
        if !(200..300).contains(&status) {
            let mut body = String::new();
            let _ = reader.take(4096).read_to_string(&mut body);
            return Err(OutputError::Status(status, describe_body(&body)));
        }
        output::tail(reader, STDOUT_TAIL_LINES).map_err(OutputError::Read)
    }

    /// The template and its newest jobs, newest first, following `next` until `enough` says a
    /// job settles the question, `MAX_JOBS_SCANNED` were read or `MAX_JOB_PAGES` pages. `status` narrows the list.
    /// Never filtered on `extra_vars`: AWX forbids it. A template AWX no longer has (404) is
    /// looked up again, once.
    fn template_jobs(
        &self,
        status: Option<&str>,
        enough: &mut dyn FnMut(&AwxJob) -> bool,
    ) -> Result<(Template, Vec<AwxJob>), DeployError> {
        let mut again = true;
        loop {
            let template = self.template()?;
            match self.scan_jobs(&template, status, enough)? {
                Some(jobs) => return Ok((template, jobs)),
                None if again => {
                    tracing::info!(
                        template = template.id,
                        "AWX job template gone; looking it up again"
                    );
                    self.forget_template();
                    again = false;
                }
                None => {
                    return Err(DeployError::Refused(format!(
                        "AWX answered 404 for the jobs of job template \"{}\" (id {}) just after listing it; try again",
                        template.name, template.id
                    )));
                }
            }
        }
    }

    /// The template's jobs list, page by page; `None` when AWX answers 404 for it.
    fn scan_jobs(
        &self,
        template: &Template,
        status: Option<&str>,
        enough: &mut dyn FnMut(&AwxJob) -> bool,
    ) -> Result<Option<Vec<AwxJob>>, DeployError> {
        let mut query = vec![
            ("order_by", "-created".to_string()),
            ("page_size", JOBS_PAGE_SIZE.to_string()),
        ];
        if let Some(status) = status {
            query.push(("status", status.to_string()));
        }
        let what = format!("listing the jobs of AWX job template \"{}\"", template.name);
        let mut url = self.url(&format!("/job_templates/{}/jobs/", template.id));
        let mut jobs = Vec::new();
        let mut read = 0;
        for page in 1.. {
            let Some(listing) = self.get_listing(&url, &query, &what)? else {
                return Ok(None);
            };
            if listing.results.is_empty() {
                // AWX links no page past the last one: an empty page with a `next` is not AWX.
                return Ok(Some(jobs));
            }
            read += listing.results.len();
            for job in listing.results {
                if let Some(job) = AwxJob::from_json(job, &self.variable) {
                    let settles = enough(&job);
                    jobs.push(job);
                    if settles {
                        return Ok(Some(jobs));
                    }
                }
            }
            match listing.next {
                Some(next) if read < MAX_JOBS_SCANNED && page < MAX_JOB_PAGES => {
                    url = self.next_page(&next, &what)?;
                }
                _ => return Ok(Some(jobs)),
            }
            query.clear();
        }
        Ok(Some(jobs))
    }

    /// A page of a list, or `None` when AWX answers 404 for the list.
    fn get_listing(
        &self,
        url: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Option<Listing<Value>>, DeployError> {
        let answer = self.get_answer(url, query, what)?;
        if answer.status == 404 {
            return Ok(None);
        }
        self.decode(answer, url, what).map(Some)
    }

    /// A GET whose answer must be 2xx JSON of the documented shape; anything else becomes a
    /// readable error.
    fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, DeployError> {
        let answer = self.get_answer(url, query, what)?;
        self.decode(answer, url, what)
    }

    /// A GET's answer, whatever its status; no answer at all is an error.
    fn get_answer(
        &self,
        url: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Answer, DeployError> {
        self.get(url, query, ACCEPT_JSON)
            .map_err(|e| {
                let what = match e {
                    ureq::Error::BodyExceedsLimit(_) => format!(
                        "{what}: the answer of {url} is larger than {MAX_ANSWER_BYTES} bytes, more than any answer stackrel reads; it was not read"
                    ),
                    _ => format!("{what}: no answer from {url}"),
                };
                DeployError::Http {
                    what,
                    source: Box::new(e),
                }
            })
    }

    fn decode<T: DeserializeOwned>(
        &self,
        answer: Answer,
        url: &str,
        what: &str,
    ) -> Result<T, DeployError> {
        if !(200..300).contains(&answer.status) {
            return Err(self.refusal(what, url, &answer));
        }
        serde_json::from_str(&answer.body).map_err(|source| {
            let what = if serde_json::from_str::<serde::de::IgnoredAny>(&answer.body).is_ok() {
                format!(
                    "{what}: AWX answered HTTP {} with JSON that is not what its API documents ({source}): {}",
                    answer.status,
                    describe_body(&answer.body)
                )
            } else {
                format!(
                    "{what}: AWX answered HTTP {} with something other than JSON: {}",
                    answer.status,
                    describe_body(&answer.body)
                )
            };
            DeployError::Decode {
                what: self.redact(what),
                source,
            }
        })
    }

    /// A GET, retried with backoff on transport errors and 5xx (reading changes nothing).
    fn get(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> Result<Answer, ureq::Error> {
        let mut attempt = 0;
        loop {
            let result = self.send(self.request(url, query, accept).call());
            attempt += 1;
            let retryable = match &result {
                Ok(answer) => answer.status >= 500,
                // The same answer would be as large again.
                Err(ureq::Error::BodyExceedsLimit(_)) => false,
                Err(_) => true,
            };
            if !retryable || attempt >= GET_ATTEMPTS {
                return result;
            }
            std::thread::sleep(self.retry_backoff * 2u32.pow(attempt - 1));
        }
    }

    /// A POST to a path under the API root, sent exactly once: what to do about an unclear
    /// outcome is the caller's call.
    fn post(&self, path: &str, body: &Value) -> Result<Answer, ureq::Error> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let request = self
            .agent
            .post(self.url(path))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", ACCEPT_JSON);
        self.send(request.send_json(body))
    }

    /// A GET with the token and an Accept header that admits the format asked for.
    fn request(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .agent
            .get(url)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", accept);
        for (key, value) in query {
            request = request.query(*key, value);
        }
        request
    }

    fn send(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, ureq::Error> {
        // ureq's errors name the URL and what failed, never a header: the token cannot leak.
        let mut response = result?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .lossy_utf8(true)
            .read_to_string()?;
        Ok(Answer {
            status,
            body,
            location,
        })
    }

    /// Turns a non-2xx answer into an error that says what to do about it.
    fn refusal(&self, what: &str, url: &str, answer: &Answer) -> DeployError {
        let said = describe_body(&answer.body);
        let message = match answer.status {
            300..=399 => format!(
                "{what}: AWX answered HTTP {} redirecting to {}; set [deploy] url to where AWX really is",
                answer.status,
                answer.location.as_deref().unwrap_or("(no location)")
            ),
            401 => format!(
                "{what}: AWX rejected the credentials (HTTP 401: {said}); check AWX_TOKEN: it must be a valid OAuth2 or personal access token (behind the AAP gateway, one from /api/gateway/v1/tokens/)"
            ),
            403 => format!(
                "{what}: AWX refused (HTTP 403: {said}); the token's user needs Execute permission on the template and the token write scope"
            ),
            404 => {
                // The template may be gone or renumbered: look it up again next time.
                self.forget_template();
                format!(
                    "{what}: AWX answered HTTP 404 ({said}) for {url}; check [deploy] url and api_prefix (leave both to the origin, https://awx.example.org, and the API is found from /api/; `/api/controller/v2` behind the AAP gateway)"
                )
            }
            status => format!("{what}: AWX answered HTTP {status}: {said}"),
        };
        DeployError::Refused(self.redact(message))
    }

    /// Takes the token out of a message's text; the messages built here never hold it, but a
    /// body AWX echoes back might.
    fn redact_error(&self, error: DeployError) -> DeployError {
        match error {
            DeployError::Refused(text) => DeployError::Refused(self.redact(text)),
            DeployError::Setup(text) => DeployError::Setup(self.redact(text)),
            other => other,
        }
    }

    fn redact(&self, text: String) -> String {
        if self.token.len() >= 4 && text.contains(&self.token) {
            text.replace(&self.token, "<redacted>")
        } else {
            text
        }
    }
}

impl Deployer for AwxDeployer {
    fn deploy(&self, release: &ReleaseContext) -> Result<DeployOutcome, DeployError> {
        self.deploy_version(&release.version)
            .map(|outcome| DeployOutcome {
                succeeded: outcome.succeeded,
                detail: self.redact(outcome.detail),
            })
            .map_err(|e| self.redact_error(e))
    }

    /// AWX's job history is the record of what was deployed: the version's running, successful
    /// or newest failed job. This is also what settles a launch whose answer was lost.
    fn observe(&self, release: &ReleaseContext) -> Result<Option<DeployerView>, DeployError> {
        let version = &release.version;
        let Some(job) = self.job_for_version(version)? else {
            return Ok(Some(DeployerView::NotLaunched));
        };
        let about = format!("AWX job #{} of \"{}\" for {version}", job.id, self.template);
        Ok(Some(if job.succeeded() {
            DeployerView::Succeeded(format!("{about} succeeded"))
        } else if job.is_terminal() {
            let mut detail = format!("{about} ended {}", job.status);
            let timing = job.timing();
            if !timing.is_empty() {
                detail.push_str(&format!(" ({timing})"));
            }
            if !job.job_explanation.trim().is_empty() {
                detail.push_str(&format!(": {}", job.job_explanation.trim()));
            }
            DeployerView::Failed(self.redact(detail))
        } else {
            DeployerView::Running(format!("{about} is {}", job.status))
        }))
    }

    fn last_deployed(&self) -> Result<Option<Deployed>, DeployError> {
        Ok(self.last_successful_job()?.map(|(id, version)| Deployed {
            version,
            source: format!("AWX job {id}"),
        }))
    }
}

/// AWX's error bodies: `{"detail": "..."}`, or field → list of messages (400s).
fn describe_body(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "(empty body)".into();
    }
    let Ok(body) = serde_json::from_str::<ErrorBody>(trimmed) else {
        return shorten(trimmed);
    };
    let message = match body {
        ErrorBody::Detail { detail } => detail,
        ErrorBody::Fields(fields) => fields
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages_of(messages)))
            .collect::<Vec<_>>()
            .join("; "),
        ErrorBody::Other(other) => messages_of(&other),
    };
    shorten(&message)
}

fn messages_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(messages_of).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn shorten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > MAX_ERROR_BODY_CHARS {
        let cut: String = one_line.chars().take(MAX_ERROR_BODY_CHARS).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// `ignored_fields` as words (`extra_vars (stack_image_tag)`), empty when nothing was ignored.
fn describe_ignored(ignored: Option<&Value>) -> String {
    let Some(Value::Object(fields)) = ignored else {
        return String::new();
    };
    fields
        .iter()
        .filter(|(_, value)| match value {
            Value::Null => false,
            Value::Object(o) => !o.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::String(s) => !s.is_empty(),
            _ => true,
        })
        .map(|(field, value)| match value {
            Value::Object(keys) => format!(
                "{field} ({})",
                keys.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            _ => field.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, status: &str, version: &str) -> AwxJob {
        AwxJob {
            id,
            status: status.into(),
            version: Some(version.into()),
            created: String::new(),
            job_explanation: String::new(),
            started: None,
            finished: None,
            elapsed: None,
            result_traceback: String::new(),
        }
    }

    #[test]
    fn extra_vars_are_read_from_awx_json_strings() {
        let value = json!({"id": 7, "status": "running",
            "extra_vars": "{\"stack_image_tag\": \"2026.08.3\", \"other\": 1}"});
        let job = AwxJob::from_json(value, "stack_image_tag").unwrap();
        assert_eq!(job.version.as_deref(), Some("2026.08.3"));
        assert!(job.is_active());
        let yaml = json!({"id": 8, "status": "failed", "extra_vars": "stack_image_tag: x"});
        assert_eq!(
            AwxJob::from_json(yaml, "stack_image_tag").unwrap().version,
            None
        );
    }

    #[test]
    fn a_running_job_outranks_a_successful_one_and_failures() {
        let jobs = [
            job(9, "failed", "1"),
            job(8, "running", "1"),
            job(7, "successful", "1"),
            job(6, "running", "2"),
        ];
        assert_eq!(relevant_job(&jobs, "1").unwrap().id, 8);
        assert_eq!(relevant_job(&jobs[2..], "1").unwrap().id, 7);
        assert_eq!(relevant_job(&jobs[..1], "1").unwrap().id, 9);
        assert!(relevant_job(&jobs, "3").is_none());
    }

    #[test]
    fn error_bodies_read_as_sentences() {
        assert_eq!(
            describe_body(r#"{"detail": "You do not have permission to perform this action."}"#),
            "You do not have permission to perform this action."
        );
        assert_eq!(
            describe_body(r#"{"extra_vars": ["Cannot parse as JSON."], "inventory": ["Bad."]}"#),
            "extra_vars: Cannot parse as JSON.; inventory: Bad."
        );
        assert_eq!(describe_body(""), "(empty body)");
        assert_eq!(
            describe_body("<html>\n502 Bad Gateway</html>"),
            "<html> 502 Bad Gateway</html>"
        );
    }

    #[test]
    fn ignored_fields_are_named() {
        assert_eq!(describe_ignored(Some(&json!({}))), "");
        assert_eq!(
            describe_ignored(Some(
                &json!({"extra_vars": {"stack_image_tag": "1"}, "limit": "x"})
            )),
            "extra_vars (stack_image_tag), limit"
        );
    }
}

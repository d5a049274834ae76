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
//! The bearer token never appears in errors, details or `Debug` output.

use super::{DeployError, DeployOutcome, Deployed, Deployer, DeployerView, ReleaseContext};
use crate::config::AwxDeploy;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a running job is polled: AWX jobs take minutes, there is no hurry.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Bound on one request (connect, send, answer): AWX answers API calls in well under this.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries per GET (the first plus retries), backing off from `retry_backoff`, doubling each time.
const GET_ATTEMPTS: u32 = 3;
const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// How many of the template's newest jobs are searched for one of this version. A deploy that
/// is older than the last 50 jobs of its template is history, not something to follow.
const RECENT_JOBS: &str = "50";
/// Enough of a failed job's output to see the failing task and the play recap.
const STDOUT_TAIL_LINES: usize = 20;
/// Bodies of error answers are cut to this in messages: enough for AWX's JSON, not a whole page.
const MAX_ERROR_BODY_CHARS: usize = 300;

/// `UnifiedJob.ACTIVE_STATES` in AWX: a job that may still run (and may be canceled).
const ACTIVE_STATUSES: &[&str] = &["new", "pending", "waiting", "running"];
/// A job in one of these states has ended for good.
const TERMINAL_STATUSES: &[&str] = &["successful", "failed", "error", "canceled"];

/// AWX's list views: `{"count": …, "results": [...]}`; only the results are read.
#[derive(Debug, Deserialize)]
struct Listing<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwxJob {
    pub id: u64,
    /// `new|pending|waiting|running|successful|failed|error|canceled`.
    pub status: String,
    /// The value of the version variable in the job's `extra_vars`, when it has one.
    pub version: Option<String>,
    pub created: String,
    pub job_explanation: String,
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
        })
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
    /// Base URL plus API prefix, without a trailing slash: `https://awx.example.org/api/v2`.
    api_root: String,
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
            .field("api_root", &self.api_root)
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
            api_root: format!("{}{}", config.url, config.api_prefix),
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
            let template = self.find_template()?;
            let jobs = self.list_jobs(template.id, Some("successful"))?;
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
            let template = self.find_template()?;
            let jobs = self.list_jobs(template.id, None)?;
            Ok(relevant_job(&jobs, version).cloned())
        };
        run().map_err(|e| self.redact_error(e))
    }

    fn deploy_version(&self, version: &str) -> Result<DeployOutcome, DeployError> {
        let started = Instant::now();
        let template = self.find_template()?;
        let jobs = self.list_jobs(template.id, None)?;
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
        let mut unclear = Vec::new();
        loop {
            match self.launch(&template, version)? {
                Launch::Started(job) => return self.follow(&template, job, version, started),
                Launch::Unclear(why) => {
                    tracing::warn!(
                        version,
                        why,
                        "AWX launch outcome unclear; looking for the job"
                    );
                    unclear.push(why);
                    let jobs = self.list_jobs(template.id, None)?;
                    let launched = jobs
                        .iter()
                        .filter(|job| job.id > newest_seen)
                        .filter(|job| job.version.as_deref() == Some(version))
                        .max_by_key(|job| job.id);
                    if let Some(job) = launched {
                        return self.follow(&template, job.id, version, started);
                    }
                    // The launch did not happen: it may be sent again, but only once.
                    if unclear.len() >= 2 {
                        return Err(DeployError::Refused(format!(
                            "launching AWX job template \"{}\" for {version} got no clear answer twice ({}), and no job for {version} appeared; not trying again",
                            template.name,
                            unclear.join("; ")
                        )));
                    }
                }
            }
        }
    }

    /// The template by its exact name (and organization, when configured).
    fn find_template(&self) -> Result<Template, DeployError> {
        let mut query = vec![("name", self.template.clone())];
        if let Some(organization) = &self.organization {
            query.push(("organization__name", organization.clone()));
        }
        let what = format!("looking up AWX job template \"{}\"", self.template);
        let listing: Listing<TemplateItem> = self.get_json("/job_templates/", &query, &what)?;
        // `name` filters exactly in current AWX, but older releases matched loosely: re-check.
        let matches: Vec<&TemplateItem> = listing
            .results
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
            self.api_root,
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
            &launch_path,
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
                &format!("/job_templates/{}/survey_spec/", template.id),
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
        if !(200..300).contains(&answer.status) {
            return Err(self.refusal(
                &format!("launching AWX job template \"{}\"", template.name),
                &path,
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
        let deadline = started + self.deploy_timeout;
        let path = format!("/jobs/{job_id}/");
        loop {
            let value = self.get_json(&path, &[], &format!("following AWX job #{job_id}"))?;
            let job = AwxJob::from_json(value, &self.variable).ok_or_else(|| {
                DeployError::Refused(format!(
                    "AWX job #{job_id} has no id or status in its answer"
                ))
            })?;
            if job.is_terminal() {
                return Ok(self.finished(template, &job, version));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DeployError::Refused(format!(
                    "AWX job #{job_id} of \"{}\" for {version} did not finish within {:?} (still {}); it keeps running in AWX and the next deploy follows it rather than launching another: {}{path}",
                    template.name, self.deploy_timeout, job.status, self.api_root
                )));
            }
            std::thread::sleep(self.poll_interval.min(deadline - now));
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
        if !job.job_explanation.trim().is_empty() {
            detail.push_str(&format!(": {}", job.job_explanation.trim()));
        }
        let stdout = self
            .get(
                &format!("/jobs/{}/stdout/", job.id),
                &[("format", "txt".to_string())],
            )
            .map_err(|e| e.to_string())
            .and_then(|answer| {
                if (200..300).contains(&answer.status) {
                    Ok(answer.body)
                } else {
                    Err(format!("HTTP {}", answer.status))
                }
            });
        match stdout {
            Ok(text) => {
                let tail = tail_lines(&text, STDOUT_TAIL_LINES);
                if !tail.is_empty() {
                    detail.push_str("\nlast lines of its output:\n");
                    detail.push_str(&tail);
                }
            }
            Err(e) => detail.push_str(&format!(" (its output could not be read: {e})")),
        }
        DeployOutcome {
            succeeded: false,
            detail,
        }
    }

    /// The template's newest jobs, newest first. Never filtered on `extra_vars`: AWX forbids it.
    fn list_jobs(&self, template: u64, status: Option<&str>) -> Result<Vec<AwxJob>, DeployError> {
        let mut query = vec![
            ("job_template", template.to_string()),
            ("order_by", "-created".to_string()),
            ("page_size", RECENT_JOBS.to_string()),
        ];
        if let Some(status) = status {
            query.push(("status", status.to_string()));
        }
        let listing: Listing<Value> = self.get_json(
            "/jobs/",
            &query,
            &format!("listing the jobs of AWX job template \"{}\"", self.template),
        )?;
        Ok(listing
            .results
            .into_iter()
            .filter_map(|job| AwxJob::from_json(job, &self.variable))
            .collect())
    }

    /// A GET whose answer must be 2xx JSON of the documented shape; anything else becomes a
    /// readable error.
    fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, DeployError> {
        let answer = self.get(path, query).map_err(|e| DeployError::Http {
            what: format!("{what}: no answer from {}{path}", self.api_root),
            source: Box::new(e),
        })?;
        if !(200..300).contains(&answer.status) {
            return Err(self.refusal(what, path, &answer));
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
    fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, ureq::Error> {
        let mut attempt = 0;
        loop {
            let result = self.send("GET", path, query, None);
            attempt += 1;
            let retryable = match &result {
                Ok(answer) => answer.status >= 500,
                Err(_) => true,
            };
            if !retryable || attempt >= GET_ATTEMPTS {
                return result;
            }
            std::thread::sleep(self.retry_backoff * 2u32.pow(attempt - 1));
        }
    }

    /// A POST, sent exactly once: what to do about an unclear outcome is the caller's call.
    fn post(&self, path: &str, body: &Value) -> Result<Answer, ureq::Error> {
        self.send("POST", path, &[], Some(body))
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ureq::Error> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{path}", self.api_root);
        let authorization = format!("Bearer {}", self.token);
        let result = if method == "POST" {
            self.agent
                .post(&url)
                .header("Authorization", &authorization)
                .header("Accept", "application/json")
                .send_json(body.unwrap_or(&Value::Null))
        } else {
            let mut request = self
                .agent
                .get(&url)
                .header("Authorization", &authorization)
                .header("Accept", "application/json");
            for (key, value) in query {
                request = request.query(*key, value);
            }
            request.call()
        };
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
            .lossy_utf8(true)
            .read_to_string()?;
        Ok(Answer {
            status,
            body,
            location,
        })
    }

    /// Turns a non-2xx answer into an error that says what to do about it.
    fn refusal(&self, what: &str, path: &str, answer: &Answer) -> DeployError {
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
            404 => format!(
                "{what}: AWX answered HTTP 404 ({said}) for {}{path}; check [deploy] url and api_prefix (`/api/v2`, or `/api/controller/v2` behind the AAP gateway)",
                self.api_root
            ),
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

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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

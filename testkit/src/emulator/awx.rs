//! A stateful AWX emulator on 127.0.0.1, so the AWX deployer is tested against AWX's real
//! behaviour rather than against what we assume it does. What it reproduces, from the AWX source
//! (`awx/api/views`, `awx/api/serializers.py`, `awx/main/models/unified_jobs.py`):
//! - a launch with a variable the template does not prompt for answers **201** anyway, runs the job
//!   without it and lists it under `ignored_fields.extra_vars`;
//! - a job's `extra_vars` is a JSON *string*, and filtering jobs on it answers 403;
//! - job status moves `pending → waiting → running → successful|failed|error`, here one step per
//!   poll of the job, so a test controls the lifecycle without waiting; jobs carry `started`,
//!   `finished`, `elapsed`, `result_traceback` and `related` links, templates `related` links;
//! - bearer-token auth (401 with DRF's body), trailing-slash redirects, cancel (202/405);
//! - paging as `awx/api/pagination.py` does: `page_size` up to `MAX_PAGE_SIZE` (200, default
//!   25), `count`/`next`/`previous`/`results`, links that are paths with the query sorted;
//! - DRF's content negotiation (`?format=` picks the renderers, then `Accept` must admit one, or
//!   406 — rendered by the view's first renderer, the browsable API's HTML for stdout), and the
//!   stdout view's formats, "too large to display" over `STDOUT_MAX_BYTES_DISPLAY` except for the
//!   downloads, `start_line`/`end_line` in `format=json`;
//! - survey validation at launch (`_survey_element_validation` in `awx/main/models/mixins.py`):
//!   400 with `variables_needed_to_start`;
//! - the versions root `/api/` and the API root under a configurable prefix (`/api/v2`, or
//!   `/api/controller/v2` as AAP 2.5+ serves it behind its gateway, whose own `/api/` then names
//!   the gateway's API — a stand-in: its exact shape is not taken from a source), and a
//!   `/version/` page outside it standing in for the deployed application.
//!
//! It logs every request (never the Authorization header) and injects faults: an error status,
//! a dropped connection, or a response lost *after* its side effect happened.

use crate::http_server::{self, Reply, Request, Response, Server, percent_decode};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// The variable `/version/` and `fail_version` read from jobs unless told otherwise.
pub const DEFAULT_VERSION_VARIABLE: &str = "stack_image_tag";
/// AWX's `MAX_PAGE_SIZE` and `REST_FRAMEWORK['PAGE_SIZE']` (`awx/settings/defaults.py`).
pub const MAX_PAGE_SIZE: usize = 200;
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// AWX's `STDOUT_MAX_BYTES_DISPLAY`: more output than this is only served as a download.
pub const STDOUT_MAX_BYTES_DISPLAY: usize = 1_048_576;
const ACTIVE_STATUSES: &[&str] = &["new", "pending", "waiting", "running"];
const NOT_ACCEPTABLE: &str = "Could not satisfy the request Accept header.";

/// A fault to inject into matching requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status before doing anything.
    Status(u16),
    /// Close the connection before doing anything.
    Drop,
    /// Do the request's work (create the job…), then close the connection without answering.
    LoseResponse,
    /// Like `LoseResponse`, and the jobs it created stay out of the next this-many job
    /// listings: a controller still committing a launch its gateway already gave up on.
    LoseResponseListedLater(u32),
    /// Answer a list with no results and a `next` link to the following page: a broken AWX,
    /// or a proxy in front of one, that pages without end while the fault is armed.
    EmptyPage,
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The status answered; `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
}

/// A job as the emulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatedJob {
    pub id: u64,
    pub template: u64,
    pub status: String,
    /// As AWX stores it: a JSON string.
    pub extra_vars: String,
    pub created: String,
    pub job_explanation: String,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub result_traceback: String,
    /// Polls of the job's detail view so far; the lifecycle advances on each.
    pub polls: u32,
}

impl EmulatedJob {
    /// The value of `variable` in the job's extra vars.
    pub fn variable(&self, variable: &str) -> Option<String> {
        let vars: Value = serde_json::from_str(&self.extra_vars).ok()?;
        vars.get(variable)?.as_str().map(str::to_string)
    }

    fn is_active(&self) -> bool {
        ACTIVE_STATUSES.contains(&self.status.as_str())
    }

    /// Moves the job to `status`, stamping `started` when it leaves the queue and `finished`
    /// when it ends, as AWX's task runner does.
    fn set_status(&mut self, status: &str) {
        self.status = status.to_string();
        let queued = matches!(status, "new" | "pending" | "waiting");
        if !queued && self.started.is_none() {
            self.started = Some(now());
        }
        if !self.is_active() && self.finished.is_none() {
            self.finished = Some(now());
        }
    }

    /// Seconds between `started` and `finished` (or now), 0 before it started.
    fn elapsed(&self) -> f64 {
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
        let Some(started) = self.started.as_deref().and_then(parse) else {
            return 0.0;
        };
        let end = self
            .finished
            .as_deref()
            .and_then(parse)
            .unwrap_or_else(|| chrono::Utc::now().into());
        (end - started).num_milliseconds().max(0) as f64 / 1000.0
    }
}

/// A timestamp as AWX's serializers write them.
fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[derive(Debug, Clone)]
struct Template {
    id: u64,
    name: String,
    organization: String,
    ask_variables_on_launch: bool,
    /// The survey's questions (`survey_spec.spec`); an enabled survey when not empty.
    survey: Vec<Value>,
    /// Applied right after the next launch preflight: a template edited between the
    /// preflight and the launch.
    ask_variables_after_preflight: Option<bool>,
}

struct FaultRule {
    method: String,
    path_contains: String,
    fault: Fault,
    remaining: u32,
}

struct State {
    prefix: String,
    token: String,
    templates: Vec<Template>,
    jobs: Vec<EmulatedJob>,
    next_template_id: u64,
    next_job_id: u64,
    polls_to_finish: u32,
    failing_versions: BTreeSet<String>,
    erroring_versions: BTreeSet<String>,
    /// Lines of routine output before the failing task, to make output large.
    padding_lines: usize,
    version_variable: String,
    version_fields: BTreeMap<String, String>,
    faults: Vec<FaultRule>,
    /// AWX's `MAX_PAGE_SIZE`, which an administrator may set lower than the default.
    max_page_size: usize,
    /// Jobs left out of job listings, and for how many more listings.
    unlisted: BTreeMap<u64, u32>,
    log: Vec<LoggedRequest>,
}

/// Someone else's client of the emulator (see `AwxEmulator::someone_else`).
#[derive(Clone)]
pub struct SomeoneElse {
    state: Arc<Mutex<State>>,
}

impl SomeoneElse {
    /// Launches `template` with the version variable set to `version`; the job is `status`.
    pub fn launch(&self, template: u64, version: &str, status: &str) -> u64 {
        let mut state = lock(&self.state);
        let variable = state.version_variable.clone();
        let vars = json!({ variable: version }).to_string();
        let id = state.create_job(template, vars);
        if let Some(job) = state.jobs.iter_mut().find(|j| j.id == id) {
            job.set_status(status);
        }
        id
    }

    /// Moves a job on, as AWX does while it runs.
    pub fn set_status(&self, job: u64, status: &str) {
        if let Some(j) = lock(&self.state).jobs.iter_mut().find(|j| j.id == job) {
            j.set_status(status);
        }
    }
}

/// The running emulator; stops when dropped.
pub struct AwxEmulator {
    server: Server,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicking test thread must not take every later request down with it.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AwxEmulator {
    /// An emulator under `/api/v2` that accepts `Bearer <token>`.
    pub fn start(token: &str) -> std::io::Result<Self> {
        Self::start_with_prefix(token, "/api/v2")
    }

    /// An emulator whose API lives under `prefix` (e.g. `/api/controller/v2`).
    pub fn start_with_prefix(token: &str, prefix: &str) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            prefix: format!("/{}", prefix.trim_matches('/')),
            token: token.to_string(),
            templates: Vec::new(),
            jobs: Vec::new(),
            next_template_id: 1,
            // Jobs and templates are numbered apart, so a test cannot confuse one for the other.
            next_job_id: 100,
            polls_to_finish: 2,
            failing_versions: BTreeSet::new(),
            erroring_versions: BTreeSet::new(),
            padding_lines: 0,
            version_variable: DEFAULT_VERSION_VARIABLE.to_string(),
            version_fields: BTreeMap::new(),
            faults: Vec::new(),
            unlisted: BTreeMap::new(),
            max_page_size: MAX_PAGE_SIZE,
            log: Vec::new(),
        }));
        let handler_state = state.clone();
        let server = http_server::serve(
            "127.0.0.1:0",
            Arc::new(move |request: Request| handle(&handler_state, request)),
        )?;
        Ok(AwxEmulator { server, state })
    }

    /// `http://127.0.0.1:PORT`: `[deploy] url`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The API prefix, e.g. `/api/v2`.
    pub fn prefix(&self) -> String {
        lock(&self.state).prefix.clone()
    }

    /// Adds a job template; a non-empty `survey_variables` means an enabled survey asking for
    /// them. Returns its id.
    pub fn add_template(
        &self,
        name: &str,
        organization: &str,
        ask_variables_on_launch: bool,
        survey_variables: &[&str],
    ) -> u64 {
        let mut state = lock(&self.state);
        let id = state.next_template_id;
        state.next_template_id += 1;
        state.templates.push(Template {
            id,
            name: name.to_string(),
            organization: organization.to_string(),
            ask_variables_on_launch,
            // As AWX's survey editor writes a text question: required, 0 to 1024 characters.
            survey: survey_variables
                .iter()
                .map(|v| {
                    json!({"variable": v, "question_name": v, "question_description": "",
                        "type": "text", "required": true, "default": "", "min": 0, "max": 1024})
                })
                .collect(),
            ask_variables_after_preflight: None,
        });
        id
    }

    /// Deletes a template, as an operator would (its jobs stay, as AWX keeps them).
    pub fn remove_template(&self, template: u64) {
        lock(&self.state).templates.retain(|t| t.id != template);
    }

    /// Puts a survey question (as in `survey_spec.spec`) on the template, replacing the one
    /// for the same variable; the survey is then enabled.
    pub fn set_survey_question(&self, template: u64, question: Value) {
        let mut state = lock(&self.state);
        if let Some(t) = state.templates.iter_mut().find(|t| t.id == template) {
            let variable = question.get("variable").cloned();
            t.survey.retain(|q| q.get("variable") != variable.as_ref());
            t.survey.push(question);
        }
    }

    /// Simulates a template edited between the launch preflight and the launch: the next
    /// preflight still reports the template as it is, and right after it
    /// `ask_variables_on_launch` becomes `ask`.
    pub fn change_after_preflight(&self, template: u64, ask: bool) {
        let mut state = lock(&self.state);
        if let Some(t) = state.templates.iter_mut().find(|t| t.id == template) {
            t.ask_variables_after_preflight = Some(ask);
        }
    }

    /// How many polls of a job's detail view it takes to end (default 2: running, then done).
    /// `u32::MAX` keeps jobs running.
    pub fn set_polls_to_finish(&self, polls: u32) {
        lock(&self.state).polls_to_finish = polls;
    }

    /// AWX's `MAX_PAGE_SIZE` setting (default 200): larger `page_size`s are cut to it.
    pub fn set_max_page_size(&self, max: usize) {
        lock(&self.state).max_page_size = max.max(1);
    }

    /// Jobs for this version end `failed` (with a failing task in their output).
    pub fn fail_version(&self, version: &str) {
        lock(&self.state)
            .failing_versions
            .insert(version.to_string());
    }

    /// Jobs for this version end `error`, as when the controller itself fails (with a
    /// `result_traceback`).
    pub fn error_version(&self, version: &str) {
        lock(&self.state)
            .erroring_versions
            .insert(version.to_string());
    }

    /// Adds `lines` lines of routine output before the failing task of every job, e.g. enough
    /// to go over `STDOUT_MAX_BYTES_DISPLAY`.
    pub fn pad_output(&self, lines: usize) {
        lock(&self.state).padding_lines = lines;
    }

    /// The extra variable that carries the version (default `stack_image_tag`).
    pub fn set_version_variable(&self, variable: &str) {
        lock(&self.state).version_variable = variable.to_string();
    }

    /// Another field for `/version/` to report, e.g. `backend` = `xchem:2026.08.1`.
    pub fn set_version_field(&self, field: &str, value: &str) {
        lock(&self.state)
            .version_fields
            .insert(field.to_string(), value.to_string());
    }

    /// A handle for someone other than the client under test — the stack's CI launching the
    /// template — that an emulator hook on another thread can act through.
    pub fn someone_else(&self) -> SomeoneElse {
        SomeoneElse {
            state: self.state.clone(),
        }
    }

    /// Adds a job as if launched earlier, with the version variable set to `version`.
    pub fn seed_job(&self, template: u64, version: &str, status: &str) -> u64 {
        self.someone_else().launch(template, version, status)
    }

    /// Sets a job's status, as an operator or AWX itself would.
    pub fn set_job_status(&self, job: u64, status: &str) {
        if let Some(j) = lock(&self.state).jobs.iter_mut().find(|j| j.id == job) {
            j.set_status(status);
        }
    }

    pub fn jobs(&self) -> Vec<EmulatedJob> {
        lock(&self.state).jobs.clone()
    }

    pub fn job(&self, id: u64) -> Option<EmulatedJob> {
        lock(&self.state).jobs.iter().find(|j| j.id == id).cloned()
    }

    /// Makes the next `times` requests whose method is `method` (or `*`) and whose path
    /// contains `path_contains` fail with `fault`.
    pub fn inject(&self, method: &str, path_contains: &str, fault: Fault, times: u32) {
        lock(&self.state).faults.push(FaultRule {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            fault,
            remaining: times,
        });
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.state).log.clone()
    }

    /// How many requests had this method and a path containing `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        lock(&self.state)
            .log
            .iter()
            .filter(|r| r.method == method && r.path.contains(path_contains))
            .count()
    }

    /// Launch requests received (answered or not).
    pub fn launches(&self) -> usize {
        self.count("POST", "/launch/")
    }
}

impl State {
    /// One job listing answered: unlisted jobs come one listing closer to being listed.
    fn count_down_unlisted(&mut self) {
        for lists in self.unlisted.values_mut() {
            *lists = lists.saturating_sub(1);
        }
        self.unlisted.retain(|_, lists| *lists > 0);
    }

    fn create_job(&mut self, template: u64, extra_vars: String) -> u64 {
        let id = self.next_job_id;
        self.next_job_id += 1;
        self.jobs.push(EmulatedJob {
            id,
            template,
            status: "pending".into(),
            extra_vars,
            created: now(),
            job_explanation: String::new(),
            started: None,
            finished: None,
            result_traceback: String::new(),
            polls: 0,
        });
        id
    }

    fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let rule = self.faults.iter_mut().find(|rule| {
            rule.remaining > 0
                && (rule.method == "*" || rule.method.eq_ignore_ascii_case(method))
                && path.contains(&rule.path_contains)
        })?;
        rule.remaining -= 1;
        let fault = rule.fault;
        self.faults.retain(|rule| rule.remaining > 0);
        Some(fault)
    }

    fn template(&self, id: u64) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// Organizations are numbered in the order their first template was added.
    fn organization_id(&self, organization: &str) -> u64 {
        let mut seen: Vec<&str> = Vec::new();
        for t in &self.templates {
            if !seen.contains(&t.organization.as_str()) {
                seen.push(&t.organization);
            }
        }
        seen.iter().position(|o| *o == organization).unwrap_or(0) as u64 + 1
    }

    fn template_json(&self, t: &Template) -> Value {
        let url = format!("{}/job_templates/{}/", self.prefix, t.id);
        let organization = self.organization_id(&t.organization);
        json!({
            "id": t.id,
            "type": "job_template",
            "url": url,
            "related": {
                "organization": format!("{}/organizations/{organization}/", self.prefix),
                "launch": format!("{url}launch/"),
                "jobs": format!("{url}jobs/"),
                "survey_spec": format!("{url}survey_spec/"),
            },
            "summary_fields": {"organization": {"id": organization, "name": t.organization}},
            "name": t.name,
            "description": "",
            "job_type": "run",
            "organization": organization,
            "ask_variables_on_launch": t.ask_variables_on_launch,
            "survey_enabled": !t.survey.is_empty(),
            "allow_simultaneous": false,
            "status": "successful",
        })
    }

    fn job_json(&self, job: &EmulatedJob) -> Value {
        let name = self
            .template(job.template)
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let url = format!("{}/jobs/{}/", self.prefix, job.id);
        json!({
            "id": job.id,
            "type": "job",
            "url": url,
            "related": {
                "stdout": format!("{url}stdout/"),
                "cancel": format!("{url}cancel/"),
                "relaunch": format!("{url}relaunch/"),
                "job_events": format!("{url}job_events/"),
                "unified_job_template": format!("{}/job_templates/{}/", self.prefix, job.template),
                "job_template": format!("{}/job_templates/{}/", self.prefix, job.template),
            },
            "summary_fields": {"job_template": {"id": job.template, "name": name}},
            "name": name,
            "job_template": job.template,
            "unified_job_template": job.template,
            "launch_type": "manual",
            "job_type": "run",
            "status": job.status,
            "failed": matches!(job.status.as_str(), "failed" | "error" | "canceled"),
            "extra_vars": job.extra_vars,
            "created": job.created,
            "started": job.started,
            "finished": job.finished,
            "elapsed": job.elapsed(),
            "job_explanation": job.job_explanation,
            "result_traceback": job.result_traceback,
        })
    }

    /// The version of the newest successful job: what production would report.
    fn live_version(&self) -> Option<String> {
        self.jobs
            .iter()
            .filter(|j| j.status == "successful")
            .filter_map(|j| j.variable(&self.version_variable))
            .next_back()
    }
}

/// DRF's `JSONRenderer` has no charset: the content type is bare.
fn json_reply(status: u16, value: Value) -> Response {
    Response::new(status, "application/json", value.to_string())
}

fn detail(status: u16, message: &str) -> Response {
    json_reply(status, json!({ "detail": message }))
}

fn not_found() -> Response {
    detail(404, "Not found.")
}

fn method_not_allowed(method: &str) -> Response {
    detail(405, &format!("Method \"{method}\" not allowed."))
}

fn handle(state: &Mutex<State>, request: Request) -> Reply {
    let mut state = lock(state);
    let fault = state.take_fault(&request.method, &request.path);
    let mut entry = LoggedRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        status: None,
    };
    let reply = match fault {
        Some(Fault::Drop) => Reply::Drop,
        Some(Fault::Status(status)) => Reply::Respond(Response::text(
            status,
            &format!("emulated fault: HTTP {status}"),
        )),
        Some(Fault::LoseResponse) => {
            // The work happens; only the answer is lost.
            let _ = route(&mut state, &request);
            Reply::Drop
        }
        Some(Fault::LoseResponseListedLater(lists)) => {
            let before = state.next_job_id;
            let _ = route(&mut state, &request);
            for id in before..state.next_job_id {
                state.unlisted.insert(id, lists);
            }
            Reply::Drop
        }
        Some(Fault::EmptyPage) => {
            let page = request
                .query_param("page")
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(1);
            Reply::Respond(json_reply(
                200,
                json!({
                    "count": 1_000_000,
                    "next": format!("{}?page={}", request.path, page + 1),
                    "previous": null,
                    "results": [],
                }),
            ))
        }
        None if is_job_listing(&request) => {
            let response = route(&mut state, &request);
            state.count_down_unlisted();
            Reply::Respond(response)
        }
        None => Reply::Respond(route(&mut state, &request)),
    };
    if let Reply::Respond(response) = &reply {
        entry.status = Some(response.status);
    }
    state.log.push(entry);
    reply
}

fn route(state: &mut State, request: &Request) -> Response {
    let path = request.path.as_str();
    if path == "/version/" || path == "/version" {
        return version_page(state);
    }
    if let Some(root) = versions_root(state, path) {
        return root;
    }
    let Some(rest) = path
        .strip_prefix(state.prefix.as_str())
        .filter(|rest| rest.starts_with('/'))
    else {
        return not_found();
    };
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    // DRF negotiates before it authenticates: a 406 comes first.
    let renderers = if matches!(segments.as_slice(), ["jobs", _, "stdout"]) {
        STDOUT_RENDERERS
    } else {
        API_RENDERERS
    };
    let renderer = match negotiate(request, renderers) {
        Ok(renderer) => renderer,
        Err(refusal) => return refusal,
    };
    if rest == "/" {
        // The API root lists its resources to anyone (`ApiVersionRootView`, AllowAny).
        return render(renderer, 200, &api_root(state));
    }
    let expected = format!("Bearer {}", state.token);
    if request.header("authorization") != Some(expected.as_str()) {
        // AWX's `finalize_response` adds where to log in to a 401's detail.
        return json_reply(
            401,
            json!({"detail": "Authentication credentials were not provided. To establish a login session, visit /api/login/."}),
        )
        .with_header("www-authenticate", "Bearer realm=\"api\"");
    }
    // Like Django's APPEND_SLASH: AWX redirects a path without its trailing slash.
    if !rest.ends_with('/') {
        return Response::new(301, "text/html; charset=utf-8", Vec::new())
            .with_header("location", format!("{path}/"));
    }
    let method = request.method.as_str();
    let id = |s: &str| s.parse::<u64>().ok();
    match (method, segments.as_slice()) {
        ("GET", ["job_templates"]) => list_templates(state, request),
        ("GET", ["job_templates", t]) => match id(t).and_then(|t| state.template(t)) {
            Some(t) => json_reply(200, state.template_json(t)),
            None => not_found(),
        },
        ("GET", ["job_templates", t, "launch"]) => launch_info(state, id(t)),
        ("POST", ["job_templates", t, "launch"]) => launch(state, id(t), &request.body),
        ("GET", ["job_templates", t, "survey_spec"]) => survey_spec(state, id(t)),
        ("GET", ["job_templates", t, "jobs"]) => {
            match id(t).filter(|&t| state.template(t).is_some()) {
                Some(t) => list_jobs(state, request, Some(t)),
                None => not_found(),
            }
        }
        ("GET", ["jobs"]) => list_jobs(state, request, None),
        ("GET", ["jobs", j]) => poll_job(state, id(j)),
        ("GET", ["jobs", j, "cancel"]) => match state.jobs.iter().find(|job| Some(job.id) == id(j))
        {
            Some(job) => json_reply(200, json!({ "can_cancel": job.is_active() })),
            None => not_found(),
        },
        ("POST", ["jobs", j, "cancel"]) => cancel(state, id(j)),
        ("GET", ["jobs", j, "stdout"]) => stdout(state, id(j), request, renderer),
        (
            _,
            ["job_templates"]
            | ["job_templates", _]
            | ["job_templates", _, "launch" | "survey_spec" | "jobs"]
            | ["jobs"]
            | ["jobs", _]
            | ["jobs", _, "cancel" | "stdout"],
        ) => method_not_allowed(method),
        _ => not_found(),
    }
}

/// `GET /api/` (`ApiRootView`, AllowAny): the versions and where the current one is. Under the
/// AAP gateway prefix the controller's own root is `/api/controller/` (without `oauth2`, as
/// `is_optional_api_urlpattern_prefix_request` drops it), and `/api/` is the gateway's.
fn versions_root(state: &State, path: &str) -> Option<Response> {
    let controller = state.prefix.strip_suffix("/v2").unwrap_or("/api");
    let current = format!("{}/", state.prefix);
    let root = |oauth2: bool| {
        let mut root = json!({
            "description": "AWX REST API",
            "current_version": current,
            "available_versions": {"v2": current},
            "custom_logo": "",
            "custom_login_info": "",
            "login_redirect_override": "",
        });
        if oauth2 {
            root["oauth2"] = json!("/api/o/");
        }
        json_reply(200, root)
    };
    match path {
        _ if path == format!("{controller}/") => Some(root(controller == "/api")),
        "/api/" => Some(json_reply(
            200,
            json!({
                "description": "Gateway REST API (stand-in)",
                "current_version": "/api/gateway/v1/",
                "available_versions": {"v1": "/api/gateway/v1/"},
            }),
        )),
        "/api/gateway/v1/" if controller != "/api" => Some(json_reply(
            200,
            json!({"tokens": "/api/gateway/v1/tokens/", "users": "/api/gateway/v1/users/"}),
        )),
        _ => None,
    }
}

/// `GET /api/v2/` (`ApiVersionRootView`): the top-level resources, as paths.
fn api_root(state: &State) -> Value {
    let mut root = Map::new();
    for resource in [
        "ping",
        "config",
        "me",
        "organizations",
        "inventory",
        "job_templates",
        "jobs",
        "unified_job_templates",
        "unified_jobs",
    ] {
        root.insert(
            resource.into(),
            json!(format!("{}/{resource}/", state.prefix)),
        );
    }
    Value::Object(root)
}

/// A DRF renderer: what `?format=` calls it and the media type `Accept` must admit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Renderer {
    format: &'static str,
    media_type: &'static str,
}

/// `DEFAULT_RENDERER_CLASSES`: JSON, then the browsable API.
const API_RENDERERS: &[Renderer] = &[
    Renderer {
        format: "json",
        media_type: "application/json",
    },
    Renderer {
        format: "api",
        media_type: "text/html",
    },
];

/// `UnifiedJobStdout.renderer_classes`, in AWX's order.
const STDOUT_RENDERERS: &[Renderer] = &[
    Renderer {
        format: "api",
        media_type: "text/html",
    },
    Renderer {
        format: "html",
        media_type: "text/html",
    },
    Renderer {
        format: "txt",
        media_type: "text/plain",
    },
    Renderer {
        format: "ansi",
        media_type: "text/plain",
    },
    Renderer {
        format: "json",
        media_type: "application/json",
    },
    Renderer {
        format: "txt_download",
        media_type: "text/plain",
    },
    Renderer {
        format: "ansi_download",
        media_type: "text/plain",
    },
];

/// DRF's `DefaultContentNegotiation.select_renderer`: `?format=` keeps the renderers of that
/// format (none: 404), then the most specific `Accept` media types are tried first, each against
/// the renderers in order (none: 406). A refusal is rendered by the view's first renderer, as
/// `finalize_response` forces it when negotiation failed.
fn negotiate(request: &Request, renderers: &'static [Renderer]) -> Result<Renderer, Response> {
    let refuse =
        |status: u16, message: &str| render(renderers[0], status, &json!({"detail": message}));
    let candidates: Vec<Renderer> = match request.query_param("format") {
        Some(format) => {
            let kept: Vec<Renderer> = renderers
                .iter()
                .copied()
                .filter(|r| r.format == format)
                .collect();
            if kept.is_empty() {
                return Err(refuse(404, "Not found."));
            }
            kept
        }
        None => renderers.to_vec(),
    };
    let accept = request.header("accept").unwrap_or("*/*");
    let accepted: Vec<(u8, &str)> = accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let media_type = parts.next().filter(|m| !m.is_empty())?;
            let has_params = parts.any(|p| !p.starts_with("q="));
            let precedence = match media_type {
                "*/*" => 0,
                m if m.ends_with("/*") => 1,
                _ if has_params => 3,
                _ => 2,
            };
            Some((precedence, media_type))
        })
        .collect();
    for precedence in (0..=3).rev() {
        let group: Vec<&str> = accepted
            .iter()
            .filter(|a| a.0 == precedence)
            .map(|a| a.1)
            .collect();
        for renderer in &candidates {
            if group
                .iter()
                .any(|m| media_type_matches(renderer.media_type, m))
            {
                return Ok(*renderer);
            }
        }
    }
    Err(refuse(406, NOT_ACCEPTABLE))
}

fn media_type_matches(renderer: &str, accepted: &str) -> bool {
    let split = |m: &str| {
        let (main, sub) = m.split_once('/').unwrap_or((m, "*"));
        (main.to_ascii_lowercase(), sub.to_ascii_lowercase())
    };
    let (rmain, rsub) = split(renderer);
    let (amain, asub) = split(accepted);
    (amain == "*" || amain == rmain) && (asub == "*" || asub == rsub)
}

/// Data rendered as `renderer` renders it: JSON bare, the browsable API as an HTML page.
fn render(renderer: Renderer, status: u16, data: &Value) -> Response {
    match renderer.media_type {
        "text/html" => Response::new(
            status,
            "text/html; charset=utf-8",
            format!(
                "<!DOCTYPE html>\n<html><head><title>AWX REST API</title></head><body><pre>HTTP {status}\n\n{}</pre></body></html>",
                html_escape(&serde_json::to_string_pretty(data).unwrap_or_default())
            ),
        ),
        "text/plain" => Response::text(status, &data.to_string()),
        _ => json_reply(status, data.clone()),
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Query pairs, decoded, in order.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// DRF's `_positive_int(strict=True, cutoff=MAX_PAGE_SIZE)`: anything but a positive integer
/// is the default, anything over the maximum is the maximum.
fn page_size(request: &Request, max: usize) -> usize {
    request
        .query_param("page_size")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .min(max)
}

/// AWX's list envelope over one page of `items`. `next` and `previous` are the request's path
/// and query with `page` replaced (and a too large `page_size` capped), the query re-encoded
/// sorted by key, as DRF's `replace_query_param` does.
fn paged(request: &Request, items: Vec<Value>, max: usize) -> Response {
    let size = page_size(request, max);
    let count = items.len();
    let pages = count.div_ceil(size).max(1);
    let page = match request.query_param("page").as_deref() {
        None => 1,
        Some("last") => pages,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 && n <= pages => n,
            _ => return detail(404, "Invalid page."),
        },
    };
    let start = (page - 1) * size;
    let results: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    let link = |p: usize| {
        let mut pairs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in query_pairs(&request.query) {
            pairs.entry(key).or_default().push(value);
        }
        pairs.insert("page".into(), vec![p.to_string()]);
        let asked = request
            .query_param("page_size")
            .and_then(|s| s.parse::<usize>().ok());
        if asked.is_some_and(|n| n > max) {
            pairs.insert("page_size".into(), vec![max.to_string()]);
        }
        let query: Vec<String> = pairs
            .iter()
            .flat_map(|(key, values)| {
                values
                    .iter()
                    .map(move |value| format!("{}={}", form_encode(key), form_encode(value)))
            })
            .collect();
        format!("{}?{}", request.path, query.join("&"))
    };
    json_reply(
        200,
        json!({
            "count": count,
            "next": if page < pages { Value::from(link(page + 1)) } else { Value::Null },
            "previous": if page > 1 { Value::from(link(page - 1)) } else { Value::Null },
            "results": results,
        }),
    )
}

/// Python's `urlencode` (`quote_plus`): unreserved characters kept, space as `+`.
fn form_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn list_templates(state: &State, request: &Request) -> Response {
    let mut templates: Vec<&Template> = state.templates.iter().collect();
    for (key, value) in query_pairs(&request.query) {
        match key.as_str() {
            "name" | "name__exact" => templates.retain(|t| t.name == value),
            "name__icontains" => {
                let needle = value.to_lowercase();
                templates.retain(|t| t.name.to_lowercase().contains(&needle));
            }
            "organization__name" => templates.retain(|t| t.organization == value),
            "id" => templates.retain(|t| t.id.to_string() == value),
            _ => {}
        }
    }
    let items = templates.iter().map(|t| state.template_json(t)).collect();
    paged(request, items, state.max_page_size)
}

/// `GET …/jobs/`, of all jobs or of one template's.
fn is_job_listing(request: &Request) -> bool {
    request.method == "GET" && request.path.trim_end_matches('/').ends_with("/jobs")
}

fn list_jobs(state: &State, request: &Request, template: Option<u64>) -> Response {
    let mut jobs: Vec<&EmulatedJob> = state
        .jobs
        .iter()
        .filter(|j| !state.unlisted.contains_key(&j.id))
        .collect();
    if let Some(template) = template {
        jobs.retain(|j| j.template == template);
    }
    let mut newest_first = false;
    for (key, value) in query_pairs(&request.query) {
        // `prevent_search(extra_vars)`: any lookup on it, however prefixed, is refused.
        if key.split("__").any(|part| part == "extra_vars") {
            return detail(403, "Filtering on extra_vars is not allowed.");
        }
        match key.as_str() {
            "job_template" => jobs.retain(|j| j.template.to_string() == value),
            "status" => jobs.retain(|j| j.status == value),
            "status__in" => {
                let wanted: Vec<&str> = value.split(',').collect();
                jobs.retain(|j| wanted.contains(&j.status.as_str()));
            }
            "id" => jobs.retain(|j| j.id.to_string() == value),
            "order_by" => match value.as_str() {
                "-created" | "-id" => newest_first = true,
                "created" | "id" => newest_first = false,
                _ => {
                    return json_reply(
                        400,
                        json!({ "detail": format!("Cannot order by field \"{value}\"") }),
                    );
                }
            },
            _ => {}
        }
    }
    // Ids grow with creation time, so id order is creation order.
    if newest_first {
        jobs.reverse();
    }
    let items = jobs.iter().map(|j| state.job_json(j)).collect();
    paged(request, items, state.max_page_size)
}

fn launch_info(state: &mut State, template: Option<u64>) -> Response {
    let Some(t) = template.and_then(|id| state.templates.iter_mut().find(|t| t.id == id)) else {
        return not_found();
    };
    let answer = json!({
        "ask_variables_on_launch": t.ask_variables_on_launch,
        "ask_inventory_on_launch": false,
        "ask_limit_on_launch": false,
        "survey_enabled": !t.survey.is_empty(),
        "variables_needed_to_start": t.survey.iter()
            .filter(|q| q.get("required").and_then(Value::as_bool).unwrap_or(false))
            .filter_map(|q| q.get("variable").cloned())
            .collect::<Vec<_>>(),
        "passwords_needed_to_start": [],
        "inventory_needed_to_start": false,
        "credential_needed_to_start": false,
        "can_start_without_user_input": true,
        "defaults": {"extra_vars": ""},
        "job_template_data": {"name": t.name, "id": t.id, "description": ""},
    });
    if let Some(ask) = t.ask_variables_after_preflight.take() {
        t.ask_variables_on_launch = ask;
    }
    json_reply(200, answer)
}

fn survey_spec(state: &State, template: Option<u64>) -> Response {
    let Some(t) = template.and_then(|id| state.template(id)) else {
        return not_found();
    };
    if t.survey.is_empty() {
        // AWX answers an empty object for a template without a survey.
        return json_reply(200, json!({}));
    }
    json_reply(
        200,
        json!({"name": "", "description": "", "spec": t.survey}),
    )
}

fn launch(state: &mut State, template: Option<u64>, body: &[u8]) -> Response {
    let Some(t) = template.and_then(|id| state.template(id)).cloned() else {
        return not_found();
    };
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(e) => return detail(400, &format!("JSON parse error - {e}")),
        }
    };
    let Value::Object(fields) = body else {
        return detail(400, "Invalid data. Expected a dictionary, but got list.");
    };
    let mut accepted = Map::new();
    let mut ignored = Map::new();
    let mut ignored_vars = Map::new();
    let mut launch_vars = Map::new();
    for (field, value) in fields {
        if field != "extra_vars" {
            // No other prompt is enabled on emulated templates: AWX ignores them all.
            ignored.insert(field, value);
            continue;
        }
        let vars = match value {
            Value::Object(vars) => vars,
            Value::String(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(vars)) => vars,
                _ => {
                    return json_reply(
                        400,
                        json!({"extra_vars": [format!("Cannot parse as JSON (error: invalid) or YAML (error: invalid). Input: {text}")]}),
                    );
                }
            },
            Value::Null => Map::new(),
            _ => {
                return json_reply(
                    400,
                    json!({"extra_vars": ["Must be a valid JSON or YAML dictionary."]}),
                );
            }
        };
        launch_vars.extend(vars);
    }
    let errors: Vec<String> = t
        .survey
        .iter()
        .flat_map(|question| survey_errors(question, &launch_vars))
        .collect();
    if !errors.is_empty() {
        return json_reply(400, json!({ "variables_needed_to_start": errors }));
    }
    let asked = |key: &str| {
        t.survey
            .iter()
            .any(|q| q.get("variable").and_then(Value::as_str) == Some(key))
    };
    for (key, value) in launch_vars {
        if t.ask_variables_on_launch || asked(&key) {
            accepted.insert(key, value);
        } else {
            ignored_vars.insert(key, value);
        }
    }
    if !ignored_vars.is_empty() {
        ignored.insert("extra_vars".into(), Value::Object(ignored_vars));
    }
    let id = state.create_job(t.id, Value::Object(accepted).to_string());
    let Some(job) = state.jobs.iter().find(|j| j.id == id) else {
        return detail(500, "job vanished");
    };
    let mut answer = state.job_json(job);
    if let Value::Object(fields) = &mut answer {
        fields.insert("job".into(), json!(id));
        fields.insert("ignored_fields".into(), Value::Object(ignored));
    }
    let location = format!("{}/jobs/{id}/", state.prefix);
    json_reply(201, answer).with_header("location", location)
}

/// AWX's `_survey_element_validation` for one question against the launch's variables, with
/// its messages (Python's `%s` of the values).
fn survey_errors(question: &Value, vars: &Map<String, Value>) -> Vec<String> {
    let Some(variable) = question.get("variable").and_then(Value::as_str) else {
        return Vec::new();
    };
    let required = question
        .get("required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(value) = vars.get(variable) else {
        return if required {
            vec![format!("'{variable}' value missing")]
        } else {
            Vec::new()
        };
    };
    match question
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("text")
    {
        "text" | "textarea" | "password" => text_errors(question, variable, value),
        kind @ ("integer" | "float") => number_errors(question, kind, variable, value),
        kind @ ("multiplechoice" | "multiselect") => choice_errors(question, kind, variable, value),
        _ => Vec::new(),
    }
}

/// A question's `min` or `max`, unless blank.
fn survey_bound(question: &Value, key: &str) -> Option<f64> {
    match question.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if !s.is_empty() => s.trim().parse().ok(),
        _ => None,
    }
}

fn text_errors(question: &Value, variable: &str, value: &Value) -> Vec<String> {
    let shown = py_str(value);
    let Some(text) = value.as_str() else {
        return vec![format!(
            "Value {shown} for '{variable}' expected to be a string."
        )];
    };
    let length = text.chars().count();
    let mut errors = Vec::new();
    if survey_bound(question, "min").is_some_and(|min| (length as f64) < min.trunc()) {
        errors.push(format!(
            "'{variable}' value {shown} is too small (length is {length} must be at least {}).",
            py_str(&question["min"])
        ));
    }
    if survey_bound(question, "max").is_some_and(|max| (length as f64) > max.trunc()) {
        errors.push(format!(
            "'{variable}' value {shown} is too large (must be no more than {}).",
            py_str(&question["max"])
        ));
    }
    errors
}

fn number_errors(question: &Value, kind: &str, variable: &str, value: &Value) -> Vec<String> {
    let shown = py_str(value);
    let number = match value {
        Value::Number(n) if kind == "float" || n.is_i64() || n.is_u64() => n.as_f64(),
        _ => None,
    };
    let Some(number) = number else {
        let wanted = if kind == "integer" {
            "an integer"
        } else {
            "a numeric type"
        };
        return vec![format!(
            "Value {shown} for '{variable}' expected to be {wanted}."
        )];
    };
    let mut errors = Vec::new();
    if survey_bound(question, "min").is_some_and(|min| number < min) {
        errors.push(format!(
            "'{variable}' value {shown} is too small (must be at least {}).",
            py_str(&question["min"])
        ));
    }
    if survey_bound(question, "max").is_some_and(|max| number > max) {
        errors.push(format!(
            "'{variable}' value {shown} is too large (must be no more than {}).",
            py_str(&question["max"])
        ));
    }
    errors
}

fn choice_errors(question: &Value, kind: &str, variable: &str, value: &Value) -> Vec<String> {
    let choices: Vec<Value> = match question.get("choices") {
        Some(Value::Array(choices)) => choices.clone(),
        Some(Value::String(text)) => text
            .lines()
            .filter(|c| !c.trim().is_empty())
            .map(|c| json!(c))
            .collect(),
        _ => Vec::new(),
    };
    let listed = py_str(&Value::Array(choices.clone()));
    let values = match (kind, value) {
        ("multiselect", Value::Array(values)) => values.clone(),
        ("multiselect", _) => {
            return vec![format!("'{variable}' value is expected to be a list.")];
        }
        _ => vec![value.clone()],
    };
    values
        .iter()
        .filter(|v| !choices.contains(v))
        .map(|v| {
            format!(
                "Value {} for '{variable}' expected to be one of {listed}.",
                py_str(v)
            )
        })
        .collect()
}

/// Python's `str()` of a JSON value: strings bare at the top, `repr` inside lists.
fn py_str(value: &Value) -> String {
    fn repr(value: &Value) -> String {
        match value {
            Value::String(s) => format!("'{s}'"),
            other => py_str(other),
        }
    }
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("'{k}': {}", repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The job's detail view; each poll moves an active job one step along its lifecycle:
/// `pending`, then `waiting` (when it takes more than two polls), `running`, and on the last
/// poll `successful`, `failed` or `error`.
fn poll_job(state: &mut State, job: Option<u64>) -> Response {
    let polls_to_finish = state.polls_to_finish;
    let variable = state.version_variable.clone();
    let failing = state.failing_versions.clone();
    let erroring = state.erroring_versions.clone();
    let Some(j) = state.jobs.iter_mut().find(|j| Some(j.id) == job) else {
        return not_found();
    };
    if j.is_active() {
        j.polls = j.polls.saturating_add(1);
        if j.polls >= polls_to_finish {
            let version = j.variable(&variable);
            if version.as_ref().is_some_and(|v| erroring.contains(v)) {
                j.result_traceback = "Traceback (most recent call last):\n  File \"/var/lib/awx/venv/awx/lib/python3.11/site-packages/awx/main/tasks/jobs.py\", line 604, in run\n    res = receptor_job.run()\nRuntimeError: Pod Running Timeout: the execution environment did not start".into();
                j.set_status("error");
            } else if version.as_ref().is_some_and(|v| failing.contains(v)) {
                j.set_status("failed");
            } else {
                j.set_status("successful");
            }
        } else if j.polls == 1 && polls_to_finish > 2 && j.status == "pending" {
            j.set_status("waiting");
        } else {
            j.set_status("running");
        }
    }
    let j = j.clone();
    json_reply(200, state.job_json(&j))
}

fn cancel(state: &mut State, job: Option<u64>) -> Response {
    let Some(j) = state.jobs.iter_mut().find(|j| Some(j.id) == job) else {
        return not_found();
    };
    if !j.is_active() {
        return method_not_allowed("POST");
    }
    j.status = "canceled".into();
    Response::new(202, "application/json", Vec::new())
}

/// The job's output as AWX stores it: with terminal colours (`ansi`).
fn raw_output(state: &State, j: &EmulatedJob) -> String {
    let version = j
        .variable(&state.version_variable)
        .unwrap_or_else(|| "(unset)".into());
    let mut lines = vec![
        "Identity added: /runner/artifacts/ssh_key_data".to_string(),
        String::new(),
        "PLAY [Deploy the Fragalysis stack] *********************************************".into(),
        String::new(),
        "TASK [Gathering Facts] *********************************************************".into(),
        "\u{1b}[0;32mok: [production]\u{1b}[0m".into(),
    ];
    for step in 1..=12 {
        lines.push(String::new());
        lines.push(format!(
            "TASK [stack : Step {step} of the rollout] ******************************************"
        ));
        lines.push(format!(
            "\u{1b}[0;32mok: [production] => (step {step})\u{1b}[0m"
        ));
    }
    for line in 1..=state.padding_lines {
        lines.push(format!(
            "\u{1b}[0;32mok: [production] => (item=volume {line} of the stack's media, checked)\u{1b}[0m"
        ));
    }
    lines.push(String::new());
    lines.push(
        "TASK [stack : Pull the stack image] ********************************************".into(),
    );
    let failed = j.status == "failed";
    match j.status.as_str() {
        "failed" => lines.push(format!(
            "\u{1b}[0;31mfatal: [production]: FAILED! => {{\"changed\": false, \"msg\": \"Failed to pull image xchem/fragalysis-stack:{version}: manifest unknown\"}}\u{1b}[0m"
        )),
        "successful" => lines.push(format!(
            "\u{1b}[0;33mchanged: [production] => (image xchem/fragalysis-stack:{version})\u{1b}[0m"
        )),
        _ => {}
    }
    if !j.is_active() && j.status != "error" {
        lines.push(String::new());
        lines.push(
            "PLAY RECAP *********************************************************************"
                .into(),
        );
        lines.push(format!(
            "production                 : ok=14   changed={}    unreachable=0    failed={}    skipped=0",
            u8::from(!failed),
            u8::from(failed)
        ));
    }
    lines.join("\n") + "\n"
}

/// `re.sub(r'\x1b[^m]*m', '', …)`: what `txt` and `txt_download` take out of the output.
fn strip_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        match rest[at..].find('m') {
            Some(end) => rest = &rest[at + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `UnifiedJobStdout.retrieve`, for the renderer negotiation chose.
fn stdout(state: &State, job: Option<u64>, request: &Request, renderer: Renderer) -> Response {
    let Some(j) = state.jobs.iter().find(|j| Some(j.id) == job) else {
        return render(renderer, 404, &json!({"detail": "Not found."}));
    };
    let raw = raw_output(state, j);
    let format = renderer.format;
    if raw.len() > STDOUT_MAX_BYTES_DISPLAY && !format.ends_with("_download") {
        let message = format!(
            "Standard Output too large to display ({} bytes), only download supported for sizes over {STDOUT_MAX_BYTES_DISPLAY} bytes.",
            raw.len()
        );
        return match format {
            "json" => json_reply(
                200,
                json!({"range": {"start": 0, "end": 1, "absolute_end": 1}, "content": message}),
            ),
            "txt" | "ansi" => Response::text(200, &message),
            _ => Response::new(200, "text/html; charset=utf-8", message),
        };
    }
    match format {
        "json" => {
            let lines: Vec<&str> = raw.split_inclusive('\n').collect();
            let total = lines.len() as i64;
            let bound = |name: &str| {
                request
                    .query_param(name)
                    .and_then(|s| s.parse::<i64>().ok())
            };
            // Python slicing: negative counts from the end.
            let index = |n: i64| {
                if n < 0 {
                    (total + n).max(0)
                } else {
                    n.min(total)
                }
            };
            let start = bound("start_line").unwrap_or(0);
            let end = bound("end_line");
            let (from, to) = (index(start), end.map_or(total, index));
            let content: String = lines
                .get(from as usize..to.max(from) as usize)
                .unwrap_or_default()
                .concat();
            let (start_actual, end_actual) = if start < 0 {
                (total + start, total)
            } else {
                (start, end.map_or(total, |e| e.min(total)))
            };
            json_reply(
                200,
                json!({"range": {"start": start_actual, "end": end_actual, "absolute_end": total}, "content": content}),
            )
        }
        "txt" => Response::text(200, &strip_colours(&raw)),
        "ansi" => Response::text(200, &raw),
        "txt_download" | "ansi_download" => {
            let (body, suffix) = if format == "txt_download" {
                (strip_colours(&raw), "")
            } else {
                (raw, ".ansi")
            };
            Response::new(200, "text/plain", body).with_header(
                "content-disposition",
                format!("attachment; filename=\"job_{}{suffix}.txt\"", j.id),
            )
        }
        _ => Response::new(
            200,
            "text/html; charset=utf-8",
            format!("<pre>{}</pre>", html_escape(&strip_colours(&raw))),
        ),
    }
}

/// Stands in for the deployed application's `/version/` page.
fn version_page(state: &State) -> Response {
    let mut fields = Map::new();
    for (field, value) in &state.version_fields {
        fields.insert(field.clone(), json!(value));
    }
    fields.insert(
        "stack".into(),
        state
            .live_version()
            .map_or(Value::Null, |v| json!(format!("xchem:{v}"))),
    );
    json_reply(200, json!({ "version": fields }))
}

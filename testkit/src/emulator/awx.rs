//! A stateful AWX emulator on 127.0.0.1, so the AWX deployer is tested against AWX's real
//! behaviour rather than against what we assume it does. What it reproduces, from the AWX source
//! (`awx/api/views`, `awx/api/serializers.py`, `awx/main/models/unified_jobs.py`):
//! - a launch with a variable the template does not prompt for answers **201** anyway, runs the job
//!   without it and lists it under `ignored_fields.extra_vars`;
//! - a job's `extra_vars` is a JSON *string*, and filtering jobs on it answers 403;
//! - job status moves `pending → running → successful|failed`, here one step per poll of the
//!   job, so a test controls the lifecycle without waiting;
//! - bearer-token auth (401 with DRF's body), trailing-slash redirects, paging, cancel (202/405),
//!   plain-text stdout;
//! - the API under a configurable prefix (`/api/v2`, or `/api/controller/v2` behind the AAP
//!   gateway), and a `/version/` page outside it standing in for the deployed application.
//!
//! It logs every request (never the Authorization header) and injects faults: an error status,
//! a dropped connection, or a response lost *after* its side effect happened.

use crate::http_server::{self, Reply, Request, Response, Server, percent_decode};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// The variable `/version/` and `fail_version` read from jobs unless told otherwise.
pub const DEFAULT_VERSION_VARIABLE: &str = "stack_image_tag";
/// AWX's `MAX_PAGE_SIZE`.
const MAX_PAGE_SIZE: usize = 200;
const DEFAULT_PAGE_SIZE: usize = 25;
const ACTIVE_STATUSES: &[&str] = &["new", "pending", "waiting", "running"];

/// A fault to inject into matching requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status before doing anything.
    Status(u16),
    /// Close the connection before doing anything.
    Drop,
    /// Do the request's work (create the job…), then close the connection without answering.
    LoseResponse,
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
}

#[derive(Debug, Clone)]
struct Template {
    id: u64,
    name: String,
    organization: String,
    ask_variables_on_launch: bool,
    survey_variables: Vec<String>,
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
    version_variable: String,
    version_fields: BTreeMap<String, String>,
    faults: Vec<FaultRule>,
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
            job.status = status.to_string();
        }
        id
    }

    /// Moves a job on, as AWX does while it runs.
    pub fn set_status(&self, job: u64, status: &str) {
        if let Some(j) = lock(&self.state).jobs.iter_mut().find(|j| j.id == job) {
            j.status = status.to_string();
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
            version_variable: DEFAULT_VERSION_VARIABLE.to_string(),
            version_fields: BTreeMap::new(),
            faults: Vec::new(),
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
            survey_variables: survey_variables.iter().map(|v| v.to_string()).collect(),
            ask_variables_after_preflight: None,
        });
        id
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

    /// Jobs for this version end `failed` (with a failing task in their output).
    pub fn fail_version(&self, version: &str) {
        lock(&self.state)
            .failing_versions
            .insert(version.to_string());
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
            j.status = status.to_string();
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
    fn create_job(&mut self, template: u64, extra_vars: String) -> u64 {
        let id = self.next_job_id;
        self.next_job_id += 1;
        self.jobs.push(EmulatedJob {
            id,
            template,
            status: "pending".into(),
            extra_vars,
            created: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
            job_explanation: String::new(),
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
        json!({
            "id": t.id,
            "type": "job_template",
            "url": format!("{}/job_templates/{}/", self.prefix, t.id),
            "name": t.name,
            "organization": self.organization_id(&t.organization),
            "ask_variables_on_launch": t.ask_variables_on_launch,
            "survey_enabled": !t.survey_variables.is_empty(),
            "allow_simultaneous": false,
            "summary_fields": {"organization": {"name": t.organization}},
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
                "job_template": format!("{}/job_templates/{}/", self.prefix, job.template),
            },
            "summary_fields": {"job_template": {"id": job.template, "name": name}},
            "name": name,
            "job_template": job.template,
            "launch_type": "manual",
            "status": job.status,
            "failed": matches!(job.status.as_str(), "failed" | "error" | "canceled"),
            "extra_vars": job.extra_vars,
            "created": job.created,
            "job_explanation": job.job_explanation,
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

fn json_reply(status: u16, value: Value) -> Response {
    Response::json(status, &value)
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
    let Some(rest) = path
        .strip_prefix(state.prefix.as_str())
        .filter(|rest| rest.starts_with('/'))
    else {
        return not_found();
    };
    let expected = format!("Bearer {}", state.token);
    if request.header("authorization") != Some(expected.as_str()) {
        return detail(401, "Authentication credentials were not provided.")
            .with_header("www-authenticate", "Bearer realm=\"api\"");
    }
    // Like Django's APPEND_SLASH: AWX redirects a path without its trailing slash.
    if !rest.ends_with('/') {
        return Response::new(301, "text/html; charset=utf-8", Vec::new())
            .with_header("location", format!("{path}/"));
    }
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
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
        ("GET", ["jobs", j, "stdout"]) => stdout(state, id(j), request),
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

fn page_size(request: &Request) -> usize {
    request
        .query_param("page_size")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .min(MAX_PAGE_SIZE)
}

/// AWX's list envelope over one page of `items`; `next` and `previous` keep the filters.
fn paged(request: &Request, items: Vec<Value>) -> Response {
    let size = page_size(request);
    let page = request
        .query_param("page")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1);
    let count = items.len();
    let start = (page - 1).saturating_mul(size);
    if start > 0 && start >= count {
        return detail(404, "Invalid page.");
    }
    let results: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    let filters: String = request
        .query
        .split('&')
        .filter(|pair| {
            !pair.is_empty() && !pair.starts_with("page=") && !pair.starts_with("page_size=")
        })
        .map(|pair| format!("&{pair}"))
        .collect();
    let link = |p: usize| format!("{}?page={p}&page_size={size}{filters}", request.path);
    json_reply(
        200,
        json!({
            "count": count,
            "next": if start + size < count { Value::from(link(page + 1)) } else { Value::Null },
            "previous": if page > 1 { Value::from(link(page - 1)) } else { Value::Null },
            "results": results,
        }),
    )
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
    paged(request, items)
}

fn list_jobs(state: &State, request: &Request, template: Option<u64>) -> Response {
    let mut jobs: Vec<&EmulatedJob> = state.jobs.iter().collect();
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
    paged(request, items)
}

fn launch_info(state: &mut State, template: Option<u64>) -> Response {
    let Some(t) = template.and_then(|id| state.templates.iter_mut().find(|t| t.id == id)) else {
        return not_found();
    };
    let answer = json!({
        "ask_variables_on_launch": t.ask_variables_on_launch,
        "ask_inventory_on_launch": false,
        "ask_limit_on_launch": false,
        "survey_enabled": !t.survey_variables.is_empty(),
        "variables_needed_to_start": [],
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
    if t.survey_variables.is_empty() {
        // AWX answers an empty object for a template without a survey.
        return json_reply(200, json!({}));
    }
    let spec: Vec<Value> = t
        .survey_variables
        .iter()
        .map(|v| json!({"variable": v, "question_name": v, "type": "text", "required": true, "default": ""}))
        .collect();
    json_reply(200, json!({"name": "", "description": "", "spec": spec}))
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
        for (key, value) in vars {
            if t.ask_variables_on_launch || t.survey_variables.contains(&key) {
                accepted.insert(key, value);
            } else {
                ignored_vars.insert(key, value);
            }
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

/// The job's detail view; each poll moves an active job one step along its lifecycle.
fn poll_job(state: &mut State, job: Option<u64>) -> Response {
    let polls_to_finish = state.polls_to_finish;
    let variable = state.version_variable.clone();
    let failing = state.failing_versions.clone();
    let Some(j) = state.jobs.iter_mut().find(|j| Some(j.id) == job) else {
        return not_found();
    };
    if j.is_active() {
        j.polls = j.polls.saturating_add(1);
        if j.polls >= polls_to_finish {
            let fails = j.variable(&variable).is_some_and(|v| failing.contains(&v));
            j.status = if fails { "failed" } else { "successful" }.into();
        } else {
            j.status = "running".into();
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

fn stdout(state: &State, job: Option<u64>, request: &Request) -> Response {
    let Some(j) = state.jobs.iter().find(|j| Some(j.id) == job) else {
        return not_found();
    };
    let version = j
        .variable(&state.version_variable)
        .unwrap_or_else(|| "(unset)".into());
    let mut lines = vec![
        "Identity added: /runner/artifacts/ssh_key_data".to_string(),
        String::new(),
        "PLAY [Deploy the Fragalysis stack] *********************************************".into(),
        String::new(),
        "TASK [Gathering Facts] *********************************************************".into(),
        "ok: [production]".into(),
    ];
    for step in 1..=12 {
        lines.push(String::new());
        lines.push(format!(
            "TASK [stack : Step {step} of the rollout] ******************************************"
        ));
        lines.push(format!("ok: [production] => (step {step})"));
    }
    lines.push(String::new());
    lines.push(
        "TASK [stack : Pull the stack image] ********************************************".into(),
    );
    let failed = j.status == "failed";
    match j.status.as_str() {
        "failed" => lines.push(format!(
            "fatal: [production]: FAILED! => {{\"changed\": false, \"msg\": \"Failed to pull image xchem/fragalysis-stack:{version}: manifest unknown\"}}"
        )),
        "successful" => lines.push(format!(
            "changed: [production] => (image xchem/fragalysis-stack:{version})"
        )),
        _ => {}
    }
    if !j.is_active() {
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
    let text = lines.join("\n") + "\n";
    match request.query_param("format").as_deref() {
        Some("json") => json_reply(
            200,
            json!({"range": {"start": 0, "end": lines.len(), "absolute_end": lines.len()}, "content": text}),
        ),
        Some("txt" | "ansi" | "txt_download" | "ansi_download") => Response::text(200, &text),
        Some("html") | None => Response::new(
            200,
            "text/html; charset=utf-8",
            format!("<pre>{text}</pre>"),
        ),
        Some(other) => detail(400, &format!("Unsupported format: {other}")),
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

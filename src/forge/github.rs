//! The GitHub forge, through octocrab's authenticated client. Every request goes through two
//! doors: `get` (conditional with a bounded ETag cache, so an idle reconcile costs no rate limit;
//! retried with backoff on 5xx and transport errors; waiting out primary and secondary rate
//! limits) and `write` (never retried blindly: a creating request whose answer is lost is
//! reported as `Unclear`, and the loop observes before anything is sent again). octocrab's own
//! retry is off, since it would re-send POSTs.

use super::{
    CiStatus, CommitId, CommitRange, CommitSummary, DeploymentRecord, DeploymentState,
    FileAtCommit, FileWrite, Forge, ForgeError, ForgeResult, NewRelease, RELEASED_BY, ReleaseInfo,
    TagRef,
};
use crate::config::RepoLocation;
use crate::credentials::GithubAuth;
use crate::release::TicketRef;
use base64::Engine;
use octocrab::Octocrab;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a refusal to list secrets or variables is believed before asking again: a token's
/// permissions rarely change, and asking on every reconcile would spend rate limit each time.
const REFUSAL_MEMORY: Duration = Duration::from_secs(60 * 60);

/// How requests are retried and how long stackrel will wait on a rate limit before giving up.
#[derive(Debug, Clone, Copy)]
pub struct RequestPolicy {
    /// Attempts for a GET (the first included).
    pub get_attempts: u32,
    /// First backoff between GET attempts; doubles each time.
    pub backoff: Duration,
    /// The longest a rate limit may be waited out inside one request; longer is an error.
    pub max_rate_limit_wait: Duration,
    /// Used when a secondary limit gives no `retry-after` (GitHub says: at least a minute).
    pub secondary_limit_wait: Duration,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            get_attempts: 4,
            backoff: Duration::from_millis(500),
            max_rate_limit_wait: Duration::from_secs(15 * 60),
            secondary_limit_wait: Duration::from_secs(60),
        }
    }
}

/// Counts of requests by method and status, and the last rate-limit headers seen.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RequestStats {
    pub by_method_status: BTreeMap<String, u64>,
    /// Requests that counted against the rate limit (everything but 304s).
    pub counted: u64,
    pub not_modified: u64,
    pub rate_limit_remaining: Option<u64>,
}

/// Bounded cache of GET bodies by URI for conditional requests.
struct EtagCache {
    entries: HashMap<String, (String, Vec<u8>)>,
    order: VecDeque<String>,
    capacity: usize,
}

impl EtagCache {
    fn new(capacity: usize) -> Self {
        EtagCache {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn get(&self, uri: &str) -> Option<&(String, Vec<u8>)> {
        self.entries.get(uri)
    }

    fn put(&mut self, uri: String, etag: String, body: Vec<u8>) {
        if self.entries.insert(uri.clone(), (etag, body)).is_none() {
            self.order.push_back(uri);
            while self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.entries.remove(&oldest);
                }
            }
        }
    }
}

/// What a GET found.
enum Fetched {
    Found(Value),
    Missing,
    /// GitHub answered, and said no.
    Refused(ForgeError),
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// GitHub's `message`, and the codes of its `errors` list, for error texts.
    fn message(&self) -> String {
        let body = self.json();
        let mut message = body["message"].as_str().unwrap_or("").trim().to_string();
        if let Some(errors) = body["errors"].as_array() {
            let codes: Vec<String> = errors
                .iter()
                .map(|e| {
                    e["code"]
                        .as_str()
                        .or(e["message"].as_str())
                        .unwrap_or("?")
                        .to_string()
                })
                .collect();
            if !codes.is_empty() {
                message.push_str(&format!(" ({})", codes.join(", ")));
            }
        }
        if message.is_empty() {
            message = String::from_utf8_lossy(&self.body)
                .chars()
                .take(200)
                .collect();
        }
        message
    }

    fn header(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.trim().parse().ok()
    }
}

pub struct GithubForge {
    octo: Octocrab,
    runtime: tokio::runtime::Runtime,
    cache: Mutex<EtagCache>,
    stats: Mutex<RequestStats>,
    policy: RequestPolicy,
    /// Deployments are listed for the newest ones only; older history is not needed to plan.
    environment: String,
    /// What this forge wrote or read that cannot have changed behind its back, so that it is
    /// not asked for again (see `Known`).
    known: Mutex<Known>,
}

/// Facts this process learned that GitHub need not be asked for again: each is either about
/// something only this forge writes (its deployment statuses, its ticket comment) or final.
#[derive(Default)]
struct Known {
    /// `GET` URIs refused (403/404) and when: listing secrets needs rights a token may lack.
    refused: HashMap<String, Instant>,
    /// Deployment id by `{repo}@{version}`: the newest deployment of that version.
    deployment_ids: HashMap<String, u64>,
    /// A deployment's newest status, when this forge posted it or it is final.
    statuses: HashMap<u64, Value>,
    /// `{ticket}{marker}` → the id and body of stackrel's comment.
    comments: HashMap<String, (u64, String)>,
    /// `{ticket}:{label}` for labels this forge added.
    labels: HashSet<String>,
}

/// Whether a GET's answer is fixed by the URI: a file at a full commit SHA, a tag object.
fn immutable(uri: &str) -> bool {
    let full_sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some((path, query)) = uri.split_once('?')
        && path.contains("/contents/")
    {
        return query
            .split('&')
            .any(|pair| pair.strip_prefix("ref=").is_some_and(full_sha));
    }
    uri.rsplit_once("/git/tags/")
        .is_some_and(|(_, sha)| full_sha(sha))
}

/// A status that no later write of stackrel's follows on the same deployment.
fn is_final(status: &Value) -> bool {
    matches!(
        state_of(
            status["state"].as_str().unwrap_or_default(),
            status["description"].as_str().unwrap_or_default()
        ),
        DeploymentState::Failed
            | DeploymentState::Verified
            | DeploymentState::Reported
            | DeploymentState::Adopted
    )
}

fn encode_path(path: &str) -> String {
    // GitHub paths are percent-encoded by segment; tag names and file paths rarely need it.
    path.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn repo_path(repo: &RepoLocation) -> ForgeResult<String> {
    match repo {
        RepoLocation::GitHub { owner, name } => Ok(format!("/repos/{owner}/{name}")),
        RepoLocation::Local(path) => Err(ForgeError::Unsupported(format!(
            "{path} is a local repository, not a GitHub one"
        ))),
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl GithubForge {
    /// Connects to `api_url` (`https://api.github.com`, GHES `https://HOST/api/v3`, or an
    /// emulator) with the given credentials.
    pub fn connect(
        api_url: &str,
        auth: &GithubAuth,
        policy: RequestPolicy,
    ) -> Result<GithubForge, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the HTTP runtime: {e}"))?;
        let builder = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| format!("`{api_url}` is not a usable API URL: {e}"))?
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)));
        // octocrab's client spawns its buffer worker when built, which needs a runtime context
        // (outside one, building panics); the worker then runs whenever a request is driven.
        let _context = runtime.enter();
        let octo = match auth {
            GithubAuth::Token(token) => builder
                .personal_token(token.expose().to_string())
                .build()
                .map_err(|e| format!("building the GitHub client: {e}"))?,
            GithubAuth::App {
                app_id,
                private_key,
                installation_id,
            } => {
                let app = runtime.block_on(async {
                    builder
                        .app_from_rsa_pem(
                            octocrab::models::AppId(*app_id),
                            private_key.expose().as_bytes(),
                        )
                        .map_err(|_| {
                            "GITHUB_APP_PRIVATE_KEY_FILE is not a valid RSA private key (PEM)"
                                .to_string()
                        })?
                        .build()
                        .map_err(|e| format!("building the GitHub App client: {e}"))
                })?;
                let Some(id) = installation_id else {
                    return Err("set GITHUB_APP_INSTALLATION_ID (the App's installation on the stack's organisation)".into());
                };
                runtime.block_on(async {
                    app.installation(octocrab::models::InstallationId(*id))
                        .map_err(|e| format!("using installation {id}: {e}"))
                })?
            }
        };
        Ok(GithubForge {
            octo,
            runtime,
            cache: Mutex::new(EtagCache::new(1024)),
            stats: Mutex::new(RequestStats::default()),
            policy,
            environment: "production".into(),
            known: Mutex::new(Known::default()),
        })
    }

    pub fn stats(&self) -> RequestStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn record(&self, method: &str, answer: &Answer) {
        if let Ok(mut stats) = self.stats.lock() {
            *stats
                .by_method_status
                .entry(format!("{method} {}", answer.status))
                .or_default() += 1;
            if answer.status == 304 {
                stats.not_modified += 1;
            } else {
                stats.counted += 1;
            }
            if let Some(remaining) = answer.header("x-ratelimit-remaining") {
                stats.rate_limit_remaining = Some(remaining);
            }
        }
    }

    /// How long to wait before retrying a rate-limited answer, if it is one.
    fn rate_limit_wait(&self, answer: &Answer) -> Option<Duration> {
        if answer.status != 403 && answer.status != 429 {
            return None;
        }
        if let Some(seconds) = answer.header("retry-after") {
            return Some(Duration::from_secs(seconds));
        }
        if answer.header("x-ratelimit-remaining") == Some(0) {
            let reset = answer.header("x-ratelimit-reset").unwrap_or(0);
            return Some(Duration::from_secs(reset.saturating_sub(now()).max(1)));
        }
        let message = answer.message().to_lowercase();
        if answer.status == 429
            || message.contains("secondary rate limit")
            || message.contains("abuse")
        {
            return Some(self.policy.secondary_limit_wait);
        }
        None
    }

    fn wait_out(&self, what: &str, wait: Duration) -> ForgeResult<()> {
        if wait > self.policy.max_rate_limit_wait {
            return Err(ForgeError::Other(format!(
                "GitHub's rate limit for {what} resets in {}s, longer than stackrel waits ({}s); it will retry on the next reconcile",
                wait.as_secs(),
                self.policy.max_rate_limit_wait.as_secs()
            )));
        }
        tracing::warn!(
            request = what,
            wait_seconds = wait.as_secs(),
            "GitHub rate limit: waiting"
        );
        std::thread::sleep(wait);
        Ok(())
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<Answer, String> {
        let response = match method {
            "GET" => {
                let mut headers = http::HeaderMap::new();
                if let Some(etag) = etag.and_then(|e| http::HeaderValue::from_str(e).ok()) {
                    headers.insert(http::header::IF_NONE_MATCH, etag);
                }
                self.octo._get_with_headers(uri, Some(headers)).await
            }
            "POST" => self.octo._post(uri, body).await,
            "PUT" => self.octo._put(uri, body).await,
            "PATCH" => self.octo._patch(uri, body).await,
            other => return Err(format!("unsupported method {other}")),
        }
        .map_err(|e| describe_octocrab_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .map_err(|e| format!("reading the response: {}", describe_octocrab_error(&e)))?
            .to_bytes()
            .to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A GET: conditional, retried, rate-limit aware. `Ok(None)` on 404.
    fn get(&self, uri: &str) -> ForgeResult<Option<Value>> {
        match self.fetch(uri)? {
            Fetched::Found(value) => Ok(Some(value)),
            Fetched::Missing => Ok(None),
            Fetched::Refused(e) => Err(e),
        }
    }

    /// A GET that tells a refusal apart from a failure to ask. What a URI fixes (a file at a
    /// commit) is answered from the cache without asking at all.
    fn fetch(&self, uri: &str) -> ForgeResult<Fetched> {
        if immutable(uri)
            && let Some(body) = self
                .cache
                .lock()
                .ok()
                .and_then(|c| c.get(uri).map(|(_, body)| body.clone()))
        {
            return Ok(Fetched::Found(
                serde_json::from_slice(&body).unwrap_or(Value::Null),
            ));
        }
        let mut backoff = self.policy.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let cached_etag = self
                .cache
                .lock()
                .ok()
                .and_then(|c| c.get(uri).map(|(etag, _)| etag.clone()));
            let result = self
                .runtime
                .block_on(self.send("GET", uri, None, cached_etag.as_deref()));
            let answer = match result {
                Ok(answer) => answer,
                Err(e) if attempt < self.policy.get_attempts => {
                    tracing::debug!(uri, error = %e, "GET failed; retrying");
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                Err(e) => return Err(ForgeError::Other(format!("GET {uri}: {e}"))),
            };
            self.record("GET", &answer);
            match answer.status {
                304 => {
                    let cached = self
                        .cache
                        .lock()
                        .ok()
                        .and_then(|c| c.get(uri).map(|(_, body)| body.clone()));
                    match cached {
                        Some(body) => {
                            return Ok(Fetched::Found(
                                serde_json::from_slice(&body).unwrap_or(Value::Null),
                            ));
                        }
                        // Evicted between request and answer: ask again, unconditionally.
                        None => continue,
                    }
                }
                200..=299 => {
                    if let Some(etag) = answer.headers.get("etag").and_then(|v| v.to_str().ok())
                        && let Ok(mut cache) = self.cache.lock()
                    {
                        cache.put(uri.to_string(), etag.to_string(), answer.body.clone());
                    }
                    return Ok(Fetched::Found(answer.json()));
                }
                404 => return Ok(Fetched::Missing),
                500..=599 if attempt < self.policy.get_attempts => {
                    std::thread::sleep(backoff);
                    backoff *= 2;
                }
                _ => {
                    if let Some(wait) = self.rate_limit_wait(&answer)
                        && attempt < self.policy.get_attempts + 2
                    {
                        self.wait_out(uri, wait)?;
                        continue;
                    }
                    return Ok(Fetched::Refused(refusal("GET", uri, &answer)));
                }
            }
        }
    }

    /// A creating or changing request. Rate-limit refusals are waited out and re-sent (GitHub
    /// did nothing); anything unclear is `Unclear`; other refusals are returned as answers for
    /// the caller to interpret (409, 422).
    fn write(&self, method: &str, uri: &str, body: &Value) -> ForgeResult<Answer> {
        let mut waits = 0;
        loop {
            let answer = match self
                .runtime
                .block_on(self.send(method, uri, Some(body), None))
            {
                Ok(answer) => answer,
                Err(e) => return Err(ForgeError::Unclear(format!("{method} {uri} ({e})"))),
            };
            self.record(method, &answer);
            if (500..=599).contains(&answer.status) {
                return Err(ForgeError::Unclear(format!(
                    "{method} {uri} (GitHub answered {})",
                    answer.status
                )));
            }
            if let Some(wait) = self.rate_limit_wait(&answer)
                && waits < 3
            {
                waits += 1;
                self.wait_out(uri, wait)?;
                continue;
            }
            return Ok(answer);
        }
    }

    fn expect_ok(&self, method: &str, uri: &str, answer: Answer) -> ForgeResult<Value> {
        match answer.status {
            200..=299 => Ok(answer.json()),
            _ => Err(refusal(method, uri, &answer)),
        }
    }

    /// What the credentials can do on each repository, for the startup preflight: `(repo,
    /// can read, can push)`.
    pub fn permissions(&self, repo: &RepoLocation) -> ForgeResult<(bool, bool)> {
        match self.get(&repo_path(repo)?)? {
            None => Ok((false, false)),
            Some(body) => {
                let push = body["permissions"]["push"].as_bool().unwrap_or(false);
                Ok((true, push))
            }
        }
    }

    fn deployment_list(&self, repo: &RepoLocation, tag: Option<&str>) -> ForgeResult<Vec<Value>> {
        let mut uri = format!(
            "{}/deployments?environment={}&per_page=20",
            repo_path(repo)?,
            self.environment
        );
        if let Some(tag) = tag {
            uri.push_str(&format!("&ref={}", encode_path(tag)));
        }
        Ok(self
            .get(&uri)?
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default())
    }
}

fn describe_octocrab_error(e: &octocrab::Error) -> String {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            format!("GitHub {}: {}", source.status_code, source.message)
        }
        other => {
            // Display of transport errors is terse; the source chain says what happened.
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

fn refusal(method: &str, uri: &str, answer: &Answer) -> ForgeError {
    let hint = match answer.status {
        401 => "; check GITHUB_TOKEN (or the App's key and installation)",
        403 => {
            "; the token lacks a permission this needs (contents: write on the stack repository, read elsewhere)"
        }
        _ => "",
    };
    ForgeError::Other(format!(
        "GitHub refused {method} {uri} ({}): {}{hint}",
        answer.status,
        answer.message()
    ))
}

fn state_of(status: &str, description: &str) -> DeploymentState {
    match status {
        "success" | "inactive" if description.starts_with("verified") => DeploymentState::Verified,
        "success" | "inactive" if description.starts_with("adopted") => DeploymentState::Adopted,
        "success" | "inactive" if description.ends_with("(not verified)") => {
            DeploymentState::Reported
        }
        "success" | "inactive" => DeploymentState::Succeeded,
        "failure" | "error" => DeploymentState::Failed,
        _ => DeploymentState::Started,
    }
}

impl Forge for GithubForge {
    fn resolve_tag(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<CommitId>> {
        let base = repo_path(repo)?;
        // Matching refs answers a missing tag with an empty list that carries an ETag, so a
        // release waiting to be cut re-checks its tag for free; the single-ref endpoint's 404
        // would be charged on every check. The prefix also matches longer names: pick ours.
        let name = format!("refs/tags/{tag}");
        let refs = self
            .get(&format!(
                "{base}/git/matching-refs/tags/{}",
                encode_path(tag)
            ))?
            .unwrap_or(Value::Null);
        let Some(reference) = refs
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["ref"].as_str() == Some(name.as_str()))
        else {
            return Ok(None);
        };
        let mut object = reference["object"].clone();
        // Annotated tags point at tag objects; peel (a tag of a tag too, within reason).
        for _ in 0..5 {
            match object["type"].as_str() {
                Some("commit") => return Ok(object["sha"].as_str().map(String::from)),
                Some("tag") => {
                    let sha = object["sha"].as_str().unwrap_or_default();
                    let tag_object =
                        self.get(&format!("{base}/git/tags/{sha}"))?
                            .ok_or_else(|| ForgeError::NotFound {
                                what: format!("tag object {sha}"),
                            })?;
                    object = tag_object["object"].clone();
                }
                _ => break,
            }
        }
        Err(ForgeError::Other(format!(
            "tag {tag} does not point at a commit"
        )))
    }

    fn branch_head(&self, repo: &RepoLocation, branch: &str) -> ForgeResult<CommitId> {
        let base = repo_path(repo)?;
        let reference = self
            .get(&format!("{base}/git/ref/heads/{}", encode_path(branch)))?
            .ok_or_else(|| ForgeError::NotFound {
                what: format!("branch {branch}"),
            })?;
        reference["object"]["sha"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| {
                ForgeError::Other(format!("branch {branch}: no commit in GitHub's answer"))
            })
    }

    fn is_reachable(&self, repo: &RepoLocation, commit: &str, branch: &str) -> ForgeResult<bool> {
        let base = repo_path(repo)?;
        let compare = self
            .get(&format!(
                "{base}/compare/{commit}...{}?per_page=1",
                encode_path(branch)
            ))?
            .ok_or_else(|| ForgeError::NotFound {
                what: format!("commit {commit} or branch {branch}"),
            })?;
        Ok(matches!(
            compare["status"].as_str(),
            Some("identical" | "ahead")
        ))
    }

    fn ci_status(
        &self,
        repo: &RepoLocation,
        commit: &str,
        workflow: &str,
    ) -> ForgeResult<CiStatus> {
        let base = repo_path(repo)?;
        let runs = self
            .get(&format!(
                "{base}/actions/runs?head_sha={commit}&per_page=100"
            ))?
            .unwrap_or(Value::Null);
        let newest = runs["workflow_runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|run| run["name"].as_str() == Some(workflow))
            .max_by_key(|run| run["id"].as_u64().unwrap_or(0));
        Ok(match newest {
            None => CiStatus::Missing,
            Some(run) => match (run["status"].as_str(), run["conclusion"].as_str()) {
                (Some("completed"), Some("success")) => CiStatus::Success,
                (Some("completed"), conclusion) => CiStatus::Failure(format!(
                    "run {} concluded {}",
                    run["id"].as_u64().unwrap_or(0),
                    conclusion.unwrap_or("without a conclusion")
                )),
                _ => CiStatus::Pending,
            },
        })
    }

    fn read_file(
        &self,
        repo: &RepoLocation,
        commit: &str,
        path: &str,
    ) -> ForgeResult<Option<FileAtCommit>> {
        let base = repo_path(repo)?;
        let Some(item) = self.get(&format!(
            "{base}/contents/{}?ref={commit}",
            encode_path(path)
        ))?
        else {
            return Ok(None);
        };
        let encoded: String = item["content"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| ForgeError::Other(format!("{path}: GitHub's content is not valid base64 (files over 1 MB are not supported)")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ForgeError::Other(format!("{path} is not UTF-8 text")))?;
        Ok(Some(FileAtCommit {
            text,
            blob: item["sha"].as_str().unwrap_or_default().to_string(),
            commit: commit.to_string(),
        }))
    }

    fn write_file(&self, repo: &RepoLocation, write: &FileWrite<'_>) -> ForgeResult<CommitId> {
        let uri = format!("{}/contents/{}", repo_path(repo)?, encode_path(write.path));
        let body = json!({
            "message": write.message,
            "content": base64::engine::general_purpose::STANDARD.encode(write.content),
            "sha": write.expected_blob,
            "branch": write.branch,
        });
        let answer = self.write("PUT", &uri, &body)?;
        match answer.status {
            200 | 201 => {
                let written = answer.json();
                let commit = written["commit"]["sha"]
                    .as_str()
                    .map(String::from)
                    .ok_or_else(|| ForgeError::Other("GitHub's answer has no commit".into()))?;
                // The file at the new commit is what was just written: the observation that
                // follows reads it from the cache instead of asking.
                if let Some(blob) = written["content"]["sha"].as_str()
                    && let Ok(mut cache) = self.cache.lock()
                {
                    let item = json!({ "type": "file", "encoding": "base64", "sha": blob, "content": body["content"] });
                    cache.put(
                        format!("{uri}?ref={commit}"),
                        String::new(),
                        item.to_string().into_bytes(),
                    );
                }
                Ok(commit)
            }
            // Stale blob (409) or the branch moved under the write (409/422): re-read, re-plan.
            409 | 422 => Err(ForgeError::Conflict {
                what: format!("{} on {}", write.path, write.branch),
                expected: write.expected_blob.to_string(),
                found: answer.message(),
            }),
            _ => Err(refusal("PUT", &uri, &answer)),
        }
    }

    fn tags(&self, repo: &RepoLocation) -> ForgeResult<Vec<TagRef>> {
        let base = repo_path(repo)?;
        let refs = self
            .get(&format!("{base}/git/matching-refs/tags"))?
            .unwrap_or(Value::Null);
        let mut tags = Vec::new();
        for reference in refs.as_array().into_iter().flatten() {
            let Some(name) = reference["ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("refs/tags/"))
            else {
                continue;
            };
            let commit = match reference["object"]["type"].as_str() {
                Some("commit") => reference["object"]["sha"].as_str().map(String::from),
                // Annotated: peeled through the tag object (immutable, so asked once).
                _ => self.resolve_tag(repo, name)?,
            };
            if let Some(commit) = commit {
                tags.push(TagRef {
                    name: name.to_string(),
                    commit,
                });
            }
        }
        Ok(tags)
    }

    fn commits_between(
        &self,
        repo: &RepoLocation,
        base_commit: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<CommitRange> {
        let base = repo_path(repo)?;
        let compare = self
            .get(&format!(
                "{base}/compare/{base_commit}...{head}?per_page={}",
                limit.clamp(1, 100)
            ))?
            .ok_or_else(|| ForgeError::NotFound {
                what: format!("commit {base_commit} or {head}"),
            })?;
        let commits = compare["commits"]
            .as_array()
            .into_iter()
            .flatten()
            .take(limit)
            .map(|c| CommitSummary {
                id: c["sha"].as_str().unwrap_or_default().to_string(),
                subject: c["commit"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        Ok(CommitRange {
            total: compare["total_commits"].as_u64().unwrap_or(0) as usize,
            commits,
        })
    }

    fn list_files(&self, repo: &RepoLocation, commit: &str, dir: &str) -> ForgeResult<Vec<String>> {
        let base = repo_path(repo)?;
        let listing = self
            .get(&format!(
                "{base}/contents/{}?ref={commit}",
                encode_path(dir)
            ))?
            .unwrap_or(Value::Null);
        Ok(listing
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"].as_str() == Some("file"))
            .filter_map(|e| e["path"].as_str().map(String::from))
            .collect())
    }

    fn create_release(&self, repo: &RepoLocation, release: &NewRelease<'_>) -> ForgeResult<()> {
        let base = repo_path(repo)?;
        // The tag first, at exactly the pin commit: a release created from a branch name could
        // tag whatever landed in between.
        let uri = format!("{base}/git/refs");
        let answer = self.write(
            "POST",
            &uri,
            &json!({ "ref": format!("refs/tags/{}", release.tag), "sha": release.commit }),
        )?;
        match answer.status {
            201 => {}
            422 if answer.message().contains("already exists") => {
                // Ours from an earlier attempt, or someone else's: only the former may proceed.
                if self.resolve_tag(repo, release.tag)?.as_deref() != Some(release.commit) {
                    return Err(ForgeError::AlreadyExists {
                        what: format!("tag {}", release.tag),
                    });
                }
            }
            _ => return Err(refusal("POST", &uri, &answer)),
        }
        let uri = format!("{base}/releases");
        let answer = self.write(
            "POST",
            &uri,
            &json!({
                "tag_name": release.tag,
                "name": release.title,
                "body": release.body,
                "draft": false,
                "prerelease": false,
                "make_latest": "true",
            }),
        )?;
        match answer.status {
            201 => Ok(()),
            422 if answer.body.windows(14).any(|w| w == b"already_exists") => Ok(()),
            _ => Err(refusal("POST", &uri, &answer)),
        }
    }

    fn find_release(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<ReleaseInfo>> {
        let base = repo_path(repo)?;
        let release = self.get(&format!("{base}/releases/tags/{}", encode_path(tag)))?;
        Ok(release.map(|r| ReleaseInfo {
            by_stackrel: r["body"]
                .as_str()
                .is_some_and(|body| body.lines().any(|l| l.trim() == RELEASED_BY)),
        }))
    }

    fn pin_overrides(&self, repo: &RepoLocation, pins: &[&str]) -> ForgeResult<Vec<String>> {
        let base = repo_path(repo)?;
        let mut found = Vec::new();
        for (kind, key) in [("secrets", "secrets"), ("variables", "variables")] {
            // Listing secrets needs admin rights; without them the check is skipped, not failed,
            // and not asked again for a while: a refusal costs rate limit on every reconcile.
            let uri = format!("{base}/actions/{kind}?per_page=100");
            if self
                .known()
                .refused
                .get(&uri)
                .is_some_and(|at| at.elapsed() < REFUSAL_MEMORY)
            {
                continue;
            }
            let listed = match self.fetch(&uri) {
                Ok(Fetched::Found(body)) => body,
                Ok(Fetched::Missing | Fetched::Refused(_)) => {
                    self.known().refused.insert(uri, Instant::now());
                    continue;
                }
                Err(_) => continue,
            };
            for item in listed[key].as_array().into_iter().flatten() {
                if let Some(name) = item["name"].as_str()
                    && pins.contains(&name)
                    && !found.iter().any(|f: &String| f == name)
                {
                    found.push(name.to_string());
                }
            }
        }
        Ok(found)
    }

    fn report_ticket(
        &self,
        ticket: &TicketRef,
        marker: &str,
        body: &str,
        label: Option<&str>,
    ) -> ForgeResult<()> {
        let base = format!("/repos/{}/{}", ticket.owner, ticket.repo);
        let text = format!("{body}\n\n{marker}");
        let key = format!("{ticket}{marker}");
        // The comment this forge wrote is edited directly; it is looked for only when this
        // process has not written it yet (or it was deleted).
        let remembered = self.known().comments.remove(&key);
        let mut current = false;
        if let Some((id, last)) = remembered {
            let uri = format!("{base}/issues/comments/{id}");
            if last == text {
                current = true;
            } else {
                let answer = self.write("PATCH", &uri, &json!({ "body": text }))?;
                if answer.status != 404 {
                    self.expect_ok("PATCH", &uri, answer)?;
                    current = true;
                }
            }
            if current {
                self.known()
                    .comments
                    .insert(key.clone(), (id, text.clone()));
            }
        }
        if !current {
            let comments = self
                .get(&format!(
                    "{base}/issues/{}/comments?per_page=100",
                    ticket.number
                ))?
                .ok_or_else(|| ForgeError::NotFound {
                    what: format!("issue {ticket}"),
                })?;
            let ours = comments
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["body"].as_str().is_some_and(|b| b.contains(marker)));
            let id = match ours {
                Some(comment) if comment["body"].as_str() == Some(text.as_str()) => {
                    comment["id"].as_u64()
                }
                Some(comment) => {
                    let id = comment["id"].as_u64().unwrap_or(0);
                    let uri = format!("{base}/issues/comments/{id}");
                    let answer = self.write("PATCH", &uri, &json!({ "body": text }))?;
                    self.expect_ok("PATCH", &uri, answer)?;
                    Some(id)
                }
                None => {
                    let uri = format!("{base}/issues/{}/comments", ticket.number);
                    let answer = self.write("POST", &uri, &json!({ "body": text }))?;
                    self.expect_ok("POST", &uri, answer)?["id"].as_u64()
                }
            };
            if let Some(id) = id {
                self.known().comments.insert(key, (id, text));
            }
        }
        if let Some(label) = label {
            let labelled = format!("{ticket}:{label}");
            if !self.known().labels.contains(&labelled) {
                let uri = format!("{base}/issues/{}/labels", ticket.number);
                let answer = self.write("POST", &uri, &json!({ "labels": [label] }))?;
                self.expect_ok("POST", &uri, answer)?;
                self.known().labels.insert(labelled);
            }
        }
        Ok(())
    }

    fn record_deployment(&self, repo: &RepoLocation, record: &DeploymentRecord) -> ForgeResult<()> {
        let base = repo_path(repo)?;
        let key = format!("{base}@{}", record.version);
        let id = match record.state {
            // An outcome belongs to the newest deployment of the version: the one this forge
            // created or last listed, looked up only when it knows none (after a restart).
            DeploymentState::Succeeded
            | DeploymentState::Failed
            | DeploymentState::Verified
            | DeploymentState::Reported => {
                let known = self.known().deployment_ids.get(&key).copied();
                match known {
                    Some(id) => Some(id),
                    None => self
                        .deployment_list(repo, Some(&record.version))?
                        .into_iter()
                        .find(|d| d["payload"]["version"].as_str() == Some(record.version.as_str()))
                        .and_then(|d| d["id"].as_u64()),
                }
            }
            // A new attempt (or an adoption) reuses the version's newest deployment while that
            // has no final status: it is this attempt's own, created by a request whose answer
            // was lost (the observation just before listed it). Otherwise it is a new deployment.
            DeploymentState::Started | DeploymentState::Adopted => {
                let known = self.known();
                known
                    .deployment_ids
                    .get(&key)
                    .copied()
                    .filter(|id| !known.statuses.get(id).is_some_and(is_final))
            }
        };
        let id = match id {
            Some(id) => id,
            // The first attempt, or a retry after a final status: a new deployment.
            None => {
                let uri = format!("{base}/deployments");
                let answer = self.write(
                    "POST",
                    &uri,
                    &json!({
                        "ref": record.version,
                        "environment": self.environment,
                        "description": format!("stackrel: deploying {}", record.version),
                        "payload": { "version": record.version, "commit": record.commit },
                        "auto_merge": false,
                        "required_contexts": [],
                        "production_environment": true,
                    }),
                )?;
                let id = self.expect_ok("POST", &uri, answer)?["id"]
                    .as_u64()
                    .unwrap_or(0);
                self.known().deployment_ids.insert(key, id);
                id
            }
        };
        let (state, description) = match record.state {
            DeploymentState::Started => ("in_progress", format!("deploying {}", record.version)),
            DeploymentState::Succeeded => ("success", format!("deployed {}", record.version)),
            DeploymentState::Failed => (
                "failure",
                record.detail.lines().last().unwrap_or("failed").to_string(),
            ),
            DeploymentState::Verified => ("success", format!("verified {} live", record.version)),
            DeploymentState::Reported => (
                "success",
                format!("deployed {} (not verified)", record.version),
            ),
            DeploymentState::Adopted => (
                "success",
                format!("adopted {}: {}", record.version, record.detail),
            ),
        };
        // GitHub caps descriptions at 140 characters.
        let description: String = description.chars().take(140).collect();
        let uri = format!("{base}/deployments/{id}/statuses");
        // Until GitHub answers, this deployment's newest status is not known here.
        self.known().statuses.remove(&id);
        let answer = self.write(
            "POST",
            &uri,
            &json!({ "state": state, "description": description }),
        )?;
        let status = self.expect_ok("POST", &uri, answer)?;
        self.known().statuses.insert(id, status);
        Ok(())
    }

    fn deployments(&self, repo: &RepoLocation) -> ForgeResult<Vec<DeploymentRecord>> {
        let base = repo_path(repo)?;
        let mut records = Vec::new();
        let mut newest = HashMap::new();
        for deployment in self.deployment_list(repo, None)? {
            let id = deployment["id"].as_u64().unwrap_or(0);
            if let Some(version) = deployment["payload"]["version"].as_str() {
                // Listed newest first.
                newest.entry(format!("{base}@{version}")).or_insert(id);
            }
            let version = deployment["payload"]["version"]
                .as_str()
                .or(deployment["ref"].as_str())
                .unwrap_or_default()
                .to_string();
            // A status this forge posted, or a final one, is not asked for again: with a
            // history of deployments, that would be one request per deployment per reconcile.
            let known = self.known().statuses.get(&id).cloned();
            let status = match known {
                Some(status) => status,
                None => {
                    let statuses = self
                        .get(&format!("{base}/deployments/{id}/statuses?per_page=1"))?
                        .unwrap_or(Value::Null);
                    let Some(status) = statuses.as_array().and_then(|s| s.first()).cloned() else {
                        continue;
                    };
                    if is_final(&status) {
                        self.known().statuses.insert(id, status.clone());
                    }
                    status
                }
            };
            let description = status["description"].as_str().unwrap_or_default();
            records.push(DeploymentRecord {
                version,
                commit: deployment["sha"].as_str().unwrap_or_default().to_string(),
                state: state_of(status["state"].as_str().unwrap_or_default(), description),
                at: status["created_at"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                detail: description.to_string(),
            });
        }
        self.known().deployment_ids.extend(newest);
        records.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_by_segment() {
        assert_eq!(
            encode_path(".github/workflows/build main.yaml"),
            ".github/workflows/build%20main.yaml"
        );
        assert_eq!(encode_path("2026.08.3"), "2026.08.3");
    }

    #[test]
    fn only_reads_addressed_by_a_full_sha_are_immutable() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert!(immutable(&format!(
            "/repos/o/r/contents/.github/w.yaml?ref={sha}"
        )));
        assert!(immutable(&format!("/repos/o/r/git/tags/{sha}")));
        assert!(!immutable("/repos/o/r/contents/w.yaml?ref=master"));
        assert!(!immutable(&format!(
            "/repos/o/r/contents/w.yaml?ref={}",
            &sha[..7]
        )));
        assert!(!immutable(&format!("/repos/o/r/compare/{sha}...master")));
        assert!(!immutable("/repos/o/r/git/matching-refs/tags/2026.08.3"));
    }

    #[test]
    fn etag_cache_is_bounded() {
        let mut cache = EtagCache::new(2);
        cache.put("a".into(), "1".into(), vec![]);
        cache.put("b".into(), "2".into(), vec![]);
        cache.put("c".into(), "3".into(), vec![]);
        assert!(cache.get("a").is_none());
        assert!(cache.get("c").is_some());
    }

    #[test]
    fn deployment_status_maps_to_record_state() {
        assert_eq!(
            state_of("success", "verified 2026.08.3 live"),
            DeploymentState::Verified
        );
        assert_eq!(
            state_of("success", "deployed 2026.08.3"),
            DeploymentState::Succeeded
        );
        assert_eq!(state_of("failure", "x"), DeploymentState::Failed);
        assert_eq!(state_of("in_progress", "x"), DeploymentState::Started);
    }
}

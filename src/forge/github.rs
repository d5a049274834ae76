//! The GitHub forge, through octocrab's authenticated client. Every request goes through two
//! doors: `get` (conditional with a bounded ETag cache, so an idle reconcile costs no rate limit;
//! retried with backoff on 5xx and transport errors; waiting out primary and secondary rate
//! limits) and `write` (never retried blindly: a creating request whose answer is lost is
//! reported as `Unclear`, and the loop observes before anything is sent again). octocrab's own
//! retry is off, since it would re-send POSTs.
//!
//! GitHub as it really answers: lists are read to their last page by `Link` (variables come 30
//! a page), and newest means highest id, not first listed; a secondary limit without
//! `retry-after` waits a minute and then doubles; a comparison too long to compute (503) is
//! asked the other way round; a renamed repository's 307 on a write is resent to its canonical
//! name; and a workflow file is written only when the credentials may (`github_access`).

use super::github_access::{self, TokenKind, WorkflowAccess};
pub mod board;
pub mod graphql;
mod ticket;

mod pulls;

use super::github_answers::{
    Comment, Comparison, Content, ContentEntry, Created, Deployment, DeploymentStatus, ErrorBody,
    FileUpdate, GitObject, GitRef, Installation, Release, Repository, Secrets, TagObject,
    WorkflowRuns,
};
use super::{
    Changes, CiStatus, CommitId, CommitRange, CommitSummary, DeploymentRecord, DeploymentState,
    FileAtCommit, FileWrite, Forge, ForgeError, ForgeResult, HttpError, NewPull, NewRelease,
    PullRequest, RELEASED_BY, ReleaseInfo, TagRef,
};
use crate::config::RepoLocation;
use crate::credentials::{GithubAuth, Secret};
use crate::release::TicketRef;
use base64::Engine;
use octocrab::Octocrab;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::hash_map::Entry;
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
    /// The first wait when a secondary limit gives no `retry-after` (GitHub says: at least a
    /// minute, then back off exponentially); doubles with each limit in a row.
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
    /// The rate-limit waits, in milliseconds, most recent last (the last 32).
    pub rate_limit_waits_ms: Vec<u64>,
}

/// The most pages a list is followed for: bounded memory, whatever a repository holds.
const MAX_PAGES: usize = 50;

/// One page of a GET's answer: its body, and the next page's URL from its `Link` header.
#[derive(Clone)]
struct Page {
    body: Vec<u8>,
    next: Option<String>,
}

/// Bounded cache of GET answers by URI for conditional requests.
struct EtagCache {
    entries: HashMap<String, (String, Page)>,
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

    fn get(&self, uri: &str) -> Option<&(String, Page)> {
        self.entries.get(uri)
    }

    fn put(&mut self, uri: String, etag: String, page: Page) {
        if self.entries.insert(uri.clone(), (etag, page)).is_none() {
            self.order.push_back(uri);
            while self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.entries.remove(&oldest);
                }
            }
        }
    }
}

/// What a GET found: a 2xx answer, as GitHub sent it (or as cached).
enum Fetched {
    Found(Page),
    Missing,
    /// GitHub answered, and said no.
    Refused {
        status: u16,
        error: ForgeError,
    },
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn error_body(&self) -> Option<ErrorBody> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Whether GitHub's `errors` list carries this code (`already_exists`).
    fn has_error_code(&self, code: &str) -> bool {
        self.error_body()
            .and_then(|body| body.errors)
            .is_some_and(|errors| errors.iter().any(|e| e.code() == Some(code)))
    }

    /// GitHub's `message`, and the codes of its `errors` list, for error texts.
    fn message(&self) -> String {
        let body = self.error_body();
        let mut message = body
            .as_ref()
            .and_then(|b| b.message.as_deref())
            .unwrap_or("")
            .trim()
            .to_string();
        if let Some(errors) = body.as_ref().and_then(|b| b.errors.as_ref()) {
            let codes: Vec<&str> = errors.iter().map(|e| e.summary()).collect();
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
    /// A client for GitHub's GraphQL API, which is not under the REST root on GitHub Enterprise
    /// (`graphql`); it sends the forge's own authorization header, since octocrab attaches its
    /// credentials only to the REST root's requests.
    graphql: Octocrab,
    /// The process's runtime, on which octocrab's requests run; this forge's synchronous
    /// methods block on it, so they are called from blocking threads, never from a future.
    runtime: tokio::runtime::Handle,
    cache: Mutex<EtagCache>,
    stats: Mutex<RequestStats>,
    policy: RequestPolicy,
    /// Deployments are listed for the newest ones only; older history is not needed to plan.
    environment: String,
    /// What this forge wrote or read that cannot have changed behind its back, so that it is
    /// not asked for again (see `Known`).
    known: Mutex<Known>,
    /// What the release ticket's desk remembers (`ticket.rs`, `board.rs`).
    desk: Mutex<ticket::DeskMemory>,
    /// `scheme://host[:port]` of the API: `Link` headers are followed only there.
    origin: String,
    /// Who the credentials are, for deciding whether they may write workflow files.
    credential: Credential,
}

/// The kind of credential, and for an App the client that may ask about its installation.
enum Credential {
    Token {
        kind: TokenKind,
        token: Secret,
    },
    App {
        jwt: Box<Octocrab>,
        installation: u64,
    },
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
    statuses: HashMap<u64, DeploymentStatus>,
    /// `{ticket}{marker}` → the id and body of stackrel's comment.
    comments: HashMap<String, (u64, String)>,
    /// `{ticket}:{label}` for labels this forge added.
    labels: HashSet<String>,
    /// `{repo}@{tag}` → whether stackrel cut it, for releases this forge created.
    releases: HashMap<String, bool>,
    /// The `X-OAuth-Scopes` of the newest answer that carried them (classic tokens only).
    scopes: Option<String>,
    /// Canonical `owner/name` by the lower-cased name in `stackrel.toml`, for renamed or
    /// transferred repositories (GitHub redirects reads, but not writes).
    canonical: HashMap<String, String>,
    /// An App installation's permissions, and when they were asked: a permission granted
    /// while the daemon runs is seen within `REFUSAL_MEMORY`.
    installation_permissions: Option<(BTreeMap<String, String>, Instant)>,
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
fn is_final(status: &DeploymentStatus) -> bool {
    matches!(
        state_of(
            &status.state,
            status.description.as_deref().unwrap_or_default()
        ),
        DeploymentState::Failed
            | DeploymentState::Verified
            | DeploymentState::Reported
            | DeploymentState::Adopted
    )
}

/// Reads a 2xx body as what the endpoint documents.
fn decode<T: DeserializeOwned>(method: &str, uri: &str, body: &[u8]) -> ForgeResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ForgeError::decode(format!("GitHub's answer to {method} {uri}"), e))
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

/// The next page's URL in a `Link` header (`<url>; rel="next", <url>; rel="last"`).
fn next_link(headers: &http::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// The `per_page` a list URI asks for.
fn per_page(uri: &str) -> Option<usize> {
    let (_, query) = uri.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("per_page="))
        .and_then(|n| n.parse().ok())
}

/// `uri` asking for page `n`.
fn with_page(uri: &str, n: usize) -> String {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .map(str::to_string)
        .collect();
    pairs.push(format!("page={n}"));
    format!("{path}?{}", pairs.join("&"))
}

/// `owner/name` of a `/repos/{owner}/{name}/…` path.
fn repo_of(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("/repos/")?;
    let mut parts = rest.splitn(3, '/');
    let owner = parts.next()?;
    let name = parts.next()?.split('?').next()?;
    Some((owner, name))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl GithubForge {
    /// Connects to `api_url` (`https://api.github.com`, GHES `https://HOST/api/v3`, or an
    /// emulator) with the given credentials, on the process's runtime.
    pub fn connect(
        api_url: &str,
        auth: &GithubAuth,
        policy: RequestPolicy,
    ) -> ForgeResult<GithubForge> {
        let runtime = crate::runtime::handle()
            .map_err(|e| ForgeError::Other(format!("starting the HTTP runtime: {e}")))?;
        Self::connect_on(runtime, api_url, auth, policy)
    }

    /// `connect`, with requests run on `runtime`.
    pub fn connect_on(
        runtime: tokio::runtime::Handle,
        api_url: &str,
        auth: &GithubAuth,
        policy: RequestPolicy,
    ) -> ForgeResult<GithubForge> {
        let client = |what: &str| {
            let what = what.to_string();
            move |e: octocrab::Error| ForgeError::Http {
                request: what,
                source: HttpError::Send(Box::new(e)),
            }
        };
        let builder = |base: &str| {
            Ok::<_, ForgeError>(
                Octocrab::builder()
                    .base_uri(base)
                    .map_err(client(&format!("`{api_url}` is not a usable API URL")))?
                    .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
                    .set_connect_timeout(Some(Duration::from_secs(10)))
                    .set_read_timeout(Some(Duration::from_secs(30))),
            )
        };
        // octocrab's client spawns its buffer worker onto the runtime when built (outside a
        // runtime context, building panics).
        let _context = runtime.enter();
        let graphql = builder(graphql::root(api_url))?
            .build()
            .map_err(client("building the GitHub GraphQL client"))?;
        let builder = builder(api_url)?;
        let (octo, credential) = match auth {
            GithubAuth::Token(token) | GithubAuth::ActionsToken(token) => (
                builder
                    .personal_token(token.expose().to_string())
                    .build()
                    .map_err(client("building the GitHub client"))?,
                Credential::Token {
                    kind: match auth {
                        GithubAuth::ActionsToken(_) => TokenKind::Actions,
                        _ => TokenKind::of(token.expose()),
                    },
                    token: token.clone(),
                },
            ),
            GithubAuth::App {
                app_id,
                private_key,
                installation_id,
            } => {
                let app = builder
                    .app_from_rsa_pem(
                        octocrab::models::AppId(*app_id),
                        private_key.expose().as_bytes(),
                    )
                    .map_err(|_| {
                        ForgeError::Other(
                            "GITHUB_APP_PRIVATE_KEY_FILE is not a valid RSA private key (PEM)"
                                .into(),
                        )
                    })?
                    .build()
                    .map_err(client("building the GitHub App client"))?;
                let Some(id) = installation_id else {
                    return Err(ForgeError::Other("set GITHUB_APP_INSTALLATION_ID (the App's installation on the stack's organisation)".into()));
                };
                let installation = app
                    .installation(octocrab::models::InstallationId(*id))
                    .map_err(client(&format!("using installation {id}")))?;
                let credential = Credential::App {
                    jwt: Box::new(app),
                    installation: *id,
                };
                (installation, credential)
            }
        };
        let origin = api_url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?)))
            .unwrap_or_default();
        Ok(GithubForge {
            octo,
            graphql,
            runtime,
            cache: Mutex::new(EtagCache::new(1024)),
            stats: Mutex::new(RequestStats::default()),
            policy,
            environment: "production".into(),
            known: Mutex::new(Known::default()),
            origin,
            credential,
            desk: Mutex::new(ticket::DeskMemory::default()),
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
        if let Some(scopes) = answer
            .headers
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
        {
            self.known().scopes = Some(scopes.to_string());
        }
    }

    /// How long to wait before retrying a rate-limited answer, if it is one; `streak` is how
    /// many secondary limits this request met before, for the exponential backoff GitHub asks.
    fn rate_limit_wait(&self, answer: &Answer, streak: u32) -> Option<Duration> {
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
            return Some(self.policy.secondary_limit_wait * 2u32.saturating_pow(streak.min(16)));
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
        if let Ok(mut stats) = self.stats.lock() {
            let waits = &mut stats.rate_limit_waits_ms;
            waits.push(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
            if waits.len() > 32 {
                waits.remove(0);
            }
        }
        std::thread::sleep(wait);
        Ok(())
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<Answer, HttpError> {
        send_on(&self.octo, method, uri, body, etag).await
    }
}

/// Which of GitHub's APIs a write goes to.
#[derive(Clone, Copy)]
enum Api {
    Rest,
    Graphql,
}

/// The most of one answer that is read: GitHub's largest (a page of 100 pull requests or
/// commits, a release file) are well under a MiB.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Why reading an answer's body failed: over `MAX_ANSWER_BYTES`, or the transport.
fn body_error(uri: &str, e: Box<dyn std::error::Error + Send + Sync>) -> HttpError {
    if e.is::<http_body_util::LengthLimitError>() {
        return HttpError::TooLarge {
            url: uri.to_string(),
            limit: MAX_ANSWER_BYTES,
        };
    }
    HttpError::Body(e)
}

/// One request on `octo` (the installation's client, or an App's JWT client), read whole.
async fn send_on(
    octo: &Octocrab,
    method: &str,
    uri: &str,
    body: Option<&Value>,
    etag: Option<&str>,
) -> Result<Answer, HttpError> {
    {
        let response = match method {
            "GET" => {
                let mut headers = http::HeaderMap::new();
                if let Some(etag) = etag.and_then(|e| http::HeaderValue::from_str(e).ok()) {
                    headers.insert(http::header::IF_NONE_MATCH, etag);
                }
                octo._get_with_headers(uri, Some(headers)).await
            }
            "POST" => octo._post(uri, body).await,
            "PUT" => octo._put(uri, body).await,
            _ => octo._patch(uri, body).await,
        }
        .map_err(|e| HttpError::Send(Box::new(e)))?;
        read_answer(uri, response).await
    }
}

/// A response read whole.
async fn read_answer(
    uri: &str,
    response: http::Response<
        http_body_util::combinators::BoxBody<hyper::body::Bytes, octocrab::Error>,
    >,
) -> Result<Answer, HttpError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let limited = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES);
    let body = http_body_util::BodyExt::collect(limited)
        .await
        .map_err(|e| body_error(uri, e))?
        .to_bytes()
        .to_vec();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

impl GithubForge {
    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs a request on the runtime from this (blocking) thread. Never called from a future:
    /// the forge's callers are the planner and the apply loop, which run on blocking threads.
    fn block_on<F: std::future::Future>(&self, request: F) -> F::Output {
        self.runtime.block_on(request)
    }

    /// The ETag and page cached for a GET of `uri`.
    fn cached(&self, uri: &str) -> Option<(String, Page)> {
        self.cache.lock().ok()?.get(uri).cloned()
    }

    /// A GET: conditional, retried, rate-limit aware, read as `T`. `Ok(None)` on 404.
    fn get<T: DeserializeOwned>(&self, uri: &str) -> ForgeResult<Option<T>> {
        match self.fetch(uri)? {
            Fetched::Found(page) => decode("GET", uri, &page.body).map(Some),
            Fetched::Missing => Ok(None),
            Fetched::Refused { error, .. } => Err(error),
        }
    }

    /// Every page of a list, following `Link: rel="next"` as GitHub paginates: each page read
    /// as `T` and its items taken by `items`. `Ok(None)` when the first page is 404.
    fn get_pages<T: DeserializeOwned, I>(
        &self,
        uri: &str,
        items: impl Fn(T) -> Vec<I>,
    ) -> ForgeResult<Option<Vec<I>>> {
        let mut all = Vec::new();
        let mut next = Some(uri.to_string());
        let mut pages = 0;
        while let Some(page_uri) = next.take() {
            pages += 1;
            let page = match self.fetch(&page_uri)? {
                Fetched::Found(page) => page,
                Fetched::Missing if pages == 1 => return Ok(None),
                Fetched::Missing => break,
                Fetched::Refused { error, .. } => return Err(error),
            };
            let found = items(decode("GET", &page_uri, &page.body)?);
            let full = per_page(&page_uri).is_some_and(|n| found.len() == n);
            all.extend(found);
            next = match page.next {
                Some(url) if pages < MAX_PAGES => Some(self.same_origin(&url)?),
                // A full last page may have grown a successor that its cached `Link` (and an
                // unchanged page's 304) does not tell of: ask for it.
                None if full && pages < MAX_PAGES => Some(with_page(&page_uri, pages + 1)),
                _ => None,
            };
        }
        Ok(Some(all))
    }

    /// `get_pages` for an endpoint that answers a bare array.
    fn get_list<T: DeserializeOwned>(&self, uri: &str) -> ForgeResult<Option<Vec<T>>> {
        self.get_pages(uri, |page: Vec<T>| page)
    }

    /// A `Link` URL, only when it is on the API's own origin: the token goes nowhere else.
    fn same_origin(&self, url: &str) -> ForgeResult<String> {
        let rest = url
            .strip_prefix(&self.origin)
            .filter(|rest| rest.starts_with('/'));
        match rest {
            Some(_) if !self.origin.is_empty() => Ok(url.to_string()),
            _ => Err(ForgeError::Other(format!(
                "GitHub's Link header points outside the API ({url}); not followed"
            ))),
        }
    }

    /// A GET that tells a refusal apart from a failure to ask. What a URI fixes (a file at a
    /// commit) is answered from the cache without asking at all.
    fn fetch(&self, uri: &str) -> ForgeResult<Fetched> {
        if immutable(uri)
            && let Some(page) = self.cached(uri).map(|(_, page)| page)
        {
            return Ok(Fetched::Found(page));
        }
        let mut backoff = self.policy.backoff;
        let mut attempt = 0;
        let mut limited = 0;
        loop {
            attempt += 1;
            let cached_etag = self.cached(uri).map(|(etag, _)| etag);
            let result = self.block_on(self.send("GET", uri, None, cached_etag.as_deref()));
            let answer = match result {
                Ok(answer) => answer,
                // The same answer would be as large again.
                Err(e)
                    if attempt < self.policy.get_attempts
                        && !matches!(e, HttpError::TooLarge { .. }) =>
                {
                    tracing::debug!(uri, error = %e, "GET failed; retrying");
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                Err(source) => {
                    return Err(ForgeError::Http {
                        request: format!("GET {uri}"),
                        source,
                    });
                }
            };
            self.record("GET", &answer);
            match answer.status {
                304 => match self.cached(uri) {
                    Some((_, page)) => return Ok(Fetched::Found(page)),
                    // Evicted between request and answer: ask again, unconditionally.
                    None => continue,
                },
                200..=299 => {
                    let page = Page {
                        next: next_link(&answer.headers),
                        body: answer.body,
                    };
                    if let Some(etag) = answer.headers.get("etag").and_then(|v| v.to_str().ok())
                        && let Ok(mut cache) = self.cache.lock()
                    {
                        cache.put(uri.to_string(), etag.to_string(), page.clone());
                    }
                    return Ok(Fetched::Found(page));
                }
                404 => return Ok(Fetched::Missing),
                // A comparison too long to compute is answered 503 every time: not retried.
                503 if answer.message().contains("too long") => {}
                500..=599 if attempt < self.policy.get_attempts => {
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                _ => {
                    if let Some(wait) = self.rate_limit_wait(&answer, limited)
                        && limited < self.policy.get_attempts + 2
                    {
                        limited += 1;
                        self.wait_out(uri, wait)?;
                        continue;
                    }
                }
            }
            return Ok(Fetched::Refused {
                status: answer.status,
                error: refusal("GET", uri, &answer),
            });
        }
    }

    /// A creating or changing request. Rate-limit refusals are waited out and re-sent (GitHub
    /// did nothing); anything unclear is `Unclear`; other refusals are returned as answers for
    /// the caller to interpret (409, 422).
    fn write(&self, method: &str, uri: &str, body: &Value) -> ForgeResult<Answer> {
        self.write_via(Api::Rest, method, uri, body)
    }

    /// `write`, to the REST API or to the GraphQL endpoint.
    fn write_via(&self, api: Api, method: &str, uri: &str, body: &Value) -> ForgeResult<Answer> {
        let mut waits = 0;
        let mut uri = uri.to_string();
        let mut moved = false;
        loop {
            let uri = &mut uri;
            let sent = match api {
                Api::Rest => self.block_on(self.send(method, uri, Some(body), None)),
                Api::Graphql => self.block_on(self.send_graphql(uri, body)),
            };
            let answer = match sent {
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
            // A renamed or transferred repository: GitHub redirects writes with 307, which the
            // client cannot resend with its body. GitHub did nothing; resend to the new name.
            if matches!(answer.status, 301 | 307 | 308) && !moved {
                moved = true;
                if let Some(canonical) = self.follow_move(uri)? {
                    *uri = canonical;
                    continue;
                }
            }
            if let Some(wait) = self.rate_limit_wait(&answer, waits)
                && waits < 3
            {
                waits += 1;
                self.wait_out(uri, wait)?;
                continue;
            }
            return Ok(answer);
        }
    }

    /// A write's answer, which must be 2xx, read as `T`.
    fn expect_ok<T: DeserializeOwned>(
        &self,
        method: &str,
        uri: &str,
        answer: Answer,
    ) -> ForgeResult<T> {
        match answer.status {
            200..=299 => decode(method, uri, &answer.body),
            _ => Err(refusal(method, uri, &answer)),
        }
    }

    /// What the credentials can do on a repository, and its canonical name, for the startup
    /// preflight. The name is kept: writes go to it from then on.
    pub fn permissions(&self, repo: &RepoLocation) -> ForgeResult<RepoAccess> {
        let RepoLocation::GitHub { owner, name } = repo else {
            return Err(self
                .repo_path(repo)
                .err()
                .unwrap_or(ForgeError::Unsupported(format!(
                    "{repo} is not a GitHub repository"
                ))));
        };
        let Some(body) = self.get::<Repository>(&format!("/repos/{owner}/{name}"))? else {
            return Ok(RepoAccess::default());
        };
        let renamed_to = body
            .full_name
            .filter(|full| !full.eq_ignore_ascii_case(&format!("{owner}/{name}")));
        if let Some(full) = &renamed_to {
            self.moved(owner, name, full);
        }
        Ok(RepoAccess {
            read: true,
            push: body.permissions.and_then(|p| p.push).unwrap_or(false),
            renamed_to,
        })
    }

    /// Whether the credentials may write the workflow file `path` of `repo`: from the token's
    /// kind, the `X-OAuth-Scopes` GitHub sends a classic token with every answer (so a scope
    /// granted later is seen at once), or the App installation's permissions (asked again
    /// after a while).
    pub fn workflow_access(&self, repo: &RepoLocation, path: &str) -> ForgeResult<WorkflowAccess> {
        let access = match &self.credential {
            Credential::Token { kind, .. } => match github_access::from_token_kind(path, *kind) {
                Some(access) => access,
                None => {
                    if self.known().scopes.is_none() {
                        self.permissions(repo)?;
                    }
                    match self.known().scopes.clone() {
                        Some(scopes) => github_access::from_scopes(path, &scopes),
                        None => WorkflowAccess::Unknown(
                            "GitHub sent no X-OAuth-Scopes for this token: it needs the `workflow` scope (or Workflows: write)",
                        ),
                    }
                }
            },
            Credential::App { .. } => {
                let permissions = self.app_permissions()?.unwrap_or_default();
                github_access::from_installation(path, &permissions)
            }
        };
        Ok(access)
    }

    /// The App installation's permissions (`None` for a token), asked again after a while.
    pub(super) fn app_permissions(&self) -> ForgeResult<Option<BTreeMap<String, String>>> {
        let Credential::App { jwt, installation } = &self.credential else {
            return Ok(None);
        };
        let remembered = self.known().installation_permissions.clone();
        if let Some((permissions, at)) = remembered
            && at.elapsed() < REFUSAL_MEMORY
        {
            return Ok(Some(permissions));
        }
        let permissions = self.installation(jwt, *installation)?.permissions;
        self.known().installation_permissions = Some((permissions.clone(), Instant::now()));
        Ok(Some(permissions))
    }

    /// `GET /app/installations/{id}`, with the App's own JWT.
    fn installation(&self, jwt: &Octocrab, id: u64) -> ForgeResult<Installation> {
        let uri = format!("/app/installations/{id}");
        let answer = self
            .block_on(send_on(jwt, "GET", &uri, None, None))
            .map_err(|source| ForgeError::Http {
                request: format!("GET {uri}"),
                source,
            })?;
        self.record("GET", &answer);
        self.expect_ok("GET", &uri, answer)
    }

    /// `/repos/{owner}/{name}` of a repository, by its canonical name once known.
    fn repo_path(&self, repo: &RepoLocation) -> ForgeResult<String> {
        match repo {
            RepoLocation::GitHub { owner, name } => Ok(self.path_of(owner, name)),
            RepoLocation::Local(path) => Err(ForgeError::Unsupported(format!(
                "{path} is a local repository, not a GitHub one"
            ))),
        }
    }

    /// `/repos/{owner}/{name}`, by the canonical name once known.
    pub(super) fn path_of(&self, owner: &str, name: &str) -> String {
        let key = format!("{owner}/{name}").to_ascii_lowercase();
        match self.known().canonical.get(&key) {
            Some(full) => format!("/repos/{full}"),
            None => format!("/repos/{owner}/{name}"),
        }
    }

    /// Remembers that `owner/name` is now `full`, and tells the person to say so.
    fn moved(&self, owner: &str, name: &str, full: &str) {
        tracing::warn!(
            configured = %format!("{owner}/{name}"),
            canonical = full,
            "GitHub repository renamed or transferred: update stackrel.toml to the new name"
        );
        self.known().canonical.insert(
            format!("{owner}/{name}").to_ascii_lowercase(),
            full.to_string(),
        );
    }

    /// The URI a write redirected by a rename should go to: `GET /repos/{o}/{r}` (whose 301 the
    /// client follows) names the repository as it is now.
    fn follow_move(&self, uri: &str) -> ForgeResult<Option<String>> {
        let Some((owner, name)) = repo_of(uri) else {
            return Ok(None);
        };
        let old = format!("/repos/{owner}/{name}");
        let Some(body) = self.get::<Repository>(&old)? else {
            return Ok(None);
        };
        match body.full_name {
            Some(full) if !full.eq_ignore_ascii_case(&format!("{owner}/{name}")) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                self.moved(&owner, &name, &full);
                let rest = &uri[old.len()..];
                Ok(Some(format!("/repos/{full}{rest}")))
            }
            _ => Ok(None),
        }
    }

    /// Every deployment to the environment (of one tag, when given), newest first by id: GitHub
    /// does not document the order it lists them in.
    fn deployment_list(
        &self,
        repo: &RepoLocation,
        tag: Option<&str>,
    ) -> ForgeResult<Vec<Deployment>> {
        let mut uri = format!(
            "{}/deployments?environment={}&per_page=100",
            self.repo_path(repo)?,
            self.environment
        );
        if let Some(tag) = tag {
            uri.push_str(&format!("&ref={}", encode_path(tag)));
        }
        let mut deployments: Vec<Deployment> = self.get_list(&uri)?.unwrap_or_default();
        deployments.sort_by_key(|d| std::cmp::Reverse(d.id));
        Ok(deployments)
    }
}

/// What the credentials may do on a repository, and its name now if it was renamed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoAccess {
    pub read: bool,
    pub push: bool,
    pub renamed_to: Option<String>,
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

/// What a deployment carries of its record: the version and commit, and the image digests when
/// any were found (older deployments have none, and read back without them).
fn deployment_payload(record: &DeploymentRecord) -> Value {
    let mut payload = json!({ "version": record.version, "commit": record.commit });
    if !record.images.is_empty() {
        payload["images"] = json!(record.images);
    }
    payload
}

fn released_by_stackrel(body: Option<&str>) -> bool {
    body.is_some_and(|body| body.lines().any(|l| l.trim() == RELEASED_BY))
}

/// The names in one page of secrets or variables.
fn names_of(kind: &str, page: Secrets) -> Vec<super::github_answers::Named> {
    if kind == "secrets" {
        page.secrets
    } else {
        page.variables
    }
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
        let base = self.repo_path(repo)?;
        // One conditional read of all the tags answers this and `tags` alike: an observation
        // asks both of the stack, so each change of its tags costs one request, not two; and
        // a missing tag is an unchanged list, which re-checks for free (a 404 is charged).
        let name = format!("refs/tags/{tag}");
        let Some(reference) = self.tag_refs(&base)?.into_iter().find(|r| r.name == name) else {
            return Ok(None);
        };
        self.peel(&base, tag, reference.object).map(Some)
    }

    fn branch_head(&self, repo: &RepoLocation, branch: &str) -> ForgeResult<CommitId> {
        let base = self.repo_path(repo)?;
        let reference: GitRef = self
            .get(&format!("{base}/git/ref/heads/{}", encode_path(branch)))?
            .ok_or_else(|| ForgeError::NotFound {
                what: format!("branch {branch}"),
            })?;
        Ok(reference.object.sha)
    }

    fn is_reachable(&self, repo: &RepoLocation, commit: &str, branch: &str) -> ForgeResult<bool> {
        let base = self.repo_path(repo)?;
        let branch = encode_path(branch);
        let missing = || ForgeError::NotFound {
            what: format!("commit {commit} or branch {branch}"),
        };
        let uri = format!("{base}/compare/{commit}...{branch}?per_page=1");
        let compare: Comparison = match self.fetch(&uri)? {
            Fetched::Found(page) => decode("GET", &uri, &page.body)?,
            Fetched::Missing => return Err(missing()),
            // GitHub gives up on a comparison whose diff takes too long (503). The other way
            // round has no diff when the commit is on the branch (head is the merge base).
            Fetched::Refused { status: 503, .. } => {
                let reverse = format!("{base}/compare/{branch}...{commit}?per_page=1");
                let compare: Comparison = self.get(&reverse)?.ok_or_else(missing)?;
                return Ok(matches!(
                    compare.status.as_deref(),
                    Some("identical" | "behind")
                ));
            }
            Fetched::Refused { error, .. } => return Err(error),
        };
        Ok(matches!(
            compare.status.as_deref(),
            Some("identical" | "ahead")
        ))
    }

    fn ci_status(
        &self,
        repo: &RepoLocation,
        commit: &str,
        workflow: &str,
    ) -> ForgeResult<CiStatus> {
        let base = self.repo_path(repo)?;
        let runs = self.get_pages(
            &format!("{base}/actions/runs?head_sha={commit}&per_page=100"),
            |page: WorkflowRuns| page.workflow_runs,
        )?;
        let newest = runs
            .into_iter()
            .flatten()
            .filter(|run| run.name.as_deref() == Some(workflow))
            .max_by_key(|run| run.id);
        Ok(match newest {
            None => CiStatus::Missing,
            Some(run) => match (run.status.as_deref(), run.conclusion.as_deref()) {
                (Some("completed"), Some("success")) => CiStatus::Success,
                (Some("completed"), conclusion) => CiStatus::Failure(format!(
                    "run {} concluded {}",
                    run.id,
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
        let base = self.repo_path(repo)?;
        let Some(item) = self.get::<Content>(&format!(
            "{base}/contents/{}?ref={commit}",
            encode_path(path)
        ))?
        else {
            return Ok(None);
        };
        let encoded: String = item
            .content
            .as_deref()
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
            blob: item.sha,
            commit: commit.to_string(),
        }))
    }

    fn write_file(&self, repo: &RepoLocation, write: &FileWrite<'_>) -> ForgeResult<CommitId> {
        // Without the workflow permission GitHub answers a bare 404 or 403: say why instead.
        if write.path.starts_with(".github/workflows/")
            && let WorkflowAccess::Missing(missing) = self.workflow_access(repo, write.path)?
        {
            return Err(missing.into());
        }
        let uri = format!(
            "{}/contents/{}",
            self.repo_path(repo)?,
            encode_path(write.path)
        );
        let body = json!({
            "message": write.message,
            "content": base64::engine::general_purpose::STANDARD.encode(write.content),
            "sha": write.expected_blob,
            "branch": write.branch,
        });
        let answer = self.write("PUT", &uri, &body)?;
        match answer.status {
            200 | 201 => {
                let written: FileUpdate = self.expect_ok("PUT", &uri, answer)?;
                let commit = written
                    .commit
                    .and_then(|c| c.sha)
                    .ok_or_else(|| ForgeError::Other("GitHub's answer has no commit".into()))?;
                // The file at the new commit is what was just written: the observation that
                // follows reads it from the cache instead of asking.
                if let Some(blob) = written.content.and_then(|c| c.sha)
                    && let Ok(mut cache) = self.cache.lock()
                {
                    let item = json!({ "type": "file", "encoding": "base64", "sha": blob, "content": body["content"] });
                    cache.put(
                        format!("{uri}?ref={commit}"),
                        String::new(),
                        Page {
                            body: item.to_string().into_bytes(),
                            next: None,
                        },
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
        let base = self.repo_path(repo)?;
        let mut tags = Vec::new();
        for reference in self.tag_refs(&base)? {
            let Some(name) = reference.name.strip_prefix("refs/tags/") else {
                continue;
            };
            // Annotated: peeled through the tag object (immutable, so asked once).
            let commit = self.peel(&base, name, reference.object.clone())?;
            tags.push(TagRef {
                name: name.to_string(),
                commit,
            });
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
        let base = self.repo_path(repo)?;
        let compare: Comparison = self
            .get(&format!(
                "{base}/compare/{base_commit}...{head}?per_page={}",
                limit.clamp(1, 100)
            ))?
            .ok_or_else(|| ForgeError::NotFound {
                what: format!("commit {base_commit} or {head}"),
            })?;
        let commits = compare
            .commits
            .into_iter()
            .take(limit)
            .map(|c| CommitSummary {
                id: c.sha,
                subject: c
                    .commit
                    .message
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        Ok(CommitRange {
            total: usize::try_from(compare.total_commits).unwrap_or(usize::MAX),
            commits,
        })
    }

    fn list_files(&self, repo: &RepoLocation, commit: &str, dir: &str) -> ForgeResult<Vec<String>> {
        let base = self.repo_path(repo)?;
        let listing: Vec<ContentEntry> = self
            .get(&format!(
                "{base}/contents/{}?ref={commit}",
                encode_path(dir)
            ))?
            .unwrap_or_default();
        Ok(listing
            .into_iter()
            .filter(|e| e.kind == "file")
            .map(|e| e.path)
            .collect())
    }

    fn create_release(&self, repo: &RepoLocation, release: &NewRelease<'_>) -> ForgeResult<()> {
        let base = self.repo_path(repo)?;
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
            201 => {
                // Only stackrel edits the release it made: it is not asked about again.
                let tag = release.tag;
                let by_stackrel = released_by_stackrel(Some(release.body));
                self.known()
                    .releases
                    .insert(format!("{base}@{tag}"), by_stackrel);
                Ok(())
            }
            422 if answer.has_error_code("already_exists") => Ok(()),
            _ => Err(refusal("POST", &uri, &answer)),
        }
    }

    fn find_release(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<ReleaseInfo>> {
        let base = self.repo_path(repo)?;
        let key = format!("{base}@{tag}");
        if let Some(by_stackrel) = self.known().releases.get(&key).copied() {
            return Ok(Some(ReleaseInfo { by_stackrel }));
        }
        let release: Option<Release> =
            self.get(&format!("{base}/releases/tags/{}", encode_path(tag)))?;
        Ok(release.map(|r| ReleaseInfo {
            by_stackrel: released_by_stackrel(r.body.as_deref()),
        }))
    }

    fn pin_overrides(&self, repo: &RepoLocation, pins: &[&str]) -> ForgeResult<Vec<String>> {
        let base = self.repo_path(repo)?;
        let mut found = Vec::new();
        for kind in ["secrets", "variables"] {
            // Listing secrets needs admin rights; without them the check is skipped, not failed,
            // and not asked again for a while: a refusal costs rate limit on every reconcile.
            // GitHub lists at most 100 secrets, and 30 variables, a page.
            let per_page = if kind == "secrets" { 100 } else { 30 };
            let uri = format!("{base}/actions/{kind}?per_page={per_page}");
            if self
                .known()
                .refused
                .get(&uri)
                .is_some_and(|at| at.elapsed() < REFUSAL_MEMORY)
            {
                continue;
            }
            let names = match self.fetch(&uri) {
                Ok(Fetched::Found(page)) => {
                    let first: Secrets = decode("GET", &uri, &page.body)?;
                    let mut names = names_of(kind, first);
                    let next = match page.next {
                        Some(next) => Some(self.same_origin(&next)?),
                        None if names.len() == per_page => Some(with_page(&uri, 2)),
                        None => None,
                    };
                    if let Some(next) = next {
                        let rest = self.get_pages(&next, |p: Secrets| names_of(kind, p))?;
                        names.extend(rest.unwrap_or_default());
                    }
                    names
                }
                Ok(Fetched::Missing | Fetched::Refused { .. }) => {
                    // For a classic or OAuth token, variables need the same access to the
                    // repository as secrets ("collaborator access" and `repo`): not asked.
                    if kind == "secrets"
                        && matches!(
                            self.credential,
                            Credential::Token {
                                kind: TokenKind::Classic | TokenKind::OAuth,
                                ..
                            }
                        )
                    {
                        let variables = format!("{base}/actions/variables?per_page=30");
                        self.known().refused.insert(variables, Instant::now());
                    }
                    self.known().refused.insert(uri, Instant::now());
                    continue;
                }
                Err(_) => continue,
            };
            for item in names {
                if pins.contains(&item.name.as_str()) && !found.contains(&item.name) {
                    found.push(item.name);
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
        let base = self.path_of(&ticket.owner, &ticket.repo);
        let text = format!("{body}\n\n{marker}");
        let key = format!("{ticket}{marker}");
        // The comment this forge wrote is edited directly; it is looked for only when this
        // process has not written it yet (or it was deleted).
        let remembered = self.known().comments.remove(&key);
        let current = match &remembered {
            Some((id, last)) => self.edit_remembered(&base, *id, last, &text)?,
            None => false,
        };
        let id = if current {
            remembered.map(|(id, _)| id)
        } else {
            self.find_or_post_comment(&base, ticket, marker, &text)?
        };
        if let Some(id) = id {
            self.known().comments.insert(key, (id, text));
        }
        if let Some(label) = label {
            self.add_label(&base, ticket, label)?;
        }
        Ok(())
    }

    fn tickets(&self) -> Option<&dyn crate::ticket::TicketDesk> {
        Some(self)
    }

    fn record_deployment(&self, repo: &RepoLocation, record: &DeploymentRecord) -> ForgeResult<()> {
        let base = self.repo_path(repo)?;
        let key = format!("{base}@{}", record.version);
        let id = match self.deployment_for(repo, &key, record)? {
            Some(id) => id,
            // The first attempt, or a retry after a final status: a new deployment.
            None => {
                let id = self.create_deployment(&base, record)?;
                self.known().deployment_ids.insert(key, id);
                // A deployment of stackrel's without a status is one just started: an
                // `in_progress` status would say no more, at the cost of a request.
                if record.state == DeploymentState::Started {
                    return Ok(());
                }
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
        let status: DeploymentStatus = self.expect_ok("POST", &uri, answer)?;
        self.known().statuses.insert(id, status);
        Ok(())
    }

    fn changes_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<Changes> {
        self.mainline_changes(repo, base, head, limit)
    }

    fn create_branch(&self, repo: &RepoLocation, branch: &str, commit: &str) -> ForgeResult<()> {
        self.create_branch_ref(repo, branch, commit)
    }

    fn find_pull(
        &self,
        repo: &RepoLocation,
        head: &str,
        base: &str,
    ) -> ForgeResult<Option<PullRequest>> {
        self.open_pull(repo, head, base)
    }

    fn create_pull(&self, repo: &RepoLocation, pull: &NewPull<'_>) -> ForgeResult<PullRequest> {
        self.post_pull(repo, pull)
    }

    fn deployments(&self, repo: &RepoLocation) -> ForgeResult<Vec<DeploymentRecord>> {
        let base = self.repo_path(repo)?;
        let mut records = Vec::new();
        let mut newest = HashMap::new();
        // Status reads are the cost of this scan: another tool's deployments are no record of
        // stackrel's, and of a version's deployments (listed newest first) only the newest
        // says where the version stands, so those are the only statuses read.
        for deployment in self.deployment_list(repo, None)? {
            let Some(version) = deployment.version() else {
                continue;
            };
            match newest.entry(format!("{base}@{version}")) {
                Entry::Occupied(_) => continue,
                Entry::Vacant(entry) => entry.insert(deployment.id),
            };
            let status = self
                .newest_status(&base, deployment.id)?
                .unwrap_or_else(|| DeploymentStatus {
                    id: 0,
                    state: "in_progress".into(),
                    description: None,
                    created_at: deployment.created_at.clone(),
                });
            let description = status.description.unwrap_or_default();
            records.push(DeploymentRecord {
                version: version.to_string(),
                commit: deployment.sha.clone().unwrap_or_default(),
                state: state_of(&status.state, &description),
                at: status.created_at.unwrap_or_default(),
                detail: description,
                // Deployments created before images were recorded have none.
                images: deployment.images(),
            });
        }
        self.known().deployment_ids.extend(newest);
        records.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(records)
    }
}

/// The parts of reporting on a ticket and recording deployments.
impl GithubForge {
    /// Every tag ref of a repository (`matching-refs` lists them all, unpaginated).
    fn tag_refs(&self, base: &str) -> ForgeResult<Vec<GitRef>> {
        Ok(self
            .get_list(&format!("{base}/git/matching-refs/tags"))?
            .unwrap_or_default())
    }

    /// The commit a ref's object is, peeling annotated tags (a tag of a tag too, within reason).
    fn peel(&self, base: &str, tag: &str, mut object: GitObject) -> ForgeResult<CommitId> {
        for _ in 0..5 {
            match object.kind.as_str() {
                "commit" => return Ok(object.sha),
                "tag" => {
                    let sha = &object.sha;
                    let tag_object: TagObject = self
                        .get(&format!("{base}/git/tags/{sha}"))?
                        .ok_or_else(|| ForgeError::NotFound {
                            what: format!("tag object {sha}"),
                        })?;
                    object = tag_object.object;
                }
                _ => break,
            }
        }
        Err(ForgeError::Other(format!(
            "tag {tag} does not point at a commit"
        )))
    }

    /// Brings the comment this process wrote up to date; false when it is gone (deleted).
    fn edit_remembered(&self, base: &str, id: u64, last: &str, text: &str) -> ForgeResult<bool> {
        if last == text {
            return Ok(true);
        }
        let uri = format!("{base}/issues/comments/{id}");
        let answer = self.write("PATCH", &uri, &json!({ "body": text }))?;
        if answer.status == 404 {
            return Ok(false);
        }
        self.expect_ok::<serde::de::IgnoredAny>("PATCH", &uri, answer)?;
        Ok(true)
    }

    /// Finds stackrel's comment on the ticket by its marker and brings it up to date, or posts
    /// it; its id, when GitHub gave one.
    fn find_or_post_comment(
        &self,
        base: &str,
        ticket: &TicketRef,
        marker: &str,
        text: &str,
    ) -> ForgeResult<Option<u64>> {
        // Listed oldest first: on a busy ticket, stackrel's comment can be on a later page.
        let comments: Vec<Comment> = self
            .get_list(&format!(
                "{base}/issues/{}/comments?per_page=100",
                ticket.number
            ))?
            .ok_or_else(|| ForgeError::NotFound {
                what: format!("issue {ticket}"),
            })?;
        let ours = comments
            .into_iter()
            .find(|c| c.body.as_deref().is_some_and(|b| b.contains(marker)));
        Ok(Some(match ours {
            Some(comment) if comment.body.as_deref() == Some(text) => comment.id,
            Some(comment) => {
                let uri = format!("{base}/issues/comments/{}", comment.id);
                let answer = self.write("PATCH", &uri, &json!({ "body": text }))?;
                self.expect_ok::<serde::de::IgnoredAny>("PATCH", &uri, answer)?;
                comment.id
            }
            None => {
                let uri = format!("{base}/issues/{}/comments", ticket.number);
                let answer = self.write("POST", &uri, &json!({ "body": text }))?;
                self.expect_ok::<Created>("POST", &uri, answer)?.id
            }
        }))
    }

    fn add_label(&self, base: &str, ticket: &TicketRef, label: &str) -> ForgeResult<()> {
        let labelled = format!("{ticket}:{label}");
        if self.known().labels.contains(&labelled) {
            return Ok(());
        }
        let uri = format!("{base}/issues/{}/labels", ticket.number);
        let answer = self.write("POST", &uri, &json!({ "labels": [label] }))?;
        self.expect_ok::<serde::de::IgnoredAny>("POST", &uri, answer)?;
        self.known().labels.insert(labelled);
        Ok(())
    }

    /// The deployment a record belongs to, when one exists to add a status to.
    fn deployment_for(
        &self,
        repo: &RepoLocation,
        key: &str,
        record: &DeploymentRecord,
    ) -> ForgeResult<Option<u64>> {
        match record.state {
            // An outcome belongs to the newest deployment of the version: the one this forge
            // created or last listed, looked up only when it knows none (after a restart).
            DeploymentState::Succeeded
            | DeploymentState::Failed
            | DeploymentState::Verified
            | DeploymentState::Reported => {
                let known = self.known().deployment_ids.get(key).copied();
                match known {
                    Some(id) => Ok(Some(id)),
                    None => Ok(self
                        .deployment_list(repo, Some(&record.version))?
                        .into_iter()
                        .find(|d| d.version() == Some(record.version.as_str()))
                        .map(|d| d.id)),
                }
            }
            // A new attempt (or an adoption) reuses the version's newest deployment while that
            // has no final status: it is this attempt's own, created by a request whose answer
            // was lost (the observation just before listed it). Otherwise it is a new deployment.
            DeploymentState::Started | DeploymentState::Adopted => {
                let known = self.known();
                Ok(known
                    .deployment_ids
                    .get(key)
                    .copied()
                    .filter(|id| !known.statuses.get(id).is_some_and(is_final)))
            }
        }
    }

    fn create_deployment(&self, base: &str, record: &DeploymentRecord) -> ForgeResult<u64> {
        let uri = format!("{base}/deployments");
        let answer = self.write(
            "POST",
            &uri,
            &json!({
                "ref": record.version,
                "environment": self.environment,
                "description": format!("stackrel: deploying {}", record.version),
                "payload": deployment_payload(record),
                "auto_merge": false,
                "required_contexts": [],
                "production_environment": true,
            }),
        )?;
        Ok(self.expect_ok::<Created>("POST", &uri, answer)?.id)
    }

    /// A deployment's newest status. One this forge posted, or a final one, is not asked for
    /// again: with a history of deployments, that would be one request per deployment per
    /// reconcile.
    fn newest_status(&self, base: &str, id: u64) -> ForgeResult<Option<DeploymentStatus>> {
        if let Some(status) = self.known().statuses.get(&id).cloned() {
            return Ok(Some(status));
        }
        // The newest by id: GitHub does not document the order statuses are listed in.
        let statuses: Vec<DeploymentStatus> = self
            .get_list(&format!("{base}/deployments/{id}/statuses?per_page=100"))?
            .unwrap_or_default();
        let Some(status) = statuses.into_iter().max_by_key(|s| s.id) else {
            return Ok(None);
        };
        if is_final(&status) {
            self.known().statuses.insert(id, status.clone());
        }
        Ok(Some(status))
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
    fn the_next_page_is_read_from_githubs_link_header() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "link",
            http::HeaderValue::from_static(
                "<https://api.github.com/repositories/1/issues/1/comments?per_page=100&page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues/1/comments?per_page=100&page=3>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/repositories/1/issues/1/comments?per_page=100&page=2")
        );
        headers.insert(
            "link",
            http::HeaderValue::from_static("<https://x/a?page=1>; rel=\"prev\""),
        );
        assert_eq!(next_link(&headers), None);
        assert_eq!(
            with_page("/repos/o/r/actions/variables?per_page=30&page=1", 2),
            "/repos/o/r/actions/variables?per_page=30&page=2"
        );
        assert_eq!(
            per_page("/repos/o/r/deployments?environment=p&per_page=100"),
            Some(100)
        );
        assert_eq!(repo_of("/repos/o/r/git/refs"), Some(("o", "r")));
    }

    #[test]
    fn etag_cache_is_bounded() {
        let mut cache = EtagCache::new(2);
        cache.put(
            "a".into(),
            "1".into(),
            Page {
                body: vec![],
                next: None,
            },
        );
        cache.put(
            "b".into(),
            "2".into(),
            Page {
                body: vec![],
                next: None,
            },
        );
        cache.put(
            "c".into(),
            "3".into(),
            Page {
                body: vec![],
                next: None,
            },
        );
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

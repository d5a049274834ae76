//! The registry API client: `HEAD /v2/<name>/manifests/<tag>` and the token dance in front of
//! it (distribution spec; Docker's token authentication). Synchronous over ureq, as the AWX
//! client is, because observation is synchronous; each request is bounded in time and size, no
//! redirect is followed (a registry that redirects its manifest endpoint is reported, so that
//! credentials never travel to a host nobody configured), and only loopback registries and token
//! realms are spoken to in plain HTTP.

use super::auth::{Login, Logins};
use super::challenge::{self, Challenge};
use super::reference::{ImageRef, is_loopback_host};
use super::{Registry, RegistryError};
use crate::credentials::Secret;
use base64::Engine;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Every manifest kind an image tag can name: OCI index and manifest, Docker list and v2.
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The distribution spec lets registries refuse manifests over 4 MiB.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// A token answer or an error body is small.
const MAX_SMALL_BODY_BYTES: u64 = 256 * 1024;
/// How long a token lives when the realm does not say (Docker's token spec: 60 s).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The longest a pull token is kept, whatever its service says (`expires_in` is its word).
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// How long a Basic login, once accepted, is sent without waiting for a challenge.
const BASIC_LIFETIME: Duration = Duration::from_secs(3600);

/// What one request got back.
struct Answer {
    status: u16,
    digest: Option<String>,
    challenge: Option<String>,
    location: Option<String>,
    body: Vec<u8>,
}

/// The HTTP registry client, with the pull tokens and settled digests it has learnt.
pub struct RegistryClient {
    agent: ureq::Agent,
    logins: Logins,
    /// `Authorization` values by `host repository`, until they expire.
    authorizations: Mutex<HashMap<String, (Secret, Instant)>>,
    /// What was found for `image:tag`; once a release is cut its images are not asked again.
    settled: Mutex<HashMap<String, Option<String>>>,
    requests: AtomicU64,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("logins", &self.logins.source)
            .finish_non_exhaustive()
    }
}

fn build_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
        .timeout_global(Some(timeout))
        .user_agent(concat!("stackrel/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

impl RegistryClient {
    pub fn new(logins: Logins) -> Self {
        RegistryClient {
            agent: build_agent(REQUEST_TIMEOUT),
            logins,
            authorizations: Mutex::new(HashMap::new()),
            settled: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        }
    }

    /// The bound on a single request (tests use less).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.agent = build_agent(timeout);
        self
    }

    /// HTTP requests sent so far, token requests included.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn send(
        &self,
        image: &ImageRef,
        method: &str,
        url: &str,
        authorization: Option<&Secret>,
    ) -> Result<Answer, RegistryError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let unreachable = |why: String| RegistryError::Unreachable {
            registry: image.registry().to_string(),
            why,
        };
        let mut request = match method {
            "HEAD" => self.agent.head(url),
            _ => self.agent.get(url),
        }
        .header("Accept", MANIFEST_TYPES);
        if let Some(value) = authorization {
            request = request.header("Authorization", value.expose());
        }
        let mut response = request.call().map_err(|e| unreachable(e.to_string()))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = response.status().as_u16();
        let limit = if status == 200 {
            MAX_MANIFEST_BYTES
        } else {
            MAX_SMALL_BODY_BYTES
        };
        let (digest, challenge, location) = (
            header("docker-content-digest"),
            header("www-authenticate"),
            header("location"),
        );
        let body = match method {
            "HEAD" => Vec::new(),
            _ => read_limited(response.body_mut(), limit)
                .map_err(|why| invalid(image, format!("reading its answer: {why}")))?,
        };
        Ok(Answer {
            status,
            digest,
            challenge,
            location,
            body,
        })
    }

    fn cached_authorization(&self, key: &str) -> Option<Secret> {
        let cache = self.authorizations.lock().ok()?;
        let (value, until) = cache.get(key)?;
        (Instant::now() < *until).then(|| value.clone())
    }

    fn remember_authorization(&self, key: String, value: Secret, lifetime: Duration) {
        if let Ok(mut cache) = self.authorizations.lock() {
            // A token service may claim any lifetime; an hour at most is asked again.
            let until = Instant::now() + lifetime.min(MAX_TOKEN_LIFETIME);
            cache.insert(key, (value, until));
        }
    }

    /// One request with whatever authorization is known; on a challenge, the authorization it
    /// asks for, and the request once more.
    fn authorized(
        &self,
        image: &ImageRef,
        method: &str,
        url: &str,
    ) -> Result<Answer, RegistryError> {
        let key = format!("{} {}", image.api_host(), image.repository());
        let cached = self.cached_authorization(&key);
        let answer = self.send(image, method, url, cached.as_ref())?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let login = self.logins.get(image.registry());
        let header = answer.challenge.as_deref().unwrap_or_default();
        let challenges = challenge::parse(header).map_err(|e| {
            invalid(
                image,
                format!("its WWW-Authenticate header cannot be read: {e}"),
            )
        })?;
        let (value, lifetime) = self.answer_challenge(image, &challenges, login)?;
        let answer = self.send(image, method, url, Some(&value))?;
        if answer.status == 401 {
            return Err(self.refused(image, login));
        }
        self.remember_authorization(key, value, lifetime);
        Ok(answer)
    }

    /// What to answer a challenge with: a pull token from a Bearer realm (anonymous, or with
    /// the login), or the login itself for Basic.
    fn answer_challenge(
        &self,
        image: &ImageRef,
        challenges: &[Challenge],
        login: Option<&Login>,
    ) -> Result<(Secret, Duration), RegistryError> {
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            return self.token(image, bearer, login);
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            let login = login.ok_or_else(|| self.refused(image, None))?;
            return Ok((basic(login), BASIC_LIFETIME));
        }
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        Err(invalid(
            image,
            format!(
                "it asks for {} authentication; stackrel speaks Bearer and Basic",
                schemes.join(", ")
            ),
        ))
    }

    /// `GET realm?service=…&scope=…`, with the login as Basic when there is one.
    fn token(
        &self,
        image: &ImageRef,
        bearer: &Challenge,
        login: Option<&Login>,
    ) -> Result<(Secret, Duration), RegistryError> {
        let realm = bearer
            .param("realm")
            .ok_or_else(|| invalid(image, "its Bearer challenge names no realm".into()))?;
        check_realm(image, realm)?;
        let scope = bearer.param("scope").map_or_else(
            || format!("repository:{}:pull", image.repository()),
            String::from,
        );
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self.agent.get(realm).query("scope", &scope);
        if let Some(service) = bearer.param("service") {
            request = request.query("service", service);
        }
        if let Some(login) = login {
            request = request.header("Authorization", basic(login).expose());
        }
        let mut response = request.call().map_err(|e| RegistryError::Unreachable {
            registry: image.registry().to_string(),
            why: format!("its token service {}: {e}", host_of(realm)),
        })?;
        let status = response.status().as_u16();
        let body = read_limited(response.body_mut(), MAX_SMALL_BODY_BYTES)
            .map_err(|why| invalid(image, format!("reading its token: {why}")))?;
        match status {
            200 => parse_token(image, &body),
            401 | 403 => Err(self.refused(image, login)),
            status => Err(RegistryError::Failed {
                registry: image.registry().to_string(),
                status,
                what: format!("a pull token from {}", host_of(realm)),
            }),
        }
    }

    /// A `401` after authorizing: the login was refused, or there is none and one is needed.
    fn refused(&self, image: &ImageRef, login: Option<&Login>) -> RegistryError {
        match login {
            Some(login) => RegistryError::CredentialsRefused {
                registry: image.registry().to_string(),
                repository: image.repository().to_string(),
                username: login.username.clone(),
                from: self
                    .logins
                    .source
                    .clone()
                    .unwrap_or_else(|| "the credentials given".into()),
            },
            None => RegistryError::NeedsCredentials {
                registry: image.registry().to_string(),
                repository: image.repository().to_string(),
            },
        }
    }

    /// The tag's manifest digest; GETs the manifest and hashes it when the registry sends no
    /// `Docker-Content-Digest`.
    fn manifest_digest(
        &self,
        image: &ImageRef,
        tag: &str,
    ) -> Result<Option<String>, RegistryError> {
        crate::component_tag::check_image_tag(tag).map_err(|why| RegistryError::InvalidTag {
            tag: tag.to_string(),
            why,
        })?;
        let url = format!(
            "{}/v2/{}/manifests/{tag}",
            image.api_base(),
            image.repository()
        );
        let head = self.authorized(image, "HEAD", &url)?;
        match head.status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(failed(image, tag, &head)),
        }
        if let Some(digest) = head.digest {
            return check_digest(image, &digest).map(Some);
        }
        let get = self.authorized(image, "GET", &url)?;
        match get.status {
            200 => Ok(Some(format!("sha256:{:x}", Sha256::digest(&get.body)))),
            404 => Ok(None),
            _ => Err(failed(image, tag, &get)),
        }
    }
}

impl Registry for RegistryClient {
    fn digest(&self, image: &ImageRef, tag: &str) -> Result<Option<String>, RegistryError> {
        let found = self.manifest_digest(image, tag)?;
        if let (Some(digest), Ok(mut settled)) = (&found, self.settled.lock()) {
            settled.insert(image.with_tag(tag), Some(digest.clone()));
        }
        Ok(found)
    }

    fn known_digest(&self, image: &ImageRef, tag: &str) -> Option<String> {
        self.settled
            .lock()
            .ok()?
            .get(&image.with_tag(tag))
            .cloned()
            .flatten()
    }

    fn settled_digest(&self, image: &ImageRef, tag: &str) -> Option<String> {
        let key = image.with_tag(tag);
        if let Some(known) = self.settled.lock().ok()?.get(&key) {
            return known.clone();
        }
        let found = self.manifest_digest(image, tag).ok().flatten();
        self.settled.lock().ok()?.insert(key, found.clone());
        found
    }
}

fn invalid(image: &ImageRef, why: String) -> RegistryError {
    RegistryError::Invalid {
        registry: image.registry().to_string(),
        why,
    }
}

/// A manifest answer other than found or not found.
fn failed(image: &ImageRef, tag: &str, answer: &Answer) -> RegistryError {
    let registry = image.registry().to_string();
    match answer.status {
        300..=399 => invalid(
            image,
            format!(
                "it redirects {} to {}; name the registry where the image really is",
                image.with_tag(tag),
                answer.location.as_deref().unwrap_or("(nowhere)")
            ),
        ),
        403 => RegistryError::Denied {
            registry,
            repository: image.repository().to_string(),
        },
        status => RegistryError::Failed {
            registry,
            status,
            what: image.with_tag(tag),
        },
    }
}

fn basic(login: &Login) -> Secret {
    let pair = format!("{}:{}", login.username, login.password.expose());
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
}

fn read_limited(body: &mut ureq::Body, limit: u64) -> Result<Vec<u8>, String> {
    body.with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => format!("it is over {limit} bytes"),
            other => other.to_string(),
        })
}

/// `https://auth.docker.io/token?x` → `auth.docker.io`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// A token realm is spoken to over HTTPS, or plain HTTP on this machine only. The realm is
/// parsed as a URI, and one with user information (`http://127.0.0.1:1@elsewhere/`) is refused,
/// so that its host is the host the login is sent to.
fn check_realm(image: &ImageRef, realm: &str) -> Result<(), RegistryError> {
    let uri = realm.parse::<http::Uri>().ok();
    let authority = uri.as_ref().and_then(|u| u.authority());
    let host = match (authority, uri.as_ref().and_then(|u| u.host())) {
        (Some(authority), Some(host)) if !authority.as_str().contains('@') => host,
        _ => "",
    };
    let scheme = uri.as_ref().and_then(|u| u.scheme_str());
    let secure = scheme == Some("https");
    let local = scheme == Some("http") && is_loopback_host(host);
    if host.is_empty() || !(secure || local) {
        return Err(invalid(
            image,
            format!("its token realm `{realm}` is not an https:// URL"),
        ));
    }
    Ok(())
}

/// `{"token": …}` or `{"access_token": …}`, with its lifetime.
fn parse_token(image: &ImageRef, body: &[u8]) -> Result<(Secret, Duration), RegistryError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        invalid(
            image,
            "its token service answered something other than JSON".into(),
        )
    })?;
    let token = ["token", "access_token"]
        .iter()
        .find_map(|k| {
            value
                .get(*k)
                .and_then(|t| t.as_str())
                .filter(|t| !t.is_empty())
        })
        .ok_or_else(|| invalid(image, "its token service answered no token".into()))?;
    let lifetime = value
        .get("expires_in")
        .and_then(|s| s.as_u64())
        .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
    // Renewed a little early, so that a token never expires between check and use.
    let lifetime = lifetime.saturating_sub(Duration::from_secs(5));
    Ok((Secret::new(format!("Bearer {token}")), lifetime))
}

/// `sha256:<64 hex>` or `sha512:<128 hex>`, as the spec's registered algorithms are written.
fn check_digest(image: &ImageRef, digest: &str) -> Result<String, RegistryError> {
    let valid = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && digest.split_once(':').is_some_and(|(_, hex)| {
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if !valid {
        let shown: String = digest.chars().take(80).collect();
        return Err(invalid(
            image,
            format!("its Docker-Content-Digest `{shown}` is not a digest"),
        ));
    }
    Ok(digest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ImageRef {
        ImageRef::parse("ghcr.io/a/b").unwrap()
    }

    #[test]
    fn digests_are_checked() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(check_digest(&image(), &good).unwrap(), good);
        for bad in [
            "",
            "sha256:abc",
            "md5:00",
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            assert!(check_digest(&image(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn realms_must_be_https_unless_on_this_machine() {
        assert!(check_realm(&image(), "https://auth.docker.io/token").is_ok());
        assert!(check_realm(&image(), "http://127.0.0.1:5001/token").is_ok());
        assert!(check_realm(&image(), "http://[::1]:80/t").is_ok());
        for bad in [
            "http://auth.example.org/token",
            "ftp://x/y",
            "https://",
            "/token",
        ] {
            assert!(check_realm(&image(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_realm_with_user_information_is_refused_whatever_it_looks_like() {
        for bad in [
            "http://127.0.0.1:1@evil.example/token",
            "http://localhost@evil.example/token",
            "https://user:pass@auth.docker.io/token",
        ] {
            assert!(check_realm(&image(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_token_lifetime_beyond_any_clock_is_kept_an_hour_without_panicking() {
        let (token, lifetime) = parse_token(
            &image(),
            br#"{"token":"t","expires_in":18446744073709551615}"#,
        )
        .unwrap();
        let client = RegistryClient::new(Logins::default());
        client.remember_authorization("k".into(), token, lifetime);
        assert!(client.cached_authorization("k").is_some());
    }

    #[test]
    fn tokens_and_their_lifetimes() {
        let (token, lifetime) =
            parse_token(&image(), br#"{"token":"t1","expires_in":300}"#).unwrap();
        assert_eq!((token.expose(), lifetime.as_secs()), ("Bearer t1", 295));
        let (token, lifetime) = parse_token(&image(), br#"{"access_token":"t2"}"#).unwrap();
        assert_eq!((token.expose(), lifetime.as_secs()), ("Bearer t2", 55));
        assert!(parse_token(&image(), b"{}").is_err());
        let error = parse_token(&image(), b"secret-not-json")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("secret"), "{error}");
    }
}

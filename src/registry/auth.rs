//! Credentials for private registries, from the environment, in the format `docker login`
//! writes (`config.json`: `{"auths": {"ghcr.io": {"auth": "<base64 user:password>"}}}`), so that
//! a CI job's existing login, or a Kubernetes `dockerconfigjson` secret, works unchanged:
//!
//! - `STACKREL_REGISTRY_AUTH`: that JSON document itself, or `STACKREL_REGISTRY_AUTH_FILE`: a
//!   file holding it;
//! - otherwise `DOCKER_CONFIG`: the directory whose `config.json` docker uses.
//!
//! Entries may also give `username` and `password` instead of `auth`. Credential helpers
//! (`credsStore`, `credHelpers`) run programs and are not used. Nothing read here is ever
//! printed: passwords are `Secret`s, and errors name the variable, never the content.

use super::reference::{DOCKER_HUB, DOCKER_HUB_API};
use crate::credentials::{Secret, from_lookup};
use base64::Engine;
use std::collections::BTreeMap;

pub const AUTH_VAR: &str = "STACKREL_REGISTRY_AUTH";
pub const DOCKER_CONFIG_VAR: &str = "DOCKER_CONFIG";
/// A credentials document is a few entries; anything bigger is not one.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// A user name and password (or token) for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: Secret,
}

/// Logins by registry (as `ImageRef::registry` names them), and where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logins {
    by_registry: BTreeMap<String, Login>,
    /// `STACKREL_REGISTRY_AUTH`, `STACKREL_REGISTRY_AUTH_FILE` or `DOCKER_CONFIG`: said in
    /// errors so a person knows which setting to fix.
    pub source: Option<String>,
}

impl Logins {
    /// The logins the environment provides (none is fine: public images need none).
    pub fn from_env() -> Result<Logins, String> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// `from_env` with the environment passed in, for tests.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Logins, String> {
        if let Some(document) = from_lookup(AUTH_VAR, &lookup).map_err(|e| e.to_string())? {
            let source = if lookup(AUTH_VAR).is_some_and(|v| !v.trim().is_empty()) {
                AUTH_VAR.to_string()
            } else {
                format!("{AUTH_VAR}_FILE")
            };
            return Logins::parse(document.expose(), &source);
        }
        let Some(dir) = lookup(DOCKER_CONFIG_VAR).filter(|d| !d.trim().is_empty()) else {
            return Ok(Logins::default());
        };
        let path = std::path::Path::new(dir.trim()).join("config.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => Logins::parse(&text, DOCKER_CONFIG_VAR),
            // docker itself runs without one.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Logins::default()),
            Err(e) => Err(format!(
                "{DOCKER_CONFIG_VAR} names {dir}, whose config.json cannot be read: {e}"
            )),
        }
    }

    /// Reads a `config.json` document; `source` names where it came from in errors.
    pub fn parse(document: &str, source: &str) -> Result<Logins, String> {
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{source} is over 1 MiB: not a docker config.json"));
        }
        // serde_json's messages can quote the input; say only where it went wrong.
        let value: serde_json::Value = serde_json::from_str(document).map_err(|e| {
            format!(
                "{source} is not JSON (line {}, column {}); it takes docker's config.json format: {{\"auths\": {{\"HOST\": {{\"auth\": \"BASE64(user:password)\"}}}}}}",
                e.line(),
                e.column()
            )
        })?;
        let mut logins = Logins {
            by_registry: BTreeMap::new(),
            source: Some(source.to_string()),
        };
        let Some(auths) = value.get("auths").and_then(|a| a.as_object()) else {
            return Ok(logins);
        };
        for (key, entry) in auths {
            let host = registry_of_key(key);
            let login =
                login_of(entry).map_err(|why| format!("{source}: the entry for {host} {why}"))?;
            if let Some(login) = login {
                logins.by_registry.insert(host, login);
            }
        }
        Ok(logins)
    }

    /// The login for a registry, by the name `ImageRef::registry` gives it.
    pub fn get(&self, registry: &str) -> Option<&Login> {
        self.by_registry.get(registry)
    }

    /// Adds a login (tests, and callers with credentials of their own).
    pub fn insert(&mut self, registry: &str, login: Login) {
        self.by_registry.insert(registry_of_key(registry), login);
    }

    pub fn is_empty(&self) -> bool {
        self.by_registry.is_empty()
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `ghcr.io` → `ghcr.io`; `HOST:5000/` → `host:5000`.
fn registry_of_key(key: &str) -> String {
    let key = key.trim();
    let key = key.split_once("://").map_or(key, |(_, rest)| rest);
    let host = key
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | DOCKER_HUB_API => DOCKER_HUB.to_string(),
        _ => host,
    }
}

/// One `auths` entry: `auth` (base64 of `user:password`) or `username` + `password`; `None` for
/// an entry with neither (docker writes `{}` for hosts its credential helper holds).
fn login_of(entry: &serde_json::Value) -> Result<Option<Login>, String> {
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if let Some(auth) = field("auth") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "has an `auth` that is not base64".to_string())?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| "has an `auth` that is not base64 of UTF-8 text".to_string())?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or("has an `auth` that is not base64 of `user:password`")?;
        return Ok(Some(Login {
            username: username.to_string(),
            password: Secret::new(password),
        }));
    }
    match (field("username"), field("password")) {
        (Some(username), Some(password)) => Ok(Some(Login {
            username: username.to_string(),
            password: Secret::new(password),
        })),
        (None, None) => Ok(None),
        _ => Err("needs both `username` and `password` (or `auth`)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::tests::env;

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn docker_config_entries_by_registry() {
        let document = format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}},
                "ghcr.io": {{"username": "bot", "password": "ghp_x"}},
                "Registry.Example.org:5000": {{"auth": "{}"}},
                "quay.io": {{}}}}, "credsStore": "desktop"}}"#,
            b64("hub:p:w"),
            b64("me:secret")
        );
        let logins = Logins::from_lookup(env(&[(AUTH_VAR, &document)])).unwrap();
        assert_eq!(logins.source.as_deref(), Some(AUTH_VAR));
        let hub = logins.get("docker.io").unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.expose()),
            ("hub", "p:w")
        );
        assert_eq!(logins.get("ghcr.io").unwrap().password.expose(), "ghp_x");
        assert_eq!(
            logins.get("registry.example.org:5000").unwrap().username,
            "me"
        );
        assert!(logins.get("quay.io").is_none());
        assert!(!format!("{logins:?}").contains("secret"));
    }

    #[test]
    fn from_a_file_or_docker_config_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        let document = format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
            b64("a:b")
        );
        std::fs::write(&file, &document).unwrap();
        let path = file.to_string_lossy().into_owned();
        let via_file = Logins::from_lookup(env(&[("STACKREL_REGISTRY_AUTH_FILE", &path)])).unwrap();
        assert_eq!(
            via_file.source.as_deref(),
            Some("STACKREL_REGISTRY_AUTH_FILE")
        );
        assert!(via_file.get("ghcr.io").is_some());
        let docker = dir.path().to_string_lossy().into_owned();
        let via_docker = Logins::from_lookup(env(&[(DOCKER_CONFIG_VAR, &docker)])).unwrap();
        assert_eq!(via_docker.source.as_deref(), Some(DOCKER_CONFIG_VAR));
        assert!(via_docker.get("ghcr.io").is_some());
        let empty = tempfile::tempdir().unwrap();
        let empty = empty.path().to_string_lossy().into_owned();
        assert!(
            Logins::from_lookup(env(&[(DOCKER_CONFIG_VAR, &empty)]))
                .unwrap()
                .is_empty()
        );
        assert!(Logins::from_lookup(env(&[])).unwrap().is_empty());
    }

    #[test]
    fn bad_documents_name_the_setting_never_the_content() {
        let not_json = Logins::from_lookup(env(&[(AUTH_VAR, "hunter2-not-json")])).unwrap_err();
        assert!(
            not_json.contains("STACKREL_REGISTRY_AUTH is not JSON"),
            "{not_json}"
        );
        assert!(!not_json.contains("hunter2"), "{not_json}");
        let wrong_type = Logins::parse(
            r#"{"auths": {"h.io": {"auth": 12}}, "x": "hunter2"}"#,
            AUTH_VAR,
        );
        assert!(wrong_type.unwrap().get("h.io").is_none());
        for (entry, why) in [
            (r#"{"auth": "%%%hunter2"}"#, "not base64"),
            (
                &format!(r#"{{"auth": "{}"}}"#, b64("hunter2")),
                "user:password",
            ),
            (r#"{"username": "u"}"#, "both"),
        ] {
            let document = format!(r#"{{"auths": {{"h.io": {entry}}}}}"#);
            let error = Logins::parse(&document, AUTH_VAR).unwrap_err();
            assert!(error.contains(why) && error.contains("h.io"), "{error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
    }
}

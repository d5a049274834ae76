//! An image reference as `stackrel.toml` names it (`docker.io/xchem/fragalysis-backend`), read
//! by the grammar of the distribution spec's reference package, so that what validation accepts
//! is exactly what a registry can be asked about. The tag is not part of it: each release
//! supplies the tag, so a reference written with one is refused rather than silently ignored.

use std::fmt;

/// The registry an image without a registry host lives on, as people write it.
pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's registry API really answers: `docker.io` serves no `/v2/`.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The distribution spec caps the repository name, registry host included, at 255 characters.
const MAX_NAME_LEN: usize = 255;

/// A repository on a registry: where to ask, and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef {
    /// The registry as people name it, lowercased: `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    registry: String,
    /// The repository path: `xchem/fragalysis-backend`, or `library/alpine` for Docker Hub's
    /// one-part names.
    repository: String,
}

/// What is wrong with a written image reference; each says how to write it instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    #[error("it is empty")]
    Empty,
    #[error("it has a URL scheme (`{0}://`); an image reference names a host, not a URL")]
    Scheme(String),
    #[error("it has a tag (`:{0}`); the tag comes from each release")]
    Tag(String),
    #[error(
        "it has a digest (`@{0}`); the tag comes from each release and the digest is looked up"
    )]
    Digest(String),
    #[error("the registry host `{0}` is not a valid host name")]
    Host(String),
    #[error("the registry port in `{0}` is not a number from 1 to 65535")]
    Port(String),
    #[error("it has an empty path component (a leading, trailing or doubled `/`)")]
    EmptyComponent,
    #[error("the path component `{0}` has capital letters; repository names are lowercase")]
    Uppercase(String),
    #[error(
        "the path component `{0}` has a character other than a-z, 0-9, `.`, `_`, `__` or `-` between letters and digits"
    )]
    Component(String),
    #[error("it is {0} characters long; a repository name is at most 255")]
    TooLong(usize),
}

impl ImageRefError {
    /// How to write the reference instead.
    pub fn help(&self) -> String {
        let example = "write `[host[:port]/]path`, e.g. \"docker.io/xchem/fragalysis-backend\", \"ghcr.io/owner/name\" or \"127.0.0.1:5000/team/app\"";
        match self {
            ImageRefError::Tag(_) | ImageRefError::Digest(_) => {
                format!("drop it: {example}; the release's version is the tag")
            }
            ImageRefError::Uppercase(part) => {
                format!("write `{}`", part.to_ascii_lowercase())
            }
            _ => example.to_string(),
        }
    }
}

impl ImageRef {
    /// Reads `[host[:port]/]path/…`. The first component is a registry host when it has a `.`
    /// or a `:`, or is `localhost` (Docker's rule); otherwise the image is on Docker Hub.
    pub fn parse(written: &str) -> Result<ImageRef, ImageRefError> {
        let text = written.trim();
        if text.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(ImageRefError::Scheme(scheme.to_string()));
        }
        if let Some((_, digest)) = text.split_once('@') {
            return Err(ImageRefError::Digest(digest.to_string()));
        }
        let (registry, path) = split_registry(text)?;
        if let Some((_, tag)) = path.rsplit_once(':') {
            return Err(ImageRefError::Tag(tag.to_string()));
        }
        for component in path.split('/') {
            check_component(component)?;
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        let length = registry.len() + 1 + repository.len();
        if length > MAX_NAME_LEN {
            return Err(ImageRefError::TooLong(length));
        }
        Ok(ImageRef {
            registry,
            repository,
        })
    }

    /// The registry as people name it: `docker.io`, `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The host (and port) the registry API answers on.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// Whether the registry is on this machine: only such a registry is spoken to in plain HTTP.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.api_host())
    }

    /// `https://registry-1.docker.io`, or `http://127.0.0.1:5000` for a loopback registry.
    pub fn api_base(&self) -> String {
        let scheme = if self.is_loopback() { "http" } else { "https" };
        format!("{scheme}://{}", self.api_host())
    }

    /// `docker.io/xchem/fragalysis-backend:2026.08.1`
    pub fn with_tag(&self, tag: &str) -> String {
        format!("{self}:{tag}")
    }
}

/// `docker.io/xchem/fragalysis-backend`; Docker Hub's `library/` shown as it is stored.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

/// Whether a `host[:port]` names this machine: 127.0.0.0/8, `::1` or `localhost`.
pub fn is_loopback_host(host_port: &str) -> bool {
    let host = strip_port(host_port);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `[::1]:5000` → `[::1]`, `host:5000` → `host`, `::1` → `::1`.
fn strip_port(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest
            .find(']')
            .map_or(host_port, |end| &host_port[..end + 2]);
    }
    match host_port.rsplit_once(':') {
        Some((host, _)) if !host.contains(':') => host,
        _ => host_port,
    }
}

/// The registry host (lowercased, Docker Hub when there is none) and the path after it.
fn split_registry(text: &str) -> Result<(String, &str), ImageRefError> {
    let Some((first, rest)) = text.split_once('/') else {
        return Ok((DOCKER_HUB.to_string(), text));
    };
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    if !is_host {
        return Ok((DOCKER_HUB.to_string(), text));
    }
    check_host(first)?;
    let host = first.to_ascii_lowercase();
    // Docker Hub's other names are one registry; `index.docker.io` is what old configs say.
    let host = match host.as_str() {
        "index.docker.io" | DOCKER_HUB_API => DOCKER_HUB.to_string(),
        _ => host,
    };
    Ok((host, rest))
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`, by the reference grammar's domain rule.
fn check_host(host_port: &str) -> Result<(), ImageRefError> {
    let bad_host = || ImageRefError::Host(host_port.to_string());
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(bad_host)?;
        v6.parse::<std::net::Ipv6Addr>().map_err(|_| bad_host())?;
        match after {
            "" => (None, None),
            _ => (None, Some(after.strip_prefix(':').ok_or_else(bad_host)?)),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(host_port), None),
        }
    };
    if let Some(host) = host {
        let label_ok = |label: &str| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if !host.split('.').all(label_ok) {
            return Err(bad_host());
        }
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(ImageRefError::Port(host_port.to_string()));
        }
    }
    Ok(())
}

/// `path-component := alpha-numeric (separator alpha-numeric)*`, with `alpha-numeric := [a-z0-9]+`
/// and `separator := [_.] | __ | [-]+`.
fn check_component(component: &str) -> Result<(), ImageRefError> {
    if component.is_empty() {
        return Err(ImageRefError::EmptyComponent);
    }
    if component.bytes().any(|b| b.is_ascii_uppercase()) {
        let lowered = component.to_ascii_lowercase();
        if check_component(&lowered).is_ok() {
            return Err(ImageRefError::Uppercase(component.to_string()));
        }
    }
    let bad = || ImageRefError::Component(component.to_string());
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && is_alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        if i == bytes.len() {
            return Ok(());
        }
        let separator_start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[separator_start..i];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid || i == bytes.len() {
            return Err(bad());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, String, String) {
        let image = ImageRef::parse(text).unwrap();
        (
            image.registry().to_string(),
            image.repository().to_string(),
            image.api_base(),
        )
    }

    #[test]
    fn docker_hub_names_resolve_to_its_api_host_and_library() {
        let hub = |repo: &str| {
            (
                "docker.io".to_string(),
                repo.to_string(),
                "https://registry-1.docker.io".to_string(),
            )
        };
        assert_eq!(
            parsed("docker.io/xchem/fragalysis-backend"),
            hub("xchem/fragalysis-backend")
        );
        assert_eq!(
            parsed("xchem/fragalysis-backend"),
            hub("xchem/fragalysis-backend")
        );
        assert_eq!(parsed("alpine"), hub("library/alpine"));
        assert_eq!(parsed("docker.io/alpine"), hub("library/alpine"));
        assert_eq!(
            parsed("index.docker.io/library/alpine"),
            hub("library/alpine")
        );
        assert_eq!(
            ImageRef::parse("alpine").unwrap().with_tag("3"),
            "docker.io/library/alpine:3"
        );
    }

    #[test]
    fn other_registries_keep_host_and_port_and_only_loopback_is_plain_http() {
        assert_eq!(
            parsed("ghcr.io/owner/name"),
            (
                "ghcr.io".into(),
                "owner/name".into(),
                "https://ghcr.io".into()
            )
        );
        assert_eq!(
            parsed("Registry.Example.org:5000/a/b/c"),
            (
                "registry.example.org:5000".into(),
                "a/b/c".into(),
                "https://registry.example.org:5000".into()
            )
        );
        for (text, base) in [
            ("127.0.0.1:5000/team/app", "http://127.0.0.1:5000"),
            ("localhost:5000/app", "http://localhost:5000"),
            ("localhost/app", "http://localhost"),
            ("[::1]:5000/app", "http://[::1]:5000"),
            ("127.9.9.9:80/app", "http://127.9.9.9:80"),
            ("10.0.0.1:5000/app", "https://10.0.0.1:5000"),
            ("localhost.example.org/app", "https://localhost.example.org"),
        ] {
            assert_eq!(parsed(text).2, base, "{text}");
        }
    }

    #[test]
    fn separators_follow_the_grammar() {
        for ok in [
            "a/b.c",
            "a/b_c",
            "a/b__c",
            "a/b-c",
            "a/b---c",
            "a/0",
            "a/b.c-d_e",
        ] {
            assert!(ImageRef::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a/b..c", "a/b___c", "a/.b", "a/b.", "a/-b", "a/b-", "a/b_-c", "a/b c", "a/ü",
        ] {
            assert!(
                matches!(ImageRef::parse(bad), Err(ImageRefError::Component(_))),
                "{bad}: {:?}",
                ImageRef::parse(bad)
            );
        }
    }

    #[test]
    fn mistakes_say_what_is_wrong_and_how_to_write_it() {
        let error = |text: &str| ImageRef::parse(text).unwrap_err();
        assert_eq!(error(""), ImageRefError::Empty);
        assert_eq!(error("  "), ImageRefError::Empty);
        assert_eq!(
            error("https://ghcr.io/a/b"),
            ImageRefError::Scheme("https".into())
        );
        assert_eq!(
            error("xchem/backend:latest"),
            ImageRefError::Tag("latest".into())
        );
        assert_eq!(error("localhost:5000/a:1"), ImageRefError::Tag("1".into()));
        assert!(matches!(error("a/b@sha256:00"), ImageRefError::Digest(_)));
        assert_eq!(
            error("host:99999/a"),
            ImageRefError::Port("host:99999".into())
        );
        assert_eq!(error("host:0/a"), ImageRefError::Port("host:0".into()));
        assert_eq!(error("host:/a"), ImageRefError::Port("host:".into()));
        assert_eq!(
            error("bad_host.org/a"),
            ImageRefError::Host("bad_host.org".into())
        );
        assert_eq!(error("-x.org/a"), ImageRefError::Host("-x.org".into()));
        assert_eq!(
            error("[zz]:5000/a"),
            ImageRefError::Host("[zz]:5000".into())
        );
        assert_eq!(error("ghcr.io/"), ImageRefError::EmptyComponent);
        assert_eq!(error("ghcr.io//a"), ImageRefError::EmptyComponent);
        assert_eq!(error("/a"), ImageRefError::EmptyComponent);
        let upper = error("docker.io/XChem/fragalysis-backend");
        assert_eq!(upper, ImageRefError::Uppercase("XChem".into()));
        assert_eq!(upper.help(), "write `xchem`");
        assert!(error("a:1").help().contains("drop it"));
        let long = format!("ghcr.io/{}", "a".repeat(250));
        assert_eq!(error(&long), ImageRefError::TooLong(258));
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:5000",
            "localhost:1",
            "LOCALHOST",
            "[::1]:5000",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "128.0.0.1",
            "example.org",
            "[::2]:5000",
            "localhost.evil.org",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
